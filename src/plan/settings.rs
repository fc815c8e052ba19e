//! What to plan: the command line over the scenario's `[plan]` table over the defaults, checked
//! before anything runs (each bad value a located error, exit code 2, nothing written).

use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

use super::candidates::resolve_token;
use crate::analysis::plan::{Allowlists, Objective, Robust};
use crate::error::{Error, InputError, Result, Source};
use crate::scenario::raw::{RawPlan, RawScenario};
use crate::world::{DcId, World};

/// `egress-sim plan`'s options as typed; `None` means not given (the scenario's `[plan]`, else the
/// default, applies).
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Sites to add to the scenario's egress IPs (`--add K`).
    pub add: Option<i64>,
    /// Sites to choose with none of the scenario's egress IPs kept (`--from-scratch K`).
    pub from_scratch: Option<i64>,
    /// Candidate tokens, comma-separated (`GB,NL,IAD,WEU`).
    pub candidates: Option<String>,
    /// Objective (`p95-rtt`, `p95-rtt=1,refused=500`).
    pub objective: Option<String>,
    /// `none`, `n-1` or `n-1:mean`.
    pub robust: Option<String>,
    /// `add` or `keep`.
    pub allowlists: Option<String>,
    /// Evaluate every set of K candidates.
    pub exhaustive: bool,
    /// Output folder.
    pub out: Option<PathBuf>,
    /// Replace a non-empty folder egress-sim did not create.
    pub force: bool,
    /// Total users (as `run --users`).
    pub users: Option<u64>,
    /// Random seed (as `run --seed`).
    pub seed: Option<u64>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Print nothing but errors and warnings.
    pub quiet: bool,
}

/// Largest exhaustive search: candidates and sites.
pub(crate) const EXHAUSTIVE_CANDIDATES: usize = 30;
/// Largest exhaustive search: sites.
pub(crate) const EXHAUSTIVE_SITES: usize = 3;

/// The resolved settings of one plan.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) add: usize,
    pub(crate) from_scratch: bool,
    pub(crate) candidates: Vec<DcId>,
    pub(crate) candidates_label: String,
    pub(crate) objective: Objective,
    pub(crate) robust: Robust,
    pub(crate) allowlists: Allowlists,
    pub(crate) exhaustive: bool,
}

/// Collects errors, each located in the scenario (a `[plan]` value) or naming its option.
struct Errors<'a> {
    source: &'a Source,
    list: Vec<InputError>,
}

impl Errors<'_> {
    fn at(&mut self, span: Option<Range<usize>>, option: &str, msg: String, help: Option<String>) {
        let e = match span {
            Some(span) => InputError::at(self.source, span, msg),
            None => InputError::new(format!("{option}: {msg}")),
        };
        self.list.push(e.with_optional_help(help));
    }
}

/// A value from the command line (no span) or the `[plan]` table (with its span).
fn given<T: Clone>(cli: Option<T>, file: Option<&Spanned<T>>) -> Option<(T, Option<Range<usize>>)> {
    match (cli, file) {
        (Some(v), _) => Some((v, None)),
        (None, Some(s)) => Some((s.get_ref().clone(), Some(s.span()))),
        _ => None,
    }
}

/// Resolves the settings against the scenario (`raw` its parsed text, `world` compiled).
pub(crate) fn resolve(
    o: &PlanOptions,
    source: &Source,
    raw: &RawScenario,
    world: &World,
) -> Result<Settings> {
    let empty = RawPlan {
        add: None,
        from_scratch: None,
        candidates: None,
        objective: None,
        robust: None,
        allowlists: None,
    };
    let file = raw.plan.as_ref().unwrap_or(&empty);
    let mut errors = Errors {
        source,
        list: Vec::new(),
    };
    let (add, from_scratch) = sites(o, file, &mut errors);
    let objective = match given(o.objective.clone(), file.objective.as_ref()) {
        None => Objective::default(),
        Some((text, span)) => Objective::parse(&text).unwrap_or_else(|m| {
            let help = "objectives: mean-rtt, p95-rtt, refused, violations, peak-utilization, country-mismatch; weights as `p95-rtt=1,refused=500`";
            errors.at(span, "--objective", m, Some(help.into()));
            Objective::default()
        }),
    };
    let robust = match given(o.robust.clone(), file.robust.as_ref()) {
        None => Robust::None,
        Some((text, span)) => Robust::parse(&text).unwrap_or_else(|| {
            errors.at(
                span,
                "--robust",
                format!("unknown robustness `{text}`"),
                Some("use `none`, `n-1` (the worst single failure) or `n-1:mean`".into()),
            );
            Robust::None
        }),
    };
    let allowlists = match given(o.allowlists.clone(), file.allowlists.as_ref()) {
        None => Allowlists::default(),
        Some((text, span)) => Allowlists::parse(&text).unwrap_or_else(|| {
            errors.at(
                span,
                "--allowlists",
                format!("unknown allowlist choice `{text}`"),
                Some("use `add` (new IPs join every allowlist) or `keep`".into()),
            );
            Allowlists::default()
        }),
    };
    let (candidates, candidates_label) = candidates(o, file, world, &mut errors);
    if from_scratch {
        from_scratch_conflicts(raw, &mut errors);
    }
    let s = Settings {
        add,
        from_scratch,
        candidates,
        candidates_label,
        objective,
        robust,
        allowlists,
        exhaustive: o.exhaustive,
    };
    if world.balancing.mode == crate::world::BalancingMode::Fastest {
        // The evaluator routes planned IPs with the `nearest` rule only.
        errors.list.push(
            InputError::new("`egress-sim plan` supports `[balancing] mode = \"nearest\"` only; this scenario sets `\"fastest\"`")
                .with_help("plan with `mode = \"nearest\"` (or remove the key), then compare the plan under `fastest` with `egress-sim run plan.toml`"),
        );
    }
    if errors.list.is_empty() {
        sizes(o, file, &s, world, &mut errors);
    }
    match errors.list.len() {
        0 => Ok(s),
        1 => Err(Error::Input(errors.list.remove(0))),
        _ => Err(Error::inputs(errors.list)),
    }
}

/// `--add` / `--from-scratch` (or `[plan] add` / `from_scratch`): how many sites, and whether the
/// scenario's IPs are kept.
fn sites(o: &PlanOptions, file: &RawPlan, errors: &mut Errors) -> (usize, bool) {
    let (value, scratch, span, option) = match (o.add, o.from_scratch) {
        (Some(k), _) => (k, false, None, "--add"),
        (None, Some(k)) => (k, true, None, "--from-scratch"),
        (None, None) => {
            match (&file.add, &file.from_scratch) {
                (Some(k), None) => (*k.get_ref(), false, Some(k.span()), "add"),
                (None, Some(k)) => (*k.get_ref(), true, Some(k.span()), "from_scratch"),
                (Some(_), Some(k)) => {
                    errors.at(Some(k.span()), "from_scratch", "`[plan]` sets both `add` and `from_scratch`".into(), Some("keep one: `add` keeps the scenario's egress IPs, `from_scratch` does not".into()));
                    return (1, false);
                }
                (None, None) => {
                    errors.list.push(
                    InputError::new("how many sites should the plan add?")
                        .with_help("pass `--add K` (keep the scenario's egress IPs and add K) or `--from-scratch K`, or set `add = K` in the scenario's `[plan]` table"),
                );
                    return (1, false);
                }
            }
        }
    };
    if value < 1 {
        errors.at(
            span,
            option,
            format!("the number of sites must be at least 1, found {value}"),
            None,
        );
        return (1, scratch);
    }
    (value as usize, scratch)
}

/// The candidate data centers, in world order, and how they were given.
fn candidates(
    o: &PlanOptions,
    file: &RawPlan,
    world: &World,
    errors: &mut Errors,
) -> (Vec<DcId>, String) {
    let tokens: Vec<(String, Option<Range<usize>>)> = match (&o.candidates, &file.candidates) {
        (Some(text), _) => text
            .split(',')
            .map(|t| (t.trim().to_string(), None))
            .collect(),
        (None, Some(list)) => list
            .iter()
            .map(|t| (t.get_ref().trim().to_string(), Some(t.span())))
            .collect(),
        (None, None) => {
            let all = (0..world.datacenters.len() as DcId).collect();
            return (all, "all data centers".into());
        }
    };
    let mut chosen = vec![false; world.datacenters.len()];
    for (token, span) in &tokens {
        match resolve_token(world, token) {
            Ok(list) => list.into_iter().for_each(|d| chosen[d as usize] = true),
            Err((msg, help)) => errors.at(span.clone(), "--candidates", msg, help),
        }
    }
    let list = (0..chosen.len())
        .filter(|&d| chosen[d])
        .map(|d| d as DcId)
        .collect();
    let label = tokens
        .iter()
        .map(|(t, _)| t.as_str())
        .collect::<Vec<_>>()
        .join(",");
    (list, label)
}

/// With `--from-scratch` the scenario's egress IPs go: policies and failures must not name them.
fn from_scratch_conflicts(raw: &RawScenario, errors: &mut Errors) {
    let help = "with `--from-scratch` the scenario's egress IPs are dropped; plan with `--add K` instead, or remove the reference";
    for p in &raw.policy {
        for v in [&p.ipv4, &p.ipv4_fallback, &p.ipv6].into_iter().flatten() {
            let t = v.get_ref().trim();
            if t != "0.0.0.0" && !t.eq_ignore_ascii_case("default") {
                errors.at(
                    Some(v.span()),
                    "",
                    format!("policy `{}` names egress IP `{t}`", p.name.get_ref().trim()),
                    Some(help.into()),
                );
            }
        }
    }
    for f in &raw.failure {
        for e in &f.egress {
            errors.at(
                Some(e.span()),
                "",
                format!(
                    "failure `{}` names egress IP `{}`",
                    f.name.get_ref().trim(),
                    e.get_ref().trim()
                ),
                Some(help.into()),
            );
        }
    }
}

/// K against the candidates, the egress limit and the exhaustive search's limits.
fn sizes(o: &PlanOptions, file: &RawPlan, s: &Settings, world: &World, errors: &mut Errors) {
    let span = if o.add.is_some() || o.from_scratch.is_some() {
        None
    } else {
        file.add
            .as_ref()
            .or(file.from_scratch.as_ref())
            .map(Spanned::span)
    };
    let option = if s.from_scratch {
        "--from-scratch"
    } else {
        "--add"
    };
    let n = s.candidates.len();
    if s.add > n {
        errors.at(
            span.clone(),
            option,
            format!(
                "{} sites asked for, but there are only {n} candidate data centers ({})",
                s.add, s.candidates_label
            ),
            Some("add fewer sites, or widen `--candidates`".into()),
        );
        return;
    }
    let kept = if s.from_scratch {
        0
    } else {
        world.egress.len()
    };
    if kept + s.add > crate::scenario::MAX_EGRESS {
        errors.at(
            span.clone(),
            option,
            format!(
                "{kept} kept egress IPs plus {} new ones exceed the {} a scenario may have",
                s.add,
                crate::scenario::MAX_EGRESS
            ),
            None,
        );
        return;
    }
    if s.exhaustive && (n > EXHAUSTIVE_CANDIDATES || s.add > EXHAUSTIVE_SITES) {
        errors.at(None, "--exhaustive", format!("an exhaustive search is for small instances (at most {EXHAUSTIVE_CANDIDATES} candidates and {EXHAUSTIVE_SITES} sites); this one has {n} candidates and {} sites", s.add), Some("narrow `--candidates` (e.g. `--candidates GB,FR,DE`) or drop `--exhaustive` for the greedy and local search".into()));
    }
}
