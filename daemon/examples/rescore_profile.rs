//! Where a full rescore's time goes, on a store a benchmark run left (`leadline-bench
//! --ingest-only --keep`, or a daemon's): every lead rescored as a model promotion does
//! (`Ingest::rescore_all`), unchanged, then with another scorer, with the queue orders and the
//! analytics kept up to date, as the benchmark's `rescore_unchanged_ms` and `rescore_all_ms`.
//! `cargo run --release -p leadline-daemon --example rescore_profile -- /tmp/ll-bench-X/ingest-store`

use std::sync::Arc;
use std::time::Instant;

use leadline_daemon::ingest::Ingest;
use leadline_daemon::store::{Db, SledStore};
use leadline_shared::config::Config;

leadline_daemon::global_allocator!();

fn main() -> anyhow::Result<()> {
    let dir = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("give the store's directory"))?;
    let config = Config::default();
    // `CACHE_MB=N` opens the store with another sled cache than the daemon's default.
    let cache_mb =
        std::env::var("CACHE_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(config.store.cache_capacity_mb);
    let db = Db::open(Arc::new(SledStore::open(dir.as_ref(), cache_mb << 20)?))?;
    // The store's active model, if it has one (a daemon's store after its first training), as
    // the daemon loads it at start; else rules-v1, as the benchmark's store.
    let slot = leadline_daemon::intel::ModelSlot::default();
    leadline_daemon::intel::load(&db, &slot)?;
    let model = slot.get();
    println!("scored by {}", model.as_ref().map_or("rules-v1".to_owned(), |m| m.name.clone()));
    let ingest = Ingest::new(db.clone(), config.scoring.clone()).with_model(slot);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let now = jiff::Timestamp::now();
    // The orders and the aggregates, built as the daemon builds them at start.
    let all = leadline_daemon::engine::queues::plan(
        &leadline_shared::protocol::QueueName::All,
        now,
        &config.queues,
    )?;
    // `BARE=1` leaves them unbuilt, to see what keeping them up to date costs.
    if std::env::var_os("BARE").is_none() {
        db.slice_len(&all)?;
        db.warm_up()?;
    }
    let pass_with = |ingest: &Ingest, label: &str| -> anyhow::Result<()> {
        let started = Instant::now();
        let done = ingest.rescore_all(now)?;
        rt.block_on(db.flush())?;
        // Read once, as the dashboard's next poll would: the orders' moves still waiting are
        // made then.
        if std::env::var_os("BARE").is_none() {
            db.slice_len(&all)?;
        }
        println!(
            "{label}: {:.0} ms for {} leads ({} written, {} from their records)",
            started.elapsed().as_secs_f64() * 1e3,
            done.leads,
            done.changed.len(),
            done.derived
        );
        Ok(())
    };
    let pass = |label: &str| pass_with(&ingest, label);
    // A store from before schema 8 has no scoring inputs: the first pass derives every lead
    // from its records, and writes them.
    pass("first pass")?;
    pass("unchanged")?;
    // A model upgrade: every lead's score moves, and with it its row, index entries and place
    // in the orders. A store with a model goes to rules-v1 and back; one without, to a model
    // trained elsewhere (`MODEL_FROM=DIR`: the model of the store in DIR; `MODEL_FROM=FILE`: one
    // trained on the location in FILE, as the benchmark's `model-location.json`).
    match model {
        Some(_) => {
            let rules = Ingest::new(db.clone(), config.scoring.clone());
            pass_with(&rules, "rules-v1 for the model (every row moves)")?;
            pass("the model again (every row moves)")?;
            // The same two upgrades the way a promotion ran before schema 8: every lead derived
            // from its contact, messages and deals (`Ingest::rescore`), 1,000 per transaction.
            let ids = db.contact_ids()?;
            let derive_with = |ingest: &Ingest, label: &str| -> anyhow::Result<()> {
                let started = Instant::now();
                let mut written = 0;
                for chunk in ids.chunks(1_000) {
                    written += ingest.rescore(&chunk.iter().cloned().collect(), now)?.len();
                }
                rt.block_on(db.flush())?;
                println!("{label}: {:.0} ms ({written} written)", started.elapsed().as_secs_f64() * 1e3);
                Ok(())
            };
            derive_with(&rules, "derived from the records: rules-v1 for the model")?;
            derive_with(&ingest, "derived from the records: the model again")?;
        }
        None => {
            let from = std::env::var_os("MODEL_FROM").ok_or_else(|| anyhow::anyhow!("set MODEL_FROM"))?;
            let from = std::path::Path::new(&from);
            let theirs = leadline_daemon::intel::ModelSlot::default();
            if from.is_dir() {
                let other = Db::open(Arc::new(SledStore::open(from, 8 << 20)?))?;
                leadline_daemon::intel::load(&other, &theirs)?;
            } else {
                // A location file (the benchmark's `model-location.json`): imported into memory
                // and trained on, as the benchmark does.
                let other = Db::open(Arc::new(leadline_daemon::store::MemoryStore::new()))?;
                rt.block_on(Ingest::new(other.clone(), config.scoring.clone()).import_file(from, now))?;
                let trained = leadline_daemon::intel::train(&other, &theirs, &config.scoring, now)?;
                anyhow::ensure!(trained.promoted.is_some(), "no model promoted: {:?}", trained.status.reason);
            }
            let upgraded = Ingest::new(db.clone(), config.scoring.clone()).with_model(theirs);
            pass_with(&upgraded, "a model for rules-v1 (every row moves)")?;
        }
    }
    Ok(())
}
