//! Ingest and rescoring, in process, on a real sled store.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use leadline_daemon::ingest::{Ingest, PAGE, Page, Snapshot};
use leadline_daemon::store::{Db, LeadOrder, SledStore};
use leadline_shared::config::Config;
use leadline_shared::domain::LeadSummary;

/// Writes the simulator's seeded location; returns it and its size in bytes.
pub fn write_dataset(path: &Path, leads: usize) -> anyhow::Result<(ghl_sim::Dataset, u64)> {
    let seed = ghl_sim::seed::SeedConfig {
        contacts: leads,
        now_ms: jiff::Timestamp::now().as_millisecond(),
        ..ghl_sim::seed::SeedConfig::default()
    };
    let dataset = ghl_sim::seed::generate(&seed);
    let file = std::fs::File::create(path)?;
    serde_json::to_writer(std::io::BufWriter::new(file), &dataset)?;
    Ok((dataset, std::fs::metadata(path)?.len()))
}

/// What the in-process run measured.
pub struct IngestFigures {
    pub contacts_per_s: f64,
    pub rescore_all_ms: f64,
    /// Every lead row, best first (the dashboard benchmark renders them).
    pub rows: Vec<LeadSummary>,
}

/// Applies the data set's contacts page by page (500 per transaction, as sync does, each
/// page scored and indexed, flushed at the end), then rescores every lead.
pub fn ingest_and_rescore(work: &Path, dataset: &Path) -> anyhow::Result<IngestFigures> {
    let snapshot = Snapshot::read(dataset)?;
    let config = Config::default();
    let store = SledStore::open(&work.join("ingest-store"), config.store.cache_capacity_mb << 20)?;
    let db = Db::open(Arc::new(store))?;
    let ingest = Ingest::new(db.clone(), config.scoring.clone());
    let now = jiff::Timestamp::now();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;

    // Context first, untimed: pipelines and field definitions.
    ingest.apply(Page::CustomFields(snapshot.custom_fields.clone()), now)?;
    ingest.apply(Page::Pipelines(snapshot.pipelines.clone()), now)?;

    let contacts = snapshot.contacts.len();
    let started = Instant::now();
    for chunk in snapshot.contacts.chunks(PAGE) {
        ingest.apply(Page::Contacts(chunk.to_vec()), now)?;
    }
    runtime.block_on(db.flush())?;
    let contacts_per_s = contacts as f64 / started.elapsed().as_secs_f64();

    let ids: Vec<String> = snapshot.contacts.iter().map(|c| c.id.clone()).collect();
    let started = Instant::now();
    for chunk in ids.chunks(PAGE) {
        ingest.rescore(&chunk.iter().cloned().collect::<BTreeSet<_>>(), now)?;
    }
    let rescore_all_ms = started.elapsed().as_secs_f64() * 1e3;

    let mut rows = Vec::with_capacity(contacts);
    db.leads_by(LeadOrder::Score, &mut |l| {
        rows.push(l);
        ControlFlow::Continue(())
    })?;
    Ok(IngestFigures { contacts_per_s, rescore_all_ms, rows })
}
