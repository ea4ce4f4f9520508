//! The typed HTTP client of the sync server's API (`/api/v1/...`), over gloo-net.
//!
//! It only speaks HTTP: what the app keeps of the answers lives in [`crate::registry`], so an
//! IndexedDB store can later sit between the two without the UI noticing.

use crate::i18n::{locale_of, td_string};
use caremap_model::{
    AccountInfo, ApiErrorCode, ColumnarPage, Cursor, EnrollRequest, EnrollResponse, ErrorBody,
    FacilityId, FacilityRecord, Lang, PushResponse, RegistryPage, ReportHistory,
};
use gloo_net::http::{Request, Response};
use serde::Serialize;

/// The client configuration the server publishes at `GET /api/v1/config` (the contract's).
pub use caremap_model::ClientConfig;

/// How many records to ask for per registry page: the largest the server gives, which the
/// server keeps compressed for the next phone (`format=columns`).
const REGISTRY_PAGE_LIMIT: u32 = ColumnarPage::PAGE_LIMIT;

/// A registry feed that never says `has_more: false` after this many pages is broken; stop
/// instead of looping forever.
const MAX_REGISTRY_PAGES: usize = 10_000;

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No answer: offline, DNS, connection refused, CORS, aborted.
    #[error("network error: {0}")]
    Network(String),
    /// No answer (or no whole answer) within the request's deadline: a weak link can stall a
    /// request with no error at all.
    #[error("no answer within {0} s")]
    Timeout(u32),
    /// The server answered with an error status (and, usually, our error body).
    #[error("server error {status}: {code}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
        /// The answer's `Retry-After` in seconds (a 503 or 429 says when to come back).
        retry_after: Option<u32>,
    },
    /// The server answered 2xx with a body we could not read.
    #[error("unexpected answer: {0}")]
    Decode(String),
    /// The registry feed kept saying `has_more` past any plausible size.
    #[error("the registry feed does not end")]
    EndlessFeed,
}

impl ApiError {
    /// An error answer, as tests and scripted servers make one.
    pub fn server(status: u16, code: &str, message: &str) -> Self {
        ApiError::Server {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            retry_after: None,
        }
    }

    /// Whether the server refused our credentials: the device token is unknown or was revoked,
    /// and only a new enrollment helps. Only the server's own `unauthenticated` error says so;
    /// a bare 401 (a proxy's or a captive portal's page, not our error body) does not sign a
    /// phone out: it is retried like any passing failure ([`ApiError::is_transient`]).
    pub fn is_unauthorized(&self) -> bool {
        self.api_code() == Some(ApiErrorCode::Unauthenticated)
    }

    /// The server's error code, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The server's error code as the contract names it ([`ApiErrorCode::Unrecognized`] for
    /// one this build does not know), if it answered with one.
    pub fn api_code(&self) -> Option<ApiErrorCode> {
        self.code().map(ApiErrorCode::parse)
    }

    /// Whether trying again later may help: offline, no answer in time (ours or the server's
    /// 408), 5xx, 429, and a 401 without the server's error body (a proxy's: see
    /// [`ApiError::is_unauthorized`]).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Network(_) | ApiError::Timeout(_) => true,
            ApiError::Server { status, .. } => {
                *status >= 500
                    || *status == 408
                    || *status == 429
                    || (*status == 401 && self.api_code() == Some(ApiErrorCode::Unrecognized))
            }
            ApiError::Decode(_) | ApiError::EndlessFeed => false,
        }
    }

    /// How long the server asked us to wait before trying again (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ApiError::Server {
                retry_after: Some(seconds),
                ..
            } => Some(std::time::Duration::from_secs(u64::from(*seconds))),
            _ => None,
        }
    }

    /// One line for a user, in their language.
    pub fn user_message(&self, lang: Lang) -> String {
        let locale = locale_of(lang);
        match self {
            ApiError::Network(_) => td_string!(locale, api_network).to_owned(),
            ApiError::Timeout(_) | ApiError::Server { status: 408, .. } => {
                td_string!(locale, api_timeout).to_owned()
            }
            // A 5xx, or a 401 that is not the server's (a proxy's): passing, retried.
            ApiError::Server { status, .. }
                if *status >= 500 || (*status == 401 && !self.is_unauthorized()) =>
            {
                td_string!(locale, api_unavailable, status = *status).to_string()
            }
            // A 4xx names a problem with the request: the server's own words say which.
            ApiError::Server {
                status, message, ..
            } => td_string!(locale, api_refused, status = *status, message = message).to_string(),
            ApiError::Decode(_) | ApiError::EndlessFeed => {
                td_string!(locale, api_unreadable).to_owned()
            }
        }
    }
}

/// Reads an error answer (the contract's [`ErrorBody`]); a body that is not ours still gives
/// the status.
fn server_error(status: u16, body: &str, retry_after: Option<&str>) -> ApiError {
    let retry_after = retry_after.and_then(parse_retry_after);
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => ApiError::Server {
            status,
            code: error.code.as_str().to_owned(),
            message: error.message,
            retry_after,
        },
        Err(_) => ApiError::Server {
            status,
            code: "http_error".to_owned(),
            message: format!("HTTP {status}"),
            retry_after,
        },
    }
}

/// A `Retry-After` in seconds (the form our server sends); an HTTP date is ignored (the
/// backoff decides then).
fn parse_retry_after(value: &str) -> Option<u32> {
    value.trim().parse().ok()
}

/// How long a read (the config, a registry page, a facility's history) may take, the body
/// included, before it is given up and counts as a passing failure: a registry page is at
/// most a few hundred kilobytes, which even a 2G link brings well within it.
const READ_TIMEOUT_MS: u32 = 60_000;

/// How long a write request may take before it counts as a passing failure (and is retried):
/// on a weak link a request can stall with no error at all.
const WRITE_TIMEOUT_MS: u32 = 30_000;

/// A request's deadline: an `AbortController` whose signal goes with the request, aborted by a
/// timer after `ms` (reading the body included: the timer runs until the deadline is
/// dropped). Without an `AbortController` (very old browsers) there is no deadline.
struct Deadline {
    controller: Option<web_sys::AbortController>,
    timer: Option<i32>,
    ms: u32,
    fired: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Deadline {
    fn new(ms: u32) -> Self {
        let controller = web_sys::AbortController::new().ok();
        let fired = std::rc::Rc::new(std::cell::Cell::new(false));
        let timer = controller.as_ref().and_then(|c| {
            let c = c.clone();
            let fired = fired.clone();
            let abort = wasm_bindgen::closure::Closure::once_into_js(move || {
                fired.set(true);
                c.abort();
            });
            web_sys::window()?
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    wasm_bindgen::JsCast::unchecked_ref(&abort),
                    i32::try_from(ms).unwrap_or(i32::MAX),
                )
                .ok()
        });
        Deadline {
            controller,
            timer,
            ms,
            fired,
        }
    }

    fn signal(&self) -> Option<web_sys::AbortSignal> {
        self.controller.as_ref().map(|c| c.signal())
    }

    /// A failure of the request or of reading its body: [`ApiError::Timeout`] if the deadline
    /// aborted it, else a network error.
    fn failure(&self, err: impl std::fmt::Display) -> ApiError {
        if self.fired.get() {
            ApiError::Timeout(self.ms / 1000)
        } else {
            ApiError::Network(err.to_string())
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let (Some(timer), Some(window)) = (self.timer, web_sys::window()) {
            window.clear_timeout_with_handle(timer);
        }
    }
}

/// Reads an answer within `deadline`: the JSON of a 2xx, else the error it carries.
async fn read_answer<T: serde::de::DeserializeOwned>(
    sent: Result<Response, gloo_net::Error>,
    deadline: &Deadline,
) -> Result<T, ApiError> {
    let response = sent.map_err(|err| deadline.failure(err))?;
    let status = response.status();
    let retry_after = response.headers().get("Retry-After");
    let text = response.text().await.map_err(|err| deadline.failure(err))?;
    if !response.ok() {
        return Err(server_error(status, &text, retry_after.as_deref()));
    }
    serde_json::from_str(&text).map_err(|err| ApiError::Decode(err.to_string()))
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    let deadline = Deadline::new(READ_TIMEOUT_MS);
    let sent = Request::get(url)
        .header("Accept", "application/json")
        .abort_signal(deadline.signal().as_ref())
        .send()
        .await;
    read_answer(sent, &deadline).await
}

/// `GET /api/v1/config`.
pub async fn fetch_config() -> Result<ClientConfig, ApiError> {
    get_json("/api/v1/config").await
}

/// The URL of one registry page, in the columnar layout (about half the bytes of the record
/// layout once compressed: what matters on a first sync over a weak link).
fn registry_url(since: Cursor, limit: u32) -> String {
    format!("/api/v1/registry?since={since}&limit={limit}&format=columns")
}

/// `GET /api/v1/registry?since=…&limit=…&format=columns`: one page of changes after `since`.
pub async fn fetch_registry_page(since: Cursor) -> Result<RegistryPage, ApiError> {
    let columns: ColumnarPage = get_json(&registry_url(since, REGISTRY_PAGE_LIMIT)).await?;
    // Decoding the JSON and checking every record are separate tasks, not one: together they
    // were one of the longest tasks of a first visit.
    crate::browser::next_task().await;
    columns
        .into_page()
        .map_err(|err| ApiError::Decode(err.to_string()))
}

/// `GET /api/v1/timetables`: every distinct opening-hours text of the registry, compiled by the
/// server for the weeks ahead (what "open now" is judged from, `crate::open_state`).
/// `from`: the phone's day at the facilities, which its clock decides.
pub async fn fetch_timetables(
    from: chrono::NaiveDate,
) -> Result<caremap_model::TimetableSet, ApiError> {
    get_json(&format!("/api/v1/timetables?from={from}")).await
}

/// Every change after `since`, page after page until the feed says there is no more. Returns
/// the records in feed order and the cursor to resume from next time.
pub async fn fetch_registry_since(
    since: Cursor,
) -> Result<(Vec<FacilityRecord>, Cursor), ApiError> {
    let mut cursor = since;
    let mut records = Vec::new();
    for _ in 0..MAX_REGISTRY_PAGES {
        let page = fetch_registry_page(cursor).await?;
        records.extend(page.items);
        cursor = page.cursor;
        if !page.has_more {
            return Ok((records, cursor));
        }
    }
    Err(ApiError::EndlessFeed)
}

/// Sends `body` (JSON text) to `url` with `method`, in the interface language (the server's
/// error messages come back in it) and with the device token if there is one; reads a JSON
/// answer. Aborted after [`WRITE_TIMEOUT_MS`] ([`ApiError::Timeout`]).
async fn send_json<T: serde::de::DeserializeOwned>(
    method: gloo_net::http::Method,
    url: &str,
    token: Option<&str>,
    lang: Lang,
    body: Option<String>,
) -> Result<T, ApiError> {
    let mut builder = gloo_net::http::RequestBuilder::new(url)
        .method(method)
        .header("Accept", "application/json")
        .header("Accept-Language", lang.tag());
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let deadline = Deadline::new(WRITE_TIMEOUT_MS);
    builder = builder.abort_signal(deadline.signal().as_ref());
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body),
        None => builder.build(),
    }
    .map_err(|err| ApiError::Decode(err.to_string()))?;
    let sent = request.send().await;
    read_answer(sent, &deadline).await
}

/// A request body as JSON text.
fn json_text<B: Serialize>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|err| ApiError::Decode(err.to_string()))
}

/// `POST /api/v1/enroll`: trades a one-time enrollment code for a device token.
pub async fn enroll(request: &EnrollRequest, lang: Lang) -> Result<EnrollResponse, ApiError> {
    send_json(
        gloo_net::http::Method::POST,
        "/api/v1/enroll",
        None,
        lang,
        Some(json_text(request)?),
    )
    .await
}

/// `GET /api/v1/me`: the account the device token belongs to (401 once it is revoked).
pub async fn me(token: &str, lang: Lang) -> Result<AccountInfo, ApiError> {
    send_json(
        gloo_net::http::Method::GET,
        "/api/v1/me",
        Some(token),
        lang,
        None,
    )
    .await
}

/// `POST /api/v1/push` with `body`, a [`caremap_model::PushRequest`] as JSON text, sent as it
/// is (the outbox keeps each mutation's bytes: a resend is the first send's bytes); the answer
/// has one result per mutation, rejection messages in `lang`.
pub async fn push(token: &str, body: &str, lang: Lang) -> Result<PushResponse, ApiError> {
    send_json(
        gloo_net::http::Method::POST,
        "/api/v1/push",
        Some(token),
        lang,
        Some(body.to_owned()),
    )
    .await
}

/// `GET /api/v1/facilities/{id}/reports?days=…`: a facility's recent reports, newest first.
pub async fn facility_reports(id: FacilityId, days: u32) -> Result<ReportHistory, ApiError> {
    get_json(&format!("/api/v1/facilities/{id}/reports?days={days}")).await
}

/// The same history read into `T`, a view of [`ReportHistory`] with only the fields a caller
/// needs: the residents' 7-day chart reads a few numbers of each report and need not link the
/// full reports' parser (and its validation) for them.
pub async fn facility_reports_as<T: serde::de::DeserializeOwned>(
    id: FacilityId,
    days: u32,
) -> Result<T, ApiError> {
    get_json(&format!("/api/v1/facilities/{id}/reports?days={days}")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn error_bodies_are_read_and_others_keep_the_status() {
        let err = server_error(
            400,
            r#"{"error": {"code": "invalid_cursor", "message": "bad cursor"}}"#,
            None,
        );
        assert_eq!(err, ApiError::server(400, "invalid_cursor", "bad cursor"));
        assert!(!err.is_transient());
        let err = server_error(502, "<html>Bad gateway</html>", None);
        assert!(err.is_transient());
        assert!(err.user_message(Lang::En).contains("502"));
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn only_the_servers_unauthenticated_signs_a_phone_out() {
        let ours = server_error(
            401,
            r#"{"error": {"code": "unauthenticated", "message": "请重新登记"}}"#,
            None,
        );
        assert!(ours.is_unauthorized());
        assert!(!ours.is_transient());
        // A proxy's or a portal's 401: not our body, so a passing failure, retried.
        let proxy = server_error(401, "<html>Authorization Required</html>", None);
        assert!(!proxy.is_unauthorized());
        assert!(proxy.is_transient());
        assert!(!proxy.user_message(Lang::Zh).is_empty());
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn timeouts_are_retried_and_retry_after_is_read() {
        assert!(ApiError::Timeout(30).is_transient());
        let late = server_error(408, "", None);
        assert!(late.is_transient());
        assert_eq!(
            late.user_message(Lang::En),
            ApiError::Timeout(30).user_message(Lang::En)
        );
        let busy = server_error(
            503,
            r#"{"error": {"code": "unavailable", "message": "busy"}}"#,
            Some("7"),
        );
        assert!(busy.is_transient());
        assert_eq!(busy.retry_after(), Some(std::time::Duration::from_secs(7)));
        let dated = server_error(503, "", Some("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(dated.retry_after(), None);
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn registry_url_carries_cursor_and_limit() {
        assert_eq!(
            registry_url(Cursor::from_seq(42), 1000),
            "/api/v1/registry?since=42&limit=1000&format=columns"
        );
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn config_parses() {
        let config: ClientConfig = serde_json::from_str(
            r#"{"tile_url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "tile_attribution": "© OpenStreetMap contributors", "demo": true}"#,
        )
        .expect("valid config");
        assert!(config.demo);
    }
}
