//! What a plan minimises: one metric of `summary.csv` / `capacity.csv`, or a weighted sum of several,
//! in the baseline or in its worst (or mean) single failure.

use crate::analysis::human;

/// The figures of one plan world in one case, computed as `summary.csv` and `capacity.csv` compute
/// them (so each equals the run's value to the last digit).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    /// Mean RTT of delivered requests, ms (`rtt_mean_ms`).
    pub rtt_mean_ms: Option<f64>,
    /// 95th percentile RTT, ms (`rtt_p95_ms`).
    pub rtt_p95_ms: Option<f64>,
    /// Share of requests refused by allowlists (`blocked_share`).
    pub refused_share: Option<f64>,
    /// Share of requests breaking a geography requirement (`geography_violation_share`).
    pub violation_share: Option<f64>,
    /// Highest IPv4 connections over the limit of any (egress IP, destination) (`capacity.csv`'s
    /// `utilization`).
    pub peak_utilization: f64,
    /// Share of delivered requests appearing to come from another country
    /// (`apparent_country_mismatch_share`).
    pub country_mismatch_share: Option<f64>,
}

/// A metric a plan can minimise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Mean request RTT, ms.
    MeanRtt,
    /// 95th percentile request RTT, ms.
    P95Rtt,
    /// Share of requests refused by allowlists.
    Refused,
    /// Share of requests breaking a geography requirement.
    Violations,
    /// Peak connection utilisation against the per-origin limit.
    PeakUtilization,
    /// Share of delivered requests with an apparent country other than the user's.
    CountryMismatch,
}

impl Metric {
    /// Every metric, in the order tables show them.
    pub const ALL: [Metric; 6] = [
        Metric::P95Rtt,
        Metric::MeanRtt,
        Metric::Refused,
        Metric::Violations,
        Metric::PeakUtilization,
        Metric::CountryMismatch,
    ];

    /// The name on the command line (`p95-rtt`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::MeanRtt => "mean-rtt",
            Metric::P95Rtt => "p95-rtt",
            Metric::Refused => "refused",
            Metric::Violations => "violations",
            Metric::PeakUtilization => "peak-utilization",
            Metric::CountryMismatch => "country-mismatch",
        }
    }

    /// Parses a name (case-insensitive; `_` for `-`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL.into_iter().find(|m| m.name() == s)
    }

    /// Unit of the value: `ms` or `share` (0 to 1).
    pub fn unit(self) -> &'static str {
        match self {
            Metric::MeanRtt | Metric::P95Rtt => "ms",
            _ => "share",
        }
    }

    /// The metric's value in `f`.
    pub fn of(self, f: &Figures) -> Option<f64> {
        match self {
            Metric::MeanRtt => f.rtt_mean_ms,
            Metric::P95Rtt => f.rtt_p95_ms,
            Metric::Refused => f.refused_share,
            Metric::Violations => f.violation_share,
            Metric::PeakUtilization => Some(f.peak_utilization),
            Metric::CountryMismatch => f.country_mismatch_share,
        }
    }

    /// The value for people (`171.2 ms`, `3.4%`).
    pub fn human(self, v: Option<f64>) -> String {
        match self.unit() {
            "ms" => human::ms(v),
            _ => human::percent(v),
        }
    }
}

/// A weighted sum of metrics (a single metric has weight 1). Values are in the metric's unit (ms,
/// or a share from 0 to 1), so `p95-rtt=1,refused=500` makes 1% of requests refused weigh as much
/// as 5 ms of p95.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// (metric, weight), in the order given.
    pub terms: Vec<(Metric, f64)>,
}

impl Default for Objective {
    /// `p95-rtt`: the tail is what a new site changes most (the far-away users a reservation is
    /// for), where the mean is dominated by the users already near a site.
    fn default() -> Self {
        Self {
            terms: vec![(Metric::P95Rtt, 1.0)],
        }
    }
}

impl Objective {
    /// Parses `p95-rtt` or `p95-rtt=1,refused=500`; the error names the bad part and the choices.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut terms: Vec<(Metric, f64)> = Vec::new();
        for part in s.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(format!("empty term in objective `{s}`"));
            }
            let (name, weight) = match part.split_once('=') {
                Some((n, w)) => {
                    let w: f64 = w
                        .trim()
                        .parse()
                        .ok()
                        .filter(|w: &f64| w.is_finite() && *w > 0.0)
                        .ok_or_else(|| {
                            format!(
                                "weight `{}` of `{}` must be a positive number",
                                w.trim(),
                                n.trim()
                            )
                        })?;
                    (n, w)
                }
                None => (part, 1.0),
            };
            let metric = Metric::parse(name).ok_or_else(|| {
                format!(
                    "unknown objective `{}`{}",
                    name.trim(),
                    crate::suggest::did_you_mean(name.trim(), Metric::ALL.iter().map(|m| m.name()))
                )
            })?;
            if terms.iter().any(|(m, _)| *m == metric) {
                return Err(format!(
                    "`{}` appears twice in objective `{s}`",
                    metric.name()
                ));
            }
            terms.push((metric, weight));
        }
        Ok(Self { terms })
    }

    /// The value of `f` (lower is better); a missing metric (nothing delivered) counts as infinitely
    /// bad.
    pub fn of(&self, f: &Figures) -> f64 {
        self.terms
            .iter()
            .map(|&(m, w)| m.of(f).map_or(f64::INFINITY, |v| w * v))
            .sum()
    }

    /// A single metric with weight 1.
    pub fn single(&self) -> Option<Metric> {
        match self.terms.as_slice() {
            [(m, w)] if *w == 1.0 => Some(*m),
            _ => None,
        }
    }

    /// As typed: `p95-rtt`, or `p95-rtt=1,refused=500`.
    pub fn label(&self) -> String {
        if let Some(m) = self.single() {
            return m.name().to_string();
        }
        self.terms
            .iter()
            .map(|(m, w)| format!("{}={w}", m.name()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The value for people: the metric's own form for a single metric, else a plain number.
    pub fn human(&self, v: f64) -> String {
        match self.single() {
            Some(m) => m.human(v.is_finite().then_some(v)),
            None if v.is_finite() => format!("{v:.3}"),
            None => "-".into(),
        }
    }
}

/// How failures judge a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Robust {
    /// The baseline only.
    #[default]
    None,
    /// The worst single failure (`n-1`).
    Worst,
    /// The mean over single failures (`n-1:mean`).
    Mean,
}

impl Robust {
    /// `none`, `n-1` (= `n-1:worst`) or `n-1:mean`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "off" => Some(Self::None),
            "n-1" | "n1" | "n-1:worst" => Some(Self::Worst),
            "n-1:mean" | "n1:mean" => Some(Self::Mean),
            _ => None,
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Worst => "n-1",
            Self::Mean => "n-1:mean",
        }
    }

    /// The value minimised from the baseline's value and the failure cases' values, and the case
    /// that decided it (worst only; the first on ties).
    pub fn judge(self, baseline: f64, cases: &[f64]) -> (f64, Option<usize>) {
        match self {
            Self::None => (baseline, None),
            _ if cases.is_empty() => (baseline, None),
            Self::Worst => {
                let mut worst = 0;
                for (i, &v) in cases.iter().enumerate() {
                    if v > cases[worst] {
                        worst = i;
                    }
                }
                (cases[worst], Some(worst))
            }
            Self::Mean => (cases.iter().sum::<f64>() / cases.len() as f64, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_parse_with_weights_and_suggestions() {
        let o = Objective::parse("p95-rtt=1, refused=500").unwrap();
        assert_eq!(
            o.terms,
            vec![(Metric::P95Rtt, 1.0), (Metric::Refused, 500.0)]
        );
        assert_eq!(o.label(), "p95-rtt=1,refused=500");
        assert_eq!(
            Objective::parse("P95_RTT").unwrap().single(),
            Some(Metric::P95Rtt)
        );
        let e = Objective::parse("p59-rtt").unwrap_err();
        assert!(e.contains("did you mean `p95-rtt`"), "{e}");
        assert!(Objective::parse("refused=-1").is_err());
        assert!(Objective::parse("refused,refused").is_err());
        let f = Figures {
            rtt_p95_ms: Some(100.0),
            refused_share: Some(0.02),
            ..Figures::default()
        };
        assert_eq!(o.of(&f), 110.0);
        assert_eq!(Objective::default().of(&Figures::default()), f64::INFINITY);
    }

    #[test]
    fn robust_judges_by_worst_or_mean() {
        assert_eq!(Robust::parse("N-1"), Some(Robust::Worst));
        assert_eq!(Robust::Worst.judge(1.0, &[3.0, 5.0, 5.0]), (5.0, Some(1)));
        assert_eq!(Robust::Mean.judge(1.0, &[3.0, 5.0]), (4.0, None));
        assert_eq!(Robust::None.judge(1.0, &[3.0]), (1.0, None));
    }
}
