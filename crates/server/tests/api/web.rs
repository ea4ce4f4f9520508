//! The PWA's files and the headers on every response; config, health and the OpenAPI document.

use crate::helpers::{header, spawn_app, spawn_app_with, Backend};
use caremap_server::ServerConfig;

/// SHA-256 of the inline module script of `tests/fixtures/dist/index.html`, computed outside
/// Rust (Python's hashlib) so the test does not check the code with itself.
const FIXTURE_SCRIPT_HASH: &str = "'sha256-w/RgF1A4YxlCU8vi2Ywur5kYRskYNtfkib4sQPqaiPo='";

/// The same for the staff app's shell, `tests/fixtures/dist/staff/index.html`.
const FIXTURE_STAFF_SCRIPT_HASH: &str = "'sha256-TSuWFkK2X0XV6PtJjJ8RSv3+dO75Tlnfx7r+YY33Qqs='";

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    for path in ["/", "/api/v1/config", "/api/v1/nothing", "/facility/x"] {
        let response = app.get(path).await;
        let csp = header(&response, "content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' {FIXTURE_STAFF_SCRIPT_HASH} {FIXTURE_SCRIPT_HASH};"
            )),
            "{csp}"
        );
        assert!(
            csp.contains("img-src 'self' data: https://tile.openstreetmap.org;"),
            "{csp}"
        );
        for directive in [
            "style-src 'self'",
            "connect-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(directive), "{directive}");
        }
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        assert_eq!(
            header(&response, "permissions-policy"),
            "geolocation=(self)"
        );
    }
}

#[tokio::test]
async fn tile_origin_follows_the_configured_template() {
    let config = ServerConfig {
        dist: crate::helpers::fixture_dist(),
        tiles: caremap_server::tiles::TileSettings {
            source: caremap_model::TileSource::new(
                "https://{s}.tiles.example.cn:8443/{z}/{x}/{y}.png",
                "©",
            ),
            pmtiles: None,
        },
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(Backend::Sqlite, config).await else {
        return;
    };
    let response = app.get("/api/v1/health").await;
    let csp = header(&response, "content-security-policy");
    assert!(
        csp.contains("img-src 'self' data: https://*.tiles.example.cn:8443;"),
        "{csp}"
    );
    let config = app.get_json("/api/v1/config").await;
    assert_eq!(
        config["tile_url"],
        "https://{s}.tiles.example.cn:8443/{z}/{x}/{y}.png"
    );
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_shell_is_revalidated() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    for path in [
        "/caremap-3f2a9c1e8b7d6a5f_bg.wasm",
        "/caremap-3f2a9c1e8b7d6a5f.js",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
    }
    for path in ["/", "/index.html", "/manifest.webmanifest", "/sw.js"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
    }
    let wasm = app.get("/caremap-3f2a9c1e8b7d6a5f_bg.wasm").await;
    assert_eq!(header(&wasm, "content-type"), "application/wasm");
}

#[tokio::test]
async fn client_routes_fall_back_to_the_app_shell() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let index = app.get("/").await.text().await.expect("index");
    assert!(index.contains("TrunkApplicationStarted"));
    for path in [
        "/facility/6b1f3c2e-8d4a-4f0b-9a57-2c1e0d3b7e91",
        "/list",
        "/settings/language",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "cache-control"), "no-cache");
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert_eq!(response.text().await.expect("body"), index, "{path}");
    }
    // A missing file is a 404, not the app shell.
    let missing = app.get("/caremap-0000000000000000_bg.wasm").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_doctors_page_is_the_staff_apps_shell() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let index = app.get("/").await.text().await.expect("index");
    for path in ["/report", "/report/", "/report/history"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        assert!(header(&response, "content-type").starts_with("text/html"));
        let body = response.text().await.expect("body");
        assert!(
            body.contains("/staff/caremap-staff-5e4d3c2b1a098765.js"),
            "{path}: {body}"
        );
        assert_ne!(body, index, "{path}");
    }
    // A path that only starts like it is the residents' app.
    let reports = app.get("/reports").await.text().await.expect("body");
    assert_eq!(reports, index);
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    caremap_server::demo::seed(app.store.as_ref(), false)
        .await
        .expect("seed");
    for (encoding, path) in [
        ("gzip", "/api/v1/registry?limit=50"),
        ("br", "/api/v1/registry?limit=50"),
        ("gzip", "/caremap-3f2a9c1e8b7d6a5f.js"),
        ("br", "/"),
    ] {
        let response = app
            .client
            .get(app.url(path))
            .header("Accept-Encoding", encoding)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-encoding"), encoding, "{path}");
    }
    let plain = app.get("/api/v1/registry?limit=50").await;
    assert_eq!(header(&plain, "content-encoding"), "");
}

#[tokio::test]
async fn without_a_build_the_api_still_works() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = ServerConfig {
        dist: dir.path().join("dist"),
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(Backend::Sqlite, config).await else {
        return;
    };
    let root = app.get("/").await;
    assert_eq!(root.status(), 200);
    assert!(root.text().await.expect("body").contains("cargo xtask run"));
    assert_eq!(app.get("/api/v1/health").await.status(), 200);
    let csp = header(&app.get("/").await, "content-security-policy");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{csp}"
    );
}

#[tokio::test]
async fn config_says_whether_the_registry_is_demo_data() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let config = app.get_json("/api/v1/config").await;
    assert_eq!(
        config,
        serde_json::json!({
            "tile_url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "tile_attribution": "© OpenStreetMap contributors",
            "tile_datum": "wgs84",
            "tile_subdomains": "",
            "tile_max_zoom": 19,
            "demo": false,
            "freshness": {"ageing_after_minutes": 360, "stale_after_minutes": 1440},
        })
    );
    caremap_server::demo::seed(app.store.as_ref(), false)
        .await
        .expect("seed");
    assert_eq!(app.get_json("/api/v1/config").await["demo"], true);
    let health = app.get_json("/api/v1/health").await;
    assert_eq!(health["status"], "ok");
    assert!(health["facilities"].as_u64().expect("count") > 300);
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let doc = app.get_json("/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for path in [
        "/api/v1/registry",
        "/api/v1/timetables",
        "/api/v1/config",
        "/api/v1/health",
        "/api/v1/openapi.json",
        "/api/v1/me",
        "/api/v1/facilities/{id}/reports",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path}");
    }
    for path in ["/api/v1/enroll", "/api/v1/push"] {
        assert!(doc["paths"][path]["post"].is_object(), "{path}");
    }
    assert_eq!(
        doc["paths"]["/api/v1/push"]["post"]["security"][0]["bearer"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let params = doc["paths"]["/api/v1/registry"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["since", "limit", "format"]);
    for schema in [
        "RegistryPage",
        "FacilityRecord",
        "ColumnarPage",
        "Facility",
        "ErrorBody",
        "ClientConfig",
        "FacilityStatus",
        "FreshnessThresholds",
        "EnrollRequest",
        "EnrollResponse",
        "AccountInfo",
        "PushRequest",
        "PushResponse",
        "MutationResult",
        "ReportHistory",
        "LoadReport",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}
