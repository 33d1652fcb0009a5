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
const BACK_OFF: Duration = Duration::from_secs(600);

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

/// The desktop notifier.
pub struct Desktop {
    /// When the notification service last failed: alerts rest for [`BACK_OFF`] after it.
    failed_at: Arc<Mutex<Option<Instant>>>,
}

/// The daemon's notifier: desktop alerts, best effort.
pub fn desktop() -> Arc<dyn Notifier> {
    Arc::new(Desktop { failed_at: Arc::new(Mutex::new(None)) })
}

impl Notifier for Desktop {
    fn notify(&self, alert: &Alert) {
        tracing::info!(?alert, "alert");
        let resting =
            self.failed_at.lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|t| t.elapsed() < BACK_OFF);
        if resting {
            return;
        }
        // Showing talks to D-Bus: never on the caller's thread (it may be the sync task, or a
        // blocking store thread), always on the runtime.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (summary, body) = text(alert);
        let failed_at = self.failed_at.clone();
        runtime.spawn(async move {
            let shown =
                notify_rust::Notification::new().appname("Leadline").summary(&summary).body(&body).show_async().await;
            if let Err(e) = shown {
                let mut at = failed_at.lock().unwrap_or_else(|e| e.into_inner());
                if at.is_none() {
                    tracing::warn!(error = %e, "desktop alerts are not available here; they go to the log only (tried again in 10 minutes)");
                }
                *at = Some(Instant::now());
            }
        });
    }
}
