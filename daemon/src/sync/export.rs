//! Reading the message export over date windows, by chains that hand their pages to the store.
//!
//! A chain reads one window oldest first, page by page through GHL's cursor. The cursor is a
//! point-in-time handle that expires when idle: a refused cursor restarts the window from the
//! newest message fetched, and only a restart that makes no progress is an error. See
//! [`super::windows`] for the rules.

use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use leadline_shared::domain::Message;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::SyncError;
use super::windows::WindowTable;
use crate::ghl::{ExportStream, GhlClient, GhlError, MessageQuery, Skipped, SortOrder};

/// Messages per export page (GHL's maximum).
pub const MESSAGE_PAGE: u32 = 500;

/// What a window's page moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A full sync's window.
    Window(u32),
    /// A stream's watermark (a poll).
    Watermark(ExportStream),
}

/// A page of the export, for the store.
#[derive(Debug)]
pub struct ExportPage {
    pub progress: Progress,
    pub messages: Vec<Message>,
    pub skipped: Vec<Skipped>,
    /// The newest `createdAt` of the page's messages.
    pub newest_ms: Option<i64>,
    /// The last page of its window.
    pub last: bool,
}

/// The window a chain reads, oldest first from `start_ms` (the beginning when `None`) to where
/// [`EndOf`] says it ends.
pub struct Span {
    pub stream: ExportStream,
    pub progress: Progress,
    pub start_ms: Option<i64>,
}

/// Where the chain's window ends now (it may move down while the chain reads: a full sync's
/// window split in two); `None` is open-ended (a poll).
pub type EndOf<'a> = &'a (dyn Fn() -> Option<i64> + Send + Sync);

fn ms(m: &Message) -> Option<i64> {
    m.date_added.map(Timestamp::as_millisecond)
}

fn ts(ms: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(ms).ok()
}

/// Reads a window to its end, sending each page to `tx`; `on_page(newest_ms, last)` is told
/// of each page fetched before it is sent. Returns when the window is read or `tx` is closed.
pub async fn read_window(
    client: &GhlClient,
    span: Span,
    end_of: EndOf<'_>,
    on_page: &(dyn Fn(Option<i64>, bool) + Send + Sync),
    tx: &mpsc::Sender<Result<ExportPage, SyncError>>,
) -> Result<(), SyncError> {
    let mut from = span.start_ms;
    let mut query_end = end_of();
    let mut cursor: Option<String> = None;
    let mut newest: Option<i64> = None;
    // A restart that returns nothing newer than before would loop forever.
    let mut restarted_at: Option<Option<i64>> = None;
    loop {
        let q = MessageQuery {
            limit: MESSAGE_PAGE,
            cursor: cursor.clone(),
            stream: span.stream,
            order: SortOrder::Asc,
            start: from.and_then(ts),
            end: query_end.and_then(ts),
        };
        let page = match client.export_messages(&q).await {
            Ok(page) => page,
            Err(GhlError::Validation { .. }) if cursor.is_some() => {
                if restarted_at == Some(newest) {
                    return Err(SyncError::Internal(
                        "GHL refused the export cursor twice with no progress in between; the export resumes on the next sync"
                            .into(),
                    ));
                }
                tracing::info!(stream = ?span.stream, "the export cursor expired; reading the window again from the newest message read");
                restarted_at = Some(newest);
                cursor = None;
                from = newest.or(from);
                query_end = end_of();
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let end = end_of();
        let mut messages = page.messages;
        // Past a moved end lies another window's part: left to it.
        let passed_end = end.is_some_and(|e| messages.iter().filter_map(ms).any(|m| m > e));
        if let Some(e) = end {
            messages.retain(|m| ms(m).is_none_or(|m| m <= e));
        }
        let page_newest = messages.iter().filter_map(ms).max();
        newest = newest.max(page_newest);
        let last = page.next_cursor.is_none() || passed_end;
        on_page(page_newest, last);
        let out = ExportPage {
            progress: span.progress,
            messages,
            skipped: page.skipped,
            newest_ms: page_newest,
            last,
        };
        if tx.send(Ok(out)).await.is_err() || last {
            return Ok(());
        }
        cursor = page.next_cursor;
    }
}

fn lock(t: &Mutex<WindowTable>) -> MutexGuard<'_, WindowTable> {
    t.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads every window of `table` with at most `chains` chains at once, splitting the window
/// with the most left whenever a chain is free. Pages go to `tx`; the first error is sent
/// there and ends the reading.
pub async fn read_windows(
    client: GhlClient,
    table: Arc<Mutex<WindowTable>>,
    chains: usize,
    tx: mpsc::Sender<Result<ExportPage, SyncError>>,
) {
    let mut running: JoinSet<(u32, Result<(), SyncError>)> = JoinSet::new();
    loop {
        while running.len() < chains.max(1) {
            let next = lock(&table).take_idle();
            let Some(w) = next else {
                if lock(&table).split_largest().is_some() {
                    continue;
                }
                break;
            };
            let (client, table, tx) = (client.clone(), table.clone(), tx.clone());
            running.spawn(async move {
                let id = w.id;
                let span =
                    Span { stream: w.stream, progress: Progress::Window(id), start_ms: Some(w.resume_ms()) };
                let end_of = || lock(&table).end_ms(id);
                let on_page = |newest: Option<i64>, last: bool| lock(&table).fetched(id, newest, last);
                let r = read_window(&client, span, &end_of, &on_page, &tx).await;
                (id, r)
            });
        }
        match running.join_next().await {
            None => return,
            Some(Ok((_, Ok(())))) => {}
            Some(Ok((id, Err(e)))) => {
                lock(&table).release(id);
                let _ = tx.send(Err(e)).await;
                return;
            }
            Some(Err(join)) => {
                tracing::error!(error = %join, "an export chain panicked");
                let _ = tx
                    .send(Err(SyncError::Internal(
                        "a task reading the message export failed unexpectedly (a bug; see the log)".into(),
                    )))
                    .await;
                return;
            }
        }
    }
}
