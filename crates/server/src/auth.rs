//! Who may write: the bearer-token extractors and the limits on trying. What codes and tokens
//! are (random enrollment codes, device tokens, their SHA-256 hex) is [`crate::credentials`].
//!
//! - Enrollment codes come from `caremap-server user add` and `user code`; a phone trades one for
//!   a device token (`POST /api/v1/enroll`) and is shown the token once. Tokens are long-lived
//!   (doctors may be offline for weeks) and revoked with their account.
//! - [`Authenticated`] is the bearer-token extractor of `GET /api/v1/me`: a missing, unknown
//!   or revoked token is `401 unauthenticated` with `WWW-Authenticate: Bearer`. `POST
//!   /api/v1/push` takes [`BearerHash`]: a token that does not exist is refused before the
//!   body is read; the store's push writer checks it again in the transaction that writes (see
//!   [`crate::store::push`]), with the same 401.
//! - [`AuthGate`] remembers working tokens and limits failed look-ups per client (429);
//!   [`RateLimiter`] is its token bucket, and limits enrollment attempts too.
//!
//! Tokens and codes are never logged: log lines name the account id.

use crate::error::ApiError;
use crate::store::Account;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use chrono::Utc;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let owner = state.gate.look_up(&state.store, ip, &token_hash).await?;
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

/// The SHA-256 hex of a request's bearer token, for `POST /api/v1/push`: extracted before the
/// body is read, it refuses a token that does not exist (`401 unauthenticated`, with
/// `WWW-Authenticate: Bearer`) without parsing the body or queueing anything. A token seen
/// working recently is known from memory ([`AuthGate`]); any other costs one indexed read, and
/// those reads that fail are rate-limited per client. The store's writer checks the token
/// again in the transaction that writes (a revocation since is honoured there).
#[derive(Debug, Clone)]
pub struct BearerHash(pub String);

impl FromRequestParts<AppState> for BearerHash {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        let token_hash = sha256_hex(token);
        if state.gate.known(&token_hash) {
            return Ok(BearerHash(token_hash));
        }
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        state.gate.look_up(&state.store, ip, &token_hash).await?;
        Ok(BearerHash(token_hash))
    }
}

/// Device tokens remembered as working for this long without a look-up.
pub const KNOWN_TOKEN_TTL: Duration = Duration::from_secs(10 * 60);

/// Tokens remembered at most (then the oldest half is forgotten).
const MAX_KNOWN_TOKENS: usize = 50_000;

/// What makes a bad bearer token cheap: the tokens seen working lately (by hash, for
/// [`KNOWN_TOKEN_TTL`]), so a phone's push costs no read before the writer's, and a limit on
/// the look-ups that fail, per client address (`--auth-failures-per-minute`, then 429
/// `rate_limited` with `Retry-After`, before any read).
#[derive(Debug)]
pub struct AuthGate {
    failures: RateLimiter,
    known: Mutex<HashMap<String, Instant>>,
}

impl AuthGate {
    /// A gate allowing `failures_per_minute` failed look-ups per client a minute (0: no limit).
    pub fn new(failures_per_minute: u32) -> Self {
        AuthGate {
            failures: RateLimiter::new(failures_per_minute),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the token (hash) worked less than [`KNOWN_TOKEN_TTL`] ago.
    pub fn known(&self, token_hash: &str) -> bool {
        let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known
            .get(token_hash)
            .is_some_and(|at| at.elapsed() < KNOWN_TOKEN_TTL)
    }

    /// Remembers a token that works (it was just checked, or just issued).
    pub fn remember(&self, token_hash: &str) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() >= MAX_KNOWN_TOKENS && !known.contains_key(token_hash) {
            known.retain(|_, at| at.elapsed() < KNOWN_TOKEN_TTL);
            if known.len() >= MAX_KNOWN_TOKENS {
                let mut ages: Vec<Instant> = known.values().copied().collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 2];
                known.retain(|_, at| *at > cut);
            }
        }
        known.insert(token_hash.to_owned(), Instant::now());
    }

    /// Forgets a token (the writer found it revoked).
    pub fn forget(&self, token_hash: &str) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known.remove(token_hash);
    }

    /// Looks the token up: its owner, or 401 (the failure counted against `ip`), or 429 when
    /// `ip` has failed too often lately (no read at all then).
    pub async fn look_up(
        &self,
        store: &crate::store::SharedStore,
        ip: IpAddr,
        token_hash: &str,
    ) -> Result<crate::store::TokenOwner, ApiError> {
        // An attempt is taken before the read and given back when the token works, so a flood
        // of concurrent guesses cannot pass the limit before any of them has failed.
        self.failures
            .check(ip)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        match store.authenticate(token_hash).await {
            Ok(Some(owner)) => {
                self.failures.refund(ip);
                self.remember(token_hash);
                Ok(owner)
            }
            Ok(None) => Err(ApiError::Unauthenticated),
            Err(err) => {
                // The database failed, not the caller.
                self.failures.refund(ip);
                Err(err.into())
            }
        }
    }
}

/// The client's address as the rate limiters see it: see [`crate::edge`] (behind a trusted
/// reverse proxy, from its `Forwarded` / `X-Forwarded-For`).
pub use crate::edge::ClientIp;

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

    /// Gives back an attempt taken by [`RateLimiter::check`] (it turned out not to count).
    pub fn refund(&self, ip: IpAddr) {
        if self.per_minute == 0 {
            return;
        }
        let capacity = f64::from(self.per_minute);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(bucket) = buckets.get_mut(&ip) {
            bucket.tokens = (bucket.tokens + 1.0).min(capacity);
        }
    }

    /// Whether `ip` has an attempt left, without taking it; else in how many whole seconds.
    pub fn peek(&self, ip: IpAddr) -> Result<(), u64> {
        self.peek_at(ip, Instant::now())
    }

    fn peek_at(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(b) = buckets.get(&ip) else {
            return Ok(());
        };
        let tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * per_second).min(capacity);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err((((1.0 - tokens) / per_second).ceil() as u64).max(1))
        }
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
        let ip = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at(ip, start), Ok(()));
        }
        assert_eq!(limiter.check_at(ip, start), Err(20));
        let other = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(limiter.check_at(other, start), Ok(()));
        assert_eq!(limiter.peek_at(ip, start), Err(20));
        assert_eq!(limiter.peek_at(other, start), Ok(()));
        let later = start + std::time::Duration::from_secs(21);
        assert_eq!(limiter.peek_at(ip, later), Ok(()));
        let one = RateLimiter::new(1);
        assert_eq!(one.check_at(ip, start), Ok(()));
        assert!(one.peek_at(ip, start).is_err());
        one.refund(ip);
        assert_eq!(
            one.check_at(ip, start),
            Ok(()),
            "a refunded attempt can be taken again"
        );
        assert_eq!(limiter.check_at(ip, later), Ok(()));
        assert!(RateLimiter::new(0).check_at(ip, start).is_ok());
    }
}
