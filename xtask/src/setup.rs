//! Installs what building and testing caremap need, when it is missing. Idempotent: a second
//! run only checks versions. Versions come from the repository (Cargo.lock, package-lock.json,
//! the constants below), so every machine builds with the same tools.

use crate::shell::{self, Cmd, Result};
use std::path::Path;

/// Trunk 0.22 needs a newer rustc than these machines have (TOOLCHAIN.md).
const TRUNK_VERSION: &str = "0.21.14";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver, which wasm-bindgen-test-runner drives.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A Chinese font for that browser (Debian's fonts-wqy-microhei, 1.6 MB). Every phone our users
/// have carries one; without it Chromium draws every Chinese character as an empty box, after
/// asking fontconfig in vain for a font that has it, which made each layout of the (Chinese)
/// pages several times slower here than on a phone and the page's figures in
/// `cargo xtask bench` wrong (docs/PERFORMANCE.md, "A Chinese font where the page is measured").
const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

/// How much of the set-up a task needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The toolchain and npm packages to build the PWA.
    Build,
    /// Also a browser for the tests.
    Everything,
}

pub fn all(needs: Needs) -> Result<()> {
    wasm_target()?;
    trunk_installed()?;
    wasm_bindgen_cli()?;
    npm_packages()?;
    if needs == Needs::Everything {
        chromium()?;
        fhir_validator()?;
        schemathesis()?;
    }
    Ok(())
}

/// Trunk, as installed by the set-up.
pub fn trunk() -> Cmd {
    Cmd::new(shell::cargo_bin_dir().join("trunk"))
}

fn wasm_target() -> Result<()> {
    let installed = Cmd::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .unwrap_or_default();
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    shell::step("adding the wasm32 target");
    Cmd::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .run()
}

fn trunk_installed() -> Result<()> {
    let version = trunk().arg("--version").output().unwrap_or_default();
    if version.split_whitespace().nth(1) == Some(TRUNK_VERSION) {
        return Ok(());
    }
    shell::step("installing Trunk (a few minutes, once)");
    Cmd::new("cargo")
        .args(["install", "trunk", "--locked", "--version", TRUNK_VERSION])
        .run()
}

/// The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
fn wasm_bindgen_cli() -> Result<()> {
    let wanted = locked_version("wasm-bindgen")?;
    let bin = shell::cargo_bin_dir().join("wasm-bindgen");
    let found = Cmd::new(&bin).arg("--version").output().unwrap_or_default();
    if found.split_whitespace().nth(1) == Some(wanted.as_str()) {
        return Ok(());
    }
    shell::step(&format!(
        "installing wasm-bindgen CLI {wanted} (a few minutes, once)"
    ));
    // Without --locked: its own lockfile names a crate version the registry index lacks.
    Cmd::new("cargo")
        .args(["install", "wasm-bindgen-cli", "--version", &wanted])
        .run()
}

/// The version of `package` recorded in Cargo.lock.
pub fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(crate::root().join("Cargo.lock"))?;
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name_line {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
            {
                return Ok(version.to_owned());
            }
        }
    }
    Err(format!("Cargo.lock has no {package}").into())
}

/// `npm ci` when node_modules is missing or older than package-lock.json.
fn npm_packages() -> Result<()> {
    let root = crate::root();
    let installed = modified(&root.join("node_modules/.package-lock.json"));
    let locked = modified(&root.join("package-lock.json"));
    if installed.is_some() && installed >= locked {
        return Ok(());
    }
    shell::step("installing npm packages (Leaflet, wasm-opt, Playwright)");
    Cmd::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .run()
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Debian's Chromium (Playwright's own browser download cannot work here), with a Chinese font.
fn chromium() -> Result<()> {
    if [CHROMIUM, CHROMEDRIVER, CJK_FONT]
        .iter()
        .all(|path| Path::new(path).exists())
    {
        return Ok(());
    }
    shell::step(
        "installing Chromium and a Chinese font from Debian's packages for the browser tests",
    );
    Cmd::new("apt-get").arg("update").run()?;
    Cmd::new("apt-get")
        .args([
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
            "fonts-wqy-microhei",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
}

/// PyPI's fhir.resources 6.4.0, the last release that validates FHIR R4 (4.0.1; 6.5.0 and later
/// are R4B and R5), with the pydantic 1 it is written for: the independent validator of the FHIR
/// export's test (crates/server/tests/api/export_fhir.rs), in its own directory so it does not
/// shadow the machine's pydantic 2.
const FHIR_VALIDATOR: [&str; 2] = ["fhir.resources==6.4.0", "pydantic[email]==1.10.26"];

fn fhir_validator() -> Result<()> {
    let dir = crate::root().join("target/fhir-validator");
    let check = "import fhir.resources as f; print(f.__version__, f.__fhir_version__)";
    let found = Cmd::new("python3")
        .args(["-c", check])
        .env("PYTHONPATH", &dir)
        .output()
        .unwrap_or_default();
    if found.trim() == "6.4.0 4.0.1" {
        return Ok(());
    }
    shell::step("installing the FHIR R4 validator (fhir.resources 6.4.0 from PyPI)");
    Cmd::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--upgrade",
        ])
        .arg("--target")
        .arg(&dir)
        .args(FHIR_VALIDATOR)
        .run()
}

/// PyPI's schemathesis, pinned, in a virtual environment of its own under `target/` (its many
/// dependencies stay out of the machine's Python): `cargo xtask test` runs it against the API
/// (apicheck.rs).
const SCHEMATHESIS: &str = "4.32.5";

pub fn schemathesis() -> Result<()> {
    let bin = crate::apicheck::venv_bin("schemathesis");
    let found = Cmd::new(&bin).arg("--version").output().unwrap_or_default();
    if found.split_whitespace().last() == Some(SCHEMATHESIS) {
        return Ok(());
    }
    shell::step(&format!(
        "installing schemathesis {SCHEMATHESIS} from PyPI into target/schemathesis (once)"
    ));
    let venv = crate::apicheck::venv_dir();
    Cmd::new("python3").args(["-m", "venv"]).arg(&venv).run()?;
    Cmd::new(crate::apicheck::venv_bin("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(format!("schemathesis=={SCHEMATHESIS}"))
        .run()
}

/// The PostgreSQL the tests use; CI must have it, a developer machine may skip those tests.
pub fn require_postgres() -> Result<()> {
    let url = std::env::var("CAREMAP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let reachable = std::net::TcpStream::connect_timeout(
        &postgres_addr(&url),
        std::time::Duration::from_secs(3),
    )
    .is_ok();
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match (reachable, in_ci) {
        (true, _) => Ok(()),
        (false, true) => Err(format!(
            "PostgreSQL is not reachable at {} and CI=true: the PostgreSQL storage suite must run in CI",
            postgres_addr(&url)
        )
        .into()),
        (false, false) => {
            println!("warning: PostgreSQL is not reachable; its storage tests will be skipped");
            Ok(())
        }
    }
}

/// host:port of a postgres URL (defaults 127.0.0.1:5432).
fn postgres_addr(url: &str) -> std::net::SocketAddr {
    let fallback = std::net::SocketAddr::from(([127, 0, 0, 1], 5432));
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host_port = after_scheme
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default();
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    use std::net::ToSocketAddrs;
    with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or(fallback)
}
