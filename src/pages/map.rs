//! The map page (`/`): the map of facilities, "near me", the filters, the legend and the list.
//! The search (point and filters) lives in the URL, so a link shares it and a reload keeps it.

use crate::clock::now_at_facilities;
use crate::components::{
    AfterFirstPaint, DemoBanner, FacilityCount, FacilityList, Filters, Legend, MapStatus, NearMe,
    SaveMap,
};
use crate::map::FacilityMap;
use crate::registry::Registry;
use crate::search::{remember_map_href, Search, SharedIndex};
use caremap_model::LatLon;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use std::time::Duration;

/// How often "open now" is judged again while the page is open.
const CLOCK_TICK: Duration = Duration::from_secs(60);

#[component]
pub fn MapPage() -> impl IntoView {
    let registry = Registry::expect();
    let query = use_query_map();
    let search = Memo::new(move |_| query.with(|q| Search::from_query(|key| q.get(key))));
    // "Back to the map" from a facility's page returns to this search.
    Effect::new(move |_| remember_map_href(search.with(Search::href)));
    // Built once per change of the registry, not per search.
    let index = Memo::new(move |_| registry.facilities.with(SharedIndex::build));
    let now = RwSignal::new(now_at_facilities());
    if let Ok(handle) = set_interval_with_handle(move || now.set(now_at_facilities()), CLOCK_TICK) {
        on_cleanup(move || handle.clear());
    }
    let picking = RwSignal::new(false);
    // The area the map shows, for "save this area's map".
    provide_context(crate::offline_map::VisibleArea(RwSignal::new(None)));
    let navigate = use_navigate();
    let set_search = Callback::new(move |next: Search| {
        navigate(
            &next.href(),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    });
    let on_pick = Callback::new(move |at: LatLon| {
        set_search.run(Search {
            near: Some(at),
            ..search.get_untracked()
        });
    });

    // The map's share of the screen is fixed (`.map-area`): the loading card is drawn over the
    // map and the demonstration banner under it, inside that share, so neither moves the map nor
    // the panel (index.html's app shell draws this page's first frame the same way).
    view! {
        <main class="map-page">
            <div class="map-layout">
                <div class="map-area">
                    <div class="map-frame">
                        <FacilityMap search now picking on_pick />
                        <MapStatus />
                    </div>
                    <DemoBanner />
                </div>
                <aside class="side-panel">
                    <NearMe search set_search picking />
                    // Below the fold on a phone, and after everything else in the page: drawn
                    // one task after the first frame, which then stays short.
                    <AfterFirstPaint>
                        <Filters search set_search />
                        <FacilityCount />
                        <Legend />
                        <SaveMap />
                        <FacilityList search index now />
                    </AfterFirstPaint>
                </aside>
            </div>
        </main>
    }
}
