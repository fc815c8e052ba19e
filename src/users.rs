//! Synthetic users, generated deterministically from (seed, user index).
//!
//! Each user owns a random stream seeded from the scenario seed and its global index, so a user is the
//! same person whatever thread generates it, in whatever order: the root of byte-identical output for
//! any thread count.

use std::net::{IpAddr, Ipv4Addr};

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::catalog::CountryId;
use crate::country_index::CountryIndex;
use crate::geodesy::LatLon;
pub use crate::hash::{mix64, user_hash};
use crate::world::{Population, Spread};

/// The random generator every user and request draws from.
pub type UserRng = Xoshiro256PlusPlus;

/// The random stream of user `index` under `seed`.
#[inline]
pub fn user_rng(seed: u64, index: u64) -> UserRng {
    UserRng::seed_from_u64(mix64(seed) ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// One simulated person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct User {
    /// Global index (0-based).
    pub index: u64,
    /// Population index.
    pub population: u16,
    /// Where the user is.
    pub location: LatLon,
    /// Country the user is in.
    pub country: CountryId,
    /// Client and network support IPv6.
    pub ipv6_capable: bool,
    /// Last-mile round-trip time, ms.
    pub access_ms: f32,
    /// Group memberships (bit i = group i).
    pub groups: [u64; 4],
    /// Posture checks passed (bit i = check i).
    pub posture: [u64; 4],
    /// Selected virtual network.
    pub vnet: Option<u16>,
    /// Public source address of the device.
    pub src_ip: IpAddr,
    /// Address inside the customer's network.
    pub src_internal_ip: IpAddr,
    /// Source port of the user's connections (one ephemeral port per user, so decisions can be
    /// computed per user rather than per request).
    pub src_port: u16,
}

/// Generates user `index` of population `pop` (index `pop_index`), returning it and its random stream
/// positioned after generation, ready for the user's requests.
pub fn generate(
    seed: u64,
    index: u64,
    pop_index: u16,
    pop: &Population,
    countries: &CountryIndex,
) -> (User, UserRng) {
    if let Some(listed) = pop.listed_user(index) {
        return generate_listed(seed, index, pop_index, pop, listed);
    }
    let mut rng = user_rng(seed, index);
    let anchor = pop.placement.anchors[pop.placement.alias.sample(&mut rng)];
    let (location, country) = place(anchor, pop, countries, &mut rng);
    let ipv6_capable = rng.random::<f64>() < pop.ipv6_share;
    let z: f64 = StandardNormal.sample(&mut rng);
    let access_ms = (pop.access.median_ms * (pop.access.sigma * z).exp()) as f32;
    let mut groups = [0u64; 4];
    for &(g, share) in &pop.groups {
        if rng.random::<f64>() < share {
            groups[(g / 64) as usize] |= 1 << (g % 64);
        }
    }
    let mut posture = [0u64; 4];
    for &(c, share) in &pop.posture {
        if rng.random::<f64>() < share {
            posture[(c / 64) as usize] |= 1 << (c % 64);
        }
    }
    let vnet = if pop.vnets.is_empty() {
        None
    } else {
        let mut u = rng.random::<f64>();
        pop.vnets.iter().find_map(|&(v, share)| {
            u -= share;
            (u < 0.0).then_some(v)
        })
    };
    // Addresses and port come from a hash of the user, not the random stream, so adding them never
    // changes any other draw.
    let h = user_hash(seed, index, 0x5ac1);
    let (net, len) = pop.source_prefix;
    let host_bits = 32 - len as u32;
    let host = if host_bits == 0 {
        0
    } else {
        (h as u32) & (u32::MAX >> (32 - host_bits))
    };
    let src_ip = IpAddr::V4(Ipv4Addr::from(u32::from(net) | host));
    let src_internal_ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (index as u32 & 0x00ff_ffff)));
    let src_port = 49152 + ((h >> 32) % 16384) as u16;
    (
        User {
            index,
            population: pop_index,
            location,
            country,
            ipv6_capable,
            access_ms,
            groups,
            posture,
            vnet,
            src_ip,
            src_internal_ip,
            src_port,
        },
        rng,
    )
}

/// Offsets drawn at most for a user of a country, continent or region before it stays at its
/// anchor city.
const PLACEMENT_TRIES: usize = 8;

/// Where a user is, `anchor` moved by the population's spread, and its country. When the
/// population has an area (a country, continent or region), an offset that leaves it (into a
/// neighbour, across a strait) is drawn again from the user's own stream; after
/// [`PLACEMENT_TRIES`] the user stays at the anchor. Users of `around` places are never redrawn.
fn place(
    anchor: LatLon,
    pop: &Population,
    countries: &CountryIndex,
    rng: &mut UserRng,
) -> (LatLon, CountryId) {
    for _ in 0..PLACEMENT_TRIES {
        let location = offset(anchor, pop.placement.spread, rng);
        let country = countries.lookup(location);
        match &pop.placement.area {
            Some(area) if !area.get(country.index()).copied().unwrap_or(false) => {}
            _ => return (location, country),
        }
    }
    (anchor, countries.lookup(anchor))
}

/// A user of a list (`from_csv`): identity, groups, address and place come from the list and the GeoIP
/// database; IPv6 support (when the list does not say) and last-mile access are drawn from the user's
/// stream as for synthetic users.
#[cold]
fn generate_listed(
    seed: u64,
    index: u64,
    pop_index: u16,
    pop: &Population,
    listed: &crate::geoip::ListedUser,
) -> (User, UserRng) {
    let mut rng = user_rng(seed, index);
    // Always draw, so the stream is positioned the same whether or not the list says.
    let drawn_v6 = rng.random::<f64>() < pop.ipv6_share;
    let z: f64 = StandardNormal.sample(&mut rng);
    let access_ms = (pop.access.median_ms * (pop.access.sigma * z).exp()) as f32;
    let h = user_hash(seed, index, 0x5ac1);
    (
        User {
            index,
            population: pop_index,
            location: listed.location,
            country: listed.country,
            ipv6_capable: listed.ipv6_capable.unwrap_or(drawn_v6),
            access_ms,
            groups: listed.groups,
            posture: listed.posture,
            vnet: listed.vnet,
            src_ip: listed.ip,
            src_internal_ip: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (index as u32 & 0x00ff_ffff))),
            src_port: 49152 + ((h >> 32) % 16384) as u16,
        },
        rng,
    )
}

/// Below this offset a local flat-earth step is accurate to well under 0.1% and avoids the spherical
/// trigonometry that would otherwise dominate user generation.
const FLAT_LIMIT_KM: f64 = 250.0;
const KM_PER_DEG_LAT: f64 = crate::geodesy::EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// Moves `anchor` by a random offset drawn from `spread`.
fn offset(anchor: LatLon, spread: Spread, rng: &mut UserRng) -> LatLon {
    let (east_km, north_km) = match spread {
        Spread::Normal { sigma_km } => {
            let east: f64 = StandardNormal.sample(rng);
            let north: f64 = StandardNormal.sample(rng);
            (sigma_km * east, sigma_km * north)
        }
        Spread::LogNormal { median_km, sigma } => {
            let z: f64 = StandardNormal.sample(rng);
            let d = median_km * (sigma * z).exp();
            // A uniform direction without trigonometry: a point drawn uniformly in the unit disc.
            let (x, y) = loop {
                let x = rng.random::<f64>() * 2.0 - 1.0;
                let y = rng.random::<f64>() * 2.0 - 1.0;
                let r2 = x * x + y * y;
                if r2 > 1e-12 && r2 <= 1.0 {
                    let r = r2.sqrt();
                    break (x / r, y / r);
                }
            };
            (d * x, d * y)
        }
    };
    let d2 = east_km * east_km + north_km * north_km;
    if d2 < 1e-18 {
        return anchor;
    }
    if d2 < FLAT_LIMIT_KM * FLAT_LIMIT_KM && anchor.lat.abs() < 80.0 {
        let lat = anchor.lat + north_km / KM_PER_DEG_LAT;
        let lon = anchor.lon + east_km / (KM_PER_DEG_LAT * anchor.lat.to_radians().cos());
        return LatLon::new(
            lat.clamp(-90.0, 90.0),
            (lon + 540.0).rem_euclid(360.0) - 180.0,
        );
    }
    // Half the circumference is as far as one can go; beyond it the offset wraps meaninglessly.
    let distance_km = d2.sqrt().min(20_000.0);
    anchor.destination(east_km.atan2(north_km).to_degrees(), distance_km)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_index_and_seed() {
        let a: u64 = user_rng(1, 0).random();
        let b: u64 = user_rng(1, 1).random();
        let c: u64 = user_rng(2, 0).random();
        assert!(a != b && a != c && b != c);
        assert_eq!(a, user_rng(1, 0).random::<u64>());
    }

    #[test]
    fn normal_spread_has_the_right_scale() {
        let anchor = LatLon::new(52.37, 4.89);
        let mut rng = user_rng(9, 9);
        let n = 20_000;
        let mean_sq: f64 = (0..n)
            .map(|_| {
                anchor
                    .distance_km(offset(anchor, Spread::Normal { sigma_km: 30.0 }, &mut rng))
                    .powi(2)
            })
            .sum::<f64>()
            / n as f64;
        // For a 2-D normal, E[r²] = 2σ².
        assert!((mean_sq / (2.0 * 900.0) - 1.0).abs() < 0.05, "{mean_sq}");
    }

    #[test]
    fn lognormal_spread_median() {
        let anchor = LatLon::new(40.0, -75.0);
        let mut rng = user_rng(3, 4);
        let mut d: Vec<f64> = (0..10_001)
            .map(|_| {
                anchor.distance_km(offset(
                    anchor,
                    Spread::LogNormal {
                        median_km: 15.0,
                        sigma: 0.7,
                    },
                    &mut rng,
                ))
            })
            .collect();
        d.sort_by(f64::total_cmp);
        assert!((d[5000] / 15.0 - 1.0).abs() < 0.05, "{}", d[5000]);
    }
}
