//! Load generator for `POST /api/v1/push`: durable report acknowledgements per second and
//! latency, at 1, 50 and 200 concurrent clients (DESIGN.md's budget: ≥ 5,000 acks/s with 200
//! clients on SQLite on the 2-core machine).
//!
//! ```sh
//! cargo run --release -p caremap-server --example push_bench -- [--seconds 5] [--clients 1,50,200]
//!     [--sqlite-only] [--postgres postgres://postgres@127.0.0.1:5432/test]
//! ```
//!
//! It starts the real app in this process on `127.0.0.1:0` (loopback only) over a fresh SQLite
//! file in a temporary directory, and then over a fresh PostgreSQL database when one is
//! reachable (`--postgres`, else `CAREMAP_TEST_POSTGRES_URL`, else the URL above; the database
//! is dropped afterwards). Each client is a village doctor with a facility and a device token of
//! its own, and sends single-report pushes back to back, each waiting for its answer, for a
//! fixed time per level. Every answer must be 200 with `applied`; anything else is counted as an
//! error. The load generator shares the machine's cores with the server, as a phone's traffic
//! would not, so the figures are a lower bound of the server alone; the CPU time per
//! acknowledgement (server and load generator together) is printed too, since it does not
//! depend on what else the machine is doing.

#[path = "support/mod.rs"]
mod support;

use caremap_model::FacilityId;
use caremap_server::store::{self, SharedStore};
use caremap_server::{AppState, ServerConfig};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::{setup, PgDatabase};

struct Options {
    seconds: f64,
    clients: Vec<usize>,
    postgres: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        seconds: 5.0,
        clients: vec![1, 50, 200],
        postgres: Some(support::postgres_url()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--seconds" => {
                options.seconds = value()?
                    .parse::<f64>()
                    .ok()
                    .filter(|s| (0.5..=120.0).contains(s))
                    .ok_or("--seconds: 0.5 to 120")?;
            }
            "--clients" => {
                options.clients = value()?
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .parse::<usize>()
                            .ok()
                            .filter(|n| (1..=1000).contains(n))
                    })
                    .collect::<Option<_>>()
                    .ok_or("--clients: numbers from 1 to 1000, comma-separated")?;
            }
            "--postgres" => options.postgres = Some(value()?),
            "--sqlite-only" => options.postgres = None,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // RUST_LOG=caremap_server=debug shows each group commit (its size and time).
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let options = match options() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("push_bench: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("push_bench: no temporary directory: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let sqlite = format!("sqlite://{}", dir.path().join("push.sqlite").display());
    let mut failed = false;
    if let Err(err) = bench("SQLite", &sqlite, &options).await {
        eprintln!("push_bench SQLite: {err}");
        failed = true;
    }
    if let Some(admin_url) = &options.postgres {
        match PgDatabase::create(admin_url).await {
            Ok(Some(db)) => {
                if let Err(err) = bench("PostgreSQL", &db.url, &options).await {
                    eprintln!("push_bench PostgreSQL: {err}");
                    failed = true;
                }
                db.drop_database().await;
            }
            Ok(None) => println!(
                "PostgreSQL at {} is unreachable: skipped",
                store::redact_url(admin_url)
            ),
            Err(err) => {
                eprintln!("push_bench PostgreSQL: {err}");
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

/// One backend: serve the app, enroll the most clients needed, then run each level.
async fn bench(label: &str, url: &str, options: &Options) -> Result<(), String> {
    let store = store::connect(url).await.map_err(|e| e.to_string())?;
    let most = options.clients.iter().copied().max().unwrap_or(1);
    let tokens = setup(&store, most).await?;
    let address = serve(store.clone()).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(most)
        .build()
        .map_err(|e| e.to_string())?;
    let push_url = format!("http://{address}/api/v1/push");
    println!(
        "push bench, {label} ({}), single-report pushes, {} s per level:",
        store::redact_url(url),
        options.seconds
    );
    // Warm-up: connections, caches, the database file.
    run_level(&client, &push_url, &tokens[..most.min(8)], 0.5).await;
    for &clients in &options.clients {
        let level = run_level(&client, &push_url, &tokens[..clients], options.seconds).await;
        level.print(clients);
    }
    Ok(())
}

async fn serve(store: SharedStore) -> Result<SocketAddr, String> {
    let config = ServerConfig {
        dist: std::env::temp_dir().join("caremap-push-bench-no-dist"),
        ..ServerConfig::default()
    };
    let state = AppState::new(store, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let app = caremap_server::app(state).into_make_service_with_connect_info::<SocketAddr>();
        if let Err(err) = axum::serve(listener, app).await {
            eprintln!("push_bench server: {err}");
        }
    });
    Ok(address)
}

struct Level {
    acks: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// CPU time of this process (server and load generator together) during the level.
    cpu: Option<Duration>,
}

/// This process's CPU time so far (user + system), from /proc (Linux); `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux we run on.
    Some(Duration::from_millis(ticks * 10))
}

impl Level {
    fn print(mut self, clients: usize) {
        self.latencies.sort_unstable();
        let pick = |q: f64| {
            let n = self.latencies.len();
            if n == 0 {
                return 0.0;
            }
            let i = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
            self.latencies[i].as_secs_f64() * 1000.0
        };
        let cpu = match self.cpu {
            Some(cpu) if self.acks > 0 => format!(
                "; CPU {:.0} µs/ack, {:.2} cores (server and load generator)",
                cpu.as_secs_f64() * 1e6 / self.acks as f64,
                cpu.as_secs_f64() / self.elapsed.as_secs_f64()
            ),
            _ => String::new(),
        };
        println!(
            "  {clients:>4} clients: {:>8.0} acks/s ({} acks in {:.1} s, {} errors); latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms{cpu}",
            self.acks as f64 / self.elapsed.as_secs_f64(),
            self.acks,
            self.elapsed.as_secs_f64(),
            self.errors,
            pick(0.50),
            pick(0.95),
            pick(0.99),
        );
    }
}

/// Every client sends pushes back to back for `seconds`.
async fn run_level(
    client: &reqwest::Client,
    url: &str,
    tokens: &[(String, FacilityId)],
    seconds: f64,
) -> Level {
    let started = Instant::now();
    let cpu_before = process_cpu();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::with_capacity(tokens.len());
    for (token, facility) in tokens {
        let (client, url, token, facility) =
            (client.clone(), url.to_owned(), token.clone(), *facility);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut wait = 0u32;
            while Instant::now() < deadline {
                wait = (wait + 7) % 90;
                let body = push_body(facility, wait);
                let sent = Instant::now();
                let ok = match client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
                    Ok(response) if response.status() == 200 => response
                        .text()
                        .await
                        .is_ok_and(|text| text.contains("\"applied\"")),
                    _ => false,
                };
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut level = Level {
        acks: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        cpu: None,
    };
    for task in tasks {
        if let Ok((latencies, errors)) = task.await {
            level.acks += latencies.len() as u64;
            level.errors += errors;
            level.latencies.extend(latencies);
        } else {
            level.errors += 1;
        }
    }
    level.elapsed = started.elapsed();
    level.cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    level
}

/// A push of one new report, as the PWA sends it.
fn push_body(facility: FacilityId, wait: u32) -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    format!(
        r#"{{"mutations":[{{"id":"{}","type":"load_report","recorded_at":"{now}","body":{{"facility":"{facility}","as_of":"{now}","status":"open","outpatients_today":{},"fever_patients_today":{},"wait_minutes":{wait},"doctors_on_duty":2,"stock":{{"antigen_kits":{{"level":"low","count":40}}}}}}}}]}}"#,
        uuid::Uuid::now_v7(),
        60 + wait,
        wait / 3,
    )
}
