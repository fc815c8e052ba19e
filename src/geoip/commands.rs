//! `egress-sim geoip lookup` and `geoip stats` (a run's `geoip.csv` is an output: `report/csv.rs`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;
use std::path::Path;

use super::db::GeoDb;
use super::userlist::{read_user_list, BadRows, UserList};
use super::Unresolved;
use crate::catalog::Catalog;
use crate::country_index::CountryIndex;
use crate::error::{Error, InputError, Result};

fn fmt_opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |x| x.to_string())
}

/// `geoip lookup DB IP...`: what the database says for each address, one row each.
pub fn lookup_command(db: &Path, ips: &[String]) -> Result<String> {
    let parsed = ips
        .iter()
        .map(|s| {
            s.trim().parse::<IpAddr>().map_err(|_| {
                Error::Input(
                    InputError::new(format!("`{s}` is not an IPv4 or IPv6 address"))
                        .with_help("e.g. `81.2.69.160` or `2a02:ab00::1`"),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let db = GeoDb::open(db)?;
    let mut rows = vec![[
        "ip",
        "network",
        "country",
        "continent",
        "city",
        "lat",
        "lon",
        "accuracy_radius_km",
        "result",
    ]
    .map(str::to_string)];
    for ip in parsed {
        let network = fmt_opt(db.network(ip));
        let row = match db.lookup(ip)? {
            Ok(r) => [
                ip.to_string(),
                network,
                fmt_opt(r.country),
                fmt_opt(r.continent),
                fmt_opt(r.city),
                fmt_opt(r.location.map(|l| format!("{:.4}", l.lat))),
                fmt_opt(r.location.map(|l| format!("{:.4}", l.lon))),
                fmt_opt(r.accuracy_radius_km),
                match (r.location, r.country) {
                    (Some(_), _) => "located".to_string(),
                    (None, Some(_)) => Unresolved::NoCoordinates.key().to_string(),
                    (None, None) => Unresolved::UnknownCountry.key().to_string(),
                },
            ],
            Err(why) => {
                let mut row: [String; 9] = std::array::from_fn(|_| "-".to_string());
                row[0] = ip.to_string();
                if !matches!(why, Unresolved::Reserved(_)) {
                    row[1] = network;
                }
                row[8] = format!("{}: {}", why.key(), why.description());
                row
            }
        };
        rows.push(row);
    }
    let mut out = format!("{}: {}\n", db.path().display(), db.describe());
    out.push_str(&align(&rows));
    Ok(out)
}

/// Left-aligned columns separated by two spaces.
fn align<const N: usize>(rows: &[[String; N]]) -> String {
    let mut width = [0usize; N];
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == N {
                line.push_str(c);
            } else {
                let _ = write!(line, "{c:<w$}  ", w = width[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `geoip stats DB USERS.csv`: how many users of a list the database places, by country and by
/// reason. Malformed rows are counted and listed with their lines, not fatal.
pub fn stats_command(db: &Path, users: &Path) -> Result<String> {
    let db = GeoDb::open(db)?;
    let list = read_user_list(users, BadRows::Skip)?;
    let mut stats = PlaceStats::count(&db, &list)?;
    if !list.bad_rows.is_empty() {
        stats.reasons.insert(
            "bad_row",
            (
                list.bad_rows.len() as u64,
                "malformed row in the user list".into(),
            ),
        );
    }
    let total = list.rows.len() as u64 + list.bad_rows.len() as u64;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {} rows", list.path.display(), total);
    let _ = writeln!(out, "{}: {}", db.path().display(), db.describe());
    stats.write(&mut out, total);
    if !list.bad_rows.is_empty() {
        let _ = writeln!(out, "\nmalformed rows");
        for e in list.bad_rows.iter().take(20) {
            let _ = writeln!(out, "  {}", e.message);
        }
        if list.bad_rows.len() > 20 {
            let _ = writeln!(out, "  ... and {} more", list.bad_rows.len() - 20);
        }
    }
    Ok(out)
}

/// How a database places the users of a list.
struct PlaceStats {
    /// Country code → (located, country only).
    by_country: BTreeMap<String, (u64, u64)>,
    /// Reason key → (users, description).
    reasons: BTreeMap<&'static str, (u64, String)>,
    located: u64,
    country_only: u64,
}

impl PlaceStats {
    fn count(db: &GeoDb, list: &UserList) -> Result<Self> {
        let catalog = Catalog::embedded();
        let index = CountryIndex::embedded();
        let mut s = PlaceStats {
            by_country: BTreeMap::new(),
            reasons: BTreeMap::new(),
            located: 0,
            country_only: 0,
        };
        let ips: Vec<IpAddr> = list.rows.iter().map(|r| r.ip).collect();
        for found in db.lookup_all(&ips)? {
            let r = match found {
                Ok(r) => r,
                Err(why) => {
                    s.not_placed(why);
                    continue;
                }
            };
            let known = r.country.and_then(|c| catalog.country_by_code(c));
            match (r.location, known) {
                (Some(l), k) => {
                    let id = k.unwrap_or_else(|| index.lookup(l));
                    s.country(catalog.country(id).iso2.clone()).0 += 1;
                    s.located += 1;
                }
                (None, Some(id)) => {
                    s.country(catalog.country(id).iso2.clone()).1 += 1;
                    s.country_only += 1;
                }
                (None, None) => s.not_placed(Unresolved::UnknownCountry),
            }
        }
        Ok(s)
    }

    fn country(&mut self, code: String) -> &mut (u64, u64) {
        self.by_country.entry(code).or_default()
    }

    fn not_placed(&mut self, why: Unresolved) {
        self.reasons
            .entry(why.key())
            .or_insert((0, why.description()))
            .0 += 1;
    }

    /// Totals, then users by country (most first), then unplaced users by reason (most first).
    fn write(self, out: &mut String, total: u64) {
        let pct = |n: u64| {
            if total == 0 {
                0.0
            } else {
                100.0 * n as f64 / total as f64
            }
        };
        let (located, country_only) = (self.located, self.country_only);
        let unplaced: u64 = self.reasons.values().map(|r| r.0).sum();
        let _ = writeln!(
            out,
            "  located (coordinates)  {located:>8}  {:>5.1}%",
            pct(located)
        );
        let _ = writeln!(out, "  country only           {country_only:>8}  {:>5.1}%  (placed at the country's centre with `unresolved = \"country\"`, else left out)", pct(country_only));
        let _ = writeln!(
            out,
            "  not placed             {unplaced:>8}  {:>5.1}%",
            pct(unplaced)
        );
        if !self.by_country.is_empty() {
            let _ = writeln!(
                out,
                "\nby country (located + country only, most users first)"
            );
            let catalog = Catalog::embedded();
            let mut v: Vec<_> = self.by_country.into_iter().collect();
            v.sort_by(|a, b| {
                (b.1 .0 + b.1 .1)
                    .cmp(&(a.1 .0 + a.1 .1))
                    .then(a.0.cmp(&b.0))
            });
            for (code, (l, c)) in v {
                let name = catalog
                    .country_by_code(&code)
                    .map_or("", |id| catalog.country(id).name.as_str());
                let only = if c > 0 {
                    format!("  ({c} country only)")
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "  {code}  {name:<28} {:>8}  {:>5.1}%{only}",
                    l + c,
                    pct(l + c),
                );
            }
        }
        if !self.reasons.is_empty() {
            let _ = writeln!(out, "\nnot placed, by reason");
            let mut v: Vec<_> = self.reasons.into_iter().collect();
            v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
            for (key, (n, what)) in v {
                let _ = writeln!(out, "  {key:<16} {n:>8}  {what}");
            }
        }
    }
}
