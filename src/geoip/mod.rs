//! Real user lists located with a MaxMind-format GeoIP database.
//!
//! - `db`: open and validate a `.mmdb` file (City or Country layout), look addresses up;
//! - `reserved`: private and special-purpose ranges, refused before any lookup;
//! - `userlist`: the CSV user list (email, groups, ip, ...), with line-numbered errors;
//! - `listing`: turns rows and a database into the listed users of a population, with counts per
//!   reason for the users it could not place;
//! - `commands`: `egress-sim geoip lookup` and `geoip stats`;
//! - `writer`, `testdb` (hidden): a small MaxMind DB writer and synthetic databases for tests,
//!   benchmarks and the shipped example.

mod commands;
mod db;
mod listing;
mod reserved;
mod userlist;

#[doc(hidden)]
pub mod testdb;
#[doc(hidden)]
pub mod writer;

pub use commands::{lookup_command, stats_command};
pub use db::{GeoDb, GeoRecord, Layout};
pub use listing::{
    country_centre, resolve, ListedUser, Listing, ListingSettings, Resolver, Unplaced,
};
pub use reserved::{canonical, classify, ReservedKind};
pub use userlist::{read_user_list, BadRows, UserList, UserRow};

/// Why a listed user could not be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unresolved {
    /// A private or special-purpose address (checked before any lookup).
    Reserved(ReservedKind),
    /// The database has no record for the address.
    NotFound,
    /// The record has no coordinates (a Country database, or a record with only a country).
    NoCoordinates,
    /// The record has no coordinates and its country code is missing or unknown to the catalog.
    UnknownCountry,
}

impl Unresolved {
    /// Stable snake_case key used in tables (`not_found`, `no_coordinates`, `private`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Unresolved::Reserved(k) => k.key(),
            Unresolved::NotFound => "not_found",
            Unresolved::NoCoordinates => "no_coordinates",
            Unresolved::UnknownCountry => "unknown_country",
        }
    }

    /// Human description.
    pub fn description(self) -> String {
        match self {
            Unresolved::Reserved(k) => format!("private or reserved address: {}", k.description()),
            Unresolved::NotFound => "not in the database".into(),
            Unresolved::NoCoordinates => "found without coordinates (country only)".into(),
            Unresolved::UnknownCountry => "found without coordinates or a known country".into(),
        }
    }
}
