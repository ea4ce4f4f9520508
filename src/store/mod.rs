//! The registry on the phone: IndexedDB through `indexed_db_futures`, so the app opens and
//! answers with no network at all.
//!
//! The schema is versioned; [`migrate`] takes a database from any older version to the current
//! one a step at a time. A registry page and the cursor after it are written in one
//! transaction: a sync cut off mid-way resumes after the last page that was stored whole.

use caremap_model::{Cursor, FacilityRecord, Lang, RegistryPage};
use chrono::{DateTime, Utc};
use indexed_db_futures::database::{Database, VersionChangeEvent};
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use serde::{Deserialize, Serialize};

/// The database the app uses (tests open others).
pub const DB_NAME: &str = "caremap";

/// The schema version this build expects.
pub const SCHEMA_VERSION: u32 = 1;

/// Object store names.
pub mod stores {
    /// Live facility records, keyed by `id`; indexed by kind.
    pub const FACILITIES: &str = "facilities";
    /// Sync bookkeeping under fixed keys.
    pub const META: &str = "meta";
    /// Mutations waiting to be sent (the reporting feature fills it), keyed by `id`.
    pub const OUTBOX: &str = "outbox";
}

/// Index names.
pub mod indexes {
    /// Facilities by `facility.kind`.
    pub const BY_KIND: &str = "by_kind";
}

const SYNC_META_KEY: &str = "registry_sync";

/// What the phone knows of its registry sync.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncMeta {
    /// Where the next pull starts: after the last page stored whole.
    pub cursor: Cursor,
    /// When a pull last reached the end of the feed.
    pub last_complete: Option<DateTime<Utc>>,
}

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// IndexedDB is missing or refused to open (private mode, blocked by another tab…).
    #[error("the local database could not be opened: {0}")]
    Open(String),
    /// The browser's storage quota is exhausted.
    #[error("the phone's storage for this app is full")]
    QuotaExceeded,
    /// Any other IndexedDB failure.
    #[error("local database error: {0}")]
    Other(String),
}

impl StoreError {
    /// One line for a user, in their language: what happened and what they can do.
    pub fn user_message(&self, lang: Lang) -> String {
        match self {
            StoreError::QuotaExceeded => lang.pick(
                "手机存储空间不足，机构数据无法保存到本机。请清理手机空间后重试。",
                "The phone is out of storage for caremap: facilities cannot be saved on it. Free some space and try again.",
            ),
            StoreError::Open(_) => lang.pick(
                "无法使用本机存储（可能是无痕模式），离线时将看不到机构数据。",
                "This browser's local storage is not available (private mode?): facilities will not be there offline.",
            ),
            StoreError::Other(_) => lang.pick(
                "本机存储出错，机构数据可能没有保存。请重新打开应用后重试。",
                "The phone's local storage failed; facilities may not have been saved. Reopen the app and try again.",
            ),
        }
        .to_owned()
    }

    fn from_idb(err: indexed_db_futures::error::Error) -> Self {
        let text = err.to_string();
        if text.contains("QuotaExceeded") {
            StoreError::QuotaExceeded
        } else {
            StoreError::Other(text)
        }
    }
}

impl From<indexed_db_futures::error::Error> for StoreError {
    fn from(err: indexed_db_futures::error::Error) -> Self {
        StoreError::from_idb(err)
    }
}

impl From<indexed_db_futures::error::OpenDbError> for StoreError {
    fn from(err: indexed_db_futures::error::OpenDbError) -> Self {
        StoreError::Open(err.to_string())
    }
}

/// Upgrades the schema from `old_version` to [`SCHEMA_VERSION`], one step per version.
fn migrate(event: &VersionChangeEvent, db: &Database) -> indexed_db_futures::Result<()> {
    let old_version = event.old_version() as u32;
    if old_version < 1 {
        let facilities = db
            .create_object_store(stores::FACILITIES)
            .with_key_path("id".into())
            .build()?;
        facilities
            .create_index(indexes::BY_KIND, "facility.kind".into())
            .build()?;
        db.create_object_store(stores::META).build()?;
        db.create_object_store(stores::OUTBOX)
            .with_key_path("id".into())
            .build()?;
    }
    Ok(())
}

/// The phone's local database.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (creating or upgrading) the database `name`.
    pub async fn open(name: &str) -> Result<Store, StoreError> {
        let db = Database::open(name)
            .with_version(SCHEMA_VERSION)
            .with_on_upgrade_needed(|event, db| migrate(&event, &db))
            .await?;
        Ok(Store { db })
    }

    /// The object stores the opened database has, for checks and diagnostics.
    pub fn store_names(&self) -> Vec<String> {
        self.db.object_store_names().collect()
    }

    /// Closes the connection (tests reopen a database to check what persisted).
    pub fn close(self) {
        self.db.close();
    }

    /// Deletes the database `name` (tests start from nothing).
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        Database::delete_by_name(name)?.await?;
        Ok(())
    }

    /// Every live facility the phone holds.
    pub async fn facilities(&self) -> Result<Vec<FacilityRecord>, StoreError> {
        let tx = self.db.transaction(stores::FACILITIES).build()?;
        let store = tx.object_store(stores::FACILITIES)?;
        let records = store
            .get_all::<FacilityRecord>()
            .serde()?
            .await?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(records)
    }

    /// How many live facilities the phone holds.
    pub async fn facility_count(&self) -> Result<u32, StoreError> {
        let tx = self.db.transaction(stores::FACILITIES).build()?;
        let store = tx.object_store(stores::FACILITIES)?;
        Ok(store.count().primitive()?.await?)
    }

    /// The sync bookkeeping; defaults before the first sync.
    pub async fn sync_meta(&self) -> Result<SyncMeta, StoreError> {
        let tx = self.db.transaction(stores::META).build()?;
        let store = tx.object_store(stores::META)?;
        let meta: Option<SyncMeta> = store.get(SYNC_META_KEY).serde()?.await?;
        Ok(meta.unwrap_or_default())
    }

    /// Forgets the registry and its cursor, for a full sync from the start (the server said
    /// our cursor is not one of its own: its database was replaced or restored).
    pub async fn reset_registry(&self) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction([stores::FACILITIES, stores::META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        tx.object_store(stores::FACILITIES)?.clear()?;
        tx.object_store(stores::META)?
            .delete(SYNC_META_KEY)
            .primitive()?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores one registry page and the cursor after it, all or nothing: live records are
    /// written, tombstones delete, and when the page is the feed's last, the sync is marked
    /// complete at `now`.
    pub async fn apply_page(
        &self,
        page: &RegistryPage,
        now: DateTime<Utc>,
    ) -> Result<SyncMeta, StoreError> {
        let tx = self
            .db
            .transaction([stores::FACILITIES, stores::META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let facilities = tx.object_store(stores::FACILITIES)?;
        let meta_store = tx.object_store(stores::META)?;

        let previous: Option<SyncMeta> = meta_store.get(SYNC_META_KEY).serde()?.await?;
        let mut meta = previous.unwrap_or_default();
        for record in &page.items {
            if record.deleted || record.facility.is_none() {
                facilities.delete(record.id.to_string()).primitive()?;
            } else {
                facilities.put(record).serde()?;
            }
        }
        meta.cursor = page.cursor;
        if !page.has_more {
            meta.last_complete = Some(now);
        }
        meta_store
            .put(&meta)
            .with_key(SYNC_META_KEY)
            .without_key_type()
            .serde()?;
        tx.commit().await?;
        Ok(meta)
    }
}
