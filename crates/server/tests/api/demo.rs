//! The demo registry: deterministic, about 400 facilities, every kind, every one valid and
//! marked as demo.

use caremap_model::{Facility, FacilityKind};
use caremap_server::demo;

#[test]
fn the_demo_registry_is_deterministic_complete_and_marked() {
    let first = demo::registry().expect("valid");
    let second = demo::registry().expect("valid");
    assert_eq!(first, second, "same output every run");
    assert!((380..=420).contains(&first.len()), "{}", first.len());
    for kind in FacilityKind::ALL {
        let n = first.iter().filter(|(_, f)| f.kind == *kind).count();
        assert!(n > 0, "{kind}");
    }
    for (n, (_, facility)) in first.iter().enumerate() {
        assert!(facility.name.zh.as_str().ends_with("（演示）"));
        let en = facility.name.en.as_ref().expect("English name");
        assert!(en.as_str().ends_with("(demo)"));
        let external: Vec<&str> = facility.external_ids.iter().map(|e| e.as_str()).collect();
        assert_eq!(external, [format!("demo:{}", n + 1)]);
        // Valid by the model's own parsing: it survives a JSON round trip.
        let json = serde_json::to_string(facility).expect("serialise");
        let back: Facility = serde_json::from_str(&json).expect("valid facility");
        assert_eq!(&back, facility);
        let (lat, lon) = (facility.location.lat(), facility.location.lon());
        assert!((29.7..30.3).contains(&lat) && (120.8..121.5).contains(&lon));
    }
    assert!(first.iter().any(|(_, f)| f.mobile));
    assert!(first
        .iter()
        .any(|(_, f)| matches!(f.operational, caremap_model::Operational::Closed { .. })));
    assert!(first
        .iter()
        .any(|(_, f)| matches!(f.operational, caremap_model::Operational::Reduced { .. })));
}

/// Demo load reports: statuses for about 40 % of the clinics, through the push path, once a day.
async fn demo_reports_give_statuses_once(backend: crate::helpers::Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    demo::seed(app.store.as_ref(), false).await.expect("seed");
    let now = chrono::Utc::now();
    let first = demo::reports::seed_reports(app.store.as_ref(), now)
        .await
        .expect("reports");
    assert!(first.applied > 100, "{first:?}");
    assert_eq!(first.skipped, 0);
    let again = demo::reports::seed_reports(app.store.as_ref(), now + chrono::Duration::minutes(1))
        .await
        .expect("again");
    assert_eq!(again.applied, 0, "{again:?}");
    let page: caremap_model::RegistryPage =
        serde_json::from_value(app.get_json("/api/v1/registry?limit=5000").await).expect("feed");
    let with_status = page.items.iter().filter(|r| r.status.is_some()).count();
    assert_eq!(with_status, first.applied);
    // Read by anyone, without the account's identity.
    let some = page.items.iter().find(|r| r.status.is_some()).expect("one");
    let history = app
        .get_json(&format!("/api/v1/facilities/{}/reports", some.id))
        .await;
    assert_eq!(history["reports"].as_array().map(Vec::len), Some(1));
}

crate::on_every_backend!(demo_reports_give_statuses_once);
