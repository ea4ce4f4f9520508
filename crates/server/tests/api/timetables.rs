//! `GET /api/v1/timetables`: each distinct opening-hours text of the registry, compiled into the
//! open minutes of the next four weeks, answering as the grammar does.

use crate::helpers::{facility, spawn_app, Backend};
use caremap_model::{HoursState, OpeningHours, TimetableSet};
use chrono::{Datelike, Duration, Weekday};

#[tokio::test]
async fn every_distinct_text_comes_compiled_for_four_weeks() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app(backend).await else {
            continue;
        };
        // Empty registry: nothing to compile.
        let empty: TimetableSet =
            serde_json::from_value(app.get_json("/api/v1/timetables").await).expect("set");
        assert!(empty.timetables.is_empty());
    }
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let lunch = "Mo-Fr 08:00-12:00,13:30-17:00; Sa 08:00-12:00";
    let batch: Vec<_> = (0..5)
        .map(|n| {
            let (id, mut f) = facility(n);
            // Two facilities share the helper's "Mo-Sa 08:00-11:30", three this one.
            if n >= 2 {
                f.opening_hours = Some(OpeningHours::parse(lunch).expect("hours"));
            }
            (id, f)
        })
        .collect();
    app.store.upsert_batch(&batch).await.expect("upsert");

    let set: TimetableSet =
        serde_json::from_value(app.get_json("/api/v1/timetables").await).expect("set");
    assert_eq!(
        set.timetables
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec![lunch, "Mo-Sa 08:00-11:30"]
    );
    let hours = OpeningHours::parse(lunch).expect("hours");
    let table = &set.timetables[lunch];
    assert!(table.is_well_formed());
    assert_eq!(table.minutes, 28 * 24 * 60);
    assert_eq!(table.from.time(), chrono::NaiveTime::MIN);
    // Four weeks of five days with a lunch break and a Saturday morning.
    assert_eq!(table.open.len(), 4 * 11);
    // Every half hour of the four weeks, the timetable says what the grammar says.
    let mut at = table.from;
    while at < table.until() {
        let expected = hours.is_open_at(at);
        let got = match table.state_at(at) {
            HoursState::Open { .. } => Some(true),
            HoursState::Closed { .. } => Some(false),
            HoursState::Unknown => None,
        };
        assert_eq!(got, expected, "{at}");
        at += Duration::minutes(30);
    }
    // After the four weeks the phone does not guess.
    assert_eq!(table.state_at(table.until()), HoursState::Unknown);
    // A Sunday at 10:00 within the window is closed until Monday 08:00.
    let sunday = (0..7)
        .map(|d| table.from + Duration::days(d) + Duration::hours(10))
        .find(|t| t.weekday() == Weekday::Sun)
        .expect("a Sunday in the first week");
    assert_eq!(
        table.state_at(sunday),
        HoursState::Closed {
            until: Some(sunday + Duration::hours(22))
        }
    );
    // The phone's own day decides where the four weeks start; nonsense is a 400, never a 500.
    let asked: TimetableSet = serde_json::from_value(
        app.get_json(&format!(
            "/api/v1/timetables?from={}",
            (table.from - Duration::days(8)).date()
        ))
        .await,
    )
    .expect("set");
    assert_eq!(asked.timetables[lunch].from, table.from - Duration::days(8));
    // A phone's clock gone wild is taken as a year from the server's day, not refused.
    let far: TimetableSet =
        serde_json::from_value(app.get_json("/api/v1/timetables?from=1999-01-01").await)
            .expect("set");
    assert_eq!(far.timetables[lunch].from, table.from - Duration::days(366));
    for bad in ["yesterday", "2026-13-01", "12-03"] {
        let response = app.get(&format!("/api/v1/timetables?from={bad}")).await;
        assert_eq!(response.status(), 400, "{bad}");
    }
}
