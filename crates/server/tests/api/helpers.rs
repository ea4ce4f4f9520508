//! Test helpers: a fresh database per test on either backend, and the real app served on a
//! random port.
//!
//! PostgreSQL: `CAREMAP_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! names a server and a database to connect to; each test creates its own database
//! `caremap_test_<uuid>` and drops it afterwards. When PostgreSQL is unreachable the tests fail
//! if `CI=true`, and otherwise print a notice and pass without running.

use caremap_model::{
    AdminArea, AreaName, Cursor, EnrollResponse, ExternalId, Facility, FacilityId, FacilityKind,
    FacilityRecord, Field, LatLon, LoadReport, Mutation, MutationResult, Name, Names, OpeningHours,
    PageLimit, Phone, PushResponse, ReportHistory, ReportId, ReportRecord, ReportedStatus, Role,
    Scope,
};
use caremap_server::store::{self, NewAccount, SharedStore};
use caremap_server::{AppState, ServerConfig};
use chrono::{DateTime, Utc};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Defines one `#[tokio::test]` per backend for each listed `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            )+
        }
    };
}

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the admin URL and the name of the database to drop afterwards.
    drop_pg: Option<(String, String)>,
}

impl TestDb {
    /// A fresh, empty database; `None` when PostgreSQL is unreachable outside CI.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("caremap.sqlite").display());
                Some(TestDb {
                    url,
                    _dir: Some(dir),
                    drop_pg: None,
                })
            }
            Backend::Postgres => {
                let admin = std::env::var("CAREMAP_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
                let mut conn = match tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    sqlx::PgConnection::connect(&admin),
                )
                .await
                {
                    Ok(Ok(conn)) => conn,
                    failure => {
                        let why = match failure {
                            Ok(Err(err)) => err.to_string(),
                            _ => "timed out".to_owned(),
                        };
                        let url = store::redact_url(&admin);
                        if std::env::var("CI").is_ok_and(|v| v == "true") {
                            panic!("PostgreSQL at {url} is unreachable and CI=true: {why}");
                        }
                        eprintln!(
                            "SKIPPED: PostgreSQL at {url} is unreachable ({why}); \
                             set CAREMAP_TEST_POSTGRES_URL to run the PostgreSQL tests"
                        );
                        return None;
                    }
                };
                let name = format!("caremap_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let url = replace_database(&admin, &name);
                Some(TestDb {
                    url,
                    _dir: None,
                    drop_pg: Some((admin, name)),
                })
            }
        }
    }

    pub async fn store(&self) -> SharedStore {
        store::connect(&self.url).await.expect("open test store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.drop_pg.take() else {
            return;
        };
        // Drop is not async: drop the database from a thread with its own small runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: could not drop test database");
        }
    }
}

/// The URL with its path (database name) replaced.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|i| start + i))
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The sample dist directory (a Trunk-like `index.html` with an inline module loader, a hashed
/// wasm and js, the manifest and a service worker).
/// Copies the sample dist directory (with the staff app's `staff/`) into `to`.
pub fn copy_fixture_dist(to: &std::path::Path) {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        for entry in std::fs::read_dir(from).expect("fixture dist") {
            let entry = entry.expect("fixture file");
            let target = to.join(entry.file_name());
            if entry.path().is_dir() {
                std::fs::create_dir_all(&target).expect("fixture dir");
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).expect("copy fixture");
            }
        }
    }
    copy(&fixture_dist(), to);
}

/// A response header as text, empty when absent.
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn fixture_dist() -> PathBuf {
    fixtures().join("dist")
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The app served on `127.0.0.1:0` over a fresh database.
pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub store: SharedStore,
    /// The database (kept so it lives as long as the app).
    pub db: TestDb,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(
        backend,
        ServerConfig {
            dist: fixture_dist(),
            ..ServerConfig::default()
        },
    )
    .await
}

pub async fn spawn_app_with(backend: Backend, config: ServerConfig) -> Option<TestApp> {
    let db = TestDb::new(backend).await?;
    let store = db.store().await;
    let state = AppState::new(store.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            caremap_server::app(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    Some(TestApp {
        address,
        client: reqwest::Client::new(),
        store,
        db,
    })
}

/// A small valid village clinic, different for each `n`.
pub fn facility(n: u32) -> (FacilityId, Facility) {
    let external = ExternalId::parse(&format!("test:{n}")).expect("external id");
    let facility = Facility {
        kind: FacilityKind::VillageClinic,
        name: Names {
            zh: Name::parse_for(&format!("测试村卫生室{n}"), Field::Name).expect("name"),
            en: None,
        },
        location: LatLon::new(30.0 + f64::from(n) * 0.001, 121.1).expect("location"),
        address: None,
        area: AdminArea {
            township: Some(AreaName::parse_for("马渚镇", Field::Township).expect("township")),
            village: None,
        },
        phone: Some(Phone::parse("0574-62681234").expect("phone")),
        opening_hours: Some(OpeningHours::parse("Mo-Sa 08:00-11:30").expect("hours")),
        services: BTreeSet::new(),
        capacity: Default::default(),
        operational: Default::default(),
        mobile: false,
        external_ids: BTreeSet::from([external.clone()]),
    };
    (FacilityId::from_external(&external), facility)
}

#[test]
fn database_names_are_replaced() {
    assert_eq!(
        replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        replace_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
}

/// An account of `role` over `facilities`, enrolled: its id and a working device token.
pub async fn enrolled(app: &TestApp, role: Role, facilities: &[FacilityId]) -> (i64, String) {
    let code = caremap_server::auth::new_enrollment_code().expect("code");
    let account = app
        .store
        .create_account(
            &NewAccount {
                name: format!("{} 测试", role.as_str()),
                role,
                scope: Scope {
                    facilities: facilities.to_vec(),
                    townships: Vec::new(),
                },
            },
            &caremap_server::auth::code_hash(&code),
            chrono::Utc::now() + chrono::Duration::days(7),
        )
        .await
        .expect("account");
    let response = app
        .client
        .post(app.url("/api/v1/enroll"))
        .json(&serde_json::json!({"code": code.display(), "device": "test phone"}))
        .send()
        .await
        .expect("enroll");
    assert_eq!(response.status(), 200, "enroll");
    let body: EnrollResponse = response.json().await.expect("enroll JSON");
    assert_eq!(body.account.id, account.id);
    (account.id, body.token)
}

/// A valid load report for `facility`, true at `as_of`, with a wait of `wait` minutes.
pub fn load_report(facility: FacilityId, as_of: DateTime<Utc>, wait: u32) -> LoadReport {
    LoadReport {
        facility,
        as_of,
        status: ReportedStatus::Open,
        outpatients_today: Some(40 + wait),
        fever_patients_today: Some(wait / 2),
        wait_minutes: Some(wait),
        doctors_on_duty: Some(2),
        stock: BTreeMap::new(),
        note: None,
        supersedes: None,
    }
}

/// The report as a push mutation with its own id.
pub fn report_mutation(id: ReportId, report: &LoadReport) -> Mutation {
    Mutation::load_report(id, report, report.as_of)
}

impl TestApp {
    /// `POST /api/v1/push` with a bearer token (if any) and an `Accept-Language`.
    pub async fn push_raw(
        &self,
        token: Option<&str>,
        lang: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/api/v1/push"))
            .header("Accept-Language", lang)
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("push")
    }

    /// Pushes mutations and expects 200: the results.
    pub async fn push(&self, token: &str, mutations: &[Mutation]) -> Vec<MutationResult> {
        let response = self
            .push_raw(
                Some(token),
                "zh-CN",
                &serde_json::json!({ "mutations": mutations }),
            )
            .await;
        assert_eq!(response.status(), 200, "push");
        let body: PushResponse = response.json().await.expect("push JSON");
        assert_eq!(body.results.len(), mutations.len());
        body.results
    }

    /// The history endpoint's reports (30 days).
    pub async fn history(&self, facility: FacilityId) -> Vec<ReportRecord> {
        let body = self
            .get_json(&format!("/api/v1/facilities/{facility}/reports"))
            .await;
        let history: ReportHistory = serde_json::from_value(body).expect("history");
        assert_eq!(history.facility, facility);
        history.reports
    }

    /// The facility's record in the registry feed over HTTP (pulled from the start, so parsed
    /// as the PWA parses it), and the feed's last cursor.
    pub async fn feed_record(&self, facility: FacilityId) -> (FacilityRecord, Cursor) {
        let body = self
            .get_json(&format!("/api/v1/registry?limit={}", PageLimit::MAX))
            .await;
        let page: caremap_model::RegistryPage = serde_json::from_value(body).expect("feed");
        let record = page
            .items
            .into_iter()
            .find(|r| r.id == facility)
            .expect("facility in the feed");
        (record, page.cursor)
    }
}
