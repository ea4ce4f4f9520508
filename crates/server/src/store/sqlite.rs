//! The SQLite backend: the embedded default, one file next to the server.
//!
//! WAL journal so readers never wait for the writer; `synchronous=FULL` so a change is on disk
//! before it is acknowledged; a busy timeout so concurrent writers queue instead of failing;
//! foreign keys on. Write transactions start with `BEGIN IMMEDIATE`: they take the write lock
//! first, so two writers never deadlock upgrading a read lock, and sequence numbers are handed
//! out and committed in order.

use super::{
    check_no_duplicates, cursor_seq, is_demo, now, page_from_rows, plan_deletes, plan_upserts,
    DeleteOutcome, RawPage, Row, Store, StoreError, Stored, UpsertOutcome, UPSERT_CHUNK,
};
use async_trait::async_trait;
use caremap_model::{Cursor, Facility, FacilityId, FacilityRecord, PageLimit};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row as _, Sqlite, SqliteConnection, SqlitePool};
use std::collections::{HashMap, HashSet};
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
    take_seqs(conn, 1).await
}

/// Takes the next `n` numbers of the sequence; returns the first.
async fn take_seqs(conn: &mut SqliteConnection, n: usize) -> Result<i64, sqlx::Error> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let last: i64 = sqlx::query_scalar(
        "UPDATE registry_sequence SET last_seq = last_seq + ? WHERE id = 1 RETURNING last_seq",
    )
    .bind(n)
    .fetch_one(conn)
    .await?;
    Ok(last - n + 1)
}

/// The stored rows of the facilities of `chunk` that have one.
async fn read_stored(
    conn: &mut SqliteConnection,
    chunk: &[(FacilityId, Facility)],
) -> Result<HashMap<FacilityId, Stored>, StoreError> {
    let mut select = QueryBuilder::<Sqlite>::new(
        "SELECT id, version, deleted, body FROM facilities WHERE id IN (",
    );
    let mut ids = select.separated(", ");
    for (id, _) in chunk {
        ids.push_bind(id.to_string());
    }
    select.push(")");
    let rows: Vec<(String, i64, bool, Option<String>)> =
        select.build_query_as().fetch_all(&mut *conn).await?;
    rows.into_iter()
        .map(|(id, version, deleted, body)| {
            let id = id.parse().map_err(|e| StoreError::Corrupt {
                id: id.clone(),
                detail: format!("id: {e}"),
            })?;
            Ok((
                id,
                Stored {
                    version,
                    deleted,
                    body,
                },
            ))
        })
        .collect()
}

/// The version and deleted flag of the facilities of `ids` that have a row.
async fn read_versions(
    conn: &mut SqliteConnection,
    ids: &[FacilityId],
) -> Result<HashMap<FacilityId, (i64, bool)>, StoreError> {
    let mut select =
        QueryBuilder::<Sqlite>::new("SELECT id, version, deleted FROM facilities WHERE id IN (");
    let mut list = select.separated(", ");
    for id in ids {
        list.push_bind(id.to_string());
    }
    select.push(")");
    let rows: Vec<(String, i64, bool)> = select.build_query_as().fetch_all(&mut *conn).await?;
    rows.into_iter()
        .map(|(id, version, deleted)| {
            let parsed = id.parse().map_err(|e| StoreError::Corrupt {
                id: id.clone(),
                detail: format!("id: {e}"),
            })?;
            Ok((parsed, (version, deleted)))
        })
        .collect()
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
        check_no_duplicates(batch)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO facilities (id, seq, version, updated_at, deleted, body, kind, demo) ",
            );
            insert.push_values(writes.iter().zip(first_seq..), |mut row, (w, seq)| {
                row.push_bind(w.id.to_string())
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
                 updated_at = excluded.updated_at, deleted = 0, body = excluded.body, \
                 kind = excluded.kind, demo = excluded.demo",
            );
            insert.build().execute(&mut *tx).await?;
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

    async fn delete_batch(&self, ids: &[FacilityId]) -> Result<Vec<DeleteOutcome>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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
            let mut write = QueryBuilder::<Sqlite>::new(
                "INSERT INTO facilities (id, seq, version, updated_at, deleted, body, kind, demo) ",
            );
            write.push_values(tombstones.iter().zip(first_seq..), |mut row, (w, seq)| {
                row.push_bind(w.id.to_string())
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
                 updated_at = excluded.updated_at, deleted = 1, body = NULL, kind = NULL, \
                 demo = excluded.demo",
            );
            write.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
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
