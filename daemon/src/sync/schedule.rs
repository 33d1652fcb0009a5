//! The fixed schedules of sync that are not intervals: the nightly reconcile of deletions.
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
        "[sync] reconcile_cron = {cron:?} is not a schedule ({reason}); use six fields with seconds, in UTC, e.g. \"0 0 9 * * *\" for 09:00 UTC every day"
    )]
    BadCron { cron: String, reason: String },
    #[error("cannot start the sync scheduler: {0}")]
    Start(String),
}

/// Checks a cron expression without starting anything (the config is checked at load).
pub fn check_cron(cron: &str) -> Result<(), ScheduleError> {
    Job::new_async(cron, |_, _| Box::pin(async {}))
        .map(drop)
        .map_err(|e| ScheduleError::BadCron { cron: cron.to_owned(), reason: e.to_string() })
}

/// Starts the scheduler that asks the sync task to reconcile deletions on `cron`. Keep the
/// returned scheduler alive for as long as the schedule should run.
pub async fn start(cron: &str, commands: mpsc::Sender<SyncCommand>) -> Result<JobScheduler, ScheduleError> {
    let job = Job::new_async(cron, move |_, _| {
        let commands = commands.clone();
        Box::pin(async move {
            tracing::info!("the scheduled reconcile of deletions is due");
            if commands.send(SyncCommand::Reconcile).await.is_err() {
                tracing::debug!("sync has stopped; the scheduled reconcile is dropped");
            }
        })
    })
    .map_err(|e| ScheduleError::BadCron { cron: cron.to_owned(), reason: e.to_string() })?;
    let scheduler = JobScheduler::new().await.map_err(|e| ScheduleError::Start(e.to_string()))?;
    scheduler.add(job).await.map_err(|e| ScheduleError::Start(e.to_string()))?;
    scheduler.start().await.map_err(|e| ScheduleError::Start(e.to_string()))?;
    Ok(scheduler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_checked() {
        assert!(check_cron("0 0 9 * * *").is_ok());
        let err = check_cron("every night").expect_err("not cron").to_string();
        assert!(err.contains("reconcile_cron") && err.contains("09:00 UTC"), "{err}");
    }

    #[tokio::test]
    async fn a_due_schedule_asks_sync_to_reconcile() {
        let (tx, mut rx) = mpsc::channel(4);
        let mut scheduler = start("* * * * * *", tx).await.expect("starts");
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await;
        assert!(matches!(got, Ok(Some(SyncCommand::Reconcile))), "{got:?}");
        scheduler.shutdown().await.expect("stops");
    }
}
