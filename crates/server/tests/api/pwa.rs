//! What the PWA's service worker and manifest need from the server: the worker always
//! revalidated, Workbox's runtime cached for good, the manifest with its media type, and a CSP
//! that lets the worker fetch map tiles.

use crate::helpers::{copy_fixture_dist, fixture_dist, header, spawn_app_with, Backend};
use caremap_server::ServerConfig;

/// The fixture build plus a Workbox runtime file, as generateSW writes it next to sw.js.
fn dist_with_workbox_runtime() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_fixture_dist(dir.path());
    std::fs::write(
        dir.path().join("workbox-17a552a1.js"),
        "define([\"exports\"],function(t){});\n",
    )
    .expect("write runtime");
    dir
}

#[tokio::test]
async fn the_service_worker_is_revalidated_and_its_runtime_is_immutable() {
    let dist = dist_with_workbox_runtime();
    let config = ServerConfig {
        dist: dist.path().to_owned(),
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(Backend::Sqlite, config).await else {
        return;
    };
    let sw = app.get("/sw.js").await;
    assert_eq!(sw.status(), 200);
    assert_eq!(header(&sw, "cache-control"), "no-cache");
    assert!(header(&sw, "content-type").contains("javascript"));

    let runtime = app.get("/workbox-17a552a1.js").await;
    assert_eq!(runtime.status(), 200);
    assert_eq!(
        header(&runtime, "cache-control"),
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn the_manifest_is_served_as_a_web_app_manifest() {
    let config = ServerConfig {
        dist: fixture_dist(),
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(Backend::Sqlite, config).await else {
        return;
    };
    let manifest = app.get("/manifest.webmanifest").await;
    assert_eq!(manifest.status(), 200);
    assert_eq!(
        header(&manifest, "content-type"),
        "application/manifest+json"
    );
    assert_eq!(header(&manifest, "cache-control"), "no-cache");
    let body: serde_json::Value = manifest.json().await.expect("manifest is JSON");
    assert_eq!(body["start_url"], "/");
}

#[tokio::test]
async fn the_service_worker_may_fetch_tiles_from_the_tile_server() {
    let config = ServerConfig {
        dist: fixture_dist(),
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
    for path in ["/", "/sw.js"] {
        let response = app.get(path).await;
        let csp = header(&response, "content-security-policy");
        assert!(
            csp.contains("connect-src 'self' https://*.tiles.example.cn:8443;"),
            "{path}: {csp}"
        );
        assert!(
            csp.contains("img-src 'self' data: https://*.tiles.example.cn:8443;"),
            "{path}: {csp}"
        );
        assert!(csp.contains("worker-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("manifest-src 'self';"), "{path}: {csp}");
    }
}
