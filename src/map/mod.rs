//! The Leaflet map of facilities: the `#map` container component and its glue to Leaflet
//! (through the `leaflet` crate), one marker per facility whose shape and colour tell its kind.
//!
//! Leaflet itself is a plain script in `index.html` that runs before the wasm; without it (or
//! without tiles, e.g. offline) the page still shows the list.

mod icons;

pub use icons::{marker_class, swatch_class};

use crate::i18n::{locale_of, td_string, use_lang, Lang};
use crate::registry::{Facilities, Registry};
use crate::routes;
use leaflet::{
    LatLng, LatLngBounds, LayerGroup, Map, MapOptions, Marker, MarkerOptions, TileLayer,
    TileLayerOptions,
};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// Where the map looks before any facility is known: all of China.
const FALLBACK_CENTER: (f64, f64) = (35.0, 105.0);
const FALLBACK_ZOOM: f64 = 4.0;
/// Fitting the bounds never zooms in closer than this (a single facility would fill the map).
const MAX_FIT_ZOOM: f64 = 15.0;
/// Room around the outermost markers so none sits under the map's edge or controls.
const FIT_PADDING_PX: u32 = 32;

/// The map of every facility in the registry.
#[component]
pub fn FacilityMap() -> impl IntoView {
    let registry = Registry::expect();
    let lang = use_lang();
    let container = NodeRef::<leptos::html::Div>::new();
    let handle: StoredValue<Option<MapHandle>, LocalStorage> = StoredValue::new_local(None);

    Effect::new(move |_| {
        let Some(element) = container.get() else {
            return;
        };
        let lang = lang.get();
        let config = registry.config.get();
        handle.update_value(|slot| {
            if slot.is_none() {
                match MapHandle::new(&element) {
                    Ok(map) => *slot = Some(map),
                    Err(err) => leptos::logging::error!("Leaflet map: {err:?}"),
                }
            }
            let Some(map) = slot else { return };
            if let Some(config) = &config {
                map.set_tiles(&config.tile_url, &config.tile_attribution);
            }
            registry
                .facilities
                .with(|facilities| map.show(facilities, lang));
        });
    });

    on_cleanup(move || {
        handle.update_value(|slot| {
            if let Some(map) = slot.take() {
                map.map.remove();
            }
        });
    });

    let label = move || td_string!(locale_of(lang.get()), map_label);
    view! { <div id="map" class="map" node_ref=container role="region" aria-label=label></div> }
}

/// A Leaflet map with its tile layer and its layer of facility markers.
struct MapHandle {
    map: Map,
    markers: LayerGroup,
    tiles: Option<(String, TileLayer)>,
    fitted: bool,
}

impl MapHandle {
    fn new(element: &web_sys::HtmlElement) -> Result<Self, JsValue> {
        let options = MapOptions::new();
        // Quarter zoom steps let "fit all facilities" fill a phone screen instead of stopping a
        // whole zoom level short.
        options.set_zoom_snap(0.25);
        let map = Map::new_with_element(element, &options)?;
        map.set_view(
            &LatLng::new(FALLBACK_CENTER.0, FALLBACK_CENTER.1),
            FALLBACK_ZOOM,
        );
        let markers = LayerGroup::new();
        markers.add_to(&map);
        Ok(MapHandle {
            map,
            markers,
            tiles: None,
            fitted: false,
        })
    }

    /// Shows tiles from `url`, replacing the current tile layer if the URL changed.
    fn set_tiles(&mut self, url: &str, attribution: &str) {
        if self
            .tiles
            .as_ref()
            .is_some_and(|(current, _)| current == url)
        {
            return;
        }
        if let Some((_, old)) = self.tiles.take() {
            old.remove();
        }
        let options = TileLayerOptions::new();
        options.set_attribution(attribution.to_owned());
        let layer = TileLayer::new_options(url, &options);
        layer.add_to(&self.map);
        self.tiles = Some((url.to_owned(), layer));
    }

    /// Replaces the markers with one per facility; the first time there are facilities, fits
    /// the map to them.
    fn show(&mut self, facilities: &Facilities, lang: Lang) {
        self.markers.clear_layers();
        let mut bounds: Option<LatLngBounds> = None;
        for (id, facility) in facilities.iter() {
            let position = LatLng::new(facility.location.lat(), facility.location.lon());
            let name = facility.name.display(lang);
            let options = MarkerOptions::new();
            match icons::div_icon(facility.kind) {
                Ok(icon) => options.set_icon(icon),
                Err(err) => leptos::logging::error!("divIcon: {err:?}"),
            }
            options.set_title(name.to_owned());
            options.set_alt(name.to_owned());
            options.set_rise_on_hover(true);
            options.set_z_index_offset(icons::z_index_offset(facility.kind));
            let marker = Marker::new_with_options(&position, &options);
            match popup_content(facility, &routes::facility_href(id), lang) {
                Ok(content) => {
                    marker.bind_popup_with_options(&content, &js_sys::Object::new());
                }
                Err(err) => leptos::logging::error!("popup: {err:?}"),
            }
            marker.add_to_layer_group(&self.markers);
            match &bounds {
                Some(b) => {
                    b.extend(&position);
                }
                None => bounds = Some(LatLngBounds::new(&position, &position)),
            }
        }
        if let (false, Some(bounds)) = (self.fitted, bounds) {
            let options = js_sys::Object::new();
            // Reflect::set on a fresh plain object cannot fail.
            let _ = js_sys::Reflect::set(&options, &"maxZoom".into(), &MAX_FIT_ZOOM.into());
            let padding = js_sys::Array::of2(&FIT_PADDING_PX.into(), &FIT_PADDING_PX.into());
            let _ = js_sys::Reflect::set(&options, &"padding".into(), &padding);
            // The container may have changed size since the map was made (banners above it).
            self.map.invalidate_size(false);
            self.map.fit_bounds_with_options(&bounds, &options);
            self.fitted = true;
        }
    }
}

/// The popup of a marker: name, kind and a link to the facility page. Built as DOM nodes so a
/// name is always text, never markup.
fn popup_content(
    facility: &caremap_model::Facility,
    href: &str,
    lang: Lang,
) -> Result<web_sys::Element, JsValue> {
    let document = document();
    let root = document.create_element("div")?;
    root.set_class_name("popup");
    let name = document.create_element("strong")?;
    name.set_class_name("popup-name");
    name.set_text_content(Some(facility.name.display(lang)));
    let kind = document.create_element("span")?;
    kind.set_class_name("popup-kind");
    kind.set_text_content(Some(facility.kind.label(lang)));
    let link = document.create_element("a")?;
    link.set_class_name("popup-link");
    link.set_attribute("href", href)?;
    link.set_text_content(Some(td_string!(locale_of(lang), popup_details)));
    root.append_child(&name)?;
    root.append_child(&kind)?;
    root.append_child(&link)?;
    Ok(root.unchecked_into())
}
