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
//! - A whole number's bin is read from a per-feature table when the feature's thresholds span
//!   at most 4,096 whole numbers (ages, counts, days, category codes), not searched for.
//!
//! Two ways through the trees give the same sums to the bit:
//!
//! - **Walking** ([`Compiled::raw_batch_walked`], batches under 256 rows): each tree takes 64
//!   rows at a time, 8 walked in step until none moves. Each step waits on the one before,
//!   and the eight go as deep as the deepest of them.
//! - **Splitting** ([`Compiled::raw_batch_split`], bigger batches): the bins are laid out
//!   column by column for a block of 4,096 rows, and each tree takes the block's rows as one
//!   list at its root; a split divides its list in two (one comparison and one store a row,
//!   no branch, no row waiting on another), down to the leaves, which add their value to
//!   their rows' sums. A division is kept for the block when its path from the root (the
//!   same splits, taken the same ways) recurs in a later tree, which then reuses it: the bank
//!   model's 143 trees have 22 distinct root splits, and 794 paths that recur. About 1.9 times
//!   the walk's rate, on under half its instructions, on the bank model.
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
    /// 1 at a split whose two children are leaves, which the split walk ends at without
    /// listing their rows ([`Compiled::raw_batch_split`]).
    leaves: u8,
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
    /// Per feature, the bins of the whole numbers from the first threshold's floor to the
    /// last's ceiling (when that is at most [`MAX_TABLE`] numbers): most lead data (ages,
    /// counts, days, category codes) are whole numbers, whose bin is then one load instead
    /// of a binary search.
    whole: Vec<Option<WholeBins>>,
    /// Per node, where the split walk keeps its division of a block's rows, for the splits whose
    /// path from the root recurs: two splits on the same path (the same splits, the same ways)
    /// divide the same rows the same way, so the first tree's division serves every later
    /// tree's ([`Split`], [`memos`]).
    memo: Vec<Option<Memo>>,
    /// How many divisions a block keeps.
    memos: usize,
    /// The most rows a block's kept divisions hold in each pool ([`KEPT_ROWS`]).
    kept_rows: usize,
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

/// From this many rows a batch is split down the trees rather than walked: below it, a tree's
/// lists are short and the cost per split (taking it from the stack, reading its node) counts.
const SPLIT_FROM: usize = 256;

/// Rows per block when splitting: their bins, column by column (`u16` row numbers), are 278 KB
/// at 17 features, in the second-level cache; each column is 8 KB.
const SPLIT_BLOCK: usize = 4096;

/// The most distinct thresholds a feature may have: its bins, `0..=` this, must stay below
/// `u16::MAX`, the bin of a missing value that goes right.
/// Bins a row has room for: a node's `u8` slot always indexes within it.
const ROW: usize = 256;

/// One row's bins.
type Bins = [u16; ROW];

const MAX_THRESHOLDS: usize = u16::MAX as usize - 1;

/// The most whole numbers a feature's table of bins covers (8 KB).
const MAX_TABLE: i64 = 4096;

/// The bins of the whole numbers `first..first + bins.len()`.
#[derive(Debug, Clone, PartialEq)]
struct WholeBins {
    first: i64,
    bins: Vec<u16>,
}

impl WholeBins {
    /// The table for sorted `thresholds`, or `None` when they span too many whole numbers.
    fn new(thresholds: &[f64]) -> Option<WholeBins> {
        let (lo, hi) = (thresholds.first()?.floor(), thresholds.last()?.ceil());
        let span = hi - lo;
        if !span.is_finite() || span >= MAX_TABLE as f64 {
            return None;
        }
        let first = lo as i64;
        let bins =
            (first..=hi as i64).map(|k| thresholds.partition_point(|&t| t <= k as f64) as u16).collect();
        Some(WholeBins { first, bins })
    }

    /// `v`'s bin when it is a whole number the table covers.
    #[inline(always)]
    fn get(&self, v: f64) -> Option<u16> {
        // A round trip through `i64`, not `fract()`, which is a call to `trunc` on the baseline
        // x86-64 target (no SSE4.1 rounding). Far outside the table `as` saturates, and the
        // lookup misses.
        let whole = v as i64;
        if whole as f64 != v {
            return None;
        }
        let k = whole.wrapping_sub(self.first);
        usize::try_from(k).ok().and_then(|k| self.bins.get(k)).copied()
    }
}

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
        let blank = Node { bin: 0, slot: 0, leaves: 0, child: 0 };
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
                    nodes[here] = Node { bin: 0, slot: 0, leaves: 0, child: (here as u32).wrapping_sub(1) };
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
                    nodes[here] = Node { bin: 0, slot: 0, leaves: 0, child: first.wrapping_sub(1) };
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
                nodes[here] = Node { bin: (at + 1) as u16, slot: slot as u8, leaves: 0, child: first };
            }
        }
        let is_leaf = |nodes: &[Node], i: u32| {
            nodes.get(i as usize).is_some_and(|n| n.bin == 0 && n.child.wrapping_add(1) == i)
        };
        for i in 0..nodes.len() {
            let n = nodes[i];
            if n.bin != 0 && is_leaf(&nodes, n.child) && is_leaf(&nodes, n.child.wrapping_add(1)) {
                nodes[i].leaves = 1;
            }
        }
        let whole = thresholds.iter().map(|t| WholeBins::new(t)).collect();
        let (memo, memos) = memos(&nodes, &roots);
        Some(Compiled {
            nodes,
            leaf_values,
            roots,
            thresholds,
            whole,
            memo,
            memos,
            kept_rows: KEPT_ROWS,
            features,
            slots,
        })
    }

    /// The same forest with room for `rows` kept rows per pool, not [`KEPT_ROWS`].
    #[cfg(test)]
    pub(crate) fn with_kept_rows(mut self, rows: usize) -> Compiled {
        self.kept_rows = rows;
        self
    }

    /// Per depth, the divisions the split walk keeps and the splits that use them (more
    /// splits than divisions: each serves several trees).
    #[cfg(test)]
    pub(crate) fn kept_divisions(&self) -> Vec<(usize, usize)> {
        let mut per_depth: Vec<(std::collections::BTreeSet<u16>, usize)> = Vec::new();
        for m in self.memo.iter().flatten() {
            let d = usize::from(m.depth);
            if per_depth.len() <= d {
                per_depth.resize_with(d + 1, Default::default);
            }
            per_depth[d].0.insert(m.id);
            per_depth[d].1 += 1;
        }
        per_depth.into_iter().map(|(ids, splits)| (ids.len(), splits)).collect()
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

    /// Writes one row's bins, two per feature as [`Compiled::bin_pair`] gives them.
    fn quantize(&self, row: &[f64], bins: &mut [u16]) {
        for ((f, &v), b) in (0..self.features).zip(row).zip(bins.chunks_exact_mut(2)) {
            [b[0], b[1]] = self.bin_pair(f, v);
        }
    }

    /// Feature `f`'s two bins for value `v`: the first with a missing value read as above every
    /// threshold (so it goes right), the second with it read as below every one (left). A
    /// present value's bin, in both, is the count of thresholds at most the value, so
    /// `value < t` exactly when `bin < ` (t's place + 1).
    #[inline(always)]
    fn bin_pair(&self, f: usize, v: f64) -> [u16; 2] {
        if v.is_nan() {
            return [u16::MAX, 0];
        }
        let whole = self.whole.get(f).and_then(|w| w.as_ref()).and_then(|w| w.get(v));
        // At most MAX_THRESHOLDS (checked by `new`), so it fits.
        let bin = whole
            .unwrap_or_else(|| self.thresholds.get(f).map_or(0, |ts| ts.partition_point(|&t| t <= v) as u16));
        [bin, bin]
    }

    /// The log-odds of every row of a row-major matrix, `base` plus each tree's leaf in tree
    /// order, written to `out` (rows past the end of `out` are not scored). Batches of
    /// [`SPLIT_FROM`] rows or more are split down each tree ([`Compiled::raw_batch_split`]),
    /// smaller ones walked a row at a time ([`Compiled::raw_batch_walked`]).
    pub fn raw_batch(&self, base: f64, values: &[f64], out: &mut [f64]) {
        let rows = (values.len() / self.features.max(1)).min(out.len());
        if rows >= SPLIT_FROM {
            self.raw_batch_split(base, values, out);
        } else {
            self.raw_batch_walked(base, values, out);
        }
    }

    /// [`Compiled::raw_batch`] by splitting: each tree takes a block's rows as one list at its
    /// root, and each split divides its list in two by one comparison per row, down to the
    /// leaves, which add their value to their rows' sums. A row costs about eleven
    /// instructions per level, none waiting on another row; the walk's steps each wait on the
    /// last, and eight rows in step go as deep as the deepest (about twice the instructions a
    /// row on the bank model).
    pub fn raw_batch_split(&self, base: f64, values: &[f64], out: &mut [f64]) {
        let cols = self.features.max(1);
        Split::with(|scratch| {
            for (block, acc) in values.chunks(SPLIT_BLOCK * cols).zip(out.chunks_mut(SPLIT_BLOCK)) {
                let rows = (block.len() / cols).min(acc.len());
                let acc = &mut acc[..rows];
                scratch.columns(self, block, rows);
                scratch.sums[..rows].fill(base);
                for &root in &self.roots {
                    scratch.split_tree(self, root);
                }
                acc.copy_from_slice(&scratch.sums[..rows]);
            }
        });
    }

    /// [`Compiled::raw_batch`] by walking: each tree takes 64 rows at a time, 8 walked in step.
    pub fn raw_batch_walked(&self, base: f64, values: &[f64], out: &mut [f64]) {
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

/// Where the split walk keeps one division: its place among the kept ones, and its depth
/// (splits above it, counting only those that divide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Memo {
    id: u16,
    depth: u8,
}

/// The most divisions a block keeps: past this many recurring paths, the deepest divide tree by
/// tree.
const MAX_KEPT: usize = 4096;

/// The most rows (two bytes each) a block's kept divisions hold in each of the two pools: 2 MB.
/// A division that would go past it is divided tree by tree, and so are the divisions below
/// it. The bank model's blocks of 4,096 rows keep about 200 k in each.
const KEPT_ROWS: usize = 1 << 20;

/// A split's path from the root: its parent's path (none at a root), whether it is the right
/// child, then its own `bin` and `slot`.
type Path = (Option<u32>, bool, u16, u8);

/// Gives each split whose path from the root (the same splits, taken the same ways) recurs in
/// a later tree its [`Memo`], equal for equal paths. Such a split divides the same rows the same
/// way in every tree, so the first tree's division serves the others; its parent's path recurs
/// too, and is kept, so its rows come in the same order each time. Shallow paths come first
/// (they hold the most rows). A split whose two children are leaves divides nothing and gets
/// none; a split whose two ways lead to one child adds nothing to the path.
fn memos(nodes: &[Node], roots: &[u32]) -> (Vec<Option<Memo>>, usize) {
    let divides = |i: u32| nodes.get(i as usize).is_some_and(|n| n.bin != 0 && n.leaves == 0);
    let mut ids: std::collections::HashMap<Path, u32> = std::collections::HashMap::new();
    // Per path: its parent's path, its depth, and the splits that take it.
    let mut paths: Vec<(Option<u32>, u8, Vec<u32>)> = Vec::new();
    let mut stack = Vec::new();
    for &root in roots {
        stack.push((root, None, false, 0u8));
        while let Some((i, parent, right, depth)) = stack.pop() {
            let Some(&n) = nodes.get(i as usize) else { continue };
            if n.bin == 0 {
                let next = n.child.wrapping_add(1);
                if next != i {
                    stack.push((next, parent, right, depth));
                }
                continue;
            }
            if !divides(i) {
                continue;
            }
            let key = (parent, right, n.bin, n.slot);
            let id = *ids.entry(key).or_insert_with(|| {
                paths.push((parent, depth, Vec::new()));
                (paths.len() - 1) as u32
            });
            paths[id as usize].2.push(i);
            if let Some(deeper) = depth.checked_add(1) {
                stack.push((n.child, Some(id), false, deeper));
                stack.push((n.child.wrapping_add(1), Some(id), true, deeper));
            }
        }
    }
    let mut order: Vec<u32> = (0..paths.len() as u32).filter(|&p| paths[p as usize].2.len() > 1).collect();
    // By depth, then as first met: a parent's path is always placed before its children's.
    order.sort_by_key(|&p| (paths[p as usize].1, p));
    let mut memo = vec![None; nodes.len()];
    let mut kept: Vec<Option<Memo>> = vec![None; paths.len()];
    let mut count = 0;
    for p in order {
        if count == MAX_KEPT {
            break;
        }
        let (parent, depth, splits) = &paths[p as usize];
        if parent.is_some_and(|q| kept[q as usize].is_none()) {
            continue;
        }
        let m = Memo { id: count as u16, depth: *depth };
        count += 1;
        kept[p as usize] = Some(m);
        for &i in splits {
            memo[i as usize] = Some(m);
        }
    }
    (memo, count)
}

/// Every place a `u16` row number can name. Columns of bins, lists of row numbers and sums
/// are read and written through a `u16` index into one of these, so no access needs a
/// bounds check or a mask. Only a block's first [`SPLIT_BLOCK`] places are ever touched.
const PLACES: usize = 1 << 16;

/// Where the second list starts in its buffer: a split reads one list and writes the other at
/// the same places, and were they a multiple of 4 KB apart the CPU would take each store for
/// one to the next load's address and wait.
const LIST_GAP: usize = 104;

/// The buffers of [`Compiled::raw_batch_split`], kept per thread and reused.
#[derive(Debug, Default)]
struct Split {
    /// The block's bins, column by column: slot `s` of row `r` at `s * SPLIT_BLOCK + r`,
    /// followed by `PLACES` of padding so that every column can be seen as `PLACES` long.
    /// (Columns `PLACES` apart would all fall in the same few cache sets.)
    bins: Vec<u16>,
    rows: usize,
    /// Two lists of row numbers: a split reads its rows from one and writes its children's
    /// into the same places of the other, so each list is read at one depth and written at
    /// the next. The second starts at [`LIST_GAP`].
    lists: [Vec<u16>; 2],
    /// The block's sums.
    sums: Vec<f64>,
    /// The block's kept divisions, one after another: those of even depths in the first pool,
    /// of odd ones in the second, so that a division and its parent's are never in the same
    /// one. Each pool starts with `SPLIT_BLOCK` places of room and ends with `PLACES`, so that
    /// a division whose rows hold places `lo..hi` is seen from `base`, with them at
    /// `base + lo..base + hi`, like a list.
    kept: [Vec<u16>; 2],
    /// How much of each pool this block's kept divisions fill.
    kept_used: [usize; 2],
    /// Per [`Memo`], once its division is made in this block: its base, and where its right
    /// rows start.
    kept_at: Vec<Option<(u32, u16)>>,
    /// `0..rows`, what a root reads.
    all: Vec<u16>,
    /// Splits still to do: node, where its rows are (`lo..hi`), and which list holds them.
    stack: Vec<(u32, u16, u16, Source)>,
}

/// The list a split reads its rows from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `0..rows`: a root.
    All,
    /// The first list (the split writes the second).
    A,
    /// The second list (the split writes the first).
    B,
    /// A kept division: its pool (its depth's parity) and base.
    Kept(u8, u32),
}

thread_local! {
    static SPLIT: std::cell::RefCell<Split> = std::cell::RefCell::default();
}

/// A `PLACES`-long view of `v` from `start`.
fn places<T>(v: &[T], start: usize) -> Option<&[T; PLACES]> {
    v.get(start..start + PLACES)?.try_into().ok()
}

/// A `PLACES`-long view of `v` from `start`, to write.
fn places_mut<T>(v: &mut [T], start: usize) -> Option<&mut [T; PLACES]> {
    v.get_mut(start..start + PLACES)?.try_into().ok()
}

impl Split {
    /// Runs `f` with this thread's buffers (fresh ones if `f` is already running here).
    fn with<T>(f: impl FnOnce(&mut Split) -> T) -> T {
        SPLIT.with(|cell| match cell.try_borrow_mut() {
            Ok(mut split) => f(&mut split),
            Err(_) => f(&mut Split::default()),
        })
    }

    /// Turns a block's rows (at most [`SPLIT_BLOCK`]) into bins, column by column.
    fn columns(&mut self, c: &Compiled, block: &[f64], rows: usize) {
        let cols = c.features.max(1);
        self.rows = rows.min(SPLIT_BLOCK);
        if self.bins.len() < c.slots * SPLIT_BLOCK + PLACES {
            self.bins.resize(c.slots * SPLIT_BLOCK + PLACES, 0);
        }
        for list in &mut self.lists {
            if list.len() < LIST_GAP + PLACES {
                list.resize(LIST_GAP + PLACES, 0);
            }
        }
        if self.sums.len() < PLACES {
            self.sums.resize(PLACES, 0.0);
        }
        self.kept_used = [0; 2];
        self.kept_at.clear();
        self.kept_at.resize(c.memos, None);
        self.all.clear();
        // A block has at most SPLIT_BLOCK rows, which fits in a u16.
        self.all.extend((0..self.rows).map(|r| r as u16));
        // Feature by feature, so that each column is written front to back: row by row, the
        // writes would go to every column in turn, 128 KB apart, all in one cache set.
        for f in 0..c.features {
            let (right, left) = self.bins[2 * f * SPLIT_BLOCK..].split_at_mut(SPLIT_BLOCK);
            let values = block.iter().skip(f).step_by(cols).take(self.rows);
            for ((&v, r), l) in values.zip(right.iter_mut()).zip(left.iter_mut()) {
                [*r, *l] = c.bin_pair(f, v);
            }
        }
    }

    /// Adds one tree's leaf to each of the block's sums.
    fn split_tree(&mut self, c: &Compiled, root: u32) {
        let Split { bins, rows, lists, sums, kept, kept_used, kept_at, all, stack } = self;
        let [a, b] = lists;
        let (Some(a), Some(b), Some(sums)) = (places_mut(a, 0), places_mut(b, LIST_GAP), places_mut(sums, 0))
        else {
            return;
        };
        stack.clear();
        stack.push((root, 0, *rows as u16, Source::All));
        while let Some((i, lo, hi, source)) = stack.pop() {
            let n = c.nodes[i as usize];
            let (lo_, hi_) = (usize::from(lo), usize::from(hi));
            if n.bin == 0 {
                // A leaf, or a split whose two ways lead to one child.
                let next = n.child.wrapping_add(1);
                if next != i {
                    stack.push((next, lo, hi, source));
                    continue;
                }
                let v = c.leaf_values[i as usize];
                for &r in &source.list(all, a, b, kept)[lo_..hi_] {
                    sums[usize::from(r)] += v;
                }
                continue;
            }
            let Some(column) = places(bins, usize::from(n.slot) * SPLIT_BLOCK) else { continue };
            if n.leaves != 0 {
                // Indexed, not chosen by `if`, which compiles to a branch taken at random.
                let values =
                    [c.leaf_values[n.child as usize], c.leaf_values[n.child.wrapping_add(1) as usize]];
                for &r in &source.list(all, a, b, kept)[lo_..hi_] {
                    sums[usize::from(r)] += values[usize::from(column[usize::from(r)] >= n.bin)];
                }
                continue;
            }
            // A kept division is of a root, reading `all`, or of a kept division's child,
            // reading that: the same rows, in the same order, wherever the path recurs.
            let memo = match (c.memo[i as usize], source) {
                (Some(m), Source::All | Source::Kept(..)) => Some(m),
                _ => None,
            };
            let (dest, left) = match memo.map(|m| (m, kept_at.get(usize::from(m.id)).copied().flatten())) {
                Some((m, Some((base, left)))) => (Source::Kept(m.depth % 2, base), left),
                _ => {
                    let room = |m: Memo| kept_used[usize::from(m.depth % 2)] + (hi_ - lo_) <= c.kept_rows;
                    let dest = match (memo, source) {
                        (Some(m), _) if room(m) => {
                            let pool = usize::from(m.depth % 2);
                            let base = SPLIT_BLOCK + kept_used[pool] - lo_;
                            kept_used[pool] += hi_ - lo_;
                            if kept[pool].len() < base + PLACES {
                                kept[pool].resize(base + PLACES, 0);
                            }
                            Source::Kept(m.depth % 2, base as u32)
                        }
                        (_, Source::A) => Source::B,
                        _ => Source::A,
                    };
                    let Some((from, to)) = divide(source, dest, all, a, b, kept) else {
                        debug_assert!(false, "the walk made a pair `divide` does not know");
                        continue;
                    };
                    let left = partition(column, n.bin, &from[lo_..hi_], to, lo, hi);
                    if let (Some(m), Source::Kept(_, base)) = (memo, dest)
                        && let Some(made) = kept_at.get_mut(usize::from(m.id))
                    {
                        *made = Some((base, left));
                    }
                    (dest, left)
                }
            };
            if left < hi {
                stack.push((n.child.wrapping_add(1), left, hi, dest));
            }
            if left > lo {
                stack.push((n.child, lo, left, dest));
            }
        }
    }
}

impl Source {
    /// The list this names.
    fn list<'a>(
        self,
        all: &'a [u16],
        a: &'a [u16; PLACES],
        b: &'a [u16; PLACES],
        kept: &'a [Vec<u16>; 2],
    ) -> &'a [u16] {
        match self {
            Source::All => all,
            Source::A => a,
            Source::B => b,
            Source::Kept(pool, base) => kept[usize::from(pool & 1)].get(base as usize..).unwrap_or_default(),
        }
    }
}

/// The list a division reads and the one it writes, or `None` for a pair the walk never makes.
/// Roots read `all`; a kept division reads `all` or its parent's, in the other pool; any other
/// division reads one list (or a kept division) and writes the other.
fn divide<'a>(
    source: Source,
    dest: Source,
    all: &'a [u16],
    a: &'a mut [u16; PLACES],
    b: &'a mut [u16; PLACES],
    kept: &'a mut [Vec<u16>; 2],
) -> Option<(&'a [u16], &'a mut [u16; PLACES])> {
    let [even, odd] = kept;
    match (source, dest) {
        (Source::All, Source::A) => Some((all, a)),
        (Source::All, Source::Kept(0, base)) => Some((all, places_mut(even, base as usize)?)),
        (Source::Kept(0, from), Source::Kept(1, to)) => {
            Some((even.get(from as usize..)?, places_mut(odd, to as usize)?))
        }
        (Source::Kept(1, from), Source::Kept(0, to)) => {
            Some((odd.get(from as usize..)?, places_mut(even, to as usize)?))
        }
        (Source::Kept(pool, from), Source::A) => {
            Some((if pool == 0 { &even[..] } else { &odd[..] }.get(from as usize..)?, a))
        }
        (Source::A, Source::B) => Some((a, b)),
        (Source::B, Source::A) => Some((b, a)),
        _ => None,
    }
}

/// Writes the rows of `from` whose bin in `column` is below `bin` to `to[lo..]`, the others
/// to `to[..hi]` from the back, and returns where the first right row is. Each row is stored
/// once, at the end it belongs to, picked by a conditional move rather than a branch: about
/// eleven instructions a row.
#[inline(always)]
fn partition(
    column: &[u16; PLACES],
    bin: u16,
    from: &[u16],
    to: &mut [u16; PLACES],
    lo: u16,
    hi: u16,
) -> u16 {
    let (mut left, mut right) = (lo, hi.wrapping_sub(1));
    let mut step = |r: u16| {
        let goes_right = column[usize::from(r)] >= bin;
        to[usize::from(if goes_right { right } else { left })] = r;
        left = left.wrapping_add(u16::from(!goes_right));
        right = right.wrapping_sub(u16::from(goes_right));
    };
    let mut fours = from.chunks_exact(4);
    for four in &mut fours {
        step(four[0]);
        step(four[1]);
        step(four[2]);
        step(four[3]);
    }
    for &r in fours.remainder() {
        step(r);
    }
    left
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

    proptest::proptest! {
        /// A whole number's bin from the table is the binary search's, for any thresholds
        /// (whole, fractional, negative, ±0) and any value in, around or far outside them.
        #[test]
        fn whole_number_bins_are_the_binary_searchs(
            raw in proptest::collection::vec(-300i32..300, 1..40),
            halves in proptest::collection::vec(proptest::prelude::any::<bool>(), 40),
            values in proptest::collection::vec(-400i64..400, 1..60),
        ) {
            let mut ts: Vec<f64> = raw.iter().zip(&halves).map(|(&k, &h)| f64::from(k) + if h { 0.5 } else { 0.0 }).collect();
            ts.push(-0.0);
            ts.sort_by(f64::total_cmp);
            ts.dedup();
            let table = WholeBins::new(&ts).expect("a span under MAX_TABLE");
            let extra = [0.0, -0.0, 0.25, -1e300, 1e300, f64::INFINITY, f64::NEG_INFINITY, i64::MAX as f64];
            let covered = table.first as f64..(table.first + table.bins.len() as i64) as f64;
            for v in values.iter().map(|&k| k as f64).chain(extra) {
                let want = ts.partition_point(|&t| t <= v) as u16;
                // A whole number the table covers is answered by it, not left to the search.
                if v.fract() == 0.0 && covered.contains(&v) {
                    proptest::prop_assert!(table.get(v).is_some(), "value {} is in the table", v);
                }
                let got = table.get(v).unwrap_or(want);
                proptest::prop_assert_eq!(got, want, "value {}", v);
            }
        }
    }

    #[test]
    fn thresholds_spanning_too_many_whole_numbers_get_no_table() {
        assert!(WholeBins::new(&[0.0, 5000.0]).is_none());
        assert!(WholeBins::new(&[f64::NEG_INFINITY, 1.0]).is_none());
        assert!(WholeBins::new(&[1.0, f64::INFINITY]).is_none());
        assert!(WholeBins::new(&[]).is_none());
        let t = WholeBins::new(&[-2.5, 1.0, 7.0]).expect("a small span");
        assert_eq!(
            (t.get(-3.0), t.get(1.0), t.get(1.5), t.get(7.0), t.get(8.0)),
            (Some(0), Some(2), None, Some(3), None)
        );
    }
}
