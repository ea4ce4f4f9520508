//! `cargo xtask bench`: measures DESIGN.md's budgets and prints the figures. Nothing here
//! asserts a number: budgets are read by people, not by CI.
//!
//! Two release servers serve the built PWA: one on the demo registry (about 400 facilities), for
//! the first visit and the repeat visit offline; one on a synthetic registry of
//! [`LARGE_REGISTRY`] facilities (`caremap-server demo --size`), for the registry feed and the
//! first sync of a large registry, and the time to render it as clustered markers. Lighthouse
//! runs on the first; the nearest-10 query in WASM needs no server (tests/bench_nearest.rs).

use crate::shell::{self, Cmd, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const BENCH_PORT: u16 = 18282;
const LARGE_PORT: u16 = 18283;
/// Facilities in the large registry: DESIGN.md's budget is for 100,000.
const LARGE_REGISTRY: &str = "100000";

pub fn all() -> Result<()> {
    // The browser, and the Chinese font its figures depend on (setup.rs).
    crate::setup::all(crate::setup::Needs::Everything)?;
    crate::build_pwa()?;
    wasm_size()?;
    Cmd::new("cargo")
        .args(["build", "--release", "--package", "caremap-server"])
        .run()?;

    let data = TempDir::new("caremap-bench")?;
    let server = BenchServer::start(BENCH_PORT, &data.sqlite("demo"), true)?;
    let base = format!("http://127.0.0.1:{BENCH_PORT}");
    shell::step("first visit in headless Chromium");
    let mut failures = Vec::new();
    note(
        &mut failures,
        Cmd::new("node")
            .args(["tests/bench/first-load.mjs", &base])
            .run(),
    );
    shell::step("repeat visit with no network, 4× CPU slowdown (demo registry)");
    note(
        &mut failures,
        Cmd::new("node")
            .args(["tests/bench/offline-repeat.mjs", &base])
            .run(),
    );
    shell::step("Lighthouse, mobile profile, first visit of the map page (demo registry)");
    note(&mut failures, lighthouse(&base));
    drop(server);

    shell::step(&format!(
        "a synthetic registry of {LARGE_REGISTRY} facilities into SQLite"
    ));
    let large_db = data.sqlite("large");
    Cmd::new(server_binary())
        .args(["demo", "--size", LARGE_REGISTRY, "--database", &large_db])
        .run()?;
    let server = BenchServer::start(LARGE_PORT, &large_db, false)?;
    let large = format!("http://127.0.0.1:{LARGE_PORT}");
    shell::step(&format!(
        "registry feed of {LARGE_REGISTRY} facilities: bytes per encoding, server time per page"
    ));
    note(
        &mut failures,
        Cmd::new("node")
            .args(["tests/bench/registry-feed.mjs", &large])
            .run(),
    );
    shell::step(&format!(
        "first sync of {LARGE_REGISTRY} facilities in headless Chromium"
    ));
    note(
        &mut failures,
        Cmd::new("node")
            .args(["tests/bench/first-sync.mjs", &large])
            .run(),
    );
    shell::step(&format!(
        "time to render {LARGE_REGISTRY} clustered markers, registry in IndexedDB, in headless Chromium"
    ));
    note(
        &mut failures,
        Cmd::new("node")
            .args(["tests/bench/render-100k.mjs", &large])
            .run(),
    );
    drop(server);

    shell::step("nearest-10 query over 100,000 facilities in WASM, in headless Chromium");
    note(&mut failures, nearest_in_wasm());

    note(&mut failures, push());
    note(&mut failures, crate::load::flood());
    note(&mut failures, import_speed());
    note(&mut failures, transfers());

    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("some measurements did not run: {}", failures.join("; ")).into())
    }
}

/// Durable load-report acknowledgements per second and push latency at 1, 50 and 200 concurrent
/// clients (`crates/server/examples/push_bench.rs`: the real app in-process on loopback, SQLite
/// in a temporary file, then PostgreSQL when reachable).
pub fn push() -> Result<()> {
    shell::step("push: durable report acknowledgements per second, 1/50/200 clients");
    Cmd::new("cargo")
        .args([
            "run",
            "--release",
            "--package",
            "caremap-server",
            "--example",
            "push_bench",
        ])
        .run()
}

/// Import speed for a province: 100,000 facilities as GeoJSON and as an Overpass answer, through
/// the release CLI into fresh SQLite (and PostgreSQL) databases, with time and peak memory
/// (`crates/server/examples/import_bench.rs`; budget ≤ 20 s).
pub fn import_speed() -> Result<()> {
    shell::step("import: 100,000 facilities (GeoJSON, Overpass JSON), seconds and peak memory");
    Cmd::new("cargo")
        .args(["run", "--release", "--package", "caremap-server"])
        .args(["--example", "import_bench", "--", "--binary"])
        .arg(server_binary())
        .run()
}

/// Suggested transfers of stock for 2,000 facilities × 4 stock items, solved exactly
/// (`crates/planning/examples/transfer_bench.rs`; budget ≤ 1 s for all four).
pub fn transfers() -> Result<()> {
    shell::step("transfers: exact suggestions for 2,000 facilities × 4 stock items");
    Cmd::new("cargo")
        .args(["run", "--release", "--package", "caremap-planning"])
        .args(["--example", "transfer_bench"])
        .run()
}

/// Keeps going after a measurement that failed to run, so the others still print their figures.
fn note(failures: &mut Vec<String>, outcome: Result<()>) {
    if let Err(err) = outcome {
        eprintln!("{err}");
        failures.push(err.to_string());
    }
}

/// The nearest-10 query over 100,000 facilities in WASM: the `#[ignore]`d wasm-bindgen test
/// `tests/bench_nearest.rs`, built with the PWA's own profile (`wasm-release`, what phones run;
/// a debug build would misstate the time) and run in headless Chromium by
/// wasm-bindgen-test-runner like `cargo xtask test`'s browser tests. It prints its figures.
fn nearest_in_wasm() -> Result<()> {
    Cmd::new("cargo")
        .args(["test", "--profile", "wasm-release", "--package", "caremap"])
        .args(["--target", "wasm32-unknown-unknown"])
        .args(["--test", "bench_nearest"])
        .args(["--", "--include-ignored", "--nocapture"])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            shell::cargo_bin_dir().join("wasm-bindgen-test-runner"),
        )
        .env("CHROMEDRIVER", crate::setup::CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300")
        .run()
}

/// Lighthouse 12 (npm) on the map page: performance category, its default mobile profile,
/// Debian's Chromium with this machine's flags (tests/bench/lighthouse.mjs).
fn lighthouse(base: &str) -> Result<()> {
    Cmd::new("node")
        .args(["tests/bench/lighthouse.mjs", &format!("{base}/")])
        .env("CHROME_PATH", "/usr/bin/chromium")
        .run()
}

fn server_binary() -> PathBuf {
    crate::root().join("target/release/caremap-server")
}

/// Size of the built WASM modules, the residents' app's (`dist/`) and the staff app's
/// (`dist/staff/`): raw, gzip -9, and brotli 11 (the `.br` copy the build writes next to it,
/// tools/sw/precompress.mjs, which is what the server sends).
fn wasm_size() -> Result<()> {
    shell::step("PWA size");
    let dist = crate::root().join("dist");
    for (app, dir, budget) in [
        ("residents' app", dist.clone(), "budget: 200 KB brotli"),
        ("staff app", dist.join("staff"), "no budget"),
    ] {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "wasm") {
                let raw = std::fs::metadata(&path)?.len();
                let gzip = Cmd::new("sh")
                    .arg("-c")
                    .arg(format!("gzip -9 -c '{}' | wc -c", path.display()))
                    .output()
                    .and_then(|out| out.trim().parse::<u64>().ok())
                    .unwrap_or(0);
                let mut copy = path.clone().into_os_string();
                copy.push(".br");
                let brotli = std::fs::metadata(copy).map_or_else(
                    |_| "no .br copy".to_owned(),
                    |m| format!("brotli 11 {:.1} KB", m.len() as f64 / 1024.0),
                );
                println!(
                    "{app}: wasm {}: raw {:.1} KB, gzip -9 {:.1} KB, {brotli} ({budget})",
                    path.file_name().unwrap_or_default().to_string_lossy(),
                    raw as f64 / 1024.0,
                    gzip as f64 / 1024.0
                );
            }
        }
    }
    Ok(())
}

/// A release server serving the built PWA on a database, stopped when dropped.
struct BenchServer {
    child: std::process::Child,
}

impl BenchServer {
    /// Starts it on `port`, seeding the demo registry first when `demo` and the database is empty,
    /// and waits until it answers.
    fn start(port: u16, database: &str, demo: bool) -> Result<Self> {
        let mut cmd = Cmd::new(server_binary())
            .args(["serve", "--dist", "dist", "--database", database])
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn");
        if demo {
            cmd = cmd.arg("--demo-if-empty");
        }
        let server = BenchServer {
            child: cmd.spawn()?,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if http_get_ok(port, "/api/v1/health") {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!("the bench server on port {port} did not become healthy within 60 s").into())
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    /// The URL of an SQLite database file `<name>.sqlite` in it.
    fn sqlite(&self, name: &str) -> String {
        format!(
            "sqlite://{}",
            self.0.join(format!("{name}.sqlite")).display()
        )
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
