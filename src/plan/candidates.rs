//! Candidate data centers from tokens: data center codes (`LHR`), ISO country codes (`GB`),
//! continents (`EU`), Cloudflare regions (`WEU`), each with an optional prefix (`dc:`, `country:`,
//! `continent:`, `region:`) that a token meaning several things (`NA`: Namibia and North America)
//! must have.

use crate::catalog::{Catalog, Continent};
use crate::suggest;
use crate::world::{DcId, World};

/// What a token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dc,
    Country,
    Continent,
    Region,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Dc, Kind::Country, Kind::Continent, Kind::Region];

    fn prefix(self) -> &'static str {
        match self {
            Kind::Dc => "dc",
            Kind::Country => "country",
            Kind::Continent => "continent",
            Kind::Region => "region",
        }
    }
}

/// The data centers a token names (in world order) and what it named, or why it names none.
/// Without a prefix (`prefixed` false) a country is only an ISO alpha-2 code, so `FRA` stays the
/// Frankfurt data center rather than France.
fn resolve_as(
    world: &World,
    kind: Kind,
    text: &str,
    prefixed: bool,
) -> Option<(Vec<DcId>, String)> {
    let catalog = Catalog::embedded();
    let upper = text.trim().to_ascii_uppercase();
    let dcs = |f: &dyn Fn(&crate::catalog::DataCenter) -> bool| -> Vec<DcId> {
        (0..world.datacenters.len())
            .filter(|&d| f(&world.datacenters[d]))
            .map(|d| d as DcId)
            .collect()
    };
    match kind {
        Kind::Dc => {
            let d = world
                .datacenters
                .iter()
                .position(|d| d.code.eq_ignore_ascii_case(&upper))?;
            let dc = &world.datacenters[d];
            Some((
                vec![d as DcId],
                format!("data center {} ({})", dc.code, dc.city),
            ))
        }
        Kind::Country => {
            let c = if prefixed {
                catalog
                    .country_by_code(&upper)
                    .or_else(|| catalog.country_by_name(text))?
            } else if upper.len() == 2 {
                catalog.country_by_code(&upper)?
            } else {
                return None;
            };
            let name = &catalog.country(c).name;
            Some((
                dcs(&|d| d.country == c),
                format!("country {upper} ({name})"),
            ))
        }
        Kind::Continent => {
            let c = Continent::from_code(&upper)?;
            Some((
                dcs(&|d| catalog.country(d.country).continent == c),
                format!("continent {} ({})", c.code(), c.name()),
            ))
        }
        Kind::Region => {
            let list = dcs(&|d| d.region.eq_ignore_ascii_case(&upper));
            (!list.is_empty()).then(|| (list, format!("Cloudflare region {upper}")))
        }
    }
}

/// Resolves one token: the data centers it names, or a message (and a suggestion).
pub(crate) fn resolve_token(
    world: &World,
    token: &str,
) -> Result<Vec<DcId>, (String, Option<String>)> {
    let token = token.trim();
    if token.is_empty() {
        return Err(("empty candidate".into(), Some("list data center codes, countries, continents or regions separated by commas, e.g. `GB,NL,IAD,WEU`".into())));
    }
    if let Some((prefix, rest)) = token.split_once(':') {
        let Some(kind) = Kind::ALL
            .into_iter()
            .find(|k| k.prefix().eq_ignore_ascii_case(prefix.trim()))
        else {
            return Err((
                format!("unknown candidate prefix `{prefix}:`"),
                Some("prefixes are `dc:`, `country:`, `continent:` and `region:`".into()),
            ));
        };
        return match resolve_as(world, kind, rest, true) {
            Some((list, what)) if list.is_empty() => {
                Err((format!("{what} has no data center"), None))
            }
            Some((list, _)) => Ok(list),
            None => Err((
                format!("unknown {} `{}`", kind.prefix(), rest.trim()),
                suggestion_of_kind(world, kind, rest),
            )),
        };
    }
    let mut meanings: Vec<(Kind, Vec<DcId>, String)> = Kind::ALL
        .into_iter()
        .filter_map(|k| resolve_as(world, k, token, false).map(|(l, w)| (k, l, w)))
        .collect();
    // Two meanings with the same data centers (the continent and the region `OC`) are one answer.
    if meanings.windows(2).all(|p| p[0].1 == p[1].1) {
        meanings.truncate(1);
    }
    match meanings.as_slice() {
        [] => Err((
            format!("unknown candidate `{token}`"),
            suggestion(world, token),
        )),
        [(_, list, what)] if list.is_empty() => Err((format!("{what} has no data center"), None)),
        [(_, list, _)] => Ok(list.clone()),
        several => {
            let what: Vec<&str> = several.iter().map(|(_, _, w)| w.as_str()).collect();
            let write: Vec<String> = several
                .iter()
                .map(|(k, _, _)| format!("`{}:{token}`", k.prefix()))
                .collect();
            Err((
                format!("`{token}` is ambiguous: {}", what.join(", ")),
                Some(format!("write {}", write.join(" or "))),
            ))
        }
    }
}

/// A suggestion for an unknown token: the closest data center, country, region or continent.
fn suggestion(world: &World, token: &str) -> Option<String> {
    let t = token.trim();
    if let Some(r) = suggest::closest(&t.to_ascii_uppercase(), regions(world)) {
        if t.len() >= 3
            && r.len() >= 3
            && !world
                .datacenters
                .iter()
                .any(|d| d.code.eq_ignore_ascii_case(r))
        {
            return Some(format!("did you mean the region `{r}`?"));
        }
    }
    if t.len() == 2 {
        if let Some(c) = country_suggestion(t) {
            return Some(c);
        }
    }
    suggestion_of_kind(world, Kind::Dc, t).or_else(|| country_suggestion(t))
}

/// A suggestion for an unknown token written with a prefix: only things of that kind.
fn suggestion_of_kind(world: &World, kind: Kind, token: &str) -> Option<String> {
    let t = token.trim();
    match kind {
        // `suggest_datacenter` words its own "did you mean …?".
        Kind::Dc => crate::place::suggest_datacenter(t, &world.datacenters),
        Kind::Country => country_suggestion(t),
        Kind::Continent => Some("continents are AF, AN, AS, EU, NA, OC and SA".into()),
        Kind::Region => Some(
            match suggest::closest(&t.to_ascii_uppercase(), regions(world)) {
                Some(r) => format!("did you mean the region `{r}`?"),
                None => format!(
                    "regions are {}",
                    regions(world).collect::<Vec<_>>().join(", ")
                ),
            },
        ),
    }
}

fn country_suggestion(t: &str) -> Option<String> {
    Catalog::embedded()
        .suggest_country(t)
        .map(|c| format!("did you mean {c}?"))
}

/// The Cloudflare regions of the world's data centers, sorted, each once.
fn regions(world: &World) -> impl Iterator<Item = &str> + Clone {
    let mut regions: Vec<&str> = world
        .datacenters
        .iter()
        .map(|d| d.region.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    regions.sort_unstable();
    regions.dedup();
    regions.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Source;
    use crate::scenario::{compile, Overrides};

    fn world() -> World {
        let text = r#"
name = "c"
[[datacenter]]
code = "LHR2"
city = "London"
country = "GB"
lat = 51.5
lon = -0.01
[[egress]]
id = "a"
datacenter = "LHR"
ipv4 = "203.0.113.1"
[[population]]
name = "p"
users = 10
[population.location]
around = ["London"]
[[resource]]
name = "r"
ipv4 = "198.51.100.1"
location = "FRA"
"#;
        compile(&Source::new("c.toml", text), &Overrides::default())
            .unwrap()
            .world
    }

    fn codes(w: &World, list: &[DcId]) -> Vec<String> {
        list.iter()
            .map(|&d| w.datacenters[d as usize].code.clone())
            .collect()
    }

    #[test]
    fn tokens_name_data_centers_countries_continents_and_regions() {
        let w = world();
        assert_eq!(codes(&w, &resolve_token(&w, "fra").unwrap()), ["FRA"]);
        let gb = codes(&w, &resolve_token(&w, "GB").unwrap());
        assert!(
            gb.contains(&"LHR".to_string()) && gb.contains(&"LHR2".to_string()),
            "{gb:?}"
        );
        let eu = resolve_token(&w, "EU").unwrap();
        assert!(eu.len() > 50 && eu.len() < 200, "{}", eu.len());
        let weu = codes(&w, &resolve_token(&w, "region:weu").unwrap());
        assert!(weu.contains(&"AMS".to_string()) && !weu.contains(&"IAD".to_string()));
        assert_eq!(
            resolve_token(&w, "country:NA").unwrap(),
            resolve_token(&w, "country:Namibia").unwrap()
        );
    }

    #[test]
    fn ambiguous_and_unknown_tokens_explain_themselves() {
        let w = world();
        let (msg, help) = resolve_token(&w, "NA").unwrap_err();
        assert!(
            msg.contains("ambiguous") && msg.contains("Namibia") && msg.contains("North America"),
            "{msg}"
        );
        assert!(help.unwrap().contains("`country:NA` or `continent:NA`"));
        let (msg, help) = resolve_token(&w, "LON").unwrap_err();
        assert!(msg.contains("unknown candidate `LON`"), "{msg}");
        assert!(help.unwrap().contains("LHR"));
        let (msg, _) = resolve_token(&w, "planet:X").unwrap_err();
        assert!(msg.contains("prefix"), "{msg}");
        let (_, help) = resolve_token(&w, "WEUU").unwrap_err();
        assert!(help.unwrap().contains("WEU"));
    }

    #[test]
    fn a_prefixed_unknown_token_is_answered_in_its_own_kind() {
        let w = world();
        let (msg, help) = resolve_token(&w, "region:WEUR").unwrap_err();
        assert_eq!(msg, "unknown region `WEUR`");
        assert_eq!(help.as_deref(), Some("did you mean the region `WEU`?"));
        let (_, help) = resolve_token(&w, "region:XX").unwrap_err();
        assert!(help.unwrap().starts_with("regions are "));
        let (_, help) = resolve_token(&w, "continent:EX").unwrap_err();
        assert!(help.unwrap().contains("AF, AN, AS, EU, NA, OC and SA"));
        let (_, help) = resolve_token(&w, "dc:LHRR").unwrap_err();
        assert_eq!(help.as_deref(), Some("did you mean `LHR` (London)?"));
    }
}
