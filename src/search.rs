//! What a resident is looking for on the map page, kept in the page's URL so that a link shares
//! it and a reload restores it: the point to search from ("near me", a tap on the map, a
//! township) and the filters. `/?near=30.05,121.15&kind=fever_clinic&open=1&svc=paediatric_fever`
//! `&short=1&kits=1`
//!
//! Unknown or malformed parameters are ignored, never an error: a link typed by hand or cut
//! short still opens the map.

use crate::clock::facility_time_to_utc;
use crate::open_state::OpenJudge;
use crate::registry::Facilities;
use caremap_model::nearest::NearestIndex;
use caremap_model::{
    Crowding, Facility, FacilityId, FacilityKind, FacilityStatus, Freshness, FreshnessThresholds,
    LatLon, Service,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const NEAR: &str = "near";
const KIND: &str = "kind";
const OPEN: &str = "open";
const SERVICE: &str = "svc";
const SHORT_WAIT: &str = "short";
const ANTIGEN_KITS: &str = "kits";

/// The services a resident can filter for.
pub const SERVICE_FILTERS: [Service; 2] = [Service::PaediatricFever, Service::Open24h];

/// The search of the map page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// The point to list the nearest facilities from.
    pub near: Option<LatLon>,
    /// Only these kinds (none: every kind).
    pub kinds: BTreeSet<FacilityKind>,
    /// Only facilities open now.
    pub open_now: bool,
    /// Only facilities that offer every one of these.
    pub services: BTreeSet<Service>,
    /// Only facilities whose status says a short wait ([`short_wait`]).
    pub short_wait: bool,
    /// Only facilities whose status says antigen test kits are in stock ([`has_antigen_kits`]).
    pub antigen_kits: bool,
}

/// The "short wait" filter's rule: the newest status says not crowded (a wait of at most
/// [`Crowding::LOW_MAX_WAIT`] minutes; a closed facility is never "not crowded") and it is not
/// stale (fresh or ageing by the thresholds). No status: not kept.
pub fn short_wait(
    status: Option<&FacilityStatus>,
    now: DateTime<Utc>,
    thresholds: FreshnessThresholds,
) -> bool {
    status.is_some_and(|s| {
        s.crowding == Some(Crowding::Low) && s.freshness(now, thresholds) != Freshness::Stale
    })
}

/// The "antigen kits" filter's rule: the newest status reports antigen test kits ample or low
/// (not out). Not reported, or no status: not kept. Its age is shown beside it, not filtered.
pub fn has_antigen_kits(status: Option<&FacilityStatus>) -> bool {
    status.and_then(FacilityStatus::has_antigen_kits) == Some(true)
}

/// What the filters judge facilities by at one moment: open now (each timetable evaluated once)
/// and the status's freshness.
pub struct Judge {
    pub open: OpenJudge,
    pub now: DateTime<Utc>,
    pub thresholds: FreshnessThresholds,
}

impl Judge {
    /// A judge at `now`, the facilities' local time (China Standard Time).
    pub fn new(now: NaiveDateTime, thresholds: FreshnessThresholds) -> Self {
        Judge {
            open: OpenJudge::new(now),
            now: facility_time_to_utc(now),
            thresholds,
        }
    }
}

fn parse_near(raw: &str) -> Option<LatLon> {
    let (lat, lon) = raw.split_once(',')?;
    LatLon::new(lat.trim().parse().ok()?, lon.trim().parse().ok()?).ok()
}

fn parse_list<T: std::str::FromStr + Ord>(raw: Option<String>) -> BTreeSet<T> {
    raw.map(|raw| raw.split(',').filter_map(|v| v.parse().ok()).collect())
        .unwrap_or_default()
}

impl Search {
    /// Reads a search from the URL's query parameters (`get` returns one parameter's value).
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        Search {
            near: get(NEAR).as_deref().and_then(parse_near),
            kinds: parse_list(get(KIND)),
            open_now: get(OPEN).is_some_and(|v| v == "1"),
            services: parse_list(get(SERVICE)),
            short_wait: get(SHORT_WAIT).is_some_and(|v| v == "1"),
            antigen_kits: get(ANTIGEN_KITS).is_some_and(|v| v == "1"),
        }
    }

    /// The map page's link for this search: `/` when there is nothing to search for.
    pub fn href(&self) -> String {
        let mut params = Vec::new();
        if let Some(at) = self.near {
            // Five decimals: about a metre, as precise as a phone's position gets.
            params.push(format!("{NEAR}={:.5},{:.5}", at.lat(), at.lon()));
        }
        if !self.kinds.is_empty() {
            let kinds: Vec<&str> = self.kinds.iter().map(|k| k.as_str()).collect();
            params.push(format!("{KIND}={}", kinds.join(",")));
        }
        if self.open_now {
            params.push(format!("{OPEN}=1"));
        }
        if !self.services.is_empty() {
            let services: Vec<&str> = self.services.iter().map(|s| s.as_str()).collect();
            params.push(format!("{SERVICE}={}", services.join(",")));
        }
        if self.short_wait {
            params.push(format!("{SHORT_WAIT}=1"));
        }
        if self.antigen_kits {
            params.push(format!("{ANTIGEN_KITS}=1"));
        }
        if params.is_empty() {
            crate::routes::map_href().to_owned()
        } else {
            format!("{}?{}", crate::routes::map_href(), params.join("&"))
        }
    }

    /// Whether any filter narrows the facilities.
    pub fn is_filtering(&self) -> bool {
        !self.kinds.is_empty()
            || self.open_now
            || !self.services.is_empty()
            || self.short_wait
            || self.antigen_kits
    }

    /// Whether a facility (with its status, if any) passes the filters at `judge`'s moment.
    pub fn matches(
        &self,
        facility: &Facility,
        status: Option<&FacilityStatus>,
        judge: &mut Judge,
    ) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&facility.kind))
            && self.services.is_subset(&facility.services)
            && (!self.short_wait || short_wait(status, judge.now, judge.thresholds))
            && (!self.antigen_kits || has_antigen_kits(status))
            && (!self.open_now || judge.open.is_open(facility))
    }

    /// This search with `kind` switched on or off.
    pub fn toggle_kind(&self, kind: FacilityKind) -> Self {
        let mut next = self.clone();
        if !next.kinds.remove(&kind) {
            next.kinds.insert(kind);
        }
        next
    }

    /// This search with `service` switched on or off.
    pub fn toggle_service(&self, service: Service) -> Self {
        let mut next = self.clone();
        if !next.services.remove(&service) {
            next.services.insert(service);
        }
        next
    }
}

thread_local! {
    /// The map page's link as the resident last left it (with its point and filters).
    static LAST_MAP_HREF: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Remembers the map page's current search, for "back to the map" from a facility's page.
pub fn remember_map_href(href: String) {
    LAST_MAP_HREF.with(|last| *last.borrow_mut() = Some(href));
}

/// Where "back to the map" goes: the search the resident left, or the plain map.
pub fn map_href_to_return() -> String {
    LAST_MAP_HREF
        .with(|last| last.borrow().clone())
        .unwrap_or_else(|| crate::routes::map_href().to_owned())
}

/// The registry's nearest-first index, shared by the components of the map page and rebuilt
/// only when the registry changes. Equal when it is the same index.
#[derive(Clone)]
pub struct SharedIndex(pub Arc<NearestIndex<FacilityId>>);

impl SharedIndex {
    pub fn build(facilities: &Facilities) -> Self {
        SharedIndex(Arc::new(NearestIndex::new(
            facilities.iter().map(|(id, f)| (f.location, id)),
        )))
    }
}

impl PartialEq for SharedIndex {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The townships of the registry, by name, each with the centre of its facilities: a place to
/// search from for someone who cannot or will not share their position.
pub fn township_centres(facilities: &Facilities) -> Vec<(String, LatLon)> {
    let mut sums: BTreeMap<&str, (f64, f64, u32)> = BTreeMap::new();
    for (_, facility) in facilities.iter() {
        if let Some(township) = &facility.area.township {
            let entry = sums.entry(township.as_str()).or_default();
            entry.0 += facility.location.lat();
            entry.1 += facility.location.lon();
            entry.2 += 1;
        }
    }
    sums.into_iter()
        .filter_map(|(name, (lat, lon, n))| {
            let n = f64::from(n);
            LatLon::new(lat / n, lon / n)
                .ok()
                .map(|at| (name.to_owned(), at))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn query(pairs: &[(&str, &str)]) -> Search {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Search::from_query(|k| map.get(k).cloned())
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn round_trips_through_the_url() {
        let search = query(&[
            ("near", "30.05,121.15"),
            ("kind", "fever_clinic,township_health_center"),
            ("open", "1"),
            ("svc", "paediatric_fever"),
            ("short", "1"),
            ("kits", "1"),
        ]);
        assert_eq!(
            search.href(),
            "/?near=30.05000,121.15000&kind=fever_clinic,township_health_center&open=1&svc=paediatric_fever&short=1&kits=1"
        );
        assert!(search.short_wait && search.antigen_kits);
        assert_eq!(search.kinds.len(), 2);
        assert!(search.open_now);
        let again = query(&[
            ("near", "30.05000,121.15000"),
            ("kind", "fever_clinic,township_health_center"),
            ("open", "1"),
            ("svc", "paediatric_fever"),
            ("short", "1"),
            ("kits", "1"),
        ]);
        assert_eq!(again, search);
        assert_eq!(Search::default().href(), "/");
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn nonsense_in_the_url_is_ignored() {
        let search = query(&[
            ("near", "north"),
            ("kind", "hospital,fever_station"),
            ("open", "yes"),
            ("svc", "?"),
        ]);
        assert_eq!(search.near, None);
        assert_eq!(
            search.kinds.into_iter().collect::<Vec<_>>(),
            [FacilityKind::FeverStation]
        );
        assert!(!search.open_now);
        assert!(search.services.is_empty());
        assert_eq!(query(&[("near", "95,121")]).near, None);
    }

    fn facility(kind: &str, hours: &str, services: &str) -> Facility {
        crate::open_state::tests::install(hours);
        serde_json::from_str(&format!(
            r#"{{"kind": "{kind}", "name": {{"zh": "东村"}},
                "location": {{"lat": 30.0, "lon": 121.0}},
                "opening_hours": "{hours}", "services": [{services}]}}"#
        ))
        .expect("valid facility")
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn filters_narrow_by_kind_open_now_and_services() {
        // 2026-11-25 is a Wednesday.
        let nine_pm = chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
            .and_then(|d| d.and_hms_opt(21, 0, 0))
            .expect("valid time");
        let clinic = facility("fever_clinic", "24/7", r#""open_24h", "paediatric_fever""#);
        let village = facility("village_clinic", "Mo-Fr 08:00-17:00", "");
        let judge = &mut Judge::new(nine_pm, FreshnessThresholds::default());
        let all = Search::default();
        assert!(all.matches(&clinic, None, judge) && all.matches(&village, None, judge));
        let kinds = all.toggle_kind(FacilityKind::VillageClinic);
        assert!(!kinds.matches(&clinic, None, judge) && kinds.matches(&village, None, judge));
        assert_eq!(kinds.toggle_kind(FacilityKind::VillageClinic), all);
        let open = Search {
            open_now: true,
            ..Search::default()
        };
        assert!(open.matches(&clinic, None, judge) && !open.matches(&village, None, judge));
        let children = all.toggle_service(Service::PaediatricFever);
        assert!(children.matches(&clinic, None, judge) && !children.matches(&village, None, judge));
        assert!(children.is_filtering() && !all.is_filtering());
    }

    fn status(as_of: &str, extra: &str) -> FacilityStatus {
        serde_json::from_str(&format!(
            r#"{{"report": "00000000-0000-7000-8000-000000000001", "as_of": "{as_of}",
                "status": "open"{extra}}}"#
        ))
        .expect("valid status")
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn short_wait_needs_a_low_crowding_that_is_not_stale() {
        // 21:00 in China is 13:00 UTC.
        let nine_pm = chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
            .and_then(|d| d.and_hms_opt(21, 0, 0))
            .expect("valid time");
        let judge = &mut Judge::new(nine_pm, FreshnessThresholds::default());
        let clinic = facility("fever_clinic", "24/7", "");
        let short = Search {
            short_wait: true,
            ..Search::default()
        };
        let low = status(
            "2026-11-25T12:00:00Z",
            r#", "crowding": "low", "wait_minutes": 10"#,
        );
        let ageing = status(
            "2026-11-25T03:00:00Z",
            r#", "crowding": "low", "wait_minutes": 10"#,
        );
        let stale = status(
            "2026-11-23T12:00:00Z",
            r#", "crowding": "low", "wait_minutes": 10"#,
        );
        let busy = status(
            "2026-11-25T12:00:00Z",
            r#", "crowding": "medium", "wait_minutes": 30"#,
        );
        let closed = status("2026-11-25T12:00:00Z", r#", "crowding": "closed""#);
        assert!(short.matches(&clinic, Some(&low), judge));
        assert!(short.matches(&clinic, Some(&ageing), judge));
        assert!(!short.matches(&clinic, Some(&stale), judge));
        assert!(!short.matches(&clinic, Some(&busy), judge));
        assert!(!short.matches(&clinic, Some(&closed), judge));
        assert!(!short.matches(&clinic, None, judge));

        let kits = Search {
            antigen_kits: true,
            ..Search::default()
        };
        let ample = status(
            "2026-11-25T12:00:00Z",
            r#", "stock": {"antigen_kits": "ample"}"#,
        );
        let few = status(
            "2026-11-23T12:00:00Z",
            r#", "stock": {"antigen_kits": "low"}"#,
        );
        let out = status(
            "2026-11-25T12:00:00Z",
            r#", "stock": {"antigen_kits": "out"}"#,
        );
        assert!(kits.matches(&clinic, Some(&ample), judge));
        assert!(kits.matches(&clinic, Some(&few), judge));
        assert!(!kits.matches(&clinic, Some(&out), judge));
        assert!(!kits.matches(&clinic, Some(&low), judge));
        assert!(!kits.matches(&clinic, None, judge));
        assert!(kits.is_filtering());
    }
}
