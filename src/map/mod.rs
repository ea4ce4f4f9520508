//! The Leaflet map of facilities: the `#map` container component and its glue to Leaflet
//! (through the `leaflet` crate), one marker per facility whose shape and colour tell its kind
//! and whose corner badge tells its crowding (greyed when stale), only those the search's
//! filters keep, and the point searched from ("you are here").
//!
//! Leaflet itself is a plain script in `index.html` that runs before the wasm; without it (or
//! without tiles, e.g. offline) the page still shows the list.

mod base;
mod cluster;
mod datum;
mod icons;

pub use icons::{marker_class, swatch_class};

use crate::browser::{after_next_paint, next_task};
use crate::crowding::{summary, Badge};
use crate::i18n::{locale_of, td_string, use_lang, Lang};
use crate::offline_map::VisibleArea;
use crate::registry::{Facilities, LoadState, Registry};
use crate::routes;
use crate::search::{Judge, Search};
use caremap_model::{
    Crowding, FacilityId, FacilityKind, Freshness, FreshnessThresholds, LatLon, ReportedStatus,
    TileSource,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use cluster::MarkerClusterGroup;
use datum::MapDatum;
use leaflet::{LatLng, LatLngBounds, Map, MapOptions, Marker, MarkerOptions, Point, TileLayer};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Where the map looks before any facility is known: all of China.
const FALLBACK_CENTER: (f64, f64) = (35.0, 105.0);
const FALLBACK_ZOOM: f64 = 4.0;
/// The deepest zoom the map allows (that of OpenStreetMap's tiles).
const MAX_ZOOM: f64 = 19.0;
/// Fitting the bounds never zooms in closer than this (a single facility would fill the map).
const MAX_FIT_ZOOM: f64 = 15.0;
/// Room around the outermost markers so none sits under the map's edge or controls.
const FIT_PADDING_PX: u32 = 32;
/// A tap lists every facility whose marker centre is this close to it: where markers overlap,
/// the one hidden underneath is still one tap away.
const TAP_RADIUS_PX: f64 = 16.0;
/// At most this many facilities in one popup (nearest first).
const MAX_POPUP_ENTRIES: usize = 6;
/// The zoom the map takes around the point searched from: a few streets around.
const NEAR_ZOOM: f64 = 14.0;

/// The map of the facilities in the registry that `search` keeps at `now`. While `picking`, a
/// tap on the map (not on a marker) chooses the point to search from: `on_pick` gets it.
#[component]
pub fn FacilityMap(
    #[prop(into)] search: Signal<Search>,
    #[prop(into)] now: Signal<NaiveDateTime>,
    picking: RwSignal<bool>,
    on_pick: Callback<LatLon>,
) -> impl IntoView {
    let registry = Registry::expect();
    let lang = use_lang();
    let container = NodeRef::<leptos::html::Div>::new();
    let handle: StoredValue<Option<MapHandle>, LocalStorage> = StoredValue::new_local(None);
    // Statuses turn stale as time passes: the markers are redrawn for it every ten minutes (not
    // every minute: a large registry is a lot to redraw), and only when some status is known.
    let status_clock = Memo::new(move |_| now.with(|n| n.and_utc().timestamp() / 600));
    // Whether a redraw is already planned: changes that come together are drawn once.
    let planned = StoredValue::new_local(false);
    let visible = use_context::<VisibleArea>();

    // Draws what the map shows now. It runs in a task of its own after the next frame (the
    // map's first drawing, Leaflet included, is not part of the task that mounts the page, and a
    // sync's redraw is not part of the one that draws the list), and once for any number of
    // changes that come together.
    let draw = move || {
        if planned.try_update_value(|p| *p = false).is_none() {
            return; // the page is gone
        }
        let Some(element) = container.get_untracked() else {
            return;
        };
        let lang = lang.get_untracked();
        let config = registry.config.get_untracked();
        let search = search.get_untracked();
        let now = now.get_untracked();
        let thresholds = registry.thresholds();
        handle.update_value(|slot| {
            if slot.is_none() {
                let on_tap = move |at: LatLon| {
                    if picking.get_untracked() {
                        picking.set(false);
                        on_pick.run(at);
                    }
                };
                match MapHandle::new(&element, on_tap, visible) {
                    Ok(map) => *slot = Some(map),
                    Err(err) => leptos::logging::error!("Leaflet map: {err:?}"),
                }
            }
            let Some(map) = slot else { return };
            // Everything is drawn in the tiles' datum: set before anything is drawn.
            if let Some(config) = &config {
                map.set_datum(config.tiles.tile_datum);
            }
            registry
                .facilities
                .with_untracked(|facilities| map.show(facilities, &search, now, thresholds, lang));
            map.show_point(search.near, lang);
            // Tiles once the map looks where it is going to stay (its facilities or the point
            // searched from), or once the registry has loaded and there is nothing to look at:
            // not the tiles of all China first, on a slow line, for a view nobody will see.
            let settled = map.fitted || registry.state.with_untracked(|s| *s != LoadState::Loading);
            if let (Some(config), true) = (&config, settled) {
                map.set_tiles(&config.tiles);
            }
        });
        name_zoom_buttons(&element, lang);
    };

    // What the map shows depends on: the language, the configuration (tiles), the search, the
    // registry, and the clock when something on the map depends on it.
    Effect::new(move |_| {
        if container.get().is_none() {
            return;
        }
        lang.track();
        registry.config.track();
        registry.state.track();
        search.track();
        registry.facilities.track();
        // The clock redraws the markers only when "open now" filters them: redrawing a large
        // registry every minute for nothing would make the map stutter.
        if search.with(|s| s.open_now) {
            now.track();
        } else if registry.facilities.with(Facilities::has_statuses) {
            status_clock.track();
        }
        if !planned.get_value() {
            planned.set_value(true);
            after_next_paint(draw);
        }
    });

    // The map container shows a crosshair while a tap chooses the point.
    let class = move || {
        if picking.get() {
            "map map-picking"
        } else {
            "map"
        }
    };

    on_cleanup(move || {
        handle.update_value(|slot| {
            if let Some(map) = slot.take() {
                map.remove();
            }
        });
    });

    let label = move || td_string!(locale_of(lang.get()), map_label);
    view! { <div id="map" class=class node_ref=container role="region" aria-label=label></div> }
}

/// What a popup needs to know of a facility on the map.
struct Pin {
    id: FacilityId,
    kind: FacilityKind,
    name: String,
    position: LatLng,
    status: Option<PinStatus>,
}

/// What a popup says of a facility's status ("很拥挤 · 2 小时前 · 已过时"): small and copied,
/// the words are made only when a popup opens.
#[derive(Clone, Copy)]
struct PinStatus {
    crowding: Option<Crowding>,
    reported: ReportedStatus,
    as_of: DateTime<Utc>,
    stale: bool,
}

/// Leaflet names its zoom buttons in English ("Zoom in"); a screen reader says them in the
/// interface's language instead.
fn name_zoom_buttons(container: &web_sys::Element, lang: Lang) {
    let locale = locale_of(lang);
    let names = [
        (".leaflet-control-zoom-in", td_string!(locale, zoom_in)),
        (".leaflet-control-zoom-out", td_string!(locale, zoom_out)),
    ];
    for (selector, name) in names {
        if let Ok(Some(button)) = container.query_selector(selector) {
            let _ = button.set_attribute("title", name);
            let _ = button.set_attribute("aria-label", name);
        }
    }
}

/// The facilities on the map now, in the language they are shown in; read by the click handler.
#[derive(Default)]
struct Shown {
    pins: RefCell<Vec<Pin>>,
    lang: Cell<Lang>,
    /// The moment the markers were drawn for (their ages in the popup are said from it).
    now: Cell<Option<DateTime<Utc>>>,
}

/// A Leaflet map with its tile layer and its layer of facility markers, clustered where they
/// overlap on screen (Leaflet.markercluster: a large registry would otherwise be as many DOM
/// markers as facilities).
struct MapHandle {
    map: Map,
    markers: MarkerClusterGroup,
    /// The tile source shown and its layers (the base, and labels over it).
    tiles: Option<(TileSource, Vec<TileLayer>)>,
    /// The datum positions are drawn in: the tiles'.
    datum: MapDatum,
    fitted: bool,
    shown: Rc<Shown>,
    /// The "you are here" marker and where it stands.
    point: Option<(LatLon, Marker)>,
    /// Kept alive as long as the map: Leaflet calls it on every marker click.
    _on_click: Closure<dyn Fn(JsValue)>,
    /// Kept alive as long as the map: Leaflet calls it on every tap on the map itself.
    _on_map_click: Closure<dyn Fn(JsValue)>,
    /// Kept alive as long as the map: tells "save this area's map" what the map shows.
    _on_move: Option<Closure<dyn Fn(JsValue)>>,
    /// Counts [`MapHandle::show`] calls: a slow feed of markers stops when a newer one starts.
    generation: Rc<Cell<u64>>,
    /// Tells Leaflet when its container changes size (a banner under it, a rotated phone), after
    /// the browser's layout: Leaflet only watches the window's size itself.
    resize: Option<SizeWatch>,
}

/// A `ResizeObserver` on the map's container and the callback it calls.
struct SizeWatch {
    observer: JsValue,
    _on_resize: Closure<dyn Fn()>,
}

impl SizeWatch {
    fn disconnect(&self) {
        let _ = js_sys::Reflect::get(&self.observer, &"disconnect".into())
            .and_then(|f| f.dyn_into::<js_sys::Function>())
            .and_then(|disconnect| disconnect.call0(&self.observer));
    }
}

impl MapHandle {
    fn new(
        element: &web_sys::HtmlElement,
        on_tap: impl Fn(LatLon) + 'static,
        visible: Option<VisibleArea>,
    ) -> Result<Self, JsValue> {
        let options = MapOptions::new();
        // Quarter zoom steps let "fit all facilities" fill a phone screen instead of stopping a
        // whole zoom level short.
        options.set_zoom_snap(0.25);
        // Leaflet.markercluster needs the map's deepest zoom before any tile layer sets it.
        options.set_max_zoom(MAX_ZOOM);
        let map = Map::new_with_element(element, &options)?;
        map.set_view(
            &LatLng::new(FALLBACK_CENTER.0, FALLBACK_CENTER.1),
            FALLBACK_ZOOM,
        );
        let markers = MarkerClusterGroup::with_defaults()?;
        markers.add_to(&map);
        let shown = Rc::new(Shown::default());
        let on_click = {
            let map = map.clone();
            let shown = Rc::clone(&shown);
            Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| open_popup(&map, &shown, &event))
        };
        // A tap on a single marker; a tap on a cluster is Leaflet.markercluster's "clusterclick",
        // which zooms in to it.
        markers.on("click", on_click.as_ref());
        // Clicks on markers do not bubble to the map (Leaflet's default for markers).
        let datum = MapDatum::default();
        let tapped = datum.clone();
        let on_map_click = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
            let Some(at) = js_sys::Reflect::get(&event, &"latlng".into())
                .ok()
                .filter(|v| v.is_object())
            else {
                return;
            };
            let at: LatLng = at.unchecked_into();
            if let Some(at) = tapped.wgs84_of(&at) {
                on_tap(at);
            }
        });
        leaflet::Evented::on(&map, "click", on_map_click.as_ref());
        let on_move = visible.and_then(|v| base::watch_view(&map, v));
        let resize = watch_size(element, &map)
            .inspect_err(|err| leptos::logging::warn!("map: no ResizeObserver: {err:?}"))
            .ok();
        Ok(MapHandle {
            map,
            markers,
            tiles: None,
            datum,
            fitted: false,
            shown,
            point: None,
            _on_click: on_click,
            _on_map_click: on_map_click,
            _on_move: on_move,
            generation: Rc::new(Cell::new(0)),
            resize,
        })
    }

    /// Takes the map down: Leaflet's handlers and the size observer.
    fn remove(self) {
        // A feed of markers still under way stops.
        self.generation.set(self.generation.get().wrapping_add(1));
        if let Some(watch) = &self.resize {
            watch.disconnect();
        }
        self.map.remove();
    }

    /// Draws positions in `datum` from now on; when it changed, the point searched from is
    /// drawn again (the markers are, by the [`MapHandle::show`] that follows).
    fn set_datum(&mut self, datum: caremap_model::Datum) {
        if self.datum.set(datum) {
            if let Some((_, marker)) = self.point.take() {
                marker.remove();
            }
        }
    }

    /// Shows the tiles of `source`, replacing the current layers if it changed.
    fn set_tiles(&mut self, source: &TileSource) {
        if self
            .tiles
            .as_ref()
            .is_some_and(|(current, _)| current == source)
        {
            return;
        }
        if let Some((_, old)) = self.tiles.take() {
            for layer in old {
                layer.remove();
            }
        }
        let layers = base::tile_layers(source, MAX_ZOOM);
        for layer in &layers {
            layer.add_to(&self.map);
        }
        self.tiles = Some((source.clone(), layers));
    }

    /// Shows the point searched from and, when it moved, centres the map on it.
    fn show_point(&mut self, near: Option<LatLon>, lang: Lang) {
        if self.point.as_ref().map(|(at, _)| *at) == near {
            return;
        }
        if let Some((_, marker)) = self.point.take() {
            marker.remove();
        }
        let Some(at) = near else { return };
        let position = self.datum.to_map(at);
        let options = MarkerOptions::new();
        match icons::position_icon() {
            Ok(icon) => options.set_icon(icon),
            Err(err) => leptos::logging::error!("divIcon: {err:?}"),
        }
        let label = td_string!(locale_of(lang), your_position);
        options.set_title(label.to_owned());
        options.set_alt(label.to_owned());
        options.set_keyboard(false);
        options.set_z_index_offset(2000.0);
        let marker = Marker::new_with_options(&position, &options);
        marker.add_to(&self.map);
        self.map.invalidate_size(false);
        self.map.set_view(&position, NEAR_ZOOM);
        // The point, not the whole registry, is what the resident wants to see.
        self.fitted = true;
        self.point = Some((at, marker));
    }

    /// Replaces the markers with one per facility that `search` keeps at `now`; the first time
    /// there are facilities, fits the map to them. The markers are made and handed to the
    /// cluster group in slices of a few milliseconds, each in a task of its own ([`feed`]): the
    /// cluster group draws each slice's markers in view as it gets them, and a cheap phone
    /// still answers a tap between slices.
    fn show(
        &mut self,
        facilities: &Facilities,
        search: &Search,
        now: NaiveDateTime,
        thresholds: FreshnessThresholds,
        lang: Lang,
    ) {
        self.markers.clear_layers();
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        let mut pins = Vec::with_capacity(facilities.len());
        let mut specs = Vec::with_capacity(facilities.len());
        // South-west and north-east corners of what is shown.
        let mut bounds: Option<((f64, f64), (f64, f64))> = None;
        let mut judge = Judge::new(now, thresholds);
        let now_utc = judge.now;
        for (id, facility) in facilities.iter() {
            let status = facilities.status(id);
            if !search.matches(facility, status, &mut judge) {
                continue;
            }
            // One Leaflet position per facility, in the tiles' datum, shared by its marker and
            // its pin.
            let position = self.datum.to_map(facility.location);
            let (lat, lon) = (position.lat(), position.lng());
            let name = facility.name.display(lang);
            let badge = Badge::of(status, now_utc, thresholds);
            bounds = Some(match bounds {
                Some(((s, w), (n, e))) => ((s.min(lat), w.min(lon)), (n.max(lat), e.max(lon))),
                None => ((lat, lon), (lat, lon)),
            });
            specs.push(MarkerSpec {
                position: position.clone(),
                kind: facility.kind,
                badge,
                name: name.to_owned(),
            });
            pins.push(Pin {
                id,
                kind: facility.kind,
                name: name.to_owned(),
                position,
                status: status.map(|s| PinStatus {
                    crowding: s.crowding,
                    reported: s.status,
                    as_of: s.as_of,
                    stale: badge.stale,
                }),
            });
        }
        // The view first, then the markers: the cluster group draws the markers in view at the
        // zoom they are seen at (not at the fallback view's, then again).
        if let (false, Some(((s, w), (n, e)))) = (self.fitted, bounds) {
            let bounds = LatLngBounds::new(&LatLng::new(s, w), &LatLng::new(n, e));
            let options = js_sys::Object::new();
            // Reflect::set on a fresh plain object cannot fail.
            let _ = js_sys::Reflect::set(&options, &"maxZoom".into(), &MAX_FIT_ZOOM.into());
            let padding = js_sys::Array::of2(&FIT_PADDING_PX.into(), &FIT_PADDING_PX.into());
            let _ = js_sys::Reflect::set(&options, &"padding".into(), &padding);
            // The container may have changed size since the size observer last said.
            self.map.invalidate_size(false);
            self.map.fit_bounds_with_options(&bounds, &options);
            self.fitted = true;
        }
        self.shown.pins.replace(pins);
        self.shown.lang.set(lang);
        self.shown.now.set(Some(now_utc));
        leptos::task::spawn_local(feed(
            self.markers.clone(),
            specs,
            Rc::clone(&self.generation),
            generation,
        ));
    }
}

/// What a marker is made from.
struct MarkerSpec {
    position: LatLng,
    kind: FacilityKind,
    badge: Badge,
    name: String,
}

/// How long one slice of [`feed`] should take, making its markers and the cluster group drawing
/// those in view: Lighthouse counts a task of more than 50 ms on the machine it simulates, four
/// times slower than the one it runs on, and a cheap phone is about that.
const MARKER_SLICE_MS: f64 = 10.0;
/// The first slice's size, before anything is known of the cost of a marker here.
const FIRST_SLICE: usize = 20;

/// Makes the markers of `specs` and adds them to `markers`, slice by slice, each in a task of
/// its own, each slice sized from what the ones before cost; stops when `generation` moves on (a
/// newer [`MapHandle::show`] took over).
async fn feed(
    markers: MarkerClusterGroup,
    specs: Vec<MarkerSpec>,
    current: Rc<Cell<u64>>,
    generation: u64,
) {
    let mut icons = icons::IconCache::default();
    let mut specs = specs.into_iter().peekable();
    let mut slice = FIRST_SLICE;
    while specs.peek().is_some() {
        let started = js_sys::Date::now();
        let layers = js_sys::Array::new();
        for spec in specs.by_ref().take(slice) {
            let options = MarkerOptions::new();
            match icons.get(spec.kind, spec.badge) {
                Ok(icon) => options.set_icon(icon),
                Err(err) => leptos::logging::error!("divIcon: {err:?}"),
            }
            options.set_title(spec.name.clone());
            options.set_alt(spec.name);
            options.set_rise_on_hover(true);
            options.set_z_index_offset(icons::z_index_offset(spec.kind));
            layers.push(&Marker::new_with_options(&spec.position, &options));
        }
        markers.add_layers(&layers);
        // The next slice as large as fits the time, from this one's cost per marker (the clock
        // counts whole milliseconds: at least one), growing at most fourfold at a time.
        let spent = (js_sys::Date::now() - started).max(1.0);
        let fits = (slice as f64 * MARKER_SLICE_MS / spent) as usize;
        slice = fits.clamp(FIRST_SLICE / 2, slice.saturating_mul(4));
        next_task().await;
        if current.get() != generation {
            return;
        }
    }
}

/// A `ResizeObserver` on the map's container that calls Leaflet's `invalidateSize` (keeping the
/// centre) whenever the container's size changes. Its callback runs after layout, so reading the
/// size costs nothing. The `web-sys` binding is not among the crate's features: through
/// `Reflect`.
fn watch_size(element: &web_sys::HtmlElement, map: &Map) -> Result<SizeWatch, JsValue> {
    let on_resize = {
        let map = map.clone();
        Closure::<dyn Fn()>::new(move || {
            map.invalidate_size(false);
        })
    };
    let constructor: js_sys::Function =
        js_sys::Reflect::get(&js_sys::global(), &"ResizeObserver".into())?.dyn_into()?;
    let observer =
        js_sys::Reflect::construct(&constructor, &js_sys::Array::of1(on_resize.as_ref()))?;
    let observe: js_sys::Function =
        js_sys::Reflect::get(&observer, &"observe".into())?.dyn_into()?;
    observe.call1(&observer, element)?;
    Ok(SizeWatch {
        observer,
        _on_resize: on_resize,
    })
}

/// Opens a popup at a tapped marker listing every facility under the tap (nearest first), so
/// a facility hidden under an overlapping marker can still be reached.
fn open_popup(map: &Map, shown: &Shown, event: &JsValue) {
    let Some(clicked) = js_sys::Reflect::get(event, &"latlng".into())
        .ok()
        .and_then(|v| v.dyn_into::<js_sys::Object>().ok())
    else {
        return;
    };
    let clicked: LatLng = clicked.unchecked_into();
    // Leaflet reports a marker click at the marker's own position; where the finger or mouse
    // was comes from the DOM event. A keyboard "click" (Enter on a focused marker) has no
    // pointer, so the marker's position stands in.
    let pointer =
        pointer_position(map, event).unwrap_or_else(|| map.lat_lng_to_container_point(&clicked));
    let pins = shown.pins.borrow();
    let mut near: Vec<(f64, &Pin)> = pins
        .iter()
        .map(|pin| {
            let at = map.lat_lng_to_container_point(&pin.position);
            ((at.x() - pointer.x()).hypot(at.y() - pointer.y()), pin)
        })
        .filter(|(distance, _)| *distance <= TAP_RADIUS_PX)
        .collect();
    if near.is_empty() {
        // The tap hit the marker's edge, farther than the radius from every centre.
        near = pins
            .iter()
            .filter(|pin| {
                pin.position.lat() == clicked.lat() && pin.position.lng() == clicked.lng()
            })
            .map(|pin| (0.0, pin))
            .collect();
    }
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    near.truncate(MAX_POPUP_ENTRIES);
    let Some((_, first)) = near.first() else {
        return;
    };
    let now = shown.now.get().unwrap_or_else(Utc::now);
    match popup_content(near.iter().map(|(_, pin)| *pin), shown.lang.get(), now) {
        Ok(content) => {
            map.open_popup_with_content(&content, &first.position);
        }
        Err(err) => leptos::logging::error!("popup: {err:?}"),
    }
}

/// The pointer's position in the map container, from the DOM event under a Leaflet event.
fn pointer_position(map: &Map, event: &JsValue) -> Option<Point> {
    let original = js_sys::Reflect::get(event, &"originalEvent".into()).ok()?;
    if !original.has_type::<web_sys::MouseEvent>() {
        return None;
    }
    let convert: js_sys::Function = js_sys::Reflect::get(map, &"mouseEventToContainerPoint".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let point: Point = convert.call1(map, &original).ok()?.unchecked_into();
    (point.x().is_finite() && point.y().is_finite()).then_some(point)
}

/// A popup: for each facility its name, kind, status in words with its age, and a link to its
/// page. Built as DOM nodes so a name is always text, never markup.
fn popup_content<'a>(
    pins: impl Iterator<Item = &'a Pin>,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<web_sys::Element, JsValue> {
    let document = document();
    let root = document.create_element("ul")?;
    root.set_class_name("popup");
    for pin in pins {
        let item = document.create_element("li")?;
        item.set_class_name("popup-item");
        let name = document.create_element("strong")?;
        name.set_class_name("popup-name");
        name.set_text_content(Some(&pin.name));
        let kind = document.create_element("span")?;
        kind.set_class_name("popup-kind");
        kind.set_text_content(Some(pin.kind.label(lang)));
        let link = document.create_element("a")?;
        link.set_class_name("popup-link");
        link.set_attribute("href", &routes::facility_href(pin.id))?;
        link.set_text_content(Some(td_string!(locale_of(lang), popup_details)));
        item.append_child(&name)?;
        item.append_child(&kind)?;
        if let Some(status) = pin.status {
            let line = document.create_element("span")?;
            line.set_class_name(if status.stale {
                "popup-status is-stale"
            } else {
                "popup-status"
            });
            line.set_attribute("data-testid", "popup-status")?;
            let mut text = summary(status.crowding, status.reported, status.as_of, now, lang);
            if status.stale {
                text.push_str(" · ");
                text.push_str(Freshness::Stale.label(lang));
            }
            line.set_text_content(Some(&text));
            item.append_child(&line)?;
        }
        item.append_child(&link)?;
        root.append_child(&item)?;
    }
    Ok(root)
}
