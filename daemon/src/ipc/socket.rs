//! Binding the socket safely: private directory, 0600 socket, stale sockets removed only when
//! nothing answers on them.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use leadline_shared::paths::{PathError, check_socket_path, ensure_private_dir};
use tokio::net::UnixListener;

/// Why the socket could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("a daemon already answers on {0}; use it, or stop it before starting another")]
    AlreadyServing(String),
    #[error("{0} exists and is not a socket; remove it or pass another --socket")]
    NotASocket(String),
    #[error("cannot bind {path}: {source}")]
    Bind { path: String, source: std::io::Error },
}

/// Binds the listening socket at `path`.
pub async fn bind(path: &Path, uid: u32, dir_is_ours: bool) -> Result<UnixListener, IpcError> {
    check_socket_path(path)?;
    let shown = || path.display().to_string();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Some(loose) = ensure_private_dir(dir, uid, dir_is_ours)?
    {
        // The socket itself is 0600 and the daemon answers only its own uid, so a shared
        // directory the user chose is usable; they should still know.
        tracing::warn!("{loose}");
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => return Err(IpcError::NotASocket(shown())),
        Ok(_) => match tokio::net::UnixStream::connect(path).await {
            Ok(_) => return Err(IpcError::AlreadyServing(shown())),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                tracing::info!(socket = %path.display(), "removing a stale socket nobody answers on");
                std::fs::remove_file(path).map_err(|source| IpcError::Bind { path: shown(), source })?;
            }
            Err(source) => {
                return Err(IpcError::Bind { path: shown(), source });
            }
        },
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(source) => {
            return Err(IpcError::Bind { path: shown(), source });
        }
    }
    let listener = UnixListener::bind(path).map_err(|source| IpcError::Bind { path: shown(), source })?;
    // Under the binaries' umask (077) the socket is born owner-only; this also covers a daemon
    // run in-process without it.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|source| IpcError::Bind { path: shown(), source })?;
    Ok(listener)
}
