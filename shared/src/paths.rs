//! Where Leadline keeps things, as one tested policy.
//!
//! - Config: `--config`, else `LEADLINE_CONFIG`, else `<config dir>/leadline/config.toml`.
//! - Data (the store, the lock, logs): `--data-dir`, else `LEADLINE_DATA_DIR`, else
//!   `<local data dir>/leadline`.
//! - Socket: `--socket`, else `LEADLINE_SOCKET`, else `$XDG_RUNTIME_DIR/leadline/leadline.sock`,
//!   else `$TMPDIR/leadline-<uid>/leadline.sock` (a private fallback; `/tmp` when TMPDIR is unset).
//!
//! Flags and env vars are merged by the CLI parser; this module takes the result.
//!
//! Privacy: both binaries call [`restrict_umask`] first, so every file they create is 0600 and
//! every directory 0700. Directories are made and checked by [`ensure_private_dir`] without
//! following symlinks; files from before (or from a process without that umask) are tightened
//! by [`tighten_tree`].

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The longest socket path the kernel accepts: `sun_path` is 108 bytes including the NUL.
pub const MAX_SOCKET_PATH_BYTES: usize = 107;

/// Paths the user chose explicitly (flag or env var).
#[derive(Debug, Clone, Default)]
pub struct PathOverrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub socket: Option<PathBuf>,
}

/// The facts of the machine the defaults come from. [`Platform::detect`] reads them; tests
/// build one by hand.
#[derive(Debug, Clone)]
pub struct Platform {
    pub uid: u32,
    pub runtime_dir: Option<PathBuf>,
    pub tmp_dir: PathBuf,
    pub config_dir: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
}

impl Platform {
    /// Reads the real environment.
    pub fn detect() -> Platform {
        let dirs = directories::ProjectDirs::from("", "", "leadline");
        Platform {
            uid: current_uid(),
            runtime_dir: std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).filter(|p| p.is_absolute()),
            tmp_dir: std::env::temp_dir(),
            config_dir: dirs.as_ref().map(|d| d.config_dir().to_owned()),
            data_dir: dirs.as_ref().map(|d| d.data_local_dir().to_owned()),
        }
    }
}

/// The resolved locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
    /// True when the user named the config file, so it must exist.
    pub config_explicit: bool,
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    /// True when the socket is at its default location (its directory is Leadline's own).
    pub socket_is_default: bool,
    /// True when the data directory is at its default location.
    pub data_dir_is_default: bool,
}

/// A path Leadline cannot use.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error(
        "no home directory found for the default {what} location; set {env} (or pass {flag}) to a directory of your choice"
    )]
    NoDefault { what: &'static str, env: &'static str, flag: &'static str },
    #[error(
        "socket path {path} is {len} bytes, over the {max}-byte limit of Unix sockets; pass --socket (or set LEADLINE_SOCKET) to a shorter path, e.g. under /tmp"
    )]
    SocketTooLong { path: PathBuf, len: usize, max: usize },
    #[error("{path} is a symbolic link; Leadline only uses real directories it owns. Remove it and retry")]
    Symlink { path: PathBuf },
    #[error("{path} belongs to uid {owner}, not to you (uid {uid}); remove it or choose another path")]
    ForeignOwner { path: PathBuf, owner: u32, uid: u32 },
    #[error("{path} exists but is not a directory; move it aside or choose another path")]
    NotADirectory { path: PathBuf },
    #[error("cannot prepare {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl Paths {
    /// Applies the overrides, then the platform defaults.
    pub fn resolve(overrides: &PathOverrides, platform: &Platform) -> Result<Paths, PathError> {
        let (config_file, config_explicit) = match &overrides.config {
            Some(p) => (p.clone(), true),
            None => {
                let dir = platform.config_dir.clone().ok_or(PathError::NoDefault {
                    what: "config",
                    env: "LEADLINE_CONFIG",
                    flag: "--config",
                })?;
                (dir.join("config.toml"), false)
            }
        };
        let data_dir_is_default = overrides.data_dir.is_none();
        let socket_is_default = overrides.socket.is_none();
        let data_dir = match &overrides.data_dir {
            Some(p) => p.clone(),
            None => platform.data_dir.clone().ok_or(PathError::NoDefault {
                what: "data",
                env: "LEADLINE_DATA_DIR",
                flag: "--data-dir",
            })?,
        };
        let socket = match &overrides.socket {
            Some(p) => p.clone(),
            None => default_socket(platform),
        };
        check_socket_path(&socket)?;
        Ok(Paths { config_file, config_explicit, data_dir, socket, socket_is_default, data_dir_is_default })
    }

    /// Creates the data directory (0700) if needed; call before anything writes in it. A data
    /// directory the user named and left open to others is kept as is and reported, for the
    /// caller to log once logging runs.
    pub fn prepare_data_dir(&self) -> Result<Option<LooseMode>, PathError> {
        ensure_private_dir(&self.data_dir, current_uid(), self.data_dir_is_default)
    }

    /// The store's directory.
    pub fn store_dir(&self) -> PathBuf {
        self.data_dir.join("store")
    }

    /// The lock file that keeps two daemons off one data directory.
    pub fn lock_file(&self) -> PathBuf {
        self.data_dir.join("daemon.lock")
    }

    /// Where the daily log files go.
    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }
}

/// The default socket: in the per-user runtime dir, else in a private per-uid temp dir.
pub fn default_socket(platform: &Platform) -> PathBuf {
    match &platform.runtime_dir {
        Some(dir) => dir.join("leadline").join("leadline.sock"),
        None => platform.tmp_dir.join(format!("leadline-{}", platform.uid)).join("leadline.sock"),
    }
}

/// Rejects socket paths the kernel cannot bind, with the fix in the message.
pub fn check_socket_path(path: &Path) -> Result<(), PathError> {
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH_BYTES {
        return Err(PathError::SocketTooLong { path: path.to_owned(), len, max: MAX_SOCKET_PATH_BYTES });
    }
    Ok(())
}

/// A directory the user chose, kept with the modes they gave it although other users can look
/// into it. Leadline's own files and directories inside are private regardless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LooseMode {
    pub path: PathBuf,
    /// The permission bits (e.g. `0o755`).
    pub mode: u32,
}

impl std::fmt::Display for LooseMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} has mode {:03o}, so other users can look into it. Leadline keeps its own files there private (0600 files, 0700 directories); run `chmod 700 {}` unless you mean to share it",
            self.path.display(),
            self.mode,
            self.path.display()
        )
    }
}

/// Creates `dir` if needed (mode 0700) and makes sure it is a real directory owned by `uid`.
/// An existing directory with group or other bits is tightened to 0700 when `is_ours` (it is
/// Leadline's own directory); a directory the user named is left as it is, since it may be
/// shared (never chmod someone's `/tmp`), and returned as a [`LooseMode`] to warn about.
///
/// There is no window for a race: the directory is created 0700 (never wider, then narrowed),
/// and it is checked and tightened through one handle opened with `O_NOFOLLOW | O_DIRECTORY`,
/// so a symlink swapped in at `dir` is refused rather than followed, and what is checked is
/// what is chmodded. Only `dir` itself is held to this; its parents are the system's.
pub fn ensure_private_dir(dir: &Path, uid: u32, is_ours: bool) -> Result<Option<LooseMode>, PathError> {
    let io = |source| PathError::Io { path: dir.to_owned(), source };
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Parents such as ~/.local/share are not Leadline's to restrict: default modes.
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let created = match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => false,
        Err(e) => return Err(io(e)),
    };
    let handle = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY)
        .open(dir)
        .map_err(|e| refused_open(dir, e))?;
    let meta = handle.metadata().map_err(io)?;
    if meta.uid() != uid {
        return Err(PathError::ForeignOwner { path: dir.to_owned(), owner: meta.uid(), uid });
    }
    let mode = meta.mode() & 0o777;
    if mode == 0o700 {
        return Ok(None);
    }
    // A directory just made may still be narrower than 0700 under an odd umask (e.g. 0o277).
    if created || is_ours {
        handle.set_permissions(Permissions::from_mode(0o700)).map_err(io)?;
        return Ok(None);
    }
    Ok((mode & 0o077 != 0).then(|| LooseMode { path: dir.to_owned(), mode }))
}

/// Names why `open(dir, O_NOFOLLOW | O_DIRECTORY)` failed. The kernels disagree on the errno
/// for a symlink (Linux and macOS: ELOOP, or ENOTDIR with O_DIRECTORY; FreeBSD: EMLINK), so
/// the path is looked at again; only the message depends on it, the refusal already happened.
fn refused_open(dir: &Path, e: std::io::Error) -> PathError {
    let refused = matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR | libc::EMLINK));
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if refused && meta.file_type().is_symlink() => PathError::Symlink { path: dir.to_owned() },
        Ok(meta) if refused && !meta.is_dir() => PathError::NotADirectory { path: dir.to_owned() },
        _ => PathError::Io { path: dir.to_owned(), source: e },
    }
}

/// Takes group and other bits off everything under `dir` that `uid` owns (files keep their
/// owner bits, e.g. 0644 becomes 0600; directories become 0700), without following symlinks.
/// This is for files older than [`restrict_umask`], or written by a process without it. Call it
/// on a directory [`ensure_private_dir`] has made private: nobody else can then swap an entry
/// between the look and the chmod. Entries that vanish meanwhile (sled renames its snapshots)
/// and entries of other owners are skipped.
pub fn tighten_tree(dir: &Path, uid: u32) -> Result<(), PathError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(PathError::Io { path: dir.to_owned(), source }),
    };
    for entry in entries {
        let entry = entry.map_err(|source| PathError::Io { path: dir.to_owned(), source })?;
        let path = entry.path();
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(source) => return Err(PathError::Io { path, source }),
        };
        if meta.file_type().is_symlink() || meta.uid() != uid {
            continue;
        }
        let mode = meta.mode() & 0o777;
        let wanted = if meta.is_dir() { 0o700 } else { mode & 0o700 };
        if mode != wanted {
            match std::fs::set_permissions(&path, Permissions::from_mode(wanted)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(source) => return Err(PathError::Io { path, source }),
            }
        }
        if meta.is_dir() {
            tighten_tree(&path, uid)?;
        }
    }
    Ok(())
}

/// Opens `path` for reading and writing, creating it 0600 if needed. An existing file is
/// tightened to 0600 through the opened handle, and a symlink at `path` is refused (ELOOP)
/// rather than followed, so a link planted in a shared directory cannot redirect the write.
pub fn open_private_file(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    if file.metadata()?.mode() & 0o077 != 0 {
        file.set_permissions(Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Sets this process's umask to 077, so that everything it creates from here on (the store's
/// files, logs, the lock, the socket) is its owner's alone, whatever the directory around it
/// allows. Call it first thing in `main`: the umask is process-wide (so not for libraries or
/// tests) and children inherit it.
pub fn restrict_umask() {
    // rustix wraps umask(2) safely; `libc::umask` is an unsafe fn and the workspace denies
    // unsafe code. One call covers files created by code we do not control (sled, the log
    // appender), which per-file modes could not.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// The real uid of this process.
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(runtime: Option<&str>) -> Platform {
        Platform {
            uid: 1000,
            runtime_dir: runtime.map(PathBuf::from),
            tmp_dir: PathBuf::from("/tmp"),
            config_dir: Some(PathBuf::from("/home/a/.config/leadline")),
            data_dir: Some(PathBuf::from("/home/a/.local/share/leadline")),
        }
    }

    #[test]
    fn defaults_prefer_the_runtime_dir() {
        let p =
            Paths::resolve(&PathOverrides::default(), &platform(Some("/run/user/1000"))).expect("resolves");
        assert_eq!(p.socket, PathBuf::from("/run/user/1000/leadline/leadline.sock"));
        assert_eq!(p.config_file, PathBuf::from("/home/a/.config/leadline/config.toml"));
        assert!(!p.config_explicit);
    }

    #[test]
    fn falls_back_to_a_private_temp_dir() {
        let p = Paths::resolve(&PathOverrides::default(), &platform(None)).expect("resolves");
        assert_eq!(p.socket, PathBuf::from("/tmp/leadline-1000/leadline.sock"));
    }

    #[test]
    fn overrides_win_and_long_sockets_are_refused() {
        let o = PathOverrides {
            config: Some("/etc/l.toml".into()),
            data_dir: Some("/d".into()),
            socket: Some("/s.sock".into()),
        };
        let p = Paths::resolve(&o, &platform(None)).expect("resolves");
        assert_eq!((p.data_dir.as_path(), p.socket.as_path()), (Path::new("/d"), Path::new("/s.sock")));
        assert!(p.config_explicit);

        let long = PathOverrides { socket: Some(PathBuf::from(format!("/{}", "x".repeat(120)))), ..o };
        let err = Paths::resolve(&long, &platform(None)).expect_err("too long");
        let msg = err.to_string();
        assert!(msg.contains("107-byte limit") && msg.contains("--socket"), "{msg}");
    }

    #[test]
    fn no_home_means_a_clear_error() {
        let mut pf = platform(None);
        pf.data_dir = None;
        let err = Paths::resolve(&PathOverrides::default(), &pf).expect_err("no home");
        assert!(err.to_string().contains("LEADLINE_DATA_DIR"));
    }

    #[test]
    fn private_dir_is_created_0700_and_symlinks_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let uid = current_uid();
        let dir = tmp.path().join("a/b");
        ensure_private_dir(&dir, uid, false).expect("created");
        let mode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        ensure_private_dir(&dir, uid, false).expect("left alone");
        let mode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o755, "a directory the user named is not chmodded");
        ensure_private_dir(&dir, uid, true).expect("tightened");
        let mode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);

        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).expect("symlink");
        assert!(matches!(ensure_private_dir(&link, uid, true), Err(PathError::Symlink { .. })));
        assert!(matches!(ensure_private_dir(&dir, uid + 1, true), Err(PathError::ForeignOwner { .. })));
    }

    fn mode_of(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).expect("meta").permissions().mode() & 0o777
    }

    #[test]
    fn a_loose_directory_the_user_named_is_kept_and_reported() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("shared");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, Permissions::from_mode(0o755)).expect("chmod");
        let loose = ensure_private_dir(&dir, current_uid(), false).expect("usable").expect("reported");
        assert_eq!(loose, LooseMode { path: dir.clone(), mode: 0o755 });
        let msg = loose.to_string();
        assert!(msg.contains("mode 755") && msg.contains("chmod 700"), "{msg}");
        assert_eq!(mode_of(&dir), 0o755);

        // Narrower than 0700 but closed to others: nothing to say.
        std::fs::set_permissions(&dir, Permissions::from_mode(0o500)).expect("chmod");
        assert_eq!(ensure_private_dir(&dir, current_uid(), false).expect("usable"), None);
        std::fs::set_permissions(&dir, Permissions::from_mode(0o700)).expect("chmod");
    }

    #[test]
    fn a_file_or_a_symlink_to_a_file_is_not_a_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").expect("write");
        let err = ensure_private_dir(&file, current_uid(), true).expect_err("a file");
        assert!(matches!(err, PathError::NotADirectory { .. }), "{err}");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        let err = ensure_private_dir(&link, current_uid(), true).expect_err("a link");
        assert!(matches!(err, PathError::Symlink { .. }), "{err}");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        // A dangling link is refused too: create must not follow it and make its target.
        let dangling = tmp.path().join("dangling");
        std::os::unix::fs::symlink(tmp.path().join("target"), &dangling).expect("symlink");
        let err = ensure_private_dir(&dangling, current_uid(), true).expect_err("dangling");
        assert!(matches!(err, PathError::Symlink { .. }), "{err}");
        assert!(!tmp.path().join("target").exists(), "the link's target was created");
    }

    #[test]
    fn tighten_tree_makes_owned_entries_private_without_following_links() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("store");
        let sub = root.join("blobs");
        std::fs::create_dir_all(&sub).expect("mkdir");
        let (db, blob, outside) = (root.join("db"), sub.join("1"), tmp.path().join("outside"));
        for (path, mode) in [(&db, 0o644), (&blob, 0o640), (&outside, 0o644)] {
            std::fs::write(path, b"x").expect("write");
            std::fs::set_permissions(path, Permissions::from_mode(mode)).expect("chmod");
        }
        std::fs::set_permissions(&sub, Permissions::from_mode(0o755)).expect("chmod");
        std::os::unix::fs::symlink(&outside, root.join("link")).expect("symlink");

        tighten_tree(&root, current_uid()).expect("tightened");
        assert_eq!((mode_of(&db), mode_of(&blob), mode_of(&sub)), (0o600, 0o600, 0o700));
        assert_eq!(mode_of(&outside), 0o644, "a symlink's target is not touched");
        tighten_tree(&tmp.path().join("missing"), current_uid()).expect("nothing to do");
    }

    #[test]
    fn private_files_are_0600_and_never_opened_through_a_link() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("daemon.lock");
        drop(open_private_file(&path).expect("created"));
        assert_eq!(mode_of(&path), 0o600);
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).expect("chmod");
        drop(open_private_file(&path).expect("reopened"));
        assert_eq!(mode_of(&path), 0o600);

        let victim = tmp.path().join("victim");
        std::fs::write(&victim, b"keep").expect("write");
        let link = tmp.path().join("planted.lock");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        open_private_file(&link).expect_err("a link is refused");
        assert_eq!(std::fs::read(&victim).expect("read"), b"keep");
    }
}
