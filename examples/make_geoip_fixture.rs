//! Writes the synthetic GeoIP database and user list of `scenarios/from-user-list.toml`:
//!
//! - `scenarios/from-user-list/synthetic-city.mmdb`: a tiny MaxMind DB in the GeoIP2 City layout
//!   (IPv6 tree with IPv4 networks), made up here: the networks were picked arbitrarily and say
//!   nothing about who really uses those addresses; places come from the crate's GeoNames catalog.
//! - `scenarios/from-user-list/users.csv`: 300 made-up users spread over those networks, plus a few
//!   whose address is private, carrier-grade NAT, not in the database, or known only by country.
//!
//! Deterministic: running it again writes identical files.
//!
//!     cargo run --example make_geoip_fixture

use std::fmt::Write as _;
use std::path::Path;

use egress_sim::geoip::testdb::{city_record, country_record};
use egress_sim::geoip::writer::Writer;

/// (city, ISO2, country name, continent, lat, lon, accuracy km, IPv4 /16, IPv6 /32, user weight)
/// (city, ISO2, country name, continent, lat, lon, accuracy km, IPv4 /16, IPv6 /32, user weight)
type Place = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
    u16,
    &'static str,
    Option<&'static str>,
    u32,
);

const PLACES: &[Place] = &[
    (
        "London",
        "GB",
        "United Kingdom",
        "EU",
        51.5085,
        -0.1257,
        20,
        "81.2.0.0",
        Some("2a02:c7c::"),
        40,
    ),
    (
        "Manchester",
        "GB",
        "United Kingdom",
        "EU",
        53.4809,
        -2.2374,
        50,
        "86.128.0.0",
        None,
        12,
    ),
    (
        "Berlin",
        "DE",
        "Germany",
        "EU",
        52.5244,
        13.4105,
        20,
        "91.64.0.0",
        Some("2a02:8100::"),
        22,
    ),
    (
        "Frankfurt am Main",
        "DE",
        "Germany",
        "EU",
        50.1155,
        8.6842,
        50,
        "93.128.0.0",
        None,
        14,
    ),
    (
        "Paris",
        "FR",
        "France",
        "EU",
        48.8534,
        2.3488,
        20,
        "90.0.0.0",
        Some("2a01:cb00::"),
        24,
    ),
    (
        "Amsterdam",
        "NL",
        "The Netherlands",
        "EU",
        52.374,
        4.8897,
        10,
        "145.130.0.0",
        None,
        14,
    ),
    (
        "New York City",
        "US",
        "United States",
        "NA",
        40.7143,
        -74.006,
        50,
        "24.24.0.0",
        Some("2600:1000::"),
        36,
    ),
    (
        "Chicago",
        "US",
        "United States",
        "NA",
        41.85,
        -87.65,
        100,
        "73.44.0.0",
        None,
        16,
    ),
    (
        "San Francisco",
        "US",
        "United States",
        "NA",
        37.7749,
        -122.4194,
        20,
        "73.162.0.0",
        Some("2601:640::"),
        22,
    ),
    (
        "Toronto",
        "CA",
        "Canada",
        "NA",
        43.7001,
        -79.4163,
        50,
        "99.224.0.0",
        None,
        10,
    ),
    (
        "São Paulo",
        "BR",
        "Brazil",
        "SA",
        -23.5475,
        -46.6361,
        100,
        "177.32.0.0",
        None,
        12,
    ),
    (
        "Tokyo",
        "JP",
        "Japan",
        "AS",
        35.6895,
        139.6917,
        20,
        "126.0.0.0",
        Some("2400:4050::"),
        20,
    ),
    (
        "Bengaluru",
        "IN",
        "India",
        "AS",
        12.9719,
        77.5937,
        200,
        "49.204.0.0",
        None,
        18,
    ),
    (
        "Singapore",
        "SG",
        "Singapore",
        "AS",
        1.2897,
        103.8501,
        10,
        "116.14.0.0",
        None,
        10,
    ),
    (
        "Sydney",
        "AU",
        "Australia",
        "OC",
        -33.8678,
        151.2073,
        50,
        "1.128.0.0",
        None,
        10,
    ),
];

/// A network the database knows only by country (no coordinates): Ireland.
const COUNTRY_ONLY: (&str, &str, &str, &str) = ("5.39.0.0", "IE", "Ireland", "EU");

const FIRST: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Radia",
    "Tim",
    "Frances",
    "Donald",
    "Sophie",
    "Edsger",
    "Hedy",
    "John",
    "Katherine",
    "Niklaus",
    "Joan",
    "Vint",
    "Shafi",
    "Leslie",
    "Anita",
    "Bjarne",
    "Mary",
    "Guido",
    "Lynn",
    "Yukihiro",
    "Adele",
    "Whitfield",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Perlman",
    "Berners-Lee",
    "Allen",
    "Knuth",
    "Wilson",
    "Dijkstra",
    "Lamarr",
    "Backus",
    "Johnson",
    "Wirth",
    "Clarke",
    "Cerf",
    "Goldwasser",
    "Lamport",
    "Borg",
    "Stroustrup",
    "Keller",
    "Rossum",
    "Conway",
    "Matsumoto",
    "Goldberg",
    "Diffie",
];

/// SplitMix64: a fixed stream so the files are reproducible.
struct Stream(u64);
impl Stream {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        egress_sim::users::mix64(self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/from-user-list");
    std::fs::create_dir_all(&dir)?;

    let mut w = Writer::new("Synthetic-City", 6);
    w.description("synthetic GeoIP2-City-shaped test data for egress-sim (made-up networks)");
    for &(city, iso, country, continent, lat, lon, radius, v4, v6, _) in PLACES {
        let r = w.add_record(city_record(
            city,
            (iso, country),
            continent,
            lat,
            lon,
            radius,
        ));
        w.insert(v4.parse()?, 16, r)?;
        if let Some(v6) = v6 {
            w.insert(v6.parse()?, 32, r)?;
        }
    }
    let (net, iso, name, continent) = COUNTRY_ONLY;
    let r = w.add_record(country_record((iso, name), continent));
    w.insert(net.parse()?, 16, r)?;
    std::fs::write(dir.join("synthetic-city.mmdb"), w.to_bytes())?;

    let mut s = Stream(2024);
    let mut csv = String::from(
        "email,name,groups,ip,virtual_network,posture_passed,ipv6_capable,connections\n",
    );
    let total_weight: u32 = PLACES.iter().map(|p| p.9).sum();
    let mut used = std::collections::HashSet::new();
    let row = |s: &mut Stream,
               csv: &mut String,
               used: &mut std::collections::HashSet<(&str, &str)>,
               ip: String,
               place: Option<&str>| {
        let (first, last) = loop {
            let f = FIRST[s.below(FIRST.len() as u64) as usize];
            let l = LAST[s.below(LAST.len() as u64) as usize];
            if used.insert((f, l)) {
                break (f, l);
            }
        };
        let email = format!(
            "{}.{}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let mut groups = Vec::new();
        let team = [
            "engineering",
            "engineering",
            "sales",
            "support",
            "finance",
            "qa",
        ][s.below(6) as usize];
        groups.push(team);
        if team != "finance" && s.chance(0.05) {
            groups.push("finance");
        }
        let vnet = if team == "qa" {
            if place.is_some_and(|p| p == "US" || p == "CA") {
                "qa-washington"
            } else {
                ["qa-london", "qa-washington"][s.below(2) as usize]
            }
        } else {
            ""
        };
        let mut posture = Vec::new();
        if s.chance(0.92) {
            posture.push("disk-encryption");
        }
        if s.chance(0.75) {
            posture.push("firewall");
        }
        let v6 = if ip.contains(':') {
            "true"
        } else {
            ["", "", "false", "true"][s.below(4) as usize]
        };
        let conns = if s.chance(0.1) { "12" } else { "" };
        let _ = writeln!(
            csv,
            "{email},{first} {last},{},{ip},{vnet},{},{v6},{conns}",
            groups.join(";"),
            posture.join(";")
        );
    };
    // Ada works in London from the office range, so the README's examples can name her.
    for i in 0..300u32 {
        let mut pick = s.below(u64::from(total_weight)) as u32;
        let place = PLACES
            .iter()
            .find(|p| {
                if pick < p.9 {
                    true
                } else {
                    pick -= p.9;
                    false
                }
            })
            .unwrap_or(&PLACES[0]);
        let ip = match place.8 {
            Some(v6) if s.chance(0.25) => {
                let base = v6.trim_end_matches("::");
                format!(
                    "{base}:{:x}:{:x}::{:x}",
                    s.below(0xffff),
                    s.below(0xffff),
                    1 + s.below(0xfffe)
                )
            }
            _ => {
                let base: Vec<&str> = place.7.split('.').collect();
                format!(
                    "{}.{}.{}.{}",
                    base[0],
                    base[1],
                    s.below(256),
                    1 + s.below(254)
                )
            }
        };
        if i == 0 {
            csv.push_str("ada.lovelace@example.com,Ada Lovelace,finance;engineering,81.2.69.160,,disk-encryption;firewall,true,\n");
            used.insert(("Ada", "Lovelace"));
        }
        row(&mut s, &mut csv, &mut used, ip, Some(place.1));
    }
    // Users the database cannot place: home routers behind private or CGNAT addresses (a VPN
    // export sometimes has these), addresses the database lacks, and one known only by country.
    for ip in [
        "10.20.30.40",
        "192.168.1.50",
        "172.16.8.9",
        "100.64.3.2",
        "45.90.1.1",
        "2c0f:f248::1",
        "5.39.10.20",
        "5.39.200.7",
    ] {
        row(&mut s, &mut csv, &mut used, ip.to_string(), None);
    }
    std::fs::write(dir.join("users.csv"), csv)?;
    println!("wrote {}", dir.display());
    Ok(())
}
