//! The registry feed of sync protocol v1: `GET /api/v1/registry?since=<cursor>&limit=<n>`.
//!
//! The server numbers every change (edit, deletion, status change) from one increasing
//! sequence. A client keeps the cursor of the last page it stored and asks for what came after.

use crate::facility::{Facility, FacilityId};
use crate::status::FacilityStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A position in the server's change sequence. Opaque to clients: they store it and send it back.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "1042"))]
pub struct Cursor(u64);

impl Cursor {
    /// Before every change: a first sync starts here.
    pub const START: Cursor = Cursor(0);

    pub fn from_seq(seq: u64) -> Self {
        Cursor(seq)
    }

    pub fn seq(self) -> u64 {
        self.0
    }
}

/// A cursor string that is not one the server gave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor “{0}”")]
pub struct InvalidCursor(pub String);

impl FromStr for Cursor {
    type Err = InvalidCursor;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Cursor::START);
        }
        s.parse::<u64>()
            .ok()
            .filter(|n| i64::try_from(*n).is_ok())
            .map(Cursor)
            .ok_or_else(|| InvalidCursor(s.chars().take(40).collect()))
    }
}

impl TryFrom<String> for Cursor {
    type Error = InvalidCursor;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Cursor> for String {
    fn from(c: Cursor) -> String {
        c.0.to_string()
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How many records one registry page may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const DEFAULT: PageLimit = PageLimit(500);
    pub const MAX: u32 = 5_000;

    /// Clamps a requested limit into `1..=MAX`; `None` gives the default.
    pub fn clamped(requested: Option<u32>) -> Self {
        match requested {
            None => Self::DEFAULT,
            Some(n) => PageLimit(n.clamp(1, Self::MAX)),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// One facility as the feed carries it: its current state, or a tombstone once deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacilityRecord {
    pub id: FacilityId,
    /// Increases with every change of this facility; assigned by the server.
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The facility; absent on a tombstone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility: Option<Facility>,
    /// Its status from the newest report; absent until a report arrives, and on a tombstone.
    /// A status change is a change like an edit: a new `version` and a new sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FacilityStatus>,
}

/// A page of the registry feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistryPage {
    /// Changes in sequence order, each facility at most once per page.
    pub items: Vec<FacilityRecord>,
    /// Where the next page starts; store it only once the items are stored.
    pub cursor: Cursor,
    pub has_more: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // proptest! bodies are not seen as tests by clippy
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cursors_are_opaque_strings() {
        assert_eq!(
            serde_json::to_string(&Cursor::from_seq(42)).unwrap(),
            "\"42\""
        );
        assert_eq!("".parse::<Cursor>().unwrap(), Cursor::START);
        assert!("-1".parse::<Cursor>().is_err());
        assert!("abc".parse::<Cursor>().is_err());
        assert!(u64::MAX.to_string().parse::<Cursor>().is_err());
    }

    #[test]
    fn limits_are_clamped() {
        assert_eq!(PageLimit::clamped(None).get(), 500);
        assert_eq!(PageLimit::clamped(Some(0)).get(), 1);
        assert_eq!(PageLimit::clamped(Some(1_000_000)).get(), PageLimit::MAX);
    }

    proptest! {
        #[test]
        fn cursor_round_trips(seq in 0u64..=(i64::MAX as u64)) {
            let c = Cursor::from_seq(seq);
            prop_assert_eq!(c.to_string().parse::<Cursor>().unwrap(), c);
        }
    }
}
