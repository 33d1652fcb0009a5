//! The forest recompiled for prediction: 16-byte nodes whose two children sit side by side,
//! walked with no test but `value < threshold`.
//!
//! [`Forest`](super::flat::Forest) keeps the crate's shape (three children, categorical bits,
//! explicit missing child); a walk through it tests for a missing value and a categorical split
//! at every node. Here each node is `threshold`, `slot`, `child`, and one step is
//! `child + !(row[slot] < threshold)`: the left child at `child`, the right at `child + 1`.
//!
//! - A missing value goes wherever the node's missing child is: the block's rows are copied
//!   into two slots per feature, the value itself (a `NaN` fails every `<`, so goes right) and
//!   the value with `NaN` read as −∞ (which passes every `<` against a finite or +∞
//!   threshold, so goes left); a node reads the slot whose missing value goes its way.
//! - A leaf keeps its value in `threshold` and reads the last slot, always `NaN`, so it steps
//!   to `child + 1`, which is itself: a walk stays at its leaf, and a lane knows it has
//!   arrived when nothing moved.
//!
//! The comparison is the crate's `value < threshold`, so every row reaches the leaf the crate
//! reaches, and leaves are added in tree order as the crate adds them: the sums are the same
//! to the bit. Forests this cannot express (categorical splits, a third missing child, a `NaN`
//! or −∞ threshold) are not compiled, and predicted by the general walk.

use super::flat::Forest;

/// One compiled node (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Node {
    /// The split's threshold; a leaf's value.
    threshold: f64,
    /// Which of the block's slots the split reads ([`Compiled::nan_slot`] for a leaf).
    slot: u32,
    /// The left child; the right one is `child + 1` (wrapping: a leaf at 0 stores `u32::MAX`).
    child: u32,
}

/// A forest compiled for prediction (rebuilt from the [`Forest`], never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    nodes: Vec<Node>,
    roots: Vec<u32>,
    /// Input columns of a row.
    features: usize,
    /// Slots per row: two per feature and the `NaN` one.
    slots: usize,
}

/// Rows per block: 64 rows of 17 features in 35 slots are 18 KB, which stays in the first-level
/// cache with the upper levels of the tree being walked.
const BLOCK: usize = 64;

/// Rows walked in step through one tree: their walks are independent, so the CPU overlaps
/// their loads instead of waiting on each. 16 measured no faster on the bank model, and a lane
/// that went on to its row's next tree as soon as it reached a leaf (no lane waiting for the
/// others) measured about half as fast.
const LANES: usize = 8;

impl Compiled {
    /// The forest compiled, or `None` when it has a split this form cannot express.
    pub fn new(forest: &Forest) -> Option<Compiled> {
        let features = forest.features;
        if features == 0 {
            // Rows of no columns are still read one value wide by the general walk.
            return None;
        }
        let slots = 2 * features + 1;
        let nan_slot = u32::try_from(2 * features).ok()?;
        let mut nodes: Vec<Node> = Vec::with_capacity(forest.nodes.len() + forest.trees.len());
        let mut roots = Vec::with_capacity(forest.trees.len());
        for tree in &forest.trees {
            // Breadth-first: each split's two children are given adjacent places as it is met.
            let root = u32::try_from(nodes.len()).ok()?;
            roots.push(root);
            let mut queue = vec![tree.root];
            nodes.push(Node { threshold: 0.0, slot: 0, child: 0 });
            let mut k = 0;
            while k < queue.len() {
                let here = root as usize + k;
                let old = queue[k] as usize;
                let n = forest.nodes[old];
                k += 1;
                if n.left == old as u32 {
                    nodes[here] = Node {
                        threshold: forest.leaf_values[old],
                        slot: nan_slot,
                        child: (here as u32).wrapping_sub(1),
                    };
                    continue;
                }
                let t = n.threshold;
                if n.categories != u32::MAX || t.is_nan() || t == f64::NEG_INFINITY {
                    return None;
                }
                let first = u32::try_from(nodes.len()).ok()?;
                if n.left == n.right {
                    // Both ways lead to one child: always step "right", onto it.
                    if n.missing != n.left {
                        return None;
                    }
                    queue.push(n.left);
                    nodes.push(Node { threshold: 0.0, slot: 0, child: 0 });
                    nodes[here] = Node { threshold: 0.0, slot: nan_slot, child: first.wrapping_sub(1) };
                    continue;
                }
                let slot = if n.missing == n.right {
                    2 * n.feature
                } else if n.missing == n.left {
                    2 * n.feature + 1
                } else {
                    return None;
                };
                queue.push(n.left);
                queue.push(n.right);
                nodes.push(Node { threshold: 0.0, slot: 0, child: 0 });
                nodes.push(Node { threshold: 0.0, slot: 0, child: 0 });
                nodes[here] = Node { threshold: t, slot, child: first };
            }
        }
        Some(Compiled { nodes, roots, features, slots })
    }

    /// The log-odds of every row of a row-major matrix, `base` plus each tree's leaf in tree
    /// order, written to `out` (rows past the end of `out` are not scored).
    pub fn raw_batch(&self, base: f64, values: &[f64], out: &mut [f64]) {
        let cols = self.features.max(1);
        let mut buf = vec![0.0; BLOCK * self.slots];
        for (block, acc) in values.chunks(BLOCK * cols).zip(out.chunks_mut(BLOCK)) {
            let rows = (block.len() / cols).min(acc.len());
            let acc = &mut acc[..rows];
            acc.fill(base);
            for (row, slots) in block.chunks_exact(cols).zip(buf.chunks_exact_mut(self.slots)).take(rows) {
                for (f, &v) in row.iter().enumerate() {
                    slots[2 * f] = v;
                    slots[2 * f + 1] = if v.is_nan() { f64::NEG_INFINITY } else { v };
                }
                slots[2 * self.features] = f64::NAN;
            }
            let buf = &buf[..rows * self.slots];
            self.walk_block::<LANES>(buf, acc);
        }
    }

    /// Adds each tree's leaf to the block's sums, tree by tree, `N` rows at a time.
    #[inline(always)]
    fn walk_block<const N: usize>(&self, buf: &[f64], acc: &mut [f64]) {
        let lanes = acc.len() / N * N;
        for &root in &self.roots {
            for (rows, a) in
                buf[..lanes * self.slots].chunks_exact(N * self.slots).zip(acc.chunks_exact_mut(N))
            {
                let at = self.leaves::<N>(root, rows);
                for (a, i) in a.iter_mut().zip(at) {
                    *a += self.nodes[i as usize].threshold;
                }
            }
            for (row, a) in buf[lanes * self.slots..].chunks_exact(self.slots).zip(&mut acc[lanes..]) {
                *a += self.nodes[self.leaf(root, row) as usize].threshold;
            }
        }
    }

    /// The leaf one row (in slots) reaches from `root`.
    #[inline(always)]
    fn leaf(&self, root: u32, row: &[f64]) -> u32 {
        let mut i = root;
        loop {
            let n = self.nodes[i as usize];
            let next = n.child.wrapping_add(goes_right(row[n.slot as usize], n.threshold));
            if next == i {
                return i;
            }
            i = next;
        }
    }

    /// The leaves `N` rows reach from `root`, walked in step until none moves.
    #[inline(always)]
    fn leaves<const N: usize>(&self, root: u32, rows: &[f64]) -> [u32; N] {
        let mut at = [root; N];
        loop {
            let mut moved = 0;
            for (k, i) in at.iter_mut().enumerate() {
                let n = self.nodes[*i as usize];
                let v = rows[k * self.slots + n.slot as usize];
                let next = n.child.wrapping_add(goes_right(v, n.threshold));
                moved |= next ^ *i;
                *i = next;
            }
            if moved == 0 {
                return at;
            }
        }
    }
}

/// 1 when `value` goes right, 0 when left: not `value < threshold`, which a `NaN` fails.
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord, reason = "a NaN must go right, as `!(v < t)` sends it")]
fn goes_right(value: f64, threshold: f64) -> u32 {
    u32::from(!(value < threshold))
}
