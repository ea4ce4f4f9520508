//! The contract between the PWA and the sync server, written once: what `GET /api/v1/config`
//! sends, the error body every failed request carries and the codes in it, the codes a pushed
//! mutation can be rejected with, how far back a facility's history reaches, and the rule for a
//! device's name.
//!
//! The server renders these types and the PWA reads them, so a change here changes both ends
//! in the same commit. Wire strings are part of the contract: the unit tests pin every one.

mod api_error;
mod device_name;
mod mutation_code;

pub use api_error::{ApiErrorCode, ErrorBody, ErrorDetail};
pub use device_name::DeviceName;
pub use mutation_code::MutationErrorCode;

use crate::status::FreshnessThresholds;
use crate::tiles::TileSource;
use serde::{Deserialize, Serialize};

/// How many days back `GET /api/v1/facilities/{id}/reports` reaches: the longest `days` it
/// serves, and what it serves when `days` is absent.
pub const HISTORY_MAX_DAYS: u32 = 30;

/// `GET /api/v1/config`: what the PWA needs to know about this deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientConfig {
    /// The base map: tile URL template, attribution, datum and the rest of the provider's
    /// preset (flattened: `tile_url`, `tile_attribution`, … at the top level, as in v1).
    #[serde(flatten)]
    pub tiles: TileSource,
    /// Whether the registry holds demo data; the PWA then says so on every screen. False when
    /// absent.
    #[serde(default)]
    pub demo: bool,
    /// When a facility's status turns ageing and stale; the model's defaults when absent (a
    /// configuration cached by an older build may lack it).
    #[serde(default)]
    pub freshness: FreshnessThresholds,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_and_defaults_what_older_servers_left_out() {
        let config = ClientConfig {
            tiles: TileSource::new(
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "© OpenStreetMap contributors",
            ),
            demo: true,
            freshness: FreshnessThresholds::new(60, 120).unwrap(),
        };
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "tile_url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "tile_attribution": "© OpenStreetMap contributors",
                "tile_datum": "wgs84",
                "tile_subdomains": "abc",
                "tile_max_zoom": 19,
                "demo": true,
                "freshness": {"ageing_after_minutes": 60, "stale_after_minutes": 120},
            })
        );
        assert_eq!(
            serde_json::from_value::<ClientConfig>(json).unwrap(),
            config
        );

        let bare: ClientConfig = serde_json::from_str(
            r#"{"tile_url": "https://t.example/{z}/{x}/{y}.png", "tile_attribution": "©"}"#,
        )
        .unwrap();
        assert!(!bare.demo);
        assert_eq!(bare.tiles.tile_datum, crate::Datum::Wgs84);
        assert_eq!(bare.tiles.tile_subdomains, "abc");
        assert_eq!(bare.tiles.pmtiles_url, None);
        assert_eq!(bare.freshness, FreshnessThresholds::default());
    }

    #[test]
    fn config_without_a_tile_url_is_refused() {
        assert!(serde_json::from_str::<ClientConfig>(r#"{"tile_attribution": "©"}"#).is_err());
    }
}
