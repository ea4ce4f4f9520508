//! Issue 17, server side: time fields a phone sends are bounded so every stored value reads
//! back; the public history keeps private text and replaced reports out; a push has its own
//! deadline.

use crate::helpers::{
    enrolled, facility, fixture_dist, load_report, report_mutation, spawn_app, spawn_app_with,
    Backend,
};
use caremap_model::{Outcome, ReportId, Role};
use caremap_server::ServerConfig;
use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::Connection;

/// `recorded_at` or `as_of` in year 10000, year 0 or -1, or at chrono's limits (the largest
/// microsecond counts a time can have): refused with a clear error, nothing stored, and the
/// registry and the history still read.
async fn extreme_times_are_refused_and_reads_still_work(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let a = facility(1);
    app.store
        .upsert_batch(std::slice::from_ref(&a))
        .await
        .expect("facility");
    let a = a.0;
    let (_, token) = enrolled(&app, Role::Reporter, &[a]).await;
    let good = serde_json::to_value(report_mutation(
        ReportId::new_v7(),
        &load_report(a, Utc::now() - Duration::minutes(5), 10),
    ))
    .expect("JSON");
    let extremes = [
        ("+10000-01-01T00:00:00Z", "in_future", "is in the future"),
        ("0000-01-01T00:00:00Z", "too_early", "before 2000"),
        ("-0001-12-31T00:00:00Z", "too_early", "before 2000"),
        ("1970-01-01T00:00:00Z", "too_early", "before 2000"),
        (
            "+262142-12-31T23:59:59.999999Z",
            "in_future",
            "is in the future",
        ),
        ("-262143-01-01T00:00:00Z", "too_early", "before 2000"),
    ];
    let mut mutations = Vec::new();
    for (time, _, _) in extremes {
        let mut m = good.clone();
        m["id"] = json!(uuid::Uuid::now_v7());
        m["recorded_at"] = json!(time);
        mutations.push(m);
    }
    for (time, _, _) in extremes {
        let mut m = good.clone();
        m["id"] = json!(uuid::Uuid::now_v7());
        m["body"]["as_of"] = json!(time);
        mutations.push(m);
    }
    let response = app
        .push_raw(Some(&token), "en", &json!({ "mutations": mutations }))
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON");
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), extremes.len() * 2);
    for (result, (time, code, words)) in results.iter().zip(extremes) {
        assert_eq!(
            result["outcome"], "rejected",
            "recorded_at {time}: {result}"
        );
        assert_eq!(result["error"]["code"], code, "recorded_at {time}");
        let message = result["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("time saved") && message.contains(words),
            "{time}: {message}"
        );
    }
    for (result, (time, _, _)) in results[extremes.len()..].iter().zip(extremes) {
        assert_eq!(result["outcome"], "rejected", "as_of {time}: {result}");
        let code = result["error"]["code"].as_str().unwrap_or_default();
        assert!(
            matches!(code, "in_future" | "too_old"),
            "as_of {time}: {code}"
        );
    }
    // In Chinese too.
    let zh = app
        .push_raw(
            Some(&token),
            "zh-CN",
            &json!({ "mutations": [mutations[1]] }),
        )
        .await;
    let zh: serde_json::Value = zh.json().await.expect("JSON");
    assert_eq!(
        zh["results"][0]["error"]["message"],
        "保存时间早于 2000 年：请检查手机的日期和时间"
    );
    // A time no parser reads (five digits without the sign, beyond chrono): the body is 400.
    for time in ["10000-01-01T00:00:00Z", "+999999999-01-01T00:00:00Z"] {
        let mut m = good.clone();
        m["recorded_at"] = json!(time);
        let response = app
            .push_raw(Some(&token), "en", &json!({ "mutations": [m] }))
            .await;
        assert_eq!(response.status(), 400, "{time}");
        let error: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["code"], "invalid_json", "{time}");
    }

    // Nothing was stored, and everything still reads.
    assert_eq!(app.history(a).await, []);
    let registry = app.get("/api/v1/registry").await;
    assert_eq!(registry.status(), 200);
    // A time within the bounds (a day of clock skew) is stored and reads back.
    let mut skewed = good.clone();
    skewed["recorded_at"] = json!(Utc::now() + Duration::hours(23));
    let response = app
        .push_raw(Some(&token), "en", &json!({ "mutations": [skewed] }))
        .await;
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["results"][0]["outcome"], "applied", "{body}");
    let history = app.history(a).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].id.to_string(), good["id"]);
    assert_eq!(app.get("/api/v1/registry").await.status(), 200);
}

/// The public history shows residents neither a report's free-text note nor a report a
/// correction replaced; the correction (the latest) is listed, with its figures.
async fn the_public_history_has_no_note_and_no_replaced_report(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let a = facility(1);
    app.store
        .upsert_batch(std::slice::from_ref(&a))
        .await
        .expect("facility");
    let a = a.0;
    let (_, token) = enrolled(&app, Role::Reporter, &[a]).await;
    let now = Utc::now();
    let secret = "张三发热，已转诊县医院";
    let mut first = load_report(a, now - Duration::minutes(30), 60);
    first.note =
        Some(caremap_model::Note::parse_for(secret, caremap_model::Field::Note).expect("note"));
    let first_id = ReportId::new_v7();
    let mut correction = load_report(a, now - Duration::minutes(30), 15);
    correction.note = first.note.clone();
    correction.supersedes = Some(first_id);
    let correction_id = ReportId::new_v7();
    let other = load_report(a, now - Duration::hours(3), 5);
    let other_id = ReportId::new_v7();
    let results = app
        .push(
            &token,
            &[
                report_mutation(other_id, &other),
                report_mutation(first_id, &first),
            ],
        )
        .await;
    assert!(results.iter().all(|r| r.error.is_none()), "{results:?}");
    // Before the correction, the report is listed, without its note.
    let raw = app
        .get_json(&format!("/api/v1/facilities/{a}/reports"))
        .await;
    assert_eq!(raw["reports"][0]["id"], first_id.to_string());
    assert_eq!(raw["reports"][0]["report"]["wait_minutes"], 60);
    assert!(!raw.to_string().contains(secret), "{raw}");
    assert!(raw["reports"][0]["report"].get("note").is_none(), "{raw}");

    let results = app
        .push(&token, &[report_mutation(correction_id, &correction)])
        .await;
    assert!(results.iter().all(|r| r.error.is_none()), "{results:?}");
    let raw = app
        .get_json(&format!("/api/v1/facilities/{a}/reports"))
        .await;
    let text = raw.to_string();
    assert!(!text.contains(secret), "{text}");
    assert!(!text.contains("note"), "{text}");
    let history = app.history(a).await;
    assert_eq!(
        history.iter().map(|r| r.id).collect::<Vec<_>>(),
        [correction_id, other_id]
    );
    assert_eq!(history[0].report.wait_minutes, Some(15));
    assert_eq!(history[0].report.note, None);
    assert!(!history[0].superseded);
    // The status follows the correction, as before.
    assert_eq!(
        app.feed_record(a).await.0.status.expect("status").report,
        correction_id
    );
}

/// Another connection holding the database's write lock, so the push writer waits for it.
enum WriteLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriteLock {
    async fn take(backend: Backend, url: &str) -> WriteLock {
        match backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut conn)
                    .await
                    .expect("write lock");
                WriteLock::Sqlite(conn)
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query("BEGIN")
                    .execute(&mut conn)
                    .await
                    .expect("begin");
                // The registry writers' advisory lock ("caremap" in ASCII, store/postgres.rs).
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(0x63_61_72_65_6d_61_70_i64)
                    .execute(&mut conn)
                    .await
                    .expect("write lock");
                WriteLock::Postgres(conn)
            }
        }
    }

    async fn release(self) {
        match self {
            WriteLock::Sqlite(mut conn) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut conn)
                    .await
                    .expect("release");
            }
            WriteLock::Postgres(mut conn) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut conn)
                    .await
                    .expect("release");
            }
        }
    }
}

/// A push the writer cannot commit within the push deadline is answered 503 `unavailable` with
/// `Retry-After`, in the request's language; resent once the writer is free, it is stored once.
async fn a_blocked_writer_answers_503_with_retry_after(backend: Backend) {
    let Some(app) = spawn_app_with(
        backend,
        ServerConfig {
            dist: fixture_dist(),
            push_deadline: std::time::Duration::from_secs(1),
            ..ServerConfig::default()
        },
    )
    .await
    else {
        return;
    };
    let a = facility(1);
    app.store
        .upsert_batch(std::slice::from_ref(&a))
        .await
        .expect("facility");
    let a = a.0;
    let (_, token) = enrolled(&app, Role::Reporter, &[a]).await;
    let id = ReportId::new_v7();
    let m = report_mutation(id, &load_report(a, Utc::now() - Duration::minutes(5), 25));

    // The API document says so.
    let doc = app.get_json("/api/v1/openapi.json").await;
    let busy = &doc["paths"]["/api/v1/push"]["post"]["responses"]["503"];
    assert!(busy["headers"]["Retry-After"].is_object(), "{busy}");

    let lock = WriteLock::take(backend, &app.db.url).await;
    let response = app
        .push_raw(Some(&token), "en", &json!({ "mutations": [m] }))
        .await;
    assert_eq!(response.status(), 503);
    let retry_after = crate::helpers::header(&response, "retry-after");
    assert!(
        retry_after.parse::<u64>().is_ok_and(|s| s > 0),
        "Retry-After: {retry_after:?}"
    );
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(
        body["error"]["message"],
        format!("The server is busy; the reports stay on the phone: send them again in {retry_after} seconds")
    );
    let zh = app
        .push_raw(Some(&token), "zh-CN", &json!({ "mutations": [m] }))
        .await;
    assert_eq!(zh.status(), 503);
    let zh: serde_json::Value = zh.json().await.expect("JSON");
    assert!(
        zh["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("服务器正忙")),
        "{zh}"
    );
    lock.release().await;

    // Resent once the writer is free: stored once, whether the queued pushes got in first
    // (`duplicate`) or not (`applied`).
    let results = app.push(&token, &[m.clone(), m.clone()]).await;
    assert!(
        matches!(results[0].outcome, Outcome::Applied | Outcome::Duplicate),
        "{results:?}"
    );
    assert_eq!(results[1].outcome, Outcome::Duplicate);
    let history = app.history(a).await;
    assert_eq!(history.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
    assert_eq!(app.push(&token, &[m]).await[0].outcome, Outcome::Duplicate);
    assert_eq!(app.history(a).await.len(), 1);
    assert_eq!(
        app.feed_record(a).await.0.status.expect("status").report,
        id
    );
}

crate::on_every_backend!(
    a_blocked_writer_answers_503_with_retry_after,
    extreme_times_are_refused_and_reads_still_work,
    the_public_history_has_no_note_and_no_replaced_report,
);
