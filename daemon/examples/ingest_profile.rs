//! Where ingest time goes: the same contact pages into memory and into sled.
//! `cargo run --release -p leadline-daemon --example ingest_profile -- 20000`

use std::sync::Arc;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;

use leadline_daemon::ingest::{Ingest, PAGE, Page};
use leadline_daemon::store::{Db, MemoryStore, SledStore, Store};
use leadline_shared::config::Config;

fn run(
    name: &str,
    store: Arc<dyn Store>,
    contacts: &[leadline_shared::domain::Contact],
) -> anyhow::Result<()> {
    let db = Db::open(store)?;
    let ingest = Ingest::new(db.clone(), Config::default().scoring);
    let now = jiff::Timestamp::now();
    let started = Instant::now();
    for chunk in contacts.chunks(PAGE) {
        ingest.apply(Page::Contacts(chunk.to_vec()), now)?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{name}: {:.0} contacts/s", contacts.len() as f64 / secs);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let seed = ghl_sim::seed::SeedConfig { contacts: n, ..Default::default() };
    let contacts: Vec<leadline_shared::domain::Contact> =
        serde_json::from_value(serde_json::to_value(ghl_sim::seed::generate(&seed).contacts)?)?;
    run("memory", Arc::new(MemoryStore::new()), &contacts)?;
    let dir = tempfile::tempdir()?;
    run("sled 64MB", Arc::new(SledStore::open(&dir.path().join("a"), 64 << 20)?), &contacts)?;
    run("sled 512MB", Arc::new(SledStore::open(&dir.path().join("b"), 512 << 20)?), &contacts)?;
    Ok(())
}
