//! Exact TreeSHAP leaf by leaf, with the row's hot and cold features apart.
//!
//! The game is [`Forest::explain`]'s. A tree's output is the sum of its leaves' one-path games,
//! and a leaf's game depends only on the features on its path, each met as one player
//! (repeated splits on a feature merged): `z`, the share of training cover that passes the
//! feature's splits on the path, and `o`, 1 when the row's own value passes them all ("hot")
//! and 0 otherwise ("cold"). With `S` the known features, the leaf's value is
//! `v · Π_{j∈S} o_j · Π_{j∉S} z_j`, so a set holding a cold feature adds nothing, and with `D`
//! players, `P` the hot ones, `Q` the cold ones and `W(k) = k!(D−1−k)!/D!`:
//!
//! - every cold feature gets the same `−v · Π_Q z · A(P)`, where
//!   `A(P) = Σ_{S⊆P} W(|S|) Π_{P∖S} z = Σ_k W(k) g_k` and `g_k` is the coefficient of `x^k`
//!   in `Π_{j∈P} (x + z_j)`;
//! - a hot feature `i` gets `v · (1 − z_i) · Π_Q z · A(P∖{i})`, with `P∖{i}`'s coefficients
//!   from `P`'s by one synthetic division by `(x + z_i)`.
//!
//! The walk keeps the hot players (with `g`, updated by one multiplication or synthetic
//! division per node) apart from the cold ones, so a leaf costs `O(|Q| + |P|²)` with no
//! division and no branch on a player's kind, where the classic recursion (kept as
//! [`Forest::explain_recursive`], the reference in the tests) costs `O(D²)` with a division per
//! step.
//! A branch that no cover reaches and the row does not take is skipped, as a leaf with a cold
//! feature of cover 0 is: both add nothing.
//!
//! When the forest compiles to bins ([`Compiled`]), [`Paths`] does the same sums without the
//! walk: each leaf's players are fixed per model, and a player is hot exactly when the row's
//! bin for its feature lies in the interval its splits on the path leave (or the value is
//! missing and every split sends a missing value the path's way). So the paths are listed once,
//! and an explanation classifies each leaf's players without a branch, builds `g` from the hot
//! ones and steps all their synthetic divisions together, a coefficient at a time, so that the
//! independent chains overlap. The walk stays for the forests the bins cannot express.

use super::flat::Forest;
use super::walk::Compiled;

/// `weights[d][k] = k!(d−1−k)!/d!`, the Shapley weight of a set of `k` other players out of
/// `d`, for `d` up to `max`.
pub(crate) fn shapley_weights(max: usize) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new()];
    for d in 1..=max {
        // 1 / (d · C(d−1, k)), the binomial built up term by term.
        let mut row = Vec::with_capacity(d);
        let mut binomial = 1.0;
        for k in 0..d {
            row.push(1.0 / (d as f64 * binomial));
            binomial = binomial * (d - 1 - k) as f64 / (k + 1) as f64;
        }
        out.push(row);
    }
    out
}

/// The walk's state: the path's hot and cold players, and each level's coefficients `g`.
struct Walk<'a> {
    forest: &'a Forest,
    row: &'a [f64],
    weights: &'a [Vec<f64>],
    phi: &'a mut [f64],
    /// (feature, zero) of each hot player.
    hot: Vec<(u32, f64)>,
    /// (feature, zero) of each cold player.
    cold: Vec<(u32, f64)>,
    /// Level `l`'s coefficients at `g[l * width..]`, `hot.len() + 1` of them.
    g: Vec<f64>,
    width: usize,
}

/// Adds every tree's Shapley values for `row` to `phi`. `weights` from [`shapley_weights`] up
/// to at least the most players a path can hold (the forest's features, or its depth), and
/// `deepest` the deepest tree's depth.
pub(crate) fn explain_into(
    forest: &Forest,
    row: &[f64],
    weights: &[Vec<f64>],
    deepest: usize,
    phi: &mut [f64],
) {
    let width = weights.len() + 1;
    let mut walk = Walk {
        forest,
        row,
        weights,
        phi,
        hot: Vec::with_capacity(width),
        cold: Vec::with_capacity(width),
        g: vec![0.0; (deepest + 2) * width],
        width,
    };
    walk.g[0] = 1.0;
    for t in &forest.trees {
        walk.node(t.root as usize, 0);
    }
}

/// `out = g · (x + z)`, `g` of degree `g.len() − 1`.
#[inline(always)]
fn multiply(g: &[f64], z: f64, out: &mut [f64]) {
    let m = g.len() - 1;
    out[m + 1] = g[m];
    for k in (1..=m).rev() {
        out[k] = g[k - 1] + z * g[k];
    }
    out[0] = z * g[0];
}

/// `out = g / (x + z)` (exact: `(x + z)` is one of `g`'s factors), top coefficient down.
#[inline(always)]
fn divide(g: &[f64], z: f64, out: &mut [f64]) {
    let m = g.len() - 1;
    let mut q = g[m];
    out[m - 1] = q;
    for k in (1..m).rev() {
        q = g[k] - z * q;
        out[k - 1] = q;
    }
}

impl Walk<'_> {
    fn node(&mut self, i: usize, level: usize) {
        let f = self.forest;
        let n = &f.nodes[i];
        if n.left == i as u32 {
            self.leaf(f.leaf_values[i], level);
            return;
        }
        let feature = n.feature;
        let hot_child = f.step(n, self.row[feature as usize]);
        let in_hot = self.hot.iter().position(|e| e.0 == feature);
        let in_cold = if in_hot.is_none() { self.cold.iter().position(|e| e.0 == feature) } else { None };
        let (zero_above, hot_above) = match (in_hot, in_cold) {
            (Some(h), _) => (self.hot[h].1, true),
            (None, Some(q)) => (self.cold[q].1, false),
            (None, None) => (1.0, true),
        };
        let (children, count) = n.distinct_children();
        let m = self.hot.len();
        let w = self.width;
        for &c in &children[..count] {
            let zero = f.share[c as usize] * zero_above;
            let hot = hot_above && c == hot_child;
            // A branch no cover reaches and the row does not take adds nothing.
            if zero == 0.0 && !hot {
                continue;
            }
            let (here, next) = self.g.split_at_mut((level + 1) * w);
            let g = &here[level * w..level * w + m + 1];
            let out = &mut next[..w];
            match (in_hot, in_cold, hot) {
                (None, None, true) => {
                    multiply(g, zero, out);
                    self.hot.push((feature, zero));
                    self.node(c as usize, level + 1);
                    self.hot.pop();
                }
                (None, None, false) => {
                    out[..=m].copy_from_slice(g);
                    self.cold.push((feature, zero));
                    self.node(c as usize, level + 1);
                    self.cold.pop();
                }
                (Some(h), _, true) => {
                    let above = self.hot[h].1;
                    let mut divided = [0.0; 64];
                    if m <= 64 {
                        divide(g, above, &mut divided[..m]);
                        multiply(&divided[..m], zero, out);
                    } else {
                        let mut divided = vec![0.0; m];
                        divide(g, above, &mut divided);
                        multiply(&divided, zero, out);
                    }
                    self.hot[h].1 = zero;
                    self.node(c as usize, level + 1);
                    self.hot[h].1 = above;
                }
                (Some(h), _, false) => {
                    divide(g, self.hot[h].1, out);
                    let above = self.hot.remove(h);
                    self.cold.push((feature, zero));
                    self.node(c as usize, level + 1);
                    self.cold.pop();
                    self.hot.insert(h, above);
                }
                (None, Some(q), _) => {
                    out[..=m].copy_from_slice(g);
                    let above = self.cold[q].1;
                    self.cold[q].1 = zero;
                    self.node(c as usize, level + 1);
                    self.cold[q].1 = above;
                }
            }
        }
    }

    fn leaf(&mut self, value: f64, level: usize) {
        let m = self.hot.len();
        let d = m + self.cold.len();
        if d == 0 || value == 0.0 {
            return;
        }
        let cold_product = self.cold.iter().fold(1.0, |p, e| p * e.1);
        if cold_product == 0.0 {
            return;
        }
        let g = &self.g[level * self.width..level * self.width + m + 1];
        let w = &self.weights[d];
        let scale = value * cold_product;
        if !self.cold.is_empty() {
            let a: f64 = g.iter().zip(w).map(|(g, w)| g * w).sum();
            let each = -scale * a;
            for e in &self.cold {
                self.phi[e.0 as usize] += each;
            }
        }
        for &(feature, z) in &self.hot {
            // Σ_k W(k) · (g / (x + z))_k, the quotient's coefficients from the top down.
            let mut q = g[m];
            let mut a = w[m - 1] * q;
            for k in (1..m).rev() {
                q = g[k] - z * q;
                a += w[k - 1] * q;
            }
            self.phi[feature as usize] += scale * (1.0 - z) * a;
        }
    }
}

/// One player of a leaf's path (a feature, its splits on the path merged), fixed per model:
/// only whether the row is hot on it depends on the row.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Player {
    /// The share of cover that passes the feature's splits on the path.
    z: f64,
    feature: u32,
    /// The row is hot when its bin (the one with a missing value at `u16::MAX`) is in
    /// `lo..hi`, or missing when `nan_hot`.
    lo: u16,
    hi: u16,
    /// Whether a missing value passes all the feature's splits on the path.
    nan_hot: bool,
}

/// A leaf's value and where its players are in [`Paths::players`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct LeafPath {
    value: f64,
    start: u32,
    end: u32,
}

/// Every leaf's path, precomputed from the trees once (never stored): an explanation then
/// reads the row's bins against each player's bin interval instead of walking the trees.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Paths {
    leaves: Vec<LeafPath>,
    players: Vec<Player>,
    /// The most players on one path.
    widest: usize,
}

impl Paths {
    /// The forest's leaf paths, or `None` when a split is one the bins cannot express (the
    /// forest is not compiled, or a node has a third child).
    pub(crate) fn new(forest: &Forest, compiled: &Compiled) -> Option<Paths> {
        let mut paths = Paths { leaves: Vec::new(), players: Vec::new(), widest: 0 };
        let mut stack: Vec<Player> = Vec::new();
        for t in &forest.trees {
            paths.descend(forest, compiled, t.root as usize, &mut stack)?;
        }
        Some(paths)
    }

    fn descend(&mut self, f: &Forest, c: &Compiled, i: usize, stack: &mut Vec<Player>) -> Option<()> {
        let n = f.nodes[i];
        if n.left == i as u32 {
            let value = f.leaf_values[i];
            // A leaf of value 0 or without players adds nothing to any contribution.
            if value != 0.0 && !stack.is_empty() {
                let start = u32::try_from(self.players.len()).ok()?;
                self.players.extend_from_slice(stack);
                let end = u32::try_from(self.players.len()).ok()?;
                self.leaves.push(LeafPath { value, start, end });
                self.widest = self.widest.max(stack.len());
            }
            return Some(());
        }
        let (_, count) = n.distinct_children();
        if count == 3 {
            return None;
        }
        let feature = n.feature;
        let bin = if n.left == n.right { 0 } else { c.split_bin(feature as usize, n.threshold)? };
        let children = if n.left == n.right { vec![n.left] } else { vec![n.left, n.right] };
        for child in children {
            let place = stack.iter().position(|p| p.feature == feature);
            let above = match place {
                Some(k) => stack[k],
                None => Player { z: 1.0, feature, lo: 0, hi: u16::MAX, nan_hot: true },
            };
            let mut here = above;
            here.z = f.share[child as usize] * above.z;
            if n.left != n.right {
                if child == n.left {
                    here.hi = here.hi.min(bin);
                } else {
                    here.lo = here.lo.max(bin);
                }
            }
            here.nan_hot = above.nan_hot && child == n.missing;
            match place {
                Some(k) => stack[k] = here,
                None => stack.push(here),
            }
            self.descend(f, c, child as usize, stack)?;
            match place {
                Some(k) => stack[k] = above,
                None => {
                    stack.pop();
                }
            }
        }
        Some(())
    }

    /// Adds every leaf's Shapley values for the row whose bins are `bins` to `phi`; `weights`
    /// from [`shapley_weights`] up to at least [`Paths::widest`].
    pub(crate) fn explain_into(&self, bins: &[u16], weights: &[Vec<f64>], phi: &mut [f64]) {
        let width = self.widest + 1;
        let (mut hot_z, mut hot_f, mut cold_f) = (vec![0.0; width], vec![0u32; width], vec![0u32; width]);
        let mut g = vec![0.0; width + 1];
        let (mut q, mut a) = (vec![0.0; width], vec![0.0; width]);
        for leaf in &self.leaves {
            let players = &self.players[leaf.start as usize..leaf.end as usize];
            let (mut m, mut cold) = (0, 0);
            let mut cold_product = 1.0;
            // Without a branch: whether a player is hot follows the row, so a branch on it
            // would be mispredicted about as often as not.
            for p in players {
                let b = bins[2 * p.feature as usize];
                let hot = (p.lo <= b) & (b < p.hi) | (b == u16::MAX) & p.nan_hot;
                hot_z[m] = p.z;
                hot_f[m] = p.feature;
                cold_f[cold] = p.feature;
                cold_product *= [p.z, 1.0][usize::from(hot)];
                m += usize::from(hot);
                cold += usize::from(!hot);
            }
            if cold_product == 0.0 {
                continue;
            }
            // g = Π_hot (x + z), lowest coefficient first.
            g[0] = 1.0;
            for (j, &z) in hot_z[..m].iter().enumerate() {
                g[j + 1] = g[j];
                for k in (1..=j).rev() {
                    g[k] = g[k - 1] + z * g[k];
                }
                g[0] *= z;
            }
            let d = m + cold;
            let w = &weights[d];
            let scale = leaf.value * cold_product;
            if cold > 0 {
                let sum: f64 = g[..=m].iter().zip(w).map(|(g, w)| g * w).sum();
                let each = -scale * sum;
                for &f in &cold_f[..cold] {
                    phi[f as usize] += each;
                }
            }
            if m == 0 {
                continue;
            }
            // Σ_k W(k) · (g / (x + z_i))_k for every hot player i at once, a coefficient at a
            // time, so that the players' independent divisions overlap in the CPU.
            let z = &hot_z[..m];
            q[..m].fill(g[m]);
            a[..m].fill(w[m - 1] * g[m]);
            for k in (1..m).rev() {
                let (gk, wk) = (g[k], w[k - 1]);
                for ((q, a), z) in q[..m].iter_mut().zip(&mut a[..m]).zip(z) {
                    *q = gk - z * *q;
                    *a += wk * *q;
                }
            }
            for ((&f, z), a) in hot_f[..m].iter().zip(z).zip(&a[..m]) {
                phi[f as usize] += scale * (1.0 - z) * a;
            }
        }
    }
}
