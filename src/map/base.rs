//! The base map under the markers: the configured tile provider's layers (its tiles, and its
//! labels where they come apart), or our own vector tiles from a PMTiles file drawn by
//! protomaps-leaflet (npm, a plain script in `index.html`); and the area the map shows, for
//! "save this area's map".

use crate::offline_map::VisibleArea;
use caremap_model::tiles::Area;
use caremap_model::TileSource;
use js_sys::{Function, Object, Reflect};
use leaflet::{Map, TileLayer, TileLayerOptions};
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The layers that draw `source` on a map zooming to `max_zoom`: past the provider's deepest
/// zoom its tiles are scaled up rather than missing.
pub(super) fn tile_layers(source: &TileSource, max_zoom: f64) -> Vec<TileLayer> {
    if let Some(url) = &source.pmtiles_url {
        return match pmtiles_layer(url, &source.tile_attribution, max_zoom) {
            Ok(layer) => vec![layer],
            Err(err) => {
                leptos::logging::error!("PMTiles layer: {err:?}");
                Vec::new()
            }
        };
    }
    let templates = std::iter::once(&source.tile_url).chain(&source.tile_labels_url);
    templates
        .enumerate()
        .map(|(i, template)| {
            let options = TileLayerOptions::new();
            let set = |key: &str, value: JsValue| {
                // Reflect::set on a plain options object cannot fail.
                let _ = Reflect::set(&options, &key.into(), &value);
            };
            // The attribution once, on the base layer.
            if i == 0 {
                set("attribution", source.tile_attribution.as_str().into());
            }
            set("subdomains", source.tile_subdomains.as_str().into());
            set("maxNativeZoom", source.tile_max_zoom.into());
            set("maxZoom", max_zoom.into());
            TileLayer::new_options(template, &options)
        })
        .collect()
}

/// Where protomaps-leaflet's script is (copied from npm into the build by `index.html`); loaded
/// only by a deployment that serves its own PMTiles, so no other pays for it.
const PROTOMAPS_SCRIPT: &str = "/protomaps-leaflet.js";

/// A layer group that will hold protomaps-leaflet's layer over our own PMTiles file: at once
/// when its script is there, else once it has loaded. (Returned as a `TileLayer`: the map only
/// adds and removes it, which every Leaflet layer does alike.)
fn pmtiles_layer(url: &str, attribution: &str, max_zoom: f64) -> Result<TileLayer, JsValue> {
    let leaflet = Reflect::get(&js_sys::global(), &"L".into())?;
    let group_factory: Function = Reflect::get(&leaflet, &"layerGroup".into())?.dyn_into()?;
    let group = group_factory.call0(&leaflet)?;
    let options = Object::new();
    Reflect::set(&options, &"url".into(), &url.into())?;
    Reflect::set(&options, &"flavor".into(), &"light".into())?;
    Reflect::set(&options, &"lang".into(), &"zh".into())?;
    Reflect::set(&options, &"attribution".into(), &attribution.into())?;
    Reflect::set(&options, &"maxZoom".into(), &max_zoom.into())?;
    let fill = {
        let group = group.clone();
        move || -> Result<(), JsValue> {
            let library = Reflect::get(&js_sys::global(), &"protomapsL".into())?;
            let factory: Function = Reflect::get(&library, &"leafletLayer".into())?.dyn_into()?;
            let layer = factory.call1(&library, &options)?;
            let add: Function = Reflect::get(&group, &"addLayer".into())?.dyn_into()?;
            add.call1(&group, &layer)?;
            Ok(())
        }
    };
    if Reflect::has(&js_sys::global(), &"protomapsL".into())? {
        fill()?;
    } else {
        let script = document().create_element("script")?;
        script.set_attribute("src", PROTOMAPS_SCRIPT)?;
        let on_load = Closure::once_into_js(move || {
            if let Err(err) = fill() {
                leptos::logging::error!("PMTiles layer: {err:?}");
            }
        });
        script.add_event_listener_with_callback("load", on_load.unchecked_ref())?;
        document()
            .body()
            .ok_or_else(|| JsValue::from_str("no <body>"))?
            .append_child(&script)?;
    }
    Ok(group.unchecked_into())
}

/// Keeps `visible` equal to the area the map shows (in the tiles' datum), on every `moveend`.
pub(super) fn watch_view(map: &Map, visible: VisibleArea) -> Option<Closure<dyn Fn(JsValue)>> {
    let update = {
        let map = map.clone();
        move || {
            // Through Reflect: `getSouth()` and its kin on Leaflet's LatLngBounds.
            let bounds: JsValue = map.get_bounds().into();
            let side = |name: &str| -> f64 {
                Reflect::get(&bounds, &name.into())
                    .ok()
                    .and_then(|f| f.dyn_into::<Function>().ok())
                    .and_then(|f| f.call0(&bounds).ok())
                    .and_then(|v| v.as_f64())
                    .unwrap_or(f64::NAN)
            };
            let area = Area {
                south: side("getSouth"),
                west: side("getWest"),
                north: side("getNorth"),
                east: side("getEast"),
            };
            if area.south.is_finite() && area.north > area.south && area.east > area.west {
                let _ = visible.0.try_set(Some(area));
            }
        }
    };
    update();
    let on_move = Closure::<dyn Fn(JsValue)>::new(move |_| update());
    leaflet::Evented::on(map, "moveend", on_move.as_ref());
    Some(on_move)
}
