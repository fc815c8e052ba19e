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
//!   four busy ingress data centers), and with the whole N-1 sweep; the budgets are 2× the baseline
//!   for 10 cases and 3× for the N-1 sweep.
//! - `threads/N`: the shipped three-site scenario as `run` simulates it (declared failures and the N-1
//!   sweep), 100,000 users, on one and on two worker threads.
//! - `process/...`: the whole `egress-sim run` process (load, sweep pre-pass, simulate, write) on the
//!   shipped scenario with 1,000,000 users, two threads.
//!
//! Run with `cargo bench --bench engine` (or a group: `cargo bench --bench engine -- sweep`).

use std::fmt::Write;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use egress_sim::engine::{self, Prepared, SimOptions};
use egress_sim::error::Source;
use egress_sim::scenario::{self, Overrides};
use egress_sim::world::{CaseOrigin, Sweep, World};

#[path = "common/cases.rs"]
mod cases;
use cases::with_ten_failures;

fn three_sites() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/three-sites.toml");
    std::fs::read_to_string(path).expect("shipped scenario is readable")
}

fn world_from(text: &str, users: u64, rpu: u32) -> World {
    world_with_sweep(text, users, rpu, Some(Sweep::None))
}

/// The scenario as `egress-sim run` simulates it: declared failures plus its own sweep.
fn shipped_world(text: &str, users: u64, rpu: u32) -> World {
    compiled(text, users, rpu, None)
}

/// The scenario's baseline and the cases of `sweep` (without the scenario's declared failures).
fn world_with_sweep(text: &str, users: u64, rpu: u32, sweep: Option<Sweep>) -> World {
    let mut w = compiled(text, users, rpu, sweep);
    // The shipped scenario declares failure cases; these benchmarks choose their own.
    w.cases.retain(|c| c.origin != CaseOrigin::Declared);
    w
}

fn compiled(text: &str, users: u64, rpu: u32, sweep: Option<Sweep>) -> World {
    let o = Overrides {
        users: Some(users),
        requests_per_user: Some(rpu),
        sweep,
        threads: 2,
        ..Overrides::default()
    };
    match scenario::compile(&Source::new("bench.toml", text), &o) {
        Ok(l) => l.world,
        Err(e) => panic!("{e}"),
    }
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
    run_on(w, 1)
}

fn run_on(w: &World, threads: usize) -> engine::Metrics {
    let opts = SimOptions {
        threads,
        per_user: false,
        ..SimOptions::default()
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

fn sweep(c: &mut Criterion) {
    let base = three_sites();
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    let n1 = world_with_sweep(&base, 20_000, 20, Some(Sweep::N1));
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

fn threads(c: &mut Criterion) {
    let w = shipped_world(&three_sites(), 100_000, 20);
    let mut g = c.benchmark_group("threads");
    g.sample_size(10);
    g.throughput(Throughput::Elements(w.users * 20));
    for n in [1usize, 2] {
        g.bench_with_input(BenchmarkId::from_parameter(n), &w, |b, w| {
            b.iter(|| run_on(w, n))
        });
    }
    g.finish();
}

fn process(c: &mut Criterion) {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/three-sites.toml");
    let out = std::env::temp_dir().join(format!("egress-sim-bench-{}", std::process::id()));
    let mut g = c.benchmark_group("process");
    g.sample_size(10);
    g.bench_function("run-1m-users-2-threads", |b| {
        b.iter(|| {
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_egress-sim"))
                .arg("run")
                .arg(&scenario)
                .args(["--users", "1000000", "--threads", "2", "--force", "--quiet"])
                .arg("--out")
                .arg(&out)
                .status()
                .expect("egress-sim runs");
            assert!(status.success());
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, generate, simulate, policies, sweep, threads, process);
criterion_main!(benches);
