//! One client connection: handshake, then requests and pushed events until either side goes.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use leadline_shared::APP_VERSION;
use leadline_shared::protocol::{
    self, ClientMessage, ErrorKind, Event, FrameError, PROTOCOL_VERSION, RemoteError, Request, ServerMessage,
    Welcome,
};
use tokio::net::UnixStream;
use tokio::sync::broadcast;
use tokio_util::codec::{Framed, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;

use super::handler;
use crate::state::State;

/// How long a client has to say Hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

type Conn = Framed<UnixStream, LengthDelimitedCodec>;

/// Serves one client until it disconnects, misbehaves, or the daemon stops. Errors end this
/// connection only.
pub async fn serve_connection(stream: UnixStream, state: Arc<State>, shutdown: CancellationToken) {
    let my_uid = leadline_shared::paths::current_uid();
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == my_uid => {}
        Ok(cred) => {
            tracing::warn!(peer_uid = cred.uid(), "refused a connection from another user");
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "refused a connection whose peer cannot be identified");
            return;
        }
    }
    let mut conn = Framed::new(stream, protocol::framing());
    if let Err(e) = run(&mut conn, &state, &shutdown).await {
        tracing::debug!(error = %e, "connection ended");
        let error = RemoteError::new(ErrorKind::BadFrame, e.to_string());
        let _ = send(&mut conn, &ServerMessage::Error { error }).await;
    }
}

async fn send(conn: &mut Conn, msg: &ServerMessage) -> Result<(), FrameError> {
    conn.send(protocol::encode(msg)?).await.map_err(FrameError::Io)
}

async fn next_message(conn: &mut Conn) -> Option<Result<ClientMessage, FrameError>> {
    let frame = conn.next().await?;
    Some(frame.map_err(protocol::codec::classify_io).and_then(|f| protocol::decode(&f)))
}

async fn run(conn: &mut Conn, state: &Arc<State>, shutdown: &CancellationToken) -> Result<(), FrameError> {
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, next_message(conn)).await {
        Ok(Some(msg)) => msg?,
        Ok(None) | Err(_) => return Ok(()),
    };
    match hello {
        ClientMessage::Hello { protocol, .. } if protocol == PROTOCOL_VERSION => {
            let welcome = Welcome {
                app_version: APP_VERSION.into(),
                protocol: PROTOCOL_VERSION,
                pid: std::process::id(),
            };
            send(conn, &ServerMessage::Welcome(welcome)).await?;
        }
        ClientMessage::Hello { protocol, app_version } => {
            tracing::info!(client_protocol = protocol, client_version = %app_version, "refused an incompatible client");
            let message = format!(
                "this daemon is Leadline {APP_VERSION} (protocol {PROTOCOL_VERSION}); the client is {app_version} (protocol {protocol}). Run the same version of both: restart the daemon after upgrading"
            );
            let reply = ServerMessage::Incompatible { expected: PROTOCOL_VERSION, got: protocol, message };
            return send(conn, &reply).await;
        }
        ClientMessage::Request { .. } => {
            let error = RemoteError::new(ErrorKind::BadRequest, "the first frame must be Hello");
            return send(conn, &ServerMessage::Error { error }).await;
        }
    }

    let mut events: Option<broadcast::Receiver<Event>> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                return send(conn, &ServerMessage::Event { event: Event::ShuttingDown }).await;
            }
            event = next_event(&mut events) => {
                send(conn, &ServerMessage::Event { event }).await?;
            }
            msg = next_message(conn) => {
                let Some(msg) = msg else { return Ok(()) };
                match msg? {
                    ClientMessage::Request { id, body } => {
                        if body == Request::Subscribe && events.is_none() {
                            events = Some(state.subscribe());
                        }
                        let result = handler::handle(state, body).await;
                        send(conn, &ServerMessage::Response { id, result }).await?;
                    }
                    ClientMessage::Hello { .. } => {
                        let error = RemoteError::new(ErrorKind::BadRequest, "Hello was already received");
                        send(conn, &ServerMessage::Error { error }).await?;
                    }
                }
            }
        }
    }
}

/// The next pushed event, or never when not subscribed. A lagging subscriber is told to
/// refresh everything rather than being dropped.
async fn next_event(events: &mut Option<broadcast::Receiver<Event>>) -> Event {
    let Some(rx) = events else {
        return std::future::pending().await;
    };
    match rx.recv().await {
        Ok(event) => event,
        Err(broadcast::error::RecvError::Lagged(_)) => Event::LeadsChanged { ids: Vec::new() },
        Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
    }
}
