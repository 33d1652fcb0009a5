//! The daemon's command line, shared by `leadlined` and `leadline daemon`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use leadline_shared::config::Config;
use leadline_shared::paths::{PathOverrides, Paths, Platform};

use crate::daemon::{RunOptions, run};

/// Where things live: flags with env fallbacks, shared by both binaries.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Config file [env: LEADLINE_CONFIG]
    #[arg(long, global = true, env = "LEADLINE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory: store, lock and logs [env: LEADLINE_DATA_DIR]
    #[arg(long, global = true, env = "LEADLINE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The daemon's Unix socket [env: LEADLINE_SOCKET]
    #[arg(long, global = true, env = "LEADLINE_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

impl GlobalArgs {
    /// Resolves the paths against the real platform.
    pub fn paths(&self) -> Result<Paths, leadline_shared::paths::PathError> {
        let overrides = PathOverrides {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            socket: self.socket.clone(),
        };
        Paths::resolve(&overrides, &Platform::detect())
    }
}

/// The daemon's subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum DaemonCommand {
    /// Run the daemon in the foreground (service units call this)
    Run {
        /// Import a GHL data set (the `ghl-sim --dump` format) at start
        #[arg(long, value_name = "FILE")]
        import: Option<PathBuf>,
        /// Stop when the process that started this one exits (the demo uses it)
        #[arg(long, hide = true)]
        exit_with_parent: bool,
        /// Start the daemon's clock at this instant (RFC 3339) and run it from there, for tests
        /// and demos of the time rules; the simulated GHL takes the same with `--now`
        #[arg(long, hide = true, value_name = "RFC3339")]
        clock_at: Option<jiff::Timestamp>,
    },
}

/// Runs a daemon subcommand; returns the process exit code.
pub fn main(globals: &GlobalArgs, command: DaemonCommand) -> anyhow::Result<()> {
    crate::alloc::tune();
    let paths = globals.paths()?;
    let config = Config::load(&paths.config_file, paths.config_explicit)?;
    // A loose data directory the user chose is reported by `Daemon::start`, once logs run.
    let _loose = paths.prepare_data_dir()?;
    let _guard = leadline_shared::logging::init(
        &paths.log_dir(),
        "leadlined",
        &config.logging.filter,
        config.logging.keep_days,
    )?;
    let DaemonCommand::Run { import, exit_with_parent, clock_at } = command;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let mut opts = RunOptions::new(paths, config);
    opts.import = import;
    opts.exit_with_parent = exit_with_parent;
    if let Some(at) = clock_at {
        tracing::info!(%at, "the daemon's clock starts at a given instant");
        opts.clock = std::sync::Arc::new(crate::clock::StartedClock::new(at));
    }
    let result = runtime.block_on(run(opts));
    if let Err(e) = &result {
        tracing::error!(error = %e, "daemon stopped with an error");
    }
    Ok(result?)
}
