//! Turning what users type for a place (`LHR`, `Frankfurt`, `Portland, US`, `48.85,2.35`) into coordinates.
//!
//! The same rules serve scenario files and the command line: an exact data center code (upper case, as
//! Cloudflare writes them) wins, then `lat,lon`, then a city name from the catalog (most populous match).

use crate::catalog::{Catalog, CountryId, DataCenter};
use crate::geodesy::LatLon;
use crate::suggest;

/// What a place string resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    /// A data center (index into the world's data centers).
    DataCenter(usize),
    /// A catalog city (index into the catalog's cities).
    City(usize),
    /// Raw coordinates.
    Coordinates,
}

/// A resolved place.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Human-readable label (`LHR (London)`, `Frankfurt am Main, DE`, `48.85,2.35`).
    pub label: String,
    /// Coordinates.
    pub location: LatLon,
    /// Country, when known without a polygon lookup.
    pub country: Option<CountryId>,
    /// What kind of place it is.
    pub kind: PlaceKind,
}

/// Why a place could not be resolved: a message and maybe a suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceError {
    /// What was wrong and what was expected.
    pub message: String,
    /// A suggestion, if any.
    pub help: Option<String>,
}

/// Parses `lat,lon` (spaces allowed). `Ok(None)` when the text is not shaped like coordinates.
pub fn parse_coordinates(text: &str) -> Result<Option<LatLon>, PlaceError> {
    let Some((a, b)) = text.split_once(',') else {
        return Ok(None);
    };
    let (Ok(lat), Ok(lon)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) else {
        return Ok(None);
    };
    let p = LatLon::new(lat, lon);
    if !p.is_valid() {
        return Err(PlaceError {
            message: format!(
                "coordinates `{text}` are out of range: latitude must be -90..90 and longitude -180..180"
            ),
            help: Some("write `lat,lon`, latitude first, e.g. `51.5,-0.12`".into()),
        });
    }
    Ok(Some(p))
}

/// Resolves a place string against the world's data centers and the catalog's cities.
pub fn resolve(
    text: &str,
    datacenters: &[DataCenter],
    catalog: &Catalog,
) -> Result<Place, PlaceError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(PlaceError {
            message: "empty place".into(),
            help: Some("use a data center code (`LHR`), a city (`London`) or `lat,lon`".into()),
        });
    }
    if let Some(i) = datacenters.iter().position(|d| d.code == t) {
        let d = &datacenters[i];
        return Ok(Place {
            label: format!("{} ({})", d.code, d.city),
            location: d.location,
            country: Some(d.country),
            kind: PlaceKind::DataCenter(i),
        });
    }
    if let Some(p) = parse_coordinates(t)? {
        return Ok(Place {
            label: format!("{:.4},{:.4}", p.lat, p.lon),
            location: p,
            country: None,
            kind: PlaceKind::Coordinates,
        });
    }
    if let Some(i) = catalog.find_city(t) {
        let c = &catalog.cities[i];
        return Ok(Place {
            label: format!("{}, {}", c.name, catalog.country(c.country).iso2),
            location: c.location,
            country: Some(c.country),
            kind: PlaceKind::City(i),
        });
    }
    let looks_like_code = t.len() <= 5 && t.chars().all(|c| c.is_ascii_alphanumeric());
    let help = if looks_like_code {
        suggest_datacenter(t, datacenters).or_else(|| {
            catalog
                .suggest_city(t)
                .map(|c| format!("did you mean the city `{c}`?"))
        })
    } else {
        catalog
            .suggest_city(t)
            .map(|c| format!("did you mean `{c}`?"))
            .or_else(|| suggest_datacenter(t, datacenters))
    };
    Err(PlaceError {
        message: format!(
            "unknown place `{t}`: expected a data center code (e.g. `LHR`), a city name (e.g. `London`) or `lat,lon`"
        ),
        help,
    })
}

/// "did you mean `LHR` (London)?" for a mistyped data center code, over the world's data centers
/// (catalog plus scenario-defined ones). Tries the code first, then the city name.
pub fn suggest_datacenter(query: &str, datacenters: &[DataCenter]) -> Option<String> {
    let q = query.trim();
    let lower = q.to_ascii_lowercase();
    // "LON" should find London before Londrina: exact city names first, then the shortest prefix match.
    let by_city = datacenters
        .iter()
        .find(|d| d.city.eq_ignore_ascii_case(q))
        .or_else(|| {
            datacenters
                .iter()
                .filter(|d| q.len() >= 3 && d.city.to_ascii_lowercase().starts_with(&lower))
                .min_by_key(|d| d.city.len())
        });
    let found = match by_city {
        Some(d) => Some(d),
        None => suggest::closest(q, datacenters.iter().map(|d| d.code.as_str()))
            .and_then(|code| datacenters.iter().find(|d| d.code == code)),
    };
    found.map(|d| format!("did you mean `{}` ({})?", d.code, d.city))
}
