//! The typed HTTP client of the sync server's API (`/api/v1/...`), over gloo-net.
//!
//! It only speaks HTTP: what the app keeps of the answers lives in [`crate::registry`], so an
//! IndexedDB store can later sit between the two without the UI noticing.

use crate::i18n::{locale_of, td_string};
use caremap_model::{
    AccountInfo, ApiErrorCode, ColumnarPage, Cursor, EnrollRequest, EnrollResponse, ErrorBody,
    FacilityId, FacilityRecord, Lang, Mutation, PushRequest, PushResponse, RegistryPage,
    ReportHistory,
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
    /// The server answered with an error status (and, usually, our error body).
    #[error("server error {status}: {code}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The server answered 2xx with a body we could not read.
    #[error("unexpected answer: {0}")]
    Decode(String),
    /// The registry feed kept saying `has_more` past any plausible size.
    #[error("the registry feed does not end")]
    EndlessFeed,
}

impl ApiError {
    /// Whether the server refused our credentials (401): the device token is unknown or was
    /// revoked, and only a new enrollment helps.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Server { status: 401, .. })
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

    /// Whether trying again later may help (offline, timeouts, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Network(_) => true,
            ApiError::Server { status, .. } => *status >= 500 || *status == 429,
            ApiError::Decode(_) | ApiError::EndlessFeed => false,
        }
    }

    /// One line for a user, in their language.
    pub fn user_message(&self, lang: Lang) -> String {
        let locale = locale_of(lang);
        match self {
            ApiError::Network(_) => td_string!(locale, api_network).to_owned(),
            ApiError::Server { status, .. } if *status >= 500 => {
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
fn server_error(status: u16, body: &str) -> ApiError {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => ApiError::Server {
            status,
            code: error.code.as_str().to_owned(),
            message: error.message,
        },
        Err(_) => ApiError::Server {
            status,
            code: "http_error".to_owned(),
            message: format!("HTTP {status}"),
        },
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    let response: Response = Request::get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|err| ApiError::Network(err.to_string()))?;
    if !response.ok() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(server_error(status, &body));
    }
    let body = response
        .text()
        .await
        .map_err(|err| ApiError::Network(err.to_string()))?;
    serde_json::from_str(&body).map_err(|err| ApiError::Decode(err.to_string()))
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

/// How long a write request may take before it counts as a network failure (and is retried):
/// on a weak link a request can stall with no error at all.
const WRITE_TIMEOUT_MS: i32 = 30_000;

/// Sends `body` as JSON to `url` with `method`, in the interface language (the server's error
/// messages come back in it) and with the device token if there is one; reads a JSON answer.
async fn send_json<B: Serialize, T: serde::de::DeserializeOwned>(
    method: gloo_net::http::Method,
    url: &str,
    token: Option<&str>,
    lang: Lang,
    body: Option<&B>,
) -> Result<T, ApiError> {
    let mut builder = gloo_net::http::RequestBuilder::new(url)
        .method(method)
        .header("Accept", "application/json")
        .header("Accept-Language", lang.tag());
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    // Aborted after WRITE_TIMEOUT_MS: the fetch then fails like a dropped connection.
    let controller = web_sys::AbortController::new().ok();
    let timer = controller.as_ref().and_then(|c| {
        let c = c.clone();
        let abort = wasm_bindgen::closure::Closure::once_into_js(move || c.abort());
        web_sys::window()?
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                wasm_bindgen::JsCast::unchecked_ref(&abort),
                WRITE_TIMEOUT_MS,
            )
            .ok()
    });
    builder = builder.abort_signal(controller.as_ref().map(|c| c.signal()).as_ref());
    let request = match body {
        Some(body) => builder.json(body),
        None => builder.build(),
    }
    .map_err(|err| ApiError::Decode(err.to_string()))?;
    let sent = request.send().await;
    let outcome = async {
        let response = sent.map_err(|err| ApiError::Network(err.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|err| ApiError::Network(err.to_string()))?;
        if !response.ok() {
            return Err(server_error(status, &text));
        }
        serde_json::from_str(&text).map_err(|err| ApiError::Decode(err.to_string()))
    }
    .await;
    if let (Some(timer), Some(window)) = (timer, web_sys::window()) {
        window.clear_timeout_with_handle(timer);
    }
    outcome
}

/// `POST /api/v1/enroll`: trades a one-time enrollment code for a device token.
pub async fn enroll(request: &EnrollRequest, lang: Lang) -> Result<EnrollResponse, ApiError> {
    send_json(
        gloo_net::http::Method::POST,
        "/api/v1/enroll",
        None,
        lang,
        Some(request),
    )
    .await
}

/// `GET /api/v1/me`: the account the device token belongs to (401 once it is revoked).
pub async fn me(token: &str, lang: Lang) -> Result<AccountInfo, ApiError> {
    send_json::<(), _>(
        gloo_net::http::Method::GET,
        "/api/v1/me",
        Some(token),
        lang,
        None,
    )
    .await
}

/// `POST /api/v1/push`: sends mutations in order; the answer has one result per mutation,
/// rejection messages in `lang`.
pub async fn push(
    token: &str,
    mutations: &[Mutation],
    lang: Lang,
) -> Result<PushResponse, ApiError> {
    let body = PushRequest {
        mutations: mutations.to_vec(),
    };
    send_json(
        gloo_net::http::Method::POST,
        "/api/v1/push",
        Some(token),
        lang,
        Some(&body),
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
        );
        assert_eq!(
            err,
            ApiError::Server {
                status: 400,
                code: "invalid_cursor".into(),
                message: "bad cursor".into()
            }
        );
        assert!(!err.is_transient());
        let err = server_error(502, "<html>Bad gateway</html>");
        assert!(err.is_transient());
        assert!(err.user_message(Lang::En).contains("502"));
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
