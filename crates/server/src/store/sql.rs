//! The statements both databases share, written once: [`SqlStore`] implements [`Store`] for any
//! [`Backend`] (SQLite, PostgreSQL), and each backend module keeps only what really differs:
//! connecting and migrating, how a write transaction starts, row locks, the spelling of one
//! partial index's condition, the push writer's bulk statements, and how an id and a report
//! time are stored ([`DbId`], [`StoredTime`]: text and microseconds on SQLite, `UUID` and
//! `TIMESTAMPTZ` on PostgreSQL).
//!
//! Statements use `$N` placeholders (both drivers take them) and `TRUE`/`FALSE` (SQLite reads
//! them as 1 and 0), so their text is the same on both databases.

use super::push::{Answer, PushBatch, PushQueue};
use super::{
    account_from_row, check_no_duplicates, code_usable, cursor_seq, device_name, now,
    page_from_rows, plan_deletes, plan_upserts, report_record, scope_json, Account, AccountSummary,
    CodeOutcome, DeleteOutcome, NewAccount, RawPage, RevokeOutcome, Row, Store, StoreError, Stored,
    TokenOwner, UpsertOutcome, HISTORY_LIMIT, UPSERT_CHUNK,
};
use async_trait::async_trait;
use caremap_model::{Cursor, Facility, FacilityId, FacilityRecord, PageLimit, ReportRecord};
use chrono::{DateTime, Utc};
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row as _, Transaction,
    Type,
};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use uuid::Uuid;

/// What differs between the databases, besides the push writer and the encodings of
/// [`DbId`] and [`StoredTime`] (implemented in `sqlite.rs` and `postgres.rs`).
pub trait Backend: Database {
    /// Appended to a `SELECT` whose rows the transaction goes on to change: locks them until
    /// commit where the database locks rows (an SQLite write transaction holds the whole file).
    const FOR_UPDATE: &'static str;

    /// "Live demo facility", spelled as the partial index `facilities_demo` is, so the
    /// planner uses it.
    const LIVE_DEMO: &'static str;

    /// Brings the schema up to date.
    fn migrate(pool: &Pool<Self>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Starts a transaction that takes change-sequence numbers: registry writers are
    /// serialised, so numbers are committed in the order they are handed out.
    fn begin_registry(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send;

    /// Starts a transaction that writes accounts, codes or tokens (no sequence numbers).
    fn begin_accounts(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send;

    /// How many rows a statement changed (sqlx's drivers each say so; no common trait does).
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

/// A facility, report or mutation id as the database stores it: `TEXT` on SQLite, `UUID` on
/// PostgreSQL (the encodings live with each backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbId(pub Uuid);

impl From<FacilityId> for DbId {
    fn from(id: FacilityId) -> Self {
        DbId(id.as_uuid())
    }
}

impl From<DbId> for FacilityId {
    fn from(id: DbId) -> Self {
        FacilityId::from(id.0)
    }
}

/// A report time (`as_of`, `received_at`) as the database stores it: whole microseconds since
/// the epoch on SQLite (which compares text, and RFC 3339 text varies in its fractions),
/// `TIMESTAMPTZ` on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredTime(pub DateTime<Utc>);

/// A type that is bound and read as a column of `DB`.
pub trait Column<DB: Database>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB> {}

impl<DB: Database, T> Column<DB> for T where
    T: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>
{
}

/// The registry's store on a database `DB`. [`super::sqlite::SqliteStore`] and
/// [`super::postgres::PostgresStore`] are its two instances.
pub struct SqlStore<DB: Database> {
    pool: Pool<DB>,
    pushes: PushQueue,
    /// The database's id (`caremap_meta.database_id`, made at random by its migration), read
    /// once: every cursor names it.
    identity: tokio::sync::OnceCell<u64>,
}

impl<DB: Database> SqlStore<DB> {
    /// A store over `pool`, whose pushes go to `pushes`.
    pub(super) fn new(pool: Pool<DB>, pushes: PushQueue) -> Self {
        SqlStore {
            pool,
            pushes,
            identity: tokio::sync::OnceCell::new(),
        }
    }

    /// The pool of the requests' connections (the checks of `check.rs` read through it).
    pub(super) fn pool(&self) -> &Pool<DB> {
        &self.pool
    }
}

/// A stored database id (16 hex digits) as a number; never 0 (which means "no id").
fn parse_identity(text: &str) -> Result<u64, StoreError> {
    u64::from_str_radix(text.trim(), 16)
        .ok()
        .filter(|id| *id != 0)
        .ok_or_else(|| StoreError::Corrupt {
            id: "caremap_meta.database_id".to_owned(),
            detail: format!("not 16 hex digits: {text:?}"),
        })
}

const SELECT_ROW: &str =
    "SELECT id, seq, version, updated_at, deleted, body, status FROM facilities";

const SELECT_ACCOUNT: &str = "SELECT a.id, a.name, a.role, a.scope, a.created_at, a.revoked_at";

// The bounds below say "DB is a database these statements run on": its connections execute
// them, and it binds and reads these column types. Both impl blocks carry the same list.

impl<DB> SqlStore<DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    bool: Column<DB>,
    i64: Column<DB>,
    String: Column<DB>,
    Option<String>: Column<DB>,
    DateTime<Utc>: Column<DB>,
    DbId: Column<DB>,
    StoredTime: Column<DB>,
{
    /// Takes the next `n` numbers of the change sequence; returns the first.
    pub(super) async fn take_seqs(conn: &mut DB::Connection, n: usize) -> Result<i64, sqlx::Error> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let last: i64 = sqlx::query_scalar(
            "UPDATE registry_sequence SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq",
        )
        .bind(n)
        .fetch_one(&mut *conn)
        .await?;
        Ok(last - n + 1)
    }

    /// The database's id (see [`SqlStore::identity`]).
    async fn identity(&self) -> Result<u64, StoreError> {
        self.identity
            .get_or_try_init(|| async {
                let text: String =
                    sqlx::query_scalar("SELECT value FROM caremap_meta WHERE key = 'database_id'")
                        .fetch_one(&self.pool)
                        .await?;
                parse_identity(&text)
            })
            .await
            .copied()
    }

    fn read_row(row: &DB::Row) -> Result<Row, sqlx::Error> {
        Ok(Row {
            id: row.try_get::<DbId, _>("id")?.into(),
            seq: row.try_get("seq")?,
            version: row.try_get("version")?,
            updated_at: row.try_get("updated_at")?,
            deleted: row.try_get("deleted")?,
            body: row.try_get("body")?,
            status: row.try_get("status")?,
        })
    }

    fn read_account(row: &DB::Row) -> Result<Account, StoreError> {
        account_from_row(
            row.try_get("id")?,
            row.try_get("name")?,
            &row.try_get::<String, _>("role")?,
            &row.try_get::<String, _>("scope")?,
            row.try_get("created_at")?,
            row.try_get("revoked_at")?,
        )
    }

    /// The account's `revoked_at`, locking its row: `None` if there is no such account.
    async fn account_revoked_at(
        conn: &mut DB::Connection,
        id: i64,
    ) -> Result<Option<Option<DateTime<Utc>>>, sqlx::Error> {
        let select = format!(
            "SELECT revoked_at FROM accounts WHERE id = $1{}",
            DB::FOR_UPDATE
        );
        sqlx::query_scalar(&select)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
    }

    /// Revokes the account's working device tokens; how many there were.
    async fn revoke_tokens(
        conn: &mut DB::Connection,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE device_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(DB::rows_affected(&done))
    }

    /// Makes the account's unused enrollment codes expire now.
    async fn expire_codes(
        conn: &mut DB::Connection,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE enrollment_codes SET expires_at = $1 WHERE account_id = $2 AND used_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Stores a fresh enrollment code of account `id`.
    async fn insert_code(
        conn: &mut DB::Connection,
        id: i64,
        code_hash: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO enrollment_codes (code_hash, account_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(code_hash)
        .bind(id)
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The stored rows of the facilities of `chunk` that have one.
    async fn read_stored(
        conn: &mut DB::Connection,
        chunk: &[(FacilityId, Facility)],
    ) -> Result<HashMap<FacilityId, Stored>, sqlx::Error> {
        let select = format!(
            "SELECT id, version, deleted, body FROM facilities WHERE id IN ({})",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(&select);
        for (id, _) in chunk {
            query = query.bind(DbId::from(*id));
        }
        let rows = query.fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|row| {
                let stored = Stored {
                    version: row.try_get("version")?,
                    deleted: row.try_get("deleted")?,
                    body: row.try_get("body")?,
                };
                Ok((row.try_get::<DbId, _>("id")?.into(), stored))
            })
            .collect()
    }

    /// The version and deleted flag of the facilities of `ids` that have a row.
    async fn read_versions(
        conn: &mut DB::Connection,
        ids: &[FacilityId],
    ) -> Result<HashMap<FacilityId, (i64, bool)>, sqlx::Error> {
        let select = format!(
            "SELECT id, version, deleted FROM facilities WHERE id IN ({})",
            placeholders(ids.len())
        );
        let mut query = sqlx::query(&select);
        for id in ids {
            query = query.bind(DbId::from(*id));
        }
        let rows = query.fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|row| {
                let id = row.try_get::<DbId, _>("id")?.into();
                Ok((id, (row.try_get("version")?, row.try_get("deleted")?)))
            })
            .collect()
    }
}

/// `$1, $2, …, $n`: the placeholders of an `IN` list of `n` values.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, …, $c), ($c+1, …), …`: the placeholders of `rows` rows of `columns` values. (sqlx's
/// `QueryBuilder` would do it, but not over a generic database: its arguments would borrow the
/// builder for the builder's own lifetime.)
fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let first = row * columns + 1;
            let row: Vec<String> = (first..first + columns).map(|i| format!("${i}")).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    bool: Column<DB>,
    i64: Column<DB>,
    String: Column<DB>,
    Option<String>: Column<DB>,
    DateTime<Utc>: Column<DB>,
    DbId: Column<DB>,
    StoredTime: Column<DB>,
{
    async fn migrate(&self) -> Result<(), StoreError> {
        DB::migrate(&self.pool).await
    }

    async fn consistency(&self) -> Result<super::check::Consistency, StoreError> {
        self.check_consistency().await
    }

    async fn upsert_batch(
        &self,
        batch: &[(FacilityId, Facility)],
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        check_no_duplicates(batch)?;
        let mut tx = DB::begin_registry(&self.pool).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let updated_at = now();
        for chunk in batch.chunks(UPSERT_CHUNK) {
            let stored = Self::read_stored(&mut tx, chunk).await?;
            let (chunk_outcomes, writes) = plan_upserts(chunk, &stored)?;
            outcomes.extend(chunk_outcomes);
            if writes.is_empty() {
                continue;
            }
            let first_seq = Self::take_seqs(&mut tx, writes.len()).await?;
            let insert = format!(
                "INSERT INTO facilities (id, seq, version, updated_at, deleted, body, kind, demo) \
                 VALUES {} ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, \
                 version = excluded.version, updated_at = excluded.updated_at, deleted = FALSE, \
                 body = excluded.body, kind = excluded.kind, demo = excluded.demo",
                value_rows(writes.len(), 8)
            );
            let mut query = sqlx::query(&insert);
            for (w, seq) in writes.iter().zip(first_seq..) {
                query = query
                    .bind(DbId::from(w.id))
                    .bind(seq)
                    .bind(w.version)
                    .bind(updated_at)
                    .bind(false)
                    .bind(w.body.as_str())
                    .bind(w.facility.kind.as_str())
                    .bind(super::is_demo(w.facility));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn delete(&self, id: FacilityId) -> Result<DeleteOutcome, StoreError> {
        let mut tx = DB::begin_registry(&self.pool).await?;
        let existing: Option<(i64, bool)> =
            sqlx::query_as("SELECT version, deleted FROM facilities WHERE id = $1")
                .bind(DbId::from(id))
                .fetch_optional(&mut *tx)
                .await?;
        let outcome = match existing {
            None => DeleteOutcome::NotFound,
            Some((_, true)) => DeleteOutcome::AlreadyDeleted,
            Some((version, false)) => {
                let seq = Self::take_seqs(&mut tx, 1).await?;
                sqlx::query(
                    "UPDATE facilities SET seq = $1, version = $2, updated_at = $3, deleted = TRUE, \
                     body = NULL, kind = NULL, demo = FALSE, status = NULL WHERE id = $4",
                )
                .bind(seq)
                .bind(version + 1)
                .bind(now())
                .bind(DbId::from(id))
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
        let mut tx = DB::begin_registry(&self.pool).await?;
        let mut outcomes = Vec::with_capacity(ids.len());
        let mut done = HashSet::with_capacity(ids.len());
        let updated_at = now();
        for chunk in ids.chunks(UPSERT_CHUNK) {
            let stored = Self::read_versions(&mut tx, chunk).await?;
            let (chunk_outcomes, tombstones) = plan_deletes(chunk, &stored, &mut done);
            outcomes.extend(chunk_outcomes);
            if tombstones.is_empty() {
                continue;
            }
            let first_seq = Self::take_seqs(&mut tx, tombstones.len()).await?;
            // Every row exists, so each takes the DO UPDATE branch: one statement for the chunk.
            let write = format!(
                "INSERT INTO facilities (id, seq, version, updated_at, deleted, body, kind, demo) \
                 VALUES {} ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, \
                 version = excluded.version, updated_at = excluded.updated_at, deleted = TRUE, \
                 body = NULL, kind = NULL, demo = excluded.demo, status = NULL",
                value_rows(tombstones.len(), 8)
            );
            let mut query = sqlx::query(&write);
            for (w, seq) in tombstones.iter().zip(first_seq..) {
                query = query
                    .bind(DbId::from(w.id))
                    .bind(seq)
                    .bind(w.version)
                    .bind(updated_at)
                    .bind(true)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(false);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn get(&self, id: FacilityId) -> Result<Option<FacilityRecord>, StoreError> {
        let row = sqlx::query(&format!("{SELECT_ROW} WHERE id = $1"))
            .bind(DbId::from(id))
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(Self::read_row(&row)?.into_record()?.1)),
        }
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM facilities WHERE deleted = FALSE")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn last_change(&self) -> Result<u64, StoreError> {
        let last: i64 = sqlx::query_scalar("SELECT last_seq FROM registry_sequence WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(last).unwrap_or_default())
    }

    async fn renew_database_id(&self) -> Result<String, StoreError> {
        // Not secret, only unlikely to repeat: the high half of a random (v4) UUID.
        let id = u64::try_from(Uuid::new_v4().as_u128() >> 64).unwrap_or(1);
        let id = format!("{:016x}", id.max(1));
        sqlx::query("UPDATE caremap_meta SET value = $1 WHERE key = 'database_id'")
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    async fn has_demo_data(&self) -> Result<bool, StoreError> {
        let select = format!(
            "SELECT EXISTS (SELECT 1 FROM facilities WHERE {})",
            DB::LIVE_DEMO
        );
        let demo: bool = sqlx::query_scalar(&select).fetch_one(&self.pool).await?;
        Ok(demo)
    }

    async fn list(&self) -> Result<Vec<FacilityRecord>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT_ROW} WHERE deleted = FALSE ORDER BY seq"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(Self::read_row(row)?.into_record()?.1))
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
        let rows = rows
            .iter()
            .map(Self::read_row)
            .collect::<Result<Vec<_>, _>>()?;
        // Read after the rows: a change committed in between only raises it.
        let last_seq: i64 =
            sqlx::query_scalar("SELECT last_seq FROM registry_sequence WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        page_from_rows(rows, last_seq, since, limit, self.identity().await?)
    }

    async fn create_account(
        &self,
        account: &NewAccount,
        code_hash: &str,
        code_expires_at: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        let created_at = now();
        let scope = scope_json(&account.scope)?;
        let mut tx = DB::begin_accounts(&self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (name, role, scope, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(account.name.as_str())
        .bind(account.role.as_str())
        .bind(scope.as_str())
        .bind(created_at)
        .fetch_one(&mut *tx)
        .await?;
        Self::insert_code(&mut tx, id, code_hash, created_at, code_expires_at).await?;
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
                    account: Self::read_account(row)?,
                    active_devices: u64::try_from(devices).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn revoke_account(&self, id: i64) -> Result<RevokeOutcome, StoreError> {
        let at = now();
        let mut tx = DB::begin_accounts(&self.pool).await?;
        let outcome = match Self::account_revoked_at(&mut tx, id).await? {
            None => RevokeOutcome::NotFound,
            Some(Some(_)) => RevokeOutcome::AlreadyRevoked,
            Some(None) => {
                sqlx::query("UPDATE accounts SET revoked_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Self::expire_codes(&mut tx, id, at).await?;
                RevokeOutcome::Revoked {
                    tokens: Self::revoke_tokens(&mut tx, id, at).await?,
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
        let mut tx = DB::begin_accounts(&self.pool).await?;
        let outcome = match Self::account_revoked_at(&mut tx, id).await? {
            None => CodeOutcome::NotFound,
            Some(Some(_)) => CodeOutcome::Revoked,
            Some(None) => {
                Self::expire_codes(&mut tx, id, at).await?;
                let revoked_tokens = Self::revoke_tokens(&mut tx, id, at).await?;
                Self::insert_code(&mut tx, id, code_hash, at, code_expires_at).await?;
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
        let mut tx = DB::begin_accounts(&self.pool).await?;
        // The row lock makes two concurrent trades of one code wait for each other: one wins.
        let select = format!(
            "SELECT account_id, expires_at, used_at FROM enrollment_codes WHERE code_hash = $1{}",
            DB::FOR_UPDATE
        );
        let code: Option<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(&select)
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
        let account = Self::read_account(&row)?;
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
                account: Self::read_account(&row)?,
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
        let rows: Vec<(DbId, String, DateTime<Utc>, StoredTime, bool)> = sqlx::query_as(
            "SELECT id, body, recorded_at, received_at, superseded FROM reports \
             WHERE facility_id = $1 AND as_of >= $2 AND superseded = FALSE \
             ORDER BY as_of DESC, received_at DESC, id DESC LIMIT $3",
        )
        .bind(DbId::from(facility))
        .bind(StoredTime(since))
        .bind(i64::from(HISTORY_LIMIT))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, body, recorded_at, received_at, superseded)| {
                report_record(id.0, &body, recorded_at, received_at.0, superseded)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_hex_and_never_zero() {
        assert_eq!(
            parse_identity("9f3a0c1d2e4b5a69").ok(),
            Some(0x9f3a_0c1d_2e4b_5a69)
        );
        assert!(parse_identity("0000000000000000").is_err());
        assert!(parse_identity("xyz").is_err());
    }

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(placeholders(3), "$1, $2, $3");
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows(0, 8), "");
    }
}
