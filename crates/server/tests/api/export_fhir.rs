//! The FHIR export, validated by an independent FHIR R4 implementation: PyPI's `fhir.resources`
//! 6.4.0 (FHIR 4.0.1; 6.5.0 and later are R4B and R5), which `cargo xtask setup` installs into
//! `target/fhir-validator` (see [`validator_path`]). Its pydantic models check every element's
//! name, type, cardinality and primitive syntax (times, dates, ids, URIs) and refuse unknown
//! elements; they do not check code bindings. Without Python or the package this test fails,
//! and says how to install it.

use crate::export::seeded;
use crate::helpers::{enrolled, spawn_app, Backend};
use caremap_model::Role;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// Where the set-up installs the validator (`CAREMAP_FHIR_PYTHONPATH` overrides it).
fn validator_path() -> PathBuf {
    std::env::var_os("CAREMAP_FHIR_PYTHONPATH").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/fhir-validator"),
        PathBuf::from,
    )
}

/// Validates a Bundle with `fhir.resources`; prints a summary of what it read.
const VALIDATE: &str = r#"
import json, sys
try:
    import fhir.resources
    from fhir.resources.bundle import Bundle
except ImportError as err:
    print("fhir.resources is not installed: %s" % err, file=sys.stderr)
    sys.exit(3)
if fhir.resources.__fhir_version__ != "4.0.1":
    print("fhir.resources %s validates FHIR %s, not R4 4.0.1" % (fhir.resources.__version__, fhir.resources.__fhir_version__), file=sys.stderr)
    sys.exit(4)
try:
    bundle = Bundle.parse_file(sys.argv[1])
except Exception as err:
    print("INVALID: %s" % err, file=sys.stderr)
    sys.exit(1)
urls = {e.fullUrl for e in bundle.entry or []}
summary = {"type": bundle.type, "resources": {}, "unresolved": [], "locations": {}}
for e in bundle.entry or []:
    r = e.resource
    summary["resources"][r.resource_type] = summary["resources"].get(r.resource_type, 0) + 1
    if r.resource_type == "HealthcareService":
        for ref in r.location or []:
            if ref.reference not in urls:
                summary["unresolved"].append(ref.reference)
    if r.resource_type == "Location":
        summary["locations"][r.name] = json.loads(r.json())
print(json.dumps(summary, ensure_ascii=False))
"#;

/// Runs the validator on `bundle`: its summary, or its complaint.
fn validate(bundle: &[u8]) -> Result<Value, String> {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, bundle).expect("write bundle");
    let output = Command::new("python3")
        .arg("-c")
        .arg(VALIDATE)
        .arg(&file)
        .env("PYTHONPATH", validator_path())
        .output()
        .unwrap_or_else(|err| panic!("python3 is needed to validate the FHIR export: {err}"));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match output.status.code() {
        Some(0) => Ok(serde_json::from_slice(&output.stdout).expect("summary JSON")),
        Some(3 | 4) => panic!(
            "{stderr}\nthe FHIR validator is missing: run `cargo xtask setup` (it installs \
             fhir.resources 6.4.0 into {})",
            validator_path().display()
        ),
        _ => Err(stderr),
    }
}

async fn the_fhir_bundle_is_valid_r4(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = seeded(&app).await;
    let response = app
        .client
        .get(app.url("/api/v1/export/fhir"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("body").to_vec();

    let summary = validate(&body).unwrap_or_else(|err| panic!("the bundle is not valid R4: {err}"));
    assert_eq!(summary["type"], "collection");
    assert_eq!(summary["resources"]["Location"], 4);
    assert_eq!(summary["resources"]["HealthcareService"], 4);
    assert_eq!(summary["unresolved"], serde_json::json!([]));

    let locations = &summary["locations"];
    let busy = &locations["余姚市某医院发热门诊"];
    assert_eq!(busy["status"], "active");
    assert_eq!(busy["position"]["latitude"], 30.0801);
    assert_eq!(busy["position"]["longitude"], 121.0602);
    assert_eq!(busy["operationalStatus"]["code"], "open");
    assert_eq!(
        busy["alias"],
        serde_json::json!(["Example Hospital fever clinic"])
    );
    assert_eq!(busy["hoursOfOperation"][0]["allDay"], true);
    assert_eq!(
        busy["hoursOfOperation"][0]["daysOfWeek"]
            .as_array()
            .map(Vec::len),
        Some(7)
    );
    assert_eq!(busy["telecom"].as_array().map(Vec::len), Some(2));

    let reduced = &locations["马渚镇卫生院 <东院> & 分部"];
    assert_eq!(reduced["operationalStatus"]["code"], "reduced");
    let hours = reduced["hoursOfOperation"].as_array().expect("hours");
    assert_eq!(hours.len(), 3, "{hours:?}");
    assert_eq!(
        hours[0]["daysOfWeek"],
        serde_json::json!(["mon", "tue", "wed", "thu", "fri"])
    );
    assert_eq!(hours[0]["openingTime"], "08:00:00");
    assert_eq!(hours[1]["closingTime"], "17:00:00");
    assert_eq!(hours[2]["daysOfWeek"], serde_json::json!(["sat"]));
    assert!(
        reduced["availabilityExceptions"]
            .as_str()
            .is_some_and(|t| t.contains("PH off")),
        "{reduced}"
    );

    let closed = &locations["马渚镇示例村卫生室"];
    assert_eq!(closed["status"], "suspended");
    assert_eq!(closed["operationalStatus"]["code"], "closed");
    // Hours with no weekly form travel as their OSM text.
    let mobile = &locations["马渚镇流动接种点"];
    assert!(mobile.get("hoursOfOperation").is_none());
    assert!(mobile["availabilityExceptions"]
        .as_str()
        .is_some_and(|t| t.contains("Jan-Mar Tu 09:00-11:00")));
    assert_eq!(mobile["physicalType"]["coding"][0]["code"], "ve");

    // The validator is not a formality: a FHIR time cannot be 24:00.
    let broken =
        String::from_utf8(body)
            .expect("UTF-8")
            .replacen("\"17:00:00\"", "\"24:00:00\"", 1);
    assert!(validate(broken.as_bytes()).is_err(), "24:00:00 refused");
}

/// The whole demo registry, with its load reports: every timetable and name it has.
async fn the_demo_registry_is_valid_r4(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    caremap_server::demo::seed(app.store.as_ref(), false)
        .await
        .expect("demo registry");
    caremap_server::demo::reports::seed_reports(app.store.as_ref(), chrono::Utc::now())
        .await
        .expect("demo reports");
    let facilities = app.store.count().await.expect("count");
    let (_, admin) = enrolled(&app, Role::Admin, &[]).await;
    let response = app
        .client
        .get(app.url("/api/v1/export/fhir"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("body");
    let summary = validate(&body).unwrap_or_else(|err| panic!("the bundle is not valid R4: {err}"));
    assert_eq!(summary["resources"]["Location"], facilities);
    assert_eq!(summary["resources"]["HealthcareService"], facilities);
    assert_eq!(summary["unresolved"], serde_json::json!([]));
}

/// No facility yet: still a valid (empty) bundle.
async fn an_empty_registry_is_a_valid_bundle(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, admin) = enrolled(&app, Role::Admin, &[]).await;
    let response = app
        .client
        .get(app.url("/api/v1/export/fhir"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("body");
    let summary = validate(&body).unwrap_or_else(|err| panic!("the bundle is not valid R4: {err}"));
    assert_eq!(summary["type"], "collection");
    assert_eq!(summary["resources"], serde_json::json!({}));
}

crate::on_every_backend!(
    the_fhir_bundle_is_valid_r4,
    the_demo_registry_is_valid_r4,
    an_empty_registry_is_a_valid_bundle
);
