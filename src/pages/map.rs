//! The map page (`/`): the map of facilities, the legend and the list.

use crate::components::{DemoBanner, FacilityCount, FacilityList, Legend, LoadStatus};
use crate::map::FacilityMap;
use leptos::prelude::*;

#[component]
pub fn MapPage() -> impl IntoView {
    view! {
        <main class="map-page">
            <DemoBanner />
            <LoadStatus />
            <div class="map-layout">
                <FacilityMap />
                <aside class="side-panel">
                    <FacilityCount />
                    <Legend />
                    <FacilityList />
                </aside>
            </div>
        </main>
    }
}
