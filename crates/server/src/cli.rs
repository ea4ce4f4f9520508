//! The command line: `serve`, `demo`, `import`, `template`, `facility`, `migrate`.
//!
//! Each subcommand is a function here that returns an exit code; `main.rs` parses and calls
//! [`run`]. Messages for the operator are printed in Chinese and English.

use crate::config::{self, ServerConfig};
use crate::import::{self, Format, ImportError};
use crate::store::{self, DeleteOutcome, SharedStore, DEFAULT_DATABASE_URL};
use crate::{demo, AppState};
use anyhow::Context as _;
use caremap_model::{FacilityId, Lang};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "caremap-server", version, about = "caremap sync server")]
pub struct Cli {
    /// Database URL: sqlite:PATH (default sqlite://data/caremap.sqlite) or postgres://…
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the PWA.
    Serve(ServeArgs),
    /// Seed the demo registry (about 400 made-up facilities around Yuyao), or with --size a
    /// synthetic one of N made-up facilities all over Zhejiang (for tests and benchmarks).
    Demo {
        /// Delete every facility that is not part of the seeded registry and reset edited ones.
        #[arg(long)]
        replace: bool,
        /// Seed a synthetic registry of this many facilities (1 to 200000) instead.
        #[arg(long, value_name = "N", value_parser = parse_size)]
        size: Option<usize>,
    },
    /// Import a registry file (GeoJSON from OpenStreetMap, or the CSV template).
    Import {
        file: PathBuf,
        /// Format; by default from the file's extension (.geojson/.json, .csv).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Import the valid entries and skip the invalid ones (listed) instead of refusing all.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Print the CSV import template.
    Template,
    /// Manage single facilities.
    Facility {
        #[command(subcommand)]
        command: FacilityCommand,
    },
    /// Create or update the database schema.
    Migrate,
}

#[derive(Debug, Subcommand)]
pub enum FacilityCommand {
    /// Delete a facility: it becomes a tombstone that phones receive on their next sync.
    Delete { id: FacilityId },
    /// List the live facilities (id, version, kind, name).
    List,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CAREMAP_ADDR", default_value = config::DEFAULT_ADDR)]
    pub addr: SocketAddr,
    /// Directory of the built PWA.
    #[arg(long, env = "CAREMAP_DIST", default_value = config::DEFAULT_DIST)]
    pub dist: PathBuf,
    /// Map tile URL template (Leaflet syntax).
    #[arg(long, env = "CAREMAP_TILE_URL", default_value = config::DEFAULT_TILE_URL)]
    pub tile_url: String,
    /// Attribution shown under the map.
    #[arg(long, env = "CAREMAP_TILE_ATTRIBUTION", default_value = config::DEFAULT_TILE_ATTRIBUTION)]
    pub tile_attribution: String,
    /// Seed the demo registry when the database has no facilities.
    #[arg(long)]
    pub demo_if_empty: bool,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Template => {
            print!("{}", import::CSV_TEMPLATE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            open(&cli.database).await?;
            println!("数据库已是最新 / database schema is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => serve(open(&cli.database).await?, args).await,
        Command::Demo { replace, size } => {
            let store = open(&cli.database).await?;
            let started = std::time::Instant::now();
            let s = match size {
                None => demo::seed(store.as_ref(), replace).await?,
                Some(size) => demo::seed_synthetic(store.as_ref(), size, replace).await?,
            };
            println!(
                "演示数据 / demo registry: added {} · updated {} · unchanged {} · deleted {} ({:.1} s)",
                s.added,
                s.updated,
                s.unchanged,
                s.deleted,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            file,
            format,
            skip_invalid,
        } => import_file(&cli.database, &file, format, skip_invalid).await,
        Command::Facility { command } => {
            let store = open(&cli.database).await?;
            facility(store, command).await
        }
    }
}

/// `demo --size`: a whole number from 1 to [`demo::synthetic::MAX_SIZE`] (`_` allowed: 100_000).
fn parse_size(raw: &str) -> Result<usize, String> {
    let max = demo::synthetic::MAX_SIZE;
    match raw.replace('_', "").parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a number of facilities from 1 to {max}")),
    }
}

async fn open(url: &str) -> anyhow::Result<SharedStore> {
    store::connect(url)
        .await
        .with_context(|| format!("cannot open the database {}", store::redact_url(url)))
}

async fn serve(store: SharedStore, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.demo_if_empty && store.count().await? == 0 {
        let s = demo::seed(store.as_ref(), false).await?;
        tracing::info!(added = s.added, "database was empty: demo registry seeded");
    }
    let config = ServerConfig {
        dist: args.dist,
        tile_url: args.tile_url,
        tile_attribution: args.tile_attribution,
        ..ServerConfig::default()
    };
    let state = AppState::new(store, config);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    println!("caremap 正在运行 / listening on http://{local}/");
    axum::serve(listener, crate::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or (Unix) SIGTERM, so in-flight requests finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn import_file(
    database: &str,
    file: &std::path::Path,
    format: Option<Format>,
    skip_invalid: bool,
) -> anyhow::Result<ExitCode> {
    let parsed = match import::parse_file(file, format) {
        Ok(parsed) => parsed,
        Err(err) => {
            eprintln!("{}: {}", file.display(), err.message(Lang::Zh));
            eprintln!("{}: {}", file.display(), err.message(Lang::En));
            return Ok(ExitCode::FAILURE);
        }
    };
    let store = open(database).await?;
    match import::apply(store.as_ref(), parsed, skip_invalid).await {
        Ok(summary) => {
            println!(
                "导入完成 / imported {}: added {} · updated {} · unchanged {} · skipped {}",
                file.display(),
                summary.added,
                summary.updated,
                summary.unchanged,
                summary.skipped.len()
            );
            for skipped in &summary.skipped {
                println!(
                    "  跳过 / skipped {} / {}: {} / {}",
                    skipped.location.describe(Lang::Zh),
                    skipped.location.describe(Lang::En),
                    skipped.reason.message(Lang::Zh),
                    skipped.reason.message(Lang::En)
                );
            }
            for issue in &summary.skipped_issues {
                println!("    {}", issue.message(Lang::Zh));
                println!("    {}", issue.message(Lang::En));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Invalid { issues, parsed }) => {
            eprintln!(
                "{}: {} 处错误，未导入任何数据 / {} problems, nothing imported \
                 ({} valid, {} invalid entries; --skip-invalid imports the valid ones)",
                file.display(),
                issues.len(),
                issues.len(),
                parsed.entries.len(),
                parsed.invalid_entries.len()
            );
            for issue in &issues {
                eprintln!("  {}", issue.message(Lang::Zh));
                eprintln!("  {}", issue.message(Lang::En));
            }
            Ok(ExitCode::FAILURE)
        }
        Err(ImportError::File(err)) => {
            eprintln!("{}: {}", file.display(), err.message(Lang::En));
            Ok(ExitCode::FAILURE)
        }
        Err(ImportError::Store(err)) => Err(err.into()),
    }
}

async fn facility(store: SharedStore, command: FacilityCommand) -> anyhow::Result<ExitCode> {
    match command {
        FacilityCommand::Delete { id } => match store.delete(id).await? {
            DeleteOutcome::Deleted { version } => {
                println!("已删除 / deleted {id} (version {version})");
                Ok(ExitCode::SUCCESS)
            }
            DeleteOutcome::AlreadyDeleted => {
                println!("已删除过 / {id} was already deleted");
                Ok(ExitCode::SUCCESS)
            }
            DeleteOutcome::NotFound => {
                eprintln!("未找到 / no facility {id}");
                Ok(ExitCode::FAILURE)
            }
        },
        FacilityCommand::List => {
            for record in store.list().await? {
                if let Some(f) = &record.facility {
                    println!(
                        "{}\tv{}\t{}\t{}",
                        record.id,
                        record.version,
                        f.kind,
                        f.name.zh.as_str()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
