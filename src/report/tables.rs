//! CSV tables: tidy (one row per entity per case), snake_case headers, units in column names, stable
//! row order, fixed decimal places so identical metrics always print identical bytes.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::engine::{Cell, Metrics, Outcome, UserRow};
use crate::error::{Error, Result};
use crate::world::World;

/// One CSV file being written: header first, rows in order, flushed on `finish`.
pub(super) struct Table {
    path: PathBuf,
    w: csv::Writer<BufWriter<File>>,
}

impl Table {
    pub(super) fn create<S: AsRef<str>>(dir: &Path, name: &str, header: &[S]) -> Result<Self> {
        let path = dir.join(name);
        let f = File::create(&path)
            .map_err(|e| Error::io(format!("cannot create `{}`", path.display()), e))?;
        let mut t = Table {
            w: csv::Writer::from_writer(BufWriter::new(f)),
            path,
        };
        t.row(
            &header
                .iter()
                .map(|h| h.as_ref().to_string())
                .collect::<Vec<_>>(),
        )?;
        Ok(t)
    }

    pub(super) fn row(&mut self, fields: &[String]) -> Result<()> {
        self.w.write_record(fields).map_err(|e| {
            Error::io(
                format!("cannot write `{}`", self.path.display()),
                std::io::Error::other(e),
            )
        })
    }

    pub(super) fn finish(mut self) -> Result<PathBuf> {
        self.w
            .flush()
            .map_err(|e| Error::io(format!("cannot write `{}`", self.path.display()), e))?;
        Ok(self.path)
    }
}

pub(super) fn ms(v: Option<f64>) -> String {
    v.map_or_else(String::new, |x| format!("{x:.3}"))
}

pub(super) fn share(n: u64, d: u64) -> String {
    if d == 0 {
        String::new()
    } else {
        format!("{:.6}", n as f64 / d as f64)
    }
}

fn km_mean(m: u64, n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("{:.1}", m as f64 / n as f64 / 1000.0)
    }
}

pub(super) fn strings<const N: usize>(a: [&str; N]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Name of an egress slot in tables: the egress id, `default` or `dropped`.
pub fn slot_name(world: &World, slot: usize) -> String {
    match slot.checked_sub(world.egress.len()) {
        None => world.egress[slot].id.clone(),
        Some(0) => "default".into(),
        Some(_) => "dropped".into(),
    }
}

/// Percentile columns for a cell.
fn percentiles(c: &Cell, qs: &[f64]) -> Vec<String> {
    qs.iter().map(|q| ms(c.rtt.quantile_ms(*q))).collect()
}

/// Writes every CSV table into `dir`, returning the paths.
pub fn write_tables(dir: &Path, world: &World, m: &Metrics) -> Result<Vec<PathBuf>> {
    Ok(vec![
        summary(dir, world, m)?,
        egress_load(dir, world, m)?,
        populations(dir, world, m)?,
        latency_histogram(dir, world, m)?,
        capacity(dir, world, m)?,
        policies(dir, world, m)?,
        resources(dir, world, m)?,
        super::failover_tables::failover(dir, world, m)?,
        super::failover_tables::redundancy(dir, world, m)?,
    ])
}

/// Short description of a policy's action for tables.
pub fn action_text(world: &World, a: &crate::policy::Action) -> String {
    use crate::policy::{Action, Fallback};
    match a {
        Action::DefaultEgress => "default egress".into(),
        Action::Dedicated {
            ipv4,
            fallback,
            ipv6,
        } => {
            let id = |e: &u16| world.egress[*e as usize].id.as_str();
            let mut s = format!("dedicated ipv4={}", id(ipv4));
            match fallback {
                Fallback::None => {}
                Fallback::Egress(f) => s.push_str(&format!(" fallback={}", id(f))),
                Fallback::DefaultEgress => s.push_str(" fallback=default"),
            }
            if ipv6 != ipv4 {
                s.push_str(&format!(" ipv6={}", id(ipv6)));
            }
            s
        }
    }
}

fn policies(dir: &Path, world: &World, m: &Metrics) -> Result<PathBuf> {
    let mut header = strings([
        "case",
        "policy",
        "precedence",
        "enabled",
        "action",
        "users",
        "requests",
        "request_share",
    ]);
    header.extend(
        Outcome::ALL
            .iter()
            .map(|o| format!("{}_requests", o.name())),
    );
    header.extend(strings([
        "blocked_requests",
        "geography_violations",
        "rtt_p50_ms",
        "rtt_p95_ms",
    ]));
    let mut t = Table::create(dir, "policies.csv", &header)?;
    for ci in 0..m.cases {
        let all = m.total(ci, None, None).requests;
        for ps in 0..m.policy_slots {
            let c = &m.policy_cells[m.policy_index(ci, ps)];
            let mut r = vec![world.cases[ci].name.clone()];
            match world.policies.get(ps) {
                Some(p) => r.extend([
                    p.name.clone(),
                    p.precedence.to_string(),
                    p.enabled.to_string(),
                    action_text(world, &p.action),
                ]),
                None => r.extend([
                    "unmatched".into(),
                    String::new(),
                    String::new(),
                    "nearest dedicated location".into(),
                ]),
            }
            r.extend([
                c.users.to_string(),
                c.requests.to_string(),
                share(c.requests, all),
            ]);
            r.extend(
                Outcome::ALL
                    .iter()
                    .map(|o| c.outcomes[*o as usize].to_string()),
            );
            r.push(c.blocked.to_string());
            r.push(c.violations.to_string());
            r.extend(percentiles(c, &[0.5, 0.95]));
            t.row(&r)?;
        }
    }
    t.finish()
}

fn resources(dir: &Path, world: &World, m: &Metrics) -> Result<PathBuf> {
    let mut t = Table::create(
        dir,
        "resources.csv",
        &strings([
            "case",
            "resource",
            "egress",
            "requests",
            "allowed_requests",
            "blocked_requests",
            "rtt_p50_ms",
            "rtt_p95_ms",
        ]),
    )?;
    for ci in 0..m.cases {
        for (ri, res) in world.resources.iter().enumerate() {
            for s in 0..m.slots {
                let c = &m.resource_cells[m.resource_index(ci, s, ri)];
                if c.requests == 0 {
                    continue;
                }
                let mut r = vec![
                    world.cases[ci].name.clone(),
                    res.name.clone(),
                    slot_name(world, s),
                    c.requests.to_string(),
                    (c.delivered() - c.blocked).to_string(),
                    c.blocked.to_string(),
                ];
                r.extend(percentiles(c, &[0.5, 0.95]));
                t.row(&r)?;
            }
        }
    }
    t.finish()
}

fn summary(dir: &Path, world: &World, m: &Metrics) -> Result<PathBuf> {
    let mut header = strings([
        "case",
        "users",
        "requests",
        "rtt_mean_ms",
        "rtt_p50_ms",
        "rtt_p90_ms",
        "rtt_p95_ms",
        "rtt_p99_ms",
        "apparent_country_mismatch_share",
        "apparent_continent_mismatch_share",
        "apparent_distance_mean_km",
    ]);
    header.extend(Outcome::ALL.iter().map(|o| format!("{}_share", o.name())));
    header.extend(strings([
        "blocked_share",
        "geography_violation_share",
        "users_egress_changed",
        "requests_rerouted_share",
        "rtt_p95_change_ms",
        "description",
    ]));
    let mut table = Table::create(dir, "summary.csv", &header)?;
    let base = m.total(0, None, None);
    for (ci, case) in world.cases.iter().enumerate() {
        let t = m.total(ci, None, None);
        let delivered = t.delivered();
        let mut r = vec![
            case.name.clone(),
            world.users.to_string(),
            t.requests.to_string(),
            ms(t.rtt_mean_ms()),
        ];
        r.extend(percentiles(&t, &[0.5, 0.9, 0.95, 0.99]));
        r.push(share(t.country_mismatch, delivered));
        r.push(share(t.continent_mismatch, delivered));
        r.push(km_mean(t.apparent_distance_m, delivered));
        r.extend(
            Outcome::ALL
                .iter()
                .map(|o| share(t.outcomes[*o as usize], t.requests)),
        );
        r.push(share(t.blocked, t.requests));
        r.push(share(t.violations, t.requests));
        let moved = (0..m.populations).fold((0u64, 0u64), |(u, q), p| {
            let s = m.shift(ci, p);
            (u + s.users_egress_changed, q + s.requests_rerouted)
        });
        r.push(moved.0.to_string());
        r.push(share(moved.1, t.requests));
        r.push(ms(t
            .rtt
            .quantile_ms(0.95)
            .zip(base.rtt.quantile_ms(0.95))
            .map(|(a, b)| a - b)));
        r.push(case.description.clone());
        table.row(&r)?;
    }
    table.finish()
}

/// Slots that appear in per-egress tables: every egress IP, plus default/dropped when used in any case.
fn reported_slots(world: &World, m: &Metrics) -> Vec<usize> {
    let mut slots: Vec<usize> = (0..world.egress.len()).collect();
    for s in [m.default_slot(), m.dropped_slot()] {
        if (0..m.cases).any(|c| m.total(c, None, Some(s)).requests > 0) {
            slots.push(s);
        }
    }
    slots
}

fn egress_load(dir: &Path, world: &World, m: &Metrics) -> Result<PathBuf> {
    let catalog = Catalog::embedded();
    let mut table = Table::create(
        dir,
        "egress_load.csv",
        &strings([
            "case",
            "egress",
            "datacenter",
            "city",
            "country",
            "ipv4",
            "users",
            "requests",
            "request_share",
            "rtt_mean_ms",
            "rtt_p50_ms",
            "rtt_p95_ms",
            "rtt_p99_ms",
            "blocked_requests",
            "connections_v4",
            "connections_v6",
            "connection_limit",
            "peak_origin_utilization",
        ]),
    )?;
    for ci in 0..m.cases {
        let all = m.total(ci, None, None).requests;
        for s in reported_slots(world, m) {
            let t = m.total(ci, None, Some(s));
            let mut r = vec![world.cases[ci].name.clone(), slot_name(world, s)];
            if let Some(e) = world.egress.get(s) {
                let dc = &world.datacenters[e.datacenter as usize];
                r.extend([
                    dc.code.clone(),
                    dc.city.clone(),
                    catalog.country(dc.country).iso2.clone(),
                    e.ipv4.to_string(),
                ]);
            } else {
                r.extend([String::new(), String::new(), String::new(), String::new()]);
            }
            r.extend([
                t.users.to_string(),
                t.requests.to_string(),
                share(t.requests, all),
                ms(t.rtt_mean_ms()),
            ]);
            r.extend(percentiles(&t, &[0.5, 0.95, 0.99]));
            r.push(t.blocked.to_string());
            if let Some(e) = world.egress.get(s) {
                let (mut v4, mut v6, mut peak) = (0u64, 0u64, 0u64);
                for res in 0..m.resources {
                    let i = m.connection_index(ci, s, res);
                    v4 += m.connections_v4_micro[i];
                    v6 += m.connections_v6_micro[i];
                    peak = peak.max(m.connections_v4_micro[i]);
                }
                r.extend([
                    format!("{:.1}", v4 as f64 / 1e6),
                    format!("{:.1}", v6 as f64 / 1e6),
                    e.connection_limit.to_string(),
                    format!("{:.6}", peak as f64 / 1e6 / e.connection_limit as f64),
                ]);
            } else {
                r.extend([String::new(), String::new(), String::new(), String::new()]);
            }
            table.row(&r)?;
        }
    }
    table.finish()
}

fn populations(dir: &Path, world: &World, m: &Metrics) -> Result<PathBuf> {
    let mut t = Table::create(
        dir,
        "populations.csv",
        &strings([
            "case",
            "population",
            "egress",
            "users",
            "requests",
            "rtt_mean_ms",
            "rtt_p50_ms",
            "rtt_p90_ms",
            "rtt_p95_ms",
            "rtt_p99_ms",
            "apparent_country_mismatch_share",
            "apparent_distance_mean_km",
        ]),
    )?;
    for ci in 0..m.cases {
        for (pi, p) in world.populations.iter().enumerate() {
            for s in 0..m.slots {
                let c = m.cell(ci, pi, s);
                if c.requests == 0 {
                    continue;
                }
                let mut r = vec![
                    world.cases[ci].name.clone(),
                    p.name.clone(),
                    slot_name(world, s),
                    c.users.to_string(),
                    c.requests.to_string(),
                    ms(c.rtt_mean_ms()),
                ];
                r.extend(percentiles(c, &[0.5, 0.9, 0.95, 0.99]));
                r.push(share(c.country_mismatch, c.delivered()));
                r.push(km_mean(c.apparent_distance_m, c.delivered()));
                t.row(&r)?;
            }
        }
    }
    t.finish()
}

fn latency_histogram(dir: &Path, world: &World, m: &Metrics) -> Result<PathBuf> {
    let mut t = Table::create(
        dir,
        "latency_histogram.csv",
        &strings([
            "case",
            "population",
            "rtt_lower_ms",
            "rtt_upper_ms",
            "requests",
        ]),
    )?;
    for ci in 0..m.cases {
        for (pi, p) in world.populations.iter().enumerate() {
            let total = m.total(ci, Some(pi), None);
            for (lo, hi, n) in total.rtt.buckets() {
                t.row(&[
                    world.cases[ci].name.clone(),
                    p.name.clone(),
                    format!("{lo:.3}"),
                    format!("{hi:.3}"),
                    n.to_string(),
                ])?;
            }
        }
    }
    t.finish()
}

fn capacity(dir: &Path, world: &World, m: &Metrics) -> Result<PathBuf> {
    let mut t = Table::create(
        dir,
        "capacity.csv",
        &strings([
            "case",
            "egress",
            "resource",
            "requests",
            "connections_v4",
            "connections_v6",
            "connection_limit",
            "utilization",
            "headroom",
            "worst_case",
            "worst_connections_v4",
            "worst_utilization",
        ]),
    )?;
    let conns = |c: usize, e: usize, r: usize| {
        m.connections_v4_micro[m.connection_index(c, e, r)] as f64 / 1e6
    };
    for ci in 0..m.cases {
        for (e, eg) in world.egress.iter().enumerate() {
            let limit = eg.connection_limit as f64;
            for (ri, res) in world.resources.iter().enumerate() {
                let i = m.connection_index(ci, e, ri);
                let v4 = m.connections_v4_micro[i] as f64 / 1e6;
                // The case loading this pair most (first such case on ties, so the baseline wins them).
                let worst = (0..m.cases).fold(0, |w, c| {
                    if conns(c, e, ri) > conns(w, e, ri) {
                        c
                    } else {
                        w
                    }
                });
                t.row(&[
                    world.cases[ci].name.clone(),
                    eg.id.clone(),
                    res.name.clone(),
                    m.resource_cells[m.resource_index(ci, e, ri)]
                        .requests
                        .to_string(),
                    format!("{v4:.1}"),
                    format!("{:.1}", m.connections_v6_micro[i] as f64 / 1e6),
                    eg.connection_limit.to_string(),
                    format!("{:.6}", v4 / limit),
                    format!("{:.1}", limit - v4),
                    world.cases[worst].name.clone(),
                    format!("{:.1}", conns(worst, e, ri)),
                    format!("{:.6}", conns(worst, e, ri) / limit),
                ])?;
            }
        }
    }
    t.finish()
}

/// Streams `users.csv` while the simulation runs.
pub struct UserWriter<'w> {
    world: &'w World,
    table: Table,
}

impl<'w> UserWriter<'w> {
    /// Creates `users.csv` in `dir` and writes its header.
    pub fn create(dir: &Path, world: &'w World) -> Result<Self> {
        let table = Table::create(
            dir,
            "users.csv",
            &strings([
                "case",
                "user",
                "population",
                "lat",
                "lon",
                "country",
                "ingress",
                "egress",
                "rtt_mean_ms",
            ]),
        )?;
        Ok(Self { world, table })
    }

    /// Appends rows.
    pub fn write(&mut self, rows: &[UserRow]) -> Result<()> {
        let catalog = Catalog::embedded();
        for r in rows {
            let rec = [
                self.world.cases[r.case as usize].name.clone(),
                r.user.to_string(),
                self.world.populations[r.population as usize].name.clone(),
                format!("{:.5}", r.lat),
                format!("{:.5}", r.lon),
                catalog.country(r.country).iso2.clone(),
                r.ingress.map_or_else(String::new, |d| {
                    self.world.datacenters[d as usize].code.clone()
                }),
                slot_name(self.world, r.slot as usize),
                ms(r.rtt_mean_ms),
            ];
            self.table.row(&rec)?;
        }
        Ok(())
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> Result<PathBuf> {
        self.table.finish()
    }
}
