//! `POST /api/v1/push` and the history endpoint over HTTP: idempotency, rejections that block
//! nothing, corrections, the status in the registry feed, time limits, malformed bodies,
//! durability.

use crate::helpers::{
    enrolled, facility, load_report, report_mutation, spawn_app, Backend, TestApp,
};
use caremap_model::{
    Crowding, FacilityId, Mutation, Outcome, ReportId, Role, Stock, StockItem, StockLevel,
};
use chrono::{Duration, Utc};
use serde_json::json;

/// An app with facilities 1 and 2 and a reporter of facility 1.
async fn app_with_reporter(backend: Backend) -> Option<(TestApp, FacilityId, FacilityId, String)> {
    let app = spawn_app(backend).await?;
    let (a, b) = (facility(1), facility(2));
    app.store
        .upsert_batch(&[a.clone(), b.clone()])
        .await
        .expect("facilities");
    let (_, token) = enrolled(&app, Role::Reporter, &[a.0]).await;
    Some((app, a.0, b.0, token))
}

fn outcomes(results: &[caremap_model::MutationResult]) -> Vec<(Outcome, Option<String>)> {
    results
        .iter()
        .map(|r| (r.outcome, r.error.as_ref().map(|e| e.code.clone())))
        .collect()
}

async fn a_report_is_stored_once_and_becomes_the_status(backend: Backend) {
    let Some((app, a, _, token)) = app_with_reporter(backend).await else {
        return;
    };
    let (before, cursor_before) = app.feed_record(a).await;
    assert!(before.status.is_none());
    let mut report = load_report(a, Utc::now() - Duration::minutes(5), 55);
    report.stock.insert(
        StockItem::AntigenKits,
        Stock {
            level: StockLevel::Out,
            count: Some(0),
            daily_need: Some(30),
        },
    );
    let id = ReportId::new_v7();
    let m = report_mutation(id, &report);
    let results = app.push(&token, std::slice::from_ref(&m)).await;
    assert_eq!(outcomes(&results), [(Outcome::Applied, None)]);
    assert_eq!(results[0].id, id.as_uuid());

    // Retried (the phone never saw the answer): duplicate, nothing new.
    let again = app.push(&token, &[m.clone(), m.clone()]).await;
    assert_eq!(
        outcomes(&again),
        [(Outcome::Duplicate, None), (Outcome::Duplicate, None)]
    );
    let history = app.history(a).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].id, id);
    assert_eq!(history[0].report, report);
    assert!(!history[0].superseded);

    // The status is in the feed, as a change: version + 1, a later cursor.
    let (after, cursor_after) = app.feed_record(a).await;
    assert_eq!(after.version, before.version + 1);
    assert!(cursor_after > cursor_before);
    let status = after.status.expect("status in the feed");
    assert_eq!(status.report, id);
    assert_eq!(status.crowding, Some(Crowding::High));
    assert_eq!(status.wait_minutes, Some(55));
    assert_eq!(status.has_antigen_kits(), Some(false));
    // The raw feed carries it as JSON, next to the facility.
    let raw = app
        .get_json(&format!("/api/v1/registry?since={cursor_before}"))
        .await;
    assert_eq!(raw["items"][0]["id"], a.to_string());
    assert_eq!(raw["items"][0]["status"]["crowding"], "high");

    // A duplicate changes nothing in the feed.
    let (unchanged, cursor) = app.feed_record(a).await;
    assert_eq!(unchanged.version, after.version);
    assert_eq!(cursor, cursor_after);

    // The same id with another body: refused, in the request's language.
    let mut other = report.clone();
    other.wait_minutes = Some(5);
    let reused = report_mutation(id, &other);
    let response = app
        .push_raw(Some(&token), "en", &json!({ "mutations": [reused] }))
        .await;
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["results"][0]["outcome"], "rejected");
    assert_eq!(body["results"][0]["error"]["code"], "id_reused");
    assert_eq!(
        body["results"][0]["error"]["message"],
        "This id was already used for a different report; not stored"
    );
    let zh = app.push(&token, &[reused]).await;
    assert_eq!(
        zh[0].error.as_ref().map(|e| e.message.as_str()),
        Some("该编号已用于另一份不同的报告，未保存")
    );
    assert_eq!(app.history(a).await[0].report, report);
}

async fn a_rejected_mutation_never_blocks_the_ones_after_it(backend: Backend) {
    let Some((app, a, _, token)) = app_with_reporter(backend).await else {
        return;
    };
    let now = Utc::now();
    let first = report_mutation(ReportId::new_v7(), &load_report(a, now, 10));
    let unknown_type = Mutation {
        kind: "teleport".into(),
        ..report_mutation(ReportId::new_v7(), &load_report(a, now, 10))
    };
    let mut bad_body = report_mutation(ReportId::new_v7(), &load_report(a, now, 10));
    bad_body.body["wait_minutes"] = json!(-3);
    let future = report_mutation(
        ReportId::new_v7(),
        &load_report(a, now + Duration::hours(2), 10),
    );
    let old = report_mutation(
        ReportId::new_v7(),
        &load_report(a, now - Duration::days(31), 10),
    );
    let last = report_mutation(
        ReportId::new_v7(),
        &load_report(a, now - Duration::minutes(1), 30),
    );
    let results = app
        .push(
            &token,
            &[
                first.clone(),
                unknown_type.clone(),
                bad_body.clone(),
                future.clone(),
                old.clone(),
                last.clone(),
            ],
        )
        .await;
    assert_eq!(
        outcomes(&results),
        [
            (Outcome::Applied, None),
            (Outcome::Rejected, Some("unknown_type".into())),
            (Outcome::Rejected, Some("invalid_body".into())),
            (Outcome::Rejected, Some("in_future".into())),
            (Outcome::Rejected, Some("too_old".into())),
            (Outcome::Applied, None),
        ]
    );
    let ids: Vec<_> = app
        .history(a)
        .await
        .iter()
        .map(|r| r.id.as_uuid())
        .collect();
    assert_eq!(
        ids,
        [first.id, last.id],
        "newest first, nothing refused stored"
    );
    // A rejected one stored nothing: fixed and sent again with the same id, it is applied.
    let fixed = report_mutation(ReportId::from(future.id), &load_report(a, now, 20));
    assert_eq!(
        outcomes(&app.push(&token, &[fixed]).await),
        [(Outcome::Applied, None)]
    );
}

async fn a_correction_supersedes_and_the_status_follows_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (a, b) = (facility(1), facility(2));
    app.store
        .upsert_batch(&[a.clone(), b.clone()])
        .await
        .expect("facilities");
    let (a, b) = (a.0, b.0);
    let (_, admin) = enrolled(&app, Role::Admin, &[]).await;
    let now = Utc::now();
    let wrong = load_report(a, now - Duration::minutes(10), 90);
    let wrong_id = ReportId::new_v7();
    let other_facility = load_report(b, now - Duration::minutes(10), 5);
    let other_id = ReportId::new_v7();
    app.push(
        &admin,
        &[
            report_mutation(wrong_id, &wrong),
            report_mutation(other_id, &other_facility),
        ],
    )
    .await;
    assert_eq!(
        app.feed_record(a).await.0.status.expect("status").crowding,
        Some(Crowding::High)
    );

    // Corrections naming nothing, another facility's report, or themselves are refused.
    let mut stray = load_report(a, now - Duration::minutes(9), 10);
    stray.supersedes = Some(ReportId::new_v7());
    let mut crossed = stray.clone();
    crossed.supersedes = Some(other_id);
    let itself = ReportId::new_v7();
    let mut selfish = stray.clone();
    selfish.supersedes = Some(itself);
    let results = app
        .push(
            &admin,
            &[
                report_mutation(ReportId::new_v7(), &stray),
                report_mutation(ReportId::new_v7(), &crossed),
                report_mutation(itself, &selfish),
            ],
        )
        .await;
    assert_eq!(
        outcomes(&results),
        [
            (Outcome::Rejected, Some("unknown_superseded".into())),
            (Outcome::Rejected, Some("unknown_superseded".into())),
            (Outcome::Rejected, Some("supersedes_itself".into())),
        ]
    );

    // The correction is as of the same time as the report it corrects: the status follows it,
    // because the corrected one no longer counts.
    let mut correction = load_report(a, wrong.as_of, 20);
    correction.supersedes = Some(wrong_id);
    let correction_id = ReportId::new_v7();
    let (before, _) = app.feed_record(a).await;
    let results = app
        .push(&admin, &[report_mutation(correction_id, &correction)])
        .await;
    assert_eq!(outcomes(&results), [(Outcome::Applied, None)]);
    let (after, _) = app.feed_record(a).await;
    let status = after.status.expect("status");
    assert_eq!(status.report, correction_id);
    assert_eq!(status.crowding, Some(Crowding::Low));
    assert_eq!(after.version, before.version + 1);
    // The public history lists the correction, not the report it replaced.
    let history = app.history(a).await;
    let listed: Vec<_> = history.iter().map(|r| (r.id, r.superseded)).collect();
    assert_eq!(listed, [(correction_id, false)]);
    // Facility b is untouched.
    assert_eq!(
        app.feed_record(b).await.0.status.expect("status").report,
        other_id
    );

    // A report and its correction in one push.
    let first = load_report(b, now - Duration::minutes(1), 70);
    let first_id = ReportId::new_v7();
    let mut fix = load_report(b, now - Duration::minutes(1), 0);
    fix.status = caremap_model::ReportedStatus::Closed;
    fix.supersedes = Some(first_id);
    let fix_id = ReportId::new_v7();
    let results = app
        .push(
            &admin,
            &[
                report_mutation(first_id, &first),
                report_mutation(fix_id, &fix),
            ],
        )
        .await;
    assert_eq!(
        outcomes(&results),
        [(Outcome::Applied, None), (Outcome::Applied, None)]
    );
    let status = app.feed_record(b).await.0.status.expect("status");
    assert_eq!(status.report, fix_id);
    assert_eq!(status.crowding, Some(Crowding::Closed));
}

async fn the_newest_report_wins_whatever_the_order_of_arrival(backend: Backend) {
    let Some((app, a, _, token)) = app_with_reporter(backend).await else {
        return;
    };
    let now = Utc::now();
    let newer = ReportId::new_v7();
    app.push(
        &token,
        &[report_mutation(
            newer,
            &load_report(a, now - Duration::minutes(5), 30),
        )],
    )
    .await;
    let (record, cursor) = app.feed_record(a).await;
    // An older report arriving late (the phone was offline) is stored but does not win.
    let late = ReportId::new_v7();
    let results = app
        .push(
            &token,
            &[report_mutation(
                late,
                &load_report(a, now - Duration::hours(20), 5),
            )],
        )
        .await;
    assert_eq!(outcomes(&results), [(Outcome::Applied, None)]);
    let (after, cursor_after) = app.feed_record(a).await;
    assert_eq!(after.status.expect("status").report, newer);
    assert_eq!(after.version, record.version, "no change, no new version");
    assert_eq!(cursor_after, cursor);
    assert_eq!(app.history(a).await.len(), 2);
}

async fn the_status_survives_a_reimport_and_goes_with_a_deletion(backend: Backend) {
    let Some((app, a, _, token)) = app_with_reporter(backend).await else {
        return;
    };
    let stored = report_mutation(ReportId::new_v7(), &load_report(a, Utc::now(), 30));
    app.push(&token, std::slice::from_ref(&stored)).await;
    // Importing the same facility again changes nothing, the status included.
    let (before, _) = app.feed_record(a).await;
    app.store.upsert_batch(&[facility(1)]).await.expect("again");
    assert_eq!(app.feed_record(a).await.0, before);
    // An edit keeps the status too.
    let mut edited = facility(1);
    edited.1.phone = None;
    app.store.upsert_batch(&[edited]).await.expect("edit");
    let (after_edit, _) = app.feed_record(a).await;
    assert_eq!(after_edit.version, before.version + 1);
    assert_eq!(after_edit.status, before.status);
    // A tombstone has none, and the facility takes no more reports.
    app.store.delete(a).await.expect("delete");
    let raw = app.get_json("/api/v1/registry?limit=5000").await;
    let tombstone = raw["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["id"] == a.to_string())
        .expect("tombstone")
        .clone();
    assert_eq!(tombstone["deleted"], true);
    assert!(tombstone.get("status").is_none(), "{tombstone}");
    let results = app
        .push(
            &token,
            &[report_mutation(
                ReportId::new_v7(),
                &load_report(a, Utc::now(), 30),
            )],
        )
        .await;
    assert_eq!(
        outcomes(&results),
        [(Outcome::Rejected, Some("unknown_facility".into()))]
    );
    // … but a retry of what it stored before is still a duplicate.
    let retry = app.push(&token, &[stored]).await;
    assert_eq!(outcomes(&retry), [(Outcome::Duplicate, None)]);
    assert_eq!(
        app.get(&format!("/api/v1/facilities/{a}/reports"))
            .await
            .status(),
        404
    );
}

async fn the_history_endpoint(backend: Backend) {
    let Some((app, a, b, token)) = app_with_reporter(backend).await else {
        return;
    };
    let now = Utc::now();
    let recent = ReportId::new_v7();
    let older = ReportId::new_v7();
    app.push(
        &token,
        &[
            report_mutation(older, &load_report(a, now - Duration::days(10), 20)),
            report_mutation(recent, &load_report(a, now - Duration::days(2), 40)),
        ],
    )
    .await;
    let all = app.history(a).await;
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        [recent, older]
    );
    let week = app
        .get_json(&format!("/api/v1/facilities/{a}/reports?days=7"))
        .await;
    assert_eq!(week["reports"].as_array().map(Vec::len), Some(1));
    assert_eq!(week["reports"][0]["id"], recent.to_string());
    // No reporter identity in it.
    let text = week.to_string();
    assert!(
        !text.contains("account") && !text.contains("reporter"),
        "{text}"
    );
    let clamped = app
        .get_json(&format!("/api/v1/facilities/{a}/reports?days=999"))
        .await;
    assert_eq!(clamped["reports"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.history(b).await, []);

    for (path, status, code) in [
        (
            format!("/api/v1/facilities/{a}/reports?days=week"),
            400,
            "invalid_query",
        ),
        (
            "/api/v1/facilities/not-a-uuid/reports".to_owned(),
            400,
            "invalid_id",
        ),
        (
            "/api/v1/facilities/%00%ff/reports".to_owned(),
            400,
            "invalid_id",
        ),
        (
            format!("/api/v1/facilities/{}/reports", facility(99).0),
            404,
            "not_found",
        ),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), status, "{path}");
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], code, "{path}");
    }
}

async fn malformed_pushes_are_400_never_500(backend: Backend) {
    let Some((app, a, _, token)) = app_with_reporter(backend).await else {
        return;
    };
    let good = serde_json::to_value(report_mutation(
        ReportId::new_v7(),
        &load_report(a, Utc::now(), 10),
    ))
    .expect("JSON");
    let bodies = [
        json!(null),
        json!([]),
        json!({}),
        json!({"mutations": null}),
        json!({"mutations": [1]}),
        json!({"mutations": [{"id": "nope", "type": "load_report", "body": {}, "recorded_at": "2026-01-01T00:00:00Z"}]}),
        json!({"mutations": [{"id": good["id"], "type": "load_report", "body": {}, "recorded_at": "yesterday"}]}),
        json!({"mutations": [{"type": "load_report", "body": {}, "recorded_at": "2026-01-01T00:00:00Z"}]}),
    ];
    for body in &bodies {
        let response = app.push_raw(Some(&token), "en", body).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["code"], "invalid_json", "{body}");
    }
    let not_json = app
        .client
        .post(app.url("/api/v1/push"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{\"mutations\": [")
        .send()
        .await
        .expect("push");
    assert_eq!(not_json.status(), 400);
    let too_many: Vec<_> = (0..=caremap_model::push::MAX_BATCH)
        .map(|_| {
            let mut m = good.clone();
            m["id"] = json!(uuid::Uuid::now_v7());
            m
        })
        .collect();
    let response = app
        .push_raw(Some(&token), "en", &json!({ "mutations": too_many }))
        .await;
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "batch_too_large");
    assert_eq!(app.history(a).await, [], "nothing of it stored");
    // Bodies that are JSON but not reports are rejected one by one, with a 200.
    let odd_bodies = [
        json!(null),
        json!("report"),
        json!({"facility": a, "as_of": "2026-01-01T00:00:00Z"}),
        json!({"facility": "x", "as_of": Utc::now(), "status": "open"}),
        json!({"facility": a, "as_of": Utc::now(), "status": "open", "stock": {"gold": {"level": "ample"}}}),
        json!({"facility": a, "as_of": Utc::now(), "status": "open", "outpatients_today": 5, "fever_patients_today": 9}),
        json!({"facility": a, "as_of": Utc::now(), "status": "open", "note": "x".repeat(5000)}),
    ];
    let mutations: Vec<_> = odd_bodies
        .iter()
        .map(|body| {
            let mut m = good.clone();
            m["id"] = json!(uuid::Uuid::now_v7());
            m["body"] = body.clone();
            m
        })
        .collect();
    let response = app
        .push_raw(Some(&token), "en", &json!({ "mutations": mutations }))
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON");
    for result in body["results"].as_array().expect("results") {
        assert_eq!(result["outcome"], "rejected", "{result}");
        assert!(result["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // An empty push is fine.
    assert_eq!(app.push(&token, &[]).await, []);
}

async fn acknowledged_reports_survive_a_restart(backend: Backend) {
    let Some((app, a, _, token)) = app_with_reporter(backend).await else {
        return;
    };
    let ids: Vec<ReportId> = (0..20).map(|_| ReportId::new_v7()).collect();
    let now = Utc::now();
    let mutations: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| report_mutation(*id, &load_report(a, now - Duration::minutes(i as i64), 10)))
        .collect();
    let results = app.push(&token, &mutations).await;
    assert!(results.iter().all(|r| r.outcome == Outcome::Applied));
    let url = app.db.url.clone();
    let status = app.feed_record(a).await.0.status;
    // Open the database again, as a restarted server would.
    let reopened = caremap_server::store::connect(&url).await.expect("reopen");
    let stored = reopened
        .report_history(a, now - Duration::days(30))
        .await
        .expect("history");
    let mut stored_ids: Vec<_> = stored.iter().map(|r| r.id).collect();
    stored_ids.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(stored_ids, expected);
    assert_eq!(
        reopened
            .get(a)
            .await
            .expect("get")
            .expect("facility")
            .status,
        status
    );
    assert_eq!(status.expect("status").report, ids[0]);
}

crate::on_every_backend!(
    a_report_is_stored_once_and_becomes_the_status,
    a_rejected_mutation_never_blocks_the_ones_after_it,
    a_correction_supersedes_and_the_status_follows_it,
    the_newest_report_wins_whatever_the_order_of_arrival,
    the_status_survives_a_reimport_and_goes_with_a_deletion,
    the_history_endpoint,
    malformed_pushes_are_400_never_500,
    acknowledged_reports_survive_a_restart,
);
