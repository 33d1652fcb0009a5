//! `leadlined model eval`: train on part of a CSV, measure on the rest.
//!
//! The split, the labels and the report are pure; [`run`] reads the file and times the models.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::csv::{self, Table};
use super::features::{Encoder, FeatureOptions, Features};
use super::gbdt::{Gbdt, GbdtConfig};
use super::logistic::Logistic;
use super::{ModelError, Scorer, metrics};

/// Which rows train and which test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Data rows whose 0-based index % 5 == 4 test; the rest train.
    Every5,
    /// The first 80 % of rows train, the last 20 % test (for rows in time order).
    Time,
}

/// Which models to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    Gbdt,
    Logistic,
    Both,
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct Options {
    pub csv: PathBuf,
    pub target: String,
    pub positive: String,
    pub drop: Vec<String>,
    pub split: Split,
    pub models: Which,
    pub gbdt: GbdtConfig,
    /// Least time to spend measuring prediction, in seconds.
    pub predict_seconds: f64,
    /// The derived features.
    pub features: FeatureOptions,
    /// Measure on an inner split of the training rows (every fifth of them tests), never
    /// touching the test rows: how settings are chosen.
    pub inner: bool,
}

/// One model's figures on the test rows.
#[derive(Debug, Clone, Serialize)]
pub struct ModelReport {
    pub model: &'static str,
    pub auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub logloss: Option<f64>,
    pub train_s: f64,
    /// Test rows scored per second on one thread (features already encoded): the best of the
    /// windows (a tenth of `predict_seconds` each) over at least `predict_seconds`.
    pub predict_rows_per_s: f64,
    pub features: usize,
    /// Trees grown (GBDT only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trees: Option<usize>,
    /// The deepest tree's depth (GBDT only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<u32>,
    /// The trees' size and the test rows' walks through them (GBDT only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<super::flat::Shape>,
    /// The largest difference between the flattened trees and the crate's own prediction over
    /// the test rows, in log-odds (GBDT only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_diff_vs_crate: Option<f64>,
    /// The largest |base + Σ contributions − log-odds| over the explained test rows.
    pub max_explain_error: f64,
    /// One explanation's time on this thread, median over the explained test rows, in µs.
    pub explain_us_p50: f64,
    /// The same, 99th percentile.
    pub explain_us_p99: f64,
    /// The same rows explained by the reference algorithm (GBDT: the classic recursive
    /// TreeSHAP), median and 99th percentile in µs, timed in the same run for comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain_reference_us: Option<(f64, f64)>,
}

/// The whole evaluation. The first model's figures are repeated at the top level.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub csv: String,
    pub target: String,
    pub positive: String,
    pub split: Split,
    pub rows: usize,
    pub train_rows: usize,
    pub test_rows: usize,
    pub positive_share: f64,
    pub auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub logloss: Option<f64>,
    pub train_s: f64,
    pub predict_rows_per_s: f64,
    pub models: Vec<ModelReport>,
    /// How each column was read.
    pub columns: Vec<String>,
}

/// The train and test row indices for `n` rows.
pub fn split(n: usize, how: Split) -> (Vec<usize>, Vec<usize>) {
    match how {
        Split::Every5 => (0..n).partition(|i| i % 5 != 4),
        Split::Time => {
            let cut = n * 4 / 5;
            ((0..cut).collect(), (cut..n).collect())
        }
    }
}

/// The 0/1 labels: a row is positive when its target equals `positive` (spaces trimmed).
pub fn labels(table: &Table, target: usize, positive: &str, file: &str) -> Result<Vec<bool>, ModelError> {
    let mut out = Vec::with_capacity(table.rows.len());
    for (row, line) in table.rows.iter().zip(&table.lines) {
        let v = row[target].trim();
        if super::features::is_missing(v) {
            return Err(ModelError::Csv {
                file: file.to_owned(),
                line: *line,
                reason: format!(
                    "the target column {:?} is empty; fill it or remove the row",
                    table.header[target]
                ),
            });
        }
        out.push(v == positive);
    }
    Ok(out)
}

/// Trains one scorer and measures it on the test rows.
fn evaluate(
    mut scorer: Box<dyn ModelUnderTest>,
    table: &Table,
    skip: &[usize],
    (train, test): (&[usize], &[usize]),
    y: &[bool],
    predict_seconds: f64,
    features: FeatureOptions,
) -> Result<ModelReport, ModelError> {
    let encoder =
        Encoder::fit_with(&table.header, &table.rows, train, skip, scorer.encoding(), Some(y), features);
    let x_train = encoder.encode(&table.rows, train);
    let x_test = encoder.encode(&table.rows, test);
    if x_train.cols() == 0 {
        return Err(ModelError::Data("no usable feature columns are left; check --drop".into()));
    }
    let y_train: Vec<bool> = train.iter().map(|&i| y[i]).collect();
    let y_test: Vec<bool> = test.iter().map(|&i| y[i]).collect();
    let started = Instant::now();
    scorer.fit(&x_train, &y_train)?;
    let train_s = started.elapsed().as_secs_f64();
    let probs = scorer.predict_proba(&x_test);
    let predict_rows_per_s = throughput(scorer.as_ref(), &x_test, predict_seconds);
    let mut max_explain_error: f64 = 0.0;
    let mut explain_us = Vec::new();
    // TreeSHAP costs about depth² per leaf: a sample of rows checks the sums and is timed.
    for i in (0..x_test.rows).step_by((x_test.rows / 200).max(1)) {
        let row = x_test.row(i);
        let started = Instant::now();
        let e = std::hint::black_box(scorer.explain(std::hint::black_box(row)));
        explain_us.push(started.elapsed().as_secs_f64() * 1e6);
        max_explain_error = max_explain_error.max((e.total() - scorer.raw(row)).abs());
    }
    let mut reference_us = Vec::new();
    for i in (0..x_test.rows).step_by((x_test.rows / 200).max(1)) {
        let row = x_test.row(i);
        let started = Instant::now();
        if std::hint::black_box(scorer.explain_reference(std::hint::black_box(row))).is_none() {
            break;
        }
        reference_us.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let percentile = |times: &mut Vec<f64>, p: f64| {
        times.sort_by(f64::total_cmp);
        times.get(((times.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0)
    };
    let explain_reference_us = (!reference_us.is_empty())
        .then(|| (percentile(&mut reference_us, 0.5), percentile(&mut reference_us, 0.99)));
    Ok(ModelReport {
        model: scorer.kind(),
        auc: metrics::auc(&probs, &y_test),
        pr_auc: metrics::average_precision(&probs, &y_test),
        logloss: metrics::logloss(&probs, &y_test),
        train_s,
        predict_rows_per_s,
        features: x_train.cols(),
        trees: scorer.trees(),
        max_depth: scorer.max_depth(),
        shape: scorer.shape(&x_test),
        max_diff_vs_crate: scorer.max_diff_vs_crate(&x_test),
        max_explain_error,
        explain_us_p50: percentile(&mut explain_us, 0.5),
        explain_us_p99: percentile(&mut explain_us, 0.99),
        explain_reference_us,
    })
}

/// Rows scored per second on this thread: the test rows scored again and again for at least
/// `seconds`, in windows of at least a tenth of that, and the best window's rate. On a shared
/// machine a neighbour's burst slows some windows; the best is the code's own rate.
fn throughput(scorer: &dyn ModelUnderTest, x: &Features, seconds: f64) -> f64 {
    if x.rows == 0 {
        return 0.0;
    }
    let window = seconds / 10.0;
    let started = Instant::now();
    let mut best: f64 = 0.0;
    loop {
        let (begun, mut rows) = (Instant::now(), 0usize);
        loop {
            let p = scorer.predict_proba(std::hint::black_box(x));
            std::hint::black_box(p);
            rows += x.rows;
            let elapsed = begun.elapsed().as_secs_f64();
            if elapsed >= window {
                best = best.max(rows as f64 / elapsed);
                break;
            }
        }
        if started.elapsed().as_secs_f64() >= seconds {
            return best;
        }
    }
}

/// A scorer plus what eval reports about its kind alone.
trait ModelUnderTest: Scorer {
    fn trees(&self) -> Option<usize> {
        None
    }
    fn max_depth(&self) -> Option<u32> {
        None
    }
    fn max_diff_vs_crate(&self, _x: &Features) -> Option<f64> {
        None
    }
    fn shape(&self, _x: &Features) -> Option<super::flat::Shape> {
        None
    }
    /// The contributions by a slower reference algorithm, if the kind has one.
    fn explain_reference(&self, _row: &[f64]) -> Option<Vec<f64>> {
        None
    }
}

impl ModelUnderTest for Logistic {}

impl ModelUnderTest for Gbdt {
    fn trees(&self) -> Option<usize> {
        Some(Gbdt::trees(self))
    }
    fn max_depth(&self) -> Option<u32> {
        self.forest().trees.iter().map(|t| t.depth).max()
    }
    fn shape(&self, x: &Features) -> Option<super::flat::Shape> {
        Some(self.forest().shape(&x.values))
    }
    fn explain_reference(&self, row: &[f64]) -> Option<Vec<f64>> {
        Some(self.forest().explain_recursive(row).1)
    }
    fn max_diff_vs_crate(&self, x: &Features) -> Option<f64> {
        let reference = self.crate_raw(x);
        let mut ours = vec![0.0; x.rows];
        self.forest().raw_batch(&x.values, &mut ours);
        Some(reference.iter().zip(&ours).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max))
    }
}

/// Reads the CSV, trains the chosen models and measures them.
pub fn run(opts: &Options) -> Result<Report, ModelError> {
    let file = opts.csv.display().to_string();
    let table = csv::read(&opts.csv)?;
    let target = table.column(&opts.target, &file)?;
    let mut skip = vec![target];
    for name in &opts.drop {
        if name == &opts.target {
            return Err(ModelError::Data(format!("--drop names the target {name:?}; drop only features")));
        }
        skip.push(table.column(name, &file)?);
    }
    let y = labels(&table, target, &opts.positive, &file)?;
    let positives = y.iter().filter(|&&l| l).count();
    if positives == 0 || positives == y.len() {
        let mut seen: Vec<&str> = table.rows.iter().map(|r| r[target].trim()).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.truncate(10);
        return Err(ModelError::Data(format!(
            "{} rows of {file} have {} = {:?}; both classes are needed. Values seen: {}",
            if positives == 0 { "no" } else { "all" },
            opts.target,
            opts.positive,
            seen.join(", ")
        )));
    }
    let (mut train, mut test) = split(table.rows.len(), opts.split);
    if opts.inner {
        let (inner_train, inner_test) = split(train.len(), opts.split);
        (train, test) =
            (inner_train.iter().map(|&i| train[i]).collect(), inner_test.iter().map(|&i| train[i]).collect());
    }
    if train.is_empty() || test.is_empty() {
        return Err(ModelError::Data(format!(
            "{} data rows are too few to split into training and test rows; use at least 5",
            table.rows.len()
        )));
    }
    let mut scorers: Vec<Box<dyn ModelUnderTest>> = Vec::new();
    if matches!(opts.models, Which::Gbdt | Which::Both) {
        scorers.push(Box::new(Gbdt::new(opts.gbdt)));
    }
    if matches!(opts.models, Which::Logistic | Which::Both) {
        scorers.push(Box::new(Logistic::new()));
    }
    let mut models = Vec::new();
    for s in scorers {
        models.push(evaluate(s, &table, &skip, (&train, &test), &y, opts.predict_seconds, opts.features)?);
    }
    let columns = Encoder::fit_with(
        &table.header,
        &table.rows,
        &train,
        &skip,
        super::features::Encoding::Codes,
        Some(&y),
        opts.features,
    )
    .notes;
    let first = models.first().cloned().ok_or_else(|| ModelError::Data("no model chosen".into()))?;
    Ok(Report {
        csv: file,
        target: opts.target.clone(),
        positive: opts.positive.clone(),
        split: opts.split,
        rows: table.rows.len(),
        train_rows: train.len(),
        test_rows: test.len(),
        positive_share: positives as f64 / y.len() as f64,
        auc: first.auc,
        pr_auc: first.pr_auc,
        logloss: first.logloss,
        train_s: first.train_s,
        predict_rows_per_s: first.predict_rows_per_s,
        models,
        columns,
    })
}

/// The report as text, one `key: value` per line, a block per model.
pub fn render(r: &Report) -> String {
    let f = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.4}"));
    let mut out = format!(
        "csv: {}\nrows: {} ({} train, {} test, split {}), positive share {:.4}\n",
        r.csv,
        r.rows,
        r.train_rows,
        r.test_rows,
        match r.split {
            Split::Every5 => "every5",
            Split::Time => "time",
        },
        r.positive_share
    );
    for c in &r.columns {
        out.push_str(&format!("column {c}\n"));
    }
    for m in &r.models {
        out.push_str(&format!(
            "\nmodel: {}\nauc: {}\npr_auc: {}\nlogloss: {}\ntrain_s: {:.3}\npredict_rows_per_s: {:.0}\nfeatures: {}\n",
            m.model,
            f(m.auc),
            f(m.pr_auc),
            f(m.logloss),
            m.train_s,
            m.predict_rows_per_s,
            m.features
        ));
        if let Some(t) = m.trees {
            out.push_str(&format!("trees: {t}\n"));
        }
        if let Some(t) = m.max_depth {
            out.push_str(&format!("max_depth: {t}\n"));
        }
        if let Some(s) = m.shape {
            out.push_str(&format!(
                "nodes: {}, leaves: {}, mean tree depth {:.1}, mean path {:.2} splits per tree and row\n",
                s.nodes, s.leaves, s.mean_tree_depth, s.mean_path
            ));
        }
        if let Some(d) = m.max_diff_vs_crate {
            out.push_str(&format!("max_diff_vs_crate: {d:e}\n"));
        }
        out.push_str(&format!("max_explain_error: {:e}\n", m.max_explain_error));
        out.push_str(&format!("explain_us: p50 {:.1}, p99 {:.1}\n", m.explain_us_p50, m.explain_us_p99));
        if let Some((p50, p99)) = m.explain_reference_us {
            out.push_str(&format!("explain_reference_us (recursive TreeSHAP): p50 {p50:.1}, p99 {p99:.1}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every5_tests_index_4_9_14() {
        let (train, test) = split(12, Split::Every5);
        assert_eq!(test, [4, 9]);
        assert_eq!(train.len(), 10);
        let (train, test) = split(10, Split::Time);
        assert_eq!(train, (0..8).collect::<Vec<_>>());
        assert_eq!(test, [8, 9]);
    }

    #[test]
    fn labels_match_the_positive_value_and_refuse_empty_targets() {
        let t = csv::parse("x,y\n1,yes\n2,no\n3, yes \n", "f").expect("parses");
        assert_eq!(labels(&t, 1, "yes", "f").expect("labels"), [true, false, true]);
        let t = csv::parse("x,y\n1,yes\n2,\n", "f").expect("parses");
        let e = labels(&t, 1, "yes", "f").expect_err("an empty target");
        assert!(e.to_string().contains("line 3"), "{e}");
    }
}
