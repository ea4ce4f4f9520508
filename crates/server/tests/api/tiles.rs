//! The base map's flags as a real `serve` process takes them (provider presets, their datum and
//! the CSP that follows their origins, a refused combination), and our own PMTiles file served
//! with HTTP Range requests.

use crate::helpers::{fixture_dist, spawn_app_with, Backend};
use caremap_server::config::ServerConfig;
use caremap_server::tiles::{TileArgs, TileProvider, PMTILES_PATH};
use std::io::{BufRead, Read};
use std::process::{Child, Command, Stdio};

/// `caremap-server serve` with `flags` on a fresh database: the process and its URL.
async fn serve(flags: &[&str]) -> (Child, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("tiles.sqlite").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .args(["serve", "--addr", "127.0.0.1:0", "--database", &database])
        .arg("--dist")
        .arg(fixture_dist())
        .args(flags)
        .env_remove("DATABASE_URL")
        .env_remove("CAREMAP_TILE_URL")
        .env_remove("CAREMAP_TILE_PROVIDER")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caremap-server");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .expect("reader")
    .expect("a line");
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (child, url, dir)
}

#[tokio::test]
async fn the_amap_preset_says_gcj02_and_opens_the_csp_to_its_tiles_only() {
    let (mut child, url, _dir) = serve(&["--tile-provider", "amap"]).await;
    let response = reqwest::get(format!("{url}/api/v1/config"))
        .await
        .expect("request");
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("CSP")
        .to_owned();
    let config: serde_json::Value = response.json().await.expect("JSON");
    child.kill().expect("stop caremap-server");
    child.wait().expect("reap caremap-server");
    assert_eq!(config["tile_datum"], "gcj02");
    assert_eq!(config["tile_subdomains"], "1234");
    assert!(
        config["tile_url"]
            .as_str()
            .expect("url")
            .starts_with("https://webrd0{s}.is.autonavi.com/"),
        "{config}"
    );
    assert!(
        csp.contains("img-src 'self' data: https://*.is.autonavi.com;"),
        "{csp}"
    );
    assert!(
        csp.contains("connect-src 'self' https://*.is.autonavi.com;"),
        "{csp}"
    );
    assert!(!csp.contains("openstreetmap"), "{csp}");
}

#[tokio::test]
async fn tianditu_without_its_key_does_not_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .args(["serve", "--addr", "127.0.0.1:0", "--database", &database])
        .args(["--tile-provider", "tianditu"])
        .env_remove("CAREMAP_TILE_KEY")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start caremap-server");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("exit");
    assert!(!status.success());
    assert!(stderr.contains("天地图需要密钥"), "{stderr}");
    assert!(stderr.contains("Tianditu needs a key"), "{stderr}");
}

#[tokio::test]
async fn the_tianditu_key_is_in_the_tiles_and_labels_urls() {
    let settings = TileArgs {
        tile_provider: Some(TileProvider::Tianditu),
        tile_key: Some("0123abcd".into()),
        ..TileArgs::default()
    }
    .resolve()
    .expect("settings");
    let config = ServerConfig {
        dist: fixture_dist(),
        tiles: settings,
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(Backend::Sqlite, config).await else {
        return;
    };
    let config = app.get_json("/api/v1/config").await;
    assert_eq!(config["tile_datum"], "wgs84");
    for url in [&config["tile_url"], &config["tile_labels_url"]] {
        let url = url.as_str().expect("a URL");
        assert!(url.starts_with("https://t{s}.tianditu.gov.cn/"), "{url}");
        assert!(url.ends_with("&tk=0123abcd"), "{url}");
    }
}

#[tokio::test]
async fn our_pmtiles_file_is_served_in_ranges() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("county.pmtiles");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    std::fs::write(&file, &bytes).expect("write");
    let settings = TileArgs {
        pmtiles: Some(file),
        ..TileArgs::default()
    }
    .resolve()
    .expect("settings");
    let config = ServerConfig {
        dist: fixture_dist(),
        tiles: settings,
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(Backend::Sqlite, config).await else {
        return;
    };
    assert_eq!(
        app.get_json("/api/v1/config").await["pmtiles_url"],
        PMTILES_PATH
    );
    let response = app
        .client
        .get(app.url(PMTILES_PATH))
        .header("range", "bytes=1000-1999")
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 206);
    assert_eq!(
        response.headers()["content-range"],
        "bytes 1000-1999/100000"
    );
    assert!(response.headers().get("content-encoding").is_none());
    let body = response.bytes().await.expect("body");
    assert_eq!(&body[..], &bytes[1000..2000]);
    // A range past the end is refused as HTTP says, not answered with the whole file.
    let response = app
        .client
        .get(app.url(PMTILES_PATH))
        .header("range", "bytes=200000-200010")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 416);
}

#[tokio::test]
async fn without_pmtiles_no_file_is_served_there() {
    let config = ServerConfig {
        dist: fixture_dist(),
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(Backend::Sqlite, config).await else {
        return;
    };
    let config = app.get_json("/api/v1/config").await;
    assert!(config.get("pmtiles_url").is_none(), "{config}");
    let response = app
        .client
        .get(app.url(PMTILES_PATH))
        .header("range", "bytes=0-15")
        .send()
        .await
        .expect("request");
    assert_ne!(response.status(), 206);
}
