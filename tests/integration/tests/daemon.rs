//! The daemon over its real socket: handshake, queries, hostile clients, locking, crashes.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use leadline_integration::*;
use leadline_shared::protocol::{ClientMessage, ErrorKind, QueueName, Request, Response, ServerMessage};
use rustix::process::Signal;

fn request(id: u64, body: Request) -> ClientMessage {
    ClientMessage::Request { id, body }
}

#[test]
fn serves_queries_after_the_handshake_with_private_permissions() {
    let dir = short_tempdir();
    let dataset = write_dataset(dir.path(), 60);
    let daemon = Daemon::start(dir.path(), &["--import", dataset.to_str().unwrap()]);

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&daemon.socket), 0o600);
    assert_eq!(mode(&daemon.data_dir), 0o700);

    runtime().block_on(async {
        let mut conn = handshake(&daemon.socket).await.unwrap();
        send(&mut conn, &request(7, Request::Status)).await;
        let Some(ServerMessage::Response { id: 7, result: Ok(Response::Status(status)) }) =
            recv(&mut conn).await
        else {
            panic!("no status")
        };
        assert_eq!(status.counts.contacts, 60);
        assert_eq!(status.sync.state, leadline_shared::protocol::SyncState::Seeded);
        assert_eq!(status.daemon.pid, daemon.child.id());

        send(
            &mut conn,
            &request(8, Request::Queue { name: QueueName::All, limit: 10, offset: 0, anchor: None }),
        )
        .await;
        let Some(ServerMessage::Response { id: 8, result: Ok(Response::Queue(page)) }) =
            recv(&mut conn).await
        else {
            panic!("no queue")
        };
        let leads = &page.rows;
        assert_eq!(leads.len(), 10);
        // `all` is in the composite priority's order (docs/intel.md), then by score.
        assert!(
            leads.windows(2).all(|w| (w[0].priority, w[0].score) >= (w[1].priority, w[1].score)),
            "highest priority first"
        );

        send(&mut conn, &request(9, Request::Lead { id: "missing".into() })).await;
        let Some(ServerMessage::Response { id: 9, result: Err(e) }) = recv(&mut conn).await else {
            panic!("no error")
        };
        assert_eq!(e.kind, ErrorKind::NotFound);
    });
}

#[test]
fn an_incompatible_client_is_refused_with_a_fix() {
    let dir = short_tempdir();
    let daemon = Daemon::start(dir.path(), &[]);
    runtime().block_on(async {
        let mut conn = raw(&daemon.socket).await.unwrap();
        send(&mut conn, &ClientMessage::Hello { protocol: 999, app_version: "9.0.0".into() }).await;
        let Some(ServerMessage::Incompatible { got: 999, message, .. }) = recv(&mut conn).await else {
            panic!("not refused")
        };
        assert!(message.contains("same version"), "{message}");
        assert!(recv(&mut conn).await.is_none(), "connection closed");
    });
}

#[test]
fn garbage_and_oversize_frames_end_only_that_connection() {
    let dir = short_tempdir();
    let daemon = Daemon::start(dir.path(), &[]);
    runtime().block_on(async {
        // A bystander, connected before the attacks, keeps working after them.
        let mut bystander = handshake(&daemon.socket).await.unwrap();

        let mut garbage = handshake(&daemon.socket).await.unwrap();
        garbage.send(Bytes::from_static(b"\x00\xffnot json")).await.unwrap();
        let Some(ServerMessage::Error { error }) = recv(&mut garbage).await else { panic!("no error frame") };
        assert_eq!(error.kind, ErrorKind::BadFrame);
        assert!(recv(&mut garbage).await.is_none());

        // A raw 1 GiB length prefix: refused before anything is allocated.
        let mut huge = tokio::net::UnixStream::connect(&daemon.socket).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut huge, &(1u32 << 30).to_be_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read_to_end(&mut huge, &mut buf),
        );
        read.await.expect("closed in time").unwrap();

        // A client that connects and says nothing does not block anyone.
        let _silent = tokio::net::UnixStream::connect(&daemon.socket).await.unwrap();

        send(&mut bystander, &request(1, Request::Ping)).await;
        assert!(matches!(
            recv(&mut bystander).await,
            Some(ServerMessage::Response { id: 1, result: Ok(Response::Pong) })
        ));
        assert!(handshake(&daemon.socket).await.is_ok(), "new clients are still served");
    });
}

#[test]
fn a_second_daemon_on_the_same_data_dir_is_refused() {
    let dir = short_tempdir();
    let first = Daemon::start(dir.path(), &[]);
    // Same data dir, another socket: the lock, not the socket, must stop it.
    let mut cmd = Daemon::command(dir.path());
    cmd.arg("--socket").arg(dir.path().join("other.sock"));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already uses the data directory"), "{stderr}");
    assert!(stderr.contains(&first.child.id().to_string()), "names the holder: {stderr}");
}

#[test]
fn a_second_daemon_on_the_same_socket_is_refused() {
    let dir = short_tempdir();
    let first = Daemon::start(dir.path(), &[]);
    let other = short_tempdir();
    let mut cmd = Daemon::command(other.path());
    cmd.arg("--socket").arg(&first.socket);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already answers"));
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = short_tempdir();
    let dataset = write_dataset(dir.path(), 120);
    let mut daemon = Daemon::start(dir.path(), &["--import", dataset.to_str().unwrap()]);
    // The daemon answers only after the import is flushed: that is its acknowledgement.
    let before = String::from_utf8(daemon.leadline(&["status", "--json"]).stdout).unwrap();
    daemon.signal(Signal::KILL);
    daemon.wait_exit(Duration::from_secs(5));
    drop(daemon);

    // The killed daemon left its socket behind; the new one must clear it and open the store.
    let restarted = Daemon::start(dir.path(), &[]);
    let after = String::from_utf8(restarted.leadline(&["status", "--json"]).stdout).unwrap();
    let counts = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["counts"].clone();
    assert_eq!(counts(&before), counts(&after));
    assert_eq!(counts(&after)["contacts"], 120);
    let hot = restarted.leadline(&["queue", "hot", "--json"]);
    assert!(!serde_json::from_slice::<Vec<serde_json::Value>>(&hot.stdout).unwrap().is_empty());
}

#[test]
fn sigterm_flushes_and_removes_the_socket() {
    let dir = short_tempdir();
    let mut daemon = Daemon::start(dir.path(), &[]);
    daemon.signal(Signal::TERM);
    assert!(daemon.wait_exit(Duration::from_secs(10)).success());
    assert!(!daemon.socket.exists());
}

#[test]
fn a_socket_path_over_the_limit_is_a_clear_error() {
    let dir = short_tempdir();
    let long = dir.path().join("x".repeat(120));
    let out = std::process::Command::new(bin("leadlined"))
        .arg("--socket")
        .arg(&long)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("run")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("107-byte limit") && stderr.contains("--socket"), "{stderr}");
}
