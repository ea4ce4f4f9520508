//! Pushes (`POST /api/v1/push`): how a batch of mutations becomes stored reports, on both
//! backends.
//!
//! **What the handler does** ([`prepare`]): everything that needs no database. Each mutation is
//! parsed ([`Mutation::parse`]), its time checked against the server's clock, and its content
//! hashed ([`content_hash`]); the bearer token is hashed. The outcomes are kept, not acted on: a
//! retry of a mutation stored earlier must answer `duplicate` even when it would now be refused
//! (its report has grown older than 30 days, the facility was deleted since…).
//!
//! **What the store does** ([`PushQueue`], one writer task per store): it takes whatever pushes
//! are queued (up to [`GROUP_MAX_MUTATIONS`] mutations), applies them in one transaction and
//! commits once (*group commit*: one fsync acknowledges hundreds of reports), then answers every
//! waiting request. Inside the transaction ([`plan`], a pure function both backends share, over
//! what they read set-wise beforehand):
//! 0. the push's device token must be working (neither it nor its account revoked), or the
//!    whole push is answered 401 and nothing of it is looked at. Checking it here, in the
//!    transaction that writes, costs one read per group instead of one per request, and a token
//!    revoked before the commit cannot write;
//! 1. a mutation id stored before answers `duplicate` if its content hash is the same, else
//!    `rejected` `id_reused`;
//! 2. a mutation that does not parse is `rejected` with the parser's error; then the account is
//!    checked (a reporter only for the facilities of its scope, an admin for any, outreach teams
//!    not at all: `forbidden_facility`, `forbidden_role`), then the times (`recorded_at`:
//!    `too_early`, `in_future`; `as_of`: `in_future`, `too_old`);
//! 3. an unknown or deleted facility is `unknown_facility`; a `supersedes` that names no report
//!    of the same facility is `unknown_superseded`;
//! 4. otherwise the report and its idempotency record are written, and the report it corrects
//!    is marked superseded.
//!
//! Pushes are planned in queue order and each push's mutations in their order, and every check
//! sees what the mutations before it wrote, so a retry inside one group is a `duplicate` and a
//! correction may follow its report in the same push. All checks are made before anything is
//! written, so a rejected mutation writes nothing and never undoes the others: no savepoints
//! are needed. Then, once per group, each facility that got a report has its status recomputed
//! from its newest (by `as_of`, then receipt, then id) report within [`STATUS_WINDOW_DAYS`] that
//! no correction replaced; a facility whose status changed takes the next change-sequence number
//! and version + 1, so phones pull it like an edit.
//!
//! When a group's transaction fails on its data (a constraint, a value that does not encode or
//! decode) or the code panics on it, its pushes are retried one by one, so one push that trips
//! the database or the code fails alone (500 `internal`), the others are stored; the fallback
//! stops after [`FALLBACK_BUDGET`]. When it fails because the database is busy, locked or gone,
//! nothing is retried: every push of the group is answered 503 `unavailable` with
//! `Retry-After` at once ([`StoreError::Busy`]), and the phones resend (ids are idempotency
//! keys). The writer runs each group in a task of its own: a panic ends the task, not the
//! writer.

use crate::credentials::TOUCH_INTERVAL;
use crate::store::StoreError;
use async_trait::async_trait;
use caremap_model::push::ParsedMutation;
use caremap_model::{
    FacilityId, FacilityStatus, LoadReport, Mutation, MutationError, MutationResult, Outcome,
    ReportId, Role,
};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// A facility's status comes from its newest report of the last this many days.
pub const STATUS_WINDOW_DAYS: i64 = 30;

/// Mutations one group commit takes at most (a push is never split).
pub const GROUP_MAX_MUTATIONS: usize = 2_000;

/// Pushes waiting for the writer before senders wait too.
const QUEUE_DEPTH: usize = 4_096;

/// One mutation, checked as far as the handler can without the database.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub id: Uuid,
    /// The mutation type as sent (stored with the idempotency record).
    pub kind: String,
    /// [`content_hash`] of the mutation.
    pub content_hash: String,
    pub recorded_at: DateTime<Utc>,
    /// The report, or why it does not parse. Judged only when the id is new.
    pub parsed: Result<LoadReport, MutationError>,
    /// Whether its time is acceptable now (checked after the account's rights).
    pub on_time: Result<(), MutationError>,
}

/// A push as the store applies it.
#[derive(Debug, Clone)]
pub struct PushBatch {
    /// SHA-256 hex of the bearer token: the writer looks up its account (the reporter of
    /// every report of the push).
    pub token_hash: String,
    pub mutations: Vec<Prepared>,
}

/// Checks a mutation without the database: parsing, the clock (its `recorded_at` and the
/// report's `as_of`, so no time stored is one a database cannot read back), its content hash.
pub fn prepare(mutation: &Mutation, now: DateTime<Utc>) -> Prepared {
    let parsed = mutation.parse().map(|parsed| match parsed {
        ParsedMutation::LoadReport(report) => report,
    });
    let on_time = match &parsed {
        Ok(report) => mutation
            .check_time(now)
            .and_then(|()| report.check_time(now))
            .map_err(MutationError::from),
        Err(_) => Ok(()),
    };
    Prepared {
        id: mutation.id,
        kind: mutation.kind.clone(),
        content_hash: content_hash(mutation),
        recorded_at: mutation.recorded_at,
        parsed,
        on_time,
    }
}

/// The account of a working device token, as the writer reads it.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub account_id: i64,
    pub role: Role,
    /// The facilities of its scope.
    pub facilities: Vec<FacilityId>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl Caller {
    /// Reads a caller from stored columns.
    pub fn from_row(
        account_id: i64,
        role: &str,
        scope: &str,
        last_used_at: Option<DateTime<Utc>>,
    ) -> Result<Self, StoreError> {
        let account = crate::store::account_from_row(
            account_id,
            String::new(),
            role,
            scope,
            DateTime::<Utc>::UNIX_EPOCH,
            None,
        )?;
        Ok(Caller {
            account_id,
            role: account.role,
            facilities: account.scope.facilities,
            last_used_at,
        })
    }

    /// Whether this account may send `report`.
    fn may_send(&self, report: &LoadReport) -> Result<(), MutationError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Reporter if self.facilities.contains(&report.facility) => Ok(()),
            Role::Reporter => Err(MutationError::forbidden_facility()),
            Role::Outreach => Err(MutationError::forbidden_role()),
        }
    }
}

/// SHA-256 hex of the mutation's type, its body as canonical JSON (object keys sorted at every
/// level, no spaces) and its `recorded_at` (RFC 3339, UTC): equal for a retry of the same
/// mutation, whatever the key order or time zone it was serialised with.
pub fn content_hash(mutation: &Mutation) -> String {
    let mut text = String::with_capacity(256);
    text.push_str(&mutation.kind);
    text.push('\n');
    write_canonical(&mutation.body, &mut text);
    text.push('\n');
    text.push_str(
        &mutation
            .recorded_at
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
    );
    crate::credentials::sha256_hex(&text)
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// What a group's plan needs from the database, read set-wise before planning.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// The working device tokens of the group (by hash) and their accounts.
    pub callers: HashMap<String, Caller>,
    /// Stored mutation ids and their content hashes.
    pub mutations: HashMap<Uuid, String>,
    /// The facilities named by the group that are live.
    pub live_facilities: HashSet<FacilityId>,
    /// The stored reports named by `supersedes`, with their facility.
    pub reports: HashMap<ReportId, FacilityId>,
}

/// What the group reads: the mutation ids, facilities and superseded reports it names.
#[derive(Debug, Default)]
pub(crate) struct Wanted {
    pub tokens: Vec<String>,
    pub mutations: Vec<Uuid>,
    pub facilities: Vec<FacilityId>,
    pub reports: Vec<ReportId>,
}

pub(crate) fn wanted(batches: &[PushBatch]) -> Wanted {
    let mut facilities = BTreeSet::new();
    let mut reports = BTreeSet::new();
    let mut mutations = BTreeSet::new();
    let tokens: BTreeSet<&str> = batches.iter().map(|b| b.token_hash.as_str()).collect();
    for m in batches.iter().flat_map(|b| &b.mutations) {
        mutations.insert(m.id);
        if let Ok(report) = &m.parsed {
            facilities.insert(report.facility);
            if let Some(old) = report.supersedes {
                reports.insert(old);
            }
        }
    }
    Wanted {
        tokens: tokens.into_iter().map(str::to_owned).collect(),
        mutations: mutations.into_iter().collect(),
        facilities: facilities.into_iter().collect(),
        reports: reports.into_iter().collect(),
    }
}

/// A report (and its idempotency record) to write.
#[derive(Debug)]
pub(crate) struct ReportWrite<'a> {
    pub id: ReportId,
    pub account_id: i64,
    pub report: &'a LoadReport,
    /// The report as JSON, as stored and served by the history.
    pub body: String,
    pub kind: &'a str,
    pub content_hash: &'a str,
    pub recorded_at: DateTime<Utc>,
}

/// What a group does: the answers, and the writes that make them true.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    /// One list of results per push, in order; `None` for a push whose token does not work.
    pub results: Vec<Option<Vec<MutationResult>>>,
    pub writes: Vec<ReportWrite<'a>>,
    /// Reports a correction in the group replaces.
    pub superseded: Vec<ReportId>,
    /// Facilities that got a report: their status is recomputed.
    pub facilities: Vec<FacilityId>,
    /// Device tokens (hashes) whose `last_used_at` is due to be written.
    pub touch: Vec<String>,
}

fn rejected(id: Uuid, error: MutationError) -> MutationResult {
    MutationResult {
        id,
        outcome: Outcome::Rejected,
        error: Some(error),
    }
}

/// Decides every mutation of the group, in order (see the module docs). `known` is updated as
/// mutations are applied, so later ones see earlier ones. `now` is the group's receipt time.
pub(crate) fn plan<'a>(
    batches: &'a [PushBatch],
    known: &mut Known,
    now: DateTime<Utc>,
) -> Result<Plan<'a>, StoreError> {
    let mut plan = Plan {
        results: Vec::with_capacity(batches.len()),
        writes: Vec::new(),
        superseded: Vec::new(),
        facilities: Vec::new(),
        touch: Vec::new(),
    };
    let mut facilities = BTreeSet::new();
    let mut touch = BTreeSet::new();
    for batch in batches {
        let Some(caller) = known.callers.get(&batch.token_hash).cloned() else {
            plan.results.push(None);
            continue;
        };
        if caller
            .last_used_at
            .is_none_or(|at| now - at >= TOUCH_INTERVAL)
        {
            touch.insert(batch.token_hash.clone());
        }
        let mut results = Vec::with_capacity(batch.mutations.len());
        for m in &batch.mutations {
            if let Some(hash) = known.mutations.get(&m.id) {
                results.push(if *hash == m.content_hash {
                    MutationResult {
                        id: m.id,
                        outcome: Outcome::Duplicate,
                        error: None,
                    }
                } else {
                    rejected(m.id, MutationError::id_reused())
                });
                continue;
            }
            let checked = m.parsed.as_ref().map_err(Clone::clone).and_then(|report| {
                caller.may_send(report)?;
                m.on_time.clone()?;
                Ok(report)
            });
            let report = match checked {
                Err(error) => {
                    results.push(rejected(m.id, error));
                    continue;
                }
                Ok(report) => report,
            };
            if !known.live_facilities.contains(&report.facility) {
                results.push(rejected(m.id, MutationError::unknown_facility()));
                continue;
            }
            if let Some(old) = report.supersedes {
                if known.reports.get(&old) != Some(&report.facility) {
                    results.push(rejected(m.id, MutationError::unknown_superseded()));
                    continue;
                }
                plan.superseded.push(old);
            }
            let id = ReportId::from(m.id);
            let body = serde_json::to_string(report).map_err(|e| StoreError::Corrupt {
                id: m.id.to_string(),
                detail: format!("report: {e}"),
            })?;
            known.mutations.insert(m.id, m.content_hash.clone());
            known.reports.insert(id, report.facility);
            facilities.insert(report.facility);
            plan.writes.push(ReportWrite {
                id,
                account_id: caller.account_id,
                report,
                body,
                kind: &m.kind,
                content_hash: &m.content_hash,
                recorded_at: m.recorded_at,
            });
            results.push(MutationResult {
                id: m.id,
                outcome: Outcome::Applied,
                error: None,
            });
        }
        plan.results.push(Some(results));
    }
    plan.facilities = facilities.into_iter().collect();
    plan.touch = touch.into_iter().collect();
    Ok(plan)
}

/// A facility's newest countable report and its stored status, as read for recomputing.
#[derive(Debug)]
pub(crate) struct StatusSource {
    pub facility: FacilityId,
    /// The stored status JSON.
    pub stored: Option<String>,
    /// The newest report that counts: id, body JSON, received_at.
    pub newest: Option<(ReportId, String, DateTime<Utc>)>,
}

/// The facilities whose status changes, each with its new status JSON (None: no report counts
/// any more), in facility order.
pub(crate) fn status_changes(
    sources: Vec<StatusSource>,
) -> Result<Vec<(FacilityId, Option<String>)>, StoreError> {
    let mut changes = Vec::new();
    for source in sources {
        let status = match source.newest {
            None => None,
            Some((id, body, received_at)) => {
                let corrupt = |detail: String| StoreError::Corrupt {
                    id: id.to_string(),
                    detail,
                };
                let report: LoadReport =
                    serde_json::from_str(&body).map_err(|e| corrupt(format!("report: {e}")))?;
                let status = FacilityStatus::from_report(id, &report, received_at);
                Some(serde_json::to_string(&status).map_err(|e| corrupt(format!("status: {e}")))?)
            }
        };
        if status != source.stored {
            changes.push((source.facility, status));
        }
    }
    Ok(changes)
}

/// A backend's group commit: applies pushes in one transaction, one result list per push.
#[async_trait]
pub(crate) trait ApplyGroup: Send + Sync + 'static {
    async fn apply_group(&self, batches: &[PushBatch]) -> Result<Vec<Answer>, StoreError>;
}

/// The answer to one push: its results, or `None` when its token does not work.
pub type Answer = Option<Vec<MutationResult>>;

struct Job {
    batch: PushBatch,
    reply: oneshot::Sender<Result<Answer, StoreError>>,
}

/// The queue to a store's single push writer (see the module docs). The writer stops when the
/// queue is dropped.
pub(crate) struct PushQueue {
    sender: mpsc::Sender<Job>,
}

impl PushQueue {
    /// Starts the writer task (needs a Tokio runtime).
    pub fn start<A: ApplyGroup>(backend: A) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(writer(Arc::new(backend), receiver));
        PushQueue { sender }
    }

    /// Queues a push and waits until it is committed (or refused).
    pub async fn push(&self, batch: PushBatch) -> Result<Answer, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Job { batch, reply })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn writer<A: ApplyGroup>(backend: Arc<A>, mut receiver: mpsc::Receiver<Job>) {
    while let Some(first) = receiver.recv().await {
        let mut count = first.batch.mutations.len();
        let mut jobs = vec![first];
        while count < GROUP_MAX_MUTATIONS {
            match receiver.try_recv() {
                Ok(job) => {
                    count += job.batch.mutations.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let (batches, replies): (Vec<_>, Vec<_>) =
            jobs.into_iter().map(|j| (j.batch, j.reply)).unzip();
        let batches: Arc<[PushBatch]> = batches.into();
        let started = std::time::Instant::now();
        let outcome = run_group(&backend, Arc::clone(&batches)).await;
        tracing::debug!(
            pushes = replies.len(),
            mutations = count,
            micros = started.elapsed().as_micros() as u64,
            ok = outcome.is_ok(),
            "group commit"
        );
        match outcome {
            Ok(results) => {
                for (reply, results) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(results));
                }
            }
            Err(failure) if batches.len() > 1 && failure.caused_by_data() => {
                tracing::warn!(error = %failure, pushes = batches.len(), "group commit failed on its data; applying its pushes one by one");
                one_by_one(&backend, &batches, replies).await;
            }
            Err(failure) => {
                tracing::error!(error = %failure, pushes = batches.len(), "push group failed");
                for reply in replies {
                    let _ = reply.send(Err(failure.to_store_error()));
                }
            }
        }
    }
}

/// The longest the writer spends applying a failed group's pushes one by one; the pushes not
/// reached by then are answered 503 with `Retry-After` (their phones resend them).
pub const FALLBACK_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);

/// Seconds a phone is told to wait (`Retry-After`) when its push failed for a reason of the
/// database's (busy, locked, unreachable), not of its own.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Applies a failed group's pushes one at a time, so the one whose data trips the database (or
/// the code: a panic) fails alone. Stops grinding when the database itself fails, or after
/// [`FALLBACK_BUDGET`]: the pushes left are answered busy.
async fn one_by_one<A: ApplyGroup>(
    backend: &Arc<A>,
    batches: &Arc<[PushBatch]>,
    replies: Vec<oneshot::Sender<Result<Answer, StoreError>>>,
) {
    let started = std::time::Instant::now();
    let mut give_up: Option<String> = None;
    for (reply, batch) in replies.into_iter().zip(batches.iter()) {
        if give_up.is_none() && started.elapsed() > FALLBACK_BUDGET {
            give_up = Some("the one-by-one fallback ran out of time".to_owned());
        }
        if let Some(why) = &give_up {
            let _ = reply.send(Err(StoreError::Busy(why.clone())));
            continue;
        }
        let single: Arc<[PushBatch]> = Arc::from(vec![batch.clone()]);
        let answer = match run_group(backend, single).await {
            Ok(mut results) => results.pop().ok_or(StoreError::WriterGone),
            Err(failure) if failure.caused_by_data() => {
                tracing::error!(error = %failure, "push failed on its own");
                Err(failure.to_store_error())
            }
            Err(failure) => {
                tracing::warn!(error = %failure, "database failed during the one-by-one fallback");
                give_up = Some(failure.to_string());
                Err(failure.to_store_error())
            }
        };
        let _ = reply.send(answer);
    }
}

/// Why a group did not commit.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Store(StoreError),
    /// The code panicked while applying it (a bug, perhaps tripped by one push's data).
    #[error("the push group panicked")]
    Panicked,
}

impl Failure {
    /// Whether the failure may come from one push's data (so applying the pushes one by one
    /// isolates it), rather than from the database being busy, locked or gone (so every push
    /// would fail the same way, slowly).
    fn caused_by_data(&self) -> bool {
        match self {
            Failure::Panicked => true,
            Failure::Store(err) => store_error_from_data(err),
        }
    }

    /// The error each waiting push is answered with.
    fn to_store_error(&self) -> StoreError {
        match self {
            Failure::Panicked => StoreError::Panicked,
            Failure::Store(err) if store_error_from_data(err) => StoreError::Corrupt {
                id: "push".to_owned(),
                detail: err.to_string(),
            },
            Failure::Store(err) => StoreError::Busy(err.to_string()),
        }
    }
}

/// Whether a storage error is one of the data (a constraint, a value that does not decode or
/// encode), not of the database's state.
pub(crate) fn store_error_from_data(err: &StoreError) -> bool {
    match err {
        StoreError::Corrupt { .. } | StoreError::DuplicateInBatch(_) => true,
        StoreError::Database(err) => sqlx_error_from_data(err),
        _ => false,
    }
}

fn sqlx_error_from_data(err: &sqlx::Error) -> bool {
    use sqlx::error::ErrorKind;
    match err {
        sqlx::Error::Database(db) => {
            matches!(
                db.kind(),
                ErrorKind::UniqueViolation
                    | ErrorKind::ForeignKeyViolation
                    | ErrorKind::NotNullViolation
                    | ErrorKind::CheckViolation
            ) || db
                .code()
                // PostgreSQL's classes 22 (data exception) and 23 (integrity constraint);
                // SQLite's SQLITE_CONSTRAINT (19), SQLITE_TOOBIG (18), SQLITE_MISMATCH (20)
                // and their extended codes (low byte).
                .is_some_and(|code| {
                    code.starts_with("22")
                        || code.starts_with("23")
                        || code
                            .parse::<u32>()
                            .is_ok_and(|n| matches!(n & 0xff, 18..=20))
                })
        }
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::Encode(_)
        | sqlx::Error::TypeNotFound { .. } => true,
        _ => false,
    }
}

/// Runs one group in its own task, so that a panic fails the group, not the writer.
async fn run_group<A: ApplyGroup>(
    backend: &Arc<A>,
    batches: Arc<[PushBatch]>,
) -> Result<Vec<Answer>, Failure> {
    let backend = Arc::clone(backend);
    let n = batches.len();
    let task = tokio::spawn(async move { backend.apply_group(&batches).await });
    match task.await {
        Ok(Ok(results)) if results.len() == n => Ok(results),
        Ok(Ok(_)) => Err(Failure::Store(StoreError::WriterGone)),
        Ok(Err(err)) => Err(Failure::Store(err)),
        Err(err) => {
            tracing::error!(error = %err, "push group panicked");
            Err(Failure::Panicked)
        }
    }
}

/// Microseconds since the Unix epoch: how SQLite stores report times (sortable).
pub(crate) fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// The time of a stored microsecond count.
pub(crate) fn from_micros(id: &str, us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| StoreError::Corrupt {
        id: id.to_owned(),
        detail: format!("time {us} out of range"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mutation(id: u128, body: serde_json::Value) -> Mutation {
        Mutation {
            id: Uuid::from_u128(id),
            kind: "load_report".into(),
            body,
            recorded_at: "2026-11-29T08:00:00Z".parse().unwrap(),
        }
    }

    /// A backend that fails as the push's token says: `data` (a constraint the data trips),
    /// `busy` (the database is locked), `panic` (a bug); every other push is stored.
    struct Faulty {
        calls: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl ApplyGroup for Arc<Faulty> {
        async fn apply_group(&self, batches: &[PushBatch]) -> Result<Vec<Answer>, StoreError> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::task::yield_now().await;
            if batches.iter().any(|b| b.token_hash == "panic") {
                panic!("a bug tripped by one push");
            }
            if batches.iter().any(|b| b.token_hash == "data") {
                return Err(StoreError::Corrupt {
                    id: "x".into(),
                    detail: "CHECK constraint failed".into(),
                });
            }
            if batches.iter().any(|b| b.token_hash == "busy") {
                return Err(StoreError::Database(sqlx::Error::PoolTimedOut));
            }
            Ok(batches.iter().map(|_| Some(Vec::new())).collect())
        }
    }

    fn batch(token: &str) -> PushBatch {
        PushBatch {
            token_hash: token.to_owned(),
            mutations: Vec::new(),
        }
    }

    fn faulty() -> (Arc<Faulty>, PushQueue) {
        let backend = Arc::new(Faulty {
            calls: std::sync::atomic::AtomicUsize::new(0),
        });
        (Arc::clone(&backend), PushQueue::start(backend))
    }

    fn calls(backend: &Faulty) -> usize {
        backend.calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    // The three pushes of each test are queued before the writer runs (a current-thread
    // runtime runs it only when the test awaits), so they form one group.

    #[tokio::test]
    async fn a_push_whose_data_fails_the_group_fails_alone() {
        let (backend, queue) = faulty();
        let (a, bad, b) = tokio::join!(
            queue.push(batch("a")),
            queue.push(batch("data")),
            queue.push(batch("b"))
        );
        assert!(matches!(a, Ok(Some(_))), "{a:?}");
        assert!(matches!(b, Ok(Some(_))), "{b:?}");
        assert!(matches!(bad, Err(StoreError::Corrupt { .. })), "{bad:?}");
        assert_eq!(calls(&backend), 4, "the group, then each push alone");
    }

    #[tokio::test]
    async fn a_panic_fails_its_push_alone_and_the_writer_goes_on() {
        let (_backend, queue) = faulty();
        let (a, bad, b) = tokio::join!(
            queue.push(batch("a")),
            queue.push(batch("panic")),
            queue.push(batch("b"))
        );
        assert!(matches!(a, Ok(Some(_))), "{a:?}");
        assert!(matches!(b, Ok(Some(_))), "{b:?}");
        assert!(matches!(bad, Err(StoreError::Panicked)), "{bad:?}");
        let later = queue.push(batch("c")).await;
        assert!(
            matches!(later, Ok(Some(_))),
            "the writer still runs: {later:?}"
        );
    }

    #[tokio::test]
    async fn a_busy_database_fails_the_group_at_once_with_a_retryable_error() {
        let (backend, queue) = faulty();
        let (a, busy, b) = tokio::join!(
            queue.push(batch("a")),
            queue.push(batch("busy")),
            queue.push(batch("b"))
        );
        for answer in [a, busy, b] {
            assert!(matches!(answer, Err(StoreError::Busy(_))), "{answer:?}");
        }
        assert_eq!(calls(&backend), 1, "no push by push grinding");
        let later = queue.push(batch("c")).await;
        assert!(matches!(later, Ok(Some(_))), "{later:?}");
    }

    #[test]
    fn errors_of_the_data_are_told_from_errors_of_the_database() {
        assert!(store_error_from_data(&StoreError::Corrupt {
            id: String::new(),
            detail: String::new()
        }));
        assert!(store_error_from_data(&StoreError::Database(
            sqlx::Error::Decode("bad".into())
        )));
        assert!(!store_error_from_data(&StoreError::Database(
            sqlx::Error::PoolTimedOut
        )));
        assert!(!store_error_from_data(&StoreError::Database(
            sqlx::Error::Io(std::io::Error::other("connection reset"))
        )));
        assert!(!store_error_from_data(&StoreError::WriterGone));
    }

    #[test]
    fn the_hash_ignores_key_order_and_time_zone_but_not_content() {
        let a = mutation(1, json!({"a": 1, "b": {"y": [1, 2], "x": "z"}}));
        let mut b = mutation(1, json!({"b": {"x": "z", "y": [1, 2]}, "a": 1}));
        b.recorded_at = "2026-11-29T16:00:00+08:00".parse().unwrap();
        assert_eq!(content_hash(&a), content_hash(&b));
        let c = mutation(1, json!({"a": 2, "b": {"y": [1, 2], "x": "z"}}));
        assert_ne!(content_hash(&a), content_hash(&c));
        let mut d = a.clone();
        d.kind = "other".into();
        assert_ne!(content_hash(&a), content_hash(&d));
    }
}
