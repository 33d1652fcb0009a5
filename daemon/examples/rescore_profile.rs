//! Where a full rescore's time goes, on a store a benchmark run left (`leadline-bench
//! --ingest-only --keep`): every lead rescored as a model promotion does (`Ingest::rescore_all`),
//! unchanged, then with every score dropped, with the queue orders and the analytics kept up to
//! date, as the benchmark's `rescore_unchanged_ms` and `rescore_all_ms`.
//! `cargo run --release -p leadline-daemon --example rescore_profile -- /tmp/ll-bench-X/ingest-store`

use std::sync::Arc;
use std::time::Instant;

use leadline_daemon::ingest::{Ingest, PAGE};
use leadline_daemon::store::{Batch, Db, LeadOrder, Remove, SledStore};
use leadline_shared::config::Config;

leadline_daemon::global_allocator!();

fn main() -> anyhow::Result<()> {
    let dir = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("give the store's directory"))?;
    let config = Config::default();
    let db = Db::open(Arc::new(SledStore::open(dir.as_ref(), config.store.cache_capacity_mb << 20)?))?;
    let ingest = Ingest::new(db.clone(), config.scoring.clone());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let now = jiff::Timestamp::now();
    let mut ids = Vec::new();
    db.leads_by(LeadOrder::Score, &mut |l| {
        ids.push(l.id);
        std::ops::ControlFlow::Continue(())
    })?;
    ids.sort();
    // The orders and the aggregates, built as the daemon builds them at start.
    let all = leadline_daemon::engine::queues::plan(
        &leadline_shared::protocol::QueueName::All,
        now,
        &config.queues,
    )?;
    // `BARE=1` leaves them unbuilt, to see what keeping them up to date costs.
    if std::env::var_os("BARE").is_none() {
        db.slice_len(&all)?;
        db.with_analytics(|a| a.days.len())?;
    }
    let pass = |label: &str| -> anyhow::Result<()> {
        let started = Instant::now();
        let done = ingest.rescore_all(now)?;
        rt.block_on(db.flush())?;
        println!(
            "{label}: {:.0} ms for {} leads ({} written, {} from their records)",
            started.elapsed().as_secs_f64() * 1e3,
            done.leads,
            done.changed.len(),
            done.derived
        );
        Ok(())
    };
    // A store from before schema 8 has no scoring inputs: the first pass derives every lead
    // from its records, and writes them.
    pass("first pass")?;
    pass("unchanged")?;
    for chunk in ids.chunks(PAGE) {
        let mut batch = Batch::new();
        for id in chunk {
            batch.remove(Remove::Score(id.clone()));
        }
        db.commit(&batch)?;
    }
    rt.block_on(db.flush())?;
    pass("every score rewritten")?;
    Ok(())
}
