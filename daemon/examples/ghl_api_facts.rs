//! Writes `daemon/tests/fixtures/ghl-api-facts.json`, the facts about GHL's API that the
//! conformance test checks the client's requests against, from GHL's official OpenAPI files.
//!
//! ```sh
//! cargo run -p leadline-daemon --example ghl_api_facts -- [APPS_DIR] [--out FILE|-]
//! ```
//!
//! `APPS_DIR` holds the official `apps/*.json` of GoHighLevel/highlevel-api-docs, with the
//! `SOURCE.md` that records their provenance one level up. It defaults to `$GHL_OPENAPI_DIR`.
//! `--out -` prints instead of writing.
//!
//! A Rust example rather than a script: the extraction is the very code the conformance test
//! runs when the official files are present (`tests/ghl_facts/`), so what this writes and what
//! the test expects cannot drift apart, and regenerating needs nothing beyond the Rust toolchain.

// The extraction lives with the test that uses it; this binary shares the file rather than a
// copy of it.
#[path = "../tests/ghl_facts/mod.rs"]
mod ghl_facts;

use std::path::PathBuf;
use std::process::ExitCode;

use ghl_facts::{EXCLUDED, FACTS_FILE, FactsFile, GENERATED};

fn run() -> Result<String, String> {
    let mut dir: Option<PathBuf> = None;
    let mut out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(FACTS_FILE);
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--out") => out = args.next().map(PathBuf::from).ok_or("--out needs a file (or -)")?,
            Some("-h" | "--help") => {
                println!(
                    "usage: ghl_api_facts [APPS_DIR] [--out FILE|-]\n\
                     APPS_DIR defaults to $GHL_OPENAPI_DIR"
                );
                return Ok(String::new());
            }
            Some(a) if a.starts_with('-') && a != "-" => {
                return Err(format!("unknown option {a} (try --help)"));
            }
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => return Err("more than one APPS_DIR (try --help)".into()),
        }
    }
    let dir = match dir {
        Some(d) => d,
        None => ghl_facts::official_dir()?.ok_or(
            "GHL's official OpenAPI files were not found: pass their apps/ directory, or set GHL_OPENAPI_DIR",
        )?,
    };
    let api = ghl_facts::extract(&dir)?;
    let facts = FactsFile {
        generated: GENERATED.to_owned(),
        excluded: EXCLUDED.to_owned(),
        inputs: ghl_facts::inputs(&dir)?,
        operations: api.operations,
        schemas: api.schemas,
        source: ghl_facts::source(&dir)?,
    };
    let text = facts.render()?;
    if out.as_os_str() == "-" {
        print!("{text}");
        return Ok(String::new());
    }
    std::fs::write(&out, &text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(format!(
        "wrote {} ({} operations, {} bytes) from {}",
        out.display(),
        facts.operations.len(),
        text.len(),
        dir.display()
    ))
}

fn main() -> ExitCode {
    match run() {
        Ok(msg) => {
            if !msg.is_empty() {
                eprintln!("{msg}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ghl_api_facts: {e}");
            ExitCode::FAILURE
        }
    }
}
