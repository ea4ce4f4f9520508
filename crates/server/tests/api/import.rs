//! Importing registry files, through the store, and the CLI once as a real process.

use crate::helpers::{fixtures, Backend, TestDb};
use caremap_model::{Cursor, ExternalId, FacilityId, FacilityKind, PageLimit};
use caremap_server::import::{self, Format, ImportError, Location, SkipReason};
use caremap_server::store::SharedStore;

async fn fresh() -> (TestDb, SharedStore) {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let store = db.store().await;
    (db, store)
}

fn id(external: &str) -> FacilityId {
    FacilityId::from_external(&ExternalId::parse(external).expect("external id"))
}

async fn kind_of(store: &SharedStore, external: &str) -> FacilityKind {
    store
        .get(id(external))
        .await
        .expect("get")
        .and_then(|r| r.facility)
        .unwrap_or_else(|| panic!("{external} imported"))
        .kind
}

#[tokio::test]
async fn overpass_geojson_imports_health_facilities_and_counts_the_rest() {
    let (_db, store) = fresh().await;
    let parsed = import::parse_file(&fixtures().join("overpass.geojson"), None).expect("parse");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    let summary = import::apply(store.as_ref(), parsed, false)
        .await
        .expect("import");
    assert_eq!(
        (summary.added, summary.updated, summary.unchanged),
        (5, 0, 0)
    );
    let reasons: Vec<&SkipReason> = summary.skipped.iter().map(|s| &s.reason).collect();
    assert_eq!(
        reasons,
        [&SkipReason::NotAHealthFacility, &SkipReason::KindUnknown]
    );
    use FacilityKind::*;
    for (external, kind) in [
        ("osm:node/1001", FeverClinic),
        ("osm:way/2002", TownshipHealthCenter),
        ("osm:node/1003", VillageClinic),
        ("osm:node/1004", FeverStation),
        ("osm:node/1005", VaccinationPoint),
    ] {
        assert_eq!(kind_of(&store, external).await, kind, "{external}");
    }
    let hospital = store
        .get(id("osm:node/1001"))
        .await
        .expect("get")
        .and_then(|r| r.facility)
        .expect("hospital");
    assert_eq!(
        hospital.name.en.as_ref().map(|n| n.as_str()),
        Some("Yuyao Test Hospital")
    );
    assert_eq!(
        hospital.address.as_ref().map(|a| a.as_str()),
        Some("余姚市城东路1号")
    );
    assert!(hospital.services.contains(&caremap_model::Service::Open24h));
    // The polygon's centroid.
    let centre = store
        .get(id("osm:way/2002"))
        .await
        .expect("get")
        .and_then(|r| r.facility)
        .expect("centre");
    assert!((centre.location.lat() - 30.081).abs() < 1e-6);
    assert!((centre.location.lon() - 121.061).abs() < 1e-6);
    assert_eq!(centre.capacity.beds, Some(20));
}

#[tokio::test]
async fn healthsites_geojson_imports() {
    let (_db, store) = fresh().await;
    let parsed = import::parse_file(&fixtures().join("healthsites.geojson"), None).expect("parse");
    let summary = import::apply(store.as_ref(), parsed, false)
        .await
        .expect("import");
    assert_eq!(summary.added, 2);
    assert_eq!(summary.skipped.len(), 1);
    assert_eq!(
        kind_of(&store, "osm:node/3001").await,
        FacilityKind::FeverClinic
    );
    assert_eq!(
        kind_of(&store, "osm:way/3002").await,
        FacilityKind::TownshipHealthCenter
    );
}

#[tokio::test]
async fn csv_imports_and_a_reimport_changes_nothing() {
    let (_db, store) = fresh().await;
    let path = fixtures().join("good.csv");
    let summary = import::apply(
        store.as_ref(),
        import::parse_file(&path, None).expect("parse"),
        false,
    )
    .await
    .expect("import");
    assert_eq!(
        (summary.added, summary.updated, summary.unchanged),
        (3, 0, 0)
    );
    let cursor = store
        .registry_page(Cursor::START, PageLimit::clamped(None))
        .await
        .expect("page")
        .cursor;

    let again = import::apply(
        store.as_ref(),
        import::parse_file(&path, None).expect("parse"),
        false,
    )
    .await
    .expect("import");
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 3));
    let page = store
        .registry_page(cursor, PageLimit::clamped(None))
        .await
        .expect("page");
    assert!(page.items.is_empty(), "phones download nothing new");

    let mobile = store
        .get(id("registry:T-003"))
        .await
        .expect("get")
        .and_then(|r| r.facility)
        .expect("imported");
    assert!(mobile.mobile);
    assert_eq!(mobile.kind, FacilityKind::VaccinationPoint);
    assert_eq!(
        kind_of(&store, "registry:T-002").await,
        FacilityKind::VillageClinic
    );
}

#[tokio::test]
async fn a_bad_csv_reports_every_problem_and_imports_nothing() {
    let (_db, store) = fresh().await;
    let parsed = import::parse_file(&fixtures().join("bad.csv"), None).expect("readable");
    let Err(ImportError::Invalid { issues, .. }) =
        import::apply(store.as_ref(), parsed.clone(), false).await
    else {
        panic!("refused");
    };
    let at: Vec<(u64, &str)> = issues
        .iter()
        .map(|i| match i.location {
            Location::Line(n) => (n, i.column.as_str()),
            _ => panic!("CSV issues carry lines"),
        })
        .collect();
    assert_eq!(
        at,
        [
            (3, "kind"),
            (4, "phone"),
            (5, "name_zh"),
            (5, "lat"),
            (6, "opening_hours"),
            (6, "services"),
            (7, "id"),
        ]
    );
    for issue in &issues {
        assert!(issue.message(caremap_model::Lang::Zh).contains("行"));
        assert!(issue.message(caremap_model::Lang::En).contains("line"));
    }
    assert_eq!(store.count().await.expect("count"), 0, "nothing imported");

    // --skip-invalid imports the one good row and says what it skipped.
    let summary = import::apply(store.as_ref(), parsed, true)
        .await
        .expect("import");
    assert_eq!(summary.added, 1);
    assert_eq!(summary.skipped.len(), 5);
    assert_eq!(summary.skipped_issues.len(), 7);
}

#[tokio::test]
async fn unreadable_files_are_one_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_json = dir.path().join("x.geojson");
    std::fs::write(&not_json, "{\"type\": \"Feature").expect("write");
    assert!(matches!(
        import::parse_file(&not_json, None),
        Err(import::FileError::Truncated { line: 1, .. })
    ));
    let gbk = dir.path().join("x.csv");
    std::fs::write(
        &gbk,
        b"code,kind,name_zh,lat,lon\nA,village_clinic,\xb4\xe5,30,121\n",
    )
    .expect("write");
    let err = import::parse_file(&gbk, None).expect_err("not UTF-8");
    assert!(err.message(caremap_model::Lang::Zh).contains("UTF-8"));
    let txt = dir.path().join("x.txt");
    std::fs::write(&txt, "some notes").expect("write");
    assert!(matches!(
        import::parse_file(&txt, None),
        Err(import::FileError::UnknownFormat)
    ));
    assert!(import::parse_file(&txt, Some(Format::Csv)).is_err());
    std::fs::write(&txt, "").expect("write");
    assert!(matches!(
        import::parse_file(&txt, None),
        Err(import::FileError::Empty)
    ));
}

#[test]
fn the_cli_refuses_a_bad_csv_and_lists_the_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("cli.sqlite").display());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .args(["import", "--database", &database])
        .arg(fixtures().join("bad.csv"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("run caremap-server");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in [3, 4, 5, 6, 7] {
        assert!(stderr.contains(&format!("第 {line} 行")), "{stderr}");
        assert!(stderr.contains(&format!("line {line} ")), "{stderr}");
    }
    assert!(stderr.contains("nothing imported"), "{stderr}");

    let template = std::process::Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .arg("template")
        .output()
        .expect("run caremap-server");
    assert!(template.status.success());
    assert_eq!(
        String::from_utf8_lossy(&template.stdout),
        import::CSV_TEMPLATE
    );
}

#[test]
fn the_cli_seeds_the_demo_and_deletes_a_facility() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("cli.sqlite").display());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_caremap-server"))
            .args(args)
            .args(["--database", &database])
            .env_remove("DATABASE_URL")
            .output()
            .expect("run caremap-server")
    };
    let seeded = run(&["demo"]);
    assert!(seeded.status.success(), "{seeded:?}");
    let id = caremap_server::demo::registry().expect("demo")[0]
        .0
        .to_string();

    let deleted = run(&["facility", "delete", &id]);
    assert!(deleted.status.success(), "{deleted:?}");
    assert!(String::from_utf8_lossy(&deleted.stdout).contains("version 2"));
    let again = run(&["facility", "delete", &id]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already deleted"));
    let unknown = run(&["facility", "delete", "6b1f3c2e-8d4a-4f0b-9a57-2c1e0d3b7e91"]);
    assert!(!unknown.status.success());
    let not_an_id = run(&["facility", "delete", "hospital"]);
    assert!(!not_an_id.status.success());

    let list = run(&["facility", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert_eq!(
        listed.lines().count(),
        caremap_server::demo::registry().expect("demo").len() - 1
    );
    assert!(!listed.contains(&id));
}

#[test]
fn bad_geojson_features_are_reported_by_number_and_osm_id() {
    let geojson = r#"{"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "node/1", "properties": {"amenity": "hospital", "name": "好医院"},
         "geometry": {"type": "Point", "coordinates": [121.1, 30.0]}},
        {"type": "Feature", "id": "node/2", "properties": {"amenity": "hospital", "opening_hours": "always-ish"},
         "geometry": {"type": "Point", "coordinates": [121.1, 30.0]}},
        {"type": "Feature", "properties": {"@id": "way/3", "amenity": "doctors", "name": "某村卫生室"},
         "geometry": {"type": "LineString", "coordinates": [[121.1, 30.0], [121.2, 30.1]]}},
        {"type": "Feature", "properties": {"amenity": "hospital", "name": "无编号医院"},
         "geometry": {"type": "Point", "coordinates": [121.1, 95.0]}}
    ]}"#;
    let parsed = import::parse(geojson.as_bytes(), Format::Geojson).expect("readable");
    assert_eq!(parsed.entries.len(), 1);
    let at: Vec<String> = parsed
        .issues
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                i.location.describe(caremap_model::Lang::En),
                i.column
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            "feature 2 features[1] (osm:node/2) name",
            "feature 2 features[1] (osm:node/2) opening_hours",
            "feature 3 features[2] (osm:way/3) geometry",
            "feature 4 features[3] @id",
            "feature 4 features[3] geometry",
        ]
    );
}
