//! `[population.location]`: where a synthetic population's users are (anchors around places, or the
//! cities of a country, continent or Cloudflare region) and how far they spread from their anchor.

use rand_distr::weighted::WeightedAliasIndex;
use toml::Spanned;

use super::compile::Ctx;
use super::raw::{RawLocation, RawSpread};
use crate::catalog::{Catalog, Continent, CountryId, DataCenter};
use crate::country_index::CountryIndex;
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

/// Anchor points, their weights, a description for reports, and the countries users must stay in.
struct Anchors {
    points: Vec<LatLon>,
    weights: Vec<f64>,
    description: String,
    area: Option<Vec<bool>>,
}

/// Catalog cities to anchor users at, what they are, and the countries users must stay in.
struct Cities {
    ids: Vec<u32>,
    what: String,
    /// Per `CountryId`: inside the area.
    area: Vec<bool>,
}

/// Compiles a population's location, or reports why it cannot.
pub(super) fn placement(
    cx: &mut Ctx,
    places: Places,
    loc: &Spanned<RawLocation>,
) -> Option<Placement> {
    let l = loc.get_ref();
    // `country` next to `region` narrows the region, so it does not count on its own then.
    let given = [
        l.around.is_some(),
        l.country.is_some() && l.region.is_none(),
        l.continent.is_some(),
        l.region.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given != 1 {
        cx.err_help(
            loc.span(),
            if given == 0 { "`location` says nothing about where users are".to_string() } else { "`location` must use exactly one of `around`, `country`, `continent`, `region` (`country` may narrow a `region`)".to_string() },
            Some("e.g. `around = [\"Amsterdam\"]`, `country = \"DE\"`, `continent = \"EU\"`, `region = \"WEU\"` or `region = \"WNAM\"` with `country = \"US\"`".into()),
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
            area: anchors.area,
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
        area: None,
    })
}

/// `country`, `continent` or `region`: the catalog cities there, weighted by population; users
/// stay in the countries of the area.
fn city_anchors(cx: &mut Ctx, places: Places, loc: &Spanned<RawLocation>) -> Option<Anchors> {
    let l = loc.get_ref();
    let catalog = places.catalog;
    let cities = if let Some(r) = &l.region {
        let within = match &l.country {
            Some(c) => Some(country_id(cx, catalog, c)?),
            None => None,
        };
        region_cities(cx, places, r, within)?
    } else if let Some(c) = &l.country {
        country_cities(cx, catalog, c)?
    } else if let Some(c) = &l.continent {
        continent_cities(cx, catalog, c)?
    } else {
        return None;
    };
    // Anchors the country outlines put outside the area (a border or coastal city at their
    // resolution) would leave a user who stays at the anchor outside it.
    let countries = CountryIndex::embedded();
    let mut cities = cities;
    let area = &cities.area;
    cities.ids.retain(|&i| {
        area[countries
            .lookup(catalog.cities[i as usize].location)
            .index()]
    });
    if cities.ids.is_empty() {
        cx.err(
            loc.span(),
            format!("no catalog cities found for {}", cities.what),
        );
        return None;
    }
    let city = |i: &u32| &catalog.cities[*i as usize];
    Some(Anchors {
        points: cities.ids.iter().map(|i| city(i).location).collect(),
        weights: cities
            .ids
            .iter()
            .map(|i| city(i).population.max(1) as f64)
            .collect(),
        description: format!("{}, weighted by population", cities.what),
        area: Some(cities.area),
    })
}

/// A country by code or name, or a located error with a suggestion.
fn country_id(cx: &mut Ctx, catalog: &Catalog, c: &Spanned<String>) -> Option<CountryId> {
    let found = catalog
        .country_by_code(c.get_ref())
        .or_else(|| catalog.country_by_name(c.get_ref()));
    if found.is_none() {
        cx.err_help(
            c.span(),
            format!("unknown country `{}`", c.get_ref()),
            catalog
                .suggest_country(c.get_ref())
                .map(|s| format!("did you mean {s}?")),
        );
    }
    found
}

fn country_cities(cx: &mut Ctx, catalog: &Catalog, c: &Spanned<String>) -> Option<Cities> {
    let id = country_id(cx, catalog, c)?;
    let mut area = vec![false; catalog.countries.len()];
    area[id.index()] = true;
    Some(Cities {
        ids: catalog.cities_in_country(id).to_vec(),
        what: format!("cities of {}", catalog.country(id).name),
        area,
    })
}

fn continent_cities(cx: &mut Ctx, catalog: &Catalog, c: &Spanned<String>) -> Option<Cities> {
    match Continent::from_code(c.get_ref()) {
        Some(k) => Some(Cities {
            ids: catalog
                .cities_in_continent(k)
                .iter()
                .copied()
                .filter(|&i| on_continent(k, catalog.cities[i as usize].location))
                .collect(),
            what: format!("cities of {}", k.name()),
            area: catalog.countries.iter().map(|x| x.continent == k).collect(),
        }),
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

/// Europe ends at the Urals: the catalog files Russia under Europe by country, so its Asian cities
/// (east of 60°E) would put a `continent = "EU"` population in Siberia.
const URALS_LON: f64 = 60.0;

/// Whether a city of a country filed under continent `k` lies on that continent.
fn on_continent(k: Continent, at: LatLon) -> bool {
    k != Continent::EU || at.lon <= URALS_LON
}

/// A Cloudflare region's cities: in a country that hosts one of the region's data centers (only
/// `within`, when given), and nearest to one of the region's data centers (the region's
/// catchment, which splits the United States and Canada between WNAM and ENAM).
fn region_cities(
    cx: &mut Ctx,
    places: Places,
    r: &Spanned<String>,
    within: Option<CountryId>,
) -> Option<Cities> {
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
    let mut area = vec![false; catalog.countries.len()];
    for d in catalog.datacenters.iter().filter(|d| d.region == region) {
        area[d.country.index()] = true;
    }
    let mut what = format!("cities nearest to {region} data centers");
    if let Some(c) = within {
        if !area[c.index()] {
            let mut codes: Vec<&str> = (0..area.len())
                .filter(|&i| area[i])
                .map(|i| catalog.countries[i].iso2.as_str())
                .collect();
            codes.sort_unstable();
            cx.err_help(
                r.span(),
                format!(
                    "region {region} has no data center in {}",
                    catalog.country(c).name
                ),
                Some(format!("its countries: {}", codes.join(", "))),
            );
            return None;
        }
        area = (0..area.len()).map(|i| i == c.index()).collect();
        what = format!(
            "cities of {} nearest to {region} data centers",
            catalog.country(c).name
        );
    }
    let catalog_dcs = catalog.datacenters.len() as u32;
    let mut out = [Neighbor {
        index: 0,
        distance_km: 0.0,
    }; 1];
    let ids = (0..catalog.cities.len() as u32)
        .filter(|&i| {
            let city = &catalog.cities[i as usize];
            area[city.country.index()]
                && places
                    .dc_index
                    .nearest(city.location, |d| d < catalog_dcs, &mut out)
                    == 1
                && places.dcs[out[0].index as usize].region == region
        })
        .collect();
    Some(Cities { ids, what, area })
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

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::country_index::CountryIndex;
    use crate::error::Source;
    use crate::scenario::{compile, Overrides};
    use crate::world::World;

    /// A scenario with one population per `[population.location]` body given.
    fn world(locations: &[&str]) -> World {
        let mut text = String::from(
            "name = \"t\"\nseed = 7\n[[egress]]\nid = \"lhr-1\"\ndatacenter = \"LHR\"\nipv4 = \"203.0.113.20\"\n",
        );
        for (i, l) in locations.iter().enumerate() {
            text.push_str(&format!(
                "[[population]]\nname = \"p{i}\"\nusers = 4000\n[population.location]\n{l}\n"
            ));
        }
        text.push_str("[[resource]]\nname = \"r\"\nhost = \"r.example\"\nipv4 = \"198.51.100.1\"\nlocation = \"London\"\n");
        compile(&Source::new("t.toml", text), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"))
            .world
    }

    /// Share of population `p`'s users whose country (by the country index) is not in `allowed`.
    fn outside(w: &World, p: usize, allowed: &[&str]) -> f64 {
        let (catalog, countries) = (Catalog::embedded(), CountryIndex::embedded());
        let pop = &w.populations[p];
        let out = (0..pop.users)
            .filter(|i| {
                let (u, _) =
                    crate::users::generate(w.seed, pop.first_user + i, p as u16, pop, countries);
                !allowed.contains(&catalog.country(u.country).iso2.as_str())
            })
            .count();
        out as f64 / pop.users as f64
    }

    #[test]
    fn region_country_and_continent_populations_stay_inside() {
        let spread = "spread = { distribution = \"lognormal\", median_km = 10, sigma = 0.7 }";
        let w = world(&[
            // The flagship's `us-west-sales`: the US part of WNAM.
            &format!("region = \"WNAM\"\ncountry = \"US\"\n{spread}"),
            // All of WNAM: its countries are the United States, Canada and Mexico; nobody in
            // Russia across the Bering Strait.
            &format!("region = \"WNAM\"\n{spread}"),
            // A wide spread along a border: still all in Germany.
            "country = \"DE\"\nspread = { distribution = \"normal\", sigma_km = 60 }",
        ]);
        assert_eq!(outside(&w, 0, &["US"]), 0.0);
        assert_eq!(outside(&w, 1, &["US", "CA", "MX"]), 0.0);
        assert_eq!(outside(&w, 2, &["DE"]), 0.0);
    }

    #[test]
    fn the_shipped_populations_read_as_named() {
        // `us-west-sales` is the western United States (the US part of WNAM: no Mexico, no
        // Russia), `europe-remote` is in Europe, in every shipped scenario that has them.
        let catalog = Catalog::embedded();
        let europe: Vec<&str> = catalog
            .countries
            .iter()
            .filter(|c| c.continent == crate::catalog::Continent::EU)
            .map(|c| c.iso2.as_str())
            .collect();
        let overrides = Overrides {
            users: Some(20_000),
            ..Overrides::default()
        };
        for file in [
            "scenarios/three-sites.toml",
            "scenarios/three-sites-plus-frankfurt.toml",
        ] {
            let w = crate::scenario::load(std::path::Path::new(file), &overrides)
                .unwrap_or_else(|e| panic!("{e}"))
                .world;
            let p = |name: &str| w.populations.iter().position(|p| p.name == name).unwrap();
            let west = p("us-west-sales");
            assert_eq!(outside(&w, west, &["US"]), 0.0, "{file}");
            let pop = &w.populations[west];
            let countries = CountryIndex::embedded();
            let mut lon: Vec<f64> = (0..pop.users)
                .map(|i| {
                    let (u, _) = crate::users::generate(
                        w.seed,
                        pop.first_user + i,
                        west as u16,
                        pop,
                        countries,
                    );
                    u.location.lon
                })
                .collect();
            lon.sort_by(f64::total_cmp);
            let median = lon[lon.len() / 2];
            assert!(median < -100.0, "{file}: median longitude {median}");
            assert_eq!(outside(&w, p("europe-remote"), &europe), 0.0, "{file}");
        }
    }

    #[test]
    fn a_continent_population_stays_on_its_continent() {
        let w = world(&["continent = \"EU\"\nspread = { distribution = \"lognormal\", median_km = 30, sigma = 1.0 }"]);
        let catalog = Catalog::embedded();
        let europe: Vec<&str> = catalog
            .countries
            .iter()
            .filter(|c| c.continent == crate::catalog::Continent::EU)
            .map(|c| c.iso2.as_str())
            .collect();
        assert_eq!(outside(&w, 0, &europe), 0.0);
        // West of the Urals: none of Russia's Asian cities (Novosibirsk, Vladivostok) anchor users.
        let pop = &w.populations[0];
        let countries = CountryIndex::embedded();
        let east = (0..pop.users)
            .filter(|i| {
                let (u, _) = crate::users::generate(w.seed, pop.first_user + i, 0, pop, countries);
                u.location.lon > super::URALS_LON + 5.0
            })
            .count();
        assert_eq!(east, 0, "{east} of {} users east of the Urals", pop.users);
    }

    #[test]
    fn a_country_outside_the_region_is_refused() {
        let text = "name = \"t\"\n[[egress]]\nid = \"a\"\ndatacenter = \"LHR\"\nipv4 = \"203.0.113.1\"\n[[population]]\nname = \"p\"\nusers = 10\n[population.location]\nregion = \"WNAM\"\ncountry = \"DE\"\n";
        let Err(err) = compile(&Source::new("t.toml", text), &Overrides::default()) else {
            panic!("refused");
        };
        let err = err.to_string();
        assert!(
            err.contains("region WNAM has no data center in Germany"),
            "{err}"
        );
        assert!(err.contains("CA, MX, US"), "{err}");
    }
}
