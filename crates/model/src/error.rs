//! Validation errors: a stable machine code plus a message in each interface language.

use crate::lang::Lang;
use std::fmt;

/// The field a validation error is about, with its label in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    Name,
    NameEn,
    Address,
    Township,
    Village,
    Phone,
    OpeningHours,
    Note,
    Latitude,
    Longitude,
    Kind,
    Service,
    ExternalId,
    Capacity,
}

impl Field {
    /// The field's label for an error message.
    pub fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            Field::Name => ("名称", "name"),
            Field::NameEn => ("英文名称", "English name"),
            Field::Address => ("地址", "address"),
            Field::Township => ("乡镇/街道", "township"),
            Field::Village => ("村/社区", "village"),
            Field::Phone => ("电话", "phone"),
            Field::OpeningHours => ("开放时间", "opening hours"),
            Field::Note => ("备注", "note"),
            Field::Latitude => ("纬度", "latitude"),
            Field::Longitude => ("经度", "longitude"),
            Field::Kind => ("机构类型", "facility type"),
            Field::Service => ("服务项目", "service"),
            Field::ExternalId => ("外部编号", "external id"),
            Field::Capacity => ("容量", "capacity"),
        };
        lang.pick(zh, en)
    }
}

/// Why a value was refused. `Display` gives the Chinese message, as the interface does by default.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    #[error("{}", self.message(Lang::Zh))]
    Required { field: Field },
    #[error("{}", self.message(Lang::Zh))]
    TooLong { field: Field, max: usize },
    #[error("{}", self.message(Lang::Zh))]
    ControlCharacters { field: Field },
    #[error("{}", self.message(Lang::Zh))]
    OutOfRange {
        field: Field,
        min: f64,
        max: f64,
        value: f64,
    },
    #[error("{}", self.message(Lang::Zh))]
    Phone { value: String },
    #[error("{}", self.message(Lang::Zh))]
    OpeningHours { value: String, detail: String },
    #[error("{}", self.message(Lang::Zh))]
    UnknownValue { field: Field, value: String },
    #[error("{}", self.message(Lang::Zh))]
    ExternalId { value: String },
    #[error("{}", self.message(Lang::Zh))]
    TooLarge { field: Field, max: u64 },
}

impl ValidationError {
    /// A stable code for clients and tests: never translated, never reworded.
    pub fn code(&self) -> &'static str {
        match self {
            ValidationError::Required { .. } => "required",
            ValidationError::TooLong { .. } => "too_long",
            ValidationError::ControlCharacters { .. } => "control_characters",
            ValidationError::OutOfRange { .. } => "out_of_range",
            ValidationError::Phone { .. } => "invalid_phone",
            ValidationError::OpeningHours { .. } => "invalid_opening_hours",
            ValidationError::UnknownValue { .. } => "unknown_value",
            ValidationError::ExternalId { .. } => "invalid_external_id",
            ValidationError::TooLarge { .. } => "too_large",
        }
    }

    /// The field the error is about.
    pub fn field(&self) -> Field {
        match self {
            ValidationError::Required { field }
            | ValidationError::TooLong { field, .. }
            | ValidationError::ControlCharacters { field }
            | ValidationError::OutOfRange { field, .. }
            | ValidationError::UnknownValue { field, .. }
            | ValidationError::TooLarge { field, .. } => *field,
            ValidationError::Phone { .. } => Field::Phone,
            ValidationError::OpeningHours { .. } => Field::OpeningHours,
            ValidationError::ExternalId { .. } => Field::ExternalId,
        }
    }

    /// The message a user reads, in their language.
    pub fn message(&self, lang: Lang) -> String {
        let label = self.field().label(lang);
        match (self, lang) {
            (ValidationError::Required { .. }, Lang::Zh) => format!("请填写{label}"),
            (ValidationError::Required { .. }, Lang::En) => format!("The {label} is required"),
            (ValidationError::TooLong { max, .. }, Lang::Zh) => {
                format!("{label}过长：最多 {max} 个字")
            }
            (ValidationError::TooLong { max, .. }, Lang::En) => {
                format!("The {label} is too long: at most {max} characters")
            }
            (ValidationError::ControlCharacters { .. }, Lang::Zh) => {
                format!("{label}含有不可见的控制字符")
            }
            (ValidationError::ControlCharacters { .. }, Lang::En) => {
                format!("The {label} contains invisible control characters")
            }
            (ValidationError::OutOfRange { min, max, value, .. }, Lang::Zh) => {
                format!("{label} {value} 超出范围（{min} 至 {max}）")
            }
            (ValidationError::OutOfRange { min, max, value, .. }, Lang::En) => {
                format!("The {label} {value} is out of range ({min} to {max})")
            }
            (ValidationError::Phone { value }, Lang::Zh) => {
                format!("电话号码“{value}”无效：只能含数字、空格、+、-、括号，每个号码 3 至 20 位数字，多个号码用分号分隔")
            }
            (ValidationError::Phone { value }, Lang::En) => format!(
                "The phone number “{value}” is invalid: digits, spaces, +, - and brackets only, 3 to 20 digits per number, several numbers separated by ;"
            ),
            (ValidationError::OpeningHours { value, detail }, Lang::Zh) => {
                format!("开放时间“{value}”不是有效的 OpenStreetMap opening_hours 格式（例如 Mo-Fr 08:00-17:00）：{detail}")
            }
            (ValidationError::OpeningHours { value, detail }, Lang::En) => format!(
                "The opening hours “{value}” are not valid OpenStreetMap opening_hours syntax (e.g. Mo-Fr 08:00-17:00): {detail}"
            ),
            (ValidationError::UnknownValue { value, .. }, Lang::Zh) => {
                format!("未知的{label}“{value}”")
            }
            (ValidationError::UnknownValue { value, .. }, Lang::En) => {
                format!("Unknown {label} “{value}”")
            }
            (ValidationError::ExternalId { value }, Lang::Zh) => format!(
                "外部编号“{value}”无效：应为“来源:编号”，例如 osm:node/123"
            ),
            (ValidationError::ExternalId { value }, Lang::En) => format!(
                "The external id “{value}” is invalid: expected source:id, e.g. osm:node/123"
            ),
            (ValidationError::TooLarge { max, .. }, Lang::Zh) => {
                format!("{label}过大：最多 {max}")
            }
            (ValidationError::TooLarge { max, .. }, Lang::En) => {
                format!("The {label} is too large: at most {max}")
            }
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label(Lang::En))
    }
}
