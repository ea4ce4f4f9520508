//! The edge of the app: who the client is when a reverse proxy stands in front, whether the
//! request came over TLS, and the headers that depend on it.
//!
//! - **Client address.** The TCP peer, unless the peer is a configured trusted proxy
//!   ([`crate::ServerConfig::trusted_proxies`], `--trusted-proxy`): then the address comes from
//!   `Forwarded` (RFC 7239; `for=`), or when there is none from `X-Forwarded-For`, read **from
//!   the right**: proxies append, so the rightmost address that is not itself a trusted proxy
//!   is the one the nearest trusted proxy saw connecting. Addresses to its left were written by
//!   the client and are never believed. A peer that is not trusted cannot set any of this. Every
//!   rate limit (enrollment, failed authentications) keys on this address ([`ClientIp`]).
//! - **TLS.** A request came over HTTPS when the trusted proxy says so (`proto=https` in
//!   `Forwarded`, else `X-Forwarded-Proto: https`), or the configured public URL
//!   (`--public-url`) is `https://`. Then the answer carries `Strict-Transport-Security`.
//! - **No caching of credentials.** Every answer to a request that carries a bearer token, and
//!   every answer of `POST /api/v1/enroll` (which hands out a token and an account), is
//!   `Cache-Control: no-store`, so no proxy or browser cache keeps a token or an account.
//! - **Load shedding.** More than [`crate::ServerConfig::max_concurrent`] requests in progress:
//!   the next is answered 503 `unavailable` with `Retry-After` at once ([`shed`]).

use crate::error::{request_lang, ApiError};
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// `Strict-Transport-Security` of answers served over TLS: a year (no `includeSubDomains`:
/// the health office's other hosts are not ours to decide).
pub const HSTS: &str = "max-age=31536000";

/// Seconds a client is told to wait when a request was shed.
pub const SHED_RETRY_AFTER_SECS: u64 = 2;

/// The client's address as the rate limiters see it (IPv6 by its /64). Resolved once per request
/// by [`edge`]; without it (a router served without the middleware) the TCP peer, and without
/// connection info every client shares one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// Whether the request reached us (or the trusted proxy) over TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverTls(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ip) = parts.extensions.get::<ClientIp>() {
            return Ok(*ip);
        }
        Ok(ClientIp(rate_key(peer(parts))))
    }
}

fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// IPv6 clients are keyed by their /64, which one subscriber usually holds whole; IPv4-mapped
/// addresses as the IPv4 address.
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::V6(octets.into())
            }
        },
        v4 => v4,
    }
}

fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = unmapped(ip);
    proxies.iter().any(|net| net.contains(&ip))
}

/// One hop of a forwarding chain, left (the client's claim) to right (the nearest proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hop {
    /// `None`: a hop that names no address (`unknown`, an obfuscated name, garbage).
    addr: Option<IpAddr>,
    /// `proto=` of a `Forwarded` element.
    proto: Option<String>,
}

/// The client address and TLS flag of a request from `peer` (see the module docs).
pub fn resolve(
    peer: IpAddr,
    headers: &HeaderMap,
    proxies: &[IpNet],
    public_https: bool,
) -> (IpAddr, bool) {
    if !trusted(peer, proxies) {
        return (unmapped(peer), public_https);
    }
    let hops = forwarded_hops(headers).unwrap_or_else(|| x_forwarded_for(headers));
    let proto = hops
        .last()
        .and_then(|h| h.proto.clone())
        .or_else(|| last_value(headers, "x-forwarded-proto"));
    let tls = public_https || proto.is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let mut client = unmapped(peer);
    for hop in hops.iter().rev() {
        match hop.addr {
            Some(addr) if trusted(addr, proxies) => client = unmapped(addr),
            Some(addr) => return (unmapped(addr), tls),
            // A hop we cannot read: what lies left of it is no proxy's word; the last trusted
            // hop is the best we know.
            None => break,
        }
    }
    (client, tls)
}

/// The hops of every `Forwarded` header, in order; `None` when there is no such header.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Hop>> {
    let values: Vec<&str> = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return None;
    }
    let mut hops = Vec::new();
    for element in values.iter().flat_map(|v| split_outside_quotes(v, ',')) {
        let mut hop = Hop {
            addr: None,
            proto: None,
        };
        for pair in split_outside_quotes(element, ';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "for" => hop.addr = node_addr(value),
                "proto" => hop.proto = Some(value.to_owned()),
                _ => {}
            }
        }
        hops.push(hop);
    }
    Some(hops)
}

/// The hops of every `X-Forwarded-For` header, in order.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Hop> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|part| Hop {
            addr: node_addr(part.trim()),
            proto: None,
        })
        .collect()
}

/// The rightmost comma-separated value of a header, if any.
fn last_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty())
        .map(str::to_owned)
}

/// An RFC 7239 node (`192.0.2.1`, `192.0.2.1:443`, `[2001:db8::1]:4711`, `2001:db8::1`) as an
/// address; `None` for `unknown`, obfuscated names and anything else.
fn node_addr(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse().ok();
    }
    node.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// Splits at `sep` where it is not inside a quoted string.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(text[start..i].trim());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// Middleware: resolves the client address and TLS once (into the request's extensions), then
/// adds HSTS over TLS and `Cache-Control: no-store` to answers that may carry a token or an
/// account.
pub async fn edge(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let public_https = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|url| url.trim().to_ascii_lowercase().starts_with("https://"));
    let (client, tls) = resolve(
        peer,
        request.headers(),
        &state.config.trusted_proxies,
        public_https,
    );
    let credentials = request.headers().contains_key(header::AUTHORIZATION)
        || request.uri().path() == "/api/v1/enroll";
    request.extensions_mut().insert(ClientIp(rate_key(client)));
    request.extensions_mut().insert(OverTls(tls));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if credentials {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The answer to a request shed by the concurrency limit (or failed by another tower layer):
/// 503 `unavailable` with `Retry-After`, in the request's language.
pub async fn shed(headers: HeaderMap, err: tower::BoxError) -> Response {
    let lang = request_lang(&headers);
    if !err.is::<tower::load_shed::error::Overloaded>() {
        tracing::error!(error = %err, "middleware error");
        return ApiError::Internal.render_in(lang);
    }
    tracing::warn!("too many requests in progress; shedding one");
    ApiError::Busy {
        retry_after_secs: SHED_RETRY_AFTER_SECS,
    }
    .render_in(lang)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn proxies() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_an_address() {
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            resolve(ip("198.51.100.9"), &h, &proxies(), false),
            (ip("198.51.100.9"), false)
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &h, &[], false),
            (ip("10.0.0.1"), false)
        );
    }

    #[test]
    fn the_rightmost_untrusted_address_is_the_client() {
        // The client wrote "6.6.6.6" itself; the trusted proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.5, 10.0.0.7")]);
        assert_eq!(
            resolve(ip("10.0.0.2"), &h, &proxies(), false).0,
            ip("203.0.113.5")
        );
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.5"),
        ]);
        assert_eq!(
            resolve(ip("10.0.0.2"), &h, &proxies(), false).0,
            ip("203.0.113.5")
        );
        // Only proxies in the chain: the leftmost of them.
        let h = headers(&[("x-forwarded-for", "10.0.0.9")]);
        assert_eq!(resolve(ip("::1"), &h, &proxies(), false).0, ip("10.0.0.9"));
        // Garbage stops the walk at the last trusted hop.
        let h = headers(&[("x-forwarded-for", "203.0.113.5, nonsense")]);
        assert_eq!(
            resolve(ip("10.0.0.2"), &h, &proxies(), false).0,
            ip("10.0.0.2")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_says_the_protocol() {
        let h = headers(&[
            (
                "forwarded",
                r#"for=6.6.6.6;proto=http, for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.2"#,
            ),
            ("x-forwarded-for", "192.0.2.1"),
        ]);
        assert_eq!(
            resolve(ip("10.0.0.2"), &h, &proxies(), false),
            (ip("2001:db8:cafe::17"), true)
        );
        let h = headers(&[("forwarded", "for=unknown;proto=https")]);
        assert_eq!(
            resolve(ip("10.0.0.2"), &h, &proxies(), false),
            (ip("10.0.0.2"), true)
        );
        let h = headers(&[
            ("x-forwarded-for", "192.0.2.1:5555"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            resolve(ip("::ffff:10.0.0.2"), &h, &proxies(), false),
            (ip("192.0.2.1"), true)
        );
    }

    #[test]
    fn a_public_https_url_means_tls() {
        assert_eq!(
            resolve(ip("198.51.100.9"), &HeaderMap::new(), &[], true),
            (ip("198.51.100.9"), true)
        );
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        assert_eq!(
            rate_key(ip("2001:db8:1:2:aaaa::1")),
            rate_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_eq!(rate_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    }
}
