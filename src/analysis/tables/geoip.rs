//! `geoip.csv`: how the users of each list-based population were placed.

use serde::{Deserialize, Serialize};

use crate::world::World;

/// One placement outcome of one listed population.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GeoipRow {
    /// Population name.
    pub population: String,
    /// The user list file.
    pub user_list: String,
    /// `placed`, `placed_at_country_centre`, or why users could not be placed.
    pub outcome: String,
    /// Users (rows of the list) with this outcome.
    pub users: u64,
}

/// The rows, or `None` when no population is read from a user list.
pub(super) fn rows(world: &World) -> Option<Vec<GeoipRow>> {
    if world.populations.iter().all(|p| p.listing.is_none()) {
        return None;
    }
    let mut out = Vec::new();
    for p in &world.populations {
        let Some(l) = &p.listing else { continue };
        let file = l.file.display().to_string();
        let placed = l.users.len() as u64 - l.placed_by_country;
        let mut outcomes = vec![
            ("placed", placed),
            ("placed_at_country_centre", l.placed_by_country),
        ];
        outcomes.extend(l.reasons());
        out.extend(outcomes.into_iter().map(|(outcome, users)| GeoipRow {
            population: p.name.clone(),
            user_list: file.clone(),
            outcome: outcome.to_string(),
            users,
        }));
    }
    Some(out)
}
