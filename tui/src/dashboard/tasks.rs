//! The Tasks screen's state: the open tasks the daemon sent (soonest due first, so overdue
//! ones first) and the selection.

use leadline_shared::protocol::{TaskList, TaskView};

use super::app::Screen;

/// The Tasks screen.
#[derive(Debug, Clone, PartialEq)]
pub struct TasksView {
    /// The tasks, soonest due first.
    pub rows: Vec<TaskView>,
    /// How many are open in all (more than the rows when the list was cut).
    pub total: u64,
    /// The selected row.
    pub selected: usize,
    /// Whether an answer has arrived.
    pub loaded: bool,
    /// The screen Esc goes back to.
    pub back_to: Screen,
}

impl Default for TasksView {
    fn default() -> Self {
        TasksView { rows: Vec::new(), total: 0, selected: 0, loaded: false, back_to: Screen::Queue }
    }
}

impl TasksView {
    /// Takes a new list in, keeping the selection on the same task when it is still there.
    pub fn load(&mut self, list: TaskList) {
        let keep = self.selected_row().map(|r| (r.task.id.clone(), r.op_seq));
        self.rows = list.tasks;
        self.total = list.total;
        self.loaded = true;
        if let Some(key) = keep
            && let Some(i) = self.rows.iter().position(|r| (r.task.id.clone(), r.op_seq) == key)
        {
            self.selected = i;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    /// The selected task.
    pub fn selected_row(&self) -> Option<&TaskView> {
        self.rows.get(self.selected)
    }

    /// Moves the selection by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.rows.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }
}
