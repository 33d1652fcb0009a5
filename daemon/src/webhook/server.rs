//! The accept loop: HTTP/1 connections, at most [`Limits::max_connections`] at a time, each with a
//! header read timeout (the body timeout lives in the handler, where it can answer 408).
//!
//! This replaces `axum::serve`, which offers neither a connection cap nor a header timeout (it
//! sets no hyper timer, so hyper's own header timeout never runs).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{WebhookStats, bump};

/// After shutdown is requested, connections still open this long are dropped. In-flight requests
/// normally finish at once (the handler never waits on anything slow); this bounds the rest,
/// e.g. a client that connected and has not sent its headers yet.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long to back off when `accept` fails (out of file descriptors and the like), rather than
/// spin on the error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The connection-level limits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown`, then lets open connections finish (for at most
/// [`SHUTDOWN_GRACE`]) and returns.
pub(super) async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stats: Arc<WebhookStats>,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.clamp(1, Semaphore::MAX_PERMITS)));
    let connections = TaskTracker::new();
    let mut http = http1::Builder::new();
    // hyper starts this timer again as soon as a response is written, so it also closes idle
    // keep-alive connections: none holds a slot for longer than the timeout.
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let mut saturated = false;
    loop {
        let Some(slot) = next_slot(&slots, &stats, &mut saturated, limits, &shutdown).await else { break };
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook accept failed");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                    }
                }
            },
        };
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = shutdown.cancelled() => {
                    // Closes the connection once the request in flight (if any) is answered.
                    conn.as_mut().graceful_shutdown();
                    match tokio::time::timeout(SHUTDOWN_GRACE, conn.as_mut()).await {
                        Ok(result) => result,
                        Err(_) => {
                            tracing::debug!(%peer, "webhook connection dropped at shutdown");
                            return;
                        }
                    }
                }
            };
            // Header timeouts land here too. They are not counted: hyper reports an idle
            // keep-alive connection closing on the timer the same way as a slow client.
            if let Err(e) = result {
                tracing::debug!(%peer, "webhook connection closed: {e}");
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Waits for a free connection slot; `None` once `shutdown` is cancelled.
///
/// At the cap the loop stops accepting, so new connections wait in the kernel's listen backlog
/// instead of being refused: a burst of genuine deliveries is served late rather than failed
/// (a failed delivery may be retried and counts against the URL with GHL), and slots come back
/// within the header and body timeouts even when slow clients hold them.
async fn next_slot(
    slots: &Arc<Semaphore>,
    stats: &WebhookStats,
    saturated: &mut bool,
    limits: Limits,
    shutdown: &CancellationToken,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(slot) = slots.clone().try_acquire_owned() {
        if std::mem::take(saturated) {
            tracing::info!("webhook connections are below the cap again");
        }
        return Some(slot);
    }
    bump(&stats.connection_waits);
    if !std::mem::replace(saturated, true) {
        tracing::warn!(
            max_connections = limits.max_connections,
            "webhook connection cap reached: new connections wait until one closes"
        );
    }
    tokio::select! {
        _ = shutdown.cancelled() => None,
        // The semaphore is never closed, so acquiring only ends with a slot.
        slot = slots.clone().acquire_owned() => slot.ok(),
    }
}
