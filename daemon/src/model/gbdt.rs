//! Gradient-boosted trees from the `perpetual` crate, behind [`Scorer`].
//!
//! The crate trains; prediction and explanation go through the trees flattened by
//! [`flat`](super::flat), which gives the crate's `predict` to the bit, many times faster.
//! The crate's own Shapley contributions were tried and left: on the bank data set their sum
//! missed the prediction by up to 3.8e6 (not investigated further).

use std::collections::{HashMap, HashSet};

use perpetual::booster::config::BoosterIO;
use perpetual::objective::Objective;
use perpetual::tree::core::TreeStopper;
use perpetual::{Matrix, PerpetualBooster};
use serde::{Deserialize, Serialize};

use super::features::{Encoding, Features};
use super::flat::{BuildNode, Forest};
use super::{Explanation, ModelError, Scorer};

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GbdtConfig {
    /// The crate's one knob: more budget, more and finer trees (0.5–2 is the useful range).
    pub budget: f32,
    /// Threads for training; `None` uses every core. Prediction is single-threaded.
    pub threads: Option<usize>,
    /// Hand categorical features to the crate as such (its own category splits) rather than as
    /// ordered codes.
    pub native_categories: bool,
    /// Reweight the classes to balance them during training (the crate's default). Off keeps
    /// the probabilities calibrated to the base rate, which log loss rewards.
    pub balance_classes: bool,
    /// The memory the crate may plan its training for, in GB (`None`: what the machine has
    /// free). The crate allocates, and fills, a histogram for as many tree nodes as that
    /// memory holds (at most 10,000) before it grows the first tree: on a few thousand
    /// deals, 630 MB for a second, seven times the daemon's own. A tree stops growing at
    /// that many nodes, so the limit must leave room for the largest tree.
    #[serde(default)]
    pub memory_limit_gb: Option<f32>,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        // 2.0: the best of 0.5, 1.0, 1.5 and 2.0 on an inner split of the bank data's training
        // rows (docs/model.md), at the cost of 4-5 times the trees of 1.0.
        GbdtConfig {
            budget: 2.0,
            threads: None,
            native_categories: false,
            balance_classes: false,
            memory_limit_gb: None,
        }
    }
}

/// The trained state: what is saved.
#[derive(Clone)]
struct Trained {
    names: Vec<String>,
    booster: PerpetualBooster,
}

/// A gradient-boosted tree model.
#[derive(Clone)]
pub struct Gbdt {
    pub config: GbdtConfig,
    trained: Option<Trained>,
    forest: Forest,
}

impl std::fmt::Debug for Gbdt {
    // The crate's booster has no `Debug`; its size says enough.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gbdt").field("config", &self.config).field("trees", &self.trees()).finish()
    }
}

/// The version written with a saved model; a different one is refused on load.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Saved {
    format: u32,
    kind: String,
    config: GbdtConfig,
    names: Vec<String>,
    /// The crate's own JSON of its booster.
    booster: serde_json::Value,
}

impl Gbdt {
    /// Whether a tree of the last training stopped growing because it had as many nodes as
    /// the memory limit planned histograms for ([`GbdtConfig::memory_limit_gb`]): with more
    /// memory it might have grown further, so the model may not be the one a larger limit
    /// would give.
    pub fn reached_node_limit(&self) -> bool {
        self.trained.as_ref().is_some_and(|t| {
            t.booster.get_prediction_trees().iter().any(|tree| tree.stopper == TreeStopper::MaxNodes)
        })
    }

    /// An untrained model.
    pub fn new(config: GbdtConfig) -> Self {
        Gbdt { config, trained: None, forest: Forest::default() }
    }

    /// Trains with each memory limit of `limits` in turn (`config`'s own is replaced), until a
    /// training in which no tree reached the nodes its limit planned for
    /// ([`Gbdt::reached_node_limit`]); the last limit's model is kept whatever it reached.
    /// With the smaller limits first, most trainings fill the smaller histograms only, and
    /// the model is still the one the last limit gives. Also returns how many trainings ran.
    pub fn fit_within(
        config: GbdtConfig,
        limits: &[Option<f32>],
        x: &Features,
        y: &[bool],
    ) -> Result<(Gbdt, usize), ModelError> {
        let mut tries = 0;
        let mut last = None;
        for &memory_limit_gb in limits {
            let mut scorer = Gbdt::new(GbdtConfig { memory_limit_gb, ..config });
            scorer.fit(x, y)?;
            tries += 1;
            let done = !scorer.reached_node_limit();
            last = Some(scorer);
            if done {
                break;
            }
        }
        let scorer = last.ok_or_else(|| ModelError::Train("no memory limit to train with".into()))?;
        Ok((scorer, tries))
    }

    /// The flattened trees (empty until trained).
    pub fn forest(&self) -> &Forest {
        &self.forest
    }

    /// How many trees the crate grew.
    pub fn trees(&self) -> usize {
        self.forest.trees.len()
    }

    /// The crate's own prediction (log-odds) for every row: the reference the flattened trees
    /// are checked against.
    pub fn crate_raw(&self, x: &Features) -> Vec<f64> {
        let Some(t) = &self.trained else { return vec![f64::NAN; x.rows] };
        let data = x.column_major();
        t.booster.predict(&Matrix::new(&data, x.rows, x.cols()), false)
    }
}

/// Flattens the crate's trees (nodes in a hash map by number, root 0).
fn flatten(booster: &PerpetualBooster, features: usize) -> Result<Forest, ModelError> {
    let mut forest = Forest::new(booster.base_score, features);
    for (t, tree) in booster.get_prediction_trees().iter().enumerate() {
        // Renumber breadth-first from the root, so the tree's nodes are contiguous and the
        // upper levels (walked by every row) share cache lines.
        let mut order = vec![0usize];
        let mut number: HashMap<usize, usize> = HashMap::from([(0, 0)]);
        let mut k = 0;
        while k < order.len() {
            let node = tree.nodes.get(&order[k]).ok_or_else(|| {
                ModelError::Train(format!("tree {t} names node {} that it does not hold", order[k]))
            })?;
            if !node.is_leaf {
                for c in [node.left_child, node.right_child, node.missing_node] {
                    if let std::collections::hash_map::Entry::Vacant(slot) = number.entry(c) {
                        slot.insert(order.len());
                        order.push(c);
                    }
                }
            }
            k += 1;
        }
        let mut nodes = Vec::with_capacity(order.len());
        for n in &order {
            let node = &tree.nodes[n];
            nodes.push(if node.is_leaf {
                BuildNode::Leaf { value: f64::from(node.weight_value), cover: f64::from(node.hessian_sum) }
            } else {
                BuildNode::Split {
                    feature: node.split_feature,
                    threshold: node.split_value,
                    categories: node.left_cats.as_ref().map(|c| c.to_vec()),
                    left: number[&node.left_child],
                    right: number[&node.right_child],
                    missing: number[&node.missing_node],
                }
            });
        }
        forest.push_tree(&nodes).map_err(|e| ModelError::Train(format!("tree {t}: {e}")))?;
    }
    Ok(forest)
}

impl Scorer for Gbdt {
    fn kind(&self) -> &'static str {
        "gbdt"
    }

    fn encoding(&self) -> Encoding {
        Encoding::Codes
    }

    fn fit(&mut self, x: &Features, y: &[bool]) -> Result<(), ModelError> {
        if x.rows == 0 || x.cols() == 0 || y.len() != x.rows {
            return Err(ModelError::Data(format!(
                "nothing to train on ({} rows, {} features, {} labels)",
                x.rows,
                x.cols(),
                y.len()
            )));
        }
        let data = x.column_major();
        let matrix = Matrix::new(&data, x.rows, x.cols());
        let labels: Vec<f64> = y.iter().map(|&l| if l { 1.0 } else { 0.0 }).collect();
        let categorical: HashSet<usize> = x.categorical.iter().copied().collect();
        let mut booster = PerpetualBooster::default()
            .set_objective(Objective::LogLoss)
            .set_budget(self.config.budget)
            .set_num_threads(self.config.threads)
            .set_memory_limit(self.config.memory_limit_gb)
            .set_categorical_features(
                (self.config.native_categories && !categorical.is_empty()).then_some(categorical),
            );
        booster.cfg.auto_class_weights = self.config.balance_classes;
        booster.fit(&matrix, &labels, None, None).map_err(|e| ModelError::Train(e.to_string()))?;
        self.forest = flatten(&booster, x.cols())?;
        self.trained = Some(Trained { names: x.names.clone(), booster });
        Ok(())
    }

    fn raw(&self, row: &[f64]) -> f64 {
        self.forest.raw(row)
    }

    fn predict_proba(&self, x: &Features) -> Vec<f64> {
        let mut out = vec![0.0; x.rows];
        self.forest.raw_batch(&x.values, &mut out);
        out.iter_mut().for_each(|v| *v = super::metrics::sigmoid(*v));
        out
    }

    fn explain(&self, row: &[f64]) -> Explanation {
        let (base, contributions) = self.forest.explain(row);
        let names = self.trained.as_ref().map(|t| t.names.as_slice()).unwrap_or_default();
        Explanation { base, contributions: names.iter().cloned().zip(contributions).collect() }
    }

    fn to_json(&self) -> Result<String, ModelError> {
        let Some(t) = &self.trained else {
            return Err(ModelError::Data("the model is not trained; train it before saving".into()));
        };
        let booster = serde_json::to_value(&t.booster).map_err(|e| ModelError::Train(e.to_string()))?;
        let saved = Saved {
            format: FORMAT,
            kind: "gbdt".into(),
            config: self.config,
            names: t.names.clone(),
            booster,
        };
        serde_json::to_string(&saved).map_err(|e| ModelError::Train(e.to_string()))
    }

    fn from_json(json: &str) -> Result<Self, ModelError> {
        let saved: Saved = serde_json::from_str(json).map_err(|e| ModelError::Load(e.to_string()))?;
        if saved.format != FORMAT || saved.kind != "gbdt" {
            return Err(ModelError::Load(format!(
                "a {} model in format {}, not gbdt {FORMAT}",
                saved.kind, saved.format
            )));
        }
        let booster = PerpetualBooster::from_json(&saved.booster.to_string())
            .map_err(|e| ModelError::Load(e.to_string()))?;
        let forest = flatten(&booster, saved.names.len()).map_err(|e| ModelError::Load(e.to_string()))?;
        Ok(Gbdt { config: saved.config, trained: Some(Trained { names: saved.names, booster }), forest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 800 rows with a known signal: x0 numeric (with some missing), x1 categorical (5 levels,
    /// two of them good), x2 noise. A small linear congruential generator keeps it fixed.
    fn data() -> (Features, Vec<bool>) {
        let mut state: u64 = 42;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut values, mut y) = (Vec::new(), Vec::new());
        for _ in 0..800 {
            let x0 = if next() < 0.1 { f64::NAN } else { next() * 10.0 };
            let x1 = (next() * 5.0).floor();
            let x2 = next();
            let z = -2.0
                + if x0.is_nan() { 1.0 } else { 0.3 * x0 }
                + if x1 == 1.0 || x1 == 3.0 { 1.5 } else { 0.0 };
            y.push(next() < super::super::metrics::sigmoid(z));
            values.extend([x0, x1, x2]);
        }
        let names = vec!["x0".into(), "x1".into(), "x2".into()];
        (Features { values, rows: 800, names, categorical: vec![1] }, y)
    }

    /// The daemon's memory limit caps the crate's histograms, not the trees: with room for
    /// them, the model is the one trained without a limit, to the bit.
    #[test]
    fn a_memory_limit_with_room_for_the_trees_trains_the_same_model() {
        let (x, y) = data();
        let mut free = Gbdt::new(GbdtConfig { budget: 1.0, threads: Some(1), ..Default::default() });
        let mut limited = Gbdt::new(GbdtConfig {
            budget: 1.0,
            threads: Some(1),
            memory_limit_gb: Some(0.1),
            ..Default::default()
        });
        free.fit(&x, &y).expect("trains");
        limited.fit(&x, &y).expect("trains");
        assert_eq!(free.trees(), limited.trees());
        let (a, b) = (free.predict_proba(&x), limited.predict_proba(&x));
        assert!(a.iter().zip(&b).all(|(a, b)| a.to_bits() == b.to_bits()), "the same probabilities");
        // The limit reaches the crate: with no room for them, it caps the trees.
        let mut starved = Gbdt::new(GbdtConfig {
            budget: 1.0,
            threads: Some(1),
            memory_limit_gb: Some(1e-6),
            ..Default::default()
        });
        starved.fit(&x, &y).expect("trains");
        assert_ne!(starved.predict_proba(&x), a, "a limit with no room changes the model");
    }

    /// A limit too small for the trees is found out and the next one trains, to the model it
    /// alone would give; a limit with room needs one training.
    #[test]
    fn a_limit_too_small_for_the_trees_trains_again_with_the_next() {
        let (x, y) = data();
        let config = GbdtConfig { budget: 1.0, threads: Some(1), ..Default::default() };
        let mut free = Gbdt::new(config);
        free.fit(&x, &y).expect("trains");
        assert!(!free.reached_node_limit());
        let mut starved = Gbdt::new(GbdtConfig { memory_limit_gb: Some(1e-6), ..config });
        starved.fit(&x, &y).expect("trains");
        assert!(starved.reached_node_limit(), "three nodes cannot hold these trees");

        let (twice, tries) = Gbdt::fit_within(config, &[Some(1e-6), None], &x, &y).expect("trains");
        assert_eq!(tries, 2);
        assert_eq!(twice.forest(), free.forest(), "the model of the last limit");
        let (once, tries) = Gbdt::fit_within(config, &[Some(0.1), None], &x, &y).expect("trains");
        assert_eq!(tries, 1);
        assert_eq!(once.forest(), free.forest());
        let (kept, tries) = Gbdt::fit_within(config, &[Some(1e-6)], &x, &y).expect("trains");
        assert_eq!(
            (tries, kept.reached_node_limit()),
            (1, true),
            "the last limit is kept whatever it reached"
        );
        assert!(Gbdt::fit_within(config, &[], &x, &y).is_err());
    }

    fn trained() -> (Gbdt, Features, Vec<bool>) {
        let (x, y) = data();
        let mut m = Gbdt::new(GbdtConfig { budget: 0.5, threads: Some(1), ..Default::default() });
        m.fit(&x, &y).expect("trains");
        (m, x, y)
    }

    #[test]
    fn flat_trees_equal_the_crate_and_explanations_add_up_on_every_row() {
        let (m, x, y) = trained();
        assert!(m.trees() > 1);
        let reference = m.crate_raw(&x);
        let mut batch = vec![0.0; x.rows];
        m.forest().raw_batch(&x.values, &mut batch);
        for i in 0..x.rows {
            let row = x.row(i);
            assert!((m.raw(row) - reference[i]).abs() < 1e-9, "row {i}: {} vs {}", m.raw(row), reference[i]);
            assert_eq!(batch[i], m.raw(row));
            let e = m.explain(row);
            assert_eq!(e.contributions.len(), 3);
            assert!((e.total() - reference[i]).abs() < 1e-6, "row {i}: {} vs {}", e.total(), reference[i]);
        }
        let auc = super::super::metrics::auc(&m.predict_proba(&x), &y).expect("both classes");
        assert!(auc > 0.75, "the signal was not learned: {auc}");
        // The noise feature explains less than the signal on average.
        let mean_abs =
            |j: usize| (0..x.rows).map(|i| m.explain(x.row(i)).contributions[j].1.abs()).sum::<f64>();
        assert!(mean_abs(2) < mean_abs(0), "{} vs {}", mean_abs(2), mean_abs(0));
    }

    #[test]
    fn saved_and_loaded_scores_the_same() {
        let (m, x, _) = trained();
        let back = Gbdt::from_json(&m.to_json().expect("saves")).expect("loads");
        for i in 0..x.rows {
            assert_eq!(back.raw(x.row(i)), m.raw(x.row(i)));
        }
        assert!(Gbdt::from_json("{}").is_err());
        assert!(Gbdt::new(GbdtConfig::default()).to_json().is_err(), "an untrained model is not saved");
    }
}
