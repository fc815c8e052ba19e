//! egress-sim: simulates geo-aware dedicated egress IP selection with Cloudflare Zero Trust Gateway
//! semantics, and reports latency, load, geolocation and capacity.
//!
//! Data flows one way (see ARCHITECTURE.md): [`scenario`] parses and validates a TOML file into a
//! compiled [`world::World`]; [`engine`] simulates users × requests × cases into mergeable
//! [`engine::Metrics`]; [`report`] turns metrics into CSV tables, charts and a terminal summary.

#![warn(missing_docs)]

pub mod alias;
pub mod catalog;
pub mod commands;
pub mod compare;
pub mod country_index;
pub mod engine;
pub mod error;
pub mod explain;
pub mod geodesy;
pub mod geoip;
pub mod histogram;
pub mod latency;
pub mod nearest;
pub mod place;
pub mod policy;
pub mod redundancy;
pub mod report;
pub mod rules;
pub mod scenario;
pub mod suggest;
pub mod users;
pub mod world;
