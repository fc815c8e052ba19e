//! Failover semantics through whole simulations: every fallback path, ingress failover, conservation in
//! every case, no-op failures, geography requirements, and the baseline-difference bookkeeping checked
//! against evaluating each case on its own.

use super::*;
use crate::error::Source;
use crate::scenario::{compile, Overrides};
use crate::world::{Case, Sweep, World};

fn world_with(text: &str, sweep: Option<Sweep>) -> World {
    match compile(
        &Source::new("failover.toml", text),
        &Overrides {
            sweep,
            threads: 2,
            ..Overrides::default()
        },
    ) {
        Ok(l) => l.world,
        Err(e) => panic!("{e}"),
    }
}

/// A whole simulation of `w` on `threads` threads (also used by `balancing_tests`).
pub(super) fn run(w: &World, threads: usize) -> Metrics {
    simulate(
        w,
        &SimOptions {
            threads,
            per_user: false,
            ..SimOptions::default()
        },
        &|_| {},
        &mut |_| Ok(()),
    )
    .unwrap()
}

fn case(w: &World, name: &str) -> usize {
    w.cases
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// London finance users with a London IP (Amsterdam fallback), a Dublin IP, a Washington IP with
/// `0.0.0.0` fallback and one without fallback; plus Paris users whose traffic is unmatched.
const FAILOVER: &str = r#"
name = "failover"
seed = 11
[simulation]
requests_per_user = 8
[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.20"
ipv6 = "2001:db8:b::/48"
[[egress]]
id = "ams-1"
datacenter = "AMS"
ipv4 = "203.0.113.10"
ipv6 = "2001:db8:a::/48"
[[egress]]
id = "dub-1"
datacenter = "DUB"
ipv4 = "203.0.113.40"
[[egress]]
id = "iad-1"
datacenter = "IAD"
ipv4 = "203.0.113.30"
[[egress]]
id = "ord-1"
datacenter = "ORD"
ipv4 = "203.0.113.50"
[[population]]
name = "finance"
users = 3000
groups = { finance = 1.0 }
ipv6_share = 0.5
[population.location]
around = ["London"]
spread = { distribution = "normal", sigma_km = 10 }
[[population]]
name = "paris"
users = 2000
ipv6_share = 0.0
[population.location]
around = ["Paris"]
spread = { distribution = "normal", sigma_km = 10 }
[[resource]]
name = "bank"
host = "api.bank.example"
ipv4 = "198.51.100.20"
ipv6 = "2001:db8:100::20"
location = "London"
allowlist = ["lhr-1", "ams-1"]
[[resource]]
name = "us-app"
host = "app.us.example"
ipv4 = "198.51.100.30"
location = "New York"
[[resource]]
name = "chicago"
host = "chi.example"
ipv4 = "198.51.100.40"
location = "Chicago"
[[policy]]
name = "finance bank"
identity = 'any(identity.groups.name[*] == "finance")'
traffic = 'net.fqdn.host == "api.bank.example"'
ipv4 = "lhr-1"
ipv4_fallback = "ams-1"
[[policy]]
name = "us app"
traffic = 'net.fqdn.host == "app.us.example"'
ipv4 = "iad-1"
ipv4_fallback = "0.0.0.0"
[[policy]]
name = "chicago"
traffic = 'net.fqdn.host == "chi.example"'
ipv4 = "ord-1"
[[failure]]
name = "london"
datacenters = ["LHR"]
[[failure]]
name = "washington"
egress = ["iad-1"]
[[failure]]
name = "chicago"
datacenters = ["ORD"]
[[failure]]
name = "london-and-amsterdam"
datacenters = ["LHR", "AMS"]
[[failure]]
name = "nowhere"
description = "a data center that hosts nothing and serves nobody"
datacenters = ["SYD"]
[[failure]]
name = "paris-ingress"
datacenters = ["CDG"]
"#;

fn policy(w: &World, m: &Metrics, case: usize, name: &str) -> Cell {
    let i = w.policies.iter().position(|p| p.name == name).unwrap();
    m.policy_cells[m.policy_index(case, i)].clone()
}

fn out(c: &Cell, o: Outcome) -> u64 {
    c.outcomes[o as usize]
}

#[test]
fn every_fallback_path() {
    let w = world_with(FAILOVER, None);
    let m = run(&w, 2);
    let base = policy(&w, &m, 0, "finance bank");
    // Primary up: everything dedicated.
    assert!(base.requests > 0);
    assert_eq!(out(&base, Outcome::Dedicated), base.requests);
    // Primary down, fallback up: IPv4 falls back to Amsterdam; IPv6 stays dedicated (egresses locally).
    let london = policy(&w, &m, case(&w, "london"), "finance bank");
    assert_eq!(london.requests, base.requests);
    assert!(out(&london, Outcome::Fallback) > 0);
    assert!(
        out(&london, Outcome::Dedicated) > 0,
        "IPv6 keeps its dedicated range"
    );
    assert_eq!(out(&london, Outcome::Dropped), 0);
    assert_eq!(london.blocked, 0, "ams-1 is on the bank's allowlist");
    // Primary and fallback down: IPv4 dropped, IPv6 still dedicated.
    let both = policy(&w, &m, case(&w, "london-and-amsterdam"), "finance bank");
    assert_eq!(out(&both, Outcome::Fallback), 0);
    assert_eq!(
        out(&both, Outcome::Dropped),
        out(&london, Outcome::Fallback)
    );
    assert_eq!(
        out(&both, Outcome::Dedicated),
        out(&london, Outcome::Dedicated)
    );
    // `0.0.0.0` fallback: default egress.
    let us = policy(&w, &m, case(&w, "washington"), "us app");
    assert!(us.requests > 0);
    assert_eq!(out(&us, Outcome::Fallback), us.requests);
    let default_slot = m.default_slot();
    let us_i = w.policies.iter().position(|p| p.name == "us app").unwrap();
    let wash = case(&w, "washington");
    let on_default: u64 = (0..m.resources)
        .map(|r| m.resource_cells[m.resource_index(wash, default_slot, r)].requests)
        .sum();
    assert!(
        on_default >= us.requests,
        "fallback to 0.0.0.0 leaves through default egress"
    );
    assert_eq!(w.policies[us_i].name, "us app");
    // No fallback: dropped.
    let chi = policy(&w, &m, case(&w, "chicago"), "chicago");
    assert!(chi.requests > 0);
    assert_eq!(out(&chi, Outcome::Dropped), chi.requests);
    assert_eq!(chi.rtt.total(), 0);
}

#[test]
fn unmatched_traffic_moves_to_the_next_nearest_location() {
    let w = world_with(FAILOVER, None);
    let m = run(&w, 2);
    let paris = w.population_index("paris").unwrap();
    let lhr = 0;
    let ams = 1;
    // Paris is nearer London than Amsterdam: unmatched bank traffic uses lhr-1 in the baseline ...
    let base_lhr = m.cell(0, paris, lhr).requests;
    assert!(base_lhr > 0);
    // ... and Amsterdam (the next nearest) once London is down.
    let c = case(&w, "london");
    assert_eq!(m.cell(c, paris, lhr).requests, 0);
    assert!(m.cell(c, paris, ams).requests >= base_lhr);
    let shift = m.shift(c, paris);
    assert!(shift.users_egress_changed > 0 && shift.requests_rerouted >= base_lhr);
}

#[test]
fn ingress_fails_over_to_the_next_nearest_data_center() {
    let w = world_with(FAILOVER, None);
    let p = Prepared::new(&w);
    let c = case(&w, "paris-ingress");
    let cdg = w.datacenters.iter().position(|d| d.code == "CDG").unwrap() as DcId;
    let first_paris = w.populations[1].first_user;
    let (u, _) = p.user(first_paris);
    let g = route::UserGeo::new(&p, &u);
    assert_eq!(route::user_case(&p, &u, &g, 0).ingress, Some(cdg));
    let moved = route::user_case(&p, &u, &g, c).ingress.unwrap();
    assert_ne!(moved, cdg);
    // The new ingress is the nearest data center that is up.
    let nearest_up = w
        .datacenters
        .iter()
        .enumerate()
        .filter(|(i, _)| *i as DcId != cdg)
        .min_by(|a, b| {
            u.location
                .distance_km(a.1.location)
                .total_cmp(&u.location.distance_km(b.1.location))
        })
        .unwrap()
        .0;
    assert_eq!(moved as usize, nearest_up);
    let m = run(&w, 2);
    let paris = w.population_index("paris").unwrap();
    assert_eq!(
        m.shift(c, paris).users_ingress_moved,
        w.populations[1].users
    );
    assert!(m.total(c, Some(paris), None).rtt_sum_us > m.total(0, Some(paris), None).rtt_sum_us);
}

#[test]
fn every_request_has_one_outcome_in_every_case() {
    let w = world_with(FAILOVER, Some(Sweep::N2));
    assert!(w.cases.len() > 10);
    let m = run(&w, 2);
    let total = w.users * w.requests_per_user as u64;
    for c in 0..w.cases.len() {
        let t = m.total(c, None, None);
        assert_eq!(t.requests, total, "case {}", w.cases[c].name);
        assert_eq!(t.outcomes.iter().sum::<u64>(), total);
        assert_eq!(t.rtt.total(), t.delivered());
        let per_policy: u64 = (0..m.policy_slots)
            .map(|s| m.policy_cells[m.policy_index(c, s)].requests)
            .sum();
        assert_eq!(per_policy, total);
        let per_resource: u64 = (0..m.slots)
            .flat_map(|s| (0..m.resources).map(move |r| (s, r)))
            .map(|(s, r)| m.resource_cells[m.resource_index(c, s, r)].requests)
            .sum();
        assert_eq!(per_resource, total);
        for pi in 0..m.populations {
            let users: u64 = (0..m.slots).map(|s| m.cell(c, pi, s).users).sum();
            assert!(users >= w.populations[pi].users && users < 1 << 40);
        }
    }
}

#[test]
fn failing_an_unused_data_center_changes_nothing() {
    let w = world_with(FAILOVER, None);
    let m = run(&w, 2);
    let c = case(&w, "nowhere");
    let per_case = m.populations * m.slots;
    same_cells(
        &m.cells[..per_case],
        &m.cells[c * per_case..(c + 1) * per_case],
        "nowhere",
    );
    assert_eq!(
        m.policy_cells[..m.policy_slots],
        m.policy_cells[c * m.policy_slots..(c + 1) * m.policy_slots]
    );
    assert!(m.shifts[c * m.populations..(c + 1) * m.populations]
        .iter()
        .all(|s| *s == Default::default()));
}

/// Compares two cell tables, reporting the first difference without dumping histograms.
fn same_cells(a: &[Cell], b: &[Cell], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            panic!(
                "{what}, cell {i}: users {} vs {}, requests {} vs {}, rtt_sum {} vs {}, rtt hist equal: {}",
                x.users, y.users, x.requests, y.requests, x.rtt_sum_us, y.rtt_sum_us, x.rtt == y.rtt
            );
        }
    }
}

/// The difference bookkeeping gives exactly what evaluating a case as the only case gives.
#[test]
fn sweep_cases_equal_separate_single_case_runs() {
    let w = world_with(FAILOVER, Some(Sweep::N2));
    let m = run(&w, 2);
    for c in 1..w.cases.len() {
        let mut alone = w.clone();
        alone.cases = vec![w.cases[c].clone()];
        let a = run(&alone, 1);
        let name = &w.cases[c].name;
        let pc = m.populations * m.slots;
        same_cells(
            &a.cells,
            &m.cells[c * pc..(c + 1) * pc],
            &format!("cells of {name}"),
        );
        let ps = m.policy_slots;
        same_cells(
            &a.policy_cells,
            &m.policy_cells[c * ps..(c + 1) * ps],
            &format!("policies of {name}"),
        );
        let rs = m.slots * m.resources;
        same_cells(
            &a.resource_cells,
            &m.resource_cells[c * rs..(c + 1) * rs],
            &format!("resources of {name}"),
        );
        let cs = (m.slots - 2) * m.resources;
        assert_eq!(
            a.connections_v4_micro[..],
            m.connections_v4_micro[c * cs..(c + 1) * cs],
            "connections of {name}"
        );
        assert_eq!(
            a.connections_v6_micro[..],
            m.connections_v6_micro[c * cs..(c + 1) * cs]
        );
    }
}

#[test]
fn sweep_results_do_not_depend_on_threads() {
    let w = world_with(FAILOVER, Some(Sweep::N1));
    let (a, b) = (run(&w, 1), run(&w, 3));
    assert!(a.cells == b.cells && a.policy_cells == b.policy_cells);
    assert_eq!(a.shifts, b.shifts);
    assert_eq!(a.connections_v4_micro, b.connections_v4_micro);
}

/// The seed example: finance users must egress in London and must not fall back to Dublin.
#[test]
fn london_requirement_counts_dublin_fallback_as_violation() {
    let text = FAILOVER
        .replace(
            "ipv4_fallback = \"ams-1\"",
            "ipv4_fallback = \"dub-1\"\nrequire_egress_in = [\"London\"]",
        )
        .replace(
            "allowlist = [\"lhr-1\", \"ams-1\"]",
            "allowlist = [\"lhr-1\", \"dub-1\"]",
        );
    let w = world_with(&text, None);
    let m = run(&w, 2);
    let base = policy(&w, &m, 0, "finance bank");
    assert_eq!(base.violations, 0, "LHR is in London");
    let london = policy(&w, &m, case(&w, "london"), "finance bank");
    assert!(out(&london, Outcome::Fallback) > 0);
    assert_eq!(
        london.violations,
        out(&london, Outcome::Fallback),
        "every request that fell back to Dublin broke the requirement; IPv6 still appears in London"
    );
    let both = policy(&w, &m, case(&w, "london-and-amsterdam"), "finance bank");
    assert_eq!(both.violations, london.violations);
    let _ = Case::baseline(1, 1);
}

/// Deriving a failure case's ingress and balanced egress from the baseline's (and searching a
/// case's own index of the data centers it leaves up) gives exactly what searching from scratch
/// gives, for every user and case: single failures, pairs, a whole region, and anycast ranks 1–2.
#[test]
fn derived_failure_cases_equal_searching_from_scratch() {
    let text = FAILOVER.replace(
        "[simulation]",
        "[ingress]\nsecond_nearest_share = 0.3\nthird_nearest_share = 0.2\n[simulation]",
    ) + "\n[[failure]]\nname = \"europe\"\nregions = [\"WEU\", \"EEU\"]\n";
    let w = world_with(&text, Some(Sweep::N2));
    let plain = Prepared::new(&w);
    let indexed = Prepared::new(&w).build_case_indexes();
    let europe = case(&w, "europe");
    assert!(
        indexed.up_index[europe].is_some(),
        "a region failure gets its own index"
    );
    for i in (0..w.users).step_by(7) {
        let (u, _) = plain.user(i);
        let g = route::UserGeo::new(&plain, &u);
        let (base, nearby) = route::baseline_case(&plain, &u, &g);
        assert_eq!(base, route::user_case(&plain, &u, &g, 0), "user {i}");
        for c in 1..w.cases.len() {
            let searched = route::user_case(&plain, &u, &g, c);
            let derived = route::failure_case(&plain, &u, &g, c, (&base, &nearby));
            assert_eq!(derived, searched, "user {i}, case {}", w.cases[c].name);
            let derived = route::failure_case(&indexed, &u, &g, c, (&base, &nearby));
            assert_eq!(
                derived, searched,
                "user {i}, case {} (indexed)",
                w.cases[c].name
            );
        }
    }
}
