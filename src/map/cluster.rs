//! Minimal bindings to Leaflet.markercluster (npm `leaflet.markercluster`, a plain script in
//! `index.html` after `leaflet.js`): `L.markerClusterGroup(options)`, `addLayers` and
//! `clearLayers`. The map hands it the markers in slices of a few milliseconds (`feed` in
//! `map/mod.rs`); `chunkedLoading` still keeps any one call short, and only the clusters and
//! markers in view are in the DOM.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A `L.MarkerClusterGroup`, a feature group whose markers near each other on screen are
    /// drawn as one cluster icon showing how many it holds.
    #[wasm_bindgen(extends = leaflet::FeatureGroup, extends = leaflet::LayerGroup, extends = leaflet::Layer, extends = leaflet::Evented)]
    #[derive(Debug, Clone)]
    pub type MarkerClusterGroup;

    #[wasm_bindgen(js_namespace = L, js_name = markerClusterGroup, catch)]
    fn marker_cluster_group(options: &Object) -> Result<MarkerClusterGroup, JsValue>;

    /// Adds many markers at once (in chunks with `chunkedLoading`).
    #[wasm_bindgen(method, js_name = addLayers)]
    pub fn add_layers(this: &MarkerClusterGroup, layers: &Array) -> MarkerClusterGroup;

    /// Removes every marker.
    #[wasm_bindgen(method, js_name = clearLayers)]
    pub fn clear_layers(this: &MarkerClusterGroup) -> MarkerClusterGroup;
}

/// Clusters only markers closer than this on screen: about a marker's size, so markers that
/// stand apart stay single and only those that truly overlap merge.
const MAX_CLUSTER_RADIUS_PX: u32 = 12;
/// From this zoom on every facility is its own marker (streets apart, none overlap).
const DISABLE_CLUSTERING_AT_ZOOM: u32 = 16;
/// A bulk add works for at most about this long before it lets the browser in. The plugin's
/// default, 200 ms, is four long tasks' worth on a cheap phone; and as the slice is measured in
/// time, a fast machine fills it with four times the work a phone four times slower would do,
/// which is how Lighthouse's simulation counts it: a short slice keeps every task short…
const CHUNK_INTERVAL_MS: u32 = 10;
/// …and resumes this soon after: a timeout already lets input and frames through.
const CHUNK_DELAY_MS: u32 = 1;

impl MarkerClusterGroup {
    /// A cluster group with caremap's options; an error if the plugin's script is missing.
    pub fn with_defaults() -> Result<MarkerClusterGroup, JsValue> {
        let options = Object::new();
        let set = |key: &str, value: JsValue| Reflect::set(&options, &key.into(), &value);
        set("chunkedLoading", true.into())?;
        set("chunkInterval", CHUNK_INTERVAL_MS.into())?;
        set("chunkDelay", CHUNK_DELAY_MS.into())?;
        set("maxClusterRadius", MAX_CLUSTER_RADIUS_PX.into())?;
        set("disableClusteringAtZoom", DISABLE_CLUSTERING_AT_ZOOM.into())?;
        set("spiderfyOnMaxZoom", true.into())?;
        set("showCoverageOnHover", false.into())?;
        marker_cluster_group(&options)
    }
}
