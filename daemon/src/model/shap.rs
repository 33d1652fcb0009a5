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
//! A leaf costs `O(D + |P|²)` with no division, where the classic recursion (kept as
//! [`Forest::explain_recursive`], the reference in the tests) costs `O(D²)` with one per step.
//! A branch that no cover reaches and the row does not take is skipped, as a leaf with a cold
//! feature of cover 0 is: both add nothing.

use super::flat::Forest;

/// One player on the path to the current node.
#[derive(Debug, Clone, Copy)]
struct Element {
    feature: u32,
    /// The share of cover passing this feature's splits on the path.
    zero: f64,
    /// Whether the row's own value passes them all.
    hot: bool,
}

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

/// The walk's state: the path's players and scratch for a leaf's coefficients.
struct Walk<'a> {
    forest: &'a Forest,
    row: &'a [f64],
    weights: &'a [Vec<f64>],
    phi: &'a mut [f64],
    path: Vec<Element>,
    coefficients: Vec<f64>,
}

/// Adds every tree's Shapley values for `row` to `phi`; `weights` from [`shapley_weights`] up
/// to at least the most players a path can hold (the forest's features, or its depth).
pub(crate) fn explain_into(forest: &Forest, row: &[f64], weights: &[Vec<f64>], phi: &mut [f64]) {
    let most = weights.len();
    let mut walk =
        Walk { forest, row, weights, phi, path: Vec::with_capacity(most), coefficients: vec![0.0; most + 1] };
    for t in &forest.trees {
        walk.node(t.root as usize);
    }
}

impl Walk<'_> {
    fn node(&mut self, i: usize) {
        let f = self.forest;
        let n = &f.nodes[i];
        if n.left == i as u32 {
            self.leaf(f.leaf_values[i]);
            return;
        }
        let hot_child = f.step(n, self.row[n.feature as usize]);
        let seen = self.path.iter().position(|e| e.feature == n.feature);
        let (zero_above, hot_above) = seen.map_or((1.0, true), |k| (self.path[k].zero, self.path[k].hot));
        let mut children = [n.left, n.right, n.missing];
        let mut count = 1;
        if n.right != n.left {
            count = 2;
        }
        if n.missing != n.left && n.missing != n.right {
            children[count] = n.missing;
            count += 1;
        }
        for &c in &children[..count] {
            let e = Element {
                feature: n.feature,
                zero: f.share[c as usize] * zero_above,
                hot: hot_above && c == hot_child,
            };
            if e.zero == 0.0 && !e.hot {
                continue;
            }
            match seen {
                Some(k) => {
                    let before = std::mem::replace(&mut self.path[k], e);
                    self.node(c as usize);
                    self.path[k] = before;
                }
                None => {
                    self.path.push(e);
                    self.node(c as usize);
                    self.path.pop();
                }
            }
        }
    }

    fn leaf(&mut self, value: f64) {
        let d = self.path.len();
        if d == 0 || value == 0.0 {
            return;
        }
        // g: the coefficients of Π_{hot} (x + z), built a factor at a time.
        let g = &mut self.coefficients;
        g[0] = 1.0;
        let mut m = 0;
        let mut cold_product = 1.0;
        for e in &self.path {
            if e.hot {
                g[m + 1] = 0.0;
                for k in (1..=m + 1).rev() {
                    g[k] = g[k - 1] + e.zero * g[k];
                }
                g[0] *= e.zero;
                m += 1;
            } else {
                cold_product *= e.zero;
            }
        }
        if cold_product == 0.0 {
            return;
        }
        let w = &self.weights[d];
        let scale = value * cold_product;
        if m < d {
            let a: f64 = g[..=m].iter().zip(w).map(|(g, w)| g * w).sum();
            let each = -scale * a;
            for e in self.path.iter().filter(|e| !e.hot) {
                self.phi[e.feature as usize] += each;
            }
        }
        for e in self.path.iter().filter(|e| e.hot) {
            // Π_{hot ≠ e} (x + z) = g / (x + z_e), from the top coefficient down.
            let mut q = g[m];
            let mut a = w[m - 1] * q;
            for k in (1..m).rev() {
                q = g[k] - e.zero * q;
                a += w[k - 1] * q;
            }
            self.phi[e.feature as usize] += scale * (1.0 - e.zero) * a;
        }
    }
}
