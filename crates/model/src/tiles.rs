//! The base map's tiles: where they come from (the part of the client configuration the server's
//! tile provider preset fills in) and the arithmetic of the Web-Mercator tile grid that saving an
//! area for offline use needs (which tiles cover it, how many, their URLs as Leaflet asks for
//! them, so the service worker finds them under the same URL).

use crate::datum::Datum;
use serde::{Deserialize, Serialize};

/// The tile layer the map draws, as `GET /api/v1/config` says (flattened into `ClientConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TileSource {
    /// Map tile URL template, Leaflet syntax (`{s}`, `{z}`, `{x}`, `{y}`, `{-y}`).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    )]
    pub tile_url: String,
    /// Attribution the tile provider requires, shown on the map.
    #[cfg_attr(feature = "openapi", schema(example = "© OpenStreetMap contributors"))]
    pub tile_attribution: String,
    /// The datum the tiles are drawn in: what is drawn over them is converted into it. WGS-84
    /// when absent (older servers).
    #[serde(default)]
    pub tile_datum: Datum,
    /// The values `{s}` takes, one character each (Leaflet's `subdomains`); "abc" when absent.
    #[serde(default = "default_subdomains")]
    pub tile_subdomains: String,
    /// The deepest zoom the provider has tiles for (the map zooms in further by scaling them).
    #[serde(default = "default_max_zoom")]
    pub tile_max_zoom: u8,
    /// A second tile layer drawn over the first, same subdomains and datum (Tianditu's labels,
    /// 注记, come apart from its roads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tile_labels_url: Option<String>,
    /// A vector base map (PMTiles) served by our own server, drawn instead of the tile layer:
    /// a deployment with no tile provider at all. Always WGS-84.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmtiles_url: Option<String>,
}

/// Leaflet's default subdomains.
pub const DEFAULT_SUBDOMAINS: &str = "abc";
/// OpenStreetMap's deepest zoom.
pub const DEFAULT_MAX_ZOOM: u8 = 19;

fn default_subdomains() -> String {
    DEFAULT_SUBDOMAINS.to_owned()
}

fn default_max_zoom() -> u8 {
    DEFAULT_MAX_ZOOM
}

impl TileSource {
    /// A tile layer in WGS-84 with Leaflet's defaults.
    pub fn new(url: impl Into<String>, attribution: impl Into<String>) -> Self {
        TileSource {
            tile_url: url.into(),
            tile_attribution: attribution.into(),
            tile_datum: Datum::Wgs84,
            tile_subdomains: default_subdomains(),
            tile_max_zoom: DEFAULT_MAX_ZOOM,
            tile_labels_url: None,
            pmtiles_url: None,
        }
    }

    /// The URLs of tile (z, x, y) as the map asks for them: the base layer's, then the labels'.
    pub fn urls(&self, tile: Tile) -> Vec<String> {
        std::iter::once(&self.tile_url)
            .chain(&self.tile_labels_url)
            .map(|template| tile_url(template, &self.tile_subdomains, tile))
            .collect()
    }
}

/// One tile of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

/// The URL of `tile` from a Leaflet template, exactly as Leaflet's `TileLayer.getTileUrl`
/// writes it: `{s}` is `subdomains[|x + y| mod n]`, `{-y}` the TMS row, `{r}` empty (no retina
/// tiles). Other placeholders are left as they are.
pub fn tile_url(template: &str, subdomains: &str, tile: Tile) -> String {
    let subdomains: Vec<char> = subdomains.chars().collect();
    let s = if subdomains.is_empty() {
        String::new()
    } else {
        let index = (u64::from(tile.x) + u64::from(tile.y)) % subdomains.len() as u64;
        subdomains[index as usize].to_string()
    };
    let tms_y = (1u64 << tile.z)
        .saturating_sub(1)
        .saturating_sub(u64::from(tile.y));
    template
        .replace("{s}", &s)
        .replace("{z}", &tile.z.to_string())
        .replace("{x}", &tile.x.to_string())
        .replace("{-y}", &tms_y.to_string())
        .replace("{y}", &tile.y.to_string())
        .replace("{r}", "")
}

/// Web Mercator's latitude limit.
const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// The tile at zoom `z` holding (lat, lon), given in the tiles' datum.
pub fn tile_at(lat: f64, lon: f64, z: u8) -> Tile {
    let n = f64::from(1u32 << z);
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    let last = (1u32 << z) - 1;
    let clamp = |v: f64| (v.floor().max(0.0) as u32).min(last);
    Tile {
        z,
        x: clamp(x),
        y: clamp(y),
    }
}

/// An area on the map, in the tiles' datum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

/// The tiles of one zoom covering an area: columns `x0..=x1`, rows `y0..=y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRange {
    pub z: u8,
    pub x0: u32,
    pub x1: u32,
    pub y0: u32,
    pub y1: u32,
}

impl TileRange {
    /// The tiles of zoom `z` covering `area`.
    pub fn covering(area: Area, z: u8) -> TileRange {
        let nw = tile_at(area.north, area.west, z);
        let se = tile_at(area.south, area.east, z);
        TileRange {
            z,
            x0: nw.x.min(se.x),
            x1: nw.x.max(se.x),
            y0: nw.y.min(se.y),
            y1: nw.y.max(se.y),
        }
    }

    pub fn len(&self) -> u64 {
        u64::from(self.x1 - self.x0 + 1) * u64::from(self.y1 - self.y0 + 1)
    }

    /// Never: a range holds at least one tile.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn tiles(self) -> impl Iterator<Item = Tile> {
        (self.y0..=self.y1)
            .flat_map(move |y| (self.x0..=self.x1).map(move |x| Tile { z: self.z, x, y }))
    }
}

/// What saving an area for offline use fetches: the zooms from `min_zoom` up to `max_zoom`, each
/// whole, as deep as `max_tiles` allows (a deeper zoom has four times the tiles of the one
/// above). At least `min_zoom`, whatever it costs: an area is never saved with no tiles at all.
pub fn plan(area: Area, min_zoom: u8, max_zoom: u8, max_tiles: u64) -> Vec<TileRange> {
    let mut ranges = Vec::new();
    let mut total = 0u64;
    for z in min_zoom..=max_zoom.max(min_zoom) {
        let range = TileRange::covering(area, z);
        if !ranges.is_empty() && total + range.len() > max_tiles {
            break;
        }
        total += range.len();
        ranges.push(range);
    }
    ranges
}

/// How many tiles the ranges hold.
pub fn count(ranges: &[TileRange]) -> u64 {
    ranges.iter().map(TileRange::len).sum()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn urls_are_written_as_leaflet_writes_them() {
        let tile = Tile { z: 3, x: 6, y: 3 };
        assert_eq!(
            tile_url("https://{s}.tile.example/{z}/{x}/{y}.png", "abc", tile),
            "https://a.tile.example/3/6/3.png" // (6 + 3) % 3 = 0
        );
        assert_eq!(
            tile_url(
                "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",
                "1234",
                Tile {
                    z: 14,
                    x: 13709,
                    y: 6720
                }
            ),
            "https://webrd02.is.autonavi.com/appmaptile?x=13709&y=6720&z=14" // 20429 % 4 = 1
        );
        assert_eq!(tile_url("/t/{z}/{x}/{-y}{r}.png", "", tile), "/t/3/6/4.png");
    }

    #[test]
    fn the_tile_of_a_point() {
        // Yuyao at zoom 14 (checked against OpenStreetMap's slippy-map formula).
        assert_eq!(
            tile_at(30.0436, 121.1572, 14),
            Tile {
                z: 14,
                x: 13705,
                y: 6757
            }
        );
        assert_eq!(tile_at(0.0, 0.0, 0), Tile { z: 0, x: 0, y: 0 });
        assert_eq!(tile_at(-90.0, 180.0, 2), Tile { z: 2, x: 3, y: 3 });
    }

    #[test]
    fn a_plan_goes_as_deep_as_the_cap_allows() {
        // About a township: 10 km × 10 km around Yuyao.
        let area = Area {
            south: 30.0,
            west: 121.1,
            north: 30.09,
            east: 121.2,
        };
        let plan = plan(area, 12, 17, 1_000);
        let zooms: Vec<u8> = plan.iter().map(|r| r.z).collect();
        assert_eq!(zooms, [12, 13, 14, 15, 16]);
        let total = count(&plan);
        assert_eq!(total, 4 + 9 + 30 + 110 + 380);
        assert_eq!(total, plan.iter().flat_map(|r| r.tiles()).count() as u64);
        // A cap below the first zoom's cost still saves that zoom.
        assert_eq!(super::plan(area, 15, 17, 1).len(), 1);
    }

    #[test]
    fn labels_come_with_the_same_tile() {
        let mut source = TileSource::new("https://t{s}.example/vec?x={x}&y={y}&l={z}", "©");
        source.tile_subdomains = "01234567".into();
        source.tile_labels_url = Some("https://t{s}.example/cva?x={x}&y={y}&l={z}".into());
        assert_eq!(
            source.urls(Tile { z: 1, x: 1, y: 0 }),
            [
                "https://t1.example/vec?x=1&y=0&l=1",
                "https://t1.example/cva?x=1&y=0&l=1"
            ]
        );
    }

    proptest! {
        /// The tiles of a range cover the area's corners, and only the area's.
        #[test]
        fn a_range_covers_its_area(
            south in -80.0f64..80.0, height in 0.0f64..1.0,
            west in -179.0f64..178.0, width in 0.0f64..1.0, z in 0u8..18,
        ) {
            let area = Area { south, west, north: south + height, east: west + width };
            let range = TileRange::covering(area, z);
            for (lat, lon) in [(area.south, area.west), (area.north, area.east)] {
                let t = tile_at(lat, lon, z);
                prop_assert!((range.x0..=range.x1).contains(&t.x));
                prop_assert!((range.y0..=range.y1).contains(&t.y));
            }
            let corner = tile_at(area.north, area.west, z);
            prop_assert_eq!((corner.x, corner.y), (range.x0, range.y0));
        }
    }
}
