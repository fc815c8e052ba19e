//! The rows of every CSV table, typed: one `#[derive(Serialize, Deserialize)]` struct per table, so
//! the header is the struct's field names and cannot drift from the rows, and `compare` reads a
//! finished run back through the same structs.
//!
//! Tables are tidy (one row per entity per case), with snake_case headers, units in column names and
//! a stable row order. Numbers with decimals are [`super::values`] types (fixed decimals, empty when
//! absent).

mod capacity;
mod egress;
mod failover;
mod geoip;
mod policies;
mod populations;
mod summary;
mod users;

pub use capacity::CapacityRow;
pub use egress::EgressLoadRow;
pub use failover::{FailoverRow, RedundancyRow};
pub use geoip::GeoipRow;
pub use policies::{PolicyRow, ResourceRow};
pub use populations::{HistogramRow, PopulationRow};
pub use summary::SummaryRow;
pub use users::UserRecord;

use super::capacity::Capacity;
use super::cases::CaseFigures;
use super::findings::Finding;
use crate::engine::{Cell, Metrics};
use crate::world::World;

/// Every table of a run, in row order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    /// `summary.csv`: one row per case.
    pub summary: Vec<SummaryRow>,
    /// `egress_load.csv`: per case × egress slot.
    pub egress_load: Vec<EgressLoadRow>,
    /// `populations.csv`: per case × population × egress slot with requests.
    pub populations: Vec<PopulationRow>,
    /// `latency_histogram.csv`: per case × population × non-empty RTT bucket.
    pub latency_histogram: Vec<HistogramRow>,
    /// `capacity.csv`: per case × egress IP × destination.
    pub capacity: Vec<CapacityRow>,
    /// `policies.csv`: per case × policy (then `unmatched`).
    pub policies: Vec<PolicyRow>,
    /// `resources.csv`: per case × destination × egress slot with requests.
    pub resources: Vec<ResourceRow>,
    /// `failover.csv`: per failure case × population.
    pub failover: Vec<FailoverRow>,
    /// `redundancy.csv`: per finding, most severe first.
    pub redundancy: Vec<RedundancyRow>,
    /// `geoip.csv`: per listed population × outcome; `None` when no population is read from a list.
    pub geoip: Option<Vec<GeoipRow>>,
}

/// What the table builders read.
pub(crate) struct Inputs<'a> {
    pub world: &'a World,
    pub m: &'a Metrics,
    pub cases: &'a [CaseFigures],
    pub capacity: &'a Capacity,
    pub findings: &'a [Finding],
}

impl Tables {
    /// Builds every table.
    pub(crate) fn build(i: &Inputs) -> Self {
        Self {
            summary: summary::rows(i),
            egress_load: egress::rows(i),
            populations: populations::rows(i),
            latency_histogram: populations::histogram_rows(i),
            capacity: capacity::rows(i),
            policies: policies::policy_rows(i),
            resources: policies::resource_rows(i),
            failover: failover::rows(i),
            redundancy: i.findings.iter().map(RedundancyRow::from).collect(),
            geoip: geoip::rows(i.world),
        }
    }
}

/// Name of an egress slot in tables: the egress id, `default` or `dropped`.
pub fn slot_name(world: &World, slot: usize) -> String {
    slot_label(world, slot).to_string()
}

/// [`slot_name`], borrowed.
pub(crate) fn slot_label(world: &World, slot: usize) -> &str {
    match slot.checked_sub(world.egress.len()) {
        None => &world.egress[slot].id,
        Some(0) => "default",
        Some(_) => "dropped",
    }
}

/// The RTT percentile `q` of a cell, ms.
pub(crate) fn quantile(c: &Cell, q: f64) -> super::values::Ms {
    super::values::Ms(c.rtt.quantile_ms(q))
}

/// The first CSV line a row type writes: its field names.
pub fn header<T: serde::Serialize + Default>() -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // A default row only serves to make the writer emit the header line.
    let _ = w.serialize(T::default());
    let text = w
        .into_inner()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    text.lines().next().unwrap_or_default().to_string()
}
