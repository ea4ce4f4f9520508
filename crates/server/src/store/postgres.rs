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
    cursor_seq, is_demo, now, page_from_rows, same_body, DeleteOutcome, RawPage, Row, Store,
    StoreError, UpsertOutcome,
};
use async_trait::async_trait;
use caremap_model::{Cursor, Facility, FacilityId, FacilityRecord, PageLimit};
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgPool, Postgres, Row as _, Transaction};
use std::collections::HashSet;
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
    sqlx::query_scalar(
        "UPDATE registry_sequence SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
    )
    .fetch_one(conn)
    .await
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
        let mut tx = self.begin_write().await?;
        let mut seen = HashSet::with_capacity(batch.len());
        let mut outcomes = Vec::with_capacity(batch.len());
        let updated_at = now();
        for (id, facility) in batch {
            // Checked as we go, after earlier writes: a failure here rolls back the whole batch.
            if !seen.insert(*id) {
                return Err(StoreError::DuplicateInBatch(*id));
            }
            let id_uuid = id.as_uuid();
            let body = serde_json::to_string(facility).map_err(|e| StoreError::Corrupt {
                id: id.to_string(),
                detail: e.to_string(),
            })?;
            let existing: Option<(i64, bool, Option<String>)> =
                sqlx::query_as("SELECT version, deleted, body FROM facilities WHERE id = $1")
                    .bind(id_uuid)
                    .fetch_optional(&mut *tx)
                    .await?;
            let outcome = match &existing {
                Some((_, false, stored)) if same_body(stored.as_deref(), &body, facility) => {
                    UpsertOutcome::Unchanged
                }
                Some((version, deleted, _)) => {
                    let seq = next_seq(&mut tx).await?;
                    sqlx::query(
                        "UPDATE facilities SET seq = $1, version = $2, updated_at = $3, deleted = FALSE, \
                         body = $4, kind = $5, demo = $6 WHERE id = $7",
                    )
                    .bind(seq)
                    .bind(version + 1)
                    .bind(updated_at)
                    .bind(&body)
                    .bind(facility.kind.as_str())
                    .bind(is_demo(facility))
                    .bind(id_uuid)
                    .execute(&mut *tx)
                    .await?;
                    if *deleted {
                        UpsertOutcome::Added
                    } else {
                        UpsertOutcome::Updated
                    }
                }
                None => {
                    let seq = next_seq(&mut tx).await?;
                    sqlx::query(
                        "INSERT INTO facilities (id, seq, version, updated_at, deleted, body, kind, demo) \
                         VALUES ($1, $2, 1, $3, FALSE, $4, $5, $6)",
                    )
                    .bind(id_uuid)
                    .bind(seq)
                    .bind(updated_at)
                    .bind(&body)
                    .bind(facility.kind.as_str())
                    .bind(is_demo(facility))
                    .execute(&mut *tx)
                    .await?;
                    UpsertOutcome::Added
                }
            };
            outcomes.push(outcome);
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
