//! Pushing mutations, sync protocol v1: `POST /api/v1/push` with a bearer token.
//!
//! The phone writes a mutation to its outbox before it sends anything, and removes it only once
//! the server acknowledged it. A batch is applied in order, each mutation in the same transaction
//! as its idempotency record: a retried id answers [`Outcome::Duplicate`]; an id reused with a
//! different body is rejected (`id_reused`). A rejected mutation never blocks the ones after it.
//! Only applied mutations are recorded, so a rejected one stores nothing and a retry of it is
//! judged again.

use crate::contract::MutationErrorCode;
use crate::error::{Field, ValidationError};
use crate::lang::Lang;
use crate::report::{limits, LoadReport, ReportId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most mutations one push may carry.
pub const MAX_BATCH: usize = 100;

/// The kinds of mutation the server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MutationType {
    /// A village doctor's load report; the body is a [`LoadReport`].
    LoadReport,
}

impl MutationType {
    pub fn as_str(self) -> &'static str {
        match self {
            MutationType::LoadReport => "load_report",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "load_report" => Some(MutationType::LoadReport),
            _ => None,
        }
    }
}

/// One mutation as sent. `type` is kept as text and `body` as JSON so that one unknown or
/// malformed mutation is answered `rejected` on its own instead of failing the whole batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    /// Made on the phone (UUID v7); the idempotency key. For a load report, also its id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    /// `load_report`. Any other is answered `rejected` (`unknown_type`) in the results.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `load_report`, a `LoadReport`. Any JSON is taken: one that is not the type's body is
    /// answered `rejected` in the results, so one bad mutation never fails the others.
    #[cfg_attr(feature = "openapi", schema(value_type = serde_json::Value))]
    pub body: serde_json::Value,
    /// The phone's clock when the user saved it.
    pub recorded_at: DateTime<Utc>,
}

impl Mutation {
    /// A load report as a mutation, with the report's id as its own.
    pub fn load_report(id: ReportId, report: &LoadReport, recorded_at: DateTime<Utc>) -> Self {
        Mutation {
            id: id.as_uuid(),
            kind: MutationType::LoadReport.as_str().to_owned(),
            body: serde_json::to_value(report).unwrap_or(serde_json::Value::Null),
            recorded_at,
        }
    }

    /// The rule on `recorded_at` that needs a clock: not before [`limits::EARLIEST_YEAR`] and
    /// at most [`limits::RECORDED_FUTURE_HOURS`] ahead of `now`, so that every value stored is
    /// one both databases keep and read back (year 10000 or year 0 are not).
    pub fn check_time(&self, now: DateTime<Utc>) -> Result<(), ValidationError> {
        if self.recorded_at < limits::earliest() {
            return Err(ValidationError::TooEarly {
                field: Field::RecordedAt,
            });
        }
        // Checked: a clock at chrono's last day has no later time to refuse (found by fuzzing).
        let latest = now.checked_add_signed(Duration::hours(limits::RECORDED_FUTURE_HOURS));
        if latest.is_some_and(|latest| self.recorded_at > latest) {
            return Err(ValidationError::InFuture {
                field: Field::RecordedAt,
            });
        }
        Ok(())
    }

    /// What the mutation is, parsed and validated (no clock: see [`Mutation::check_time`] and
    /// [`LoadReport::check_time`]).
    pub fn parse(&self) -> Result<ParsedMutation, MutationError> {
        match MutationType::parse(&self.kind) {
            Some(MutationType::LoadReport) => {
                let report: LoadReport = serde_json::from_value(self.body.clone())
                    .map_err(|e| MutationError::invalid_body(&e))?;
                report
                    .check_supersedes(ReportId::from(self.id))
                    .map_err(MutationError::from)?;
                Ok(ParsedMutation::LoadReport(report))
            }
            None => Err(MutationError::new(
                codes::UNKNOWN_TYPE,
                format!("未知的变更类型“{}”", truncated(&self.kind)),
                format!("Unknown mutation type “{}”", truncated(&self.kind)),
            )),
        }
    }
}

fn truncated(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A mutation's content once parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedMutation {
    LoadReport(LoadReport),
}

/// `POST /api/v1/push` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// At most [`MAX_BATCH`] (100).
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub mutations: Vec<Mutation>,
}

/// What became of one mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    /// Stored now; durable when the answer arrives.
    Applied,
    /// Stored before (a retry); nothing changed.
    Duplicate,
    /// Refused; nothing stored. The error says why.
    Rejected,
}

/// Why a mutation was rejected: a stable code and the message in the caller's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationError {
    pub code: String,
    /// In the language of the request's `Accept-Language` (zh-CN by default).
    pub message: String,
    /// The English message when `message` is Chinese, and the other way round (not sent).
    #[serde(skip)]
    pub other: String,
}

/// The codes a mutation can be rejected with, besides [`ValidationError::code`]s, as strings
/// (the wire names of [`MutationErrorCode`]).
pub mod codes {
    use crate::contract::MutationErrorCode;

    pub const UNKNOWN_TYPE: &str = MutationErrorCode::UnknownType.as_str();
    pub const INVALID_BODY: &str = MutationErrorCode::InvalidBody.as_str();
    /// The id was used before for a different mutation.
    pub const ID_REUSED: &str = MutationErrorCode::IdReused.as_str();
    /// The account may not report for this facility.
    pub const FORBIDDEN_FACILITY: &str = MutationErrorCode::ForbiddenFacility.as_str();
    /// The account's role may not send this kind of mutation.
    pub const FORBIDDEN_ROLE: &str = MutationErrorCode::ForbiddenRole.as_str();
    pub const UNKNOWN_FACILITY: &str = MutationErrorCode::UnknownFacility.as_str();
    /// The report a correction names is not one of this facility's.
    pub const UNKNOWN_SUPERSEDED: &str = MutationErrorCode::UnknownSuperseded.as_str();
}

impl MutationError {
    /// An error with its Chinese and English messages; [`MutationError::in_lang`] picks one.
    pub fn new(code: &str, zh: String, en: String) -> Self {
        MutationError {
            code: code.to_owned(),
            message: zh,
            other: en,
        }
    }

    /// The error with `message` in `lang` (errors are made Chinese-first).
    pub fn in_lang(mut self, lang: Lang) -> Self {
        if lang == Lang::En {
            std::mem::swap(&mut self.message, &mut self.other);
        }
        self
    }

    /// The push-specific code of this error; `None` when it is a [`ValidationError::code`] (or
    /// one this build does not know).
    pub fn mutation_code(&self) -> Option<MutationErrorCode> {
        MutationErrorCode::parse(&self.code)
    }

    /// The model's own words for a rejection code, when the code alone says what they are:
    /// lets a phone say a stored refusal again in another language. `None` for codes whose
    /// message depends on the value refused (or that this build does not know).
    pub fn for_code(code: &str) -> Option<Self> {
        let validation = |err: ValidationError| Some(MutationError::from(err));
        match MutationErrorCode::parse(code) {
            Some(MutationErrorCode::IdReused) => Some(MutationError::id_reused()),
            Some(MutationErrorCode::ForbiddenFacility) => Some(MutationError::forbidden_facility()),
            Some(MutationErrorCode::ForbiddenRole) => Some(MutationError::forbidden_role()),
            Some(MutationErrorCode::UnknownFacility) => Some(MutationError::unknown_facility()),
            Some(MutationErrorCode::UnknownSuperseded) => Some(MutationError::unknown_superseded()),
            Some(MutationErrorCode::UnknownType | MutationErrorCode::InvalidBody) => None,
            None => match code {
                "in_future" => validation(ValidationError::InFuture { field: Field::AsOf }),
                "too_old" => validation(ValidationError::TooOld {
                    field: Field::AsOf,
                    max_days: crate::report::limits::MAX_AGE_DAYS,
                }),
                "too_early" => validation(ValidationError::TooEarly {
                    field: Field::RecordedAt,
                }),
                "supersedes_itself" => validation(ValidationError::SupersedesItself),
                _ => None,
            },
        }
    }

    fn invalid_body(err: &serde_json::Error) -> Self {
        // serde's message carries our ValidationError's Chinese text where a value was refused.
        let detail = err.to_string();
        MutationError::new(
            codes::INVALID_BODY,
            format!("报告内容无效：{detail}"),
            format!("The report is invalid: {detail}"),
        )
    }

    pub fn id_reused() -> Self {
        MutationError::new(
            codes::ID_REUSED,
            "该编号已用于另一份不同的报告，未保存".to_owned(),
            "This id was already used for a different report; not stored".to_owned(),
        )
    }

    pub fn forbidden_facility() -> Self {
        MutationError::new(
            codes::FORBIDDEN_FACILITY,
            "您的账号不能为该机构填报".to_owned(),
            "Your account may not report for this facility".to_owned(),
        )
    }

    pub fn forbidden_role() -> Self {
        MutationError::new(
            codes::FORBIDDEN_ROLE,
            "您的账号角色不能提交这类报告".to_owned(),
            "Your account's role may not send this kind of report".to_owned(),
        )
    }

    pub fn unknown_facility() -> Self {
        MutationError::new(
            codes::UNKNOWN_FACILITY,
            "该机构不存在或已被删除".to_owned(),
            "This facility does not exist or was deleted".to_owned(),
        )
    }

    pub fn unknown_superseded() -> Self {
        MutationError::new(
            codes::UNKNOWN_SUPERSEDED,
            "要更正的报告不存在，或不属于该机构".to_owned(),
            "The report to correct does not exist or is not this facility's".to_owned(),
        )
    }
}

impl From<ValidationError> for MutationError {
    fn from(err: ValidationError) -> Self {
        MutationError {
            code: err.code().to_owned(),
            message: err.message(Lang::Zh),
            other: err.message(Lang::En),
        }
    }
}

/// The answer for one mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<MutationError>,
}

/// `POST /api/v1/push` answer: one result per mutation, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<MutationResult>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_and_per_mutation_parsing() {
        let json = r#"{"mutations":[
            {"id":"0192f0c8-0000-7000-8000-000000000001","type":"load_report","recorded_at":"2026-11-29T08:00:00Z",
             "body":{"facility":"00000000-0000-0000-0000-000000000007","as_of":"2026-11-29T08:00:00Z","status":"open","wait_minutes":10}},
            {"id":"0192f0c8-0000-7000-8000-000000000002","type":"teleport","recorded_at":"2026-11-29T08:00:00Z","body":{}},
            {"id":"0192f0c8-0000-7000-8000-000000000003","type":"load_report","recorded_at":"2026-11-29T08:00:00Z",
             "body":{"facility":"00000000-0000-0000-0000-000000000007","as_of":"2026-11-29T08:00:00Z","status":"open","wait_minutes":-3}}
        ]}"#;
        let push: PushRequest = serde_json::from_str(json).unwrap();
        assert!(matches!(
            push.mutations[0].parse(),
            Ok(ParsedMutation::LoadReport(_))
        ));
        let unknown = push.mutations[1].parse().unwrap_err();
        assert_eq!(unknown.code, codes::UNKNOWN_TYPE);
        assert_eq!(
            unknown.clone().in_lang(Lang::En).message,
            "Unknown mutation type “teleport”"
        );
        assert_eq!(
            push.mutations[2].parse().unwrap_err().code,
            codes::INVALID_BODY
        );
    }

    #[test]
    fn constructors_carry_their_codes_and_the_model_says_them_again() {
        for (err, code) in [
            (MutationError::id_reused(), MutationErrorCode::IdReused),
            (
                MutationError::forbidden_facility(),
                MutationErrorCode::ForbiddenFacility,
            ),
            (
                MutationError::forbidden_role(),
                MutationErrorCode::ForbiddenRole,
            ),
            (
                MutationError::unknown_facility(),
                MutationErrorCode::UnknownFacility,
            ),
            (
                MutationError::unknown_superseded(),
                MutationErrorCode::UnknownSuperseded,
            ),
        ] {
            assert_eq!(err.mutation_code(), Some(code));
            assert_eq!(MutationError::for_code(code.as_str()), Some(err));
        }
        let too_old = MutationError::for_code("too_old")
            .unwrap()
            .in_lang(Lang::En);
        assert_eq!(
            too_old.message,
            "The report time is too long ago: only reports from the last 30 days are accepted"
        );
        assert_eq!(too_old.mutation_code(), None);
        assert_eq!(MutationError::for_code(codes::INVALID_BODY), None);
        assert_eq!(MutationError::for_code("out_of_range"), None);
    }

    #[test]
    fn recorded_at_is_bounded_and_extreme_years_do_not_parse_or_are_refused() {
        let now: DateTime<Utc> = "2026-11-29T08:00:00Z".parse().unwrap();
        let at = |recorded_at: &str| {
            let json = format!(
                r#"{{"id":"0192f0c8-0000-7000-8000-000000000001","type":"load_report","body":{{}},"recorded_at":"{recorded_at}"}}"#
            );
            serde_json::from_str::<Mutation>(&json)
                .ok()
                .map(|m| m.check_time(now).map_err(|e| e.code()))
        };
        assert_eq!(at("2026-11-29T08:00:00Z"), Some(Ok(())));
        assert_eq!(at("2026-11-30T07:59:00Z"), Some(Ok(())), "a day of skew");
        assert_eq!(at("2000-01-01T00:00:00Z"), Some(Ok(())));
        assert_eq!(at("1999-12-31T23:59:59Z"), Some(Err("too_early")));
        assert_eq!(at("1970-01-01T00:00:00Z"), Some(Err("too_early")));
        assert_eq!(at("2026-12-01T08:00:00Z"), Some(Err("in_future")));
        // Years RFC 3339 cannot write but chrono reads when signed: refused, never stored.
        assert_eq!(at("0000-01-01T00:00:00Z"), Some(Err("too_early")));
        assert_eq!(at("-0001-01-01T00:00:00Z"), Some(Err("too_early")));
        assert_eq!(at("-262143-01-01T00:00:00Z"), Some(Err("too_early")));
        assert_eq!(at("+10000-01-01T00:00:00Z"), Some(Err("in_future")));
        assert_eq!(at("+262142-12-31T23:59:59.999999Z"), Some(Err("in_future")));
        // Beyond chrono's range, or a five-digit year without its sign: not a time at all.
        assert_eq!(at("10000-01-01T00:00:00Z"), None);
        assert_eq!(at("+999999999-01-01T00:00:00Z"), None);
        let err = MutationError::for_code("too_early")
            .unwrap()
            .in_lang(Lang::En);
        assert_eq!(
            err.message,
            "The time saved is before 2000: check the phone's date and time"
        );
    }

    #[test]
    fn errors_are_sent_in_one_language() {
        let err = MutationError::forbidden_facility().in_lang(Lang::En);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "forbidden_facility", "message": "Your account may not report for this facility"})
        );
    }
}
