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
use super::{
    account_from_row, check_no_duplicates, code_usable, cursor_seq, device_name, is_demo, now,
    page_from_rows, plan_deletes, plan_upserts, report_record, scope_json, Account, AccountSummary,
    CodeOutcome, DeleteOutcome, NewAccount, RawPage, RevokeOutcome, Row, Store, StoreError, Stored,
    TokenOwner, UpsertOutcome, HISTORY_LIMIT, UPSERT_CHUNK,
};
use async_trait::async_trait;
use caremap_model::{Cursor, Facility, FacilityId, FacilityRecord, PageLimit, ReportRecord};
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row as _, Sqlite, SqliteConnection, SqlitePool};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const SELECT_ROW: &str =
    "SELECT id, seq, version, updated_at, deleted, body, status FROM facilities";

pub struct SqliteStore {
    pool: SqlitePool,
    pushes: PushQueue,
}

/// The push writer's side of the store: a connection of its own, so a group commit never
/// queues for one behind the requests' reads.
struct Writer {
    pool: SqlitePool,
}

const SELECT_ACCOUNT: &str = "SELECT a.id, a.name, a.role, a.scope, a.created_at, a.revoked_at";

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
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        let pushes = PushQueue::start(Writer { pool: writer });
        Ok(SqliteStore { pool, pushes })
    }
}

fn read_account(row: &sqlx::sqlite::SqliteRow) -> Result<Account, StoreError> {
    account_from_row(
        row.try_get("id")?,
        row.try_get("name")?,
        row.try_get("role")?,
        row.try_get("scope")?,
        row.try_get("created_at")?,
        row.try_get("revoked_at")?,
    )
}

/// The account's `revoked_at`: `None` if there is no such account.
async fn account_revoked_at(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Option<DateTime<Utc>>>, sqlx::Error> {
    sqlx::query_scalar("SELECT revoked_at FROM accounts WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Revokes the account's working device tokens; how many there were.
async fn revoke_tokens(
    conn: &mut SqliteConnection,
    id: i64,
    at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE device_tokens SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Makes the account's unused enrollment codes expire now.
async fn expire_codes(
    conn: &mut SqliteConnection,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE enrollment_codes SET expires_at = ? WHERE account_id = ? AND used_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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
                let first_seq = take_seqs(&mut tx, changes.len()).await?;
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

fn read_row(row: &sqlx::sqlite::SqliteRow) -> Result<Row, sqlx::Error> {
    Ok(Row {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
        deleted: row.try_get("deleted")?,
        body: row.try_get("body")?,
        status: row.try_get("status")?,
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
                     body = NULL, kind = NULL, demo = 0, status = NULL WHERE id = ?",
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
                 demo = excluded.demo, status = NULL",
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

    async fn create_account(
        &self,
        account: &NewAccount,
        code_hash: &str,
        code_expires_at: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let created_at = now();
        let scope = scope_json(&account.scope)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (name, role, scope, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(&account.name)
        .bind(account.role.as_str())
        .bind(&scope)
        .bind(created_at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO enrollment_codes (code_hash, account_id, created_at, expires_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(code_hash)
        .bind(id)
        .bind(created_at)
        .bind(code_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Account {
            id,
            name: account.name.clone(),
            role: account.role,
            scope: account.scope.clone(),
            created_at,
            revoked_at: None,
        })
    }

    async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_ACCOUNT}, (SELECT COUNT(*) FROM device_tokens t \
             WHERE t.account_id = a.id AND t.revoked_at IS NULL) AS devices \
             FROM accounts a ORDER BY a.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let devices: i64 = row.try_get("devices")?;
                Ok(AccountSummary {
                    account: read_account(row)?,
                    active_devices: u64::try_from(devices).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn revoke_account(&self, id: i64) -> Result<RevokeOutcome, StoreError> {
        let at = now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let outcome = match account_revoked_at(&mut tx, id).await? {
            None => RevokeOutcome::NotFound,
            Some(Some(_)) => RevokeOutcome::AlreadyRevoked,
            Some(None) => {
                sqlx::query("UPDATE accounts SET revoked_at = ? WHERE id = ?")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                expire_codes(&mut tx, id, at).await?;
                RevokeOutcome::Revoked {
                    tokens: revoke_tokens(&mut tx, id, at).await?,
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn replace_enrollment_code(
        &self,
        id: i64,
        code_hash: &str,
        code_expires_at: DateTime<Utc>,
    ) -> Result<CodeOutcome, StoreError> {
        let at = now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let outcome = match account_revoked_at(&mut tx, id).await? {
            None => CodeOutcome::NotFound,
            Some(Some(_)) => CodeOutcome::Revoked,
            Some(None) => {
                expire_codes(&mut tx, id, at).await?;
                let revoked_tokens = revoke_tokens(&mut tx, id, at).await?;
                sqlx::query(
                    "INSERT INTO enrollment_codes (code_hash, account_id, created_at, expires_at) \
                     VALUES (?, ?, ?, ?)",
                )
                .bind(code_hash)
                .bind(id)
                .bind(at)
                .bind(code_expires_at)
                .execute(&mut *tx)
                .await?;
                CodeOutcome::Issued { revoked_tokens }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn enroll(
        &self,
        code_hash: &str,
        token_hash: &str,
        device: Option<&str>,
    ) -> Result<Option<Account>, StoreError> {
        let at = now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let code: Option<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT account_id, expires_at, used_at FROM enrollment_codes WHERE code_hash = ?",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((account_id, expires_at, used_at)) = code else {
            return Ok(None);
        };
        let row = sqlx::query(&format!("{SELECT_ACCOUNT} FROM accounts a WHERE a.id = ?"))
            .bind(account_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let account = read_account(&row)?;
        if !code_usable(expires_at, used_at, account.revoked_at, at) {
            return Ok(None);
        }
        sqlx::query("UPDATE enrollment_codes SET used_at = ? WHERE code_hash = ?")
            .bind(at)
            .bind(code_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO device_tokens (token_hash, account_id, device, created_at, last_used_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(account_id)
        .bind(device_name(device))
        .bind(at)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(account))
    }

    async fn authenticate(&self, token_hash: &str) -> Result<Option<TokenOwner>, StoreError> {
        let row = sqlx::query(&format!(
            "{SELECT_ACCOUNT}, t.last_used_at FROM device_tokens t \
             JOIN accounts a ON a.id = t.account_id \
             WHERE t.token_hash = ? AND t.revoked_at IS NULL AND a.revoked_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(TokenOwner {
                account: read_account(&row)?,
                last_used_at: row.try_get("last_used_at")?,
            })),
        }
    }

    async fn touch_token(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE device_tokens SET last_used_at = ? WHERE token_hash = ?")
            .bind(now())
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn push(&self, batch: PushBatch) -> Result<Answer, StoreError> {
        self.pushes.push(batch).await
    }

    async fn report_history(
        &self,
        facility: FacilityId,
        since: DateTime<Utc>,
    ) -> Result<Vec<ReportRecord>, StoreError> {
        let rows: Vec<(String, String, DateTime<Utc>, i64, bool)> = sqlx::query_as(
            "SELECT id, body, recorded_at, received_at, superseded FROM reports \
             WHERE facility_id = ? AND as_of >= ? \
             ORDER BY as_of DESC, received_at DESC, id DESC LIMIT ?",
        )
        .bind(facility.to_string())
        .bind(push::micros(since))
        .bind(i64::from(HISTORY_LIMIT))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, body, recorded_at, received_at, superseded)| {
                let received_at = push::from_micros(&id, received_at)?;
                report_record(&id, &body, recorded_at, received_at, superseded)
            })
            .collect()
    }
}
