//! Compose: the agent writes to a lead by hand, from the lead's pane or a queue row.
//!
//! Pure state: the channel (SMS or email), a template rendered for the lead by the daemon or
//! free text, the subject of an email, the text in a multi-line [`Editor`], the live SMS count,
//! and, once sent, the message's state as the daemon's op log tells it (queued, held for the
//! lead's quiet hours, sent, refused). What may be sent is the daemon's to say: its answer to
//! `Request::Compose` carries the refusal (DND, an opt-out) and the hold (quiet hours in the
//! lead's zone) that the send key obeys, and the message goes as an ordinary edit
//! (`OpKind::SendMessage`), checked again by the daemon when queued and when sent.
//!
//! While Compose is open it takes every key (the [`super::app::App`] gives it them first):
//! Tab and shift-Tab move between the fields, ctrl-s sends from anywhere, Enter on Send sends,
//! Esc closes.

use super::action::Action;
use leadline_shared::domain::{Channel, OpKind, OpState, PendingOp};
use leadline_shared::protocol::{ChannelCheck, ComposeInfo, TemplateChoice};
use leadline_shared::sms::{self, SmsCount};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::editor::Editor;
use super::input::{InputOutcome, TextInput};

/// `SMS` or `email`, as the agent reads it.
pub fn label(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "SMS",
        Channel::Email => "email",
    }
}

fn other(channel: Channel) -> Channel {
    match channel {
        Channel::Sms => Channel::Email,
        Channel::Email => Channel::Sms,
    }
}

/// The part of Compose that takes the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// SMS or email: ←/→ or space switch.
    Channel,
    /// Free text or a template: ↑/↓ choose.
    Template,
    /// The email's subject line.
    Subject,
    /// The message.
    Body,
    /// The send button: Enter sends.
    Send,
}

/// Where a message sent from Compose stands, from the daemon's op log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendState {
    /// Asked; the daemon has not answered yet.
    Saving,
    /// In the op log, waiting for the sender (the next sync).
    Queued,
    /// The sender is sending it, or making sure GHL has it.
    Sending,
    /// The gates hold it (quiet hours, a cap): why and until when.
    Held(String),
    /// GHL has it.
    Sent,
    /// The daemon or GHL refused it: why.
    Refused(String),
    /// Its outcome could not be made sure of: the agent checks GHL, then sends it again.
    Uncertain(String),
}

impl SendState {
    /// The state of a pending op that carries a message.
    pub fn of(op: &PendingOp) -> SendState {
        let why = || op.last_error.clone().unwrap_or_default();
        match op.state {
            OpState::Pending if op.attempt.is_some() => SendState::Sending,
            OpState::Pending => match &op.held {
                Some(hold) => SendState::Held(hold.reason.clone()),
                None => SendState::Queued,
            },
            OpState::Failed | OpState::OutOfSync => SendState::Refused(why()),
            OpState::Uncertain => SendState::Uncertain(why()),
        }
    }

    /// How the state reads: `queued`, `held: ...`, `refused: ...`.
    pub fn label(&self) -> String {
        match self {
            SendState::Saving => "saving…".into(),
            SendState::Queued => "queued: it goes with the next sync".into(),
            SendState::Sending => "sending…".into(),
            SendState::Held(why) => format!("held: {why}"),
            SendState::Sent => "sent".into(),
            SendState::Refused(why) => format!("refused: {why}"),
            SendState::Uncertain(why) => format!("uncertain: {why}"),
        }
    }

    /// Whether nothing more will happen to it by itself.
    pub fn is_final(&self) -> bool {
        matches!(self, SendState::Sent | SendState::Refused(_) | SendState::Uncertain(_))
    }
}

/// A message sent from Compose, followed until it settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Its pending op, once the daemon has accepted it.
    pub seq: Option<u64>,
    /// Where it stands.
    pub state: SendState,
}

/// What a key did, for the App to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum ComposeOutcome {
    /// Nothing beyond Compose itself.
    None,
    /// Close Compose.
    Close,
    /// Send this message to the lead (an edit).
    Send(OpKind),
}

/// The Compose overlay's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Compose {
    /// The lead (fixed when Compose opens, even if the queue reorders).
    pub contact_id: String,
    /// The lead's name, for the title.
    pub lead_name: String,
    /// The daemon's answer; `None` while it loads.
    pub info: Option<ComposeInfo>,
    /// Why the daemon's answer did not come.
    pub load_error: Option<String>,
    /// SMS or email.
    pub channel: Channel,
    /// Which part takes the keys.
    pub focus: Field,
    /// 0: free text; n: the n-th template of the channel.
    pub template: usize,
    /// The email's subject.
    pub subject: TextInput,
    /// The message.
    pub body: Editor,
    /// Why the last send key was refused, shown until the next key.
    pub notice: Option<String>,
    /// The message sent, once sent.
    pub sent: Option<Sent>,
}

impl Compose {
    /// Compose for a lead, waiting for the daemon's answer. A lead with an email address and
    /// no phone starts on email.
    pub fn new(contact_id: &str, lead_name: &str, has_phone: bool) -> Compose {
        Compose {
            contact_id: contact_id.to_owned(),
            lead_name: lead_name.to_owned(),
            info: None,
            load_error: None,
            channel: if has_phone { Channel::Sms } else { Channel::Email },
            focus: Field::Body,
            template: 0,
            subject: TextInput::new(),
            body: Editor::new(),
            notice: None,
            sent: None,
        }
    }

    /// The daemon's answer arrived.
    pub fn load(&mut self, info: ComposeInfo) {
        if info.phone.is_none() && info.email.is_some() && self.body.is_empty() {
            self.channel = Channel::Email;
        }
        self.info = Some(info);
        self.load_error = None;
    }

    /// The gates' word on the channel chosen.
    pub fn check(&self) -> Option<&ChannelCheck> {
        self.info.as_ref()?.channel(self.channel.as_str())
    }

    /// The templates of the channel chosen, in the daemon's order.
    pub fn templates(&self) -> Vec<&TemplateChoice> {
        self.info.as_ref().map(|i| i.templates_for(self.channel.as_str()).collect()).unwrap_or_default()
    }

    /// The template chosen, if not free text.
    pub fn chosen(&self) -> Option<&TemplateChoice> {
        self.template.checked_sub(1).and_then(|i| self.templates().get(i).copied())
    }

    /// The text message's count (SMS only).
    pub fn count(&self) -> Option<SmsCount> {
        (self.channel == Channel::Sms).then(|| sms::count(&self.body.text()))
    }

    /// The fields Tab goes through: the subject only for an email.
    fn fields(&self) -> Vec<Field> {
        let mut fields = vec![Field::Channel, Field::Template];
        if self.channel == Channel::Email {
            fields.push(Field::Subject);
        }
        fields.extend([Field::Body, Field::Send]);
        fields
    }

    fn move_focus(&mut self, forward: bool) {
        let fields = self.fields();
        let at = fields.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = fields.len();
        self.focus = fields[if forward { (at + 1) % n } else { (at + n - 1) % n }];
    }

    fn switch_channel(&mut self) {
        // A template belongs to its channel; the text typed stays.
        self.channel = other(self.channel);
        self.template = 0;
        if self.channel == Channel::Sms && self.focus == Field::Subject {
            self.focus = Field::Body;
        }
    }

    /// Chooses the template `delta` away (0 is free text) and puts its text in the editor.
    fn choose(&mut self, delta: isize) {
        let count = self.templates().len() + 1;
        self.template = (self.template as isize + delta).rem_euclid(count as isize) as usize;
        let Some(t) = self.chosen().cloned() else {
            return;
        };
        match (&t.body, &t.error) {
            (Some(body), _) => {
                self.body.set_text(body);
                if let Some(subject) = &t.subject {
                    self.subject = TextInput::with_text(subject);
                }
            }
            (None, error) => {
                self.notice = Some(format!(
                    "{} cannot be written for this lead: {}",
                    t.id,
                    error.as_deref().unwrap_or("the daemon did not render it")
                ));
            }
        }
    }

    /// The message to send, or why the send key is refused.
    pub fn message(&self) -> Result<OpKind, String> {
        // Once sent, a message is followed, not sent twice; a refused one may be mended.
        if self.sent.as_ref().is_some_and(|s| !matches!(s.state, SendState::Refused(_))) {
            return Err("already sent: esc closes Compose".into());
        }
        let Some(info) = &self.info else {
            return Err("still asking the daemon about this lead…".into());
        };
        if info.channel(self.channel.as_str()).is_some_and(|c| c.blocked.is_some()) {
            // Why is on screen already, above the send button.
            let other = other(self.channel);
            let alternative = if info.channel(other.as_str()).is_some_and(|c| c.blocked.is_none()) {
                format!(
                    "; an {} may still go (tab to To)",
                    if other == Channel::Email { "email" } else { "SMS" }
                )
            } else {
                String::new()
            };
            return Err(format!(
                "not sent: no {} may go to this lead (why above){alternative}",
                label(self.channel)
            ));
        }
        let body = self.body.text();
        if body.trim().is_empty() {
            return Err("write the message first (or choose a template)".into());
        }
        let subject = self.subject.value().trim().to_owned();
        if self.channel == Channel::Email && subject.is_empty() {
            return Err("an email needs a subject".into());
        }
        Ok(OpKind::SendMessage {
            channel: self.channel.as_str().into(),
            body,
            subject: (self.channel == Channel::Email).then_some(subject),
        })
    }

    fn send(&mut self) -> ComposeOutcome {
        match self.message() {
            Ok(op) => {
                self.sent = Some(Sent { seq: None, state: SendState::Saving });
                ComposeOutcome::Send(op)
            }
            Err(why) => {
                self.notice = Some(why);
                ComposeOutcome::None
            }
        }
    }

    /// Handles one key. `action` is what the keymap binds it to; it counts only for keys the
    /// fields do not use (a letter is text and an arrow moves in its field, whatever they are
    /// bound to): send (ctrl-s) sends,
    /// next-queue and prev-queue (tab, shift-tab) move between the fields, close and quit (esc,
    /// ctrl-c) close. Esc always closes.
    pub fn handle_key(&mut self, key: &KeyEvent, action: Option<Action>) -> ComposeOutcome {
        if key.kind == KeyEventKind::Release {
            return ComposeOutcome::None;
        }
        self.notice = None;
        // Characters, arrows and the editing keys belong to the field that has focus.
        let typed = matches!(key.code, KeyCode::Char(_))
            && !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let editing = matches!(
            key.code,
            KeyCode::Left
                | KeyCode::Right
                | KeyCode::Up
                | KeyCode::Down
                | KeyCode::Enter
                | KeyCode::Backspace
                | KeyCode::Delete
                | KeyCode::Home
                | KeyCode::End
        );
        let action = if typed || editing { None } else { action };
        match action {
            _ if key.code == KeyCode::Esc => return ComposeOutcome::Close,
            Some(Action::Close | Action::Quit) => return ComposeOutcome::Close,
            Some(Action::Send) => return self.send(),
            Some(Action::NextQueue) => {
                self.move_focus(true);
                return ComposeOutcome::None;
            }
            Some(Action::PrevQueue) => {
                self.move_focus(false);
                return ComposeOutcome::None;
            }
            _ => {}
        }
        match self.focus {
            Field::Channel => match key.code {
                KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') => self.switch_channel(),
                KeyCode::Char('s' | 'S') if self.channel != Channel::Sms => self.switch_channel(),
                KeyCode::Char('e' | 'E') if self.channel != Channel::Email => self.switch_channel(),
                KeyCode::Enter | KeyCode::Down => self.move_focus(true),
                _ => {}
            },
            Field::Template => match key.code {
                KeyCode::Up | KeyCode::Left => self.choose(-1),
                KeyCode::Down | KeyCode::Right | KeyCode::Char(' ') => self.choose(1),
                KeyCode::Enter => self.move_focus(true),
                _ => {}
            },
            Field::Subject => match self.subject.handle_key(key) {
                InputOutcome::Submit => self.move_focus(true),
                InputOutcome::Cancel => return ComposeOutcome::Close,
                InputOutcome::Consumed => {}
            },
            Field::Body => {
                self.body.handle_key(key);
            }
            Field::Send => match key.code {
                KeyCode::Enter | KeyCode::Char(' ') => return self.send(),
                KeyCode::Up | KeyCode::Left => self.move_focus(false),
                _ => {}
            },
        }
        ComposeOutcome::None
    }

    /// The daemon queued the message as op `seq`.
    pub fn accepted(&mut self, seq: u64) {
        self.sent = Some(Sent { seq: Some(seq), state: SendState::Queued });
    }

    /// The daemon refused the message (or could not be asked).
    pub fn refused(&mut self, error: &str) {
        self.sent = Some(Sent { seq: None, state: SendState::Refused(error.to_owned()) });
    }

    /// Follows the message through the lead's pending ops, as the daemon listed them: its op
    /// gone means the sender delivered it (a message the agent typed leaves the op log only
    /// then; refused, it stays there as failed).
    pub fn observe(&mut self, pending_ops: &[PendingOp]) {
        let Some(sent) = &mut self.sent else {
            return;
        };
        let Some(seq) = sent.seq else {
            return;
        };
        sent.state = match pending_ops.iter().find(|op| op.seq == seq) {
            Some(op) => SendState::of(op),
            None => SendState::Sent,
        };
    }

    /// Whether Compose waits to hear more of a message it sent.
    pub fn following(&self) -> bool {
        self.sent.as_ref().is_some_and(|s| s.seq.is_some() && !s.state.is_final())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Compose {
        /// A key, with what the default keymap binds it to, as the app passes it.
        fn press(&mut self, key: &KeyEvent) -> ComposeOutcome {
            let action = crate::dashboard::keymap::Keymap::defaults().resolve(key);
            self.handle_key(key, action)
        }
    }
    use leadline_shared::domain::Hold;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn type_text(c: &mut Compose, s: &str) {
        for ch in s.chars() {
            c.press(&key(KeyCode::Char(ch)));
        }
    }

    fn info() -> ComposeInfo {
        ComposeInfo {
            contact_id: "c1".into(),
            lead_name: "Maria Gonzalez".into(),
            phone: Some("+15125550100".into()),
            email: Some("maria@example.com".into()),
            channels: vec![
                ChannelCheck { channel: "sms".into(), ..ChannelCheck::default() },
                ChannelCheck { channel: "email".into(), ..ChannelCheck::default() },
            ],
            templates: vec![
                TemplateChoice {
                    id: "instant_response".into(),
                    channel: "sms".into(),
                    body: Some(
                        "Hi Maria, this is Sarah with Summit Realty Group. Reply STOP to opt out".into(),
                    ),
                    ..TemplateChoice::default()
                },
                TemplateChoice {
                    id: "welcome_email".into(),
                    channel: "email".into(),
                    subject: Some("Welcome to Summit Realty Group".into()),
                    body: Some("Hi Maria,\n\nThanks for getting in touch.".into()),
                    ..TemplateChoice::default()
                },
                TemplateChoice {
                    id: "winback_email".into(),
                    channel: "email".into(),
                    error: Some("{{agent_phone}} is empty: set [messages] agent_phone".into()),
                    ..TemplateChoice::default()
                },
            ],
            ..ComposeInfo::default()
        }
    }

    fn open() -> Compose {
        let mut c = Compose::new("c1", "Maria Gonzalez", true);
        c.load(info());
        c
    }

    #[test]
    fn free_text_goes_as_typed_with_a_live_count() {
        let mut c = open();
        assert_eq!(c.focus, Field::Body, "ready to type");
        type_text(&mut c, "Hi Maria, Saturday at 2?");
        assert_eq!(c.count().map(|n| n.to_string()).as_deref(), Some("24/160 · 1 segment"));
        c.press(&key(KeyCode::Enter));
        type_text(&mut c, "Olá");
        let n = c.count().expect("sms");
        assert_eq!((n.to_string().as_str(), n.first_non_gsm), ("28/70 · 1 segment", Some('á')));
        let out = c.press(&KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        assert_eq!(
            out,
            ComposeOutcome::Send(OpKind::SendMessage {
                channel: "sms".into(),
                body: "Hi Maria, Saturday at 2?\nOlá".into(),
                subject: None
            })
        );
        assert_eq!(c.sent, Some(Sent { seq: None, state: SendState::Saving }));
        // Sent once: the key does not send it again.
        assert_eq!(c.press(&KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)), ComposeOutcome::None);
        assert!(c.notice.as_deref().is_some_and(|n| n.starts_with("already sent")));
    }

    #[test]
    fn a_template_fills_the_text_and_an_email_its_subject() {
        let mut c = open();
        c.press(&key(KeyCode::BackTab));
        assert_eq!(c.focus, Field::Template);
        c.press(&key(KeyCode::Down));
        assert_eq!(c.chosen().map(|t| t.id.as_str()), Some("instant_response"));
        assert!(c.body.text().starts_with("Hi Maria, this is Sarah"));
        c.press(&key(KeyCode::Down));
        assert_eq!(c.template, 0, "round to free text; the text stays");
        assert!(c.body.text().starts_with("Hi Maria, this is Sarah"));

        // Email: its own templates, and a subject field.
        c.press(&key(KeyCode::BackTab));
        assert_eq!(c.focus, Field::Channel);
        c.press(&key(KeyCode::Right));
        assert_eq!(c.channel, Channel::Email);
        assert_eq!(c.count(), None);
        c.press(&key(KeyCode::Tab));
        c.press(&key(KeyCode::Down));
        assert_eq!(c.subject.value(), "Welcome to Summit Realty Group");
        assert_eq!(c.body.text(), "Hi Maria,\n\nThanks for getting in touch.");
        // A template the daemon could not render for this lead says why, and changes nothing.
        c.press(&key(KeyCode::Down));
        assert!(c.notice.as_deref().is_some_and(|n| n.contains("agent_phone")), "{:?}", c.notice);
        assert_eq!(c.body.text(), "Hi Maria,\n\nThanks for getting in touch.");
        c.press(&key(KeyCode::Tab));
        assert_eq!(c.focus, Field::Subject);
        c.press(&key(KeyCode::Enter));
        assert_eq!(c.focus, Field::Body);
        c.press(&key(KeyCode::Tab));
        assert_eq!(c.focus, Field::Send);
        let ComposeOutcome::Send(OpKind::SendMessage { channel, subject, .. }) =
            c.press(&key(KeyCode::Enter))
        else {
            panic!("sent");
        };
        assert_eq!((channel.as_str(), subject.as_deref()), ("email", Some("Welcome to Summit Realty Group")));
    }

    #[test]
    fn the_send_key_is_refused_with_the_reason() {
        let mut c = Compose::new("c1", "Maria Gonzalez", true);
        let ctrl_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(c.press(&ctrl_s), ComposeOutcome::None);
        assert!(c.notice.as_deref().is_some_and(|n| n.contains("still asking")));
        let mut blocked = info();
        blocked.channels[0].blocked = Some("SMS DND in GHL: GHL refuses texts to this lead".into());
        c.load(blocked);
        type_text(&mut c, "Hi");
        assert_eq!(c.press(&ctrl_s), ComposeOutcome::None);
        assert_eq!(
            c.notice.as_deref(),
            Some("not sent: no SMS may go to this lead (why above); an email may still go (tab to To)")
        );
        assert_eq!(c.sent, None);
        // Email is open: the agent switches and writes one.
        c.press(&key(KeyCode::BackTab));
        c.press(&key(KeyCode::BackTab));
        c.press(&key(KeyCode::Char('e')));
        assert_eq!(c.channel, Channel::Email);
        assert_eq!(c.press(&ctrl_s), ComposeOutcome::None);
        assert_eq!(c.notice.as_deref(), Some("an email needs a subject"));
        let mut empty = open();
        assert_eq!(empty.press(&ctrl_s), ComposeOutcome::None);
        assert!(empty.notice.as_deref().is_some_and(|n| n.starts_with("write the message")));
    }

    #[test]
    fn the_state_follows_the_op_log() {
        let mut c = open();
        type_text(&mut c, "Hi");
        c.press(&KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        assert!(!c.following(), "not accepted yet");
        c.accepted(12);
        assert!(c.following());
        let at: jiff::Timestamp = "2026-03-05T14:00:00Z".parse().expect("ts");
        let mut op = PendingOp::new(
            12,
            "c1",
            OpKind::SendMessage { channel: "sms".into(), body: "Hi".into(), subject: None },
            at,
        );
        c.observe(std::slice::from_ref(&op));
        assert_eq!(c.sent.as_ref().map(|s| &s.state), Some(&SendState::Queued));
        op.held = Some(Hold { until: at, reason: "queued until 08:00 local (Thu, America/Chicago)".into() });
        c.observe(std::slice::from_ref(&op));
        assert_eq!(
            c.sent.as_ref().map(|s| s.state.label()).as_deref(),
            Some("held: queued until 08:00 local (Thu, America/Chicago)")
        );
        c.observe(&[]);
        assert_eq!(c.sent.as_ref().map(|s| &s.state), Some(&SendState::Sent));
        assert!(!c.following());

        op.state = OpState::Failed;
        op.last_error = Some("not sent: SMS DND in GHL".into());
        assert_eq!(SendState::of(&op).label(), "refused: not sent: SMS DND in GHL");
        let mut refused = open();
        refused.refused("not sent: SMS DND in GHL");
        assert!(!refused.following());
        type_text(&mut refused, "x");
        assert!(refused.message().is_ok(), "a refused message may be changed and sent again");
    }

    #[test]
    fn esc_closes_from_any_field() {
        let mut c = open();
        for _ in 0..5 {
            assert_eq!(c.press(&key(KeyCode::Esc)), ComposeOutcome::Close);
            c.press(&key(KeyCode::Tab));
        }
        assert_eq!(c.press(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), ComposeOutcome::Close);
    }
}
