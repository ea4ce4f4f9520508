//! The base map a deployment uses: tile provider presets (`--tile-provider osm | tianditu |
//! amap | custom`), each with its datum, subdomains, attribution and deepest zoom, resolved once
//! at start-up into the [`TileSource`] that `GET /api/v1/config` hands the PWA; and a PMTiles
//! file of our own (`--pmtiles`), served with HTTP Range requests, for a county with no tile
//! provider at all.
//!
//! The CSP follows: [`TileSettings::origins`] are the origins the PWA may load tiles from.

use crate::config::tile_origin;
use caremap_model::{Datum, TileSource};
use std::path::PathBuf;

/// Where the PWA fetches our own PMTiles file (same origin: the CSP's `'self'` covers it).
pub const PMTILES_PATH: &str = "/tiles/base.pmtiles";

/// A tile provider with a preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TileProvider {
    /// OpenStreetMap's tile server (WGS-84). The default; slow or unreachable in mainland China.
    Osm,
    /// 天地图 Tianditu, the national map service (CGCS2000, drawn as WGS-84): roads and labels,
    /// needs a key (`--tile-key`, from console.tianditu.gov.cn).
    Tianditu,
    /// 高德 Amap's web tiles (GCJ-02): markers are shifted onto them.
    Amap,
    /// Any tile server: `--tile-url` (and `--tile-datum`, `--tile-subdomains` as it needs).
    Custom,
}

/// The datum of a custom tile server's tiles, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DatumArg {
    /// WGS-84 (OpenStreetMap and most tile servers outside China).
    Wgs84,
    /// CGCS2000 (Tianditu): drawn as WGS-84.
    Cgcs2000,
    /// GCJ-02 (Amap, Tencent).
    Gcj02,
}

impl From<DatumArg> for Datum {
    fn from(arg: DatumArg) -> Datum {
        match arg {
            DatumArg::Wgs84 | DatumArg::Cgcs2000 => Datum::Wgs84,
            DatumArg::Gcj02 => Datum::Gcj02,
        }
    }
}

/// The base map's command-line flags (`serve`), each also an environment variable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TileArgs {
    /// Map tile provider preset; `custom` with --tile-url. Default: osm, or custom when only
    /// --tile-url is given.
    #[arg(long, env = "CAREMAP_TILE_PROVIDER", value_enum)]
    pub tile_provider: Option<TileProvider>,
    /// The provider's key (Tianditu's `tk`; `{key}` in a custom template).
    #[arg(long, env = "CAREMAP_TILE_KEY", hide_env_values = true)]
    pub tile_key: Option<String>,
    /// Map tile URL template (Leaflet syntax: {s} {z} {x} {y} {-y}; {key} for --tile-key).
    #[arg(long, env = "CAREMAP_TILE_URL")]
    pub tile_url: Option<String>,
    /// Attribution shown under the map (default: the provider's).
    #[arg(long, env = "CAREMAP_TILE_ATTRIBUTION")]
    pub tile_attribution: Option<String>,
    /// The custom tiles' datum.
    #[arg(long, env = "CAREMAP_TILE_DATUM", value_enum)]
    pub tile_datum: Option<DatumArg>,
    /// The custom tiles' {s} values, one character each (default abc).
    #[arg(long, env = "CAREMAP_TILE_SUBDOMAINS")]
    pub tile_subdomains: Option<String>,
    /// A PMTiles file (vector tiles) served at /tiles/base.pmtiles and drawn as the base map
    /// instead of any tile provider.
    #[arg(long, env = "CAREMAP_PMTILES", value_name = "FILE")]
    pub pmtiles: Option<PathBuf>,
}

/// The base map, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileSettings {
    pub source: TileSource,
    /// The PMTiles file served at [`PMTILES_PATH`].
    pub pmtiles: Option<PathBuf>,
}

impl Default for TileSettings {
    fn default() -> Self {
        TileSettings {
            source: preset(TileProvider::Osm, None),
            pmtiles: None,
        }
    }
}

/// Why the base map's flags do not make one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TileError {
    #[error("天地图需要密钥（--tile-key）/ Tianditu needs a key (--tile-key)")]
    KeyMissing,
    #[error("自定义底图需要 --tile-url / the custom tile provider needs --tile-url")]
    UrlMissing,
    #[error(
        "--tile-url 只用于 --tile-provider custom / --tile-url goes with --tile-provider custom only"
    )]
    UrlWithPreset,
    #[error("底图地址含 {{key}}，需要 --tile-key / the tile URL has {{key}}: give --tile-key")]
    TemplateNeedsKey,
    #[error("底图地址须为 http(s):// 或 / 开头 / the tile URL must start with http(s):// or /")]
    BadUrl,
    #[error(
        "--tile-key 只能含字母、数字和 - _ . / --tile-key may hold only letters, digits and - _ ."
    )]
    BadKey,
    #[error("--tile-subdomains 不能为空 / --tile-subdomains may not be empty")]
    NoSubdomains,
}

const OSM_URL: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
const TIANDITU_VEC: &str = "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}";
const TIANDITU_LABELS: &str = "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}";
const AMAP_URL: &str =
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}";

/// A provider's preset (the key, if the provider needs one, not yet filled in).
fn preset(provider: TileProvider, custom_url: Option<&str>) -> TileSource {
    match provider {
        TileProvider::Osm | TileProvider::Custom => {
            let mut source = TileSource::new(
                custom_url.unwrap_or(OSM_URL),
                crate::config::DEFAULT_TILE_ATTRIBUTION,
            );
            if custom_url.is_none() {
                // tile.openstreetmap.org has no subdomains any more.
                source.tile_subdomains = String::new();
            }
            source
        }
        TileProvider::Tianditu => TileSource {
            tile_datum: Datum::Wgs84,
            tile_subdomains: "01234567".to_owned(),
            tile_max_zoom: 18,
            tile_labels_url: Some(TIANDITU_LABELS.to_owned()),
            ..TileSource::new(TIANDITU_VEC, "© 天地图 Tianditu")
        },
        TileProvider::Amap => TileSource {
            tile_datum: Datum::Gcj02,
            tile_subdomains: "1234".to_owned(),
            tile_max_zoom: 18,
            ..TileSource::new(AMAP_URL, "© 高德地图 AutoNavi")
        },
    }
}

impl TileArgs {
    /// The base map these flags describe.
    pub fn resolve(self) -> Result<TileSettings, TileError> {
        let provider = match (self.tile_provider, &self.tile_url) {
            (Some(provider), _) => provider,
            (None, Some(_)) => TileProvider::Custom,
            (None, None) => TileProvider::Osm,
        };
        match (provider, &self.tile_url) {
            (TileProvider::Custom, None) => return Err(TileError::UrlMissing),
            (TileProvider::Custom, Some(_)) | (_, None) => {}
            (_, Some(_)) => return Err(TileError::UrlWithPreset),
        }
        let mut source = preset(provider, self.tile_url.as_deref());
        if provider == TileProvider::Custom {
            if !(source.tile_url.starts_with("https://")
                || source.tile_url.starts_with("http://")
                || source.tile_url.starts_with('/'))
            {
                return Err(TileError::BadUrl);
            }
            if let Some(datum) = self.tile_datum {
                source.tile_datum = datum.into();
            }
            if let Some(subdomains) = self.tile_subdomains {
                if subdomains.is_empty() {
                    return Err(TileError::NoSubdomains);
                }
                source.tile_subdomains = subdomains;
            }
        }
        let needs_key = |t: &str| t.contains("{key}");
        if needs_key(&source.tile_url) || source.tile_labels_url.as_deref().is_some_and(needs_key) {
            let key = self.tile_key.as_deref().filter(|k| !k.is_empty());
            let Some(key) = key else {
                return Err(if provider == TileProvider::Tianditu {
                    TileError::KeyMissing
                } else {
                    TileError::TemplateNeedsKey
                });
            };
            // The key goes into the URL the phones fetch (Tianditu's browser keys are public
            // by design and bound to the deployment's domain); it is never logged.
            if !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(TileError::BadKey);
            }
            source.tile_url = source.tile_url.replace("{key}", key);
            source.tile_labels_url = source.tile_labels_url.map(|t| t.replace("{key}", key));
        }
        if let Some(attribution) = self.tile_attribution {
            source.tile_attribution = attribution;
        }
        if self.pmtiles.is_some() {
            source.pmtiles_url = Some(PMTILES_PATH.to_owned());
        }
        Ok(TileSettings {
            source,
            pmtiles: self.pmtiles,
        })
    }
}

impl TileSettings {
    /// The origins (CSP source expressions) the PWA loads tiles from, besides our own.
    pub fn origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = std::iter::once(&self.source.tile_url)
            .chain(&self.source.tile_labels_url)
            .filter_map(|template| tile_origin(template))
            .collect();
        origins.dedup();
        origins
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(provider: Option<TileProvider>) -> TileArgs {
        TileArgs {
            tile_provider: provider,
            ..TileArgs::default()
        }
    }

    #[test]
    fn the_default_is_openstreetmap() {
        let settings = args(None).resolve().unwrap();
        assert_eq!(settings, TileSettings::default());
        assert_eq!(settings.source.tile_url, OSM_URL);
        assert_eq!(settings.source.tile_datum, Datum::Wgs84);
        assert_eq!(settings.origins(), ["https://tile.openstreetmap.org"]);
    }

    #[test]
    fn amap_is_gcj02_on_its_four_subdomains() {
        let settings = args(Some(TileProvider::Amap)).resolve().unwrap();
        assert_eq!(settings.source.tile_datum, Datum::Gcj02);
        assert_eq!(settings.source.tile_subdomains, "1234");
        assert_eq!(settings.origins(), ["https://*.is.autonavi.com"]);
    }

    #[test]
    fn tianditu_needs_its_key_and_draws_labels() {
        assert_eq!(
            args(Some(TileProvider::Tianditu)).resolve(),
            Err(TileError::KeyMissing)
        );
        let settings = TileArgs {
            tile_key: Some("abc123".into()),
            ..args(Some(TileProvider::Tianditu))
        }
        .resolve()
        .unwrap();
        assert!(
            settings.source.tile_url.ends_with("&tk=abc123"),
            "{settings:?}"
        );
        assert!(settings
            .source
            .tile_labels_url
            .as_deref()
            .unwrap()
            .contains("LAYER=cva"));
        assert_eq!(settings.origins(), ["https://*.tianditu.gov.cn"]);
        assert_eq!(settings.source.tile_datum, Datum::Wgs84);
    }

    #[test]
    fn a_tile_url_alone_is_a_custom_provider() {
        let settings = TileArgs {
            tile_url: Some("http://127.0.0.1:9/t/{z}/{x}/{y}.png".into()),
            tile_datum: Some(DatumArg::Gcj02),
            tile_subdomains: Some("xy".into()),
            ..args(None)
        }
        .resolve()
        .unwrap();
        assert_eq!(settings.source.tile_datum, Datum::Gcj02);
        assert_eq!(settings.source.tile_subdomains, "xy");
        assert_eq!(settings.origins(), ["http://127.0.0.1:9"]);
    }

    #[test]
    fn flags_that_contradict_each_other_are_refused() {
        assert_eq!(
            args(Some(TileProvider::Custom)).resolve(),
            Err(TileError::UrlMissing)
        );
        let url = Some("https://t.example/{z}/{x}/{y}.png".to_owned());
        assert_eq!(
            TileArgs {
                tile_url: url.clone(),
                ..args(Some(TileProvider::Amap))
            }
            .resolve(),
            Err(TileError::UrlWithPreset)
        );
        assert_eq!(
            TileArgs {
                tile_url: Some("https://t.example/{z}/{x}/{y}.png?k={key}".into()),
                ..args(None)
            }
            .resolve(),
            Err(TileError::TemplateNeedsKey)
        );
        assert_eq!(
            TileArgs {
                tile_url: Some("javascript:alert(1)".into()),
                ..args(None)
            }
            .resolve(),
            Err(TileError::BadUrl)
        );
    }

    #[test]
    fn pmtiles_come_from_our_own_server() {
        let settings = TileArgs {
            pmtiles: Some(PathBuf::from("county.pmtiles")),
            ..args(None)
        }
        .resolve()
        .unwrap();
        assert_eq!(settings.source.pmtiles_url.as_deref(), Some(PMTILES_PATH));
    }
}
