//! How the app answers when the store is slow or failing: our error shape, no internal detail.

use async_trait::async_trait;
use caremap_model::{
    Cursor, Facility, FacilityId, FacilityRecord, MutationResult, PageLimit, ReportRecord,
};
use caremap_server::store::push::PushBatch;
use caremap_server::store::{
    Account, AccountSummary, CodeOutcome, DeleteOutcome, NewAccount, RawPage, RevokeOutcome, Store,
    StoreError, TokenOwner, UpsertOutcome,
};
use caremap_server::{AppState, ServerConfig};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// A store whose every call fails the way its mode says.
struct BrokenStore {
    mode: Mode,
}

#[derive(Clone, Copy)]
enum Mode {
    /// Never answers in time.
    Slow,
    /// The pool cannot get a connection: the database is down.
    Unreachable,
    /// Something internal went wrong, with detail that must not reach the caller.
    Corrupt,
}

impl BrokenStore {
    async fn fail<T>(&self) -> Result<T, StoreError> {
        match self.mode {
            Mode::Slow => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Err(StoreError::Database(sqlx::Error::PoolTimedOut))
            }
            Mode::Unreachable => Err(StoreError::Database(sqlx::Error::PoolTimedOut)),
            Mode::Corrupt => Err(StoreError::Corrupt {
                id: "secret-row-id".to_owned(),
                detail: "SELECT * FROM secret_table".to_owned(),
            }),
        }
    }
}

#[async_trait]
impl Store for BrokenStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn upsert_batch(
        &self,
        _: &[(FacilityId, Facility)],
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        self.fail().await
    }
    async fn delete(&self, _: FacilityId) -> Result<DeleteOutcome, StoreError> {
        self.fail().await
    }
    async fn delete_batch(&self, _: &[FacilityId]) -> Result<Vec<DeleteOutcome>, StoreError> {
        self.fail().await
    }
    async fn get(&self, _: FacilityId) -> Result<Option<FacilityRecord>, StoreError> {
        self.fail().await
    }
    async fn count(&self) -> Result<u64, StoreError> {
        self.fail().await
    }
    async fn consistency(&self) -> Result<caremap_server::store::check::Consistency, StoreError> {
        self.fail().await
    }
    async fn has_demo_data(&self) -> Result<bool, StoreError> {
        self.fail().await
    }
    async fn list(&self) -> Result<Vec<FacilityRecord>, StoreError> {
        self.fail().await
    }
    async fn registry_page_raw(&self, _: Cursor, _: PageLimit) -> Result<RawPage, StoreError> {
        self.fail().await
    }
    async fn create_account(
        &self,
        _: &NewAccount,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        self.fail().await
    }
    async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError> {
        self.fail().await
    }
    async fn revoke_account(&self, _: i64) -> Result<RevokeOutcome, StoreError> {
        self.fail().await
    }
    async fn replace_enrollment_code(
        &self,
        _: i64,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<CodeOutcome, StoreError> {
        self.fail().await
    }
    async fn enroll(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<Option<Account>, StoreError> {
        self.fail().await
    }
    async fn authenticate(&self, _: &str) -> Result<Option<TokenOwner>, StoreError> {
        self.fail().await
    }
    async fn touch_token(&self, _: &str) -> Result<(), StoreError> {
        self.fail().await
    }
    async fn push(&self, _: PushBatch) -> Result<Option<Vec<MutationResult>>, StoreError> {
        self.fail().await
    }
    async fn report_history(
        &self,
        _: FacilityId,
        _: DateTime<Utc>,
    ) -> Result<Vec<ReportRecord>, StoreError> {
        self.fail().await
    }
}

async fn serve(mode: Mode) -> String {
    let config = ServerConfig {
        dist: crate::helpers::fixture_dist(),
        request_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let state = AppState::new(Arc::new(BrokenStore { mode }), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, caremap_server::app(state))
            .await
            .expect("serve");
    });
    format!("http://{address}")
}

async fn error(url: &str, path: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON error body"))
}

#[tokio::test]
async fn a_slow_request_times_out_with_408() {
    let url = serve(Mode::Slow).await;
    let (status, body) = error(&url, "/api/v1/registry").await;
    assert_eq!(status, 408);
    assert_eq!(body["error"]["code"], "timeout");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("timed out")));
}

#[tokio::test]
async fn an_unreachable_database_is_503() {
    let url = serve(Mode::Unreachable).await;
    for path in [
        "/api/v1/health",
        "/api/v1/registry",
        "/api/v1/config",
        "/api/v1/facilities/6b1f3c2e-8d4a-4f0b-9a57-2c1e0d3b7e91/reports",
    ] {
        let (status, body) = error(&url, path).await;
        assert_eq!(status, 503, "{path}");
        assert_eq!(body["error"]["code"], "unavailable");
    }
}

#[tokio::test]
async fn internal_errors_are_500_without_detail() {
    let url = serve(Mode::Corrupt).await;
    let (status, body) = error(&url, "/api/v1/registry").await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["code"], "internal");
    let text = body.to_string();
    assert!(!text.contains("secret"), "{text}");
    // Static files do not need the store.
    let index = reqwest::get(format!("{url}/")).await.expect("request");
    assert_eq!(index.status(), 200);
}

#[tokio::test]
async fn writes_with_an_unreachable_database_are_503_and_never_acknowledged() {
    let url = serve(Mode::Unreachable).await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{url}/api/v1/push"))
        .bearer_auth("cm_whatever")
        .json(&serde_json::json!({"mutations": []}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 503);
    let response = client
        .post(format!("{url}/api/v1/enroll"))
        .json(&serde_json::json!({"code": "ABCD-EFGH-JKMN"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 503);
}
