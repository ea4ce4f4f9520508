//! Storage of the facility registry: the [`Store`] trait every backend implements, the shared
//! rules of the change sequence, and [`connect`], which picks the backend from a database URL.
//!
//! The rules, the same on every backend (one conformance suite checks them on both):
//! - every change (insert, edit, deletion) takes the next number of one increasing sequence, and a
//!   facility appears in the feed once, at the number of its latest change;
//! - an upsert whose facility equals what is stored changes nothing (no version, no number), so
//!   re-importing a file does not make every phone download the registry again;
//! - a batch is written all or nothing, and changed facilities take their numbers in batch order;
//! - a deletion leaves a tombstone: the id stays, the version goes up, the body goes.
//!
//! Facilities are keyed by [`FacilityId`]; imports derive it from the external id with
//! [`FacilityId::from_external`], which is deterministic, so no separate lookup table is needed.
//!
//! Accounts, enrollment codes, device tokens, load reports and pushes live here too (see
//! [`push`] for how pushes are applied: one writer per store, group commit).
//!
//! Batches are written set-wise, `UPSERT_CHUNK` facilities at a time: one read of the stored
//! rows, one update of the sequence and one multi-row write per chunk, all in the batch's one
//! transaction (`plan_upserts` and `plan_deletes` decide, [`sql`] reads and writes). So an
//! import or a synthetic demo registry of 100,000 facilities takes seconds, not minutes.
//!
//! Every statement both databases share is written once, in [`sql`]; [`sqlite`] and
//! [`postgres`] keep only what differs (connecting, starting a write, row locks, the push
//! writer's bulk statements, how ids and report times are stored).

pub mod check;
pub mod postgres;
pub mod push;
pub mod sql;
pub mod sqlite;

use async_trait::async_trait;
use caremap_model::{
    AccountInfo, Cursor, DeviceName, Facility, FacilityId, FacilityRecord, FacilityStatus,
    PageLimit, RegistryPage, ReportRecord, Role, Scope,
};
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// The default database: an SQLite file under `data/`, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/caremap.sqlite";

/// External ids of demo facilities start with this source; see [`crate::demo`].
pub const DEMO_SOURCE_PREFIX: &str = "demo:";

/// What an upsert did to one facility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// New facility (or one that had been deleted and came back).
    Added,
    /// Stored facility changed: new version, new sequence number.
    Updated,
    /// Identical to what is stored: nothing written.
    Unchanged,
}

/// What a deletion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// A tombstone now stands in the facility's place, at this version.
    Deleted {
        version: u64,
    },
    /// The facility was deleted before; nothing changed.
    AlreadyDeleted,
    NotFound,
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row could not be read back (a bug or a hand-edited database).
    #[error("corrupt row for facility {id}: {detail}")]
    Corrupt { id: String, detail: String },
    /// A batch named the same facility twice; nothing of it was written.
    #[error("facility {0} appears twice in one batch")]
    DuplicateInBatch(FacilityId),
    /// The database URL is neither `sqlite:` nor `postgres://`.
    #[error("unsupported database URL (expected sqlite:… or postgres://…): {0}")]
    UnsupportedUrl(String),
    /// The cursor is beyond the last change: it came from another database (the server's was
    /// replaced or restored from a backup). The client must sync again from the start.
    #[error("cursor {0} is ahead of the last change")]
    CursorAhead(Cursor),
    /// The cursor names another database (the server's was replaced, or restored and given a
    /// new id): the client must sync again from the start.
    #[error("cursor {0} belongs to another database")]
    CursorForeign(Cursor),
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    /// The store's push writer has stopped (the store is shutting down, or a bug).
    #[error("the push writer has stopped")]
    WriterGone,
    /// The database was busy, locked or unreachable for a push's group: retry later.
    #[error("database busy or unavailable: {0}")]
    Busy(String),
    /// The push writer panicked on this push (a bug); the others of its group were stored.
    #[error("the push writer panicked on this push")]
    Panicked,
}

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Account {
    /// The account as its own phone sees it.
    pub fn info(&self) -> AccountInfo {
        AccountInfo {
            id: self.id,
            name: self.name.clone(),
            role: self.role,
            scope: self.scope.clone(),
        }
    }
}

/// An account to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

/// An account with how many devices hold a working token of it (`user list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub account: Account,
    pub active_devices: u64,
}

/// The account behind a working device token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub account: Account,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What revoking an account did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// Revoked now, with this many device tokens that worked until then.
    Revoked {
        tokens: u64,
    },
    AlreadyRevoked,
    NotFound,
}

/// What asking for a fresh enrollment code did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeOutcome {
    /// The new code works; the account's older unused codes no longer do, and its device tokens
    /// (the lost phone's among them) were revoked.
    Issued {
        revoked_tokens: u64,
    },
    /// The account is revoked: no new code.
    Revoked,
    NotFound,
}

/// The most reports [`Store::report_history`] returns.
pub const HISTORY_LIMIT: u32 = 1_000;

/// The registry's storage. Implemented by [`sqlite::SqliteStore`] and [`postgres::PostgresStore`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Brings the schema up to date.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Inserts or updates every facility of the batch in one transaction: all or nothing.
    /// Returns one outcome per facility, in batch order.
    async fn upsert_batch(
        &self,
        batch: &[(FacilityId, Facility)],
    ) -> Result<Vec<UpsertOutcome>, StoreError>;

    /// Replaces a facility by a tombstone.
    async fn delete(&self, id: FacilityId) -> Result<DeleteOutcome, StoreError>;

    /// Replaces every facility of `ids` by a tombstone in one transaction: all or nothing.
    /// Returns one outcome per id, in order; the tombstones take their numbers in that order. An
    /// id named twice is deleted once (the second is [`DeleteOutcome::AlreadyDeleted`]).
    async fn delete_batch(&self, ids: &[FacilityId]) -> Result<Vec<DeleteOutcome>, StoreError>;

    /// One facility's current record (a tombstone if deleted).
    async fn get(&self, id: FacilityId) -> Result<Option<FacilityRecord>, StoreError>;

    /// How many facilities are live (not deleted).
    async fn count(&self) -> Result<u64, StoreError>;

    /// The number of the last change (0 before any): one row read, so a cheap sign that the
    /// database answers (`/health`). The default, for stores without a sequence, counts.
    async fn last_change(&self) -> Result<u64, StoreError> {
        self.count().await
    }

    /// Gives the database a new random id (after a restore from a backup), so every cursor
    /// handed out before names another database; returns it (16 hex digits). Servers read the
    /// id once: restart them. Stores without an id refuse.
    async fn renew_database_id(&self) -> Result<String, StoreError> {
        Err(StoreError::UnsupportedUrl(
            "this store has no database id".to_owned(),
        ))
    }

    /// Whether any live facility is demo data.
    async fn has_demo_data(&self) -> Result<bool, StoreError>;

    /// Every live facility, in sequence order.
    async fn list(&self) -> Result<Vec<FacilityRecord>, StoreError>;

    /// The changes after `since`, oldest first, at most `limit` of them, with each facility's
    /// body as the JSON text stored (written by [`Store::upsert_batch`] from a valid `Facility`),
    /// so serving a page costs no parsing. [`StoreError::CursorAhead`] if `since` is beyond the
    /// last change.
    async fn registry_page_raw(
        &self,
        since: Cursor,
        limit: PageLimit,
    ) -> Result<RawPage, StoreError>;

    /// Creates an account with its first enrollment code (stored as `code_hash`, working until
    /// `code_expires_at`).
    async fn create_account(
        &self,
        account: &NewAccount,
        code_hash: &str,
        code_expires_at: DateTime<Utc>,
    ) -> Result<Account, StoreError>;

    /// Every account, oldest first, with its number of working device tokens.
    async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError>;

    /// Revokes an account and every device token of it, in one transaction.
    async fn revoke_account(&self, id: i64) -> Result<RevokeOutcome, StoreError>;

    /// A fresh enrollment code for an account (a lost or new phone): older unused codes stop
    /// working and the account's device tokens are revoked, in one transaction.
    async fn replace_enrollment_code(
        &self,
        id: i64,
        code_hash: &str,
        code_expires_at: DateTime<Utc>,
    ) -> Result<CodeOutcome, StoreError>;

    /// Trades an enrollment code for a device token, once: `None` when the code is unknown,
    /// used, expired, or its account revoked. The code is marked used and the token stored (as
    /// `token_hash`) in one transaction.
    async fn enroll(
        &self,
        code_hash: &str,
        token_hash: &str,
        device: Option<&str>,
    ) -> Result<Option<Account>, StoreError>;

    /// The account of a working device token (neither it nor its account revoked).
    async fn authenticate(&self, token_hash: &str) -> Result<Option<TokenOwner>, StoreError>;

    /// Records that a device token was used now.
    async fn touch_token(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Applies a push (see [`push`]): one result per mutation, in order, or `None` when the
    /// push's device token does not work (unknown, or it or its account revoked). Returns once
    /// every applied mutation is committed.
    async fn push(&self, batch: push::PushBatch) -> Result<push::Answer, StoreError>;

    /// A facility's reports with `as_of` at or after `since` that no correction replaced,
    /// newest first (by `as_of`, then receipt), at most [`HISTORY_LIMIT`].
    async fn report_history(
        &self,
        facility: FacilityId,
        since: DateTime<Utc>,
    ) -> Result<Vec<ReportRecord>, StoreError>;

    /// Whether the database agrees with itself: mutations and reports, each facility's status
    /// and its reports (`caremap-server check`, [`check`]). Read-only.
    async fn consistency(&self) -> Result<check::Consistency, StoreError>;

    /// [`Store::registry_page_raw`] with every facility parsed (and so validated again).
    async fn registry_page(
        &self,
        since: Cursor,
        limit: PageLimit,
    ) -> Result<RegistryPage, StoreError> {
        self.registry_page_raw(since, limit).await?.parse()
    }
}

/// A feed record with the facility as stored JSON text: the wire shape of
/// [`FacilityRecord`], without parsing the body.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RawRecord {
    pub id: FacilityId,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility: Option<Box<serde_json::value::RawValue>>,
    /// The facility's [`FacilityStatus`] as stored JSON text; absent until a report arrives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Box<serde_json::value::RawValue>>,
}

/// A page of [`RawRecord`]s: the wire shape of [`RegistryPage`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct RawPage {
    pub items: Vec<RawRecord>,
    pub cursor: Cursor,
    pub has_more: bool,
}

impl RawPage {
    /// The page with every facility and status parsed (and so validated again).
    pub fn parse(self) -> Result<RegistryPage, StoreError> {
        let items = self
            .items
            .into_iter()
            .map(|r| {
                let facility = match &r.facility {
                    None => None,
                    Some(body) => {
                        Some(serde_json::from_str::<Facility>(body.get()).map_err(|e| {
                            StoreError::Corrupt {
                                id: r.id.to_string(),
                                detail: format!("body: {e}"),
                            }
                        })?)
                    }
                };
                let status = match &r.status {
                    None => None,
                    Some(status) => Some(
                        serde_json::from_str::<FacilityStatus>(status.get()).map_err(|e| {
                            StoreError::Corrupt {
                                id: r.id.to_string(),
                                detail: format!("status: {e}"),
                            }
                        })?,
                    ),
                };
                Ok(FacilityRecord {
                    id: r.id,
                    version: r.version,
                    updated_at: r.updated_at,
                    deleted: r.deleted,
                    facility,
                    status,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(RegistryPage {
            items,
            cursor: self.cursor,
            has_more: self.has_more,
        })
    }
}

/// The store shared by the handlers.
pub type SharedStore = Arc<dyn Store>;

/// How long a statement may run, and wait for a lock, before the database cancels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbOptions {
    /// PostgreSQL's `statement_timeout` on every connection (0: none).
    pub statement_timeout: std::time::Duration,
    /// PostgreSQL's `lock_timeout` (row, table and advisory locks) on every connection, and
    /// SQLite's busy timeout (waiting for the file's write lock).
    pub lock_timeout: std::time::Duration,
}

/// Default [`DbOptions::statement_timeout`]: longer than any statement of an import or export
/// of 200,000 facilities, short enough that a stuck one ends.
pub const DEFAULT_STATEMENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Default [`DbOptions::lock_timeout`]: the push deadline (a push waiting longer is answered
/// 503 anyway).
pub const DEFAULT_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }
}

/// Opens the database `url` names (`sqlite:…` or `postgres://…`/`postgresql://…`) and runs the
/// migrations, with the default [`DbOptions`]. An SQLite file's directory is created when missing.
pub async fn connect(url: &str) -> Result<SharedStore, StoreError> {
    connect_with(url, DbOptions::default()).await
}

/// [`connect`] with the given timeouts.
pub async fn connect_with(url: &str, options: DbOptions) -> Result<SharedStore, StoreError> {
    let store: SharedStore = if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_file_dir(url) {
            std::fs::create_dir_all(&dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        Arc::new(sqlite::SqliteStore::connect_with(url, options).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(postgres::PostgresStore::connect_with(url, options).await?)
    } else {
        return Err(StoreError::UnsupportedUrl(redact_url(url)));
    };
    store.migrate().await?;
    Ok(store)
}

/// The directory of the file an `sqlite:` URL names, if it names one with a directory.
fn sqlite_file_dir(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Path::new(path)
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(Path::to_path_buf)
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Facilities an upsert reads and writes per statement (8 bound values each, well under the
/// bind-parameter limits of SQLite, 32,766, and PostgreSQL, 65,535).
pub(crate) const UPSERT_CHUNK: usize = 500;

/// Refuses a batch that names a facility twice, before anything is written.
pub(crate) fn check_no_duplicates(batch: &[(FacilityId, Facility)]) -> Result<(), StoreError> {
    let mut seen = HashSet::with_capacity(batch.len());
    match batch.iter().find(|(id, _)| !seen.insert(*id)) {
        Some((id, _)) => Err(StoreError::DuplicateInBatch(*id)),
        None => Ok(()),
    }
}

/// What an upsert compares a facility with: its stored row.
pub(crate) struct Stored {
    pub version: i64,
    pub deleted: bool,
    pub body: Option<String>,
}

/// A row an upsert writes: inserted, or replacing the stored one.
pub(crate) struct Write<'a> {
    pub id: FacilityId,
    pub facility: &'a Facility,
    pub body: String,
    pub version: i64,
}

/// Decides what upserting `chunk` does, given the stored rows of its facilities: the outcome of
/// each facility, in chunk order, and the rows to write, in chunk order too (the order in which
/// they take their sequence numbers). A facility equal to its live stored row is left alone.
pub(crate) fn plan_upserts<'a>(
    chunk: &'a [(FacilityId, Facility)],
    stored: &HashMap<FacilityId, Stored>,
) -> Result<(Vec<UpsertOutcome>, Vec<Write<'a>>), StoreError> {
    let mut outcomes = Vec::with_capacity(chunk.len());
    let mut writes = Vec::with_capacity(chunk.len());
    for (id, facility) in chunk {
        let body = serde_json::to_string(facility).map_err(|e| StoreError::Corrupt {
            id: id.to_string(),
            detail: e.to_string(),
        })?;
        let (outcome, version) = match stored.get(id) {
            Some(row) if !row.deleted && same_body(row.body.as_deref(), &body, facility) => {
                outcomes.push(UpsertOutcome::Unchanged);
                continue;
            }
            Some(row) if row.deleted => (UpsertOutcome::Added, row.version + 1),
            Some(row) => (UpsertOutcome::Updated, row.version + 1),
            None => (UpsertOutcome::Added, 1),
        };
        outcomes.push(outcome);
        writes.push(Write {
            id: *id,
            facility,
            body,
            version,
        });
    }
    Ok((outcomes, writes))
}

/// A tombstone a batch deletion writes.
pub(crate) struct Tombstone {
    pub id: FacilityId,
    pub version: i64,
}

/// Decides what deleting the `ids` of a chunk does, given the stored rows (version, deleted) of
/// those that have one; `done` holds the ids deleted earlier in the same batch.
pub(crate) fn plan_deletes(
    ids: &[FacilityId],
    stored: &HashMap<FacilityId, (i64, bool)>,
    done: &mut HashSet<FacilityId>,
) -> (Vec<DeleteOutcome>, Vec<Tombstone>) {
    let mut outcomes = Vec::with_capacity(ids.len());
    let mut tombstones = Vec::with_capacity(ids.len());
    for id in ids {
        let outcome = match stored.get(id) {
            None => DeleteOutcome::NotFound,
            Some((_, true)) => DeleteOutcome::AlreadyDeleted,
            Some(_) if !done.insert(*id) => DeleteOutcome::AlreadyDeleted,
            Some((version, false)) => {
                tombstones.push(Tombstone {
                    id: *id,
                    version: version + 1,
                });
                DeleteOutcome::Deleted {
                    version: u64::try_from(version + 1).unwrap_or_default(),
                }
            }
        };
        outcomes.push(outcome);
    }
    (outcomes, tombstones)
}

/// The clock for `updated_at`, truncated to microseconds so every backend stores it exactly.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Whether a facility is demo data (seeded, never real).
pub(crate) fn is_demo(facility: &Facility) -> bool {
    facility
        .external_ids
        .iter()
        .any(|id| id.as_str().starts_with(DEMO_SOURCE_PREFIX))
}

/// Whether the stored body already says what `facility` says.
pub(crate) fn same_body(stored: Option<&str>, body: &str, facility: &Facility) -> bool {
    match stored {
        None => false,
        Some(stored) if stored == body => true,
        Some(stored) => serde_json::from_str::<Facility>(stored).is_ok_and(|s| &s == facility),
    }
}

/// A facility row as both backends read it.
pub(crate) struct Row {
    pub id: FacilityId,
    pub seq: i64,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
    pub body: Option<String>,
    /// The status as stored JSON (None on a tombstone or before any report).
    pub status: Option<String>,
}

impl Row {
    /// The record with the body passed through as JSON text (checked to be JSON, not parsed).
    pub fn into_raw(mut self) -> Result<(u64, RawRecord), StoreError> {
        let body = self.body.take();
        let status = self.status.take();
        let id = self.id;
        let corrupt = |detail: String| StoreError::Corrupt {
            id: id.to_string(),
            detail,
        };
        let facility = match (body, self.deleted) {
            (_, true) => None,
            (Some(body), false) => Some(
                serde_json::value::RawValue::from_string(body)
                    .map_err(|e| corrupt(format!("body: {e}")))?,
            ),
            (None, false) => return Err(corrupt("live facility without body".into())),
        };
        let status = match status {
            Some(status) if !self.deleted => Some(
                serde_json::value::RawValue::from_string(status)
                    .map_err(|e| corrupt(format!("status: {e}")))?,
            ),
            _ => None,
        };
        let seq = u64::try_from(self.seq).map_err(|e| corrupt(format!("seq: {e}")))?;
        let version = u64::try_from(self.version).map_err(|e| corrupt(format!("version: {e}")))?;
        Ok((
            seq,
            RawRecord {
                id,
                version,
                updated_at: self.updated_at,
                deleted: self.deleted,
                facility,
                status,
            },
        ))
    }

    pub fn into_record(self) -> Result<(u64, FacilityRecord), StoreError> {
        let id = self.id;
        let corrupt = |detail: String| StoreError::Corrupt {
            id: id.to_string(),
            detail,
        };
        let facility = match (&self.body, self.deleted) {
            (_, true) => None,
            (Some(body), false) => Some(
                serde_json::from_str::<Facility>(body)
                    .map_err(|e| corrupt(format!("body: {e}")))?,
            ),
            (None, false) => return Err(corrupt("live facility without body".into())),
        };
        let status = match (&self.status, self.deleted) {
            (Some(status), false) => Some(
                serde_json::from_str::<FacilityStatus>(status)
                    .map_err(|e| corrupt(format!("status: {e}")))?,
            ),
            _ => None,
        };
        let seq = u64::try_from(self.seq).map_err(|e| corrupt(format!("seq: {e}")))?;
        let version = u64::try_from(self.version).map_err(|e| corrupt(format!("version: {e}")))?;
        Ok((
            seq,
            FacilityRecord {
                id,
                version,
                updated_at: self.updated_at,
                deleted: self.deleted,
                facility,
                status,
            },
        ))
    }
}

/// An account from its stored columns.
pub(crate) fn account_from_row(
    id: i64,
    name: String,
    role: &str,
    scope: &str,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
) -> Result<Account, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        id: format!("account {id}"),
        detail,
    };
    Ok(Account {
        id,
        name,
        role: role.parse().map_err(|e| corrupt(format!("role: {e}")))?,
        scope: serde_json::from_str(scope).map_err(|e| corrupt(format!("scope: {e}")))?,
        created_at,
        revoked_at,
    })
}

/// An account's scope as stored (JSON).
pub(crate) fn scope_json(scope: &Scope) -> Result<String, StoreError> {
    serde_json::to_string(scope).map_err(|e| StoreError::Corrupt {
        id: "scope".to_owned(),
        detail: e.to_string(),
    })
}

/// Whether an enrollment code row can still be traded at `now`.
pub(crate) fn code_usable(
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    account_revoked_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    used_at.is_none() && account_revoked_at.is_none() && now < expires_at
}

/// A device's name as stored: the contract's rule ([`DeviceName::clip`]), whoever calls.
pub(crate) fn device_name(device: Option<&str>) -> Option<String> {
    device
        .and_then(DeviceName::clip)
        .map(DeviceName::into_string)
}

/// A stored report as the history endpoint returns it.
pub(crate) fn report_record(
    id: uuid::Uuid,
    body: &str,
    recorded_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    superseded: bool,
) -> Result<ReportRecord, StoreError> {
    Ok(ReportRecord {
        id: id.into(),
        report: serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
            id: id.to_string(),
            detail: format!("report: {e}"),
        })?,
        recorded_at,
        received_at,
        superseded,
    })
}

/// Builds a page from rows read with `LIMIT limit + 1`: the extra row only says there is more.
/// Cursors name `database` (the store's id, 0 when it has none); `since` must name the same
/// database, or none (the start, a cursor of a server before database ids).
pub(crate) fn page_from_rows(
    rows: Vec<Row>,
    last_seq: i64,
    since: Cursor,
    limit: PageLimit,
    database: u64,
) -> Result<RawPage, StoreError> {
    if since.database().is_some_and(|db| db != database) {
        return Err(StoreError::CursorForeign(since));
    }
    if cursor_seq(since) > last_seq {
        return Err(StoreError::CursorAhead(since));
    }
    let limit = limit.get() as usize;
    let has_more = rows.len() > limit;
    let mut cursor = match since.seq() {
        0 => Cursor::START,
        seq => Cursor::new(seq, database),
    };
    let mut items = Vec::with_capacity(rows.len().min(limit));
    for row in rows.into_iter().take(limit) {
        let (seq, record) = row.into_raw()?;
        cursor = Cursor::new(seq, database);
        items.push(record);
    }
    Ok(RawPage {
        items,
        cursor,
        has_more,
    })
}

/// The cursor as the signed integer the databases store.
pub(crate) fn cursor_seq(since: Cursor) -> i64 {
    // Cursor parsing refuses numbers beyond i64::MAX; saturate rather than wrap anyway.
    i64::try_from(since.seq()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_dirs() {
        assert_eq!(
            sqlite_file_dir("sqlite://data/caremap.sqlite"),
            Some("data".into())
        );
        assert_eq!(sqlite_file_dir("sqlite:x.sqlite?mode=rwc"), None);
        assert_eq!(sqlite_file_dir("sqlite::memory:"), None);
    }

    #[tokio::test]
    async fn the_backend_follows_the_url() {
        let err = connect("mysql://root:pw@localhost/db")
            .await
            .err()
            .expect("refused");
        assert!(
            matches!(err, StoreError::UnsupportedUrl(url) if url == "mysql://root:***@localhost/db")
        );
        let dir = std::env::temp_dir().join(format!("caremap-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite:{}/nested/db.sqlite", dir.display());
        let store = connect(&url).await.expect("sqlite, directory created");
        assert_eq!(store.count().await.expect("count"), 0);
        drop(store);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
