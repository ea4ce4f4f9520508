//! The seven-day chart: an SVG drawn here (every position a percentage, no inline style, which
//! the CSP forbids; every text sized by CSS in rem, so it grows with large-text mode), its key,
//! and the same figures as a table.

use super::days::{busiest, DayLoad};
use crate::clock::date_text;
use crate::i18n::{locale_of, td_string, Lang};
use chrono::{Datelike, NaiveDate, Weekday};
use leptos::prelude::*;

/// The short label of a day under its bar: "今天" / "Today", else its weekday ("周三" / "Wed"),
/// narrow enough for seven columns on a phone in large text (the table has the dates).
pub fn day_label(date: NaiveDate, today: NaiveDate, lang: Lang) -> &'static str {
    let locale = locale_of(lang);
    if date == today {
        return td_string!(locale, chart_today);
    }
    match date.weekday() {
        Weekday::Mon => td_string!(locale, weekday_mon),
        Weekday::Tue => td_string!(locale, weekday_tue),
        Weekday::Wed => td_string!(locale, weekday_wed),
        Weekday::Thu => td_string!(locale, weekday_thu),
        Weekday::Fri => td_string!(locale, weekday_fri),
        Weekday::Sat => td_string!(locale, weekday_sat),
        Weekday::Sun => td_string!(locale, weekday_sun),
    }
}

/// The plot area, in percent of the chart's height: bars stand on `BASE` and the tallest
/// reaches `TOP` (room above for its figure, below for the day).
const TOP: f64 = 16.0;
const BASE: f64 = 80.0;

/// The bar chart: per day a bar for the outpatients with its figure above, and inside it a
/// narrower, darker bar for the fever patients among them (never more than the outpatients).
/// A day without a report has no bar and a dash. Written as SVG markup (one string, a fraction
/// of the wasm that as many view elements would take); every text in it is ours and escaped.
pub fn chart_svg(week: &[(NaiveDate, Option<DayLoad>)], today: NaiveDate, lang: Lang) -> String {
    use std::fmt::Write;
    let max = busiest(week);
    let column = 100.0 / week.len().max(1) as f64;
    let height = |n: u32| (BASE - TOP) * f64::from(n) / f64::from(max);
    let label = td_string!(locale_of(lang), chart_label);
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
pub fn chart(
    week: &[(NaiveDate, Option<DayLoad>)],
    today: NaiveDate,
    lang: Lang,
) -> impl IntoView + use<> {
    let locale = locale_of(lang);
    view! {
        <figure class="load-chart-figure">
            <div class="load-chart-box" inner_html=chart_svg(week, today, lang)></div>
            <figcaption class="chart-key" aria-hidden="true">
                <span class="key key-outpatients"></span>
                {td_string!(locale, chart_key_outpatients)}
                " "
                <span class="key key-fever"></span>
                {td_string!(locale, chart_key_fever)}
            </figcaption>
        </figure>
    }
}

/// The same figures as a table: what a screen reader reads, and anyone who wants the numbers.
pub fn table(
    week: &[(NaiveDate, Option<DayLoad>)],
    today: NaiveDate,
    lang: Lang,
) -> impl IntoView + use<> {
    let locale = locale_of(lang);
    let none = td_string!(locale, table_no_report);
    let rows = week
        .iter()
        .rev()
        .map(|(date, load)| {
            let mut day = date_text(*date, lang);
            if *date == today {
                day.push_str(td_string!(locale, table_today));
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
            <caption>{td_string!(locale, table_caption)}</caption>
            <thead>
                <tr>
                    <th scope="col">{td_string!(locale, table_date)}</th>
                    <th scope="col">{td_string!(locale, table_outpatients)}</th>
                    <th scope="col">{td_string!(locale, table_fever)}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::super::days::{last_days, CHART_DAYS};
    use super::*;
    use chrono::Duration;

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
    fn days_under_the_bars_are_today_or_a_weekday() {
        let today = "2026-11-29".parse().expect("date");
        assert_eq!(day_label(today, today, Lang::Zh), "今天");
        // 2026-11-28 is a Saturday.
        let saturday = today - Duration::days(1);
        assert_eq!(day_label(saturday, today, Lang::En), "Sat");
        assert_eq!(day_label(saturday, today, Lang::Zh), "周六");
    }
}
