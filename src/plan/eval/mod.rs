//! Exact, incremental evaluation of plans: the figures of the scenario with a set of planned IPs
//! added, equal to what `run` reports for that plan world, computed from per-user data prepared
//! once (`users`), the engine's routing through planned IPs (`model`), and per-plan accumulators
//! that change only for the users a candidate can move (`state`).

mod acc;
mod model;
mod state;
mod users;

pub(crate) use model::{Down, Model, ModelInputs};
pub(crate) use state::{Judged, State};

#[cfg(test)]
mod tests;
