//! One daemon per data directory: an exclusive lock on `daemon.lock`, held for the daemon's
//! life and released by the kernel if it dies.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another leadlined (pid {pid}) already uses the data directory {dir}; stop it first, or pass a different --data-dir"
    )]
    Held { dir: String, pid: String },
    #[error("cannot lock {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// The held lock; dropping it releases the directory.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock, or says which process holds it.
    pub fn acquire(lock_path: &Path) -> Result<DataDirLock, LockError> {
        let io = |source| LockError::Io { path: lock_path.display().to_string(), source };
        // 0600, and never through a symlink: the file is truncated below, and a link planted in
        // a shared data directory must not make that someone else's file.
        let mut file = leadline_shared::paths::open_private_file(lock_path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let dir = lock_path.parent().unwrap_or(lock_path).display().to_string();
                return Err(LockError::Held { dir, pid: pid.trim().to_owned() });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("daemon.lock");
        let first = DataDirLock::acquire(&path).expect("first");
        let err = DataDirLock::acquire(&path).expect_err("second refused");
        assert!(err.to_string().contains(&std::process::id().to_string()), "{err}");
        drop(first);
        DataDirLock::acquire(&path).expect("free again");
    }
}
