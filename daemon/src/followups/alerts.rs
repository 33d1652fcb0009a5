//! Desktop alerts through notify-rust (D-Bus on Linux, the notification centre on macOS).
//!
//! Best effort: a machine with no notification service (a server, CI, an SSH session) must
//! not fail anything. The first failure is logged at warn; then alerts are not tried again for
//! a while, so a missing service costs one log line, not one per alert.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Notifier;
use crate::engine::followup::plan::Alert;

/// How long alerts rest after the notification service failed.
pub const BACK_OFF: Duration = Duration::from_secs(600);

/// How long the notification service may take to answer before the attempt counts as failed.
/// zbus waits for a reply without limit, so a hung service (or a bus that drops the call, as
/// busd does for a name nobody owns) would otherwise hold every alert's task for good.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// The title and text an alert shows.
pub fn text(alert: &Alert) -> (String, String) {
    match alert {
        Alert::HotLeadArrived { name, .. } => ("Hot lead".into(), format!("{name} just came in")),
        Alert::HotLeadReplied { name, body, .. } => {
            let body: String = body.chars().take(160).collect();
            (format!("{name} replied"), body)
        }
        Alert::OptedOut { name, phrase, .. } => (
            "Lead opted out".into(),
            format!("{name} wrote {phrase:?}; every automated message to them stopped"),
        ),
        Alert::Notify { text, .. } => ("Leadline".into(), text.clone()),
        Alert::SpeedToLead { name, minutes, .. } => {
            ("Speed to lead".into(), format!("{name} has waited {minutes} minutes with no reply from anyone"))
        }
        Alert::SendProblem { text, .. } => ("A message needs you".into(), text.clone()),
    }
}

/// What one attempt at a desktop alert came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// The notification service took the alert.
    Delivered,
    /// The service could not be reached or refused the alert (the error, for the log).
    Failed(String),
    /// A recent failure means no service is likely to be there: nothing was tried.
    Resting,
}

/// The desktop notifier.
#[derive(Clone)]
pub struct Desktop {
    /// When the notification service last failed: alerts rest for [`BACK_OFF`] after it.
    failed_at: Arc<Mutex<Option<Instant>>>,
    answer_within: Duration,
}

impl Default for Desktop {
    fn default() -> Self {
        Desktop { failed_at: Arc::default(), answer_within: ANSWER_WITHIN }
    }
}

/// The daemon's notifier: desktop alerts, best effort.
pub fn desktop() -> Arc<dyn Notifier> {
    Arc::new(Desktop::default())
}

impl Desktop {
    /// The notifier, with the service given `limit` to answer instead of [`ANSWER_WITHIN`].
    pub fn answering_within(limit: Duration) -> Self {
        Desktop { answer_within: limit, ..Desktop::default() }
    }

    /// Shows `alert` unless alerts are resting at `now`, and says what came of it.
    ///
    /// [`Notifier::notify`] runs this on the runtime and drops the outcome; it is public so a
    /// caller (a test) can wait for it. `now` is a parameter so the back-off can be checked
    /// without waiting ten minutes.
    pub async fn show(&self, alert: &Alert, now: Instant) -> Shown {
        let resting = self
            .failed_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            // A `now` before the failure (a caller's clock) counts as inside the window.
            .is_some_and(|t| now.checked_duration_since(t).is_none_or(|d| d < BACK_OFF));
        if resting {
            return Shown::Resting;
        }
        let (summary, body) = text(alert);
        let mut notification = notify_rust::Notification::new();
        notification.appname("Leadline").summary(&summary).body(&body);
        let shown = match tokio::time::timeout(self.answer_within, notification.show_async()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("the notification service did not answer within {:?}", self.answer_within)),
        };
        match shown {
            Ok(()) => Shown::Delivered,
            Err(e) => {
                let mut at = self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
                if at.is_none() {
                    tracing::warn!(error = %e, "desktop alerts are not available here; they go to the log only (tried again in 10 minutes)");
                }
                *at = Some(now);
                Shown::Failed(e)
            }
        }
    }
}

impl Notifier for Desktop {
    fn notify(&self, alert: &Alert) {
        tracing::info!(?alert, "alert");
        // Showing talks to D-Bus: never on the caller's thread (it may be the sync task, or a
        // blocking store thread), always on the runtime.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let desktop = self.clone();
        let alert = alert.clone();
        runtime.spawn(async move {
            desktop.show(&alert, Instant::now()).await;
        });
    }
}
