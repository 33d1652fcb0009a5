//! Cursor chains fetched ahead of the store.
//!
//! A listing paged by a cursor (contacts by `searchAfter`, deals by `startAfter`) cannot be
//! fetched in parallel, but it can run ahead of the store: a task follows the cursors as fast
//! as the rate limiter allows and hands the pages over in order, at most `ahead` of them
//! waiting at a time (the bound on memory). The store applies them one by one, each with the
//! cursor after it, so a crash still resumes from the last durable page. Dropping the receiver
//! stops the task.

use tokio::sync::mpsc;

use crate::ghl::{ContactPage, GhlError, OpportunityPage};

/// Pages fetched ahead, each with the cursor after it (`None` after the last).
pub type Chain<P> = mpsc::Receiver<Result<(P, Option<<P as Paged>::Cursor>), GhlError>>;

/// A page of a cursor-chained listing.
pub trait Paged: Send + 'static {
    type Cursor: Clone + Send + 'static;
    /// The cursor of the next page, `None` at the end.
    fn next(&self) -> Option<Self::Cursor>;
}

impl Paged for ContactPage {
    type Cursor = Vec<serde_json::Value>;
    fn next(&self) -> Option<Self::Cursor> {
        self.next.clone().filter(|_| !self.contacts.is_empty() || !self.skipped.is_empty())
    }
}

impl Paged for OpportunityPage {
    type Cursor = (String, String);
    fn next(&self) -> Option<Self::Cursor> {
        self.next.clone().filter(|_| !self.opportunities.is_empty() || !self.skipped.is_empty())
    }
}

/// Follows a listing from `start`, keeping at most `ahead` pages waiting for the store.
pub fn chain<P, F, Fut>(start: Option<P::Cursor>, ahead: usize, fetch: F) -> Chain<P>
where
    P: Paged,
    F: Fn(Option<P::Cursor>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<P, GhlError>> + Send,
{
    let (tx, rx) = mpsc::channel(ahead.max(1));
    tokio::spawn(async move {
        let mut cursor = start;
        loop {
            let fetched = fetch(cursor.take()).await.map(|page| {
                let next = page.next();
                (page, next)
            });
            let next = fetched.as_ref().ok().and_then(|(_, next)| next.clone());
            let last = next.is_none();
            if tx.send(fetched).await.is_err() || last {
                return;
            }
            cursor = next;
        }
    });
    rx
}
