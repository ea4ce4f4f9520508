//! Load under faults and floods, on loopback: `cargo xtask chaos` (the crash harness) and the
//! flood benchmark of `cargo xtask bench`. Both are examples of the server crate
//! (`crates/server/examples/chaos.rs`, `flood_bench.rs`), run in release.

use crate::shell::{self, Cmd, Result};

/// `cargo xtask chaos [harness args…]`: the server is SIGKILLed at random moments under push
/// load, 120 times on SQLite and 120 times on PostgreSQL by default, and the database is checked
/// after every kill. Not part of `cargo xtask test` (about 5 minutes).
pub fn chaos(args: &[String]) -> Result<()> {
    crate::setup::require_postgres()?;
    shell::step("building the release server for the crash harness");
    Cmd::new("cargo")
        .args(["build", "--release", "--package", "caremap-server"])
        .run()?;
    shell::step("crash harness: SIGKILL under push load, the database checked after each kill");
    Cmd::new("cargo")
        .args(["run", "--release", "--package", "caremap-server"])
        .args(["--example", "chaos", "--"])
        .arg("--binary")
        .arg(crate::root().join("target/release/caremap-server"))
        .args(args)
        .run()
}

/// The phones' push latency with and without a flood of bad-token pushes and arbitrary
/// registry pages (`crates/server/examples/flood_bench.rs`).
pub fn flood() -> Result<()> {
    shell::step("flood: phones' push p99 without and with bad-token pushes and arbitrary pages");
    Cmd::new("cargo")
        .args(["run", "--release", "--package", "caremap-server"])
        .args(["--example", "flood_bench"])
        .run()
}
