//! The codes a pushed mutation can be rejected with (`results[].error.code` of
//! `POST /api/v1/push`), besides the [`crate::ValidationError::code`] of a refused value.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why the server rejected one mutation of a push, when no value of it was invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum MutationErrorCode {
    /// The mutation's `type` is not one the server knows.
    UnknownType,
    /// The body is not a mutation of its type (serde's message says where).
    InvalidBody,
    /// The id was used before for a different mutation.
    IdReused,
    /// The account may not report for this facility.
    ForbiddenFacility,
    /// The account's role may not send this kind of mutation.
    ForbiddenRole,
    /// No such facility, or it was deleted.
    UnknownFacility,
    /// The report a correction names is not one of this facility's.
    UnknownSuperseded,
}

impl MutationErrorCode {
    pub const ALL: [MutationErrorCode; 7] = [
        MutationErrorCode::UnknownType,
        MutationErrorCode::InvalidBody,
        MutationErrorCode::IdReused,
        MutationErrorCode::ForbiddenFacility,
        MutationErrorCode::ForbiddenRole,
        MutationErrorCode::UnknownFacility,
        MutationErrorCode::UnknownSuperseded,
    ];

    /// The wire name (what serde writes).
    pub const fn as_str(self) -> &'static str {
        match self {
            MutationErrorCode::UnknownType => "unknown_type",
            MutationErrorCode::InvalidBody => "invalid_body",
            MutationErrorCode::IdReused => "id_reused",
            MutationErrorCode::ForbiddenFacility => "forbidden_facility",
            MutationErrorCode::ForbiddenRole => "forbidden_role",
            MutationErrorCode::UnknownFacility => "unknown_facility",
            MutationErrorCode::UnknownSuperseded => "unknown_superseded",
        }
    }

    /// The code of a wire name; `None` for a validation code or one this build does not know.
    pub fn parse(raw: &str) -> Option<Self> {
        MutationErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == raw)
    }
}

impl fmt::Display for MutationErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The wire names, written out: a rename here breaks every phone's outbox.
    const WIRE: [(MutationErrorCode, &str); 7] = [
        (MutationErrorCode::UnknownType, "unknown_type"),
        (MutationErrorCode::InvalidBody, "invalid_body"),
        (MutationErrorCode::IdReused, "id_reused"),
        (MutationErrorCode::ForbiddenFacility, "forbidden_facility"),
        (MutationErrorCode::ForbiddenRole, "forbidden_role"),
        (MutationErrorCode::UnknownFacility, "unknown_facility"),
        (MutationErrorCode::UnknownSuperseded, "unknown_superseded"),
    ];

    #[test]
    fn every_code_round_trips_through_its_wire_name() {
        assert_eq!(WIRE.map(|(code, _)| code), MutationErrorCode::ALL);
        for (code, wire) in WIRE {
            assert_eq!(serde_json::to_value(code).unwrap(), wire);
            assert_eq!(
                serde_json::from_value::<MutationErrorCode>(wire.into()).unwrap(),
                code
            );
            assert_eq!(code.to_string(), wire);
            assert_eq!(MutationErrorCode::parse(wire), Some(code));
        }
        assert_eq!(MutationErrorCode::parse("too_old"), None);
        assert!(serde_json::from_str::<MutationErrorCode>(r#""too_old""#).is_err());
    }
}
