//! `model_auc` and `model_predict_rows_per_s`: `leadlined model eval` on the bank data set, in
//! process, exactly as the command runs it (`--target y --positive yes --drop duration
//! --split every5`, the GBDT).

use std::path::PathBuf;

use leadline_daemon::model::eval::{self, Options, Split, Which};

/// The data set, beside the repository as the project's shared folder lays it out.
pub fn bank_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/bank-marketing/bank-full.csv")
}

/// The GBDT's test AUC and single-thread prediction rate, or `None` when the data set is absent.
pub fn measure() -> anyhow::Result<Option<(f64, f64)>> {
    let csv = bank_csv();
    if !csv.exists() {
        return Ok(None);
    }
    let report = eval::run(&Options {
        csv,
        target: "y".into(),
        positive: "yes".into(),
        drop: vec!["duration".into()],
        split: Split::Every5,
        models: Which::Gbdt,
        gbdt: Default::default(),
        predict_seconds: 0.5,
    })?;
    Ok(report.auc.map(|auc| (auc, report.predict_rows_per_s)))
}
