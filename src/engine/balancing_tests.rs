//! Balancing modes through the engine's own functions: `fastest` picks, per user and destination, the
//! dedicated location with the lowest modelled round trip; `nearest` (the default) ignores the
//! destination. Both go through `route::balanced_site`.

use super::failover_tests::run;
use super::route::{self, Toward, UserGeo};
use super::trace::Tracer;
use super::*;
use crate::error::Source;
use crate::scenario::{compile, Overrides};
use crate::world::{BalancingMode, Sweep, World};

/// London users, dedicated IPs in London and Washington, a destination next to each, nothing matched.
/// The backbone is straighter than the internet (as the latency model's documentation argues), so for
/// the Washington destination the long haul is cheaper on the backbone: through IAD.
const TWO_SITES: &str = r#"
name = "two-sites"
seed = 5
[simulation]
requests_per_user = 6
[latency]
internet_inflation = 2.0
backbone_inflation = 1.2
[ingress]
second_nearest_share = 0.0
[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.20"
ipv6 = "2001:db8:b::/48"
[[egress]]
id = "iad-1"
datacenter = "IAD"
ipv4 = "203.0.113.30"
ipv6 = "2001:db8:c::/48"
[[population]]
name = "london"
users = 600
ipv6_share = 0.5
[population.location]
around = ["London"]
spread = { distribution = "normal", sigma_km = 10 }
[[resource]]
name = "far"
ipv4 = "198.51.100.10"
ipv6 = "2001:db8:100::10"
location = "IAD"
weight = 1
[[resource]]
name = "near"
ipv4 = "198.51.100.20"
location = "London"
weight = 1
"#;

const LHR: u8 = 0;
const IAD: u8 = 1;
const FAR: usize = 0;
const NEAR: usize = 1;

fn world(text: &str, mode: BalancingMode, sweep: Sweep) -> World {
    let overrides = Overrides {
        balancing: Some(mode),
        sweep: Some(sweep),
        threads: 1,
        ..Overrides::default()
    };
    match compile(&Source::new("two-sites.toml", text), &overrides) {
        Ok(l) => l.world,
        Err(e) => panic!("{e}"),
    }
}

/// The egress slot of unmatched `resource` over IPv4 for every user in `case`.
fn slots(w: &World, case: usize, resource: usize) -> Vec<u8> {
    let t = Tracer::new(w);
    (0..w.users)
        .map(|i| {
            let d = t.trace(i, case);
            d.destination(resource, false).expect("traced").route.slot
        })
        .collect()
}

#[test]
fn fastest_picks_the_lower_rtt_site_for_a_far_resource() {
    let near = world(TWO_SITES, BalancingMode::Nearest, Sweep::None);
    let fast = world(TWO_SITES, BalancingMode::Fastest, Sweep::None);
    assert!(slots(&near, 0, FAR).iter().all(|&s| s == LHR));
    assert!(slots(&fast, 0, FAR).iter().all(|&s| s == IAD));
    // The pick is the lower reported round trip, user by user.
    let (tn, tf) = (Tracer::new(&near), Tracer::new(&fast));
    for i in 0..near.users {
        let a = tn.trace(i, 0);
        let b = tf.trace(i, 0);
        let (ra, rb) = (
            a.destination(FAR, false).unwrap(),
            b.destination(FAR, false).unwrap(),
        );
        assert!(rb.route.base_ms + 10.0 < ra.route.base_ms, "user {i}");
        let why = rb.balanced.expect("unmatched traffic on a dedicated IP");
        assert_eq!(why.mode, BalancingMode::Fastest);
        assert_eq!((why.egress, why.nearest), (IAD as u16, LHR as u16));
        assert!((why.rtt_ms - f64::from(rb.route.base_ms)).abs() < 0.01);
        assert!((why.nearest_rtt_ms - f64::from(ra.route.base_ms)).abs() < 0.01);
    }
    // Whole runs: the far destination's requests all leave through IAD, and the mean RTT drops.
    let (mn, mf) = (run(&near, 2), run(&fast, 2));
    assert!(mf.total(0, None, None).rtt_sum_us < mn.total(0, None, None).rtt_sum_us);
}

#[test]
fn fastest_equals_nearest_when_the_resource_is_at_the_nearest_site() {
    let near = world(TWO_SITES, BalancingMode::Nearest, Sweep::None);
    let fast = world(TWO_SITES, BalancingMode::Fastest, Sweep::None);
    assert!(slots(&fast, 0, NEAR).iter().all(|&s| s == LHR));
    assert_eq!(slots(&near, 0, NEAR), slots(&fast, 0, NEAR));
    // With only the London destination, the two modes give identical metrics.
    let far = "[[resource]]\nname = \"far\"\nipv4 = \"198.51.100.10\"\nipv6 = \"2001:db8:100::10\"\nlocation = \"IAD\"\nweight = 1\n";
    let only_near = TWO_SITES.replace(far, "");
    assert_ne!(only_near, TWO_SITES);
    let (a, b) = (
        run(&world(&only_near, BalancingMode::Nearest, Sweep::N1), 2),
        run(&world(&only_near, BalancingMode::Fastest, Sweep::N1), 2),
    );
    assert!(a.cells == b.cells && a.resource_cells == b.resource_cells);
}

#[test]
fn fastest_is_sticky_per_user_and_resource() {
    let w = world(TWO_SITES, BalancingMode::Fastest, Sweep::None);
    let p = Prepared::new(&w);
    for i in 0..w.users {
        let (u, _) = p.user(i);
        let g = UserGeo::new(&p, &u);
        let uc = route::user_case(&p, &u, &g, 0);
        let ingress = uc.ingress.expect("ingress");
        let at = route::UserInCase {
            user: &u,
            geo: &g,
            uc: &uc,
            case: 0,
        };
        let toward = Toward {
            ingress,
            resource: FAR,
        };
        let first = route::balanced_site(&p, &u, &g, 0, Some(toward));
        assert_eq!(first, Some(IAD as u16));
        // Asking again, and over either IP version, gives the same site.
        assert_eq!(route::balanced_site(&p, &u, &g, 0, Some(toward)), first);
        for ipv6 in [false, true] {
            let entry = route::Entry {
                resource: FAR,
                ipv6,
                policy: crate::matching::matcher::UNMATCHED,
            };
            assert_eq!(route::decide(&p, &at, entry).slot, IAD, "user {i}");
        }
    }
    // Every request to the far destination, in a whole run, on IAD; none on LHR.
    let m = run(&w, 2);
    let on = |slot: usize| m.resource_cells[m.resource_index(0, slot, FAR)].requests;
    assert!(on(IAD as usize) > 0);
    assert_eq!(on(LHR as usize), 0);
}

#[test]
fn fastest_takes_the_fastest_site_that_is_up() {
    let w = world(TWO_SITES, BalancingMode::Fastest, Sweep::N1);
    let down = w
        .cases
        .iter()
        .position(|c| c.name == "down:iad-1")
        .expect("sweep case");
    assert!(slots(&w, down, FAR).iter().all(|&s| s == LHR));
    assert!(slots(&w, 0, FAR).iter().all(|&s| s == IAD));
}

/// Thread count changes nothing in `fastest` mode, and the failure cases derived from the baseline
/// equal each case run on its own.
#[test]
fn fastest_is_deterministic_and_its_failure_cases_exact() {
    let text = TWO_SITES.replace("sigma_km = 10", "sigma_km = 2500");
    let w = world(&text, BalancingMode::Fastest, Sweep::N1);
    let (a, b) = (run(&w, 1), run(&w, 3));
    assert!(a.cells == b.cells && a.policy_cells == b.policy_cells);
    assert!(a.resource_cells == b.resource_cells);
    assert_eq!(a.connections_v4_micro, b.connections_v4_micro);
    assert_eq!(a.samples, b.samples);
    for c in 1..w.cases.len() {
        let mut alone = w.clone();
        alone.cases = vec![w.cases[c].clone()];
        let one = run(&alone, 1);
        let pc = a.populations * a.slots;
        assert!(
            one.cells[..] == a.cells[c * pc..(c + 1) * pc],
            "case {}",
            w.cases[c].name
        );
        let rs = a.slots * a.resources;
        assert!(one.resource_cells[..] == a.resource_cells[c * rs..(c + 1) * rs]);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 8, .. proptest::prelude::ProptestConfig::default() })]

    /// Per user and destination, `fastest` never reports a slower IPv4 round trip to a non-proxied
    /// destination than `nearest` (it minimises the same model the RTT comes from), whatever the
    /// seed, the backbone's inflation and where the users are.
    #[test]
    fn fastest_is_never_slower_than_nearest(
        seed in 0u64..1000,
        backbone in 1.0f64..2.2,
        sigma in 100u32..4000,
    ) {
        let text = TWO_SITES
            .replace("seed = 5", &format!("seed = {seed}"))
            .replace("backbone_inflation = 1.2", &format!("backbone_inflation = {backbone}"))
            .replace("sigma_km = 10", &format!("sigma_km = {sigma}"))
            + "[[egress]]\nid = \"ams-1\"\ndatacenter = \"AMS\"\nipv4 = \"203.0.113.10\"\n";
        let near = world(&text, BalancingMode::Nearest, Sweep::None);
        let fast = world(&text, BalancingMode::Fastest, Sweep::None);
        let (tn, tf) = (Tracer::new(&near), Tracer::new(&fast));
        for i in (0..near.users).step_by(5) {
            let (a, b) = (tn.trace(i, 0), tf.trace(i, 0));
            for r in [FAR, NEAR] {
                let (ra, rb) = (a.destination(r, false).unwrap(), b.destination(r, false).unwrap());
                proptest::prop_assert!(
                    rb.route.base_ms <= ra.route.base_ms + 0.001,
                    "user {} resource {}: fastest {} ms, nearest {} ms", i, r, rb.route.base_ms, ra.route.base_ms
                );
            }
        }
    }
}
