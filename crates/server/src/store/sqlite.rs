//! The SQLite backend: the embedded default, one file next to the server.
//!
//! WAL journal so readers never wait for the writer; `synchronous=FULL` so a change is on disk
//! before it is acknowledged; a busy timeout so concurrent writers queue instead of failing;
//! foreign keys on. Write transactions start with `BEGIN IMMEDIATE`: they take the write lock
//! first, so two writers never deadlock upgrading a read lock, and sequence numbers are handed
//! out and committed in order.

use super::{
    cursor_seq, is_demo, now, page_from_rows, same_body, DeleteOutcome, RawPage, Row, Store,
    StoreError, UpsertOutcome,
};
use async_trait::async_trait;
use caremap_model::{Cursor, Facility, FacilityId, FacilityRecord, PageLimit};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqliteConnection, SqlitePool};
use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const SELECT_ROW: &str = "SELECT id, seq, version, updated_at, deleted, body FROM facilities";

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file an `sqlite:` URL names.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }
}

fn read_row(row: &sqlx::sqlite::SqliteRow) -> Result<Row, sqlx::Error> {
    Ok(Row {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
        deleted: row.try_get("deleted")?,
        body: row.try_get("body")?,
    })
}

async fn next_seq(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE registry_sequence SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
    )
    .fetch_one(conn)
    .await
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn upsert_batch(
        &self,
        batch: &[(FacilityId, Facility)],
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut seen = HashSet::with_capacity(batch.len());
        let mut outcomes = Vec::with_capacity(batch.len());
        let updated_at = now();
        for (id, facility) in batch {
            // Checked as we go, after earlier writes: a failure here rolls back the whole batch.
            if !seen.insert(*id) {
                return Err(StoreError::DuplicateInBatch(*id));
            }
            let id_text = id.to_string();
            let body = serde_json::to_string(facility).map_err(|e| StoreError::Corrupt {
                id: id_text.clone(),
                detail: e.to_string(),
            })?;
            let existing: Option<(i64, bool, Option<String>)> =
                sqlx::query_as("SELECT version, deleted, body FROM facilities WHERE id = ?")
                    .bind(&id_text)
                    .fetch_optional(&mut *tx)
                    .await?;
            let outcome = match &existing {
                Some((_, false, stored)) if same_body(stored.as_deref(), &body, facility) => {
                    UpsertOutcome::Unchanged
                }
                Some((version, deleted, _)) => {
                    let seq = next_seq(&mut tx).await?;
                    sqlx::query(
                        "UPDATE facilities SET seq = ?, version = ?, updated_at = ?, deleted = 0, \
                         body = ?, kind = ?, demo = ? WHERE id = ?",
                    )
                    .bind(seq)
                    .bind(version + 1)
                    .bind(updated_at)
                    .bind(&body)
                    .bind(facility.kind.as_str())
                    .bind(is_demo(facility))
                    .bind(&id_text)
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
                         VALUES (?, ?, 1, ?, 0, ?, ?, ?)",
                    )
                    .bind(&id_text)
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let id_text = id.to_string();
        let existing: Option<(i64, bool)> =
            sqlx::query_as("SELECT version, deleted FROM facilities WHERE id = ?")
                .bind(&id_text)
                .fetch_optional(&mut *tx)
                .await?;
        let outcome = match existing {
            None => DeleteOutcome::NotFound,
            Some((_, true)) => DeleteOutcome::AlreadyDeleted,
            Some((version, false)) => {
                let seq = next_seq(&mut tx).await?;
                sqlx::query(
                    "UPDATE facilities SET seq = ?, version = ?, updated_at = ?, deleted = 1, \
                     body = NULL, kind = NULL, demo = 0 WHERE id = ?",
                )
                .bind(seq)
                .bind(version + 1)
                .bind(now())
                .bind(&id_text)
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
        let row = sqlx::query(&format!("{SELECT_ROW} WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(read_row(&row)?.into_record()?.1)),
        }
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM facilities WHERE deleted = 0")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn has_demo_data(&self) -> Result<bool, StoreError> {
        let demo: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM facilities WHERE demo = 1 AND deleted = 0)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(demo)
    }

    async fn list(&self) -> Result<Vec<FacilityRecord>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT_ROW} WHERE deleted = 0 ORDER BY seq"))
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
        let rows = sqlx::query(&format!("{SELECT_ROW} WHERE seq > ? ORDER BY seq LIMIT ?"))
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
