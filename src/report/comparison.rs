//! The outputs of `egress-sim compare`: `comparison.csv`, `comparison.html` and the terminal table.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::csv::write_rows;
use super::html::markup::esc;
use super::{Destination, Output};
use crate::analysis::comparison::{Comparison, Row};
use crate::analysis::human::compared;
use crate::analysis::values::Figure;
use crate::error::{Error, Result};

/// One row of `comparison.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// `headline`, `population` or `case`.
    pub section: String,
    /// Population or case name (empty for the headline).
    pub entity: String,
    /// What is measured, with its unit.
    pub metric: String,
    /// Value in run A (empty: not in A).
    pub a: Figure,
    /// Value in run B.
    pub b: Figure,
    /// B − A.
    pub difference: Figure,
}

impl From<&Row> for ComparisonRow {
    fn from(r: &Row) -> Self {
        Self {
            section: r.section.to_string(),
            entity: r.entity.clone(),
            metric: r.metric.to_string(),
            a: Figure(r.a),
            b: Figure(r.b),
            difference: Figure(r.difference()),
        }
    }
}

/// `comparison.csv`.
#[derive(Debug, Clone, Copy)]
pub struct ComparisonCsv;

impl Output<Comparison> for ComparisonCsv {
    fn write(&self, c: &Comparison, to: &mut Destination) -> Result<()> {
        let rows: Vec<ComparisonRow> = c.rows.iter().map(ComparisonRow::from).collect();
        write_rows(&to.file("comparison.csv"), &rows).map(|_| ())
    }
}

/// `comparison.html`: one self-contained page, a table per section.
#[derive(Debug, Clone, Copy)]
pub struct ComparisonHtml;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}\nh1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}\ntable{border-collapse:collapse;width:100%;font-size:.9rem}th,td{padding:.3rem .6rem;border-bottom:1px solid #e4e4e4;text-align:right}\nth:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}\n.better{color:#0a6e3d;font-weight:600}.worse{color:#b3261e;font-weight:600}\n@media print{h2{break-before:page}h2:first-of-type{break-before:auto}tr{break-inside:avoid}}";

impl Output<Comparison> for ComparisonHtml {
    fn write(&self, c: &Comparison, to: &mut Destination) -> Result<()> {
        let path = to.file("comparison.html");
        std::fs::write(&path, html(c))
            .map_err(|e| Error::io(format!("cannot write `{}`", path.display()), e))
    }
}

/// Green when B improves on A (lower is better except for the dedicated share), red when worse.
fn class(r: &Row) -> &'static str {
    let lower_is_better = !matches!(r.metric, "dedicated_share");
    match r.difference() {
        Some(x) if x.abs() > 1e-9 && ((x < 0.0) == lower_is_better) => " class=\"better\"",
        Some(x) if x.abs() > 1e-9 => " class=\"worse\"",
        _ => "",
    }
}

fn html(c: &Comparison) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>egress-sim comparison</title>\n<style>\n{STYLE}\n</style></head><body>\n<h1>Comparison</h1>\n<p><b>A</b>: {}<br><b>B</b>: {}</p>\n<p>Difference is B − A; green is better (lower latency, fewer losses), red is worse.</p>\n",
        esc(&c.a),
        esc(&c.b)
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
        for r in c.rows.iter().filter(|r| r.section == section) {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td></tr>",
                esc(&r.entity),
                r.metric,
                compared(r.metric, r.a, false),
                compared(r.metric, r.b, false),
                class(r),
                compared(r.metric, r.difference(), true)
            );
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</body></html>\n");
    h
}

/// The comparison's terminal table (per-case numbers are only in the files).
#[derive(Debug, Clone)]
pub struct ComparisonTable {
    /// Where the comparison was written.
    pub dir: String,
}

impl Output<Comparison> for ComparisonTable {
    fn write(&self, c: &Comparison, to: &mut Destination) -> Result<()> {
        let mut s = String::new();
        let _ = writeln!(s, "A: {}\nB: {}\n", c.a, c.b);
        let _ = writeln!(
            s,
            "  {:<22} {:<30} {:>10} {:>10} {:>10}",
            "entity", "metric", "A", "B", "B − A"
        );
        for r in c.rows.iter().filter(|r| r.section != "case") {
            let _ = writeln!(
                s,
                "  {:<22} {:<30} {:>10} {:>10} {:>10}",
                if r.entity.is_empty() {
                    "(all)"
                } else {
                    r.entity.as_str()
                },
                r.metric,
                compared(r.metric, r.a, false),
                compared(r.metric, r.b, false),
                compared(r.metric, r.difference(), true)
            );
        }
        let cases = c.rows.iter().filter(|r| r.section == "case").count();
        let _ = writeln!(
            s,
            "\n{cases} per-case numbers in comparison.csv\nresults: {}",
            self.dir
        );
        to.print(&s);
        Ok(())
    }
}

/// The comparison as one JSON object on the terminal (`compare --format json`): every row of
/// `comparison.csv`, numbers as written there (six decimals, read back), `null` when absent.
#[derive(Debug, Clone)]
pub struct ComparisonJson {
    /// Where the comparison was written.
    pub dir: String,
}

/// Version of the JSON object; bump on an incompatible change.
pub const COMPARISON_SCHEMA: &str = "egress-sim/compare/1";

#[derive(Serialize)]
struct ComparisonObject<'a> {
    schema: &'static str,
    a: &'a str,
    b: &'a str,
    output: &'a str,
    rows: Vec<JsonRow>,
}

#[derive(Serialize)]
struct JsonRow {
    section: String,
    entity: String,
    metric: String,
    a: Option<f64>,
    b: Option<f64>,
    difference: Option<f64>,
}

impl Output<Comparison> for ComparisonJson {
    fn write(&self, c: &Comparison, to: &mut Destination) -> Result<()> {
        let rows = c
            .rows
            .iter()
            .map(|r| {
                let csv = ComparisonRow::from(r);
                JsonRow {
                    section: csv.section,
                    entity: csv.entity,
                    metric: csv.metric,
                    a: csv.a.rounded(),
                    b: csv.b.rounded(),
                    difference: csv.difference.rounded(),
                }
            })
            .collect();
        to.print(&crate::printed::json(&ComparisonObject {
            schema: COMPARISON_SCHEMA,
            a: &c.a,
            b: &c.b,
            output: &self.dir,
            rows,
        })?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison() -> Comparison {
        Comparison {
            a: "runs/a & 'b'".into(),
            b: "<b>".into(),
            rows: vec![Row {
                section: "headline",
                entity: String::new(),
                metric: "rtt_p95_ms",
                a: Some(10.0),
                b: Some(7.5),
            }],
        }
    }

    #[test]
    fn difference_is_b_minus_a_and_lower_latency_is_better() {
        let c = comparison();
        assert_eq!(c.rows[0].difference(), Some(-2.5));
        assert_eq!(class(&c.rows[0]), " class=\"better\"");
        let row = ComparisonRow::from(&c.rows[0]);
        assert_eq!(
            (row.a.csv(), row.b.csv(), row.difference.csv()),
            ("10.000000".into(), "7.500000".into(), "-2.500000".into())
        );
    }

    #[test]
    fn html_escapes_every_label_with_the_shared_escaper() {
        let h = html(&comparison());
        assert!(h.contains("runs/a &amp; &#39;b&#39;"), "{h}");
        assert!(h.contains("&lt;b&gt;"));
        assert!(!h.contains("'b'"));
    }
}
