//! The logistic-regression baseline: standardized features, an L2 penalty, Newton's method.
//!
//! Its log-odds are `intercept + Σ coefficient × standardized value`, so each term is that
//! feature's exact contribution. It is the bar a tree model must clear to earn its place.

use serde::{Deserialize, Serialize};

use super::features::{Encoding, Features};
use super::metrics::sigmoid;
use super::{Explanation, ModelError, Scorer};

/// The L2 penalty on the standardized coefficients (not on the intercept). Small: it only keeps
/// the solution unique when one-hot levels are collinear or a feature separates the classes.
const L2: f64 = 1.0;
/// Newton steps at most; it converges in about ten.
const MAX_STEPS: usize = 50;
/// Stop once no coefficient moves more than this.
const TOLERANCE: f64 = 1e-9;

/// A logistic-regression model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    pub names: Vec<String>,
    /// Training means and standard deviations; a missing value standardizes to 0 (the mean).
    pub means: Vec<f64>,
    pub scales: Vec<f64>,
    pub intercept: f64,
    pub coefficients: Vec<f64>,
}

/// The version written with a saved model.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Saved {
    format: u32,
    kind: String,
    model: Logistic,
}

impl Logistic {
    /// An untrained model.
    pub fn new() -> Self {
        Self::default()
    }

    fn standardized(&self, j: usize, v: f64) -> f64 {
        if v.is_nan() { 0.0 } else { (v - self.means[j]) / self.scales[j] }
    }
}

/// Solves `a x = b` for a symmetric positive-definite `a` (n × n, row-major) by Cholesky.
fn solve_spd(a: &[f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = a[i * n + j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (b[i] - (0..i).map(|k| l[i * n + k] * y[k]).sum::<f64>()) / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (y[i] - (i + 1..n).map(|k| l[k * n + i] * x[k]).sum::<f64>()) / l[i * n + i];
    }
    Some(x)
}

impl Scorer for Logistic {
    fn kind(&self) -> &'static str {
        "logistic"
    }

    fn encoding(&self) -> Encoding {
        Encoding::OneHot
    }

    fn fit(&mut self, x: &Features, y: &[bool]) -> Result<(), ModelError> {
        let (n, p) = (x.rows, x.cols());
        if n == 0 || y.len() != n {
            return Err(ModelError::Data(format!("nothing to train on ({n} rows, {} labels)", y.len())));
        }
        self.names = x.names.clone();
        self.means = vec![0.0; p];
        self.scales = vec![1.0; p];
        for j in 0..p {
            let present: Vec<f64> = (0..n).map(|i| x.row(i)[j]).filter(|v| !v.is_nan()).collect();
            if present.is_empty() {
                continue;
            }
            let mean = present.iter().sum::<f64>() / present.len() as f64;
            let var = present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / present.len() as f64;
            self.means[j] = mean;
            // A constant feature keeps scale 1: it standardizes to 0 and its coefficient stays 0.
            self.scales[j] = if var > 0.0 { var.sqrt() } else { 1.0 };
        }
        // Column 0 of the design is the intercept.
        let d = p + 1;
        let z: Vec<f64> = (0..n)
            .flat_map(|i| {
                let row = x.row(i);
                std::iter::once(1.0).chain(
                    (0..p)
                        .map(move |j| (j, row[j]))
                        .map(|(j, v)| if v.is_nan() { 0.0 } else { (v - self.means[j]) / self.scales[j] }),
                )
            })
            .collect();
        let mut w = vec![0.0; d];
        let positives = y.iter().filter(|&&l| l).count() as f64;
        let rate = (positives / n as f64).clamp(1e-6, 1.0 - 1e-6);
        w[0] = (rate / (1.0 - rate)).ln();
        let loss = |w: &[f64]| -> f64 {
            let mut sum = 0.0;
            for i in 0..n {
                let eta: f64 = z[i * d..(i + 1) * d].iter().zip(w).map(|(a, b)| a * b).sum();
                // log(1 + e^η) − y η, stable for large |η|.
                let softplus = if eta > 0.0 { eta + (-eta).exp().ln_1p() } else { eta.exp().ln_1p() };
                sum += softplus - if y[i] { eta } else { 0.0 };
            }
            sum + 0.5 * L2 * w[1..].iter().map(|v| v * v).sum::<f64>()
        };
        let mut current = loss(&w);
        for _ in 0..MAX_STEPS {
            let mut grad = vec![0.0; d];
            let mut hess = vec![0.0; d * d];
            for i in 0..n {
                let zi = &z[i * d..(i + 1) * d];
                let eta: f64 = zi.iter().zip(&w).map(|(a, b)| a * b).sum();
                let pi = sigmoid(eta);
                let r = pi - if y[i] { 1.0 } else { 0.0 };
                let h = (pi * (1.0 - pi)).max(1e-12);
                for a in 0..d {
                    grad[a] += r * zi[a];
                    let hz = h * zi[a];
                    if hz != 0.0 {
                        for b in 0..=a {
                            hess[a * d + b] += hz * zi[b];
                        }
                    }
                }
            }
            for a in 1..d {
                grad[a] += L2 * w[a];
                hess[a * d + a] += L2;
            }
            for a in 0..d {
                for b in 0..a {
                    hess[b * d + a] = hess[a * d + b];
                }
            }
            let step = solve_spd(&hess, &grad, d)
                .ok_or_else(|| ModelError::Train("the logistic regression's Hessian is singular".into()))?;
            // Newton's step, halved until the penalized loss goes down: a full step can
            // overshoot far from the optimum.
            let mut scale = 1.0;
            let mut accepted = None;
            for _ in 0..40 {
                let trial: Vec<f64> = w.iter().zip(&step).map(|(wa, sa)| wa - scale * sa).collect();
                let l = loss(&trial);
                if l.is_finite() && l <= current {
                    accepted = Some((trial, l));
                    break;
                }
                scale /= 2.0;
            }
            let Some((next, l)) = accepted else { break };
            let moved = w.iter().zip(&next).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            w = next;
            current = l;
            if moved < TOLERANCE {
                break;
            }
        }
        self.intercept = w[0];
        self.coefficients = w[1..].to_vec();
        Ok(())
    }

    fn raw(&self, row: &[f64]) -> f64 {
        self.intercept
            + self.coefficients.iter().enumerate().map(|(j, c)| c * self.standardized(j, row[j])).sum::<f64>()
    }

    fn explain(&self, row: &[f64]) -> Explanation {
        Explanation {
            base: self.intercept,
            contributions: (0..self.coefficients.len())
                .map(|j| (self.names[j].clone(), self.coefficients[j] * self.standardized(j, row[j])))
                .collect(),
        }
    }

    fn to_json(&self) -> Result<String, ModelError> {
        serde_json::to_string(&Saved { format: FORMAT, kind: "logistic".into(), model: self.clone() })
            .map_err(|e| ModelError::Train(e.to_string()))
    }

    fn from_json(json: &str) -> Result<Self, ModelError> {
        let saved: Saved = serde_json::from_str(json).map_err(|e| ModelError::Load(e.to_string()))?;
        if saved.format != FORMAT || saved.kind != "logistic" {
            return Err(ModelError::Load(format!(
                "a {} model in format {}, not logistic {FORMAT}",
                saved.kind, saved.format
            )));
        }
        let m = saved.model;
        let p = m.names.len();
        if m.means.len() != p || m.scales.len() != p || m.coefficients.len() != p {
            return Err(ModelError::Load("its vectors differ in length".into()));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves() {
        // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0].
        let x = solve_spd(&[4.0, 2.0, 2.0, 3.0], &[2.0, 1.0], 2).expect("positive definite");
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
        assert!(solve_spd(&[0.0], &[1.0], 1).is_none());
    }

    #[test]
    fn learns_the_sign_and_explains_exactly() {
        // y is 1 mostly when x0 is large; x1 is noise.
        let mut values = Vec::new();
        let mut y = Vec::new();
        for i in 0..400 {
            let x0 = f64::from(i % 20);
            let x1 = f64::from((i * 7) % 13);
            values.extend([x0, x1]);
            y.push((i * 31 % 20) < i % 20);
        }
        let x = Features { values, rows: 400, names: vec!["x0".into(), "x1".into()], categorical: vec![] };
        let mut m = Logistic::new();
        m.fit(&x, &y).expect("trains");
        assert!(m.coefficients[0] > 1.0, "{:?}", m.coefficients);
        assert!(m.coefficients[0].abs() > 5.0 * m.coefficients[1].abs());
        for i in 0..x.rows {
            let e = m.explain(x.row(i));
            assert!((e.total() - m.raw(x.row(i))).abs() < 1e-12);
        }
        let back = Logistic::from_json(&m.to_json().expect("saves")).expect("loads");
        assert_eq!(back, m);
        assert!(Logistic::from_json("{\"format\": 9}").is_err());
    }
}
