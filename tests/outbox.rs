//! Browser tests of the outbox (IndexedDB) and its sender, in headless Chromium, against a
//! scripted push server. Each test uses a fresh database name and deletes it first.
#![cfg(target_arch = "wasm32")]
// A test binary: a panic is the failure report (clippy does not see wasm_bindgen_test fns as tests).
#![allow(clippy::unwrap_used)]

use caremap::api::ApiError;
use caremap::outbox::{send_pending, PushTransport};
use caremap::store::{
    stores, AccountRecord, OutboxEntry, OutboxState, ReportAuthor, Store, SCHEMA_VERSION,
};
use caremap_model::push::{codes, MAX_BATCH};
use caremap_model::{
    AccountInfo, Cursor, Facility, FacilityId, FacilityKind, FacilityRecord, Lang, LatLon,
    LoadReport, Mutation, MutationError, MutationResult, Name, Names, Outcome, PushRequest,
    PushResponse, ReportDraft, ReportId, Role, Scope,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use uuid::Uuid;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).single().unwrap()
}

fn facility_id() -> FacilityId {
    FacilityId::from(Uuid::from_u128(7))
}

/// A report whose outpatient count tells it apart.
fn report(outpatients: u32) -> LoadReport {
    ReportDraft {
        status: "open".into(),
        outpatients_today: outpatients.to_string(),
        fever_patients_today: "1".into(),
        wait_minutes: "20".into(),
        ..Default::default()
    }
    .parse(facility_id(), now(), None)
    .unwrap()
}

/// A fresh database for one test.
async fn fresh(name: &str) -> Store {
    Store::delete(name).await.unwrap();
    Store::open(name).await.unwrap()
}

/// A reporter account for `facility_id()`.
fn doctor(id: i64, name: &str) -> AccountInfo {
    AccountInfo {
        id,
        name: name.into(),
        role: Role::Reporter,
        scope: Scope {
            facilities: vec![facility_id()],
            townships: vec![],
        },
    }
}

/// The account most tests write and send with.
fn wang() -> AccountInfo {
    doctor(4, "王医生")
}

/// Another doctor, for a phone passed on.
fn li() -> AccountInfo {
    doctor(9, "李医生")
}

/// Writes `n` reports by `wang()` to the outbox, one after the other; returns their ids in
/// that order.
async fn write(store: &Store, n: u32) -> Vec<ReportId> {
    write_as(store, n, &wang()).await
}

/// Writes `n` reports by `account` to the outbox; returns their ids in the order written.
async fn write_as(store: &Store, n: u32, account: &AccountInfo) -> Vec<ReportId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = ReportId::new_v7();
        store
            .add_to_outbox(id, &report(100 + i), now(), account, None)
            .await
            .unwrap();
        ids.push(id);
    }
    ids
}

/// What the scripted server does with the next push.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Answers every mutation.
    Answer,
    /// The network fails before the server sees anything.
    Fail,
    /// The server stores the batch, but its answer is lost on the way back.
    LoseAnswer,
    /// 401: the phone's token was revoked.
    Unauthorized,
}

/// A push server with idempotency like the real one: an id it stored answers `duplicate`; ids
/// in `refuse` are rejected. It checks that every mutation it receives is in the outbox already.
struct ScriptedServer<'a> {
    outbox: &'a Store,
    next: RefCell<Vec<Next>>,
    refuse: RefCell<HashSet<Uuid>>,
    /// Every id stored, once each, in the order stored.
    stored: RefCell<Vec<Uuid>>,
    /// The ids of every push received, one list per push.
    requests: RefCell<Vec<Vec<Uuid>>>,
    /// The body of every push received, as the text it came in.
    bodies: RefCell<Vec<String>>,
    langs: RefCell<Vec<Lang>>,
    written_before_send: Cell<bool>,
}

impl<'a> ScriptedServer<'a> {
    fn new(outbox: &'a Store) -> Self {
        ScriptedServer {
            outbox,
            next: RefCell::new(Vec::new()),
            refuse: RefCell::new(HashSet::new()),
            stored: RefCell::new(Vec::new()),
            requests: RefCell::new(Vec::new()),
            bodies: RefCell::new(Vec::new()),
            langs: RefCell::new(Vec::new()),
            written_before_send: Cell::new(true),
        }
    }

    fn then(&self, next: Next) -> &Self {
        self.next.borrow_mut().push(next);
        self
    }
}

impl PushTransport for ScriptedServer<'_> {
    async fn push(&self, body: &str, lang: Lang) -> Result<PushResponse, ApiError> {
        let request: PushRequest =
            serde_json::from_str(body).expect("a push body is a PushRequest");
        self.bodies.borrow_mut().push(body.to_owned());
        let mutations = &request.mutations[..];
        let held: Vec<Uuid> = self
            .outbox
            .outbox()
            .await
            .unwrap()
            .iter()
            .filter(|e| e.is_pending())
            .map(|e| e.id.as_uuid())
            .collect();
        if !mutations.iter().all(|m| held.contains(&m.id)) {
            self.written_before_send.set(false);
        }
        let next = {
            let mut script = self.next.borrow_mut();
            if script.is_empty() {
                Next::Answer
            } else {
                script.remove(0)
            }
        };
        self.langs.borrow_mut().push(lang);
        match next {
            Next::Fail => return Err(ApiError::Network("connection reset".into())),
            Next::Unauthorized => {
                return Err(ApiError::server(401, "unauthenticated", "请重新登记"))
            }
            Next::Answer | Next::LoseAnswer => {}
        }
        self.requests
            .borrow_mut()
            .push(mutations.iter().map(|m| m.id).collect());

        let results = mutations
            .iter()
            .map(|m| {
                assert!(m.parse().is_ok(), "the phone sends only valid reports");
                if self.refuse.borrow().contains(&m.id) {
                    return MutationResult {
                        id: m.id,
                        outcome: Outcome::Rejected,
                        error: Some(MutationError::forbidden_facility().in_lang(lang)),
                    };
                }
                let outcome = if self.stored.borrow().contains(&m.id) {
                    Outcome::Duplicate
                } else {
                    self.stored.borrow_mut().push(m.id);
                    Outcome::Applied
                };
                MutationResult {
                    id: m.id,
                    outcome,
                    error: None,
                }
            })
            .collect();
        if next == Next::LoseAnswer {
            return Err(ApiError::Network("timed out".into()));
        }
        Ok(PushResponse { results })
    }
}

fn uuids(ids: &[ReportId]) -> Vec<Uuid> {
    ids.iter().map(|id| id.as_uuid()).collect()
}

#[wasm_bindgen_test]
async fn a_report_is_in_the_outbox_before_anything_is_sent_and_survives_reopening() {
    let name = "caremap-test-outbox-written-first";
    let store = fresh(name).await;
    let ids = write(&store, 1).await;
    let held = store.outbox().await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].state, OutboxState::Pending);
    assert_eq!(held[0].report, report(100));
    assert_eq!(
        held[0].account,
        Some(ReportAuthor {
            id: 4,
            name: "王医生".into()
        })
    );
    store.close();

    // The browser was closed before any network: the report is still there.
    let store = Store::open(name).await.unwrap();
    let held = store.outbox().await.unwrap();
    assert_eq!(
        uuids(&held.iter().map(|e| e.id).collect::<Vec<_>>()),
        uuids(&ids)
    );

    let server = ScriptedServer::new(&store);
    let summary = send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!((summary.sent, summary.rejected, summary.batches), (1, 0, 1));
    assert!(server.written_before_send.get());
    assert_eq!(*server.langs.borrow(), [Lang::Zh]);
    assert!(store.outbox().await.unwrap().is_empty());
    let sent = store.sent_reports().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, ids[0]);
    assert_eq!(sent[0].report, report(100));
    assert_eq!(sent[0].sent_at, now());
}

#[wasm_bindgen_test]
async fn a_transient_failure_keeps_reports_pending_and_retries_store_each_once() {
    let store = fresh("caremap-test-outbox-transient").await;
    let ids = write(&store, 3).await;
    let server = ScriptedServer::new(&store);
    server.then(Next::Fail).then(Next::LoseAnswer);

    // Offline: nothing reached the server, everything stays.
    let err = send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert!(server.stored.borrow().is_empty());
    let held = store.outbox().await.unwrap();
    assert_eq!(held.len(), 3);
    assert!(held.iter().all(|e| e.is_pending()));

    // The server stored them but its answer was lost: still pending on the phone.
    let err = send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert_eq!(*server.stored.borrow(), uuids(&ids));
    assert_eq!(store.outbox().await.unwrap().len(), 3);
    assert!(store.sent_reports().await.unwrap().is_empty());

    // The retry is answered `duplicate`: acknowledged, so they leave the outbox.
    let summary = send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!(summary.sent, 3);
    assert!(store.outbox().await.unwrap().is_empty());
    assert_eq!(store.sent_reports().await.unwrap().len(), 3);
    // Stored exactly once each, and the same body every time (the id was never "reused").
    assert_eq!(*server.stored.borrow(), uuids(&ids));
    assert!(server.written_before_send.get());
}

#[wasm_bindgen_test]
async fn applied_and_duplicate_both_leave_the_outbox_for_the_history() {
    let store = fresh("caremap-test-outbox-ack").await;
    let ids = write(&store, 2).await;
    let server = ScriptedServer::new(&store);
    // The server already has the first (sent from another tab, say).
    server.stored.borrow_mut().push(ids[0].as_uuid());
    let summary = send_pending(&store, &server, &wang(), Lang::En, now)
        .await
        .unwrap();
    assert_eq!(summary.sent, 2);
    assert!(store.outbox().await.unwrap().is_empty());
    let mut sent: Vec<Uuid> = store
        .sent_reports()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id.as_uuid())
        .collect();
    sent.sort();
    let mut expected = uuids(&ids);
    expected.sort();
    assert_eq!(sent, expected);
    // Nothing more to send: no push at all.
    let summary = send_pending(&store, &server, &wang(), Lang::En, now)
        .await
        .unwrap();
    assert_eq!(summary.batches, 0);
}

#[wasm_bindgen_test]
async fn a_rejected_report_stays_with_its_reason_and_does_not_block_the_others() {
    let store = fresh("caremap-test-outbox-rejected").await;
    let ids = write(&store, 3).await;
    let server = ScriptedServer::new(&store);
    server.refuse.borrow_mut().insert(ids[1].as_uuid());
    let summary = send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!((summary.sent, summary.rejected), (2, 1));
    let held = store.outbox().await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].id, ids[1]);
    match &held[0].state {
        OutboxState::Rejected {
            code,
            message,
            lang,
            ..
        } => {
            assert_eq!(code, codes::FORBIDDEN_FACILITY);
            assert_eq!(message, "您的账号不能为该机构填报");
            assert_eq!(*lang, Lang::Zh);
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(store.sent_reports().await.unwrap().len(), 2);

    // A refused report is not resent as it is.
    let pushes = server.requests.borrow().len();
    send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!(server.requests.borrow().len(), pushes);

    // Fixed: a new report with a new id replaces it in one step, and goes.
    let fixed = ReportId::new_v7();
    store
        .add_to_outbox(fixed, &report(150), now(), &wang(), Some(ids[1]))
        .await
        .unwrap();
    let held = store.outbox().await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].id, fixed);
    assert!(held[0].is_pending());
    send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert!(store.outbox().await.unwrap().is_empty());
    assert_eq!(store.sent_reports().await.unwrap().len(), 3);
}

#[wasm_bindgen_test]
async fn a_discarded_report_is_gone() {
    let store = fresh("caremap-test-outbox-discard").await;
    let ids = write(&store, 2).await;
    store.discard(ids[0]).await.unwrap();
    let held = store.outbox().await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].id, ids[1]);
}

#[wasm_bindgen_test]
async fn reports_go_in_the_order_written_in_batches_of_at_most_max_batch() {
    let store = fresh("caremap-test-outbox-order").await;
    let total = MAX_BATCH as u32 + 30;
    let ids = write(&store, total).await;
    let server = ScriptedServer::new(&store);
    let summary = send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!(summary.batches, 2);
    assert_eq!(summary.sent, total);
    let requests = server.requests.borrow().clone();
    assert_eq!(requests[0].len(), MAX_BATCH);
    assert_eq!(requests[1].len(), 30);
    let sent_order: Vec<Uuid> = requests.iter().flatten().copied().collect();
    assert_eq!(sent_order, uuids(&ids));
    let history = store.sent_reports().await.unwrap();
    assert_eq!(history.len(), total as usize);
}

#[wasm_bindgen_test]
async fn a_revoked_phone_keeps_every_report() {
    let store = fresh("caremap-test-outbox-revoked").await;
    write(&store, 2).await;
    let server = ScriptedServer::new(&store);
    server.then(Next::Unauthorized);
    let err = send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    assert!(!err.is_transient());
    let held = store.outbox().await.unwrap();
    assert_eq!(held.len(), 2);
    assert!(held.iter().all(|e| e.is_pending()));
}

#[wasm_bindgen_test]
async fn the_account_is_kept_and_forgotten_without_touching_the_outbox() {
    let store = fresh("caremap-test-account").await;
    assert_eq!(store.account().await.unwrap(), None);
    let record = AccountRecord {
        token: "t0k3n".into(),
        account: wang(),
        enrolled_at: now(),
        revoked: false,
    };
    store.save_account(&record).await.unwrap();
    write(&store, 1).await;
    assert_eq!(store.account().await.unwrap(), Some(record));
    store.forget_account().await.unwrap();
    assert_eq!(store.account().await.unwrap(), None);
    assert_eq!(store.outbox().await.unwrap().len(), 1);
}

/// The phone after 王医生 signed out with two reports unsent and 李医生 enrolled and wrote one:
/// returns the store, 王医生's ids and 李医生's id.
async fn passed_on(name: &str) -> (Store, Vec<ReportId>, ReportId) {
    let store = fresh(name).await;
    store
        .save_account(&AccountRecord {
            token: "wang-token".into(),
            account: wang(),
            enrolled_at: now(),
            revoked: false,
        })
        .await
        .unwrap();
    let wangs = write(&store, 2).await;
    store.forget_account().await.unwrap();
    store
        .save_account(&AccountRecord {
            token: "li-token".into(),
            account: li(),
            enrolled_at: now(),
            revoked: false,
        })
        .await
        .unwrap();
    let lis = write_as(&store, 1, &li()).await;
    (store, wangs, lis[0])
}

fn ids_of(entries: &[OutboxEntry]) -> Vec<Uuid> {
    entries.iter().map(|e| e.id.as_uuid()).collect()
}

#[wasm_bindgen_test]
async fn reports_of_a_signed_out_account_are_not_sent_with_another_accounts_token() {
    let (store, wangs, lis) = passed_on("caremap-test-outbox-other-account").await;
    let held_before: Vec<OutboxEntry> = store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| wangs.contains(&e.id))
        .collect();
    assert_eq!(held_before.len(), 2);

    // The server behind 李医生's token receives 李医生's report, and only it.
    let li_server = ScriptedServer::new(&store);
    let summary = send_pending(&store, &li_server, &li(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!((summary.batches, summary.sent, summary.rejected), (1, 1, 0));
    assert_eq!(*li_server.requests.borrow(), [vec![lis.as_uuid()]]);
    assert_eq!(*li_server.stored.borrow(), [lis.as_uuid()]);

    // 王医生's stay exactly as they were: pending, his, untouched; none in the history.
    let held = store.outbox().await.unwrap();
    assert_eq!(held, held_before);
    assert!(held.iter().all(|e| e.is_pending()));
    assert!(held
        .iter()
        .all(|e| e.account.as_ref().map(|a| a.id) == Some(wang().id)));
    let history = store.sent_reports().await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].id, lis);

    // Asked again, 李医生's token has nothing to send: no push at all, nothing counted.
    let summary = send_pending(&store, &li_server, &li(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!(summary, Default::default());
    assert_eq!(li_server.requests.borrow().len(), 1);
    assert_eq!(store.outbox().await.unwrap(), held_before);
}

#[wasm_bindgen_test]
async fn reports_held_for_an_account_go_once_it_is_enrolled_again() {
    let (store, wangs, lis) = passed_on("caremap-test-outbox-account-back").await;
    let li_server = ScriptedServer::new(&store);
    send_pending(&store, &li_server, &li(), Lang::Zh, now)
        .await
        .unwrap();

    // 李医生 signs out; 王医生 enrolls again on the phone (a new code: a new token, the same
    // account).
    store.forget_account().await.unwrap();
    store
        .save_account(&AccountRecord {
            token: "wang-token-2".into(),
            account: wang(),
            enrolled_at: now(),
            revoked: false,
        })
        .await
        .unwrap();
    let wang_server = ScriptedServer::new(&store);
    let summary = send_pending(&store, &wang_server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!((summary.batches, summary.sent, summary.rejected), (1, 2, 0));
    // His two, in the order written, and nothing of 李医生's.
    assert_eq!(*wang_server.requests.borrow(), [uuids(&wangs)]);
    assert!(!wang_server.stored.borrow().contains(&lis.as_uuid()));
    assert_eq!(li_server.requests.borrow().len(), 1);
    assert!(wang_server.written_before_send.get());
    assert!(store.outbox().await.unwrap().is_empty());
    let mut history: Vec<Uuid> = store
        .sent_reports()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id.as_uuid())
        .collect();
    history.sort();
    let mut expected = uuids(&wangs);
    expected.push(lis.as_uuid());
    expected.sort();
    assert_eq!(history, expected);
}

/// An outbox entry as stored before entries recorded their account.
#[derive(serde::Serialize)]
struct EntryWithoutAccount {
    id: ReportId,
    seq: u64,
    report: LoadReport,
    recorded_at: DateTime<Utc>,
    state: OutboxState,
}

#[wasm_bindgen_test]
async fn the_account_replacing_a_revoked_one_takes_over_its_unsent_reports_only() {
    let store = fresh("caremap-test-outbox-replaced").await;
    // 李医生 signed out earlier with one report unsent; then 王医生 enrolled and wrote two.
    let lis = write_as(&store, 1, &li()).await;
    let wangs = write(&store, 2).await;
    let revoked = AccountRecord {
        token: "wang-token".into(),
        account: wang(),
        enrolled_at: now(),
        revoked: true,
    };
    store.save_account(&revoked).await.unwrap();

    // The health office revoked 王医生's account and gave him a new one (another id).
    let new_wang = doctor(12, "王医生");
    let replacement = AccountRecord {
        token: "wang-new-token".into(),
        account: new_wang.clone(),
        enrolled_at: now(),
        revoked: false,
    };
    store
        .save_account_replacing(&replacement, Some(wang().id))
        .await
        .unwrap();
    assert_eq!(store.account().await.unwrap(), Some(replacement));
    let entries = store.outbox().await.unwrap();
    let author = |id: &ReportId| {
        entries
            .iter()
            .find(|e| e.id == *id)
            .and_then(|e| e.account.as_ref())
            .map(|a| a.id)
    };
    assert_eq!(
        wangs.iter().map(author).collect::<Vec<_>>(),
        [Some(12), Some(12)]
    );
    // Another account's report is not his to take.
    assert_eq!(author(&lis[0]), Some(li().id));

    // The new account sends the two, in the order written, and leaves 李医生's.
    let server = ScriptedServer::new(&store);
    let summary = send_pending(&store, &server, &new_wang, Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!((summary.sent, summary.rejected), (2, 0));
    assert_eq!(*server.stored.borrow(), uuids(&wangs));
    assert_eq!(ids_of(&store.outbox().await.unwrap()), uuids(&lis));
}

#[wasm_bindgen_test]
async fn reports_stored_before_accounts_were_recorded_go_with_the_enrolled_account() {
    let name = "caremap-test-outbox-no-account";
    fresh(name).await.close();
    // Two reports written by an older version of the app: no account in them.
    let old: Vec<ReportId> = (0..2).map(|_| ReportId::new_v7()).collect();
    let db = Database::open(name).await.unwrap();
    let tx = db
        .transaction(stores::OUTBOX)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    for (n, id) in old.iter().enumerate() {
        tx.object_store(stores::OUTBOX)
            .unwrap()
            .put(&EntryWithoutAccount {
                id: *id,
                seq: n as u64 + 1,
                report: report(200 + n as u32),
                recorded_at: now(),
                state: OutboxState::Pending,
            })
            .serde()
            .unwrap();
    }
    tx.commit().await.unwrap();
    db.close();

    let store = Store::open(name).await.unwrap();
    let held = store.outbox().await.unwrap();
    assert_eq!(ids_of(&held), uuids(&old));
    assert!(held.iter().all(|e| e.account.is_none() && e.is_pending()));
    // 李医生 writes one after them (the phone was passed on before the update, say).
    let lis = write_as(&store, 1, &li()).await;

    // Sent with 李医生's token, the one enrolled now: the old ones first, then his; the server
    // refuses the second old one.
    let server = ScriptedServer::new(&store);
    server.refuse.borrow_mut().insert(old[1].as_uuid());
    let summary = send_pending(&store, &server, &li(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!((summary.batches, summary.sent, summary.rejected), (1, 2, 1));
    assert_eq!(
        *server.requests.borrow(),
        [vec![old[0].as_uuid(), old[1].as_uuid(), lis[0].as_uuid()]]
    );
    assert_eq!(
        *server.stored.borrow(),
        [old[0].as_uuid(), lis[0].as_uuid()]
    );

    // The refused one stays, now as 李医生's (his token sent it); the others are history.
    let held = store.outbox().await.unwrap();
    assert_eq!(ids_of(&held), [old[1].as_uuid()]);
    assert!(matches!(held[0].state, OutboxState::Rejected { .. }));
    assert_eq!(held[0].account, Some(ReportAuthor::from(&li())));
    assert_eq!(store.sent_reports().await.unwrap().len(), 2);

    // 王医生's token later finds nothing of his to send, and leaves the refused one alone.
    let wang_server = ScriptedServer::new(&store);
    let summary = send_pending(&store, &wang_server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!(summary, Default::default());
    assert!(wang_server.requests.borrow().is_empty());
    assert_eq!(store.outbox().await.unwrap(), held);
}

#[wasm_bindgen_test]
async fn a_correction_and_a_time_check_use_the_model() {
    // The phone refuses what the server would: a report as of two hours ahead.
    let ahead = report(10);
    assert_eq!(
        ahead
            .check_time(now() - Duration::hours(2))
            .unwrap_err()
            .code(),
        "in_future"
    );
    let original = ReportId::new_v7();
    let correction = ReportDraft::from_report(&report(10))
        .parse(facility_id(), now(), Some(original))
        .unwrap();
    assert_eq!(correction.supersedes, Some(original));
    let mutation = Mutation::load_report(ReportId::new_v7(), &correction, now());
    assert!(mutation.parse().is_ok());
}

fn facility() -> Facility {
    Facility {
        kind: FacilityKind::VillageClinic,
        name: Names {
            zh: Name::parse_for("迁移村卫生室", caremap_model::Field::Name).unwrap(),
            en: None,
        },
        location: LatLon::new(30.0, 121.1).unwrap(),
        address: None,
        area: Default::default(),
        phone: None,
        opening_hours: None,
        services: Default::default(),
        capacity: Default::default(),
        operational: Default::default(),
        mobile: false,
        external_ids: Default::default(),
    }
}

#[wasm_bindgen_test]
async fn a_version_1_database_is_upgraded_keeping_the_registry_and_its_cursor() {
    let name = "caremap-test-migrate-v1";
    Store::delete(name).await.unwrap();
    // The schema as version 1 made it, with a facility and a cursor in it.
    let db = Database::open(name)
        .with_version(1u32)
        .with_on_upgrade_needed(|_event, db| {
            db.create_object_store(stores::FACILITIES)
                .with_key_path("id".into())
                .build()?
                .create_index("by_kind", "facility.kind".into())
                .build()?;
            db.create_object_store(stores::META).build()?;
            db.create_object_store(stores::OUTBOX)
                .with_key_path("id".into())
                .build()?;
            Ok(())
        })
        .await
        .unwrap();
    let record = FacilityRecord {
        id: facility_id(),
        version: 3,
        updated_at: now(),
        deleted: false,
        facility: Some(facility()),
        status: None,
    };
    let meta = caremap::store::SyncMeta {
        cursor: Cursor::from_seq(42),
        last_complete: Some(now()),
    };
    let tx = db
        .transaction([stores::FACILITIES, stores::META])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    tx.object_store(stores::FACILITIES)
        .unwrap()
        .put(&record)
        .serde()
        .unwrap();
    tx.object_store(stores::META)
        .unwrap()
        .put(&meta)
        .with_key("registry_sync")
        .without_key_type()
        .serde()
        .unwrap();
    tx.commit().await.unwrap();
    db.close();

    let store = Store::open(name).await.unwrap();
    assert_eq!(SCHEMA_VERSION, 2);
    let mut names = store.store_names();
    names.sort();
    assert_eq!(
        names,
        [
            stores::FACILITIES,
            stores::META,
            stores::OUTBOX,
            stores::REPORTS
        ]
    );
    assert_eq!(store.facilities().await.unwrap(), vec![record]);
    assert_eq!(store.sync_meta().await.unwrap(), meta);
    // And the new stores work.
    write(&store, 1).await;
    assert_eq!(store.outbox().await.unwrap().len(), 1);
    assert!(store.sent_reports().await.unwrap().is_empty());
}

/// Replaces the outbox entry `entry` in database `name` as it is (bypassing the store's API),
/// as an older app would have left it.
async fn put_raw<T: serde::Serialize>(name: &str, entry: &T) {
    let db = Database::open(name).await.unwrap();
    let tx = db
        .transaction(stores::OUTBOX)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    tx.object_store(stores::OUTBOX)
        .unwrap()
        .put(entry)
        .serde()
        .unwrap();
    tx.commit().await.unwrap();
    db.close();
}

/// The push body of one mutation whose JSON is `json`.
fn body_of(json: &str) -> String {
    format!("{{\"mutations\":[{json}]}}")
}

#[wasm_bindgen_test]
async fn a_resend_carries_the_bytes_the_report_was_saved_with() {
    let name = "caremap-test-outbox-same-bytes";
    let store = fresh(name).await;
    let ids = write(&store, 1).await;
    let saved = store.outbox().await.unwrap().remove(0);
    let json = saved
        .mutation_json
        .clone()
        .expect("the bytes are kept when saved");
    assert_eq!(
        serde_json::from_str::<Mutation>(&json).unwrap(),
        saved.mutation(),
        "they are the report's mutation"
    );
    store.close();

    // Bytes that this build would not write (as if an older app had saved them: other
    // spacing and order) are what goes, every time.
    let mut older = saved.clone();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let older_json = serde_json::to_string_pretty(&value).unwrap();
    assert_ne!(older_json, json);
    older.mutation_json = Some(older_json.clone());
    put_raw(name, &older).await;

    let store = Store::open(name).await.unwrap();
    let server = ScriptedServer::new(&store);
    server.then(Next::LoseAnswer).then(Next::Answer);
    assert!(send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap_err()
        .is_transient());
    // Meanwhile the doctor writes another: the resend goes in a batch of two.
    let more = write(&store, 1).await;
    let summary = send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!(summary.sent, 2);
    let bodies = server.bodies.borrow().clone();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], body_of(&older_json));
    let second = store.sent_reports().await.unwrap();
    assert_eq!(second.len(), 2);
    let more_json =
        serde_json::to_string(&Mutation::load_report(more[0], &report(100), now())).unwrap();
    assert_eq!(
        bodies[1],
        format!("{{\"mutations\":[{older_json},{more_json}]}}")
    );
    assert_eq!(*server.stored.borrow(), uuids(&[ids[0], more[0]]));
}

/// An outbox entry as stored before entries kept their mutation's bytes.
#[derive(serde::Serialize)]
struct EntryWithoutBytes {
    id: ReportId,
    seq: u64,
    report: LoadReport,
    recorded_at: DateTime<Utc>,
    state: OutboxState,
    account: Option<ReportAuthor>,
}

#[wasm_bindgen_test]
async fn entries_stored_without_bytes_are_serialized_once_then_always_resent_as_stored() {
    let name = "caremap-test-outbox-seal";
    fresh(name).await.close();
    let id = ReportId::new_v7();
    put_raw(
        name,
        &EntryWithoutBytes {
            id,
            seq: 1,
            report: report(300),
            recorded_at: now(),
            state: OutboxState::Pending,
            account: Some(ReportAuthor::from(&wang())),
        },
    )
    .await;

    let store = Store::open(name).await.unwrap();
    let held = store.outbox().await.unwrap();
    assert_eq!(held[0].mutation_json, None);
    assert_eq!(store.seal_outbox().await.unwrap(), 1);
    let sealed = store.outbox().await.unwrap().remove(0);
    let json = sealed.mutation_json.clone().expect("sealed");
    assert_eq!(json, serde_json::to_string(&sealed.mutation()).unwrap());
    // Once: sealing again changes nothing.
    assert_eq!(store.seal_outbox().await.unwrap(), 0);
    assert_eq!(
        store.outbox().await.unwrap()[0].mutation_json,
        Some(json.clone())
    );

    // The first send's answer is lost; the resend is the same bytes.
    let server = ScriptedServer::new(&store);
    server.then(Next::LoseAnswer).then(Next::Answer);
    send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap_err();
    send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap();
    assert_eq!(*server.bodies.borrow(), [body_of(&json), body_of(&json)]);
    assert_eq!(*server.stored.borrow(), uuids(&[id]));
    assert!(store.outbox().await.unwrap().is_empty());

    // A report left by an older app that is sent without an explicit seal is sealed by the
    // sender first, and sent with those bytes.
    let other = ReportId::new_v7();
    put_raw(
        name,
        &EntryWithoutBytes {
            id: other,
            seq: 2,
            report: report(301),
            recorded_at: now(),
            state: OutboxState::Pending,
            account: Some(ReportAuthor::from(&wang())),
        },
    )
    .await;
    let server = ScriptedServer::new(&store);
    server.then(Next::LoseAnswer);
    send_pending(&store, &server, &wang(), Lang::Zh, now)
        .await
        .unwrap_err();
    let kept = store.outbox().await.unwrap().remove(0);
    assert_eq!(
        server.bodies.borrow()[0],
        body_of(
            kept.mutation_json
                .as_deref()
                .expect("sealed before sending")
        )
    );
}
