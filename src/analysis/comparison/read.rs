//! Reads a finished run's folder back through the same typed rows the run wrote, and picks the
//! numbers a comparison shows.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::analysis::tables::{CapacityRow, FailoverRow, HistogramRow, RedundancyRow, SummaryRow};
use crate::error::{Error, InputError, Result};

/// Named numbers of one entity (`metric`, value).
pub(crate) type Figures = Vec<(&'static str, Option<f64>)>;

/// Numbers per named entity (population or case).
pub(crate) type Entities = Vec<(String, Figures)>;

/// What one run's tables say.
pub struct Run {
    pub(crate) headline: Figures,
    pub(crate) populations: BTreeMap<String, Figures>,
    pub(crate) cases: Entities,
}

/// Reads `name` in `dir` as rows of `T`.
fn table<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<Vec<T>> {
    let path = dir.join(name);
    let mut r = csv::Reader::from_path(&path).map_err(|e| {
        Error::Input(
            InputError::new(format!("cannot read `{}`: {e}", path.display())).with_help(
                "compare output folders written by `egress-sim run`, or scenario files (.toml)",
            ),
        )
    })?;
    r.deserialize().collect::<Result<Vec<T>, _>>().map_err(|e| {
        Error::Input(
            InputError::new(format!("`{}`: {e}", path.display()))
                .with_help("was it written by an older egress-sim? run the scenario again"),
        )
    })
}

/// p-quantile from `latency_histogram.csv` buckets, the way the histogram reports it (bucket
/// midpoint; the lower bound for one-microsecond buckets).
pub(crate) fn quantile(buckets: &[(f64, f64, u64)], q: f64) -> Option<f64> {
    let total: u64 = buckets.iter().map(|b| b.2).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for &(lo, hi, n) in buckets {
        seen += n;
        if seen >= rank {
            let (lo_us, hi_us) = ((lo * 1000.0).round(), (hi * 1000.0).round());
            return Some(if hi_us - lo_us <= 1.0 {
                lo_us / 1000.0
            } else {
                (lo_us + hi_us) / 2000.0
            });
        }
    }
    None
}

/// Reads the run in `dir`.
pub fn read_run(dir: &Path) -> Result<Run> {
    let summary: Vec<SummaryRow> = table(dir, "summary.csv")?;
    let base = summary
        .iter()
        .find(|r| r.case == "baseline")
        .ok_or_else(|| {
            Error::Input(InputError::new(format!(
                "`{}/summary.csv` has no baseline row",
                dir.display()
            )))
        })?;
    let mut headline = vec![
        ("rtt_p50_ms", base.rtt_p50_ms.0),
        ("rtt_p95_ms", base.rtt_p95_ms.0),
        ("dedicated_share", base.dedicated_share.0),
        ("blocked_share", base.blocked_share.0),
        (
            "apparent_country_mismatch_share",
            base.apparent_country_mismatch_share.0,
        ),
    ];
    let (cases, worst) = failure_cases(&summary, base);
    headline.push(("worst_failure_harmed_share", worst.map(|w| w.0)));
    headline.push(("worst_failure_p95_change_ms", worst.map(|w| w.1)));
    let capacity: Vec<CapacityRow> = table(dir, "capacity.csv")?;
    let peak = capacity
        .iter()
        .filter_map(|r| r.worst_utilization.0)
        .fold(None, |p: Option<f64>, u| Some(p.map_or(u, |p| p.max(u))));
    headline.push(("highest_utilization", peak));
    let findings: Vec<RedundancyRow> = table(dir, "redundancy.csv")?;
    let high = findings.iter().filter(|f| f.severity == "high").count();
    headline.push(("high_severity_findings", Some(high as f64)));
    Ok(Run {
        headline,
        populations: populations(
            &table(dir, "latency_histogram.csv")?,
            &table(dir, "failover.csv")?,
        ),
        cases,
    })
}

/// Each failure case's numbers, and the worst one's (harmed share, p95 change): most requests lost,
/// refused or off-geography, then the largest p95 increase.
fn failure_cases(summary: &[SummaryRow], base: &SummaryRow) -> (Entities, Option<(f64, f64)>) {
    let or0 = |x: Option<f64>| x.unwrap_or(0.0);
    let mut worst: Option<(f64, f64)> = None;
    let mut cases = Vec::new();
    for r in summary.iter().filter(|r| r.case != "baseline") {
        let harmed = or0(r.dropped_share.0)
            + (or0(r.blocked_share.0) - or0(base.blocked_share.0)).max(0.0)
            + or0(r.geography_violation_share.0);
        let change = or0(r.rtt_p95_change_ms.0);
        if worst.is_none_or(|w| (harmed, change) > w) {
            worst = Some((harmed, change));
        }
        cases.push((
            r.case.clone(),
            vec![
                ("rtt_p95_ms", r.rtt_p95_ms.0),
                ("rtt_p95_change_ms", Some(change)),
                ("dropped_share", r.dropped_share.0),
                ("blocked_share", r.blocked_share.0),
                ("geography_violation_share", r.geography_violation_share.0),
            ],
        ));
    }
    (cases, worst)
}

/// Per population: baseline percentiles from the histogram; the worst failure from failover.csv.
fn populations(hist: &[HistogramRow], failover: &[FailoverRow]) -> BTreeMap<String, Figures> {
    let mut buckets: BTreeMap<String, Vec<(f64, f64, u64)>> = BTreeMap::new();
    for r in hist.iter().filter(|r| r.case == "baseline") {
        buckets.entry(r.population.clone()).or_default().push((
            r.rtt_lower_ms.0.unwrap_or(0.0),
            r.rtt_upper_ms.0.unwrap_or(0.0),
            r.requests,
        ));
    }
    let mut out = BTreeMap::new();
    for (pop, b) in &buckets {
        let mut worst_change: Option<f64> = None;
        let mut worst_dropped: Option<f64> = None;
        for r in failover.iter().filter(|r| &r.population == pop) {
            let req = r.requests as f64;
            let share = if req > 0.0 {
                r.dropped_requests as f64 / req
            } else {
                0.0
            };
            if let Some(c) = r.rtt_p95_change_ms.0 {
                worst_change = Some(worst_change.map_or(c, |w: f64| w.max(c)));
            }
            worst_dropped = Some(worst_dropped.map_or(share, |w: f64| w.max(share)));
        }
        out.insert(
            pop.clone(),
            vec![
                ("rtt_p50_ms", quantile(b, 0.5)),
                ("rtt_p95_ms", quantile(b, 0.95)),
                ("worst_failure_p95_change_ms", worst_change),
                ("worst_failure_dropped_share", worst_dropped),
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_the_histogram_definition() {
        let mut h = crate::histogram::Histogram::new();
        for us in [500u64, 12_345, 12_400, 80_000, 80_100, 250_000] {
            h.record_us(us);
        }
        let buckets: Vec<(f64, f64, u64)> = h
            .buckets()
            .map(|(lo, hi, n)| {
                // As written to latency_histogram.csv (three decimals) and read back.
                (
                    format!("{lo:.3}").parse().unwrap(),
                    format!("{hi:.3}").parse().unwrap(),
                    n,
                )
            })
            .collect();
        for q in [0.1, 0.5, 0.95, 1.0] {
            assert_eq!(quantile(&buckets, q), h.quantile_ms(q), "q={q}");
        }
    }
}
