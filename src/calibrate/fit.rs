//! A robust straight-line fit of measured round trips against great-circle distance.
//!
//! The latency model is linear in its two free constants: a pair's predicted median RTT is
//! `offset + fixed + per_km × distance`, where `offset` is what the fit holds (the jitter's median, and
//! last-mile access when the pings came from users' devices). The fit solves for `fixed` and `per_km` by
//! iteratively reweighted least squares (IRLS) with Huber weights on *relative* residuals
//! `(measured − predicted) / predicted`: a detour makes a path proportionally longer, so errors grow with
//! the RTT, and a 300 ms transoceanic pair should not outweigh fifty 10 ms ones. The scale of the
//! residuals is re-estimated each round as 1.4826 × their median absolute value (MAD, consistent with a
//! standard deviation for normal errors), so a few wild pairs (a 60×-inflated ping) keep a bounded pull
//! instead of dragging the line. Pairs beyond [`OUTLIER_K`] × that scale are reported as outliers.
//!
//! Everything here is plain arithmetic in a fixed order, so the same input gives the same bits.

/// Huber's tuning constant: 95% efficiency for normal errors.
pub const HUBER_C: f64 = 1.345;
/// A pair whose relative residual exceeds this many robust scales is flagged as an outlier.
pub const OUTLIER_K: f64 = 3.0;
/// Converts a median absolute deviation into a standard-deviation-like scale for normal errors.
const MAD_TO_SIGMA: f64 = 1.4826;
const MAX_ROUNDS: usize = 200;
/// Predictions are floored here so that a zero-length pair with no fixed cost cannot divide by zero.
const MIN_PREDICTION_MS: f64 = 0.1;

/// One measured pair, reduced to what the fit needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Great-circle distance between the two places, km.
    pub distance_km: f64,
    /// Measured round-trip time, ms.
    pub rtt_ms: f64,
}

/// The two constants the fit solves for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Fixed round-trip cost, ms (≥ 0).
    pub fixed_ms: f64,
    /// Round-trip milliseconds per great-circle kilometre (≥ the fiber's own).
    pub ms_per_km: f64,
}

/// What the fit holds fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Held {
    /// Added to every prediction and not fitted (jitter median, access), ms.
    pub offset_ms: f64,
    /// The smallest slope allowed: light in fiber over the great circle (inflation 1).
    pub min_ms_per_km: f64,
}

impl Line {
    /// Predicted median RTT of a pair `distance_km` apart, ms.
    pub fn predict(&self, held: &Held, distance_km: f64) -> f64 {
        held.offset_ms + self.fixed_ms + self.ms_per_km * distance_km
    }
}

/// The result of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The fitted constants.
    pub line: Line,
    /// Robust scale of the relative residuals (1.4826 × median |residual|).
    pub scale: f64,
    /// Relative residual of each sample against the fitted line.
    pub residuals: Vec<f64>,
    /// Final Huber weight of each sample (1 = full weight).
    pub weights: Vec<f64>,
    /// Whether each sample is an outlier (|residual| > [`OUTLIER_K`] × scale).
    pub outliers: Vec<bool>,
    /// Reweighting rounds until the constants stopped changing.
    pub rounds: usize,
}

/// Why a set of samples cannot be fitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unidentifiable(pub String);

/// Checks that a line is identifiable from `samples`: three or more pairs over two or more distances.
pub fn check_identifiable(samples: &[Sample]) -> Result<(), Unidentifiable> {
    if samples.len() < 3 {
        return Err(Unidentifiable(format!(
            "{} measurement{} cannot fix two constants robustly; give at least 3",
            samples.len(),
            if samples.len() == 1 { "" } else { "s" }
        )));
    }
    let (lo, hi) = samples.iter().fold((f64::MAX, f64::MIN), |(lo, hi), s| {
        (lo.min(s.distance_km), hi.max(s.distance_km))
    });
    if hi - lo < 1.0 {
        return Err(Unidentifiable(
            "every pair is the same distance apart, so the fixed cost and the per-distance cost cannot be told apart; add pairs at other distances".into(),
        ));
    }
    Ok(())
}

/// Fits the line to `samples`, starting from `start` (the model before calibration).
pub fn fit(samples: &[Sample], start: Line, held: &Held) -> Result<Fit, Unidentifiable> {
    check_identifiable(samples)?;
    let mut line = constrain(start, held);
    let mut weights = vec![1.0; samples.len()];
    let mut rounds = 0;
    while rounds < MAX_ROUNDS {
        rounds += 1;
        let (residuals, scale) = relative_residuals(samples, line, held);
        for ((w, r), s) in weights.iter_mut().zip(&residuals).zip(samples) {
            let p = line.predict(held, s.distance_km).max(MIN_PREDICTION_MS);
            // Huber weight of the scaled residual, over the prediction squared: least squares on
            // relative residuals.
            *w = huber_weight(r / scale) / (p * p);
        }
        let next = weighted_line(samples, &weights, held);
        let settled = close(next.fixed_ms, line.fixed_ms) && close(next.ms_per_km, line.ms_per_km);
        line = next;
        if settled {
            break;
        }
    }
    let (residuals, scale) = relative_residuals(samples, line, held);
    let weights = residuals.iter().map(|r| huber_weight(r / scale)).collect();
    let outliers = residuals
        .iter()
        .map(|r| r.abs() > OUTLIER_K * scale)
        .collect();
    Ok(Fit {
        line,
        scale,
        residuals,
        weights,
        outliers,
        rounds,
    })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-6)
}

fn huber_weight(u: f64) -> f64 {
    if u.abs() <= HUBER_C {
        1.0
    } else {
        HUBER_C / u.abs()
    }
}

/// Relative residuals against `line` and their robust scale (never zero, so a perfect fit still
/// divides cleanly).
fn relative_residuals(samples: &[Sample], line: Line, held: &Held) -> (Vec<f64>, f64) {
    let residuals: Vec<f64> = samples
        .iter()
        .map(|s| {
            let p = line.predict(held, s.distance_km).max(MIN_PREDICTION_MS);
            (s.rtt_ms - p) / p
        })
        .collect();
    let mut abs: Vec<f64> = residuals.iter().map(|r| r.abs()).collect();
    let scale = (MAD_TO_SIGMA * median(&mut abs)).max(1e-9);
    (residuals, scale)
}

/// Weighted least squares for `rtt − offset = fixed + per_km × distance`, with `fixed ≥ 0` and
/// `per_km ≥ held.min_ms_per_km`.
fn weighted_line(samples: &[Sample], weights: &[f64], held: &Held) -> Line {
    let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (s, w) in samples.iter().zip(weights) {
        let (x, y) = (s.distance_km, s.rtt_ms - held.offset_ms);
        sw += w;
        sx += w * x;
        sy += w * y;
        sxx += w * x * x;
        sxy += w * x * y;
    }
    let det = sw * sxx - sx * sx;
    let slope = if det > 0.0 {
        (sw * sxy - sx * sy) / det
    } else {
        held.min_ms_per_km
    };
    let line = Line {
        fixed_ms: (sy - slope * sx) / sw,
        ms_per_km: slope,
    };
    if line.ms_per_km < held.min_ms_per_km {
        let per_km = held.min_ms_per_km;
        return constrain(
            Line {
                fixed_ms: (sy - per_km * sx) / sw,
                ms_per_km: per_km,
            },
            held,
        );
    }
    if line.fixed_ms < 0.0 {
        // Through the origin (no fixed cost): the slope that minimises the weighted squares then.
        let per_km = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        return constrain(
            Line {
                fixed_ms: 0.0,
                ms_per_km: per_km,
            },
            held,
        );
    }
    line
}

fn constrain(line: Line, held: &Held) -> Line {
    Line {
        fixed_ms: line.fixed_ms.max(0.0),
        ms_per_km: line.ms_per_km.max(held.min_ms_per_km),
    }
}

/// Median of `values` (reordered in place); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Median and 90th percentile (nearest rank) of absolute errors, ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Errors {
    /// Median absolute error, ms.
    pub median_ms: f64,
    /// 90th-percentile absolute error, ms.
    pub p90_ms: f64,
}

impl Errors {
    /// Summarises absolute errors.
    pub fn of(abs_errors: &[f64]) -> Errors {
        let mut v = abs_errors.to_vec();
        let median_ms = median(&mut v);
        // `median` sorted `v`; nearest rank: the smallest value with at least 90% at or below it.
        let rank = ((0.9 * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
        Errors {
            median_ms,
            p90_ms: v.get(rank - 1).copied().unwrap_or(0.0),
        }
    }
}

/// Absolute errors of `line`'s predictions for `samples`, ms.
pub fn abs_errors(samples: &[Sample], line: Line, held: &Held) -> Vec<f64> {
    samples
        .iter()
        .map(|s| (s.rtt_ms - line.predict(held, s.distance_km)).abs())
        .collect()
}

/// K-fold cross-validation: sample `i` is held out in fold `i mod folds` (deterministic, and spread
/// over the file's order); each fold is predicted by a line fitted to the other folds. Returns every
/// sample's held-out absolute error, ms, in input order.
pub fn cross_validate(
    samples: &[Sample],
    start: Line,
    held: &Held,
    folds: usize,
) -> Result<Vec<f64>, Unidentifiable> {
    if folds < 2 || folds > samples.len() {
        return Err(Unidentifiable(format!(
            "cross-validation needs between 2 and {} folds (one per measurement at most), not {folds}",
            samples.len()
        )));
    }
    let mut out = vec![0.0; samples.len()];
    let mut train = Vec::with_capacity(samples.len());
    for fold in 0..folds {
        train.clear();
        train.extend(
            samples
                .iter()
                .enumerate()
                .filter(|(i, _)| i % folds != fold)
                .map(|(_, s)| *s),
        );
        let fitted = fit(&train, start, held).map_err(|e| {
            Unidentifiable(format!(
                "cannot cross-validate: without fold {} of {folds}, {}; use fewer folds",
                fold + 1,
                e.0
            ))
        })?;
        for (i, s) in samples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % folds == fold)
        {
            out[i] = (s.rtt_ms - fitted.line.predict(held, s.distance_km)).abs();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    const HELD: Held = Held {
        offset_ms: 0.69,
        min_ms_per_km: 2.0 / 204.0,
    };
    const TRUTH: Line = Line {
        fixed_ms: 5.0,
        ms_per_km: 2.0 * 1.5 / 204.0,
    };
    const START: Line = Line {
        fixed_ms: 0.5,
        ms_per_km: 2.0 * 1.25 / 204.0,
    };

    /// Pairs from 50 to 12,000 km, measured by the model with multiplicative noise of ±`noise`.
    fn synthetic(n: usize, noise: f64, seed: u64) -> Vec<Sample> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let d = rng.random_range(50.0..12_000.0);
                let e = 1.0 + rng.random_range(-noise..noise);
                Sample {
                    distance_km: d,
                    rtt_ms: TRUTH.predict(&HELD, d) * e,
                }
            })
            .collect()
    }

    #[test]
    fn recovers_known_constants_from_noisy_samples() {
        let s = synthetic(200, 0.05, 1);
        let f = fit(&s, START, &HELD).unwrap();
        assert!((f.line.fixed_ms - 5.0).abs() < 0.4, "{:?}", f.line);
        assert!(
            (f.line.ms_per_km / TRUTH.ms_per_km - 1.0).abs() < 0.02,
            "{:?}",
            f.line
        );
        assert!(f.rounds < MAX_ROUNDS);
        // Uniform ±5% noise has a median |error| of 2.5%: the scale is of that order.
        assert!(f.scale > 0.02 && f.scale < 0.06, "{}", f.scale);
        let exact: Vec<Sample> = s
            .iter()
            .map(|x| Sample {
                rtt_ms: TRUTH.predict(&HELD, x.distance_km),
                ..*x
            })
            .collect();
        let f = fit(&exact, START, &HELD).unwrap();
        assert!(
            (f.line.fixed_ms - 5.0).abs() < 1e-6 && close_rel(f.line.ms_per_km, TRUTH.ms_per_km)
        );
    }

    fn close_rel(a: f64, b: f64) -> bool {
        (a / b - 1.0).abs() < 1e-6
    }

    #[test]
    fn a_sixty_fold_outlier_is_flagged_and_barely_moves_the_fit() {
        let clean = synthetic(40, 0.05, 2);
        let base = fit(&clean, START, &HELD).unwrap();
        let mut dirty = clean.clone();
        dirty[7].rtt_ms *= 60.0;
        let f = fit(&dirty, START, &HELD).unwrap();
        assert!(f.outliers[7], "the inflated pair is flagged");
        assert_eq!(
            f.outliers.iter().filter(|&&o| o).count(),
            1,
            "{:?}",
            f.residuals
        );
        assert!(f.weights[7] < 0.01);
        assert!(
            (f.line.fixed_ms - base.line.fixed_ms).abs() < 0.5,
            "{:?} vs {:?}",
            f.line,
            base.line
        );
        assert!((f.line.ms_per_km / base.line.ms_per_km - 1.0).abs() < 0.02);
        // Ordinary least squares would be dragged far off by the same pair.
        let ols = weighted_line(&dirty, &vec![1.0; dirty.len()], &HELD);
        assert!(
            (ols.ms_per_km / base.line.ms_per_km - 1.0).abs() > 0.1 || ols.fixed_ms > 20.0,
            "{ols:?}"
        );
    }

    #[test]
    fn constants_stay_physical() {
        // Measurements faster than light in fiber would need inflation below 1: held at 1.
        let s: Vec<Sample> = [100.0, 1000.0, 5000.0]
            .iter()
            .map(|&d| Sample {
                distance_km: d,
                rtt_ms: 1.0 + d / 204.0,
            })
            .collect();
        let f = fit(&s, START, &HELD).unwrap();
        assert_eq!(f.line.ms_per_km, HELD.min_ms_per_km);
        // A negative intercept is held at zero.
        let s: Vec<Sample> = [1000.0, 2000.0, 3000.0]
            .iter()
            .map(|&d| Sample {
                distance_km: d,
                rtt_ms: d * 0.02 - 5.0,
            })
            .collect();
        let f = fit(&s, START, &HELD).unwrap();
        assert_eq!(f.line.fixed_ms, 0.0);
        assert!(f.line.ms_per_km > HELD.min_ms_per_km);
    }

    #[test]
    fn unidentifiable_inputs_are_refused() {
        let one = Sample {
            distance_km: 500.0,
            rtt_ms: 10.0,
        };
        assert!(fit(&[one, one], START, &HELD).is_err());
        assert!(fit(&[one, one, one], START, &HELD)
            .unwrap_err()
            .0
            .contains("same distance"));
        let s = synthetic(10, 0.05, 3);
        assert!(cross_validate(&s, START, &HELD, 1).is_err());
        assert!(cross_validate(&s, START, &HELD, 11).is_err());
    }

    #[test]
    fn cross_validation_is_deterministic_and_honest() {
        let s = synthetic(60, 0.05, 4);
        let a = cross_validate(&s, START, &HELD, 5).unwrap();
        let b = cross_validate(&s, START, &HELD, 5).unwrap();
        assert_eq!(a, b);
        let in_sample = abs_errors(&s, fit(&s, START, &HELD).unwrap().line, &HELD);
        // Held-out errors are not smaller than in-sample ones on the whole.
        assert!(Errors::of(&a).median_ms >= 0.9 * Errors::of(&in_sample).median_ms);
    }

    #[test]
    fn error_summary_uses_nearest_rank() {
        let e = Errors::of(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!(e.median_ms, 5.5);
        assert_eq!(e.p90_ms, 9.0);
        let e = Errors::of(&[3.0]);
        assert_eq!((e.median_ms, e.p90_ms), (3.0, 3.0));
    }
}
