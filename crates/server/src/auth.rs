//! Who may write: the bearer-token extractors and the limits on trying. What codes and tokens
//! are (random enrollment codes, device tokens, their SHA-256 hex) is [`crate::credentials`].
//!
//! - Enrollment codes come from `caremap-server user add` and `user code`; a phone trades one for
//!   a device token (`POST /api/v1/enroll`) and is shown the token once. Tokens are long-lived
//!   (doctors may be offline for weeks) and revoked with their account.
//! - [`Authenticated`] is the bearer-token extractor of `GET /api/v1/me`: a missing, unknown
//!   or revoked token is `401 unauthenticated` with `WWW-Authenticate: Bearer`. `POST
//!   /api/v1/push` only hashes the token ([`BearerHash`]); the store's push writer checks it in
//!   the transaction that writes (see [`crate::store::push`]), with the same 401.
//! - [`RateLimiter`] limits enrollment attempts per client address (token bucket).
//!
//! Tokens and codes are never logged: log lines name the account id.

use crate::error::ApiError;
use crate::store::Account;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use chrono::Utc;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

// What codes and tokens are lives in the leaf module `credentials`; re-exported here, where the
// command line, the routes and the tests have always found it.
pub use crate::credentials::{
    code_expiry, code_hash, new_enrollment_code, new_token, sha256_hex, RandomError,
    ENROLLMENT_CODE_DAYS, TOKEN_PREFIX, TOUCH_INTERVAL,
};

/// The token of an `Authorization: Bearer <token>` header, if it has that shape.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 256)
        .then_some(token)
}

/// The account behind a request's bearer token. Extracting it answers 401 `unauthenticated`
/// (with `WWW-Authenticate: Bearer`) when the token is missing, unknown or revoked, or its
/// account is revoked.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub account: Account,
    /// The stored form of the token (never the token itself).
    pub token_hash: String,
    /// Whether `last_used_at` is old enough to be written again.
    pub touch_due: bool,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        let token_hash = sha256_hex(token);
        let owner = state
            .store
            .authenticate(&token_hash)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let touch_due = owner
            .last_used_at
            .is_none_or(|at| Utc::now() - at >= TOUCH_INTERVAL);
        Ok(Authenticated {
            account: owner.account,
            token_hash,
            touch_due,
        })
    }
}

/// The SHA-256 hex of a request's bearer token, unchecked: `401 unauthenticated` (with
/// `WWW-Authenticate: Bearer`) only when there is none. For `POST /api/v1/push`, whose token the
/// store's writer checks in the transaction that writes.
#[derive(Debug, Clone)]
pub struct BearerHash(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerHash {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        bearer_token(&parts.headers)
            .map(|token| BearerHash(sha256_hex(token)))
            .ok_or(ApiError::Unauthenticated)
    }
}

/// The client's address as the rate limiter sees it: the TCP peer (the server must be served
/// with `into_make_service_with_connect_info::<SocketAddr>()`). IPv6 clients are keyed by their
/// /64, which one subscriber usually holds whole. Without connection info (a test serving the
/// bare router) every client shares one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientIp(rate_key(ip)))
    }
}

fn rate_key(ip: IpAddr) -> IpAddr {
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

/// A token bucket per client: `per_minute` attempts at once, refilled at `per_minute` a minute.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept before full ones are forgotten.
const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    /// A limiter of `per_minute` attempts a minute per client; 0 means no limit.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `ip`, or says in how many whole seconds the next one is allowed.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.check_at(ip, Instant::now())
    }

    fn check_at(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let refill = |b: &Bucket| {
            (b.tokens + now.duration_since(b.at).as_secs_f64() * per_second).min(capacity)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&ip) {
            buckets.retain(|_, b| refill(b) < capacity);
        }
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let tokens = refill(bucket);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            let wait = (1.0 - tokens) / per_second;
            Err((wait.ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            axum::http::HeaderValue::from_static("Bearer cm_abc"),
        );
        assert_eq!(bearer_token(&headers), Some("cm_abc"));
        headers.insert(
            header::AUTHORIZATION,
            axum::http::HeaderValue::from_static("Basic dXNlcjpwdw=="),
        );
        assert_eq!(bearer_token(&headers), None);
    }

    #[test]
    fn the_limiter_refuses_after_its_burst_and_refills() {
        let limiter = RateLimiter::new(3);
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at(ip, start), Ok(()));
        }
        assert_eq!(limiter.check_at(ip, start), Err(20));
        let other = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(limiter.check_at(other, start), Ok(()));
        let later = start + std::time::Duration::from_secs(21);
        assert_eq!(limiter.check_at(ip, later), Ok(()));
        assert!(RateLimiter::new(0).check_at(ip, start).is_ok());
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(rate_key(a), rate_key(b));
        let mapped: IpAddr = "::ffff:10.0.0.1"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(rate_key(mapped), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    }
}
