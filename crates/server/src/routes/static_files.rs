//! The built PWA from the dist directory: files, the SPA fallback, and caching headers.
//!
//! - A path that names a file serves it.
//! - A GET for a path that is not a file and has no extension in its last segment (a client
//!   route such as `/facility/<uuid>`) serves `index.html`, so deep links and reloads work. A
//!   missing `.js`/`.wasm`/... stays a 404: answering HTML for a script only confuses the browser.
//! - Files whose name carries Trunk's content hash (`caremap-<16 hex>_bg.wasm`) never change:
//!   `Cache-Control: public, max-age=31536000, immutable`. Everything else (`index.html`, the
//!   manifest, the service worker, icons) is `no-cache`: the browser revalidates it each time, so
//!   a new release reaches phones on their next visit.
//! - Without a dist directory the API still works and `/` says the PWA is not built.

use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const NO_CACHE: &str = "no-cache";

const NOT_BUILT: &str = "caremap server is running, but the PWA is not built.\n\
caremap 服务器已运行，但网页应用尚未构建。\n\n\
Build and serve it with: cargo xtask run\n\
The API is available under /api/v1/ (see /api/v1/openapi.json).\n";

/// Whether a file name carries Trunk's content hash: `-`, then the hash in hex (Trunk writes a
/// 64-bit hash without leading zeros, so 10 to 16 digits), then `.` or `_`
/// (`caremap-19d3c4d1f3f538e6_bg.wasm`, `leaflet-6c92c0056ca7a79.css`).
pub fn is_content_hashed(file_name: &str) -> bool {
    file_name.split('-').skip(1).any(|part| {
        let digits = part.bytes().take_while(u8::is_ascii_hexdigit).count();
        (10..=16).contains(&digits) && matches!(part.as_bytes().get(digits), Some(b'.' | b'_'))
    })
}

/// The `Cache-Control` for a file served from dist.
pub fn cache_control(file_name: &str) -> &'static str {
    if is_content_hashed(file_name) {
        IMMUTABLE
    } else {
        NO_CACHE
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

/// A client route (served by index.html) has no extension in its last segment.
fn is_client_route(path: &str) -> bool {
    !last_segment(path).contains('.')
}

/// Serves a non-API path from the dist directory.
pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    if !state.pwa_built {
        return if is_read && (path == "/" || path == "/index.html") {
            (
                [(header::CACHE_CONTROL, NO_CACHE)],
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                NOT_BUILT,
            )
                .into_response()
        } else {
            (StatusCode::NOT_FOUND, "not found\n").into_response()
        };
    }

    let dist = &state.config.dist;
    let (parts, body) = request.into_parts();
    let retry = is_read.then(|| {
        let mut again = Request::new(Body::empty());
        *again.method_mut() = parts.method.clone();
        *again.uri_mut() = parts.uri.clone();
        *again.headers_mut() = parts.headers.clone();
        again
    });
    let request = Request::from_parts(parts, body);

    let Ok(served) = ServeDir::new(dist).oneshot(request).await;
    let (mut response, file_name) = match retry {
        Some(retry) if served.status() == StatusCode::NOT_FOUND && is_client_route(&path) => {
            let Ok(index) = ServeFile::new(dist.join("index.html")).oneshot(retry).await;
            (index.map(Body::new), "index.html")
        }
        _ => {
            let name = last_segment(&path);
            (
                served.map(Body::new),
                if name.is_empty() { "index.html" } else { name },
            )
        }
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control(file_name)),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert!(is_content_hashed("caremap-3f2a9c1e8b7d6a5f_bg.wasm"));
        assert!(is_content_hashed("style-0123456789abcdef.css"));
        assert!(is_content_hashed("leaflet-6c92c0056ca7a79.css"));
        assert!(!is_content_hashed("icon-192.png"));
        assert!(!is_content_hashed("caremap-icon-maskable.png"));
        assert!(!is_content_hashed("index.html"));
        assert!(!is_content_hashed("leaflet.css"));
        assert!(!is_content_hashed("sw.js"));
        assert_eq!(cache_control("manifest.webmanifest"), NO_CACHE);
    }

    #[test]
    fn client_routes() {
        assert!(is_client_route(
            "/facility/6b1f3c2e-8d4a-4f0b-9a57-2c1e0d3b7e91"
        ));
        assert!(is_client_route("/"));
        assert!(!is_client_route("/caremap-0123456789abcdef_bg.wasm"));
    }
}
