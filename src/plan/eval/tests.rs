//! The evaluator against the engine: for sets of planned IPs, the figures the model computes
//! incrementally equal `engine::simulate` + `analysis::Results` on the plan world, in the baseline
//! and in every single failure the robust objective looks at.

use std::collections::HashSet;

use proptest::prelude::*;

use super::model::{Down, Model, ModelInputs};
use super::state::State;
use crate::analysis::plan::verify::run_figures;
use crate::analysis::{Results, RunInfo};
use crate::engine::route::Listed;
use crate::engine::{simulate, SimOptions};
use crate::error::Source;
use crate::plan::new_ips::planned_ips;
use crate::plan::plan_file::{render, Edit, NewIp};
use crate::scenario::{compile, egress_case_name, Overrides};
use crate::world::{DcId, Sweep, World};

/// Users in Europe, North America and India; kept IPs in London (two, one data center) and
/// Washington; policies with fallbacks, a default-egress catch-all for one destination, an
/// allowlisting bank, a proxied and a dual-stack destination, a London-only geography requirement,
/// imperfect anycast and jitter: every path of the engine's routing.
const SCENARIO: &str = r#"
name = "plan-test"
seed = 11
[simulation]
users = 2400
requests_per_user = 8
[latency]
jitter_mean_ms = 3.0
[ingress]
second_nearest_share = 0.15
[balancing]
tie_tolerance_km = TOLERANCE
[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.1"
ipv6 = "2001:db8:1::/48"
[[egress]]
id = "lhr-2"
datacenter = "LHR"
ipv4 = "203.0.113.2"
ipv6 = "2001:db8:2::/48"
[[egress]]
id = "iad-1"
datacenter = "IAD"
ipv4 = "203.0.113.3"
connection_limit = 50
[[population]]
name = "europe"
share = 0.4
groups = { finance = 0.3 }
connections_per_user = 4
[population.location]
around = ["London", "Paris", "Frankfurt", "Warsaw"]
spread = { distribution = "normal", sigma_km = 250 }
[[population]]
name = "london-desk"
share = 0.1
require_egress_in = ["GB"]
[population.location]
around = ["London"]
spread = { distribution = "normal", sigma_km = 40 }
[[population]]
name = "india"
share = 0.25
ipv6_share = 0.8
[population.location]
around = ["Mumbai", "Delhi", "Bengaluru"]
spread = { distribution = "normal", sigma_km = 150 }
[[population]]
name = "americas"
share = 0.25
groups = { finance = 0.1 }
[population.location]
around = ["New York", "Chicago", "Dallas"]
spread = { distribution = "normal", sigma_km = 300 }
[[resource]]
name = "bank"
ipv4 = "198.51.100.1"
location = "London"
allowlist = ["lhr-1", "iad-1"]
weight = 2
[[resource]]
name = "saas"
ipv4 = "198.51.100.2"
ipv6 = "2001:db8:100::2"
location = "IAD"
weight = 3
[[resource]]
name = "cdn"
ipv4 = "198.51.100.3"
location = "FRA"
proxied = true
weight = 2
[[resource]]
name = "partner"
ipv4 = "198.51.100.4"
location = "Mumbai"
processing_ms = 5
[[resource]]
name = "news"
ipv4 = "198.51.100.5"
location = "Singapore"
[[policy]]
name = "finance to the bank"
identity = 'any(identity.groups.name[*] in {"finance"})'
traffic = 'net.fqdn.host == "bank"'
ipv4 = "lhr-1"
ipv4_fallback = "iad-1"
require_egress_in = ["GB"]
[[policy]]
name = "news by default egress"
traffic = 'net.dst.ip == 198.51.100.5'
egress = "default"
[[failure]]
name = "london"
datacenters = ["LHR"]
"#;

const CANDIDATES: [&str; 8] = ["FRA", "BOM", "DEL", "LHR", "ORD", "SIN", "AMS", "MAN"];

fn compile_text(text: &str, sweep: Sweep) -> World {
    let overrides = Overrides {
        sweep: Some(sweep),
        ..Overrides::default()
    };
    match compile(&Source::new("plan-test.toml", text), &overrides) {
        Ok(l) => l.world,
        Err(e) => panic!("{e}\n{text}"),
    }
}

struct Setup {
    text: String,
    eval_world: World,
    dcs: Vec<DcId>,
    ips: Vec<NewIp>,
    robust: bool,
    add: bool,
}

fn setup(tolerance: f64, robust: bool, add: bool) -> Setup {
    let text = SCENARIO.replace("TOLERANCE", &format!("{tolerance:?}"));
    let sweep = if robust { Sweep::N1 } else { Sweep::None };
    let eval_text = render(
        &text,
        &Edit {
            ips: &[],
            allowlist_add: add,
            from_scratch: false,
            drop_failures: true,
            heading: "",
        },
    )
    .unwrap();
    let eval_world = compile_text(&eval_text, sweep);
    let dcs: Vec<DcId> = CANDIDATES
        .iter()
        .map(|c| {
            eval_world
                .datacenters
                .iter()
                .position(|d| d.code == *c)
                .unwrap() as DcId
        })
        .collect();
    let ips = planned_ips(&eval_world, &dcs, &[]);
    Setup {
        text,
        eval_world,
        dcs,
        ips,
        robust,
        add,
    }
}

fn model(s: &Setup) -> Model<'_> {
    Model::new(ModelInputs {
        world: &s.eval_world,
        kept: s.eval_world.egress.len(),
        candidates: s
            .dcs
            .iter()
            .zip(&s.ips)
            .map(|(&d, ip)| (d, ip.ipv4))
            .collect(),
        listed: if s.add {
            Listed::Everywhere
        } else {
            Listed::Nowhere
        },
        robust: s.robust,
        threads: 2,
    })
    .unwrap()
}

fn state_of(m: &Model, chosen: &[u16]) -> State {
    let mut st = m.empty_state();
    for &c in chosen {
        m.apply(&mut st, c);
    }
    st
}

/// The case name `run --sweep n-1` gives a failure of the plan world with `chosen`.
fn case_name(s: &Setup, chosen: &[u16], down: Down) -> String {
    let w = &s.eval_world;
    let codes: HashSet<String> = w
        .datacenters
        .iter()
        .map(|d| d.code.to_ascii_lowercase())
        .collect();
    match down {
        Down::None => "baseline".into(),
        Down::Dc(d) => format!("down:{}", w.datacenters[d as usize].code),
        Down::Kept(e) => egress_case_name(&codes, &w.egress[e as usize].id),
        Down::Cand(c) => {
            assert!(chosen.contains(&c));
            egress_case_name(&codes, &s.ips[c as usize].id)
        }
    }
}

/// Simulates the plan world with `chosen` and checks every case of `judged` against it.
fn check_against_engine(s: &Setup, chosen: &[u16], judged: &super::Judged) {
    let ips: Vec<NewIp> = chosen.iter().map(|&c| s.ips[c as usize].clone()).collect();
    let text = render(
        &s.text,
        &Edit {
            ips: &ips,
            allowlist_add: s.add,
            from_scratch: false,
            drop_failures: true,
            heading: "# planned",
        },
    )
    .unwrap();
    let sweep = if s.robust { Sweep::N1 } else { Sweep::None };
    let w = compile_text(&text, sweep);
    let opts = SimOptions {
        threads: 2,
        per_user: false,
        ..SimOptions::default()
    };
    let m = simulate(&w, &opts, &|_| {}, &mut |_| Ok(())).unwrap();
    let r = Results::compute(&w, &m, RunInfo::now()).unwrap();
    let expected_cases = if s.robust { judged.cases.len() } else { 1 };
    assert_eq!(judged.cases.len(), expected_cases);
    for (down, f) in &judged.cases {
        let name = case_name(s, chosen, *down);
        let case = w
            .cases
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("no case {name}"));
        assert_eq!(*f, run_figures(&r, case), "case {name}, plan {chosen:?}");
    }
    check_the_guard(s, chosen, judged, &r);
}

/// The run-time guard accepts the evaluator's figures and refuses them one digit off.
fn check_the_guard(s: &Setup, chosen: &[u16], judged: &super::Judged, r: &Results) {
    use crate::analysis::plan::{
        Allowlists, Evaluation, Objective, PlanResults, Robust, Setup as PlanSetup,
    };
    let fin = Evaluation {
        baseline: judged.cases[0].1,
        cases: judged.cases[1..]
            .iter()
            .map(|(d, f)| (case_name(s, chosen, *d), *f))
            .collect(),
        value: 0.0,
        worst: None,
    };
    let mut plan = PlanResults {
        setup: PlanSetup {
            add: chosen.len().max(1),
            from_scratch: false,
            objective: Objective::default(),
            robust: if s.robust {
                Robust::Worst
            } else {
                Robust::None
            },
            allowlists: Allowlists::Add,
            exhaustive: false,
            candidates: s.ips.len(),
            candidates_label: String::new(),
            users: 0,
            requests_per_user: 0,
        },
        kept: Vec::new(),
        start: Evaluation::default(),
        steps: Vec::new(),
        stopped_early: None,
        chosen: Vec::new(),
        fin,
        marginals: Vec::new(),
        evaluations: 0,
        plan_toml: String::new(),
    };
    plan.verify(r).expect("the guard accepts exact figures");
    let last = plan
        .fin
        .cases
        .last_mut()
        .map_or(&mut plan.fin.baseline, |(_, f)| f);
    last.peak_utilization += 1e-9;
    let e = plan
        .verify(r)
        .expect_err("the guard refuses figures one digit off");
    assert!(
        e.to_string().contains("differ from the run of plan.toml"),
        "{e}"
    );
    assert_eq!(e.exit_code(), crate::error::EXIT_INTERNAL);
}

fn check_set(s: &Setup, m: &Model, chosen: &[u16]) {
    let st = state_of(m, chosen);
    let judged = m.judge(&st);
    check_against_engine(s, chosen, &judged);
    // One step at a time gives the same figures as the applied state.
    if let Some((&last, rest)) = chosen.split_last() {
        let before = state_of(m, rest);
        let mut scratch = m.scratch();
        assert_eq!(
            m.eval_add(&before, last, &mut scratch),
            judged,
            "eval_add {chosen:?}"
        );
    }
}

#[test]
fn plans_equal_the_engine_in_the_baseline() {
    let s = setup(0.0, false, true);
    let m = model(&s);
    for chosen in [&[][..], &[0], &[1, 3], &[3, 6, 2], &[7, 0, 5, 4]] {
        check_set(&s, &m, chosen);
    }
}

#[test]
fn plans_equal_the_engine_in_every_single_failure() {
    let s = setup(0.0, true, true);
    let m = model(&s);
    for chosen in [&[][..], &[1], &[3, 0], &[6, 1, 7]] {
        check_set(&s, &m, chosen);
    }
}

#[test]
fn plans_equal_the_engine_with_a_tie_tolerance_and_kept_allowlists() {
    let s = setup(400.0, true, false);
    let m = model(&s);
    for chosen in [&[0][..], &[6, 0], &[3, 7, 1]] {
        check_set(&s, &m, chosen);
    }
}

#[test]
fn removing_and_swapping_equal_building_afresh() {
    let s = setup(0.0, true, true);
    let m = model(&s);
    let mut st = state_of(&m, &[0, 1, 3]);
    m.remove(&mut st, 1);
    assert_eq!(st.chosen, vec![0, 3]);
    assert_eq!(m.judge(&st), m.judge(&state_of(&m, &[0, 3])));
    m.swap(&mut st, 0, 6);
    assert_eq!(st.chosen, vec![6, 3]);
    let judged = m.judge(&st);
    assert_eq!(judged, m.judge(&state_of(&m, &[6, 3])));
    check_against_engine(&s, &[6, 3], &judged);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Random plans, robust or not, with or without a tie tolerance.
    #[test]
    fn random_plans_equal_the_engine(
        picks in proptest::collection::vec(0u16..8, 0..4),
        robust in any::<bool>(),
        tolerance in prop_oneof![Just(0.0), Just(150.0)],
        add in any::<bool>(),
    ) {
        let mut chosen: Vec<u16> = Vec::new();
        for c in picks {
            if !chosen.contains(&c) {
                chosen.push(c);
            }
        }
        let s = setup(tolerance, robust, add);
        let m = model(&s);
        check_set(&s, &m, &chosen);
    }
}
