//! A facility's load on its page: the status from its newest report (reported state, crowding,
//! wait, patients, doctors, stock with shortages highlighted, as of when and how old, greyed
//! with a warning when stale), today's load and a chart of the last seven days.
//!
//! The seven days come from `GET /api/v1/facilities/{id}/reports?days=30`, asked for when the
//! phone is online. Each answer is reduced to one figure per day and kept in localStorage, so
//! the page shows the last one it saw when offline (and says so), or says it cannot load them.
//! The chart is an SVG drawn here: every position is a percentage (no inline style, which the
//! CSP forbids) and every text is sized by CSS in rem, so it grows with large-text mode. The
//! same figures are in a table below it.

use crate::api::{self, ApiError};
use crate::components::crowding::{crowd_text_class, status_words, Badge};
use crate::components::open_state::{facility_date, now_at_facilities};
use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang, Lang};
use crate::registry::Registry;
use caremap_model::status::age_text;
use caremap_model::{FacilityId, Freshness, ReportedStatus, StockLevel};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many days the chart shows, today included.
pub const CHART_DAYS: usize = 7;
/// How many days of reports to ask for (the endpoint keeps 30).
const HISTORY_DAYS: u32 = 30;
/// localStorage key prefix of the last answer per facility.
const CACHE_PREFIX: &str = "caremap.history.v1.";

/// One day's load: the figures of the newest report of that day (China Standard Time) that no
/// correction replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayLoad {
    pub date: NaiveDate,
    pub outpatients: Option<u32>,
    pub fever: Option<u32>,
}

/// What the chart reads of the history endpoint's answer (`caremap_model::ReportHistory`):
/// per report its time, receipt, whether a correction replaced it, and its two counts. The
/// server has validated the reports; the rest of each is not parsed.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryLoads {
    reports: Vec<RecordLoad>,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordLoad {
    report: ReportLoad,
    received_at: DateTime<Utc>,
    #[serde(default)]
    superseded: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct ReportLoad {
    as_of: DateTime<Utc>,
    #[serde(default)]
    outpatients_today: Option<u32>,
    #[serde(default)]
    fever_patients_today: Option<u32>,
}

/// The day-by-day load of a history, oldest first. Per day, the report with the newest time
/// (its `as_of`, or its receipt if earlier, as the status takes it) among those not
/// superseded.
pub fn daily_loads(history: &HistoryLoads) -> Vec<DayLoad> {
    let mut days: BTreeMap<NaiveDate, (DateTime<Utc>, DayLoad)> = BTreeMap::new();
    for record in history.reports.iter().filter(|r| !r.superseded) {
        let at = record.report.as_of.min(record.received_at);
        let date = facility_date(at);
        let load = DayLoad {
            date,
            outpatients: record.report.outpatients_today,
            fever: record.report.fever_patients_today,
        };
        match days.get(&date) {
            Some((held, _)) if *held >= at => {}
            _ => {
                days.insert(date, (at, load));
            }
        }
    }
    days.into_values().map(|(_, load)| load).collect()
}

/// The `CHART_DAYS` days ending `today`, oldest first, each with its load if reported.
pub fn last_days(loads: &[DayLoad], today: NaiveDate) -> Vec<(NaiveDate, Option<DayLoad>)> {
    (0..CHART_DAYS)
        .rev()
        .map(|back| {
            let date = today - Duration::days(back as i64);
            (date, loads.iter().find(|l| l.date == date).copied())
        })
        .collect()
}

/// What the phone keeps of a facility's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cached {
    saved_at: DateTime<Utc>,
    days: Vec<DayLoad>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn load_cached(id: FacilityId) -> Option<Cached> {
    let text = storage()?
        .get_item(&format!("{CACHE_PREFIX}{id}"))
        .ok()
        .flatten()?;
    serde_json::from_str(&text).ok()
}

fn save_cached(id: FacilityId, cached: &Cached) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(cached)) {
        // A full localStorage only costs the chart offline.
        let _ = storage.set_item(&format!("{CACHE_PREFIX}{id}"), &text);
    }
}

/// Where the seven days stand.
#[derive(Debug, Clone, PartialEq)]
enum History {
    Loading,
    /// Just loaded from the server.
    Live(Vec<DayLoad>),
    /// The last answer kept on the phone, shown because the server cannot be reached.
    Cached(Cached),
    /// Offline and nothing kept.
    Offline,
    /// The server answered with an error and nothing is kept.
    Failed,
}

impl History {
    fn state(&self) -> &'static str {
        match self {
            History::Loading => "loading",
            History::Live(_) => "online",
            History::Cached(_) => "cached",
            History::Offline => "offline",
            History::Failed => "error",
        }
    }
}

fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// "11月29日 08:00" / "29 Nov 08:00", on the facilities' clock.
fn time_text(at: DateTime<Utc>, lang: Lang) -> String {
    // China Standard Time has no daylight saving: UTC+8 all year.
    let local = (at + Duration::hours(8)).naive_utc();
    match lang {
        Lang::Zh => local.format("%-m月%-d日 %H:%M").to_string(),
        Lang::En => local.format("%-d %b %H:%M").to_string(),
    }
}
/// "11月29日" / "29 Nov".
fn date_text(date: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Zh => date.format("%-m月%-d日").to_string(),
        Lang::En => date.format("%-d %b").to_string(),
    }
}

fn stock_class(level: StockLevel) -> &'static str {
    match level {
        StockLevel::Ample => "stock-item stock-ample",
        StockLevel::Low => "stock-item stock-low",
        StockLevel::Out => "stock-item stock-out",
    }
}

fn reported_class(status: ReportedStatus) -> &'static str {
    match status {
        ReportedStatus::Open => "status status-open",
        ReportedStatus::Reduced => "status status-reduced",
        ReportedStatus::Closed => "status status-closed",
    }
}

/// The status block and the seven days of one facility.
#[component]
pub fn FacilityLoad(id: FacilityId) -> impl IntoView {
    view! {
        <StatusBlock id />
        <LoadHistory id />
    }
}

/// The newest status in words, as of when and how old.
#[component]
fn StatusBlock(id: FacilityId) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    let status = Memo::new(move |_| registry.facilities.with(|f| f.status(id).cloned()));
    // The age ("5 分钟前") and the freshness move on while the page is open.
    let clock = RwSignal::new(Utc::now());
    if let Ok(handle) = set_interval_with_handle(
        move || clock.set(Utc::now()),
        std::time::Duration::from_secs(60),
    ) {
        on_cleanup(move || handle.clear());
    }
    move || {
        let lang = lang.get();
        let locale = locale_of(lang);
        let Some(status) = status.get() else {
            return view! {
                <section class="load-status" data-testid="load-status" data-state="none" aria-labelledby="load-title">
                    <h2 id="load-title" class="section-title">{t!(i18n, load_title)}</h2>
                    <p class="muted" data-testid="no-status">{t!(i18n, load_none)}</p>
                </section>
            }
            .into_any();
        };
        let now = clock.get();
        let thresholds = registry.thresholds();
        let freshness = status.freshness(now, thresholds);
        let stale = freshness == Freshness::Stale;
        let badge = Badge {
            crowding: status.crowding,
            stale,
        };
        let hours = (thresholds.stale_after_minutes / 60).max(1).to_string();
        let today = facility_date(now) == facility_date(status.as_of);
        let day = if today {
            lang.pick("今日", "today").to_owned()
        } else {
            date_text(facility_date(status.as_of), lang)
        };
        let people = |n: u32| match lang {
            Lang::Zh => format!("{n} 人"),
            Lang::En => n.to_string(),
        };
        // Every row is the same view (one piece of code in the wasm, whatever the row).
        let mut facts = vec![Fact {
            label: td_string!(locale, load_reported_status).to_owned(),
            value: status.status.label(lang).to_owned(),
            class: Some(reported_class(status.status)),
            swatch: None,
            testid: "reported-status",
        }];
        if let Some(crowding) = status.crowding {
            facts.push(Fact {
                label: td_string!(locale, load_crowding).to_owned(),
                value: status_words(Some(crowding), status.status, lang).to_owned(),
                class: Some(crowd_text_class(Some(crowding), stale)),
                swatch: Some(format!("crowd-swatch{}", badge.classes())),
                testid: "crowding",
            });
        }
        if let Some(m) = status.wait_minutes {
            facts.push(Fact {
                label: td_string!(locale, load_wait).to_owned(),
                value: td_string!(locale, load_wait_value, minutes = m.to_string()).to_string(),
                class: None,
                swatch: None,
                testid: "wait",
            });
        }
        let counts = [
            (
                status.outpatients_today,
                lang.pick("门诊", "Outpatients"),
                "outpatients",
            ),
            (
                status.fever_patients_today,
                lang.pick("发热患者", "Fever patients"),
                "fever-patients",
            ),
        ];
        for (count, what, testid) in counts {
            if let Some(n) = count {
                let label = match lang {
                    Lang::Zh => format!("{day}{what}"),
                    Lang::En => format!("{what} {day}"),
                };
                facts.push(Fact {
                    label,
                    value: people(n),
                    class: None,
                    swatch: None,
                    testid,
                });
            }
        }
        if let Some(n) = status.doctors_on_duty {
            facts.push(Fact {
                label: td_string!(locale, load_doctors).to_owned(),
                value: people(n),
                class: None,
                swatch: None,
                testid: "doctors",
            });
        }
        let stock: Vec<_> = {
            let mut items: Vec<_> = status.stock.iter().map(|(i, l)| (*i, *l)).collect();
            // Shortages first, out before low, as the list says them.
            items.sort_by_key(|(item, level)| (std::cmp::Reverse(*level), *item));
            items
        };
        let freshness_mark = (freshness != Freshness::Fresh).then(|| {
            view! {
                " · "
                <span class=if stale { "stale-mark" } else { "ageing-mark" } data-testid="freshness">
                    {freshness.label(lang)}
                </span>
            }
        });
        let stale_note = stale.then(|| {
            view! {
                <p class="stale-note" data-testid="stale-note">
                    {td_string!(locale, load_stale_note, hours = hours.as_str()).to_string()}
                </p>
            }
        });
        let stock = (!stock.is_empty()).then(|| {
            view! {
                <dt>{td_string!(locale, load_stock)}</dt>
                <dd>
                    <ul class="stock" data-testid="stock">
                        {stock
                            .into_iter()
                            .map(|(item, level)| {
                                view! {
                                    <li class=stock_class(level) data-item=item.as_str() data-level=level.as_str()>
                                        {item.label(lang)}
                                        {lang.pick("：", ": ")}
                                        <strong>{level.label(lang)}</strong>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </dd>
            }
        });
        view! {
            <section
                class=if stale { "load-status is-stale" } else { "load-status" }
                data-testid="load-status"
                data-state=freshness.as_str()
                data-crowding=status.crowding.map(|c| c.as_str())
                aria-labelledby="load-title"
            >
                <h2 id="load-title" class="section-title">{td_string!(locale, load_title)}</h2>
                <p class="load-as-of" data-testid="status-age">
                    {td_string!(locale, load_as_of)}
                    {lang.pick("：", ": ")}
                    {time_text(status.as_of, lang)}
                    " · "
                    <strong>{age_text(status.as_of, now, lang)}</strong>
                    {freshness_mark}
                </p>
                {stale_note}
                <dl class="facts load-facts">
                    {facts
                        .into_iter()
                        .map(|fact| {
                            view! {
                                <dt>{fact.label}</dt>
                                <dd>
                                    {fact
                                        .swatch
                                        .map(|class| {
                                            view! { <span class=class aria-hidden="true"></span> " " }
                                        })}
                                    <span class=fact.class data-testid=fact.testid>
                                        {fact.value}
                                    </span>
                                </dd>
                            }
                        })
                        .collect_view()}
                    {stock}
                </dl>
            </section>
        }
        .into_any()
    }
}

/// One row of the status block.
struct Fact {
    label: String,
    value: String,
    class: Option<&'static str>,
    /// The classes of a badge before the value.
    swatch: Option<String>,
    testid: &'static str,
}

/// Today's load and the chart of the last seven days, from the history endpoint (or the copy
/// kept on the phone).
#[component]
fn LoadHistory(id: FacilityId) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let history = RwSignal::new(History::Loading);
    let fallback = move |offline: bool| match load_cached(id) {
        Some(cached) => History::Cached(cached),
        None if offline => History::Offline,
        None => History::Failed,
    };
    if browser_online() {
        spawn_local(async move {
            let next = match api::facility_reports_as::<HistoryLoads>(id, HISTORY_DAYS).await {
                Ok(answer) => {
                    let days = daily_loads(&answer);
                    save_cached(
                        id,
                        &Cached {
                            saved_at: Utc::now(),
                            days: days.clone(),
                        },
                    );
                    History::Live(days)
                }
                Err(err) => {
                    leptos::logging::warn!("report history: {err}");
                    fallback(matches!(err, ApiError::Network(_)))
                }
            };
            // The page may be gone by now; a disposed signal is simply not set.
            let _ = history.try_set(next);
        });
    } else {
        history.set(fallback(true));
    }

    let body = move || {
        let lang = lang.get();
        let locale = locale_of(lang);
        let state = history.get();
        let (days, note) = match &state {
            History::Loading => {
                return view! {
                    <p class="muted" role="status">{td_string!(locale, history_loading)}</p>
                }
                .into_any();
            }
            History::Offline => {
                return view! {
                    <p class="notice" data-testid="history-note">{td_string!(locale, history_offline)}</p>
                }
                .into_any();
            }
            History::Failed => {
                return view! {
                    <p class="notice" data-testid="history-note">{td_string!(locale, history_failed)}</p>
                }
                .into_any();
            }
            History::Live(days) => (days.clone(), None),
            History::Cached(cached) => {
                let age = age_text(cached.saved_at, Utc::now(), lang);
                (
                    cached.days.clone(),
                    Some(td_string!(locale, history_cached, age = age.as_str()).to_string()),
                )
            }
        };
        let today = now_at_facilities().date();
        let week = last_days(&days, today);
        let today_load = week.last().and_then(|(_, load)| *load);
        let people = |n: u32| match lang {
            Lang::Zh => format!("{n} 人"),
            Lang::En => n.to_string(),
        };
        let today_text = match today_load {
            Some(load) => {
                let outpatients = load.outpatients.map(people);
                let fever = load.fever.map(people);
                match (lang, outpatients, fever) {
                    (Lang::Zh, Some(o), Some(f)) => format!("门诊 {o}，其中发热 {f}"),
                    (Lang::Zh, Some(o), None) => format!("门诊 {o}"),
                    (Lang::Zh, None, Some(f)) => format!("发热患者 {f}"),
                    (Lang::En, Some(o), Some(f)) => format!("{o} outpatients, {f} with fever"),
                    (Lang::En, Some(o), None) => format!("{o} outpatients"),
                    (Lang::En, None, Some(f)) => format!("{f} fever patients"),
                    (_, None, None) => td_string!(locale, history_today_none).to_owned(),
                }
            }
            None => td_string!(locale, history_today_none).to_owned(),
        };
        let any = week
            .iter()
            .any(|(_, l)| l.is_some_and(|l| l.outpatients.is_some() || l.fever.is_some()));
        view! {
            {note.map(|note| view! { <p class="notice" data-testid="history-note">{note}</p> })}
            <p class="today-load" data-testid="today-load">
                <strong>{td_string!(locale, history_today)}</strong>
                {lang.pick("：", ": ")}
                {today_text}
            </p>
            {if any {
                view! {
                    {chart(&week, today, lang)}
                    {table(&week, today, lang)}
                }
                    .into_any()
            } else {
                view! { <p class="muted" data-testid="history-empty">{td_string!(locale, history_empty)}</p> }
                    .into_any()
            }}
        }
        .into_any()
    };
    view! {
        <section
            class="load-history"
            data-testid="load-history"
            data-state=move || history.with(History::state)
            aria-labelledby="history-title"
        >
            <h2 id="history-title" class="section-title">{t!(i18n, history_title)}</h2>
            {body}
        </section>
    }
}

/// The short label of a day under its bar: "今天" / "Today", else its weekday ("周三" / "Wed"),
/// narrow enough for seven columns on a phone in large text (the table has the dates).
fn day_label(date: NaiveDate, today: NaiveDate, lang: Lang) -> &'static str {
    if date == today {
        return lang.pick("今天", "Today");
    }
    let (zh, en) = match date.weekday() {
        Weekday::Mon => ("周一", "Mon"),
        Weekday::Tue => ("周二", "Tue"),
        Weekday::Wed => ("周三", "Wed"),
        Weekday::Thu => ("周四", "Thu"),
        Weekday::Fri => ("周五", "Fri"),
        Weekday::Sat => ("周六", "Sat"),
        Weekday::Sun => ("周日", "Sun"),
    };
    lang.pick(zh, en)
}

/// The plot area, in percent of the chart's height: bars stand on `BASE` and the tallest
/// reaches `TOP` (room above for its figure, below for the day).
const TOP: f64 = 16.0;
const BASE: f64 = 80.0;

/// The bar chart: per day a bar for the outpatients with its figure above, and inside it a
/// narrower, darker bar for the fever patients among them (never more than the outpatients).
/// A day without a report has no bar and a dash. Written as SVG markup (one string, a fraction
/// of the wasm that as many view elements would take); every text in it is ours and escaped.
fn chart_svg(week: &[(NaiveDate, Option<DayLoad>)], today: NaiveDate, lang: Lang) -> String {
    use std::fmt::Write;
    let max = week
        .iter()
        .filter_map(|(_, l)| l.map(|l| l.outpatients.unwrap_or(0).max(l.fever.unwrap_or(0))))
        .max()
        .unwrap_or(0)
        .max(1);
    let column = 100.0 / week.len().max(1) as f64;
    let height = |n: u32| (BASE - TOP) * f64::from(n) / f64::from(max);
    let label = lang.pick(
        "近 7 天每日门诊人数（深色为其中发热患者）柱状图，数据见下表",
        "Bar chart of outpatients per day over the last 7 days (the darker bars: those with fever); the figures are in the table below",
    );
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="load-chart" data-testid="load-chart" role="img" aria-label="{}"><line class="chart-axis" x1="0" x2="100%" y1="{BASE}%" y2="{BASE}%"></line>"#,
        escape(label)
    );
    for (i, (date, load)) in week.iter().enumerate() {
        let centre = column * (i as f64 + 0.5);
        let outpatients = load.and_then(|l| l.outpatients);
        let fever = load.and_then(|l| l.fever);
        let today_class = if *date == today { " is-today" } else { "" };
        let _ = write!(
            svg,
            r#"<g class="chart-day{today_class}" data-date="{date}">"#
        );
        for (value, class, width) in [
            (outpatients, "bar-outpatients", column * 0.62),
            (fever, "bar-fever", column * 0.3),
        ] {
            if let Some(n) = value {
                let h = height(n);
                let _ = write!(
                    svg,
                    r#"<rect class="{class}" x="{:.2}%" width="{width:.2}%" y="{:.2}%" height="{h:.2}%" data-value="{n}"></rect>"#,
                    centre - width / 2.0,
                    BASE - h,
                );
            }
        }
        let figure = match outpatients.or(fever) {
            Some(n) => n.to_string(),
            None => "–".to_owned(),
        };
        let figure_at = BASE - outpatients.or(fever).map(height).unwrap_or(0.0) - 2.5;
        let _ = write!(
            svg,
            r#"<text class="chart-figure" x="{centre:.2}%" y="{figure_at:.2}%" text-anchor="middle">{figure}</text><text class="chart-day-label" x="{centre:.2}%" y="95%" text-anchor="middle">{}</text></g>"#,
            escape(day_label(*date, today, lang)),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Text for markup: `&`, `<`, `>` and `"` escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart and its key.
fn chart(
    week: &[(NaiveDate, Option<DayLoad>)],
    today: NaiveDate,
    lang: Lang,
) -> impl IntoView + use<> {
    view! {
        <figure class="load-chart-figure">
            <div class="load-chart-box" inner_html=chart_svg(week, today, lang)></div>
            <figcaption class="chart-key" aria-hidden="true">
                <span class="key key-outpatients"></span>
                {lang.pick("门诊人数", "Outpatients")}
                " "
                <span class="key key-fever"></span>
                {lang.pick("其中发热患者", "of whom with fever")}
            </figcaption>
        </figure>
    }
}

/// The same figures as a table: what a screen reader reads, and anyone who wants the numbers.
fn table(
    week: &[(NaiveDate, Option<DayLoad>)],
    today: NaiveDate,
    lang: Lang,
) -> impl IntoView + use<> {
    let none = lang.pick("无上报", "no report");
    let rows = week
        .iter()
        .rev()
        .map(|(date, load)| {
            let mut day = date_text(*date, lang);
            if *date == today {
                day.push_str(lang.pick("（今天）", " (today)"));
            }
            let cell = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_else(|| none.to_owned());
            view! {
                <tr data-date=date.to_string()>
                    <th scope="row">{day}</th>
                    <td class="num" data-testid="table-outpatients">{cell(load.and_then(|l| l.outpatients))}</td>
                    <td class="num" data-testid="table-fever">{cell(load.and_then(|l| l.fever))}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="load-table" data-testid="load-table">
            <caption>{lang.pick("近 7 天每日接诊人数", "Patients per day, last 7 days")}</caption>
            <thead>
                <tr>
                    <th scope="col">{lang.pick("日期", "Date")}</th>
                    <th scope="col">{lang.pick("门诊", "Outpatients")}</th>
                    <th scope="col">{lang.pick("其中发热", "With fever")}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        id: u128,
        as_of: &str,
        received: &str,
        out: u32,
        fever: u32,
        superseded: bool,
    ) -> serde_json::Value {
        serde_json::json!({
            "id": format!("00000000-0000-7000-8000-{id:012x}"),
            "report": {
                "facility": "00000000-0000-7000-8000-000000000099",
                "as_of": as_of,
                "status": "open",
                "outpatients_today": out,
                "fever_patients_today": fever
            },
            "recorded_at": as_of,
            "received_at": received,
            "superseded": superseded
        })
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn one_figure_per_china_day_from_the_newest_report_not_superseded() {
        // The endpoint's answer, in full: what is not read is ignored.
        let history: HistoryLoads = serde_json::from_value(serde_json::json!({
            "facility": "00000000-0000-7000-8000-000000000099",
            "reports": [
                // 29 Nov, 10:00 CST: corrected, so not counted.
                record(5, "2026-11-29T02:00:00Z", "2026-11-29T02:00:05Z", 999, 1, true),
                // 29 Nov, 09:00 CST.
                record(4, "2026-11-29T01:00:00Z", "2026-11-29T01:00:05Z", 120, 45, false),
                // 29 Nov, 07:00 CST (23:00 UTC on the 28th).
                record(3, "2026-11-28T23:00:00Z", "2026-11-28T23:00:05Z", 20, 5, false),
                // 28 Nov, 20:00 CST.
                record(2, "2026-11-28T12:00:00Z", "2026-11-28T12:00:05Z", 80, 30, false),
                // 28 Nov, 08:00 CST.
                record(1, "2026-11-28T00:00:00Z", "2026-11-28T00:00:05Z", 10, 2, false),
            ]
        }))
        .expect("valid history");
        let loads = daily_loads(&history);
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        assert_eq!(
            loads,
            vec![
                DayLoad {
                    date: d("2026-11-28"),
                    outpatients: Some(80),
                    fever: Some(30)
                },
                DayLoad {
                    date: d("2026-11-29"),
                    outpatients: Some(120),
                    fever: Some(45)
                },
            ]
        );
        let week = last_days(&loads, d("2026-11-29"));
        assert_eq!(week.len(), CHART_DAYS);
        assert_eq!(week[0].0, d("2026-11-23"));
        assert_eq!(week[0].1, None);
        assert_eq!(week[6].1.and_then(|l| l.outpatients), Some(120));
        assert_eq!(week[5].1.and_then(|l| l.fever), Some(30));
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn the_chart_scales_bars_to_the_busiest_day() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        let loads = [
            DayLoad {
                date: d("2026-11-27"),
                outpatients: Some(50),
                fever: Some(10),
            },
            DayLoad {
                date: d("2026-11-29"),
                outpatients: Some(100),
                fever: None,
            },
        ];
        let svg = chart_svg(
            &last_days(&loads, d("2026-11-29")),
            d("2026-11-29"),
            Lang::Zh,
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<g ").count(), CHART_DAYS);
        assert!(
            svg.contains(r#"y="16.00%" height="64.00%" data-value="100""#),
            "{svg}"
        );
        assert!(svg.contains(r#"height="32.00%" data-value="50""#), "{svg}");
        assert!(svg.contains(r#"class="bar-fever""#));
        assert!(!svg.contains("style"));
        assert_eq!(
            escape(r#"<a href="x">&"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn times_and_dates_read_on_the_facilities_clock() {
        let at: DateTime<Utc> = "2026-11-28T23:05:00Z".parse().expect("time");
        assert_eq!(time_text(at, Lang::Zh), "11月29日 07:05");
        assert_eq!(time_text(at, Lang::En), "29 Nov 07:05");
        let today = "2026-11-29".parse().expect("date");
        assert_eq!(day_label(today, today, Lang::Zh), "今天");
        // 2026-11-28 is a Saturday.
        let saturday = today - Duration::days(1);
        assert_eq!(day_label(saturday, today, Lang::En), "Sat");
        assert_eq!(day_label(saturday, today, Lang::Zh), "周六");
    }
}
