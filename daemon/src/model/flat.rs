//! Trained trees flattened into one array of small nodes, for fast prediction.
//!
//! The GBDT crate walks each tree through a hash map of nodes and one row at a time; this walks
//! a contiguous array. Each tree keeps its nodes together, and a leaf points to itself, so a
//! walk is exactly `depth` steps of "compare, pick a child" with no test for having arrived:
//! the steps compile to conditional moves, and there is no branch left to mispredict. Rows are
//! taken in blocks, each tree over the whole block, so a tree's nodes stay in cache while the
//! block's independent walks overlap in the CPU.
//!
//! Splits are those of the crate, compared the same way (`value < threshold` goes left, a
//! missing value takes the node's missing child, a categorical split tests the value's bit),
//! and leaves are summed in the crate's order, so outputs match its `predict` to the last bit.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::walk::Compiled;

/// Marks a node whose split is numeric.
const NUMERIC: u32 = u32::MAX;

/// One node. A leaf has `left == right == missing ==` its own index.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// `value < threshold` goes left.
    pub threshold: f64,
    pub feature: u32,
    pub left: u32,
    pub right: u32,
    /// Where a missing (`NaN`) value goes.
    pub missing: u32,
    /// For a categorical split, the first word of its left-going categories in
    /// [`Forest::category_bits`]; [`NUMERIC`] otherwise.
    pub categories: u32,
    /// How many words of category bits it has.
    pub category_words: u32,
}

impl Node {
    /// The node's children without repeats (a leaf's are itself; a missing child may be the
    /// left or the right one): the array, and how many of it are used.
    pub fn distinct_children(&self) -> ([u32; 3], usize) {
        let mut children = [self.left, self.right, self.missing];
        let mut count = 1;
        if self.right != self.left {
            count = 2;
        }
        if self.missing != self.left && self.missing != self.right {
            children[count] = self.missing;
            count += 1;
        }
        (children, count)
    }
}

/// A tree's place in [`Forest::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TreeRef {
    pub root: u32,
    /// Steps from the root to its deepest leaf.
    pub depth: u32,
}

/// A flattened ensemble: `base + Σ leaf` is the log-odds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Forest {
    pub base: f64,
    pub nodes: Vec<Node>,
    /// Each node's leaf value (0 for inner nodes), beside the nodes so they stay small.
    pub leaf_values: Vec<f64>,
    pub trees: Vec<TreeRef>,
    pub category_bits: Vec<u64>,
    /// Each node's expected output over the training rows that reached it (a leaf's is its
    /// value); a root's is its tree's share of [`Forest::explain`]'s base.
    pub expected: Vec<f64>,
    /// Each node's share of its parent's cover (the training hessian sum that reached it); 1 at
    /// a root. The weights of TreeSHAP's conditional expectations.
    #[serde(default)]
    pub share: Vec<f64>,
    /// The number of features a row must have.
    pub features: usize,
    /// What prediction and explanation derive from the trees, built at first use and never
    /// stored.
    #[serde(skip)]
    derived: Derived,
}

/// The forest's derived forms: rebuilt from the trees, so they count in no comparison.
#[derive(Debug, Clone, Default)]
struct Derived {
    compiled: OnceLock<Option<Compiled>>,
    paths: OnceLock<Option<super::shap::Paths>>,
    weights: OnceLock<Vec<Vec<f64>>>,
}

impl PartialEq for Derived {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A tree as the builder sees it: nodes with children by index, root at 0.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildNode {
    /// A leaf: its value, and the training weight (hessian sum) that reached it.
    Leaf { value: f64, cover: f64 },
    Split {
        feature: usize,
        threshold: f64,
        /// Left-going categories as a bitset over category codes, for a categorical split.
        categories: Option<Vec<u8>>,
        left: usize,
        right: usize,
        missing: usize,
    },
}

impl BuildNode {
    /// A leaf that training rows reached with weight 1 (for tests and hand-built trees).
    pub fn leaf(value: f64) -> Self {
        BuildNode::Leaf { value, cover: 1.0 }
    }
}

/// Rows per block: a block of rows (16 features × 8 bytes × 64 ≈ 8 KB) and the tree it walks
/// fit in the first-level cache together.
const BLOCK: usize = 64;

impl Forest {
    /// An empty forest that predicts `base` everywhere.
    pub fn new(base: f64, features: usize) -> Self {
        Forest { base, features, ..Forest::default() }
    }

    /// Adds a tree given as nodes whose root is index 0.
    pub fn push_tree(&mut self, tree: &[BuildNode]) -> Result<(), String> {
        if tree.is_empty() {
            return Err("a tree without nodes".into());
        }
        let offset = self.nodes.len();
        let at = |i: usize| -> Result<u32, String> {
            if i >= tree.len() {
                return Err(format!("a child index {i} past the tree's {} nodes", tree.len()));
            }
            u32::try_from(offset + i).map_err(|_| "more than 4 G nodes".to_string())
        };
        for (i, node) in tree.iter().enumerate() {
            let me = at(i)?;
            match node {
                BuildNode::Leaf { value, .. } => {
                    self.nodes.push(Node {
                        threshold: 0.0,
                        feature: 0,
                        left: me,
                        right: me,
                        missing: me,
                        categories: NUMERIC,
                        category_words: 0,
                    });
                    self.leaf_values.push(*value);
                }
                BuildNode::Split { feature, threshold, categories, left, right, missing } => {
                    if *feature >= self.features {
                        return Err(format!("a split on feature {feature} of {}", self.features));
                    }
                    let (first, words) = match categories {
                        Some(bytes) => {
                            let first = self.category_bits.len() as u32;
                            let words: Vec<u64> = bytes
                                .chunks(8)
                                .map(|c| {
                                    c.iter()
                                        .enumerate()
                                        .fold(0u64, |w, (k, &b)| w | (u64::from(b) << (8 * k)))
                                })
                                .collect();
                            let n = words.len() as u32;
                            self.category_bits.extend(words);
                            (first, n)
                        }
                        None => (NUMERIC, 0),
                    };
                    self.nodes.push(Node {
                        threshold: *threshold,
                        feature: *feature as u32,
                        left: at(*left)?,
                        right: at(*right)?,
                        missing: at(*missing)?,
                        categories: first,
                        category_words: words,
                    });
                    self.leaf_values.push(0.0);
                }
            }
        }
        self.derived = Derived::default();
        let depth = depth_of(tree)?;
        let (expected, share) = expectations(tree);
        self.expected.extend(expected);
        self.share.extend(share);
        self.trees.push(TreeRef { root: offset as u32, depth });
        Ok(())
    }

    /// Each feature's Shapley value for one row's log-odds, and the base they start from:
    /// `base + Σ contributions == raw(row)` (up to rounding).
    ///
    /// The game is the trees' conditional expectation: with the features of a set `S` known, a
    /// node splitting on a feature in `S` sends the row down its own branch, any other node
    /// averages its children weighted by the training cover (hessian sum) that reached each.
    /// The base is that expectation with nothing known; each contribution is the feature's
    /// Shapley value, its marginal change averaged over every order of revealing the features.
    /// Computed exactly, in polynomial time, leaf by leaf ([`super::shap`]); the tests check
    /// it against the definition, every subset enumerated, and against
    /// [`Forest::explain_recursive`].
    pub fn explain(&self, row: &[f64]) -> (f64, Vec<f64>) {
        let deepest = self.trees.iter().map(|t| t.depth as usize).max().unwrap_or(0);
        // A path's players are distinct features, so no more than either bound.
        let weights = self
            .derived
            .weights
            .get_or_init(|| super::shap::shapley_weights(self.features.min(deepest).max(1)));
        let base = self.trees.iter().fold(self.base, |b, t| b + self.expected[t.root as usize]);
        let mut contributions = vec![0.0; self.features];
        let compiled = self.derived.compiled.get_or_init(|| Compiled::new(self));
        let paths = self
            .derived
            .paths
            .get_or_init(|| compiled.as_ref().and_then(|c| super::shap::Paths::new(self, c)));
        if let (Some(c), Some(p)) = (compiled, paths) {
            p.explain_into(&c.bins(row), weights, &mut contributions);
        } else {
            super::shap::explain_into(self, row, weights, deepest, &mut contributions);
        }
        (base, contributions)
    }

    /// The same Shapley values by TreeSHAP (Lundberg, Erion and Lee 2018, Algorithm 2), one
    /// recursive pass per tree over its nodes: the reference [`Forest::explain`] is tested
    /// against, about ten times slower on deep trees.
    pub fn explain_recursive(&self, row: &[f64]) -> (f64, Vec<f64>) {
        let mut base = self.base;
        let mut contributions = vec![0.0; self.features];
        let deepest = self.trees.iter().map(|t| t.depth as usize).max().unwrap_or(0);
        // The path never holds more than one element per level plus the root's, and each level
        // copies its parent's path into the next free stretch of this buffer.
        let mut paths = vec![PathElement::default(); (deepest + 3) * (deepest + 4) / 2];
        for &t in &self.trees {
            base += self.expected[t.root as usize];
            self.shap_recursive(t.root as usize, row, &mut contributions, &mut paths, 0, 1.0, 1.0, None);
        }
        (base, contributions)
    }

    /// TreeSHAP's recursion at `node`: `paths[..=depth]` are the parent's path elements (the
    /// unique features above, each with the share of covers that reach here without it known,
    /// `zero`, and whether the row's own value leads here, `one`), and the edge into `node`
    /// adds (`feature`, `zero`, `one`).
    #[allow(clippy::too_many_arguments)]
    fn shap_recursive(
        &self,
        node: usize,
        row: &[f64],
        phi: &mut [f64],
        paths: &mut [PathElement],
        depth: usize,
        zero: f64,
        one: f64,
        feature: Option<u32>,
    ) {
        let (parent, rest) = paths.split_at_mut(depth + 1);
        rest[..depth].copy_from_slice(&parent[..depth]);
        let path = rest;
        extend_path(path, depth, zero, one, feature);
        let n = &self.nodes[node];
        if n.left == node as u32 {
            let value = self.leaf_values[node];
            for i in 1..=depth {
                let w = unwound_path_sum(path, depth, i);
                let e = path[i];
                if let Some(f) = e.feature {
                    phi[f as usize] += w * (e.one - e.zero) * value;
                }
            }
            return;
        }
        let hot = self.step(n, row[n.feature as usize]);
        // A feature met again on the path is one player: its earlier element is taken out and
        // its fractions carried into this split's.
        let (mut incoming_zero, mut incoming_one, mut depth) = (1.0, 1.0, depth);
        if let Some(k) = (1..=depth).find(|&k| path[k].feature == Some(n.feature)) {
            incoming_zero = path[k].zero;
            incoming_one = path[k].one;
            unwind_path(path, depth, k);
            depth -= 1;
        }
        let (children, count) = n.distinct_children();
        for &c in &children[..count] {
            let zero = self.share[c as usize] * incoming_zero;
            let one = if c == hot { incoming_one } else { 0.0 };
            // A branch no cover reaches and the row does not take adds nothing to any
            // expectation: skipping it also keeps the path's divisions away from zero.
            if zero == 0.0 && one == 0.0 {
                continue;
            }
            self.shap_recursive(c as usize, row, phi, path, depth + 1, zero, one, Some(n.feature));
        }
    }

    /// The child of `node` that `value` goes to.
    #[inline(always)]
    pub(crate) fn step(&self, node: &Node, value: f64) -> u32 {
        if node.categories == NUMERIC {
            let next = if value < node.threshold { node.left } else { node.right };
            if value.is_nan() { node.missing } else { next }
        } else if value.is_nan() {
            node.missing
        } else {
            // As the crate reads a category: the value's integer part (negative saturates to 0).
            let code = value as usize;
            let word = code / 64;
            let bits = if word < node.category_words as usize {
                self.category_bits[node.categories as usize + word]
            } else {
                0
            };
            if (bits >> (code % 64)) & 1 == 1 { node.left } else { node.right }
        }
    }

    /// The leaf `row` reaches in `tree`.
    #[inline(always)]
    fn leaf(&self, tree: TreeRef, row: &[f64]) -> usize {
        let mut i = tree.root;
        loop {
            let node = &self.nodes[i as usize];
            let next = self.step(node, row[node.feature as usize]);
            if next == i {
                return i as usize;
            }
            i = next;
        }
    }

    /// The forest's shape and the walks `rows` (row-major, [`Forest::features`] columns) take
    /// through it: what prediction and explanation cost depends on.
    pub fn shape(&self, values: &[f64]) -> Shape {
        let cols = self.features.max(1);
        let leaves = self.nodes.iter().enumerate().filter(|(i, n)| n.left == *i as u32).count();
        let mut steps = 0usize;
        let mut rows = 0usize;
        for row in values.chunks_exact(cols) {
            rows += 1;
            for &t in &self.trees {
                let mut i = t.root;
                loop {
                    let node = &self.nodes[i as usize];
                    let next = self.step(node, row[node.feature as usize]);
                    if next == i {
                        break;
                    }
                    steps += 1;
                    i = next;
                }
            }
        }
        let walks = (rows * self.trees.len()).max(1);
        Shape {
            nodes: self.nodes.len(),
            leaves,
            max_depth: self.trees.iter().map(|t| t.depth).max().unwrap_or(0),
            mean_tree_depth: self.trees.iter().map(|t| f64::from(t.depth)).sum::<f64>()
                / self.trees.len().max(1) as f64,
            mean_path: steps as f64 / walks as f64,
        }
    }

    /// The log-odds of one row.
    pub fn raw(&self, row: &[f64]) -> f64 {
        let mut sum = self.base;
        for &t in &self.trees {
            sum += self.leaf_values[self.leaf(t, row)];
        }
        sum
    }

    /// The log-odds of every row of a row-major matrix with [`Forest::features`] columns,
    /// written to `out` (one per row; rows past the end of `out` are not scored).
    pub fn raw_batch(&self, values: &[f64], out: &mut [f64]) {
        if let Some(compiled) = self.derived.compiled.get_or_init(|| Compiled::new(self)) {
            compiled.raw_batch(self.base, values, out);
            return;
        }
        self.raw_batch_general(values, out);
    }

    /// [`Forest::raw_batch`] through the trees as they are, for any split.
    pub fn raw_batch_general(&self, values: &[f64], out: &mut [f64]) {
        let cols = self.features.max(1);
        for (block, acc) in values.chunks(BLOCK * cols).zip(out.chunks_mut(BLOCK)) {
            let rows = (block.len() / cols).min(acc.len());
            let (block, acc) = (&block[..rows * cols], &mut acc[..rows]);
            acc.fill(self.base);
            let lanes = rows / LANES * LANES;
            for &t in &self.trees {
                for (rows, a) in
                    block[..lanes * cols].chunks_exact(LANES * cols).zip(acc.chunks_exact_mut(LANES))
                {
                    let leaves = self.leaves(t, rows, cols);
                    for (a, leaf) in a.iter_mut().zip(leaves) {
                        *a += self.leaf_values[leaf as usize];
                    }
                }
                for (row, a) in block[lanes * cols..].chunks_exact(cols).zip(acc[lanes..].iter_mut()) {
                    *a += self.leaf_values[self.leaf(t, row)];
                }
            }
        }
    }

    /// The leaves [`LANES`] rows reach in `tree`, walked in step: each step moves every row one
    /// level down (a row at its leaf stays there), until all are at leaves. The rows' walks
    /// are independent, so the CPU overlaps their memory loads instead of waiting on each.
    #[inline(always)]
    fn leaves(&self, tree: TreeRef, rows: &[f64], cols: usize) -> [u32; LANES] {
        let mut at = [tree.root; LANES];
        loop {
            let mut moved = false;
            for (k, i) in at.iter_mut().enumerate() {
                let node = &self.nodes[*i as usize];
                let next = self.step(node, rows[k * cols + node.feature as usize]);
                moved |= next != *i;
                *i = next;
            }
            if !moved {
                return at;
            }
        }
    }
}

/// A forest's size and how far rows walk into it ([`Forest::shape`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shape {
    /// Nodes in all trees, leaves included.
    pub nodes: usize,
    pub leaves: usize,
    /// The deepest tree's depth.
    pub max_depth: u32,
    /// The trees' depths, averaged over the trees.
    pub mean_tree_depth: f64,
    /// Splits a row passes from root to leaf, averaged over the rows and the trees.
    pub mean_path: f64,
}

/// Rows walked in step through one tree by [`Forest::raw_batch`].
const LANES: usize = 8;

/// Each node's expected output (a leaf's value, or its children's expectations weighted by the
/// training weight, cover, that reached each) and its share of its parent's cover (1 at the
/// root). Children with no weight at all (a missing branch no training row took) count
/// equally, so every node still has a value and the shares of siblings add up to 1.
fn expectations(tree: &[BuildNode]) -> (Vec<f64>, Vec<f64>) {
    let mut expected = vec![0.0; tree.len()];
    let mut cover = vec![0.0; tree.len()];
    let mut share = vec![1.0; tree.len()];
    // Children come after their parents (the tree was checked by `depth_of`), so one pass from
    // the end sees every child before its parent.
    for i in (0..tree.len()).rev() {
        match &tree[i] {
            BuildNode::Leaf { value, cover: c } => {
                expected[i] = *value;
                cover[i] = c.max(0.0);
            }
            BuildNode::Split { left, right, missing, .. } => {
                let mut kids = vec![*left];
                if right != left {
                    kids.push(*right);
                }
                if missing != left && missing != right {
                    kids.push(*missing);
                }
                let total: f64 = kids.iter().map(|&k| cover[k]).sum();
                for &k in &kids {
                    share[k] = if total > 0.0 { cover[k] / total } else { 1.0 / kids.len() as f64 };
                }
                expected[i] = kids.iter().map(|&k| expected[k] * share[k]).sum::<f64>();
                cover[i] = total;
            }
        }
    }
    (expected, share)
}

/// One element of TreeSHAP's path: a feature met on the way down (`None` for the root's
/// placeholder), the share of cover that passes its splits with the feature unknown (`zero`),
/// whether the row passes them with it known (`one`, 1 or 0), and the weight of the path's
/// subsets of this size.
#[derive(Debug, Clone, Copy, Default)]
struct PathElement {
    feature: Option<u32>,
    zero: f64,
    one: f64,
    weight: f64,
}

/// Adds an element at `depth` and updates the subset-size weights (Lundberg et al.'s EXTEND).
fn extend_path(path: &mut [PathElement], depth: usize, zero: f64, one: f64, feature: Option<u32>) {
    path[depth] = PathElement { feature, zero, one, weight: if depth == 0 { 1.0 } else { 0.0 } };
    let d = depth as f64;
    for i in (0..depth).rev() {
        let fi = i as f64;
        path[i + 1].weight += one * path[i].weight * (fi + 1.0) / (d + 1.0);
        path[i].weight = zero * path[i].weight * (d - fi) / (d + 1.0);
    }
}

/// Takes the element at `index` out of a path of `depth + 1` elements (UNWIND).
fn unwind_path(path: &mut [PathElement], depth: usize, index: usize) {
    let PathElement { one, zero, .. } = path[index];
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    for i in (0..depth).rev() {
        let fi = i as f64;
        if one != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next_one * (d + 1.0) / ((fi + 1.0) * one);
            next_one = tmp - path[i].weight * zero * (d - fi) / (d + 1.0);
        } else {
            path[i].weight = path[i].weight * (d + 1.0) / (zero * (d - fi));
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

/// The total weight the path would have with the element at `index` taken out, without
/// changing it.
fn unwound_path_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
    let PathElement { one, zero, .. } = path[index];
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        let fi = i as f64;
        if one != 0.0 {
            let tmp = next_one * (d + 1.0) / ((fi + 1.0) * one);
            total += tmp;
            next_one = path[i].weight - tmp * zero * (d - fi) / (d + 1.0);
        } else if zero != 0.0 {
            total += path[i].weight * (d + 1.0) / (zero * (d - fi));
        }
    }
    total
}

/// The longest root-to-leaf path, with cycles and unreachable depth refused.
fn depth_of(tree: &[BuildNode]) -> Result<u32, String> {
    let mut deepest = 0;
    let mut stack = vec![(0usize, 0u32)];
    let mut visited = 0usize;
    while let Some((i, d)) = stack.pop() {
        visited += 1;
        if visited > tree.len() {
            return Err("a node is reached twice: the children do not form a tree".into());
        }
        deepest = deepest.max(d);
        if let Some(BuildNode::Split { left, right, missing, .. }) = tree.get(i) {
            // The missing child is usually the left or the right one: each distinct child once.
            if *left <= i || *right <= i || *missing <= i {
                return Err("a child placed before its parent; number nodes breadth-first".into());
            }
            stack.push((*left, d + 1));
            if right != left {
                stack.push((*right, d + 1));
            }
            if missing != left && missing != right {
                stack.push((*missing, d + 1));
            }
        }
    }
    Ok(deepest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x0 < 2 → (x1 categorical: {1, 3} left → 10, else 20); else 30; missing x0 → 40.
    fn forest() -> Forest {
        let mut f = Forest::new(0.5, 2);
        f.push_tree(&[
            BuildNode::Split { feature: 0, threshold: 2.0, categories: None, left: 1, right: 2, missing: 3 },
            BuildNode::Split {
                feature: 1,
                threshold: 0.0,
                categories: Some(vec![0b1010]),
                left: 4,
                right: 5,
                missing: 5,
            },
            BuildNode::leaf(30.0),
            BuildNode::leaf(40.0),
            BuildNode::leaf(10.0),
            BuildNode::leaf(20.0),
        ])
        .expect("a valid tree");
        f.push_tree(&[BuildNode::leaf(1.0)]).expect("a stump");
        f
    }

    #[test]
    fn walks_numeric_categorical_and_missing() {
        let f = forest();
        assert_eq!(f.raw(&[1.0, 1.0]), 11.5);
        assert_eq!(f.raw(&[1.0, 3.0]), 11.5);
        assert_eq!(f.raw(&[1.0, 2.0]), 21.5);
        assert_eq!(f.raw(&[1.0, 99.0]), 21.5, "a code past the bits goes right");
        assert_eq!(f.raw(&[1.0, f64::NAN]), 21.5);
        assert_eq!(f.raw(&[2.0, 1.0]), 31.5, "equal to the threshold goes right");
        assert_eq!(f.raw(&[f64::NAN, 1.0]), 41.5);
    }

    #[test]
    fn explanations_are_the_shapley_values_of_a_hand_worked_tree() {
        let f = forest();
        // Leaves 30, 40, 10, 20 with cover 1 each; the stump adds 1 whatever is known.
        // v({}) = (10 + 20 + 30 + 40) / 4 = 25, v({x0}) = 15 (x0 = 1 goes to node 1, which
        // averages 10 and 20), v({x1}) = (10 + 30 + 40) / 3 weighted by covers 2/4, 1/4, 1/4
        // = 10/2 + 30/4 + 40/4 = 22.5, v({x0, x1}) = 10 (the row's leaf).
        let (v0, v_0, v_1, v01) = (25.0, 15.0, 22.5, 10.0);
        let (base, c) = f.explain(&[1.0, 1.0]);
        assert!((base - (0.5 + v0 + 1.0)).abs() < 1e-12, "{base}");
        let phi0 = 0.5 * (v_0 - v0) + 0.5 * (v01 - v_1);
        let phi1 = 0.5 * (v_1 - v0) + 0.5 * (v01 - v_0);
        assert!((c[0] - phi0).abs() < 1e-12, "{} vs {phi0}", c[0]);
        assert!((c[1] - phi1).abs() < 1e-12, "{} vs {phi1}", c[1]);
        for row in [[1.0, 2.0], [5.0, 0.0], [f64::NAN, 3.0], [0.0, f64::NAN]] {
            let (base, c) = f.explain(&row);
            assert!((base + c.iter().sum::<f64>() - f.raw(&row)).abs() < 1e-12, "{row:?}");
        }
    }

    /// A small linear congruential generator: fixed random trees without a dependency.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        fn below(&mut self, n: usize) -> usize {
            ((self.next() * n as f64) as usize).min(n - 1)
        }
    }

    /// A random forest over `features` features: trees up to `depth` deep, numeric splits on
    /// values 0..10 and categorical ones on codes 0..8, some with a third (missing) child, some
    /// covers 0, features repeated along paths.
    fn random_forest(rng: &mut Lcg, features: usize, trees: usize, depth: u32) -> Forest {
        random_forest_of(rng, features, trees, depth, true, 10)
    }

    /// [`random_forest`], or with `general` false only what the crate grows by default:
    /// numeric splits, the missing child the left or the right one.
    /// Trees whose thresholds are whole numbers below `thresholds`: the fewer, the more often two
    /// trees share their top splits.
    fn random_forest_of(
        rng: &mut Lcg,
        features: usize,
        trees: usize,
        depth: u32,
        general: bool,
        thresholds: u32,
    ) -> Forest {
        let mut f = Forest::new(rng.next() - 0.5, features);
        for _ in 0..trees {
            let mut nodes: Vec<Option<BuildNode>> = vec![None];
            let mut levels = vec![0u32];
            let mut k = 0;
            while k < nodes.len() {
                if levels[k] < depth && rng.next() < 0.75 {
                    let first = nodes.len();
                    let three = general && rng.next() < 0.3;
                    let kids = if three { 3 } else { 2 };
                    for _ in 0..kids {
                        nodes.push(None);
                        levels.push(levels[k] + 1);
                    }
                    let missing = if three { first + 2 } else { first + rng.below(2) };
                    let categorical = general && rng.next() < 0.2;
                    nodes[k] = Some(BuildNode::Split {
                        feature: rng.below(features),
                        threshold: (rng.next() * f64::from(thresholds)).floor(),
                        categories: categorical.then(|| vec![rng.below(256) as u8]),
                        left: first,
                        right: first + 1,
                        missing,
                    });
                } else {
                    let cover = if rng.next() < 0.1 { 0.0 } else { rng.next() * 10.0 };
                    nodes[k] = Some(BuildNode::Leaf { value: rng.next() * 4.0 - 2.0, cover });
                }
                k += 1;
            }
            let nodes: Vec<BuildNode> = nodes.into_iter().map(|n| n.expect("every node set")).collect();
            f.push_tree(&nodes).expect("a valid random tree");
        }
        f
    }

    fn random_row(rng: &mut Lcg, features: usize) -> Vec<f64> {
        (0..features)
            .map(|_| {
                if rng.next() < 0.15 {
                    f64::NAN
                } else {
                    (rng.next() * 10.0).floor() + 0.5 * rng.below(2) as f64
                }
            })
            .collect()
    }

    /// The game TreeSHAP solves, by its definition: the forest's expected output with the
    /// features in `known` (a bit set) fixed to the row's values.
    fn conditional_expectation(f: &Forest, node: usize, row: &[f64], known: u32) -> f64 {
        let n = &f.nodes[node];
        if n.left == node as u32 {
            return f.leaf_values[node];
        }
        if known & (1 << n.feature) != 0 {
            return conditional_expectation(f, f.step(n, row[n.feature as usize]) as usize, row, known);
        }
        let mut kids = vec![n.left];
        if n.right != n.left {
            kids.push(n.right);
        }
        if n.missing != n.left && n.missing != n.right {
            kids.push(n.missing);
        }
        kids.iter().map(|&c| f.share[c as usize] * conditional_expectation(f, c as usize, row, known)).sum()
    }

    /// Shapley values by enumerating every subset of the other features.
    fn brute_force_shapley(f: &Forest, row: &[f64]) -> (f64, Vec<f64>) {
        let m = f.features;
        let value = |known: u32| {
            f.base
                + f.trees.iter().map(|t| conditional_expectation(f, t.root as usize, row, known)).sum::<f64>()
        };
        let factorial = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
        let mut phi = vec![0.0; m];
        for (i, p) in phi.iter_mut().enumerate() {
            for s in 0u32..(1 << m) {
                if s & (1 << i) != 0 {
                    continue;
                }
                let size = s.count_ones() as usize;
                let weight = factorial(size) * factorial(m - size - 1) / factorial(m);
                *p += weight * (value(s | (1 << i)) - value(s));
            }
        }
        (value(0), phi)
    }

    #[test]
    fn tree_shap_equals_brute_force_shapley_values_on_random_trees() {
        let mut rng = Lcg(7);
        for case in 0..200 {
            let features = 1 + rng.below(5);
            let (trees, depth) = (1 + rng.below(3), 1 + rng.below(6) as u32);
            let f = random_forest(&mut rng, features, trees, depth);
            for _ in 0..5 {
                let row = random_row(&mut rng, features);
                let (base, phi) = f.explain(&row);
                let (want_base, want) = brute_force_shapley(&f, &row);
                assert!((base - want_base).abs() < 1e-9, "case {case}: base {base} vs {want_base}");
                for (j, (a, b)) in phi.iter().zip(&want).enumerate() {
                    assert!((a - b).abs() < 1e-9, "case {case}, feature {j}: {a} vs {b} ({row:?})");
                }
                assert!((base + phi.iter().sum::<f64>() - f.raw(&row)).abs() < 1e-9, "case {case}");
            }
        }
    }

    proptest::proptest! {
        /// `base + Σ contributions` is the log-odds, on any forest and row.
        #[test]
        fn contributions_add_up_to_the_prediction(seed in proptest::prelude::any::<u64>(), features in 1usize..12, depth in 0u32..12) {
            let mut rng = Lcg(seed);
            let trees = 1 + rng.below(8);
            let f = random_forest(&mut rng, features, trees, depth);
            let row = random_row(&mut rng, features);
            let (base, phi) = f.explain(&row);
            let total = base + phi.iter().sum::<f64>();
            proptest::prop_assert!((total - f.raw(&row)).abs() < 1e-9, "{} vs {}", total, f.raw(&row));
        }
    }

    #[test]
    fn leaf_paths_equal_the_recursive_tree_shap_on_random_forests() {
        let mut rng = Lcg(11);
        for case in 0..300 {
            let features = 1 + rng.below(12);
            let (trees, depth) = (1 + rng.below(6), rng.below(13) as u32);
            let f = random_forest(&mut rng, features, trees, depth);
            for _ in 0..4 {
                let row = random_row(&mut rng, features);
                let (base, phi) = f.explain(&row);
                let (want_base, want) = f.explain_recursive(&row);
                assert!((base - want_base).abs() < 1e-12, "case {case}: base {base} vs {want_base}");
                for (j, (a, b)) in phi.iter().zip(&want).enumerate() {
                    assert!((a - b).abs() < 1e-9, "case {case}, feature {j}: {a} vs {b}");
                }
            }
        }
    }

    /// The forests the crate grows by default compile to bins, so they are explained by the
    /// precomputed leaf paths: those too are the Shapley values and the recursion's.
    #[test]
    fn leaf_paths_over_bins_are_the_shapley_values() {
        let mut rng = Lcg(13);
        for case in 0..200 {
            let features = 1 + rng.below(5);
            let (trees, depth) = (1 + rng.below(4), rng.below(8) as u32);
            let f = random_forest_of(&mut rng, features, trees, depth, false, 10);
            assert!(Compiled::new(&f).is_some(), "case {case}: default splits compile");
            for k in 0..5 {
                let mut row = random_row(&mut rng, features);
                if k == 0 {
                    row[0] = f64::NEG_INFINITY;
                }
                let (base, phi) = f.explain(&row);
                let (want_base, want) = brute_force_shapley(&f, &row);
                let (_, recursive) = f.explain_recursive(&row);
                assert!((base - want_base).abs() < 1e-9, "case {case}: base {base} vs {want_base}");
                for (j, ((a, b), c)) in phi.iter().zip(&want).zip(&recursive).enumerate() {
                    assert!((a - b).abs() < 1e-9, "case {case}, feature {j}: {a} vs {b} ({row:?})");
                    assert!((a - c).abs() < 1e-9, "case {case}, feature {j}: {a} vs recursive {c}");
                }
            }
        }
    }

    #[test]
    fn compiled_walk_equals_the_general_one_to_the_bit() {
        let mut rng = Lcg(3);
        for case in 0..200 {
            let features = 1 + rng.below(10);
            let (trees, depth) = (1 + rng.below(8), rng.below(14) as u32);
            let f = random_forest_of(&mut rng, features, trees, depth, false, 10);
            assert!(Compiled::new(&f).is_some(), "case {case}: default splits compile");
            // 150 rows: two full blocks of 64 and a tail that is not a whole number of lanes.
            let mut rows: Vec<f64> = (0..150).flat_map(|_| random_row(&mut rng, features)).collect();
            rows[0] = f64::NEG_INFINITY;
            let last = features.min(rows.len() - 1);
            rows[last] = f64::INFINITY;
            let (mut fast, mut general) = (vec![0.0; 150], vec![0.0; 150]);
            f.raw_batch(&rows, &mut fast);
            f.raw_batch_general(&rows, &mut general);
            let compiled = Compiled::new(&f).expect("compiled above");
            let (mut walked, mut split) = (vec![0.0; 150], vec![0.0; 150]);
            compiled.raw_batch_walked(f.base, &rows, &mut walked);
            compiled.raw_batch_split(f.base, &rows, &mut split);
            for (i, (a, b)) in fast.iter().zip(&general).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "case {case}, row {i}");
                assert_eq!(a.to_bits(), f.raw(&rows[i * features..(i + 1) * features]).to_bits());
                assert_eq!(walked[i].to_bits(), b.to_bits(), "case {case}, row {i}, walked");
                assert_eq!(split[i].to_bits(), b.to_bits(), "case {case}, row {i}, split");
            }
        }
        let general = random_forest_of(&mut Lcg(5), 4, 20, 8, true, 10);
        assert!(Compiled::new(&general).is_none(), "categorical splits and third children are not compiled");
    }

    /// Batches big enough to be split down the trees, over more than one block and with a
    /// short last one, give the general walk's sums to the bit; so do forests of many trees
    /// on few features, whose trees share their top splits and so the kept divisions.
    #[test]
    fn split_batches_of_several_blocks_equal_the_general_walk_to_the_bit() {
        let mut rng = Lcg(17);
        let mut shared = [0usize; 3];
        for case in 0..16 {
            let many = case % 2 == 1;
            let features = if many { 1 + rng.below(2) } else { 1 + rng.below(10) };
            let trees = if many { 30 + rng.below(30) } else { 1 + rng.below(8) };
            let depth = rng.below(14) as u32;
            let f = random_forest_of(&mut rng, features, trees, depth, false, if many { 3 } else { 10 });
            if let Some(c) = Compiled::new(&f) {
                for (depth, (kept, splits)) in c.kept_divisions().into_iter().enumerate() {
                    shared[depth.min(2)] += splits - kept;
                }
            }
            let n = 2 * 4096 + 1 + rng.below(300);
            let mut rows: Vec<f64> = (0..n).flat_map(|_| random_row(&mut rng, features)).collect();
            rows[features] = f64::NAN;
            let (mut fast, mut general) = (vec![0.0; n], vec![0.0; n]);
            f.raw_batch(&rows, &mut fast);
            f.raw_batch_general(&rows, &mut general);
            for (i, (a, b)) in fast.iter().zip(&general).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "case {case}, row {i}");
            }
            // With no room to keep divisions, or room for a few only, the rest are divided
            // tree by tree, to the same sums.
            if let (true, Some(c)) = (many, Compiled::new(&f)) {
                for room in [0, 5_000] {
                    let mut capped = vec![0.0; n];
                    c.clone().with_kept_rows(room).raw_batch_split(f.base, &rows, &mut capped);
                    for (i, (a, b)) in capped.iter().zip(&general).enumerate() {
                        assert_eq!(a.to_bits(), b.to_bits(), "case {case}, room {room}, row {i}");
                    }
                }
            }
        }
        assert!(
            shared.iter().all(|&s| s > 0),
            "some divisions served more than one tree at every depth: {shared:?}"
        );
    }

    #[test]
    fn batch_equals_rows() {
        let f = forest();
        let rows: Vec<f64> = (0..300).flat_map(|i| [f64::from(i % 4), f64::from(i % 5)]).collect();
        let mut out = vec![0.0; 300];
        f.raw_batch(&rows, &mut out);
        let mut short = vec![0.0; 7];
        f.raw_batch(&rows, &mut short);
        assert_eq!(short, out[..7]);
        for (i, o) in out.iter().enumerate() {
            assert_eq!(*o, f.raw(&rows[2 * i..2 * i + 2]));
        }
    }

    #[test]
    fn bad_trees_are_refused() {
        let mut f = Forest::new(0.0, 1);
        let cycle = [BuildNode::Split {
            feature: 0,
            threshold: 0.0,
            categories: None,
            left: 0,
            right: 0,
            missing: 0,
        }];
        assert!(f.push_tree(&cycle).is_err());
        let out_of_range = [BuildNode::Split {
            feature: 0,
            threshold: 0.0,
            categories: None,
            left: 5,
            right: 0,
            missing: 0,
        }];
        assert!(f.push_tree(&out_of_range).is_err());
        let bad_feature = [
            BuildNode::Split { feature: 3, threshold: 0.0, categories: None, left: 1, right: 1, missing: 1 },
            BuildNode::leaf(0.0),
        ];
        assert!(f.push_tree(&bad_feature).is_err());
        assert!(f.push_tree(&[]).is_err());
    }
}
