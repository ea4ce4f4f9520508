//! Browser tests of the IndexedDB store and the registry sync engine, in headless Chromium
//! (`cargo xtask test` runs them with wasm-bindgen-test-runner). Each test uses a fresh
//! database name and deletes it first.
#![cfg(target_arch = "wasm32")]
// A test binary: a panic is the failure report (clippy does not see wasm_bindgen_test fns as tests).
#![allow(clippy::unwrap_used)]

use caremap::api::ApiError;
use caremap::store::{stores, Store, SCHEMA_VERSION};
use caremap::sync::{pull, PullEvent, RegistrySource};
use caremap_model::{
    Cursor, Facility, FacilityId, FacilityKind, FacilityRecord, LatLon, Name, Names, RegistryPage,
};
use chrono::{DateTime, TimeZone, Utc};
use std::cell::{Cell, RefCell};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0)
        .single()
        .unwrap()
}

fn facility(n: u32) -> Facility {
    Facility {
        kind: FacilityKind::VillageClinic,
        name: Names {
            zh: Name::parse_for(&format!("测试村卫生室 {n}"), caremap_model::Field::Name).unwrap(),
            en: None,
        },
        location: LatLon::new(30.0 + f64::from(n) * 1e-4, 121.1).unwrap(),
        address: None,
        area: Default::default(),
        phone: None,
        opening_hours: None,
        services: Default::default(),
        capacity: Default::default(),
        operational: Default::default(),
        mobile: false,
        external_ids: Default::default(),
    }
}

fn id(n: u32) -> FacilityId {
    FacilityId::from(uuid::Uuid::from_u128(u128::from(n) + 1))
}

fn live(n: u32, version: u64) -> FacilityRecord {
    FacilityRecord {
        id: id(n),
        version,
        updated_at: now(),
        deleted: false,
        facility: Some(facility(n)),
        status: None,
    }
}

fn tombstone(n: u32, version: u64) -> FacilityRecord {
    FacilityRecord {
        id: id(n),
        version,
        updated_at: now(),
        deleted: true,
        facility: None,
        status: None,
    }
}

/// A fresh database for one test.
async fn fresh(name: &str) -> Store {
    Store::delete(name).await.unwrap();
    Store::open(name).await.unwrap()
}

/// A registry feed of `total` facilities served `per_page` at a time, which can be told to fail
/// at a given page, and records which cursors it was asked for.
struct ScriptedFeed {
    records: Vec<FacilityRecord>,
    per_page: usize,
    fail_at_request: Cell<Option<u32>>,
    requests: RefCell<Vec<Cursor>>,
}

impl ScriptedFeed {
    fn new(records: Vec<FacilityRecord>, per_page: usize) -> Self {
        ScriptedFeed {
            records,
            per_page,
            fail_at_request: Cell::new(None),
            requests: RefCell::new(Vec::new()),
        }
    }
}

impl RegistrySource for ScriptedFeed {
    async fn page(&self, since: Cursor) -> Result<RegistryPage, ApiError> {
        let request_no = self.requests.borrow().len() as u32;
        self.requests.borrow_mut().push(since);
        if self.fail_at_request.get() == Some(request_no) {
            return Err(ApiError::Network("connection reset".into()));
        }
        // The feed's sequence numbers are positions in `records`, from 1.
        let start = since.seq() as usize;
        let end = (start + self.per_page).min(self.records.len());
        Ok(RegistryPage {
            items: self.records[start..end].to_vec(),
            cursor: Cursor::from_seq(end as u64),
            has_more: end < self.records.len(),
        })
    }
}

#[wasm_bindgen_test]
async fn a_new_database_gets_the_current_schema() {
    let store = fresh("caremap-test-schema").await;
    let mut names = store.store_names();
    names.sort();
    assert_eq!(
        names,
        [
            stores::FACILITIES,
            stores::META,
            stores::OUTBOX,
            stores::REPORTS
        ]
    );
    assert_eq!(SCHEMA_VERSION, 2);
    let meta = store.sync_meta().await.unwrap();
    assert_eq!(meta.cursor, Cursor::START);
    assert_eq!(meta.last_complete, None);
    assert_eq!(store.facility_count().await.unwrap(), 0);
}

#[wasm_bindgen_test]
async fn pages_are_stored_one_by_one_with_their_cursor_and_survive_reopening() {
    let name = "caremap-test-pages";
    let store = fresh(name).await;
    let feed = ScriptedFeed::new((0..25).map(|n| live(n, 1)).collect(), 10);
    let mut seen = Vec::new();
    let meta = pull(&store, &feed, now, |event| {
        if let PullEvent::Page { progress, .. } = event {
            seen.push(progress.records);
        }
    })
    .await
    .unwrap();
    assert_eq!(seen, [10, 20, 25]);
    assert_eq!(meta.cursor, Cursor::from_seq(25));
    assert_eq!(meta.last_complete, Some(now()));
    assert_eq!(
        *feed.requests.borrow(),
        [Cursor::START, Cursor::from_seq(10), Cursor::from_seq(20)]
    );
    store.close();

    let reopened = Store::open(name).await.unwrap();
    let records = reopened.facilities().await.unwrap();
    assert_eq!(records.len(), 25);
    assert!(records.iter().any(|r| r == &live(7, 1)));
    assert_eq!(
        reopened.sync_meta().await.unwrap().cursor,
        Cursor::from_seq(25)
    );
}

#[wasm_bindgen_test]
async fn an_interrupted_first_sync_resumes_from_the_last_stored_page() {
    let store = fresh("caremap-test-resume").await;
    let feed = ScriptedFeed::new((0..50).map(|n| live(n, 1)).collect(), 10);
    feed.fail_at_request.set(Some(3));
    let err = pull(&store, &feed, now, |_| {}).await.unwrap_err();
    assert!(err.is_transient());
    // Three pages were stored whole; nothing is marked complete.
    assert_eq!(store.facility_count().await.unwrap(), 30);
    let meta = store.sync_meta().await.unwrap();
    assert_eq!(meta.cursor, Cursor::from_seq(30));
    assert_eq!(meta.last_complete, None);

    feed.fail_at_request.set(None);
    feed.requests.borrow_mut().clear();
    pull(&store, &feed, now, |_| {}).await.unwrap();
    // It asked again only for what it did not have.
    assert_eq!(
        *feed.requests.borrow(),
        [Cursor::from_seq(30), Cursor::from_seq(40)]
    );
    assert_eq!(store.facility_count().await.unwrap(), 50);
}

#[wasm_bindgen_test]
async fn tombstones_delete_and_edits_replace() {
    let store = fresh("caremap-test-tombstones").await;
    let first = ScriptedFeed::new((0..5).map(|n| live(n, 1)).collect(), 100);
    pull(&store, &first, now, |_| {}).await.unwrap();
    assert_eq!(store.facility_count().await.unwrap(), 5);

    // The server's next changes: facility 1 deleted, facility 2 edited.
    let mut edited = live(2, 2);
    if let Some(f) = edited.facility.as_mut() {
        f.name.zh = Name::parse_for("改名后的卫生室", caremap_model::Field::Name).unwrap();
    }
    let mut changes: Vec<FacilityRecord> = (0..5).map(|n| live(n, 1)).collect();
    changes.push(tombstone(1, 2));
    changes.push(edited.clone());
    let second = ScriptedFeed::new(changes, 100);
    pull(&store, &second, now, |_| {}).await.unwrap();
    // Only what came after the cursor was asked for.
    assert_eq!(*second.requests.borrow(), [Cursor::from_seq(5)]);

    let records = store.facilities().await.unwrap();
    assert_eq!(records.len(), 4);
    assert!(!records.iter().any(|r| r.id == id(1)));
    assert!(records.iter().any(|r| r == &edited));
}

#[wasm_bindgen_test]
async fn a_tombstone_for_an_unknown_facility_is_harmless() {
    let store = fresh("caremap-test-unknown-tombstone").await;
    let feed = ScriptedFeed::new(vec![tombstone(99, 3), live(1, 1)], 100);
    pull(&store, &feed, now, |_| {}).await.unwrap();
    assert_eq!(store.facility_count().await.unwrap(), 1);
}

/// A feed whose database was replaced: it refuses every cursor but the start.
struct ReplacedServer {
    records: Vec<FacilityRecord>,
}

impl RegistrySource for ReplacedServer {
    async fn page(&self, since: Cursor) -> Result<RegistryPage, ApiError> {
        if since != Cursor::START {
            return Err(ApiError::server(400, "invalid_cursor", "同步游标无效"));
        }
        Ok(RegistryPage {
            items: self.records.clone(),
            cursor: Cursor::from_seq(self.records.len() as u64),
            has_more: false,
        })
    }
}

#[wasm_bindgen_test]
async fn a_cursor_the_server_disowns_starts_a_clean_sync() {
    let store = fresh("caremap-test-disowned-cursor").await;
    let old = ScriptedFeed::new((0..8).map(|n| live(n, 1)).collect(), 100);
    pull(&store, &old, now, |_| {}).await.unwrap();
    assert_eq!(store.facility_count().await.unwrap(), 8);

    let replaced = ReplacedServer {
        records: (100..103).map(|n| live(n, 1)).collect(),
    };
    pull(&store, &replaced, now, |_| {}).await.unwrap();
    let ids: Vec<FacilityId> = store
        .facilities()
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids.len(), 3, "the old server's facilities are gone");
    assert!(ids.contains(&id(101)));
}
