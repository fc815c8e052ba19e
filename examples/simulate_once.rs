//! Runs the engine once on a scenario and prints how long `engine::simulate` took: a harness for
//! profilers (`valgrind --tool=callgrind`, `perf record`) that leaves out loading and writing.
//!
//! ```sh
//! cargo run --release --example simulate_once -- scenarios/three-sites.toml 50000 20 n-1 1
//! valgrind --tool=callgrind target/release/examples/simulate_once scenarios/three-sites.toml 20000 20 baseline 1
//! ```
//!
//! Arguments: scenario file, users, requests per user, cases (`baseline`: the baseline alone;
//! `ten`: the baseline and ten single failures, as `cargo bench --bench engine -- sweep/10-cases`;
//! `n-1`: the baseline and the N-1 sweep, as `sweep/n-1-*`; `declared`: the scenario's `[[failure]]`
//! entries; `shipped`: those plus the N-1 sweep, as `egress-sim run` does), threads.

use std::time::Instant;

use egress_sim::engine::{self, SimOptions};
use egress_sim::error::Source;
use egress_sim::scenario::{self, Overrides};
use egress_sim::world::{CaseOrigin, Sweep};

#[path = "../benches/common/cases.rs"]
mod cases;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let path = arg(0, "scenarios/three-sites.toml");
    let users: u64 = arg(1, "50000").parse().expect("users is a number");
    let rpu: u32 = arg(2, "20").parse().expect("requests per user is a number");
    let mode = arg(3, "n-1");
    let threads: usize = arg(4, "1").parse().expect("threads is a number");
    let text = std::fs::read_to_string(&path).expect("scenario is readable");
    let overrides = Overrides {
        users: Some(users),
        requests_per_user: Some(rpu),
        sweep: Some(if mode == "n-1" || mode == "shipped" {
            Sweep::N1
        } else {
            Sweep::None
        }),
        threads,
        ..Overrides::default()
    };
    let mut world = match scenario::compile(&Source::new(&path, &text), &overrides) {
        Ok(l) => l.world,
        Err(e) => panic!("{e}"),
    };
    if ["baseline", "ten"].contains(&mode.as_str()) {
        world.cases.truncate(1);
    }
    if mode == "n-1" {
        world.cases.retain(|c| c.origin != CaseOrigin::Declared);
    }
    if mode == "ten" {
        world = cases::with_ten_failures(world);
    }
    let options = SimOptions {
        threads,
        per_user: false,
        ..SimOptions::default()
    };
    let (start, cpu0) = (Instant::now(), cpu_seconds());
    let m = engine::simulate(&world, &options, &|_| {}, &mut |_| Ok(())).expect("simulates");
    let took = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let requests = m.total(0, None, None).requests;
    println!(
        "{} cases, {requests} baseline requests, simulate {took:.3} s wall ({:.1} ns per baseline request), {} CPU",
        world.cases.len(),
        took * 1e9 / requests.max(1) as f64,
        cpu.map_or("?".into(), |c| format!("{c:.2} s"))
    );
}

/// CPU time (user + system) of this process so far, from `/proc/self/stat` (Linux; 10 ms ticks):
/// on a machine shared with other work it varies less than wall-clock time.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
