//! Two runs lined up number by number ("what does adding a Frankfurt IP buy us?"): the result that
//! `egress-sim compare` writes. Each run is read back from its output folder through the runs' own typed
//! CSV rows (`read`), so any two runs can be compared later.

mod read;

pub use read::{read_run, Run};

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

/// Two runs lined up.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What run A is (the path given).
    pub a: String,
    /// What run B is.
    pub b: String,
    /// Every compared number: headline, then populations, then cases.
    pub rows: Vec<Row>,
}

/// Lines up the numbers of a section: every entity of A, then those only in B.
fn line_up<'a>(
    out: &mut Vec<Row>,
    section: &'static str,
    a: &'a [(String, read::Figures)],
    b: &'a [(String, read::Figures)],
) {
    let mut names: Vec<&String> = a.iter().map(|c| &c.0).collect();
    names.extend(
        b.iter()
            .map(|c| &c.0)
            .filter(|n| !a.iter().any(|c| &c.0 == *n)),
    );
    for name in names {
        let ca = a.iter().find(|c| &c.0 == name).map(|c| &c.1);
        let cb = b.iter().find(|c| &c.0 == name).map(|c| &c.1);
        let metrics = ca
            .or(cb)
            .map(|v| v.iter().map(|m| m.0).collect::<Vec<_>>())
            .unwrap_or_default();
        for (i, metric) in metrics.into_iter().enumerate() {
            out.push(Row {
                section,
                entity: name.clone(),
                metric,
                a: ca.and_then(|v| v[i].1),
                b: cb.and_then(|v| v[i].1),
            });
        }
    }
}

impl Comparison {
    /// Lines up two runs read from their output folders.
    pub fn new(a_label: String, b_label: String, a: Run, b: Run) -> Self {
        let mut rows = Vec::new();
        let (a_pops, b_pops) = (
            a.populations.into_iter().collect::<Vec<_>>(),
            b.populations.into_iter().collect::<Vec<_>>(),
        );
        for ((metric, x), (_, y)) in a.headline.iter().zip(&b.headline) {
            rows.push(Row {
                section: "headline",
                entity: String::new(),
                metric,
                a: *x,
                b: *y,
            });
        }
        line_up(&mut rows, "population", &a_pops, &b_pops);
        line_up(&mut rows, "case", &a.cases, &b.cases);
        Self {
            a: a_label,
            b: b_label,
            rows,
        }
    }
}
