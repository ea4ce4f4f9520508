//! The facility registry as the app holds it: the live facilities, the sync state and the
//! server's client configuration, shared through one [`Registry`] context that the map, the list
//! and the facility page all read.
//!
//! On start the app reads what the phone's IndexedDB store holds and shows it at once; only then
//! does it ask the server for the changes after the stored cursor ([`crate::sync::pull`]). It
//! syncs again when the browser comes back `online`, every few minutes while open, and after a
//! failure with a jittered backoff. Without IndexedDB (private mode) it still works, from memory.

use crate::api::{self, ApiError, ClientConfig};
use crate::browser;
use crate::clock;
use crate::open_state;
use crate::retry::Runner;
use crate::store::{self, Store, StoreError, SyncMeta};
use crate::sync::{self, HttpRegistry, PullEvent, SyncError};
use caremap_model::{
    Cursor, Facility, FacilityId, FacilityRecord, FacilityStatus, FreshnessThresholds, Lang,
    TimetableSet,
};
use chrono::{DateTime, Utc};
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

/// The live (not deleted) facilities, by id, their load status (from the newest report, for
/// those that have one), and the last version seen of every id (deleted ones included, so a
/// late older record cannot bring a deleted facility back).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facilities {
    by_id: BTreeMap<FacilityId, Facility>,
    statuses: BTreeMap<FacilityId, FacilityStatus>,
    versions: BTreeMap<FacilityId, u64>,
}

impl Facilities {
    /// Applies feed records in order: a newer version replaces an older one, a tombstone removes
    /// the facility, an older or equal version than the one held is ignored.
    pub fn apply(&mut self, records: impl IntoIterator<Item = FacilityRecord>) {
        for record in records {
            if self
                .versions
                .get(&record.id)
                .is_some_and(|held| *held >= record.version)
            {
                continue;
            }
            self.versions.insert(record.id, record.version);
            match record.facility {
                Some(facility) if !record.deleted => {
                    self.by_id.insert(record.id, facility);
                    match record.status {
                        Some(status) => {
                            self.statuses.insert(record.id, status);
                        }
                        None => {
                            self.statuses.remove(&record.id);
                        }
                    }
                }
                _ => {
                    self.by_id.remove(&record.id);
                    self.statuses.remove(&record.id);
                }
            }
        }
    }

    pub fn get(&self, id: FacilityId) -> Option<&Facility> {
        self.by_id.get(&id)
    }

    /// The facility's load status from its newest report; `None` until a report arrives.
    pub fn status(&self, id: FacilityId) -> Option<&FacilityStatus> {
        self.statuses.get(&id)
    }

    /// Whether any facility has a load status (else the map needs no freshness clock).
    pub fn has_statuses(&self) -> bool {
        !self.statuses.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FacilityId, &Facility)> {
        self.by_id.iter().map(|(id, f)| (*id, f))
    }

    /// The facilities in list order: by kind (in [`caremap_model::FacilityKind::ALL`] order),
    /// then by the name shown in `lang`.
    pub fn sorted(&self, lang: Lang) -> Vec<(FacilityId, &Facility)> {
        let mut list: Vec<_> = self.iter().collect();
        list.sort_by(|(a_id, a), (b_id, b)| {
            a.kind
                .cmp(&b.kind)
                .then_with(|| a.name.display(lang).cmp(b.name.display(lang)))
                .then_with(|| a_id.cmp(b_id))
        });
        list
    }
}

/// Whether the pages have something to show yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadState {
    /// Reading the phone's store, or the first sync of an empty one is under way.
    Loading,
    /// What the phone holds is shown (possibly nothing, if the registry is empty).
    Ready,
    /// The phone holds nothing and the first sync failed.
    Failed(SyncError),
}

/// Where the registry sync stands, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPhase {
    /// Reading the phone's store; no sync yet.
    Starting,
    /// A pull is under way; `records` changes stored so far.
    Syncing { records: u32 },
    /// The last pull reached the end of the feed.
    Synced,
    /// The network is gone; the next sync starts when it is back.
    Offline,
    /// The last pull failed for another reason.
    Failed(SyncError),
}

/// The sync state shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    pub phase: SyncPhase,
    /// When a pull last reached the end of the feed (kept in the store across visits).
    pub last_complete: Option<DateTime<Utc>>,
    /// The phone's store is unusable (no IndexedDB, storage full…): say so, it matters offline.
    pub store_problem: Option<StoreError>,
}

/// How often the registry is synced while the app is open.
const SYNC_EVERY: Duration = Duration::from_secs(5 * 60);

/// localStorage key of the last client configuration, so the map has its tiles offline.
const CONFIG_KEY: &str = "caremap.config.v1";

/// localStorage key of the timetables "open now" is judged from (`GET /api/v1/timetables`).
const TIMETABLES_KEY: &str = "caremap.timetables.v1";

/// The timetables are asked for again once one of them holds for less than this.
const TIMETABLES_AHEAD_DAYS: i64 = 14;

/// The phone's store, once opened.
#[derive(Clone)]
enum Local {
    Opening,
    Open(Rc<Store>),
    /// No IndexedDB: the registry lives in memory for this visit, from this cursor.
    Memory(Cursor),
}

/// The registry context. Copy it freely: it is a handle to signals.
#[derive(Clone, Copy)]
pub struct Registry {
    pub facilities: RwSignal<Facilities>,
    pub state: RwSignal<LoadState>,
    pub config: RwSignal<Option<ClientConfig>>,
    pub sync: RwSignal<SyncStatus>,
    /// Changes each time the timetables "open now" is judged from are replaced, so that what
    /// was judged before they came (a facility page opened on a first visit) is judged again.
    pub timetables: RwSignal<u32>,
    local: StoredValue<Local, LocalStorage>,
    runner: Runner,
}

impl Registry {
    /// Creates the registry, provides it to every component below, shows what the phone holds
    /// and starts syncing.
    pub fn provide() -> Self {
        let registry = Registry {
            facilities: RwSignal::new(Facilities::default()),
            state: RwSignal::new(LoadState::Loading),
            config: RwSignal::new(load_cached_config()),
            sync: RwSignal::new(SyncStatus {
                phase: SyncPhase::Starting,
                last_complete: None,
                store_problem: None,
            }),
            timetables: RwSignal::new(0),
            local: StoredValue::new_local(Local::Opening),
            runner: Runner::new("registry sync"),
        };
        provide_context(registry);
        if let Some(held) = browser::stored_json::<TimetableSet>(TIMETABLES_KEY) {
            open_state::set_timetables(held.timetables.into_iter().collect());
        }
        spawn_local(registry.open_local());
        // The handles live as long as the page: the registry is the app's own.
        let _ = window_event_listener(ev::online, move |_| registry.sync_now());
        let _ = window_event_listener(ev::offline, move |_| {
            registry.sync.update(|s| {
                if !matches!(s.phase, SyncPhase::Syncing { .. }) {
                    s.phase = SyncPhase::Offline;
                }
            });
        });
        if let Err(err) = set_interval_with_handle(move || registry.sync_now(), SYNC_EVERY) {
            leptos::logging::warn!("periodic sync not scheduled: {err:?}");
        }
        registry
    }

    /// The registry provided by [`Registry::provide`] in `App`.
    pub fn expect() -> Self {
        expect_context::<Registry>()
    }

    /// When a status stops being fresh and becomes stale: the server's values (client
    /// configuration, cached for offline), or the model's defaults.
    pub fn thresholds(self) -> FreshnessThresholds {
        self.config
            .with(|c| c.as_ref().map(|c| c.freshness))
            .unwrap_or_default()
    }

    /// Opens the store, shows what it holds, then syncs.
    async fn open_local(self) {
        let local = match Store::open(store::DB_NAME).await {
            Ok(store) => {
                let store = Rc::new(store);
                match read_store(&store).await {
                    Ok((records, meta)) => {
                        let held = !records.is_empty();
                        self.facilities.update(|f| f.apply(records));
                        self.sync.update(|s| s.last_complete = meta.last_complete);
                        if held || meta.last_complete.is_some() {
                            self.state.set(LoadState::Ready);
                        }
                    }
                    Err(err) => {
                        leptos::logging::warn!("reading the store: {err}");
                        self.sync.update(|s| s.store_problem = Some(err));
                    }
                }
                Local::Open(store)
            }
            Err(err) => {
                leptos::logging::warn!("no local store: {err}");
                self.sync.update(|s| s.store_problem = Some(err));
                Local::Memory(Cursor::START)
            }
        };
        self.local.set_value(local);
        self.sync_now();
    }

    /// Pulls the changes since the last sync now, unless a pull is running (then one more
    /// follows it) or the store is still opening (it syncs when open).
    pub fn sync_now(self) {
        let Some(local) = self.local.try_get_value() else {
            return;
        };
        if matches!(local, Local::Opening) || !self.runner.begin() {
            return;
        }
        spawn_local(async move {
            self.sync
                .update(|s| s.phase = SyncPhase::Syncing { records: 0 });
            self.refresh_config().await;
            let outcome = match local {
                Local::Open(store) => self.pull_into(&store).await,
                Local::Memory(cursor) => self.pull_into_memory(cursor).await,
                // Not started while opening (above).
                Local::Opening => Ok(None),
            };
            self.finish(outcome);
        });
    }

    async fn refresh_config(self) {
        match api::fetch_config().await {
            Ok(config) => {
                if self.config.get_untracked().as_ref() != Some(&config) {
                    save_cached_config(&config);
                    self.config.set(Some(config));
                }
            }
            // The cached configuration (if any) serves; the pull reports the outage.
            Err(err) => leptos::logging::warn!("config: {err}"),
        }
    }

    /// One pull into the store; the pages it stores are applied to what is shown.
    async fn pull_into(self, store: &Store) -> Result<Option<DateTime<Utc>>, SyncError> {
        let mut pending: Vec<FacilityRecord> = Vec::new();
        let result = sync::pull(store, &HttpRegistry, Utc::now, |event| match event {
            PullEvent::Reset => {
                pending.clear();
                self.facilities.set(Facilities::default());
            }
            PullEvent::Page { page, progress } => {
                pending.extend(page.items.iter().cloned());
                self.sync.update(|s| {
                    s.phase = SyncPhase::Syncing {
                        records: progress.records,
                    }
                });
                // An empty phone shows the first page at once; after that, the map is redrawn
                // once at the end rather than after every page of a large first sync.
                if self.facilities.with_untracked(Facilities::is_empty) {
                    self.facilities.update(|f| f.apply(pending.drain(..)));
                    self.state.set(LoadState::Ready);
                }
            }
        })
        .await;
        if !pending.is_empty() {
            self.facilities.update(|f| f.apply(pending));
        }
        result.map(|meta| meta.last_complete)
    }

    /// Without a store: every change after `cursor`, kept in memory for this visit.
    async fn pull_into_memory(self, cursor: Cursor) -> Result<Option<DateTime<Utc>>, SyncError> {
        let (records, cursor) = api::fetch_registry_since(cursor).await?;
        self.facilities.update(|f| f.apply(records));
        self.local.set_value(Local::Memory(cursor));
        Ok(Some(Utc::now()))
    }

    /// Records how a pull ended and plans the next one.
    fn finish(self, outcome: Result<Option<DateTime<Utc>>, SyncError>) {
        let again = self.runner.end();
        match outcome {
            Ok(last_complete) => {
                self.runner.succeeded();
                self.sync.update(|s| {
                    s.phase = SyncPhase::Synced;
                    s.last_complete = last_complete.or(s.last_complete);
                    if matches!(s.store_problem, Some(StoreError::QuotaExceeded)) {
                        s.store_problem = None;
                    }
                });
                self.state.set(LoadState::Ready);
                if self.timetables_run_short() {
                    spawn_local(self.refresh_timetables());
                }
                if again {
                    self.sync_now();
                }
            }
            Err(err) => {
                leptos::logging::warn!("registry sync: {err}");
                let offline =
                    !browser::online() || matches!(err, SyncError::Api(ApiError::Network(_)));
                self.sync.update(|s| {
                    if let SyncError::Store(problem) = &err {
                        s.store_problem = Some(problem.clone());
                    }
                    s.phase = if offline {
                        SyncPhase::Offline
                    } else {
                        SyncPhase::Failed(err.clone())
                    };
                });
                if self.state.with_untracked(|s| *s != LoadState::Ready) {
                    self.state.set(LoadState::Failed(err.clone()));
                }
                // Passing trouble (a dropped link, a busy server) is retried after a jittered,
                // growing delay; a browser that knows it is offline waits for `online` instead.
                if err.is_transient() && browser::online() {
                    self.runner
                        .retry_after(err.retry_after(), move || self.sync_now());
                }
            }
        }
    }
}

impl Registry {
    /// Whether a facility's hours have no timetable, or one that holds for less than
    /// [`TIMETABLES_AHEAD_DAYS`].
    fn timetables_run_short(self) -> bool {
        let now = clock::now_at_facilities();
        let soon = now + chrono::Duration::days(TIMETABLES_AHEAD_DAYS);
        self.facilities.with_untracked(|f| {
            f.iter().any(|(_, facility)| {
                facility.opening_hours.as_ref().is_some_and(|h| {
                    open_state::timetable_span(h.as_str())
                        .is_none_or(|(from, until)| now < from || until < soon)
                })
            })
        })
    }

    /// Fetches the registry's timetables, keeps them for offline use, and redraws what shows
    /// "open now". A failure leaves the ones held (after their end: "unknown").
    async fn refresh_timetables(self) {
        match api::fetch_timetables(clock::now_at_facilities().date()).await {
            Ok(set) => {
                // A full localStorage keeps them for this visit only.
                let _ = browser::store_json(TIMETABLES_KEY, &set);
                open_state::set_timetables(set.timetables.into_iter().collect());
                // The map and the list say "open now" from the facilities; the facility page
                // from the timetables' revision.
                self.facilities.update(|_| {});
                self.timetables
                    .update(|revision| *revision = revision.wrapping_add(1));
            }
            Err(err) => leptos::logging::warn!("timetables: {err}"),
        }
    }
}

/// Everything the store holds of the registry.
async fn read_store(store: &Store) -> Result<(Vec<FacilityRecord>, SyncMeta), StoreError> {
    let records = store.facilities().await?;
    let meta = store.sync_meta().await?;
    Ok((records, meta))
}

fn load_cached_config() -> Option<ClientConfig> {
    browser::stored_json(CONFIG_KEY)
}

fn save_cached_config(config: &ClientConfig) {
    // A full localStorage only costs the tiles' URL offline; the registry is elsewhere.
    let _ = browser::store_json(CONFIG_KEY, config);
}

#[cfg(test)]
mod tests {
    use super::*;
    use caremap_model::FacilityKind;

    fn record(n: u128, version: u64, kind: &str, zh: &str) -> FacilityRecord {
        serde_json::from_value(serde_json::json!({
            "id": uuid_of(n),
            "version": version,
            "updated_at": "2026-11-25T08:00:00Z",
            "facility": {
                "kind": kind,
                "name": {"zh": zh},
                "location": {"lat": 30.0, "lon": 121.0}
            }
        }))
        .expect("valid record")
    }

    fn uuid_of(n: u128) -> String {
        format!("00000000-0000-7000-8000-{n:012x}")
    }

    fn tombstone(n: u128, version: u64) -> FacilityRecord {
        serde_json::from_value(serde_json::json!({
            "id": uuid_of(n),
            "version": version,
            "updated_at": "2026-11-25T09:00:00Z",
            "deleted": true
        }))
        .expect("valid tombstone")
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn tombstones_remove_and_stale_versions_are_ignored() {
        let mut facilities = Facilities::default();
        facilities.apply([
            record(1, 1, "village_clinic", "东村卫生室"),
            record(2, 1, "fever_clinic", "市人民医院发热门诊"),
        ]);
        assert_eq!(facilities.len(), 2);
        facilities.apply([tombstone(1, 2), record(1, 1, "village_clinic", "旧")]);
        assert_eq!(facilities.len(), 1);
        facilities.apply([record(2, 3, "fever_station", "新名")]);
        let id: FacilityId = uuid_of(2).parse().expect("uuid");
        assert_eq!(
            facilities.get(id).map(|f| f.kind),
            Some(FacilityKind::FeverStation)
        );
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn list_is_sorted_by_kind_then_name() {
        let mut facilities = Facilities::default();
        facilities.apply([
            record(1, 1, "village_clinic", "西村卫生室"),
            record(2, 1, "vaccination_point", "接种点"),
            record(3, 1, "village_clinic", "东村卫生室"),
            record(4, 1, "fever_clinic", "发热门诊"),
        ]);
        let names: Vec<&str> = facilities
            .sorted(Lang::Zh)
            .into_iter()
            .map(|(_, f)| f.name.zh.as_str())
            .collect();
        assert_eq!(names, ["发热门诊", "东村卫生室", "西村卫生室", "接种点"]);
    }
}
