//! "下载本地地图 / Save this area's map": choose the area (what the map shows, or a township),
//! see how many tiles and how much storage it takes before anything starts, then a progress bar
//! with a cancel button; what is on the phone is said with a button that deletes it. The work
//! is `offline_map`'s.

use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang, Lang};
use crate::offline_map::{self, free_storage, Plan, SavedMap, VisibleArea};
use crate::registry::Registry;
use caremap_model::tiles::Area;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What the section says after a save or a deletion.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Saved(offline_map::SaveOutcome),
    Deleted,
    Failed(String),
}

#[component]
pub fn SaveMap() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    let visible = use_context::<VisibleArea>();
    // "" for the area the map shows, else a township's name.
    let choice = RwSignal::new(String::new());
    let saved = RwSignal::new(SavedMap::load());
    let free = RwSignal::new(None::<f64>);
    let running = RwSignal::new(None::<(u32, u32)>);
    let outcome = RwSignal::new(None::<Outcome>);
    let abort = StoredValue::new_local(None::<web_sys::AbortController>);
    spawn_local(async move { free.set(free_storage().await) });

    let townships = Memo::new(move |_| {
        let datum = registry
            .config
            .with(|c| c.as_ref().map(|c| c.tiles.tile_datum).unwrap_or_default());
        registry
            .facilities
            .with(|f| offline_map::township_areas(f, datum))
    });
    let area = move || -> Option<Area> {
        let chosen = choice.get();
        if chosen.is_empty() {
            visible.and_then(|v| v.0.get())
        } else {
            townships.with(|t| t.iter().find(|(name, _)| *name == chosen).map(|(_, a)| *a))
        }
    };
    let plan = Memo::new(move |_| -> Option<Plan> {
        let area = area()?;
        let source = registry
            .config
            .with(|c| c.as_ref().map(|c| c.tiles.clone()))?;
        if source.pmtiles_url.is_some() {
            return None;
        }
        Some(saved.with(|s| offline_map::plan(&source, area, s, free.get())))
    });

    let start = move |_| {
        let Some(plan) = plan.get_untracked() else {
            return;
        };
        let Ok(controller) = web_sys::AbortController::new() else {
            return;
        };
        let signal = controller.signal();
        abort.set_value(Some(controller));
        outcome.set(None);
        let total = plan.urls.len() as u32;
        running.set(Some((0, total)));
        let label = choice.get_untracked();
        spawn_local(async move {
            let on_progress = move |done: u32| running.set(Some((done, total)));
            let result = offline_map::save(&plan, label, on_progress, &signal).await;
            running.set(None);
            abort.set_value(None);
            saved.set(SavedMap::load());
            free.set(free_storage().await);
            outcome.set(Some(match result {
                Ok(done) => Outcome::Saved(done),
                Err(err) => Outcome::Failed(err),
            }));
        });
    };
    let cancel = move |_| {
        abort.with_value(|a| {
            if let Some(controller) = a {
                controller.abort();
            }
        });
    };
    let delete = move |_| {
        spawn_local(async move {
            let result = offline_map::delete().await;
            saved.set(SavedMap::load());
            free.set(free_storage().await);
            outcome.set(Some(match result {
                Ok(()) => Outcome::Deleted,
                Err(err) => Outcome::Failed(err),
            }));
        });
    };

    let size_line = move || {
        let lang = lang.get();
        let locale = locale_of(lang);
        let Some(plan) = plan.get() else {
            return td_string!(locale, save_map_no_tiles).to_owned();
        };
        let mut line = td_string!(
            locale,
            save_map_size,
            tiles = plan.urls.len().to_string(),
            size = megabytes(plan.bytes, lang)
        )
        .to_string();
        if !plan.measured {
            line.push_str(td_string!(locale, save_map_estimated));
        }
        line
    };
    let limited = move || {
        plan.get().filter(|p| p.limited_by_space).map(|p| {
            td_string!(
                locale_of(lang.get()),
                save_map_limited,
                zoom = p.max_zoom.to_string()
            )
            .to_string()
        })
    };
    let outcome_text = move || {
        let lang = lang.get();
        let locale = locale_of(lang);
        outcome.get().map(|o| match o {
            Outcome::Saved(done) => {
                let mut text = if done.cancelled {
                    td_string!(locale, save_map_cancelled, tiles = done.saved.to_string())
                        .to_string()
                } else {
                    td_string!(
                        locale,
                        save_map_done,
                        tiles = done.saved.to_string(),
                        size = megabytes(done.bytes, lang)
                    )
                    .to_string()
                };
                if done.failed > 0 {
                    text.push(' ');
                    text.push_str(
                        &td_string!(locale, save_map_failed, failed = done.failed.to_string())
                            .to_string(),
                    );
                }
                if done.quota {
                    text.push(' ');
                    text.push_str(td_string!(locale, save_map_quota));
                }
                text
            }
            Outcome::Deleted => td_string!(locale, save_map_deleted).to_owned(),
            Outcome::Failed(err) => td_string!(locale, save_map_error, error = err).to_string(),
        })
    };
    let saved_line = move || {
        let lang = lang.get();
        saved.with(|s| {
            (s.tiles() > 0).then(|| {
                td_string!(
                    locale_of(lang),
                    save_map_saved,
                    tiles = s.tiles().to_string(),
                    size = megabytes(s.bytes(), lang)
                )
                .to_string()
            })
        })
    };
    let hidden = move || {
        registry
            .config
            .with(|c| c.as_ref().is_some_and(|c| c.tiles.pmtiles_url.is_some()))
    };

    view! {
        <section class="save-map" data-testid="save-map" aria-labelledby="save-map-title" hidden=hidden>
            <h2 id="save-map-title" class="section-title">{t!(i18n, save_map_title)}</h2>
            <p class="save-map-intro">{t!(i18n, save_map_intro)}</p>
            <label class="save-map-area">
                <span>{t!(i18n, save_map_area)}</span>
                <select
                    data-testid="save-map-area"
                    prop:disabled=move || running.get().is_some()
                    on:change=move |ev| choice.set(event_target_value(&ev))
                >
                    <option value="">{t!(i18n, save_map_visible)}</option>
                    {move || {
                        townships
                            .get()
                            .into_iter()
                            .map(|(name, _)| {
                                let value = name.clone();
                                view! { <option value=value>{name}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
            <p class="save-map-size" data-testid="save-map-size" aria-live="polite">{size_line}</p>
            {move || limited().map(|text| view! { <p class="save-map-limited">{text}</p> })}
            {move || match running.get() {
                Some((done, total)) => {
                    view! {
                        <div class="save-map-progress" data-testid="save-map-progress">
                            <label>
                                <span>{t!(i18n, save_map_progress)}</span>
                                " "
                                <span data-testid="save-map-progress-text">
                                    {td_string!(
                                        locale_of(lang.get()),
                                        save_map_progress_text,
                                        done = done.to_string(),
                                        total = total.to_string()
                                    )
                                        .to_string()}
                                </span>
                                <progress max=total.to_string() value=done.to_string()></progress>
                            </label>
                            <button type="button" class="button" data-testid="save-map-cancel" on:click=cancel>
                                {t!(i18n, save_map_cancel)}
                            </button>
                        </div>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <button
                            type="button"
                            class="button"
                            data-testid="save-map-start"
                            prop:disabled=move || plan.with(Option::is_none)
                            on:click=start
                        >
                            {t!(i18n, save_map_start)}
                        </button>
                    }
                        .into_any()
                }
            }}
            <p class="save-map-outcome" data-testid="save-map-outcome" role="status">{outcome_text}</p>
            {move || {
                saved_line()
                    .map(|text| {
                        view! {
                            <p class="save-map-saved" data-testid="save-map-saved">{text}</p>
                            <button
                                type="button"
                                class="button"
                                data-testid="save-map-delete"
                                prop:disabled=move || running.get().is_some()
                                on:click=delete
                            >
                                {t!(i18n, save_map_delete)}
                            </button>
                        }
                    })
            }}
        </section>
    }
}

/// A size in megabytes, one decimal ("8.1 MB").
fn megabytes(bytes: f64, _lang: Lang) -> String {
    format!("{:.1} MB", bytes / 1_000_000.0)
}
