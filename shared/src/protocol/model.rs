//! `leadline model status` and `leadline model train`: which model scores the leads, why, and
//! every model trained on the location's history.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The conversion model's state in the daemon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelStatus {
    /// The model scoring the leads: `rules-v1`, or `gbdt-vN` once one was promoted.
    pub active: String,
    /// Why the leads are scored by `rules-v1` (too little history, or the newest model did not
    /// beat it), or why the newest model was not promoted over the active one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When training last ran (nightly, or asked for).
    pub last_run_at: Option<Timestamp>,
    /// The closed deals the last run found: won, and lost or abandoned.
    pub won: usize,
    pub lost: usize,
    /// What training needs (`[scoring] model_min_closed_deals` and `model_min_per_class`).
    pub min_closed_deals: usize,
    pub min_per_class: usize,
    /// Every model trained, oldest first.
    pub models: Vec<ModelSummary>,
    /// A training run is under way now, with the rescore of every lead that follows a
    /// promotion (set in answers only; never stored).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub training: bool,
    /// The scorer a full rescore of every lead is under way for and has not finished (after a
    /// promotion, or one a crash cut short, which the daemon finishes at start). Set in
    /// answers only; never stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescoring: Option<String>,
}

/// One trained model's record (the serialized scorer stays in the daemon's store).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelSummary {
    pub version: u32,
    /// `gbdt-vN`: what a score made by it says in `model`.
    pub name: String,
    /// The scorer: `gbdt` or `logistic`.
    pub kind: String,
    pub trained_at: Option<Timestamp>,
    /// Closed deals trained on, and held out (the newest, by close time).
    pub train_rows: usize,
    pub held_out_rows: usize,
    /// AUCs on the held-out deals: this model's, `rules-v1`'s, and the then active model's.
    pub held_out_auc: Option<f64>,
    pub rules_auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_auc: Option<f64>,
    pub promoted: bool,
    /// The verdict in words: why it was promoted or not.
    pub verdict: String,
}
