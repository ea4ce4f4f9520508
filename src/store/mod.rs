//! The registry on the phone: IndexedDB through `indexed_db_futures`, so the app opens and
//! answers with no network at all.
//!
//! The schema is versioned; [`migrate`] takes a database from any older version to the current
//! one a step at a time. A registry page and the cursor after it are written in one
//! transaction: a sync cut off mid-way resumes after the last page that was stored whole.
//!
//! The reporting side keeps three things here: the device's account (its token, under a fixed
//! key in `meta`), the outbox (reports written before anything is sent, removed only once the
//! server acknowledged them, each with the account that wrote it) and the history of reports
//! the server acknowledged (`reports`).

use crate::i18n::{locale_of, td_string, Locale};
use caremap_model::push::MutationError;
use caremap_model::{
    AccountInfo, Cursor, FacilityRecord, Lang, LoadReport, Mutation, MutationResult, Outcome,
    RegistryPage, ReportId,
};
use chrono::{DateTime, Utc};
use indexed_db_futures::database::{Database, VersionChangeEvent};
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use serde::{Deserialize, Serialize};

/// The database the app uses (tests open others).
pub const DB_NAME: &str = "caremap";

/// The schema version this build expects.
pub const SCHEMA_VERSION: u32 = 2;

/// Object store names.
pub mod stores {
    /// Live facility records, keyed by `id`; indexed by kind.
    pub const FACILITIES: &str = "facilities";
    /// Sync bookkeeping under fixed keys.
    pub const META: &str = "meta";
    /// Mutations waiting to be sent (the reporting feature fills it), keyed by `id`.
    pub const OUTBOX: &str = "outbox";
    /// Reports the server acknowledged, the phone's history (since version 2), keyed by `id`.
    pub const REPORTS: &str = "reports";
}

/// Index names.
pub mod indexes {
    /// Facilities by `facility.kind`.
    pub const BY_KIND: &str = "by_kind";
}

const SYNC_META_KEY: &str = "registry_sync";

/// The `meta` key of the device's account (since version 2).
const ACCOUNT_META_KEY: &str = "account";

/// How long [`Store::apply_page`] writes records in one task before it lets the browser in:
/// short enough that a phone four times slower than the machine stays under Lighthouse's 50 ms
/// (50 records a task, the fixed batch before, took 15–30 ms here at full speed).
const PUT_SLICE_MS: f64 = 8.0;

/// The account this phone is enrolled with: the device token and what the server said of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// The bearer token (the only copy: the server keeps a hash).
    pub token: String,
    pub account: AccountInfo,
    /// When this phone was enrolled (its clock).
    pub enrolled_at: DateTime<Utc>,
    /// The server said the token is no longer valid (401): a new enrollment code is needed.
    #[serde(default)]
    pub revoked: bool,
}

/// Where a report in the outbox stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OutboxState {
    /// Not yet acknowledged by the server: sent at the next chance.
    Pending,
    /// The server refused it; kept (never resent as it is) until the doctor fixes or discards it.
    Rejected {
        code: String,
        /// The server's words, in `lang` (the interface's language when it was sent).
        message: String,
        lang: Lang,
        /// When the refusal arrived (phone clock).
        at: DateTime<Utc>,
    },
}

/// The account that wrote a report in the outbox: only that account's token may send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportAuthor {
    /// The account's id on the server ([`AccountInfo::id`]): what decides who may send.
    pub id: i64,
    /// Its name when the report was written, to say whose a held report is.
    pub name: String,
}

impl From<&AccountInfo> for ReportAuthor {
    fn from(account: &AccountInfo) -> Self {
        ReportAuthor {
            id: account.id,
            name: account.name.clone(),
        }
    }
}

/// A report waiting in the outbox. The mutation's JSON is made once, when the report is saved,
/// and kept ([`OutboxEntry::mutation_json`]): every send carries those bytes, so a retry is the
/// first try's body even after an app update that serializes reports differently (which the
/// server would otherwise refuse as an id reused for other content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The report's id, which is also the mutation's (the idempotency key).
    pub id: ReportId,
    /// Order of writing: reports are sent in this order.
    pub seq: u64,
    pub report: LoadReport,
    /// The phone's clock when the doctor saved it.
    pub recorded_at: DateTime<Utc>,
    pub state: OutboxState,
    /// The account that wrote it. A report is sent only with that account's token: signed out,
    /// or with another account enrolled, it waits (held) until that account is enrolled again.
    /// `None` for reports written before the outbox recorded accounts: they go with whichever
    /// account is enrolled when they are next sent.
    #[serde(default)]
    pub account: Option<ReportAuthor>,
    /// The mutation's JSON exactly as first made ([`OutboxEntry::seal`]), sent as it is every
    /// time. `None` only in entries an older app stored: [`Store::seal_outbox`] makes it once
    /// for them, before they are next sent.
    #[serde(default)]
    pub mutation_json: Option<String>,
}

impl OutboxEntry {
    /// The `load_report` mutation that carries this report.
    pub fn mutation(&self) -> Mutation {
        Mutation::load_report(self.id, &self.report, self.recorded_at)
    }

    /// Makes and keeps the mutation's JSON if it has none yet.
    pub fn seal(&mut self) {
        if self.mutation_json.is_none() {
            // A `Mutation` (ids, strings, numbers, a JSON value) always serializes.
            self.mutation_json = serde_json::to_string(&self.mutation()).ok();
        }
    }

    /// The mutation as sent: the bytes kept when it was saved. Only if they are missing, or are
    /// not a mutation of this id (a damaged store), is it made again from the report.
    pub fn mutation_json(&self) -> String {
        self.mutation_json
            .as_ref()
            .filter(|json| {
                serde_json::from_str::<Mutation>(json).is_ok_and(|m| m.id == self.id.as_uuid())
            })
            .cloned()
            .unwrap_or_else(|| serde_json::to_string(&self.mutation()).unwrap_or_default())
    }

    pub fn is_pending(&self) -> bool {
        self.state == OutboxState::Pending
    }

    /// Whether the account `account` (an [`AccountInfo::id`]) may send it: it wrote it, or
    /// nobody is recorded as its writer.
    pub fn sendable_by(&self, account: i64) -> bool {
        self.account.as_ref().is_none_or(|a| a.id == account)
    }

    /// The account it waits for when `enrolled` (the enrolled account's id, if any) may not
    /// send it.
    pub fn held_for(&self, enrolled: Option<i64>) -> Option<&ReportAuthor> {
        self.account.as_ref().filter(|a| Some(a.id) != enrolled)
    }
}

/// A report the server acknowledged, kept on the phone as its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentReport {
    pub id: ReportId,
    pub report: LoadReport,
    pub recorded_at: DateTime<Utc>,
    /// When the acknowledgement arrived (phone clock).
    pub sent_at: DateTime<Utc>,
}

/// What one stored push answer changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Acknowledged (applied or duplicate): moved from the outbox to the history.
    pub sent: u32,
    /// Refused: kept in the outbox with the reason.
    pub rejected: u32,
}

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
        let locale = locale_of(lang);
        match self {
            StoreError::QuotaExceeded => td_string!(locale, store_full),
            StoreError::Open(_) => td_string!(locale, store_unavailable),
            StoreError::Other(_) => td_string!(locale, store_failed),
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
    if old_version < 2 {
        // The history of acknowledged reports; the account lives in `meta`. Nothing held
        // before (registry, cursor, outbox) is touched.
        db.create_object_store(stores::REPORTS)
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
        // Each `put` turns its record into a JS object and copies it into the database (a
        // structured clone) at once, on the page's thread: a page of thousands would be one long
        // task. So the writes go in slices of about `PUT_SLICE_MS`, each in a task of its own:
        // the last request of a slice is awaited, and the next slice is written from its success
        // event, which keeps the transaction alive.
        let mut slice_started = js_sys::Date::now();
        for (n, record) in page.items.iter().enumerate() {
            let request = if record.deleted || record.facility.is_none() {
                facilities.delete(record.id.to_string()).primitive()?
            } else {
                facilities.put(record).serde()?
            };
            if n + 1 < page.items.len() && js_sys::Date::now() - slice_started >= PUT_SLICE_MS {
                request.await?;
                slice_started = js_sys::Date::now();
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

    /// The account this phone is enrolled with, if any.
    pub async fn account(&self) -> Result<Option<AccountRecord>, StoreError> {
        let tx = self.db.transaction(stores::META).build()?;
        let store = tx.object_store(stores::META)?;
        Ok(store.get(ACCOUNT_META_KEY).serde()?.await?)
    }

    /// Stores (or replaces) the account.
    pub async fn save_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        self.save_account_replacing(account, None).await
    }

    /// Stores `account`; when it is enrolled in place of the revoked account `revoked`, it is
    /// handed that account's reports still in the outbox, in the same transaction. A revoked
    /// account can never send again, and the health office gives its doctor a new account for
    /// the same clinics: without this its unsent reports would wait forever. (A doctor who only
    /// signed out keeps theirs: only they send them.)
    pub async fn save_account_replacing(
        &self,
        account: &AccountRecord,
        revoked: Option<i64>,
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction([stores::META, stores::OUTBOX])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        tx.object_store(stores::META)?
            .put(account)
            .with_key(ACCOUNT_META_KEY)
            .without_key_type()
            .serde()?;
        if let Some(revoked) = revoked {
            let outbox = tx.object_store(stores::OUTBOX)?;
            let entries = outbox
                .get_all::<OutboxEntry>()
                .serde()?
                .await?
                .collect::<Result<Vec<_>, _>>()?;
            for mut entry in entries {
                if entry.account.as_ref().is_some_and(|a| a.id == revoked) {
                    entry.account = Some(ReportAuthor::from(&account.account));
                    outbox.put(&entry).serde()?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the account and its token (signing out of this phone). The outbox and the
    /// history stay: unsent reports are held for the account that wrote them, and sent once
    /// that account is enrolled again (never by another).
    pub async fn forget_account(&self) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(stores::META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        tx.object_store(stores::META)?
            .delete(ACCOUNT_META_KEY)
            .primitive()?;
        tx.commit().await?;
        Ok(())
    }

    /// Every report in the outbox, in the order they were written.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let tx = self.db.transaction(stores::OUTBOX).build()?;
        let store = tx.object_store(stores::OUTBOX)?;
        let mut entries = store
            .get_all::<OutboxEntry>()
            .serde()?
            .await?
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.seq);
        Ok(entries)
    }

    /// Gives every entry in the outbox that an older app stored without its mutation's JSON
    /// that JSON ([`OutboxEntry::seal`]), made once now and kept: from then on it is sent as
    /// it is. Returns how many were sealed.
    pub async fn seal_outbox(&self) -> Result<u32, StoreError> {
        let tx = self
            .db
            .transaction(stores::OUTBOX)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(stores::OUTBOX)?;
        let entries = store
            .get_all::<OutboxEntry>()
            .serde()?
            .await?
            .collect::<Result<Vec<_>, _>>()?;
        let mut sealed = 0;
        for mut entry in entries {
            if entry.mutation_json.is_none() {
                entry.seal();
                store.put(&entry).serde()?;
                sealed += 1;
            }
        }
        tx.commit().await?;
        Ok(sealed)
    }

    /// Writes a report by `account` to the outbox, pending, after every report already there;
    /// when it replaces a refused one (the doctor fixed it), that one is removed in the same
    /// transaction. Returns what was stored.
    pub async fn add_to_outbox(
        &self,
        id: ReportId,
        report: &LoadReport,
        recorded_at: DateTime<Utc>,
        account: &AccountInfo,
        replacing: Option<ReportId>,
    ) -> Result<OutboxEntry, StoreError> {
        let tx = self
            .db
            .transaction(stores::OUTBOX)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(stores::OUTBOX)?;
        let held = store
            .get_all::<OutboxEntry>()
            .serde()?
            .await?
            .collect::<Result<Vec<_>, _>>()?;
        let seq = held.iter().map(|e| e.seq).max().unwrap_or(0) + 1;
        let mut entry = OutboxEntry {
            id,
            seq,
            report: report.clone(),
            recorded_at,
            state: OutboxState::Pending,
            account: Some(ReportAuthor::from(account)),
            mutation_json: None,
        };
        entry.seal();
        store.put(&entry).serde()?;
        if let Some(old) = replacing.filter(|old| *old != id) {
            store.delete(old.to_string()).primitive()?;
        }
        tx.commit().await?;
        Ok(entry)
    }

    /// Removes a report from the outbox (the doctor discarded a refused one, or one held for
    /// another account).
    pub async fn discard(&self, id: ReportId) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(stores::OUTBOX)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        tx.object_store(stores::OUTBOX)?
            .delete(id.to_string())
            .primitive()?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores the server's answer to a push of `sent`, in one transaction: an applied or
    /// duplicate report leaves the outbox for the history, a rejected one stays with the
    /// reason. Results for ids not in `sent` are ignored; entries without a result stay as
    /// they were.
    pub async fn record_results(
        &self,
        sent: &[OutboxEntry],
        results: &[MutationResult],
        lang: Lang,
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let tx = self
            .db
            .transaction([stores::OUTBOX, stores::REPORTS])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let outbox = tx.object_store(stores::OUTBOX)?;
        let reports = tx.object_store(stores::REPORTS)?;
        let mut recorded = Recorded::default();
        for result in results {
            let id = ReportId::from(result.id);
            let Some(entry) = sent.iter().find(|e| e.id == id) else {
                continue;
            };
            match result.outcome {
                Outcome::Applied | Outcome::Duplicate => {
                    reports
                        .put(&SentReport {
                            id,
                            report: entry.report.clone(),
                            recorded_at: entry.recorded_at,
                            sent_at: now,
                        })
                        .serde()?;
                    outbox.delete(id.to_string()).primitive()?;
                    recorded.sent += 1;
                }
                Outcome::Rejected => {
                    let error = result.error.clone().unwrap_or_else(|| {
                        MutationError::new(
                            "rejected",
                            td_string!(Locale::zh_CN, report_rejected_default).to_owned(),
                            td_string!(Locale::en, report_rejected_default).to_owned(),
                        )
                        .in_lang(lang)
                    });
                    let mut rejected = entry.clone();
                    rejected.state = OutboxState::Rejected {
                        code: error.code,
                        message: error.message,
                        lang,
                        at: now,
                    };
                    outbox.put(&rejected).serde()?;
                    recorded.rejected += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(recorded)
    }

    /// The reports the server acknowledged, newest first.
    pub async fn sent_reports(&self) -> Result<Vec<SentReport>, StoreError> {
        let tx = self.db.transaction(stores::REPORTS).build()?;
        let store = tx.object_store(stores::REPORTS)?;
        let mut reports = store
            .get_all::<SentReport>()
            .serde()?
            .await?
            .collect::<Result<Vec<_>, _>>()?;
        reports.sort_by(|a, b| {
            b.recorded_at
                .cmp(&a.recorded_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(reports)
    }
}
