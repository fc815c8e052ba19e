//! `egress-sim latency FROM TO`: the latency model's round trip between two places, part by part,
//! with and without last-mile access, as a typed result the command prints as a table or JSON.

use std::path::PathBuf;

use serde::Serialize;

use crate::catalog::{Catalog, DataCenter};
use crate::error::{Error, InputError, Result};
use crate::latency::{access_preset, LatencyModel, Part, PathSpec, ACCESS_PRESETS};
use crate::nearest::{NearestIndex, Neighbor};
use crate::place::{self, Place, PlaceKind};
use crate::scenario::{self, Overrides};

/// What to explain.
#[derive(Debug, Clone, Default)]
pub struct PathQuery {
    /// Where the user is (data center code, city name or `lat,lon`).
    pub from: String,
    /// Where the destination is.
    pub to: String,
    /// Egress data center to cross the backbone to (dedicated IPv4 egress to a non-proxied
    /// destination).
    pub via: Option<String>,
    /// Access preset for the with-access total.
    pub access: String,
    /// Take the latency constants (and extra data centers) from this scenario.
    pub scenario: Option<PathBuf>,
}

/// A resolved place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceInfo {
    /// How the place was understood.
    pub place: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// The access preset used for the with-access total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessInfo {
    /// Preset name, lower case.
    pub preset: String,
    /// Its median last-mile RTT, ms.
    pub median_ms: f64,
}

/// The model constants used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSettings {
    /// Signal speed in fiber, km per ms.
    pub fiber_km_per_ms: f64,
    /// Fixed round-trip cost of a public-internet segment, ms.
    pub internet_fixed_ms: f64,
    /// Public-internet path length over the great circle.
    pub internet_inflation: f64,
    /// Fixed round-trip cost of a backbone segment, ms.
    pub backbone_fixed_ms: f64,
    /// Backbone path length over the great circle.
    pub backbone_inflation: f64,
    /// Mean per-request jitter, ms.
    pub jitter_mean_ms: f64,
    /// Median per-request jitter, ms.
    pub jitter_median_ms: f64,
    /// The model in one line, as the table prints it.
    #[serde(skip)]
    pub described: String,
}

impl From<&LatencyModel> for ModelSettings {
    fn from(m: &LatencyModel) -> Self {
        Self {
            fiber_km_per_ms: m.fiber_km_per_ms,
            internet_fixed_ms: m.internet_fixed_ms,
            internet_inflation: m.internet_inflation,
            backbone_fixed_ms: m.backbone_fixed_ms,
            backbone_inflation: m.backbone_inflation,
            jitter_mean_ms: m.jitter_mean_ms,
            jitter_median_ms: m.jitter_median_ms(),
            described: m.describe(),
        }
    }
}

/// The round trip between two places, part by part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathExplanation {
    /// Where the user is.
    pub from: PlaceInfo,
    /// Where the destination is.
    pub to: PlaceInfo,
    /// The ingress data center (nearest to the user).
    pub ingress: String,
    /// The egress data center crossed to, when asked.
    pub via: Option<String>,
    /// The access preset.
    pub access: AccessInfo,
    /// Every part, access included, in path order.
    pub parts: Vec<Part>,
    /// Total without last-mile access, ms.
    pub rtt_ms: f64,
    /// Total with last-mile access, ms.
    pub rtt_with_access_ms: f64,
    /// The model constants.
    pub model: ModelSettings,
}

/// Resolves the places of `q` and computes the round trip.
pub fn explain_path(q: &PathQuery) -> Result<PathExplanation> {
    let catalog = Catalog::embedded();
    let (model, dcs) = match &q.scenario {
        Some(p) => {
            let l = scenario::load(p, &Overrides::without_sweep())?;
            (l.world.latency, l.world.datacenters)
        }
        None => (LatencyModel::default(), catalog.datacenters.clone()),
    };
    let resolve = |what: &str, text: &str| {
        place::resolve(text, &dcs, catalog).map_err(|e| {
            Error::Input(
                InputError::new(format!("{what}: {}", e.message)).with_optional_help(e.help),
            )
        })
    };
    let from = resolve("FROM", &q.from)?;
    let to = resolve("TO", &q.to)?;
    let access = access_preset(&q.access).ok_or_else(|| {
        let names: Vec<&str> = ACCESS_PRESETS.iter().map(|p| p.0).collect();
        Error::Input(
            InputError::new(format!("unknown access preset `{}`", q.access))
                .with_help(format!("presets: {}", names.join(", "))),
        )
    })?;
    let ingress = nearest(&dcs, &from)?;
    let via = match &q.via {
        None => None,
        Some(v) => match resolve("--via", v)?.kind {
            PlaceKind::DataCenter(i) => Some(&dcs[i]),
            _ => {
                return Err(
                    InputError::new(format!("--via: `{v}` is not a data center code"))
                        .with_optional_help(place::suggest_datacenter(v, &dcs))
                        .into(),
                )
            }
        },
    };
    let ingress_label = format!("{} ({})", ingress.code, ingress.city);
    let via_label = via.map(|d| format!("{} ({})", d.code, d.city));
    let spec = |access_ms| PathSpec {
        user: from.location,
        ingress: (&ingress_label, ingress.location),
        egress: via
            .filter(|d| d.code != ingress.code)
            .zip(via_label.as_deref())
            .map(|(d, l)| (l, d.location)),
        destination: (&to.label, to.location),
        access_ms,
        processing_ms: 0.0,
    };
    let with = model.breakdown(&spec(Some(access.median_ms)));
    let without = model.breakdown(&spec(None));
    let info = |p: &Place| PlaceInfo {
        place: p.label.clone(),
        lat: p.location.lat,
        lon: p.location.lon,
    };
    Ok(PathExplanation {
        from: info(&from),
        to: info(&to),
        ingress: ingress.code.clone(),
        via: via.map(|d| d.code.clone()),
        access: AccessInfo {
            preset: q.access.to_ascii_lowercase(),
            median_ms: access.median_ms,
        },
        rtt_ms: without.total_ms(),
        rtt_with_access_ms: with.total_ms(),
        parts: with.parts,
        model: ModelSettings::from(&model),
    })
}

/// The data center nearest to `from`.
fn nearest<'d>(dcs: &'d [DataCenter], from: &Place) -> Result<&'d DataCenter> {
    let index = NearestIndex::new(&dcs.iter().map(|d| d.location).collect::<Vec<_>>());
    let mut near = [Neighbor {
        index: 0,
        distance_km: 0.0,
    }; 1];
    if index.nearest(from.location, |_| true, &mut near) == 0 {
        return Err(Error::Internal("no data centers".into()));
    }
    Ok(&dcs[near[0].index as usize])
}

impl PathExplanation {
    /// The explanation as a table.
    pub fn to_table(&self) -> String {
        let mut s = format!("round trip {} → {}\n", self.from.place, self.to.place);
        s.push_str(&format!("  {:<48} {:>10} {:>10}\n", "part", "km", "ms"));
        for p in &self.parts {
            let km = if p.distance_km > 0.0 || super::user_text::is_segment(p.kind) {
                format!("{:.0}", p.distance_km)
            } else {
                String::new()
            };
            s.push_str(&format!("  {:<48} {:>10} {:>10.2}\n", p.name, km, p.rtt_ms));
        }
        s.push_str(&format!(
            "  {:<48} {:>10} {:>10.2}\n  {:<48} {:>10} {:>10.2}\n",
            "total without last-mile access",
            "",
            self.rtt_ms,
            format!("total with {} access", self.access.preset),
            "",
            self.rtt_with_access_ms
        ));
        s.push_str(&format!("model: {}\n", self.model.described));
        s
    }
}
