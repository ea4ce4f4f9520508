//! The datum a base map is drawn in, and the conversions between it and WGS-84.
//!
//! The registry, distances and the nearest search are WGS-84, always. A map's tiles may not be:
//! OpenStreetMap's and Tianditu's (天地图, CGCS2000, within centimetres of WGS-84 at a map's
//! scale) are, Amap's (高德) are GCJ-02, shifted by a few hundred metres in mainland China. What
//! is drawn over the tiles is converted into their datum, and a tap on the map converted back.
//!
//! The forward conversion is the `coordtransform` crate's (also used for navigation links); it
//! has no exact inverse, so [`gcj02_to_wgs84`] solves for the WGS-84 point whose GCJ-02 image is
//! the given one by fixed-point iteration, which converges to well under a millimetre in a few
//! steps (the shift changes by less than 1e-4 of a distance moved).

use crate::geo::LatLon;
use serde::{Deserialize, Serialize};

/// The datum of a tile layer's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Datum {
    /// WGS-84, and CGCS2000 (China's national datum, Tianditu's), which differs from it by
    /// centimetres: drawn as they are.
    #[default]
    #[serde(alias = "cgcs2000")]
    Wgs84,
    /// GCJ-02 (火星坐标, Amap, Tencent, Apple Maps in China): shifted in mainland China.
    Gcj02,
}

impl Datum {
    /// `at` in this datum, as (lat, lon).
    pub fn from_wgs84(self, at: LatLon) -> (f64, f64) {
        match self {
            Datum::Wgs84 => (at.lat(), at.lon()),
            Datum::Gcj02 => wgs84_to_gcj02(at.lat(), at.lon()),
        }
    }

    /// The WGS-84 position of (lat, lon) given in this datum (a tap on the map); `None` when it
    /// is not a position on Earth.
    pub fn to_wgs84(self, lat: f64, lon: f64) -> Option<LatLon> {
        let (lat, lon) = match self {
            Datum::Wgs84 => (lat, lon),
            Datum::Gcj02 => gcj02_to_wgs84(lat, lon),
        };
        LatLon::new(lat, lon).ok()
    }
}

/// WGS-84 (lat, lon) → GCJ-02 (lat, lon); unchanged outside mainland China.
pub fn wgs84_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    let (lon, lat) = coordtransform::wgs84_to_gcj02(lon, lat);
    (lat, lon)
}

/// Below this change (degrees, about 1 mm) the inverse stops.
const INVERSE_TOLERANCE_DEG: f64 = 1e-8;
/// The inverse gives up after this many steps (it needs 2 to 4 in China).
const INVERSE_MAX_STEPS: usize = 12;

/// GCJ-02 (lat, lon) → WGS-84 (lat, lon): the point whose GCJ-02 image is (lat, lon), found by
/// iterating `w ← w − (gcj(w) − g)` from `w = g`.
pub fn gcj02_to_wgs84(lat: f64, lon: f64) -> (f64, f64) {
    if !(lat.is_finite() && lon.is_finite()) {
        return (lat, lon);
    }
    let (mut w_lat, mut w_lon) = (lat, lon);
    for _ in 0..INVERSE_MAX_STEPS {
        let (g_lat, g_lon) = wgs84_to_gcj02(w_lat, w_lon);
        let (d_lat, d_lon) = (g_lat - lat, g_lon - lon);
        w_lat -= d_lat;
        w_lon -= d_lon;
        if d_lat.abs() < INVERSE_TOLERANCE_DEG && d_lon.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
    }
    (w_lat, w_lon)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).unwrap()
    }

    #[test]
    fn wire_names() {
        assert_eq!(serde_json::to_string(&Datum::Gcj02).unwrap(), r#""gcj02""#);
        assert_eq!(serde_json::to_string(&Datum::Wgs84).unwrap(), r#""wgs84""#);
        let cgcs: Datum = serde_json::from_str(r#""cgcs2000""#).unwrap();
        assert_eq!(cgcs, Datum::Wgs84);
    }

    #[test]
    fn a_published_gcj02_point_converts_back() {
        // Beijing: WGS-84 (39.915, 116.404) is GCJ-02 (39.91640428150164, 116.41024449916938).
        let (lat, lon) = gcj02_to_wgs84(39.91640428150164, 116.41024449916938);
        assert!(
            p(lat, lon).distance_m(p(39.915, 116.404)) < 0.05,
            "{lat},{lon}"
        );
    }

    #[test]
    fn wgs84_draws_as_it_is_and_gcj02_moves_in_china() {
        let yuyao = p(30.0436, 121.1572);
        assert_eq!(Datum::Wgs84.from_wgs84(yuyao), (30.0436, 121.1572));
        let (lat, lon) = Datum::Gcj02.from_wgs84(yuyao);
        let moved = yuyao.distance_m(p(lat, lon));
        assert!((300.0..800.0).contains(&moved), "{moved}");
        let back = Datum::Gcj02.to_wgs84(lat, lon).unwrap();
        assert!(back.distance_m(yuyao) < 0.05);
        assert_eq!(Datum::Wgs84.to_wgs84(91.0, 0.0), None);
        assert_eq!(Datum::Gcj02.to_wgs84(f64::NAN, 0.0), None);
    }

    #[test]
    fn outside_mainland_china_nothing_moves() {
        assert_eq!(gcj02_to_wgs84(22.3193, 114.1694), (22.3193, 114.1694)); // Hong Kong
        assert_eq!(gcj02_to_wgs84(48.8566, 2.3522), (48.8566, 2.3522)); // Paris
    }

    proptest! {
        /// Anywhere in mainland China's box, there and back lands within a few centimetres
        /// (`LatLon` keeps seven decimals, about a centimetre; the map needs a metre).
        #[test]
        fn round_trip_within_centimetres(lat in 18.0f64..53.5, lon in 73.5f64..135.0) {
            let at = p(lat, lon);
            let (g_lat, g_lon) = Datum::Gcj02.from_wgs84(at);
            let back = Datum::Gcj02.to_wgs84(g_lat, g_lon).unwrap();
            prop_assert!(back.distance_m(at) < 0.05, "{} m", back.distance_m(at));
        }

        /// And from the other side: the WGS-84 point found maps onto the tapped GCJ-02 point.
        #[test]
        fn the_inverse_maps_onto_the_tap(lat in 18.0f64..53.5, lon in 73.5f64..135.0) {
            let (w_lat, w_lon) = gcj02_to_wgs84(lat, lon);
            let (g_lat, g_lon) = wgs84_to_gcj02(w_lat, w_lon);
            prop_assert!(p(g_lat, g_lon).distance_m(p(lat, lon)) < 0.05);
        }
    }
}
