//! `model_auc`, `model_predict_rows_per_s`, `model_explain_p50_us` and `model_explain_p99_us`:
//! `leadlined model eval` on the bank data set, in process, exactly as the command runs it
//! (`--target y --positive yes --drop duration --split every5`, the GBDT).

use std::path::{Path, PathBuf};

use leadline_daemon::model::eval::{self, Options, Split, Which};

/// The bank data set in a data directory (`--data-dir`), laid out as the team's data folder is.
pub fn bank_csv(data_dir: &Path) -> PathBuf {
    data_dir.join("bank-marketing/bank-full.csv")
}

/// The GBDT's figures on the bank data set's test rows.
#[derive(Debug, Clone, Copy)]
pub struct ModelFigures {
    pub auc: f64,
    /// Test rows scored per second on one thread.
    pub predict_rows_per_s: f64,
    /// One explanation's time, median and 99th percentile over 200 test rows, in µs.
    pub explain_p50_us: f64,
    pub explain_p99_us: f64,
}

/// The GBDT's figures, or `None` when no data directory was given or it does not hold the
/// data set.
pub fn measure(data_dir: Option<&Path>) -> anyhow::Result<Option<ModelFigures>> {
    let Some(csv) = data_dir.map(bank_csv).filter(|c| c.exists()) else {
        return Ok(None);
    };
    let report = eval::run(&Options {
        csv,
        target: "y".into(),
        positive: "yes".into(),
        drop: vec!["duration".into()],
        split: Split::Every5,
        models: Which::Gbdt,
        gbdt: Default::default(),
        predict_seconds: 0.5,
        features: Default::default(),
        inner: false,
    })?;
    let Some(gbdt) = report.models.first() else { return Ok(None) };
    Ok(report.auc.map(|auc| ModelFigures {
        auc,
        predict_rows_per_s: report.predict_rows_per_s,
        explain_p50_us: gbdt.explain_us_p50,
        explain_p99_us: gbdt.explain_us_p99,
    }))
}
