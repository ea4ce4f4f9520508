//! "下载本地地图 / Save this area's map": the base map's tiles of an area, saved on the phone so
//! the map draws there with no network at all.
//!
//! What is saved is planned here ([`plan`]: the zooms from [`MIN_ZOOM`] down to the deepest that
//! fits under [`MAX_TILES`] and the share of free storage a save may take, [`SPACE_SHARE`]), from
//! the arithmetic of `caremap_model::tiles`, with each tile's URL written exactly as Leaflet asks
//! for it; `offline_map.js` fetches them into the cache [`SAVED_TILES_CACHE`], which the service
//! worker's tile route reads first. What was saved (areas, tiles, bytes) is remembered in
//! localStorage: the size of the next save is estimated from the average a tile took before.

use crate::browser;
use crate::registry::Facilities;
use caremap_model::tiles::{count, plan as plan_zooms, Area, TileRange};
use caremap_model::{Datum, TileSource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;

/// The cache the saved tiles live in (the service worker reads it before its own tile cache).
pub const SAVED_TILES_CACHE: &str = "caremap-tiles-saved";
/// The shallowest zoom saved: a county and its neighbours.
pub const MIN_ZOOM: u8 = 11;
/// The deepest zoom saved: single streets (zoom 18 would be four times as many tiles).
pub const MAX_ZOOM: u8 = 17;
/// At most this many tiles in one save (each layer's tile counted).
pub const MAX_TILES: u64 = 4_000;
/// A save may take at most this share of the storage still free.
pub const SPACE_SHARE: f64 = 0.5;
/// What a tile is estimated to take before any save measured it (a raster street-map tile).
pub const ESTIMATED_TILE_BYTES: f64 = 25_000.0;
/// Tiles fetched at the same time.
const CONCURRENCY: u32 = 4;
/// localStorage key of what was saved.
const SAVED_KEY: &str = "caremap.saved-map.v1";

#[wasm_bindgen(module = "/src/offline_map.js")]
extern "C" {
    #[wasm_bindgen(js_name = storageEstimate, catch)]
    async fn storage_estimate_js() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = saveTiles, catch)]
    async fn save_tiles_js(
        cache: &str,
        urls: js_sys::Array,
        concurrency: u32,
        on_progress: &js_sys::Function,
        signal: &web_sys::AbortSignal,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = deleteTiles, catch)]
    async fn delete_tiles_js(cache: &str) -> Result<JsValue, JsValue>;
}

/// One saved area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedArea {
    /// The township's name, or empty for "the area the map showed".
    pub label: String,
    pub tiles: u32,
    pub bytes: f64,
    pub max_zoom: u8,
}

/// Everything saved so far.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SavedMap {
    pub areas: Vec<SavedArea>,
}

impl SavedMap {
    pub fn load() -> SavedMap {
        browser::stored_json(SAVED_KEY).unwrap_or_default()
    }

    fn store(&self) {
        if self.areas.is_empty() {
            browser::unstore(SAVED_KEY);
        } else {
            let _ = browser::store_json(SAVED_KEY, self);
        }
    }

    pub fn tiles(&self) -> u32 {
        self.areas.iter().map(|a| a.tiles).sum()
    }

    pub fn bytes(&self) -> f64 {
        self.areas.iter().map(|a| a.bytes).sum()
    }

    /// What a tile took on average in the saves before; `None` before the first.
    pub fn measured_tile_bytes(&self) -> Option<f64> {
        let tiles = self.tiles();
        (tiles > 0 && self.bytes() > 0.0).then(|| self.bytes() / f64::from(tiles))
    }
}

/// What saving an area will fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub ranges: Vec<TileRange>,
    pub urls: Vec<String>,
    /// What it will take, from the measured (or estimated) size of a tile.
    pub bytes: f64,
    /// Whether that size was measured by earlier saves (else it is an estimate).
    pub measured: bool,
    /// Whether free storage, not [`MAX_TILES`], stopped the zooms short.
    pub limited_by_space: bool,
    pub max_zoom: u8,
}

/// The plan for `area` (in the tiles' datum) given the free storage (`None`: unknown).
pub fn plan(source: &TileSource, area: Area, saved: &SavedMap, free: Option<f64>) -> Plan {
    let measured = saved.measured_tile_bytes();
    let tile_bytes = measured.unwrap_or(ESTIMATED_TILE_BYTES);
    let layers = 1 + u64::from(source.tile_labels_url.is_some());
    let max_zoom = MAX_ZOOM.min(source.tile_max_zoom).max(MIN_ZOOM);
    let by_count = MAX_TILES / layers;
    let by_space = free.map(|free| (free * SPACE_SHARE / tile_bytes / layers as f64) as u64);
    let cap = by_space.map_or(by_count, |space| space.min(by_count));
    let ranges = plan_zooms(area, MIN_ZOOM, max_zoom, cap);
    let full = plan_zooms(area, MIN_ZOOM, max_zoom, by_count);
    let urls: Vec<String> = ranges
        .iter()
        .flat_map(|r| r.tiles())
        .flat_map(|tile| source.urls(tile))
        .collect();
    Plan {
        bytes: urls.len() as f64 * tile_bytes,
        measured: measured.is_some(),
        limited_by_space: ranges.len() < full.len(),
        max_zoom: ranges.last().map_or(MIN_ZOOM, |r| r.z),
        ranges,
        urls,
    }
}

/// How many tiles a plan's ranges hold (per layer).
pub fn tile_count(plan: &Plan) -> u64 {
    count(&plan.ranges)
}

/// Storage free for this origin, in bytes; `None` without the Storage API.
pub async fn free_storage() -> Option<f64> {
    let estimate = storage_estimate_js().await.ok()?;
    let get = |key: &str| {
        js_sys::Reflect::get(&estimate, &key.into())
            .ok()
            .and_then(|v| v.as_f64())
    };
    Some((get("quota")? - get("usage")?).max(0.0))
}

/// How a save ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaveOutcome {
    pub saved: u32,
    pub failed: u32,
    pub bytes: f64,
    pub cancelled: bool,
    /// The browser refused to store more.
    pub quota: bool,
}

/// Fetches the plan's tiles into [`SAVED_TILES_CACHE`], calling `on_progress(done)` as they
/// come, until `signal` aborts; remembers what was saved under `label`.
pub async fn save(
    plan: &Plan,
    label: String,
    on_progress: impl Fn(u32) + 'static,
    signal: &web_sys::AbortSignal,
) -> Result<SaveOutcome, String> {
    let urls: js_sys::Array = plan.urls.iter().map(|u| JsValue::from_str(u)).collect();
    let on_progress = Closure::<dyn Fn(f64, f64)>::new(move |saved: f64, failed: f64| {
        on_progress((saved + failed) as u32);
    });
    let result = save_tiles_js(
        SAVED_TILES_CACHE,
        urls,
        CONCURRENCY,
        on_progress.as_ref().unchecked_ref(),
        signal,
    )
    .await
    .map_err(|err| format!("{err:?}"))?;
    let get = |key: &str| js_sys::Reflect::get(&result, &key.into()).ok();
    let number = |key: &str| get(key).and_then(|v| v.as_f64()).unwrap_or(0.0);
    let flag = |key: &str| get(key).and_then(|v| v.as_bool()).unwrap_or(false);
    let outcome = SaveOutcome {
        saved: number("saved") as u32,
        failed: number("failed") as u32,
        bytes: number("bytes"),
        cancelled: flag("aborted"),
        quota: flag("quota"),
    };
    if outcome.saved > 0 {
        let mut saved = SavedMap::load();
        saved.areas.push(SavedArea {
            label,
            tiles: outcome.saved,
            bytes: outcome.bytes,
            max_zoom: plan.max_zoom,
        });
        saved.store();
    }
    Ok(outcome)
}

/// Deletes every saved tile.
pub async fn delete() -> Result<(), String> {
    delete_tiles_js(SAVED_TILES_CACHE)
        .await
        .map_err(|err| format!("{err:?}"))?;
    SavedMap::default().store();
    Ok(())
}

/// The area the map shows now, in the tiles' datum: the map keeps it up to date (on every
/// `moveend`) when the page provides it as a context.
#[derive(Debug, Clone, Copy)]
pub struct VisibleArea(pub leptos::prelude::RwSignal<Option<Area>>);

/// Room around a township's outermost facilities (degrees, about 500 m).
const TOWNSHIP_MARGIN_DEG: f64 = 0.005;

/// Each township's area: its facilities' extent with a margin, in `datum`.
pub fn township_areas(facilities: &Facilities, datum: Datum) -> Vec<(String, Area)> {
    let mut areas: BTreeMap<&str, Area> = BTreeMap::new();
    for (_, facility) in facilities.iter() {
        let Some(township) = &facility.area.township else {
            continue;
        };
        let (lat, lon) = datum.from_wgs84(facility.location);
        areas
            .entry(township.as_str())
            .and_modify(|a| {
                a.south = a.south.min(lat);
                a.north = a.north.max(lat);
                a.west = a.west.min(lon);
                a.east = a.east.max(lon);
            })
            .or_insert(Area {
                south: lat,
                west: lon,
                north: lat,
                east: lon,
            });
    }
    areas
        .into_iter()
        .map(|(name, a)| {
            let m = TOWNSHIP_MARGIN_DEG;
            let area = Area {
                south: a.south - m,
                west: a.west - m,
                north: a.north + m,
                east: a.east + m,
            };
            (name.to_owned(), area)
        })
        .collect()
}
