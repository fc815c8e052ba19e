//! The round-trip-time model: how long a request takes, and of what parts.
//!
//! A request's RTT is the sum of
//! access (last mile, drawn once per user) + user → ingress + [ingress → egress over the backbone, when the
//! physical egress is elsewhere] + egress point → destination + destination processing + jitter.
//!
//! Each network segment costs a fixed part plus a part proportional to distance:
//! `fixed_ms + 2 × distance × inflation / fiber speed`, with its own `fixed_ms` and `inflation` for the
//! public internet and for the backbone. One multiplier alone cannot fit measured round trips: short paths
//! are relatively far more inflated than long ones (London–Paris, 344 km, takes ~3× the fiber time;
//! London–Singapore, 10,855 km, ~1.8×), because every path pays for hops, hand-offs and host stacks at
//! its ends whatever its length. Median RTTs that rise linearly with distance are also what CAIDA's Ark
//! monitors show for well-connected hosts ("RTT quartiles versus geographical distance" pages).
//!
//! Defaults and where they come from (`egress-sim calibrate` refits them on your own measurements):
//! - `fiber_km_per_ms = 204`: light in standard single-mode fiber (group index ≈ 1.468) covers
//!   299,792 / 1.468 ≈ 204,000 km/s. Physics, not fitted.
//! - `backbone_fixed_ms = 4.0`, `backbone_inflation = 1.67`: the robust fit (`egress-sim calibrate
//!   data/measurements/azure-inter-region-p50.csv --network backbone`: 4.05 ms and 1.667, rounded to
//!   0.1 ms and 0.01) of 57 median round trips between cloud regions over Microsoft's private backbone
//!   (Microsoft Learn, "Azure network round-trip latency statistics", June 2024, CC BY 4.0). A private
//!   backbone between data centers is the nearest public measurement of Cloudflare's own. Held-out
//!   (5-fold) median error 2.8 ms, against 9 ms for the previous single-multiplier defaults.
//! - `internet_fixed_ms = 4.0`, `internet_inflation = 1.67`: the same values, for want of an openly
//!   licensed per-pair table of public-internet pings. What public measurements say does not set the
//!   public internet between well-connected hosts apart from that backbone: Bozkurt et al.
//!   ("Dissecting Latency in the Internet's Fiber Infrastructure", 2018) give the rule of thumb of
//!   earlier measurement campaigns as line-of-sight distance × 2.1 / fiber speed, and the median of
//!   RTT / fiber time over the shipped backbone table is 2.10 as well; the affine split of that ratio
//!   is the fit above. Calibrate on your own pings (`--network internet`) when you have them.
//! - `jitter_mean_ms = 1.0`: mean of an exponential per-request delay for an idle path (its median,
//!   0.69 ms, is what a median measurement sees). Load-induced queueing is far larger: Høiland-Jørgensen
//!   et al. ("Measuring Latency Variation in the Internet", CoNEXT 2016) find more than 100 ms of variation
//!   in two thirds of M-Lab NDT samples taken during bulk transfers; raise it to study loaded links.

use crate::geodesy::LatLon;

/// Constants of the latency model; every one is a scenario setting under `[latency]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyModel {
    /// Signal speed in fiber, km per millisecond.
    pub fiber_km_per_ms: f64,
    /// Public-internet path length over great-circle distance (the per-distance term).
    pub internet_inflation: f64,
    /// Fixed round-trip cost of each public-internet segment, ms.
    pub internet_fixed_ms: f64,
    /// Backbone path length over great-circle distance (the per-distance term).
    pub backbone_inflation: f64,
    /// Fixed round-trip cost of each backbone segment, ms.
    pub backbone_fixed_ms: f64,
    /// Mean of the exponential per-request jitter, ms.
    pub jitter_mean_ms: f64,
}

impl Default for LatencyModel {
    fn default() -> Self {
        Self {
            fiber_km_per_ms: 204.0,
            internet_inflation: 1.67,
            internet_fixed_ms: 4.0,
            backbone_inflation: 1.67,
            backbone_fixed_ms: 4.0,
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

impl Network {
    /// The name used in settings and output (`internet`, `backbone`).
    pub fn name(self) -> &'static str {
        match self {
            Network::Internet => "internet",
            Network::Backbone => "backbone",
        }
    }
}

/// The two constants of one network's segments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentCost {
    /// Fixed round-trip cost of a segment, ms.
    pub fixed_ms: f64,
    /// Path length over great-circle distance.
    pub inflation: f64,
}

impl LatencyModel {
    /// The fixed cost and inflation of `network`'s segments.
    pub fn segment_cost(&self, network: Network) -> SegmentCost {
        match network {
            Network::Internet => SegmentCost {
                fixed_ms: self.internet_fixed_ms,
                inflation: self.internet_inflation,
            },
            Network::Backbone => SegmentCost {
                fixed_ms: self.backbone_fixed_ms,
                inflation: self.backbone_inflation,
            },
        }
    }

    /// Replaces `network`'s fixed cost and inflation.
    pub fn set_segment_cost(&mut self, network: Network, cost: SegmentCost) {
        match network {
            Network::Internet => {
                self.internet_fixed_ms = cost.fixed_ms;
                self.internet_inflation = cost.inflation;
            }
            Network::Backbone => {
                self.backbone_fixed_ms = cost.fixed_ms;
                self.backbone_inflation = cost.inflation;
            }
        }
    }

    /// Round-trip milliseconds per great-circle kilometre on `network` (the distance term's slope).
    pub fn ms_per_km(&self, network: Network) -> f64 {
        2.0 * self.segment_cost(network).inflation / self.fiber_km_per_ms
    }

    /// Round-trip time of one segment of `distance_km` across `network`, ms.
    pub fn segment_rtt_ms(&self, distance_km: f64, network: Network) -> f64 {
        self.segment_cost(network).fixed_ms + distance_km * self.ms_per_km(network)
    }

    /// Median of the exponential jitter (`ln 2 ×` its mean), ms: what a median measurement contains.
    pub fn jitter_median_ms(&self) -> f64 {
        std::f64::consts::LN_2 * self.jitter_mean_ms
    }

    /// One line per network saying how a segment is computed, as `latency` and `calibrate` print it.
    pub fn describe(&self) -> String {
        let line = |n: Network| {
            let c = self.segment_cost(n);
            format!(
                "{} segment = {} ms + 2 × km × {} / {} km/ms",
                n.name(),
                c.fixed_ms,
                c.inflation,
                self.fiber_km_per_ms
            )
        };
        format!(
            "{}; {}; jitter exponential, mean {} ms",
            line(Network::Internet),
            line(Network::Backbone),
            self.jitter_mean_ms
        )
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
        let m = LatencyModel {
            internet_fixed_ms: 3.0,
            backbone_fixed_ms: 1.5,
            backbone_inflation: 1.2,
            ..LatencyModel::default()
        };
        // 1,000 km over the internet: 3 + 2 * 1000 * 1.67 / 204.
        let rtt = m.segment_rtt_ms(1000.0, Network::Internet);
        assert!((rtt - (3.0 + 2.0 * 1000.0 * 1.67 / 204.0)).abs() < 1e-12);
        assert!(m.segment_rtt_ms(1000.0, Network::Backbone) < rtt);
        assert_eq!(m.segment_rtt_ms(0.0, Network::Internet), 3.0);
        assert_eq!(m.segment_rtt_ms(0.0, Network::Backbone), 1.5);
        assert!((m.jitter_median_ms() - 0.5f64.ln().abs()).abs() < 1e-12);
    }

    #[test]
    fn short_paths_are_relatively_more_inflated() {
        // The point of the fixed term: RTT over fiber time falls with distance, as measured.
        let m = LatencyModel::default();
        let ratio = |km: f64| m.segment_rtt_ms(km, Network::Internet) / (2.0 * km / 204.0);
        assert!(
            ratio(300.0) > 2.5 && ratio(10_000.0) < 1.8,
            "{} {}",
            ratio(300.0),
            ratio(10_000.0)
        );
    }

    #[test]
    fn segment_costs_round_trip_through_the_setter() {
        let mut m = LatencyModel::default();
        let c = SegmentCost {
            fixed_ms: 7.0,
            inflation: 1.9,
        };
        m.set_segment_cost(Network::Backbone, c);
        assert_eq!(m.segment_cost(Network::Backbone), c);
        assert_eq!(
            m.segment_cost(Network::Internet),
            LatencyModel::default().segment_cost(Network::Internet)
        );
        assert!(m
            .describe()
            .contains("backbone segment = 7 ms + 2 × km × 1.9 / 204 km/ms"));
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
        // Leaving next to the destination swaps the internet leg for a backbone leg of the same length
        // plus a zero-length internet leg (its fixed cost only).
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
