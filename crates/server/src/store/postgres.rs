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
//! Every connection has `statement_timeout` and `lock_timeout` set ([`super::DbOptions`]): a
//! statement stuck behind a lock or a slow plan ends with an error instead of holding a
//! connection (and the writers' lock) for ever.
//!
//! Pushes change the registry too (a facility's status takes a sequence number), so they take
//! the same lock. Each server process has one push writer ([`super::push::PushQueue`]) that
//! commits whatever pushes are queued in one transaction (group commit), as on SQLite; several
//! servers on one database queue on the lock, one group at a time.

use super::push::{self, Answer, ApplyGroup, Caller, Known, PushBatch, PushQueue, StatusSource};
use super::sql::{Backend, DbId, SqlStore, StoredTime};
use super::{now, StoreError};
use async_trait::async_trait;
use caremap_model::FacilityId;
use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult, PgTypeInfo, PgValueRef};
use sqlx::{Database, Decode, Encode, PgPool, Postgres, Row as _, Transaction, Type};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// The key of the advisory lock registry writers hold (any constant; "caremap" in ASCII).
const REGISTRY_WRITE_LOCK: i64 = 0x63_61_72_65_6d_61_70;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The store on PostgreSQL.
pub type PostgresStore = SqlStore<Postgres>;

/// The push writer's side of the store.
struct Writer {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names (it must exist).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, super::DbOptions::default()).await
    }

    /// [`PostgresStore::connect`] with `statement_timeout` and `lock_timeout` set on every
    /// connection. The push writer gets a connection of its own (a one-connection pool), so a
    /// group commit never waits for one behind the requests' reads, and reads never wait for
    /// the writer.
    pub async fn connect_with(url: &str, options: super::DbOptions) -> Result<Self, StoreError> {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).to_string();
        let connect = PgConnectOptions::from_str(url)?.options([
            ("statement_timeout", millis(options.statement_timeout)),
            ("lock_timeout", millis(options.lock_timeout)),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect.clone())
            .await?;
        let writer = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(connect);
        let pushes = PushQueue::start(Writer { pool: writer });
        Ok(SqlStore::new(pool, pushes))
    }
}

impl Backend for Postgres {
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const LIVE_DEMO: &'static str = "demo AND NOT deleted";

    async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
        MIGRATOR.run(pool).await?;
        Ok(())
    }

    // Holds the writers' lock until commit (see the module docs).
    async fn begin_registry(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(REGISTRY_WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    // Account writes take no sequence numbers: row locks (`FOR UPDATE`) are enough.
    async fn begin_accounts(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        pool.begin().await
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

// Ids are stored as `UUID`.
impl Type<Postgres> for DbId {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <Uuid as Type<Postgres>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Postgres> for DbId {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <Uuid as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbId {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Uuid as Decode<'r, Postgres>>::decode(value).map(DbId)
    }
}

// Report times are stored as `TIMESTAMPTZ`.
impl Type<Postgres> for StoredTime {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Postgres> for StoredTime {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for StoredTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<'r, Postgres>>::decode(value).map(StoredTime)
    }
}

#[async_trait]
impl ApplyGroup for Writer {
    async fn apply_group(&self, batches: &[PushBatch]) -> Result<Vec<Answer>, StoreError> {
        let mut tx = Postgres::begin_registry(&self.pool).await?;
        // After the lock: the receipt times of groups follow their commit order.
        let received_at = now();
        let wanted = push::wanted(batches);
        let mut known = Known::default();
        // A revocation racing this group: every revocation (of an account, or of its tokens
        // for a new code) first locks the account's row FOR UPDATE. Sharing those rows makes it
        // wait for this commit, or this wait for its; the read of the tokens below is a new
        // statement, so a revocation committed meanwhile is seen. Either way no push writes
        // after the revocation that stops it. (Accounts in id order: no deadlock between
        // groups and revocations.)
        sqlx::query(
            "SELECT a.id FROM accounts a WHERE a.id IN \
             (SELECT t.account_id FROM device_tokens t WHERE t.token_hash = ANY($1)) \
             ORDER BY a.id FOR SHARE OF a",
        )
        .bind(&wanted.tokens)
        .execute(&mut *tx)
        .await?;
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
            let first_seq = PostgresStore::take_seqs(&mut tx, changes.len()).await?;
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
