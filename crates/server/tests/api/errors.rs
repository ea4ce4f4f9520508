//! Error responses: one JSON shape, the caller's language, never a 500 for a bad request.

use crate::helpers::{spawn_app, Backend};
use serde_json::Value;

async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = response.json().await.expect("JSON error body");
    let error = body["error"].as_object().expect("error object");
    assert_eq!(error.len(), 2, "{body}");
    (
        status,
        error["code"].as_str().expect("code").to_owned(),
        error["message"].as_str().expect("message").to_owned(),
    )
}

#[tokio::test]
async fn invalid_cursor_is_400_in_chinese_by_default_and_english_on_request() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let (status, code, message) = error_of(app.get("/api/v1/registry?since=abc").await).await;
    assert_eq!((status, code.as_str()), (400, "invalid_cursor"));
    assert!(message.contains("游标"), "{message}");

    let response = app
        .client
        .get(app.url("/api/v1/registry?since=-5"))
        .header("Accept-Language", "en-GB,en;q=0.9")
        .send()
        .await
        .expect("request");
    let (status, code, message) = error_of(response).await;
    assert_eq!((status, code.as_str()), (400, "invalid_cursor"));
    assert!(message.contains("cursor"), "{message}");

    // A cursor from another database (ahead of every change here) has the same code, but 409:
    // it is well formed, and belongs to another history.
    let (status, code, _) = error_of(app.get("/api/v1/registry?since=12345").await).await;
    assert_eq!((status, code.as_str()), (409, "invalid_cursor"));
}

#[tokio::test]
async fn invalid_limit_is_400() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    for query in ["limit=ten", "limit=-1", "limit=1.5"] {
        let (status, code, _) = error_of(app.get(&format!("/api/v1/registry?{query}")).await).await;
        assert_eq!((status, code.as_str()), (400, "invalid_limit"), "{query}");
    }
    // Out-of-range numbers are clamped, not refused.
    for query in ["limit=0", "limit=99999999999999999999"] {
        let response = app.get(&format!("/api/v1/registry?{query}")).await;
        assert_eq!(response.status(), 200, "{query}");
    }
}

#[tokio::test]
async fn malformed_requests_never_get_a_500() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let paths = [
        "/api/v1/registry?since=%ZZ",
        "/api/v1/registry?since=%FF%FE",
        "/api/v1/registry?since=1&since=2",
        "/api/v1/registry?since[]=1",
        "/api/v1/registry?limit=&since=",
        "/api/v1/registry?since=99999999999999999999999",
        "/api/v1/registry?since=9223372036854775808",
        "/api/v1/registry?%",
        "/api/v1/registry?=&&&=",
        "/api/v1/registry?since=%00",
        "/api/v1/registry/extra",
        "/api/v1/../v1/registry",
        "/api/v1/config?unexpected=1",
    ];
    for path in paths {
        let response = app.get(path).await;
        let status = response.status().as_u16();
        assert!(status < 500, "{path} → {status}");
        if status >= 400 {
            error_of(response).await;
        }
    }
    let response = app
        .client
        .post(app.url("/api/v1/registry"))
        .body("{not json")
        .send()
        .await
        .expect("request");
    let (status, code, _) = error_of(response).await;
    assert_eq!((status, code.as_str()), (405, "method_not_allowed"));
}

#[tokio::test]
async fn unknown_api_paths_are_json_404() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    for path in [
        "/api/v1/nothing",
        "/api/v2/registry",
        "/api",
        "/api/",
        "/api/v1/",
        "/api/v1",
    ] {
        let (status, code, message) = error_of(app.get(path).await).await;
        assert_eq!((status, code.as_str()), (404, "not_found"), "{path}");
        assert!(!message.is_empty());
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_in_our_shape() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let response = app
        .client
        .post(app.url("/api/v1/registry"))
        .header("Content-Type", "application/json")
        .header("Accept-Language", "en")
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .expect("request");
    let (status, code, message) = error_of(response).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));
    assert!(message.contains("too large"), "{message}");
}
