//! caremap-server: the sync server of caremap, as a library so tests serve the real app.
//!
//! [`app`] builds the axum [`Router`] from an [`AppState`]; `main.rs` only parses the command line
//! ([`cli`]) and calls in here. Rooms: [`routes`] (HTTP endpoints and static files), [`store`]
//! (storage trait and its SQLite/PostgreSQL backends), [`import`] (GeoJSON and CSV registry
//! files), [`demo`] (the demo registry), [`error`] (the API's error shape), [`security`]
//! (CSP and other headers), [`auth`] (accounts, codes, device tokens, rate limits),
//! [`config`].

pub mod auth;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod edge;
pub mod error;
pub mod export;
pub mod feed;
pub mod import;
pub mod routes;
pub mod security;
pub mod store;
pub mod tiles;
pub mod transfers;

pub use config::ServerConfig;
pub use routes::app;

use axum::http::HeaderValue;
use std::sync::Arc;
use store::SharedStore;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: SharedStore,
    pub config: Arc<ServerConfig>,
    /// The Content-Security-Policy, computed once from `dist/index.html` and the tile origin.
    pub csp: HeaderValue,
    /// Whether `dist/index.html` exists; without it, `/` explains how to build the PWA.
    pub pwa_built: bool,
    /// Limits `POST /api/v1/enroll` per client address.
    pub enroll_limiter: Arc<auth::RateLimiter>,
    /// The columnar registry pages, brotli-compressed once (`format=columns`).
    pub feed_cache: Arc<feed::FeedCache>,
    /// Working tokens remembered, failed authentications limited per client.
    pub gate: Arc<auth::AuthGate>,
    /// `/health`'s facility count, kept between changes.
    pub health: Arc<routes::health::HealthCount>,
    /// The registry's timetables, compiled for the weeks ahead (`GET /api/v1/timetables`).
    pub timetables: Arc<routes::timetables::TimetableCache>,
}

impl AppState {
    /// Reads `dist/index.html` and the staff app's `dist/staff/index.html` (if there) for the
    /// inline-script hashes of the CSP.
    pub fn new(store: SharedStore, config: ServerConfig) -> Self {
        let index = config.dist.join("index.html");
        let (mut hashes, pwa_built) = match std::fs::read_to_string(&index) {
            Ok(html) => (security::script_hashes(&html), true),
            Err(err) => {
                tracing::warn!(path = %index.display(), error = %err, "PWA not built: serving the API only");
                (Vec::new(), false)
            }
        };
        let staff = config.dist.join(routes::static_files::STAFF_SHELL);
        match std::fs::read_to_string(&staff) {
            Ok(html) => hashes.extend(security::script_hashes(&html)),
            Err(err) if pwa_built => {
                tracing::warn!(path = %staff.display(), error = %err, "staff app not built: /report is the residents' app's not-found page");
            }
            Err(_) => {}
        }
        hashes.sort();
        hashes.dedup();
        let csp = security::content_security_policy(&hashes, &config.tiles.origins());
        let csp = HeaderValue::from_str(&csp).unwrap_or_else(|err| {
            tracing::error!(error = %err, "CSP is not a valid header value; using the strictest");
            HeaderValue::from_static("default-src 'none'")
        });
        AppState {
            store,
            enroll_limiter: Arc::new(auth::RateLimiter::new(config.enroll_per_minute)),
            gate: Arc::new(auth::AuthGate::new(config.auth_failures_per_minute)),
            health: Arc::default(),
            config: Arc::new(config),
            csp,
            pwa_built,
            feed_cache: Arc::default(),
            timetables: Arc::default(),
        }
    }
}
