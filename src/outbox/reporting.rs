//! The reporting context: the phone's account, its outbox and history as signals, the report
//! form's state (kept while the doctor looks elsewhere), and the sender run at the right
//! moments: at start-up, after a report is saved, on the browser's `online` event and after a
//! transient failure with a jittered backoff. Only one run at a time; one asked for meanwhile
//! runs after it.

use super::{report_store_message, send_pending, HttpPush, SendError};
use crate::api::{self, ApiError};
use crate::browser;
use crate::retry::Runner;
use crate::store::{self, AccountRecord, OutboxEntry, SentReport, Store, StoreError};
use caremap_model::{
    ApiErrorCode, DeviceName, EnrollRequest, EnrollmentCode, FacilityId, Lang, LoadReport,
    ReportDraft, ReportId,
};
use chrono::{DateTime, Utc};
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::rc::Rc;

/// Whether this phone has an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountState {
    /// The phone's store is being read.
    Loading,
    /// Not enrolled (or signed out).
    None,
    /// Enrolled; `revoked` inside says whether the server still accepts the token.
    Enrolled(AccountRecord),
}

impl AccountState {
    pub fn record(&self) -> Option<&AccountRecord> {
        match self {
            AccountState::Enrolled(record) => Some(record),
            _ => None,
        }
    }

    /// Enrolled with a token the server has not refused.
    pub fn active(&self) -> Option<&AccountRecord> {
        self.record().filter(|r| !r.revoked)
    }
}

/// What the sender is doing, for the outbox's status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderPhase {
    /// Nothing to do, or waiting for the next report.
    Idle,
    /// A push is under way.
    Sending,
    /// No network: sending resumes when it is back.
    Offline,
    /// The server could not be reached or was busy; retried by itself.
    Retrying(SendError),
    /// Stopped on something waiting will not fix (a full disk, an answer we cannot read).
    Failed(SendError),
    /// The server refused this phone's token: a new enrollment code is needed.
    Revoked,
}

impl SenderPhase {
    /// `data-state` of the outbox status line.
    pub fn as_str(&self) -> &'static str {
        match self {
            SenderPhase::Idle => "idle",
            SenderPhase::Sending => "sending",
            SenderPhase::Offline => "offline",
            SenderPhase::Retrying(_) => "retrying",
            SenderPhase::Failed(_) => "failed",
            SenderPhase::Revoked => "revoked",
        }
    }
}

/// What the report form is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormMode {
    /// A new report, as of now.
    New,
    /// A refused report, fixed: sent as a new report (new id) that replaces it in the outbox.
    Fix {
        replacing: ReportId,
        supersedes: Option<ReportId>,
    },
    /// A correction of a sent report: a new report, as of the same time, that supersedes it.
    Correct {
        supersedes: ReportId,
        as_of: DateTime<Utc>,
    },
}

/// The report form as the doctor left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormState {
    pub facility: Option<FacilityId>,
    pub draft: ReportDraft,
    pub mode: FormMode,
}

impl Default for FormState {
    fn default() -> Self {
        FormState {
            facility: None,
            draft: ReportDraft::default(),
            mode: FormMode::New,
        }
    }
}

/// Why enrolling failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollError {
    /// The server refused the code (wrong, used, expired) or asked to wait: its words, in the
    /// interface language.
    Refused { code: ApiErrorCode, message: String },
    /// The server could not be reached, or failed.
    Api(ApiError),
    /// The token could not be kept on the phone.
    Store(StoreError),
}

impl EnrollError {
    pub fn user_message(&self, lang: Lang) -> String {
        match self {
            EnrollError::Refused { message, .. } => message.clone(),
            EnrollError::Api(err) => err.user_message(lang),
            EnrollError::Store(err) => report_store_message(err, lang),
        }
    }
}

/// The reporting context. Copy it freely: it is a handle to signals.
#[derive(Clone, Copy)]
pub struct Reporting {
    pub account: RwSignal<AccountState>,
    /// The outbox: pending and refused reports, in the order they were written.
    pub outbox: RwSignal<Vec<OutboxEntry>>,
    /// Reports the server acknowledged, newest first.
    pub sent: RwSignal<Vec<SentReport>>,
    pub phase: RwSignal<SenderPhase>,
    /// The phone's store is unusable for reports (no IndexedDB, full disk…).
    pub store_problem: RwSignal<Option<StoreError>>,
    pub form: RwSignal<FormState>,
    lang: Signal<Lang>,
    /// The phone's store, once open.
    store: StoredValue<Option<Rc<Store>>, LocalStorage>,
    runner: Runner,
}

impl Reporting {
    /// Creates the context, provides it below, reads the phone's store and starts the sender.
    /// `lang` is the interface language: pushes ask for refusal reasons in it.
    pub fn provide(lang: Signal<Lang>) -> Self {
        let reporting = Reporting {
            account: RwSignal::new(AccountState::Loading),
            outbox: RwSignal::new(Vec::new()),
            sent: RwSignal::new(Vec::new()),
            phase: RwSignal::new(SenderPhase::Idle),
            store_problem: RwSignal::new(None),
            form: RwSignal::new(FormState::default()),
            lang,
            store: StoredValue::new_local(None),
            runner: Runner::new("outbox sender"),
        };
        provide_context(reporting);
        spawn_local(reporting.open());
        let _ = window_event_listener(ev::online, move |_| {
            reporting.check_account();
            reporting.send_now();
        });
        let _ = window_event_listener(ev::offline, move |_| {
            reporting.phase.update(|p| {
                if matches!(p, SenderPhase::Retrying(_)) {
                    *p = SenderPhase::Offline;
                }
            });
        });
        reporting
    }

    pub fn expect() -> Self {
        expect_context::<Reporting>()
    }

    fn store(self) -> Option<Rc<Store>> {
        self.store.try_get_value().flatten()
    }

    async fn open(self) {
        match Store::open(store::DB_NAME).await {
            Ok(store) => {
                let store = Rc::new(store);
                let account = store.account().await;
                self.reload(&store).await;
                match account {
                    Ok(Some(record)) => {
                        if record.revoked {
                            self.phase.set(SenderPhase::Revoked);
                        }
                        self.account.set(AccountState::Enrolled(record));
                    }
                    Ok(None) => self.account.set(AccountState::None),
                    Err(err) => {
                        self.store_problem.set(Some(err));
                        self.account.set(AccountState::None);
                    }
                }
                self.store.set_value(Some(store));
                self.check_account();
                self.send_now();
            }
            Err(err) => {
                leptos::logging::warn!("reporting: no local store: {err}");
                self.store_problem.set(Some(err));
                self.account.set(AccountState::None);
            }
        }
    }

    /// Reads the outbox and the history again from the store.
    async fn reload(self, store: &Store) {
        match store.outbox().await {
            Ok(entries) => self.outbox.set(entries),
            Err(err) => self.store_problem.set(Some(err)),
        }
        match store.sent_reports().await {
            Ok(sent) => self.sent.set(sent),
            Err(err) => self.store_problem.set(Some(err)),
        }
    }

    /// Asks the server who this phone is: updates the account (its facilities may have
    /// changed) or notices that the phone was revoked. Quietly does nothing offline.
    pub fn check_account(self) {
        let Some(record) = self.account.with_untracked(|a| a.active().cloned()) else {
            return;
        };
        let Some(store) = self.store() else { return };
        let lang = self.lang.get_untracked();
        spawn_local(async move {
            match api::me(&record.token, lang).await {
                Ok(info) if info != record.account => {
                    let mut updated = record;
                    updated.account = info;
                    if let Err(err) = store.save_account(&updated).await {
                        self.store_problem.set(Some(err));
                    }
                    self.account.set(AccountState::Enrolled(updated));
                }
                Ok(_) => {}
                Err(err) if err.is_unauthorized() => self.mark_revoked(&store).await,
                Err(err) => leptos::logging::warn!("reporting: /me: {err}"),
            }
        });
    }

    async fn mark_revoked(self, store: &Store) {
        let Some(mut record) = self.account.with_untracked(|a| a.record().cloned()) else {
            return;
        };
        record.revoked = true;
        if let Err(err) = store.save_account(&record).await {
            self.store_problem.set(Some(err));
        }
        self.account.set(AccountState::Enrolled(record));
        self.phase.set(SenderPhase::Revoked);
    }

    /// Trades an enrollment code for a device token and keeps it; then sends what waits.
    pub async fn enroll(
        self,
        code: EnrollmentCode,
        device: Option<DeviceName>,
    ) -> Result<(), EnrollError> {
        let Some(store) = self.store() else {
            return Err(EnrollError::Store(
                self.store_problem
                    .get_untracked()
                    .unwrap_or_else(|| StoreError::Open("not open".to_owned())),
            ));
        };
        let request = EnrollRequest {
            code: code.display(),
            device: device.map(DeviceName::into_string),
        };
        let response = api::enroll(&request, self.lang.get_untracked())
            .await
            .map_err(|err| match err {
                ApiError::Server {
                    status,
                    ref code,
                    ref message,
                    ..
                } if (400..500).contains(&status) => EnrollError::Refused {
                    code: ApiErrorCode::parse(code),
                    message: message.clone(),
                },
                other => EnrollError::Api(other),
            })?;
        let record = AccountRecord {
            token: response.token,
            account: response.account,
            enrolled_at: Utc::now(),
            revoked: false,
        };
        // A code entered after this phone's account was revoked is the health office's
        // replacement for it: the new account takes over the revoked one's unsent reports.
        let replaced = self
            .account
            .with_untracked(|a| a.record().filter(|r| r.revoked).map(|r| r.account.id))
            .filter(|old| *old != record.account.id);
        store
            .save_account_replacing(&record, replaced)
            .await
            .map_err(EnrollError::Store)?;
        if replaced.is_some() {
            self.reload(&store).await;
        }
        self.runner.succeeded();
        self.account.set(AccountState::Enrolled(record));
        self.phase.set(SenderPhase::Idle);
        self.send_now();
        Ok(())
    }

    /// Forgets the token on this phone. Unsent reports stay in the outbox, held for this account:
    /// they are sent when it is enrolled again, never by another account.
    pub async fn sign_out(self) -> Result<(), StoreError> {
        let store = self
            .store()
            .ok_or_else(|| StoreError::Open("not open".to_owned()))?;
        store.forget_account().await?;
        self.account.set(AccountState::None);
        self.phase.set(SenderPhase::Idle);
        self.form.set(FormState::default());
        Ok(())
    }

    /// Writes a report to the outbox (first, before any network), shows it, then sends.
    pub async fn submit(
        self,
        id: ReportId,
        report: LoadReport,
        recorded_at: DateTime<Utc>,
        replacing: Option<ReportId>,
    ) -> Result<(), StoreError> {
        let store = self.store().ok_or_else(|| {
            self.store_problem
                .get_untracked()
                .unwrap_or_else(|| StoreError::Open("not open".to_owned()))
        })?;
        // The form is shown only to an enrolled phone; a report is always someone's.
        let account = self
            .account
            .with_untracked(|a| a.record().map(|r| r.account.clone()))
            .ok_or_else(|| StoreError::Other("no account is enrolled on this phone".to_owned()))?;
        store
            .add_to_outbox(id, &report, recorded_at, &account, replacing)
            .await?;
        self.reload(&store).await;
        self.send_now();
        Ok(())
    }

    /// Removes a refused report, or one held for another account, from the outbox.
    pub async fn discard(self, id: ReportId) -> Result<(), StoreError> {
        let store = self
            .store()
            .ok_or_else(|| StoreError::Open("not open".to_owned()))?;
        store.discard(id).await?;
        self.reload(&store).await;
        Ok(())
    }

    /// The id of the account enrolled on this phone (revoked or not), if any.
    pub fn enrolled_id(self) -> Option<i64> {
        self.account.with(|a| a.record().map(|r| r.account.id))
    }

    /// How many reports wait to be sent (refused ones included: they need the doctor). With an
    /// account enrolled, only its own (and those with no account recorded): the reports held
    /// for another account are not its to send. Signed out, every report.
    pub fn unsent(self) -> usize {
        let enrolled = self.enrolled_id();
        self.outbox.with(|o| match enrolled {
            Some(id) => o.iter().filter(|e| e.sendable_by(id)).count(),
            None => o.len(),
        })
    }

    /// Sends the enrolled account's pending reports now, unless a run is under way (then one
    /// more follows it), the store is not open yet (it sends when open) or the phone has no
    /// usable token.
    pub fn send_now(self) {
        let Some(record) = self.account.with_untracked(|a| a.active().cloned()) else {
            return;
        };
        if !self.outbox.with_untracked(|o| {
            o.iter()
                .any(|e| e.is_pending() && e.sendable_by(record.account.id))
        }) {
            return;
        }
        if !browser::online() {
            // The browser knows there is no network: the `online` event starts the next run.
            self.phase.set(SenderPhase::Offline);
            return;
        }
        let Some(store) = self.store() else { return };
        if !self.runner.begin() {
            return;
        }
        spawn_local(async move {
            self.phase.set(SenderPhase::Sending);
            let transport = HttpPush {
                token: record.token,
            };
            let result = send_pending(
                &store,
                &transport,
                &record.account,
                self.lang.get_untracked(),
                Utc::now,
            )
            .await;
            self.reload(&store).await;
            self.finish(&store, result, &transport.token).await;
        });
    }

    /// Ends a run made with `token`.
    async fn finish(
        self,
        store: &Store,
        result: Result<super::SendSummary, SendError>,
        token: &str,
    ) {
        let again = self.runner.end();
        match result {
            Ok(_) => {
                self.runner.succeeded();
                self.phase.set(SenderPhase::Idle);
                if again {
                    self.send_now();
                }
            }
            Err(err) if err.is_unauthorized() => {
                leptos::logging::warn!("reporting: push refused the token: {err}");
                // Only if that token is still the phone's: the account may have signed out and
                // another enrolled while the run was under way.
                if self
                    .account
                    .with_untracked(|a| a.record().is_some_and(|r| r.token == token))
                {
                    self.mark_revoked(store).await;
                } else if again {
                    self.send_now();
                }
            }
            Err(err) if err.is_transient() => {
                leptos::logging::warn!("reporting: push: {err}");
                if browser::online() {
                    // A server that said when to come back (503 or 429 with `Retry-After`) is
                    // not asked sooner.
                    let asked = match &err {
                        SendError::Api(api) => api.retry_after(),
                        SendError::Store(_) => None,
                    };
                    self.phase.set(SenderPhase::Retrying(err));
                    self.runner.retry_after(asked, move || self.send_now());
                } else {
                    // The `online` event starts the next run.
                    self.phase.set(SenderPhase::Offline);
                }
            }
            Err(err) => {
                leptos::logging::warn!("reporting: push: {err}");
                if let SendError::Store(problem) = &err {
                    self.store_problem.set(Some(problem.clone()));
                }
                self.phase.set(SenderPhase::Failed(err));
            }
        }
    }
}

/// Provides the [`Reporting`] context to everything inside it. Render it inside
/// `I18nContextProvider`, around the router.
#[component]
pub fn ReportingProvider(children: Children) -> impl IntoView {
    Reporting::provide(crate::i18n::use_lang());
    children()
}
