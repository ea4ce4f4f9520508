//! Credentials as values: random enrollment codes and device tokens, and the SHA-256 hex they
//! are stored and looked up by. A leaf module (it imports nothing of the server), so the store,
//! the errors and the request extractors (`auth`) all build on it without importing
//! each other.
//!
//! - An **enrollment code** is 12 symbols of Crockford's base32 (60 bits) from the operating
//!   system's CSPRNG, valid for [`ENROLLMENT_CODE_DAYS`] days and once. Only its SHA-256 (of
//!   [`EnrollmentCode::as_str`]) is stored.
//! - A **device token** is `cm_` followed by the unpadded base64url of 32 random bytes (256
//!   bits). Only its SHA-256 hex is stored, so a copy of the database lets nobody write.

use base64::Engine as _;
use caremap_model::EnrollmentCode;
use chrono::{DateTime, Duration, Utc};
use rand::TryRngCore as _;
use sha2::{Digest, Sha256};

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
}
