//! The fixed catalogue of fields a Gateway egress expression may test.
//!
//! The set is closed (Gateway's egress selectors), so fields are an enum rather than strings: the parser
//! resolves names once, the compiler dispatches on the enum, and [`FieldSet`] can be a plain bitmask.

use std::fmt;

/// The type of a scalar value, or of the elements of an array field.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ScalarType {
    /// An IPv4 or IPv6 address.
    Ip,
    /// An integer (ports, application ids).
    Int,
    /// A string.
    Str,
}

impl ScalarType {
    /// A human name with an article, for error messages ("an IP address").
    pub fn describe(self) -> &'static str {
        match self {
            ScalarType::Ip => "an IP address",
            ScalarType::Int => "an integer",
            ScalarType::Str => "a string",
        }
    }
}

/// The type of a field: a single value, or an array that must be tested with `any(...)`/`all(...)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ValueType {
    /// One value of the given type.
    Scalar(ScalarType),
    /// An array whose elements have the given type.
    Array(ScalarType),
}

impl ValueType {
    /// The type of the value itself (scalar) or of one element (array).
    pub fn element(self) -> ScalarType {
        match self {
            ValueType::Scalar(t) | ValueType::Array(t) => t,
        }
    }

    /// Whether the field is an array.
    pub fn is_array(self) -> bool {
        matches!(self, ValueType::Array(_))
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ValueType::Scalar(ScalarType::Ip) => "IP address",
            ValueType::Scalar(ScalarType::Int) => "integer",
            ValueType::Scalar(ScalarType::Str) => "string",
            ValueType::Array(ScalarType::Ip) => "array of IP addresses",
            ValueType::Array(ScalarType::Int) => "array of integers",
            ValueType::Array(ScalarType::Str) => "array of strings",
        };
        f.write_str(s)
    }
}

/// One field an egress expression can test (Gateway's API field names).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Field {
    /// `net.src.ip`: the device's public source address.
    SrcIp,
    /// `net.src.internal_src_ip`: the device's address inside the customer network.
    SrcInternalIp,
    /// `net.src.port`.
    SrcPort,
    /// `net.src.geo.country`: ISO 3166-1 alpha-2 of the device's public IP.
    SrcCountry,
    /// `net.src.geo.continent`: two-letter continent code.
    SrcContinent,
    /// `net.dst.ip`.
    DstIp,
    /// `net.dst.port`.
    DstPort,
    /// `net.dst.geo.country`.
    DstCountry,
    /// `net.dst.geo.continent`.
    DstContinent,
    /// `net.protocol`: `"tcp"`, `"udp"` or `"icmp"`.
    Protocol,
    /// `net.vnet_id`: the virtual network the device client has selected.
    VnetId,
    /// `net.fqdn.host`: the exact destination host name.
    Host,
    /// `net.fqdn.domains`: the host and each of its parent domains.
    Domains,
    /// `app.ids`: application ids the destination belongs to.
    AppIds,
    /// `proxy.endpoint`: the proxy endpoint id.
    ProxyEndpoint,
    /// `identity.email`.
    Email,
    /// `identity.name`.
    Name,
    /// `identity.groups.name`.
    GroupNames,
    /// `identity.groups.id`.
    GroupIds,
    /// `identity.groups.email`.
    GroupEmails,
    /// `device_posture.checks.passed`: ids of the posture checks the device passed.
    PosturePassed,
}

/// Every field, in declaration order (also the bit order of [`FieldSet`]).
const ALL_FIELDS: [Field; 21] = [
    Field::SrcIp,
    Field::SrcInternalIp,
    Field::SrcPort,
    Field::SrcCountry,
    Field::SrcContinent,
    Field::DstIp,
    Field::DstPort,
    Field::DstCountry,
    Field::DstContinent,
    Field::Protocol,
    Field::VnetId,
    Field::Host,
    Field::Domains,
    Field::AppIds,
    Field::ProxyEndpoint,
    Field::Email,
    Field::Name,
    Field::GroupNames,
    Field::GroupIds,
    Field::GroupEmails,
    Field::PosturePassed,
];

impl Field {
    /// All fields.
    pub fn all() -> &'static [Field] {
        &ALL_FIELDS
    }

    /// The API field name, as written in expressions.
    pub fn name(self) -> &'static str {
        match self {
            Field::SrcIp => "net.src.ip",
            Field::SrcInternalIp => "net.src.internal_src_ip",
            Field::SrcPort => "net.src.port",
            Field::SrcCountry => "net.src.geo.country",
            Field::SrcContinent => "net.src.geo.continent",
            Field::DstIp => "net.dst.ip",
            Field::DstPort => "net.dst.port",
            Field::DstCountry => "net.dst.geo.country",
            Field::DstContinent => "net.dst.geo.continent",
            Field::Protocol => "net.protocol",
            Field::VnetId => "net.vnet_id",
            Field::Host => "net.fqdn.host",
            Field::Domains => "net.fqdn.domains",
            Field::AppIds => "app.ids",
            Field::ProxyEndpoint => "proxy.endpoint",
            Field::Email => "identity.email",
            Field::Name => "identity.name",
            Field::GroupNames => "identity.groups.name",
            Field::GroupIds => "identity.groups.id",
            Field::GroupEmails => "identity.groups.email",
            Field::PosturePassed => "device_posture.checks.passed",
        }
    }

    /// The selector label the dashboard shows for this field.
    pub fn label(self) -> &'static str {
        match self {
            Field::SrcIp => "Source IP",
            Field::SrcInternalIp => "Source Internal IP",
            Field::SrcPort => "Source Port",
            Field::SrcCountry => "Source Country",
            Field::SrcContinent => "Source Continent",
            Field::DstIp => "Destination IP",
            Field::DstPort => "Destination Port",
            Field::DstCountry => "Destination Country",
            Field::DstContinent => "Destination Continent",
            Field::Protocol => "Protocol",
            Field::VnetId => "Virtual Network",
            Field::Host => "Host",
            Field::Domains => "Domain",
            Field::AppIds => "Application",
            Field::ProxyEndpoint => "Proxy Endpoint",
            Field::Email => "User Email",
            Field::Name => "User Name",
            Field::GroupNames => "User Group Names",
            Field::GroupIds => "User Group IDs",
            Field::GroupEmails => "User Group Emails",
            Field::PosturePassed => "Passed Device Posture Checks",
        }
    }

    /// The field's value type.
    pub fn value_type(self) -> ValueType {
        use ScalarType::*;
        match self {
            Field::SrcIp | Field::SrcInternalIp | Field::DstIp => ValueType::Scalar(Ip),
            Field::SrcPort | Field::DstPort => ValueType::Scalar(Int),
            Field::AppIds => ValueType::Array(Int),
            Field::Domains
            | Field::GroupNames
            | Field::GroupIds
            | Field::GroupEmails
            | Field::PosturePassed => ValueType::Array(Str),
            Field::SrcCountry
            | Field::SrcContinent
            | Field::DstCountry
            | Field::DstContinent
            | Field::Protocol
            | Field::VnetId
            | Field::Host
            | Field::ProxyEndpoint
            | Field::Email
            | Field::Name => ValueType::Scalar(Str),
        }
    }

    /// Looks a field up by its exact API name.
    pub fn from_name(name: &str) -> Option<Field> {
        ALL_FIELDS.iter().copied().find(|f| f.name() == name)
    }

    /// The known field closest to `name` by edit distance, if it is close enough to be a likely typo.
    pub fn suggest(name: &str) -> Option<Field> {
        // A third of the length (at least 2) tolerates a dropped segment letter or two without
        // proposing unrelated fields for short garbage.
        let budget = (name.chars().count() / 3).max(2);
        ALL_FIELDS
            .iter()
            .map(|f| (edit_distance(name, f.name()), *f))
            .filter(|(d, _)| *d <= budget)
            .min_by_key(|(d, _)| *d)
            .map(|(_, f)| f)
    }

    /// The bit of this field in a [`FieldSet`].
    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Levenshtein distance over chars; inputs are short field names, so the O(n·m) row version is fine.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A set of fields, as a bitmask (one bit per [`Field`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct FieldSet(u32);

impl FieldSet {
    /// The empty set.
    pub const EMPTY: FieldSet = FieldSet(0);

    /// A set holding the given fields.
    pub fn of(fields: &[Field]) -> FieldSet {
        fields.iter().fold(FieldSet::EMPTY, |s, f| s.with(*f))
    }

    /// Whether `field` is in the set.
    pub fn contains(self, field: Field) -> bool {
        self.0 & field.bit() != 0
    }

    /// The set with `field` added.
    #[must_use]
    pub fn with(self, field: Field) -> FieldSet {
        FieldSet(self.0 | field.bit())
    }

    /// Adds `field` in place.
    pub fn insert(&mut self, field: Field) {
        self.0 |= field.bit();
    }

    /// Fields in either set.
    #[must_use]
    pub fn union(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 | other.0)
    }

    /// Whether every field of `self` is in `other`.
    pub fn is_subset_of(self, other: FieldSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The raw bitmask (bit `i` is `Field::all()[i]`).
    pub fn bits(self) -> u32 {
        self.0
    }

    /// The fields in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Field> {
        ALL_FIELDS.into_iter().filter(move |f| self.contains(*f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for f in Field::all() {
            assert_eq!(Field::from_name(f.name()), Some(*f));
        }
        assert_eq!(Field::all().len(), 21);
        assert!(Field::all().len() <= 32, "FieldSet is a u32");
    }

    #[test]
    fn suggestions_fix_typos_and_ignore_garbage() {
        assert_eq!(Field::suggest("net.dst.prot"), Some(Field::DstPort));
        assert_eq!(Field::suggest("net.src.ipp"), Some(Field::SrcIp));
        assert_eq!(
            Field::suggest("identity.group.name"),
            Some(Field::GroupNames)
        );
        assert_eq!(Field::suggest("http.request.uri"), None);
        assert_eq!(Field::suggest("x"), None);
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn field_set_operations() {
        let a = FieldSet::of(&[Field::SrcIp, Field::DstPort]);
        let b = FieldSet::EMPTY.with(Field::GroupNames);
        let u = a.union(b);
        assert!(u.contains(Field::SrcIp) && u.contains(Field::GroupNames));
        assert!(!a.contains(Field::GroupNames));
        assert!(a.is_subset_of(u) && !u.is_subset_of(a));
        assert_eq!(
            u.iter().collect::<Vec<_>>(),
            vec![Field::SrcIp, Field::DstPort, Field::GroupNames]
        );
        assert!(FieldSet::default().is_empty());
    }

    #[test]
    fn types() {
        assert_eq!(
            Field::AppIds.value_type(),
            ValueType::Array(ScalarType::Int)
        );
        assert!(Field::Domains.value_type().is_array());
        assert_eq!(Field::DstIp.value_type().element(), ScalarType::Ip);
        assert_eq!(Field::GroupIds.value_type().to_string(), "array of strings");
    }
}
