//! The round-trip-time model: how long a request takes, and of what parts.
//!
//! A request's RTT is the sum of
//! access (last mile, drawn once per user) + user → ingress + [ingress → egress over the backbone, when the
//! physical egress is elsewhere] + egress point → destination + destination processing + jitter.
//! Each network segment costs `2 × distance × inflation / speed + overhead`.
//!
//! Defaults and where they come from:
//! - `fiber_km_per_ms = 204`: light in standard single-mode fiber (group index ≈ 1.468) covers
//!   299,792 / 1.468 ≈ 204,000 km/s.
//! - `internet_inflation = 1.6`: public-internet fiber routes run well beyond the great circle; measurement
//!   studies of Internet latency (Singla et al., "The Internet at the Speed of Light", HotNets 2014;
//!   Bozkurt et al., "Why Is the Internet so Slow?!", PAM 2017) find typical infrastructure path stretch
//!   around 1.5–2×. 1.6 sits at the low end because users reach a nearby, well-peered anycast site.
//! - `backbone_inflation = 1.25`: a private backbone rides the most direct cable systems and avoids
//!   inter-network detours, so its stretch is smaller.
//! - `segment_overhead_ms = 0.5`: per-segment forwarding, queueing and proxying cost on a lightly loaded path.
//! - `jitter_mean_ms = 1.0`: mean of an exponential per-request delay (queueing noise).

use crate::geodesy::LatLon;

/// Constants of the latency model; every one is a scenario setting under `[latency]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyModel {
    /// Signal speed in fiber, km per millisecond.
    pub fiber_km_per_ms: f64,
    /// Public-internet path length over great-circle distance.
    pub internet_inflation: f64,
    /// Backbone path length over great-circle distance.
    pub backbone_inflation: f64,
    /// Fixed round-trip cost of each segment, ms.
    pub segment_overhead_ms: f64,
    /// Mean of the exponential per-request jitter, ms.
    pub jitter_mean_ms: f64,
}

impl Default for LatencyModel {
    fn default() -> Self {
        Self {
            fiber_km_per_ms: 204.0,
            internet_inflation: 1.6,
            backbone_inflation: 1.25,
            segment_overhead_ms: 0.5,
            jitter_mean_ms: 1.0,
        }
    }
}

/// Which kind of network a segment crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// The public internet (user → ingress, egress → destination).
    Internet,
    /// Cloudflare's private backbone (ingress → egress data center).
    Backbone,
}

impl LatencyModel {
    /// Round-trip time of one segment of `distance_km` across `network`, ms.
    pub fn segment_rtt_ms(&self, distance_km: f64, network: Network) -> f64 {
        let inflation = match network {
            Network::Internet => self.internet_inflation,
            Network::Backbone => self.backbone_inflation,
        };
        2.0 * distance_km * inflation / self.fiber_km_per_ms + self.segment_overhead_ms
    }
}

/// Access (last-mile) profile: a log-normal RTT drawn once per user.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccessProfile {
    /// Median last-mile round-trip time, ms.
    pub median_ms: f64,
    /// Shape: standard deviation of the natural log.
    pub sigma: f64,
}

/// Built-in access presets. Medians follow the FCC "Measuring Broadband America" fixed-broadband reports
/// (idle latency to a nearby test server: fiber lowest, then cable, then DSL) with the short server
/// leg removed, and public mobile-network measurements (Opensignal, Ookla) for 4G/5G.
pub const ACCESS_PRESETS: &[(&str, AccessProfile, &str)] = &[
    (
        "office",
        AccessProfile {
            median_ms: 2.0,
            sigma: 0.3,
        },
        "enterprise LAN with a dedicated internet uplink",
    ),
    (
        "fiber",
        AccessProfile {
            median_ms: 5.0,
            sigma: 0.35,
        },
        "FTTH / FTTP home broadband",
    ),
    (
        "cable",
        AccessProfile {
            median_ms: 13.0,
            sigma: 0.4,
        },
        "DOCSIS cable broadband",
    ),
    (
        "dsl",
        AccessProfile {
            median_ms: 24.0,
            sigma: 0.4,
        },
        "VDSL/ADSL copper broadband",
    ),
    (
        "mobile",
        AccessProfile {
            median_ms: 38.0,
            sigma: 0.5,
        },
        "4G/5G mobile data",
    ),
];

/// Looks up an access preset by name (case-insensitive).
pub fn access_preset(name: &str) -> Option<AccessProfile> {
    ACCESS_PRESETS
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, p, _)| *p)
}

/// What a part of the round-trip time is, independent of its display name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartKind {
    /// Last-mile access.
    Access,
    /// User → ingress data center, over the internet.
    UserToIngress,
    /// Ingress → egress data center, over the backbone.
    Backbone,
    /// Egress point → destination, over the internet.
    EgressToDestination,
    /// Destination processing time.
    Processing,
    /// Per-request jitter (at its mean).
    Jitter,
}

/// One leg of a request's path with its share of the round-trip time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Part {
    /// What this part is, for code that sorts parts (the name is for people).
    #[serde(skip)]
    pub kind: PartKind,
    /// What this part is (`access`, `user → ingress`, ...).
    pub name: String,
    /// Great-circle distance of the leg, km (0 for non-network parts).
    pub distance_km: f64,
    /// Round-trip time contributed, ms.
    pub rtt_ms: f64,
}

/// A request path between two points, broken into parts, as `egress-sim latency` and `explain` print it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Breakdown {
    /// Every part in path order.
    pub parts: Vec<Part>,
}

impl Breakdown {
    /// Sum of all parts, ms.
    pub fn total_ms(&self) -> f64 {
        self.parts.iter().map(|p| p.rtt_ms).sum()
    }

    /// Sum of all parts except last-mile access and jitter, ms.
    pub fn network_ms(&self) -> f64 {
        self.parts
            .iter()
            .filter(|p| p.name != "access (last mile)" && p.name != "jitter (mean)")
            .map(|p| p.rtt_ms)
            .sum()
    }
}

/// Builds the breakdown for a path: user at `user`, entering at `ingress`, optionally crossing the
/// backbone to `egress`, then to `destination`.
pub struct PathSpec<'a> {
    /// Where the user is.
    pub user: LatLon,
    /// Ingress data center (label, location).
    pub ingress: (&'a str, LatLon),
    /// Physical egress data center when it differs from ingress.
    pub egress: Option<(&'a str, LatLon)>,
    /// Destination (label, location).
    pub destination: (&'a str, LatLon),
    /// Last-mile access RTT, ms (None: leave it out).
    pub access_ms: Option<f64>,
    /// Destination processing time, ms.
    pub processing_ms: f64,
}

impl LatencyModel {
    /// The expected RTT of a path with each part (jitter at its mean).
    pub fn breakdown(&self, p: &PathSpec) -> Breakdown {
        let mut parts = Vec::new();
        if let Some(a) = p.access_ms {
            parts.push(Part {
                kind: PartKind::Access,
                name: "access (last mile)".into(),
                distance_km: 0.0,
                rtt_ms: a,
            });
        }
        let d = p.user.distance_km(p.ingress.1);
        parts.push(Part {
            kind: PartKind::UserToIngress,
            name: format!("user → ingress {}", p.ingress.0),
            distance_km: d,
            rtt_ms: self.segment_rtt_ms(d, Network::Internet),
        });
        let exit = if let Some((label, loc)) = p.egress {
            let d = p.ingress.1.distance_km(loc);
            parts.push(Part {
                kind: PartKind::Backbone,
                name: format!("backbone {} → {label}", p.ingress.0),
                distance_km: d,
                rtt_ms: self.segment_rtt_ms(d, Network::Backbone),
            });
            (label, loc)
        } else {
            p.ingress
        };
        let d = exit.1.distance_km(p.destination.1);
        parts.push(Part {
            kind: PartKind::EgressToDestination,
            name: format!("{} → destination {}", exit.0, p.destination.0),
            distance_km: d,
            rtt_ms: self.segment_rtt_ms(d, Network::Internet),
        });
        if p.processing_ms > 0.0 {
            parts.push(Part {
                kind: PartKind::Processing,
                name: "destination processing".into(),
                distance_km: 0.0,
                rtt_ms: p.processing_ms,
            });
        }
        if self.jitter_mean_ms > 0.0 {
            parts.push(Part {
                kind: PartKind::Jitter,
                name: "jitter (mean)".into(),
                distance_km: 0.0,
                rtt_ms: self.jitter_mean_ms,
            });
        }
        Breakdown { parts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_formula() {
        let m = LatencyModel::default();
        // 1,000 km over the internet: 2 * 1000 * 1.6 / 204 + 0.5.
        let rtt = m.segment_rtt_ms(1000.0, Network::Internet);
        assert!((rtt - (2.0 * 1000.0 * 1.6 / 204.0 + 0.5)).abs() < 1e-12);
        assert!(m.segment_rtt_ms(1000.0, Network::Backbone) < rtt);
        assert_eq!(m.segment_rtt_ms(0.0, Network::Internet), 0.5);
    }

    #[test]
    fn breakdown_adds_backbone_only_when_egress_differs() {
        let m = LatencyModel::default();
        let lon = LatLon::new(51.47, -0.45);
        let ams = LatLon::new(52.31, 4.76);
        let spec = |egress| PathSpec {
            user: lon,
            ingress: ("LHR", lon),
            egress,
            destination: ("x", ams),
            access_ms: Some(10.0),
            processing_ms: 0.0,
        };
        let local = m.breakdown(&spec(None));
        let remote = m.breakdown(&spec(Some(("AMS", ams))));
        assert_eq!(local.parts.len(), 4);
        assert_eq!(remote.parts.len(), 5);
        assert!(remote.parts.iter().any(|p| p.name.starts_with("backbone")));
        assert!((local.total_ms() - local.network_ms() - 11.0).abs() < 1e-9);
        // Crossing the straighter backbone and leaving next to the destination beats the public internet
        // over the same distance, apart from the extra segment's fixed overhead.
        let direct = m.segment_rtt_ms(lon.distance_km(ams), Network::Internet);
        let via = m.segment_rtt_ms(lon.distance_km(ams), Network::Backbone)
            + m.segment_rtt_ms(0.0, Network::Internet);
        assert!((remote.total_ms() - local.total_ms() - (via - direct)).abs() < 1e-9);
    }

    #[test]
    fn presets_resolve_case_insensitively() {
        assert!(access_preset("Fiber").is_some());
        assert!(access_preset("satellite").is_none());
        let medians: Vec<f64> = ["fiber", "cable", "dsl", "mobile"]
            .iter()
            .map(|n| access_preset(n).unwrap().median_ms)
            .collect();
        assert!(medians.windows(2).all(|w| w[0] < w[1]));
    }
}
