//! WGS-84 coordinates and great-circle distance.

use crate::error::{Field, ValidationError};
use serde::{Deserialize, Serialize};

/// A WGS-84 position, as GPS and OpenStreetMap give it. Latitude in [-90, 90], longitude in
/// [-180, 180], both finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawLatLon")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatLon {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct RawLatLon {
    lat: f64,
    lon: f64,
}

impl TryFrom<RawLatLon> for LatLon {
    type Error = ValidationError;
    fn try_from(raw: RawLatLon) -> Result<Self, Self::Error> {
        LatLon::new(raw.lat, raw.lon)
    }
}

/// Mean Earth radius in metres (IUGG), for haversine distances.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl LatLon {
    /// Checks both coordinates are finite and in range.
    pub fn new(lat: f64, lon: f64) -> Result<Self, ValidationError> {
        check_range(lat, Field::Latitude, 90.0)?;
        check_range(lon, Field::Longitude, 180.0)?;
        Ok(LatLon {
            lat: round7(lat),
            lon: round7(lon),
        })
    }

    pub fn lat(self) -> f64 {
        self.lat
    }

    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Great-circle distance in metres (haversine).
    pub fn distance_m(self, other: LatLon) -> f64 {
        let (phi1, phi2) = (self.lat.to_radians(), other.lat.to_radians());
        let dphi = phi2 - phi1;
        let dlambda = (other.lon - self.lon).to_radians();
        let a =
            (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

/// Seven decimal places (about 1 cm) is more than any source measures; rounding keeps the
/// registry compact on the wire.
fn round7(value: f64) -> f64 {
    (value * 1e7).round() / 1e7
}

fn check_range(value: f64, field: Field, limit: f64) -> Result<(), ValidationError> {
    if value.is_finite() && (-limit..=limit).contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::OutOfRange {
            field,
            min: -limit,
            max: limit,
            value,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // proptest! bodies are not seen as tests by clippy
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_out_of_range_and_non_finite() {
        assert_eq!(LatLon::new(91.0, 0.0).unwrap_err().code(), "out_of_range");
        assert_eq!(
            LatLon::new(0.0, -180.5).unwrap_err().field(),
            Field::Longitude
        );
        assert!(LatLon::new(f64::NAN, 0.0).is_err());
        assert!(LatLon::new(30.04, 121.15).is_ok());
        assert!(serde_json::from_str::<LatLon>(r#"{"lat": 120, "lon": 0}"#).is_err());
    }

    #[test]
    fn distance_matches_known_values() {
        // Yuyao railway station to Ningbo railway station: about 43 km as the crow flies.
        let yuyao = LatLon::new(30.0436, 121.1572).unwrap();
        let ningbo = LatLon::new(29.8630, 121.5370).unwrap();
        let d = yuyao.distance_m(ningbo);
        assert!((d - 42_500.0).abs() < 1_500.0, "{d}");
        // One degree of latitude is about 111.2 km.
        let a = LatLon::new(0.0, 0.0).unwrap();
        let b = LatLon::new(1.0, 0.0).unwrap();
        assert!((a.distance_m(b) - 111_195.0).abs() < 10.0);
    }

    proptest! {
        #[test]
        fn distance_is_symmetric_and_non_negative(
            lat1 in -90.0f64..=90.0, lon1 in -180.0f64..=180.0,
            lat2 in -90.0f64..=90.0, lon2 in -180.0f64..=180.0,
        ) {
            let a = LatLon::new(lat1, lon1).unwrap();
            let b = LatLon::new(lat2, lon2).unwrap();
            let ab = a.distance_m(b);
            prop_assert!(ab >= 0.0);
            prop_assert!((ab - b.distance_m(a)).abs() < 1e-6);
            prop_assert!(ab <= std::f64::consts::PI * EARTH_RADIUS_M + 1.0);
            prop_assert!(a.distance_m(a) < 1e-6);
        }

        #[test]
        fn valid_positions_round_trip_through_json(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0) {
            let p = LatLon::new(lat, lon).unwrap();
            let back: LatLon = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
            prop_assert_eq!(back, p);
        }
    }
}
