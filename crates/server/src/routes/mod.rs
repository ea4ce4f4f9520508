//! The HTTP surface: the app factory [`app`] and one module per group of endpoints.
//!
//! `/api/v1/...` is the JSON API (unknown API paths answer a JSON 404); everything else is the
//! PWA from the dist directory, with an SPA fallback for client routes.

pub mod accounts;
pub mod config;
pub mod export;
pub mod health;
pub mod openapi;
pub mod push;
pub mod registry;
pub mod reports;
pub mod static_files;
pub mod timetables;

use crate::error::{localize, ApiError};
use crate::{edge, security, AppState};
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{any, get, post};
use axum::{middleware, Router};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_http::CompressionLevel;

/// The whole app: API, static PWA, and the layers every response passes through.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/registry", get(registry::registry))
        .route("/timetables", get(timetables::timetables))
        .route("/enroll", post(accounts::enroll))
        .route("/me", get(accounts::me))
        .route("/push", post(push::push))
        .route("/facilities/{id}/reports", get(reports::history))
        .route("/export/{format}", get(export::export))
        .route("/config", get(config::config))
        .route("/health", get(health::health))
        .route("/openapi.json", get(openapi::openapi_json))
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed);

    let mut router = Router::new();
    if let Some(file) = &state.config.tiles.pmtiles {
        // Our own vector base map, read by the PWA with Range requests (ServeFile answers
        // them with 206; the compression layer leaves partial responses alone).
        router = router.route_service(
            crate::tiles::PMTILES_PATH,
            tower_http::services::ServeFile::new(file),
        );
    }
    let mut router = router
        .nest("/api/v1", api)
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .fallback(static_files::serve)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(RequestBodyLimitLayer::new(state.config.body_limit))
        .layer(middleware::from_fn(localize));
    for layer in security::header_layers(state.csp.clone()) {
        router = router.layer(layer);
    }
    // Client address and TLS (behind a trusted proxy, from its headers), HSTS, no-store.
    router = router.layer(middleware::from_fn_with_state(state.clone(), edge::edge));
    let max_concurrent = state.config.max_concurrent.max(1);
    router
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(
                    // Brotli 6 instead of tower-http's 4: a registry page of 1,000 facilities
                    // (600 KB of JSON) comes out 9 % smaller for about 1 ms more; gzip 6 is
                    // gzip's own default.
                    CompressionLayer::new()
                        .gzip(true)
                        .br(true)
                        .quality(CompressionLevel::Precise(6)),
                ),
        )
        // Outermost: beyond `max_concurrent` requests in progress (one semaphore for every
        // route), the next is answered 503 with `Retry-After` at once instead of queueing.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(edge::shed))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    max_concurrent,
                )),
        )
        .with_state(state)
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound
}

async fn api_method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
