//! Ingest and rescoring, in process, on a real sled store.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use leadline_daemon::engine::queues;
use leadline_daemon::ingest::{Ingest, PAGE, Page, Snapshot};
use leadline_daemon::intel::ModelSlot;
use leadline_daemon::store::{Db, LeadOrder, SledStore, Tree, keys};
use leadline_shared::config::Config;
use leadline_shared::domain::LeadSummary;
use leadline_shared::protocol::QueueName;

use crate::stats::{Summary, summarize};

/// The sled cache the benchmark runs with: `--store-cache-mb`, else the shipped default.
pub fn cache_mb(over: Option<u64>) -> u64 {
    over.unwrap_or_else(|| Config::default().store.cache_capacity_mb)
}

/// The `[store]` section of a daemon's config file for `--store-cache-mb` (empty without it:
/// the daemon then runs with the shipped default, as a user's would).
pub fn cache_section(over: Option<u64>) -> String {
    over.map(|mb| format!("[store]\ncache_capacity_mb = {mb}\n")).unwrap_or_default()
}

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
    /// The reference: sled alone writing the same keys and values, page by page.
    pub sled_alone_contacts_per_s: f64,
    /// Every lead rescored with every score rewritten (as after a scoring model upgrade).
    pub rescore_all_ms: f64,
    /// Every lead rescored when nothing changed (reads and scoring, no writes).
    pub rescore_unchanged_ms: f64,
    /// The first build of the queue orders from the rows (the daemon does it at start).
    pub queue_ranks_build_ms: f64,
    /// The analytics aggregates' first build from the store.
    pub analytics_build_ms: f64,
    /// The last 120 rows of `all`, read with their records: the dashboard's `G`.
    pub queue_last_window: Summary,
    /// The six built-in queues' exact lengths (what each status request computes).
    pub queue_counts: Summary,
    /// Those lengths, for the log.
    pub queue_lengths: Vec<(QueueName, u64)>,
    /// Every lead row, best first (the dashboard benchmark renders them).
    pub rows: Vec<LeadSummary>,
}

/// Applies the data set's contacts page by page (500 per transaction, as sync does, each
/// page scored and indexed, flushed at the end), then rescores every lead.
pub fn ingest_and_rescore(
    work: &Path,
    dataset: &Path,
    store_cache_mb: Option<u64>,
) -> anyhow::Result<IngestFigures> {
    let snapshot = Snapshot::read(dataset)?;
    let config = Config::default();
    let cache_bytes = cache_mb(store_cache_mb) << 20;
    let store = SledStore::open(&work.join("ingest-store"), cache_bytes)?;
    let db = Db::open(Arc::new(store))?;
    let ingest = Ingest::new(db.clone(), config.scoring.clone());
    let now = jiff::Timestamp::now();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;

    // Context first, untimed: pipelines and field definitions.
    ingest.apply(Page::CustomFields(snapshot.custom_fields.clone()), now)?;
    ingest.apply(Page::Pipelines(snapshot.pipelines.clone()), now)?;

    let contacts = snapshot.contacts.len();
    let started = Instant::now();
    // As a pull holds it over its pages.
    let bulk = leadline_daemon::alloc::BulkWrites::begin();
    for chunk in snapshot.contacts.chunks(PAGE) {
        ingest.apply(Page::Contacts(chunk.to_vec()), now)?;
    }
    runtime.block_on(db.flush())?;
    drop(bulk);
    let contacts_per_s = contacts as f64 / started.elapsed().as_secs_f64();

    // The queue orders, built from the rows as the daemon does at start; from here on every
    // commit (the rescores below) keeps them up to date, as in a daemon with a dashboard open.
    let started = Instant::now();
    let counts = queue_counts(&db, &config, now)?;
    let queue_ranks_build_ms = started.elapsed().as_secs_f64() * 1e3;
    // Likewise the analytics aggregates and the search index, as the daemon builds them at
    // start (one walk of every row, deal and follow-up record); the rescores below then move
    // them at each commit, as in a running daemon.
    let started = Instant::now();
    db.warm_up()?;
    let analytics_build_ms = started.elapsed().as_secs_f64() * 1e3;
    let analytics_days = db.with_analytics(|agg| agg.days.len())?;
    anyhow::ensure!(analytics_days > 0, "the analytics aggregates hold no day");
    let all = queues::plan(&QueueName::All, now, &config.queues)?;
    let total = db.slice_len(&all)?;
    anyhow::ensure!(total == contacts as u64, "`all` holds {total} of {contacts} leads");

    let ids: Vec<String> = snapshot.contacts.iter().map(|c| c.id.clone()).collect();
    let sled_alone_contacts_per_s = sled_alone(work, &db, &ids, cache_bytes)?;
    // A model upgrade as the daemon makes one (`intel::retrain`): a conversion model promoted
    // (untimed), then every lead rescored from its scoring inputs (timed): each score moves
    // from rules-v1 to the model, so every lead is written. Then the same pass again, when
    // nothing changed. This store holds the contacts alone, no closed deal to train on, so the
    // model is trained on a small simulated location's history.
    let ingest = ingest.with_model(trained_elsewhere(work, &runtime)?);
    let rescore_all = |written: bool| -> anyhow::Result<f64> {
        let started = Instant::now();
        let done = ingest.rescore_all(now)?;
        runtime.block_on(db.flush())?;
        // The orders read once, as the dashboard's next poll reads them: the moves still
        // waiting are made then, and counted.
        db.slice_len(&all)?;
        let elapsed = started.elapsed().as_secs_f64() * 1e3;
        anyhow::ensure!(done.leads == contacts, "the rescore saw {} of {contacts} leads", done.leads);
        let expected = if written { contacts } else { 0 };
        anyhow::ensure!(
            done.changed.len() == expected,
            "{} leads written, not {expected}",
            done.changed.len()
        );
        Ok(elapsed)
    };
    let rescore_all_ms = rescore_all(true)?;
    let rescore_unchanged_ms = rescore_all(false)?;

    // The dashboard's `G` on `all`: the last window of rows; and the status's six lengths.
    let mut times = Vec::with_capacity(QUEUE_SAMPLES);
    for _ in 0..QUEUE_SAMPLES {
        let started = Instant::now();
        let window = db.slice_window(&all, total.saturating_sub(WINDOW as u64), WINDOW, None)?;
        times.push(started.elapsed());
        anyhow::ensure!(window.rows.len() == WINDOW.min(contacts), "a short last window");
    }
    let queue_last_window = summarize(&mut times);
    let mut times = Vec::with_capacity(QUEUE_SAMPLES);
    for _ in 0..QUEUE_SAMPLES {
        let started = Instant::now();
        queue_counts(&db, &config, jiff::Timestamp::now())?;
        times.push(started.elapsed());
    }
    let queue_counts_time = summarize(&mut times);

    let mut rows = Vec::with_capacity(contacts);
    db.leads_by(LeadOrder::Score, &mut |l| {
        rows.push(l);
        ControlFlow::Continue(())
    })?;
    Ok(IngestFigures {
        contacts_per_s,
        sled_alone_contacts_per_s,
        rescore_all_ms,
        rescore_unchanged_ms,
        queue_ranks_build_ms,
        analytics_build_ms,
        queue_last_window,
        queue_counts: queue_counts_time,
        queue_lengths: counts,
        rows,
    })
}

/// How many times each queue read is timed.
const QUEUE_SAMPLES: usize = 2_000;
/// The rows the dashboard asks for around what it shows.
const WINDOW: usize = 120;

/// Each built-in queue's length, as the daemon's status computes them.
fn queue_counts(db: &Db, config: &Config, now: jiff::Timestamp) -> anyhow::Result<Vec<(QueueName, u64)>> {
    QueueName::BUILT_IN
        .into_iter()
        .map(|name| {
            let slice = queues::plan(&name, now, &config.queues)?;
            Ok((name, db.slice_len(&slice)?))
        })
        .collect()
}

/// What sled alone does with ingest's writes: every key and value ingest stored for each
/// contact (its lead record and index entries), under the same keys on disk, written in the
/// same order and the same pages of 500 as one batch each, then one flush. No reads, no
/// encoding, no scoring: the ceiling of any ingest on this store.
/// A conversion model trained on a simulated location of 2,000 leads with 1,500 closed deals
/// (the daemon's training, `intel::train`, in a store of its own), promoted into a slot.
fn trained_elsewhere(work: &Path, runtime: &tokio::runtime::Runtime) -> anyhow::Result<ModelSlot> {
    let seed =
        ghl_sim::seed::SeedConfig { contacts: 2_000, closed_history: 1_500, seed: 7, ..Default::default() };
    let now = jiff::Timestamp::from_millisecond(seed.now_ms)?;
    let path = work.join("model-location.json");
    std::fs::write(&path, serde_json::to_vec(&ghl_sim::seed::generate(&seed))?)?;
    let db = Db::open(std::sync::Arc::new(leadline_daemon::store::MemoryStore::new()))?;
    let config = Config::default();
    runtime.block_on(Ingest::new(db.clone(), config.scoring.clone()).import_file(&path, now))?;
    let slot = ModelSlot::default();
    let trained = leadline_daemon::intel::train(&db, &slot, &config.scoring, now)?;
    anyhow::ensure!(trained.promoted.is_some(), "no model promoted: {:?}", trained.status.reason);
    Ok(slot)
}

fn sled_alone(work: &Path, db: &Db, ids: &[String], cache_bytes: u64) -> anyhow::Result<f64> {
    let key = SledStore::key_on_disk;
    let mut pages = Vec::new();
    for chunk in ids.chunks(PAGE) {
        let mut writes: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(chunk.len() * 4);
        for id in chunk {
            if let Some(v) = db.backend().get(Tree::Leads, id.as_bytes())? {
                writes.push((key(Tree::Leads, id.as_bytes()), v));
            }
            if let Some(lead) = db.lead(id)? {
                for (tree, k) in keys::lead_index_entries(&lead) {
                    writes.push((key(tree, &k), Vec::new()));
                }
                writes.push((key(Tree::QueuePlaces, id.as_bytes()), keys::queue_place(&lead).to_vec()));
            }
        }
        pages.push(writes);
    }
    // The same page cache as the store's (see `SledStore::open`).
    let sled = sled::Config::new()
        .path(work.join("sled-alone"))
        .cache_capacity(SledStore::sled_cache_capacity(cache_bytes))
        .open()?;
    let tree = sled.open_tree("leadline")?;
    let started = Instant::now();
    // Under the same hold as the ingest it is the floor of.
    let _bulk = leadline_daemon::alloc::BulkWrites::begin();
    for writes in pages {
        let mut batch = sled::Batch::default();
        for (k, v) in writes {
            batch.insert(k, v);
        }
        tree.apply_batch(batch)?;
    }
    sled.flush()?;
    Ok(ids.len() as f64 / started.elapsed().as_secs_f64())
}
