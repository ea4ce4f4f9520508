//! `GET /api/v1/registry` over HTTP: paging, changes after a cursor, tombstones.

use crate::helpers::{spawn_app, Backend};
use caremap_model::{Field, Name, RegistryPage};
use serde_json::Value;
use std::collections::HashSet;

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

crate::on_every_backend!(
    paging_collects_every_facility_exactly_once,
    a_pull_after_an_edit_and_a_delete_returns_exactly_those,
);
