//! `model_auc` and `model_predict_rows_per_s`: `leadlined model eval` on the bank data set, in
//! process, exactly as the command runs it (`--target y --positive yes --drop duration
//! --split every5`, the GBDT).

use std::path::{Path, PathBuf};

use leadline_daemon::model::eval::{self, Options, Split, Which};

/// The bank data set in a data directory (`--data-dir`), laid out as the team's data folder is.
pub fn bank_csv(data_dir: &Path) -> PathBuf {
    data_dir.join("bank-marketing/bank-full.csv")
}

/// The GBDT's test AUC and single-thread prediction rate, or `None` when no data directory was
/// given or it does not hold the data set.
pub fn measure(data_dir: Option<&Path>) -> anyhow::Result<Option<(f64, f64)>> {
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
    Ok(report.auc.map(|auc| (auc, report.predict_rows_per_s)))
}
