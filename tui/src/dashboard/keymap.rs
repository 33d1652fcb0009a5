//! Key bindings: defaults in code, optional overrides from a keymap file, and the text the
//! help overlay and footer show, generated from the live bindings so they never drift.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::Deserialize;

use super::action::{Action, QUEUE_SLOTS, UnknownAction};

/// One key with its modifiers, normalised so that what a terminal sends and what a user writes
/// in the keymap compare equal (see [`KeyChord::from_event`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    /// The key.
    pub code: KeyCode,
    /// Only `CONTROL`, `ALT` and `SHIFT` are kept, and `SHIFT` only on keys without case.
    pub modifiers: KeyModifiers,
}

impl KeyChord {
    /// A chord from its parts, normalised.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Self {
        let mut modifiers = modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let mut code = code;
        match code {
            // The case of the character already says whether shift was held; terminals
            // disagree on whether they also set SHIFT, so it is dropped.
            KeyCode::Char(c) => {
                modifiers.remove(KeyModifiers::SHIFT);
                if modifiers.contains(KeyModifiers::CONTROL) {
                    // Most terminals cannot tell ctrl-c from ctrl-C apart anyway.
                    code = KeyCode::Char(c.to_ascii_lowercase());
                }
            }
            KeyCode::BackTab => modifiers.remove(KeyModifiers::SHIFT),
            KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
                code = KeyCode::BackTab;
                modifiers.remove(KeyModifiers::SHIFT);
            }
            _ => {}
        }
        KeyChord { code, modifiers }
    }

    /// The chord of a terminal key event.
    pub fn from_event(event: &KeyEvent) -> Self {
        KeyChord::new(event.code, event.modifiers)
    }
}

/// A key string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a key: write a character (\"j\", \"G\", \"?\"), a named key (enter, esc, tab, shift-tab, backspace, space, up, down, left, right, home, end, pgup, pgdn, insert, delete, f1–f12), optionally after ctrl-, alt- or shift-; a sequence is keys separated by spaces (\"g h\")"
)]
pub struct BadKey(pub String);

impl FromStr for KeyChord {
    type Err = BadKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadKey(s.to_owned());
        let mut rest = s.trim();
        let mut modifiers = KeyModifiers::NONE;
        loop {
            let lower = rest.to_ascii_lowercase();
            // `rest.len() > prefix.len()` keeps "ctrl--" (ctrl and the minus key) readable.
            let prefix = [
                ("ctrl-", KeyModifiers::CONTROL),
                ("alt-", KeyModifiers::ALT),
                ("shift-", KeyModifiers::SHIFT),
            ]
            .into_iter()
            .find(|(p, _)| lower.starts_with(p) && rest.len() > p.len());
            match prefix {
                Some((p, m)) => {
                    modifiers |= m;
                    rest = &rest[p.len()..];
                }
                None => break,
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err(bad()),
            (Some(c), None) => {
                if modifiers.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => named_key(&rest.to_ascii_lowercase()).ok_or_else(bad)?,
        };
        Ok(KeyChord::new(code, modifiers))
    }
}

fn named_key(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" => KeyCode::Backspace,
        "space" => KeyCode::Char(' '),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pgdown" | "pagedown" => KeyCode::PageDown,
        "insert" | "ins" => KeyCode::Insert,
        "delete" | "del" => KeyCode::Delete,
        f if f.starts_with('f') => {
            let n: u8 = f[1..].parse().ok()?;
            if (1..=12).contains(&n) {
                KeyCode::F(n)
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A key or a sequence of keys pressed one after the other (`"g h"`), as the keymap binds them.
/// A sequence is written as its keys separated by spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeySeq(Vec<KeyChord>);

impl KeySeq {
    /// A one-key sequence.
    pub fn single(chord: KeyChord) -> Self {
        KeySeq(vec![chord])
    }

    /// The keys, in the order they are pressed.
    pub fn chords(&self) -> &[KeyChord] {
        &self.0
    }

    /// The key when this is a single key; `None` for a longer sequence.
    pub fn as_single(&self) -> Option<KeyChord> {
        match self.0.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Whether `self` is a proper start of `other` (`g` of `g h`).
    pub fn is_prefix_of(&self, other: &KeySeq) -> bool {
        self.0.len() < other.0.len() && other.0.starts_with(&self.0)
    }
}

impl FromStr for KeySeq {
    type Err = BadKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let chords = s
            .split_whitespace()
            .map(|k| k.parse::<KeyChord>().map_err(|_| BadKey(s.to_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        if chords.is_empty() {
            return Err(BadKey(s.to_owned()));
        }
        Ok(KeySeq(chords))
    }
}

impl fmt::Display for KeySeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, chord) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{chord}")?;
        }
        Ok(())
    }
}

/// What a key press means, given the keys of a sequence pressed before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The keys so far are a whole binding: run it.
    Run(Action),
    /// The keys so far start one or more sequences: wait for the next key.
    Pending(Vec<KeyChord>),
    /// The keys so far are no binding and start none (a pending sequence is dropped).
    Unbound,
}

/// One key (or sequence of keys) bound to one action, with the text the help overlay shows for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The key, or the sequence of keys.
    pub key: KeySeq,
    /// What it does.
    pub action: Action,
    /// The help text.
    pub desc: String,
}

/// The keymap file's shape (`config/keymap.toml`): `[keys]` maps a key string to an action
/// name, or to `"none"` to unbind a default. Entries override the defaults key by key.
#[allow(dead_code, reason = "API for the benchmark and keymap loading; the binary alone may not call it")]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeymapFile {
    /// Key string → action name.
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
}

/// A keymap entry that could not be applied.
#[allow(dead_code, reason = "API for the benchmark and keymap loading; the binary alone may not call it")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    /// The key string is not a key.
    #[error("keymap: {0}")]
    Key(#[from] BadKey),
    /// The action name is not an action.
    #[error("keymap: {0}")]
    Action(#[from] UnknownAction),
    /// A binding is the start of a longer one, so the longer one could never be pressed (or
    /// the shorter one would wait for a key that may never come).
    #[error(
        "keymap: {short:?} ({short_action}) is the start of the sequence {long:?} ({long_action}): a key cannot both act and begin a sequence; bind one of them elsewhere, or unbind it with \"none\""
    )]
    Prefix {
        /// The shorter binding.
        short: String,
        /// Its action.
        short_action: String,
        /// The sequence it begins.
        long: String,
        /// That sequence's action.
        long_action: String,
    },
}

/// Every binding of the dashboard; resolves key events to actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::defaults()
    }
}

/// The built-in bindings, as (key, action) pairs.
const DEFAULTS: &[(&str, &str)] = &[
    ("j", "next-row"),
    ("down", "next-row"),
    ("k", "prev-row"),
    ("up", "prev-row"),
    ("pgdn", "page-down"),
    ("ctrl-d", "page-down"),
    ("pgup", "page-up"),
    ("ctrl-u", "page-up"),
    ("g g", "first-row"),
    ("home", "first-row"),
    ("G", "last-row"),
    ("end", "last-row"),
    ("tab", "next-queue"),
    ("]", "next-queue"),
    ("right", "next-queue"),
    ("shift-tab", "prev-queue"),
    ("[", "prev-queue"),
    ("left", "prev-queue"),
    ("enter", "toggle-detail"),
    ("esc", "close"),
    ("r", "refresh"),
    ("t", "add-tag"),
    ("T", "remove-tag"),
    ("n", "add-note"),
    ("c", "compose"),
    ("R", "retry-edits"),
    ("s", "sync-now"),
    ("7", "follow-ups"),
    ("f", "follow-ups"),
    ("8", "analytics"),
    ("y", "analytics"),
    ("9", "system"),
    ("z", "system"),
    ("ctrl-r", "retry-all-failed"),
    (">", "range-longer"),
    ("<", "range-shorter"),
    ("/", "search"),
    ("J", "scroll-detail-down"),
    ("ctrl-e", "scroll-detail-down"),
    ("K", "scroll-detail-up"),
    ("ctrl-y", "scroll-detail-up"),
    ("l", "focus-detail"),
    ("d", "deal"),
    ("o", "add-task"),
    ("w", "tasks"),
    ("X", "complete-task"),
    ("a", "approve"),
    ("e", "edit-and-approve"),
    ("x", "skip"),
    ("A", "send-again"),
    ("p", "pause-lead"),
    ("P", "resume-lead"),
    ("u", "assign"),
    ("S", "move-stage"),
    ("W", "enroll"),
    ("ctrl-s", "send"),
    ("D", "draft"),
    ("U", "accept-routing"),
    ("space", "toggle-mark"),
    ("v", "toggle-mark"),
    ("V", "mark-all"),
    (":", "command-palette"),
    ("ctrl-p", "command-palette"),
    // `g` then a letter goes somewhere: a queue by its initial (`n`ew for speed-to-lead, `r`eply,
    // `z` for dormant), a screen (`m` for the System screen's monitoring), or the search.
    ("g n", "queue-1"),
    ("g h", "queue-2"),
    ("g r", "queue-3"),
    ("g d", "queue-4"),
    ("g z", "queue-5"),
    ("g a", "queue-6"),
    ("g f", "follow-ups"),
    ("g y", "analytics"),
    ("g s", "search"),
    ("g t", "tasks"),
    ("g m", "system"),
    ("?", "help"),
    ("f1", "help"),
    ("q", "quit"),
    ("ctrl-c", "quit"),
];

/// How long a started sequence (`g`…) waits for its next key before it is dropped.
pub const SEQUENCE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

impl Keymap {
    /// The built-in bindings.
    pub fn defaults() -> Self {
        let mut map = Keymap { bindings: Vec::new() };
        // The digits first, so that the help lists a queue's digit before its `g` sequence.
        for i in 0..QUEUE_SLOTS {
            let key = KeyChord::new(KeyCode::Char(char::from(b'1' + i)), KeyModifiers::NONE);
            map.bind(KeySeq::single(key), Some(Action::Queue(i)));
        }
        for (key, action) in DEFAULTS {
            // The defaults are literals checked by `defaults_parse`; a typo would be skipped
            // rather than crash the dashboard.
            if let (Ok(key), Ok(action)) = (key.parse(), action.parse()) {
                map.bind(key, Some(action));
            }
        }
        map
    }

    /// Binds `key` to `action`, replacing what it did before; `None` unbinds it.
    pub fn bind(&mut self, key: KeySeq, action: Option<Action>) {
        self.bindings.retain(|b| b.key != key);
        if let Some(action) = action {
            self.bindings.push(Binding { key, action, desc: action.description() });
        }
    }

    /// The defaults with a keymap file's entries applied. Any bad entry is an error naming
    /// it, so a typo is reported instead of silently ignored; so is a binding that begins
    /// another (`"g"` beside `"g h"`), since one of the two could never work.
    #[allow(dead_code, reason = "API for the benchmark and keymap loading; the binary alone may not call it")]
    pub fn with_overrides<I, K, V>(mut self, entries: I) -> Result<Self, KeymapError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        for (key, action) in entries {
            let key: KeySeq = key.as_ref().parse()?;
            let action = match action.as_ref().trim() {
                "none" | "" => None,
                name => Some(name.parse()?),
            };
            self.bind(key, action);
        }
        self.check_prefixes()?;
        Ok(self)
    }

    /// Fails when a binding is the start of a longer one.
    fn check_prefixes(&self) -> Result<(), KeymapError> {
        for short in &self.bindings {
            if let Some(long) = self.bindings.iter().find(|b| short.key.is_prefix_of(&b.key)) {
                return Err(KeymapError::Prefix {
                    short: short.key.to_string(),
                    short_action: short.action.name(),
                    long: long.key.to_string(),
                    long_action: long.action.name(),
                });
            }
        }
        Ok(())
    }

    /// The defaults with a parsed keymap file applied.
    #[allow(dead_code, reason = "API for the benchmark and keymap loading; the binary alone may not call it")]
    pub fn from_file(file: &KeymapFile) -> Result<Self, KeymapError> {
        Keymap::defaults().with_overrides(&file.keys)
    }

    /// The action of a single key press; `None` for unbound keys, for keys that only begin a
    /// sequence, and for key releases and repeats (terminals with the kitty protocol report
    /// those too). Where keys are text (the search query), sequences do not apply.
    pub fn resolve(&self, event: &KeyEvent) -> Option<Action> {
        if event.kind != KeyEventKind::Press {
            return None;
        }
        let chord = KeyChord::from_event(event);
        self.bindings.iter().find(|b| b.key.as_single() == Some(chord)).map(|b| b.action)
    }

    /// A key press after the keys of a started sequence (`pending`, empty when none was
    /// started): the action when the keys so far are a binding, [`Step::Pending`] when they
    /// begin one, else [`Step::Unbound`]. Releases and repeats are [`Step::Unbound`] without
    /// touching the sequence; the caller keeps `pending` then.
    pub fn feed(&self, pending: &[KeyChord], event: &KeyEvent) -> Step {
        if event.kind != KeyEventKind::Press {
            return Step::Unbound;
        }
        let mut keys = pending.to_vec();
        keys.push(KeyChord::from_event(event));
        if let Some(b) = self.bindings.iter().find(|b| b.key.chords() == keys.as_slice()) {
            return Step::Run(b.action);
        }
        let sequence = KeySeq(keys);
        if self.bindings.iter().any(|b| sequence.is_prefix_of(&b.key)) {
            return Step::Pending(sequence.0);
        }
        Step::Unbound
    }

    /// What may follow the keys of a started sequence: (the rest of the keys, the action's
    /// description), in binding order, for the footer.
    pub fn continuations(&self, pending: &[KeyChord]) -> Vec<(String, Action)> {
        let started = KeySeq(pending.to_vec());
        self.bindings
            .iter()
            .filter(|b| started.is_prefix_of(&b.key))
            .map(|b| (KeySeq(b.key.chords()[pending.len()..].to_vec()).to_string(), b.action))
            .collect()
    }

    /// All bindings, in the order they were made.
    #[allow(dead_code, reason = "API for the benchmark and keymap loading; the binary alone may not call it")]
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The keys bound to an action, in binding order.
    pub fn keys_for(&self, action: Action) -> Vec<KeySeq> {
        self.bindings.iter().filter(|b| b.action == action).map(|b| b.key.clone()).collect()
    }

    /// The key to name in a hint: the first single key bound to the action, else its first
    /// sequence (`g s`); `None` when unbound.
    pub fn hint_key(&self, action: Action) -> Option<KeySeq> {
        let keys = self.keys_for(action);
        keys.iter().find(|k| k.as_single().is_some()).or(keys.first()).cloned()
    }

    /// The keys bound to each action, joined by ", " (`j, down`); "" when unbound.
    pub fn keys_text(&self, action: Action) -> String {
        self.keys_for(action).iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }

    /// The help overlay's lines: the keys of each bound action (joined by ", ") and its
    /// description, in [`Action::all`] order.
    ///
    /// When each queue is bound to exactly its own digit (the default), the six queue lines
    /// become one (`1–6`), which keeps the overlay inside an 80×24 terminal.
    pub fn help_entries(&self) -> Vec<(String, String)> {
        let digits_only = (0..QUEUE_SLOTS).all(|i| {
            self.keys_for(Action::Queue(i))
                == [KeySeq::single(KeyChord::new(KeyCode::Char(char::from(b'1' + i)), KeyModifiers::NONE))]
        });
        Action::all()
            .into_iter()
            .filter_map(|action| {
                if digits_only && let Action::Queue(i) = action {
                    return (i == 0).then(|| (format!("1–{QUEUE_SLOTS}"), format!("queue 1–{QUEUE_SLOTS}")));
                }
                let bound: Vec<&Binding> = self.bindings.iter().filter(|b| b.action == action).collect();
                let first = bound.first()?;
                let keys = bound.iter().map(|b| b.key.to_string()).collect::<Vec<_>>().join(", ");
                Some((keys, first.desc.clone()))
            })
            .collect()
    }

    /// The footer's hints on a lead queue: (keys, label) for the most used actions that are
    /// bound.
    pub fn footer_hints(&self) -> Vec<(String, &'static str)> {
        self.hints(&[
            (Action::ToggleDetail, "detail"),
            (Action::OpenDetail, "detail"),
            (Action::Compose, "compose"),
            (Action::Search, "search"),
            (Action::NextQueue, "queue"),
            (Action::AddTag, "tag"),
            (Action::AddNote, "note"),
            (Action::SyncNow, "sync"),
            (Action::Refresh, "refresh"),
            (Action::CommandPalette, "commands"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ])
    }

    /// The footer's hints on the follow-ups screen, whose keys act on the selected action.
    pub fn followup_hints(&self) -> Vec<(String, &'static str)> {
        self.hints(&[
            (Action::ApproveFollowUp, "approve"),
            (Action::EditFollowUp, "edit"),
            (Action::SkipFollowUp, "skip"),
            (Action::SendAgain, "send again"),
            (Action::PauseLead, "pause"),
            (Action::ResumeLead, "resume"),
            (Action::NextQueue, "queue"),
            (Action::Refresh, "refresh"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ])
    }

    /// The footer's hints on the analytics screen: the range keys and leaving.
    pub fn analytics_hints(&self) -> Vec<(String, &'static str)> {
        let first = |a: Action| self.hint_key(a).map(|k| k.to_string());
        let mut hints = Vec::new();
        match (first(Action::RangeShorter), first(Action::RangeLonger)) {
            (Some(s), Some(l)) => hints.push((format!("{s}/{l}"), "range")),
            (Some(k), None) | (None, Some(k)) => hints.push((k, "range")),
            (None, None) => {}
        }
        for (action, label) in [
            (Action::NextQueue, "queue"),
            (Action::Refresh, "refresh"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ] {
            if let Some(k) = first(action) {
                hints.push((k, label));
            }
        }
        hints
    }

    /// The footer's hints on the System screen: the retry keys, sync, and leaving.
    pub fn system_hints(&self) -> Vec<(String, &'static str)> {
        self.hints(&[
            (Action::RetryEdits, "retry"),
            (Action::RetryAllFailed, "retry all"),
            (Action::SyncNow, "sync"),
            (Action::NextQueue, "queue"),
            (Action::Refresh, "refresh"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ])
    }

    /// The footer's hints on the Tasks screen.
    pub fn tasks_hints(&self) -> Vec<(String, &'static str)> {
        self.hints(&[
            (Action::CompleteTask, "done"),
            (Action::Close, "back"),
            (Action::Refresh, "refresh"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ])
    }

    /// The footer's hints on the search screen. While the query has the keys, the ones the
    /// prompt itself answers: the movement keys that type nothing, Enter and Esc; then those
    /// of the results, like a queue's.
    pub fn search_hints(&self, editing: bool) -> Vec<(String, &'static str)> {
        if !editing {
            return self.hints(&[
                (Action::ToggleDetail, "detail"),
                (Action::OpenDetail, "detail"),
                (Action::Compose, "compose"),
                (Action::Search, "search"),
                (Action::AddTag, "tag"),
                (Action::AddNote, "note"),
                (Action::Close, "back"),
                (Action::Help, "help"),
                (Action::Quit, "quit"),
            ]);
        }
        let untyped = |a: Action| {
            self.keys_for(a)
                .into_iter()
                .filter_map(|k| k.as_single())
                .find(|k| !matches!(k.code, KeyCode::Char(_)) || !k.modifiers.is_empty())
        };
        let mut hints = Vec::new();
        match (untyped(Action::PrevRow), untyped(Action::NextRow)) {
            (Some(p), Some(n)) => hints.push((format!("{p}/{n}"), "select")),
            (Some(k), None) | (None, Some(k)) => hints.push((k.to_string(), "select")),
            (None, None) => {}
        }
        hints.push(("enter".to_owned(), "open"));
        hints.push(("esc".to_owned(), "close"));
        hints
    }

    /// "move" and then the first key of each bound action of `actions` (an action whose label
    /// is already shown is skipped, so alternatives can share one).
    fn hints(&self, actions: &[(Action, &'static str)]) -> Vec<(String, &'static str)> {
        let first = |a: Action| self.hint_key(a).map(|k| k.to_string());
        let mut hints = Vec::new();
        match (first(Action::NextRow), first(Action::PrevRow)) {
            (Some(n), Some(p)) => hints.push((format!("{n}/{p}"), "move")),
            (Some(k), None) | (None, Some(k)) => hints.push((k, "move")),
            (None, None) => {}
        }
        for &(action, label) in actions {
            if hints.iter().any(|(_, l)| *l == label) {
                continue;
            }
            if let Some(k) = first(action) {
                hints.push((k, label));
            }
        }
        hints
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn chord(s: &str) -> KeyChord {
        s.parse().expect(s)
    }

    #[test]
    fn defaults_parse() {
        for (key, action) in DEFAULTS {
            assert!(key.parse::<KeySeq>().is_ok(), "{key}");
            assert!(action.parse::<Action>().is_ok(), "{action}");
        }
        assert_eq!(Keymap::defaults().bindings().len(), DEFAULTS.len() + usize::from(QUEUE_SLOTS));
    }

    #[test]
    fn parses_key_strings() {
        assert_eq!(chord("ctrl-c"), KeyChord::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert_eq!(chord("Ctrl-C"), chord("ctrl-c"));
        assert_eq!(chord("shift-tab"), KeyChord::new(KeyCode::BackTab, KeyModifiers::NONE));
        assert_eq!(chord("backtab"), chord("shift-tab"));
        assert_eq!(chord("shift-g"), chord("G"));
        assert_eq!(chord("G"), KeyChord::new(KeyCode::Char('G'), KeyModifiers::NONE));
        assert_ne!(chord("g"), chord("G"));
        assert_eq!(chord("-"), KeyChord::new(KeyCode::Char('-'), KeyModifiers::NONE));
        assert_eq!(chord("ctrl--"), KeyChord::new(KeyCode::Char('-'), KeyModifiers::CONTROL));
        assert_eq!(chord("alt-enter"), KeyChord::new(KeyCode::Enter, KeyModifiers::ALT));
        assert_eq!(chord("PgDn"), KeyChord::new(KeyCode::PageDown, KeyModifiers::NONE));
        assert_eq!(chord("f12"), KeyChord::new(KeyCode::F(12), KeyModifiers::NONE));
        assert_eq!(chord("space"), KeyChord::new(KeyCode::Char(' '), KeyModifiers::NONE));
        for bad in ["", "ctrl-", "f13", "f0", "enterr", "hyper-x", "ctrl-foo"] {
            assert!(bad.parse::<KeyChord>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn display_round_trips() {
        for b in Keymap::defaults().bindings() {
            assert_eq!(b.key.to_string().parse::<KeySeq>(), Ok(b.key.clone()), "{}", b.key);
        }
    }

    #[test]
    fn resolves_terminal_events() {
        let map = Keymap::defaults();
        assert_eq!(map.resolve(&press(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::NextRow));
        assert_eq!(map.resolve(&press(KeyCode::Down, KeyModifiers::NONE)), Some(Action::NextRow));
        // Terminals send G with SHIFT set, and shift-tab as BackTab with SHIFT set.
        assert_eq!(map.resolve(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Action::LastRow));
        assert_eq!(map.resolve(&press(KeyCode::BackTab, KeyModifiers::SHIFT)), Some(Action::PrevQueue));
        assert_eq!(map.resolve(&press(KeyCode::Char('?'), KeyModifiers::SHIFT)), Some(Action::Help));
        assert_eq!(map.resolve(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(map.resolve(&press(KeyCode::Char('3'), KeyModifiers::NONE)), Some(Action::Queue(2)));
        assert_eq!(map.resolve(&press(KeyCode::Enter, KeyModifiers::NONE)), Some(Action::ToggleDetail));
        // The edit keys: lower and upper case are different actions.
        assert_eq!(map.resolve(&press(KeyCode::Char('t'), KeyModifiers::NONE)), Some(Action::AddTag));
        assert_eq!(map.resolve(&press(KeyCode::Char('T'), KeyModifiers::SHIFT)), Some(Action::RemoveTag));
        assert_eq!(map.resolve(&press(KeyCode::Char('n'), KeyModifiers::NONE)), Some(Action::AddNote));
        assert_eq!(map.resolve(&press(KeyCode::Char('c'), KeyModifiers::NONE)), Some(Action::Compose));
        assert_eq!(map.resolve(&press(KeyCode::Char('s'), KeyModifiers::NONE)), Some(Action::SyncNow));
        assert_eq!(map.resolve(&press(KeyCode::Char('R'), KeyModifiers::SHIFT)), Some(Action::RetryEdits));
        assert_eq!(map.resolve(&press(KeyCode::Char('r'), KeyModifiers::NONE)), Some(Action::Refresh));
        let mut release = press(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(map.resolve(&release), None);
    }

    #[test]
    fn overrides_replace_and_unbind() {
        let map = Keymap::defaults()
            .with_overrides([("q", "none"), ("x", "quit"), ("j", "prev-row")])
            .expect("valid overrides");
        assert_eq!(map.resolve(&press(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(map.resolve(&press(KeyCode::Char('x'), KeyModifiers::NONE)), Some(Action::Quit));
        assert_eq!(map.resolve(&press(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::PrevRow));
        assert!(matches!(Keymap::defaults().with_overrides([("x", "explode")]), Err(KeymapError::Action(_))));
        assert!(matches!(Keymap::defaults().with_overrides([("hyper-x", "quit")]), Err(KeymapError::Key(_))));
    }

    #[test]
    fn help_and_footer_follow_the_live_keymap() {
        let map = Keymap::defaults();
        let help = map.help_entries();
        assert!(help.contains(&("j, down".to_owned(), "next lead".to_owned())), "{help:?}");
        assert!(help.iter().all(|(_, desc)| desc != "open lead detail"), "unbound actions are left out");
        assert!(help.contains(&("2, g h".to_owned(), "queue 2: hot".to_owned())), "{help:?}");
        assert!(help.contains(&("g g, home".to_owned(), "first lead".to_owned())), "{help:?}");
        let moved = map.clone().with_overrides([("7", "queue-6")]).expect("valid");
        assert!(moved.help_entries().contains(&("6, g a, 7".to_owned(), "queue 6: all".to_owned())));
        let digits = map
            .clone()
            .with_overrides(["g n", "g h", "g r", "g d", "g z", "g a"].map(|k| (k, "none")))
            .expect("valid");
        assert!(digits.help_entries().contains(&("1–6".to_owned(), "queue 1–6".to_owned())));
        let footer = map.footer_hints();
        assert_eq!(footer.first(), Some(&("j/k".to_owned(), "move")));
        assert!(footer.contains(&("?".to_owned(), "help")));

        let remapped = map.with_overrides([("?", "none"), ("h", "help")]).expect("valid");
        assert!(remapped.footer_hints().contains(&("f1".to_owned(), "help")));
        let help = remapped.help_entries();
        assert!(help.contains(&("f1, h".to_owned(), "show or hide this help".to_owned())), "{help:?}");
    }

    fn seq(s: &str) -> KeySeq {
        s.parse().expect(s)
    }

    #[test]
    fn parses_sequences() {
        assert_eq!(seq("g h").chords(), [chord("g"), chord("h")]);
        assert_eq!(seq("  g   G ").chords(), [chord("g"), chord("G")]);
        assert_eq!(seq("ctrl-x ctrl-s").to_string(), "ctrl-x ctrl-s");
        assert_eq!(seq("space").as_single(), Some(chord("space")));
        assert_eq!(seq("g h").as_single(), None);
        assert!(seq("g").is_prefix_of(&seq("g h")));
        assert!(!seq("g h").is_prefix_of(&seq("g h")), "a sequence is not its own prefix");
        assert!(!seq("h").is_prefix_of(&seq("g h")));
        for bad in ["", "   ", "g hyper-x", "g f13"] {
            let err = bad.parse::<KeySeq>().expect_err(bad);
            assert!(err.to_string().contains("separated by spaces"), "{err}");
        }
    }

    #[test]
    fn sequences_resolve_key_by_key() {
        let map = Keymap::defaults();
        let g = press(KeyCode::Char('g'), KeyModifiers::NONE);
        let h = press(KeyCode::Char('h'), KeyModifiers::NONE);
        assert_eq!(map.feed(&[], &g), Step::Pending(vec![chord("g")]));
        assert_eq!(map.feed(&[chord("g")], &h), Step::Run(Action::Queue(1)));
        assert_eq!(map.feed(&[chord("g")], &g), Step::Run(Action::FirstRow));
        // A key that continues nothing drops the sequence; alone it would have acted.
        let j = press(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(map.feed(&[chord("g")], &j), Step::Unbound);
        assert_eq!(map.feed(&[], &j), Step::Run(Action::NextRow));
        assert_eq!(map.feed(&[], &press(KeyCode::Char('Z'), KeyModifiers::SHIFT)), Step::Unbound);
        // `resolve` (the search query's keys) sees single keys only.
        assert_eq!(map.resolve(&g), None);
        let mut release = g;
        release.kind = KeyEventKind::Release;
        assert_eq!(map.feed(&[], &release), Step::Unbound);
        let next = map.continuations(&[chord("g")]);
        assert!(next.contains(&("h".to_owned(), Action::Queue(1))), "{next:?}");
        assert!(next.contains(&("g".to_owned(), Action::FirstRow)), "{next:?}");
        assert_eq!(next.len(), 12, "{next:?}");
    }

    #[test]
    fn a_binding_that_begins_another_is_an_error_naming_both() {
        assert!(Keymap::defaults().check_prefixes().is_ok(), "the defaults are consistent");
        let err = Keymap::defaults().with_overrides([("g", "first-row")]).expect_err("g begins g h");
        assert!(matches!(err, KeymapError::Prefix { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("\"g\" (first-row)") && text.contains("sequence \"g g\""), "{text}");
        assert!(text.contains("\"none\""), "says how to fix it: {text}");
        // Longer than an existing binding: "q" quits, so "q w" could never be reached.
        let err = Keymap::defaults().with_overrides([("q w", "sync-now")]).expect_err("q is bound");
        assert!(err.to_string().contains("\"q\" (quit)"), "{err}");
        // Freeing the prefix makes room for it.
        let map = Keymap::defaults().with_overrides([("q", "none"), ("q w", "sync-now")]).expect("valid");
        assert_eq!(
            map.feed(&[chord("q")], &press(KeyCode::Char('w'), KeyModifiers::NONE)),
            Step::Run(Action::SyncNow)
        );
        // The same from a keymap file.
        let file: KeymapFile = toml_like(&[("g", "first-row")]);
        assert!(Keymap::from_file(&file).is_err());
    }

    fn toml_like(entries: &[(&str, &str)]) -> KeymapFile {
        KeymapFile { keys: entries.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect() }
    }

    #[test]
    fn keymap_file_deserializes() {
        let file: KeymapFile = serde_json::from_str(r#"{"keys": {"x": "quit", "q": "none"}}"#).expect("json");
        let map = Keymap::from_file(&file).expect("valid");
        assert_eq!(map.resolve(&press(KeyCode::Char('x'), KeyModifiers::NONE)), Some(Action::Quit));
    }
}
