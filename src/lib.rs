//! egress-sim: simulates geo-aware dedicated egress IP selection with Cloudflare Zero Trust Gateway
//! semantics, and reports latency, load, geolocation and capacity.
//!
//! Data flows one way (see ARCHITECTURE.md): [`scenario`] parses and validates a TOML file into a
//! compiled [`world::World`]; [`engine`] simulates users × requests × cases into mergeable
//! [`engine::Metrics`]; [`analysis`] computes the results once ([`analysis::Results`]); [`report`]
//! writes them as CSV tables, charts, `report.html` and a terminal summary. [`pipeline`] runs the
//! whole chain; [`commands`] are the CLI's commands on top of it.

#![warn(missing_docs)]

pub(crate) mod alias;
pub mod analysis;
mod atomic_file;
pub mod calibrate;
pub mod catalog;
pub mod check;
pub(crate) mod civil_date;
pub mod commands;
pub mod compare;
pub(crate) mod country_index;
pub mod engine;
pub mod error;
pub mod explain;
pub(crate) mod geodesy;
pub mod geoip;
pub(crate) mod hash;
pub(crate) mod histogram;
pub(crate) mod ids;
pub(crate) mod ingress;
pub mod interrupt;
pub mod latency;
pub(crate) mod matching;
pub(crate) mod nearest;
pub mod pipeline;
pub mod place;
pub mod plan;
pub mod policy;
pub(crate) mod printed;
pub mod report;
pub mod rules;
pub mod scenario;
pub(crate) mod suggest;
pub mod users;
pub mod world;
