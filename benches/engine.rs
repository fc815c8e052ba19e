//! Benchmarks of the simulator's phases on the shipped three-site scenario.
//!
//! - `generate_users`: user generation including the country lookup (users/s).
//! - `simulate/rpu=N`: the whole engine for 20,000 users with N requests each, one thread. The
//!   difference between N = 40 and N = 20 isolates the per-request decision loop (see BENCHMARKS.md).
//! - `policies/...`: the same run with no policies, with 50 policies whose conditions test groups,
//!   hosts, ports and addresses (the usual kind), and with 50 policies where some test the user's email
//!   (which defeats the per-class cache, the worst case).
//!
//! - `sweep/...`: the baseline alone, with 10 failure cases (each egress data center, each egress IP,
//!   four busy ingress data centers), and with the whole N-1 sweep; the budget is 3× the
//!   baseline for 10 cases.
//!
//! Run with `cargo bench --bench engine`.

use std::fmt::Write;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use egress_sim::engine::{self, Prepared, SimOptions};
use egress_sim::error::Source;
use egress_sim::scenario::{self, Overrides};
use egress_sim::world::{CaseOrigin, Sweep, World};

fn three_sites() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/three-sites.toml");
    std::fs::read_to_string(path).expect("shipped scenario is readable")
}

fn world_from(text: &str, users: u64, rpu: u32) -> World {
    world_with_sweep(text, users, rpu, Sweep::None)
}

/// The scenario's baseline and the cases of `sweep` (without the scenario's declared failures).
fn world_with_sweep(text: &str, users: u64, rpu: u32, sweep: Sweep) -> World {
    let o = Overrides {
        users: Some(users),
        requests_per_user: Some(rpu),
        sweep: Some(sweep),
        threads: 1,
        ..Overrides::default()
    };
    let mut w = match scenario::compile(&Source::new("bench.toml", text), &o) {
        Ok(l) => l.world,
        Err(e) => panic!("{e}"),
    };
    // The shipped scenario declares failure cases; these benchmarks choose their own.
    w.cases.retain(|c| c.origin != CaseOrigin::Declared);
    w
}

/// Appends 49 policies of the usual kinds plus a catch-all; `per_user` makes every third one test the
/// user's email instead of a group.
pub fn with_policies(base: &str, per_user: bool) -> String {
    let mut s = base.to_string();
    let egress = ["ams-1", "lhr-1", "iad-1"];
    for i in 0..49 {
        let _ = writeln!(
            s,
            "\n[[policy]]\nname = \"p{i}\"\nprecedence = {}",
            (i + 1) * 10
        );
        match i % 3 {
            0 => {
                let _ = writeln!(
                    s,
                    "identity = 'any(identity.groups.name[*] in {{\"team-{i}\" \"engineering\"}})'\ntraffic = 'net.fqdn.host == \"host-{i}.example\"'"
                );
            }
            1 => {
                let _ = writeln!(s, "traffic = 'net.dst.port in {{8000..8100}} and net.dst.ip in {{10.{i}.0.0/16}}'");
            }
            _ if per_user => {
                let _ = writeln!(
                    s,
                    "identity = 'identity.email matches \"^u{i}[0-9]*@corp\\\\.example$\"'"
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "identity = 'any(identity.groups.name[*] == \"finance\")'\ntraffic = 'any(net.fqdn.domains[*] == \"bank-{i}.example\") or net.dst.geo.country == \"JP\"'"
                );
            }
        }
        let _ = writeln!(
            s,
            "ipv4 = \"{}\"\nipv4_fallback = \"{}\"",
            egress[i % 3],
            egress[(i + 1) % 3]
        );
    }
    let _ = writeln!(s, "\n[[policy]]\nname = \"catch-all\"\nprecedence = 10000\ntraffic = 'not net.fqdn.host in {{\"api.bank.example\"}}'\negress = \"default\"");
    s
}

fn generate(c: &mut Criterion) {
    let w = world_from(&three_sites(), 100_000, 1);
    let p = Prepared::new(&w);
    let mut g = c.benchmark_group("generate_users");
    g.sample_size(10);
    g.throughput(Throughput::Elements(w.users));
    g.bench_function("three-sites", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for i in 0..w.users {
                acc = acc.wrapping_add(p.user(i).0.country.0 as u64);
            }
            acc
        })
    });
    // The same on two worker threads (the target machine has two cores).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("thread pool");
    g.bench_function("three-sites-2-threads", |b| {
        b.iter(|| {
            use rayon::prelude::*;
            pool.install(|| {
                (0..w.users)
                    .into_par_iter()
                    .map(|i| p.user(i).0.country.0 as u64)
                    .sum::<u64>()
            })
        })
    });
    g.finish();
}

fn run(w: &World) -> engine::Metrics {
    let opts = SimOptions {
        threads: 1,
        per_user: false,
    };
    engine::simulate(w, &opts, &|_| {}, &mut |_| Ok(())).expect("simulates")
}

fn simulate(c: &mut Criterion) {
    let base = three_sites();
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    for rpu in [20u32, 40] {
        let w = world_from(&base, 20_000, rpu);
        g.throughput(Throughput::Elements(w.users * rpu as u64));
        g.bench_with_input(BenchmarkId::new("rpu", rpu), &w, |b, w| b.iter(|| run(w)));
    }
    g.finish();
}

fn policies(c: &mut Criterion) {
    let base = three_sites();
    let mut g = c.benchmark_group("policies");
    g.sample_size(10);
    for (name, text) in [
        ("none", base.clone()),
        ("50", with_policies(&base, false)),
        ("50-per-user-fields", with_policies(&base, true)),
    ] {
        let w = world_from(&text, 20_000, 20);
        g.throughput(Throughput::Elements(w.users * 20));
        g.bench_with_input(BenchmarkId::from_parameter(name), &w, |b, w| {
            b.iter(|| run(w))
        });
    }
    g.finish();
}

/// Adds ten failure cases: each egress data center, four busy ingress data centers, and each egress IP.
pub fn with_ten_failures(mut w: World) -> World {
    for dc in ["AMS", "LHR", "IAD", "FRA", "CDG", "EWR", "ORD"] {
        let mut c = egress_sim::world::Case::baseline(w.datacenters.len(), w.egress.len());
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
        let mut c = egress_sim::world::Case::baseline(w.datacenters.len(), w.egress.len());
        c.name = format!("ip-{}", w.egress[e].id);
        c.egress_down[e] = true;
        w.cases.push(c);
    }
    w
}

fn sweep(c: &mut Criterion) {
    let base = three_sites();
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    let n1 = world_with_sweep(&base, 20_000, 20, Sweep::N1);
    for (name, w) in [
        ("baseline".to_string(), world_from(&base, 20_000, 20)),
        (
            "10-cases".to_string(),
            with_ten_failures(world_from(&base, 20_000, 20)),
        ),
        (format!("n-1-{}-cases", n1.cases.len() - 1), n1),
    ] {
        g.throughput(Throughput::Elements(w.users * 20));
        g.bench_with_input(BenchmarkId::from_parameter(name), &w, |b, w| {
            b.iter(|| run(w))
        });
    }
    g.finish();
}

criterion_group!(benches, generate, simulate, policies, sweep);
criterion_main!(benches);
