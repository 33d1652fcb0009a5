//! The System screen's state: what the daemon last said of its op log, the records sync
//! skipped and its log, and which edit is selected (the retry keys act on it).

use jiff::Timestamp;
use leadline_shared::domain::OpState;
use leadline_shared::protocol::{LogTail, OpView, SystemReport};

/// How many ops and skipped records the System screen asks for.
pub const SYSTEM_LIMIT: u32 = 100;
/// How many log lines the System screen asks for (a 48-row terminal shows about 40).
pub const LOG_LINES: u32 = 200;

/// The System screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemView {
    /// The op log and the skipped records, when they have arrived.
    pub report: Option<SystemReport>,
    /// The end of the daemon's log, when it has arrived.
    pub log: Option<LogTail>,
    /// When they arrived (by the dashboard's clock).
    pub loaded_at: Option<Timestamp>,
    /// The selected op's index in `report.ops`.
    pub selected: usize,
}

impl SystemView {
    /// Takes in the daemon's answer, keeping the selection on the same op when it is still
    /// listed (retried ops move on, new ones arrive).
    pub fn load(&mut self, report: SystemReport, log: LogTail, now: Timestamp) {
        let seq = self.selected_op().map(|o| o.op.seq);
        let selected = seq.and_then(|seq| report.ops.iter().position(|o| o.op.seq == seq));
        self.selected = selected.unwrap_or(self.selected).min(report.ops.len().saturating_sub(1));
        self.report = Some(report);
        self.log = Some(log);
        self.loaded_at = Some(now);
    }

    /// The ops listed.
    pub fn ops(&self) -> &[OpView] {
        self.report.as_ref().map_or(&[], |r| &r.ops)
    }

    /// The selected op, if any.
    pub fn selected_op(&self) -> Option<&OpView> {
        self.ops().get(self.selected)
    }

    /// Moves the selection by `delta` ops, within the list.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.ops().len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// The ops "retry all" sends again: those GHL refused (failed, out of sync). An uncertain
    /// send is left out: it may have reached the lead, so only the agent, one at a time,
    /// decides to send it again.
    pub fn failed_seqs(&self) -> Vec<u64> {
        self.ops()
            .iter()
            .filter(|o| matches!(o.op.state, OpState::Failed | OpState::OutOfSync))
            .map(|o| o.op.seq)
            .collect()
    }

    /// How many listed ops wait for the next sync, and how many need the agent.
    pub fn counts(&self) -> (usize, usize) {
        let pending = self.ops().iter().filter(|o| o.op.state == OpState::Pending).count();
        (pending, self.ops().len() - pending)
    }
}
