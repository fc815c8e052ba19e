//! A listed population: the users of a CSV list, placed where the GeoIP database says their public
//! address is, and counts of the users that could not be placed, by reason.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::db::{GeoDb, GeoRecord};
use super::userlist::{UserList, UserRow};
use super::Unresolved;
use crate::catalog::{Catalog, CountryId};
use crate::country_index::CountryIndex;
use crate::error::InputError;
use crate::geodesy::LatLon;
use crate::hash::{mix64, user_hash};

/// What to do with a user the database cannot place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unplaced {
    /// Leave the user out, count it, and report it (the default).
    #[default]
    Skip,
    /// Stop with an error naming each such user's line.
    Error,
    /// Place users whose record has only a country at that country's population-weighted centre;
    /// leave the rest out (counted).
    Country,
}

/// How a population's users are placed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ListingSettings {
    /// Users the database cannot place.
    pub unplaced: Unplaced,
    /// Move each user by a random distance within the record's accuracy radius (uniform over the
    /// disc), deterministically per user.
    pub spread_accuracy_radius: bool,
    /// Scenario seed (for the accuracy spread).
    pub seed: u64,
}

/// Maps the names a user list uses to the scenario's indexes.
pub trait Resolver {
    /// Index of identity group `name` (created when new); `None` past the supported maximum.
    fn group(&mut self, name: &str) -> Option<u16>;
    /// Index of posture check `id`; `None` past the supported maximum.
    fn posture(&mut self, id: &str) -> Option<u8>;
    /// Index of virtual network `id`.
    fn vnet(&mut self, id: &str) -> u16;
}

/// One placed user of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedUser {
    /// Line in the user list.
    pub line: u64,
    /// `identity.email`.
    pub email: Box<str>,
    /// `identity.name` (the list's `name`, else the email's local part).
    pub name: Box<str>,
    /// Public source address (`net.src.ip`); IPv4-mapped IPv6 addresses are stored as IPv4.
    pub ip: IpAddr,
    /// Where the database places the user.
    pub location: LatLon,
    /// Source country (from the database's country code).
    pub country: CountryId,
    /// Group memberships (bit i = group i).
    pub groups: [u64; 4],
    /// Posture checks passed (bit i = check i).
    pub posture: [u64; 4],
    /// Selected virtual network.
    pub vnet: Option<u16>,
    /// IPv6 support, when the list says.
    pub ipv6_capable: Option<bool>,
    /// Concurrent connections, when the list says.
    pub connections: Option<f64>,
}

/// The placed users of one list and what happened to the others.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The user list.
    pub file: PathBuf,
    /// One line about the database used.
    pub database: String,
    /// Placed users, in file order.
    pub users: Vec<ListedUser>,
    /// Of `users`, those placed at their country's centre (`unresolved = "country"`).
    pub placed_by_country: u64,
    /// Users that could not be placed: (line, address, reason), in file order.
    pub unplaced: Vec<(u64, IpAddr, Unresolved)>,
    /// Malformed rows skipped (`bad_rows = "skip"`).
    pub bad_rows: Vec<InputError>,
}

impl Listing {
    /// Rows in the list (placed, unplaced and malformed).
    pub fn rows(&self) -> u64 {
        (self.users.len() + self.unplaced.len() + self.bad_rows.len()) as u64
    }

    /// Counts per reason (`not_found`, `private`, ..., and `bad_row`), sorted by key.
    pub fn reasons(&self) -> Vec<(&'static str, u64)> {
        let mut m: BTreeMap<&'static str, u64> = BTreeMap::new();
        for (_, _, r) in &self.unplaced {
            *m.entry(r.key()).or_default() += 1;
        }
        if !self.bad_rows.is_empty() {
            m.insert("bad_row", self.bad_rows.len() as u64);
        }
        m.into_iter().collect()
    }

    /// `12 of 300 rows not placed: 5 not_found, 4 private, 3 bad_row`, or `None` when all were placed.
    pub fn shortfall(&self) -> Option<String> {
        let reasons = self.reasons();
        if reasons.is_empty() {
            return None;
        }
        let missing: u64 = reasons.iter().map(|r| r.1).sum();
        let parts: Vec<String> = reasons.iter().map(|(k, n)| format!("{n} {k}")).collect();
        Some(format!(
            "{missing} of {} rows of {} not placed: {}",
            self.rows(),
            self.file.display(),
            parts.join(", ")
        ))
    }
}

/// The population-weighted centre of a country's catalog cities (`None` when it has none).
pub fn country_centre(catalog: &Catalog, id: CountryId) -> Option<LatLon> {
    let (mut x, mut y, mut z, mut w) = (0.0, 0.0, 0.0, 0.0);
    for &i in catalog.cities_in_country(id) {
        let c = &catalog.cities[i as usize];
        let (lat, lon) = (c.location.lat.to_radians(), c.location.lon.to_radians());
        let p = f64::from(c.population.max(1));
        x += p * lat.cos() * lon.cos();
        y += p * lat.cos() * lon.sin();
        z += p * lat.sin();
        w += p;
    }
    if w == 0.0 {
        return None;
    }
    let r = (x * x + y * y + z * z).sqrt();
    if r < 1e-9 * w {
        return None;
    }
    Some(LatLon::new(
        (z / r).asin().to_degrees(),
        y.atan2(x).to_degrees(),
    ))
}

/// Places the users of `list` with `db`. Names of groups, posture checks and virtual networks are
/// mapped with `names`. Fails only on a corrupt database or too many distinct names.
pub fn resolve(
    list: UserList,
    db: &GeoDb,
    settings: &ListingSettings,
    names: &mut dyn Resolver,
) -> Result<Listing, InputError> {
    let mut placer = Placer {
        catalog: Catalog::embedded(),
        countries: CountryIndex::embedded(),
        settings,
        centres: HashMap::new(),
    };
    let mut users = Vec::with_capacity(list.rows.len());
    let mut unplaced = Vec::new();
    let mut placed_by_country = 0;
    let ips: Vec<IpAddr> = list.rows.iter().map(|r| r.ip).collect();
    let found = db.lookup_all(&ips)?;
    for (row, found) in list.rows.iter().zip(found) {
        match found.and_then(|rec| placer.place(&rec, row.line)) {
            Ok((location, country, at_centre)) => {
                placed_by_country += u64::from(at_centre);
                users.push(listed_user(row, location, country, names, &list.path)?);
            }
            Err(why) => unplaced.push((row.line, row.ip, why)),
        }
    }
    Ok(Listing {
        file: list.path,
        database: db.describe(),
        users,
        placed_by_country,
        unplaced,
        bad_rows: list.bad_rows,
    })
}

/// Turns database records into locations, with country centres computed once per country.
struct Placer<'a> {
    catalog: &'a Catalog,
    countries: &'a CountryIndex,
    settings: &'a ListingSettings,
    centres: HashMap<CountryId, Option<LatLon>>,
}

impl Placer<'_> {
    /// Where the record places the user (on line `line`), its country, and whether it was placed at
    /// its country's centre; or why it cannot be placed.
    fn place(
        &mut self,
        rec: &GeoRecord,
        line: u64,
    ) -> Result<(LatLon, CountryId, bool), Unresolved> {
        let code = rec.country.and_then(|c| self.catalog.country_by_code(c));
        let (location, country) = match (rec.location, code) {
            (Some(l), Some(c)) => (l, c),
            (Some(l), None) => (l, self.countries.lookup(l)),
            (None, None) => return Err(Unresolved::UnknownCountry),
            (None, Some(c)) => {
                let catalog = self.catalog;
                let centre = *self
                    .centres
                    .entry(c)
                    .or_insert_with(|| country_centre(catalog, c));
                return match centre {
                    Some(l) if self.settings.unplaced == Unplaced::Country => Ok((l, c, true)),
                    _ => Err(Unresolved::NoCoordinates),
                };
            }
        };
        let s = self.settings;
        let location = match (s.spread_accuracy_radius, rec.accuracy_radius_km) {
            (true, Some(r)) if r > 0 => spread(location, f64::from(r), s.seed, line),
            _ => location,
        };
        Ok((location, country, false))
    }
}

/// A placed user of the list, its names mapped to the scenario's indexes.
fn listed_user(
    row: &UserRow,
    location: LatLon,
    country: CountryId,
    names: &mut dyn Resolver,
    path: &Path,
) -> Result<ListedUser, InputError> {
    let too_many = |what: &str| {
        InputError::new(format!(
            "{}: at most 256 distinct {what} are supported",
            path.display()
        ))
    };
    let mut groups = [0u64; 4];
    for g in &row.groups {
        let i = names.group(g).ok_or_else(|| too_many("groups"))?;
        groups[usize::from(i / 64)] |= 1 << (i % 64);
    }
    let mut posture = [0u64; 4];
    for p in &row.posture_passed {
        let i = names.posture(p).ok_or_else(|| too_many("posture checks"))?;
        posture[usize::from(i / 64)] |= 1 << (i % 64);
    }
    let name = match &row.name {
        Some(n) => n.as_str(),
        None => row.email.split('@').next().unwrap_or(&row.email),
    };
    Ok(ListedUser {
        line: row.line,
        email: row.email.as_str().into(),
        name: name.into(),
        // An IPv4-mapped IPv6 address reaches Gateway as the IPv4 address it carries.
        ip: super::reserved::canonical(row.ip),
        location,
        country,
        groups,
        posture,
        vnet: row.virtual_network.as_deref().map(|v| names.vnet(v)),
        ipv6_capable: row.ipv6_capable,
        connections: row.connections,
    })
}

/// `p` moved by a deterministic random offset, uniform over the disc of `radius_km`.
fn spread(p: LatLon, radius_km: f64, seed: u64, line: u64) -> LatLon {
    let h = user_hash(seed, line, 0xacc0_2a61);
    let u1 = (h >> 11) as f64 / (1u64 << 53) as f64;
    let u2 = (mix64(h) >> 11) as f64 / (1u64 << 53) as f64;
    p.destination(360.0 * u2, radius_km * u1.sqrt())
}

#[cfg(test)]
mod tests {
    use super::super::testdb;
    use super::super::userlist::{UserList, UserRow};
    use super::*;
    use std::path::Path;

    #[derive(Default)]
    struct Names(Vec<String>, Vec<String>, Vec<String>);
    fn intern(v: &mut Vec<String>, s: &str) -> usize {
        v.iter().position(|x| x == s).unwrap_or_else(|| {
            v.push(s.to_string());
            v.len() - 1
        })
    }
    impl Resolver for Names {
        fn group(&mut self, n: &str) -> Option<u16> {
            Some(intern(&mut self.0, n) as u16)
        }
        fn posture(&mut self, n: &str) -> Option<u8> {
            Some(intern(&mut self.1, n) as u8)
        }
        fn vnet(&mut self, n: &str) -> u16 {
            intern(&mut self.2, n) as u16
        }
    }

    fn list(ips: &[&str]) -> UserList {
        UserList {
            path: "users.csv".into(),
            rows: ips
                .iter()
                .enumerate()
                .map(|(i, ip)| UserRow {
                    line: i as u64 + 2,
                    email: format!("u{i}@corp.example"),
                    name: None,
                    groups: vec!["finance".into()],
                    ip: ip.parse().unwrap(),
                    virtual_network: None,
                    posture_passed: vec![],
                    ipv6_capable: None,
                    connections: None,
                })
                .collect(),
            bad_rows: vec![],
        }
    }

    const IPS: [&str; 7] = [
        "81.2.69.160",  // London
        "2a02:ab00::1", // Frankfurt
        "10.1.1.1",     // private
        "8.8.8.8",      // not found
        "45.11.0.1",    // FR, no coordinates
        "5.62.0.1",     // ZZ, no coordinates
        "77.77.0.1",    // no country, no coordinates
    ];

    #[test]
    fn places_users_and_counts_the_rest() {
        let db = GeoDb::from_bytes(testdb::city(6), Path::new("t.mmdb")).unwrap();
        let l = resolve(
            list(&IPS),
            &db,
            &ListingSettings::default(),
            &mut Names::default(),
        )
        .unwrap();
        let catalog = Catalog::embedded();
        assert_eq!(l.users.len(), 2);
        assert_eq!(catalog.country(l.users[0].country).iso2, "GB");
        assert_eq!(catalog.country(l.users[1].country).iso2, "DE");
        assert_eq!(&*l.users[0].name, "u0");
        assert_eq!(l.users[0].groups[0], 1);
        assert_eq!(
            l.reasons(),
            vec![
                ("no_coordinates", 1),
                ("not_found", 1),
                ("private", 1),
                ("unknown_country", 2)
            ]
        );
        assert!(l.shortfall().unwrap().starts_with("5 of 7 rows"));
    }

    #[test]
    fn country_mode_places_country_only_records_at_the_centre() {
        let db = GeoDb::from_bytes(testdb::country(6), Path::new("c.mmdb")).unwrap();
        let s = ListingSettings {
            unplaced: Unplaced::Country,
            ..Default::default()
        };
        let l = resolve(list(&IPS), &db, &s, &mut Names::default()).unwrap();
        // GB, DE and FR have catalog cities; ZZ and the record without a country do not.
        assert_eq!(l.users.len(), 3);
        assert_eq!(l.placed_by_country, 3);
        let fr = l.users[2].location;
        assert!(
            fr.lat > 44.0 && fr.lat < 49.5 && fr.lon > 0.0 && fr.lon < 5.0,
            "{fr:?}"
        );
    }

    #[test]
    fn accuracy_spread_stays_within_the_radius_and_is_stable() {
        let db = GeoDb::from_bytes(testdb::city(6), Path::new("t.mmdb")).unwrap();
        let s = ListingSettings {
            spread_accuracy_radius: true,
            seed: 3,
            ..Default::default()
        };
        let a = resolve(list(&IPS), &db, &s, &mut Names::default()).unwrap();
        let b = resolve(list(&IPS), &db, &s, &mut Names::default()).unwrap();
        assert_eq!(a.users, b.users);
        let london = LatLon::new(51.5074, -0.1278);
        let d = a.users[0].location.distance_km(london);
        assert!(d > 0.0 && d <= 20.0 + 1e-6, "{d}");
    }
}
