//! Flood benchmark (part of `cargo xtask bench`): enrolled phones' push latency with and without
//! a concurrent flood of anonymous traffic — pushes with tokens that do not exist, and registry
//! pages at arbitrary `since`/`limit` (record and columnar layouts) — on loopback.
//!
//! ```sh
//! cargo run --release -p caremap-server --example flood_bench -- [--seconds 5] [--phones 20]
//!     [--flooders 40] [--registry 20000] [--sqlite-only] [--postgres URL]
//! ```
//!
//! The real app runs in this process on `127.0.0.1:0` over a fresh SQLite file holding a
//! synthetic registry (`demo --size`), then over a fresh PostgreSQL database when reachable.
//! Each phase lasts `--seconds`; every flooder stops after at most 100,000 requests, whichever
//! comes first. The phones send single-report pushes back to back, each waiting for its answer;
//! the flooders likewise (no pacing: as fast as the server answers them). Figures: the phones'
//! acknowledgements per second and latency p50/p99 in both phases, and the flood's requests per
//! second by answer status. The load generator shares the 2 cores with the server.

#[path = "support/mod.rs"]
mod support;

use caremap_server::store::{self, SharedStore};
use caremap_server::{AppState, ServerConfig};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAX_FLOOD_REQUESTS: u64 = 100_000;

struct Options {
    seconds: f64,
    phones: usize,
    flooders: usize,
    registry: usize,
    postgres: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        seconds: 5.0,
        phones: 20,
        flooders: 40,
        registry: 20_000,
        postgres: Some(support::postgres_url()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        let mut number = |lo: usize, hi: usize| -> Result<usize, String> {
            value()?
                .parse::<usize>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or(format!("{arg}: {lo} to {hi}"))
        };
        match arg.as_str() {
            "--seconds" => {
                options.seconds = value()?
                    .parse::<f64>()
                    .ok()
                    .filter(|s| (0.5..=60.0).contains(s))
                    .ok_or("--seconds: 0.5 to 60")?;
            }
            "--phones" => options.phones = number(1, 500)?,
            "--flooders" => options.flooders = number(1, 500)?,
            "--registry" => options.registry = number(1, 200_000)?,
            "--postgres" => options.postgres = Some(value()?),
            "--sqlite-only" => options.postgres = None,
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
            eprintln!("flood_bench: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("flood_bench: no temporary directory");
        return std::process::ExitCode::FAILURE;
    };
    let mut failed = false;
    let sqlite = format!("sqlite://{}", dir.path().join("flood.sqlite").display());
    if let Err(err) = bench("SQLite", &sqlite, &options).await {
        eprintln!("flood_bench SQLite: {err}");
        failed = true;
    }
    if let Some(admin) = &options.postgres {
        match support::PgDatabase::create(admin).await {
            Ok(Some(db)) => {
                if let Err(err) = bench("PostgreSQL", &db.url, &options).await {
                    eprintln!("flood_bench PostgreSQL: {err}");
                    failed = true;
                }
                db.drop_database().await;
            }
            Ok(None) => println!(
                "PostgreSQL at {} is unreachable: skipped",
                store::redact_url(admin)
            ),
            Err(err) => {
                eprintln!("flood_bench PostgreSQL: {err}");
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

async fn bench(label: &str, url: &str, options: &Options) -> Result<(), String> {
    let store = store::connect(url).await.map_err(|e| e.to_string())?;
    caremap_server::demo::seed_synthetic(store.as_ref(), options.registry, false)
        .await
        .map_err(|e| e.to_string())?;
    let tokens = support::setup(&store, options.phones).await?;
    let address = serve(store.clone()).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.phones + options.flooders)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let base = format!("http://{address}");
    println!(
        "flood bench, {label}: {} phones pushing, {} facilities, {} s per phase",
        options.phones, options.registry, options.seconds
    );
    // Warm-up.
    phones(&client, &base, &tokens, 0.5).await;
    let quiet = phones(&client, &base, &tokens, options.seconds).await;
    quiet.print("no flood");
    let stop = Arc::new(AtomicBool::new(false));
    let mut flood = Vec::new();
    let span = options.registry as u64 + options.phones as u64 * 4;
    for n in 0..options.flooders {
        flood.push(tokio::spawn(flooder(
            client.clone(),
            base.clone(),
            n as u64,
            span,
            stop.clone(),
        )));
    }
    let started = Instant::now();
    let loud = phones(&client, &base, &tokens, options.seconds).await;
    stop.store(true, Ordering::SeqCst);
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for task in flood {
        if let Ok(counts) = task.await {
            for (k, v) in counts {
                *by_status.entry(k).or_default() += v;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    loud.print(&format!("{} flooders", options.flooders));
    let total: u64 = by_status.values().sum();
    let statuses: Vec<String> = by_status
        .iter()
        .map(|(k, v)| format!("{k} {:.0}/s", *v as f64 / elapsed))
        .collect();
    println!(
        "    flood: {:.0} requests/s ({total} in {elapsed:.1} s): {}",
        total as f64 / elapsed,
        statuses.join(", ")
    );
    Ok(())
}

struct Phase {
    latencies: Vec<Duration>,
    errors: u64,
    elapsed: Duration,
}

impl Phase {
    fn print(mut self, what: &str) {
        self.latencies.sort_unstable();
        println!(
            "  phones' pushes, {what:>12}: {:>6.0} acks/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} acks, {} errors)",
            self.latencies.len() as f64 / self.elapsed.as_secs_f64(),
            support::quantile_ms(&self.latencies, 0.5),
            support::quantile_ms(&self.latencies, 0.99),
            support::quantile_ms(&self.latencies, 1.0),
            self.latencies.len(),
            self.errors
        );
    }
}

/// Every phone pushes back to back for `seconds`.
async fn phones(
    client: &reqwest::Client,
    base: &str,
    tokens: &[(String, caremap_model::FacilityId)],
    seconds: f64,
) -> Phase {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for (token, facility) in tokens {
        let (client, url, token, facility) = (
            client.clone(),
            format!("{base}/api/v1/push"),
            token.clone(),
            *facility,
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut wait = 0u32;
            while Instant::now() < deadline {
                wait = (wait + 7) % 90;
                let body = support::push_body(uuid::Uuid::now_v7(), facility, wait);
                let sent = Instant::now();
                let ok = match client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => {
                        r.text().await.is_ok_and(|t| t.contains("\"applied\""))
                    }
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
    let mut phase = Phase {
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        match task.await {
            Ok((latencies, errors)) => {
                phase.latencies.extend(latencies);
                phase.errors += errors;
            }
            Err(_) => phase.errors += 1,
        }
    }
    phase.elapsed = started.elapsed();
    phase
}

/// Anonymous traffic until `stop`: every other request a push with a token that does not
/// exist, else a registry page at a random cursor and limit (a third of them columnar).
/// Counts answers by status.
async fn flooder(
    client: reqwest::Client,
    base: String,
    n: u64,
    span: u64,
    stop: Arc<AtomicBool>,
) -> BTreeMap<String, u64> {
    let mut rng = 0x9e37_79b9_7f4a_7c15 ^ (n + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let mut counts = BTreeMap::new();
    let facility = caremap_model::FacilityId::from(uuid::Uuid::from_u128(u128::from(n)));
    for i in 0..MAX_FLOOD_REQUESTS {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let r = next(&mut rng);
        let request = if i % 2 == 0 {
            let token = format!("cm_{:016x}{:016x}{:011x}", r, next(&mut rng), r >> 20);
            client
                .post(format!("{base}/api/v1/push"))
                .bearer_auth(token)
                .header("Content-Type", "application/json")
                .body(support::push_body(uuid::Uuid::now_v7(), facility, 5))
        } else {
            let since = r % (span + 10);
            let limit = 1 + next(&mut rng) % 5_000;
            let format = if r.is_multiple_of(3) {
                "&format=columns"
            } else {
                ""
            };
            client.get(format!(
                "{base}/api/v1/registry?since={since}&limit={limit}{format}"
            ))
        };
        let status = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16().to_string();
                let _ = response.bytes().await;
                status
            }
            Err(_) => "no answer".to_owned(),
        };
        *counts.entry(status).or_default() += 1;
    }
    counts
}

/// Serves the real app on 127.0.0.1:0 with the settings `serve` uses.
async fn serve(store: SharedStore) -> Result<SocketAddr, String> {
    let config = ServerConfig {
        dist: std::env::temp_dir().join("caremap-flood-bench-no-dist"),
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
            eprintln!("flood_bench server: {err}");
        }
    });
    Ok(address)
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}
