//! `users.csv`: one row per user and case, streamed while the simulation runs (with `--per-user`).
//! Rows borrow every name from the world, so streaming allocates nothing per row.

use serde::{Deserialize, Serialize};

use crate::analysis::values::{Degrees, Ms};
use crate::catalog::Catalog;
use crate::engine::UserRow;
use crate::world::World;

/// One user in one case.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct UserRecord<'w> {
    /// Case name.
    pub case: &'w str,
    /// Global user index.
    pub user: u64,
    /// Population name.
    pub population: &'w str,
    /// Latitude.
    pub lat: Degrees,
    /// Longitude.
    pub lon: Degrees,
    /// ISO code of the user's country.
    pub country: &'w str,
    /// Ingress data center (empty when every data center is down).
    pub ingress: &'w str,
    /// Egress slot of the user's first request.
    pub egress: &'w str,
    /// Mean RTT of the user's delivered requests.
    pub rtt_mean_ms: Ms,
}

impl<'w> UserRecord<'w> {
    /// The record of an engine row.
    pub fn new(world: &'w World, r: &UserRow) -> Self {
        let catalog = Catalog::embedded();
        Self {
            case: &world.cases[r.case as usize].name,
            user: r.user,
            population: &world.populations[r.population as usize].name,
            lat: Degrees::of(r.lat),
            lon: Degrees::of(r.lon),
            country: &catalog.country(r.country).iso2,
            ingress: r
                .ingress
                .map_or("", |d| world.datacenters[d as usize].code.as_str()),
            egress: super::slot_label(world, r.slot as usize),
            rtt_mean_ms: Ms(r.rtt_mean_ms),
        }
    }
}
