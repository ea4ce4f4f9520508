//! `cargo xtask bench`: measures DESIGN.md's budgets and prints the figures. Nothing here
//! asserts a number: budgets are read by people, not by CI.

use crate::shell::{self, Cmd, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const BENCH_PORT: u16 = 18282;

pub fn all() -> Result<()> {
    crate::build_pwa()?;
    wasm_size()?;
    Cmd::new("cargo")
        .args(["build", "--release", "--package", "caremap-server"])
        .run()?;
    let server = BenchServer::start()?;
    let base = format!("http://127.0.0.1:{BENCH_PORT}");
    shell::step("first visit in headless Chromium");
    let outcome = Cmd::new("node")
        .args(["tests/bench/first-load.mjs", &base])
        .run();
    drop(server);
    outcome
}

/// Size of the built WASM module, raw and gzip-compressed.
fn wasm_size() -> Result<()> {
    shell::step("PWA size");
    let dist = crate::root().join("dist");
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let raw = std::fs::metadata(&path)?.len();
            let gzip = Cmd::new("sh")
                .arg("-c")
                .arg(format!("gzip -9 -c '{}' | wc -c", path.display()))
                .output()
                .and_then(|out| out.trim().parse::<u64>().ok())
                .unwrap_or(0);
            println!(
                "wasm {}: raw {:.1} KB, gzip -9 {:.1} KB (budget: 250 KB compressed)",
                path.file_name().unwrap_or_default().to_string_lossy(),
                raw as f64 / 1024.0,
                gzip as f64 / 1024.0
            );
        }
    }
    Ok(())
}

/// The release server on a fresh demo database, stopped when dropped.
struct BenchServer {
    child: std::process::Child,
    _data: TempDir,
}

impl BenchServer {
    fn start() -> Result<Self> {
        let data = TempDir::new("caremap-bench")?;
        let db = format!("sqlite://{}", data.0.join("bench.sqlite").display());
        let child = Cmd::new(crate::root().join("target/release/caremap-server"))
            .args([
                "serve",
                "--demo-if-empty",
                "--dist",
                "dist",
                "--database",
                &db,
            ])
            .args(["--addr", &format!("127.0.0.1:{BENCH_PORT}")])
            .env("RUST_LOG", "warn")
            .spawn()?;
        let server = BenchServer { child, _data: data };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if http_get_ok(BENCH_PORT, "/api/v1/health") {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err("the bench server did not become healthy within 60 s".into())
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
struct TempDir(std::path::PathBuf);

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
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
