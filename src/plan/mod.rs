//! `egress-sim plan`: where to reserve the next dedicated egress IPs.

pub(crate) mod eval;
mod new_ips;
mod plan_file;
