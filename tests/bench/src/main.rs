//! `leadline-bench`: the figures product.md holds Leadline to, as one JSON object.
//!
//! Every figure is measured on this machine in this run, beside a reference measured in the
//! same run where one exists (a bare socket echo for IPC). A figure not measured yet is `null`.

mod dashboard;
mod followups;
mod ipc;
mod model;
mod render;
mod stats;
mod store;
mod sync;

use std::path::PathBuf;

use clap::Parser;
use serde_json::{Value, json};

/// Runs the benchmark.
#[derive(Debug, Parser)]
#[command(name = "leadline-bench")]
struct Args {
    /// Internal: the processes the benchmark starts (the daemon, the echo reference)
    #[command(subcommand)]
    child: Option<Child>,
    /// A smaller run (10 k leads, fewer samples) that finishes in under a minute
    #[arg(long)]
    quick: bool,
    /// Print the figures as JSON only
    #[arg(long)]
    json: bool,
    /// Leads in the data set (default 100 000, or 10 000 with --quick)
    #[arg(long)]
    leads: Option<usize>,
    /// Run only the sync figures (the others are left out)
    #[arg(long, conflicts_with = "ingest_only")]
    sync_only: bool,
    /// Run only the follow-up figures (speed to lead, the due drain)
    #[arg(long)]
    followups_only: bool,
    /// Run only the in-process figures: ingest, rescore and dashboard frames (the others are left out)
    #[arg(long)]
    ingest_only: bool,
    /// Stop after the in-process figures and the daemon's IPC round trips (no sync, no
    /// follow-ups): the queue and analytics requests, and the dashboard's keys and memory
    #[arg(long, conflicts_with_all = ["ingest_only", "sync_only", "followups_only"])]
    ipc_only: bool,
    /// Keep the work directory (data sets, stores and the daemons' logs)
    #[arg(long)]
    keep: bool,
    /// The store's cache (`[store] cache_capacity_mb`) for every store the run opens; the
    /// shipped default when not given. For weighing memory against ingest speed.
    #[arg(long, value_name = "MB")]
    store_cache_mb: Option<u64>,
    /// The public data sets (the model figures read `bank-marketing/bank-full.csv` there); the
    /// model figures are null without it
    #[arg(long, value_name = "DIR", env = "LEADLINE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The syncing daemon's log filter (`[logging] filter`), e.g. `leadline_daemon::ghl=debug,info`
    /// to log every request with its duration; with --keep the log stays in the work directory
    #[arg(long, value_name = "FILTER")]
    sync_log_filter: Option<String>,
}

/// The benchmark re-executes itself for the processes it measures, so that no second build
/// (with other feature sets) is needed and both sides of every socket are separate processes.
#[derive(Debug, clap::Subcommand)]
enum Child {
    /// The daemon, exactly as `leadlined` runs it
    #[command(hide = true)]
    Daemon {
        #[command(flatten)]
        globals: leadline_daemon::cli::GlobalArgs,
        #[command(subcommand)]
        command: leadline_daemon::cli::DaemonCommand,
    },
    /// A framed echo server: the reference for the IPC round trip
    #[command(hide = true)]
    Echo { socket: PathBuf },
    /// The dashboard, exactly as `leadline` runs it, on a daemon's socket
    #[command(hide = true)]
    Dashboard { socket: PathBuf },
    /// Every screen's frame over the lead rows in ROWS (a JSON array), printed as one JSON
    /// object: started by the run with the allocator set as for a dashboard (see `render`)
    #[command(hide = true)]
    Frames { rows: PathBuf, samples: usize },
}

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

// The daemon's allocator and options: the in-process figures run as the daemon does.
leadline_daemon::global_allocator!();

/// `{"hot": 1234, ...}`.
fn queue_lengths(lengths: &[(leadline_shared::protocol::QueueName, u64)]) -> Value {
    Value::Object(lengths.iter().map(|(name, n)| (name.to_string(), json!(n))).collect())
}

fn main() -> anyhow::Result<()> {
    // The daemon's allocator settings for every figure, the in-process ingest included.
    leadline_daemon::alloc::tune();
    let args = Args::parse();
    match args.child {
        Some(Child::Daemon { globals, command }) => return leadline_daemon::cli::main(&globals, command),
        Some(Child::Echo { socket }) => return ipc::echo_server(&socket),
        Some(Child::Dashboard { socket }) => {
            let no_restart: leadline_tui::dashboard::StartDaemon =
                std::sync::Arc::new(|| Err("the benchmark's daemon stopped".into()));
            let runtime =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            return runtime.block_on(leadline_tui::dashboard::run(socket, no_restart));
        }
        Some(Child::Frames { rows, samples }) => {
            let rows: Vec<leadline_shared::domain::LeadSummary> =
                serde_json::from_slice(&std::fs::read(rows)?)?;
            let mut figures = serde_json::Map::new();
            for (name, summary) in render::all_frames(&rows, samples) {
                figures.insert(format!("{name}_p50_us"), json!(summary.p50_us.round()));
                figures.insert(format!("{name}_p99_us"), json!(summary.p99_us.round()));
            }
            println!("{}", Value::Object(figures));
            return Ok(());
        }
        None => {}
    }
    let plan = Plan {
        leads: args.leads.unwrap_or(if args.quick { 10_000 } else { 100_000 }),
        store_cache_mb: args.store_cache_mb,
        sync_log_filter: args.sync_log_filter.clone(),
        ipc_samples: if args.quick { 500 } else { 3_000 },
        frame_samples: if args.quick { 100 } else { 500 },
        jump_samples: if args.quick { 10 } else { 40 },
    };
    let mut work = tempfile::Builder::new().prefix("ll-bench-").tempdir_in("/tmp")?;
    if args.keep {
        // The daemons' logs (with the sync's phase timings) stay for a look afterwards.
        work.disable_cleanup(true);
        eprintln!("keeping the work directory {}", work.path().display());
    }
    let log = |m: &str| {
        if !args.json {
            eprintln!("{m}");
        }
    };

    log(&format!("generating a {}-lead location...", plan.leads));
    let dataset_path: PathBuf = work.path().join("location.json");
    let (dataset, raw_json_bytes) = store::write_dataset(&dataset_path, plan.leads)?;

    if args.sync_only {
        log("initial sync against the rate-limited simulator...");
        let sync = sync::measure(work.path(), std::sync::Arc::new(dataset), &plan)?;
        let mut figures = sync.figures();
        figures["leads"] = json!(plan.leads);
        figures["store_cache_mb"] = json!(store::cache_mb(plan.store_cache_mb));
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }

    let followups_run = |log: &dyn Fn(&str)| {
        log("follow-ups: speed to lead, then the due drain under the rate limit...");
        let (samples, due) = if args.quick { (25, 150) } else { (100, 400) };
        followups::measure(work.path(), samples, due)
    };
    if args.followups_only {
        let figures = followups_run(&log)?.figures();
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }

    log("ingest and rescore (in process, sled on disk)...");
    let ingest = store::ingest_and_rescore(work.path(), &dataset_path, plan.store_cache_mb)?;

    log("dashboard frames (in a process of their own)...");
    let frames = render::in_child(work.path(), &ingest.rows, plan.frame_samples)?;
    // The in-process figures: all of `--ingest-only`, and the start of the full run's.
    let mut figures = json!({
        "leads": plan.leads,
        "store_cache_mb": store::cache_mb(plan.store_cache_mb),
        "ingest_contacts_per_s": ingest.contacts_per_s.round(),
        "ingest_sled_alone_contacts_per_s": ingest.sled_alone_contacts_per_s.round(),
        "rescore_all_ms": (ingest.rescore_all_ms * 10.0).round() / 10.0,
        "rescore_unchanged_ms": (ingest.rescore_unchanged_ms * 10.0).round() / 10.0,
        "queue_ranks_build_ms": (ingest.queue_ranks_build_ms * 10.0).round() / 10.0,
        "analytics_build_ms": (ingest.analytics_build_ms * 10.0).round() / 10.0,
        "queue_last_window_p50_us": ingest.queue_last_window.p50_us.round(),
        "queue_last_window_p99_us": ingest.queue_last_window.p99_us.round(),
        "queue_counts_p50_us": ingest.queue_counts.p50_us.round(),
        "queue_counts_p99_us": ingest.queue_counts.p99_us.round(),
        "queue_lengths": queue_lengths(&ingest.queue_lengths),
    });
    if let Some(all) = figures.as_object_mut() {
        all.extend(frames);
    }
    if args.ingest_only {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }

    log("daemon with the data set, IPC round trips...");
    let ipc = ipc::measure(work.path(), &dataset_path, &plan)?;
    if args.ipc_only {
        let part = json!({
            "ipc_queue_p50_us": ipc.queue.p50_us.round(),
            "ipc_queue_p99_us": ipc.queue.p99_us.round(),
            "ipc_queue_training_p50_us": ipc.queue_training.as_ref().map(|s| s.p50_us.round()),
            "ipc_queue_training_p99_us": ipc.queue_training.as_ref().map(|s| s.p99_us.round()),
            "ipc_queue_training_samples": ipc.queue_training.as_ref().map(|s| s.n),
            "ipc_echo_p99_us": ipc.echo.p99_us.round(),
            "analytics_request_p50_us": ipc.analytics.p50_us.round(),
            "analytics_request_p99_us": ipc.analytics.p99_us.round(),
            "ipc_list_first_ms": (ipc.list_first.as_secs_f64() * 1e4).round() / 10.0,
            "ipc_list_p50_us": ipc.list.p50_us.round(),
            "ipc_list_p99_us": ipc.list.p99_us.round(),
            "dashboard_key_p50_ms": ipc.dashboard.as_ref().map(|d| (d.key.p50_us / 100.0).round() / 10.0),
            "dashboard_key_p99_ms": ipc.dashboard.as_ref().map(|d| (d.key.p99_us / 100.0).round() / 10.0),
            "tmux_capture_p50_ms": ipc.dashboard.as_ref().map(|d| (d.capture.p50_us / 100.0).round() / 10.0),
            "dashboard_rss_mb": ipc.dashboard.as_ref().map(|d| (d.rss_kb as f64 / 1024.0).round()),
            "dashboard_peak_rss_mb": ipc.dashboard.as_ref().map(|d| (d.peak_rss_kb as f64 / 1024.0).round()),
        });
        if let (Some(all), Value::Object(part)) = (figures.as_object_mut(), part) {
            all.extend(part);
        }
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }

    log("initial sync against the rate-limited simulator...");
    let sync = sync::measure(work.path(), std::sync::Arc::new(dataset), &plan)?;

    let followups = followups_run(&log)?;

    log("conversion model on the bank data set (model eval)...");
    let model = model::measure(args.data_dir.as_deref())?;
    if model.is_none() {
        log(
            "no bank data set (--data-dir DIR with bank-marketing/bank-full.csv): the model figures are null",
        );
    }

    let leads = plan.leads as f64;
    let daemon = json!({
        "quick": args.quick,
        "ipc_queue_p50_us": ipc.queue.p50_us.round(),
        "ipc_queue_p99_us": ipc.queue.p99_us.round(),
        "ipc_queue_training_p50_us": ipc.queue_training.as_ref().map(|s| s.p50_us.round()),
        "ipc_queue_training_p99_us": ipc.queue_training.as_ref().map(|s| s.p99_us.round()),
        "ipc_echo_p50_us": ipc.echo.p50_us.round(),
        "ipc_echo_p99_us": ipc.echo.p99_us.round(),
        "ipc_queue_vs_echo_p99": ((ipc.queue.p99_us / ipc.echo.p99_us) * 100.0).round() / 100.0,
        "ipc_queue_last_window_p50_us": ipc.queue_last.p50_us.round(),
        "ipc_queue_last_window_p99_us": ipc.queue_last.p99_us.round(),
        "ipc_list_first_ms": (ipc.list_first.as_secs_f64() * 1e4).round() / 10.0,
        "ipc_list_p50_us": ipc.list.p50_us.round(),
        "ipc_list_p99_us": ipc.list.p99_us.round(),
        "analytics_request_p50_us": ipc.analytics.p50_us.round(),
        "analytics_request_p99_us": ipc.analytics.p99_us.round(),
        "dashboard_jump_last_p50_ms": ipc.dashboard.as_ref().map(|d| (d.jump_last.p50_us / 100.0).round() / 10.0),
        "dashboard_jump_last_p99_ms": ipc.dashboard.as_ref().map(|d| (d.jump_last.p99_us / 100.0).round() / 10.0),
        "dashboard_key_p50_ms": ipc.dashboard.as_ref().map(|d| (d.key.p50_us / 100.0).round() / 10.0),
        "dashboard_key_p99_ms": ipc.dashboard.as_ref().map(|d| (d.key.p99_us / 100.0).round() / 10.0),
        "tmux_capture_p50_ms": ipc.dashboard.as_ref().map(|d| (d.capture.p50_us / 100.0).round() / 10.0),
        "dashboard_rss_mb": ipc.dashboard.as_ref().map(|d| (d.rss_kb as f64 / 1024.0).round()),
        "dashboard_peak_rss_mb": ipc.dashboard.as_ref().map(|d| (d.peak_rss_kb as f64 / 1024.0).round()),
        "samples": {
            "ipc": ipc.queue.n,
            "ipc_training": ipc.queue_training.as_ref().map(|s| s.n),
            "echo": ipc.echo.n,
            "frames": plan.frame_samples,
            "jumps": ipc.dashboard.as_ref().map(|d| d.jump_last.n),
        },
        // `daemon_rss_mb` and `daemon_rss_settled_mb` come with the sync figures: the
        // daemon as it runs for a user, syncing. The import is the offline demo's path.
        "daemon_import_rss_mb": (ipc.import_peak_rss_kb as f64 / 1024.0).round(),
        "daemon_rss_after_import_mb": (ipc.daemon_rss_after_kb as f64 / 1024.0).round(),
        "daemon_import_s": (ipc.import_s * 100.0).round() / 100.0,
        "store_bytes_per_lead": (ipc.store_bytes as f64 / leads).round(),
        "raw_json_bytes_per_lead": (raw_json_bytes as f64 / leads).round(),
        "model_auc": model.map(|m| (m.auc * 10_000.0).round() / 10_000.0),
        "model_predict_rows_per_s": model.map(|m| m.predict_rows_per_s.round()),
        "model_explain_p50_us": model.map(|m| m.explain_p50_us.round()),
        "model_explain_p99_us": model.map(|m| m.explain_p99_us.round()),
    });
    for part in [daemon, sync.figures(), followups.figures()] {
        if let (Some(all), Value::Object(part)) = (figures.as_object_mut(), part) {
            all.extend(part);
        }
    }
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(())
}
