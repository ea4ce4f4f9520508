//! Imports of every format (issue 18), on SQLite and PostgreSQL: the Overpass API's JSON, OSM XML,
//! healthsites.io in both schemas, the template as `.xlsx`; malformed files of each; the skip
//! report; and a 50 MB file through the CLI in bounded memory.

use crate::helpers::{fixtures, Backend, TestDb};
use crate::on_every_backend;
use caremap_model::{ExternalId, Facility, FacilityId, FacilityKind, Lang};
use caremap_server::import::{self, report, FileError, ImportError, ImportSummary, SkipReason};
use caremap_server::store::SharedStore;
use std::path::Path;

fn id(external: &str) -> FacilityId {
    FacilityId::from_external(&ExternalId::parse(external).expect("external id"))
}

async fn facility(store: &SharedStore, external: &str) -> Facility {
    store
        .get(id(external))
        .await
        .expect("get")
        .and_then(|r| r.facility)
        .unwrap_or_else(|| panic!("{external} imported"))
}

async fn import_path(store: &SharedStore, path: &Path, skip_invalid: bool) -> ImportSummary {
    let parsed = import::parse_file(path, None).expect("readable");
    import::apply(store.as_ref(), parsed, skip_invalid)
        .await
        .expect("imported")
}

/// Each issue as `place column` in English.
fn places(issues: &[import::Issue]) -> Vec<String> {
    issues
        .iter()
        .map(|i| format!("{} {}", i.location.describe(Lang::En), i.column))
        .collect()
}

fn reasons(summary: &ImportSummary) -> Vec<SkipReason> {
    summary.skipped.iter().map(|s| s.reason.clone()).collect()
}

async fn overpass_json_imports_and_a_reimport_changes_nothing(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let store = db.store().await;
    let path = fixtures().join("overpass.json");
    let summary = import_path(&store, &path, false).await;
    assert_eq!(
        (summary.added, summary.updated, summary.unchanged),
        (4, 0, 0)
    );
    assert_eq!(
        reasons(&summary),
        [SkipReason::NotAHealthFacility, SkipReason::KindUnknown]
    );
    assert_eq!(summary.untagged, 2, "the way's nodes are counted");
    use FacilityKind::*;
    for (external, kind) in [
        ("osm:node/4001", FeverClinic),
        ("osm:way/5002", TownshipHealthCenter),
        ("osm:relation/6003", VaccinationPoint),
        ("osm:node/4004", VillageClinic),
    ] {
        assert_eq!(facility(&store, external).await.kind, kind, "{external}");
    }
    let hospital = facility(&store, "osm:node/4001").await;
    assert_eq!(
        hospital.name.en.as_ref().map(|n| n.as_str()),
        Some("Yuyao Second Test Hospital")
    );
    let centre = facility(&store, "osm:way/5002").await;
    assert!((centre.location.lat() - 30.081).abs() < 1e-9, "the center");
    assert_eq!(centre.capacity.beds, Some(30));

    let again = import_path(&store, &path, false).await;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 4));
}

async fn a_bad_overpass_answer_names_every_problem_and_imports_nothing(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let store = db.store().await;
    let parsed = import::parse_file(&fixtures().join("overpass-bad.json"), None).expect("readable");
    let Err(ImportError::Invalid { issues, .. }) =
        import::apply(store.as_ref(), parsed.clone(), false).await
    else {
        panic!("refused");
    };
    assert_eq!(
        places(&issues),
        [
            "element 2 elements[1] (osm:node/7002) name",
            "element 3 elements[2] (osm:node/7003) caremap:kind",
            "element 4 elements[3] (osm:node/7004) geometry",
            "element 5 elements[4] (osm:way/7005) geometry",
            "element 6 elements[5] (osm:node/7001) id",
        ]
    );
    let zh: Vec<String> = issues.iter().map(|i| i.message(Lang::Zh)).collect();
    assert!(zh[0].contains("第 2 个元素"), "{zh:?}");
    assert!(zh[3].contains("out center"), "{zh:?}");
    assert!(zh[4].contains("重复"), "{zh:?}");
    assert_eq!(store.count().await.expect("count"), 0, "nothing imported");

    let summary = import::apply(store.as_ref(), parsed, true)
        .await
        .expect("imported");
    assert_eq!(summary.added, 1);
    let groups = report::groups(&summary.skipped, &summary.skipped_issues, 0);
    let invalid = groups
        .iter()
        .find(|g| g.en == SkipReason::Invalid.message(Lang::En))
        .expect("an invalid group");
    assert_eq!(invalid.count, 5);
    let kinds: Vec<(&str, usize)> = invalid
        .problems
        .iter()
        .map(|p| (p.en.as_str(), p.count))
        .collect();
    assert_eq!(
        kinds,
        [
            ("name: missing", 1),
            ("caremap:kind: unknown value", 1),
            ("geometry: out of range", 1),
            ("geometry: no position", 1),
            ("id: duplicate id", 1),
        ]
    );
}

async fn osm_xml_imports_ways_from_their_nodes(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let store = db.store().await;
    let path = fixtures().join("facilities.osm");
    let summary = import_path(&store, &path, false).await;
    assert_eq!(summary.added, 4);
    assert_eq!(reasons(&summary), [SkipReason::NotAHealthFacility]);
    assert_eq!(summary.untagged, 4);
    use FacilityKind::*;
    for (external, kind) in [
        ("osm:node/8001", FeverClinic),
        ("osm:node/8002", VillageClinic),
        ("osm:way/8004", TownshipHealthCenter),
        ("osm:way/8005", FeverStation),
    ] {
        assert_eq!(facility(&store, external).await.kind, kind, "{external}");
    }
    // The centroid of the way's nodes, which the file lists before the way.
    let centre = facility(&store, "osm:way/8004").await;
    assert!((centre.location.lat() - 30.081).abs() < 1e-6);
    assert!((centre.location.lon() - 121.061).abs() < 1e-6);
    assert_eq!(
        centre.area.township.as_ref().map(|t| t.as_str()),
        Some("丈亭镇")
    );
    let again = import_path(&store, &path, false).await;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 4));
}

async fn bad_osm_xml_is_placed_by_line_and_id(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let store = db.store().await;
    let parsed = import::parse_file(&fixtures().join("bad.osm"), None).expect("readable");
    let Err(ImportError::Invalid { issues, .. }) =
        import::apply(store.as_ref(), parsed, false).await
    else {
        panic!("refused");
    };
    assert_eq!(
        places(&issues),
        [
            "line 7 (osm:node/8102) geometry",
            "line 11 (osm:node/8103) name",
            "line 14 (osm:way/8104) geometry",
            "line 19 (osm:node/8101) id",
        ]
    );
    assert!(issues[0].message(Lang::Zh).starts_with("第 7 行"));
    assert_eq!(store.count().await.expect("count"), 0);
}

async fn healthsites_older_schema_maps_facility_types(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let store = db.store().await;
    let path = fixtures().join("healthsites-old.geojson");
    let summary = import_path(&store, &path, false).await;
    assert_eq!(summary.added, 3);
    assert_eq!(
        reasons(&summary),
        [SkipReason::NotAHealthFacility, SkipReason::KindUnknown]
    );
    let hospital = facility(&store, "healthsites:5f1c2a9e8b7d4c3a9e0f1a2b3c4d5e6f").await;
    assert_eq!(hospital.kind, FacilityKind::FeverClinic);
    assert_eq!(
        hospital.address.as_ref().map(|a| a.as_str()),
        Some("余姚市测试路1号")
    );
    assert!(hospital.phone.is_some());
    assert_eq!(
        facility(&store, "healthsites:6a2d3b0f9c8e4d5b8f1a2b3c4d5e6f70")
            .await
            .kind,
        FacilityKind::TownshipHealthCenter
    );
    assert_eq!(
        facility(&store, "healthsites:7b3e4c1a0d9f4e6c9a2b3c4d5e6f7081")
            .await
            .kind,
        FacilityKind::VillageClinic
    );
    let again = import_path(&store, &path, false).await;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 3));
}

async fn healthsites_api_list_keeps_the_uuid_with_the_osm_id(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let store = db.store().await;
    let summary = import_path(&store, &fixtures().join("healthsites-api.json"), false).await;
    assert_eq!(summary.added, 2);
    assert_eq!(reasons(&summary), [SkipReason::NotAHealthFacility]);
    let hospital = facility(&store, "osm:node/3101").await;
    assert_eq!(hospital.kind, FacilityKind::FeverClinic);
    let ids: Vec<&str> = hospital.external_ids.iter().map(|e| e.as_str()).collect();
    assert_eq!(
        ids,
        [
            "healthsites:0e6b7f4d3a2c4b9f8d5e6f7081920314",
            "osm:node/3101"
        ]
    );
    assert_eq!(
        hospital.phone.as_ref().map(|p| p.as_str().to_owned()),
        Some("0574-62682222".to_owned())
    );
    assert!((hospital.location.lon() - 121.165).abs() < 1e-9, "centroid");
    assert_eq!(
        facility(&store, "osm:way/3102").await.kind,
        FacilityKind::TownshipHealthCenter
    );
}

/// The template as an Excel workbook: a header and `rows`.
fn workbook(path: &Path, rows: &[&[&str]]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("机构").expect("name");
    let header = [
        "code", "kind", "name_zh", "lat", "lon", "phone", "beds", "mobile",
    ];
    for (col, name) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, *name).expect("header");
    }
    for (r, row) in rows.iter().enumerate() {
        for (col, value) in row.iter().enumerate() {
            let (r, col) = (r as u32 + 1, col as u16);
            // Numbers as Excel keeps them: lat/lon, beds and a numeric code are numbers.
            match value.parse::<f64>() {
                Ok(n) if col != 5 => sheet.write_number(r, col, n),
                _ if *value == "TRUE" => sheet.write_boolean(r, col, true),
                _ => sheet.write_string(r, col, *value),
            }
            .expect("cell");
        }
    }
    book.save(path).expect("save xlsx");
}

async fn xlsx_imports_like_the_csv_and_names_sheet_rows(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let store = db.store().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("registry.xlsx");
    workbook(
        &good,
        &[
            &[
                "1001",
                "村卫生室",
                "测试村卫生室",
                "30.0912",
                "121.0488",
                "0574-62000003",
                "",
                "",
            ],
            &[
                "X-2",
                "vaccination_point",
                "测试流动接种点",
                "30.17",
                "121.08",
                "",
                "",
                "TRUE",
            ],
            &[
                "1003",
                "fever_clinic",
                "测试医院发热门诊",
                "30.0405",
                "121.1565",
                "",
                "40",
                "",
            ],
        ],
    );
    let summary = import_path(&store, &good, false).await;
    assert_eq!(summary.added, 3);
    let clinic = facility(&store, "registry:1001").await;
    assert_eq!(clinic.kind, FacilityKind::VillageClinic);
    assert!((clinic.location.lat() - 30.0912).abs() < 1e-9);
    assert!(facility(&store, "registry:X-2").await.mobile);
    assert_eq!(
        facility(&store, "registry:1003").await.capacity.beds,
        Some(40)
    );
    let again = import_path(&store, &good, false).await;
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 3));

    let bad = dir.path().join("bad.xlsx");
    workbook(
        &bad,
        &[
            &[
                "2001",
                "village_clinic",
                "好的村卫生室",
                "30.09",
                "121.05",
                "",
                "",
                "",
            ],
            &["2002", "spa", "坏类型", "30.09", "121.05", "", "", ""],
            &["2003", "village_clinic", "", "91", "121.05", "", "", ""],
            &[
                "2001",
                "village_clinic",
                "重复编号村卫生室",
                "30.09",
                "121.05",
                "",
                "",
                "",
            ],
        ],
    );
    let parsed = import::parse_file(&bad, None).expect("readable");
    let Err(ImportError::Invalid { issues, .. }) =
        import::apply(store.as_ref(), parsed, false).await
    else {
        panic!("refused");
    };
    assert_eq!(
        places(&issues),
        [
            "sheet “机构” row 3 kind",
            "sheet “机构” row 4 name_zh",
            "sheet “机构” row 4 lat",
            "sheet “机构” row 5 id",
        ]
    );
    assert!(issues[0].message(Lang::Zh).contains("工作表“机构”第 3 行"));
    assert_eq!(
        store.count().await.expect("count"),
        3,
        "nothing more imported"
    );
}

on_every_backend!(
    overpass_json_imports_and_a_reimport_changes_nothing,
    a_bad_overpass_answer_names_every_problem_and_imports_nothing,
    osm_xml_imports_ways_from_their_nodes,
    bad_osm_xml_is_placed_by_line_and_id,
    healthsites_older_schema_maps_facility_types,
    healthsites_api_list_keeps_the_uuid_with_the_osm_id,
    xlsx_imports_like_the_csv_and_names_sheet_rows,
);

#[test]
fn truncated_and_malformed_files_are_one_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let whole = std::fs::read(fixtures().join("overpass.json")).expect("fixture");
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &whole[..whole.len() / 2]).expect("write");
    let err = import::parse_file(&cut, None).expect_err("truncated");
    assert!(matches!(err, FileError::Truncated { .. }), "{err:?}");
    assert!(err.message(Lang::Zh).contains("下载未完成"));
    assert!(err.message(Lang::En).contains("cut off"));

    let xml = std::fs::read(fixtures().join("facilities.osm")).expect("fixture");
    let cut = dir.path().join("cut.osm");
    std::fs::write(&cut, &xml[..xml.len() / 2]).expect("write");
    let err = import::parse_file(&cut, None).expect_err("truncated XML");
    assert!(err.message(Lang::En).contains("ends too early"), "{err:?}");

    let not_osm = dir.path().join("x.osm");
    std::fs::write(&not_osm, "<gpx version=\"1.1\"></gpx>").expect("write");
    let err = import::parse_file(&not_osm, None).expect_err("not OSM");
    assert!(err.message(Lang::En).contains("<gpx>"), "{err:?}");

    let neither = dir.path().join("x.json");
    std::fs::write(&neither, r#"{"type": "Topology", "objects": {}}"#).expect("write");
    let err = import::parse_file(&neither, None).expect_err("not a collection");
    assert!(matches!(err, FileError::NotFeatureCollection));
    assert!(err.message(Lang::Zh).contains("elements"));

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"elements\": [{\"type\": \"node\",, }]}").expect("write");
    let err = import::parse_file(&broken, None).expect_err("not JSON");
    assert!(matches!(err, FileError::NotJson { line: 1, .. }), "{err:?}");
    assert!(err.message(Lang::Zh).contains("第 1 行"));

    let not_xlsx = dir.path().join("x.xlsx");
    std::fs::write(&not_xlsx, b"PK\x03\x04 not really a zip").expect("write");
    let err = import::parse_file(&not_xlsx, None).expect_err("not a workbook");
    assert!(matches!(err, FileError::Xlsx(_)), "{err:?}");
    let old = dir.path().join("x.xls");
    std::fs::write(&old, b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1").expect("write");
    let err = import::parse_file(&old, None).expect_err("old Excel");
    assert!(err.message(Lang::Zh).contains(".xlsx"));
}

#[test]
fn the_format_is_told_by_content_not_by_the_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    // An Overpass answer saved under a GeoJSON-ish name, and an OSM file saved as .txt.
    let renamed = dir.path().join("export.geojson");
    std::fs::copy(fixtures().join("overpass.json"), &renamed).expect("copy");
    assert_eq!(
        import::parse_file(&renamed, None)
            .expect("parse")
            .entries
            .len(),
        4
    );
    let renamed = dir.path().join("export.txt");
    std::fs::copy(fixtures().join("facilities.osm"), &renamed).expect("copy");
    assert_eq!(
        import::parse_file(&renamed, None)
            .expect("parse")
            .entries
            .len(),
        4
    );
    let csv = dir.path().join("registry.txt");
    std::fs::copy(fixtures().join("good.csv"), &csv).expect("copy");
    assert_eq!(
        import::parse_file(&csv, None).expect("parse").entries.len(),
        3
    );
}

#[test]
fn the_cli_prints_the_skip_report_grouped_by_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("cli.sqlite").display());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .args(["import", "--database", &database])
        .arg(fixtures().join("overpass.json"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("run caremap-server");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    for expected in [
        "added 4 · updated 0 · unchanged 0 · skipped 4",
        "跳过 4 项，按原因 / skipped 4, by reason:",
        "不是医疗机构：1 项 / not a health facility: 1",
        "e.g.: element 5 elements[4] (osm:node/4005)",
        "例如：第 5 个元素 elements[4]（osm:node/4005）",
        "kind unknown (add a caremap:kind property): 1",
        "no tags (part of a way or relation): 2",
        "peak memory",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in\n{stdout}");
    }
}

/// A GeoJSON file of about 50 MB: `facilities` health facilities among shops and roads with long
/// geometries, as an export of a whole province's amenities would be.
fn write_large_geojson(path: &Path, facilities: usize) -> u64 {
    use std::io::Write as _;
    let file = std::fs::File::create(path).expect("create");
    let mut out = std::io::BufWriter::new(file);
    write!(out, "{{\"type\": \"FeatureCollection\", \"features\": [").expect("write");
    let road: String = (0..400)
        .map(|i| {
            format!(
                "[{:.6}, {:.6}]",
                120.0 + i as f64 * 1e-4,
                29.0 + i as f64 * 1e-4
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut n = 0usize;
    let mut written = 0u64;
    while written < 50 * 1024 * 1024 {
        let feature = if n.is_multiple_of(2) && n / 2 < facilities {
            let i = n / 2;
            format!(
                r#"{{"type": "Feature", "id": "node/{}", "properties": {{"amenity": "doctors", "name": "测试{}村卫生室", "opening_hours": "Mo-Sa 08:00-11:30,13:30-17:00", "phone": "0574-6268{:04}"}}, "geometry": {{"type": "Point", "coordinates": [{:.6}, {:.6}]}}}}"#,
                i + 1,
                i,
                i % 10_000,
                120.0 + (i % 1000) as f64 * 1e-3,
                29.0 + (i / 1000) as f64 * 1e-3
            )
        } else {
            format!(
                r#"{{"type": "Feature", "id": "way/{}", "properties": {{"highway": "residential", "name": "测试路"}}, "geometry": {{"type": "LineString", "coordinates": [{road}]}}}}"#,
                n + 10_000_000
            )
        };
        if n > 0 {
            out.write_all(b",\n").expect("write");
        }
        out.write_all(feature.as_bytes()).expect("write");
        written += feature.len() as u64 + 2;
        n += 1;
    }
    write!(out, "]}}").expect("write");
    out.flush().expect("flush");
    std::fs::metadata(path).expect("size").len()
}

#[test]
fn a_50_mb_file_imports_streaming_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("province.geojson");
    let size = write_large_geojson(&path, 5_000);
    assert!(size >= 50 * 1024 * 1024, "{size} bytes");
    let database = format!("sqlite://{}", dir.path().join("cli.sqlite").display());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .args(["import", "--database", &database])
        .arg(&path)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run caremap-server");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("added 5000 · updated 0"), "{stdout}");
    assert!(stdout.contains("not a health facility"), "{stdout}");
    // The peak memory the CLI printed: the file is read one feature at a time, so far less than
    // the file itself (a parsed tree of it would be several times its size).
    let peak_mb: f64 = stdout
        .split("peak memory ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("peak memory printed: {stdout}"));
    assert!(peak_mb < 50.0, "peak memory {peak_mb} MB for a 50 MB file");
}

#[test]
fn healthsites_geojson_with_nested_attributes_and_bad_features() {
    let geojson = r#"{"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.1, 30.0]},
         "properties": {"attributes": {"amenity": "clinic", "name": "测试村卫生室", "uuid": "u-1"},
                        "osm_id": 11, "osm_type": "node", "completeness": 20}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.1, 30.0]},
         "properties": {"nature-of-facility": "Hospital", "name": "没有编号的医院", "upstream": "x"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [200.0, 30.0]},
         "properties": {"nature-of-facility": "Health Post", "name": "坐标错误卫生站", "uuid": "u-3"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.1, 30.0]},
         "properties": {"nature-of-facility": "Health Post", "uuid": "u-4"}}
    ]}"#;
    let parsed = import::parse(geojson.as_bytes(), import::Format::Geojson).expect("readable");
    assert_eq!(parsed.entries.len(), 1);
    assert_eq!(parsed.entries[0].external_id, "osm:node/11");
    assert_eq!(
        places(&parsed.issues),
        [
            "feature 2 features[1] uuid",
            "feature 3 features[2] (healthsites:u-3) geometry",
            "feature 4 features[3] (healthsites:u-4) name",
        ]
    );
    assert!(parsed.issues[0].message(Lang::Zh).contains("uuid"));
}
