//! Who may write: accounts, one-time enrollment codes, device tokens, and the limits on trying.
//!
//! - An **enrollment code** (`caremap-server user add`, `user code`) is 12 symbols of Crockford's
//!   base32 (60 bits) from the operating system's CSPRNG, valid for [`ENROLLMENT_CODE_DAYS`]
//!   days and once. Only its SHA-256 (of [`EnrollmentCode::as_str`]) is stored.
//! - A **device token** is `cm_` followed by the unpadded base64url of 32 random bytes (256
//!   bits), made when a phone trades a code (`POST /api/v1/enroll`) and shown to it once. Only
//!   its SHA-256 hex is stored, so a copy of the database lets nobody write. Tokens are
//!   long-lived (doctors may be offline for weeks) and revoked with their account.
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
use base64::Engine as _;
use caremap_model::EnrollmentCode;
use chrono::{DateTime, Duration, Utc};
use rand::TryRngCore as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// How long an enrollment code can be used.
pub const ENROLLMENT_CODE_DAYS: i64 = 7;

/// The prefix of every device token (so a leaked one is recognisable in a scan of logs or code).
pub const TOKEN_PREFIX: &str = "cm_";

/// Random bytes in a device token.
const TOKEN_BYTES: usize = 32;

/// A token's `last_used_at` is written at most this often (a write per request would cost the
/// push path a database write for nothing).
pub const TOUCH_INTERVAL: Duration = Duration::minutes(5);

/// The operating system's random source failed; nothing secret can be made.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);

fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| RandomError(e.to_string()))?;
    Ok(bytes)
}

/// A fresh enrollment code from the operating system's CSPRNG.
pub fn new_enrollment_code() -> Result<EnrollmentCode, RandomError> {
    // 256 is a multiple of 32, so `% 32` (in from_symbols) keeps every symbol equally likely.
    Ok(EnrollmentCode::from_symbols(random_bytes::<
        { EnrollmentCode::LEN },
    >()?))
}

/// When a code made now stops working.
pub fn code_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(ENROLLMENT_CODE_DAYS)
}

/// A fresh device token: `cm_` + base64url(32 random bytes).
pub fn new_token() -> Result<String, RandomError> {
    let bytes = random_bytes::<TOKEN_BYTES>()?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// SHA-256 as lower-case hex: how codes and tokens are stored and looked up.
pub fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

/// The stored form of an enrollment code.
pub fn code_hash(code: &EnrollmentCode) -> String {
    sha256_hex(code.as_str())
}

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
    fn tokens_are_long_random_and_hashed() {
        let (a, b) = (new_token().ok(), new_token().ok());
        let a = a.unwrap_or_default();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_ne!(Some(a.clone()), b);
        assert_eq!(sha256_hex(&a).len(), 64);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn codes_parse_back() {
        let code = new_enrollment_code().ok();
        let parsed = code
            .as_ref()
            .and_then(|c| EnrollmentCode::parse(&c.display()).ok());
        assert!(code.is_some());
        assert_eq!(parsed, code);
    }

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
