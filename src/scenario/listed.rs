//! Populations read from user lists (`from_csv`) and the scenario's `geoip` database and settings.

use std::path::{Path, PathBuf};

use rand_distr::weighted::WeightedAliasIndex;
use toml::Spanned;

use super::compile::Ctx;
use super::raw::{RawGeoip, RawPopulation};
use super::registry::Registry;
use crate::error::{Error, InputError};
use crate::geodesy::LatLon;
use crate::geoip::{read_user_list, resolve, BadRows, GeoDb, Listing, ListingSettings, Unplaced};
use crate::suggest;
use crate::world::{Placement, Spread};

/// The database and settings that listed populations use.
pub(super) struct ListSource {
    /// The open database; `None` when none is configured or it failed to open (already reported).
    db: Option<GeoDb>,
    /// A database was configured but could not be opened.
    failed: bool,
    settings: ListingSettings,
    bad_rows: BadRows,
    /// Folder that relative paths in the scenario start from.
    base: PathBuf,
}

fn choice<T: Copy>(
    cx: &mut Ctx,
    v: &Option<Spanned<String>>,
    key: &str,
    options: &[(&str, T)],
    default: T,
) -> T {
    let Some(v) = v else { return default };
    let text = v.get_ref().trim();
    match options.iter().find(|o| o.0 == text) {
        Some(o) => o.1,
        None => {
            let names: Vec<&str> = options.iter().map(|o| o.0).collect();
            cx.err_help(
                v.span(),
                format!("unknown `{key}` value `{text}`"),
                Some(match suggest::closest(text, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? use one of {}", names.join(", ")),
                    None => format!("use one of {}", names.join(", ")),
                }),
            );
            default
        }
    }
}

/// Reads `geoip` settings and, when some population is listed, opens the database (`override_path`,
/// from `--geoip`, wins over the scenario's, and is relative to the working directory).
pub(super) fn list_source(
    cx: &mut Ctx,
    raw: Option<&Spanned<RawGeoip>>,
    populations: &[RawPopulation],
    override_path: Option<&Path>,
    seed: u64,
) -> ListSource {
    let base = cx
        .src
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let g = raw.map(Spanned::get_ref);
    let unplaced = choice(
        cx,
        &g.and_then(|g| g.unresolved.clone()),
        "unresolved",
        &[
            ("skip", Unplaced::Skip),
            ("error", Unplaced::Error),
            ("country", Unplaced::Country),
        ],
        Unplaced::Skip,
    );
    let bad_rows = choice(
        cx,
        &g.and_then(|g| g.bad_rows.clone()),
        "bad_rows",
        &[("error", BadRows::Error), ("skip", BadRows::Skip)],
        BadRows::Error,
    );
    let settings = ListingSettings {
        unplaced,
        spread_accuracy_radius: g.and_then(|g| g.spread_accuracy_radius).unwrap_or(false),
        seed,
    };
    let mut out = ListSource {
        db: None,
        failed: false,
        settings,
        bad_rows,
        base,
    };
    if populations.iter().all(|p| p.from_csv.is_none()) {
        return out;
    }
    let opened = match (override_path, g.and_then(|g| g.database.as_ref())) {
        (Some(p), _) => Some(GeoDb::open(p).map_err(|e| InputError {
            message: format!("--geoip: {}", e.message),
            ..e
        })),
        (None, Some(d)) => {
            let span = if d.span() == (0..0) {
                raw.map_or(0..0, Spanned::span)
            } else {
                d.span()
            };
            Some(GeoDb::open(&out.base.join(d.get_ref())).map_err(|e| {
                let mut located = InputError::at(cx.src, span, e.message);
                located.help = e.help;
                located
            }))
        }
        (None, None) => None,
    };
    match opened {
        Some(Ok(db)) => out.db = Some(db),
        Some(Err(e)) => {
            cx.errors.push(e);
            out.failed = true;
        }
        None => {}
    }
    out
}

/// Conflicting keys of a listed population, reported as errors.
fn check_keys(cx: &mut Ctx, p: &RawPopulation) {
    let name = p.name.get_ref();
    let mut bad = |span: std::ops::Range<usize>, key: &str, why: &str| {
        cx.err_help(
            span,
            format!(
                "population `{name}` reads its users from `from_csv`, so `{key}` does not apply"
            ),
            Some(why.to_string()),
        );
    };
    let one_per_row = "a listed population has one user per placed row of the list";
    for (span, key, why) in [
        (p.users.as_ref().map(Spanned::span), "users", one_per_row),
        (p.share.as_ref().map(Spanned::span), "share", one_per_row),
        (
            p.location.as_ref().map(Spanned::span),
            "location",
            "listed users are placed by the GeoIP database",
        ),
        (
            p.source_ips.as_ref().map(Spanned::span),
            "source_ips",
            "each listed user's `ip` is its source address",
        ),
    ] {
        if let Some(span) = span {
            bad(span, key, why);
        }
    }
    for (key, map) in [
        ("groups", &p.groups),
        ("posture", &p.posture),
        ("vnets", &p.vnets),
    ] {
        if let Some((_, v)) = map.iter().next() {
            bad(
                v.span(),
                key,
                "give them per user in the list's `groups`, `posture_passed` and `virtual_network` columns",
            );
        }
    }
    if p.email_domain.is_some() {
        bad(
            p.name.span(),
            "email_domain",
            "listed users keep their `email`",
        );
    }
}

/// Reads and places the users of population `p` (which has `from_csv`). Returns its placement (for
/// descriptions) and listing, or `None` after reporting errors.
pub(super) fn listed_population(
    cx: &mut Ctx,
    p: &RawPopulation,
    csv: &Spanned<String>,
    source: &ListSource,
    registry: &mut Registry,
) -> Option<(Placement, Listing)> {
    check_keys(cx, p);
    let name = p.name.get_ref();
    let Some(db) = &source.db else {
        if !source.failed {
            cx.err_help(
                csv.span(),
                format!("population `{name}` reads a user list but the scenario has no GeoIP database"),
                Some("add `geoip = \"GeoLite2-City.mmdb\"` at the top of the scenario (before any table), or pass `--geoip PATH`".into()),
            );
        }
        return None;
    };
    let path = source.base.join(csv.get_ref());
    let list = match read_user_list(&path, source.bad_rows) {
        Ok(l) => l,
        Err(e) => {
            match e {
                Error::Input(mut e) => {
                    if e.file.is_none() {
                        e.locate(cx.src, csv.span());
                    }
                    cx.errors.push(e);
                }
                Error::Inputs(v) => cx.errors.extend(v),
                other => cx.err(csv.span(), other.to_string()),
            }
            return None;
        }
    };
    let listing = match resolve(list, db, &source.settings, registry) {
        Ok(l) => l,
        Err(e) => {
            cx.errors.push(e);
            return None;
        }
    };
    if source.settings.unplaced == Unplaced::Error && !listing.unplaced.is_empty() {
        report_unplaced(cx, &listing);
        return None;
    }
    warn_shortfall(cx, csv, name, &listing, &path);
    Some((listed_placement(&listing, &path)?, listing))
}

/// `unresolved = "error"`: one error per unplaced user (the first 20), naming its line.
fn report_unplaced(cx: &mut Ctx, listing: &Listing) {
    let n = listing.unplaced.len();
    for (i, (line, ip, why)) in listing.unplaced.iter().take(20).enumerate() {
        let mut e = InputError::new(format!(
            "line {line}: user at {ip} cannot be placed: {}",
            why.description()
        ));
        e.file = Some(listing.file.clone());
        e.line_col = Some((*line as usize, 1));
        if i + 1 == n.min(20) {
            e = e.with_help(format!(
                "{n} user{} cannot be placed; set `unresolved = \"skip\"` (or `\"country\"`) in `[geoip]` to leave them out and count them",
                if n == 1 { "" } else { "s" }
            ));
        }
        cx.errors.push(e);
    }
}

/// Warnings for rows left out (with the first malformed ones) and for a list that placed nobody.
fn warn_shortfall(cx: &mut Ctx, csv: &Spanned<String>, name: &str, listing: &Listing, path: &Path) {
    if let Some(short) = listing.shortfall() {
        let mut msg = format!("population `{name}`: {short} (see geoip.csv in the output)");
        for e in listing.bad_rows.iter().take(5) {
            msg.push_str(&format!("\n  skipped {}", e.message));
        }
        if listing.bad_rows.len() > 5 {
            msg.push_str(&format!(
                "\n  ... and {} more malformed rows",
                listing.bad_rows.len() - 5
            ));
        }
        cx.warn(csv.span(), msg);
    }
    if listing.users.is_empty() {
        cx.warn(
            csv.span(),
            format!(
                "population `{name}`: no user of {} could be placed",
                path.display()
            ),
        );
    }
}

/// A listed population's placement: only its description is used (users come from the listing).
fn listed_placement(listing: &Listing, path: &Path) -> Option<Placement> {
    let anchor = listing
        .users
        .first()
        .map_or(LatLon::new(0.0, 0.0), |u| u.location);
    let alias = WeightedAliasIndex::new(vec![1.0]).ok()?;
    let by_country = if listing.placed_by_country > 0 {
        format!(", {} at their country's centre", listing.placed_by_country)
    } else {
        String::new()
    };
    Some(Placement {
        anchors: vec![anchor],
        alias,
        spread: Spread::Normal { sigma_km: 0.0 },
        description: format!(
            "listed in {} ({} of {} rows placed{by_country}), located with {}",
            path.display(),
            listing.users.len(),
            listing.rows(),
            listing.database
        ),
        area: None,
    })
}
