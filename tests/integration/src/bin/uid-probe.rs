//! Another user's process in the privacy tests (`tests/privacy.rs` runs it as `nobody`).
//!
//! - `uid-probe serve SOCKET`: a fake daemon. Binds SOCKET, prints `ready`, and once its stdin
//!   closes prints `connections=N bytes=M`: what clients sent meanwhile. It never answers, so
//!   a client that writes nothing has sent nothing.
//! - `uid-probe hello SOCKET`: a client. Connects, says Hello, and prints `welcome` when the
//!   daemon completes the handshake, `closed` when it hangs up instead.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::ExitCode;
use std::time::Duration;

use leadline_shared::protocol::{self, ClientMessage, PROTOCOL_VERSION, ServerMessage};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("serve"), Some(socket)) => serve(socket),
        (Some("hello"), Some(socket)) => hello(socket),
        _ => {
            eprintln!("usage: uid-probe serve|hello SOCKET");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("uid-probe: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(socket: &str) -> std::io::Result<()> {
    let listener = UnixListener::bind(socket)?;
    println!("ready");
    std::io::stdout().flush()?;
    // The test closes stdin once the client under test has exited. Its connection (if any)
    // is then in the backlog with everything it wrote, so counting now misses nothing.
    std::io::stdin().read_to_end(&mut Vec::new())?;
    listener.set_nonblocking(true)?;
    let (mut connections, mut bytes) = (0, 0);
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                connections += 1;
                stream.set_nonblocking(false)?;
                stream.set_read_timeout(Some(Duration::from_secs(5)))?;
                let mut sent = Vec::new();
                // The client is gone: this reads what it wrote, then end of file.
                let _ = stream.read_to_end(&mut sent);
                bytes += sent.len();
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    println!("connections={connections} bytes={bytes}");
    Ok(())
}

fn hello(socket: &str) -> std::io::Result<()> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let hello = ClientMessage::Hello { protocol: PROTOCOL_VERSION, app_version: "uid-probe".into() };
    let payload = protocol::encode(&hello).map_err(std::io::Error::other)?;
    let len = u32::try_from(payload.len()).map_err(std::io::Error::other)?;
    // A daemon that refuses us may hang up before or during this write: that is an answer too.
    let _ = stream.write_all(&len.to_be_bytes()).and_then(|()| stream.write_all(&payload));
    let mut header = [0u8; 4];
    match stream.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if matches!(e.kind(), ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset) => {
            println!("closed");
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(header) as usize;
    if len > protocol::MAX_FRAME_BYTES {
        return Err(std::io::Error::other(format!("a {len}-byte frame is over the protocol's limit")));
    }
    let mut frame = vec![0u8; len];
    stream.read_exact(&mut frame)?;
    match protocol::decode::<ServerMessage>(&frame).map_err(std::io::Error::other)? {
        ServerMessage::Welcome(_) => println!("welcome"),
        other => println!("reply {other:?}"),
    }
    Ok(())
}
