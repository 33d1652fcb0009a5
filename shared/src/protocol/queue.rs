use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A lead queue, by the names the CLI and dashboard use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum QueueName {
    /// New leads nobody has contacted yet, newest first.
    SpeedToLead,
    /// Hot leads, best score first.
    Hot,
    /// Leads whose last message is theirs, longest-waiting first.
    NeedsReply,
    /// Leads with a follow-up due now, most overdue first.
    Due,
    /// Leads with no activity for a while, best score first.
    Dormant,
    /// Every lead, best score first.
    All,
    /// A saved smart list, by name.
    Saved(String),
}

impl QueueName {
    /// The built-in queues, in the order the dashboard shows them.
    pub const BUILT_IN: [QueueName; 6] = [
        QueueName::SpeedToLead,
        QueueName::Hot,
        QueueName::NeedsReply,
        QueueName::Due,
        QueueName::Dormant,
        QueueName::All,
    ];

    /// The name as typed on the command line.
    pub fn as_str(&self) -> &str {
        match self {
            QueueName::SpeedToLead => "speed-to-lead",
            QueueName::Hot => "hot",
            QueueName::NeedsReply => "needs-reply",
            QueueName::Due => "due",
            QueueName::Dormant => "dormant",
            QueueName::All => "all",
            QueueName::Saved(name) => name,
        }
    }
}

/// A queue name that is empty or not a valid smart-list name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a queue: use one of speed-to-lead, hot, needs-reply, due, dormant, all, or a saved smart list's name"
)]
pub struct UnknownQueue(pub String);

impl FromStr for QueueName {
    type Err = UnknownQueue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let builtin = QueueName::BUILT_IN.iter().find(|q| q.as_str() == s);
        match builtin {
            Some(q) => Ok(q.clone()),
            None if !s.trim().is_empty() && s.len() <= 64 => Ok(QueueName::Saved(s.to_owned())),
            None => Err(UnknownQueue(s.to_owned())),
        }
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<QueueName> for String {
    fn from(q: QueueName) -> String {
        q.as_str().to_owned()
    }
}

impl TryFrom<String> for QueueName {
    type Error = UnknownQueue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for q in QueueName::BUILT_IN {
            assert_eq!(q.as_str().parse::<QueueName>(), Ok(q.clone()));
        }
        assert_eq!("my list".parse::<QueueName>(), Ok(QueueName::Saved("my list".into())));
        assert!("".parse::<QueueName>().is_err());
    }
}
