//! GeoIP lookups on a realistic-size database, one thread.
//!
//! The database is built in memory at bench time by the crate's test writer (no download): GeoLite2
//! City's record layout (names in eight languages, location, postal, registered country, subdivisions,
//! shared sub-records behind pointers) and a comparable size: 2,600,000 networks (2,000,000 IPv4 of
//! /18 to /28, 600,000 IPv6 of /29 to /48) in an IPv6 tree, over 20,000 distinct city records.
//! Lookups go to 200,000 random addresses inside random networks, in random order, so most of the
//! tree and data section walked is not in cache, as with real users.
//!
//! - `geoip/lookup`: `GeoDb::lookup` one address after another (reserved-range check, tree walk,
//!   decoding country, continent, city name, coordinates and accuracy radius), lookups/s;
//! - `geoip/lookup_all`: the same 200,000 addresses in one `GeoDb::lookup_all` call (what placing a
//!   user list uses: numeric order, each record decoded once), lookups/s including the sort;
//! - `geoip/resolve_list`: placing a 200,000-user list (`geoip::resolve`), users/s.
//!
//! Run with `cargo bench --bench geoip`.

use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use egress_sim::geoip::{self, testdb, GeoDb, ListingSettings, Resolver, UserList, UserRow};

struct NoNames;
impl Resolver for NoNames {
    fn group(&mut self, _: &str) -> Option<u16> {
        Some(0)
    }
    fn posture(&mut self, _: &str) -> Option<u8> {
        Some(0)
    }
    fn vnet(&mut self, _: &str) -> u16 {
        0
    }
}

fn bench(c: &mut Criterion) {
    let t = Instant::now();
    let (bytes, ips) = testdb::realistic(2_000_000, 600_000, 20_000, 200_000);
    let size = bytes.len();
    let db = GeoDb::from_bytes(bytes, Path::new("realistic.mmdb")).expect("valid database");
    eprintln!(
        "database: {} bytes ({:.1} MB), {}, built and opened in {:.1} s; {} lookup addresses ({} IPv6)",
        size,
        size as f64 / 1e6,
        db.describe(),
        t.elapsed().as_secs_f64(),
        ips.len(),
        ips.iter().filter(|i| i.is_ipv6()).count()
    );
    let located = ips
        .iter()
        .filter(|ip| matches!(db.lookup(**ip), Ok(Ok(r)) if r.location.is_some()))
        .count();
    assert_eq!(located, ips.len(), "every sampled address is located");

    let mut g = c.benchmark_group("geoip");
    g.sample_size(20);
    g.throughput(Throughput::Elements(ips.len() as u64));
    g.bench_function("lookup", |b| {
        b.iter(|| {
            let mut acc = 0.0f64;
            for &ip in &ips {
                if let Ok(Ok(r)) = db.lookup(ip) {
                    acc += r.location.map_or(0.0, |l| l.lat)
                        + f64::from(r.accuracy_radius_km.unwrap_or(0));
                }
            }
            acc
        })
    });
    let list = UserList {
        path: "users.csv".into(),
        rows: ips
            .iter()
            .enumerate()
            .map(|(i, &ip): (usize, &IpAddr)| UserRow {
                line: i as u64 + 2,
                email: format!("u{i}@example.com"),
                name: None,
                groups: vec!["staff".into()],
                ip,
                virtual_network: None,
                posture_passed: vec![],
                ipv6_capable: None,
                connections: None,
            })
            .collect(),
        bad_rows: vec![],
    };
    g.bench_function("lookup_all", |b| {
        b.iter(|| {
            let mut acc = 0.0f64;
            for r in db
                .lookup_all(&ips)
                .expect("valid database")
                .into_iter()
                .flatten()
            {
                acc += r.location.map_or(0.0, |l| l.lat)
                    + f64::from(r.accuracy_radius_km.unwrap_or(0));
            }
            acc
        })
    });
    g.bench_function("resolve_list", |b| {
        b.iter_batched(
            || list.clone(),
            |l| {
                geoip::resolve(l, &db, &ListingSettings::default(), &mut NoNames)
                    .expect("resolves")
                    .users
                    .len()
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
