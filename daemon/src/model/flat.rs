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

use serde::{Deserialize, Serialize};

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
    /// value): what [`Forest::explain`] measures each step of a path against.
    pub expected: Vec<f64>,
    /// The number of features a row must have.
    pub features: usize,
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
        let depth = depth_of(tree)?;
        self.expected.extend(expectations(tree));
        self.trees.push(TreeRef { root: offset as u32, depth });
        Ok(())
    }

    /// Each feature's contribution to one row's log-odds, and the base they start from:
    /// `base + Σ contributions == raw(row)` exactly (up to rounding).
    ///
    /// Along the row's path in each tree, the step from a node to its child moves the expected
    /// output by `expected[child] − expected[node]`; that move is credited to the feature the
    /// node splits on. The moves add up to the leaf's value minus the root's expectation, so
    /// the sum is exact by construction. This is path attribution (Saabas), not Shapley values:
    /// it is exact and cheap (one walk per tree), but credits a feature by where it sits in
    /// the tree.
    pub fn explain(&self, row: &[f64]) -> (f64, Vec<f64>) {
        let mut base = self.base;
        let mut contributions = vec![0.0; self.features];
        for &t in &self.trees {
            let mut i = t.root as usize;
            base += self.expected[i];
            loop {
                let node = &self.nodes[i];
                let next = self.step(node, row[node.feature as usize]) as usize;
                if next == i {
                    break;
                }
                contributions[node.feature as usize] += self.expected[next] - self.expected[i];
                i = next;
            }
        }
        (base, contributions)
    }

    /// The child of `node` that `value` goes to.
    #[inline(always)]
    fn step(&self, node: &Node, value: f64) -> u32 {
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

/// Rows walked in step through one tree by [`Forest::raw_batch`].
const LANES: usize = 8;

/// Each node's expected output: a leaf's value, or its children's expectations weighted by the
/// training weight (cover) that reached each. Children with no weight at all (a missing branch
/// no training row took) count equally, so every node still has a value.
fn expectations(tree: &[BuildNode]) -> Vec<f64> {
    let mut expected = vec![0.0; tree.len()];
    let mut cover = vec![0.0; tree.len()];
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
                expected[i] = if total > 0.0 {
                    kids.iter().map(|&k| expected[k] * cover[k]).sum::<f64>() / total
                } else {
                    kids.iter().map(|&k| expected[k]).sum::<f64>() / kids.len() as f64
                };
                cover[i] = total;
            }
        }
    }
    expected
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
    fn explanations_add_up_and_credit_the_split_features() {
        let f = forest();
        // Leaves 30, 40, 10, 20 with cover 1 each: node 1 (cover 2) expects 15, the root
        // (2 × 15 + 30 + 40) / 4.
        let root = (2.0 * 15.0 + 30.0 + 40.0) / 4.0;
        let (base, c) = f.explain(&[1.0, 1.0]);
        assert!((base - (0.5 + root + 1.0)).abs() < 1e-12);
        assert!((c[0] - (15.0 - root)).abs() < 1e-12);
        assert!((c[1] - (10.0 - 15.0)).abs() < 1e-12);
        for row in [[1.0, 2.0], [5.0, 0.0], [f64::NAN, 3.0], [0.0, f64::NAN]] {
            let (base, c) = f.explain(&row);
            assert!((base + c.iter().sum::<f64>() - f.raw(&row)).abs() < 1e-12, "{row:?}");
        }
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
