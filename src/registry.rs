//! The facility registry as the app holds it: the live facilities, the feed cursor, the load
//! state and the server's client configuration, shared through one [`Registry`] context that the
//! map, the list and the facility page all read.
//!
//! Today it is filled from the network on start; the IndexedDB store will slot in here (read
//! first, then sync from the cursor) without the pages changing.

use crate::api::{self, ApiError, ClientConfig};
use caremap_model::{Cursor, Facility, FacilityId, FacilityRecord, Lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;

/// The live (not deleted) facilities, by id, and the last version seen of every id (deleted
/// ones included, so a late older record cannot bring a deleted facility back).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facilities {
    by_id: BTreeMap<FacilityId, Facility>,
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
                }
                _ => {
                    self.by_id.remove(&record.id);
                }
            }
        }
    }

    pub fn get(&self, id: FacilityId) -> Option<&Facility> {
        self.by_id.get(&id)
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

/// Where loading the registry stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadState {
    Loading,
    Ready,
    Failed(ApiError),
}

/// The registry context. Copy it freely: it is a handle to signals.
#[derive(Debug, Clone, Copy)]
pub struct Registry {
    pub facilities: RwSignal<Facilities>,
    pub state: RwSignal<LoadState>,
    pub config: RwSignal<Option<ClientConfig>>,
    cursor: RwSignal<Cursor>,
}

impl Registry {
    /// Creates the registry, provides it to every component below and starts loading.
    pub fn provide() -> Self {
        let registry = Registry {
            facilities: RwSignal::new(Facilities::default()),
            state: RwSignal::new(LoadState::Loading),
            config: RwSignal::new(None),
            cursor: RwSignal::new(Cursor::START),
        };
        provide_context(registry);
        registry.refresh();
        registry
    }

    /// The registry provided by [`Registry::provide`] in `App`.
    pub fn expect() -> Self {
        expect_context::<Registry>()
    }

    /// Fetches the client configuration (once) and every registry change since the cursor.
    pub fn refresh(self) {
        self.state.set(LoadState::Loading);
        spawn_local(async move {
            if self.config.get_untracked().is_none() {
                match api::fetch_config().await {
                    Ok(config) => self.config.set(Some(config)),
                    // The map works without tiles; the registry load below reports the outage.
                    Err(err) => leptos::logging::warn!("config: {err}"),
                }
            }
            match api::fetch_registry_since(self.cursor.get_untracked()).await {
                Ok((records, cursor)) => {
                    self.facilities
                        .update(|facilities| facilities.apply(records));
                    self.cursor.set(cursor);
                    self.state.set(LoadState::Ready);
                }
                Err(err) => {
                    leptos::logging::warn!("registry: {err}");
                    self.state.set(LoadState::Failed(err));
                }
            }
        });
    }
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

    #[test]
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

    #[test]
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
