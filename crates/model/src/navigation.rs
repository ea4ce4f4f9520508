//! Links that open a facility in a map app for directions.
//!
//! Maps in mainland China do not use WGS-84: Amap (高德) and Apple Maps there draw on GCJ-02,
//! Baidu on BD-09, each a deliberately shifted datum. A WGS-84 position sent unconverted lands
//! a few hundred metres off — on the wrong street for someone walking with a fever. The
//! conversions come from the `coordtransform` crate, which leaves positions outside mainland
//! China (Hong Kong, Macau, abroad) unshifted, as those maps do.

use crate::geo::LatLon;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// A map app to navigate with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapApp {
    /// 高德地图, GCJ-02.
    Amap,
    /// 百度地图, BD-09.
    Baidu,
    /// Apple Maps (GCJ-02 in mainland China).
    Apple,
    /// Any map app through the `geo:` URI (RFC 5870, WGS-84).
    Geo,
}

impl MapApp {
    pub const ALL: [MapApp; 4] = [MapApp::Amap, MapApp::Baidu, MapApp::Apple, MapApp::Geo];
}

/// A position in GCJ-02 as (lat, lon).
pub fn to_gcj02(at: LatLon) -> (f64, f64) {
    let (lon, lat) = coordtransform::wgs84_to_gcj02(at.lon(), at.lat());
    (lat, lon)
}

/// A position in BD-09 as (lat, lon).
pub fn to_bd09(at: LatLon) -> (f64, f64) {
    let (lon, lat) = coordtransform::wgs84_to_bd09(at.lon(), at.lat());
    (lat, lon)
}

fn enc(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// The link that opens `app` at `at`, labelled `name`. Web links open the app where installed.
pub fn link(app: MapApp, at: LatLon, name: &str) -> String {
    match app {
        MapApp::Amap => {
            let (lat, lon) = to_gcj02(at);
            format!(
                "https://uri.amap.com/marker?position={lon:.6},{lat:.6}&name={}&src=caremap&coordinate=gaode&callnative=1",
                enc(name)
            )
        }
        MapApp::Baidu => {
            let (lat, lon) = to_bd09(at);
            format!(
                "https://api.map.baidu.com/marker?location={lat:.6},{lon:.6}&title={0}&content={0}&output=html&coord_type=bd09ll&src=webapp.caremap",
                enc(name)
            )
        }
        MapApp::Apple => {
            let (lat, lon) = to_gcj02(at);
            format!(
                "https://maps.apple.com/?ll={lat:.6},{lon:.6}&q={}",
                enc(name)
            )
        }
        MapApp::Geo => {
            let (lat, lon) = (at.lat(), at.lon());
            format!("geo:{lat:.6},{lon:.6}?q={lat:.6},{lon:.6}({})", enc(name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).unwrap()
    }

    /// Published reference pairs (WGS-84 → GCJ-02) used across the eviltransform ports.
    #[test]
    fn gcj02_matches_reference_conversions() {
        let cases = [
            (
                (31.1774276, 121.5272106),
                (31.17530398364597, 121.531541859215),
            ), // Shanghai
            (
                (22.543847, 113.912316),
                (22.540796131694766, 113.9171764808363),
            ), // Shenzhen
            (
                (39.911954, 116.377817),
                (39.91334545536069, 116.38404722455657),
            ), // Beijing
            ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
        ];
        for ((lat, lon), (glat, glon)) in cases {
            let (got_lat, got_lon) = to_gcj02(p(lat, lon));
            assert!(
                (got_lat - glat).abs() < 1e-6,
                "{lat},{lon}: {got_lat} vs {glat}"
            );
            assert!(
                (got_lon - glon).abs() < 1e-6,
                "{lat},{lon}: {got_lon} vs {glon}"
            );
        }
    }

    #[test]
    fn bd09_is_gcj02_shifted_again() {
        // GCJ-02 (39.915, 116.404) is BD-09 (39.92133699351021, 116.41036949371029).
        let (lon, lat) = coordtransform::gcj02_to_bd09(116.404, 39.915);
        assert!((lat - 39.92133699351021).abs() < 1e-6 && (lon - 116.41036949371029).abs() < 1e-6);
        let at = p(30.0436, 121.1572);
        let (glat, glon) = to_gcj02(at);
        let (blat, blon) = to_bd09(at);
        let (expect_lon, expect_lat) = coordtransform::gcj02_to_bd09(glon, glat);
        assert!((blat - expect_lat).abs() < 1e-9 && (blon - expect_lon).abs() < 1e-9);
        // In Yuyao the shift is a few hundred metres: enough to send someone to the wrong street.
        let shifted = at.distance_m(p(glat, glon));
        assert!((300.0..800.0).contains(&shifted), "{shifted}");
    }

    #[test]
    fn outside_mainland_china_nothing_shifts() {
        let hong_kong = p(22.3193, 114.1694);
        assert_eq!(to_gcj02(hong_kong), (22.3193, 114.1694));
    }

    #[test]
    fn links_carry_the_converted_coordinates_and_the_encoded_name() {
        let at = p(30.0436, 121.1572);
        let (glat, glon) = to_gcj02(at);
        let (blat, blon) = to_bd09(at);
        let amap = link(MapApp::Amap, at, "阳明卫生院");
        assert!(
            amap.contains(&format!("position={glon:.6},{glat:.6}")),
            "{amap}"
        );
        assert!(amap.contains("name=%E9%98%B3%E6%98%8E"), "{amap}");
        let baidu = link(MapApp::Baidu, at, "x");
        assert!(
            baidu.contains(&format!("location={blat:.6},{blon:.6}")),
            "{baidu}"
        );
        assert!(baidu.contains("coord_type=bd09ll"));
        let apple = link(MapApp::Apple, at, "x");
        assert!(
            apple.contains(&format!("ll={glat:.6},{glon:.6}")),
            "{apple}"
        );
        assert_eq!(
            link(MapApp::Geo, at, "A&B"),
            "geo:30.043600,121.157200?q=30.043600,121.157200(A%26B)"
        );
    }
}
