//! `leadline`: the dashboard and client CLI.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use leadline_shared::config::Config;
use leadline_tui::cli::{Cli, Command};
use leadline_tui::commands::{self, CommandError};
use leadline_tui::{dashboard, demo, launch};

// mimalloc: the store's copy-on-write pages make ingest allocation-bound; with glibc's
// allocator half the time went to malloc and free (measured with perf on the ingest profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Before anything creates a file or a thread: logs (and, through `leadline daemon run` or a
    // daemon started from here, which inherit it, the store, lock and socket) are then private
    // however the data directory is set up.
    leadline_shared::paths::restrict_umask();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("leadline: {message}");
            ExitCode::from(code)
        }
    }
}

type Failure = (u8, String);

fn operational(e: impl std::fmt::Display) -> Failure {
    (1, format!("{e:#}"))
}

fn run(cli: Cli) -> Result<(), Failure> {
    let globals = cli.globals;
    if let Some(Command::Daemon(cmd)) = cli.command {
        return leadline_daemon::cli::main(&globals, cmd).map_err(operational);
    }
    let paths = globals.paths().map_err(|e| (2, e.to_string()))?;
    let config = Config::load(&paths.config_file, paths.config_explicit).map_err(|e| (2, e.to_string()))?;
    let loose = paths.prepare_data_dir().map_err(operational)?;
    // Logs never go to the terminal: the dashboard draws there and scripts read stdout.
    let _log = leadline_shared::logging::init(
        &paths.log_dir(),
        "leadline",
        &config.logging.filter,
        config.logging.keep_days,
    )
    .map_err(operational)?;
    if let Some(loose) = loose {
        tracing::warn!("{loose}");
    }
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(operational)
    };
    let command_result = |r: Result<(), CommandError>| r.map_err(|e| (e.exit_code() as u8, e.to_string()));

    match cli.command {
        None => {
            // Bad input first, before anything is started.
            let keymap = load_keymap(&paths.config_file.with_file_name("keymap.toml"))?;
            let theme = theme(cli.theme.as_deref(), &config)?;
            let logs = paths.log_dir();
            launch::ensure_daemon(&globals, &paths.socket, &logs).map_err(operational)?;
            let starter: dashboard::StartDaemon = {
                let (globals, socket) = (globals.clone(), paths.socket.clone());
                Arc::new(move || launch::ensure_daemon(&globals, &socket, &logs).map_err(|e| e.to_string()))
            };
            runtime()?
                .block_on(dashboard::run_with_settings(
                    paths.socket.clone(),
                    starter,
                    dashboard::Settings {
                        keymap,
                        theme,
                        commission_rate: config.analytics.commission_rate,
                        saved_lists: saved_lists(&config),
                    },
                ))
                .map_err(operational)
        }
        Some(Command::Demo { headless, contacts, activity_ms }) => {
            let theme = theme(cli.theme.as_deref(), &config)?;
            let mut demo = demo::Demo::start(&globals, contacts, activity_ms).map_err(operational)?;
            if headless {
                // Whoever reads stdout may stop after the first line (the socket path): a closed
                // pipe must not stop the demo, so write errors are ignored.
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", demo.socket.display());
                let _ = writeln!(
                    out,
                    "demo daemon synced with a simulated GHL location at {} ({contacts} leads, live activity); data in {}",
                    demo.ghl_url,
                    demo.data_dir.display()
                );
                let _ = writeln!(
                    out,
                    "try `leadline queue hot` or `leadline status` in another shell; Ctrl-C stops the demo"
                );
                let _ = out.flush();
                drop(out);
                return runtime()?.block_on(wait_for_signal_or_exit(&mut demo));
            }
            // The dashboard never restarts the demo's daemon: it only reconnects.
            let socket = demo.socket.clone();
            let starter: dashboard::StartDaemon =
                Arc::new(|| Err("the demo daemon stopped; restart `leadline demo`".into()));
            runtime()?
                .block_on(dashboard::run_with_settings(
                    socket,
                    starter,
                    dashboard::Settings {
                        theme,
                        commission_rate: config.analytics.commission_rate,
                        saved_lists: saved_lists(&config),
                        ..Default::default()
                    },
                ))
                .map_err(operational)
        }
        Some(Command::Status { json }) => {
            runtime()?.block_on(async { command_result(commands::status(&paths.socket, json).await) })
        }
        Some(Command::Queue { name, limit, offset, json }) => runtime()?.block_on(async {
            command_result(commands::queue(&paths.socket, &name, limit, offset, json).await)
        }),
        Some(Command::Analytics { range, json }) => runtime()?
            .block_on(async { command_result(commands::analytics(&paths.socket, &range, json).await) }),
        Some(Command::Search { query, limit, json }) => runtime()?.block_on(async {
            command_result(commands::search(&paths.socket, &query.join(" "), limit, json).await)
        }),
        Some(Command::Lead { id, json }) => {
            runtime()?.block_on(async { command_result(commands::lead(&paths.socket, &id, json).await) })
        }
        Some(Command::Draft { id, json }) => {
            runtime()?.block_on(async { command_result(commands::draft(&paths.socket, &id, json).await) })
        }
        Some(Command::Sync { wait, full }) => {
            runtime()?.block_on(async { command_result(commands::sync(&paths.socket, wait, full).await) })
        }
        Some(Command::Tag { id, tag, remove }) => {
            use leadline_shared::domain::OpKind;
            let op = if remove { OpKind::RemoveTag { tag } } else { OpKind::AddTag { tag } };
            runtime()?.block_on(async { command_result(commands::edit(&paths.socket, &id, op).await) })
        }
        Some(Command::Note { id, text }) => {
            let op = leadline_shared::domain::OpKind::AddNote { body: text };
            runtime()?.block_on(async { command_result(commands::edit(&paths.socket, &id, op).await) })
        }
        Some(Command::Send { id, sms, email, template, body, subject }) => {
            let message = commands::Message { sms, email, template, body, subject };
            runtime()?.block_on(async { command_result(commands::send(&paths.socket, &id, message).await) })
        }
        Some(Command::Retry { seq }) => {
            runtime()?.block_on(async { command_result(commands::retry(&paths.socket, seq).await) })
        }
        Some(Command::Followups(cmd)) => {
            use leadline_tui::cli::FollowupsCommand as F;
            let socket = paths.socket.clone();
            runtime()?.block_on(async move {
                command_result(match cmd {
                    F::List { lead, state, limit, json } => {
                        commands::followups_list(&socket, lead, &state, limit, json).await
                    }
                    F::Approve { id, text } => commands::followups_decide(&socket, &id, true, text).await,
                    F::Skip { id } => commands::followups_decide(&socket, &id, false, None).await,
                    F::Pause { lead } => commands::followups_pause(&socket, &lead, true).await,
                    F::Resume { lead } => commands::followups_pause(&socket, &lead, false).await,
                    F::Simulate { days, from, json } => {
                        commands::followups_simulate(&socket, days, from, json).await
                    }
                })
            })
        }
        Some(Command::Model(cmd)) => {
            use leadline_tui::cli::ModelCmd;
            let (train, json) = match cmd {
                ModelCmd::Status { json } => (false, json),
                ModelCmd::Train { json } => (true, json),
            };
            runtime()?.block_on(async { command_result(commands::model(&paths.socket, train, json).await) })
        }
        Some(Command::Listings(leadline_tui::cli::ListingsCommand::Import { file, replace, json })) => {
            runtime()?.block_on(async {
                command_result(commands::import_listings(&paths.socket, &file, replace, json).await)
            })
        }
        Some(Command::Daemon(_)) => Ok(()),
    }
}

/// The dashboard's theme: `--theme`, else the config's `[dashboard] theme`; without colours
/// when `NO_COLOR` is set to anything but nothing.
fn theme(flag: Option<&str>, config: &Config) -> Result<dashboard::theme::Theme, Failure> {
    use dashboard::theme::{Theme, ThemeName};
    let name: ThemeName = match flag {
        Some(name) => name.parse().map_err(|e| (2, format!("--theme: {e}")))?,
        None => config.dashboard.theme.parse().map_err(|e| (2, format!("config [dashboard] theme: {e}")))?,
    };
    Ok(Theme::resolve(name, std::env::var_os("NO_COLOR").as_deref()))
}

/// The user's keymap overrides (`keymap.toml` beside the config file), or the defaults.
fn load_keymap(path: &std::path::Path) -> Result<dashboard::Keymap, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(dashboard::Keymap::defaults()),
        Err(e) => return Err((2, format!("cannot read the keymap {}: {e}", path.display()))),
    };
    let file: dashboard::keymap::KeymapFile = toml::from_str(&text)
        .map_err(|e| (2, format!("keymap {} is not valid TOML: {}", path.display(), e.message())))?;
    dashboard::Keymap::from_file(&file).map_err(|e| (2, format!("keymap {}: {e}", path.display())))
}

async fn wait_for_signal_or_exit(demo: &mut demo::Demo) -> Result<(), Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(operational)?;
    let mut int = signal(SignalKind::interrupt()).map_err(operational)?;
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
            _ = tick.tick() => if !demo.daemon_alive() {
                return Err((1, "the demo daemon stopped unexpectedly; see its log in the demo data directory".into()));
            },
        }
    }
}

/// The saved smart lists' names, for the dashboard's tabs.
fn saved_lists(config: &Config) -> Vec<String> {
    config.smart_lists().into_iter().map(|l| l.name).collect()
}
