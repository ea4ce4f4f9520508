//! The map legend: every facility kind with the shape and colour of its marker.

use crate::i18n::{t, use_i18n, use_lang};
use crate::map::swatch_class;
use caremap_model::FacilityKind;
use leptos::prelude::*;

#[component]
pub fn Legend() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    view! {
        <section class="legend" data-testid="legend" aria-labelledby="legend-title">
            <h2 id="legend-title" class="section-title">{t!(i18n, legend_title)}</h2>
            <ul class="legend-items">
                {FacilityKind::ALL
                    .iter()
                    .map(|kind| {
                        let kind = *kind;
                        view! {
                            <li class="legend-item">
                                <span class=swatch_class(kind) aria-hidden="true"></span>
                                <span>{move || kind.label(lang.get())}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
