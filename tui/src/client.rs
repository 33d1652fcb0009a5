//! The IPC client: one connection to the daemon, handshake included.

use std::path::Path;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use leadline_shared::APP_VERSION;
use leadline_shared::domain::LeadSummary;
use leadline_shared::protocol::{
    self, ClientMessage, ErrorKind, Event, FrameError, LeadDetail, PROTOCOL_VERSION, QueueName, RemoteError,
    Request, Response, ServerMessage, StatusReport, Welcome,
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
    /// Connects and completes the Hello/Welcome handshake.
    pub async fn connect(socket: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(socket)
            .await
            .map_err(|source| ClientError::Connect { socket: socket.display().to_string(), source })?;
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

    /// `Request::Queue`.
    pub async fn queue(&mut self, name: QueueName, limit: u32) -> Result<Vec<LeadSummary>, ClientError> {
        match self.request(Request::Queue { name, limit }).await? {
            Response::Queue(leads) => Ok(leads),
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

    /// `Request::RetryOp`.
    pub async fn retry(&mut self, seq: u64) -> Result<(), ClientError> {
        match self.request(Request::RetryOp { seq }).await? {
            Response::Accepted { .. } => Ok(()),
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

async fn read(framed: &mut Framed<UnixStream, LengthDelimitedCodec>) -> Result<ServerMessage, ClientError> {
    let next = tokio::time::timeout(REQUEST_TIMEOUT, framed.next())
        .await
        .map_err(|_| ClientError::Timeout(REQUEST_TIMEOUT))?;
    let frame = next.ok_or(ClientError::Closed)?.map_err(protocol::codec::classify_io)?;
    Ok(protocol::decode(&frame)?)
}
