//! The fixed schedules of sync that are not intervals: the nightly reconcile of deletions and
//! the follow-up engine's tick.
//!
//! tokio-cron-scheduler fires the job in UTC (its local-time schedules freeze the UTC offset
//! and drift an hour at DST, so none is used); the job only asks the sync task to run the
//! step, so the step itself runs in order with every other sync step.

use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job, JobScheduler};

use super::SyncCommand;

/// Why a schedule could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "{setting} = {cron:?} is not a schedule ({reason}); use six fields with seconds, in UTC, e.g. \"0 0 9 * * *\" for 09:00 UTC every day"
    )]
    BadCron { setting: &'static str, cron: String, reason: String },
    #[error("cannot start the sync scheduler: {0}")]
    Start(String),
}

/// Checks a cron expression without starting anything (the config is checked at load);
/// `setting` names it in the error.
pub fn check_cron(setting: &'static str, cron: &str) -> Result<(), ScheduleError> {
    Job::new_async(cron, |_, _| Box::pin(async {})).map(drop).map_err(|e| ScheduleError::BadCron {
        setting,
        cron: cron.to_owned(),
        reason: e.to_string(),
    })
}

/// One fixed schedule: its setting's name, its cron expression, and the command it sends.
pub struct Schedule {
    pub setting: &'static str,
    pub cron: String,
    pub command: fn() -> SyncCommand,
}

/// Starts a scheduler that sends each schedule's command to the sync task when due. Keep the
/// returned scheduler alive for as long as the schedules should run.
pub async fn start(
    schedules: Vec<Schedule>,
    commands: mpsc::Sender<SyncCommand>,
) -> Result<JobScheduler, ScheduleError> {
    let scheduler = JobScheduler::new().await.map_err(|e| ScheduleError::Start(e.to_string()))?;
    for s in schedules {
        let commands = commands.clone();
        let make = s.command;
        let job = Job::new_async(s.cron.as_str(), move |_, _| {
            let commands = commands.clone();
            Box::pin(async move {
                // A full channel means sync is busy: the next tick will do.
                if let Err(e) = commands.try_send(make()) {
                    tracing::debug!(error = %e, "a scheduled sync command was not queued");
                }
            })
        })
        .map_err(|e| ScheduleError::BadCron {
            setting: s.setting,
            cron: s.cron.clone(),
            reason: e.to_string(),
        })?;
        scheduler.add(job).await.map_err(|e| ScheduleError::Start(e.to_string()))?;
    }
    scheduler.start().await.map_err(|e| ScheduleError::Start(e.to_string()))?;
    Ok(scheduler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_checked() {
        assert!(check_cron("[sync] reconcile_cron", "0 0 9 * * *").is_ok());
        let err = check_cron("[sync] reconcile_cron", "every night").expect_err("not cron").to_string();
        assert!(err.contains("reconcile_cron") && err.contains("09:00 UTC"), "{err}");
    }

    #[tokio::test]
    async fn a_due_schedule_asks_sync_to_reconcile() {
        let (tx, mut rx) = mpsc::channel(4);
        let jobs = vec![Schedule {
            setting: "test",
            cron: "* * * * * *".into(),
            command: || SyncCommand::Reconcile,
        }];
        let mut scheduler = start(jobs, tx).await.expect("starts");
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await;
        assert!(matches!(got, Ok(Some(SyncCommand::Reconcile))), "{got:?}");
        scheduler.shutdown().await.expect("stops");
    }
}
