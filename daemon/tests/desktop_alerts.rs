//! Desktop alerts over a real D-Bus session bus: a notification the daemon sends reaches a
//! notification server, and with no server (or no bus at all) alerting fails quietly and rests.
//!
//! The bus is busd, a D-Bus broker in pure Rust run inside this process, so the test needs no
//! `dbus-daemon` on the machine (a fresh clone and CI have nothing installed by hand). The
//! notification server is a few lines of zbus registered on that bus.
//!
//! notify-rust always finds the session bus through `DBUS_SESSION_BUS_ADDRESS` and takes no
//! address or connection of its own. Setting that variable in this process is `unsafe` (other
//! test threads read the environment) and could reach a developer's real desktop, so every
//! alert is sent from a child process, this same test binary running only [`child`], with the
//! variable set on its command line.
#![cfg(all(unix, not(target_os = "macos")))]

use std::collections::HashMap;
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_daemon::engine::followup::plan::Alert;
use leadline_daemon::followups::alerts::{self, BACK_OFF, Desktop, Shown};
use tokio::sync::mpsc;
use zbus::OwnedVariant;

/// Tells the child which part it plays; unset in every other run of the binary.
const ROLE: &str = "LEADLINE_ALERT_TEST_ROLE";
/// A server is on the bus: the child sends [`hot_reply`] and expects it delivered.
const DELIVER: &str = "deliver";
/// Nothing answers: the child checks that alerting fails quietly, then rests.
const UNREACHABLE: &str = "unreachable";

/// Everything the whole test may take; a hang is a failure, not a stuck CI job.
const LIMIT: Duration = Duration::from_secs(30);

/// The alert the child sends: a lead's reply, with a name that is not ASCII.
fn hot_reply() -> Alert {
    Alert::HotLeadReplied {
        contact_id: "c-1".into(),
        name: "Zoë Park".into(),
        body: "Can we see the house on Saturday?".into(),
    }
}

#[tokio::test]
async fn an_alert_reaches_the_notification_server_on_the_session_bus() {
    let dir = short_tempdir();
    let bus = SessionBus::start(&dir.path().join("bus"));
    let (_server, mut received) = NotificationServer::start(&bus.address).await;

    run_child(DELIVER, &bus.address).await;

    let got = tokio::time::timeout(LIMIT, received.recv())
        .await
        .expect("the child reported the alert delivered, so the server must have it")
        .expect("the server is still running");
    assert_eq!(got.app_name, "Leadline");
    assert_eq!(got.summary, "Zoë Park replied");
    assert_eq!(got.body, "Can we see the house on Saturday?");
    assert_eq!(got.replaces_id, 0, "a new notification, not an update of an earlier one");
    assert!(got.actions.is_empty(), "alerts carry no buttons: {:?}", got.actions);
    assert_eq!(got.expire_timeout, -1, "the server decides how long it shows");
    assert!(received.try_recv().is_err(), "one alert, one notification");
}

#[tokio::test]
async fn with_no_session_bus_alerting_fails_quietly_then_rests() {
    let dir = short_tempdir();
    let nowhere = format!("unix:path={}", dir.path().join("no-bus-here").display());
    run_child(UNREACHABLE, &nowhere).await;
}

#[tokio::test]
async fn with_no_notification_server_on_the_bus_alerting_fails_quietly_then_rests() {
    let dir = short_tempdir();
    let bus = SessionBus::start(&dir.path().join("bus"));
    run_child(UNREACHABLE, &bus.address).await;
}

/// The child's side: sends alerts to whatever `DBUS_SESSION_BUS_ADDRESS` names and checks the
/// outcome. Run by the tests above in a process of its own; run by hand, it does nothing.
#[tokio::test]
#[ignore = "a child process of the desktop-alert tests; it needs their bus"]
async fn child() {
    let Ok(role) = std::env::var(ROLE) else {
        eprintln!(
            "`child` is started by the other tests in this file with a private bus; alone it checks nothing"
        );
        return;
    };
    match role.as_str() {
        DELIVER => {
            let shown = Desktop::default().show(&hot_reply(), Instant::now()).await;
            assert_eq!(shown, Shown::Delivered);
        }
        UNREACHABLE => {
            // busd drops a call to a name nobody owns (dbus-daemon answers ServiceUnknown at
            // once): the limit on waiting for an answer is what ends that attempt.
            let desktop = Desktop::answering_within(Duration::from_secs(1));
            let start = Instant::now();
            let first = desktop.show(&hot_reply(), start).await;
            assert!(matches!(first, Shown::Failed(_)), "{first:?}");
            // Within the window nothing is tried: a missing service costs one attempt, not one
            // per alert.
            for later in [Duration::from_secs(1), BACK_OFF - Duration::from_secs(1)] {
                assert_eq!(
                    desktop.show(&hot_reply(), start + later).await,
                    Shown::Resting,
                    "{later:?} after"
                );
            }
            let again = desktop.show(&hot_reply(), start + BACK_OFF).await;
            assert!(matches!(again, Shown::Failed(_)), "tried again once the window is over: {again:?}");

            // What the engine calls: it returns at once and never panics, on the runtime or on
            // a thread with none.
            let notifier = alerts::desktop();
            notifier.notify(&hot_reply());
            let from_a_plain_thread = std::thread::spawn(move || notifier.notify(&hot_reply())).join();
            assert!(from_a_plain_thread.is_ok());
        }
        other => panic!("unknown role {other:?} in {ROLE}"),
    }
}

/// Runs [`child`] as `role` in a new process whose session bus is `address`, and fails with its
/// output unless it passed.
async fn run_child(role: &str, address: &str) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let run = tokio::process::Command::new(exe)
        .args(["--exact", "child", "--ignored", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env("DBUS_SESSION_BUS_ADDRESS", address)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(LIMIT, run).await.expect("the child hung").expect("start the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child ({role}) failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A private, short temp dir (socket paths must stay under 108 bytes).
fn short_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("ll-").tempdir_in("/tmp").expect("tempdir")
}

/// A session bus of our own: busd on a thread of its own (it runs on its own runtime, not
/// tokio's), listening on a socket file. Stops when dropped.
struct SessionBus {
    /// What a client puts in `DBUS_SESSION_BUS_ADDRESS`.
    address: String,
    stop: Arc<zruntime::Event>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SessionBus {
    fn start(socket: &Path) -> Self {
        let listen = format!("unix:path={}", socket.display());
        let stop = Arc::new(zruntime::Event::new());
        let stopped = stop.listen();
        let (ready, address) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            zruntime::block_on(async move {
                let mut bus = match busd::bus::Bus::for_address(Some(&listen)).await {
                    Ok(bus) => bus,
                    Err(e) => {
                        let _ = ready.send(Err(format!("{e:#}")));
                        return;
                    }
                };
                let _ = ready.send(Ok(bus.address().to_string()));
                {
                    let running = pin!(bus.run());
                    if let futures::future::Either::Right((Err(e), _)) =
                        futures::future::select(stopped, running).await
                    {
                        eprintln!("the test's bus stopped: {e:#}");
                    }
                }
                let _ = bus.cleanup().await;
            });
        });
        let address = address
            .recv_timeout(LIMIT)
            .expect("the bus thread answers")
            .unwrap_or_else(|e| panic!("start the test's bus: {e}"));
        Self { address, stop, thread: Some(thread) }
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        self.stop.notify(usize::MAX);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One `Notify` call as the server received it.
#[derive(Debug)]
struct Received {
    app_name: String,
    replaces_id: u32,
    summary: String,
    body: String,
    actions: Vec<String>,
    expire_timeout: i32,
}

/// The least of `org.freedesktop.Notifications` (Desktop Notifications Specification 1.2)
/// that a client can talk to: it shows nothing and hands every notification to the test.
struct NotificationServer {
    received: mpsc::UnboundedSender<Received>,
    next_id: u32,
}

impl NotificationServer {
    /// Registers a server on the bus at `address`; the connection serves it until dropped.
    async fn start(address: &str) -> (zbus::Connection, mpsc::UnboundedReceiver<Received>) {
        let (received, notifications) = mpsc::unbounded_channel();
        let connection = zbus::connection::Builder::address(address)
            .name("org.freedesktop.Notifications")
            .serve_at("/org/freedesktop/Notifications", Self { received, next_id: 0 })
            .build()
            .await
            .expect("register the notification server on the test's bus");
        (connection, notifications)
    }
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl NotificationServer {
    #[allow(clippy::too_many_arguments)] // the specification's signature
    fn notify(
        &mut self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedVariant>,
        expire_timeout: i32,
    ) -> u32 {
        self.next_id += 1;
        let _ =
            self.received.send(Received { app_name, replaces_id, summary, body, actions, expire_timeout });
        self.next_id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    #[zbus(out_args("name", "vendor", "version", "spec_version"))]
    fn get_server_information(&self) -> (String, String, String, String) {
        ("leadline-test".into(), "Leadline".into(), "0".into(), "1.2".into())
    }

    fn close_notification(&self, _id: u32) {}
}
