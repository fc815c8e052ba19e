//! Compact, immutable membership structures that compiled expressions test against: sorted merged
//! ranges for integers and IPs (binary search), sorted strings, and a 256-bit set for groups and
//! posture checks. All lookups are allocation-free.

use std::net::IpAddr;

/// A fixed-size set of up to 256 members, identified by index (groups, posture checks).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug, Hash)]
pub struct BitSet256(pub [u64; 4]);

impl BitSet256 {
    /// The empty set.
    pub const EMPTY: BitSet256 = BitSet256([0; 4]);

    /// The set of every index below `n` (all 256 when `n >= 256`).
    pub fn first_n(n: usize) -> BitSet256 {
        let mut s = BitSet256::EMPTY;
        for (w, word) in s.0.iter_mut().enumerate() {
            let lo = w * 64;
            *word = match n.saturating_sub(lo) {
                0 => 0,
                k if k >= 64 => u64::MAX,
                k => (1u64 << k) - 1,
            };
        }
        s
    }

    /// Adds member `i`.
    pub fn insert(&mut self, i: u8) {
        self.0[usize::from(i >> 6)] |= 1 << (i & 63);
    }

    /// Removes member `i`.
    pub fn remove(&mut self, i: u8) {
        self.0[usize::from(i >> 6)] &= !(1 << (i & 63));
    }

    /// Whether `i` is a member.
    pub fn contains(&self, i: u8) -> bool {
        self.0[usize::from(i >> 6)] & (1 << (i & 63)) != 0
    }

    /// Whether the sets share a member.
    pub fn intersects(&self, other: &BitSet256) -> bool {
        self.0.iter().zip(other.0.iter()).any(|(a, b)| a & b != 0)
    }

    /// Whether every member of `self` is in `other` (true for the empty set).
    pub fn is_subset_of(&self, other: &BitSet256) -> bool {
        self.0.iter().zip(other.0.iter()).all(|(a, b)| a & !b == 0)
    }

    /// Members of either set.
    #[must_use]
    pub fn union(&self, other: &BitSet256) -> BitSet256 {
        BitSet256(std::array::from_fn(|w| self.0[w] | other.0[w]))
    }

    /// Members of `self` not in `other`.
    #[must_use]
    pub fn difference(&self, other: &BitSet256) -> BitSet256 {
        BitSet256(std::array::from_fn(|w| self.0[w] & !other.0[w]))
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=255u8).filter(move |i| self.contains(*i))
    }
}

impl FromIterator<u8> for BitSet256 {
    fn from_iter<I: IntoIterator<Item = u8>>(iter: I) -> Self {
        let mut s = BitSet256::EMPTY;
        for i in iter {
            s.insert(i);
        }
        s
    }
}

/// Sorts inclusive ranges and merges overlapping or adjacent ones, so that lookups can binary-search
/// a list of disjoint ranges.
fn merge<T: Ord + Copy>(mut ranges: Vec<(T, T)>, succ: impl Fn(T) -> Option<T>) -> Box<[(T, T)]> {
    ranges.retain(|(lo, hi)| lo <= hi);
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if lo <= last.1 || succ(last.1) == Some(lo) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out.into_boxed_slice()
}

/// Whether `x` lies in one of the disjoint sorted `ranges`.
fn in_ranges<T: Ord + Copy>(ranges: &[(T, T)], x: T) -> bool {
    let i = ranges.partition_point(|r| r.0 <= x);
    i > 0 && ranges[i - 1].1 >= x
}

/// A set of integers as disjoint inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct IntSet(Box<[(i64, i64)]>);

impl IntSet {
    /// Builds the set from possibly overlapping inclusive ranges (empty ranges are dropped).
    pub(super) fn from_ranges(ranges: Vec<(i64, i64)>) -> Self {
        IntSet(merge(ranges, |x: i64| x.checked_add(1)))
    }

    pub(super) fn contains(&self, x: i64) -> bool {
        in_ranges(&self.0, x)
    }

    #[cfg(test)]
    pub(super) fn ranges(&self) -> &[(i64, i64)] {
        &self.0
    }
}

/// A set of IP addresses as disjoint inclusive ranges per family. An IPv4 address never matches an
/// IPv6 range or the reverse (no implicit IPv4-mapped equivalence).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(super) struct IpSet {
    v4: Box<[(u32, u32)]>,
    v6: Box<[(u128, u128)]>,
}

/// The inclusive bounds of `addr/prefix` (host bits ignored).
pub(super) fn cidr_bounds(addr: IpAddr, prefix: u8) -> (IpAddr, IpAddr) {
    match addr {
        IpAddr::V4(a) => {
            let host_bits = 32 - u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
            let lo = u32::from(a) & mask;
            (IpAddr::V4(lo.into()), IpAddr::V4((lo | !mask).into()))
        }
        IpAddr::V6(a) => {
            let host_bits = 128 - u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
            let lo = u128::from(a) & mask;
            (IpAddr::V6(lo.into()), IpAddr::V6((lo | !mask).into()))
        }
    }
}

impl IpSet {
    /// Builds the set from inclusive address ranges; ranges whose ends differ in family are dropped
    /// (the parser never produces them).
    pub(super) fn from_ranges(ranges: impl IntoIterator<Item = (IpAddr, IpAddr)>) -> Self {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (lo, hi) in ranges {
            match (lo, hi) {
                (IpAddr::V4(l), IpAddr::V4(h)) => v4.push((u32::from(l), u32::from(h))),
                (IpAddr::V6(l), IpAddr::V6(h)) => v6.push((u128::from(l), u128::from(h))),
                _ => {}
            }
        }
        IpSet {
            v4: merge(v4, |x: u32| x.checked_add(1)),
            v6: merge(v6, |x: u128| x.checked_add(1)),
        }
    }

    pub(super) fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => in_ranges(&self.v4, u32::from(a)),
            IpAddr::V6(a) => in_ranges(&self.v6, u128::from(a)),
        }
    }
}

/// A set of strings, sorted for binary search. Exact, case-sensitive comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct StrSet(Box<[Box<str>]>);

impl StrSet {
    pub(super) fn new(items: impl IntoIterator<Item = String>) -> Self {
        let mut v: Vec<Box<str>> = items.into_iter().map(String::into_boxed_str).collect();
        v.sort_unstable();
        v.dedup();
        StrSet(v.into_boxed_slice())
    }

    pub(super) fn contains(&self, s: &str) -> bool {
        self.0.binary_search_by(|x| x.as_ref().cmp(s)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitset_basics() {
        let mut a = BitSet256::EMPTY;
        for i in [0u8, 63, 64, 200, 255] {
            a.insert(i);
        }
        assert_eq!(a.len(), 5);
        assert!(a.contains(255) && a.contains(64) && !a.contains(65));
        a.remove(64);
        assert!(!a.contains(64));
        let b: BitSet256 = [0u8, 255].into_iter().collect();
        assert!(b.is_subset_of(&a) && !a.is_subset_of(&b));
        assert!(BitSet256::EMPTY.is_subset_of(&b));
        assert!(a.intersects(&b) && !a.intersects(&BitSet256::EMPTY));
        assert_eq!(a.difference(&b).iter().collect::<Vec<_>>(), vec![63, 200]);
        assert_eq!(a.union(&b), a);
        assert_eq!(BitSet256::first_n(0), BitSet256::EMPTY);
        assert_eq!(BitSet256::first_n(65).len(), 65);
        assert!(BitSet256::first_n(65).contains(64) && !BitSet256::first_n(65).contains(65));
        assert_eq!(BitSet256::first_n(1000).len(), 256);
    }

    #[test]
    fn int_ranges_merge_and_search() {
        let s = IntSet::from_ranges(vec![
            (10, 20),
            (21, 25),
            (5, 5),
            (30, 29),
            (i64::MAX, i64::MAX),
            (18, 19),
        ]);
        assert_eq!(s.ranges(), &[(5, 5), (10, 25), (i64::MAX, i64::MAX)]);
        for (x, want) in [
            (4, false),
            (5, true),
            (6, false),
            (10, true),
            (25, true),
            (26, false),
            (i64::MAX, true),
            (i64::MIN, false),
        ] {
            assert_eq!(s.contains(x), want, "{x}");
        }
        assert!(!IntSet::from_ranges(vec![]).contains(0));
    }

    #[test]
    fn ip_sets_by_family() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let (lo, hi) = cidr_bounds(ip("192.0.2.77"), 24);
        assert_eq!((lo, hi), (ip("192.0.2.0"), ip("192.0.2.255")));
        assert_eq!(
            cidr_bounds(ip("1.2.3.4"), 0),
            (ip("0.0.0.0"), ip("255.255.255.255"))
        );
        assert_eq!(
            cidr_bounds(ip("2001:db8::1"), 128),
            (ip("2001:db8::1"), ip("2001:db8::1"))
        );
        let s = IpSet::from_ranges([
            cidr_bounds(ip("10.0.0.0"), 8),
            (ip("192.168.1.1"), ip("192.168.1.9")),
            cidr_bounds(ip("2001:db8::"), 32),
            (ip("10.0.0.0"), ip("::1")),
        ]);
        assert!(s.contains(ip("10.255.255.255")));
        assert!(!s.contains(ip("11.0.0.0")));
        assert!(s.contains(ip("192.168.1.9")) && !s.contains(ip("192.168.1.10")));
        assert!(s.contains(ip("2001:db8:ffff::1")) && !s.contains(ip("2001:db9::")));
        assert!(
            !s.contains(ip("::ffff:10.0.0.1")),
            "no v4-mapped equivalence"
        );
    }

    #[test]
    fn strings() {
        let s = StrSet::new(["b".to_string(), "a".into(), "b".into()]);
        assert!(s.contains("a") && s.contains("b") && !s.contains("c") && !s.contains("A"));
    }
}
