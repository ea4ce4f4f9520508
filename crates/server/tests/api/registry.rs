//! `GET /api/v1/registry` over HTTP: paging, changes after a cursor, tombstones.

use crate::helpers::{header, spawn_app, Backend, TestApp};
use caremap_model::{ColumnarPage, Field, Name, RegistryPage};
use serde_json::Value;
use std::collections::HashSet;
use std::io::Read;

async fn paging_collects_every_facility_exactly_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    caremap_server::demo::seed(app.store.as_ref(), false)
        .await
        .expect("seed");
    let expected = caremap_server::demo::registry().expect("demo").len();
    let mut since = String::new();
    let mut ids = HashSet::new();
    let mut pages = 0;
    loop {
        let page = app
            .get_json(&format!("/api/v1/registry?since={since}&limit=37"))
            .await;
        // The wire format is the model's: the page parses as a typed, validated RegistryPage.
        let typed: RegistryPage = serde_json::from_value(page.clone()).expect("valid page");
        assert!(typed.items.iter().all(|r| r.facility.is_some()));
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 37);
        for item in items {
            let id = item["id"].as_str().expect("id").to_owned();
            assert!(ids.insert(id), "a facility came twice");
            assert!(item["facility"]["name"]["zh"].is_string());
        }
        pages += 1;
        since = page["cursor"]
            .as_str()
            .expect("cursor is a string")
            .to_owned();
        if !page["has_more"].as_bool().expect("has_more") {
            break;
        }
    }
    assert_eq!(ids.len(), expected);
    assert_eq!(pages, expected.div_ceil(37));
}

async fn a_pull_after_an_edit_and_a_delete_returns_exactly_those(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    caremap_server::demo::seed(app.store.as_ref(), false)
        .await
        .expect("seed");
    let first = app.get_json("/api/v1/registry?limit=5000").await;
    let cursor = first["cursor"].as_str().expect("cursor").to_owned();
    assert_eq!(first["has_more"], false);

    let demo = caremap_server::demo::registry().expect("demo");
    let (edit_id, mut edited) = demo[10].clone();
    edited.name.zh = Name::parse_for("已改名的卫生室（演示）", Field::Name).expect("name");
    app.store
        .upsert_batch(&[(edit_id, edited)])
        .await
        .expect("edit");
    let delete_id = demo[20].0;
    app.store.delete(delete_id).await.expect("delete");

    let page = app
        .get_json(&format!("/api/v1/registry?since={cursor}"))
        .await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{page}");
    assert_eq!(items[0]["id"], edit_id.to_string());
    assert_eq!(items[0]["version"], 2);
    assert_eq!(items[0]["facility"]["name"]["zh"], "已改名的卫生室（演示）");
    let tombstone = items[1].as_object().expect("object");
    let mut keys: Vec<&str> = tombstone.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["deleted", "id", "updated_at", "version"]);
    assert_eq!(tombstone["id"], delete_id.to_string());
    assert_eq!(tombstone["deleted"], true);
    assert_eq!(tombstone["version"], 2);
    assert_eq!(page["has_more"], false);

    // From the new cursor: nothing more.
    let next = page["cursor"].as_str().expect("cursor");
    let empty = app
        .get_json(&format!("/api/v1/registry?since={next}"))
        .await;
    assert_eq!(empty["items"], Value::Array(vec![]));
    assert_eq!(empty["cursor"], next);
}

/// One registry request with `Accept-Encoding`: status, `Content-Encoding` and the body bytes.
async fn get_encoded(app: &TestApp, path: &str, encoding: &str) -> (u16, String, Vec<u8>) {
    let response = app
        .client
        .get(app.url(path))
        .header("accept-encoding", encoding)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let coding = header(&response, "content-encoding");
    let body = response.bytes().await.expect("body").to_vec();
    (status, coding, body)
}

async fn the_columnar_layout_carries_the_same_pages(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    caremap_server::demo::seed(app.store.as_ref(), false)
        .await
        .expect("seed");
    let demo = caremap_server::demo::registry().expect("demo");
    let deleted = demo[3].0;
    app.store.delete(deleted).await.expect("delete");

    let mut since = String::new();
    let mut seen = 0;
    loop {
        let records: RegistryPage = serde_json::from_value(
            app.get_json(&format!("/api/v1/registry?since={since}&limit=37"))
                .await,
        )
        .expect("record layout");
        let path = format!("/api/v1/registry?since={since}&limit=37&format=columns");

        // A browser gets it brotli-compressed, the same bytes every time (made once, kept).
        let (status, coding, compressed) = get_encoded(&app, &path, "gzip, deflate, br").await;
        assert_eq!((status, coding.as_str()), (200, "br"));
        let (_, _, again) = get_encoded(&app, &path, "br").await;
        assert_eq!(again, compressed);
        let mut json = Vec::new();
        brotli::Decompressor::new(&compressed[..], 4096)
            .read_to_end(&mut json)
            .expect("brotli");
        let columns: ColumnarPage = serde_json::from_slice(&json).expect("columnar layout");

        // Ids are left out where the external id gives them; tombstones keep theirs.
        for (i, record) in records.items.iter().enumerate() {
            let expect_id = record.deleted.then_some(record.id);
            assert_eq!(columns.id[i], expect_id, "record {i}");
        }
        // A client without brotli gets the same JSON.
        let (status, coding, plain) = get_encoded(&app, &path, "identity").await;
        assert_eq!((status, coding.as_str()), (200, ""));
        assert_eq!(plain, json);

        assert_eq!(columns.into_page().expect("decodes"), records);
        seen += records.items.len();
        since = records.cursor.to_string();
        if !records.has_more {
            break;
        }
    }
    assert_eq!(seen, demo.len());

    let (status, _, body) = get_encoded(&app, "/api/v1/registry?format=xml", "identity").await;
    assert_eq!(status, 400);
    let error: Value = serde_json::from_slice(&body).expect("error body");
    assert_eq!(error["error"]["code"], "invalid_query");
}

crate::on_every_backend!(
    paging_collects_every_facility_exactly_once,
    a_pull_after_an_edit_and_a_delete_returns_exactly_those,
    the_columnar_layout_carries_the_same_pages,
);
