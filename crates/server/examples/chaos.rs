//! Crash harness (`cargo xtask chaos`): village doctors' phones push load reports while the
//! server process is killed with SIGKILL at random moments; after every kill the database is
//! opened as a restarted server opens it and checked.
//!
//! ```sh
//! cargo run --release -p caremap-server --example chaos -- [--kills 120] [--clients 16]
//!     [--binary target/release/caremap-server] [--sqlite-only] [--postgres URL] [--seed N]
//! ```
//!
//! For SQLite (a file in a temporary directory) and then PostgreSQL (a database made for the run
//! and dropped after it; `--postgres`, else `CAREMAP_TEST_POSTGRES_URL`, else the tests' URL):
//! each client is a reporter with a facility and a device token of its own, and behaves as the
//! PWA's outbox does: it sends one report per push, and resends the same bytes until it gets an
//! answer (`applied` or `duplicate`); only then is the report acknowledged and the next made.
//! The server (`caremap-server serve`, a child process on a loopback port) is killed at a random
//! moment 50–600 ms after it answers its first health check, `--kills` times. After each kill,
//! with no server running (on PostgreSQL: once the killed server's sessions have ended, since a
//! `COMMIT` it sent before dying still commits), the harness checks:
//!
//! - every acknowledged mutation id is stored (exactly once: it is the primary key), and every
//!   stored one was sent;
//! - `Store::consistency` (the `caremap-server check` command) holds: every load-report mutation
//!   has its report and every report its mutation, and every facility's status is the one its
//!   reports give.
//!
//! After the last kill the server is started once more, the phones' outboxes drain, and then
//! every report ever sent must be stored and acknowledged. Exit status 1 on any violation.

#[path = "support/mod.rs"]
mod support;

use caremap_model::FacilityId;
use caremap_server::store;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

struct Options {
    kills: usize,
    clients: usize,
    binary: PathBuf,
    postgres: Option<String>,
    seed: u64,
}

fn options() -> Result<Options, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut options = Options {
        kills: 120,
        clients: 16,
        binary: root.join("target/release/caremap-server"),
        postgres: Some(support::postgres_url()),
        seed: 17,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--kills" => {
                options.kills = value()?
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or("--kills: 1 to 10000")?;
            }
            "--clients" => {
                options.clients = value()?
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or("--clients: 1 to 500")?;
            }
            "--binary" => options.binary = PathBuf::from(value()?),
            "--postgres" => options.postgres = Some(value()?),
            "--sqlite-only" => options.postgres = None,
            "--seed" => options.seed = value()?.parse().map_err(|_| "--seed: a number")?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("chaos: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    if !options.binary.exists() {
        eprintln!(
            "chaos: no server binary at {} (cargo build --release -p caremap-server)",
            options.binary.display()
        );
        return std::process::ExitCode::FAILURE;
    }
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("chaos: no temporary directory: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    let sqlite = format!("sqlite://{}", dir.path().join("chaos.sqlite").display());
    if let Err(err) = run("SQLite", &sqlite, &options, dir.path()).await {
        eprintln!("chaos SQLite: {err}");
        failed = true;
    }
    if let Some(admin) = &options.postgres {
        match support::PgDatabase::create(admin).await {
            Ok(Some(db)) => {
                if let Err(err) = run("PostgreSQL", &db.url, &options, dir.path()).await {
                    eprintln!("chaos PostgreSQL: {err}");
                    failed = true;
                }
                db.drop_database().await;
            }
            Ok(None) => {
                let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
                println!(
                    "PostgreSQL at {} is unreachable: skipped",
                    store::redact_url(admin)
                );
                failed |= in_ci;
            }
            Err(err) => {
                eprintln!("chaos PostgreSQL: {err}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}

/// What the phones have sent and had acknowledged, shared with the harness.
#[derive(Default)]
struct Ledger {
    sent: Mutex<HashSet<Uuid>>,
    acked: Mutex<HashSet<Uuid>>,
    /// Pushes that got no usable answer (refused connection, reset, 503, …): each was resent.
    failed_pushes: AtomicU64,
    /// Answers `duplicate`: a resend of a report stored before its answer was lost.
    duplicates: AtomicU64,
}

fn set_of(set: &Mutex<HashSet<Uuid>>) -> HashSet<Uuid> {
    set.lock().map(|s| s.clone()).unwrap_or_default()
}

/// One backend: enroll the phones, then kill the server `kills` times under their load.
async fn run(
    label: &str,
    url: &str,
    options: &Options,
    dir: &std::path::Path,
) -> Result<(), String> {
    let started = Instant::now();
    let tokens = {
        let store = store::connect(url).await.map_err(|e| e.to_string())?;
        support::setup(&store, options.clients).await?
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let ledger = Arc::new(Ledger::default());
    let stop_new = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut phones = Vec::new();
    for (token, facility) in tokens {
        phones.push(tokio::spawn(phone(
            client.clone(),
            format!("{base}/api/v1/push"),
            token,
            facility,
            ledger.clone(),
            stop_new.clone(),
            stop.clone(),
        )));
    }
    println!(
        "chaos, {label} ({}): {} phones, {} kills",
        store::redact_url(url),
        options.clients,
        options.kills
    );
    let mut rng = options.seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut restarts = Vec::new();
    let mut loaded = Duration::ZERO;
    let mut checks = Duration::ZERO;
    let log = dir.join(format!("server-{label}.log"));
    let mut violations = Vec::new();
    for kill in 1..=options.kills {
        let mut server = start(&options.binary, url, port, &log)?;
        let up = wait_healthy(&client, &base, &mut server).await?;
        restarts.push(up);
        let alive = Duration::from_millis(50 + next(&mut rng) % 550);
        tokio::time::sleep(alive).await;
        loaded += alive;
        let _ = server.kill();
        let _ = server.wait();
        let checked = Instant::now();
        if let Err(err) = verify(url, &ledger, false).await {
            violations.push(format!("after kill {kill}: {err}"));
            eprintln!("after kill {kill}: {err}");
            if violations.len() >= 5 {
                break;
            }
        }
        checks += checked.elapsed();
    }
    // The last start: the phones send what their outboxes hold, and make nothing new.
    stop_new.store(true, Ordering::SeqCst);
    let mut server = start(&options.binary, url, port, &log)?;
    wait_healthy(&client, &base, &mut server).await?;
    let drain_deadline = Instant::now() + Duration::from_secs(60);
    while set_of(&ledger.acked).len() < set_of(&ledger.sent).len()
        && Instant::now() < drain_deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for phone in phones {
        let _ = phone.await;
    }
    let _ = server.kill();
    let _ = server.wait();
    if let Err(err) = verify(url, &ledger, true).await {
        violations.push(format!("at the end: {err}"));
    }

    restarts.sort_unstable();
    let acked = set_of(&ledger.acked).len();
    println!(
        "  {} kills in {:.1} s: {acked} reports acknowledged and stored once ({:.0} acks/s of load time), \
         {} pushes without an answer resent, {} resends answered duplicate; restart to healthy p50 {:.0} ms, max {:.0} ms; \
         check after each kill {:.0} ms on average; {} violations",
        options.kills,
        started.elapsed().as_secs_f64(),
        acked as f64 / loaded.as_secs_f64().max(0.001),
        ledger.failed_pushes.load(Ordering::Relaxed),
        ledger.duplicates.load(Ordering::Relaxed),
        support::quantile_ms(&restarts, 0.5),
        support::quantile_ms(&restarts, 1.0),
        checks.as_secs_f64() * 1000.0 / options.kills as f64,
        violations.len()
    );
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations.join("; "))
    }
}

/// A phone: one report at a time, resent (same bytes) until answered.
async fn phone(
    client: reqwest::Client,
    url: String,
    token: String,
    facility: FacilityId,
    ledger: Arc<Ledger>,
    stop_new: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let mut outbox: Option<(Uuid, String)> = None;
    let mut wait = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let (id, body) = match outbox.take() {
            Some(pending) => pending,
            None if stop_new.load(Ordering::SeqCst) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            None => {
                wait = (wait + 7) % 90;
                let id = Uuid::now_v7();
                if let Ok(mut sent) = ledger.sent.lock() {
                    sent.insert(id);
                }
                (id, support::push_body(id, facility, wait))
            }
        };
        let answer = client
            .post(&url)
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await;
        let text = match answer {
            Ok(response) if response.status() == 200 => response.text().await.ok(),
            _ => None,
        };
        match text {
            Some(text) if text.contains("\"applied\"") || text.contains("\"duplicate\"") => {
                if text.contains("\"duplicate\"") {
                    ledger.duplicates.fetch_add(1, Ordering::Relaxed);
                }
                if let Ok(mut acked) = ledger.acked.lock() {
                    acked.insert(id);
                }
            }
            other => {
                if let Some(text) = other {
                    // A 200 that neither applied nor recognised the report: a bug.
                    eprintln!("unexpected answer to {id}: {text}");
                }
                ledger.failed_pushes.fetch_add(1, Ordering::Relaxed);
                outbox = Some((id, body));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

fn start(
    binary: &std::path::Path,
    url: &str,
    port: u16,
    log: &std::path::Path,
) -> Result<Child, String> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    Command::new(binary)
        .args(["--database", url, "serve", "--addr"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--dist")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dist"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(err))
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))
}

/// Waits until the server answers `/health`; how long it took.
async fn wait_healthy(
    client: &reqwest::Client,
    base: &str,
    server: &mut Child,
) -> Result<Duration, String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(response) = client.get(format!("{base}/api/v1/health")).send().await {
            if response.status() == 200 {
                return Ok(started.elapsed());
            }
        }
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!("the server exited on start ({status})"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = server.kill();
    Err("the server did not answer /health within 30 s".into())
}

/// The checks made with no server running (see the module's doc). `all_acked`: every report sent
/// must have been acknowledged too (after the outboxes drained).
async fn verify(url: &str, ledger: &Ledger, all_acked: bool) -> Result<(), String> {
    settle(url).await?;
    // Read before the database: an acknowledgement read now was committed before it was sent.
    let acked = set_of(&ledger.acked);
    let store = store::connect(url).await.map_err(|e| e.to_string())?;
    let found = store.consistency().await.map_err(|e| e.to_string())?;
    if !found.holds() {
        return Err(format!("the database disagrees with itself: {found:?}"));
    }
    let stored = stored_ids(url).await?;
    let sent = set_of(&ledger.sent);
    let lost: Vec<_> = acked.difference(&stored).take(5).collect();
    if !lost.is_empty() {
        return Err(format!(
            "{} acknowledged reports are not stored, e.g. {lost:?}",
            acked.difference(&stored).count()
        ));
    }
    let unknown: Vec<_> = stored.difference(&sent).take(5).collect();
    if !unknown.is_empty() {
        return Err(format!("stored mutations nobody sent: {unknown:?}"));
    }
    if found.mutations != stored.len() as u64 || found.reports != stored.len() as u64 {
        return Err(format!(
            "{} mutations and {} reports for {} ids",
            found.mutations,
            found.reports,
            stored.len()
        ));
    }
    if all_acked && (acked.len() != sent.len() || stored.len() != sent.len()) {
        return Err(format!(
            "after the outboxes drained: {} sent, {} acknowledged, {} stored",
            sent.len(),
            acked.len(),
            stored.len()
        ));
    }
    Ok(())
}

/// Every mutation id in the database.
/// PostgreSQL: waits until the killed server's sessions have ended. A SIGKILL ends the server,
/// not its backends: a `COMMIT` already sent still commits after the kill, so until they are gone
/// the database is not yet what a restart finds (a first run counted a group commit between two
/// reads of the checks). SQLite has no such sessions: the file is as the process left it.
async fn settle(url: &str) -> Result<(), String> {
    if url.starts_with("sqlite:") {
        return Ok(());
    }
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    for _ in 0..300 {
        let others: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
        if others == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err("the killed server's PostgreSQL sessions did not end within 6 s".into())
}

async fn stored_ids(url: &str) -> Result<HashSet<Uuid>, String> {
    let rows: Vec<String> = if url.starts_with("sqlite:") {
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query_scalar("SELECT CAST(id AS TEXT) FROM mutations")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| e.to_string())?
    } else {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query_scalar("SELECT CAST(id AS TEXT) FROM mutations")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| e.to_string())?
    };
    rows.iter()
        .map(|id| Uuid::parse_str(id).map_err(|e| format!("stored id {id}: {e}")))
        .collect()
}

/// xorshift64*: the kill moments, reproducible from `--seed`.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}
