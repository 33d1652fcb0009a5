//! The benchmark's parts, shared by its two binaries: `leadline-bench` (the run, and the
//! daemon's side: it uses the daemon's allocator and options) and `leadline-bench-dashboard`
//! (the dashboard's side: the dashboard's allocator, and only what the dashboard holds), so
//! that each figure is measured in a process set up as the program it stands for.

pub mod dashboard;
pub mod followups;
pub mod ipc;
pub mod model;
pub mod render;
pub mod stats;
pub mod store;
pub mod sync;

/// Sizes of one run.
pub struct Plan {
    pub leads: usize,
    /// `--store-cache-mb`.
    pub store_cache_mb: Option<u64>,
    /// `--sync-log-filter`.
    pub sync_log_filter: Option<String>,
    pub ipc_samples: usize,
    pub frame_samples: usize,
    /// Jumps to the last row timed in the real dashboard.
    pub jump_samples: usize,
}
