//! The reservation planner's results (`egress-sim plan`): what it searched, the steps it took, the
//! chosen sites, every candidate's marginal value and the curve of the objective against the number
//! of sites. `crate::plan` computes them once; each plan file (`plan.csv`, `candidates.csv`,
//! `plan.toml`, the `plan_curve` and `plan_map` charts, the report's "Plan" section, the terminal
//! summary) is an output that only reads them.
//!
//! - `objective.rs`: the metrics a plan can minimise, their weighted sum, and the robust variants;
//! - `rows.rs`: the rows of `plan.csv` and `candidates.csv`;
//! - `verify.rs`: the check that the planner's figures equal the final run's.

mod objective;
mod rows;
pub(crate) mod verify;

pub use objective::{Figures, Metric, Objective, Robust};
pub use rows::{CandidateRow, PlanRow};

/// Where the planner's new IPs are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Allowlists {
    /// Every new IP joins every destination allowlist (reserving an IP means registering it with
    /// the vendors that allowlist).
    #[default]
    Add,
    /// Allowlists stay as they are: allowlisting destinations refuse the new IPs.
    Keep,
}

impl Allowlists {
    /// `add` or `keep`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "add" => Some(Self::Add),
            "keep" => Some(Self::Keep),
            _ => None,
        }
    }

    /// The name on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Keep => "keep",
        }
    }
}

/// A dedicated egress location (kept from the scenario or proposed by the plan).
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRef {
    /// Egress id (`lhr-1`, `plan-fra-1`).
    pub id: String,
    /// Data center code.
    pub datacenter: String,
    /// City of the data center.
    pub city: String,
    /// ISO country code of the data center.
    pub country: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Proposed by the plan (else kept from the scenario).
    pub proposed: bool,
    /// Dedicated IPv4 address.
    pub ipv4: String,
}

/// One plan world's figures: the baseline and the failure cases that judge it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evaluation {
    /// Nothing down.
    pub baseline: Figures,
    /// The single failures the robust objective looks at (named as `run --sweep n-1` names them),
    /// in sweep order; empty without `--robust`.
    pub cases: Vec<(String, Figures)>,
    /// The value minimised (the objective of the baseline, or of the worst / mean failure).
    pub value: f64,
    /// The failure case that decided `value` under `--robust n-1` (index into `cases`).
    pub worst: Option<usize>,
}

/// What one step of the search did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Greedy addition.
    Add,
    /// Local search: a proposed site swapped for a better one.
    Swap,
}

impl Action {
    /// `add` or `swap`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Swap => "swap",
        }
    }
}

/// One step of the search.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Proposed sites after the step.
    pub k: usize,
    /// Add or swap.
    pub action: Action,
    /// The site added (or swapped in).
    pub site: SiteRef,
    /// The site swapped out.
    pub replaces: Option<SiteRef>,
    /// The objective before the step.
    pub before: f64,
    /// The plan world after the step.
    pub after: Evaluation,
}

/// One candidate's marginal value against the final plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Marginal {
    /// The candidate's site (its planned IP).
    pub site: SiteRef,
    /// In the final plan.
    pub chosen: bool,
    /// Objective with the candidate added to the final plan (not in the plan, room left).
    pub if_added: Option<f64>,
    /// Objective without it (in the plan).
    pub if_removed: Option<f64>,
    /// The best swap of a chosen site for this candidate: the chosen site's id and the objective.
    pub best_swap: Option<(String, f64)>,
}

/// How the search was set up.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// Sites to add.
    pub add: usize,
    /// The scenario's egress IPs were dropped (`--from-scratch`).
    pub from_scratch: bool,
    /// What was minimised.
    pub objective: Objective,
    /// How failures judged a plan.
    pub robust: Robust,
    /// Where new IPs are registered.
    pub allowlists: Allowlists,
    /// Every set of `add` candidates was evaluated.
    pub exhaustive: bool,
    /// Candidates considered.
    pub candidates: usize,
    /// What the candidate list was made of (`--candidates` tokens, or "all data centers").
    pub candidates_label: String,
    /// Users evaluated.
    pub users: u64,
    /// Requests per user.
    pub requests_per_user: u32,
}

/// One line of the `plan_curve` chart.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveLine {
    /// Legend text.
    pub name: String,
    /// (proposed sites, objective), from 0 sites.
    pub points: Vec<(usize, f64)>,
    /// The label of each point (`+LHR`; empty for the start).
    pub labels: Vec<String>,
}

/// Everything the planner found.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanResults {
    /// How the search was set up.
    pub setup: Setup,
    /// The scenario's egress IPs that the plan keeps (empty with `--from-scratch`).
    pub kept: Vec<SiteRef>,
    /// The world before any proposed site.
    pub start: Evaluation,
    /// Greedy additions, then improving swaps, in order.
    pub steps: Vec<Step>,
    /// Why the greedy additions stopped before `add` sites, if they did.
    pub stopped_early: Option<String>,
    /// The proposed sites, in the order of `plan.toml`.
    pub chosen: Vec<SiteRef>,
    /// The final plan world.
    pub fin: Evaluation,
    /// Every candidate's marginal value against the final plan, in candidate order.
    pub marginals: Vec<Marginal>,
    /// Sets of sites evaluated during the search (the marginal values not included).
    pub evaluations: u64,
    /// `plan.toml`: the scenario with the proposed `[[egress]]` entries.
    pub plan_toml: String,
}

impl PlanResults {
    /// The objective after each number of proposed sites along the greedy additions (index 0: none),
    /// and the final plan's when swaps improved it.
    pub fn curve(&self) -> Vec<(usize, f64)> {
        let mut out = vec![(0, self.start.value)];
        for s in self.steps.iter().filter(|s| s.action == Action::Add) {
            out.push((s.k, s.after.value));
        }
        out
    }

    /// The lines of the `plan_curve` chart: the minimised value after each number of proposed
    /// sites along the greedy additions and, under `--robust`, the same objective in the baseline;
    /// each point labelled with the data center added.
    pub fn curve_lines(&self) -> Vec<CurveLine> {
        let adds: Vec<&Step> = self
            .steps
            .iter()
            .filter(|s| s.action == Action::Add)
            .collect();
        let labels: Vec<String> = std::iter::once(String::new())
            .chain(adds.iter().map(|s| format!("+{}", s.site.datacenter)))
            .collect();
        let o = &self.setup.objective;
        let mut out = vec![CurveLine {
            name: match self.setup.robust {
                Robust::None => o.label(),
                Robust::Worst => format!("{}, worst single failure", o.label()),
                Robust::Mean => format!("{}, mean single failure", o.label()),
            },
            points: self.curve(),
            labels: labels.clone(),
        }];
        if self.setup.robust != Robust::None {
            let baseline = std::iter::once((0, o.of(&self.start.baseline)))
                .chain(adds.iter().map(|s| (s.k, o.of(&s.after.baseline))))
                .collect();
            out.push(CurveLine {
                name: format!("{}, no failure", o.label()),
                points: baseline,
                labels,
            });
        }
        out
    }

    /// The rows of `plan.csv`.
    pub fn plan_rows(&self) -> Vec<PlanRow> {
        rows::plan_rows(self)
    }

    /// The rows of `candidates.csv`.
    pub fn candidate_rows(&self) -> Vec<CandidateRow> {
        rows::candidate_rows(self)
    }
}
