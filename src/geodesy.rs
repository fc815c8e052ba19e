//! Great-circle geometry on a spherical Earth.
//!
//! The simulator only needs distances good to a fraction of a percent (path inflation factors dwarf the
//! error of a spherical model), so the haversine formula on the IUGG mean radius is used throughout.

/// Mean Earth radius in kilometres (IUGG R1).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A point on the Earth in decimal degrees (WGS 84 latitude and longitude).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LatLon {
    /// Latitude in degrees, -90..=90.
    pub lat: f64,
    /// Longitude in degrees, -180..=180.
    pub lon: f64,
}

impl LatLon {
    /// Creates a point from latitude and longitude in degrees.
    pub const fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }

    /// Great-circle distance to `other` in kilometres.
    pub fn distance_km(self, other: LatLon) -> f64 {
        haversine_km(self, other)
    }

    /// The point as a unit vector in Earth-centred coordinates. Chord length between unit vectors is
    /// monotonic in great-circle distance, so nearest-neighbour searches can run in 3-D Euclidean space.
    pub fn to_unit_vector(self) -> [f64; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    }

    /// The point reached by travelling `distance_km` from `self` along the initial `bearing_deg`
    /// (clockwise from north). Longitude is normalised to -180..180.
    pub fn destination(self, bearing_deg: f64, distance_km: f64) -> LatLon {
        let delta = distance_km / EARTH_RADIUS_KM;
        let theta = bearing_deg.to_radians();
        let (phi1, lambda1) = (self.lat.to_radians(), self.lon.to_radians());
        let sin_phi2 = phi1.sin() * delta.cos() + phi1.cos() * delta.sin() * theta.cos();
        let phi2 = sin_phi2.clamp(-1.0, 1.0).asin();
        let y = theta.sin() * delta.sin() * phi1.cos();
        let x = delta.cos() - phi1.sin() * sin_phi2;
        let lambda2 = lambda1 + y.atan2(x);
        let lon = (lambda2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
        LatLon::new(phi2.to_degrees(), lon)
    }

    /// True when both coordinates are finite and inside their ranges.
    pub fn is_valid(self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }
}

/// Great-circle distance between two points in kilometres (haversine formula).
pub fn haversine_km(a: LatLon, b: LatLon) -> f64 {
    let (phi1, phi2) = (a.lat.to_radians(), b.lat.to_radians());
    let dphi = phi2 - phi1;
    let dlambda = (b.lon - a.lon).to_radians();
    let h = (dphi * 0.5).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda * 0.5).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Great-circle distance in kilometres between two unit vectors (see [`LatLon::to_unit_vector`]).
pub fn unit_vector_distance_km(a: [f64; 3], b: [f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    let chord = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    2.0 * EARTH_RADIUS_KM * (chord * 0.5).min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONDON: LatLon = LatLon::new(51.5074, -0.1278);
    const PARIS: LatLon = LatLon::new(48.8566, 2.3522);
    const NEW_YORK: LatLon = LatLon::new(40.7128, -74.0060);
    const SYDNEY: LatLon = LatLon::new(-33.8688, 151.2093);

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn known_city_pairs() {
        // Reference great-circle distances (spherical, mean radius), rounded to the km.
        assert!(close(haversine_km(LONDON, PARIS), 343.5, 2.0));
        assert!(close(haversine_km(LONDON, NEW_YORK), 5570.0, 10.0));
        assert!(close(haversine_km(LONDON, SYDNEY), 16994.0, 20.0));
    }

    #[test]
    fn distance_is_symmetric_and_zero_on_self() {
        assert_eq!(haversine_km(LONDON, LONDON), 0.0);
        assert!(close(
            haversine_km(PARIS, SYDNEY),
            haversine_km(SYDNEY, PARIS),
            1e-9
        ));
    }

    #[test]
    fn unit_vectors_agree_with_haversine() {
        let d1 = haversine_km(LONDON, NEW_YORK);
        let d2 = unit_vector_distance_km(LONDON.to_unit_vector(), NEW_YORK.to_unit_vector());
        assert!(close(d1, d2, 1e-6));
    }

    #[test]
    fn destination_round_trips_distance() {
        for bearing in [0.0, 45.0, 90.0, 180.0, 270.0] {
            let p = LONDON.destination(bearing, 250.0);
            assert!(
                close(haversine_km(LONDON, p), 250.0, 1e-6),
                "bearing {bearing}"
            );
        }
        let across = LatLon::new(0.0, 179.9).destination(90.0, 50.0);
        assert!(across.lon < -179.0 && across.is_valid());
    }
}
