//! Egress policies with Gateway semantics: the compiled policy list the World holds.
//!
//! - [`expr`]: the filter-expression language (lexer, parser, type-checking compiler, evaluator).
//!
//! How a generated user's request is matched against these policies lives in `crate::matching`.

pub mod expr;

use crate::ids::EgressId;

/// Which of a rule's three filters a condition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// `traffic`: network and destination selectors.
    Traffic,
    /// `identity`: user and group selectors.
    Identity,
    /// `device_posture`: passed posture checks.
    DevicePosture,
}

impl FilterKind {
    /// All three, in the order Gateway lists them.
    pub const ALL: [FilterKind; 3] = [
        FilterKind::Traffic,
        FilterKind::Identity,
        FilterKind::DevicePosture,
    ];

    /// The API field name.
    pub fn name(self) -> &'static str {
        match self {
            FilterKind::Traffic => "traffic",
            FilterKind::Identity => "identity",
            FilterKind::DevicePosture => "device_posture",
        }
    }
}

/// One compiled filter expression.
#[derive(Debug, Clone)]
pub struct Condition {
    /// Canonical text (what `rules export` writes and `explain` prints).
    pub text: String,
    /// The parsed tree (kept for `explain`, which evaluates top-level conjuncts one by one).
    pub expr: expr::Expr,
    /// The compiled, allocation-free form.
    pub compiled: expr::CompiledExpr,
}

/// Where a dedicated policy's IPv4 traffic goes when its primary is unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// No fallback: the traffic is dropped.
    None,
    /// Another dedicated egress IP (in a different data center, normally).
    Egress(EgressId),
    /// `0.0.0.0`: Cloudflare's default egress.
    DefaultEgress,
}

/// What a matching policy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Default Cloudflare egress (shared addresses, leaves from the ingress data center).
    DefaultEgress,
    /// Dedicated egress IPs.
    Dedicated {
        /// Primary IPv4 (an egress IP).
        ipv4: EgressId,
        /// Secondary for IPv4 traffic.
        fallback: Fallback,
        /// Egress IP whose IPv6 range carries IPv6 traffic.
        ipv6: EgressId,
    },
}

/// A compiled egress policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Rule id (given, imported, or derived from the name).
    pub id: String,
    /// Name shown in reports.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Evaluation order, ascending.
    pub precedence: i64,
    /// Disabled policies are skipped.
    pub enabled: bool,
    /// `traffic`, `identity`, `device_posture` filters; absent ones always match.
    pub filters: [Option<Condition>; 3],
    /// What happens on a match.
    pub action: Action,
    /// Index into `World::requirements`: where matched traffic must egress.
    pub require_egress_in: Option<u16>,
}

impl Policy {
    /// The filter of one kind.
    pub fn filter(&self, kind: FilterKind) -> Option<&Condition> {
        self.filters[kind as usize].as_ref()
    }

    /// True when every present filter matches.
    #[inline]
    pub fn matches(&self, facts: &expr::eval::Facts<'_>) -> bool {
        self.enabled
            && self
                .filters
                .iter()
                .flatten()
                .all(|c| c.compiled.eval(facts))
    }
}
