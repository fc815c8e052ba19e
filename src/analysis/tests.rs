//! The results layer on real scenarios: one ranking behind every output, findings and capacity
//! figures consistent across tables, charts and the report's figures.

use super::*;
use crate::engine::{self, SimOptions};
use crate::report::terminal::{Summary, Timings};
use crate::scenario::{self, Overrides};
use crate::world::Sweep;

fn simulate(path: &str, users: u64) -> (World, Metrics) {
    let overrides = Overrides {
        users: Some(users),
        sweep: Some(Sweep::N1),
        ..Overrides::default()
    };
    let world = scenario::load(std::path::Path::new(path), &overrides)
        .unwrap_or_else(|e| panic!("{e}"))
        .world;
    let m = engine::simulate(&world, &SimOptions::default(), &|_| {}, &mut |_| Ok(())).unwrap();
    (world, m)
}

fn results<'w>(world: &'w World, m: &Metrics) -> Results<'w> {
    Results::compute(world, m, RunInfo::now()).unwrap()
}

#[test]
fn one_ranking_drives_every_output() {
    let (world, m) = simulate("scenarios/finance-and-qa.toml", 3000);
    let r = results(&world, &m);
    let names = |cases: &[usize]| -> Vec<String> {
        cases.iter().map(|&c| world.cases[c].name.clone()).collect()
    };
    assert!(r.ranked.len() > 10, "the sweep adds cases");
    // One order: by harm to everyone, then to the population hit hardest.
    let harm: Vec<(f64, f64)> = r
        .ranked
        .iter()
        .map(|&c| {
            let h = ranking::Harm::of_case(&r.cases[c]);
            (h.overall, h.worst_population)
        })
        .collect();
    assert!(harm.windows(2).all(|w| w[0] >= w[1]), "{harm:?}");
    // The cases with an effect are the ranking minus the cases that change nothing, in order.
    let kept: Vec<usize> = r
        .ranked
        .iter()
        .copied()
        .filter(|&c| r.cases[c].changes_something())
        .collect();
    assert_eq!(r.with_effect, kept);
    assert!(r.without_effect() > 0 && !r.with_effect.is_empty());
    // The heatmap rows and the failover CDF lines follow that ranking and leave out (and count)
    // the cases that change nothing.
    let shown = r.with_effect.len().min(40);
    assert_eq!(r.charts.heat_cases, names(&r.with_effect[..shown]));
    assert_eq!(r.charts.heat_unchanged, r.without_effect());
    let harmful: Vec<usize> = r
        .with_effect
        .iter()
        .copied()
        .filter(|&c| r.cases[c].impact.harm_score() > 0.0)
        .take(5)
        .collect();
    let cdf_names: Vec<String> = r.charts.case_cdfs.iter().map(|c| c.name.clone()).collect();
    assert_eq!(cdf_names, names(&harmful));
    // The terminal lists the same cases in the same order.
    let text = Summary {
        timings: Timings::default(),
        dir: "out".into(),
    }
    .render(&r);
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("most harmful first"))
        .skip_while(|l| !l.trim_start().starts_with("case "))
        .skip(1)
        .take_while(|l| l.starts_with("  ") && !l.contains('…'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let expected = names(&r.with_effect[..listed.len()]);
    assert_eq!(listed, expected);
    assert!(!listed.is_empty());
    assert!(
        text.contains(&format!("{} change nothing", r.without_effect())),
        "{text}"
    );
}

#[test]
fn every_heatmap_row_changes_something() {
    let (world, m) = simulate("scenarios/three-sites.toml", 3000);
    let r = results(&world, &m);
    // Every row shows something in its own cells (one per population): the p95 of all requests
    // is not a heatmap cell.
    let np = r.charts.heat_populations.len();
    for (k, name) in r.charts.heat_cases.iter().enumerate() {
        let visible = r.charts.heat[k * np..(k + 1) * np].iter().any(|cell| {
            cell.dropped_share + cell.blocked_share + cell.violation_share > 0.0
                || human::ms_change_shows(values::Ms(cell.p95_change_ms).rounded())
        });
        assert!(visible, "{name}: every cell reads ±0.0 ms");
    }
    // Most of the flagship's sweep (data centers serving a handful of users) changes nothing.
    assert!(
        r.without_effect() > r.with_effect.len(),
        "{}",
        r.without_effect()
    );
}

#[test]
fn the_worst_single_failure_is_a_single_failure() {
    let (world, m) = simulate("scenarios/three-sites.toml", 3000);
    let r = results(&world, &m);
    let (c, single) = r.worst_failure().unwrap();
    assert!(single && ranking::is_single_failure(&world.cases[c]));
    // The regional case is worse, but it is not a single failure.
    let top = r.ranked[0];
    assert!(!ranking::is_single_failure(&world.cases[top]));
    assert!(r.cases[top].impact.harm_score() > r.cases[c].impact.harm_score());
}

#[test]
fn worst_failure_findings_are_each_populations_most_harmful_case() {
    let (world, m) = simulate("scenarios/three-sites.toml", 3000);
    let r = results(&world, &m);
    for f in r.findings.iter().filter(|f| f.kind == "worst_failure") {
        let p = world.population_index(&f.entity).unwrap();
        let c = world.cases.iter().position(|c| c.name == f.case).unwrap();
        let harm = r.cases[c].populations[p].harm_score();
        let single = |c: usize| ranking::is_single_failure(&world.cases[c]);
        for (other, fig) in r.cases.iter().enumerate().skip(1) {
            if single(other) || !single(c) {
                assert!(
                    fig.populations[p].harm_score() <= harm,
                    "{} vs {}",
                    other,
                    c
                );
            }
        }
    }
    // redundancy.csv is the findings, in order.
    assert_eq!(r.tables.redundancy.len(), r.findings.len());
    for (row, f) in r.tables.redundancy.iter().zip(&r.findings) {
        assert_eq!((row.finding.as_str(), &row.detail), (f.kind, &f.detail));
    }
}

#[test]
fn capacity_figures_agree_across_tables_and_charts() {
    let (world, m) = simulate("scenarios/finance-and-qa.toml", 3000);
    let r = results(&world, &m);
    let highest = r.capacity.highest().unwrap();
    let max_row = r
        .tables
        .capacity
        .iter()
        .filter_map(|row| row.worst_utilization.0)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(highest.utilization, max_row);
    for (e, bar) in r.charts.capacity.iter().enumerate() {
        let rows = r
            .tables
            .capacity
            .iter()
            .filter(|row| row.egress == bar.egress_id);
        let worst = rows
            .clone()
            .filter_map(|row| row.origin_connections_v4.0)
            .fold(0.0, f64::max);
        assert_eq!(bar.worst_peak, worst);
        let baseline_peak = rows
            .filter(|row| row.case == "baseline")
            .filter_map(|row| row.origin_connections_v4.0)
            .fold(0.0, f64::max);
        assert_eq!(bar.baseline_peak, baseline_peak);
        let load = &r.tables.egress_load[e];
        assert_eq!(
            load.peak_origin_utilization.0,
            Some(baseline_peak / bar.limit)
        );
    }
}

#[test]
fn load_bars_are_the_baseline_rows_of_egress_load() {
    let (world, m) = simulate("scenarios/finance-and-qa.toml", 2000);
    let r = results(&world, &m);
    let baseline: Vec<_> = r
        .tables
        .egress_load
        .iter()
        .filter(|row| row.case == "baseline")
        .filter(|row| !row.datacenter.is_empty() || row.requests > 0)
        .collect();
    assert_eq!(r.charts.load.len(), baseline.len());
    for (bar, row) in r.charts.load.iter().zip(baseline) {
        assert_eq!(
            (&bar.egress_id, bar.requests, bar.users),
            (&row.egress, row.requests, row.users)
        );
    }
}

#[test]
fn typical_trips_are_traces_and_add_up() {
    let (world, m) = simulate("scenarios/three-sites.toml", 1000);
    let r = results(&world, &m);
    assert_eq!(r.typical.len(), world.populations.len());
    for trip in r.typical.iter().flatten() {
        let parts: f64 = trip.parts.iter().filter_map(|p| p.0).sum();
        let total = trip.total.0.unwrap();
        assert!((parts - total).abs() < 1e-9, "{parts} vs {total}");
        assert!(trip.parts[0].0.unwrap() > 0.0, "access is part of the trip");
    }
}

#[test]
fn the_typical_user_is_the_median_of_an_even_sample() {
    let (world, m) = simulate("scenarios/three-sites.toml", 3000);
    let r = results(&world, &m);
    let tracer = crate::engine::trace::Tracer::new(&world);
    let crm = world
        .resources
        .iter()
        .position(|x| x.name == "crm-saas")
        .unwrap();
    for (pop, trip) in world.populations.iter().zip(&r.typical) {
        let trip = trip.as_ref().unwrap();
        let n = pop.users.min(typical::SAMPLE);
        assert_eq!(trip.sampled, n);
        let mut totals: Vec<f64> = (0..n)
            .filter_map(|k| {
                let t = tracer.trace(pop.first_user + k * pop.users / n, 0);
                t.destination(crm, false)?
                    .rtt
                    .as_ref()
                    .map(|b| b.total_ms())
            })
            .collect();
        totals.sort_by(f64::total_cmp);
        let median = totals[(totals.len() - 1) / 2];
        assert_eq!(trip.total.0, Some(median), "{}", pop.name);
        assert!((pop.first_user..pop.first_user + pop.users).contains(&trip.user));
    }
}
