//! Issue 17, "PostgreSQL concurrency" (run on SQLite too): two servers on one database — each
//! its own store, pools and push writer, as two `caremap-server` processes would be — while
//! readers page through both; one enrollment code traded twice at once; a revocation racing
//! pushes.

use crate::helpers::{
    enrolled, facility, load_report, report_mutation, spawn_app, Backend, TestApp,
};
use caremap_model::{
    EnrollmentCode, FacilityId, Mutation, Outcome, PushResponse, RegistryPage, ReportId, Role,
    Scope,
};
use caremap_server::store::{self, NewAccount, SharedStore};
use caremap_server::{AppState, ServerConfig};
use chrono::Utc;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A second server on the first one's database: its own store (pools, push writer), its own
/// app (caches, rate limits), its own port.
async fn second_server(first: &TestApp) -> (SharedStore, String) {
    let store = store::connect(&first.db.url).await.expect("second store");
    let state = AppState::new(
        store.clone(),
        ServerConfig {
            dist: crate::helpers::fixture_dist(),
            ..ServerConfig::default()
        },
    );
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
    (store, format!("http://{address}"))
}

/// Pushes one report through the server at `base`: the outcome, or the HTTP status.
async fn push_one(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    mutation: &Mutation,
) -> Result<Outcome, u16> {
    let response = client
        .post(format!("{base}/api/v1/push"))
        .bearer_auth(token)
        .json(&json!({ "mutations": [mutation] }))
        .send()
        .await
        .expect("push");
    if response.status() != 200 {
        return Err(response.status().as_u16());
    }
    let body: PushResponse = response.json().await.expect("push JSON");
    Ok(body.results[0].outcome)
}

async fn page(client: &reqwest::Client, base: &str, since: &str) -> RegistryPage {
    let response = client
        .get(format!("{base}/api/v1/registry?since={since}&limit=7"))
        .send()
        .await
        .expect("registry");
    assert_eq!(response.status(), 200);
    response.json().await.expect("page")
}

/// What a reader holds: each facility's version, and every (facility, version) it received.
#[derive(Default)]
struct Reader {
    versions: BTreeMap<FacilityId, u64>,
    seen: HashSet<(FacilityId, u64)>,
    cursor: String,
}

impl Reader {
    /// Pages from its cursor to the end of the feed, through `bases` in turn.
    async fn catch_up(&mut self, client: &reqwest::Client, bases: &[String], turn: &mut usize) {
        loop {
            let base = &bases[*turn % bases.len()];
            *turn += 1;
            let page = page(client, base, &self.cursor).await;
            for record in &page.items {
                assert!(
                    self.seen.insert((record.id, record.version)),
                    "{} version {} received twice",
                    record.id,
                    record.version
                );
                let before = self.versions.insert(record.id, record.version);
                assert!(
                    before.is_none_or(|v| v < record.version),
                    "a version went back"
                );
            }
            self.cursor = page.cursor.to_string();
            if !page.has_more {
                return;
            }
        }
    }
}

/// Two servers take pushes and registry edits at once while readers page through both (one
/// through each, one through both in turn). Every reader ends holding exactly what the
/// database holds: no change skipped (a number handed out before another but committed after
/// it would be), none received twice.
async fn readers_paging_while_two_servers_write_see_every_change_once(backend: Backend) {
    let Some(a) = spawn_app(backend).await else {
        return;
    };
    let (store_b, b) = second_server(&a).await;
    let base_a = a.url("");
    let facilities: Vec<_> = (1..=30).map(facility).collect();
    a.store.upsert_batch(&facilities).await.expect("registry");
    let ids: Vec<FacilityId> = facilities.iter().map(|(id, _)| *id).collect();
    let (_, token) = enrolled(&a, Role::Admin, &[]).await;

    let done = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (n, base) in [base_a.clone(), b.clone()].into_iter().enumerate() {
        let (client, token, ids) = (a.client.clone(), token.clone(), ids.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..40u32 {
                let facility = ids[(i as usize * 7 + n * 3) % ids.len()];
                let report = load_report(facility, Utc::now(), i + n as u32 * 100);
                let mutation = report_mutation(ReportId::new_v7(), &report);
                assert_eq!(
                    push_one(&client, &base, &token, &mutation).await,
                    Ok(Outcome::Applied)
                );
            }
        }));
    }
    {
        let store_b = store_b.clone();
        let mut edited = facilities.clone();
        writers.push(tokio::spawn(async move {
            for round in 0..10u32 {
                for (i, (_, f)) in edited.iter_mut().enumerate().filter(|(i, _)| i % 3 == 0) {
                    f.capacity.doctors = Some(round * 10 + i as u32 + 1);
                }
                store_b.upsert_batch(&edited).await.expect("edit");
            }
        }));
    }
    let mut readers = Vec::new();
    for bases in [
        vec![base_a.clone()],
        vec![b.clone()],
        vec![base_a.clone(), b.clone()],
    ] {
        let (client, done) = (a.client.clone(), Arc::clone(&done));
        readers.push(tokio::spawn(async move {
            let mut reader = Reader::default();
            let mut turn = 0;
            loop {
                let last = done.load(Ordering::SeqCst);
                reader.catch_up(&client, &bases, &mut turn).await;
                if last {
                    return reader;
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    done.store(true, Ordering::SeqCst);
    let truth: BTreeMap<FacilityId, u64> = a
        .store
        .registry_page(
            Default::default(),
            caremap_model::PageLimit::clamped(Some(5000)),
        )
        .await
        .expect("feed")
        .items
        .into_iter()
        .map(|r| (r.id, r.version))
        .collect();
    assert!(
        truth.values().any(|v| *v > 5),
        "the writers changed the registry"
    );
    for reader in readers {
        let reader = reader.await.expect("reader");
        assert_eq!(reader.versions, truth, "a reader missed a change");
    }
}

/// One enrollment code sent by two phones at once, to two servers: one token, one refusal
/// for every other attempt.
async fn one_code_enrolled_twice_at_once_gives_one_token(backend: Backend) {
    let Some(a) = spawn_app(backend).await else {
        return;
    };
    let (_store_b, b) = second_server(&a).await;
    let code: EnrollmentCode = caremap_server::auth::new_enrollment_code().expect("code");
    let account = a
        .store
        .create_account(
            &NewAccount {
                name: "王医生".into(),
                role: Role::Outreach,
                scope: Scope::default(),
            },
            &caremap_server::auth::code_hash(&code),
            Utc::now() + chrono::Duration::days(7),
        )
        .await
        .expect("account");
    let mut attempts = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 { a.url("") } else { b.clone() };
        let (client, code) = (a.client.clone(), code.display());
        attempts.push(tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/enroll"))
                .json(&json!({ "code": code, "device": format!("phone {i}") }))
                .send()
                .await
                .expect("enroll")
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("attempt"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401, 401, 401, 401, 401, 401, 401]);
    let summary = a
        .store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|s| s.account.id == account.id)
        .expect("the account");
    assert_eq!(summary.active_devices, 1);
}

/// Phones push through both servers while the account is revoked: once the revocation has
/// returned, nothing more of that account is stored (a push that read the token before the
/// revocation committed either committed before it or did not write), every push answered
/// `applied` is stored, and none answered 401 is.
async fn a_revocation_racing_pushes_lets_nothing_write_after_it(backend: Backend) {
    let Some(a) = spawn_app(backend).await else {
        return;
    };
    let (_store_b, b) = second_server(&a).await;
    let (id, f) = facility(1);
    a.store.upsert_batch(&[(id, f)]).await.expect("facility");
    let (account, token) = enrolled(&a, Role::Reporter, &[id]).await;
    let applied = Arc::new(AtomicUsize::new(0));
    let mut pushers = Vec::new();
    for n in 0..4u32 {
        let base = if n % 2 == 0 { a.url("") } else { b.clone() };
        let (client, token, applied) = (a.client.clone(), token.clone(), Arc::clone(&applied));
        pushers.push(tokio::spawn(async move {
            let mut stored = Vec::new();
            for i in 0..300u32 {
                let report = load_report(id, Utc::now(), i % 90 + n);
                let mutation = report_mutation(ReportId::new_v7(), &report);
                match push_one(&client, &base, &token, &mutation).await {
                    Ok(Outcome::Applied) => {
                        stored.push(mutation.id);
                        applied.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(401) => return (stored, Some(mutation.id)),
                    other => panic!("unexpected answer {other:?}"),
                }
            }
            (stored, None)
        }));
    }
    while applied.load(Ordering::SeqCst) < 12 {
        tokio::task::yield_now().await;
    }
    a.store.revoke_account(account).await.expect("revoke");
    let at_revocation: HashSet<_> = a.history(id).await.into_iter().map(|r| r.id).collect();

    let mut answered_applied = HashSet::new();
    let mut refused = HashSet::new();
    for pusher in pushers {
        let (stored, refused_id) = pusher.await.expect("pusher");
        let refused_id = refused_id.expect("every phone is signed out in the end");
        refused.insert(ReportId::from(refused_id));
        answered_applied.extend(stored.into_iter().map(ReportId::from));
    }
    let in_the_end: HashSet<_> = a.history(id).await.into_iter().map(|r| r.id).collect();
    assert_eq!(
        in_the_end, at_revocation,
        "nothing was stored after the revocation"
    );
    assert_eq!(
        in_the_end, answered_applied,
        "stored is what was acknowledged"
    );
    assert!(refused.is_disjoint(&in_the_end));
}

/// A `caremap-server serve` process, killed when dropped.
struct Process(std::process::Child, String);

impl Drop for Process {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// Starts `caremap-server serve` on `database` at a free port; its base URL is `.1`.
async fn start_process(database: &str) -> Process {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_caremap-server"))
        .args(["serve", "--addr", "127.0.0.1:0", "--database", database])
        .arg("--dist")
        .arg(crate::helpers::fixture_dist())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start caremap-server");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .expect("reader")
    .expect("a line");
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    Process(child, url)
}

/// Two real `caremap-server` processes on one database: a phone enrolled through one pushes
/// through both; each serves every report once, the same facility status, and takes the
/// other's cursors.
async fn two_server_processes_on_one_database_serve_every_push_once(backend: Backend) {
    let Some(db) = crate::helpers::TestDb::new(backend).await else {
        return;
    };
    let store = db.store().await;
    let (id, f) = facility(1);
    store.upsert_batch(&[(id, f)]).await.expect("facility");
    let code = caremap_server::auth::new_enrollment_code().expect("code");
    store
        .create_account(
            &NewAccount {
                name: "王医生".into(),
                role: Role::Reporter,
                scope: Scope {
                    facilities: vec![id],
                    townships: Vec::new(),
                },
            },
            &caremap_server::auth::code_hash(&code),
            Utc::now() + chrono::Duration::days(7),
        )
        .await
        .expect("account");
    let (one, two) = (start_process(&db.url).await, start_process(&db.url).await);
    let client = reqwest::Client::new();
    let enrolled: caremap_model::EnrollResponse = client
        .post(format!("{}/api/v1/enroll", one.1))
        .json(&json!({ "code": code.display() }))
        .send()
        .await
        .expect("enroll")
        .json()
        .await
        .expect("token");
    let mut sent = Vec::new();
    let mut pushes = Vec::new();
    for i in 0..20u32 {
        let base = if i % 2 == 0 {
            one.1.clone()
        } else {
            two.1.clone()
        };
        let report = load_report(id, Utc::now() - chrono::Duration::minutes(i64::from(i)), i);
        let mutation = report_mutation(ReportId::new_v7(), &report);
        sent.push(ReportId::from(mutation.id));
        let (client, token) = (client.clone(), enrolled.token.clone());
        pushes.push(tokio::spawn(async move {
            push_one(&client, &base, &token, &mutation).await
        }));
    }
    for push in pushes {
        assert_eq!(push.await.expect("push"), Ok(Outcome::Applied));
    }
    let mut statuses = Vec::new();
    for base in [&one.1, &two.1] {
        let history: caremap_model::ReportHistory = client
            .get(format!("{base}/api/v1/facilities/{id}/reports"))
            .send()
            .await
            .expect("history")
            .json()
            .await
            .expect("history JSON");
        let mut got: Vec<ReportId> = history.reports.iter().map(|r| r.id).collect();
        got.sort_unstable();
        let mut want = sent.clone();
        want.sort_unstable();
        assert_eq!(got, want, "every report once, through {base}");
        let first = page(&client, base, "").await;
        statuses.push(first.items[0].status.clone().expect("a status"));
        // The other server takes this one's cursor.
        let other = if base == &one.1 { &two.1 } else { &one.1 };
        let next = page(&client, other, &first.cursor.to_string()).await;
        assert!(next.items.is_empty() && !next.has_more);
    }
    assert_eq!(statuses[0], statuses[1]);
    // The newest report (as of now, i = 0) gives the status.
    assert_eq!(statuses[0].report, sent[0]);
}

crate::on_every_backend!(
    two_server_processes_on_one_database_serve_every_push_once,
    readers_paging_while_two_servers_write_see_every_change_once,
    one_code_enrolled_twice_at_once_gives_one_token,
    a_revocation_racing_pushes_lets_nothing_write_after_it,
);
