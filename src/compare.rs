//! `compare`: two runs side by side ("what does adding a Frankfurt IP buy us?").
//!
//! Works on output folders (reading the CSV tables, so any two runs can be compared later) or on
//! scenario files (each run first, with the same overrides, into the comparison folder). Writes
//! `comparison.csv` (tidy: section, entity, metric, a, b, difference) and a self-contained
//! `comparison.html`, and returns a terminal table.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::commands::{self, RunOptions};
use crate::error::{Error, InputError, Result};
use crate::report::output::OutputDir;
use crate::scenario::Overrides;

/// Options of `egress-sim compare`.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    /// First run: an output folder or a scenario file.
    pub a: PathBuf,
    /// Second run: an output folder or a scenario file.
    pub b: PathBuf,
    /// Output folder (default `output/compare-<a>-vs-<b>`).
    pub out: Option<PathBuf>,
    /// Replace a non-empty folder egress-sim did not create.
    pub force: bool,
    /// Overrides for scenario files (the same for both).
    pub overrides: Overrides,
    /// Worker threads for scenario files.
    pub threads: usize,
    /// Print nothing.
    pub quiet: bool,
}

/// One compared number.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `headline`, `population` or `case`.
    pub section: &'static str,
    /// Population or case name (empty for the headline).
    pub entity: String,
    /// What is measured, with its unit (`rtt_p95_ms`).
    pub metric: &'static str,
    /// Value in A (`None`: not in A).
    pub a: Option<f64>,
    /// Value in B.
    pub b: Option<f64>,
}

impl Row {
    /// B minus A, when both exist.
    pub fn difference(&self) -> Option<f64> {
        Some(self.b? - self.a?)
    }
}

/// A CSV table read into rows of named fields.
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn read(dir: &Path, name: &str) -> Result<Self> {
        let path = dir.join(name);
        let mut r = csv::Reader::from_path(&path).map_err(|e| {
            Error::Input(
                InputError::new(format!("cannot read `{}`: {e}", path.display())).with_help(
                    "compare output folders written by `egress-sim run`, or scenario files (.toml)",
                ),
            )
        })?;
        let header = r
            .headers()
            .map_err(|e| Error::Input(InputError::new(format!("`{}`: {e}", path.display()))))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec
                .map_err(|e| Error::Input(InputError::new(format!("`{}`: {e}", path.display()))))?;
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(Self { header, rows })
    }

    fn col(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            Error::Input(InputError::new(format!(
                "a table lacks column `{name}`: was it written by an older egress-sim?"
            )))
        })
    }

    fn num(&self, row: &[String], name: &str) -> Result<Option<f64>> {
        let c = self.col(name)?;
        Ok(row.get(c).and_then(|v| v.parse::<f64>().ok()))
    }
}

/// Named numbers of one entity (`metric`, value).
type Metrics = Vec<(&'static str, Option<f64>)>;

/// What one run's tables say.
struct Run {
    label: String,
    headline: Metrics,
    populations: BTreeMap<String, Metrics>,
    cases: Vec<(String, Metrics)>,
}

/// p-quantile from `latency_histogram.csv` buckets, the way the histogram reports it (bucket
/// midpoint; the lower bound for one-microsecond buckets).
fn quantile(buckets: &[(f64, f64, u64)], q: f64) -> Option<f64> {
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

fn read_run(dir: &Path) -> Result<Run> {
    let summary = Csv::read(dir, "summary.csv")?;
    let case_col = summary.col("case")?;
    let base = summary
        .rows
        .iter()
        .find(|r| r[case_col] == "baseline")
        .ok_or_else(|| {
            Error::Input(InputError::new(format!(
                "`{}/summary.csv` has no baseline row",
                dir.display()
            )))
        })?;
    let mut headline = vec![
        ("rtt_p50_ms", summary.num(base, "rtt_p50_ms")?),
        ("rtt_p95_ms", summary.num(base, "rtt_p95_ms")?),
        ("dedicated_share", summary.num(base, "dedicated_share")?),
        ("blocked_share", summary.num(base, "blocked_share")?),
        (
            "apparent_country_mismatch_share",
            summary.num(base, "apparent_country_mismatch_share")?,
        ),
    ];
    // Worst failure: most requests lost, refused or off-geography, then the largest p95 increase.
    let mut worst: Option<(f64, f64, String)> = None;
    let mut cases = Vec::new();
    for r in summary.rows.iter().filter(|r| r[case_col] != "baseline") {
        let harmed = summary.num(r, "dropped_share")?.unwrap_or(0.0)
            + (summary.num(r, "blocked_share")?.unwrap_or(0.0)
                - summary.num(base, "blocked_share")?.unwrap_or(0.0))
            .max(0.0)
            + summary.num(r, "geography_violation_share")?.unwrap_or(0.0);
        let change = summary.num(r, "rtt_p95_change_ms")?.unwrap_or(0.0);
        if worst
            .as_ref()
            .is_none_or(|(h, c, _)| (harmed, change) > (*h, *c))
        {
            worst = Some((harmed, change, r[case_col].clone()));
        }
        cases.push((
            r[case_col].clone(),
            vec![
                ("rtt_p95_ms", summary.num(r, "rtt_p95_ms")?),
                ("rtt_p95_change_ms", Some(change)),
                ("dropped_share", summary.num(r, "dropped_share")?),
                ("blocked_share", summary.num(r, "blocked_share")?),
                (
                    "geography_violation_share",
                    summary.num(r, "geography_violation_share")?,
                ),
            ],
        ));
    }
    headline.push(("worst_failure_harmed_share", worst.as_ref().map(|w| w.0)));
    headline.push(("worst_failure_p95_change_ms", worst.as_ref().map(|w| w.1)));
    let capacity = Csv::read(dir, "capacity.csv")?;
    let mut peak: Option<f64> = None;
    for r in &capacity.rows {
        if let Some(u) = capacity.num(r, "worst_utilization")? {
            peak = Some(peak.map_or(u, |p: f64| p.max(u)));
        }
    }
    headline.push(("highest_utilization", peak));
    let findings = Csv::read(dir, "redundancy.csv")?;
    let sev = findings.col("severity")?;
    headline.push((
        "high_severity_findings",
        Some(findings.rows.iter().filter(|r| r[sev] == "high").count() as f64),
    ));

    // Per population: baseline percentiles from the histogram; the worst failure from failover.csv.
    let hist = Csv::read(dir, "latency_histogram.csv")?;
    let (hc, hp) = (hist.col("case")?, hist.col("population")?);
    let mut buckets: BTreeMap<String, Vec<(f64, f64, u64)>> = BTreeMap::new();
    for r in hist.rows.iter().filter(|r| r[hc] == "baseline") {
        buckets.entry(r[hp].clone()).or_default().push((
            hist.num(r, "rtt_lower_ms")?.unwrap_or(0.0),
            hist.num(r, "rtt_upper_ms")?.unwrap_or(0.0),
            hist.num(r, "requests")?.unwrap_or(0.0) as u64,
        ));
    }
    let failover = Csv::read(dir, "failover.csv")?;
    let fp = failover.col("population")?;
    let mut populations = BTreeMap::new();
    for (pop, b) in &buckets {
        let mut worst_change: Option<f64> = None;
        let mut worst_dropped: Option<f64> = None;
        for r in failover.rows.iter().filter(|r| &r[fp] == pop) {
            let ch = failover.num(r, "rtt_p95_change_ms")?;
            let req = failover.num(r, "requests")?.unwrap_or(0.0);
            let dropped = failover.num(r, "dropped_requests")?.unwrap_or(0.0);
            let share = if req > 0.0 { dropped / req } else { 0.0 };
            if let Some(c) = ch {
                worst_change = Some(worst_change.map_or(c, |w: f64| w.max(c)));
            }
            worst_dropped = Some(worst_dropped.map_or(share, |w: f64| w.max(share)));
        }
        populations.insert(
            pop.clone(),
            vec![
                ("rtt_p50_ms", quantile(b, 0.5)),
                ("rtt_p95_ms", quantile(b, 0.95)),
                ("worst_failure_p95_change_ms", worst_change),
                ("worst_failure_dropped_share", worst_dropped),
            ],
        );
    }
    Ok(Run {
        label: dir.display().to_string(),
        headline,
        populations,
        cases,
    })
}

/// Lines up two runs' numbers.
fn rows(a: &Run, b: &Run) -> Vec<Row> {
    let mut out = Vec::new();
    for ((metric, x), (_, y)) in a.headline.iter().zip(&b.headline) {
        out.push(Row {
            section: "headline",
            entity: String::new(),
            metric,
            a: *x,
            b: *y,
        });
    }
    let mut pops: Vec<&String> = a.populations.keys().collect();
    pops.extend(
        b.populations
            .keys()
            .filter(|k| !a.populations.contains_key(*k)),
    );
    for p in pops {
        let (pa, pb) = (a.populations.get(p), b.populations.get(p));
        let metrics = pa
            .or(pb)
            .map(|v| v.iter().map(|m| m.0).collect::<Vec<_>>())
            .unwrap_or_default();
        for (i, metric) in metrics.into_iter().enumerate() {
            out.push(Row {
                section: "population",
                entity: p.clone(),
                metric,
                a: pa.and_then(|v| v[i].1),
                b: pb.and_then(|v| v[i].1),
            });
        }
    }
    let mut names: Vec<&String> = a.cases.iter().map(|c| &c.0).collect();
    names.extend(
        b.cases
            .iter()
            .map(|c| &c.0)
            .filter(|n| !a.cases.iter().any(|c| &c.0 == *n)),
    );
    for name in names {
        let ca = a.cases.iter().find(|c| &c.0 == name).map(|c| &c.1);
        let cb = b.cases.iter().find(|c| &c.0 == name).map(|c| &c.1);
        let metrics = ca
            .or(cb)
            .map(|v| v.iter().map(|m| m.0).collect::<Vec<_>>())
            .unwrap_or_default();
        for (i, metric) in metrics.into_iter().enumerate() {
            out.push(Row {
                section: "case",
                entity: name.clone(),
                metric,
                a: ca.and_then(|v| v[i].1),
                b: cb.and_then(|v| v[i].1),
            });
        }
    }
    out
}

fn fmt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |x| format!("{x:.6}"))
}

/// Human form: shares as percent, the rest with one decimal.
fn human(metric: &str, v: Option<f64>, signed: bool) -> String {
    let Some(x) = v else { return "–".into() };
    if metric.ends_with("_share") || metric == "highest_utilization" {
        if signed {
            format!("{:+.1} pp", x * 100.0)
        } else {
            format!("{:.1}%", x * 100.0)
        }
    } else if metric == "high_severity_findings" {
        if signed {
            format!("{x:+.0}")
        } else {
            format!("{x:.0}")
        }
    } else if signed {
        format!("{x:+.1}")
    } else {
        format!("{x:.1}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(a: &str, b: &str, rows: &[Row]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>egress-sim comparison</title>\n<style>\nbody{{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}}\nh1{{font-size:1.6rem}}h2{{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}}\ntable{{border-collapse:collapse;width:100%;font-size:.9rem}}th,td{{padding:.3rem .6rem;border-bottom:1px solid #e4e4e4;text-align:right}}\nth:first-child,td:first-child,th:nth-child(2),td:nth-child(2){{text-align:left}}\n.better{{color:#0a6e3d;font-weight:600}}.worse{{color:#b3261e;font-weight:600}}\n@media print{{h2{{break-before:page}}h2:first-of-type{{break-before:auto}}tr{{break-inside:avoid}}}}\n</style></head><body>\n<h1>Comparison</h1>\n<p><b>A</b>: {}<br><b>B</b>: {}</p>\n<p>Difference is B − A; green is better (lower latency, fewer losses), red is worse.</p>\n",
        escape(a),
        escape(b)
    );
    for (section, title) in [
        ("headline", "Key numbers"),
        ("population", "Per population"),
        ("case", "Per failure case"),
    ] {
        let _ = write!(
            h,
            "<h2>{title}</h2>\n<table><thead><tr><th>entity</th><th>metric</th><th>A</th><th>B</th><th>B − A</th></tr></thead><tbody>\n"
        );
        for r in rows.iter().filter(|r| r.section == section) {
            let d = r.difference();
            let lower_is_better = !matches!(r.metric, "dedicated_share");
            let class = match d {
                Some(x) if x.abs() > 1e-9 && ((x < 0.0) == lower_is_better) => " class=\"better\"",
                Some(x) if x.abs() > 1e-9 => " class=\"worse\"",
                _ => "",
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{class}>{}</td></tr>",
                escape(&r.entity),
                r.metric,
                human(r.metric, r.a, false),
                human(r.metric, r.b, false),
                human(r.metric, d, true)
            );
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</body></html>\n");
    h
}

/// A run's output folder: the folder itself, or a scenario file run into `scratch` first.
fn resolve(path: &Path, scratch: &Path, opts: &CompareOptions) -> Result<PathBuf> {
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    if path.extension().is_some_and(|e| e == "toml") {
        commands::run(&RunOptions {
            scenario: path.to_path_buf(),
            out: Some(scratch.to_path_buf()),
            force: true,
            overrides: opts.overrides.clone(),
            threads: opts.threads,
            per_user: false,
            quiet: true,
        })?;
        return Ok(scratch.to_path_buf());
    }
    Err(Error::Input(
        InputError::new(format!(
            "`{}` is neither an output folder nor a scenario file",
            path.display()
        ))
        .with_help("pass two folders written by `egress-sim run`, or two `.toml` scenario files"),
    ))
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("run")
        .to_string()
}

/// Runs `compare`; returns the text to print.
pub fn compare(opts: &CompareOptions) -> Result<String> {
    let target = opts.out.clone().unwrap_or_else(|| {
        Path::new("output").join(format!("compare-{}-vs-{}", stem(&opts.a), stem(&opts.b)))
    });
    // Scenario runs go beside the comparison, so the comparison folder itself stays atomic.
    let runs = target.with_file_name(format!(
        "{}.runs",
        target
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("compare")
    ));
    let dir_a = resolve(&opts.a, &runs.join("a"), opts)?;
    let dir_b = resolve(&opts.b, &runs.join("b"), opts)?;
    let (mut a, mut b) = (read_run(&dir_a)?, read_run(&dir_b)?);
    a.label = opts.a.display().to_string();
    b.label = opts.b.display().to_string();
    let rows = rows(&a, &b);
    let out = OutputDir::create(&target, opts.force)?;
    let csv_path = out.path().join("comparison.csv");
    let mut w = csv::Writer::from_path(&csv_path).map_err(|e| {
        Error::io(
            format!("cannot create `{}`", csv_path.display()),
            std::io::Error::other(e),
        )
    })?;
    let io = |e: csv::Error| {
        Error::io(
            format!("cannot write `{}`", csv_path.display()),
            std::io::Error::other(e),
        )
    };
    w.write_record(["section", "entity", "metric", "a", "b", "difference"])
        .map_err(io)?;
    for r in &rows {
        w.write_record([
            r.section.to_string(),
            r.entity.clone(),
            r.metric.to_string(),
            fmt(r.a),
            fmt(r.b),
            fmt(r.difference()),
        ])
        .map_err(io)?;
    }
    w.flush()
        .map_err(|e| Error::io(format!("cannot write `{}`", csv_path.display()), e))?;
    let html_path = out.path().join("comparison.html");
    std::fs::write(
        &html_path,
        html(
            &opts.a.display().to_string(),
            &opts.b.display().to_string(),
            &rows,
        ),
    )
    .map_err(|e| Error::io(format!("cannot write `{}`", html_path.display()), e))?;
    let final_dir = out.commit()?;
    if opts.quiet {
        return Ok(String::new());
    }
    let mut s = String::new();
    let _ = writeln!(s, "A: {}\nB: {}\n", a.label, b.label);
    let _ = writeln!(
        s,
        "  {:<22} {:<30} {:>10} {:>10} {:>10}",
        "entity", "metric", "A", "B", "B − A"
    );
    for r in rows.iter().filter(|r| r.section != "case") {
        let _ = writeln!(
            s,
            "  {:<22} {:<30} {:>10} {:>10} {:>10}",
            if r.entity.is_empty() {
                "(all)"
            } else {
                r.entity.as_str()
            },
            r.metric,
            human(r.metric, r.a, false),
            human(r.metric, r.b, false),
            human(r.metric, r.difference(), true)
        );
    }
    let cases = rows.iter().filter(|r| r.section == "case").count();
    let _ = writeln!(
        s,
        "\n{cases} per-case numbers in comparison.csv\nresults: {}",
        final_dir.display()
    );
    Ok(s)
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

    #[test]
    fn difference_is_b_minus_a() {
        let r = Row {
            section: "headline",
            entity: String::new(),
            metric: "rtt_p95_ms",
            a: Some(10.0),
            b: Some(7.5),
        };
        assert_eq!(r.difference(), Some(-2.5));
        assert_eq!(human("dedicated_share", Some(0.25), false), "25.0%");
        assert_eq!(human("dedicated_share", Some(-0.05), true), "-5.0 pp");
    }
}
