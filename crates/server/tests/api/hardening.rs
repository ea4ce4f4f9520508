//! Issue 17, the server's side: cheap anonymous traffic (bad tokens refused before the body is
//! read and rate-limited per client, load shed with 503), the client address and TLS behind a
//! trusted reverse proxy (rate limits, HSTS), `Cache-Control: no-store` on answers with a
//! token or an account, cursors that name their database, the record layout kept compressed.

use crate::helpers::{
    enrolled, facility, fixture_dist, header, load_report, report_mutation, spawn_app,
    spawn_app_with, Backend, TestApp,
};
use caremap_model::{Outcome, ReportId, Role};
use caremap_server::ServerConfig;
use chrono::Utc;
use serde_json::json;
use std::time::Duration;

fn config() -> ServerConfig {
    ServerConfig {
        dist: fixture_dist(),
        ..ServerConfig::default()
    }
}

fn local_proxy() -> Vec<ipnet::IpNet> {
    vec![caremap_server::config::parse_trusted_proxy("127.0.0.1").expect("proxy")]
}

async fn error_code(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("error JSON");
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// A push with a token that does not exist is 401 even when its body is not JSON at all: it
/// was refused before the body was read (and so before the write queue).
async fn an_unknown_token_is_refused_before_the_body_is_read(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let response = app
        .client
        .post(app.url("/api/v1/push"))
        .bearer_auth("cm_no-such-token")
        .header("Content-Type", "application/json")
        .body("{ this is not JSON")
        .send()
        .await
        .expect("push");
    assert_eq!(header(&response, "www-authenticate"), "Bearer");
    let (status, code, _) = error_code(response).await;
    assert_eq!((status, code.as_str()), (401, "unauthenticated"));

    // A working token with the same body is read, and refused for its body.
    let (id, _) = facility(1);
    app.store
        .upsert_batch(&[facility(1)])
        .await
        .expect("facility");
    let (_, token) = enrolled(&app, Role::Reporter, &[id]).await;
    let response = app
        .client
        .post(app.url("/api/v1/push"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{ this is not JSON")
        .send()
        .await
        .expect("push");
    let (status, code, _) = error_code(response).await;
    assert_eq!((status, code.as_str()), (400, "invalid_json"));
}

/// Failed authentications from one client are limited: after the burst, 429 with
/// `Retry-After` and a message in the caller's language, before any look-up. A phone whose
/// token works goes on pushing from the same address.
async fn failed_authentications_are_rate_limited_per_client(backend: Backend) {
    let Some(app) = spawn_app_with(
        backend,
        ServerConfig {
            auth_failures_per_minute: 3,
            ..config()
        },
    )
    .await
    else {
        return;
    };
    let (id, f) = facility(1);
    app.store.upsert_batch(&[(id, f)]).await.expect("facility");
    let (_, token) = enrolled(&app, Role::Reporter, &[id]).await;
    let body = json!({ "mutations": [] });
    for _ in 0..3 {
        let response = app.push_raw(Some("cm_guess"), "zh-CN", &body).await;
        assert_eq!(response.status(), 401);
    }
    let response = app.push_raw(Some("cm_guess"), "en", &body).await;
    let retry_after: u64 = header(&response, "retry-after")
        .parse()
        .expect("Retry-After");
    assert!(retry_after >= 1);
    let (status, code, message) = error_code(response).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    assert!(message.starts_with("Too many attempts"), "{message}");
    let response = app.push_raw(Some("cm_guess"), "zh-CN", &body).await;
    let (status, _, message) = error_code(response).await;
    assert_eq!(status, 429);
    assert!(message.contains("尝试次数过多"), "{message}");
    // The account endpoint shares the limit.
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth("cm_other-guess")
        .send()
        .await
        .expect("me");
    assert_eq!(response.status(), 429);

    // The enrolled phone is not locked out by its neighbour's guesses.
    let report = load_report(id, Utc::now(), 10);
    let results = app
        .push(&token, &[report_mutation(ReportId::new_v7(), &report)])
        .await;
    assert_eq!(results[0].outcome, Outcome::Applied);
}

/// Behind a trusted proxy every rate limit keys on the address the proxy saw (the rightmost
/// untrusted one of `X-Forwarded-For` / `Forwarded`); without the setting those headers are
/// nobody's word and every caller behind one peer shares its bucket.
async fn a_trusted_proxy_gives_the_client_address_to_the_rate_limits(backend: Backend) {
    for trusted in [true, false] {
        let Some(app) = spawn_app_with(
            backend,
            ServerConfig {
                enroll_per_minute: 2,
                trusted_proxies: if trusted { local_proxy() } else { Vec::new() },
                ..config()
            },
        )
        .await
        else {
            return;
        };
        let enroll = |forwarded: &'static str, modern: bool| {
            let request = app
                .client
                .post(app.url("/api/v1/enroll"))
                .json(&json!({ "code": "K3QD-7MZR-A1XW" }));
            let request = if modern {
                request.header("Forwarded", forwarded)
            } else {
                // The client's own claim on the left, the proxy's on the right.
                request.header("X-Forwarded-For", format!("6.6.6.6, {forwarded}"))
            };
            async move { request.send().await.expect("enroll").status().as_u16() }
        };
        assert_eq!(enroll("203.0.113.1", false).await, 401);
        assert_eq!(enroll("203.0.113.1", false).await, 401);
        assert_eq!(
            enroll("203.0.113.1", false).await,
            429,
            "its own bucket is empty"
        );
        let other = enroll("for=\"[2001:db8::7]:4711\"", true).await;
        if trusted {
            assert_eq!(
                other, 401,
                "another client behind the proxy has its own bucket"
            );
        } else {
            assert_eq!(other, 429, "untrusted peers cannot claim an address");
        }
    }
}

/// HSTS on answers served over TLS: as the trusted proxy says, or as the public URL says;
/// never because an untrusted caller says so.
async fn hsts_is_sent_over_tls_only(backend: Backend) {
    /// Trusted proxies, public URL, a header the request carries, whether HSTS is expected.
    type Case = (
        Vec<ipnet::IpNet>,
        Option<&'static str>,
        Option<(&'static str, &'static str)>,
        bool,
    );
    let cases: [Case; 5] = [
        (
            local_proxy(),
            None,
            Some(("X-Forwarded-Proto", "https")),
            true,
        ),
        (
            local_proxy(),
            None,
            Some(("Forwarded", "for=192.0.2.1;proto=https")),
            true,
        ),
        (
            local_proxy(),
            None,
            Some(("X-Forwarded-Proto", "http")),
            false,
        ),
        (
            Vec::new(),
            None,
            Some(("X-Forwarded-Proto", "https")),
            false,
        ),
        (Vec::new(), Some("https://caremap.example.org"), None, true),
    ];
    for (proxies, public_url, sent, hsts) in cases {
        let Some(app) = spawn_app_with(
            backend,
            ServerConfig {
                trusted_proxies: proxies,
                public_url: public_url.map(str::to_owned),
                ..config()
            },
        )
        .await
        else {
            return;
        };
        let mut request = app.client.get(app.url("/api/v1/config"));
        if let Some((name, value)) = sent {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("config");
        assert_eq!(response.status(), 200);
        let value = header(&response, "strict-transport-security");
        assert_eq!(
            !value.is_empty(),
            hsts,
            "{sent:?} {public_url:?}: {value:?}"
        );
        if hsts {
            assert!(value.starts_with("max-age="), "{value}");
        }
    }
}

/// Answers that carry a token or an account are never stored by a cache.
async fn answers_with_a_token_or_an_account_are_no_store(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (id, f) = facility(1);
    app.store.upsert_batch(&[(id, f)]).await.expect("facility");
    let (_, token) = enrolled(&app, Role::Reporter, &[id]).await;
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 200);
    assert_eq!(header(&me, "cache-control"), "no-store");
    let refused = app
        .client
        .post(app.url("/api/v1/enroll"))
        .json(&json!({ "code": "K3QD-7MZR-A1XW" }))
        .send()
        .await
        .expect("enroll");
    assert_eq!(header(&refused, "cache-control"), "no-store");
    let push = app
        .push_raw(Some(&token), "zh-CN", &json!({"mutations": []}))
        .await;
    assert_eq!(push.status(), 200);
    assert_eq!(header(&push, "cache-control"), "no-store");
    // The public registry is not.
    let registry = app.get("/api/v1/registry").await;
    assert_ne!(header(&registry, "cache-control"), "no-store");
}

/// The successful enrollment (token and account in one answer) is no-store too.
async fn a_successful_enrollment_is_no_store(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let code = caremap_server::auth::new_enrollment_code().expect("code");
    app.store
        .create_account(
            &caremap_server::store::NewAccount {
                name: "卫生院".into(),
                role: Role::Admin,
                scope: Default::default(),
            },
            &caremap_server::auth::code_hash(&code),
            Utc::now() + chrono::Duration::days(1),
        )
        .await
        .expect("account");
    let response = app
        .client
        .post(app.url("/api/v1/enroll"))
        .json(&json!({ "code": code.display() }))
        .send()
        .await
        .expect("enroll");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
}

/// Beyond the concurrency limit a request is answered 503 `unavailable` with `Retry-After`
/// at once; once the request in progress ends, the next is served.
async fn load_beyond_the_concurrency_limit_is_shed(backend: Backend) {
    use tokio::io::AsyncWriteExt;
    let Some(app) = spawn_app_with(
        backend,
        ServerConfig {
            max_concurrent: 1,
            ..config()
        },
    )
    .await
    else {
        return;
    };
    // A request whose body never finishes holds the one place.
    let mut slow = tokio::net::TcpStream::connect(app.address)
        .await
        .expect("connect");
    slow.write_all(
        b"POST /api/v1/enroll HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
          Content-Length: 1000\r\n\r\n{\"code\":",
    )
    .await
    .expect("write");
    let shed = wait_for(&app, |status| status == 503).await;
    assert_eq!(header(&shed, "retry-after"), "2");
    let (status, code, _) = error_code(shed).await;
    assert_eq!((status, code.as_str()), (503, "unavailable"));
    drop(slow);
    let served = wait_for(&app, |status| status == 200).await;
    assert_eq!(served.status(), 200);
}

/// Asks `/api/v1/config` until the answer's status satisfies `done` (the server needs a moment
/// to start on the other connection's request); at most 10 s.
async fn wait_for(app: &TestApp, done: impl Fn(u16) -> bool) -> reqwest::Response {
    for _ in 0..1000 {
        let response = app.get("/api/v1/config").await;
        if done(response.status().as_u16()) {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the awaited answer never came");
}

/// A cursor names its database: one from another database is refused with 409
/// `invalid_cursor` (the PWA then syncs again from the start), one of the same database and a
/// bare number (servers before database ids) are served.
async fn a_cursor_from_another_database_is_refused(backend: Backend) {
    let (Some(a), Some(b)) = (spawn_app(backend).await, spawn_app(backend).await) else {
        return;
    };
    for app in [&a, &b] {
        app.store
            .upsert_batch(&[facility(1), facility(2), facility(3)])
            .await
            .expect("facilities");
    }
    let page = a.get_json("/api/v1/registry?limit=2").await;
    let cursor = page["cursor"].as_str().expect("cursor").to_owned();
    assert!(cursor.starts_with("2."), "{cursor}");
    let next = a
        .get_json(&format!("/api/v1/registry?since={cursor}"))
        .await;
    assert_eq!(next["items"].as_array().map(Vec::len), Some(1));

    let response = b.get(&format!("/api/v1/registry?since={cursor}")).await;
    let (status, code, _) = error_code(response).await;
    assert_eq!((status, code.as_str()), (409, "invalid_cursor"));
    let columns = b
        .get(&format!("/api/v1/registry?since={cursor}&format=columns"))
        .await;
    assert_eq!(columns.status(), 409);

    let legacy = b.get_json("/api/v1/registry?since=2").await;
    assert_eq!(legacy["items"].as_array().map(Vec::len), Some(1));
    let theirs = legacy["cursor"].as_str().expect("cursor");
    assert!(theirs.starts_with("3.") && theirs != cursor.replace("2.", "3."));
}

/// A record-layout page is sent brotli-compressed to a client that takes brotli, the same
/// bytes each time (compressed once, kept).
async fn record_pages_are_kept_compressed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.store
        .upsert_batch(&[facility(1), facility(2)])
        .await
        .expect("facilities");
    let get = || {
        app.client
            .get(app.url("/api/v1/registry"))
            .header("Accept-Encoding", "br")
            .send()
    };
    let first = get().await.expect("registry");
    assert_eq!(header(&first, "content-encoding"), "br");
    let first = first.bytes().await.expect("bytes");
    let again = get().await.expect("registry").bytes().await.expect("bytes");
    assert_eq!(first, again);
    let mut json = Vec::new();
    std::io::Read::read_to_end(&mut brotli::Decompressor::new(&first[..], 4096), &mut json)
        .expect("brotli");
    let page: caremap_model::RegistryPage = serde_json::from_slice(&json).expect("page");
    assert_eq!(page.items.len(), 2);
}

/// Serves the app over `store` (a second server on a test's database); its base URL.
async fn serve(store: caremap_server::store::SharedStore, config: ServerConfig) -> String {
    let state = caremap_server::AppState::new(store, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            caremap_server::app(state)
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    format!("http://{address}")
}

/// Holds the database's write lock from outside: SQLite's file lock (`BEGIN IMMEDIATE`), or
/// PostgreSQL's registry writers' advisory lock (its key is "caremap" in ASCII).
enum Locker {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

async fn lock_writes(url: &str) -> Locker {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .expect("lock");
        Locker::Sqlite(conn)
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(0x63_61_72_65_6d_61_70_i64)
            .execute(&mut conn)
            .await
            .expect("lock");
        Locker::Postgres(conn)
    }
}

async fn unlock(locker: Locker) {
    use sqlx::Connection;
    match locker {
        Locker::Sqlite(mut conn) => {
            sqlx::query("ROLLBACK")
                .execute(&mut conn)
                .await
                .expect("unlock");
            conn.close().await.ok();
        }
        Locker::Postgres(conn) => {
            conn.close().await.ok();
        }
    }
}

/// A database whose write lock is held elsewhere fails a push within the lock timeout (1 s
/// here), well before the push deadline (30 s here): 503 `unavailable` with `Retry-After`,
/// nothing acknowledged. Once the lock is free the same push is stored, and a resend is a
/// duplicate.
async fn a_locked_database_fails_pushes_within_the_lock_timeout(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (id, f) = facility(1);
    app.store.upsert_batch(&[(id, f)]).await.expect("facility");
    let (_, token) = enrolled(&app, Role::Reporter, &[id]).await;
    let store = caremap_server::store::connect_with(
        &app.db.url,
        caremap_server::store::DbOptions {
            lock_timeout: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .await
    .expect("second store");
    let base = serve(
        store,
        ServerConfig {
            push_deadline: Duration::from_secs(30),
            ..config()
        },
    )
    .await;
    let mutation = report_mutation(ReportId::new_v7(), &load_report(id, Utc::now(), 12));
    let push = || {
        app.client
            .post(format!("{base}/api/v1/push"))
            .bearer_auth(&token)
            .header("Accept-Language", "en")
            .json(&json!({ "mutations": [&mutation] }))
            .send()
    };

    let locker = lock_writes(&app.db.url).await;
    let started = std::time::Instant::now();
    let refused = push().await.expect("push");
    let waited = started.elapsed();
    assert_eq!(header(&refused, "retry-after"), "5");
    let (status, code, message) = error_code(refused).await;
    assert_eq!((status, code.as_str()), (503, "unavailable"), "{message}");
    assert!(
        waited < Duration::from_secs(20),
        "failed at the lock timeout: {waited:?}"
    );
    unlock(locker).await;

    let stored = push().await.expect("push");
    assert_eq!(stored.status(), 200);
    let body: caremap_model::PushResponse = stored.json().await.expect("JSON");
    assert_eq!(body.results[0].outcome, Outcome::Applied);
    assert_eq!(app.history(id).await.len(), 1);
}

/// After a restore, `migrate --new-database-id` (the command line, a real process) gives the
/// database a new id: a server started after it refuses every cursor handed out before, so
/// phones sync again from the start.
async fn a_new_database_id_makes_every_older_cursor_start_over(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.store
        .upsert_batch(&[facility(1), facility(2)])
        .await
        .expect("facilities");
    let page = app.get_json("/api/v1/registry?limit=1").await;
    let cursor = page["cursor"].as_str().expect("cursor").to_owned();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .args(["--database", &app.db.url, "migrate", "--new-database-id"])
        .output()
        .expect("run caremap-server");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("new database id"), "{stdout}");

    let restarted = caremap_server::store::connect(&app.db.url)
        .await
        .expect("store");
    let base = serve(restarted, config()).await;
    let response = app
        .client
        .get(format!("{base}/api/v1/registry?since={cursor}"))
        .send()
        .await
        .expect("registry");
    let (status, code, _) = error_code(response).await;
    assert_eq!((status, code.as_str()), (409, "invalid_cursor"));
    let fresh: serde_json::Value = app
        .client
        .get(format!("{base}/api/v1/registry"))
        .send()
        .await
        .expect("registry")
        .json()
        .await
        .expect("page");
    assert_eq!(fresh["items"].as_array().map(Vec::len), Some(2));
}

crate::on_every_backend!(
    a_new_database_id_makes_every_older_cursor_start_over,
    a_locked_database_fails_pushes_within_the_lock_timeout,
    an_unknown_token_is_refused_before_the_body_is_read,
    failed_authentications_are_rate_limited_per_client,
    a_trusted_proxy_gives_the_client_address_to_the_rate_limits,
    hsts_is_sent_over_tls_only,
    answers_with_a_token_or_an_account_are_no_store,
    a_successful_enrollment_is_no_store,
    load_beyond_the_concurrency_limit_is_shed,
    a_cursor_from_another_database_is_refused,
    record_pages_are_kept_compressed,
);
