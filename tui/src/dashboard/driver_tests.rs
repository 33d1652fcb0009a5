//! The driver against a fake daemon on a real Unix socket: connecting, loading, following
//! pushed changes, starting the daemon when none answers, and reconnecting after it stops.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use leadline_shared::domain::OpKind;
use leadline_shared::protocol::{
    self, ClientMessage, ErrorKind, Event, QueueName, RemoteError, Request, Response, ServerMessage,
    SyncState, Welcome,
};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::codec::Framed;

use super::connection::ConnState;
use super::tests::{detail, followup_views, leads, queue, status};
use super::*;

/// A daemon that speaks the protocol from the test fixtures.
#[derive(Clone)]
struct Fake {
    events: broadcast::Sender<Event>,
    renamed: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    /// Every command (edit, sync, retry) received, in order.
    commands: Arc<Mutex<Vec<Request>>>,
    /// The next pending op's sequence number.
    next_seq: Arc<AtomicU64>,
    /// How many leads the `all` queue holds (the fixture's first ones).
    all: Arc<AtomicUsize>,
    /// How many new leads rank above all the others in every queue.
    newcomers: Arc<AtomicUsize>,
    /// How many queue requests were answered.
    queue_requests: Arc<AtomicUsize>,
    /// Every search query asked, in order.
    searches: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn new() -> Self {
        Fake {
            events: broadcast::channel(16).0,
            renamed: Arc::new(AtomicBool::new(false)),
            connections: Arc::new(AtomicUsize::new(0)),
            commands: Arc::default(),
            next_seq: Arc::new(AtomicU64::new(12)),
            all: Arc::new(AtomicUsize::new(40)),
            newcomers: Arc::default(),
            queue_requests: Arc::default(),
            searches: Arc::default(),
        }
    }

    /// Serves on `socket` until `stop` fires or is dropped; then every connection closes.
    async fn serve(self, listener: UnixListener, stop: oneshot::Receiver<()>) {
        let mut conns = tokio::task::JoinSet::new();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        self.connections.fetch_add(1, Ordering::SeqCst);
                        conns.spawn(self.clone().connection(stream));
                    }
                }
                _ = &mut stop => break,
            }
        }
    }

    async fn connection(self, stream: UnixStream) {
        let mut framed = Framed::new(stream, protocol::framing());
        let Some(Ok(_hello)) = framed.next().await else {
            return;
        };
        let welcome = Welcome { app_version: "0.1.0".into(), protocol: 1, pid: 4242 };
        let send = |msg: ServerMessage| protocol::encode(&msg).unwrap();
        if framed.send(send(ServerMessage::Welcome(welcome))).await.is_err() {
            return;
        }
        let mut subscription: Option<broadcast::Receiver<Event>> = None;
        loop {
            let pushed = async {
                match &mut subscription {
                    Some(rx) => rx.recv().await.ok(),
                    None => std::future::pending().await,
                }
            };
            let reply = tokio::select! {
                frame = framed.next() => {
                    let Some(Ok(frame)) = frame else { return };
                    let Ok(ClientMessage::Request { id, body }) = protocol::decode(&frame) else { return };
                    if matches!(
                        body,
                        Request::Edit { .. }
                            | Request::MoveDeal { .. }
                            | Request::SyncNow { .. }
                            | Request::RetryOp { .. }
                            | Request::ApproveFollowUp { .. }
                            | Request::SkipFollowUp { .. }
                            | Request::PauseLead { .. }
                            | Request::ResumeLead { .. }
                    ) {
                        self.commands.lock().unwrap().push(body.clone());
                    }
                    let result = match body {
                        Request::Ping => Ok(Response::Pong),
                        Request::Status => Ok(Response::Status(Box::new(status()))),
                        // Like the daemon: a window by offset or anchor, with the exact total.
                        Request::Queue { limit, .. } if limit > 5_000 => {
                            Err(RemoteError::new(ErrorKind::BadRequest, "limit is at most 5000"))
                        }
                        Request::Queue { name, limit, offset, anchor } => {
                            self.queue_requests.fetch_add(1, Ordering::SeqCst);
                            let rows = self.queue(&name);
                            Ok(Response::Queue(Box::new(page_of(&rows, offset, limit, anchor.as_ref()))))
                        }
                        Request::Lead { id } => Ok(Response::Lead(Box::new(detail(&id)))),
                        Request::ModelStatus | Request::TrainModel => {
                            Ok(Response::Model(Box::default()))
                        }
                        Request::Compose { contact_id } => {
                            Ok(Response::Compose(Box::new(super::tests::compose_info(&contact_id))))
                        }
                        Request::Analytics { range } => {
                            Ok(Response::Analytics(Box::new(super::tests::analytics_report(range))))
                        }
                        Request::Subscribe => {
                            subscription = Some(self.events.subscribe());
                            Ok(Response::Subscribed)
                        }
                        Request::SyncNow { .. } => {
                            let mut sync = status().sync;
                            sync.state = SyncState::Syncing;
                            Ok(Response::Synced(Box::new(sync)))
                        }
                        Request::Edit { op: OpKind::AddTag { tag }, .. } if tag.chars().count() > 64 => Err(
                            RemoteError::new(ErrorKind::BadRequest, "tag names may not exceed 64 characters"),
                        ),
                        Request::Edit { contact_id, .. } => {
                            // Like the daemon: durable before the answer, and published.
                            let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
                            let _ = self.events.send(Event::LeadsChanged { ids: vec![contact_id] });
                            Ok(Response::Accepted { seq })
                        }
                        // Like the daemon, which finds the stage by name in the deal's pipeline.
                        Request::MoveDeal { stage, .. } if stage == "Nowhere" => Err(RemoteError::new(
                            ErrorKind::BadRequest,
                            "pipeline \"Buyers\" has no stage \"Nowhere\"; its stages are: New lead, Showing",
                        )),
                        Request::MoveDeal { contact_id, .. } => {
                            let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
                            let _ = self.events.send(Event::LeadsChanged { ids: vec![contact_id] });
                            Ok(Response::Accepted { seq })
                        }
                        Request::RetryOp { seq } => Ok(Response::Accepted { seq }),
                        Request::Assist { .. } => Err(RemoteError::new(ErrorKind::BadRequest, "no drafts here")),
                        Request::FollowUps { filter } => Ok(Response::FollowUps(
                            followup_views().into_iter().filter(|v| filter.states.contains(&v.item.state)).collect(),
                        )),
                        // Like the daemon, which renders the agent's text under the template's
                        // rules and refuses it with the reason.
                        Request::ApproveFollowUp { body: Some(text), .. } if text.chars().count() > 320 => {
                            Err(RemoteError::new(
                                ErrorKind::BadRequest,
                                format!(
                                    "the text is {} characters; a text may be at most 320 (two segments): shorten it",
                                    text.chars().count()
                                ),
                            ))
                        }
                        Request::ApproveFollowUp { id, .. } | Request::SkipFollowUp { id } => {
                            match followup_views().into_iter().find(|v| v.item.id == id) {
                                Some(view) => Ok(Response::FollowUp(Box::new(view))),
                                None => Err(RemoteError::new(ErrorKind::NotFound, format!("no follow-up {id:?}"))),
                            }
                        }
                        Request::PauseLead { .. } | Request::ResumeLead { .. } => Ok(Response::Done),
                        Request::System { .. } => Ok(Response::System(Box::default())),
                        Request::LogTail { lines } => Ok(Response::LogTail(Box::new(protocol::LogTail {
                            file: Some("leadlined.2025-06-02.log".into()),
                            lines: (0..lines.min(3)).map(|i| format!("line {i}")).collect(),
                            truncated: false,
                        }))),
                        Request::Search { query, limit } => {
                            self.searches.lock().unwrap().push(query.clone());
                            Ok(Response::Search(Box::new(super::tests::search_page(&query, limit))))
                        }
                        Request::Tasks { .. } => Ok(Response::Tasks(Box::default())),
                        Request::SimulateFollowUps { .. } | Request::ImportListings { .. } => {
                            Err(RemoteError::new(ErrorKind::BadRequest, "not in this fake daemon"))
                        }
                    };
                    ServerMessage::Response { id, result }
                }
                Some(event) = pushed => ServerMessage::Event { event },
            };
            if framed.send(send(reply)).await.is_err() {
                return;
            }
        }
    }

    fn queue(&self, name: &QueueName) -> Vec<leadline_shared::domain::LeadSummary> {
        let mut rows = match name {
            QueueName::All => leads(self.all.load(Ordering::SeqCst)),
            other => queue(other),
        };
        let newcomers = (0..self.newcomers.load(Ordering::SeqCst)).map(|i| {
            let mut lead = leads(1).remove(0);
            lead.id = format!("new{i}");
            lead.name = format!("Newcomer {i}");
            lead
        });
        rows.splice(0..0, newcomers);
        if self.renamed.load(Ordering::SeqCst)
            && let Some(first) = rows.first_mut()
        {
            first.name = "Renamed Lead".into();
        }
        rows
    }
}

fn start(fake: &Fake, socket: &Path) -> oneshot::Sender<()> {
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket).unwrap();
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(fake.clone().serve(listener, stopped));
    stop
}

/// Feeds the driver until `done` holds, as the dashboard's loop would.
async fn pump(
    driver: &mut Driver,
    app: &mut App,
    rx: &mut mpsc::UnboundedReceiver<Input>,
    done: impl Fn(&App) -> bool,
) {
    let result = tokio::time::timeout(Duration::from_secs(20), async {
        while !done(app) {
            let input = rx.recv().await.unwrap();
            assert!(!driver.handle(app, input), "nothing here quits");
        }
    })
    .await;
    result.unwrap_or_else(|_| panic!("timed out; connection is {:?}", app.connection()));
}

fn socket_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("daemon.sock")
}

/// A dashboard on the all-leads queue, started against a fake daemon on a real socket.
struct Session {
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
    fake: Fake,
    driver: Driver,
    app: App,
    rx: mpsc::UnboundedReceiver<Input>,
}

fn session() -> Session {
    session_with(Fake::new())
}

/// [`session`] against `fake`.
fn session_with(fake: Fake) -> Session {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let stop = start(&fake, &socket);
    let (tx, rx) = mpsc::unbounded_channel();
    let never: StartDaemon = Arc::new(|| Err("not expected".into()));
    let mut driver = Driver::new(socket, never, tx);
    let mut app = App::new(jiff::Timestamp::now());
    app.resize(80, 24);
    app.handle_action(Action::Queue(5));
    driver.perform(app.start());
    Session { _dir: dir, _stop: stop, fake, driver, app, rx }
}

#[tokio::test]
async fn loads_from_the_daemon_and_follows_pushed_changes() {
    let Session { _dir, _stop, fake, mut driver, mut app, mut rx } = session();
    pump(&mut driver, &mut app, &mut rx, |a| {
        a.view().loaded && a.status.is_some() && a.views.iter().all(|v| v.loaded)
    })
    .await;
    assert_eq!(app.view().total, 40);
    assert_eq!(fake.connections.load(Ordering::SeqCst), 2, "one for requests, one for events");

    app.handle_action(Action::ToggleDetail);
    let effects = app.handle_action(Action::NextRow);
    driver.perform(effects);
    pump(&mut driver, &mut app, &mut rx, |a| a.selected_detail().is_some()).await;
    assert_eq!(app.selected_detail().unwrap().lead.id, "c00001");

    // A pushed change re-fetches the visible queue after the debounce.
    fake.renamed.store(true, Ordering::SeqCst);
    fake.events.send(Event::LeadsChanged { ids: vec!["c00000".into()] }).unwrap();
    pump(&mut driver, &mut app, &mut rx, |a| a.view().lead_at(0).is_some_and(|l| l.name == "Renamed Lead"))
        .await;
    assert_eq!(app.selected_lead().unwrap().id, "c00001", "selection kept");
}

#[tokio::test]
async fn starts_the_daemon_when_none_answers_and_reconnects_after_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let fake = Fake::new();
    let starts = Arc::new(AtomicUsize::new(0));
    let stops: Arc<std::sync::Mutex<Vec<oneshot::Sender<()>>>> = Arc::default();
    let runtime = tokio::runtime::Handle::current();
    let start_daemon: StartDaemon = {
        let (fake, socket, starts, stops) = (fake.clone(), socket.clone(), starts.clone(), stops.clone());
        Arc::new(move || {
            starts.fetch_add(1, Ordering::SeqCst);
            let _guard = runtime.enter();
            let stop = start(&fake, &socket);
            stops.lock().unwrap().push(stop);
            Ok(())
        })
    };

    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut driver = Driver::new(socket.clone(), start_daemon, tx);
    let mut app = App::new(jiff::Timestamp::now());
    app.resize(80, 24);
    driver.perform(app.start());
    pump(&mut driver, &mut app, &mut rx, |a| a.view().loaded).await;
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    assert!(matches!(app.connection(), ConnState::Online { .. }));

    // The daemon says it stops, and does: the dashboard goes offline, starts it again, and
    // comes back.
    fake.events.send(Event::ShuttingDown).unwrap();
    for stop in stops.lock().unwrap().drain(..) {
        let _ = stop.send(());
    }
    pump(&mut driver, &mut app, &mut rx, |a| !matches!(a.connection(), ConnState::Online { .. })).await;
    pump(&mut driver, &mut app, &mut rx, |a| matches!(a.connection(), ConnState::Online { .. })).await;
    assert_eq!(starts.load(Ordering::SeqCst), 2);
    driver.shutdown();
}

#[tokio::test]
async fn stays_offline_with_a_banner_while_the_daemon_cannot_start() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let fail: StartDaemon = Arc::new(|| Err("leadlined: not found".into()));
    let mut driver = Driver::new(socket, fail, tx);
    let mut app = App::new(jiff::Timestamp::now());
    app.resize(80, 24);
    driver.perform(app.start());
    pump(&mut driver, &mut app, &mut rx, |a| {
        matches!(a.connection(), ConnState::Offline { attempts: 2.., .. })
    })
    .await;
    let (banner, _) = components::status_bar::banner_text(&app, 200).unwrap();
    assert!(banner.contains("Daemon not running; retrying in"), "{banner}");
    driver.shutdown();
}

fn key(code: KeyCode) -> Input {
    Input::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[tokio::test]
async fn a_tag_typed_in_the_dashboard_reaches_the_daemon() {
    let Session { _dir, _stop, fake, mut driver, mut app, mut rx } = session();
    pump(&mut driver, &mut app, &mut rx, |a| a.view().loaded && a.status.is_some()).await;

    // Open the lead, then type `t V I P Enter` as the terminal would deliver it.
    driver.handle(&mut app, key(KeyCode::Enter));
    let shift = |c| Input::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT));
    for input in [key(KeyCode::Char('t')), shift('V'), shift('I'), shift('P'), key(KeyCode::Enter)] {
        assert!(!driver.handle(&mut app, input));
    }
    pump(&mut driver, &mut app, &mut rx, |a| a.flash().is_some_and(|f| f.text.starts_with("Saved"))).await;
    assert_eq!(
        *fake.commands.lock().unwrap(),
        [Request::Edit { contact_id: "c00000".into(), op: OpKind::AddTag { tag: "VIP".into() } }]
    );
    assert_eq!(app.flash().unwrap().text, "Saved: tag 'VIP' (edit #12, goes to GHL with the next sync)");
    // The lead is re-fetched after the edit (and again on the pushed LeadsChanged).
    pump(&mut driver, &mut app, &mut rx, |a| a.selected_detail().is_some()).await;

    // A refused edit comes back as an error flash; the connection stays up.
    driver.handle(&mut app, key(KeyCode::Char('t')));
    for c in "x".repeat(65).chars() {
        driver.handle(&mut app, key(KeyCode::Char(c)));
    }
    driver.handle(&mut app, key(KeyCode::Enter));
    pump(&mut driver, &mut app, &mut rx, |a| a.flash().is_some_and(|f| f.kind == app::FlashKind::Error))
        .await;
    assert!(
        app.flash().unwrap().text.ends_with("tag names may not exceed 64 characters"),
        "{:?}",
        app.flash()
    );
    assert!(matches!(app.connection(), ConnState::Online { .. }));

    // s and R go over the same connection.
    driver.handle(&mut app, key(KeyCode::Char('s')));
    pump(&mut driver, &mut app, &mut rx, |a| a.flash().is_some_and(|f| f.text == "Sync started.")).await;
    let retry = Update::LeadLoaded(Box::new(super::tests::detail_with_edits("c00000")));
    driver.handle(&mut app, Input::Update(retry));
    driver.handle(&mut app, key(KeyCode::Char('R')));
    pump(&mut driver, &mut app, &mut rx, |a| a.flash().is_some_and(|f| f.text.starts_with("Edit #12"))).await;
    let commands = fake.commands.lock().unwrap().clone();
    assert_eq!(
        commands[2..],
        [
            Request::SyncNow { wait: false, full: false },
            Request::RetryOp { seq: 9 },
            Request::RetryOp { seq: 12 }
        ]
    );
    driver.shutdown();
}

#[tokio::test]
async fn a_message_composed_in_the_dashboard_reaches_the_daemon_as_an_edit() {
    let Session { _dir, _stop, fake, mut driver, mut app, mut rx } = session();
    pump(&mut driver, &mut app, &mut rx, |a| a.view().loaded && a.status.is_some()).await;

    // c on the first lead: the daemon's answer arrives; a template is chosen, then sent.
    driver.handle(&mut app, key(KeyCode::Char('c')));
    pump(&mut driver, &mut app, &mut rx, |a| a.compose().is_some_and(|c| c.info.is_some())).await;
    driver.handle(&mut app, Input::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)));
    driver.handle(&mut app, key(KeyCode::Down));
    driver.handle(&mut app, Input::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    pump(&mut driver, &mut app, &mut rx, |a| {
        a.compose().and_then(|c| c.sent.as_ref()).is_some_and(|s| s.seq.is_some())
    })
    .await;
    let commands = fake.commands.lock().unwrap().clone();
    let [Request::Edit { contact_id, op: OpKind::SendMessage { channel, body, subject } }] = &commands[..]
    else {
        panic!("one message: {commands:?}");
    };
    assert_eq!((contact_id.as_str(), channel.as_str(), subject), ("c00000", "sms", &None));
    assert!(body.starts_with("Hi Maria, this is Dana") && body.ends_with("Reply STOP to opt out"), "{body}");
    // The fake daemon's lead has no op left: the message went.
    pump(&mut driver, &mut app, &mut rx, |a| {
        a.compose().and_then(|c| c.sent.as_ref()).is_some_and(|s| s.state == compose::SendState::Sent)
    })
    .await;
    driver.shutdown();
}

#[tokio::test]
async fn a_query_typed_in_the_dashboard_is_asked_once_it_rests_and_enter_opens_the_lead() {
    let Session { _dir, _stop, fake, mut driver, mut app, mut rx } = session();
    pump(&mut driver, &mut app, &mut rx, |a| a.view().loaded && a.status.is_some()).await;
    for c in "/gonz".chars() {
        assert!(!driver.handle(&mut app, key(KeyCode::Char(c))));
    }
    pump(&mut driver, &mut app, &mut rx, |a| !a.search().rows.is_empty()).await;
    assert_eq!(*fake.searches.lock().unwrap(), ["gonz"], "one request, for the query at rest");
    driver.handle(&mut app, key(KeyCode::Down));
    driver.handle(&mut app, key(KeyCode::Enter));
    pump(&mut driver, &mut app, &mut rx, |a| a.selected_detail().is_some()).await;
    assert_eq!(app.selected_detail().unwrap().lead.id, "c00007");
    driver.shutdown();
}

#[tokio::test]
async fn a_bulk_tag_of_three_marked_leads_sends_three_edits() {
    let Session { _dir, _stop, fake, mut driver, mut app, mut rx } = session();
    pump(&mut driver, &mut app, &mut rx, |a| a.view().loaded && a.status.is_some()).await;
    let shift = |c| Input::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT));
    let space = || key(KeyCode::Char(' '));
    let keys = [
        space(),
        key(KeyCode::Char('j')),
        space(),
        key(KeyCode::Char('j')),
        space(),
        key(KeyCode::Char('t')),
        shift('V'),
        shift('I'),
        shift('P'),
        key(KeyCode::Enter),
    ];
    for input in keys {
        assert!(!driver.handle(&mut app, input));
    }
    assert_eq!(app.lead_marks().len(), 3);
    pump(&mut driver, &mut app, &mut rx, |a| a.flash().is_some_and(|f| f.text.starts_with("Done"))).await;
    let tag = || OpKind::AddTag { tag: "VIP".into() };
    assert_eq!(
        *fake.commands.lock().unwrap(),
        ["c00000", "c00001", "c00002"].map(|id| Request::Edit { contact_id: id.into(), op: tag() })
    );
    assert_eq!(app.flash().unwrap().text, "Done: tag 'VIP' on 3 marked leads.");
    assert!(app.lead_marks().is_empty(), "the leads done are unmarked");
    driver.shutdown();
}

#[tokio::test]
async fn a_command_without_a_connection_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let never: StartDaemon = Arc::new(|| Err("not expected".into()));
    let mut driver = Driver::new(socket_in(&dir), never, tx);
    driver.perform(vec![Effect::Edit { contact_id: "c1".into(), op: OpKind::AddNote { body: "hi".into() } }]);
    let Some(Input::Update(Update::EditFailed { contact_id, error, .. })) = rx.recv().await else {
        panic!("expected EditFailed");
    };
    assert_eq!((contact_id.as_str(), error.as_str()), ("c1", "not connected to the daemon"));
}

#[tokio::test]
async fn the_follow_up_keys_reach_the_daemon() {
    let Session { _dir, _stop, fake, mut driver, mut app, mut rx } = session();
    pump(&mut driver, &mut app, &mut rx, |a| a.view().loaded && a.status.is_some()).await;
    let shift = |c| Input::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT));
    let flash_starts =
        |prefix: &'static str| move |a: &App| a.flash().is_some_and(|f| f.text.starts_with(prefix));

    // The screen loads its three parts from the daemon.
    driver.handle(&mut app, key(KeyCode::Char('7')));
    pump(&mut driver, &mut app, &mut rx, |a| a.followups().loaded).await;
    assert_eq!(app.followups().rows.len(), followup_views().len());

    // Approve and skip the selected action, one key each.
    driver.handle(&mut app, key(KeyCode::Char('j')));
    driver.handle(&mut app, key(KeyCode::Char('a')));
    pump(&mut driver, &mut app, &mut rx, flash_starts("Approved:")).await;
    driver.handle(&mut app, key(KeyCode::Char('x')));
    pump(&mut driver, &mut app, &mut rx, flash_starts("Skipped:")).await;

    // Edit: the daemon refuses the text, and says why in the footer.
    driver.handle(&mut app, key(KeyCode::Char('e')));
    for c in "y".repeat(330).chars() {
        driver.handle(&mut app, key(KeyCode::Char(c)));
    }
    driver.handle(&mut app, key(KeyCode::Enter));
    pump(&mut driver, &mut app, &mut rx, flash_starts("Not approved:")).await;
    let flash = app.flash().unwrap();
    assert_eq!(flash.kind, app::FlashKind::Error);
    assert!(flash.text.ends_with("a text may be at most 320 (two segments): shorten it"), "{}", flash.text);
    assert!(matches!(app.connection(), ConnState::Online { .. }));
    // A text it takes.
    driver.handle(&mut app, key(KeyCode::Char('e')));
    for c in "See you Saturday!".chars() {
        driver.handle(&mut app, key(KeyCode::Char(c)));
    }
    driver.handle(&mut app, key(KeyCode::Enter));
    pump(&mut driver, &mut app, &mut rx, flash_starts("Approved with your text:")).await;

    // Send the uncertain message again, then pause and resume its lead.
    for _ in 0..4 {
        driver.handle(&mut app, key(KeyCode::Char('j')));
    }
    assert_eq!(app.followups().selected_row().unwrap().item().contact_id, "c00006");
    driver.handle(&mut app, shift('A'));
    pump(&mut driver, &mut app, &mut rx, flash_starts("Sending again with the next sync")).await;
    driver.handle(&mut app, key(KeyCode::Char('p')));
    pump(&mut driver, &mut app, &mut rx, flash_starts("Paused Emily Kowalski")).await;
    driver.handle(&mut app, shift('P'));
    pump(&mut driver, &mut app, &mut rx, flash_starts("Resumed Emily Kowalski")).await;

    let id = "c00000/nurture/3".to_owned();
    assert_eq!(
        *fake.commands.lock().unwrap(),
        [
            Request::ApproveFollowUp { id: id.clone(), body: None },
            Request::SkipFollowUp { id: id.clone() },
            Request::ApproveFollowUp { id: id.clone(), body: Some("y".repeat(330)) },
            Request::ApproveFollowUp { id, body: Some("See you Saturday!".into()) },
            Request::RetryOp { seq: 17 },
            Request::PauseLead { contact_id: "c00006".into() },
            Request::ResumeLead { contact_id: "c00006".into() },
        ]
    );
    driver.shutdown();
}

/// What the terminal shows of `app` at 80×24.
fn screen(app: &App) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| render(app, frame)).unwrap();
    terminal.backend().to_string()
}

#[tokio::test]
async fn pages_through_thousands_of_leads_and_keeps_the_selection_when_leads_arrive() {
    let fake = Fake::new();
    fake.all.store(3_000, Ordering::SeqCst);
    let Session { _dir, _stop, fake, mut driver, mut app, mut rx } = session_with(fake);
    pump(&mut driver, &mut app, &mut rx, |a| a.view().loaded && a.status.is_some()).await;
    assert_eq!(app.view().total, 3_000);
    assert!(screen(&app).contains("6 All 3,000"));

    // The last lead, past any first page.
    driver.handle(&mut app, Input::Key(KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)));
    pump(&mut driver, &mut app, &mut rx, |a| a.selected_lead().is_some()).await;
    assert_eq!(app.selected_lead().unwrap().id, "c02999");
    assert!(screen(&app).contains("3,000 of 3,000"), "{}", screen(&app));

    // Forty page-ups as fast as a held key: the requests pile up and only the last window
    // is asked for, once the worker gets to it.
    let asked = fake.queue_requests.load(Ordering::SeqCst);
    for _ in 0..40 {
        driver.handle(&mut app, key(KeyCode::PageUp));
    }
    let selected = 2_999 - 40 * 18;
    assert_eq!(app.view().selected, selected);
    pump(&mut driver, &mut app, &mut rx, |a| a.selected_lead().is_some()).await;
    assert_eq!(fake.queue_requests.load(Ordering::SeqCst) - asked, 1);
    assert_eq!(app.selected_lead().unwrap().id, format!("c{selected:05}"));
    let before = screen(&app);
    assert!(!before.contains(components::queue_table::LOADING), "{before}");

    // New leads arrive at the top: after the pushed change the same lead is selected, on the
    // same screen row, and the rows around it have not moved.
    let row = app.view().selected - app.view().offset;
    fake.newcomers.store(2, Ordering::SeqCst);
    fake.events.send(Event::LeadsChanged { ids: vec!["new0".into(), "new1".into()] }).unwrap();
    pump(&mut driver, &mut app, &mut rx, |a| a.view().total == 3_002).await;
    assert_eq!(app.selected_lead().unwrap().id, format!("c{selected:05}"));
    assert_eq!((app.view().selected, app.view().selected - app.view().offset), (selected + 2, row));
    let after = screen(&app);
    let body = |s: &str| s.lines().skip(2).take(20).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(body(&before), body(&after));
    assert!(after.contains(&format!("{} of 3,002", format::thousands(selected as u64 + 3))), "{after}");
    assert!(app.rows_held() <= 6 * queue_window::window_len(app.page_rows()));
    driver.shutdown();
}

/// Moving marked deals by stage name reaches the daemon as one `MoveDeal` a lead; a name the
/// pipeline lacks comes back with the daemon's reason, and that lead stays marked.
#[tokio::test]
async fn marked_deals_move_through_the_daemon_and_a_refusal_names_the_stages() {
    let Session { _dir, _stop, fake, mut driver, mut app, mut rx } = session();
    pump(&mut driver, &mut app, &mut rx, |a| a.view().loaded && a.status.is_some()).await;
    let typed = |text: &str| {
        let mut keys: Vec<Input> = text
            .chars()
            .map(|c| {
                let m = if c.is_ascii_uppercase() { KeyModifiers::SHIFT } else { KeyModifiers::NONE };
                Input::Key(KeyEvent::new(KeyCode::Char(c), m))
            })
            .collect();
        keys.push(key(KeyCode::Enter));
        keys
    };
    let mut keys = vec![key(KeyCode::Char(' ')), key(KeyCode::Char('j')), key(KeyCode::Char(' '))];
    keys.push(Input::Key(KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT)));
    keys.extend(typed("Showing"));
    for input in keys {
        assert!(!driver.handle(&mut app, input));
    }
    pump(&mut driver, &mut app, &mut rx, |a| a.flash().is_some_and(|f| f.text.starts_with("Done"))).await;
    let moves = |stage: &str| {
        fake.commands
            .lock()
            .unwrap()
            .iter()
            .filter(|c| matches!(c, Request::MoveDeal { stage: s, .. } if s == stage))
            .count()
    };
    assert_eq!(moves("Showing"), 2);
    assert!(app.lead_marks().is_empty());

    let mut keys = vec![key(KeyCode::Char(' '))];
    keys.push(Input::Key(KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT)));
    keys.extend(typed("Nowhere"));
    for input in keys {
        assert!(!driver.handle(&mut app, input));
    }
    pump(&mut driver, &mut app, &mut rx, |a| a.flash().is_some_and(|f| f.kind == app::FlashKind::Error))
        .await;
    let flash = app.flash().unwrap().text.clone();
    assert!(flash.contains("has no stage \"Nowhere\""), "{flash}");
    assert_eq!(moves("Nowhere"), 1);
    assert_eq!(app.lead_marks().len(), 1, "the refused lead stays marked");
    driver.shutdown();
}
