//! `ghl-sim`: run the GoHighLevel API simulator (see `docs/ghl-sim.md`).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use ghl_sim::cli::Cli;
use ghl_sim::seed::{self, SeedConfig};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GHL_SIM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let cfg = match cli.to_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ghl-sim: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &cli.dump {
        let sc = SeedConfig {
            location_id: cfg.location_id.clone(),
            contacts: cfg.contacts,
            opportunities: cfg.opportunities,
            messages_per_contact: cfg.messages_per_contact,
            seed: cfg.seed,
            now_ms: cfg.now_ms.unwrap_or_else(ghl_sim::time::real_now_ms),
            closed_history: cfg.closed_history,
        };
        let ds = seed::generate(&sc);
        let result = std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            serde_json::to_writer(&mut w, &ds).map_err(std::io::Error::other)?;
            w.flush()
        });
        return match result {
            Ok(()) => {
                println!(
                    "wrote {} contacts, {} opportunities, {} messages to {}",
                    ds.contacts.len(),
                    ds.opportunities.len(),
                    ds.messages.len(),
                    path.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ghl-sim: could not write {}: {e}", path.display());
                ExitCode::from(1)
            }
        };
    }
    let handle = match ghl_sim::spawn(cfg).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("ghl-sim: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let printed = writeln!(out, "listening on {}", handle.base_url())
        .and_then(|()| out.flush())
        .and_then(|()| {
            writeln!(
                out,
                "webhook public key (ed25519, base64 SPKI PEM body): {}",
                handle.webhook_public_key_b64()
            )
        })
        .and_then(|()| out.flush());
    drop(out);
    if printed.is_err() {
        // stdout closed: keep serving anyway; the caller may only need the port file.
    }
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}
