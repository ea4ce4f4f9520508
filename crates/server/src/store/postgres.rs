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
//!
//! Pushes change the registry too (a facility's status takes a sequence number), so they take
//! the same lock. Each server process has one push writer ([`super::push::PushQueue`]) that
//! commits whatever pushes are queued in one transaction (group commit), as on SQLite; several
//! servers on one database queue on the lock, one group at a time.

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
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row as _, Transaction};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use uuid::Uuid;

/// The key of the advisory lock registry writers hold (any constant; "caremap" in ASCII).
const REGISTRY_WRITE_LOCK: i64 = 0x63_61_72_65_6d_61_70;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const SELECT_ROW: &str =
    "SELECT id, seq, version, updated_at, deleted, body, status FROM facilities";

pub struct PostgresStore {
    pool: PgPool,
    pushes: PushQueue,
}

/// The push writer's side of the store.
struct Writer {
    pool: PgPool,
}

const SELECT_ACCOUNT: &str = "SELECT a.id, a.name, a.role, a.scope, a.created_at, a.revoked_at";

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names (it must exist).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        let pushes = PushQueue::start(Writer { pool: pool.clone() });
        Ok(PostgresStore { pool, pushes })
    }

    /// Starts a registry write transaction holding the writers' lock (see the module docs).
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        begin_write(&self.pool).await
    }
}

async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(REGISTRY_WRITE_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

fn read_account(row: &PgRow) -> Result<Account, StoreError> {
    account_from_row(
        row.try_get("id")?,
        row.try_get("name")?,
        row.try_get("role")?,
        row.try_get("scope")?,
        row.try_get("created_at")?,
        row.try_get("revoked_at")?,
    )
}

/// The account's `revoked_at`, locking its row: `None` if there is no such account.
async fn account_revoked_at(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<Option<DateTime<Utc>>>, sqlx::Error> {
    sqlx::query_scalar("SELECT revoked_at FROM accounts WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Revokes the account's working device tokens; how many there were.
async fn revoke_tokens(
    conn: &mut PgConnection,
    id: i64,
    at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE device_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Makes the account's unused enrollment codes expire now.
async fn expire_codes(
    conn: &mut PgConnection,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE enrollment_codes SET expires_at = $1 WHERE account_id = $2 AND used_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl ApplyGroup for Writer {
    async fn apply_group(&self, batches: &[PushBatch]) -> Result<Vec<Answer>, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        // After the lock: the receipt times of groups follow their commit order.
        let received_at = now();
        let wanted = push::wanted(batches);
        let mut known = Known::default();
        let rows = sqlx::query(
            "SELECT t.token_hash, t.last_used_at, a.id, a.role, a.scope FROM device_tokens t \
             JOIN accounts a ON a.id = t.account_id \
             WHERE t.token_hash = ANY($1) AND t.revoked_at IS NULL AND a.revoked_at IS NULL",
        )
        .bind(&wanted.tokens)
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let caller = Caller::from_row(
                row.try_get("id")?,
                &row.try_get::<String, _>("role")?,
                &row.try_get::<String, _>("scope")?,
                row.try_get("last_used_at")?,
            )?;
            known.callers.insert(row.try_get("token_hash")?, caller);
        }
        let rows: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT id, content_hash FROM mutations WHERE id = ANY($1)")
                .bind(&wanted.mutations)
                .fetch_all(&mut *tx)
                .await?;
        known.mutations.extend(rows);
        let facilities: Vec<Uuid> = wanted.facilities.iter().map(FacilityId::as_uuid).collect();
        let rows: Vec<Uuid> =
            sqlx::query_scalar("SELECT id FROM facilities WHERE NOT deleted AND id = ANY($1)")
                .bind(&facilities)
                .fetch_all(&mut *tx)
                .await?;
        known
            .live_facilities
            .extend(rows.into_iter().map(FacilityId::from));
        let reports: Vec<Uuid> = wanted.reports.iter().map(|r| r.as_uuid()).collect();
        let rows: Vec<(Uuid, Uuid)> =
            sqlx::query_as("SELECT id, facility_id FROM reports WHERE id = ANY($1)")
                .bind(&reports)
                .fetch_all(&mut *tx)
                .await?;
        known.reports.extend(
            rows.into_iter()
                .map(|(id, facility)| (id.into(), FacilityId::from(facility))),
        );

        let plan = push::plan(batches, &mut known, received_at)?;
        if !plan.writes.is_empty() {
            let w = &plan.writes;
            let ids: Vec<Uuid> = w.iter().map(|w| w.id.as_uuid()).collect();
            let facilities: Vec<Uuid> = w.iter().map(|w| w.report.facility.as_uuid()).collect();
            let accounts: Vec<i64> = w.iter().map(|w| w.account_id).collect();
            let as_of: Vec<DateTime<Utc>> = w.iter().map(|w| w.report.as_of).collect();
            let recorded: Vec<DateTime<Utc>> = w.iter().map(|w| w.recorded_at).collect();
            let bodies: Vec<&str> = w.iter().map(|w| w.body.as_str()).collect();
            let kinds: Vec<&str> = w.iter().map(|w| w.kind).collect();
            let hashes: Vec<&str> = w.iter().map(|w| w.content_hash).collect();
            sqlx::query(
                "INSERT INTO reports (id, facility_id, account_id, as_of, recorded_at, received_at, body) \
                 SELECT id, facility_id, account_id, as_of, recorded_at, $6, body \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::timestamptz[], $5::timestamptz[], $7::text[]) \
                 AS v(id, facility_id, account_id, as_of, recorded_at, body)",
            )
            .bind(&ids)
            .bind(&facilities)
            .bind(&accounts)
            .bind(&as_of)
            .bind(&recorded)
            .bind(received_at)
            .bind(&bodies)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO mutations (id, kind, content_hash, account_id, applied_at) \
                 SELECT id, kind, content_hash, account_id, $5 \
                 FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bigint[]) \
                 AS v(id, kind, content_hash, account_id)",
            )
            .bind(&ids)
            .bind(&kinds)
            .bind(&hashes)
            .bind(&accounts)
            .bind(received_at)
            .execute(&mut *tx)
            .await?;
        }
        if !plan.superseded.is_empty() {
            let ids: Vec<Uuid> = plan.superseded.iter().map(|r| r.as_uuid()).collect();
            sqlx::query("UPDATE reports SET superseded = TRUE WHERE id = ANY($1)")
                .bind(&ids)
                .execute(&mut *tx)
                .await?;
        }

        let facilities: Vec<Uuid> = plan.facilities.iter().map(FacilityId::as_uuid).collect();
        let rows = sqlx::query(
            "SELECT f.id, f.status, r.id AS report, r.body, r.received_at FROM facilities f \
             LEFT JOIN reports r ON r.id = (SELECT n.id FROM reports n \
             WHERE n.facility_id = f.id AND NOT n.superseded AND n.as_of >= $1 \
             ORDER BY n.as_of DESC, n.received_at DESC, n.id DESC LIMIT 1) \
             WHERE f.id = ANY($2) ORDER BY f.id",
        )
        .bind(received_at - chrono::Duration::days(push::STATUS_WINDOW_DAYS))
        .bind(&facilities)
        .fetch_all(&mut *tx)
        .await?;
        let mut sources = Vec::with_capacity(rows.len());
        for row in rows {
            let report: Option<Uuid> = row.try_get("report")?;
            let newest = match report {
                None => None,
                Some(report) => Some((
                    report.into(),
                    row.try_get::<String, _>("body")?,
                    row.try_get::<DateTime<Utc>, _>("received_at")?,
                )),
            };
            sources.push(StatusSource {
                facility: FacilityId::from(row.try_get::<Uuid, _>("id")?),
                stored: row.try_get("status")?,
                newest,
            });
        }
        sources.sort_by_key(|s| s.facility);
        let changes = push::status_changes(sources)?;
        if !changes.is_empty() {
            let first_seq = take_seqs(&mut tx, changes.len()).await?;
            let ids: Vec<Uuid> = changes.iter().map(|(id, _)| id.as_uuid()).collect();
            let statuses: Vec<Option<&str>> = changes.iter().map(|(_, s)| s.as_deref()).collect();
            let seqs: Vec<i64> = (first_seq..).take(changes.len()).collect();
            sqlx::query(
                "UPDATE facilities f SET status = v.status, seq = v.seq, version = f.version + 1, \
                 updated_at = $4 FROM UNNEST($1::uuid[], $2::text[], $3::bigint[]) AS v(id, status, seq) \
                 WHERE f.id = v.id",
            )
            .bind(&ids)
            .bind(&statuses)
            .bind(&seqs)
            .bind(received_at)
            .execute(&mut *tx)
            .await?;
        }

        if !plan.touch.is_empty() {
            sqlx::query("UPDATE device_tokens SET last_used_at = $1 WHERE token_hash = ANY($2)")
                .bind(received_at)
                .bind(&plan.touch)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(plan.results)
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
        status: row.try_get("status")?,
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
                     body = NULL, kind = NULL, demo = FALSE, status = NULL WHERE id = $4",
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
                 demo = excluded.demo, status = NULL",
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

    async fn create_account(
        &self,
        account: &NewAccount,
        code_hash: &str,
        code_expires_at: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let created_at = now();
        let scope = scope_json(&account.scope)?;
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (name, role, scope, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&account.name)
        .bind(account.role.as_str())
        .bind(&scope)
        .bind(created_at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO enrollment_codes (code_hash, account_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
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
        let mut tx = self.pool.begin().await?;
        let outcome = match account_revoked_at(&mut tx, id).await? {
            None => RevokeOutcome::NotFound,
            Some(Some(_)) => RevokeOutcome::AlreadyRevoked,
            Some(None) => {
                sqlx::query("UPDATE accounts SET revoked_at = $1 WHERE id = $2")
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
        let mut tx = self.pool.begin().await?;
        let outcome = match account_revoked_at(&mut tx, id).await? {
            None => CodeOutcome::NotFound,
            Some(Some(_)) => CodeOutcome::Revoked,
            Some(None) => {
                expire_codes(&mut tx, id, at).await?;
                let revoked_tokens = revoke_tokens(&mut tx, id, at).await?;
                sqlx::query(
                    "INSERT INTO enrollment_codes (code_hash, account_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
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
        let mut tx = self.pool.begin().await?;
        // The row lock makes two concurrent trades of one code wait for each other: one wins.
        let code: Option<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT account_id, expires_at, used_at FROM enrollment_codes WHERE code_hash = $1 FOR UPDATE",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((account_id, expires_at, used_at)) = code else {
            return Ok(None);
        };
        let row = sqlx::query(&format!("{SELECT_ACCOUNT} FROM accounts a WHERE a.id = $1"))
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
        sqlx::query("UPDATE enrollment_codes SET used_at = $1 WHERE code_hash = $2")
            .bind(at)
            .bind(code_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO device_tokens (token_hash, account_id, device, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5)",
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
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.revoked_at IS NULL"
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
        sqlx::query("UPDATE device_tokens SET last_used_at = $1 WHERE token_hash = $2")
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
        let rows: Vec<(Uuid, String, DateTime<Utc>, DateTime<Utc>, bool)> = sqlx::query_as(
            "SELECT id, body, recorded_at, received_at, superseded FROM reports \
             WHERE facility_id = $1 AND as_of >= $2 \
             ORDER BY as_of DESC, received_at DESC, id DESC LIMIT $3",
        )
        .bind(facility.as_uuid())
        .bind(since)
        .bind(i64::from(HISTORY_LIMIT))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, body, recorded_at, received_at, superseded)| {
                report_record(&id.to_string(), &body, recorded_at, received_at, superseded)
            })
            .collect()
    }
}
