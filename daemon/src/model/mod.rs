//! The lead-conversion model: any CSV in, a scorer out, with exact per-row explanations.
//!
//! One job per file:
//! - [`csv`]: reading a delimited file, separator detected;
//! - [`features`]: column kinds inferred from values, rows encoded as numbers;
//! - [`gbdt`]: gradient-boosted trees (the `perpetual` crate) behind [`Scorer`];
//! - [`flat`]: those trees flattened into arrays for fast prediction and exact TreeSHAP;
//! - [`walk`]: the flattened trees recompiled for prediction: rows as bins, 8-byte nodes;
//! - `shap`: exact TreeSHAP leaf by leaf, hot and cold features apart;
//! - [`logistic`]: the logistic-regression baseline, explained exactly by its terms;
//! - [`metrics`]: AUC, average precision, log loss;
//! - [`eval`]: `leadlined model eval`: split, train, measure.

pub mod csv;
pub mod eval;
pub mod features;
pub mod flat;
pub mod gbdt;
pub mod logistic;
pub mod metrics;
mod shap;
pub mod walk;

use serde::{Deserialize, Serialize};

pub use features::Features;

/// Errors of the model module; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {file}: {reason}; check the path and its permissions")]
    Read { file: String, reason: String },
    #[error("{file}, line {line}: {reason}")]
    Csv { file: String, line: usize, reason: String },
    #[error("{file} has no column {name:?}; its columns are: {columns}")]
    NoSuchColumn { file: String, name: String, columns: String },
    #[error("{0}")]
    Data(String),
    #[error("training failed: {0}")]
    Train(String),
    #[error("the saved model cannot be read ({0}); train and save it again")]
    Load(String),
}

impl ModelError {
    /// Whether the input (file, columns, values) is at fault rather than the machine.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            ModelError::Read { .. }
                | ModelError::Csv { .. }
                | ModelError::NoSuchColumn { .. }
                | ModelError::Data(_)
        )
    }
}

/// Why a row scored as it did: `base + Σ contributions` is the model's log-odds for it.
///
/// For the trees, the contributions are exact Shapley values (TreeSHAP): the model's expected
/// log-odds with only some features known (the trees' training covers weight the branches of
/// the unknown ones), and each feature's contribution its marginal change averaged over every
/// order of learning the features. For the logistic regression, each term of the linear sum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The log-odds before any feature is known: the trees' cover-weighted mean output, or the
    /// logistic regression's intercept.
    pub base: f64,
    /// Each feature's share of the log-odds, in feature order.
    pub contributions: Vec<(String, f64)>,
}

impl Explanation {
    /// `base + Σ contributions`.
    pub fn total(&self) -> f64 {
        self.base + self.contributions.iter().map(|(_, c)| c).sum::<f64>()
    }
}

/// A binary classifier that scores a row of [`Features`] and says why.
///
/// Rows come from one [`features::Encoder`]; a scorer is saved and loaded as JSON, so a stored
/// model can score new leads without retraining.
pub trait Scorer {
    /// A short name: `gbdt`, `logistic`.
    fn kind(&self) -> &'static str;

    /// The encoding of categorical columns this scorer wants.
    fn encoding(&self) -> features::Encoding;

    /// Trains on `x` with labels `y` (true = the positive class).
    fn fit(&mut self, x: &Features, y: &[bool]) -> Result<(), ModelError>;

    /// The log-odds of the positive class for one row.
    fn raw(&self, row: &[f64]) -> f64;

    /// The probability of the positive class for every row of `x`.
    fn predict_proba(&self, x: &Features) -> Vec<f64> {
        (0..x.rows).map(|i| metrics::sigmoid(self.raw(x.row(i)))).collect()
    }

    /// Exact contributions for one row: their sum plus the base is [`Scorer::raw`].
    fn explain(&self, row: &[f64]) -> Explanation;

    /// The trained model as JSON.
    fn to_json(&self) -> Result<String, ModelError>;

    /// A model saved by [`Scorer::to_json`].
    fn from_json(json: &str) -> Result<Self, ModelError>
    where
        Self: Sized;
}
