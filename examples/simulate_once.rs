//! Runs the engine once on a scenario and prints how long `engine::simulate` took: a harness for
//! profilers (`valgrind --tool=callgrind`, `perf record`) that leaves out loading and writing.
//!
//! ```sh
//! cargo run --release --example simulate_once -- scenarios/three-sites.toml 50000 20 n-1 1
//! valgrind --tool=callgrind target/release/examples/simulate_once scenarios/three-sites.toml 20000 20 baseline 1
//! ```
//!
//! Arguments: scenario file, users, requests per user, cases (`baseline`: the baseline alone;
//! `declared`: the scenario's `[[failure]]` entries; `n-1`: those plus the N-1 sweep), threads.

use std::time::Instant;

use egress_sim::engine::{self, SimOptions};
use egress_sim::error::Source;
use egress_sim::scenario::{self, Overrides};
use egress_sim::world::Sweep;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let path = arg(0, "scenarios/three-sites.toml");
    let users: u64 = arg(1, "50000").parse().expect("users is a number");
    let rpu: u32 = arg(2, "20").parse().expect("requests per user is a number");
    let cases = arg(3, "n-1");
    let threads: usize = arg(4, "1").parse().expect("threads is a number");
    let text = std::fs::read_to_string(&path).expect("scenario is readable");
    let overrides = Overrides {
        users: Some(users),
        requests_per_user: Some(rpu),
        seed: None,
        sweep: Some(if cases == "n-1" { Sweep::N1 } else { Sweep::None }),
        geoip: None,
    };
    let mut world = match scenario::compile(&Source::new(&path, &text), &overrides) {
        Ok(l) => l.world,
        Err(e) => panic!("{e}"),
    };
    if cases == "baseline" {
        world.cases.truncate(1);
    }
    engine::sweep::expand(&mut world, threads).expect("sweep expands");
    let options = SimOptions {
        threads,
        per_user: false,
    };
    let start = Instant::now();
    let m = engine::simulate(&world, &options, &|_| {}, &mut |_| Ok(())).expect("simulates");
    let took = start.elapsed().as_secs_f64();
    let requests = m.total(0, None, None).requests;
    println!(
        "{} cases, {requests} baseline requests, simulate {took:.3} s ({:.1} ns per baseline request)",
        world.cases.len(),
        took * 1e9 / requests.max(1) as f64
    );
}
