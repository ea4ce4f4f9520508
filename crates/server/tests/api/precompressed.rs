//! The build's pre-compressed copies (`<file>.br`, `<file>.gz`, written by
//! tools/sw/precompress.mjs) are sent as they are to a client that accepts them, the original
//! to one that does not, and the compression layer never compresses them a second time.

use crate::helpers::{copy_fixture_dist, header, spawn_app_with, Backend, TestApp};
use caremap_server::ServerConfig;

const WASM: &str = "caremap-3f2a9c1e8b7d6a5f_bg.wasm";
/// Stand-ins for the compressed bytes: the server must send them unchanged, so any bytes do,
/// and bytes that are not valid brotli or gzip show that nothing decoded or re-encoded them.
const WASM_BR: &[u8] = b"pre-compressed wasm, brotli";
const WASM_GZ: &[u8] = b"pre-compressed wasm, gzip";
const INDEX_BR: &[u8] = b"pre-compressed index.html, brotli";
const STAFF_BR: &[u8] = b"pre-compressed staff/index.html, brotli";
const STAFF_WASM_BR: &[u8] = b"pre-compressed staff wasm, brotli";

/// The fixture build with .br and .gz copies of the wasm and a .br copy of index.html.
fn dist_with_copies() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_fixture_dist(dir.path());
    let write = |name: String, bytes: &[u8]| {
        std::fs::write(dir.path().join(name), bytes).expect("write copy");
    };
    write(format!("{WASM}.br"), WASM_BR);
    write(format!("{WASM}.gz"), WASM_GZ);
    write("index.html.br".to_owned(), INDEX_BR);
    write("staff/index.html.br".to_owned(), STAFF_BR);
    write(
        "staff/caremap-staff-5e4d3c2b1a098765_bg.wasm".to_owned(),
        b"\0asm staff",
    );
    write(
        "staff/caremap-staff-5e4d3c2b1a098765_bg.wasm.br".to_owned(),
        STAFF_WASM_BR,
    );
    dir
}

async fn app(dist: &tempfile::TempDir) -> Option<TestApp> {
    let config = ServerConfig {
        dist: dist.path().to_owned(),
        ..ServerConfig::default()
    };
    spawn_app_with(Backend::Sqlite, config).await
}

async fn get(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(accept) = accept_encoding {
        request = request.header("accept-encoding", accept);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn a_client_that_accepts_brotli_gets_the_brotli_copy() {
    let dist = dist_with_copies();
    let Some(app) = app(&dist).await else { return };
    let response = get(&app, &format!("/{WASM}"), Some("gzip, deflate, br")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), "br");
    assert_eq!(header(&response, "content-type"), "application/wasm");
    assert_eq!(
        header(&response, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&response, "vary")
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    assert!(header(&response, "content-security-policy").contains("script-src 'self'"));
    let body = response.bytes().await.expect("body");
    assert_eq!(&body[..], WASM_BR);
}

#[tokio::test]
async fn a_client_that_accepts_only_gzip_gets_the_gzip_copy() {
    let dist = dist_with_copies();
    let Some(app) = app(&dist).await else { return };
    let response = get(&app, &format!("/{WASM}"), Some("gzip")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), "gzip");
    assert_eq!(header(&response, "content-type"), "application/wasm");
    let body = response.bytes().await.expect("body");
    assert_eq!(&body[..], WASM_GZ);
}

#[tokio::test]
async fn a_client_without_accept_encoding_gets_the_file_itself() {
    let dist = dist_with_copies();
    let Some(app) = app(&dist).await else { return };
    let original = std::fs::read(dist.path().join(WASM)).expect("read wasm");
    for accept in [None, Some("identity")] {
        let response = get(&app, &format!("/{WASM}"), accept).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-encoding"), "", "{accept:?}");
        assert_eq!(header(&response, "content-type"), "application/wasm");
        assert!(header(&response, "vary")
            .to_ascii_lowercase()
            .contains("accept-encoding"));
        let body = response.bytes().await.expect("body");
        assert_eq!(body.to_vec(), original, "{accept:?}");
    }
}

#[tokio::test]
async fn index_html_and_client_routes_get_its_brotli_copy() {
    let dist = dist_with_copies();
    let Some(app) = app(&dist).await else { return };
    for path in [
        "/",
        "/index.html",
        "/facility/6b1f3c2e-8d4a-4f0b-9a57-2c1e0d3b7e91",
    ] {
        let response = get(&app, path, Some("br")).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-encoding"), "br", "{path}");
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        let body = response.bytes().await.expect("body");
        assert_eq!(&body[..], INDEX_BR, "{path}");
    }
}

#[tokio::test]
async fn the_staff_apps_shell_and_wasm_get_their_brotli_copies() {
    let dist = dist_with_copies();
    let Some(app) = app(&dist).await else { return };
    for path in ["/report", "/report/history"] {
        let response = get(&app, path, Some("br")).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-encoding"), "br", "{path}");
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        let body = response.bytes().await.expect("body");
        assert_eq!(&body[..], STAFF_BR, "{path}");
    }
    let wasm = get(
        &app,
        "/staff/caremap-staff-5e4d3c2b1a098765_bg.wasm",
        Some("gzip, br"),
    )
    .await;
    assert_eq!(header(&wasm, "content-encoding"), "br");
    assert_eq!(header(&wasm, "content-type"), "application/wasm");
    assert_eq!(
        header(&wasm, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(&wasm.bytes().await.expect("body")[..], STAFF_WASM_BR);
}

#[tokio::test]
async fn a_file_without_a_copy_is_still_compressed_on_the_fly() {
    let dist = dist_with_copies();
    let Some(app) = app(&dist).await else { return };
    // The fixture's loader has no .br next to it: the compression layer compresses it.
    let response = get(&app, "/caremap-3f2a9c1e8b7d6a5f.js", Some("br")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), "br");
    let original = std::fs::read(dist.path().join("caremap-3f2a9c1e8b7d6a5f.js")).expect("js");
    let body = response.bytes().await.expect("body");
    assert_ne!(body.to_vec(), original);
}
