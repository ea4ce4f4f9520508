//! The list of facilities beside (or below) the map, one link per facility, and the count.

use crate::i18n::{t, use_i18n, use_lang, Lang};
use crate::map::swatch_class;
use crate::registry::{LoadState, Registry};
use crate::routes;
use caremap_model::Facility;
use leptos::prelude::*;

/// "Township · village", or nothing when neither is known.
pub fn area_text(facility: &Facility) -> Option<String> {
    let parts: Vec<&str> = [&facility.area.township, &facility.area.village]
        .into_iter()
        .flatten()
        .map(|name| name.as_str())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The number of facilities loaded (`data-testid="facility-count"` holds only the number).
#[component]
pub fn FacilityCount() -> impl IntoView {
    let i18n = use_i18n();
    let registry = Registry::expect();
    let count = move || registry.facilities.with(|f| f.len());
    view! {
        <p class="facility-count">
            {t!(i18n, facility_count_before)} " "
            <strong data-testid="facility-count">{count}</strong> " "
            {t!(i18n, facility_count_after)}
        </p>
    }
}

#[component]
pub fn FacilityList() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    let items = move || {
        let lang = lang.get();
        registry.facilities.with(|facilities| {
            facilities
                .sorted(lang)
                .into_iter()
                .map(|(id, facility)| list_item(&routes::facility_href(id), facility, lang))
                .collect_view()
        })
    };
    let empty = move || registry.facilities.with(|f| f.is_empty());
    view! {
        <section class="facility-list-section" aria-labelledby="list-title">
            <h2 id="list-title" class="section-title">{t!(i18n, list_title)}</h2>
            <Show
                when=move || !empty()
                fallback=move || {
                    view! {
                        <Show when=move || registry.state.with(|s| *s == LoadState::Ready)>
                            <p class="notice" data-testid="facility-list-empty">
                                {t!(i18n, list_empty)}
                            </p>
                        </Show>
                    }
                }
            >
                <ul class="facility-list" data-testid="facility-list">{items}</ul>
            </Show>
        </section>
    }
}

fn list_item(href: &str, facility: &Facility, lang: Lang) -> impl IntoView + use<> {
    let name = facility.name.display(lang).to_owned();
    let kind = facility.kind.label(lang);
    let area = area_text(facility);
    view! {
        <li>
            <a class="facility-link" href=href.to_owned()>
                <span class=swatch_class(facility.kind) aria-hidden="true"></span>
                <span class="facility-text">
                    <span class="facility-name">{name}</span>
                    <span class="facility-meta">
                        {kind} {area.map(|area| format!(" · {area}"))}
                    </span>
                </span>
            </a>
        </li>
    }
}
