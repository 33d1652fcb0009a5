//! The IPC client: one connection to the daemon, handshake included.

use std::path::Path;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use leadline_shared::APP_VERSION;
use leadline_shared::protocol::{
    self, ClientMessage, ErrorKind, Event, FrameError, LeadDetail, PROTOCOL_VERSION, QueueAnchor, QueueName,
    QueuePage, RemoteError, Request, Response, ServerMessage, StatusReport, Welcome,
};
use tokio::net::UnixStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// How long a request may take before the daemon counts as unresponsive.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why talking to the daemon failed. [`ClientError::is_unreachable`] tells "no daemon" apart
/// from a daemon that answered with an error.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "no daemon answers on {socket}: {source}. Start it with `leadlined run` (or just run `leadline`)"
    )]
    Connect { socket: String, source: std::io::Error },
    #[error(
        "the socket at {socket} belongs to uid {owner}, not to you (uid {uid}); another user may be impersonating the daemon, so nothing was sent. Remove it (`rm {socket}`), or pass --socket (or set LEADLINE_SOCKET) to your own daemon's socket"
    )]
    ForeignSocket { socket: String, owner: u32, uid: u32 },
    #[error(
        "the socket at {socket} is served by uid {peer}, not by you (uid {uid}); another user may be impersonating the daemon, so nothing was sent. Remove it (`rm {socket}`), or pass --socket (or set LEADLINE_SOCKET) to your own daemon's socket"
    )]
    ForeignPeer { socket: String, peer: u32, uid: u32 },
    #[error(
        "cannot tell who serves the socket at {socket} ({source}), so nothing was sent; pass --socket (or set LEADLINE_SOCKET) to your own daemon's socket"
    )]
    UnknownPeer { socket: String, source: std::io::Error },
    #[error(
        "the daemon speaks protocol {daemon} but this leadline speaks {client}: {message}. Restart the daemon with the same Leadline version (`pkill leadlined`, then run `leadline`)"
    )]
    Incompatible { daemon: u16, client: u16, message: String },
    #[error("the daemon closed the connection")]
    Closed,
    #[error("the daemon did not answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("the daemon sent an unexpected reply: {0}")]
    Unexpected(String),
    #[error("{0}")]
    Remote(#[from] RemoteError),
}

impl ClientError {
    /// True when the daemon is not there (or went away), as opposed to refusing a request.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ClientError::Connect { .. }
                | ClientError::Closed
                | ClientError::Timeout(_)
                | ClientError::Frame(FrameError::Io(_))
        )
    }

    /// The exit code the CLI uses for this error: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Remote(e) if matches!(e.kind, ErrorKind::BadRequest | ErrorKind::NotFound) => 2,
            _ => 1,
        }
    }
}

/// One handshaken connection to the daemon.
pub struct Client {
    framed: Framed<UnixStream, LengthDelimitedCodec>,
    next_id: u64,
    welcome: Welcome,
}

impl Client {
    /// Connects and completes the Hello/Welcome handshake, after making sure the process at
    /// the other end runs as this user (see [`check_peer`]).
    pub async fn connect(socket: &Path) -> Result<Client, ClientError> {
        let uid = leadline_shared::paths::current_uid();
        check_socket_owner(socket, uid)?;
        let stream = UnixStream::connect(socket)
            .await
            .map_err(|source| ClientError::Connect { socket: socket.display().to_string(), source })?;
        let peer = stream
            .peer_cred()
            .map_err(|source| ClientError::UnknownPeer { socket: socket.display().to_string(), source })?;
        check_peer(socket, peer.uid(), uid)?;
        let mut framed = Framed::new(stream, protocol::framing());
        let hello = ClientMessage::Hello { protocol: PROTOCOL_VERSION, app_version: APP_VERSION.to_owned() };
        framed.send(protocol::encode(&hello)?).await.map_err(FrameError::Io)?;
        let welcome = match read(&mut framed).await? {
            ServerMessage::Welcome(w) => w,
            ServerMessage::Incompatible { expected, got, message } => {
                return Err(ClientError::Incompatible { daemon: expected, client: got, message });
            }
            ServerMessage::Error { error } => return Err(error.into()),
            other => return Err(ClientError::Unexpected(format!("{other:?}"))),
        };
        Ok(Client { framed, next_id: 1, welcome })
    }

    /// What the daemon said in the handshake.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// Sends one request and waits for its response.
    pub async fn request(&mut self, body: Request) -> Result<Response, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let msg = ClientMessage::Request { id, body };
        self.framed.send(protocol::encode(&msg)?).await.map_err(FrameError::Io)?;
        loop {
            match read(&mut self.framed).await? {
                ServerMessage::Response { id: got, result } if got == id => return Ok(result?),
                // Events may interleave with responses on a subscribed connection.
                ServerMessage::Event { .. } => continue,
                ServerMessage::Error { error } => return Err(error.into()),
                other => return Err(ClientError::Unexpected(format!("{other:?}"))),
            }
        }
    }

    /// `Request::Status`.
    pub async fn status(&mut self) -> Result<StatusReport, ClientError> {
        match self.request(Request::Status).await? {
            Response::Status(s) => Ok(*s),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::Queue`: at most `limit` leads from row `offset`, or placed around `anchor`
    /// when that lead is in the queue, with the queue's exact length.
    pub async fn queue(
        &mut self,
        name: QueueName,
        limit: u32,
        offset: u64,
        anchor: Option<QueueAnchor>,
    ) -> Result<QueuePage, ClientError> {
        match self.request(Request::Queue { name, limit, offset, anchor }).await? {
            Response::Queue(page) => Ok(*page),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::Lead`.
    pub async fn lead(&mut self, id: &str) -> Result<LeadDetail, ClientError> {
        match self.request(Request::Lead { id: id.to_owned() }).await? {
            Response::Lead(detail) => Ok(*detail),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::SyncNow`: with `wait`, returns when the sync is done.
    pub async fn sync(
        &mut self,
        wait: bool,
        full: bool,
    ) -> Result<leadline_shared::protocol::SyncStatus, ClientError> {
        match self.request(Request::SyncNow { wait, full }).await? {
            Response::Synced(s) => Ok(*s),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::Edit`: returns the pending op's sequence number once the edit is durable.
    pub async fn edit(
        &mut self,
        contact_id: &str,
        op: leadline_shared::domain::OpKind,
    ) -> Result<u64, ClientError> {
        match self.request(Request::Edit { contact_id: contact_id.to_owned(), op }).await? {
            Response::Accepted { seq } => Ok(seq),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::MoveDeal`: returns the pending op's sequence number once the move is durable.
    pub async fn move_deal(&mut self, contact_id: &str, stage: &str) -> Result<u64, ClientError> {
        let request = Request::MoveDeal { contact_id: contact_id.to_owned(), stage: stage.to_owned() };
        match self.request(request).await? {
            Response::Accepted { seq } => Ok(seq),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::Assist`: a drafted reply, queued for approval, and the preferences read.
    pub async fn assist(
        &mut self,
        contact_id: &str,
    ) -> Result<leadline_shared::protocol::AssistReport, ClientError> {
        match self.request(Request::Assist { contact_id: contact_id.to_owned() }).await? {
            Response::Assisted(report) => Ok(*report),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::RetryOp`.
    pub async fn retry(&mut self, seq: u64) -> Result<(), ClientError> {
        match self.request(Request::RetryOp { seq }).await? {
            Response::Accepted { .. } => Ok(()),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::FollowUps`.
    pub async fn followups(
        &mut self,
        filter: leadline_shared::protocol::FollowUpFilter,
    ) -> Result<Vec<leadline_shared::protocol::FollowUpView>, ClientError> {
        match self.request(Request::FollowUps { filter }).await? {
            Response::FollowUps(items) => Ok(items),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::ApproveFollowUp` (with `Some(text)`: the agent's own wording of a send) or,
    /// with `approve` false, `Request::SkipFollowUp`.
    pub async fn decide_followup(
        &mut self,
        id: &str,
        approve: bool,
        text: Option<String>,
    ) -> Result<leadline_shared::protocol::FollowUpView, ClientError> {
        let id = id.to_owned();
        let body =
            if approve { Request::ApproveFollowUp { id, body: text } } else { Request::SkipFollowUp { id } };
        match self.request(body).await? {
            Response::FollowUp(view) => Ok(*view),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::PauseLead` or `Request::ResumeLead`.
    pub async fn pause_lead(&mut self, contact_id: &str, pause: bool) -> Result<(), ClientError> {
        let contact_id = contact_id.to_owned();
        let body = if pause { Request::PauseLead { contact_id } } else { Request::ResumeLead { contact_id } };
        match self.request(body).await? {
            Response::Done => Ok(()),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::SimulateFollowUps`.
    pub async fn simulate(
        &mut self,
        days: u32,
        from: Option<jiff::Timestamp>,
    ) -> Result<leadline_shared::protocol::Simulation, ClientError> {
        match self.request(Request::SimulateFollowUps { days, from }).await? {
            Response::Simulation(plan) => Ok(*plan),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::Search`: the leads that match `query`, best first.
    pub async fn search(
        &mut self,
        query: &str,
        limit: u32,
    ) -> Result<leadline_shared::protocol::SearchPage, ClientError> {
        match self.request(Request::Search { query: query.to_owned(), limit }).await? {
            Response::Search(page) => Ok(*page),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::ImportListings`: reads the file at `path` (absolute) into the daemon's listings.
    pub async fn import_listings(
        &mut self,
        path: &str,
        replace: bool,
    ) -> Result<leadline_shared::protocol::ListingsImported, ClientError> {
        match self.request(Request::ImportListings { path: path.to_owned(), replace }).await? {
            Response::ListingsImported(done) => Ok(*done),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// The analytics figures for a range.
    pub async fn analytics(
        &mut self,
        range: leadline_shared::protocol::AnalyticsRange,
    ) -> Result<leadline_shared::protocol::AnalyticsReport, ClientError> {
        match self.request(Request::Analytics { range }).await? {
            Response::Analytics(report) => Ok(*report),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::Compose`: the lead's templates rendered for it, and what the gates say of a
    /// message typed now.
    /// The open tasks, soonest due first (`Request::Tasks`).
    pub async fn tasks(&mut self, limit: u32) -> Result<leadline_shared::protocol::TaskList, ClientError> {
        match self.request(Request::Tasks { limit }).await? {
            Response::Tasks(list) => Ok(*list),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    pub async fn compose(
        &mut self,
        contact_id: &str,
    ) -> Result<leadline_shared::protocol::ComposeInfo, ClientError> {
        match self.request(Request::Compose { contact_id: contact_id.to_owned() }).await? {
            Response::Compose(info) => Ok(*info),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::System`: the op log and the records sync skipped, at most `limit` of each.
    pub async fn system(
        &mut self,
        limit: u32,
    ) -> Result<leadline_shared::protocol::SystemReport, ClientError> {
        match self.request(Request::System { limit }).await? {
            Response::System(report) => Ok(*report),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::LogTail`: the last `lines` lines of the daemon's log.
    pub async fn log_tail(&mut self, lines: u32) -> Result<leadline_shared::protocol::LogTail, ClientError> {
        match self.request(Request::LogTail { lines }).await? {
            Response::LogTail(tail) => Ok(*tail),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// `Request::ModelStatus`, or with `train` `Request::TrainModel` (which answers once the
    /// run, and the rescore after a promotion, is done).
    pub async fn model(
        &mut self,
        train: bool,
    ) -> Result<leadline_shared::protocol::ModelStatus, ClientError> {
        let request = if train { Request::TrainModel } else { Request::ModelStatus };
        match self.request(request).await? {
            Response::Model(status) => Ok(*status),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Turns this connection into an event stream (`Request::Subscribe`).
    pub async fn subscribe(mut self) -> Result<EventStream, ClientError> {
        match self.request(Request::Subscribe).await? {
            Response::Subscribed => Ok(EventStream { framed: self.framed }),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }
}

/// A subscribed connection: yields the daemon's events until it closes.
pub struct EventStream {
    framed: Framed<UnixStream, LengthDelimitedCodec>,
}

impl EventStream {
    /// The next event; `Err(ClientError::Closed)` once the daemon goes away.
    pub async fn next(&mut self) -> Result<Event, ClientError> {
        loop {
            let frame = self.framed.next().await.ok_or(ClientError::Closed)?;
            let frame = frame.map_err(protocol::codec::classify_io)?;
            match protocol::decode::<ServerMessage>(&frame)? {
                ServerMessage::Event { event } => return Ok(event),
                ServerMessage::Error { error } => return Err(error.into()),
                _ => continue,
            }
        }
    }
}

/// Refuses a socket file another user owns, before connecting at all. Only a hint: the file
/// may be swapped after this look, so [`check_peer`] on the connection is what counts. A
/// missing file is left to `connect` to report.
fn check_socket_owner(socket: &Path, uid: u32) -> Result<(), ClientError> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(socket) {
        Ok(meta) if meta.uid() != uid => {
            Err(ClientError::ForeignSocket { socket: socket.display().to_string(), owner: meta.uid(), uid })
        }
        _ => Ok(()),
    }
}

/// Refuses a daemon whose process runs as another user than `uid`. The peer's uid comes from
/// the kernel for this very connection (SO_PEERCRED, getpeereid), so unlike a look at the
/// socket file it cannot be raced: a fake daemon that another user started on the `/tmp`
/// fallback path is caught here, before the Hello (or anything else) is written to it.
pub fn check_peer(socket: &Path, peer: u32, uid: u32) -> Result<(), ClientError> {
    if peer == uid {
        return Ok(());
    }
    Err(ClientError::ForeignPeer { socket: socket.display().to_string(), peer, uid })
}

async fn read(framed: &mut Framed<UnixStream, LengthDelimitedCodec>) -> Result<ServerMessage, ClientError> {
    let next = tokio::time::timeout(REQUEST_TIMEOUT, framed.next())
        .await
        .map_err(|_| ClientError::Timeout(REQUEST_TIMEOUT))?;
    let frame = next.ok_or(ClientError::Closed)?.map_err(protocol::codec::classify_io)?;
    Ok(protocol::decode(&frame)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_users_daemon_is_refused_with_the_fix() {
        let socket = Path::new("/tmp/leadline-1000/leadline.sock");
        check_peer(socket, 1000, 1000).expect("our own daemon");
        let err = check_peer(socket, 1001, 1000).expect_err("someone else's");
        let msg = err.to_string();
        for part in ["/tmp/leadline-1000/leadline.sock", "uid 1001", "uid 1000", "impersonating", "--socket"]
        {
            assert!(msg.contains(part), "{part:?} missing from {msg}");
        }
        // Not "no daemon": the dashboard must not start one over it, and the CLI exits 1.
        assert!(!err.is_unreachable());
        assert_eq!(err.exit_code(), 1);
    }

    #[test]
    fn a_socket_file_of_another_owner_is_refused_before_connecting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.sock");
        check_socket_owner(&path, 1000).expect("a missing file is connect's to report");
        std::fs::write(&path, b"").expect("write");
        let uid = leadline_shared::paths::current_uid();
        check_socket_owner(&path, uid).expect("ours");
        let err = check_socket_owner(&path, uid.wrapping_add(1)).expect_err("not ours");
        assert!(matches!(err, ClientError::ForeignSocket { owner, .. } if owner == uid), "{err}");
        assert!(!err.is_unreachable() && err.exit_code() == 1);
    }
}
