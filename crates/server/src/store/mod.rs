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
//! Batches are written set-wise, `UPSERT_CHUNK` facilities at a time: one read of the stored
//! rows, one update of the sequence and one multi-row write per chunk, all in the batch's one
//! transaction (`plan_upserts` and `plan_deletes` decide, the backends read and write). So an
//! import or a synthetic demo registry of 100,000 facilities takes seconds, not minutes.

pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use caremap_model::{Cursor, Facility, FacilityId, FacilityRecord, PageLimit, RegistryPage};
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
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
}

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

    /// [`Store::registry_page_raw`] with every facility parsed (and so validated again).
    async fn registry_page(
        &self,
        since: Cursor,
        limit: PageLimit,
    ) -> Result<RegistryPage, StoreError> {
        let raw = self.registry_page_raw(since, limit).await?;
        let items = raw
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
                Ok(FacilityRecord {
                    id: r.id,
                    version: r.version,
                    updated_at: r.updated_at,
                    deleted: r.deleted,
                    facility,
                    status: None,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(RegistryPage {
            items,
            cursor: raw.cursor,
            has_more: raw.has_more,
        })
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
}

/// A page of [`RawRecord`]s: the wire shape of [`RegistryPage`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct RawPage {
    pub items: Vec<RawRecord>,
    pub cursor: Cursor,
    pub has_more: bool,
}

/// The store shared by the handlers.
pub type SharedStore = Arc<dyn Store>;

/// Opens the database `url` names (`sqlite:…` or `postgres://…`/`postgresql://…`) and runs the
/// migrations. An SQLite file's directory is created when missing.
pub async fn connect(url: &str) -> Result<SharedStore, StoreError> {
    let store: SharedStore = if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_file_dir(url) {
            std::fs::create_dir_all(&dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        Arc::new(sqlite::SqliteStore::connect(url).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(postgres::PostgresStore::connect(url).await?)
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
    pub id: String,
    pub seq: i64,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
    pub body: Option<String>,
}

impl Row {
    /// The record with the body passed through as JSON text (checked to be JSON, not parsed).
    pub fn into_raw(mut self) -> Result<(u64, RawRecord), StoreError> {
        let body = self.body.take();
        let corrupt = |detail: String| StoreError::Corrupt {
            id: self.id.clone(),
            detail,
        };
        let id: FacilityId = self.id.parse().map_err(|e| corrupt(format!("id: {e}")))?;
        let facility = match (body, self.deleted) {
            (_, true) => None,
            (Some(body), false) => Some(
                serde_json::value::RawValue::from_string(body)
                    .map_err(|e| corrupt(format!("body: {e}")))?,
            ),
            (None, false) => return Err(corrupt("live facility without body".into())),
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
            },
        ))
    }

    pub fn into_record(self) -> Result<(u64, FacilityRecord), StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt {
            id: self.id.clone(),
            detail,
        };
        let id: FacilityId = self.id.parse().map_err(|e| corrupt(format!("id: {e}")))?;
        let facility = match (&self.body, self.deleted) {
            (_, true) => None,
            (Some(body), false) => Some(
                serde_json::from_str::<Facility>(body)
                    .map_err(|e| corrupt(format!("body: {e}")))?,
            ),
            (None, false) => return Err(corrupt("live facility without body".into())),
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
                status: None,
            },
        ))
    }
}

/// Builds a page from rows read with `LIMIT limit + 1`: the extra row only says there is more.
pub(crate) fn page_from_rows(
    rows: Vec<Row>,
    last_seq: i64,
    since: Cursor,
    limit: PageLimit,
) -> Result<RawPage, StoreError> {
    if cursor_seq(since) > last_seq {
        return Err(StoreError::CursorAhead(since));
    }
    let limit = limit.get() as usize;
    let has_more = rows.len() > limit;
    let mut cursor = since;
    let mut items = Vec::with_capacity(rows.len().min(limit));
    for row in rows.into_iter().take(limit) {
        let (seq, record) = row.into_raw()?;
        cursor = Cursor::from_seq(seq);
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
