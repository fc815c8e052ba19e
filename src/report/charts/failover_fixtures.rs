//! Test inputs for the failover charts (typical, empty, extreme) and a helper that renders one
//! chart to PNG and SVG.

use std::path::PathBuf;

use super::{
    ensure_fonts, write_both, write_failover_charts, CapacityBar, CdfSeries, Chart, EgressSite,
    FailoverSet, HeatCell,
};
use crate::analysis::charts::CdfStats;
use crate::analysis::values::Ms;

/// Owned data behind a [`FailoverSet`].
pub(super) struct Fixture {
    pub(super) scenario: String,
    pub(super) sites: Vec<EgressSite>,
    pub(super) baseline: CdfSeries,
    pub(super) cases: Vec<CdfSeries>,
    pub(super) heat_cases: Vec<String>,
    pub(super) heat_populations: Vec<String>,
    pub(super) heat: Vec<HeatCell>,
    pub(super) heat_hidden: usize,
    pub(super) heat_unchanged: usize,
    pub(super) capacity: Vec<CapacityBar>,
}

fn site(id: &str, dc: &str) -> EgressSite {
    EgressSite {
        id: id.into(),
        datacenter: dc.into(),
        city: dc.into(),
        lat: 50.0,
        lon: 0.0,
    }
}

/// A smooth CDF from `lo` to `hi` ms (logistic-ish S curve), reaching `top` (below 1 when
/// requests were dropped).
fn curve(name: &str, lo: f64, hi: f64, top: f64) -> CdfSeries {
    let points: Vec<(f64, f64)> = (0..=200)
        .map(|i| {
            let t = f64::from(i) / 200.0;
            let x = lo + (hi - lo) * t * t;
            let y = top * (1.0 - (1.0 - t).powi(3));
            (x, y)
        })
        .collect();
    // What the tables would say of such a curve: its median and p95, and the p95 change
    // against a baseline whose p95 is `BASE_P95`.
    let q = |p| Ms(super::cdf::quantile(&points, p));
    let p95 = q(0.95);
    CdfSeries {
        name: name.into(),
        stats: CdfStats {
            p50: q(0.5),
            p95,
            p95_change: (name != "baseline").then(|| Ms(p95.0.map(|x| x - BASE_P95))),
        },
        points,
    }
}

/// The p95 of the typical fixture's baseline curve (4 to 70 ms).
const BASE_P95: f64 = 53.5;

fn cell(change: Option<f64>, dropped: f64, blocked: f64, violation: f64) -> HeatCell {
    HeatCell {
        p95_change_ms: change,
        dropped_share: dropped,
        blocked_share: blocked,
        violation_share: violation,
    }
}

fn bar(id: &str, base: f64, worst: f64, case: &str, dest: &str, limit: f64) -> CapacityBar {
    CapacityBar {
        egress_id: id.into(),
        baseline_peak: base,
        worst_peak: worst,
        worst_case: case.into(),
        worst_resource: dest.into(),
        limit,
    }
}

impl Fixture {
    /// A small realistic run: three egress IPs, four failure cases, three populations.
    pub(super) fn typical() -> Self {
        let populations = ["london-office", "paris-office", "remote-eu"];
        let cases = ["down:LHR", "down:CDG", "down:LHR+CDG", "n-1:ams-1"];
        #[rustfmt::skip]
        let heat = vec![
            cell(Some(62.0), 0.0, 0.0, 0.0), cell(Some(0.4), 0.0, 0.0, 0.0), cell(Some(18.0), 0.0, 0.0, 0.05),
            cell(Some(3.0), 0.0, 0.0, 0.0), cell(Some(41.0), 0.0, 0.02, 0.0), cell(Some(-2.0), 0.0, 0.0, 0.0),
            cell(None, 1.0, 0.0, 0.0), cell(Some(120.0), 0.031, 0.0, 0.0), cell(Some(85.0), 0.0, 0.0, 0.0),
            cell(Some(0.0), 0.0, 0.0, 0.0), cell(Some(7.5), 0.0, 0.0, 0.0), cell(Some(1.2), 0.0, 0.0, 0.0),
        ];
        Self {
            scenario: "eu-offices".into(),
            sites: vec![
                site("lhr-1", "LHR"),
                site("cdg-1", "CDG"),
                site("ams-1", "AMS"),
            ],
            baseline: curve("baseline", 4.0, 70.0, 1.0),
            cases: vec![
                curve("down:LHR+CDG", 20.0, 260.0, 0.97),
                curve("down:LHR", 12.0, 150.0, 1.0),
                curve("down:CDG", 8.0, 120.0, 1.0),
                curve("n-1:ams-1", 5.0, 80.0, 1.0),
                curve("slow:AMS", 6.0, 95.0, 1.0),
            ],
            heat_cases: cases.iter().map(|s| s.to_string()).collect(),
            heat_populations: populations.iter().map(|s| s.to_string()).collect(),
            heat,
            heat_hidden: 1,
            heat_unchanged: 0,
            capacity: vec![
                bar(
                    "lhr-1", 18_000.0, 31_000.0, "down:CDG", "bank-api", 40_000.0,
                ),
                bar(
                    "cdg-1", 12_000.0, 46_500.0, "down:LHR", "bank-api", 40_000.0,
                ),
                bar(
                    "ams-1",
                    9_000.0,
                    9_000.0,
                    "baseline",
                    "crm.example.com",
                    25_000.0,
                ),
            ],
        }
    }

    /// A run without failures, populations or egress IPs.
    pub(super) fn empty() -> Self {
        Self {
            scenario: "empty".into(),
            sites: vec![],
            baseline: CdfSeries {
                name: "baseline".into(),
                points: vec![],
                stats: CdfStats::default(),
            },
            cases: vec![],
            heat_cases: vec![],
            heat_populations: vec![],
            heat: vec![],
            heat_hidden: 0,
            heat_unchanged: 0,
            capacity: vec![],
        }
    }

    /// The limits: 40 cases × 10 populations with long names, every kind of mark, 14 egress
    /// IPs, one of them 5× over its limit, and a long scenario name.
    pub(super) fn extreme() -> Self {
        let heat_populations: Vec<String> = (0..10)
            .map(|p| format!("population-with-a-very-long-name-number-{p}"))
            .collect();
        let heat_cases: Vec<String> = (0..40)
            .map(|c| format!("down:LHR+CDG+AMS+FRA+MAD+case-with-a-long-name-{c}"))
            .collect();
        let heat = (0..40 * 10)
            .map(|i| {
                let (r, c) = (i / 10, i % 10);
                let change = match (r + c) % 7 {
                    0 => None,
                    1 => Some(-5.0),
                    _ => Some(f64::from((r * 37 + c * 11) % 900) * 1.7),
                };
                let dropped = if (r * c) % 9 == 4 {
                    0.0125 * f64::from(c + 1)
                } else {
                    0.0
                };
                let blocked = if (r + 2 * c) % 11 == 3 { 0.02 } else { 0.0 };
                let violation = if (r * 3 + c) % 13 == 5 { 0.05 } else { 0.0 };
                cell(change, dropped, blocked, violation)
            })
            .collect();
        let sites: Vec<EgressSite> = (0..14)
            .map(|i| site(&format!("egress-ip-{i}"), "DC"))
            .collect();
        let capacity = sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let limit = if i % 2 == 0 { 40_000.0 } else { 250_000.0 };
                let worst = if i == 3 {
                    5.0 * limit
                } else {
                    limit * 0.1 * (i as f64 + 1.0)
                };
                bar(
                    &s.id,
                    worst * 0.4,
                    worst,
                    &format!("down:LHR+CDG+AMS-{i}"),
                    "very-long-destination-name.internal.example.com",
                    limit,
                )
            })
            .collect();
        Self {
            scenario: "a very long scenario name that keeps going ".repeat(6),
            sites,
            baseline: curve("baseline", 0.5, 40.0, 1.0),
            cases: (0..5)
                .map(|i| {
                    curve(
                        &format!("down:LHR+CDG+AMS+FRA+MAD+case-with-a-long-name-{i}"),
                        30.0 + 20.0 * f64::from(i),
                        2500.0,
                        0.9,
                    )
                })
                .collect(),
            heat_cases,
            heat_populations,
            heat,
            heat_hidden: 123,
            heat_unchanged: 57,
            capacity,
        }
    }

    /// The borrowed view the charts take.
    pub(super) fn set(&self) -> FailoverSet<'_> {
        FailoverSet {
            scenario: &self.scenario,
            sites: &self.sites,
            baseline_cdf: &self.baseline,
            case_cdfs: &self.cases,
            heat_cases: &self.heat_cases,
            heat_populations: &self.heat_populations,
            heat: &self.heat,
            heat_hidden: self.heat_hidden,
            heat_unchanged: self.heat_unchanged,
            capacity: &self.capacity,
        }
    }
}

/// Renders `chart` as PNG and SVG into a temporary folder, checks both files, and returns the
/// SVG text.
pub(super) fn render<C: Chart>(chart: &C) -> String {
    assert!(ensure_fonts().is_ok());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut to = super::Destination::new(dir.path());
    write_both(&mut to, chart).expect("chart drawn");
    let paths = to.files();
    assert_eq!(paths.len(), 2);
    let png = std::fs::read(&paths[0]).unwrap_or_default();
    assert_eq!(png.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]));
    std::fs::read_to_string(&paths[1]).unwrap_or_default()
}

/// SVG text with the XML escapes plotters writes undone, for plain `contains` checks.
pub(super) fn svg_text(svg: &str) -> String {
    svg.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
}

#[test]
fn writes_six_files_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let f = Fixture::typical();
    let paths = write_failover_charts(dir.path(), &f.set()).expect("charts written");
    let names: Vec<_> = paths
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(
        names,
        [
            "failover_cdf.png",
            "failover_cdf.svg",
            "failover_heatmap.png",
            "failover_heatmap.svg",
            "capacity.png",
            "capacity.svg"
        ]
    );
    for p in &paths {
        assert!(std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) > 1000);
    }
}

/// Renders the three fixtures into `$EGRESS_SIM_CHART_SAMPLES/{typical,empty,extreme}/` for a
/// look by eye: `EGRESS_SIM_CHART_SAMPLES=/tmp/out cargo test --lib failover -- --ignored`.
#[test]
#[ignore = "writes sample charts for review; needs EGRESS_SIM_CHART_SAMPLES"]
fn render_samples_for_review() {
    let Some(out) = std::env::var_os("EGRESS_SIM_CHART_SAMPLES") else {
        return;
    };
    let out = PathBuf::from(out);
    for (name, f) in [
        ("typical", Fixture::typical()),
        ("empty", Fixture::empty()),
        ("extreme", Fixture::extreme()),
    ] {
        write_failover_charts(&out.join(name), &f.set()).expect("charts written");
    }
}
