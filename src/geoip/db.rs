//! Opening and validating a MaxMind-format database, and looking addresses up in it.
//!
//! The whole file is read into memory (no memory mapping: the file may change while we run). Opening
//! checks the format (the crate validates the metadata and tree layout) and that the records carry
//! location data, by the metadata's `database_type` and by decoding the first records: an ASN or ISP
//! database is refused with a clear message rather than resolving nobody.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{Reader, WithinOptions};
use serde::Deserialize;

use super::reserved::{canonical, classify};
use super::Unresolved;
use crate::civil_date::civil_from_days;
use crate::error::InputError;
use crate::geodesy::LatLon;

/// Which record layout a database has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Coordinates per network (GeoIP2/GeoLite2 City, DB-IP city lite).
    City,
    /// Country and continent only (GeoIP2/GeoLite2 Country, DB-IP country lite).
    Country,
}

impl Layout {
    /// `City` or `Country`.
    pub fn name(self) -> &'static str {
        match self {
            Layout::City => "City",
            Layout::Country => "Country",
        }
    }
}

/// What a database says about one address. Strings borrow from the database.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoRecord<'a> {
    /// ISO 3166-1 alpha-2 country code, as the database gives it.
    pub country: Option<&'a str>,
    /// Two-letter continent code.
    pub continent: Option<&'a str>,
    /// English city name.
    pub city: Option<&'a str>,
    /// Coordinates, when present and valid.
    pub location: Option<LatLon>,
    /// Radius around the coordinates in which the device is with about 67% confidence, km.
    pub accuracy_radius_km: Option<u16>,
}

/// The fields egress-sim reads from a record; everything else is skipped without decoding.
#[derive(Deserialize)]
struct RawRecord<'a> {
    #[serde(borrow, default)]
    country: Option<RawCode<'a>>,
    #[serde(borrow, default)]
    continent: Option<RawCode<'a>>,
    #[serde(borrow, default)]
    city: Option<RawCity<'a>>,
    #[serde(default)]
    location: Option<RawLocation>,
}

#[derive(Deserialize)]
struct RawCode<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    code: Option<&'a str>,
}

#[derive(Deserialize)]
struct RawCity<'a> {
    #[serde(borrow, default)]
    names: Option<RawNames<'a>>,
}

#[derive(Deserialize)]
struct RawNames<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
}

#[derive(Deserialize)]
struct RawLocation {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    accuracy_radius: Option<u16>,
}

impl<'a> From<RawRecord<'a>> for GeoRecord<'a> {
    fn from(r: RawRecord<'a>) -> Self {
        let (location, accuracy_radius_km) = match r.location {
            Some(l) => {
                let p = match (l.latitude, l.longitude) {
                    (Some(lat), Some(lon)) => Some(LatLon::new(lat, lon)).filter(|p| p.is_valid()),
                    _ => None,
                };
                (p, l.accuracy_radius)
            }
            None => (None, None),
        };
        GeoRecord {
            country: r.country.and_then(|c| c.iso_code),
            continent: r.continent.and_then(|c| c.code),
            city: r.city.and_then(|c| c.names).and_then(|n| n.en),
            location,
            accuracy_radius_km,
        }
    }
}

/// An open MaxMind-format database.
pub struct GeoDb {
    reader: Reader<Vec<u8>>,
    path: PathBuf,
    layout: Layout,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("path", &self.path)
            .field("layout", &self.layout)
            .field("database_type", &self.reader.metadata().database_type)
            .finish_non_exhaustive()
    }
}

const FORMAT_HELP: &str = "egress-sim reads MaxMind DB files (.mmdb) with a City or Country layout: \
GeoLite2-City.mmdb, GeoIP2-City.mmdb, GeoLite2-Country.mmdb, or DB-IP's city lite edition; if the file \
was cut short, download it again";

/// Records decoded when checking that a database has location data.
const PROBE_RECORDS: usize = 2000;

impl GeoDb {
    /// Reads and validates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let bytes = std::fs::read(path).map_err(|e| {
            InputError::new(format!(
                "cannot read GeoIP database `{}`: {e}",
                path.display()
            ))
            .with_help(if e.kind() == std::io::ErrorKind::NotFound {
                "check the path (a scenario's `geoip` is relative to the scenario file); see README \
                 \"Real user lists\" for where to get GeoLite2-City.mmdb"
            } else {
                "check that the file is readable"
            })
        })?;
        Self::from_bytes(bytes, path)
    }

    /// Validates a database held in memory; `path` names it in messages.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<Self, InputError> {
        let shown = path.display();
        if bytes.is_empty() {
            return Err(
                InputError::new(format!("GeoIP database `{shown}` is empty"))
                    .with_help(FORMAT_HELP),
            );
        }
        let reader = Reader::from_source(bytes).map_err(|e| {
            InputError::new(format!(
                "`{shown}` is not a usable MaxMind DB file (not that format, truncated or corrupt): {e}"
            ))
            .with_help(FORMAT_HELP)
        })?;
        let corrupt = |e: maxminddb::MaxMindDbError| {
            InputError::new(format!("GeoIP database `{shown}` is corrupt: {e}"))
                .with_help(FORMAT_HELP)
        };
        // Decode the first records: does this database locate anything?
        let (mut with_location, mut with_country, mut seen) = (0usize, 0usize, 0usize);
        let networks = reader
            .networks(WithinOptions::default().skip_empty_values())
            .map_err(corrupt)?;
        for item in networks.take(PROBE_RECORDS) {
            let item = item.map_err(corrupt)?;
            seen += 1;
            let rec: Option<RawRecord> = item.decode().map_err(corrupt)?;
            if let Some(r) = rec.map(GeoRecord::from) {
                with_location += usize::from(r.location.is_some());
                with_country += usize::from(r.country.is_some());
            }
        }
        let db_type = reader.metadata().database_type.to_ascii_lowercase();
        let layout = if with_location == 0 && with_country == 0 {
            None
        } else if db_type.contains("city") || with_location > 0 {
            Some(Layout::City)
        } else {
            Some(Layout::Country)
        };
        let Some(layout) = layout else {
            return Err(InputError::new(format!(
                "GeoIP database `{shown}` (type `{}`) has no location data: {}",
                reader.metadata().database_type,
                if seen == 0 {
                    "it holds no records".to_string()
                } else {
                    format!("none of its first {seen} records has a country or coordinates")
                }
            ))
            .with_help(
                "use a City database (GeoLite2-City.mmdb, coordinates per network) or a Country \
                 database; ASN, ISP and anonymous-IP databases do not locate users",
            ));
        };
        Ok(Self {
            reader,
            path: path.to_path_buf(),
            layout,
        })
    }

    /// Path the database was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Record layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The metadata's `database_type` (`GeoLite2-City`, `DBIP-City-Lite`, ...).
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// One line about the database: type, layout, tree, build date.
    pub fn describe(&self) -> String {
        let m = self.reader.metadata();
        let days = m.build_epoch / 86_400;
        let (y, mo, d) = civil_from_days(days as i64);
        format!(
            "{} ({} layout), IPv{} tree of {} nodes, built {y:04}-{mo:02}-{d:02}",
            m.database_type,
            self.layout.name(),
            m.ip_version,
            m.node_count,
        )
    }

    /// Looks `ip` up. Private and special-purpose addresses are refused before the lookup; IPv4-mapped
    /// IPv6 addresses are looked up as IPv4. A record without valid coordinates is returned as found
    /// (`location` is `None`): the caller decides whether a country is enough. The outer error is a
    /// corrupt database.
    #[inline]
    pub fn lookup(&self, ip: IpAddr) -> Result<Result<GeoRecord<'_>, Unresolved>, InputError> {
        let ip = canonical(ip);
        if let Some(k) = classify(ip) {
            return Ok(Err(Unresolved::Reserved(k)));
        }
        if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return Ok(Err(Unresolved::NotFound));
        }
        let found = self.reader.lookup(ip).map_err(|e| self.corrupt(ip, e))?;
        match found.decode::<RawRecord>() {
            Ok(Some(r)) => Ok(Ok(r.into())),
            Ok(None) => Ok(Err(Unresolved::NotFound)),
            Err(e) => Err(self.corrupt(ip, e)),
        }
    }

    /// Looks up every address of `ips` (results in the same order), several times faster than one by
    /// one on a large database: addresses are visited in numeric order, so consecutive walks share the
    /// top of the tree and touch memory mostly forwards, and each record is decoded once however many
    /// addresses share it. The outer error is a corrupt database.
    pub fn lookup_all(
        &self,
        ips: &[IpAddr],
    ) -> Result<Vec<Result<GeoRecord<'_>, Unresolved>>, InputError> {
        // (numeric key, is IPv6, input position): the walk reads only this array, sequentially.
        let mut order: Vec<(u128, bool, u32)> = ips
            .iter()
            .enumerate()
            .map(|(i, ip)| match canonical(*ip) {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), false, i as u32),
                IpAddr::V6(v6) => (u128::from(v6), true, i as u32),
            })
            .collect();
        order.sort_unstable();
        // Per input position: an index into `records`, or an `Unresolved` code above them. Small, so the
        // scattered writes stay in cache; the records are assembled in input order at the end.
        const NOT_FOUND: u32 = u32::MAX;
        let mut slot = vec![NOT_FOUND; ips.len()];
        let mut records: Vec<GeoRecord<'_>> = Vec::new();
        let mut reserved: Vec<Unresolved> = Vec::new();
        let mut by_offset: HashMap<usize, u32> = HashMap::new();
        let mut last: Option<(usize, u32)> = None;
        let v4_only = self.reader.metadata().ip_version == 4;
        for (key, v6, i) in order {
            let ip = if v6 {
                IpAddr::V6(key.into())
            } else {
                IpAddr::V4((key as u32).into())
            };
            if let Some(k) = classify(ip) {
                reserved.push(Unresolved::Reserved(k));
                slot[i as usize] = NOT_FOUND - reserved.len() as u32;
                continue;
            }
            if v6 && v4_only {
                continue;
            }
            let found = self.reader.lookup(ip).map_err(|e| self.corrupt(ip, e))?;
            let Some(offset) = found.offset() else {
                continue;
            };
            let r = match last {
                Some((o, r)) if o == offset => r,
                _ => match by_offset.get(&offset) {
                    Some(&r) => r,
                    None => match found.decode::<RawRecord>() {
                        Ok(Some(rec)) => {
                            records.push(rec.into());
                            let r = records.len() as u32 - 1;
                            by_offset.insert(offset, r);
                            r
                        }
                        Ok(None) => continue,
                        Err(e) => return Err(self.corrupt(ip, e)),
                    },
                },
            };
            last = Some((offset, r));
            slot[i as usize] = r;
        }
        Ok(slot
            .into_iter()
            .map(|s| match s {
                NOT_FOUND => Err(Unresolved::NotFound),
                s if (s as usize) < records.len() => Ok(records[s as usize]),
                s => Err(reserved[(NOT_FOUND - s) as usize - 1]),
            })
            .collect())
    }

    /// The most specific network of the database that contains `ip` (`81.2.69.0/24`), for display.
    pub fn network(&self, ip: IpAddr) -> Option<String> {
        let ip = canonical(ip);
        if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return None;
        }
        let r = self.reader.lookup(ip).ok()?;
        r.network().ok().map(|n| n.to_string())
    }

    fn corrupt(&self, ip: IpAddr, e: maxminddb::MaxMindDbError) -> InputError {
        InputError::new(format!(
            "GeoIP database `{}` is corrupt (looking up {ip}): {e}",
            self.path.display()
        ))
        .with_help(FORMAT_HELP)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdb;
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn city_layout_ipv4_and_ipv6() {
        let db = GeoDb::from_bytes(testdb::city(6), Path::new("t.mmdb")).unwrap();
        assert_eq!(db.layout(), Layout::City);
        let r = db.lookup(ip("81.2.69.160")).unwrap().unwrap();
        assert_eq!(r.country, Some("GB"));
        assert_eq!(r.continent, Some("EU"));
        assert_eq!(r.city, Some("London"));
        assert_eq!(r.accuracy_radius_km, Some(20));
        let l = r.location.unwrap();
        assert!((l.lat - 51.5).abs() < 0.01 && (l.lon + 0.12).abs() < 0.01);
        let r = db.lookup(ip("2a02:ab00::5")).unwrap().unwrap();
        assert_eq!(r.country, Some("DE"));
        assert_eq!(r.city, Some("Frankfurt am Main"));
        // IPv4-mapped IPv6 is looked up as IPv4.
        let r = db.lookup(ip("::ffff:81.2.69.1")).unwrap().unwrap();
        assert_eq!(r.country, Some("GB"));
        assert_eq!(
            db.network(ip("81.2.69.160")).as_deref(),
            Some("81.2.69.0/24")
        );
    }

    #[test]
    fn failure_reasons() {
        let db = GeoDb::from_bytes(testdb::city(6), Path::new("t.mmdb")).unwrap();
        use super::super::ReservedKind;
        assert_eq!(
            db.lookup(ip("10.0.0.1")).unwrap(),
            Err(Unresolved::Reserved(ReservedKind::Private))
        );
        assert_eq!(
            db.lookup(ip("fe80::1")).unwrap(),
            Err(Unresolved::Reserved(ReservedKind::LinkLocal))
        );
        assert_eq!(db.lookup(ip("8.8.8.8")).unwrap(), Err(Unresolved::NotFound));
        assert_eq!(db.lookup(ip("2c0f::1")).unwrap(), Err(Unresolved::NotFound));
        // Found with a country but no coordinates.
        let r = db.lookup(ip("45.11.0.9")).unwrap().unwrap();
        assert_eq!((r.country, r.location), (Some("FR"), None));
    }

    #[test]
    fn lookup_all_agrees_with_lookup_in_input_order() {
        for bytes in [testdb::city(6), testdb::city(4), testdb::country(6)] {
            let db = GeoDb::from_bytes(bytes, Path::new("t.mmdb")).unwrap();
            let ips: Vec<IpAddr> = [
                "8.8.8.8",
                "81.2.69.160",
                "2a02:ab00::5",
                "10.0.0.1",
                "81.2.69.7",
                "45.11.0.9",
                "::ffff:1.178.0.1",
                "1.178.9.9",
                "2c0f::1",
                "fe80::1",
                "5.62.0.1",
                "77.77.1.1",
            ]
            .iter()
            .map(|s| ip(s))
            .collect();
            let all = db.lookup_all(&ips).unwrap();
            let one: Vec<_> = ips.iter().map(|i| db.lookup(*i).unwrap()).collect();
            assert_eq!(all, one);
        }
    }

    #[test]
    fn country_layout_and_ipv4_only_tree() {
        let db = GeoDb::from_bytes(testdb::country(4), Path::new("c.mmdb")).unwrap();
        assert_eq!(db.layout(), Layout::Country);
        let r = db.lookup(ip("81.2.69.160")).unwrap().unwrap();
        assert_eq!(
            (r.country, r.continent, r.location),
            (Some("GB"), Some("EU"), None)
        );
        assert_eq!(
            db.lookup(ip("2a02:ab00::5")).unwrap(),
            Err(Unresolved::NotFound)
        );
        let db = GeoDb::from_bytes(testdb::country(6), Path::new("c.mmdb")).unwrap();
        let r = db.lookup(ip("2a02:ab00::5")).unwrap().unwrap();
        assert_eq!(r.country, Some("DE"));
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        let p = Path::new("x.mmdb");
        let e = GeoDb::from_bytes(Vec::new(), p).unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
        let e = GeoDb::from_bytes(b"hello, not a database".to_vec(), p).unwrap_err();
        assert!(e.message.contains("not a usable MaxMind DB"), "{e}");
        let full = testdb::city(6);
        for cut in [1, 100, full.len() / 2, full.len() - 40, full.len() - 1] {
            assert!(
                GeoDb::from_bytes(full[..cut].to_vec(), p).is_err(),
                "cut at {cut}"
            );
        }
        let e = GeoDb::from_bytes(testdb::asn(), p).unwrap_err();
        assert!(e.message.contains("no location data"), "{e}");
        // Flipped bytes anywhere: an error or a working database, never a panic.
        for i in (0..full.len()).step_by(7) {
            let mut b = full.clone();
            b[i] ^= 0x5a;
            if let Ok(db) = GeoDb::from_bytes(b, p) {
                for s in ["81.2.69.160", "2a02:ab00::5", "45.11.0.9", "1.1.1.1"] {
                    let _ = db.lookup(ip(s));
                    let _ = db.network(ip(s));
                }
            }
        }
    }
}
