//! Where prediction's time goes: the bank model of `leadlined model eval` (bank-full, `--drop
//! duration --split every5`, the default budget), trained once and saved, then its test rows
//! predicted by each of the compiled walks in turn, on this thread's CPU time (best of 16
//! alternations, so a busy machine slows both alike).
//!
//! `cargo run --release -p leadline-daemon --example predict_profile -- CSV [SAVED_MODEL]`
//! (the model is trained and written to SAVED_MODEL when that file does not exist yet).
//! With `PASSES=N` each way runs N times untimed, for
//! `valgrind --tool=cachegrind --cache-sim=no --branch-sim=yes`.

use std::time::Duration;

use leadline_daemon::model::eval::{Split, split};
use leadline_daemon::model::features::{Encoder, FeatureOptions};
use leadline_daemon::model::gbdt::{Gbdt, GbdtConfig};
use leadline_daemon::model::walk::Compiled;
use leadline_daemon::model::{Scorer, csv};

leadline_daemon::global_allocator!();

fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("give bank-full.csv's path"))?;
    let saved = std::env::args().nth(2);
    let table = csv::read(path.as_ref())?;
    let target = table.column("y", &path)?;
    let skip = [target, table.column("duration", &path)?];
    let y: Vec<bool> = table.rows.iter().map(|r| r[target].trim() == "yes").collect();
    let (train, test) = split(table.rows.len(), Split::Every5);
    let mut gbdt = match saved.as_deref().map(std::fs::read_to_string) {
        Some(Ok(json)) => Gbdt::from_json(&json)?,
        _ => Gbdt::new(GbdtConfig::default()),
    };
    let encoder = Encoder::fit_with(
        &table.header,
        &table.rows,
        &train,
        &skip,
        gbdt.encoding(),
        Some(&y),
        FeatureOptions::default(),
    );
    let x_test = encoder.encode(&table.rows, &test);
    if gbdt.trees() == 0 {
        let y_train: Vec<bool> = train.iter().map(|&i| y[i]).collect();
        gbdt.fit(&encoder.encode(&table.rows, &train), &y_train)?;
        if let Some(saved) = &saved {
            std::fs::write(saved, gbdt.to_json()?)?;
        }
    }
    let forest = gbdt.forest();
    let compiled = Compiled::new(forest).ok_or_else(|| anyhow::anyhow!("the forest does not compile"))?;
    let mut out = vec![0.0; x_test.rows];
    let mut time = |f: &mut dyn FnMut(&mut [f64])| {
        let (started, mut rows) = (cpu(), 0usize);
        while cpu() - started < Duration::from_millis(300) {
            f(&mut out);
            rows += x_test.rows;
        }
        rows as f64 / (cpu() - started).as_secs_f64()
    };
    // `PASSES=N`: each way N times over the test rows, untimed, for a tool that counts
    // instructions (valgrind --tool=cachegrind), where the machine's noise does not reach.
    if let Some(passes) = std::env::var("PASSES").ok().and_then(|p| p.parse::<usize>().ok()) {
        for _ in 0..passes {
            compiled.raw_batch_walked(forest.base, &x_test.values, &mut out);
            compiled.raw_batch_split(forest.base, &x_test.values, &mut out);
        }
        return Ok(());
    }
    let (mut walked, mut split_rate) = (0f64, 0f64);
    for _ in 0..16 {
        walked = walked.max(time(&mut |out| compiled.raw_batch_walked(forest.base, &x_test.values, out)));
        split_rate =
            split_rate.max(time(&mut |out| compiled.raw_batch_split(forest.base, &x_test.values, out)));
    }
    println!("trees {}, test rows {}", gbdt.trees(), x_test.rows);
    println!("walked: {:.0} k rows/s of CPU time", walked / 1e3);
    println!("split:  {:.0} k rows/s of CPU time", split_rate / 1e3);
    Ok(())
}

/// This thread's CPU time so far (Linux's `/proc/thread-self/schedstat`).
fn cpu() -> Duration {
    let ns = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .unwrap_or(0);
    Duration::from_nanos(ns)
}
