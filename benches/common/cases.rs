//! Failure cases shared by `benches/engine.rs` and `examples/simulate_once.rs`, so the profiler
//! harness measures exactly what the `sweep/10-cases` benchmark does.

use egress_sim::world::{Case, World};

/// Adds ten failure cases to the three-site scenario: each egress data center, four busy ingress
/// data centers, and each egress IP, one at a time.
pub fn with_ten_failures(mut w: World) -> World {
    for dc in ["AMS", "LHR", "IAD", "FRA", "CDG", "EWR", "ORD"] {
        let mut c = Case::baseline(w.datacenters.len(), w.egress.len());
        c.name = format!("dc-{dc}");
        let d = w
            .datacenters
            .iter()
            .position(|x| x.code == dc)
            .expect("catalog data center");
        c.dc_down[d] = true;
        w.cases.push(c);
    }
    for e in 0..w.egress.len() {
        let mut c = Case::baseline(w.datacenters.len(), w.egress.len());
        c.name = format!("ip-{}", w.egress[e].id);
        c.egress_down[e] = true;
        w.cases.push(c);
    }
    w
}
