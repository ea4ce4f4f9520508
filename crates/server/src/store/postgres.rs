//! The PostgreSQL backend, for deployments that outgrow one machine (several stateless servers).
//!
//! Why writers are serialised: the feed promises that a client holding cursor N has seen every
//! change numbered ≤ N. With concurrent writers, transaction A could take number 5, transaction B
//! number 6, and B commit first; a client pulling in between gets 6, stores cursor 6, and never
//! sees 5. (A PostgreSQL `SEQUENCE` has exactly this problem: `nextval` is not transactional.)
//! So every registry write transaction first takes one transaction-scoped advisory lock
//! (`pg_advisory_xact_lock`), released at commit or rollback: numbers are handed out and
//! committed in the same order. Registry writes are rare (imports, edits by the health office),
//! so the lock costs nothing that matters; reads take no lock.

use super::{
    check_no_duplicates, cursor_seq, is_demo, now, page_from_rows, plan_deletes, plan_upserts,
    DeleteOutcome, RawPage, Row, Store, StoreError, Stored, UpsertOutcome, UPSERT_CHUNK,
};
use async_trait::async_trait;
use caremap_model::{Cursor, Facility, FacilityId, FacilityRecord, PageLimit};
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row as _, Transaction};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use uuid::Uuid;

/// The key of the advisory lock registry writers hold (any constant; "caremap" in ASCII).
const REGISTRY_WRITE_LOCK: i64 = 0x63_61_72_65_6d_61_70;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const SELECT_ROW: &str = "SELECT id, seq, version, updated_at, deleted, body FROM facilities";

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names (it must exist).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(PostgresStore { pool })
    }

    /// Starts a registry write transaction holding the writers' lock (see the module docs).
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(REGISTRY_WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

fn read_row(row: &PgRow) -> Result<Row, sqlx::Error> {
    Ok(Row {
        id: row.try_get::<Uuid, _>("id")?.to_string(),
        seq: row.try_get("seq")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
        deleted: row.try_get("deleted")?,
        body: row.try_get("body")?,
    })
}

async fn next_seq(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    take_seqs(conn, 1).await
}

/// Takes the next `n` numbers of the sequence; returns the first.
async fn take_seqs(conn: &mut PgConnection, n: usize) -> Result<i64, sqlx::Error> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let last: i64 = sqlx::query_scalar(
        "UPDATE registry_sequence SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq",
    )
    .bind(n)
    .fetch_one(conn)
    .await?;
    Ok(last - n + 1)
}

/// The stored rows of the facilities of `chunk` that have one.
async fn read_stored(
    conn: &mut PgConnection,
    chunk: &[(FacilityId, Facility)],
) -> Result<HashMap<FacilityId, Stored>, StoreError> {
    let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| id.as_uuid()).collect();
    let rows: Vec<(Uuid, i64, bool, Option<String>)> =
        sqlx::query_as("SELECT id, version, deleted, body FROM facilities WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, version, deleted, body)| {
            (
                FacilityId::from(id),
                Stored {
                    version,
                    deleted,
                    body,
                },
            )
        })
        .collect())
}

/// The version and deleted flag of the facilities of `ids` that have a row.
async fn read_versions(
    conn: &mut PgConnection,
    ids: &[FacilityId],
) -> Result<HashMap<FacilityId, (i64, bool)>, StoreError> {
    let ids: Vec<Uuid> = ids.iter().map(FacilityId::as_uuid).collect();
    let rows: Vec<(Uuid, i64, bool)> =
        sqlx::query_as("SELECT id, version, deleted FROM facilities WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, version, deleted)| (FacilityId::from(id), (version, deleted)))
        .collect())
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn upsert_batch(
        &self,
        batch: &[(FacilityId, Facility)],
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        check_no_duplicates(batch)?;
        let mut tx = self.begin_write().await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let updated_at = now();
        for chunk in batch.chunks(UPSERT_CHUNK) {
            let stored = read_stored(&mut tx, chunk).await?;
            let (chunk_outcomes, writes) = plan_upserts(chunk, &stored)?;
            outcomes.extend(chunk_outcomes);
            if writes.is_empty() {
                continue;
            }
            let first_seq = take_seqs(&mut tx, writes.len()).await?;
            let mut insert = QueryBuilder::<Postgres>::new(
                "INSERT INTO facilities (id, seq, version, updated_at, deleted, body, kind, demo) ",
            );
            insert.push_values(writes.iter().zip(first_seq..), |mut row, (w, seq)| {
                row.push_bind(w.id.as_uuid())
                    .push_bind(seq)
                    .push_bind(w.version)
                    .push_bind(updated_at)
                    .push_bind(false)
                    .push_bind(w.body.as_str())
                    .push_bind(w.facility.kind.as_str())
                    .push_bind(is_demo(w.facility));
            });
            insert.push(
                " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version, \
                 updated_at = excluded.updated_at, deleted = FALSE, body = excluded.body, \
                 kind = excluded.kind, demo = excluded.demo",
            );
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn delete(&self, id: FacilityId) -> Result<DeleteOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let id_uuid = id.as_uuid();
        let existing: Option<(i64, bool)> =
            sqlx::query_as("SELECT version, deleted FROM facilities WHERE id = $1")
                .bind(id_uuid)
                .fetch_optional(&mut *tx)
                .await?;
        let outcome = match existing {
            None => DeleteOutcome::NotFound,
            Some((_, true)) => DeleteOutcome::AlreadyDeleted,
            Some((version, false)) => {
                let seq = next_seq(&mut tx).await?;
                sqlx::query(
                    "UPDATE facilities SET seq = $1, version = $2, updated_at = $3, deleted = TRUE, \
                     body = NULL, kind = NULL, demo = FALSE WHERE id = $4",
                )
                .bind(seq)
                .bind(version + 1)
                .bind(now())
                .bind(id_uuid)
                .execute(&mut *tx)
                .await?;
                DeleteOutcome::Deleted {
                    version: u64::try_from(version + 1).unwrap_or_default(),
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn delete_batch(&self, ids: &[FacilityId]) -> Result<Vec<DeleteOutcome>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut outcomes = Vec::with_capacity(ids.len());
        let mut done = HashSet::with_capacity(ids.len());
        let updated_at = now();
        for chunk in ids.chunks(UPSERT_CHUNK) {
            let stored = read_versions(&mut tx, chunk).await?;
            let (chunk_outcomes, tombstones) = plan_deletes(chunk, &stored, &mut done);
            outcomes.extend(chunk_outcomes);
            if tombstones.is_empty() {
                continue;
            }
            let first_seq = take_seqs(&mut tx, tombstones.len()).await?;
            // Every row exists, so each takes the DO UPDATE branch: one statement for the chunk.
            let mut write = QueryBuilder::<Postgres>::new(
                "INSERT INTO facilities (id, seq, version, updated_at, deleted, body, kind, demo) ",
            );
            write.push_values(tombstones.iter().zip(first_seq..), |mut row, (w, seq)| {
                row.push_bind(w.id.as_uuid())
                    .push_bind(seq)
                    .push_bind(w.version)
                    .push_bind(updated_at)
                    .push_bind(true)
                    .push_bind(None::<String>)
                    .push_bind(None::<String>)
                    .push_bind(false);
            });
            write.push(
                " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version, \
                 updated_at = excluded.updated_at, deleted = TRUE, body = NULL, kind = NULL, \
                 demo = excluded.demo",
            );
            write.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn get(&self, id: FacilityId) -> Result<Option<FacilityRecord>, StoreError> {
        let row = sqlx::query(&format!("{SELECT_ROW} WHERE id = $1"))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(read_row(&row)?.into_record()?.1)),
        }
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM facilities WHERE deleted = FALSE")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn has_demo_data(&self) -> Result<bool, StoreError> {
        let demo: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM facilities WHERE demo AND deleted = FALSE)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(demo)
    }

    async fn list(&self) -> Result<Vec<FacilityRecord>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT_ROW} WHERE deleted = FALSE ORDER BY seq"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(read_row(row)?.into_record()?.1))
            .collect()
    }

    async fn registry_page_raw(
        &self,
        since: Cursor,
        limit: PageLimit,
    ) -> Result<RawPage, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_ROW} WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(cursor_seq(since))
        .bind(i64::from(limit.get()) + 1)
        .fetch_all(&self.pool)
        .await?;
        let rows = rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?;
        // Read after the rows: a change committed in between only raises it.
        let last_seq: i64 =
            sqlx::query_scalar("SELECT last_seq FROM registry_sequence WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        page_from_rows(rows, last_seq, since, limit)
    }
}
