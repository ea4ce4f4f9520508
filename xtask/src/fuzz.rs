//! `cargo xtask fuzz [seconds per target]`: every fuzz target of `fuzz/` (cargo-fuzz, libFuzzer)
//! for a set time (60 s by default), starting from its committed seed corpus; fails when any
//! target found a crash, and says where the crashing input was written.
//!
//! cargo-fuzz needs unstable compiler flags; the stable toolchain takes them with
//! `RUSTC_BOOTSTRAP=1` (no nightly needed). No sanitizer: the project's code forbids `unsafe`,
//! so the bugs to find are panics (debug assertions and overflow checks are on), endless loops
//! (libFuzzer's `-timeout`) and runaway memory (`-rss_limit_mb`). New inputs libFuzzer finds go
//! to `target/fuzz/corpus/<target>`, not into the committed seeds; the seeds are replayed by the
//! server's test suite (`crates/server/tests/api/fuzz_corpus.rs`).

use crate::shell::{self, Cmd, Result};
use std::path::PathBuf;

/// cargo-fuzz from crates.io, pinned.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
const DEFAULT_SECONDS: u64 = 60;

pub fn run(args: &[String]) -> Result<()> {
    let seconds = match args.first() {
        None => DEFAULT_SECONDS,
        Some(arg) => arg
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=86_400).contains(s))
            .ok_or("usage: cargo xtask fuzz [seconds per target, 1 to 86400]")?,
    };
    cargo_fuzz_installed()?;
    let root = crate::root();
    let work = root.join("target/fuzz");
    let targets = targets()?;
    shell::step(&format!(
        "building {} fuzz targets (release, debug assertions, libFuzzer)",
        targets.len()
    ));
    cargo_fuzz(&work)
        .args(["build", "--sanitizer", "none"])
        .run()?;

    let mut crashed = Vec::new();
    for target in &targets {
        shell::step(&format!("fuzzing {target} for {seconds} s"));
        let corpus = work.join("corpus").join(target);
        let artifacts = work.join("artifacts").join(target);
        std::fs::create_dir_all(&corpus)?;
        std::fs::create_dir_all(&artifacts)?;
        let outcome = cargo_fuzz(&work)
            .args(["run", "--sanitizer", "none", target])
            .arg(&corpus)
            .arg(root.join("fuzz/corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .args(["-timeout=10", "-rss_limit_mb=2048", "-max_len=65536"])
            .args(["-print_final_stats=1"])
            .run();
        if outcome.is_err() {
            crashed.push(format!("{target} (input in {})", artifacts.display()));
        }
    }
    println!(
        "\nfuzzing: {} targets × {seconds} s, {} crashed",
        targets.len(),
        crashed.len()
    );
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!("crashes found: {}", crashed.join("; ")).into())
    }
}

/// The targets: one file per target in `fuzz/fuzz_targets/`.
fn targets() -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(crate::root().join("fuzz/fuzz_targets"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            if let Some(stem) = path.file_stem() {
                names.push(stem.to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    Ok(names)
}

fn cargo_fuzz(work: &std::path::Path) -> Cmd {
    Cmd::new("cargo")
        .arg("fuzz")
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", work.join("build"))
}

fn cargo_fuzz_bin() -> PathBuf {
    shell::cargo_bin_dir().join("cargo-fuzz")
}

fn cargo_fuzz_installed() -> Result<()> {
    let found = Cmd::new(cargo_fuzz_bin())
        .args(["fuzz", "--version"])
        .output()
        .unwrap_or_default();
    if found.split_whitespace().nth(1) == Some(CARGO_FUZZ_VERSION) {
        return Ok(());
    }
    shell::step(&format!(
        "installing cargo-fuzz {CARGO_FUZZ_VERSION} (a minute or two, once)"
    ));
    Cmd::new("cargo")
        .args(["install", "cargo-fuzz", "--locked", "--version"])
        .arg(CARGO_FUZZ_VERSION)
        .run()
}
