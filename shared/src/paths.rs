//! Where Leadline keeps things, as one tested policy.
//!
//! - Config: `--config`, else `LEADLINE_CONFIG`, else `<config dir>/leadline/config.toml`.
//! - Data (the store, the lock, logs): `--data-dir`, else `LEADLINE_DATA_DIR`, else
//!   `<local data dir>/leadline`.
//! - Socket: `--socket`, else `LEADLINE_SOCKET`, else `$XDG_RUNTIME_DIR/leadline/leadline.sock`,
//!   else `$TMPDIR/leadline-<uid>/leadline.sock` (a private fallback; `/tmp` when TMPDIR is unset).
//!
//! Flags and env vars are merged by the CLI parser; this module takes the result.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
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

    /// Creates the data directory (0700) if needed; call before anything writes in it.
    pub fn prepare_data_dir(&self) -> Result<(), PathError> {
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

/// Creates `dir` if needed (mode 0700) and makes sure it is a real directory owned by `uid`.
/// An existing directory with group or other bits is tightened to 0700 when `is_ours` (it is
/// Leadline's own default directory); a directory the user named is left as it is, since it
/// may be shared (never chmod someone's `/tmp`).
pub fn ensure_private_dir(dir: &Path, uid: u32, is_ours: bool) -> Result<(), PathError> {
    let io = |source| PathError::Io { path: dir.to_owned(), source };
    let mut created = false;
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(PathError::Symlink { path: dir.to_owned() });
        }
        Ok(meta) if meta.uid() != uid => {
            return Err(PathError::ForeignOwner { path: dir.to_owned(), owner: meta.uid(), uid });
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io)?;
            created = true;
        }
        Err(e) => return Err(io(e)),
    }
    let mode = std::fs::metadata(dir).map_err(io)?.permissions().mode() & 0o777;
    if (created || is_ours) && mode != 0o700 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
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
}
