//! Logs go to daily files, never to the terminal the dashboard draws on.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Log lines waiting for the writer thread at most (then lines are dropped, not waited for).
const LOG_BUFFER_LINES: usize = 16_384;

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(
        "cannot write logs in {dir}: {message}. Check the data directory's permissions, or set LEADLINE_DATA_DIR"
    )]
    Dir { dir: String, message: String },
}

/// Starts writing `dir/<name>.YYYY-MM-DD.log`, keeping `keep_days` files. The filter comes
/// from `LEADLINE_LOG` if set, else `filter`. Keep the guard alive until exit, or the last
/// lines are lost.
///
/// `dir` is Leadline's own: it is made 0700 (even inside a data directory the user shares) and
/// log files already in it are made 0600. New log files are 0600 through the process umask
/// ([`crate::paths::restrict_umask`]), since the appender opens them itself.
pub fn init(dir: &Path, name: &str, filter: &str, keep_days: usize) -> Result<WorkerGuard, LogError> {
    let err = |message: String| LogError::Dir { dir: dir.display().to_string(), message };
    let uid = crate::paths::current_uid();
    crate::paths::ensure_private_dir(dir, uid, true).map_err(|e| err(e.to_string()))?;
    crate::paths::tighten_tree(dir, uid).map_err(|e| err(e.to_string()))?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(name)
        .filename_suffix("log")
        .max_log_files(keep_days.max(1))
        .build(dir)
        .map_err(|e| err(e.to_string()))?;
    // tracing-appender's default buffer of 128 k lines is a channel of that many slots, made
    // and touched at start: 4 MB resident for the process's whole life (heaptrack, on the
    // daemon's 100 k sync). The writer thread drains a line in microseconds, so 16 k lines
    // absorb any burst the daemon logs (a few thousand alerts at start, at most).
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .finish(appender);
    let filter = std::env::var("LEADLINE_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_new(filter).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    // A second init (e.g. in tests) keeps the first subscriber; that is fine.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).try_init();
    Ok(guard)
}
