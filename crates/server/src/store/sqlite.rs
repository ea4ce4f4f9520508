//! The SQLite backend: the embedded default, one file next to the server.
//!
//! WAL journal so readers never wait for the writer; `synchronous=FULL` so a change is on disk
//! before it is acknowledged; a busy timeout so concurrent writers queue instead of failing;
//! foreign keys on. Write transactions start with `BEGIN IMMEDIATE`: they take the write lock
//! first, so two writers never deadlock upgrading a read lock, and sequence numbers are handed
//! out and committed in order.
//!
//! Pushes go through one writer task ([`super::push::PushQueue`]): it commits whatever pushes
//! are queued in one `BEGIN IMMEDIATE` transaction, so hundreds of reports share one fsync.

use super::push::{self, Answer, ApplyGroup, Caller, Known, PushBatch, PushQueue, StatusSource};
use super::sql::{Backend, DbId, SqlStore, StoredTime};
use super::{now, StoreError};
use async_trait::async_trait;
use caremap_model::FacilityId;
use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous, SqliteTypeInfo, SqliteValueRef,
};
use sqlx::{Database, Decode, Encode, Row as _, Sqlite, SqlitePool, Transaction, Type};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The store on SQLite.
pub type SqliteStore = SqlStore<Sqlite>;

/// The push writer's side of the store: a connection of its own, so a group commit never
/// queues for one behind the requests' reads.
struct Writer {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file an `sqlite:` URL names.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, super::DbOptions::default()).await
    }

    /// [`SqliteStore::connect`] waiting at most `options.lock_timeout` for the write lock.
    pub async fn connect_with(url: &str, options: super::DbOptions) -> Result<Self, StoreError> {
        let busy = options.lock_timeout.max(Duration::from_millis(100));
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(busy)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        let pushes = PushQueue::start(Writer { pool: writer });
        Ok(SqlStore::new(pool, pushes))
    }
}

impl Backend for Sqlite {
    // The write transaction (`BEGIN IMMEDIATE`) holds the database's one write lock.
    const FOR_UPDATE: &'static str = "";
    const LIVE_DEMO: &'static str = "demo = 1 AND deleted = 0";

    async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
        MIGRATOR.run(pool).await?;
        Ok(())
    }

    async fn begin_registry(
        pool: &SqlitePool,
    ) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    async fn begin_accounts(
        pool: &SqlitePool,
    ) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

// Ids are stored as their hyphenated text.
impl Type<Sqlite> for DbId {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbId {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0.to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbId {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(DbId(text.parse()?))
    }
}

// Report times are stored as whole microseconds since the epoch.
impl Type<Sqlite> for StoredTime {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for StoredTime {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Sqlite>>::encode(push::micros(self.0), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for StoredTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let us = <i64 as Decode<'r, Sqlite>>::decode(value)?;
        let time = DateTime::from_timestamp_micros(us)
            .ok_or_else(|| format!("{us} µs is out of the range of times"))?;
        Ok(StoredTime(time))
    }
}

/// A JSON array of the values as text: SQLite's `json_each(?)` takes a list as one bound value,
/// so a statement's text is the same for any number of rows (prepared once, cached).
fn json_list<T: ToString>(values: impl IntoIterator<Item = T>) -> String {
    serde_json::Value::Array(
        values
            .into_iter()
            .map(|v| serde_json::Value::String(v.to_string()))
            .collect(),
    )
    .to_string()
}

/// A time as sqlx writes it to SQLite (RFC 3339, `+00:00`), for rows built as JSON.
fn sqlite_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// Everything a group needs to know, in one statement: the working tokens with their accounts
/// (`t`), the stored mutation ids (`m`), the live facilities (`f`) and the reports named by
/// corrections (`r`).
const READ_KNOWN: &str = "\
    SELECT 't' AS k, t.token_hash AS a, a.role AS b, a.id AS c, a.scope AS d, t.last_used_at AS e \
      FROM device_tokens t JOIN accounts a ON a.id = t.account_id \
     WHERE t.token_hash IN (SELECT value FROM json_each(?1)) \
       AND t.revoked_at IS NULL AND a.revoked_at IS NULL \
    UNION ALL SELECT 'm', id, content_hash, NULL, NULL, NULL FROM mutations \
     WHERE id IN (SELECT value FROM json_each(?2)) \
    UNION ALL SELECT 'f', id, NULL, NULL, NULL, NULL FROM facilities \
     WHERE deleted = 0 AND id IN (SELECT value FROM json_each(?3)) \
    UNION ALL SELECT 'r', id, facility_id, NULL, NULL, NULL FROM reports \
     WHERE id IN (SELECT value FROM json_each(?4))";

/// The newest countable report of each facility (see `push::STATUS_WINDOW_DAYS`) and its
/// stored status.
const READ_NEWEST: &str = "\
    SELECT f.id, f.status, r.id AS report, r.body, r.received_at FROM facilities f \
      LEFT JOIN reports r ON r.id = (SELECT n.id FROM reports n \
           WHERE n.facility_id = f.id AND n.superseded = 0 AND n.as_of >= ?1 \
           ORDER BY n.as_of DESC, n.received_at DESC, n.id DESC LIMIT 1) \
     WHERE f.id IN (SELECT value FROM json_each(?2))";

#[async_trait]
impl ApplyGroup for Writer {
    async fn apply_group(&self, batches: &[PushBatch]) -> Result<Vec<Answer>, StoreError> {
        let received_at = now();
        let mut tx = Sqlite::begin_registry(&self.pool).await?;
        let wanted = push::wanted(batches);
        let mut known = Known::default();
        let rows = sqlx::query(READ_KNOWN)
            .bind(json_list(&wanted.tokens))
            .bind(json_list(&wanted.mutations))
            .bind(json_list(&wanted.facilities))
            .bind(json_list(&wanted.reports))
            .fetch_all(&mut *tx)
            .await?;
        for row in rows {
            let kind: String = row.try_get("k")?;
            let a: String = row.try_get("a")?;
            match kind.as_str() {
                "t" => {
                    let caller = Caller::from_row(
                        row.try_get("c")?,
                        &row.try_get::<String, _>("b")?,
                        &row.try_get::<String, _>("d")?,
                        row.try_get("e")?,
                    )?;
                    known.callers.insert(a, caller);
                }
                "m" => {
                    known.mutations.insert(parse_id(&a)?, row.try_get("b")?);
                }
                "f" => {
                    known
                        .live_facilities
                        .insert(FacilityId::from(parse_id(&a)?));
                }
                _ => {
                    let facility: String = row.try_get("b")?;
                    known
                        .reports
                        .insert(parse_id(&a)?.into(), FacilityId::from(parse_id(&facility)?));
                }
            }
        }

        let plan = push::plan(batches, &mut known, received_at)?;
        if !plan.writes.is_empty() {
            let rows = serde_json::Value::Array(
                plan.writes
                    .iter()
                    .map(|w| {
                        serde_json::json!([
                            w.id.to_string(),
                            w.report.facility.to_string(),
                            w.account_id,
                            push::micros(w.report.as_of),
                            sqlite_time(w.recorded_at),
                            w.body,
                            w.kind,
                            w.content_hash,
                        ])
                    })
                    .collect(),
            )
            .to_string();
            sqlx::query(
                "INSERT INTO reports (id, facility_id, account_id, as_of, recorded_at, received_at, body) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ?2, value ->> 5 \
                 FROM json_each(?1)",
            )
            .bind(&rows)
            .bind(push::micros(received_at))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO mutations (id, kind, content_hash, account_id, applied_at) \
                 SELECT value ->> 0, value ->> 6, value ->> 7, value ->> 2, ?2 FROM json_each(?1)",
            )
            .bind(&rows)
            .bind(received_at)
            .execute(&mut *tx)
            .await?;
        }
        if !plan.superseded.is_empty() {
            sqlx::query(
                "UPDATE reports SET superseded = 1 WHERE id IN (SELECT value FROM json_each(?))",
            )
            .bind(json_list(&plan.superseded))
            .execute(&mut *tx)
            .await?;
        }

        if !plan.facilities.is_empty() {
            let window_start = received_at - chrono::Duration::days(push::STATUS_WINDOW_DAYS);
            let rows = sqlx::query(READ_NEWEST)
                .bind(push::micros(window_start))
                .bind(json_list(&plan.facilities))
                .fetch_all(&mut *tx)
                .await?;
            let mut sources = Vec::with_capacity(rows.len());
            for row in rows {
                let facility: String = row.try_get("id")?;
                let report: Option<String> = row.try_get("report")?;
                let newest = match report {
                    None => None,
                    Some(report) => {
                        let received: i64 = row.try_get("received_at")?;
                        Some((
                            parse_id(&report)?.into(),
                            row.try_get::<String, _>("body")?,
                            push::from_micros(&report, received)?,
                        ))
                    }
                };
                sources.push(StatusSource {
                    facility: FacilityId::from(parse_id(&facility)?),
                    stored: row.try_get("status")?,
                    newest,
                });
            }
            sources.sort_by_key(|s| s.facility);
            let changes = push::status_changes(sources)?;
            if !changes.is_empty() {
                let first_seq = SqliteStore::take_seqs(&mut tx, changes.len()).await?;
                let rows = serde_json::Value::Array(
                    changes
                        .iter()
                        .zip(first_seq..)
                        .map(|((id, status), seq)| serde_json::json!([id.to_string(), status, seq]))
                        .collect(),
                )
                .to_string();
                sqlx::query(
                    "UPDATE facilities SET status = v.value ->> 1, seq = v.value ->> 2, \
                     version = version + 1, updated_at = ?2 \
                     FROM json_each(?1) AS v WHERE facilities.id = v.value ->> 0",
                )
                .bind(&rows)
                .bind(received_at)
                .execute(&mut *tx)
                .await?;
            }
        }

        if !plan.touch.is_empty() {
            sqlx::query(
                "UPDATE device_tokens SET last_used_at = ?1 \
                 WHERE token_hash IN (SELECT value FROM json_each(?2))",
            )
            .bind(received_at)
            .bind(json_list(&plan.touch))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(plan.results)
    }
}

fn parse_id(id: &str) -> Result<uuid::Uuid, StoreError> {
    id.parse().map_err(|e| StoreError::Corrupt {
        id: id.to_owned(),
        detail: format!("id: {e}"),
    })
}
