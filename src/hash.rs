//! Stable 64-bit hashes for deterministic, per-user sticky choices.
//!
//! They sit below every module that draws per-user choices (user generation, GeoIP accuracy spread,
//! ingress rank, balancing), so none of them has to depend on another for a hash.

/// SplitMix64 finaliser: a fast, well-mixed 64-bit hash.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable per-user hash for sticky choices (tie splitting, anycast rank), independent of the random
/// stream so that adding a draw elsewhere never reshuffles who goes where.
#[inline]
pub fn user_hash(seed: u64, index: u64, purpose: u64) -> u64 {
    mix64(mix64(seed ^ purpose.wrapping_mul(0xA24B_AED4_963E_E407)) ^ index)
}
