//! Failure cases (`[[failure]]`), the sweep setting, and geography requirements (`require_egress_in`).

use std::collections::HashSet;

use toml::Spanned;

use super::compile::Ctx;
use super::raw::*;
use crate::catalog::{Catalog, DataCenter};
use crate::place;
use crate::suggest;
use crate::world::*;

/// Distance within which a data center counts as "in" a city named by a requirement (metro areas:
/// Heathrow is 22 km from central London, Dulles 40 km from Washington).
const CITY_RADIUS_KM: f64 = 60.0;

/// Compiles the declared `[[failure]]` entries into cases (after the baseline).
pub(super) fn failures(
    cx: &mut Ctx,
    catalog: &Catalog,
    dcs: &[DataCenter],
    egress: &[Egress],
    raw: &[RawFailure],
) -> Vec<Case> {
    let mut names: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for f in raw {
        let Some(name) = failure_name(cx, f, &mut names) else {
            continue;
        };
        let mut case = Case {
            name,
            description: f.description.clone().unwrap_or_default(),
            origin: CaseOrigin::Declared,
            dc_down: vec![false; dcs.len()],
            egress_down: vec![false; egress.len()],
        };
        down_datacenters(cx, dcs, &f.datacenters, &mut case.dc_down);
        down_egress(cx, egress, &f.egress, &mut case.egress_down);
        down_countries(cx, catalog, dcs, &f.countries, &mut case.dc_down);
        down_regions(cx, dcs, &f.regions, &mut case.dc_down);
        if f.datacenters.is_empty()
            && f.egress.is_empty()
            && f.countries.is_empty()
            && f.regions.is_empty()
        {
            cx.err_help(
                f.name.span(),
                format!("failure `{}` takes nothing down", case.name),
                Some("list what is down: `datacenters = [\"LHR\"]`, `egress = [\"lhr-1\"]`, `countries = [\"GB\"]` or `regions = [\"WEU\"]`".into()),
            );
            continue;
        }
        out.push(case);
    }
    out
}

/// A failure's name: not empty, not reserved, not a duplicate.
fn failure_name(cx: &mut Ctx, f: &RawFailure, names: &mut HashSet<String>) -> Option<String> {
    let name = f.name.get_ref().trim().to_string();
    if name.is_empty() {
        cx.err(f.name.span(), "failure `name` must not be empty");
        return None;
    }
    if name == "baseline" || name.starts_with("down:") {
        cx.err_help(
            f.name.span(),
            format!("failure name `{name}` is reserved"),
            Some("`baseline` and names starting with `down:` are used by the tool; pick another name, e.g. `lhr-outage`".into()),
        );
        return None;
    }
    if !names.insert(name.clone()) {
        cx.err(f.name.span(), format!("duplicate failure name `{name}`"));
        return None;
    }
    Some(name)
}

/// Sets `flags[i]` for every data center `i` that `pick` selects; true when there was one.
fn mark(flags: &mut [bool], dcs: &[DataCenter], pick: impl Fn(&DataCenter) -> bool) -> bool {
    let mut any = false;
    for (flag, d) in flags.iter_mut().zip(dcs) {
        if pick(d) {
            *flag = true;
            any = true;
        }
    }
    any
}

fn down_datacenters(
    cx: &mut Ctx,
    dcs: &[DataCenter],
    codes: &[Spanned<String>],
    down: &mut [bool],
) {
    for d in codes {
        let code = d.get_ref().trim();
        match dcs.iter().position(|x| x.code.eq_ignore_ascii_case(code)) {
            Some(i) => down[i] = true,
            None => cx.err_help(
                d.span(),
                format!("unknown data center `{code}`"),
                place::suggest_datacenter(code, dcs),
            ),
        }
    }
}

fn down_egress(cx: &mut Ctx, egress: &[Egress], ids: &[Spanned<String>], down: &mut [bool]) {
    for e in ids {
        let id = e.get_ref().trim();
        match egress.iter().position(|x| x.id == id) {
            Some(i) => down[i] = true,
            None => cx.err_help(
                e.span(),
                format!(
                    "unknown egress IP `{id}`{}",
                    suggest::did_you_mean(id, egress.iter().map(|x| x.id.as_str()))
                ),
                Some(format!(
                    "egress ids in this scenario: {}",
                    egress
                        .iter()
                        .map(|x| format!("`{}`", x.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ),
        }
    }
}

fn down_countries(
    cx: &mut Ctx,
    catalog: &Catalog,
    dcs: &[DataCenter],
    countries: &[Spanned<String>],
    down: &mut [bool],
) {
    for c in countries {
        let text = c.get_ref().trim();
        match catalog
            .country_by_code(text)
            .or_else(|| catalog.country_by_name(text))
        {
            Some(id) => {
                if !mark(down, dcs, |d| d.country == id) {
                    cx.warn(
                        c.span(),
                        format!("country `{text}` has no Cloudflare data center; failing it changes nothing"),
                    );
                }
            }
            None => cx.err_help(
                c.span(),
                format!("unknown country `{text}`"),
                catalog
                    .suggest_country(text)
                    .or_else(|| Some("use an ISO code such as `GB` or `NL`".into())),
            ),
        }
    }
}

fn down_regions(cx: &mut Ctx, dcs: &[DataCenter], regions: &[Spanned<String>], down: &mut [bool]) {
    for r in regions {
        let region = r.get_ref().trim().to_ascii_uppercase();
        if mark(down, dcs, |d| d.region == region) {
            continue;
        }
        let mut known: Vec<&str> = dcs.iter().map(|d| d.region.as_str()).collect();
        known.sort_unstable();
        known.dedup();
        known.retain(|k| !k.is_empty());
        cx.err_help(
            r.span(),
            format!(
                "unknown Cloudflare region `{}`{}",
                r.get_ref(),
                suggest::did_you_mean(&region, known.iter().copied())
            ),
            Some(format!("regions: {}", known.join(", "))),
        );
    }
}

/// Reads `[simulation] sweep`.
pub(super) fn sweep(cx: &mut Ctx, raw: Option<&Spanned<String>>) -> Sweep {
    let Some(s) = raw else { return Sweep::None };
    match Sweep::parse(s.get_ref()) {
        Some(x) => x,
        None => {
            cx.err_help(
                s.span(),
                format!("unknown sweep `{}`", s.get_ref()),
                Some("use `none`, `n-1` (every single failure) or `n-2` (also every pair of egress data centers)".into()),
            );
            Sweep::None
        }
    }
}

/// Compiles one `require_egress_in` list into a requirement: each entry is a data center code, a
/// country (ISO code or name) or a city (data centers within [`CITY_RADIUS_KM`] of it).
pub(super) fn requirement(
    cx: &mut Ctx,
    catalog: &Catalog,
    dcs: &[DataCenter],
    items: &[Spanned<String>],
    whose: &str,
) -> Option<EgressRequirement> {
    let mut allowed = vec![false; dcs.len()];
    let mut labels = Vec::new();
    let mut ok = true;
    if items.is_empty() {
        cx.errors.push(crate::error::InputError::in_file(
            cx.src,
            format!("`require_egress_in` of {whose} is empty"),
        ));
        return None;
    }
    for item in items {
        let text = item.get_ref().trim();
        labels.push(text.to_string());
        let looks_like_dc = text.len() >= 3 && text.chars().all(|c| c.is_ascii_alphanumeric());
        if looks_like_dc {
            if let Some(i) = dcs.iter().position(|d| d.code.eq_ignore_ascii_case(text)) {
                allowed[i] = true;
                continue;
            }
        }
        if let Some(id) = catalog
            .country_by_code(text)
            .or_else(|| catalog.country_by_name(text))
        {
            if !mark(&mut allowed, dcs, |d| d.country == id) {
                cx.err_help(
                    item.span(),
                    format!("no Cloudflare data center is in `{text}`, so this requirement can never be met"),
                    Some("name a country, city or data center that has one".into()),
                );
                ok = false;
            }
            continue;
        }
        if let Some(ci) = catalog.find_city(text) {
            let city = &catalog.cities[ci];
            let in_city = |d: &DataCenter| {
                d.location.distance_km(city.location) <= CITY_RADIUS_KM
                    || suggest::search_key(&d.city) == city.ascii_name
            };
            if !mark(&mut allowed, dcs, in_city) {
                cx.err_help(
                    item.span(),
                    format!(
                        "no Cloudflare data center is within {CITY_RADIUS_KM} km of {}",
                        city.name
                    ),
                    Some("name the country or a data center code instead".into()),
                );
                ok = false;
            }
            continue;
        }
        cx.err_help(
            item.span(),
            format!("unknown place `{text}` in `require_egress_in`: expected a country (`GB`), a city (`London`) or a data center code (`LHR`)"),
            place::suggest_datacenter(text, dcs).or_else(|| catalog.suggest_country(text)),
        );
        ok = false;
    }
    ok.then(|| EgressRequirement {
        label: labels.join(", "),
        allowed,
    })
}
