//! `leadlined`: the Leadline daemon.

use clap::Parser;
use leadline_daemon::cli::{DaemonCommand, GlobalArgs};

/// Keeps a local store synced with one GHL location, scores leads, and serves the dashboard.
#[derive(Debug, Parser)]
#[command(name = "leadlined", version)]
struct Cli {
    #[command(flatten)]
    globals: GlobalArgs,
    #[command(subcommand)]
    command: DaemonCommand,
}

// jemalloc, with the options `alloc` explains.
leadline_daemon::global_allocator!();

fn main() {
    // Before anything creates a file or a thread: the store, logs, lock and socket are then
    // private however the data directory is set up.
    leadline_shared::paths::restrict_umask();
    let cli = Cli::parse();
    if let Err(e) = leadline_daemon::cli::main(&cli.globals, cli.command) {
        eprintln!("leadlined: {e:#}");
        // Bad input (a CSV, a column name) is the user's to fix: exit 2, as for bad usage.
        let bad_input =
            e.downcast_ref::<leadline_daemon::model::ModelError>().is_some_and(|m| m.is_bad_input());
        std::process::exit(if bad_input { 2 } else { 1 });
    }
}
