//! Where ingest time goes: the same pages into memory and into sled.
//! `cargo run --release -p leadline-daemon --example ingest_profile -- 20000`

use std::sync::Arc;
use std::time::Instant;

use leadline_daemon::ingest::{Ingest, PAGE, Page};
use leadline_daemon::store::{Db, MemoryStore, SledStore, Store};
use leadline_shared::config::Config;
use leadline_shared::domain::{Contact, Message};

leadline_daemon::global_allocator!();

fn run(name: &str, store: Arc<dyn Store>, contacts: &[Contact], messages: &[Message]) -> anyhow::Result<()> {
    let db = Db::open(store)?;
    let ingest = Ingest::new(db.clone(), Config::default().scoring);
    let now = jiff::Timestamp::now();
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let started = Instant::now();
    let mut flushing = std::time::Duration::ZERO;
    for chunk in messages.chunks(PAGE) {
        ingest.apply(Page::Messages(chunk.to_vec()), now)?;
        let f = Instant::now();
        rt.block_on(db.flush())?;
        flushing += f.elapsed();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name}: {:.0} messages/s ({:.1} s flushing)",
        messages.len() as f64 / secs,
        flushing.as_secs_f64()
    );
    let started = Instant::now();
    for chunk in contacts.chunks(PAGE) {
        ingest.apply(Page::Contacts(chunk.to_vec()), now)?;
        rt.block_on(db.flush())?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{name}: {:.0} contacts/s (with their messages in the store)", contacts.len() as f64 / secs);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    // `contacts`: contacts alone into an empty store, as the benchmark's ingest figure does.
    let contacts_only = std::env::args().nth(2).as_deref() == Some("contacts");
    let seed = ghl_sim::seed::SeedConfig { contacts: n, ..Default::default() };
    let data = ghl_sim::seed::generate(&seed);
    let contacts: Vec<Contact> = serde_json::from_value(serde_json::to_value(&data.contacts)?)?;
    let messages: Vec<Message> = if contacts_only {
        Vec::new()
    } else {
        serde_json::from_value(serde_json::to_value(&data.messages)?)?
    };
    run("memory", Arc::new(MemoryStore::new()), &contacts, &messages)?;
    let dir = tempfile::tempdir()?;
    run(
        "sled",
        Arc::new(SledStore::open(
            &dir.path().join("a"),
            std::env::var("CACHE_MB").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(64) << 20,
        )?),
        &contacts,
        &messages,
    )?;
    Ok(())
}
