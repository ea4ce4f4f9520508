//! caremap's developer commands, so a fresh machine needs only `cargo`:
//!
//! - `cargo xtask setup`  installs what is missing (wasm target, Trunk, wasm-bindgen CLI at the
//!   lockfile's version, npm packages, Chromium for the browser tests); idempotent.
//! - `cargo xtask build`  builds the PWA into `dist/` with Trunk (release, offline): the
//!   residents' app, then the staff app into `dist/staff/`.
//! - `cargo xtask run`    builds, then serves the PWA and the API on http://127.0.0.1:8080 with an
//!   embedded SQLite database seeded with the demo registry and today's demo load reports.
//!   Extra arguments go to `serve`.
//! - `cargo xtask test`   every check and test: fmt, clippy, unit, server integration on SQLite and
//!   PostgreSQL, end-to-end Playwright tests in headless Chromium.
//! - `cargo xtask bench`  measures the budgets of DESIGN.md and prints the figures.
//! - `cargo xtask fuzz [s]` runs every fuzz target of `fuzz/` for s seconds (60) and fails on a crash.
//! - `cargo xtask chaos`  kills the server at random moments under push load and checks the database.
//! - `cargo xtask api`    only the schemathesis step of `test` (the API against its OpenAPI spec).
//!
//! It uses only the standard library so that it compiles in seconds on a fresh machine.

mod apicheck;
mod bench;
mod fuzz;
#[cfg(test)]
mod layers;
mod load;
mod setup;
mod shell;

use shell::{Cmd, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The repository root (xtask lives one folder below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let outcome = match task {
        "setup" => setup::all(setup::Needs::Everything),
        "build" => build_pwa(),
        "run" => run(rest),
        "test" => test(),
        "bench" => bench::all(),
        "fuzz" => fuzz::run(rest),
        "chaos" => load::chaos(rest),
        "api" => api_check(),
        _ => {
            eprintln!("usage: cargo xtask <setup | build | run [serve args…] | test | bench | fuzz [seconds] | chaos [args…] | api>");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nxtask {task} failed: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the PWA (release profile, no downloads): the residents' app into `dist/`, then the
/// staff app (`staff.html`) into `dist/staff/`, in that order since Trunk empties its dist
/// directory first (docs/ARCHITECTURE.md, "Two apps").
pub fn build_pwa() -> Result<()> {
    setup::all(setup::Needs::Build)?;
    setup::trunk()
        .args(["build", "--release", "--offline"])
        .run()?;
    setup::trunk()
        .args(["build", "--release", "--offline", "--dist", "dist/staff"])
        .args(["--public-url", "/staff/", "staff.html"])
        .run()
}

fn run(serve_args: &[String]) -> Result<()> {
    build_pwa()?;
    shell::step("starting caremap on http://127.0.0.1:8080 (Ctrl-C stops it)");
    Cmd::new("cargo")
        .args([
            "run",
            "--release",
            "--package",
            "caremap-server",
            "--",
            "serve",
        ])
        .args([
            "--demo-if-empty",
            // Today's demo load reports, so the demo map shows crowding and shortages.
            "--demo-reports",
            "--dist",
            "dist",
            "--addr",
            "127.0.0.1:8080",
        ])
        .args(serve_args)
        .run()
}

/// The schemathesis step of `test` alone, on a fresh debug build of the server.
fn api_check() -> Result<()> {
    setup::schemathesis()?;
    Cmd::new("cargo")
        .args(["build", "--package", "caremap-server"])
        .run()?;
    apicheck::schemathesis(&root().join("target/debug/caremap-server"))
}

fn test() -> Result<()> {
    setup::all(setup::Needs::Everything)?;
    setup::require_postgres()?;

    shell::step("formatting");
    Cmd::new("cargo").args(["fmt", "--all", "--check"]).run()?;

    shell::step("lints (native crates, then the PWA for wasm32)");
    Cmd::new("cargo")
        .args([
            "clippy",
            "--workspace",
            "--exclude",
            "caremap",
            "--all-targets",
        ])
        .args(["--", "-D", "warnings"])
        .run()?;
    Cmd::new("cargo")
        .args([
            "clippy",
            "--package",
            "caremap",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(["--all-targets", "--", "-D", "warnings"])
        .run()?;

    shell::step("unit and server integration tests (SQLite and PostgreSQL)");
    // The PWA's own unit tests run in the browser below, not natively.
    Cmd::new("cargo")
        .args(["test", "--workspace", "--exclude", "caremap"])
        .run()?;

    shell::step(
        "browser tests of the PWA's store and sync engine (wasm-bindgen-test in headless Chromium)",
    );
    // The runner reads webdriver.json (Chromium's flags) from the repository root.
    Cmd::new("cargo")
        .args([
            "test",
            "--package",
            "caremap",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            shell::cargo_bin_dir().join("wasm-bindgen-test-runner"),
        )
        .env("CHROMEDRIVER", setup::CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .run()?;

    shell::step("building the PWA and the server for the end-to-end tests");
    build_pwa()?;
    Cmd::new("cargo")
        .args(["build", "--package", "caremap-server"])
        .run()?;

    let server_bin = root().join("target/debug/caremap-server");
    shell::step("the API against its OpenAPI description: schemathesis, all checks and phases");
    apicheck::schemathesis(&server_bin)?;

    shell::step("end-to-end tests: Playwright in headless Chromium against the real server");
    Cmd::new("npx")
        .args([
            "playwright",
            "test",
            "--config",
            "tests/e2e/playwright.config.ts",
        ])
        .env("CAREMAP_SERVER_BIN", server_bin)
        .run()
}
