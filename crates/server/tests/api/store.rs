//! The storage conformance suite: the same rules checked on SQLite and PostgreSQL.

use crate::helpers::{facility, Backend, TestDb};
use caremap_model::{Cursor, FacilityId, Name, PageLimit};
use caremap_server::store::{DeleteOutcome, SharedStore, StoreError, UpsertOutcome};

async fn fresh(backend: Backend) -> Option<(TestDb, SharedStore)> {
    let db = TestDb::new(backend).await?;
    let store = db.store().await;
    Some((db, store))
}

async fn feed(store: &SharedStore, since: Cursor) -> Vec<(FacilityId, u64, bool)> {
    let page = store
        .registry_page(since, PageLimit::clamped(Some(PageLimit::MAX)))
        .await
        .expect("page");
    page.items
        .iter()
        .map(|r| (r.id, r.version, r.deleted))
        .collect()
}

async fn upsert_inserts_and_reads_back(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let (a, b) = (facility(1), facility(2));
    let outcomes = store
        .upsert_batch(&[a.clone(), b.clone()])
        .await
        .expect("upsert");
    assert_eq!(outcomes, [UpsertOutcome::Added, UpsertOutcome::Added]);
    let record = store.get(a.0).await.expect("get").expect("stored");
    assert_eq!(record.version, 1);
    assert!(!record.deleted);
    assert_eq!(record.facility.as_ref(), Some(&a.1));
    assert_eq!(store.count().await.expect("count"), 2);
    assert!(store.get(facility(99).0).await.expect("get").is_none());
    assert!(!store.has_demo_data().await.expect("demo"));
}

async fn identical_upsert_changes_nothing(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let batch = [facility(1), facility(2)];
    store.upsert_batch(&batch).await.expect("first");
    let before = store
        .registry_page(Cursor::START, PageLimit::clamped(None))
        .await
        .expect("page");
    let outcomes = store.upsert_batch(&batch).await.expect("again");
    assert_eq!(
        outcomes,
        [UpsertOutcome::Unchanged, UpsertOutcome::Unchanged]
    );
    let after = store
        .registry_page(Cursor::START, PageLimit::clamped(None))
        .await
        .expect("page");
    assert_eq!(before, after, "no new version, number or timestamp");
    assert!(feed(&store, before.cursor).await.is_empty());
}

async fn edits_bump_version_and_move_to_the_end(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let (a, b) = (facility(1), facility(2));
    store
        .upsert_batch(&[a.clone(), b.clone()])
        .await
        .expect("insert");
    let cursor = store
        .registry_page(Cursor::START, PageLimit::clamped(None))
        .await
        .expect("page")
        .cursor;
    let mut edited = a.clone();
    edited.1.name.zh = Name::parse_for("改名后的卫生室", caremap_model::Field::Name).expect("name");
    let outcomes = store
        .upsert_batch(std::slice::from_ref(&edited))
        .await
        .expect("edit");
    assert_eq!(outcomes, [UpsertOutcome::Updated]);
    // Each facility once, the edited one last, at version 2.
    assert_eq!(
        feed(&store, Cursor::START).await,
        [(b.0, 1, false), (a.0, 2, false)]
    );
    assert_eq!(feed(&store, cursor).await, [(a.0, 2, false)]);
    let record = store.get(a.0).await.expect("get").expect("stored");
    assert_eq!(record.facility, Some(edited.1));
}

async fn deletion_leaves_a_tombstone(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let (a, b) = (facility(1), facility(2));
    store
        .upsert_batch(&[a.clone(), b.clone()])
        .await
        .expect("insert");
    assert_eq!(
        store.delete(a.0).await.expect("delete"),
        DeleteOutcome::Deleted { version: 2 }
    );
    assert_eq!(
        store.delete(a.0).await.expect("delete"),
        DeleteOutcome::AlreadyDeleted
    );
    assert_eq!(
        store.delete(facility(9).0).await.expect("delete"),
        DeleteOutcome::NotFound
    );
    let tombstone = store.get(a.0).await.expect("get").expect("kept");
    assert!(tombstone.deleted);
    assert_eq!(tombstone.version, 2);
    assert!(tombstone.facility.is_none());
    assert_eq!(store.count().await.expect("count"), 1);
    assert_eq!(
        feed(&store, Cursor::START).await,
        [(b.0, 1, false), (a.0, 2, true)]
    );
    assert_eq!(store.list().await.expect("list").len(), 1);
    // The facility may come back: a new version, live again.
    assert_eq!(
        store
            .upsert_batch(std::slice::from_ref(&a))
            .await
            .expect("restore"),
        [UpsertOutcome::Added]
    );
    assert_eq!(
        feed(&store, Cursor::START).await,
        [(b.0, 1, false), (a.0, 3, false)]
    );
}

async fn pages_follow_the_cursor(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let batch: Vec<_> = (1..=7).map(facility).collect();
    store.upsert_batch(&batch).await.expect("insert");
    let mut since = Cursor::START;
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let page = store
            .registry_page(since, PageLimit::clamped(Some(3)))
            .await
            .expect("page");
        assert!(page.cursor > since || page.items.is_empty());
        sizes.push((page.items.len(), page.has_more));
        seen.extend(page.items.iter().map(|r| r.id));
        since = page.cursor;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(sizes, [(3, true), (3, true), (1, false)]);
    let expected: Vec<_> = batch.iter().map(|(id, _)| *id).collect();
    assert_eq!(seen, expected, "sequence order = write order");
    let empty = store
        .registry_page(since, PageLimit::clamped(Some(3)))
        .await
        .expect("page");
    assert!(empty.items.is_empty() && !empty.has_more);
    assert_eq!(empty.cursor, since, "an empty page keeps the cursor");
    // A cursor beyond the last change comes from another database: the client must start over.
    let ahead = Cursor::from_seq(since.seq() + 1);
    let err = store
        .registry_page(ahead, PageLimit::clamped(None))
        .await
        .expect_err("cursor ahead");
    assert!(matches!(err, StoreError::CursorAhead(c) if c == ahead));
}

async fn a_failing_batch_writes_nothing(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let (a, b) = (facility(1), facility(2));
    // The duplicate is found after `a` and `b` were written inside the transaction.
    let err = store
        .upsert_batch(&[a.clone(), b.clone(), a.clone()])
        .await
        .expect_err("duplicate refused");
    assert!(matches!(err, StoreError::DuplicateInBatch(id) if id == a.0));
    assert_eq!(store.count().await.expect("count"), 0);
    assert!(feed(&store, Cursor::START).await.is_empty());
    // The sequence rolled back too: the next change is number 1.
    store.upsert_batch(&[b]).await.expect("insert");
    let page = store
        .registry_page(Cursor::START, PageLimit::clamped(None))
        .await
        .expect("page");
    assert_eq!(page.cursor.seq(), 1);
}

async fn concurrent_writers_get_contiguous_numbers(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    let mut tasks = Vec::new();
    for writer in 0..6u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..5u32 {
                let one = facility(writer * 100 + i);
                store.upsert_batch(&[one]).await.expect("upsert");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let mut since = Cursor::START;
    for expected in 1..=30u64 {
        let page = store
            .registry_page(since, PageLimit::clamped(Some(1)))
            .await
            .expect("page");
        assert_eq!(page.cursor.seq(), expected, "no gaps, no reordering");
        since = page.cursor;
    }
}

async fn demo_data_is_flagged(backend: Backend) {
    let Some((_db, store)) = fresh(backend).await else {
        return;
    };
    store.upsert_batch(&[facility(1)]).await.expect("insert");
    assert!(!store.has_demo_data().await.expect("demo"));
    let summary = caremap_server::demo::seed(store.as_ref(), false)
        .await
        .expect("seed");
    assert!(summary.added > 300);
    assert!(store.has_demo_data().await.expect("demo"));
    // Seeding again changes nothing; replacing removes what is not demo data.
    let again = caremap_server::demo::seed(store.as_ref(), true)
        .await
        .expect("seed");
    assert_eq!((again.added, again.updated, again.deleted), (0, 0, 1));
    assert_eq!(again.unchanged, summary.added);
}

crate::on_every_backend!(
    upsert_inserts_and_reads_back,
    identical_upsert_changes_nothing,
    edits_bump_version_and_move_to_the_end,
    deletion_leaves_a_tombstone,
    pages_follow_the_cursor,
    a_failing_batch_writes_nothing,
    concurrent_writers_get_contiguous_numbers,
    demo_data_is_flagged,
);
