//! Index types the compiled model and everything that reads it share.
//!
//! They live below `world` so that the modules whose types the World holds (`policy`, for example) can
//! name a data center or an egress IP without depending on the World.

/// Index of a data center in [`World::datacenters`](crate::world::World::datacenters).
pub type DcId = u16;
/// Index of an egress IP in [`World::egress`](crate::world::World::egress).
pub type EgressId = u16;
