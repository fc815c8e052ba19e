//! Benchmarks of the simulator's phases on the shipped three-site scenario.
//!
//! - `generate_users`: user generation including the country lookup (users/s).
//! - `simulate/rpu=N`: the whole engine for 20,000 users with N requests each, one thread. The
//!   difference between N = 40 and N = 20 isolates the per-request decision loop (see BENCHMARKS.md).
//!
//! Run with `cargo bench --bench engine`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use egress_sim::engine::{self, Prepared, SimOptions};
use egress_sim::scenario::{self, Overrides};

fn world(users: u64, rpu: u32) -> egress_sim::world::World {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/three-sites.toml");
    let o = Overrides {
        users: Some(users),
        requests_per_user: Some(rpu),
        seed: None,
    };
    scenario::load(&path, &o)
        .expect("shipped scenario compiles")
        .world
}

fn generate(c: &mut Criterion) {
    let w = world(100_000, 1);
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
    g.finish();
}

fn simulate(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    for rpu in [20u32, 40] {
        let w = world(20_000, rpu);
        g.throughput(Throughput::Elements(w.users * rpu as u64));
        g.bench_with_input(BenchmarkId::new("rpu", rpu), &w, |b, w| {
            let opts = SimOptions {
                threads: 1,
                per_user: false,
            };
            b.iter(|| engine::simulate(w, &opts, &|_| {}, &mut |_| Ok(())).expect("simulates"))
        });
    }
    g.finish();
}

criterion_group!(benches, generate, simulate);
criterion_main!(benches);
