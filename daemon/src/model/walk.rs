//! The forest recompiled for prediction: each row turned once into small integer bins, and
//! 8-byte nodes whose two children sit side by side, walked with no test but `bin < node.bin`.
//!
//! [`Forest`](super::flat::Forest) keeps the crate's shape (three children, categorical bits,
//! explicit missing child, `f64` thresholds); a walk through it tests for a missing value and a
//! categorical split at every node. Here:
//!
//! - Each feature's distinct split thresholds are sorted once; a row's value becomes its bin,
//!   the number of thresholds at most the value (a binary search per feature and row, before
//!   any tree is walked). Then `value < t` exactly when `bin < ` (t's place among them + 1),
//!   so a node keeps that `u16` instead of `t`, and the comparison is the crate's.
//! - A missing value goes wherever the node's missing child is: each feature has two bins per
//!   row, one with a missing value at `u16::MAX` (above every node's, so it goes right) and one
//!   at 0 (below every node's: left); a node reads the one whose missing value goes its way.
//! - A node is `bin`, `slot`, `child`: one step is `child + (row[slot] >= bin)`, the left
//!   child at `child`, the right at `child + 1`. A leaf has `bin` 0, which no row is below, so
//!   it steps to `child + 1`, which is itself: a walk stays at its leaf, and a lane knows it
//!   has arrived when nothing moved. Leaf values sit in their own array.
//! - A row's bins are a fixed 256-wide array and `slot` a `u8`, so reading a bin needs no
//!   bounds check; forests of more than 128 features are not compiled.
//!
//! Nodes of 8 bytes (against 16 with an `f64` threshold) and two-byte bins (against eight-byte
//! values) halve what a walk touches. Every row reaches the leaf the crate reaches, and leaves
//! are added in tree order as the crate adds them: the sums are the same to the bit. Forests
//! this cannot express (categorical splits, a third missing child, a `NaN` threshold, more
//! than 65,534 thresholds on a feature or 128 features) are not compiled, and predicted by the
//! general walk.

use super::flat::Forest;

/// One compiled node (8 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Node {
    /// A row whose bin in `slot` is below this goes left. 0 at a leaf: no bin is below it,
    /// so a leaf always steps "right", onto itself.
    bin: u16,
    /// Which of the row's bins the split reads.
    slot: u8,
    _pad: u8,
    /// The left child; the right one is `child + 1` (wrapping: a leaf at 0 stores `u32::MAX`).
    child: u32,
}

/// A forest compiled for prediction (rebuilt from the [`Forest`], never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    nodes: Vec<Node>,
    /// Each node's leaf value (0 for a split), apart from the nodes so that they stay small.
    leaf_values: Vec<f64>,
    roots: Vec<u32>,
    /// Each feature's distinct split thresholds, ascending: a value's bin is how many of them
    /// are at most the value.
    thresholds: Vec<Vec<f64>>,
    /// Input columns of a row.
    features: usize,
    /// Bins per row: two per feature.
    slots: usize,
}

/// Rows per block: 64 rows of 17 features in 34 two-byte bins are 4.3 KB, which stays in the
/// first-level cache with the tree being walked.
const BLOCK: usize = 64;

/// Rows walked in step through one tree: their walks are independent, so the CPU overlaps
/// their loads instead of waiting on each.
const LANES: usize = 8;

/// The most distinct thresholds a feature may have: its bins, `0..=` this, must stay below
/// `u16::MAX`, the bin of a missing value that goes right.
/// Bins a row has room for: a node's `u8` slot always indexes within it.
const ROW: usize = 256;

/// One row's bins.
type Bins = [u16; ROW];

const MAX_THRESHOLDS: usize = u16::MAX as usize - 1;

impl Compiled {
    /// The forest compiled, or `None` when it has a split this form cannot express.
    pub fn new(forest: &Forest) -> Option<Compiled> {
        let features = forest.features;
        if features == 0 {
            // Rows of no columns are still read one value wide by the general walk.
            return None;
        }
        let slots = 2 * features;
        if slots > ROW {
            return None;
        }
        let mut thresholds = vec![Vec::new(); features];
        for (i, n) in forest.nodes.iter().enumerate() {
            if n.left == i as u32 || n.left == n.right {
                continue;
            }
            if n.categories != u32::MAX || n.threshold.is_nan() {
                return None;
            }
            thresholds[n.feature as usize].push(n.threshold);
        }
        for t in &mut thresholds {
            t.sort_by(f64::total_cmp);
            t.dedup();
            if t.len() > MAX_THRESHOLDS {
                return None;
            }
        }
        let mut nodes: Vec<Node> = Vec::with_capacity(forest.nodes.len() + forest.trees.len());
        let mut leaf_values = Vec::with_capacity(nodes.capacity());
        let mut roots = Vec::with_capacity(forest.trees.len());
        let blank = Node { bin: 0, slot: 0, _pad: 0, child: 0 };
        for tree in &forest.trees {
            // Breadth-first: each split's two children are given adjacent places as it is met.
            let root = u32::try_from(nodes.len()).ok()?;
            roots.push(root);
            let mut queue = vec![tree.root];
            nodes.push(blank);
            leaf_values.push(0.0);
            let mut k = 0;
            while k < queue.len() {
                let here = root as usize + k;
                let old = queue[k] as usize;
                let n = forest.nodes[old];
                k += 1;
                if n.left == old as u32 {
                    nodes[here] = Node { bin: 0, slot: 0, _pad: 0, child: (here as u32).wrapping_sub(1) };
                    leaf_values[here] = forest.leaf_values[old];
                    continue;
                }
                let first = u32::try_from(nodes.len()).ok()?;
                if n.left == n.right {
                    // Both ways lead to one child: always step "right", onto it.
                    if n.missing != n.left {
                        return None;
                    }
                    queue.push(n.left);
                    nodes.push(blank);
                    leaf_values.push(0.0);
                    nodes[here] = Node { bin: 0, slot: 0, _pad: 0, child: first.wrapping_sub(1) };
                    continue;
                }
                // The slot whose missing value goes the missing child's way.
                let slot = if n.missing == n.right {
                    2 * n.feature
                } else if n.missing == n.left {
                    2 * n.feature + 1
                } else {
                    return None;
                };
                let ts = &thresholds[n.feature as usize];
                let at = ts.partition_point(|t| t.total_cmp(&n.threshold).is_lt());
                queue.push(n.left);
                queue.push(n.right);
                nodes.extend([blank, blank]);
                leaf_values.extend([0.0, 0.0]);
                nodes[here] = Node { bin: (at + 1) as u16, slot: slot as u8, _pad: 0, child: first };
            }
        }
        Some(Compiled { nodes, leaf_values, roots, thresholds, features, slots })
    }

    /// The bin a split on `feature` at `threshold` compares against (`bin < this` goes left),
    /// or `None` for a threshold the forest does not hold.
    pub(crate) fn split_bin(&self, feature: usize, threshold: f64) -> Option<u16> {
        let ts = self.thresholds.get(feature)?;
        let at = ts.partition_point(|t| t.total_cmp(&threshold).is_lt());
        (ts.get(at)?.total_cmp(&threshold).is_eq()).then_some((at + 1) as u16)
    }

    /// One row's bins, two per feature as [`Compiled::quantize`] writes them.
    pub(crate) fn bins(&self, row: &[f64]) -> Vec<u16> {
        let mut bins = vec![0; self.slots];
        self.quantize(row, &mut bins);
        bins
    }

    /// Writes one row's bins: for feature `f`, `bins[2f]` with a missing value read as above
    /// every threshold (so it goes right) and `bins[2f + 1]` with it read as below every one
    /// (left); a present value's bin is the count of thresholds at most the value, so
    /// `value < t` exactly when `bin < ` (t's place + 1).
    fn quantize(&self, row: &[f64], bins: &mut [u16]) {
        for ((ts, &v), b) in self.thresholds.iter().zip(row).zip(bins.chunks_exact_mut(2)) {
            if v.is_nan() {
                b[0] = u16::MAX;
                b[1] = 0;
            } else {
                // At most MAX_THRESHOLDS (checked by `new`), so it fits.
                let bin = ts.partition_point(|&t| t <= v) as u16;
                b[0] = bin;
                b[1] = bin;
            }
        }
    }

    /// The log-odds of every row of a row-major matrix, `base` plus each tree's leaf in tree
    /// order, written to `out` (rows past the end of `out` are not scored).
    pub fn raw_batch(&self, base: f64, values: &[f64], out: &mut [f64]) {
        let cols = self.features.max(1);
        let mut buf = vec![[0u16; ROW]; BLOCK];
        for (block, acc) in values.chunks(BLOCK * cols).zip(out.chunks_mut(BLOCK)) {
            let rows = (block.len() / cols).min(acc.len());
            let acc = &mut acc[..rows];
            acc.fill(base);
            for (row, bins) in block.chunks_exact(cols).zip(buf.iter_mut()).take(rows) {
                self.quantize(row, bins);
            }
            self.walk_block::<LANES>(&buf[..rows], acc);
        }
    }

    /// Adds each tree's leaf to the block's sums, tree by tree, `N` rows at a time.
    #[inline(always)]
    fn walk_block<const N: usize>(&self, buf: &[Bins], acc: &mut [f64]) {
        let lanes = acc.len() / N * N;
        for &root in &self.roots {
            for (rows, a) in buf[..lanes].chunks_exact(N).zip(acc.chunks_exact_mut(N)) {
                let at = self.leaves::<N>(root, rows);
                for (a, i) in a.iter_mut().zip(at) {
                    *a += self.leaf_values[i as usize];
                }
            }
            for (row, a) in buf[lanes..].iter().zip(&mut acc[lanes..]) {
                *a += self.leaf_values[self.leaf(root, row) as usize];
            }
        }
    }

    /// The leaf one row (in bins) reaches from `root`.
    #[inline(always)]
    fn leaf(&self, root: u32, row: &Bins) -> u32 {
        let mut i = root;
        loop {
            let n = self.nodes[i as usize];
            let next = n.child.wrapping_add(u32::from(row[usize::from(n.slot)] >= n.bin));
            if next == i {
                return i;
            }
            i = next;
        }
    }

    /// The leaves `N` rows reach from `root`, walked in step until none moves.
    #[inline(always)]
    fn leaves<const N: usize>(&self, root: u32, rows: &[Bins]) -> [u32; N] {
        let mut at = [root; N];
        loop {
            let mut moved = 0;
            for (i, row) in at.iter_mut().zip(rows) {
                let n = self.nodes[*i as usize];
                let next = n.child.wrapping_add(u32::from(row[usize::from(n.slot)] >= n.bin));
                moved |= next ^ *i;
                *i = next;
            }
            if moved == 0 {
                return at;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::flat::BuildNode;
    use super::*;

    /// Thresholds at the edges of the order (−∞, −0, +0, +∞, and equal ones in several trees)
    /// send every value, missing ones both ways, where the crate's `value < t` does.
    #[test]
    fn bins_split_as_the_thresholds_do_at_the_edges() {
        let edges = [f64::NEG_INFINITY, -0.0, 0.0, 1.5, f64::INFINITY];
        let mut f = Forest::new(0.25, 2);
        for (k, &t) in edges.iter().enumerate() {
            for missing_left in [false, true] {
                let value = (k * 2 + usize::from(missing_left)) as f64;
                f.push_tree(&[
                    BuildNode::Split {
                        feature: k % 2,
                        threshold: t,
                        categories: None,
                        left: 1,
                        right: 2,
                        missing: if missing_left { 1 } else { 2 },
                    },
                    BuildNode::leaf(value),
                    BuildNode::leaf(-value - 0.5),
                ])
                .expect("a valid tree");
            }
        }
        let compiled = Compiled::new(&f).expect("numeric splits compile");
        let values =
            [f64::NEG_INFINITY, -1.0, -0.0, 0.0, 1e-300, 1.5, 2.0, f64::MAX, f64::INFINITY, f64::NAN];
        let rows: Vec<f64> = values.iter().flat_map(|&a| values.iter().flat_map(move |&b| [a, b])).collect();
        let n = rows.len() / 2;
        let (mut fast, mut general) = (vec![0.0; n], vec![0.0; n]);
        compiled.raw_batch(f.base, &rows, &mut fast);
        f.raw_batch_general(&rows, &mut general);
        for (i, (a, b)) in fast.iter().zip(&general).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "row {:?}", &rows[2 * i..2 * i + 2]);
        }
    }

    #[test]
    fn forests_it_cannot_express_are_left_to_the_general_walk() {
        let nan = [
            BuildNode::Split {
                feature: 0,
                threshold: f64::NAN,
                categories: None,
                left: 1,
                right: 2,
                missing: 1,
            },
            BuildNode::leaf(1.0),
            BuildNode::leaf(2.0),
        ];
        let mut f = Forest::new(0.0, 1);
        f.push_tree(&nan).expect("a valid tree");
        assert!(Compiled::new(&f).is_none(), "a NaN threshold");
        let mut wide = Forest::new(0.0, 129);
        wide.push_tree(&[BuildNode::leaf(1.0)]).expect("a stump");
        assert!(Compiled::new(&wide).is_none(), "more than 128 features");
    }
}
