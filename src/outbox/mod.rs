//! The outbox sender: sends the reports waiting in the phone's outbox to `POST /api/v1/push`,
//! oldest first, in batches of at most [`push::MAX_BATCH`], and stores each answer as it comes.
//!
//! A report is written to the outbox before anything is sent ([`Store::add_to_outbox`]) and
//! leaves it only when the server acknowledged it (applied, or duplicate for a retry of one it
//! already has). A refused report stays, with the server's reason, until the doctor fixes or
//! discards it; it is never resent as it is, and never holds up the ones after it. A failure
//! to reach the server (offline, timeout, 5xx, 429) changes nothing: everything stays pending
//! for the next try. A 401 (the phone was revoked) changes nothing either.
//!
//! A report is sent only by the account that wrote it ([`OutboxEntry::account`]): the phone has
//! at most one account at a time, and the reports of an account that signed out wait, untouched,
//! until that account is enrolled again; another account's token never carries them. Reports
//! written before the outbox recorded accounts go with the account enrolled when they are sent.
//!
//! The sender only decides and stores; where pushes go is a [`PushTransport`] (the HTTP API in
//! the app, a scripted server in the tests). [`Reporting`] is the app's context that runs it at
//! the right moments, one run at a time.

mod entry;
mod reporting;

pub use entry::{pending_counts, EntryState, HistoryEntry};
pub use reporting::{
    AccountState, EnrollError, FormMode, FormState, Reporting, ReportingProvider, SenderPhase,
};

use crate::api::ApiError;
use crate::i18n::{locale_of, td_string};
use crate::store::{OutboxEntry, ReportAuthor, Store, StoreError};
use caremap_model::push::{self, MutationError};
use caremap_model::{AccountInfo, Lang, PushResponse};
use chrono::{DateTime, Utc};

/// Where pushes go.
pub trait PushTransport {
    /// Sends `body` (a [`caremap_model::PushRequest`] as JSON text: see [`push_body`]) as it is,
    /// asking for error messages in `lang`.
    fn push(
        &self,
        body: &str,
        lang: Lang,
    ) -> impl std::future::Future<Output = Result<PushResponse, ApiError>>;
}

/// The sync server, with this phone's device token.
pub struct HttpPush {
    pub token: String,
}

impl PushTransport for HttpPush {
    async fn push(&self, body: &str, lang: Lang) -> Result<PushResponse, ApiError> {
        crate::api::push(&self.token, body, lang).await
    }
}

/// The push body for `batch`, in order: `{"mutations":[…]}` around each entry's mutation JSON
/// exactly as the outbox keeps it ([`OutboxEntry::mutation_json`]), so whatever batch a report
/// goes in, its bytes are the ones of its first send.
pub fn push_body(batch: &[OutboxEntry]) -> String {
    let mutations: Vec<String> = batch.iter().map(OutboxEntry::mutation_json).collect();
    format!("{{\"mutations\":[{}]}}", mutations.join(","))
}

/// What a run of the sender did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendSummary {
    /// Pushes made.
    pub batches: u32,
    /// Reports acknowledged (applied or duplicate).
    pub sent: u32,
    /// Reports refused.
    pub rejected: u32,
}

/// Why a run stopped before the outbox had nothing pending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SendError {
    /// Whether waiting and trying again may help.
    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Api(err) => err.is_transient(),
            SendError::Store(_) => false,
        }
    }

    /// The server no longer accepts this phone's token.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, SendError::Api(err) if err.is_unauthorized())
    }

    /// One line for a user, in their language.
    pub fn user_message(&self, lang: Lang) -> String {
        match self {
            SendError::Api(err) => err.user_message(lang),
            SendError::Store(err) => report_store_message(err, lang),
        }
    }
}

/// A store failure as it concerns reports (the store's own messages speak of facilities).
pub fn report_store_message(err: &StoreError, lang: Lang) -> String {
    let locale = locale_of(lang);
    match err {
        StoreError::QuotaExceeded => td_string!(locale, report_store_full),
        StoreError::Open(_) => td_string!(locale, report_store_unavailable),
        _ => td_string!(locale, report_store_failed),
    }
    .to_owned()
}

/// Sends every pending report of `account` in the outbox (the account whose token `transport`
/// carries), oldest first, at most [`push::MAX_BATCH`] per push, storing each answer before the
/// next push. Reports of other accounts are neither sent nor touched; reports with no account
/// recorded are sent as `account`'s (and a refused one is kept as its). Stops at the first push
/// that fails; what was answered before stays answered.
pub async fn send_pending(
    store: &Store,
    transport: &impl PushTransport,
    account: &AccountInfo,
    lang: Lang,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<SendSummary, SendError> {
    let mut summary = SendSummary::default();
    // Entries an older app stored without their bytes get them now, once, before any send.
    store.seal_outbox().await?;
    loop {
        let batch: Vec<OutboxEntry> = store
            .outbox()
            .await?
            .into_iter()
            .filter(|entry| entry.is_pending() && entry.sendable_by(account.id))
            .take(push::MAX_BATCH)
            .map(|mut entry| {
                entry
                    .account
                    .get_or_insert_with(|| ReportAuthor::from(account));
                entry
            })
            .collect();
        if batch.is_empty() {
            return Ok(summary);
        }
        let response = transport.push(&push_body(&batch), lang).await?;
        summary.batches += 1;
        let recorded = store
            .record_results(&batch, &response.results, lang, now())
            .await?;
        summary.sent += recorded.sent;
        summary.rejected += recorded.rejected;
        if recorded.sent + recorded.rejected < batch.len() as u32 {
            // The server left some unanswered: they stay pending, but asking again at once
            // could loop forever.
            return Err(SendError::Api(ApiError::Decode(
                "the push answer does not cover every mutation".to_owned(),
            )));
        }
    }
}

/// The reason of a refusal in `lang`: the server's words when they are in `lang` (or the code
/// is not one the phone knows), else the model's own words for the code.
pub fn reason_in(code: &str, message: &str, message_lang: Lang, lang: Lang) -> String {
    if message_lang == lang {
        return message.to_owned();
    }
    match MutationError::for_code(code) {
        Some(err) => err.in_lang(lang).message,
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn known_reasons_are_said_in_the_current_language() {
        assert_eq!(
            reason_in(
                "forbidden_facility",
                "您的账号不能为该机构填报",
                Lang::Zh,
                Lang::En
            ),
            "Your account may not report for this facility"
        );
        assert_eq!(
            reason_in("something_new", "新的原因", Lang::Zh, Lang::En),
            "新的原因"
        );
        assert_eq!(
            reason_in("in_future", "whatever", Lang::En, Lang::En),
            "whatever"
        );
        assert!(reason_in("in_future", "x", Lang::En, Lang::Zh).contains("填报时间"));
    }
}
