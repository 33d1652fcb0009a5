//! Percentiles of timed samples.

use std::time::Duration;

/// Median and p99 of a set of samples, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub p50_us: f64,
    pub p99_us: f64,
    /// How many samples.
    pub n: usize,
}

/// Summarizes samples (sorted in place).
pub fn summarize(samples: &mut [Duration]) -> Summary {
    samples.sort_unstable();
    let at = |q: f64| {
        if samples.is_empty() {
            return f64::NAN;
        }
        let i = ((samples.len() - 1) as f64 * q).round() as usize;
        samples[i].as_secs_f64() * 1e6
    };
    Summary { p50_us: at(0.5), p99_us: at(0.99), n: samples.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_1_to_100() {
        let mut s: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let sum = summarize(&mut s);
        assert_eq!((sum.p50_us.round(), sum.p99_us.round(), sum.n), (51.0, 99.0, 100));
    }
}
