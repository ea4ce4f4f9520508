//! The command line: `serve`, `demo`, `import`, `template`, `facility`, `user`, `migrate`.
//!
//! Each subcommand is a function here that returns an exit code; `main.rs` parses and calls
//! [`run`]. Messages for the operator are printed in Chinese and English.

use crate::config::{self, ServerConfig};
use crate::import::{self, Format, ImportError};
use crate::store::{
    self, Account, CodeOutcome, DeleteOutcome, NewAccount, RevokeOutcome, SharedStore,
    DEFAULT_DATABASE_URL,
};
use crate::{auth, demo, AppState};
use anyhow::Context as _;
use caremap_model::{
    AreaName, EnrollmentCode, FacilityId, Field, FreshnessThresholds, Lang, Role, Scope,
};
use chrono::{DateTime, SecondsFormat, Utc};
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

    /// PostgreSQL: seconds a statement may run before it is cancelled (0: no limit).
    #[arg(long, global = true, env = "CAREMAP_STATEMENT_TIMEOUT_SECS", default_value_t = store::DEFAULT_STATEMENT_TIMEOUT.as_secs())]
    pub statement_timeout_secs: u64,

    /// Seconds a statement may wait for a lock (PostgreSQL's lock_timeout, SQLite's busy
    /// timeout) before it fails.
    #[arg(long, global = true, env = "CAREMAP_LOCK_TIMEOUT_SECS", default_value_t = store::DEFAULT_LOCK_TIMEOUT.as_secs())]
    pub lock_timeout_secs: u64,

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
        /// Also push today's demo load reports (about 40 % of the demo clinics get a status).
        #[arg(long, conflicts_with = "size")]
        reports: bool,
    },
    /// Import a registry file: GeoJSON (OpenStreetMap, healthsites.io), the Overpass API's JSON,
    /// OSM XML, or the template as CSV or Excel (.xlsx).
    Import {
        file: PathBuf,
        /// Format; by default told by the file's content (its extension as a hint).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Import the valid entries and skip the invalid ones (listed) instead of refusing all.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Print the CSV import template.
    Template,
    /// Export the registry with each facility's latest status (csv, xlsx, geojson, fhir, edxl).
    Export(crate::export::ExportArgs),
    /// Manage single facilities.
    Facility {
        #[command(subcommand)]
        command: FacilityCommand,
    },
    /// Manage the accounts of village doctors, outreach teams and the health office.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create or update the database schema.
    Migrate {
        /// Give the database a new random id (after restoring a backup into it): every phone's
        /// cursor then names another database, and phones sync again from the start instead
        /// of skipping what the restored history numbers anew. Restart the servers after it.
        #[arg(long)]
        new_database_id: bool,
    },
    /// Suggest transfers of one stock item from clinics with more than they need to those short
    /// of it (most need covered, then least distance), from each clinic's latest report that
    /// gave the item's count and daily need. Read-only.
    Transfers {
        /// The item: antipyretics, antigen_kits, cough_cold, oxygen.
        #[arg(long)]
        item: caremap_model::StockItem,
        /// A clinic with less than this many days of cover is short (filled up to it).
        #[arg(long, default_value_t = 3)]
        min_days: u32,
        /// A clinic keeps this many days of cover; what it holds beyond can go.
        #[arg(long, default_value_t = 7)]
        keep_days: u32,
        /// Suggest no transfer longer than this (km).
        #[arg(long)]
        max_km: Option<f64>,
        /// The language of the suggestions: zh or en.
        #[arg(long, default_value = "zh")]
        lang: String,
    },
    /// Check that the database agrees with itself (read-only): every acknowledged load report
    /// stored with its idempotency record, every facility's status the one its reports give.
    /// Exit status 1 if not.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account and print its one-time enrollment code (valid 7 days).
    Add(UserAddArgs),
    /// List the accounts: id, name, role, scope, active devices, revoked.
    List,
    /// Revoke an account and every device token of it.
    Revoke { id: i64 },
    /// A fresh enrollment code for an account (a lost or new phone). Its devices are signed out.
    Code { id: i64 },
}

#[derive(Debug, Clone, clap::Args)]
pub struct UserAddArgs {
    /// The person's name, e.g. 王医生.
    #[arg(long)]
    pub name: String,
    /// reporter (village doctor, facility staff), outreach (vaccination team) or admin.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// A facility the account reports for (repeat for several); required for reporters.
    #[arg(long = "facility", value_name = "UUID")]
    pub facilities: Vec<FacilityId>,
    /// A township the account works in (repeat for several).
    #[arg(long = "township", value_name = "NAME")]
    pub townships: Vec<String>,
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
    /// The base map: tile provider preset, key, URL, our own PMTiles (`crate::tiles`).
    #[command(flatten)]
    pub tiles: crate::tiles::TileArgs,
    /// Seed the demo registry when the database has no facilities.
    #[arg(long)]
    pub demo_if_empty: bool,
    /// Push today's demo load reports at start-up when the registry holds demo data (once a
    /// day: the reports of a day are stored once), so the map shows crowding.
    #[arg(long, env = "CAREMAP_DEMO_REPORTS")]
    pub demo_reports: bool,
    /// A facility's status turns "ageing" after this many minutes.
    #[arg(long, env = "CAREMAP_FRESH_AGEING_MINUTES", default_value_t = FreshnessThresholds::default().ageing_after_minutes)]
    pub fresh_ageing_minutes: u32,
    /// A facility's status turns "stale" after this many minutes.
    #[arg(long, env = "CAREMAP_FRESH_STALE_MINUTES", default_value_t = FreshnessThresholds::default().stale_after_minutes)]
    pub fresh_stale_minutes: u32,
    /// Enrollment attempts per client address a minute (0: no limit).
    #[arg(long, env = "CAREMAP_ENROLL_PER_MINUTE", default_value_t = config::DEFAULT_ENROLL_PER_MINUTE)]
    pub enroll_per_minute: u32,
    /// Seconds a push waits for the database before it is answered 503 with `Retry-After`
    /// (at least 1).
    #[arg(long, env = "CAREMAP_PUSH_DEADLINE_SECS", default_value_t = config::DEFAULT_PUSH_DEADLINE.as_secs())]
    pub push_deadline_secs: u64,
    /// Failed bearer-token look-ups per client address a minute before 429 (0: no limit).
    #[arg(long, env = "CAREMAP_AUTH_FAILURES_PER_MINUTE", default_value_t = config::DEFAULT_AUTH_FAILURES_PER_MINUTE)]
    pub auth_failures_per_minute: u32,
    /// Requests in progress at once; more are answered 503 with `Retry-After`.
    #[arg(long, env = "CAREMAP_MAX_CONCURRENT_REQUESTS", default_value_t = config::DEFAULT_MAX_CONCURRENT)]
    pub max_concurrent_requests: usize,
    /// A reverse proxy (address or network, e.g. 10.0.0.0/8) whose Forwarded / X-Forwarded-For
    /// / X-Forwarded-Proto headers give the client's address and protocol (repeat, or
    /// comma-separate in the env).
    #[arg(long = "trusted-proxy", env = "CAREMAP_TRUSTED_PROXIES", value_delimiter = ',', value_parser = config::parse_trusted_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The URL people open, e.g. https://caremap.example.org (an https URL turns on HSTS).
    #[arg(long, env = "CAREMAP_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let db = store::DbOptions {
        statement_timeout: std::time::Duration::from_secs(cli.statement_timeout_secs),
        lock_timeout: std::time::Duration::from_secs(cli.lock_timeout_secs),
    };
    let open = |url: &str| open(url.to_owned(), db);
    match cli.command {
        Command::Template => {
            print!("{}", import::CSV_TEMPLATE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { new_database_id } => {
            let store = open(&cli.database).await?;
            println!("数据库已是最新 / database schema is up to date");
            if new_database_id {
                let id = store.renew_database_id().await?;
                println!(
                    "数据库已获得新标识，所有手机将从头重新同步；请重启服务器 / \
                     new database id {id}: every phone syncs again from the start; restart the servers"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => check(open(&cli.database).await?).await,
        Command::Transfers {
            item,
            min_days,
            keep_days,
            max_km,
            lang,
        } => {
            let lang = match lang.as_str() {
                "zh" | "zh-CN" => caremap_model::Lang::Zh,
                "en" => caremap_model::Lang::En,
                other => anyhow::bail!("未知语言 / unknown language: {other} (zh, en)"),
            };
            let rule = caremap_planning::CoverRule::new(min_days, keep_days, max_km)
                .map_err(|err| anyhow::anyhow!("{err}"))?;
            let store = open(&cli.database).await?;
            let found = crate::transfers::suggest(&store, item, &rule).await?;
            for line in found.explained(lang) {
                println!("{line}");
            }
            eprintln!(
                "{}: {} clinics counted; short {} units in all, {} covered by {} transfers, {:.1} unit·km",
                item.label(lang),
                found.counted,
                found.plan.total_shortage,
                found.plan.covered,
                found.plan.transfers.len(),
                found.plan.unit_km
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => serve(open(&cli.database).await?, args).await,
        Command::Export(args) => crate::export::run_cli(open(&cli.database).await?, args).await,
        Command::Demo {
            replace,
            size,
            reports,
        } => {
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
            if reports {
                let r = demo::reports::seed_reports(store.as_ref(), Utc::now()).await?;
                println!(
                    "演示报告 / demo load reports: stored {} · already there {}",
                    r.applied, r.skipped
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            file,
            format,
            skip_invalid,
        } => import_file(&cli.database, db, &file, format, skip_invalid).await,
        Command::Facility { command } => {
            let store = open(&cli.database).await?;
            facility(store, command).await
        }
        Command::User { command } => {
            let store = open(&cli.database).await?;
            user(store, command).await
        }
    }
}

fn parse_role(raw: &str) -> Result<Role, String> {
    raw.parse::<Role>()
        .map_err(|_| "expected reporter, outreach or admin".to_owned())
}

/// `demo --size`: a whole number from 1 to [`demo::synthetic::MAX_SIZE`] (`_` allowed: 100_000).
fn parse_size(raw: &str) -> Result<usize, String> {
    let max = demo::synthetic::MAX_SIZE;
    match raw.replace('_', "").parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a number of facilities from 1 to {max}")),
    }
}

async fn open(url: String, options: store::DbOptions) -> anyhow::Result<SharedStore> {
    store::connect_with(&url, options)
        .await
        .with_context(|| format!("cannot open the database {}", store::redact_url(&url)))
}

async fn serve(store: SharedStore, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Flags that make no base map fail before anything else happens.
    let tiles = args.tiles.resolve()?;
    if let Some(file) = &tiles.pmtiles {
        std::fs::File::open(file).with_context(|| {
            format!(
                "无法读取 PMTiles 文件 / cannot read the PMTiles file {}",
                file.display()
            )
        })?;
    }
    if args.demo_if_empty && store.count().await? == 0 {
        let s = demo::seed(store.as_ref(), false).await?;
        tracing::info!(added = s.added, "database was empty: demo registry seeded");
    }
    if args.demo_reports && store.has_demo_data().await? {
        let r = demo::reports::seed_reports(store.as_ref(), Utc::now()).await?;
        tracing::info!(stored = r.applied, "demo load reports");
    }
    let freshness = FreshnessThresholds::new(args.fresh_ageing_minutes, args.fresh_stale_minutes)
        .map_err(anyhow::Error::msg)?;
    let config = ServerConfig {
        dist: args.dist,
        tiles,
        freshness,
        enroll_per_minute: args.enroll_per_minute,
        push_deadline: std::time::Duration::from_secs(args.push_deadline_secs.max(1)),
        auth_failures_per_minute: args.auth_failures_per_minute,
        max_concurrent: args.max_concurrent_requests.max(1),
        trusted_proxies: args.trusted_proxies,
        public_url: args.public_url,
        ..ServerConfig::default()
    };
    let state = AppState::new(store, config);
    // The pages of a first sync, compressed before the first phone asks (in the background).
    state.feed_cache.clone().start_warm(state.store.clone());
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    println!("caremap 正在运行 / listening on http://{local}/");
    // Connection info: the enrollment rate limit is per client address.
    axum::serve(
        listener,
        crate::app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
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
    db: store::DbOptions,
    file: &std::path::Path,
    format: Option<Format>,
    skip_invalid: bool,
) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let parsed = match import::parse_file(file, format) {
        Ok(parsed) => parsed,
        Err(err) => {
            eprintln!("{}: {}", file.display(), err.message(Lang::Zh));
            eprintln!("{}: {}", file.display(), err.message(Lang::En));
            return Ok(ExitCode::FAILURE);
        }
    };
    let store = open(database.to_owned(), db).await?;
    let outcome = import::apply(store.as_ref(), parsed, skip_invalid).await;
    let resources = || {
        let memory = import::report::peak_memory().map_or_else(
            || "?".to_owned(),
            |b| format!("{:.0} MB", b as f64 / 1_048_576.0),
        );
        format!(
            "用时 / took {:.1} s · 峰值内存 / peak memory {memory}",
            started.elapsed().as_secs_f64()
        )
    };
    match outcome {
        Ok(summary) => {
            println!(
                "导入完成 / imported {}: added {} · updated {} · unchanged {} · skipped {}",
                file.display(),
                summary.added,
                summary.updated,
                summary.unchanged,
                summary.skipped.len() + summary.untagged
            );
            let groups =
                import::report::groups(&summary.skipped, &summary.skipped_issues, summary.untagged);
            for line in import::report::lines(&groups) {
                println!("{line}");
            }
            if !summary.skipped_issues.is_empty() {
                println!("跳过的错误 / problems of the skipped entries:");
            }
            for issue in &summary.skipped_issues {
                println!("  {}", issue.message(Lang::Zh));
                println!("  {}", issue.message(Lang::En));
            }
            println!("{}", resources());
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
            let groups = import::report::groups(&parsed.skipped, &[], parsed.untagged);
            for line in import::report::lines(&groups) {
                eprintln!("{line}");
            }
            eprintln!("{}", resources());
            Ok(ExitCode::FAILURE)
        }
        Err(ImportError::File(err)) => {
            eprintln!("{}: {}", file.display(), err.message(Lang::Zh));
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

/// Why `user add` refused to create an account.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("unknown or deleted facility {0}")]
    UnknownFacility(FacilityId),
    #[error("a reporter needs at least one --facility")]
    ReporterWithoutFacility,
    #[error("the name is empty")]
    EmptyName,
    #[error("invalid township: {0}")]
    Township(caremap_model::ValidationError),
    #[error(transparent)]
    Random(#[from] auth::RandomError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl UserError {
    /// The message for the operator, in Chinese and English.
    pub fn message(&self) -> String {
        match self {
            UserError::UnknownFacility(id) => {
                format!("机构不存在或已删除 / unknown or deleted facility: {id}")
            }
            UserError::ReporterWithoutFacility => {
                "填报员账号至少需要一个 --facility / a reporter needs at least one --facility"
                    .to_owned()
            }
            UserError::EmptyName => "请填写姓名 / the name is empty".to_owned(),
            UserError::Township(err) => {
                format!("{} / {}", err.message(Lang::Zh), err.message(Lang::En))
            }
            other => other.to_string(),
        }
    }
}

/// A created account and its one-time code.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub account: Account,
    pub code: EnrollmentCode,
    pub expires_at: DateTime<Utc>,
}

/// `user add`: checks the scope (every facility must exist and be live; a reporter needs one)
/// and creates the account with a fresh enrollment code.
pub async fn add_user(store: &SharedStore, args: &UserAddArgs) -> Result<CreatedUser, UserError> {
    let name = args.name.trim();
    if name.is_empty() {
        return Err(UserError::EmptyName);
    }
    if args.role == Role::Reporter && args.facilities.is_empty() {
        return Err(UserError::ReporterWithoutFacility);
    }
    let mut facilities = Vec::with_capacity(args.facilities.len());
    for id in &args.facilities {
        match store.get(*id).await? {
            Some(record) if !record.deleted => {
                if !facilities.contains(id) {
                    facilities.push(*id);
                }
            }
            _ => return Err(UserError::UnknownFacility(*id)),
        }
    }
    let mut townships = Vec::with_capacity(args.townships.len());
    for raw in &args.townships {
        let township = AreaName::parse_for(raw, Field::Township).map_err(UserError::Township)?;
        let township = township.as_str().to_owned();
        if !townships.contains(&township) {
            townships.push(township);
        }
    }
    let code = auth::new_enrollment_code()?;
    let expires_at = auth::code_expiry(Utc::now());
    let account = store
        .create_account(
            &NewAccount {
                name: name.to_owned(),
                role: args.role,
                scope: Scope {
                    facilities,
                    townships,
                },
            },
            &auth::code_hash(&code),
            expires_at,
        )
        .await?;
    Ok(CreatedUser {
        account,
        code,
        expires_at,
    })
}

/// Prints a code for the operator, and alone on a `code: ` line for scripts (README).
fn print_code(code: &EnrollmentCode, expires_at: DateTime<Utc>) {
    println!("注册码（仅可使用一次，7 天内有效）/ enrollment code (single use, valid for 7 days):");
    println!("code: {}", code.display());
    println!(
        "有效期至 / expires: {}",
        expires_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    println!("请在手机上打开 caremap，选择“登记设备”并输入注册码。");
    println!("On the phone, open caremap, choose \"Enroll this device\" and type the code.");
}

fn scope_text(scope: &Scope) -> String {
    let mut parts = Vec::new();
    if !scope.facilities.is_empty() {
        let ids: Vec<String> = scope.facilities.iter().map(ToString::to_string).collect();
        parts.push(format!("facilities={}", ids.join(",")));
    }
    if !scope.townships.is_empty() {
        parts.push(format!("townships={}", scope.townships.join(",")));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(" ")
    }
}

async fn user(store: SharedStore, command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add(args) => match add_user(&store, &args).await {
            Ok(created) => {
                let a = &created.account;
                println!(
                    "已创建账号 / account created: {} · {} · {}",
                    a.id,
                    a.name,
                    a.role.as_str()
                );
                println!("account: {}", a.id);
                print_code(&created.code, created.expires_at);
                Ok(ExitCode::SUCCESS)
            }
            Err(UserError::Store(err)) => Err(err.into()),
            Err(err) => {
                eprintln!("{}", err.message());
                Ok(ExitCode::FAILURE)
            }
        },
        UserCommand::List => {
            println!("id\tname\trole\tscope\tactive_devices\trevoked");
            for s in store.accounts().await? {
                let a = &s.account;
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.name,
                    a.role.as_str(),
                    scope_text(&a.scope),
                    s.active_devices,
                    a.revoked_at.map_or_else(
                        || "-".to_owned(),
                        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true)
                    )
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Revoke { id } => match store.revoke_account(id).await? {
            RevokeOutcome::Revoked { tokens } => {
                println!("已停用账号 / account {id} revoked ({tokens} device tokens revoked)");
                Ok(ExitCode::SUCCESS)
            }
            RevokeOutcome::AlreadyRevoked => {
                println!("账号已停用 / account {id} was already revoked");
                Ok(ExitCode::SUCCESS)
            }
            RevokeOutcome::NotFound => {
                eprintln!("未找到账号 / no account {id}");
                Ok(ExitCode::FAILURE)
            }
        },
        UserCommand::Code { id } => {
            let code = auth::new_enrollment_code()?;
            let expires_at = auth::code_expiry(Utc::now());
            match store
                .replace_enrollment_code(id, &auth::code_hash(&code), expires_at)
                .await?
            {
                CodeOutcome::Issued { revoked_tokens } => {
                    println!(
                        "新注册码已生成，旧注册码和 {revoked_tokens} 台已登记设备已失效 / \
                         new code for account {id}; older codes and {revoked_tokens} enrolled devices no longer work"
                    );
                    println!("account: {id}");
                    print_code(&code, expires_at);
                    Ok(ExitCode::SUCCESS)
                }
                CodeOutcome::Revoked => {
                    eprintln!("账号已停用，不能生成注册码 / account {id} is revoked: no code");
                    Ok(ExitCode::FAILURE)
                }
                CodeOutcome::NotFound => {
                    eprintln!("未找到账号 / no account {id}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// `check`: prints what it counted and any disagreement; exit status 1 on one.
async fn check(store: SharedStore) -> anyhow::Result<ExitCode> {
    let found = store.consistency().await?;
    println!(
        "mutations: {} · reports: {} · facilities: {}",
        found.mutations, found.reports, found.facilities
    );
    let lists = [
        (
            "无报告的变更记录 / mutations without their report",
            found.mutations_without_report.0,
            found
                .mutations_without_report
                .1
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        ),
        (
            "无变更记录的报告 / reports without their mutation",
            found.reports_without_mutation.0,
            found
                .reports_without_mutation
                .1
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
        (
            "状态与报告不符的机构 / facilities whose status is not their reports'",
            found.wrong_status.0,
            found
                .wrong_status
                .1
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
    ];
    for (what, n, ids) in &lists {
        if *n > 0 {
            eprintln!("{what}: {n}");
            for id in ids {
                eprintln!("  {id}");
            }
        }
    }
    if found.holds() {
        println!("一致 / consistent");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("不一致 / NOT consistent");
        Ok(ExitCode::FAILURE)
    }
}
