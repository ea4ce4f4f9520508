//! Large registries: batches that span several of the stores' write chunks (the conformance
//! rules must hold across chunk boundaries, on both backends), the synthetic demo registry of
//! `demo --size N`, and its seeding.

use crate::helpers::{facility, Backend, TestDb};
use crate::on_every_backend;
use caremap_model::{Cursor, Facility, FacilityId, FacilityKind, Name, Operational, PageLimit};
use caremap_server::demo::{self, synthetic, SeedSummary};
use caremap_server::store::{DeleteOutcome, SharedStore, StoreError, UpsertOutcome};
use std::collections::{HashMap, HashSet};

async fn fresh(backend: Backend) -> Option<(TestDb, SharedStore)> {
    let db = TestDb::new(backend).await?;
    let store = db.store().await;
    Some((db, store))
}

/// The whole feed after `since`, page by page: (id, version, deleted) in change order.
async fn feed(store: &SharedStore, mut since: Cursor) -> Vec<(FacilityId, u64, bool)> {
    let mut out = Vec::new();
    loop {
        let page = store
            .registry_page(since, PageLimit::clamped(Some(PageLimit::MAX)))
            .await
            .expect("page");
        out.extend(page.items.iter().map(|r| (r.id, r.version, r.deleted)));
        since = page.cursor;
        if !page.has_more {
            return out;
        }
    }
}

/// The cursor after the last change.
async fn last_cursor(store: &SharedStore) -> Cursor {
    let mut since = Cursor::START;
    loop {
        let page = store
            .registry_page(since, PageLimit::clamped(Some(PageLimit::MAX)))
            .await
            .expect("page");
        since = page.cursor;
        if !page.has_more {
            return since;
        }
    }
}

fn renamed(mut f: (FacilityId, Facility), name: &str) -> (FacilityId, Facility) {
    f.1.name.zh = Name::parse_for(name, caremap_model::Field::Name).expect("name");
    f
}

async fn a_large_batch_is_stored_in_batch_order(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let batch: Vec<_> = (1..=1_234).map(facility).collect();
    let outcomes = store.upsert_batch(&batch).await.expect("upsert");
    assert!(outcomes.iter().all(|o| *o == UpsertOutcome::Added));
    assert_eq!(outcomes.len(), batch.len());
    assert_eq!(store.count().await.expect("count"), 1_234);
    let fed = feed(&store, Cursor::START).await;
    let expected: Vec<_> = batch.iter().map(|(id, _)| (*id, 1, false)).collect();
    assert_eq!(fed, expected, "one change each, numbered in batch order");
    let last = store
        .registry_page(Cursor::START, PageLimit::clamped(Some(PageLimit::MAX)))
        .await
        .expect("page");
    assert_eq!(last.cursor.seq(), 1_234, "no number skipped");
    let stored = store.get(batch[777].0).await.expect("get").expect("stored");
    assert_eq!(stored.facility.as_ref(), Some(&batch[777].1));
}

async fn a_mixed_large_batch_changes_only_what_changed(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let first: Vec<_> = (1..=1_200).map(facility).collect();
    store.upsert_batch(&first).await.expect("first");
    for gone in [10, 700] {
        store.delete(facility(gone).0).await.expect("delete");
    }
    let cursor = last_cursor(&store).await;

    // Chunk boundaries fall inside each kind of change.
    let mut batch = Vec::new();
    let mut expected = Vec::new();
    let mut changed = Vec::new();
    for n in 1..=1_300u32 {
        let (item, outcome, version) = match n {
            10 | 700 => (facility(n), UpsertOutcome::Added, 3),
            n if n % 250 == 0 && n <= 1_200 => (
                renamed(facility(n), &format!("改名卫生室{n}")),
                UpsertOutcome::Updated,
                2,
            ),
            n if n > 1_200 => (facility(n), UpsertOutcome::Added, 1),
            n => (facility(n), UpsertOutcome::Unchanged, 1),
        };
        if outcome != UpsertOutcome::Unchanged {
            changed.push((item.0, version, false));
        }
        expected.push(outcome);
        batch.push(item);
    }
    let outcomes = store.upsert_batch(&batch).await.expect("mixed");
    assert_eq!(outcomes, expected);
    assert_eq!(
        feed(&store, cursor).await,
        changed,
        "only the changes, in batch order, after the cursor"
    );
    assert_eq!(store.count().await.expect("count"), 1_300);
    let renamed_back = store
        .get(facility(500).0)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(
        renamed_back.facility.expect("live").name.zh.as_str(),
        "改名卫生室500"
    );
}

async fn a_duplicate_late_in_a_large_batch_writes_nothing(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    store
        .upsert_batch(&[facility(1)])
        .await
        .expect("one facility");
    let before = feed(&store, Cursor::START).await;
    let mut batch: Vec<_> = (2..=1_100).map(facility).collect();
    batch.push(facility(900));
    let err = store.upsert_batch(&batch).await.expect_err("duplicate");
    assert!(matches!(err, StoreError::DuplicateInBatch(id) if id == facility(900).0));
    assert_eq!(feed(&store, Cursor::START).await, before);
    assert_eq!(store.count().await.expect("count"), 1);
    // The sequence did not move either: the next change is number 2.
    store.upsert_batch(&[facility(2)]).await.expect("next");
    let page = store
        .registry_page(Cursor::START, PageLimit::clamped(None))
        .await
        .expect("page");
    assert_eq!(page.cursor.seq(), 2);
}

async fn a_large_deletion_leaves_tombstones_in_order(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let batch: Vec<_> = (1..=1_100).map(facility).collect();
    store.upsert_batch(&batch).await.expect("insert");
    assert_eq!(
        store.delete(facility(5).0).await.expect("delete"),
        DeleteOutcome::Deleted { version: 2 }
    );
    let cursor = last_cursor(&store).await;
    // Every other facility from the end, one deleted before, one unknown, one named twice.
    let mut ids: Vec<FacilityId> = (1..=1_100)
        .rev()
        .step_by(2)
        .map(|n| facility(n).0)
        .collect();
    ids.extend([facility(5).0, facility(5_000).0, facility(1_100).0]);
    let outcomes = store.delete_batch(&ids).await.expect("delete batch");
    assert_eq!(outcomes.len(), ids.len());
    assert!(outcomes[..550]
        .iter()
        .all(|o| *o == DeleteOutcome::Deleted { version: 2 }));
    assert_eq!(
        outcomes[550..],
        [
            DeleteOutcome::AlreadyDeleted,
            DeleteOutcome::NotFound,
            DeleteOutcome::AlreadyDeleted
        ]
    );
    let tombstones: Vec<_> = ids[..550].iter().map(|id| (*id, 2, true)).collect();
    assert_eq!(feed(&store, cursor).await, tombstones, "in the order asked");
    assert_eq!(store.count().await.expect("count"), 1_100 - 550 - 1);
    let gone = store
        .get(facility(1_100).0)
        .await
        .expect("get")
        .expect("tombstone");
    assert!(gone.deleted && gone.facility.is_none());
    // A deleted facility comes back as added, at the next version.
    let back = store.upsert_batch(&[facility(1_100)]).await.expect("back");
    assert_eq!(back, [UpsertOutcome::Added]);
    assert_eq!(
        store
            .get(facility(1_100).0)
            .await
            .expect("get")
            .map(|r| r.version),
        Some(3)
    );
    assert!(store.delete_batch(&[]).await.expect("nothing").is_empty());
}

async fn the_synthetic_registry_seeds_in_chunks_and_grows_by_prefix(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let size = demo::SYNTHETIC_CHUNK + 700;
    let s = demo::seed_synthetic(store.as_ref(), size, false)
        .await
        .expect("seed");
    assert_eq!(
        s,
        SeedSummary {
            added: size,
            ..SeedSummary::default()
        }
    );
    assert_eq!(store.count().await.expect("count"), size as u64);
    assert!(store.has_demo_data().await.expect("demo"));
    let again = demo::seed_synthetic(store.as_ref(), size, false)
        .await
        .expect("again");
    assert_eq!(again.unchanged, size);
    assert_eq!(again.added + again.updated + again.deleted, 0);
    let grown = demo::seed_synthetic(store.as_ref(), size + 300, false)
        .await
        .expect("grown");
    assert_eq!((grown.added, grown.unchanged), (300, size));

    // Replacing with a smaller registry deletes the rest, and the small demo registry with it.
    demo::seed(store.as_ref(), false).await.expect("small demo");
    let small = demo::registry().expect("demo").len();
    let replaced = demo::seed_synthetic(store.as_ref(), size - 50, true)
        .await
        .expect("replace");
    assert_eq!(replaced.unchanged, size - 50);
    assert_eq!(replaced.deleted, 50 + 300 + small);
    assert_eq!(store.count().await.expect("count"), (size - 50) as u64);
}

on_every_backend!(
    a_large_batch_is_stored_in_batch_order,
    a_mixed_large_batch_changes_only_what_changed,
    a_duplicate_late_in_a_large_batch_writes_nothing,
    a_large_deletion_leaves_tombstones_in_order,
    the_synthetic_registry_seeds_in_chunks_and_grows_by_prefix,
);

fn synthetic(size: usize) -> Vec<(FacilityId, Facility)> {
    synthetic::registry(size)
        .expect("tables are valid")
        .collect::<Result<_, _>>()
        .expect("every facility is valid")
}

#[test]
fn the_synthetic_registry_is_deterministic_and_prefix_stable() {
    let small = synthetic(1_000);
    assert_eq!(small.len(), 1_000);
    assert_eq!(small, synthetic(1_000), "same output every run");
    let larger = synthetic(2_500);
    assert_eq!(
        &larger[..1_000],
        &small[..],
        "facility n does not depend on N"
    );
    assert_eq!(synthetic(0).len(), 0);
    assert_eq!(
        synthetic::registry(synthetic::MAX_SIZE + 1)
            .expect("valid")
            .len(),
        synthetic::MAX_SIZE,
        "clamped"
    );
}

#[test]
fn the_synthetic_registry_is_plausible_and_marked() {
    let registry = synthetic(20_000);
    let ids: HashSet<FacilityId> = registry.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), registry.len(), "ids are unique");
    let small: HashSet<FacilityId> = demo::registry()
        .expect("demo")
        .iter()
        .map(|(id, _)| *id)
        .collect();
    assert!(ids.is_disjoint(&small), "no clash with the small demo");

    let mut kinds: HashMap<FacilityKind, usize> = HashMap::new();
    for (n, (id, f)) in registry.iter().enumerate() {
        *kinds.entry(f.kind).or_default() += 1;
        assert!(f.name.zh.as_str().ends_with("（演示）"), "{}", f.name.zh);
        match (&f.name.en, f.kind) {
            (None, FacilityKind::VillageClinic) => {}
            (Some(en), kind) if kind != FacilityKind::VillageClinic => {
                assert!(en.as_str().ends_with("(demo)"), "{en}");
            }
            (en, kind) => panic!("{kind} with English name {en:?}"),
        }
        let external: Vec<&str> = f.external_ids.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            external,
            [format!("{}{}", synthetic::EXTERNAL_ID_PREFIX, n + 1)]
        );
        assert_eq!(
            *id,
            FacilityId::from_external(f.external_ids.first().expect("one"))
        );
        let (lat, lon) = (f.location.lat(), f.location.lon());
        assert!(
            (27.0..31.5).contains(&lat) && (118.0..122.5).contains(&lon),
            "{lat},{lon} is not in Zhejiang"
        );
        assert!(f.area.township.is_some());
        assert_eq!(
            f.area.village.is_some(),
            f.kind == FacilityKind::VillageClinic
        );
        assert!(f.phone.is_some() && f.opening_hours.is_some() && f.address.is_some());
    }
    // Valid by the model's own parsing: a sample survives a JSON round trip.
    for (_, f) in registry.iter().step_by(97) {
        let json = serde_json::to_string(f).expect("serialise");
        let back: Facility = serde_json::from_str(&json).expect("valid facility");
        assert_eq!(&back, f);
    }
    let share = |kind| kinds.get(&kind).copied().unwrap_or_default() as f64 / registry.len() as f64;
    assert!((0.65..0.82).contains(&share(FacilityKind::VillageClinic)));
    assert!((0.10..0.20).contains(&share(FacilityKind::VaccinationPoint)));
    assert!((0.04..0.10).contains(&share(FacilityKind::TownshipHealthCenter)));
    assert!((0.02..0.06).contains(&share(FacilityKind::FeverStation)));
    assert!((0.005..0.03).contains(&share(FacilityKind::FeverClinic)));
    assert!(registry.iter().any(|(_, f)| f.mobile));
    assert!(registry
        .iter()
        .any(|(_, f)| matches!(f.operational, Operational::Closed { .. })));
    assert!(registry
        .iter()
        .any(|(_, f)| matches!(f.operational, Operational::Reduced { .. })));
}

#[test]
fn the_cli_seeds_a_synthetic_registry_and_refuses_bad_sizes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("cli.sqlite").display());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_caremap-server"))
            .args(args)
            .args(["--database", &database])
            .env_remove("DATABASE_URL")
            .output()
            .expect("run caremap-server")
    };
    let seeded = run(&["demo", "--size", "1_500"]);
    assert!(seeded.status.success(), "{seeded:?}");
    assert!(
        String::from_utf8_lossy(&seeded.stdout).contains("added 1500 "),
        "{seeded:?}"
    );
    let list = run(&["facility", "list"]);
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 1_500);
    for bad in ["0", "200001", "many", "-5"] {
        let refused = run(&["demo", "--size", bad]);
        assert!(!refused.status.success(), "--size {bad}");
    }
}
