//! Built-in reference catalogs: countries, Cloudflare data centers, cities and country outlines.
//!
//! The data is derived from public sources by `tools/derive_data.py` into `data/` (see `data/README.md`
//! for columns, units and credits) and compiled into the binary, so the tool needs no data files at run
//! time. [`Catalog::embedded`] parses it once per process (a few milliseconds) and builds the lookup
//! indexes the scenario loader and the user generator need.

use std::fmt;
use std::sync::OnceLock;

use geo::{LineString, MultiPolygon, Polygon};
use serde::Deserialize;

use crate::geodesy::LatLon;
use crate::suggest::{closest_index, search_key};

const COUNTRIES_CSV: &str = include_str!("../data/countries.csv");
const DATACENTERS_CSV: &str = include_str!("../data/datacenters.csv");
const CITIES_CSV: &str = include_str!("../data/cities.csv");
const OUTLINES_GEOJSON: &str = include_str!("../data/country_outlines.geojson");

/// A continent, by the two-letter code used by GeoNames and by Cloudflare Gateway selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Continent {
    /// Africa.
    AF,
    /// Antarctica.
    AN,
    /// Asia.
    AS,
    /// Europe.
    EU,
    /// North America (including Central America and the Caribbean).
    NA,
    /// Oceania.
    OC,
    /// South America.
    SA,
}

impl Continent {
    /// Every continent, in code order.
    pub const ALL: [Continent; 7] = [
        Continent::AF,
        Continent::AN,
        Continent::AS,
        Continent::EU,
        Continent::NA,
        Continent::OC,
        Continent::SA,
    ];

    /// The two-letter code, for example `"EU"`.
    pub const fn code(self) -> &'static str {
        match self {
            Continent::AF => "AF",
            Continent::AN => "AN",
            Continent::AS => "AS",
            Continent::EU => "EU",
            Continent::NA => "NA",
            Continent::OC => "OC",
            Continent::SA => "SA",
        }
    }

    /// Parses a two-letter code, ignoring case and surrounding spaces.
    pub fn from_code(code: &str) -> Option<Self> {
        let code = code.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code))
    }

    /// The English name, for example `"Europe"`.
    pub const fn name(self) -> &'static str {
        match self {
            Continent::AF => "Africa",
            Continent::AN => "Antarctica",
            Continent::AS => "Asia",
            Continent::EU => "Europe",
            Continent::NA => "North America",
            Continent::OC => "Oceania",
            Continent::SA => "South America",
        }
    }
}

impl fmt::Display for Continent {
    /// Writes the two-letter code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Index of a country in [`Catalog::countries`]. Only meaningful with the catalog that issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryId(pub u16);

impl CountryId {
    /// The position in [`Catalog::countries`].
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A country or territory with an ISO 3166-1 code (GeoNames list; includes a few historical codes such
/// as `AN` and `CS`, and Kosovo as `XK`).
#[derive(Debug, Clone)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, upper case (`"GB"`).
    pub iso2: String,
    /// ISO 3166-1 alpha-3 code, upper case (`"GBR"`).
    pub iso3: String,
    /// English name as GeoNames spells it (`"United Kingdom"`).
    pub name: String,
    /// Continent the country belongs to.
    pub continent: Continent,
}

/// A Cloudflare data center (point of presence).
#[derive(Debug, Clone)]
pub struct DataCenter {
    /// IATA airport code, upper case (`"LHR"`).
    pub code: String,
    /// City name without state or province suffix (`"London"`).
    pub city: String,
    /// Country the data center is in.
    pub country: CountryId,
    /// Cloudflare load-balancing region (`"WEU"`, `"ENAM"`, …).
    pub region: String,
    /// Coordinates of the facility (airport), degrees.
    pub location: LatLon,
}

/// A populated place from GeoNames (population at least 15,000).
#[derive(Debug, Clone)]
pub struct City {
    /// Name as GeoNames spells it (`"São Paulo"`).
    pub name: String,
    /// Lower-case accent-folded search key (`"sao paulo"`), see `suggest::search_key`.
    pub ascii_name: String,
    /// Country the city is in.
    pub country: CountryId,
    /// GeoNames first-level subdivision code (`"ENG"`, US state `"OR"`); may be empty.
    pub admin1: String,
    /// City centre, degrees (rounded to 4 decimals, about 11 m).
    pub location: LatLon,
    /// Population according to GeoNames.
    pub population: u32,
}

/// One country outline (Natural Earth 1:110m), in longitude/latitude degrees.
#[derive(Debug, Clone)]
pub struct CountryOutline {
    /// The country, or `None` for an outline without an ISO code.
    pub country: Option<CountryId>,
    /// Polygons; x is longitude, y is latitude. Outlines are cut at the antimeridian (±180°).
    pub shape: MultiPolygon<f64>,
}

/// All built-in reference data plus lookup indexes. Obtain it with [`Catalog::embedded`].
#[derive(Debug)]
pub struct Catalog {
    /// Countries sorted by ISO alpha-2 code; [`CountryId`] indexes this.
    pub countries: Vec<Country>,
    /// Cloudflare data centers sorted by code.
    pub datacenters: Vec<DataCenter>,
    /// Cities, most populous first (ties by name).
    pub cities: Vec<City>,
    /// Country outlines for point-in-country tests and map drawing.
    pub outlines: Vec<CountryOutline>,
    /// `AA`..`ZZ` → country index + 1 (0 = no such code), for allocation-free code lookups.
    by_iso2: Vec<u16>,
    /// City indexes per country, population-descending.
    cities_by_country: Vec<Vec<u32>>,
    /// City indexes per continent (in [`Continent::ALL`] order), population-descending.
    cities_by_continent: [Vec<u32>; 7],
}

/// IATA metropolitan-area codes people type for a city with several airports, mapped to the city's
/// Cloudflare data center. Only used for suggestions.
const METRO_CODES: [(&str, &str); 18] = [
    ("BER", "TXL"),
    ("BUE", "EZE"),
    ("CHI", "ORD"),
    ("LON", "LHR"),
    ("MIL", "MXP"),
    ("MOW", "DME"),
    ("NYC", "EWR"),
    ("OSA", "KIX"),
    ("PAR", "CDG"),
    ("RIO", "GIG"),
    ("ROM", "FCO"),
    ("SAO", "GRU"),
    ("SEL", "ICN"),
    ("STO", "ARN"),
    ("TYO", "NRT"),
    ("WAS", "IAD"),
    ("YMQ", "YUL"),
    ("YTO", "YYZ"),
];

/// Common country names that are neither ISO codes nor the GeoNames spelling. Only used for suggestions.
const COUNTRY_ALIASES: [(&str, &str); 12] = [
    ("america", "US"),
    ("burma", "MM"),
    ("czech republic", "CZ"),
    ("england", "GB"),
    ("great britain", "GB"),
    ("holland", "NL"),
    ("korea", "KR"),
    ("northern ireland", "GB"),
    ("scotland", "GB"),
    ("turkiye", "TR"),
    ("uk", "GB"),
    ("wales", "GB"),
];

impl Catalog {
    /// The catalog compiled into the binary, parsed on first use and shared afterwards.
    ///
    /// # Panics
    /// Only if the embedded data files are corrupt, which the unit tests rule out for every build.
    pub fn embedded() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::parse(COUNTRIES_CSV, DATACENTERS_CSV, CITIES_CSV, OUTLINES_GEOJSON)
                .unwrap_or_else(|e| panic!("embedded catalog data is corrupt: {e}"))
        })
    }

    /// The country with this id.
    ///
    /// # Panics
    /// If `id` was not issued by this catalog (ids are never built from user input).
    pub fn country(&self, id: CountryId) -> &Country {
        &self.countries[id.index()]
    }

    /// Country by ISO 3166-1 alpha-2 or alpha-3 code, ignoring case and surrounding spaces.
    pub fn country_by_code(&self, code: &str) -> Option<CountryId> {
        let code = code.trim();
        match code.as_bytes() {
            [a, b] => {
                let slot = iso2_slot(*a, *b)?;
                self.by_iso2[slot].checked_sub(1).map(CountryId)
            }
            [_, _, _] => self
                .countries
                .iter()
                .position(|c| c.iso3.eq_ignore_ascii_case(code))
                .map(country_id),
            _ => None,
        }
    }

    /// Country by its English name, ignoring case, accents and a leading "the" (GeoNames says
    /// "The Netherlands").
    pub fn country_by_name(&self, name: &str) -> Option<CountryId> {
        let key = search_key(name.trim());
        let key = strip_article(&key);
        self.countries
            .iter()
            .position(|c| strip_article(&search_key(&c.name)) == key)
            .map(country_id)
    }

    /// Index into [`Catalog::datacenters`] of the data center with this IATA code, ignoring case.
    pub fn datacenter_by_code(&self, code: &str) -> Option<usize> {
        let code = code.trim();
        self.datacenters
            .iter()
            .position(|dc| dc.code.eq_ignore_ascii_case(code))
    }

    /// Index into [`Catalog::cities`] of the city named by `query`, ignoring case and accents. The query
    /// may be qualified after a comma by a country (ISO code or name) or a first-level region code such
    /// as a US state: "London", "São Paulo", "Sao Paulo", "London, GB", "London, United Kingdom",
    /// "Portland, OR". When several cities match, the most populous wins.
    pub fn find_city(&self, query: &str) -> Option<usize> {
        let query = query.trim();
        if query.is_empty() {
            return None;
        }
        // A handful of GeoNames names contain a comma themselves, so try the whole query first.
        if let Some(index) = self.match_city(query, |_| true) {
            return Some(index);
        }
        let (name, qualifier) = query.rsplit_once(',')?;
        let (name, qualifier) = (name.trim(), qualifier.trim());
        let country = self
            .country_by_code(qualifier)
            .or_else(|| self.country_by_name(qualifier));
        self.match_city(name, |city| {
            Some(city.country) == country || city.admin1.eq_ignore_ascii_case(qualifier)
        })
    }

    /// First (most populous) city whose name matches `name` and that passes `filter`.
    fn match_city(&self, name: &str, filter: impl Fn(&City) -> bool) -> Option<usize> {
        let key = search_key(name);
        // The exact-spelling comparison can only succeed where folding lost something, which needs a
        // non-ASCII query; skipping it otherwise keeps a lookup well under a millisecond.
        let accented = !name.is_ascii();
        self.cities
            .iter()
            .position(|city| {
                (city.ascii_name == key || (accented && eq_ignore_case(&city.name, name)))
                    && filter(city)
            })
            .or_else(|| {
                // GeoNames spells some metros longer than people do ("New York City", "Frankfurt am
                // Main"): accept the query as the leading words of a name, most populous first.
                let prefix = format!("{key} ");
                self.cities
                    .iter()
                    .position(|city| city.ascii_name.starts_with(&prefix) && filter(city))
            })
    }

    /// Indexes into [`Catalog::cities`] of the cities in a country, most populous first. Empty for an
    /// unknown id.
    pub fn cities_in_country(&self, id: CountryId) -> &[u32] {
        self.cities_by_country
            .get(id.index())
            .map_or(&[], Vec::as_slice)
    }

    /// Indexes into [`Catalog::cities`] of the cities on a continent, most populous first.
    pub fn cities_in_continent(&self, continent: Continent) -> &[u32] {
        &self.cities_by_continent[continent as usize]
    }

    /// A data center the user probably meant by the unknown code or name `query`, formatted as
    /// `"LHR (London)"`. Tries, in order: an exact code, an IATA metropolitan code (`LON`, `NYC`), a
    /// data center city name (`london`), a unique city-name prefix, the closest code by edit distance,
    /// the closest city name by edit distance.
    pub fn suggest_datacenter(&self, query: &str) -> Option<String> {
        let query = query.trim();
        let key = search_key(query);
        let found = self
            .datacenter_by_code(query)
            .or_else(|| {
                METRO_CODES
                    .iter()
                    .find(|(metro, _)| metro.eq_ignore_ascii_case(query))
                    .and_then(|(_, code)| self.datacenter_by_code(code))
            })
            .or_else(|| {
                self.datacenters
                    .iter()
                    .position(|dc| search_key(&dc.city) == key)
            })
            .or_else(|| self.unique_datacenter_city_prefix(&key))
            .or_else(|| closest_index(query, self.datacenters.iter().map(|dc| dc.code.as_str())))
            .or_else(|| {
                let cities: Vec<String> = self
                    .datacenters
                    .iter()
                    .map(|dc| search_key(&dc.city))
                    .collect();
                closest_index(&key, cities.iter().map(String::as_str))
            })?;
        let dc = &self.datacenters[found];
        Some(format!("{} ({})", dc.code, dc.city))
    }

    /// The only data center whose city name starts with `key` (at least 3 characters), if exactly one
    /// city does: "lon" → London, but "san" is ambiguous.
    fn unique_datacenter_city_prefix(&self, key: &str) -> Option<usize> {
        if key.chars().count() < 3 {
            return None;
        }
        let mut matches = self
            .datacenters
            .iter()
            .enumerate()
            .filter(|(_, dc)| search_key(&dc.city).starts_with(key));
        let (first, dc) = matches.next()?;
        // Several data centers in one city are still one answer.
        matches
            .all(|(_, other)| other.city == dc.city)
            .then_some(first)
    }

    /// The city the user probably meant by `query`, formatted as `"Amsterdam, NL"`; a qualifier after a
    /// comma is ignored. Exact matches come first, then the closest name by edit distance (the most
    /// populous among equally close ones).
    pub fn suggest_city(&self, query: &str) -> Option<String> {
        let found = self.find_city(query).or_else(|| {
            let name = query.split(',').next().unwrap_or(query);
            let key = search_key(name.trim());
            closest_index(&key, self.cities.iter().map(|c| c.ascii_name.as_str()))
        })?;
        let city = &self.cities[found];
        Some(format!(
            "{}, {}",
            city.name,
            self.country(city.country).iso2
        ))
    }

    /// The country the user probably meant by `query`, formatted as `"GB (United Kingdom)"`. Tries an
    /// exact code or name, a few common aliases ("UK", "Holland"), then the closest name and the
    /// closest code by edit distance.
    pub fn suggest_country(&self, query: &str) -> Option<String> {
        let query = query.trim();
        let key = search_key(query);
        let found = self
            .country_by_code(query)
            .or_else(|| self.country_by_name(query))
            .or_else(|| {
                COUNTRY_ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == key)
                    .and_then(|(_, code)| self.country_by_code(code))
            })
            .or_else(|| {
                let names: Vec<String> =
                    self.countries.iter().map(|c| search_key(&c.name)).collect();
                closest_index(&key, names.iter().map(String::as_str)).map(country_id)
            })
            .or_else(|| {
                let codes = self.countries.iter().map(|c| match query.len() {
                    3 => c.iso3.as_str(),
                    _ => c.iso2.as_str(),
                });
                closest_index(query, codes).map(country_id)
            })?;
        let country = self.country(found);
        Some(format!("{} ({})", country.iso2, country.name))
    }

    /// Parses the four catalog files. Errors name the file and line.
    fn parse(
        countries_csv: &str,
        datacenters_csv: &str,
        cities_csv: &str,
        outlines_geojson: &str,
    ) -> Result<Catalog, String> {
        let countries = parse_countries(countries_csv)?;
        let mut by_iso2 = vec![0u16; 26 * 26];
        for (index, country) in countries.iter().enumerate() {
            let slot = match country.iso2.as_bytes() {
                [a, b] => iso2_slot(*a, *b),
                _ => None,
            };
            let slot =
                slot.ok_or_else(|| format!("countries.csv: bad ISO code {:?}", country.iso2))?;
            by_iso2[slot] = index as u16 + 1;
        }
        let resolve = |code: &str| -> Option<CountryId> {
            match code.as_bytes() {
                [a, b] => by_iso2[iso2_slot(*a, *b)?].checked_sub(1).map(CountryId),
                _ => None,
            }
        };
        let datacenters = parse_datacenters(datacenters_csv, &resolve)?;
        let cities = parse_cities(cities_csv, &resolve)?;
        let outlines = parse_outlines(outlines_geojson, &resolve)?;

        let mut cities_by_country = vec![Vec::new(); countries.len()];
        let mut cities_by_continent: [Vec<u32>; 7] = Default::default();
        for (index, city) in cities.iter().enumerate() {
            cities_by_country[city.country.index()].push(index as u32);
            let continent = countries[city.country.index()].continent;
            cities_by_continent[continent as usize].push(index as u32);
        }
        Ok(Catalog {
            countries,
            datacenters,
            cities,
            outlines,
            by_iso2,
            cities_by_country,
            cities_by_continent,
        })
    }
}

/// Slot of an ISO alpha-2 code in `Catalog::by_iso2`, ignoring case.
fn iso2_slot(a: u8, b: u8) -> Option<usize> {
    let (a, b) = (a.to_ascii_uppercase(), b.to_ascii_uppercase());
    (a.is_ascii_uppercase() && b.is_ascii_uppercase())
        .then(|| usize::from(a - b'A') * 26 + usize::from(b - b'A'))
}

fn country_id(index: usize) -> CountryId {
    // The catalog has a few hundred countries, far below u16::MAX.
    CountryId(index as u16)
}

fn strip_article(key: &str) -> &str {
    key.strip_prefix("the ").unwrap_or(key)
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Reads a headed CSV file, checks the header and hands each record with its line number to `row`.
fn read_csv<T>(
    file: &str,
    text: &str,
    header: &[&str],
    mut row: impl FnMut(&csv::StringRecord) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    // Flexible, so that a short row is reported by the check below with its line number.
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let found = reader
        .headers()
        .map_err(|e| format!("{file}: {e}"))?
        .clone();
    if !found.iter().eq(header.iter().copied()) {
        return Err(format!(
            "{file}: expected header {}, found {}",
            header.join(","),
            found.iter().collect::<Vec<_>>().join(",")
        ));
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format!("{file}: {e}")),
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != header.len() {
            return Err(format!(
                "{file} line {line}: expected {} fields, found {}",
                header.len(),
                record.len()
            ));
        }
        rows.push(row(&record).map_err(|e| format!("{file} line {line}: {e}"))?);
    }
    Ok(rows)
}

fn number<T: std::str::FromStr>(
    record: &csv::StringRecord,
    index: usize,
    what: &str,
) -> Result<T, String> {
    let text = &record[index];
    text.parse()
        .map_err(|_| format!("{what} `{text}` is not a valid number"))
}

fn location(record: &csv::StringRecord, lat: usize, lon: usize) -> Result<LatLon, String> {
    let point = LatLon::new(
        number(record, lat, "latitude")?,
        number(record, lon, "longitude")?,
    );
    if point.is_valid() {
        Ok(point)
    } else {
        Err(format!(
            "coordinates {}, {} out of range",
            point.lat, point.lon
        ))
    }
}

fn known_country(
    resolve: &impl Fn(&str) -> Option<CountryId>,
    code: &str,
) -> Result<CountryId, String> {
    resolve(code).ok_or_else(|| format!("unknown country code `{code}`"))
}

fn parse_countries(text: &str) -> Result<Vec<Country>, String> {
    read_csv(
        "countries.csv",
        text,
        &["iso2", "iso3", "name", "continent"],
        |r| {
            Ok(Country {
                iso2: r[0].to_owned(),
                iso3: r[1].to_owned(),
                name: r[2].to_owned(),
                continent: Continent::from_code(&r[3])
                    .ok_or_else(|| format!("unknown continent `{}`", &r[3]))?,
            })
        },
    )
}

fn parse_datacenters(
    text: &str,
    resolve: &impl Fn(&str) -> Option<CountryId>,
) -> Result<Vec<DataCenter>, String> {
    let header = [
        "code",
        "city",
        "country",
        "continent",
        "region",
        "lat",
        "lon",
    ];
    read_csv("datacenters.csv", text, &header, |r| {
        Ok(DataCenter {
            code: r[0].to_owned(),
            city: r[1].to_owned(),
            country: known_country(resolve, &r[2])?,
            region: r[4].to_owned(),
            location: location(r, 5, 6)?,
        })
    })
}

fn parse_cities(
    text: &str,
    resolve: &impl Fn(&str) -> Option<CountryId>,
) -> Result<Vec<City>, String> {
    let header = [
        "name",
        "ascii_name",
        "country",
        "admin1",
        "lat",
        "lon",
        "population",
    ];
    read_csv("cities.csv", text, &header, |r| {
        Ok(City {
            name: r[0].to_owned(),
            ascii_name: r[1].to_owned(),
            country: known_country(resolve, &r[2])?,
            admin1: r[3].to_owned(),
            location: location(r, 4, 5)?,
            population: number(r, 6, "population")?,
        })
    })
}

/// GeoJSON as written by `tools/derive_data.py`: every geometry is a MultiPolygon, one `iso2` property.
#[derive(Deserialize)]
struct FeatureCollection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    properties: Properties,
    geometry: Geometry,
}

#[derive(Deserialize)]
struct Properties {
    iso2: Option<String>,
}

#[derive(Deserialize)]
struct Geometry {
    #[serde(rename = "type")]
    kind: String,
    coordinates: Vec<Vec<Vec<[f64; 2]>>>,
}

fn parse_outlines(
    text: &str,
    resolve: &impl Fn(&str) -> Option<CountryId>,
) -> Result<Vec<CountryOutline>, String> {
    let file = "country_outlines.geojson";
    let collection: FeatureCollection =
        serde_json::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    collection
        .features
        .into_iter()
        .enumerate()
        .map(|(index, feature)| {
            let context = |what: String| format!("{file} feature {index}: {what}");
            if feature.geometry.kind != "MultiPolygon" {
                return Err(context(format!(
                    "geometry `{}` is not a MultiPolygon",
                    feature.geometry.kind
                )));
            }
            let country = match feature.properties.iso2 {
                Some(code) => Some(known_country(resolve, &code).map_err(context)?),
                None => None,
            };
            let polygons = feature
                .geometry
                .coordinates
                .into_iter()
                .map(|rings| {
                    let mut rings = rings.into_iter().map(|ring| {
                        LineString::from(ring.into_iter().map(|[x, y]| (x, y)).collect::<Vec<_>>())
                    });
                    let exterior = rings
                        .next()
                        .ok_or_else(|| context("polygon without rings".into()))?;
                    Ok(Polygon::new(exterior, rings.collect()))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(CountryOutline {
                country,
                shape: MultiPolygon::new(polygons),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> &'static Catalog {
        Catalog::embedded()
    }

    fn city_label(index: usize) -> String {
        let c = catalog();
        let city = &c.cities[index];
        format!("{}, {}", city.name, c.country(city.country).iso2)
    }

    #[test]
    fn embedded_data_has_expected_sizes() {
        let c = catalog();
        assert_eq!(c.countries.len(), 252);
        assert_eq!(c.datacenters.len(), 340);
        assert_eq!(c.cities.len(), 34_006);
        assert_eq!(c.outlines.len(), 177);
        assert!(c.outlines.iter().all(|o| o.country.is_some()));
        assert!(c
            .cities
            .windows(2)
            .all(|w| w[0].population >= w[1].population));
        assert!(c.datacenters.windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn rust_search_key_matches_the_derived_ascii_names() {
        // `ascii_name` comes from Python's NFKD folding; user input is folded by `search_key`.
        let mismatches: Vec<(&str, &str, String)> = catalog()
            .cities
            .iter()
            .filter(|c| search_key(&c.name) != c.ascii_name)
            .map(|c| (c.name.as_str(), c.ascii_name.as_str(), search_key(&c.name)))
            .collect();
        assert!(mismatches.is_empty(), "{mismatches:?}");
    }

    #[test]
    fn continents_round_trip() {
        for continent in Continent::ALL {
            assert_eq!(Continent::from_code(continent.code()), Some(continent));
            assert_eq!(
                Continent::from_code(&continent.code().to_lowercase()),
                Some(continent)
            );
        }
        assert_eq!(Continent::EU.name(), "Europe");
        assert_eq!(Continent::from_code("XX"), None);
    }

    #[test]
    fn countries_by_code_and_name() {
        let c = catalog();
        let gb = c.country_by_code("GB").expect("GB");
        assert_eq!(c.country(gb).name, "United Kingdom");
        assert_eq!(c.country(gb).continent, Continent::EU);
        assert_eq!(c.country_by_code("gbr"), Some(gb));
        assert_eq!(c.country_by_code(" gb "), Some(gb));
        assert_eq!(c.country_by_name("united kingdom"), Some(gb));
        assert_eq!(c.country_by_name("Netherlands"), c.country_by_code("NL"));
        assert_eq!(c.country_by_name("Curaçao"), c.country_by_code("CW"));
        assert_eq!(
            c.country_by_code("XK")
                .map(|id| c.country(id).name.as_str()),
            Some("Kosovo")
        );
        for bad in ["", "Q", "QQ", "QQQ", "GBRR", "É1", "日本"] {
            assert_eq!(c.country_by_code(bad), None, "{bad}");
        }
        assert_eq!(c.country_by_name("Xyzzy"), None);
    }

    #[test]
    fn datacenters_by_code() {
        let c = catalog();
        let lhr = c.datacenter_by_code("lhr").expect("LHR");
        let dc = &c.datacenters[lhr];
        assert_eq!(
            (dc.code.as_str(), dc.city.as_str(), dc.region.as_str()),
            ("LHR", "London", "WEU")
        );
        assert_eq!(c.country(dc.country).iso2, "GB");
        let abq = &c.datacenters[c.datacenter_by_code("ABQ").expect("ABQ")];
        assert_eq!(abq.city, "Albuquerque", "state suffix stripped");
        assert_eq!(c.datacenter_by_code("XXX"), None);
    }

    #[test]
    fn find_city_handles_case_accents_and_qualifiers() {
        let c = catalog();
        let find = |q: &str| c.find_city(q).map(city_label);
        assert_eq!(find("London").as_deref(), Some("London, GB"));
        assert_eq!(find("london"), find("London"));
        assert_eq!(find("São Paulo").as_deref(), Some("São Paulo, BR"));
        assert_eq!(find("Sao Paulo"), find("São Paulo"));
        assert_eq!(find("SÃO PAULO"), find("São Paulo"));
        assert_eq!(find("London, GB"), find("London"));
        assert_eq!(find("London, United Kingdom"), find("London"));
        assert_eq!(find("London, CA").as_deref(), Some("London, CA"));
        assert_eq!(
            find("Portland, US").map(|l| l.starts_with("Portland")),
            Some(true)
        );
        let portland_or = c.find_city("Portland, OR").expect("Portland, OR");
        assert_eq!(c.cities[portland_or].admin1, "OR");
        assert_eq!(
            c.find_city("Portland, US"),
            Some(portland_or),
            "most populous Portland"
        );
        assert_eq!(find("Düsseldorf"), find("dusseldorf"));
        assert_eq!(find("Lodz"), find("Łódź"));
        assert!(find("Lodz").is_some());
        for bad in ["", "   ", ",", "Xyzzyville", "London, Xyzzy", "London, ZZ"] {
            assert_eq!(c.find_city(bad), None, "{bad}");
        }
    }

    #[test]
    fn city_indexes_are_consistent() {
        let c = catalog();
        let nl = c.country_by_code("NL").expect("NL");
        let dutch = c.cities_in_country(nl);
        let amsterdam = c.find_city("Amsterdam").expect("Amsterdam") as u32;
        assert!(dutch.contains(&amsterdam));
        assert!(dutch.iter().all(|&i| c.cities[i as usize].country == nl));
        assert!(
            dutch.windows(2).all(|w| w[0] < w[1]),
            "population-descending = index order"
        );
        let total: usize = Continent::ALL
            .iter()
            .map(|&k| c.cities_in_continent(k).len())
            .sum();
        assert_eq!(total, c.cities.len());
        let europe = c.cities_in_continent(Continent::EU);
        assert!(europe
            .iter()
            .all(|&i| c.country(c.cities[i as usize].country).continent == Continent::EU));
        assert!(c.cities_in_country(CountryId(u16::MAX)).is_empty());
    }

    #[test]
    fn datacenter_suggestions() {
        let c = catalog();
        let s = |q: &str| c.suggest_datacenter(q);
        assert_eq!(s("LON").as_deref(), Some("LHR (London)"));
        assert_eq!(s("london").as_deref(), Some("LHR (London)"));
        assert_eq!(s("LHRX").as_deref(), Some("LHR (London)"));
        assert_eq!(
            s("LHX").as_deref(),
            Some("LAX (Los Angeles)"),
            "ties: first code wins"
        );
        assert_eq!(s("NYC").as_deref(), Some("EWR (Newark)"));
        assert_eq!(s("Amsterdm").as_deref(), Some("AMS (Amsterdam)"));
        assert_eq!(s("zürich").as_deref(), Some("ZRH (Zurich)"));
        assert_eq!(s("qqqqqqqq"), None);
        assert_eq!(s(""), None);
    }

    #[test]
    fn city_and_country_suggestions() {
        let c = catalog();
        assert_eq!(c.suggest_city("Amsterdm").as_deref(), Some("Amsterdam, NL"));
        assert_eq!(
            c.suggest_city("amsterdam, XX").as_deref(),
            Some("Amsterdam, NL")
        );
        assert_eq!(c.suggest_city("qqqqqqqqqqqq"), None);
        assert_eq!(
            c.suggest_country("UK").as_deref(),
            Some("GB (United Kingdom)")
        );
        assert_eq!(c.suggest_country("Germny").as_deref(), Some("DE (Germany)"));
        assert_eq!(
            c.suggest_country("holland").as_deref(),
            Some("NL (The Netherlands)")
        );
        assert_eq!(
            c.suggest_country("GBX").as_deref(),
            Some("GB (United Kingdom)")
        );
        assert_eq!(c.suggest_country("qqqqqqqqq"), None);
    }

    /// Parse time of the embedded catalog, best of 5 (the machine may be shared):
    /// `cargo test --release -- --ignored --nocapture parse_speed`.
    #[test]
    #[ignore = "timing measurement; run explicitly in release mode"]
    fn parse_speed() {
        let best = (0..5)
            .map(|_| {
                let t = std::time::Instant::now();
                let parsed =
                    Catalog::parse(COUNTRIES_CSV, DATACENTERS_CSV, CITIES_CSV, OUTLINES_GEOJSON);
                assert!(parsed.is_ok());
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!("catalog parse: {:.1} ms", best * 1e3);
    }

    #[test]
    fn corrupt_data_gives_a_clear_error() {
        let ok = (COUNTRIES_CSV, DATACENTERS_CSV, CITIES_CSV, OUTLINES_GEOJSON);
        let parse = |countries, dcs, cities, outlines| {
            Catalog::parse(countries, dcs, cities, outlines).expect_err("should fail")
        };
        let bad_city = CITIES_CSV.replacen("31.2222", "north", 1);
        let err = parse(ok.0, ok.1, &bad_city, ok.3);
        assert_eq!(
            err,
            "cities.csv line 2: latitude `north` is not a valid number"
        );
        let bad_header = DATACENTERS_CSV.replacen("code,", "iata,", 1);
        assert!(
            parse(ok.0, &bad_header, ok.2, ok.3).starts_with("datacenters.csv: expected header")
        );
        let bad_country = COUNTRIES_CSV.replacen(",EU\n", ",XX\n", 1);
        assert!(parse(&bad_country, ok.1, ok.2, ok.3).contains("unknown continent `XX`"));
        let err = parse(ok.0, ok.1, ok.2, "{\"features\":[");
        assert!(err.starts_with("country_outlines.geojson:"), "{err}");
        let short = "name,ascii_name,country,admin1,lat,lon,population\nA,a,GB\n";
        assert!(parse(ok.0, ok.1, short, ok.3).contains("line 2"));
    }
}
