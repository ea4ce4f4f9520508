//! Exports over HTTP (`GET /api/v1/export/{format}`) and the `export` command: who may export,
//! and what a health office finds in each file (the FHIR validation is in `export_fhir.rs`).

use crate::helpers::{
    enrolled, fixtures, header, report_mutation, spawn_app, Backend, TestApp, TestDb,
};
use caremap_model::{
    Address, AdminArea, AreaName, Capacity, ExternalId, Facility, FacilityId, FacilityKind, Field,
    LatLon, LoadReport, Name, Names, Note, OpeningHours, Operational, Outcome, Phone, ReportId,
    ReportedStatus, Role, Service, Stock, StockItem, StockLevel,
};
use caremap_server::export::table::STATUS_COLUMNS;
use caremap_server::import::{self, csv::COLUMNS as TEMPLATE_COLUMNS, Format};
use chrono::{Duration, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Command;

fn name(text: &str) -> Name {
    Name::parse_for(text, Field::Name).expect("name")
}

fn area(text: &str) -> AreaName {
    AreaName::parse_for(text, Field::Township).expect("area")
}

fn external(text: &str) -> ExternalId {
    ExternalId::parse(text).expect("external id")
}

/// The facilities every export test starts from: one of each kind and state the formats map
/// differently, with text that needs escaping.
pub fn fixture_registry() -> Vec<(FacilityId, Facility)> {
    let clinic = |code: &str, kind: FacilityKind, zh: &str| {
        let ext = external(&format!("registry:{code}"));
        (
            FacilityId::from_external(&ext),
            Facility {
                kind,
                name: Names {
                    zh: name(zh),
                    en: None,
                },
                location: LatLon::new(30.0801, 121.0602).expect("location"),
                address: None,
                area: AdminArea::default(),
                phone: None,
                opening_hours: None,
                services: BTreeSet::new(),
                capacity: Capacity::default(),
                operational: Operational::Open,
                mobile: false,
                external_ids: BTreeSet::from([ext]),
            },
        )
    };
    let mut busy = clinic(
        "YY-F-001",
        FacilityKind::FeverClinic,
        "余姚市某医院发热门诊",
    );
    busy.1.name.en = Some(name("Example Hospital fever clinic"));
    busy.1.address =
        Some(Address::parse_for("余姚市阳明街道城东路1号", Field::Address).expect("address"));
    busy.1.area.township = Some(area("阳明街道"));
    busy.1.phone = Some(Phone::parse("0574-62000001; 120").expect("phone"));
    busy.1.opening_hours = Some(OpeningHours::parse("24/7").expect("hours"));
    busy.1.services = BTreeSet::from([Service::Open24h, Service::AntigenTesting]);
    busy.1.capacity = Capacity {
        doctors: Some(12),
        beds: Some(40),
        daily_capacity: Some(100),
    };

    let mut reduced = clinic(
        "YY-T-001",
        FacilityKind::TownshipHealthCenter,
        "马渚镇卫生院 <东院> & 分部",
    );
    reduced.1.location = LatLon::new(30.0912, 121.0488).expect("location");
    reduced.1.opening_hours = Some(
        OpeningHours::parse("Mo-Fr 08:00-11:30,13:30-17:00; Sa 08:00-11:30; PH off")
            .expect("hours"),
    );
    reduced.1.services = BTreeSet::from([Service::ElderlyVaccination, Service::WheelchairAccess]);
    reduced.1.capacity.doctors = Some(4);
    reduced.1.operational = Operational::Reduced {
        reason: Some(Note::parse_for("医生外出培训 <2 人>", Field::Note).expect("note")),
    };

    let mut closed = clinic(
        "YY-V-001",
        FacilityKind::VillageClinic,
        "马渚镇示例村卫生室",
    );
    closed.1.area = AdminArea {
        township: Some(area("马渚镇")),
        village: Some(area("示例村")),
    };
    closed.1.operational = Operational::Closed {
        reason: None,
        reopens_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 20),
    };

    let mut mobile = clinic(
        "YY-P-001",
        FacilityKind::VaccinationPoint,
        "马渚镇流动接种点",
    );
    mobile.1.mobile = true;
    mobile.1.opening_hours = Some(OpeningHours::parse("Jan-Mar Tu 09:00-11:00").expect("hours"));

    vec![busy, reduced, closed, mobile]
}

/// The fixture registry stored, and the reports of today pushed by an admin: the fever clinic is
/// very crowded and short of antigen kits, the health centre calm with ample stock. Returns the
/// admin's token.
pub async fn seeded(app: &TestApp) -> String {
    let registry = fixture_registry();
    app.store.upsert_batch(&registry).await.expect("registry");
    let (_, token) = enrolled(app, Role::Admin, &[]).await;
    let now = Utc::now() - Duration::minutes(30);
    let stock = |levels: &[(StockItem, StockLevel)]| -> BTreeMap<StockItem, Stock> {
        levels
            .iter()
            .map(|(item, level)| {
                (
                    *item,
                    Stock {
                        level: *level,
                        count: None,
                        daily_need: None,
                    },
                )
            })
            .collect()
    };
    let busy = LoadReport {
        facility: registry[0].0,
        as_of: now,
        status: ReportedStatus::Open,
        outpatients_today: Some(95),
        fever_patients_today: Some(60),
        wait_minutes: Some(55),
        doctors_on_duty: Some(5),
        stock: stock(&[
            (StockItem::Antipyretics, StockLevel::Low),
            (StockItem::AntigenKits, StockLevel::Out),
            (StockItem::Oxygen, StockLevel::Ample),
        ]),
        note: None,
        supersedes: None,
    };
    let calm = LoadReport {
        facility: registry[1].0,
        outpatients_today: Some(20),
        fever_patients_today: Some(3),
        wait_minutes: Some(10),
        doctors_on_duty: Some(3),
        stock: stock(&[
            (StockItem::Antipyretics, StockLevel::Ample),
            (StockItem::CoughCold, StockLevel::Ample),
        ]),
        ..busy.clone()
    };
    let results = app
        .push(
            &token,
            &[
                report_mutation(ReportId::new_v7(), &busy),
                report_mutation(ReportId::new_v7(), &calm),
            ],
        )
        .await;
    assert!(
        results.iter().all(|r| r.outcome == Outcome::Applied),
        "{results:?}"
    );
    token
}

async fn export(app: &TestApp, format: &str, token: Option<&str>, lang: &str) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v1/export/{format}")))
        .header("Accept-Language", lang);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("export")
}

/// The body of an admin's export, after checking the download headers.
async fn download(app: &TestApp, token: &str, format: &str) -> Vec<u8> {
    let response = export(app, format, Some(token), "zh-CN").await;
    assert_eq!(response.status(), 200, "export {format}");
    assert_eq!(header(&response, "cache-control"), "no-store");
    let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let disposition = header(&response, "content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"caremap-") && disposition.contains(&today),
        "{disposition}"
    );
    let expected_type = match format {
        "csv" => "text/csv; charset=utf-8",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "geojson" => "application/geo+json",
        "fhir" => "application/fhir+json; fhirVersion=4.0",
        _ => "application/xml; charset=utf-8",
    };
    assert_eq!(header(&response, "content-type"), expected_type);
    response.bytes().await.expect("body").to_vec()
}

async fn only_the_health_authority_may_export(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = seeded(&app).await;
    let facility = fixture_registry()[0].0;

    let none = export(&app, "csv", None, "zh-CN").await;
    assert_eq!(none.status(), 401);
    assert_eq!(header(&none, "www-authenticate"), "Bearer");
    let body: serde_json::Value = none.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "unauthenticated");

    let wrong = export(&app, "csv", Some("cm_not-a-token"), "zh-CN").await;
    assert_eq!(wrong.status(), 401);

    for role in [Role::Reporter, Role::Outreach] {
        let (_, token) = enrolled(&app, role, &[facility]).await;
        let refused = export(&app, "csv", Some(&token), "zh-CN").await;
        assert_eq!(refused.status(), 403, "{role:?}");
        let body: serde_json::Value = refused.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "forbidden");
        assert_eq!(
            body["error"]["message"],
            "只有卫生健康部门的账号可以导出数据"
        );
        let refused = export(&app, "geojson", Some(&token), "en").await;
        assert_eq!(refused.status(), 403);
        let body: serde_json::Value = refused.json().await.expect("JSON");
        assert_eq!(
            body["error"]["message"],
            "Only an account of the health authority may export the registry"
        );
    }

    // Every format downloads, with its type and a dated file name.
    for format in ["csv", "xlsx", "geojson", "fhir", "edxl"] {
        let body = download(&app, &admin, format).await;
        assert!(body.len() > 200, "{format}: {} bytes", body.len());
    }
    let unknown = export(&app, "pdf", Some(&admin), "zh-CN").await;
    assert_eq!(unknown.status(), 404);

    // A revoked admin account exports nothing.
    let (revoked_id, revoked) = enrolled(&app, Role::Admin, &[]).await;
    assert_eq!(
        export(&app, "csv", Some(&revoked), "zh-CN").await.status(),
        200
    );
    app.store.revoke_account(revoked_id).await.expect("revoke");
    let after = export(&app, "csv", Some(&revoked), "zh-CN").await;
    assert_eq!(after.status(), 401);

    let openapi = app.get_json("/api/v1/openapi.json").await;
    let path = &openapi["paths"]["/api/v1/export/{format}"]["get"];
    assert_eq!(path["security"][0]["bearer"], serde_json::json!([]));
    assert!(path["responses"]["403"].is_object(), "{path}");
}

/// Rows of a CSV export by column name.
fn csv_rows(body: &[u8]) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(body.strip_prefix(b"\xEF\xBB\xBF").expect("BOM"));
    let headers: Vec<String> = reader
        .headers()
        .expect("headers")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (headers, rows)
}

async fn csv_opens_in_excel_and_the_registry_part_imports_again(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = seeded(&app).await;
    let body = download(&app, &admin, "csv").await;
    assert!(
        body.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 byte-order mark for Excel"
    );
    let text = std::str::from_utf8(&body).expect("UTF-8");
    assert!(
        text.contains("马渚镇卫生院 <东院> & 分部"),
        "Chinese intact"
    );

    let (headers, rows) = csv_rows(&body);
    assert_eq!(&headers[..TEMPLATE_COLUMNS.len()], TEMPLATE_COLUMNS);
    assert_eq!(
        &headers[TEMPLATE_COLUMNS.len()..][..STATUS_COLUMNS.len()],
        STATUS_COLUMNS
    );
    assert_eq!(rows.len(), 4);
    let busy = rows
        .iter()
        .find(|r| r["code"] == "YY-F-001")
        .expect("fever clinic row");
    assert_eq!(busy["name_zh"], "余姚市某医院发热门诊");
    assert_eq!(busy["status"], "open");
    assert_eq!(busy["crowding"], "high");
    assert_eq!(busy["wait_minutes"], "55");
    assert_eq!(busy["status_freshness"], "fresh");
    assert_eq!(busy["stock_antigen_kits"], "out");
    assert_eq!(busy["stock_antipyretics"], "low");
    assert_eq!(busy["stock_cough_cold"], "");
    assert_eq!(busy["services"], "open_24h;antigen_testing");
    let reduced = rows
        .iter()
        .find(|r| r["code"] == "YY-T-001")
        .expect("health centre row");
    assert_eq!(reduced["operational"], "reduced");
    assert_eq!(reduced["operational_reason"], "医生外出培训 <2 人>");
    let closed = rows
        .iter()
        .find(|r| r["code"] == "YY-V-001")
        .expect("village clinic row");
    assert_eq!(closed["reopens_on"], "2026-12-20");
    assert_eq!(closed["status"], "", "no report yet");

    // The file as exported, unchanged, imports as the same facilities: the import reads the
    // template's columns and reads over the status and stock columns (and the declared state,
    // which the template has no column for).
    let parsed = import::parse(&body, Format::Csv).expect("readable");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    let stored: HashMap<FacilityId, Facility> = fixture_registry().into_iter().collect();
    assert_eq!(parsed.entries.len(), stored.len());
    for entry in parsed.entries {
        let mut expected = stored[&entry.id].clone();
        expected.operational = Operational::Open;
        assert_eq!(entry.facility, expected);
    }
}

async fn the_workbook_has_every_row(backend: Backend) {
    use calamine::{Data, Reader as _};
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = seeded(&app).await;
    let body = download(&app, &admin, "xlsx").await;

    // The workbook as exported imports again, like the CSV file.
    let parsed = import::parse(&body, Format::Xlsx).expect("our import reads it");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    let stored: HashMap<FacilityId, Facility> = fixture_registry().into_iter().collect();
    assert_eq!(parsed.entries.len(), stored.len());
    for entry in parsed.entries {
        let mut expected = stored[&entry.id].clone();
        expected.operational = Operational::Open;
        assert_eq!(entry.facility, expected);
    }

    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(body)).expect("an xlsx workbook");
    let sheet = workbook
        .worksheet_range(caremap_server::export::xlsx::SHEET)
        .expect("the facilities sheet");
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(rows.len(), 5, "header and four facilities");
    let headers: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(&headers[..TEMPLATE_COLUMNS.len()], TEMPLATE_COLUMNS);
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let busy = rows
        .iter()
        .find(|r| r[col("code")] == Data::String("YY-F-001".into()))
        .expect("fever clinic row");
    assert_eq!(busy[col("name_zh")].to_string(), "余姚市某医院发热门诊");
    assert_eq!(busy[col("lat")], Data::Float(30.0801));
    assert_eq!(busy[col("daily_capacity")], Data::Float(100.0));
    assert_eq!(busy[col("stock_antigen_kits")].to_string(), "out");
    assert_eq!(busy[col("crowding")].to_string(), "high");

    // What each column holds, in both languages, one row per column of the table.
    let columns = workbook
        .worksheet_range(caremap_server::export::xlsx::COLUMNS_SHEET)
        .expect("the columns sheet");
    let described: Vec<Vec<String>> = columns
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect();
    assert_eq!(described.len(), headers.len() + 1);
    let name_zh = described
        .iter()
        .find(|r| r[0] == "name_zh")
        .expect("name_zh described");
    assert_eq!(name_zh[1], "中文名称");
    assert_eq!(name_zh[2], "Chinese name");
}

/// A registry from OpenStreetMap files (imported by our import), with a status, exported as
/// GeoJSON and imported into a fresh database: the same facilities, field by field, with every
/// external id; and the CSV export read again gives them under the same ids.
async fn geojson_round_trips_through_our_import(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for file in ["overpass.geojson", "healthsites.geojson"] {
        let parsed = import::parse_file(&fixtures().join(file), None).expect("fixture");
        import::apply(app.store.as_ref(), parsed, false)
            .await
            .expect("import");
    }
    // One with every field the GeoJSON import reads.
    let osm = external("osm:node/987654");
    let full = Facility {
        kind: FacilityKind::FeverStation,
        name: Names {
            zh: name("临山镇发热诊疗站 \"北\" <站>"),
            en: Some(name("Linshan fever station")),
        },
        location: LatLon::new(30.1234567, 121.7654321).expect("location"),
        address: Some(
            Address::parse_for("余姚市临山镇 & 北路 3 号", Field::Address).expect("address"),
        ),
        area: AdminArea {
            township: Some(area("临山镇")),
            village: Some(area("北村")),
        },
        phone: Some(Phone::parse("0574-62000009; 120").expect("phone")),
        opening_hours: Some(OpeningHours::parse("24/7").expect("hours")),
        services: BTreeSet::from([
            Service::Open24h,
            Service::WheelchairAccess,
            Service::PaediatricFever,
        ]),
        capacity: Capacity {
            beds: Some(6),
            ..Capacity::default()
        },
        operational: Operational::Open,
        mobile: false,
        external_ids: BTreeSet::from([osm.clone()]),
    };
    let full_id = FacilityId::from_external(&osm);
    app.store
        .upsert_batch(&[(full_id, full)])
        .await
        .expect("facility");
    let (_, admin) = enrolled(&app, Role::Admin, &[]).await;
    let mut report = crate::helpers::load_report(full_id, Utc::now() - Duration::minutes(5), 30);
    report.stock.insert(
        StockItem::Oxygen,
        Stock {
            level: StockLevel::Low,
            count: Some(2),
            daily_need: Some(5),
        },
    );
    app.push(&admin, &[report_mutation(ReportId::new_v7(), &report)])
        .await;
    let original = app.store.list().await.expect("list");
    assert!(original.len() >= 5, "the fixtures and the full one");

    let body = download(&app, &admin, "geojson").await;
    let exported: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let feature = exported["features"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["properties"]["@id"] == "node/987654"))
        .expect("the full facility");
    assert_eq!(feature["properties"]["caremap:stock:oxygen"], "low");
    assert_eq!(feature["properties"]["caremap:status:crowding"], "medium");
    assert_eq!(
        feature["geometry"]["coordinates"],
        serde_json::json!([121.7654321, 30.1234567])
    );

    let parsed = import::parse(&body, Format::Geojson).expect("our import reads it");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    let fresh = TestDb::new(backend).await.expect("second database");
    let store = fresh.store().await;
    let summary = import::apply(store.as_ref(), parsed, false)
        .await
        .expect("import");
    assert_eq!(summary.added, original.len());
    let again: HashMap<FacilityId, Facility> = store
        .list()
        .await
        .expect("list")
        .into_iter()
        .filter_map(|r| Some((r.id, r.facility?)))
        .collect();
    assert_eq!(again.len(), original.len());
    for record in &original {
        let facility = record.facility.as_ref().expect("live");
        assert_eq!(
            again.get(&record.id),
            Some(facility),
            "{}",
            facility.name.zh
        );
    }

    // The CSV export too: facilities from OpenStreetMap and healthsites.io (codes `osm:…`,
    // `healthsites:…`) come back under their ids, with every external id.
    let csv = download(&app, &admin, "csv").await;
    let parsed = import::parse(&csv, Format::Csv).expect("readable");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    assert_eq!(parsed.entries.len(), original.len());
    for record in &original {
        let mut facility = record.facility.clone().expect("live");
        facility.operational = Operational::Open;
        let entry = parsed
            .entries
            .iter()
            .find(|e| e.id == record.id)
            .unwrap_or_else(|| panic!("{} under its id", facility.name.zh));
        assert_eq!(entry.facility, facility);
    }
}

/// The live facilities of a store by id.
async fn registry_of(store: &dyn caremap_server::store::Store) -> HashMap<FacilityId, Facility> {
    store
        .list()
        .await
        .expect("list")
        .into_iter()
        .filter(|r| !r.deleted)
        .filter_map(|r| Some((r.id, r.facility?)))
        .collect()
}

/// The whole demo registry (ids from `demo:<n>`, no OSM id; every kind, declared states with
/// reasons and reopening days, mobile points, doctors and daily capacity), with the demo's
/// reports: exported as GeoJSON and imported into a fresh database, every facility comes back
/// under its id, field by field; the CSV export, imported unchanged, gives the same facilities
/// but for the declared state, which the template has no column for.
async fn the_demo_registry_round_trips_through_geojson_and_csv(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    caremap_server::demo::seed(app.store.as_ref(), false)
        .await
        .expect("demo");
    let reports = caremap_server::demo::reports::seed_reports(app.store.as_ref(), Utc::now())
        .await
        .expect("demo reports");
    assert!(reports.applied > 0, "statuses to read over");
    let (_, admin) = enrolled(&app, Role::Admin, &[]).await;
    let original = registry_of(app.store.as_ref()).await;
    assert!(original.len() > 300, "{}", original.len());
    let has = |pred: &dyn Fn(&Facility) -> bool| original.values().any(pred);
    assert!(has(&|f| f.mobile));
    assert!(has(&|f| f.capacity.doctors.is_some()));
    assert!(has(&|f| matches!(
        f.operational,
        Operational::Closed {
            reopens_on: Some(_),
            ..
        }
    )));
    assert!(has(&|f| matches!(
        f.operational,
        Operational::Reduced { reason: Some(_) }
    )));

    let body = download(&app, &admin, "geojson").await;
    let parsed = import::parse(&body, Format::Geojson).expect("our import reads it");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    let fresh = TestDb::new(backend).await.expect("second database");
    let store = fresh.store().await;
    let summary = import::apply(store.as_ref(), parsed, false)
        .await
        .expect("import");
    assert_eq!(summary.added, original.len());
    let again = registry_of(store.as_ref()).await;
    assert_eq!(again.len(), original.len());
    for (id, facility) in &original {
        assert_eq!(again.get(id), Some(facility), "{}", facility.name.zh);
    }

    let body = download(&app, &admin, "csv").await;
    let parsed = import::parse(&body, Format::Csv).expect("our import reads it");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    assert_eq!(parsed.entries.len(), original.len());
    for entry in parsed.entries {
        let mut expected = original
            .get(&entry.id)
            .unwrap_or_else(|| panic!("{} under its id", entry.facility.name.zh))
            .clone();
        expected.operational = Operational::Open;
        assert_eq!(entry.facility, expected);
    }
}

/// The text of every element under each `Hospital`, by its path of local names.
fn hospitals(xml: &[u8]) -> Vec<Vec<(String, String)>> {
    use quick_xml::events::Event;
    use quick_xml::name::{Namespace, ResolveResult};
    let mut reader = quick_xml::NsReader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut out: Vec<Vec<(String, String)>> = Vec::new();
    let mut text = String::new();
    let mut buf = Vec::new();
    loop {
        match reader
            .read_resolved_event_into(&mut buf)
            .expect("well-formed XML")
        {
            (ns, Event::Start(start)) => {
                let local = start.local_name().as_ref().to_owned();
                if path.is_empty() {
                    assert_eq!(local, "HospitalStatus");
                    assert_eq!(
                        ns,
                        ResolveResult::Bound(Namespace(caremap_server::export::edxl::HAVE_NS))
                    );
                }
                if local == "Hospital" {
                    out.push(Vec::new());
                }
                path.push(local);
                text.clear();
            }
            (_, Event::Text(t)) => text.push_str(&t.xml10_content()),
            // quick-xml reports `&amp;` and the like apart from the text around them.
            (_, Event::GeneralRef(r)) => {
                let resolved = match r.resolve_char_ref().expect("character reference") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .expect("a predefined entity")
                        .to_owned(),
                };
                text.push_str(&resolved);
            }
            (_, Event::End(_)) => {
                let value = text.trim();
                if !value.is_empty() && path.len() > 2 {
                    if let Some(hospital) = out.last_mut() {
                        hospital.push((path[2..].join("/"), value.to_owned()));
                    }
                }
                text.clear();
                path.pop();
            }
            (_, Event::Eof) => break,
            _ => {}
        }
        buf.clear();
    }
    assert!(path.is_empty(), "every element closed");
    out
}

fn value<'a>(hospital: &'a [(String, String)], path: &str) -> Vec<&'a str> {
    hospital
        .iter()
        .filter(|(p, _)| p == path)
        .map(|(_, v)| v.as_str())
        .collect()
}

async fn edxl_have_carries_the_mapped_status(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = seeded(&app).await;
    let body = download(&app, &admin, "edxl").await;
    assert!(body.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    let hospitals = hospitals(&body);
    assert_eq!(hospitals.len(), 4);
    let by_name = |zh: &str| {
        hospitals
            .iter()
            .find(|h| {
                value(
                    h,
                    "Organization/OrganizationInformation/OrganisationName/NameElement",
                )
                .first()
                    == Some(&zh)
            })
            .unwrap_or_else(|| panic!("no Hospital named {zh}"))
    };

    let busy = by_name("余姚市某医院发热门诊");
    assert_eq!(
        value(
            busy,
            "Organization/OrganizationInformation/OrganisationName/NameElement"
        ),
        ["余姚市某医院发热门诊", "Example Hospital fever clinic"]
    );
    assert_eq!(
        value(busy, "Organization/OrganizationGeoLocation/Point/pos"),
        ["30.0801 121.0602"]
    );
    assert_eq!(
        value(
            busy,
            "EmergencyDepartmentStatus/EMSTraffic/EMSTrafficStatus"
        ),
        ["Advisory"]
    );
    assert_eq!(
        value(busy, "HospitalBedCapacityStatus/BedCapacity/BedType"),
        ["EmergencyDepartment"]
    );
    assert_eq!(
        value(
            busy,
            "HospitalBedCapacityStatus/BedCapacity/Capacity/CapacityStatus"
        ),
        ["NotAvailable"]
    );
    assert_eq!(
        value(
            busy,
            "HospitalBedCapacityStatus/BedCapacity/Capacity/AvailableCount"
        ),
        ["5"]
    );
    assert_eq!(
        value(
            busy,
            "HospitalBedCapacityStatus/BedCapacity/Capacity/BaselineCount"
        ),
        ["100"]
    );
    assert_eq!(
        value(busy, "HospitalFacilityStatus/ClinicalStatus"),
        ["Full"]
    );
    assert_eq!(
        value(busy, "HospitalFacilityStatus/FacilityStatus"),
        ["Normal"]
    );
    assert_eq!(
        value(busy, "HospitalResourcesStatus/Staffing"),
        ["Insufficient"],
        "5 of 12 doctors"
    );
    assert_eq!(
        value(busy, "HospitalResourcesStatus/ClinicalOperations"),
        ["Insufficient"]
    );
    let texts = value(busy, "HospitalResourcesStatus/ResourcesInformationText");
    assert_eq!(texts.len(), 3);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("抗原检测试剂") && t.ends_with("(out)")),
        "{texts:?}"
    );

    let reduced = by_name("马渚镇卫生院 <东院> & 分部");
    assert_eq!(
        value(reduced, "HospitalFacilityStatus/FacilityStatus"),
        ["Compromised"]
    );
    assert_eq!(
        value(reduced, "HospitalFacilityStatus/ClinicalStatus"),
        ["Normal"]
    );
    assert_eq!(
        value(reduced, "HospitalResourcesStatus/ClinicalOperations"),
        ["Adequate"]
    );
    assert_eq!(
        value(reduced, "HospitalResourcesStatus/Staffing"),
        ["Adequate"]
    );
    assert_eq!(
        value(
            reduced,
            "EmergencyDepartmentStatus/EMSTraffic/EMSTrafficStatus"
        ),
        ["Normal"]
    );
    assert_eq!(
        value(
            reduced,
            "HospitalBedCapacityStatus/BedCapacity/Capacity/CapacityStatus"
        ),
        ["Vacant/Available"]
    );

    let closed = by_name("马渚镇示例村卫生室");
    assert_eq!(
        value(closed, "HospitalFacilityStatus/FacilityStatus"),
        ["Closed"]
    );
    assert_eq!(
        value(
            closed,
            "EmergencyDepartmentStatus/EMSTraffic/EMSTrafficStatus"
        ),
        ["Closed"]
    );
    assert!(
        value(closed, "HospitalFacilityStatus/ClinicalStatus").is_empty(),
        "no report"
    );
    assert!(value(closed, "HospitalResourcesStatus/Staffing").is_empty());
    for hospital in &hospitals {
        let updated = value(hospital, "LastUpdateTime");
        assert_eq!(updated.len(), 1);
        assert!(
            chrono::DateTime::parse_from_rfc3339(updated[0]).is_ok(),
            "{updated:?}"
        );
    }
}

/// No facility yet: every format still downloads and reads as what it is.
async fn an_empty_registry_exports(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, admin) = enrolled(&app, Role::Admin, &[]).await;
    let (headers, rows) = csv_rows(&download(&app, &admin, "csv").await);
    assert_eq!(&headers[..TEMPLATE_COLUMNS.len()], TEMPLATE_COLUMNS);
    assert!(rows.is_empty());
    let geojson = download(&app, &admin, "geojson").await;
    let parsed = import::parse(&geojson, Format::Geojson).expect("an empty FeatureCollection");
    assert!(parsed.entries.is_empty() && parsed.issues.is_empty());
    assert!(hospitals(&download(&app, &admin, "edxl").await).is_empty());
    let xlsx = download(&app, &admin, "xlsx").await;
    assert!(xlsx.starts_with(b"PK"));
}

crate::on_every_backend!(
    the_demo_registry_round_trips_through_geojson_and_csv,
    an_empty_registry_exports,
    only_the_health_authority_may_export,
    csv_opens_in_excel_and_the_registry_part_imports_again,
    the_workbook_has_every_row,
    geojson_round_trips_through_our_import,
    edxl_have_carries_the_mapped_status,
);

/// `caremap-server export` as a real process: text to standard output, a workbook to a file.
#[tokio::test]
async fn the_export_command_writes_files_and_standard_output() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let store = db.store().await;
    store
        .upsert_batch(&fixture_registry())
        .await
        .expect("registry");
    drop(store);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_caremap-server"))
            .arg("--database")
            .arg(&db.url)
            .args(args)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run caremap-server")
    };
    let geojson = run(&["export", "--format", "geojson"]);
    assert!(
        geojson.status.success(),
        "{}",
        String::from_utf8_lossy(&geojson.stderr)
    );
    let collection: serde_json::Value =
        serde_json::from_slice(&geojson.stdout).expect("GeoJSON on stdout");
    assert_eq!(collection["type"], "FeatureCollection");
    assert_eq!(collection["features"].as_array().map(Vec::len), Some(4));
    assert!(String::from_utf8_lossy(&geojson.stderr).contains("exported 4 facilities"));

    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("registry.xlsx");
    let xlsx = run(&[
        "export",
        "--format",
        "xlsx",
        "--out",
        out.to_str().expect("path"),
    ]);
    assert!(
        xlsx.status.success(),
        "{}",
        String::from_utf8_lossy(&xlsx.stderr)
    );
    assert!(xlsx.stdout.is_empty());
    let bytes = std::fs::read(&out).expect("workbook written");
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip file");

    let refused = run(&["export", "--format", "pdf"]);
    assert!(!refused.status.success());
}
