//! Privacy between users: `leadline` speaks only to a daemon running as its own user, the
//! daemon answers only its own user, and the store, logs and lock stay private inside a data
//! directory others can read; symlinked or foreign directories are refused.
//!
//! The tests with a second user start `uid-probe` (this package's helper) as `nobody`, which
//! needs root: CI runs the tests as root. Run as anyone else, they say why they skip, and pass.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

use leadline_integration::*;
use rustix::process::Signal;

/// The second user: `nobody`.
const NOBODY: u32 = 65534;
const PROBE: &str = env!("CARGO_BIN_EXE_uid-probe");

/// True when a process can be started as `nobody`; otherwise says why the test skips.
fn can_switch_users(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    eprintln!(
        "skipping {test}: starting a process as nobody (uid {NOBODY}) needs root; CI runs the tests as root"
    );
    false
}

/// `uid-probe` as `nobody`, or `None` (with the reason printed) when `nobody` cannot run it,
/// e.g. because the checkout is under a home directory only its owner may enter.
fn probe_as_nobody(test: &str, args: &[&str]) -> Option<Child> {
    let spawned = Command::new(PROBE)
        .args(args)
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    match spawned {
        Ok(child) => Some(child),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!("skipping {test}: nobody (uid {NOBODY}) cannot run {PROBE}: {e}");
            None
        }
        Err(e) => panic!("cannot start {PROBE}: {e}"),
    }
}

/// A temp dir any user can enter and write, so that `nobody` can reach a socket in it.
fn open_tempdir() -> tempfile::TempDir {
    let dir = short_tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o777
}

fn line(out: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    line.trim().to_owned()
}

/// `leadline ARGS` with an empty config, the data directory `data` and the socket `socket`.
fn leadline(dir: &Path, data: &Path, socket: &Path, args: &[&str]) -> Output {
    let config = dir.join("leadline.toml");
    std::fs::write(&config, "").unwrap();
    Command::new(bin("leadline"))
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(data)
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("LEADLINE_CONFIG")
        .env_remove("LEADLINE_DATA_DIR")
        .env_remove("LEADLINE_SOCKET")
        .output()
        .unwrap()
}

/// Everything the binary `name` logged in `data`.
fn logs(data: &Path, name: &str) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(data.join("logs")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with(&format!("{name}.")) {
            text.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    text
}

fn stop(daemon: &mut Daemon) {
    daemon.signal(Signal::TERM);
    assert!(daemon.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn leadline_sends_nothing_to_a_socket_another_user_serves() {
    let test = "leadline_sends_nothing_to_a_socket_another_user_serves";
    if !can_switch_users(test) {
        return;
    }
    let dir = open_tempdir();
    let socket = dir.path().join("s.sock");
    let Some(mut fake) = probe_as_nobody(test, &["serve", socket.to_str().unwrap()]) else { return };
    let mut fake_out = BufReader::new(fake.stdout.take().unwrap());
    assert_eq!(line(&mut fake_out), "ready");
    let data = short_tempdir();

    // The socket file is nobody's: refused before connecting.
    let out = leadline(dir.path(), data.path(), &socket, &["status"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for part in [&format!("belongs to uid {NOBODY}"), "impersonating", "nothing was sent", "--socket"] {
        assert!(stderr.contains(part), "{part:?} missing from {stderr}");
    }

    // A socket file that looks like ours (swapped, or a link) but is served by nobody: the
    // kernel's word on who listens gives it away, after connecting and before the Hello.
    std::os::unix::fs::chown(&socket, Some(0), Some(0)).unwrap();
    let out = leadline(dir.path(), data.path(), &socket, &["status"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("served by uid {NOBODY}, not by you (uid 0)")), "{stderr}");
    assert!(stderr.contains("impersonating"), "{stderr}");

    drop(fake.stdin.take());
    assert_eq!(line(&mut fake_out), "connections=1 bytes=0", "leadline connected once and sent nothing");
    assert!(fake.wait().unwrap().success());
}

#[test]
fn the_daemon_hangs_up_on_a_client_of_another_user() {
    let test = "the_daemon_hangs_up_on_a_client_of_another_user";
    if !can_switch_users(test) {
        return;
    }
    // A socket directory the user chose and opened to all: kept as is, with a warning.
    let dir = open_tempdir();
    let mut daemon = Daemon::start(dir.path(), &[]);
    assert_eq!(mode(dir.path()), 0o777);
    // Open the socket too, so that only the daemon's own check stands in nobody's way.
    std::fs::set_permissions(&daemon.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let socket = daemon.socket.to_str().unwrap().to_owned();

    let ours = Command::new(PROBE).args(["hello", &socket]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&ours.stdout).trim(), "welcome", "the probe works for the owner");
    let Some(theirs) = probe_as_nobody(test, &["hello", &socket]) else { return };
    let theirs = theirs.wait_with_output().unwrap();
    assert!(theirs.status.success(), "{}", String::from_utf8_lossy(&theirs.stderr));
    assert_eq!(String::from_utf8_lossy(&theirs.stdout).trim(), "closed");

    stop(&mut daemon);
    let log = logs(&daemon.data_dir, "leadlined");
    assert!(
        log.contains("refused a connection from another user") && log.contains("peer_uid=65534"),
        "{log}"
    );
    assert!(log.contains(&format!("{} has mode 777", dir.path().display())), "{log}");
}

/// Sets every mode under `dir` the way a Leadline without these checks left them.
fn loosen(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            loosen(&path);
        } else if meta.is_file() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
}

/// Every directory under `dir` (itself included) and every file, with its mode.
fn modes_under(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut all = vec![(dir.to_owned(), mode(dir))];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            all.extend(modes_under(&path));
        } else {
            all.push((path.clone(), mode(&path)));
        }
    }
    all
}

/// The lock, and everything in the store and logs directories, are the owner's alone.
fn assert_private(data: &Path) {
    assert_eq!(mode(&data.join("daemon.lock")), 0o600);
    for sub in ["store", "logs"] {
        let modes = modes_under(&data.join(sub));
        assert!(modes.len() > 1, "{sub} is empty");
        for (path, mode) in modes {
            let want = if path.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode, want, "{} is {mode:o}", path.display());
        }
    }
}

#[test]
fn store_logs_and_lock_are_private_in_a_data_dir_others_can_read() {
    let dir = short_tempdir();
    let dataset = write_dataset(dir.path(), 40);
    let mut daemon = Daemon::start(dir.path(), &["--import", dataset.to_str().unwrap()]);
    let data = daemon.data_dir.clone();
    assert!(daemon.leadline(&["status"]).status.success());
    stop(&mut daemon);
    // Files sled and the log appender create on their own are private from birth (the umask).
    assert_private(&data);

    // As an older Leadline (or a umask of 022) would have left it.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    loosen(&data);
    assert_eq!(mode(&data.join("store")), 0o755);

    let mut daemon = Daemon::start(dir.path(), &[]);
    assert!(daemon.leadline(&["status"]).status.success());
    stop(&mut daemon);

    assert_eq!(mode(&data), 0o755, "a data directory the user named keeps its mode");
    assert_private(&data);
    let log = logs(&data, "leadlined");
    assert!(log.contains(&format!("{} has mode 755", data.display())) && log.contains("chmod 700"), "{log}");
    assert!(logs(&data, "leadline").contains("has mode 755"), "leadline warns too");
}

/// `leadlined run` with these paths and environment, to completion.
fn leadlined(dir: &Path, data: &Path, socket: Option<&Path>, env: &[(&str, &Path)]) -> Output {
    let config = dir.join("leadlined.toml");
    std::fs::write(&config, "").unwrap();
    let mut cmd = Command::new(bin("leadlined"));
    cmd.arg("--config").arg(&config).arg("--data-dir").arg(data);
    if let Some(socket) = socket {
        cmd.arg("--socket").arg(socket);
    }
    cmd.env_remove("LEADLINE_CONFIG").env_remove("LEADLINE_DATA_DIR").env_remove("LEADLINE_SOCKET");
    cmd.env_remove("XDG_RUNTIME_DIR");
    for (key, value) in env {
        cmd.env(key, value);
    }
    // These runs must fail at start; a daemon that serves instead is stopped by the timeout.
    let mut child =
        cmd.arg("run").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn refused(out: &Output, wanted: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for part in wanted {
        assert!(stderr.contains(part), "{part:?} missing from {stderr}");
    }
}

#[test]
fn symlinked_or_foreign_data_and_socket_dirs_are_refused() {
    let dir = short_tempdir();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    // A symlinked data directory: refused by the daemon and by leadline alike.
    let out = leadlined(dir.path(), &link, Some(&dir.path().join("s.sock")), &[]);
    refused(&out, &[&link.display().to_string(), "symbolic link"]);
    let out = leadline(dir.path(), &link, &dir.path().join("s.sock"), &["status"]);
    refused(&out, &[&link.display().to_string(), "symbolic link"]);
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0, "nothing was written through the link");

    // A symlinked socket directory the user named.
    let data = dir.path().join("data");
    let out = leadlined(dir.path(), &data, Some(&link.join("s.sock")), &[]);
    refused(&out, &[&link.display().to_string(), "symbolic link"]);

    // The default socket's /tmp fallback, `$TMPDIR/leadline-<uid>`, replaced by a link...
    let uid = rustix::process::getuid().as_raw();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let fallback = tmp.join(format!("leadline-{uid}"));
    std::os::unix::fs::symlink(&real, &fallback).unwrap();
    let out = leadlined(dir.path(), &data, None, &[("TMPDIR", &tmp)]);
    refused(&out, &[&fallback.display().to_string(), "symbolic link"]);

    // ...or made first by another user.
    if !can_switch_users(
        "symlinked_or_foreign_data_and_socket_dirs_are_refused (another user's fallback dir)",
    ) {
        return;
    }
    std::fs::remove_file(&fallback).unwrap();
    std::fs::create_dir(&fallback).unwrap();
    std::os::unix::fs::chown(&fallback, Some(NOBODY), Some(NOBODY)).unwrap();
    let out = leadlined(dir.path(), &data, None, &[("TMPDIR", &tmp)]);
    refused(&out, &[&fallback.display().to_string(), &format!("belongs to uid {NOBODY}")]);
    assert_eq!(std::fs::read_dir(&fallback).unwrap().count(), 0, "no socket in another user's directory");
}
