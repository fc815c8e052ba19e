//! Exact k-nearest search among a fixed set of points (data centers), fast enough for millions of users.
//!
//! A 2° grid stores, for every cell, the points that can possibly be among the `K` nearest of any location
//! in that cell: all points within `d_K(centre) + 2·r` of the centre, where `r` bounds the distance from
//! the centre to anything in the cell. A query scans only that short list. When exclusions (failed data
//! centers) leave too few candidates, or the answer cannot be proven exact from the list alone, the query
//! falls back to a full scan, so answers are always exact.

use crate::geodesy::{LatLon, EARTH_RADIUS_KM};

/// Neighbours guaranteed by the candidate lists before a full scan is needed.
const K: usize = 6;
const CELL_DEG: f64 = 2.0;
const ROWS: usize = (180.0 / CELL_DEG) as usize;
const COLS: usize = (360.0 / CELL_DEG) as usize;

/// One neighbour: the point's index and its great-circle distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    /// Index into the points the index was built from.
    pub index: u32,
    /// Great-circle distance, km.
    pub distance_km: f64,
}

/// Grid-accelerated exact nearest-neighbour index over points on the sphere.
#[derive(Debug, Clone)]
pub struct NearestIndex {
    points: Vec<[f64; 3]>,
    /// Start offset of each cell's candidate list in `candidates` (CSR layout, `ROWS * COLS + 1` entries).
    offsets: Vec<u32>,
    candidates: Vec<u32>,
    /// Chord length that a found neighbour must not exceed for the cell's list to prove it exact.
    proof_chord: Vec<f64>,
}

fn chord_to_km(c: f64) -> f64 {
    2.0 * EARTH_RADIUS_KM * (c * 0.5).min(1.0).asin()
}

fn km_to_chord(km: f64) -> f64 {
    2.0 * (km / (2.0 * EARTH_RADIUS_KM))
        .min(std::f64::consts::FRAC_PI_2)
        .sin()
}

fn chord(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

fn cell_of(p: LatLon) -> usize {
    let row = (((p.lat + 90.0) / CELL_DEG) as usize).min(ROWS - 1);
    let col = (((p.lon + 180.0) / CELL_DEG) as usize).min(COLS - 1);
    row * COLS + col
}

impl NearestIndex {
    /// Builds the index. Empty input is allowed (every query then finds nothing).
    pub fn new(points: &[LatLon]) -> Self {
        use rayon::prelude::*;
        let unit: Vec<[f64; 3]> = points.iter().map(|p| p.to_unit_vector()).collect();
        // Rows are independent; building them in parallel keeps start-up short.
        let rows: Vec<(Vec<u32>, Vec<u32>, Vec<f64>)> = (0..ROWS)
            .into_par_iter()
            .map(|row| {
                let mut lens = Vec::with_capacity(COLS);
                let mut cands = Vec::new();
                let mut proofs = Vec::with_capacity(COLS);
                let mut chords: Vec<f64> = Vec::with_capacity(unit.len());
                let mut scratch: Vec<f64> = Vec::with_capacity(unit.len());
                let lat0 = -90.0 + row as f64 * CELL_DEG;
                for col in 0..COLS {
                    let lon0 = -180.0 + col as f64 * CELL_DEG;
                    let centre = LatLon::new(lat0 + CELL_DEG / 2.0, lon0 + CELL_DEG / 2.0);
                    // The farthest point of a small cell from its centre is a corner; 5% covers curvature.
                    let r_km = [
                        (lat0, lon0),
                        (lat0, lon0 + CELL_DEG),
                        (lat0 + CELL_DEG, lon0),
                        (lat0 + CELL_DEG, lon0 + CELL_DEG),
                    ]
                    .iter()
                    .map(|&(la, lo)| centre.distance_km(LatLon::new(la, lo)))
                    .fold(0.0, f64::max)
                        * 1.05;
                    let c = centre.to_unit_vector();
                    chords.clear();
                    chords.extend(unit.iter().map(|u| chord(&c, u)));
                    let before = cands.len();
                    if chords.len() <= K {
                        cands.extend(0..chords.len() as u32);
                        proofs.push(f64::INFINITY);
                    } else {
                        scratch.clear();
                        scratch.extend_from_slice(&chords);
                        let (_, kth, _) =
                            scratch.select_nth_unstable_by(K - 1, |a, b| a.total_cmp(b));
                        let radius_km = chord_to_km(*kth) + 2.0 * r_km;
                        let radius = km_to_chord(radius_km);
                        cands.extend(
                            chords
                                .iter()
                                .enumerate()
                                .filter(|(_, d)| **d <= radius)
                                .map(|(i, _)| i as u32),
                        );
                        // Anything outside the list is farther than `radius - r` from every point of the cell.
                        proofs.push(km_to_chord(radius_km - r_km));
                    }
                    lens.push((cands.len() - before) as u32);
                }
                (lens, cands, proofs)
            })
            .collect();
        let mut offsets = Vec::with_capacity(ROWS * COLS + 1);
        let mut candidates = Vec::new();
        let mut proof_chord = Vec::with_capacity(ROWS * COLS);
        offsets.push(0u32);
        for (lens, cands, proofs) in rows {
            let mut at = 0usize;
            for len in lens {
                candidates.extend_from_slice(&cands[at..at + len as usize]);
                at += len as usize;
                offsets.push(candidates.len() as u32);
            }
            proof_chord.extend(proofs);
        }
        Self {
            points: unit,
            offsets,
            candidates,
            proof_chord,
        }
    }

    /// Number of indexed points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when no points are indexed.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Fills `out` with the nearest points to `p` for which `available(index)` is true, nearest first,
    /// and returns how many were found (at most `out.len()`). Ties break by lower index. Does not allocate.
    pub fn nearest(
        &self,
        p: LatLon,
        available: impl Fn(u32) -> bool,
        out: &mut [Neighbor],
    ) -> usize {
        self.nearest_unit(p, &p.to_unit_vector(), available, out)
    }

    /// [`nearest`](Self::nearest) for a caller that already has the point's unit vector.
    pub fn nearest_unit(
        &self,
        p: LatLon,
        u: &[f64; 3],
        available: impl Fn(u32) -> bool,
        out: &mut [Neighbor],
    ) -> usize {
        let u = *u;
        let cell = cell_of(p);
        let list = &self.candidates[self.offsets[cell] as usize..self.offsets[cell + 1] as usize];
        let n = Self::scan(&self.points, list.iter().copied(), &u, &available, out);
        let proven = n == out.len()
            && out
                .last()
                .is_some_and(|w| w.distance_km <= self.proof_chord[cell]);
        let n = if proven || self.proof_chord[cell].is_infinite() {
            n
        } else {
            Self::scan(
                &self.points,
                0..self.points.len() as u32,
                &u,
                &available,
                out,
            )
        };
        for w in &mut out[..n] {
            w.distance_km = chord_to_km(w.distance_km);
        }
        n
    }

    /// Insertion scan keeping the best `out.len()` by chord length (stored in `distance_km` until the end).
    fn scan(
        points: &[[f64; 3]],
        ids: impl Iterator<Item = u32>,
        u: &[f64; 3],
        available: &impl Fn(u32) -> bool,
        out: &mut [Neighbor],
    ) -> usize {
        let mut n = 0;
        for i in ids {
            if !available(i) {
                continue;
            }
            let d = chord(u, &points[i as usize]);
            let mut pos = n;
            while pos > 0
                && (out[pos - 1].distance_km > d
                    || (out[pos - 1].distance_km == d && out[pos - 1].index > i))
            {
                if pos < out.len() {
                    out[pos] = out[pos - 1];
                }
                pos -= 1;
            }
            if pos < out.len() {
                out[pos] = Neighbor {
                    index: i,
                    distance_km: d,
                };
                n = (n + 1).min(out.len());
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn brute(points: &[LatLon], p: LatLon, avail: &dyn Fn(u32) -> bool, k: usize) -> Vec<u32> {
        let mut v: Vec<(f64, u32)> = points
            .iter()
            .enumerate()
            .filter(|(i, _)| avail(*i as u32))
            .map(|(i, q)| (p.distance_km(*q), i as u32))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        v.into_iter().take(k).map(|x| x.1).collect()
    }

    #[test]
    fn matches_brute_force_with_and_without_exclusions() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let pts: Vec<LatLon> = (0..300)
            .map(|_| {
                LatLon::new(
                    rng.random_range(-60.0..70.0),
                    rng.random_range(-180.0..180.0),
                )
            })
            .collect();
        let idx = NearestIndex::new(&pts);
        let down = |i: u32| i % 7 != 3;
        for _ in 0..5000 {
            let p = LatLon::new(
                rng.random_range(-90.0..90.0),
                rng.random_range(-180.0..180.0),
            );
            let mut out = [Neighbor {
                index: 0,
                distance_km: 0.0,
            }; 3];
            let n = idx.nearest(p, |_| true, &mut out);
            let got: Vec<u32> = out[..n].iter().map(|w| w.index).collect();
            assert_eq!(got, brute(&pts, p, &|_| true, 3), "at {p:?}");
            let n = idx.nearest(p, down, &mut out);
            let got: Vec<u32> = out[..n].iter().map(|w| w.index).collect();
            assert_eq!(got, brute(&pts, p, &down, 3), "excluded, at {p:?}");
            assert!((out[0].distance_km - p.distance_km(pts[out[0].index as usize])).abs() < 1e-6);
        }
    }

    #[test]
    fn few_points_and_empty() {
        let pts = [LatLon::new(51.47, -0.45), LatLon::new(52.31, 4.76)];
        let idx = NearestIndex::new(&pts);
        let mut out = [Neighbor {
            index: 9,
            distance_km: 0.0,
        }; 3];
        assert_eq!(idx.nearest(LatLon::new(52.37, 4.89), |_| true, &mut out), 2);
        assert_eq!(out[0].index, 1);
        assert_eq!(
            idx.nearest(LatLon::new(52.37, 4.89), |_| false, &mut out),
            0
        );
        let empty = NearestIndex::new(&[]);
        assert_eq!(empty.nearest(LatLon::new(0.0, 0.0), |_| true, &mut out), 0);
    }
}
