//! Synthetic MaxMind-format databases for tests, benchmarks and the shipped example. Not part of the
//! supported API. No real MaxMind data is used: networks and places are made up (places come from the
//! crate's GeoNames catalog), only the record layout follows GeoIP2 City and Country.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::reserved::classify;
use super::writer::{Value, Writer};
use crate::catalog::Catalog;

const LANGUAGES: [&str; 8] = ["de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"];

fn names(n: &str) -> Value {
    Value::map(LANGUAGES.iter().map(|l| (*l, Value::str(n))))
}

fn continent_name(code: &str) -> &'static str {
    match code {
        "AF" => "Africa",
        "AN" => "Antarctica",
        "AS" => "Asia",
        "EU" => "Europe",
        "NA" => "North America",
        "OC" => "Oceania",
        _ => "South America",
    }
}

fn country_part(iso: &str, name: &str) -> Value {
    Value::map([
        (
            "geoname_id",
            Value::U32(1000 + u32::from(iso.as_bytes()[0]) * 64),
        ),
        ("iso_code", Value::str(iso)),
        ("names", names(name)),
    ])
}

fn continent_part(code: &str) -> Value {
    Value::map([
        ("code", Value::str(code)),
        ("geoname_id", Value::U32(6_255_146)),
        ("names", names(continent_name(code))),
    ])
}

/// A record in the GeoIP2 City layout (city, continent, country, location, postal,
/// registered_country, subdivisions), with names in eight languages.
pub fn city_record(
    city: &str,
    country: (&str, &str),
    continent: &str,
    lat: f64,
    lon: f64,
    accuracy_radius_km: u16,
) -> Value {
    Value::map([
        (
            "city",
            Value::map([
                ("geoname_id", Value::U32(2_000_000 + city.len() as u32)),
                ("names", names(city)),
            ]),
        ),
        ("continent", continent_part(continent)),
        ("country", country_part(country.0, country.1)),
        (
            "location",
            Value::map([
                ("accuracy_radius", Value::U16(accuracy_radius_km)),
                ("latitude", Value::Double(lat)),
                ("longitude", Value::Double(lon)),
                ("time_zone", Value::str("Etc/UTC")),
            ]),
        ),
        ("postal", Value::map([("code", Value::str("00000"))])),
        ("registered_country", country_part(country.0, country.1)),
        (
            "subdivisions",
            Value::Array(vec![Value::map([
                ("geoname_id", Value::U32(3_000_000)),
                ("iso_code", Value::str("XX")),
                ("names", names("Region")),
            ])]),
        ),
    ])
}

/// A record in the GeoIP2 Country layout.
pub fn country_record(country: (&str, &str), continent: &str) -> Value {
    Value::map([
        ("continent", continent_part(continent)),
        ("country", country_part(country.0, country.1)),
        ("registered_country", country_part(country.0, country.1)),
    ])
}

/// Networks of the small test databases: (network, prefix, city, country, continent, lat, lon,
/// accuracy radius). A `None` city is a record with a country but no coordinates.
type Row = (
    &'static str,
    u8,
    Option<&'static str>,
    (&'static str, &'static str),
    &'static str,
    f64,
    f64,
    u16,
);

const GB: (&str, &str) = ("GB", "United Kingdom");
const DE: (&str, &str) = ("DE", "Germany");
const US: (&str, &str) = ("US", "United States");
const JP: (&str, &str) = ("JP", "Japan");
const FR: (&str, &str) = ("FR", "France");

/// The small test databases' networks.
pub const TEST_NETWORKS: &[Row] = &[
    (
        "81.2.69.0",
        24,
        Some("London"),
        GB,
        "EU",
        51.5074,
        -0.1278,
        20,
    ),
    (
        "81.2.70.0",
        23,
        Some("Manchester"),
        GB,
        "EU",
        53.4808,
        -2.2426,
        50,
    ),
    (
        "2a02:ab00::",
        32,
        Some("Frankfurt am Main"),
        DE,
        "EU",
        50.1109,
        8.6821,
        50,
    ),
    (
        "24.24.0.0",
        14,
        Some("New York"),
        US,
        "NA",
        40.7128,
        -74.006,
        100,
    ),
    (
        "2600:1000::",
        28,
        Some("Los Angeles"),
        US,
        "NA",
        34.0522,
        -118.2437,
        200,
    ),
    (
        "1.178.0.0",
        16,
        Some("Tokyo"),
        JP,
        "AS",
        35.6762,
        139.6503,
        10,
    ),
    ("45.11.0.0", 16, None, FR, "EU", 0.0, 0.0, 0),
    ("2a01:e00::", 26, None, FR, "EU", 0.0, 0.0, 0),
];

/// A network with a record whose country code no catalog knows ("ZZ"), no coordinates.
pub const UNKNOWN_COUNTRY_NETWORK: (&str, u8) = ("5.62.0.0", 16);
/// A network whose record has neither a country nor coordinates (only `registered_country`).
pub const NO_LOCATION_NETWORK: (&str, u8) = ("77.77.0.0", 16);

fn build(kind: &str, ip_version: u16, city: bool) -> Vec<u8> {
    let mut w = Writer::new(kind, ip_version);
    for &(net, len, name, country, continent, lat, lon, radius) in TEST_NETWORKS {
        let addr: IpAddr = net.parse().expect("test network");
        if addr.is_ipv6() && ip_version == 4 {
            continue;
        }
        let rec = match name {
            Some(n) if city => city_record(n, country, continent, lat, lon, radius),
            _ => country_record(country, continent),
        };
        let r = w.add_record(rec);
        w.insert(addr, len, r).expect("valid test network");
    }
    let r = w.add_record(country_record(("ZZ", "Nowhere"), "EU"));
    let (n, l) = UNKNOWN_COUNTRY_NETWORK;
    w.insert(n.parse().expect("net"), l, r).expect("insert");
    let r = w.add_record(Value::map([(
        "registered_country",
        country_part("SE", "Sweden"),
    )]));
    let (n, l) = NO_LOCATION_NETWORK;
    w.insert(n.parse().expect("net"), l, r).expect("insert");
    w.to_bytes()
}

/// A small City database (`GeoIP2-City`) over an IPv4 (`ip_version` 4) or IPv6 (6) tree.
pub fn city(ip_version: u16) -> Vec<u8> {
    build("GeoIP2-City", ip_version, true)
}

/// A small Country database (`GeoIP2-Country`).
pub fn country(ip_version: u16) -> Vec<u8> {
    build("GeoIP2-Country", ip_version, false)
}

/// A database without location data (`GeoLite2-ASN` layout).
pub fn asn() -> Vec<u8> {
    let mut w = Writer::new("GeoLite2-ASN", 6);
    let r = w.add_record(Value::map([
        ("autonomous_system_number", Value::U32(64_496)),
        (
            "autonomous_system_organization",
            Value::str("Example Networks"),
        ),
    ]));
    w.insert("81.2.69.0".parse().expect("net"), 24, r)
        .expect("insert");
    w.to_bytes()
}

/// A stable 64-bit stream (SplitMix64) so generated databases are identical on every run.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        crate::hash::mix64(self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A realistic-size City database: `v4_networks` IPv4 and `v6_networks` IPv6 networks over
/// `places` distinct city records (the most populous catalog cities), prefix lengths like a real
/// GeoLite2 City (/18 to /28 for IPv4, mostly /24; /29 to /48 for IPv6), in an IPv6 tree. Returns the
/// file and a sample address inside each of up to `sample` networks (in random order), for lookups.
pub fn realistic(
    v4_networks: usize,
    v6_networks: usize,
    places: usize,
    sample: usize,
) -> (Vec<u8>, Vec<IpAddr>) {
    let catalog = Catalog::embedded();
    let mut order: Vec<usize> = (0..catalog.cities.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(catalog.cities[i].population));
    let mut w = Writer::new("GeoLite2-City", 6);
    w.description("synthetic GeoLite2-City-shaped database for benchmarks");
    let mut records = Vec::with_capacity(places);
    let mut s = Stream(42);
    for &i in order.iter().take(places.max(1)) {
        let c = &catalog.cities[i];
        let country = catalog.country(c.country);
        records.push(w.add_record(city_record(
            &c.name,
            (&country.iso2, &country.name),
            country.continent.code(),
            c.location.lat,
            c.location.lon,
            [5u16, 10, 20, 50, 100, 200, 500][s.below(7) as usize],
        )));
    }
    let mut nets: Vec<(IpAddr, u8)> = Vec::with_capacity(v4_networks + v6_networks);
    // IPv4: consecutive blocks from 1.0.0.0, skipping special-purpose space, with gaps.
    let mut next: u64 = 1 << 24;
    while nets.len() < v4_networks && next < 0xE000_0000 {
        let len = match s.below(16) {
            0 => 18,
            1 => 20,
            2 | 3 => 22,
            4..=11 => 24,
            12 | 13 => 26,
            _ => 28,
        };
        let size = 1u64 << (32 - len);
        let start = next.div_ceil(size) * size;
        next = start + size;
        let a = Ipv4Addr::from(start as u32);
        let last = Ipv4Addr::from((start + size - 1) as u32);
        if classify(IpAddr::V4(a)).is_some() || classify(IpAddr::V4(last)).is_some() {
            continue;
        }
        if s.below(8) == 0 {
            continue; // a gap: addresses no network covers
        }
        nets.push((IpAddr::V4(a), len));
    }
    // IPv6: blocks from 2001:200::/32 upward.
    let mut next6: u128 = 0x2001_0200u128 << 96;
    while nets.len() < v4_networks + v6_networks {
        let len = [29u8, 32, 32, 36, 40, 44, 48, 48][s.below(8) as usize];
        let size = 1u128 << (128 - len);
        let start = next6.div_ceil(size) * size;
        next6 = start + size;
        let a = Ipv6Addr::from(start);
        if classify(IpAddr::V6(a)).is_some() {
            continue;
        }
        nets.push((IpAddr::V6(a), len));
    }
    for &(a, len) in &nets {
        let r = records[s.below(records.len() as u64) as usize];
        w.insert(a, len, r).expect("generated network is valid");
    }
    // Sample addresses: a random host inside random networks.
    let mut ips = Vec::with_capacity(sample);
    for _ in 0..sample.min(nets.len() * 4) {
        let (a, len) = nets[s.below(nets.len() as u64) as usize];
        ips.push(match a {
            IpAddr::V4(v4) => {
                let host = (s.next() as u32) & (u32::MAX >> len);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) | host))
            }
            IpAddr::V6(v6) => {
                let host = u128::from(s.next()) & (u128::MAX >> len);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) | host))
            }
        });
    }
    (w.to_bytes(), ips)
}
