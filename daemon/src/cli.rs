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
    /// The lead-conversion model
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
}

/// `leadlined model ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum ModelCommand {
    /// Train and evaluate the conversion model on any CSV (separator detected, header row)
    Eval(EvalArgs),
}

/// `leadlined model eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// The CSV file: a header row, `,` `;` tab or `|` separated, fields optionally quoted
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// The column to predict
    #[arg(long, value_name = "COL")]
    pub target: String,
    /// The target's value that counts as converted (every other value is not)
    #[arg(long, value_name = "VALUE")]
    pub positive: String,
    /// Columns to leave out, comma-separated (e.g. one that leaks the outcome)
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub drop: Vec<String>,
    /// every5: rows with 0-based index % 5 == 4 test, the rest train; time: the first 80 % train
    #[arg(long, value_enum, default_value = "every5")]
    pub split: crate::model::eval::Split,
    /// Which models to train; the first one's figures are also the report's top-level keys
    #[arg(long, value_enum, default_value = "both")]
    pub model: crate::model::eval::Which,
    /// The GBDT's budget: more grows more and finer trees
    #[arg(long, default_value_t = crate::model::gbdt::GbdtConfig::default().budget)]
    pub budget: f32,
    /// Training threads (default: every core); prediction is always measured on one
    #[arg(long)]
    pub threads: Option<usize>,
    /// GBDT categorical columns through the crate's own category splits instead of ordered
    /// codes (on the bank data its trees grew 5,000 deep: 40 s to train, AUC 0.67)
    #[arg(long, hide = true)]
    pub native_categories: bool,
    /// Let the GBDT reweight the classes to balance them (the crate's default)
    #[arg(long, hide = true)]
    pub balance_classes: bool,
    /// Measure on an inner split of the training rows (every fifth tests): for choosing
    /// settings without looking at the test rows
    #[arg(long, hide = true)]
    pub inner: bool,
    /// Leave out the day-of-year feature made from a month and a day-of-month column
    #[arg(long, hide = true)]
    pub no_day_of_year: bool,
    /// Add each categorical level's share of the training rows as a feature
    #[arg(long, hide = true)]
    pub level_shares: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

impl EvalArgs {
    /// The evaluation these flags ask for.
    pub fn options(&self) -> crate::model::eval::Options {
        let gbdt = crate::model::gbdt::GbdtConfig {
            budget: self.budget,
            threads: self.threads,
            native_categories: self.native_categories,
            balance_classes: self.balance_classes,
            memory_limit_gb: None,
        };
        crate::model::eval::Options {
            csv: self.csv.clone(),
            target: self.target.clone(),
            positive: self.positive.clone(),
            drop: self.drop.iter().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()).collect(),
            split: self.split,
            models: self.model,
            gbdt,
            predict_seconds: 0.5,
            features: crate::model::features::FeatureOptions {
                day_of_year: !self.no_day_of_year,
                level_shares: self.level_shares,
            },
            inner: self.inner,
        }
    }
}

/// Runs `model eval` and prints its report.
fn model_eval(args: &EvalArgs) -> anyhow::Result<()> {
    let report = crate::model::eval::run(&args.options())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::model::eval::render(&report));
    }
    Ok(())
}

/// Runs a daemon subcommand; returns the process exit code.
pub fn main(globals: &GlobalArgs, command: DaemonCommand) -> anyhow::Result<()> {
    let (import, exit_with_parent, clock_at) = match command {
        DaemonCommand::Run { import, exit_with_parent, clock_at } => (import, exit_with_parent, clock_at),
        // Offline work on a file: no config, store or logs.
        DaemonCommand::Model { command: ModelCommand::Eval(args) } => return model_eval(&args),
    };
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
