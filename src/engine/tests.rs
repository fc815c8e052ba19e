//! Engine tests on small scenarios compiled from text: routing semantics, tie splitting, the physical
//! path table, fallback, first-match precedence, allowlists, and the simulation-wide invariants
//! (conservation, determinism across thread counts, monotonic effects).

use proptest::prelude::*;

use super::route::{self, UserGeo};
use super::*;
use crate::error::Source;
use crate::matching::matcher::UNMATCHED;
use crate::scenario::{compile, Overrides};
use crate::world::{Case, World};

fn world(text: &str) -> World {
    match compile(&Source::new("test.toml", text), &Overrides::default()) {
        Ok(l) => l.world,
        Err(e) => panic!("{e}"),
    }
}

/// Two custom data centers at the same distance from the point (0, 0), one degree east and west.
const TWIN: &str = r#"
name = "twin"
seed = 3
[balancing]
tie_tolerance_km = 0.0
[[datacenter]]
code = "WEST"
city = "West"
country = "GH"
lat = 0.0
lon = -1.0
[[datacenter]]
code = "EAST"
city = "East"
country = "GH"
lat = 0.0
lon = 1.0
[[egress]]
id = "w"
datacenter = "WEST"
ipv4 = "203.0.113.1"
ipv6 = "2001:db8:1::/48"
[[egress]]
id = "e"
datacenter = "EAST"
ipv4 = "203.0.113.2"
ipv6 = "2001:db8:2::/48"
[[population]]
name = "centre"
users = 4000
ipv6_share = 1.0
[population.location]
around = ["0,0"]
spread = { distribution = "normal", sigma_km = 0 }
[[resource]]
name = "plain"
ipv4 = "198.51.100.1"
ipv6 = "2001:db8:100::1"
location = "0,10"
allowlist = ["e"]
[[resource]]
name = "proxied"
ipv4 = "198.51.100.2"
location = "0,10"
proxied = true
"#;

/// `route::decide` for destination `r` over `v6` with the policy `policy`.
fn decide(p: &Prepared, at: &route::UserInCase, r: usize, v6: bool, policy: u16) -> Route {
    let entry = route::Entry {
        resource: r,
        ipv6: v6,
        policy,
    };
    route::decide(p, at, entry)
}

fn balanced_counts(w: &World) -> [u64; 2] {
    let p = Prepared::new(w);
    let mut counts = [0u64; 2];
    for i in 0..w.users {
        let (u, _) = p.user(i);
        let g = UserGeo::new(&p, &u);
        let e = route::balanced_site(&p, &u, &g, 0, None).expect("a site is up");
        counts[e as usize] += 1;
        // Sticky: asking again gives the same answer.
        assert_eq!(route::balanced_site(&p, &u, &g, 0, None), Some(e));
    }
    counts
}

#[test]
fn exact_ties_split_users_about_evenly_and_stickily() {
    let w = world(TWIN);
    let [west, east] = balanced_counts(&w);
    assert_eq!(west + east, 4000);
    assert!((1800..=2200).contains(&west), "west {west}, east {east}");
}

#[test]
fn outside_the_tolerance_the_nearer_site_wins() {
    // Users 5 km east of the midpoint: EAST is nearer; with no tolerance everyone goes east...
    let text = TWIN.replace("around = [\"0,0\"]", "around = [\"0,0.045\"]");
    assert_eq!(balanced_counts(&world(&text)), [0, 4000]);
    // ...and with a 20 km tolerance the sites count as tied again.
    let text = text.replace("tie_tolerance_km = 0.0", "tie_tolerance_km = 20.0");
    let [west, _] = balanced_counts(&world(&text));
    assert!((1800..=2200).contains(&west), "{west}");
}

#[test]
fn removing_a_tied_site_moves_only_its_users() {
    let mut w = world(TWIN);
    let mut down = w.cases[0].clone();
    down.name = "east-down".into();
    down.egress_down[1] = true;
    w.cases.push(down);
    let p = Prepared::new(&w);
    for i in 0..w.users {
        let (u, _) = p.user(i);
        let g = UserGeo::new(&p, &u);
        assert_eq!(route::balanced_site(&p, &u, &g, 1, None), Some(0));
        if route::balanced_site(&p, &u, &g, 0, None) == Some(0) {
            assert_eq!(route::balanced_site(&p, &u, &g, 1, None), Some(0));
        }
    }
}

/// The physical egress table of GATEWAY-REFERENCE.md, for unmatched traffic on a dedicated IP.
#[test]
fn physical_path_follows_ip_version_and_proxying() {
    let w = world(TWIN);
    let p = Prepared::new(&w);
    for i in 0..200 {
        let (u, _) = p.user(i);
        let g = UserGeo::new(&p, &u);
        let uc = route::user_case(&p, &u, &g, 0);
        let ingress = uc.ingress.expect("ingress");
        let egress_dc = w.egress[uc.balanced.expect("egress") as usize].datacenter;
        let at = route::UserInCase {
            user: &u,
            geo: &g,
            uc: &uc,
            case: 0,
        };
        let plain_v4 = decide(&p, &at, 0, false, UNMATCHED);
        let plain_v6 = decide(&p, &at, 0, true, UNMATCHED);
        let proxied_v4 = decide(&p, &at, 1, false, UNMATCHED);
        assert_eq!(
            plain_v4.physical, egress_dc,
            "IPv4, not proxied: the egress IP's data center"
        );
        assert_eq!(plain_v6.physical, ingress, "IPv6: the ingress data center");
        assert_eq!(
            proxied_v4.physical, ingress,
            "proxied: the ingress data center"
        );
        // All three carry the dedicated address and geolocate to its city.
        for r in [&plain_v4, &plain_v6, &proxied_v4] {
            assert_eq!(r.outcome, Outcome::Dedicated as u8);
            assert_eq!(r.slot as usize, uc.balanced.unwrap() as usize);
        }
        // Allowlist: `plain` accepts only `e`.
        assert_eq!(plain_v4.blocked, uc.balanced != Some(1));
        assert!(!proxied_v4.blocked);
    }
}

const POLICIES: &str = r#"
name = "pol"
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
id = "iad-1"
datacenter = "IAD"
ipv4 = "203.0.113.30"
[[population]]
name = "office"
users = 300
groups = { finance = 0.5 }
ipv6_share = 1.0
[population.location]
around = ["London"]
[[resource]]
name = "bank"
host = "api.bank.example"
ipv4 = "198.51.100.20"
ipv6 = "2001:db8:100::20"
location = "London"
allowlist = ["lhr-1", "ams-1"]
[[resource]]
name = "web"
host = "www.example.com"
ipv4 = "198.51.100.30"
location = "FRA"
[[policy]]
name = "finance bank"
precedence = 10
identity = 'any(identity.groups.name[*] == "finance")'
traffic = 'net.fqdn.host == "api.bank.example"'
ipv4 = "lhr-1"
ipv4_fallback = "ams-1"
[[policy]]
name = "bank via iad"
precedence = 20
traffic = 'any(net.fqdn.domains[*] == "bank.example")'
ipv4 = "iad-1"
ipv4_fallback = "0.0.0.0"
[[policy]]
name = "web default"
precedence = 30
traffic = 'net.dst.port == 443'
egress = "default"
"#;

#[test]
fn first_match_by_precedence_then_fallbacks() {
    let mut w = world(POLICIES);
    let names: Vec<&str> = w.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["finance bank", "bank via iad", "web default"]);
    // Cases: London IP down; London and Washington IPs down.
    for (name, down) in [("lhr-down", vec![0usize]), ("lhr-iad-down", vec![0, 2])] {
        let mut c: Case = w.cases[0].clone();
        c.name = name.into();
        for d in down {
            c.egress_down[d] = true;
        }
        w.cases.push(c);
    }
    let p = Prepared::new(&w);
    let mut facts = crate::matching::facts::FactsBuilder::new(&w);
    let mut cache = crate::matching::matcher::Scratch::default();
    let mut matches = vec![0u16; 4];
    let (mut finance, mut others) = (0, 0);
    for i in 0..w.users {
        let (u, _) = p.user(i);
        facts.set_user(&u);
        p.matcher
            .first_matches(&w, &facts, &u, &mut cache, &mut matches);
        let g = UserGeo::new(&p, &u);
        let is_finance = u.groups[0] & 1 == 1;
        // bank over IPv4 / IPv6, web over IPv4.
        let bank_policy = matches[0];
        assert_eq!(
            matches[1], bank_policy,
            "IP version does not change which policy matches here"
        );
        assert_eq!(
            matches[2], 2,
            "web matches the port-443 default-egress policy"
        );
        let d = |case: usize, r: usize, v6: bool| {
            let uc = route::user_case(&p, &u, &g, case);
            let at = route::UserInCase {
                user: &u,
                geo: &g,
                uc: &uc,
                case,
            };
            decide(&p, &at, r, v6, matches[r * 2 + v6 as usize])
        };
        let web = d(0, 1, false);
        assert_eq!(
            (web.outcome, web.slot as usize),
            (Outcome::Default as u8, w.egress.len())
        );
        if is_finance {
            finance += 1;
            assert_eq!(bank_policy, 0);
            let r = d(0, 0, false);
            assert_eq!(
                (r.outcome, r.slot, r.blocked),
                (Outcome::Dedicated as u8, 0, false)
            );
            // London down: Amsterdam fallback, still allowlisted.
            let r = d(1, 0, false);
            assert_eq!(
                (r.outcome, r.slot, r.blocked),
                (Outcome::Fallback as u8, 1, false)
            );
            // IPv6 keeps using the London range from the ingress data center while only the IP is up.
            let r = d(0, 0, true);
            assert_eq!((r.outcome, r.slot), (Outcome::Dedicated as u8, 0));
            assert_eq!(r.physical, route::user_case(&p, &u, &g, 0).ingress.unwrap());
        } else {
            others += 1;
            assert_eq!(bank_policy, 1);
            let r = d(0, 0, false);
            assert_eq!(
                (r.outcome, r.slot, r.blocked),
                (Outcome::Dedicated as u8, 2, true),
                "iad-1 is not on the bank's allowlist"
            );
            // Washington down: `0.0.0.0` fallback is default egress, which the bank refuses.
            let r = d(2, 0, false);
            assert_eq!(
                (r.outcome, r.slot as usize, r.blocked),
                (Outcome::Fallback as u8, w.egress.len(), true)
            );
            // iad-1 has no IPv6 range: IPv6 uses default egress.
            let r = d(0, 0, true);
            assert_eq!(r.outcome, Outcome::Default as u8);
        }
    }
    assert!(finance > 100 && others > 100, "{finance} {others}");
}

#[test]
fn dedicated_policy_without_fallback_drops_when_primary_is_down() {
    let text = POLICIES
        .replace("ipv4_fallback = \"ams-1\"\n", "")
        .replace("ipv6_share = 1.0", "ipv6_share = 0.5");
    let mut w = world(&text);
    let mut c = w.cases[0].clone();
    c.name = "lhr-down".into();
    c.dc_down[w.egress[0].datacenter as usize] = true;
    w.cases.push(c);
    let m = simulate(
        &w,
        &SimOptions {
            threads: 1,
            per_user: false,
            ..SimOptions::default()
        },
        &|_| {},
        &mut |_| Ok(()),
    )
    .unwrap();
    let finance = m.policy_cells[m.policy_index(1, 0)].clone();
    assert!(finance.requests > 0);
    assert_eq!(
        finance.outcomes[Outcome::Dropped as usize] + finance.outcomes[Outcome::Dedicated as usize],
        finance.requests
    );
    assert!(
        finance.outcomes[Outcome::Dropped as usize] > 0,
        "IPv4 requests are dropped"
    );
    assert!(
        finance.outcomes[Outcome::Dedicated as usize] > 0,
        "IPv6 requests still egress locally"
    );
    // Dropped requests have no RTT.
    assert_eq!(finance.rtt.total(), finance.delivered());
}

fn run(w: &World, threads: usize) -> Metrics {
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

fn scenario(users: u64, rpu: u32, seed: u64, inflation: f64) -> World {
    let text = POLICIES.replace("users = 300", &format!("users = {users}")).replace("name = \"pol\"", &format!(
        "name = \"pol\"\nseed = {seed}\n[simulation]\nrequests_per_user = {rpu}\n[latency]\ninternet_inflation = {inflation}"
    ));
    world(&text)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// Every request lands in exactly one cell per table, whatever the size.
    #[test]
    fn requests_are_conserved(users in 1u64..20_000, rpu in 1u32..6, seed in 0u64..1000) {
        let w = scenario(users, rpu, seed, 1.6);
        let m = run(&w, 2);
        let total = users * rpu as u64;
        prop_assert_eq!(m.total(0, None, None).requests, total);
        prop_assert_eq!(m.policy_cells.iter().map(|c| c.requests).sum::<u64>(), total);
        prop_assert_eq!(m.resource_cells.iter().map(|c| c.requests).sum::<u64>(), total);
        let t = m.total(0, None, None);
        prop_assert_eq!(t.outcomes.iter().sum::<u64>(), total);
        prop_assert_eq!(t.rtt.total(), t.delivered());
    }

    /// Thread count never changes a single counter.
    #[test]
    fn identical_metrics_for_any_thread_count(users in 1u64..30_000, seed in 0u64..1000) {
        let w = scenario(users, 3, seed, 1.6);
        let (a, b) = (run(&w, 1), run(&w, 3));
        prop_assert!(a.cells == b.cells && a.policy_cells == b.policy_cells && a.resource_cells == b.resource_cells);
        prop_assert_eq!(a.samples, b.samples);
        prop_assert_eq!(a.connections_v4_micro, b.connections_v4_micro);
    }

    /// Longer internet paths never make any request faster (same users, same draws).
    #[test]
    fn more_path_inflation_never_lowers_latency(seed in 0u64..1000, extra in 0.05f64..1.0) {
        let a = run(&scenario(2000, 4, seed, 1.5), 2).total(0, None, None);
        let b = run(&scenario(2000, 4, seed, 1.5 + extra), 2).total(0, None, None);
        prop_assert!(b.rtt_sum_us > a.rtt_sum_us);
        for q in [0.1, 0.5, 0.9, 0.99] {
            prop_assert!(b.rtt.quantile_ms(q) >= a.rtt.quantile_ms(q));
        }
    }
}

/// The matcher's shortcuts (destination-only filters precomputed, class cache, per-person memo) give
/// the same first match as evaluating every policy in order.
#[test]
fn matcher_agrees_with_naive_first_match() {
    let extra = r#"
[[policy]]
name = "by email"
precedence = 1
identity = 'identity.email matches "^u1[0-9]*@"'
traffic = 'net.dst.port == 443'
ipv4 = "ams-1"
[[policy]]
name = "by source and host"
precedence = 2
traffic = 'net.src.port > 60000 and net.fqdn.host == "www.example.com"'
ipv4 = "iad-1"
[[policy]]
name = "country"
precedence = 3
traffic = 'net.src.geo.country == "GB" and net.dst.ip in {198.51.100.20}'
ipv4 = "lhr-1"
"#;
    let text = POLICIES.replace("users = 300", "users = 3000") + extra;
    let w = world(&text);
    let p = Prepared::new(&w);
    let mut facts = crate::matching::facts::FactsBuilder::new(&w);
    let mut scratch = crate::matching::matcher::Scratch::default();
    let mut got = vec![0u16; w.resources.len() * 2];
    let mut seen = std::collections::HashSet::new();
    for i in 0..w.users {
        let (u, _) = p.user(i);
        facts.set_user(&u);
        p.matcher
            .first_matches(&w, &facts, &u, &mut scratch, &mut got);
        for r in 0..w.resources.len() {
            for v in [false, true] {
                let f = facts.facts(r, v);
                let naive = w
                    .policies
                    .iter()
                    .position(|pol| pol.matches(&f))
                    .map_or(UNMATCHED, |k| k as u16);
                assert_eq!(
                    got[r * 2 + v as usize],
                    naive,
                    "user {i}, resource {r}, ipv6 {v}"
                );
                seen.insert(naive);
            }
        }
    }
    assert!(
        seen.len() >= 4,
        "the test exercises several policies: {seen:?}"
    );
}

/// Rows of the cases asked for are exactly the full set's rows of those cases, in the same order, and
/// the metrics do not depend on which rows were asked for.
#[test]
fn per_user_rows_of_chosen_cases_equal_the_full_rows_filtered() {
    let mut w = world(POLICIES);
    for (i, e) in [0usize, 1].into_iter().enumerate() {
        let mut c = w.cases[0].clone();
        c.name = format!("down-{i}");
        c.dc_down[w.egress[e].datacenter as usize] = true;
        w.cases.push(c);
    }
    let rows_of = |cases: Vec<bool>| {
        let mut rows = Vec::new();
        let options = SimOptions {
            threads: 2,
            per_user: true,
            per_user_cases: cases,
        };
        let m = simulate(&w, &options, &|_| {}, &mut |r: &[UserRow]| {
            rows.extend_from_slice(r);
            Ok(())
        })
        .unwrap();
        (rows, m)
    };
    let (all, m_all) = rows_of(Vec::new());
    let (some, m_some) = rows_of(vec![true, false, true]);
    assert_eq!(all.len() as u64, w.users * 3);
    let expected: Vec<UserRow> = all.iter().filter(|r| r.case != 1).copied().collect();
    assert_eq!(some, expected);
    assert_eq!(m_all.cells, m_some.cells);
}
