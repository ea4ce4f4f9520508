//! Accounts of the people who write: village doctors (`reporter`), outreach teams (`outreach`)
//! and the health authority (`admin`). Residents are anonymous: reading needs no account.
//!
//! The health office creates an account and gets a one-time [`EnrollmentCode`]; the phone trades
//! it for a long-lived device token (`POST /api/v1/enroll`), which the server stores only hashed.

use crate::error::{Field, ValidationError};
use crate::facility::{labelled_enum, FacilityId};
use crate::lang::Lang;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

labelled_enum!(
    /// What an account may do.
    Role, Field::Kind, {
        /// Village doctor or facility staff: reports for their own facilities.
        Reporter = "reporter", "医生/填报员", "Reporter";
        /// Elderly-vaccination outreach team: sessions in their townships.
        Outreach = "outreach", "外展接种队", "Outreach team";
        /// Health authority: everything.
        Admin = "admin", "卫生健康部门", "Health authority";
    }
);

/// A one-time enrollment code: 12 characters of Crockford's base32 (no I, L, O, U), shown and
/// typed as `ABCD-EFGH-JKMN`. Parsing forgives what people do when they type one: lower case,
/// spaces and dashes anywhere, `O` for `0`, `I` or `L` for `1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnrollmentCode(String);

impl EnrollmentCode {
    /// Characters in a code (60 bits).
    pub const LEN: usize = 12;
    /// The alphabet codes are made of.
    pub const ALPHABET: &'static [u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let mut code = String::with_capacity(Self::LEN);
        for c in raw.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\u{3000}' | '—' | '－' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !Self::ALPHABET.contains(&(c as u8)) {
                return Err(if raw.trim().is_empty() {
                    ValidationError::Required {
                        field: Field::EnrollmentCode,
                    }
                } else {
                    ValidationError::EnrollmentCode
                });
            }
            code.push(c);
        }
        match code.len() {
            0 => Err(ValidationError::Required {
                field: Field::EnrollmentCode,
            }),
            Self::LEN => Ok(EnrollmentCode(code)),
            _ => Err(ValidationError::EnrollmentCode),
        }
    }

    /// Makes a code from 12 values below 32 (the caller draws them from a secure source).
    pub fn from_symbols(symbols: [u8; Self::LEN]) -> Self {
        EnrollmentCode(
            symbols
                .iter()
                .map(|s| char::from(Self::ALPHABET[usize::from(s % 32)]))
                .collect(),
        )
    }

    /// The 12 characters, no dashes: what is hashed and compared.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `ABCD-EFGH-JKMN`, as printed for the health office.
    pub fn display(&self) -> String {
        let (a, rest) = self.0.split_at(4);
        let (b, c) = rest.split_at(4);
        format!("{a}-{b}-{c}")
    }
}

/// What an account may write for: its facilities (reporters) or townships (outreach).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facilities: Vec<FacilityId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub townships: Vec<String>,
}

/// An account as its own phone sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountInfo {
    pub id: i64,
    /// The person's name as the health office entered it.
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

/// `POST /api/v1/enroll` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    /// The code as typed; the server parses it like [`EnrollmentCode::parse`]: 12 symbols of
    /// Crockford's base32 in any case (`I`, `L` read as 1, `O` as 0), dashes optional.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[0-9A-TV-Za-tv-z]{4}-?[0-9A-TV-Za-tv-z]{4}-?[0-9A-TV-Za-tv-z]{4}$",
            example = "K3QD-7MZR-A1XW"
        )
    )]
    pub code: String,
    /// A name for this device, shown to the health office ("Wang's phone").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// `POST /api/v1/enroll` answer: the device token (shown once, never again) and the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    /// Bearer token for `Authorization: Bearer …`; at least 128 random bits.
    pub token: String,
    pub account: AccountInfo,
}

impl fmt::Display for EnrollmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl FromStr for EnrollmentCode {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EnrollmentCode::parse(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_forgive_typing_habits() {
        let code = EnrollmentCode::parse(" abcd-efgh-jkmn ").unwrap();
        assert_eq!(code.as_str(), "ABCDEFGHJKMN");
        assert_eq!(code.display(), "ABCD-EFGH-JKMN");
        assert_eq!(
            EnrollmentCode::parse("O1IL 2345 6789").unwrap().as_str(),
            "011123456789"
        );
        assert_eq!(
            EnrollmentCode::parse("ABCD-EFGH").unwrap_err().code(),
            "invalid_enrollment_code"
        );
        assert_eq!(
            EnrollmentCode::parse("ABCD-EFGH-JKMU").unwrap_err().code(),
            "invalid_enrollment_code"
        );
        assert_eq!(EnrollmentCode::parse("  ").unwrap_err().code(), "required");
        assert_eq!(
            EnrollmentCode::parse("x").unwrap_err().message(Lang::Zh),
            "注册码无效：应为卫生院给您的 12 位字母和数字，例如 ABCD-EFGH-JKMN"
        );
    }

    proptest! {
        #[test]
        fn made_codes_parse_back_from_their_display(symbols in proptest::array::uniform12(0u8..32)) {
            let code = EnrollmentCode::from_symbols(symbols);
            prop_assert_eq!(EnrollmentCode::parse(&code.display()).unwrap(), code.clone());
            prop_assert_eq!(EnrollmentCode::parse(&code.display().to_lowercase()).unwrap(), code);
        }
    }
}
