//! Integer alias tables: a weighted choice among `n` outcomes from one 64-bit random number.
//!
//! Vose's alias method splits the weights into `n` columns of equal mass; column `i` keeps its own
//! outcome with probability `threshold[i] / 2³²` and otherwise gives `alias[i]`. The high 32 bits of the
//! random number pick the column (a multiply-shift, no division, no retry loop) and the low 32 bits
//! decide between the column's two outcomes, so a draw is two loads, a multiply and a compare. Each
//! outcome's probability is exact to within `n · 2⁻³²` (see `probabilities`, checked in the tests),
//! far below anything a simulation of millions of requests can see.

/// A weighted choice among `n` outcomes, built once and drawn from with one `u64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasTable {
    /// Per column: `(threshold, alias)`. A column keeps its own outcome when the low 32 bits of the
    /// draw are below `threshold`; a column that never gives its alias has the alias set to itself.
    columns: Box<[(u32, u32)]>,
}

impl AliasTable {
    /// Builds the table for `weights` (non-negative, finite, not all zero).
    pub fn new(weights: &[f64]) -> Result<Self, String> {
        if weights.is_empty() {
            return Err("no weights to choose from".into());
        }
        if weights.len() > u32::MAX as usize {
            return Err(format!("{} weights are too many", weights.len()));
        }
        if let Some(w) = weights.iter().find(|w| !w.is_finite() || **w < 0.0) {
            return Err(format!("weight {w} is not a non-negative number"));
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return Err("the weights must add up to a positive, finite number".into());
        }
        let n = weights.len();
        // Each column holds mass 1: scale the weights so they add up to n.
        let mut mass: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut columns: Vec<(u32, u32)> = (0..n as u32).map(|i| (u32::MAX, i)).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| mass[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            columns[s] = (to_threshold(mass[s]), l as u32);
            mass[l] -= 1.0 - mass[s];
            if mass[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What remains holds mass 1 up to rounding: those columns always keep their own outcome.
        for i in small.into_iter().chain(large) {
            columns[i] = (u32::MAX, i as u32);
        }
        Ok(Self {
            columns: columns.into_boxed_slice(),
        })
    }

    /// Number of outcomes.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// True when there are no outcomes (never, for a table built by [`AliasTable::new`]).
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The outcome for one uniformly random `u64`.
    #[inline(always)]
    pub fn sample(&self, bits: u64) -> usize {
        let column = ((bits >> 32) * self.columns.len() as u64) >> 32;
        let (threshold, alias) = self.columns[column as usize];
        if (bits as u32) < threshold {
            column as usize
        } else {
            alias as usize
        }
    }

    /// The exact probability of each outcome under [`AliasTable::sample`] with uniform input.
    pub fn probabilities(&self) -> Vec<f64> {
        let n = self.columns.len() as u64;
        let mut p = vec![0.0; self.columns.len()];
        for (c, &(threshold, alias)) in self.columns.iter().enumerate() {
            // Column c is picked by the high words h with floor(h·n / 2³²) = c.
            let first = (c as u64 * (1 << 32)).div_ceil(n);
            let end = ((c as u64 + 1) * (1 << 32)).div_ceil(n);
            let column = (end - first) as f64 / 2f64.powi(32);
            let keep = threshold as f64 / 2f64.powi(32);
            p[c] += column * keep;
            p[alias as usize] += column * (1.0 - keep);
        }
        p
    }
}

/// A probability in [0, 1] as a 32-bit threshold on the low word of the draw.
fn to_threshold(p: f64) -> u32 {
    (p.clamp(0.0, 1.0) * 2f64.powi(32))
        .round()
        .min(u32::MAX as f64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn max_error(weights: &[f64]) -> f64 {
        let t = AliasTable::new(weights).unwrap();
        let total: f64 = weights.iter().sum();
        t.probabilities()
            .iter()
            .zip(weights)
            .map(|(p, w)| (p - w / total).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn exact_probabilities_match_the_weights() {
        assert!(max_error(&[1.0]) < 1e-9);
        assert!(max_error(&[3.0, 1.0]) < 1e-9);
        assert!(max_error(&[0.0, 5.0, 0.0, 1.0]) < 1e-9);
        assert!(max_error(&[40.0, 15.0, 15.0, 10.0, 8.0, 6.0, 4.0, 2.0]) < 1e-9);
    }

    #[test]
    fn zero_weights_are_never_drawn() {
        let t = AliasTable::new(&[0.0, 2.0, 0.0, 1.0]).unwrap();
        let p = t.probabilities();
        assert_eq!((p[0], p[2]), (0.0, 0.0));
        for bits in [0, u64::MAX, 1 << 63, 0xdead_beef_dead_beef, u32::MAX as u64] {
            assert!(matches!(t.sample(bits), 1 | 3));
        }
    }

    #[test]
    fn bad_weights_are_refused() {
        assert!(AliasTable::new(&[]).is_err());
        assert!(AliasTable::new(&[0.0, 0.0]).is_err());
        assert!(AliasTable::new(&[1.0, -1.0]).is_err());
        assert!(AliasTable::new(&[1.0, f64::NAN]).is_err());
        assert!(AliasTable::new(&[f64::INFINITY]).is_err());
    }

    #[test]
    fn draws_follow_the_weights() {
        use rand::{RngCore, SeedableRng};
        let weights = [5.0, 1.0, 3.0, 1.0];
        let t = AliasTable::new(&weights).unwrap();
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let n = 400_000;
        let mut counts = [0u64; 4];
        for _ in 0..n {
            counts[t.sample(rng.next_u64())] += 1;
        }
        // Chi-square with 3 degrees of freedom: 16.3 is the 0.1% critical value.
        let chi2: f64 = counts
            .iter()
            .zip(weights)
            .map(|(&c, w)| {
                let e = n as f64 * w / 10.0;
                (c as f64 - e).powi(2) / e
            })
            .sum();
        assert!(chi2 < 16.3, "{counts:?} chi2 {chi2}");
    }

    proptest! {
        #[test]
        fn any_weights_give_their_probabilities(weights in proptest::collection::vec(0.0f64..100.0, 1..300)) {
            prop_assume!(weights.iter().sum::<f64>() > 1e-6);
            let t = AliasTable::new(&weights).unwrap();
            prop_assert_eq!(t.len(), weights.len());
            prop_assert!(max_error(&weights) < 1e-7);
        }
    }
}
