//! The server's settings, as the CLI (or a test) gives them, and what is derived from them at
//! start-up: the tile origin for the Content-Security-Policy.

use crate::tiles::TileSettings;
use caremap_model::FreshnessThresholds;
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DIST: &str = "dist";
pub const DEFAULT_TILE_URL: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
pub const DEFAULT_TILE_ATTRIBUTION: &str = "© OpenStreetMap contributors";
/// Enrollment attempts a client may make a minute.
pub const DEFAULT_ENROLL_PER_MINUTE: u32 = 10;
/// Longest `POST /api/v1/push` waits for the push writer (see [`ServerConfig::push_deadline`]):
/// well inside the request timeout (30 s), so a phone hears 503 with `Retry-After`, not 408.
pub const DEFAULT_PUSH_DEADLINE: Duration = Duration::from_secs(10);
/// Failed authentications (unknown or revoked bearer tokens) a client may make a minute.
pub const DEFAULT_AUTH_FAILURES_PER_MINUTE: u32 = 30;
/// Requests served at once before more are shed with 503 (see [`ServerConfig::max_concurrent`]).
pub const DEFAULT_MAX_CONCURRENT: usize = 512;

/// Settings of the HTTP app (not of the listener or the database).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Directory of the built PWA (Trunk's `dist/`). May be missing: the API is served anyway.
    pub dist: PathBuf,
    /// The base map: the tile provider's preset resolved (`crate::tiles`), our PMTiles file.
    pub tiles: TileSettings,
    /// Largest request body accepted.
    pub body_limit: usize,
    /// Longest a request may take before it is answered with 408.
    pub request_timeout: Duration,
    /// When a facility's status turns ageing and stale (published to the PWA in `/config`).
    pub freshness: FreshnessThresholds,
    /// `POST /api/v1/enroll` attempts per client address a minute (a burst of as many, then
    /// refilled evenly); 0 for no limit.
    pub enroll_per_minute: u32,
    /// Longest a push waits for the write queue to commit it before it is answered 503
    /// `unavailable` with `Retry-After`. The push stays queued and may still be committed; its
    /// resend then answers `duplicate` (ids are idempotency keys), so nothing is stored twice.
    pub push_deadline: Duration,
    /// Bearer-token look-ups that fail (unknown, revoked) a client address may cause a minute
    /// (a burst of as many, refilled evenly), then 429 `rate_limited`; 0 for no limit.
    pub auth_failures_per_minute: u32,
    /// Requests in progress at once; one more is answered 503 `unavailable` with
    /// `Retry-After` at once (load shedding) instead of queueing.
    pub max_concurrent: usize,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` / `X-Forwarded-Proto` headers are
    /// believed (see [`crate::edge`]); empty: the TCP peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The address people reach the server at, e.g. `https://caremap.example.org`; an
    /// `https` URL makes every answer carry HSTS.
    pub public_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            dist: PathBuf::from(DEFAULT_DIST),
            tiles: TileSettings::default(),
            body_limit: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            freshness: FreshnessThresholds::default(),
            enroll_per_minute: DEFAULT_ENROLL_PER_MINUTE,
            push_deadline: DEFAULT_PUSH_DEADLINE,
            auth_failures_per_minute: DEFAULT_AUTH_FAILURES_PER_MINUTE,
            max_concurrent: DEFAULT_MAX_CONCURRENT,
            trusted_proxies: Vec::new(),
            public_url: None,
        }
    }
}

/// Parses `--trusted-proxy`: an address (`10.0.0.1`, `::1`) or a network (`10.0.0.0/8`).
pub fn parse_trusted_proxy(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("expected an IP address or a network such as 10.0.0.0/8, not “{raw}”"))
}

/// The origin (scheme, host, port) tiles are loaded from, as a CSP source expression.
///
/// A `{s}` subdomain placeholder becomes a wildcard (`https://*.tile.example.org`). `None` when
/// the template is not an absolute http(s) URL (e.g. tiles served by this server: `'self'`
/// covers them) or contains characters a CSP source cannot carry.
pub fn tile_origin(template: &str) -> Option<String> {
    let (scheme, rest) = template.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    // A label holding `{s}` (`t{s}.tianditu.gov.cn`, `webrd0{s}.is.autonavi.com`) becomes a
    // wildcard: CSP allows `*` only as a whole leftmost label.
    let mut labels: Vec<&str> = host_port.split('.').collect();
    let templated = labels.iter().rposition(|l| l.contains("{s}"));
    if let Some(last) = templated {
        labels.drain(..=last);
        labels.insert(0, "*");
    }
    let host_port = labels.join(".");
    let valid = !host_port.is_empty()
        && host_port
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*' | '[' | ']'));
    valid.then(|| format!("{scheme}://{}", host_port.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_origins() {
        assert_eq!(
            tile_origin(DEFAULT_TILE_URL).as_deref(),
            Some("https://tile.openstreetmap.org")
        );
        assert_eq!(
            tile_origin("https://{s}.tile.example.org:8443/{z}/{x}/{y}.png").as_deref(),
            Some("https://*.tile.example.org:8443")
        );
        assert_eq!(
            tile_origin("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}").as_deref(),
            Some("https://*.is.autonavi.com")
        );
        assert_eq!(tile_origin("/tiles/{z}/{x}/{y}.png"), None);
        assert_eq!(tile_origin("https://bad host/{z}"), None);
    }

    #[test]
    fn trusted_proxies() {
        let net = parse_trusted_proxy("10.0.0.0/8").expect("network");
        assert!(net.contains(&"10.1.2.3".parse::<std::net::IpAddr>().expect("ip")));
        let one = parse_trusted_proxy(" 192.0.2.7 ").expect("address");
        assert_eq!(one.to_string(), "192.0.2.7/32");
        assert!(parse_trusted_proxy("::1").is_ok());
        assert!(parse_trusted_proxy("proxy.local").is_err());
    }
}
