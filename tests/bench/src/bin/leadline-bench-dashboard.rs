//! `leadline-bench-dashboard`: the dashboard's side of the benchmark, in a process set up as
//! `leadline` is: the dashboard's allocator (mimalloc, as `tui/src/main.rs` installs it) and
//! only what the dashboard holds. `leadline-bench` starts it; it is not meant to be run by hand.
//!
//! The frames were first timed inside `leadline-bench` itself, right after the ingest: under
//! the daemon's jemalloc options (freed pages returned at once), every frame's short-lived
//! allocations faulted pages back in, which doubled the median frame and made its p99 a
//! measure of the daemon's allocator rather than of the dashboard's drawing.

use std::path::PathBuf;

use clap::Parser;
use leadline_shared::domain::LeadSummary;
use serde_json::{Map, Value, json};

// The dashboard's allocator, as `leadline` installs it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The dashboard's side of the benchmark.
#[derive(Debug, Parser)]
#[command(name = "leadline-bench-dashboard")]
enum Args {
    /// Time every screen's frame over the rows in ROWS (a JSON array of lead rows) and print
    /// the figures as one JSON object
    Frames { rows: PathBuf, samples: usize },
    /// The dashboard, exactly as `leadline` runs it, on a daemon's socket
    Dashboard { socket: PathBuf },
}

fn main() -> anyhow::Result<()> {
    match Args::parse() {
        Args::Frames { rows, samples } => {
            let rows: Vec<LeadSummary> = serde_json::from_slice(&std::fs::read(&rows)?)?;
            let mut figures = Map::new();
            for (name, summary) in leadline_bench::render::all_frames(&rows, samples) {
                figures.insert(format!("{name}_p50_us"), json!(summary.p50_us.round()));
                figures.insert(format!("{name}_p99_us"), json!(summary.p99_us.round()));
            }
            println!("{}", Value::Object(figures));
            Ok(())
        }
        Args::Dashboard { socket } => {
            let no_restart: leadline_tui::dashboard::StartDaemon =
                std::sync::Arc::new(|| Err("the benchmark's daemon stopped".into()));
            let runtime =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            runtime.block_on(leadline_tui::dashboard::run(socket, no_restart))
        }
    }
}
