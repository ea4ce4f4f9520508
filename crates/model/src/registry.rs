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

/// A position in the server's change sequence, and the database it belongs to. Opaque to
/// clients: they store it and send it back.
///
/// Written `<seq>.<database id>` (`1042.9f3a0c1d2e4b5a69`: the id is 16 hex digits, made
/// at random when the database was created), or `<seq>` alone for the start (`0`) and for
/// cursors of servers before database ids. A server refuses (400 `invalid_cursor`) a cursor
/// of another database, so a phone whose server was replaced or restored syncs again from the
/// start instead of silently skipping what the new history numbered below its cursor.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "1042.9f3a0c1d2e4b5a69"))]
pub struct Cursor(Position);

/// What a cursor holds (a newtype, so the OpenAPI schema can say "a string").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Position {
    seq: u64,
    /// The database's id; 0 for none (the start, or a cursor from before ids).
    db: u64,
}

impl Cursor {
    /// Before every change: a first sync starts here.
    pub const START: Cursor = Cursor(Position { seq: 0, db: 0 });

    /// A position without a database id (the form of servers before ids).
    pub fn from_seq(seq: u64) -> Self {
        Cursor(Position { seq, db: 0 })
    }

    /// A position in the history of the database `db` (0: none).
    pub fn new(seq: u64, db: u64) -> Self {
        Cursor(Position { seq, db })
    }

    pub fn seq(self) -> u64 {
        self.0.seq
    }

    /// The id of the database the cursor belongs to, if it names one.
    pub fn database(self) -> Option<u64> {
        (self.0.db != 0).then_some(self.0.db)
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
        let invalid = || InvalidCursor(s.chars().take(40).collect());
        let (seq, db) = match s.split_once('.') {
            None => (s, None),
            Some((seq, db)) => (seq, Some(db)),
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(seq) {
            return Err(invalid());
        }
        let seq = seq
            .parse::<u64>()
            .ok()
            .filter(|n| i64::try_from(*n).is_ok())
            .ok_or_else(invalid)?;
        let db = match db {
            None => 0,
            Some(db) if db.len() == 16 && db.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u64::from_str_radix(db, 16).map_err(|_| invalid())?
            }
            Some(_) => return Err(invalid()),
        };
        if db == 0 && s.contains('.') {
            return Err(invalid());
        }
        Ok(Cursor::new(seq, db))
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
        c.to_string()
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.database() {
            None => self.seq().fmt(f),
            Some(db) => write!(f, "{}.{db:016x}", self.seq()),
        }
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
    fn cursors_name_their_database() {
        let c = Cursor::new(1042, 0x9f3a_0c1d_2e4b_5a69);
        assert_eq!(c.to_string(), "1042.9f3a0c1d2e4b5a69");
        assert_eq!("1042.9F3A0C1D2E4B5A69".parse::<Cursor>().unwrap(), c);
        assert_eq!(c.database(), Some(0x9f3a_0c1d_2e4b_5a69));
        assert_eq!(Cursor::from_seq(7).database(), None);
        assert_eq!("7".parse::<Cursor>().unwrap(), Cursor::from_seq(7));
        for bad in [
            "1042.",
            ".9f3a0c1d2e4b5a69",
            "1042.9f3a",
            "1042.0000000000000000",
            "1.2.3",
            "1042.zz3a0c1d2e4b5a69",
        ] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_are_clamped() {
        assert_eq!(PageLimit::clamped(None).get(), 500);
        assert_eq!(PageLimit::clamped(Some(0)).get(), 1);
        assert_eq!(PageLimit::clamped(Some(1_000_000)).get(), PageLimit::MAX);
    }

    proptest! {
        #[test]
        fn cursor_round_trips(seq in 0u64..=(i64::MAX as u64), db: u64) {
            let c = Cursor::from_seq(seq);
            prop_assert_eq!(c.to_string().parse::<Cursor>().unwrap(), c);
            let c = Cursor::new(seq, db);
            prop_assert_eq!(c.to_string().parse::<Cursor>().unwrap(), c);
        }
    }
}
