//! The plan's terminal summary: the chosen sites and what each buys.

use crate::analysis::human;
use crate::analysis::plan::{Action, Evaluation, Metric, Objective, PlanResults, Robust};

/// The worst failure's p95 change against the baseline (`+45.0 ms`), when a robust objective
/// decided by it.
fn worst_change(e: &Evaluation) -> Option<(String, String)> {
    let (name, f) = e.cases.get(e.worst?)?;
    let change = f.rtt_p95_ms.zip(e.baseline.rtt_p95_ms).map(|(a, b)| a - b);
    Some((name.clone(), human::ms_change(change)))
}

/// Each term of a weighted objective in the baseline, before → after (`violations 10.0% → 0.0%`).
fn terms(o: &Objective, before: &Evaluation, after: &Evaluation) -> String {
    o.terms
        .iter()
        .map(|(m, _)| {
            format!(
                "{} {} → {}",
                m.name(),
                m.human(m.of(&before.baseline)),
                m.human(m.of(&after.baseline))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary printed after a plan.
pub fn terminal(p: &PlanResults) -> String {
    let s = &p.setup;
    let o = &s.objective;
    let mut t = String::new();
    let kept = if s.from_scratch {
        "from scratch".to_string()
    } else if p.kept.is_empty() {
        "no kept egress IPs".into()
    } else {
        format!(
            "kept {}",
            p.kept
                .iter()
                .map(|k| k.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    t.push_str(&format!(
        "Plan: up to {} more site{} ({kept}), minimising {}{}, allowlists {}\n",
        s.add,
        if s.add == 1 { "" } else { "s" },
        o.label(),
        match s.robust {
            Robust::None => String::new(),
            r => format!(
                " in the {} single failure",
                if r == Robust::Mean { "mean" } else { "worst" }
            ),
        },
        s.allowlists.name(),
    ));
    t.push_str(&format!(
        "  {} candidates ({}), {} users × {} requests, {} plans evaluated{}\n",
        human::count(s.candidates as u64),
        s.candidates_label,
        human::count(s.users),
        s.requests_per_user,
        human::count(p.evaluations),
        if s.exhaustive { " (exhaustive)" } else { "" },
    ));
    let p95 = |e: &Evaluation| Metric::P95Rtt.human(e.baseline.rtt_p95_ms);
    t.push_str(&format!(
        "  start: {} {}",
        o.label(),
        o.human(p.start.value)
    ));
    if o.single().is_none() {
        let values: Vec<String> = o
            .terms
            .iter()
            .map(|(m, _)| format!("{} {}", m.name(), m.human(m.of(&p.start.baseline))))
            .collect();
        t.push_str(&format!(" ({})", values.join(", ")));
    }
    if !o.terms.iter().any(|(m, _)| *m == Metric::P95Rtt) {
        t.push_str(&format!(", p95 {}", p95(&p.start)));
    }
    if let Some((name, change)) = worst_change(&p.start) {
        t.push_str(&format!(", worst single failure {name} {change}"));
    }
    t.push('\n');
    let mut prev = &p.start;
    for step in &p.steps {
        let what = match step.action {
            Action::Add => format!(
                "adding {} ({}, {})",
                step.site.datacenter, step.site.city, step.site.country
            ),
            Action::Swap => format!(
                "swapping {} for {} ({}, {})",
                step.replaces
                    .as_ref()
                    .map_or("?", |r| r.datacenter.as_str()),
                step.site.datacenter,
                step.site.city,
                step.site.country
            ),
        };
        t.push_str(&format!(
            "  {what}: {} {} → {}",
            o.label(),
            o.human(step.before),
            o.human(step.after.value)
        ));
        if o.single().is_none() {
            t.push_str(&format!(" ({})", terms(o, prev, &step.after)));
        }
        if !o.terms.iter().any(|(m, _)| *m == Metric::P95Rtt) {
            t.push_str(&format!("; p95 {} → {}", p95(prev), p95(&step.after)));
        }
        if let (Some((_, a)), Some((name, b))) = (worst_change(prev), worst_change(&step.after)) {
            t.push_str(&format!("; worst single failure {a} → {b} ({name})"));
        }
        t.push('\n');
        prev = &step.after;
    }
    if let Some(why) = &p.stopped_early {
        t.push_str(&format!("  {why}\n"));
    }
    let ids: Vec<String> = p
        .chosen
        .iter()
        .map(|c| format!("{} ({}, {})", c.id, c.datacenter, c.ipv4))
        .collect();
    t.push_str(&format!(
        "Proposed: {}\n",
        if ids.is_empty() {
            "nothing".to_string()
        } else {
            ids.join(", ")
        }
    ));
    fit_to_width(&t)
}

/// Lines longer than the terminal summary's width, wrapped at word boundaries with a hanging indent
/// (the summary's 100-column rule).
fn fit_to_width(t: &str) -> String {
    let mut out = String::new();
    for line in t.lines() {
        let lead: String = line.chars().take_while(|c| *c == ' ').collect();
        super::super::terminal::wrap(&mut out, &lead, &format!("{lead}    "), line.trim_start());
    }
    out
}
