//! Load status of the registry (loading, or a failure with a retry button; over the map on the
//! map page), the sync bar ("offline", "synced 5 min ago", progress of a sync) and the banner that
//! marks demonstration data.

use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang};
use crate::registry::{LoadState, Registry, SyncPhase};
use caremap_model::Lang;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn LoadStatus() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    move || match registry.state.get() {
        LoadState::Ready => ().into_any(),
        LoadState::Loading => view! {
            <p class="notice notice-loading" role="status" data-testid="loading">
                {t!(i18n, loading)}
            </p>
        }
        .into_any(),
        LoadState::Failed(err) => view! {
            <div class="notice notice-error" role="alert" data-testid="load-error">
                <p>
                    <strong>{t!(i18n, load_failed)}</strong>
                    " "
                    {move || err.user_message(lang.get())}
                </p>
                <button type="button" class="button" on:click=move |_| registry.sync_now()>
                    {t!(i18n, retry)}
                </button>
            </div>
        }
        .into_any(),
    }
}

/// Over the map while it has nothing to show: the registry loading (and what the map is going to
/// show), or why the first sync failed, with a retry button ([`LoadStatus`]). Drawn over the map,
/// not above it, so that it coming and going moves nothing; `index.html`'s app shell draws the
/// same card while the wasm loads.
#[component]
pub fn MapStatus() -> impl IntoView {
    let i18n = use_i18n();
    let registry = Registry::expect();
    move || match registry.state.get() {
        LoadState::Ready => ().into_any(),
        LoadState::Loading => view! {
            <div class="map-status">
                <div class="notice notice-loading map-loading">
                    <p role="status" data-testid="loading">{t!(i18n, loading)}</p>
                    <p class="map-tagline">{t!(i18n, app_tagline)}</p>
                </div>
            </div>
        }
        .into_any(),
        LoadState::Failed(_) => view! {
            <div class="map-status">
                <LoadStatus />
            </div>
        }
        .into_any(),
    }
}

#[component]
pub fn DemoBanner() -> impl IntoView {
    let i18n = use_i18n();
    let registry = Registry::expect();
    let demo = move || registry.config.with(|c| c.as_ref().is_some_and(|c| c.demo));
    view! {
        <Show when=demo>
            <p class="notice notice-demo" data-testid="demo-banner">{t!(i18n, demo_banner)}</p>
        </Show>
    }
}

/// How often "synced N min ago" is brought up to date.
const CLOCK_TICK: Duration = Duration::from_secs(20);

/// The sync bar: whether the phone is offline, when the registry was last synced, the progress
/// of a sync under way, and why a sync failed (with a retry button). `data-state` says which:
/// `loading`, `syncing`, `synced`, `offline` or `error`.
#[component]
pub fn SyncBar() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    let now = RwSignal::new(Utc::now());
    if let Ok(handle) = set_interval_with_handle(move || now.set(Utc::now()), CLOCK_TICK) {
        on_cleanup(move || handle.clear());
    }
    let state = move || {
        registry.sync.with(|s| match s.phase {
            SyncPhase::Starting => "loading",
            SyncPhase::Syncing { .. } => "syncing",
            SyncPhase::Synced => "synced",
            SyncPhase::Offline => "offline",
            SyncPhase::Failed(_) => "error",
        })
    };
    let text = move || {
        let lang = lang.get();
        let now = now.get();
        registry.sync.with(|s| {
            let locale = locale_of(lang);
            let last = || match s.last_complete {
                Some(at) => ago(at, now, lang),
                None => td_string!(locale, sync_never).to_owned(),
            };
            match &s.phase {
                SyncPhase::Starting => td_string!(locale, sync_starting).to_owned(),
                SyncPhase::Syncing { records: 0 } => td_string!(locale, sync_syncing).to_owned(),
                SyncPhase::Syncing { records } => {
                    td_string!(locale, sync_syncing_records, records = *records).to_string()
                }
                SyncPhase::Synced => td_string!(locale, sync_synced, last = last()).to_string(),
                SyncPhase::Offline => td_string!(locale, sync_offline, last = last()).to_string(),
                SyncPhase::Failed(err) => td_string!(
                    locale,
                    sync_failed,
                    problem = err.user_message(lang),
                    last = last()
                )
                .to_string(),
            }
        })
    };
    let can_retry = move || {
        registry
            .sync
            .with(|s| matches!(s.phase, SyncPhase::Offline | SyncPhase::Failed(_)))
    };
    let store_problem = move || {
        registry
            .sync
            .with(|s| s.store_problem.as_ref().map(|p| p.user_message(lang.get())))
    };
    view! {
        <div class="sync-bar" data-testid="sync-status" data-state=state role="status">
            <span class="sync-dot" aria-hidden="true"></span>
            <span class="sync-text">{text}</span>
            <Show when=can_retry>
                <button type="button" class="button button-small" on:click=move |_| registry.sync_now()>
                    {t!(i18n, sync_now)}
                </button>
            </Show>
        </div>
        {move || {
            store_problem()
                .map(|message| {
                    view! {
                        <p class="notice notice-error" role="alert" data-testid="store-problem">
                            {message}
                        </p>
                    }
                })
        }}
    }
}

/// How long ago `then` was, in plain words: "刚刚", "5 分钟前", "3 小时前", "2 天前".
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>, lang: Lang) -> String {
    let locale = locale_of(lang);
    let minutes = (now - then).num_minutes().max(0);
    match minutes {
        0 => td_string!(locale, ago_just_now).to_owned(),
        1..=59 => td_string!(locale, ago_minutes, n = minutes).to_string(),
        60..=1439 => td_string!(locale, ago_hours, n = minutes / 60).to_string(),
        1440..=2879 => td_string!(locale, ago_day, n = minutes / 1440).to_string(),
        _ => td_string!(locale, ago_days, n = minutes / 1440).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn ages_read_plainly_in_both_languages() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
            .single()
            .expect("time");
        let cases = [
            (0, "刚刚", "just now"),
            (59, "刚刚", "just now"),
            (5 * 60, "5 分钟前", "5 min ago"),
            (3 * 3600 + 59, "3 小时前", "3 h ago"),
            (24 * 3600, "1 天前", "1 day ago"),
            (3 * 86400, "3 天前", "3 days ago"),
            // A phone clock behind the server's: never "in 5 minutes".
            (-300, "刚刚", "just now"),
        ];
        for (seconds, zh, en) in cases {
            let then = now - chrono::Duration::seconds(seconds);
            assert_eq!(ago(then, now, Lang::Zh), zh, "{seconds} s");
            assert_eq!(ago(then, now, Lang::En), en, "{seconds} s");
        }
    }
}
