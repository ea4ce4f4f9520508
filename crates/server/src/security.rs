//! Security headers on every response, above all the Content-Security-Policy.
//!
//! The policy allows scripts only from this origin, plus WebAssembly compilation
//! (`'wasm-unsafe-eval'`) and the inline `<script type="module">` loader Trunk writes into
//! `dist/index.html`, allowed by the SHA-256 hash of its exact text (computed at start-up from the
//! file, so a rebuild with a different loader needs a restart, not a config change). Map tiles
//! may come from the tile server's origin: as images (`img-src`, Leaflet's `<img>`), and as
//! fetches (`connect-src`), because the service worker fetches the tiles it caches and a
//! worker's fetches fall under `connect-src`. The service worker and its Workbox runtime are
//! files of this origin (`worker-src 'self'`, `script-src 'self'`) and need no inline script.

use axum::http::{header, HeaderName, HeaderValue};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

/// The text of every inline `<script>` (one without `src`) in an HTML document, exactly as
/// written between the tags: what a browser hashes for CSP.
pub fn inline_scripts(html: &str) -> Vec<&str> {
    let lower = html.to_ascii_lowercase();
    let mut scripts = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<script").map(|i| from + i) {
        let Some(tag_end) = lower[start..].find('>').map(|i| start + i) else {
            break;
        };
        let tag = &lower[start..tag_end];
        let Some(close) = lower[tag_end..].find("</script").map(|i| tag_end + i) else {
            break;
        };
        if !has_src_attribute(tag) {
            // ASCII lower-casing keeps byte offsets, so they index the original text.
            scripts.push(&html[tag_end + 1..close]);
        }
        from = close;
    }
    scripts
}

fn has_src_attribute(tag: &str) -> bool {
    tag.split(|c: char| c.is_ascii_whitespace())
        .any(|attr| attr == "src" || attr.starts_with("src="))
}

/// `'sha256-…'` source expressions for the inline scripts of `html`.
pub fn script_hashes(html: &str) -> Vec<String> {
    inline_scripts(html)
        .into_iter()
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect()
}

/// The Content-Security-Policy for the given inline-script hashes and tile origins.
pub fn content_security_policy(script_hashes: &[String], tile_origins: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in script_hashes {
        script_src.push(' ');
        script_src.push_str(hash);
    }
    let mut img_src = String::from("'self' data:");
    let mut connect_src = String::from("'self'");
    for origin in tile_origins {
        for directive in [&mut img_src, &mut connect_src] {
            directive.push(' ');
            directive.push_str(origin);
        }
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; img-src {img_src}; \
         connect-src {connect_src}; worker-src 'self'; manifest-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// The layers that add the security headers. Handlers that set their own value keep it.
pub fn header_layers(
    csp: HeaderValue,
) -> impl IntoIterator<Item = SetResponseHeaderLayer<HeaderValue>> {
    [
        (header::CONTENT_SECURITY_POLICY, csp),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("geolocation=(self)"),
        ),
    ]
    .map(|(name, value)| SetResponseHeaderLayer::if_not_present(name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_inline_scripts_only() {
        let html = r#"<html><head><script src="/a.js"></script>
<SCRIPT type="module">import init from '/x.js';
init();</SCRIPT><script>1</script></head></html>"#;
        assert_eq!(
            inline_scripts(html),
            ["import init from '/x.js';\ninit();", "1"]
        );
    }

    #[test]
    fn tiles_may_be_shown_and_fetched_by_the_service_worker() {
        let csp = content_security_policy(
            &[],
            &[
                "https://*.tile.example.org".into(),
                "https://labels.example".into(),
            ],
        );
        assert!(
            csp.contains("img-src 'self' data: https://*.tile.example.org https://labels.example;"),
            "{csp}"
        );
        assert!(
            csp.contains("connect-src 'self' https://*.tile.example.org https://labels.example;"),
            "{csp}"
        );
        assert!(csp.contains("worker-src 'self';"), "{csp}");
        assert!(csp.contains("manifest-src 'self';"), "{csp}");
        let same_origin = content_security_policy(&[], &[]);
        assert!(same_origin.contains("connect-src 'self';"), "{same_origin}");
    }

    #[test]
    fn hash_matches_a_known_value() {
        // printf '%s' 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            script_hashes("<script>alert(1)</script>"),
            ["'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"]
        );
    }
}
