//! Where a training's memory goes: the daemon's training (`intel::train`) on a store a
//! benchmark run left (`leadline-bench --sync-only --keep`: `DIR/sync/data/store`), with the
//! process's peak RSS before and after. Built on the system allocator, so that `heaptrack`
//! sees every allocation: `heaptrack target/release/examples/train_profile COPY_OF_STORE`.
//! Train on a copy: the model record is written to the store.

use std::sync::Arc;
use std::time::Instant;

use leadline_daemon::store::{Db, SledStore};
use leadline_shared::config::Config;

fn hwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: 0 kB");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let dir =
        std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("give a copy of the store's directory"))?;
    let config = Config::default();
    let db = Db::open(Arc::new(SledStore::open(dir.as_ref(), config.store.cache_capacity_mb << 20)?))?;
    let slot = leadline_daemon::intel::ModelSlot::default();
    println!("peak RSS before: {} MB", hwm_kb() / 1024);
    let started = Instant::now();
    let trained = leadline_daemon::intel::train(&db, &slot, &config.scoring, jiff::Timestamp::now())?;
    println!(
        "trained in {:.0} ms, promoted {:?}; peak RSS after: {} MB",
        started.elapsed().as_secs_f64() * 1e3,
        trained.promoted,
        hwm_kb() / 1024
    );
    // `SAVE_SCORER=FILE` writes the trained trees (the crate's JSON) there, to count their nodes.
    if let (Some(path), Some(version)) =
        (std::env::var_os("SAVE_SCORER"), trained.status.models.last().map(|m| m.version))
        && let Some(record) = db.model::<leadline_daemon::intel::ModelRecord>(version)?
    {
        std::fs::write(path, record.scorer)?;
    }
    Ok(())
}
