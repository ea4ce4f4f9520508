//! Enrollment, device tokens and who may push what, over HTTP; the `user` command line as a
//! real process.

use crate::helpers::{
    enrolled, facility, header, load_report, report_mutation, spawn_app, spawn_app_with, Backend,
    TestApp, TestDb,
};
use caremap_model::{AccountInfo, EnrollmentCode, Outcome, ReportId, Role, Scope};
use caremap_server::auth;
use caremap_server::store::{NewAccount, RevokeOutcome};
use caremap_server::ServerConfig;
use chrono::{Duration, Utc};
use serde_json::json;
use std::process::Command;

/// Creates an account directly in the store with a code that expires at `expires`.
async fn account_with_code(
    app: &TestApp,
    role: Role,
    facilities: Vec<caremap_model::FacilityId>,
    expires: chrono::DateTime<Utc>,
) -> (i64, EnrollmentCode) {
    let code = auth::new_enrollment_code().expect("code");
    let account = app
        .store
        .create_account(
            &NewAccount {
                name: "王医生".into(),
                role,
                scope: Scope {
                    facilities,
                    townships: vec!["马渚镇".into()],
                },
            },
            &auth::code_hash(&code),
            expires,
        )
        .await
        .expect("account");
    (account.id, code)
}

async fn enroll(app: &TestApp, code: &str, lang: &str) -> (u16, serde_json::Value) {
    let response = app
        .client
        .post(app.url("/api/v1/enroll"))
        .header("Accept-Language", lang)
        .json(&json!({ "code": code, "device": "测试手机\u{7}" }))
        .send()
        .await
        .expect("enroll");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

async fn me(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url("/api/v1/me"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("me")
}

async fn a_code_works_once_and_the_token_is_stored_hashed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let a = facility(1);
    app.store
        .upsert_batch(std::slice::from_ref(&a))
        .await
        .expect("facility");
    let (id, code) = account_with_code(
        &app,
        Role::Reporter,
        vec![a.0],
        Utc::now() + Duration::days(7),
    )
    .await;
    // Typed the way people type it: lower case, spaces, O for 0.
    let typed = code.display().to_lowercase().replace('-', " ");
    let (status, body) = enroll(&app, &typed, "zh-CN").await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("cm_") && token.len() >= 40, "{token}");
    let account: AccountInfo = serde_json::from_value(body["account"].clone()).expect("account");
    assert_eq!(account.id, id);
    assert_eq!(account.role, Role::Reporter);
    assert_eq!(account.scope.facilities, [a.0]);

    // The same code again: refused.
    let (status, body) = enroll(&app, &code.display(), "en").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "enrollment_failed");

    // The token works; the database holds its hash only.
    let response = me(&app, Some(&token)).await;
    assert_eq!(response.status(), 200);
    let info: AccountInfo = response.json().await.expect("me");
    assert_eq!(info, account);
    assert!(app
        .store
        .authenticate(&auth::sha256_hex(&token))
        .await
        .expect("auth")
        .is_some());
    assert!(app
        .store
        .authenticate(&token)
        .await
        .expect("auth")
        .is_none());
    let summaries = app.store.accounts().await.expect("accounts");
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].active_devices, 1);
    if backend == Backend::Sqlite {
        let path = app.db.url.trim_start_matches("sqlite://").to_owned();
        let mut file = std::fs::read(&path).expect("database file");
        file.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        let haystack = String::from_utf8_lossy(&file);
        assert!(
            !haystack.contains(&token),
            "the token is in the database file"
        );
        assert!(
            !haystack.contains(code.as_str()),
            "the code is in the database file"
        );
        assert!(haystack.contains(&auth::sha256_hex(&token)));
    }
}

async fn expired_revoked_and_unknown_codes_fail_alike(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, expired) =
        account_with_code(&app, Role::Admin, vec![], Utc::now() - Duration::minutes(1)).await;
    let (revoked_id, revoked) =
        account_with_code(&app, Role::Admin, vec![], Utc::now() + Duration::days(7)).await;
    assert_eq!(
        app.store.revoke_account(revoked_id).await.expect("revoke"),
        RevokeOutcome::Revoked { tokens: 0 }
    );
    let unknown = auth::new_enrollment_code().expect("code");
    for code in [expired, revoked, unknown] {
        let (status, body) = enroll(&app, &code.display(), "en").await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "enrollment_failed");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("enrollment code")));
    }
    // A replaced code stops working; the new one works.
    let (id, old) =
        account_with_code(&app, Role::Admin, vec![], Utc::now() + Duration::days(7)).await;
    let new = auth::new_enrollment_code().expect("code");
    app.store
        .replace_enrollment_code(id, &auth::code_hash(&new), Utc::now() + Duration::days(7))
        .await
        .expect("replace");
    assert_eq!(enroll(&app, &old.display(), "en").await.0, 401);
    assert_eq!(enroll(&app, &new.display(), "en").await.0, 200);
}

async fn a_badly_shaped_code_is_400_in_the_callers_language(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (status, zh) = enroll(&app, "ABCD-EFGH", "zh-CN").await;
    assert_eq!(status, 400);
    assert_eq!(zh["error"]["code"], "invalid_enrollment_code");
    assert_eq!(
        zh["error"]["message"],
        "注册码无效：应为卫生院给您的 12 位字母和数字，例如 ABCD-EFGH-JKMN"
    );
    let (status, en) = enroll(&app, "ABCD-EFGH-JKMU", "en").await;
    assert_eq!(status, 400);
    assert_eq!(en["error"]["code"], "invalid_enrollment_code");
    let message = en["error"]["message"].as_str().expect("message");
    assert!(
        message.is_ascii() && message.contains("enrollment code"),
        "{message}"
    );
    let (status, empty) = enroll(&app, "  ", "en").await;
    assert_eq!(status, 400);
    assert_eq!(empty["error"]["code"], "invalid_enrollment_code");
    let response = app
        .client
        .post(app.url("/api/v1/enroll"))
        .json(&json!({"device": "x"}))
        .send()
        .await
        .expect("enroll");
    assert_eq!(response.status(), 400);
}

async fn enrollment_is_rate_limited_per_client(backend: Backend) {
    let config = ServerConfig {
        dist: crate::helpers::fixture_dist(),
        enroll_per_minute: 3,
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(backend, config).await else {
        return;
    };
    let (_, code) =
        account_with_code(&app, Role::Admin, vec![], Utc::now() + Duration::days(7)).await;
    for _ in 0..3 {
        let wrong = auth::new_enrollment_code().expect("code");
        assert_eq!(enroll(&app, &wrong.display(), "en").await.0, 401);
    }
    // The fourth attempt is refused before the code is even looked at: the right code too.
    let response = app
        .client
        .post(app.url("/api/v1/enroll"))
        .header("Accept-Language", "en")
        .json(&json!({ "code": code.display() }))
        .send()
        .await
        .expect("enroll");
    assert_eq!(response.status(), 429);
    let retry: u64 = header(&response, "retry-after")
        .parse()
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("Too many")));
    // Other endpoints are not limited.
    assert_eq!(app.get("/api/v1/health").await.status(), 200);
}

/// Anonymous, garbage, revoked, out of scope, wrong role, admin: each answered right, and
/// nothing stored for the refused.
async fn the_authorisation_matrix(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (a, b) = (facility(1), facility(2));
    app.store
        .upsert_batch(&[a.clone(), b.clone()])
        .await
        .expect("facilities");
    let (a, b) = (a.0, b.0);
    let (_, doctor_a) = enrolled(&app, Role::Reporter, &[a]).await;
    let (revoked_id, revoked) = enrolled(&app, Role::Reporter, &[a, b]).await;
    let (_, outreach) = enrolled(&app, Role::Outreach, &[a, b]).await;
    let (_, admin) = enrolled(&app, Role::Admin, &[]).await;
    assert_eq!(
        app.store.revoke_account(revoked_id).await.expect("revoke"),
        RevokeOutcome::Revoked { tokens: 1 }
    );
    let for_a = || report_mutation(ReportId::new_v7(), &load_report(a, Utc::now(), 30));
    let for_b = || report_mutation(ReportId::new_v7(), &load_report(b, Utc::now(), 30));

    for token in [
        None,
        Some("garbage"),
        Some("cm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some(revoked.as_str()),
    ] {
        let response = app
            .push_raw(token, "en", &json!({ "mutations": [for_a(), for_b()] }))
            .await;
        assert_eq!(response.status(), 401, "{token:?}");
        assert_eq!(header(&response, "www-authenticate"), "Bearer");
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "unauthenticated");
        assert_eq!(me(&app, token).await.status(), 401);
    }
    // A malformed body without a token is still 401: the token is checked first.
    let response = app.push_raw(None, "en", &json!({"nope": 1})).await;
    assert_eq!(response.status(), 401);

    let results = app.push(&doctor_a, &[for_b(), for_a()]).await;
    assert_eq!(results[0].outcome, Outcome::Rejected);
    assert_eq!(
        results[0].error.as_ref().map(|e| e.code.as_str()),
        Some("forbidden_facility")
    );
    assert_eq!(results[1].outcome, Outcome::Applied);

    let results = app.push(&outreach, &[for_a(), for_b()]).await;
    for r in &results {
        assert_eq!(r.outcome, Outcome::Rejected);
        assert_eq!(
            r.error.as_ref().map(|e| e.code.as_str()),
            Some("forbidden_role")
        );
    }

    let unknown = report_mutation(
        ReportId::new_v7(),
        &load_report(facility(99).0, Utc::now(), 5),
    );
    let results = app.push(&admin, &[for_b(), unknown]).await;
    assert_eq!(results[0].outcome, Outcome::Applied);
    assert_eq!(
        results[1].error.as_ref().map(|e| e.code.as_str()),
        Some("unknown_facility")
    );

    // Stored: the doctor's report for a, the admin's for b; nothing else.
    assert_eq!(app.history(a).await.len(), 1);
    assert_eq!(app.history(b).await.len(), 1);
    assert!(app.feed_record(a).await.0.status.is_some());
    assert!(app.feed_record(b).await.0.status.is_some());
}

async fn a_revoked_token_stops_working_at_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let a = facility(1);
    app.store
        .upsert_batch(std::slice::from_ref(&a))
        .await
        .expect("facility");
    let (id, token) = enrolled(&app, Role::Reporter, &[a.0]).await;
    assert_eq!(me(&app, Some(&token)).await.status(), 200);
    let m = report_mutation(ReportId::new_v7(), &load_report(a.0, Utc::now(), 10));
    assert_eq!(app.push(&token, &[m]).await[0].outcome, Outcome::Applied);
    app.store.revoke_account(id).await.expect("revoke");
    assert_eq!(me(&app, Some(&token)).await.status(), 401);
    let m = report_mutation(ReportId::new_v7(), &load_report(a.0, Utc::now(), 10));
    let response = app
        .push_raw(Some(&token), "zh-CN", &json!({ "mutations": [m] }))
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(app.history(a.0).await.len(), 1);
    assert_eq!(
        app.store.revoke_account(id).await.expect("again"),
        RevokeOutcome::AlreadyRevoked
    );
    assert_eq!(
        app.store.revoke_account(9999).await.expect("none"),
        RevokeOutcome::NotFound
    );
}

crate::on_every_backend!(
    a_code_works_once_and_the_token_is_stored_hashed,
    expired_revoked_and_unknown_codes_fail_alike,
    a_badly_shaped_code_is_400_in_the_callers_language,
    enrollment_is_rate_limited_per_client,
    the_authorisation_matrix,
    a_revoked_token_stops_working_at_once,
);

fn cli(database: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .arg("--database")
        .arg(database)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run caremap-server");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The value of the line `<prefix><value>`, as the README tells scripts to parse it.
fn line_value<'a>(stdout: &'a str, prefix: &str) -> Option<&'a str> {
    stdout.lines().find_map(|l| l.strip_prefix(prefix))
}

#[tokio::test]
async fn the_user_command_line() {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let store = db.store().await;
    let a = facility(1);
    store
        .upsert_batch(std::slice::from_ref(&a))
        .await
        .expect("facility");
    let a = a.0.to_string();
    let unknown = facility(2).0.to_string();

    let (ok, _, err) = cli(
        &db.url,
        &[
            "user",
            "add",
            "--name",
            "王医生",
            "--role",
            "reporter",
            "--facility",
            &unknown,
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("unknown or deleted facility") && err.contains("机构不存在"),
        "{err}"
    );
    let (ok, _, err) = cli(
        &db.url,
        &["user", "add", "--name", "王医生", "--role", "reporter"],
    );
    assert!(!ok);
    assert!(err.contains("at least one --facility"), "{err}");
    let (ok, _, err) = cli(&db.url, &["user", "add", "--name", "x", "--role", "doctor"]);
    assert!(!ok, "{err}");
    assert!(
        store.accounts().await.expect("accounts").is_empty(),
        "nothing created"
    );

    let (ok, out, err) = cli(
        &db.url,
        &[
            "user",
            "add",
            "--name",
            "王医生",
            "--role",
            "reporter",
            "--facility",
            &a,
            "--township",
            "马渚镇",
        ],
    );
    assert!(ok, "{err}");
    let id: i64 = line_value(&out, "account: ")
        .expect("account line")
        .parse()
        .expect("id");
    let code = line_value(&out, "code: ").expect("code line");
    assert_eq!(code.len(), 14, "{out}");
    assert!(
        code.chars().enumerate().all(|(i, c)| if i == 4 || i == 9 {
            c == '-'
        } else {
            c.is_ascii_alphanumeric() && !c.is_ascii_lowercase()
        }),
        "{code}"
    );
    assert!(
        out.contains("注册码") && out.contains("enrollment code"),
        "{out}"
    );
    let parsed = EnrollmentCode::parse(code).expect("the printed code parses");
    let account = store
        .enroll(
            &auth::code_hash(&parsed),
            &auth::sha256_hex("cm_test-token"),
            None,
        )
        .await
        .expect("enroll")
        .expect("the code works");
    assert_eq!(account.id, id);
    assert_eq!(account.scope.townships, ["马渚镇"]);

    let (ok, out, _) = cli(&db.url, &["user", "list"]);
    assert!(ok);
    let row = out
        .lines()
        .find(|l| l.starts_with(&format!("{id}\t")))
        .expect("row");
    let cols: Vec<_> = row.split('\t').collect();
    assert_eq!(cols[1..3], ["王医生", "reporter"]);
    assert_eq!(cols[3], format!("facilities={a} townships=马渚镇"));
    assert_eq!(cols[4], "1", "one active device");
    assert_eq!(cols[5], "-");

    // A fresh code for a lost phone: the old device is signed out.
    let (ok, out, err) = cli(&db.url, &["user", "code", &id.to_string()]);
    assert!(ok, "{err}");
    let fresh = line_value(&out, "code: ").expect("code line");
    assert_ne!(fresh, code);
    assert!(store
        .authenticate(&auth::sha256_hex("cm_test-token"))
        .await
        .expect("auth")
        .is_none());

    let (ok, out, _) = cli(&db.url, &["user", "revoke", &id.to_string()]);
    assert!(ok, "{out}");
    let (_, out, _) = cli(&db.url, &["user", "list"]);
    let row = out
        .lines()
        .find(|l| l.starts_with(&format!("{id}\t")))
        .expect("row");
    assert_ne!(row.split('\t').nth(5), Some("-"), "{row}");
    let (ok, _, err) = cli(&db.url, &["user", "code", &id.to_string()]);
    assert!(!ok, "{err}");
    let fresh = EnrollmentCode::parse(fresh).expect("parses");
    assert!(store
        .enroll(
            &auth::code_hash(&fresh),
            &auth::sha256_hex("cm_other"),
            None
        )
        .await
        .expect("enroll")
        .is_none());
    let (ok, _, _) = cli(&db.url, &["user", "revoke", "4242"]);
    assert!(!ok);
}
