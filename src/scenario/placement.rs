//! `[population.location]`: where a synthetic population's users are (anchors around places, or the
//! cities of a country, continent or Cloudflare region) and how far they spread from their anchor.

use rand_distr::weighted::WeightedAliasIndex;
use toml::Spanned;

use super::compile::Ctx;
use super::raw::{RawLocation, RawSpread};
use crate::catalog::{Catalog, Continent, DataCenter};
use crate::geodesy::LatLon;
use crate::nearest::{NearestIndex, Neighbor};
use crate::place;
use crate::suggest;
use crate::world::{Placement, Spread};

/// The places a location can name: the scenario's data centers and the catalog's cities.
#[derive(Clone, Copy)]
pub(super) struct Places<'a> {
    pub(super) catalog: &'a Catalog,
    pub(super) dcs: &'a [DataCenter],
    pub(super) dc_index: &'a NearestIndex,
}

/// Anchor points, their weights, and a description for reports.
struct Anchors {
    points: Vec<LatLon>,
    weights: Vec<f64>,
    description: String,
}

/// Compiles a population's location, or reports why it cannot.
pub(super) fn placement(
    cx: &mut Ctx,
    places: Places,
    loc: &Spanned<RawLocation>,
) -> Option<Placement> {
    let l = loc.get_ref();
    let given = [
        l.around.is_some(),
        l.country.is_some(),
        l.continent.is_some(),
        l.region.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given != 1 {
        cx.err_help(
            loc.span(),
            if given == 0 { "`location` says nothing about where users are".to_string() } else { "`location` must use exactly one of `around`, `country`, `continent`, `region`".to_string() },
            Some("e.g. `around = [\"Amsterdam\"]`, `country = \"DE\"`, `continent = \"EU\"` or `region = \"WEU\"`".into()),
        );
        return None;
    }
    let spread = match &l.spread {
        None => Spread::Normal { sigma_km: 20.0 },
        Some(s) => spread(cx, s)?,
    };
    let anchors = match &l.around {
        Some(around) => around_places(cx, places, loc, around)?,
        None => city_anchors(cx, places, loc)?,
    };
    match WeightedAliasIndex::new(anchors.weights) {
        Ok(alias) => Some(Placement {
            anchors: anchors.points,
            alias,
            spread,
            description: anchors.description,
        }),
        Err(e) => {
            cx.err(loc.span(), format!("invalid weights: {e}"));
            None
        }
    }
}

/// `around = [...]` with optional `weights`.
fn around_places(
    cx: &mut Ctx,
    places: Places,
    loc: &Spanned<RawLocation>,
    around: &[Spanned<String>],
) -> Option<Anchors> {
    if around.is_empty() {
        cx.err(loc.span(), "`around` must list at least one place");
        return None;
    }
    let mut points = Vec::new();
    let mut labels = Vec::new();
    for a in around {
        match place::resolve(a.get_ref(), places.dcs, places.catalog) {
            Ok(p) => {
                points.push(p.location);
                labels.push(p.label);
            }
            Err(e) => cx.err_help(a.span(), e.message, e.help),
        }
    }
    if points.len() != around.len() {
        return None;
    }
    let weights = match &loc.get_ref().weights {
        None => vec![1.0; points.len()],
        Some(w) => {
            if w.get_ref().len() != points.len() {
                cx.err(
                    w.span(),
                    format!(
                        "`weights` has {} entries but `around` has {}",
                        w.get_ref().len(),
                        points.len()
                    ),
                );
                return None;
            }
            if w.get_ref().iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                cx.err(w.span(), "every weight must be a positive number");
                return None;
            }
            w.get_ref().clone()
        }
    };
    Some(Anchors {
        points,
        weights,
        description: format!("around {}", labels.join("; ")),
    })
}

/// `country`, `continent` or `region`: the catalog cities there, weighted by population.
fn city_anchors(cx: &mut Ctx, places: Places, loc: &Spanned<RawLocation>) -> Option<Anchors> {
    let l = loc.get_ref();
    let catalog = places.catalog;
    let (ids, what) = if let Some(c) = &l.country {
        country_cities(cx, catalog, c)?
    } else if let Some(c) = &l.continent {
        continent_cities(cx, catalog, c)?
    } else if let Some(r) = &l.region {
        region_cities(cx, places, r)?
    } else {
        return None;
    };
    if ids.is_empty() {
        cx.err(loc.span(), format!("no catalog cities found for {what}"));
        return None;
    }
    let city = |i: &u32| &catalog.cities[*i as usize];
    Some(Anchors {
        points: ids.iter().map(|i| city(i).location).collect(),
        weights: ids
            .iter()
            .map(|i| city(i).population.max(1) as f64)
            .collect(),
        description: format!("{what}, weighted by population"),
    })
}

fn country_cities(
    cx: &mut Ctx,
    catalog: &Catalog,
    c: &Spanned<String>,
) -> Option<(Vec<u32>, String)> {
    match catalog
        .country_by_code(c.get_ref())
        .or_else(|| catalog.country_by_name(c.get_ref()))
    {
        Some(id) => Some((
            catalog.cities_in_country(id).to_vec(),
            format!("cities of {}", catalog.country(id).name),
        )),
        None => {
            cx.err_help(
                c.span(),
                format!("unknown country `{}`", c.get_ref()),
                catalog
                    .suggest_country(c.get_ref())
                    .map(|s| format!("did you mean {s}?")),
            );
            None
        }
    }
}

fn continent_cities(
    cx: &mut Ctx,
    catalog: &Catalog,
    c: &Spanned<String>,
) -> Option<(Vec<u32>, String)> {
    match Continent::from_code(c.get_ref()) {
        Some(k) => Some((
            catalog.cities_in_continent(k).to_vec(),
            format!("cities of {}", k.name()),
        )),
        None => {
            cx.err_help(
                c.span(),
                format!("unknown continent `{}`", c.get_ref()),
                Some("use a two-letter code: AF, AN, AS, EU, NA, OC, SA".into()),
            );
            None
        }
    }
}

/// The cities whose nearest catalog data center is in Cloudflare region `r`.
fn region_cities(cx: &mut Ctx, places: Places, r: &Spanned<String>) -> Option<(Vec<u32>, String)> {
    let catalog = places.catalog;
    let region = r.get_ref().trim().to_ascii_uppercase();
    let mut known: Vec<&str> = catalog
        .datacenters
        .iter()
        .map(|d| d.region.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    known.sort_unstable();
    known.dedup();
    if !known.contains(&region.as_str()) {
        cx.err_help(
            r.span(),
            format!("unknown Cloudflare region `{}`", r.get_ref()),
            Some(format!("regions: {}", known.join(", "))),
        );
        return None;
    }
    let catalog_dcs = catalog.datacenters.len() as u32;
    let mut out = [Neighbor {
        index: 0,
        distance_km: 0.0,
    }; 1];
    let ids = (0..catalog.cities.len() as u32)
        .filter(|&i| {
            let n = places.dc_index.nearest(
                catalog.cities[i as usize].location,
                |d| d < catalog_dcs,
                &mut out,
            );
            n == 1 && places.dcs[out[0].index as usize].region == region
        })
        .collect();
    Some((ids, format!("cities nearest to {region} data centers")))
}

/// `spread = { distribution = "normal" | "lognormal", ... }`.
pub(super) fn spread(cx: &mut Ctx, s: &Spanned<RawSpread>) -> Option<Spread> {
    let r = s.get_ref();
    match r.distribution.get_ref().as_str() {
        "normal" => {
            if r.median_km.is_some() || r.sigma.is_some() {
                cx.err_help(
                    s.span(),
                    "`normal` spread takes only `sigma_km`",
                    Some("`median_km` and `sigma` belong to `lognormal`".into()),
                );
                return None;
            }
            let sigma_km = cx.non_negative(&r.sigma_km, "sigma_km", 20.0);
            Some(Spread::Normal { sigma_km })
        }
        "lognormal" => {
            if r.sigma_km.is_some() {
                cx.err_help(
                    s.span(),
                    "`lognormal` spread takes `median_km` and `sigma`",
                    Some("`sigma_km` belongs to `normal`".into()),
                );
                return None;
            }
            let median_km = cx.positive(&r.median_km, "median_km", 10.0);
            let sigma = cx.non_negative(&r.sigma, "sigma", 0.8);
            if sigma > 3.0 {
                cx.err(
                    s.span(),
                    "`sigma` above 3 puts users on the other side of the planet; use at most 3",
                );
                return None;
            }
            Some(Spread::LogNormal { median_km, sigma })
        }
        other => {
            cx.err_help(
                r.distribution.span(),
                format!("unknown spread distribution `{other}`"),
                Some(match suggest::closest(other, ["normal", "lognormal"]) {
                    Some(s) => format!("did you mean `{s}`? use `normal` or `lognormal`"),
                    None => {
                        "use `normal` (with `sigma_km`) or `lognormal` (with `median_km`, `sigma`)"
                            .into()
                    }
                }),
            );
            None
        }
    }
}
