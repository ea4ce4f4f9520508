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
    /// The facility a report is about.
    Facility,
    /// When a report's figures were true.
    AsOf,
    /// A report's open / reduced / closed.
    ReportStatus,
    OutpatientsToday,
    FeverPatientsToday,
    WaitMinutes,
    DoctorsOnDuty,
    /// A stock item's count on hand.
    StockCount,
    /// A stock item's daily need.
    StockDailyNeed,
    /// The report a correction replaces.
    Supersedes,
    EnrollmentCode,
    /// The name a phone gives itself when it enrolls.
    DeviceName,
    /// When the user saved a mutation on the phone (the phone's clock).
    RecordedAt,
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
            Field::Facility => ("机构", "facility"),
            Field::AsOf => ("填报时间", "report time"),
            Field::ReportStatus => ("开诊状态", "opening status"),
            Field::OutpatientsToday => ("今日门诊人数", "outpatients today"),
            Field::FeverPatientsToday => ("今日发热病人数", "fever patients today"),
            Field::WaitMinutes => ("当前候诊时间（分钟）", "current wait (minutes)"),
            Field::DoctorsOnDuty => ("在岗医生数", "doctors on duty"),
            Field::StockCount => ("库存数量", "stock count"),
            Field::StockDailyNeed => ("每日需要量", "daily need"),
            Field::Supersedes => ("被更正的报告", "corrected report"),
            Field::EnrollmentCode => ("注册码", "enrollment code"),
            Field::DeviceName => ("设备名称", "device name"),
            Field::RecordedAt => ("保存时间", "time saved"),
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
    /// Not a whole number where one is expected.
    #[error("{}", self.message(Lang::Zh))]
    NotANumber { field: Field, value: String },
    /// More fever patients than outpatients.
    #[error("{}", self.message(Lang::Zh))]
    FeverExceedsOutpatients { fever: u32, outpatients: u32 },
    /// A time further in the future than clocks can disagree.
    #[error("{}", self.message(Lang::Zh))]
    InFuture { field: Field },
    /// A time too far in the past to be accepted.
    #[error("{}", self.message(Lang::Zh))]
    TooOld { field: Field, max_days: u32 },
    /// A time before [`crate::report::limits::EARLIEST_YEAR`]: a phone whose clock was reset.
    #[error("{}", self.message(Lang::Zh))]
    TooEarly { field: Field },
    /// A correction that names itself as the report it replaces.
    #[error("{}", self.message(Lang::Zh))]
    SupersedesItself,
    /// An enrollment code of the wrong shape.
    #[error("{}", self.message(Lang::Zh))]
    EnrollmentCode,
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
            ValidationError::NotANumber { .. } => "not_a_number",
            ValidationError::FeverExceedsOutpatients { .. } => "fever_exceeds_outpatients",
            ValidationError::InFuture { .. } => "in_future",
            ValidationError::TooOld { .. } => "too_old",
            ValidationError::TooEarly { .. } => "too_early",
            ValidationError::SupersedesItself => "supersedes_itself",
            ValidationError::EnrollmentCode => "invalid_enrollment_code",
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
            | ValidationError::TooLarge { field, .. }
            | ValidationError::NotANumber { field, .. }
            | ValidationError::InFuture { field }
            | ValidationError::TooEarly { field }
            | ValidationError::TooOld { field, .. } => *field,
            ValidationError::FeverExceedsOutpatients { .. } => Field::FeverPatientsToday,
            ValidationError::SupersedesItself => Field::Supersedes,
            ValidationError::EnrollmentCode => Field::EnrollmentCode,
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
            (ValidationError::NotANumber { value, .. }, Lang::Zh) => {
                format!("{label}应为整数，“{value}”不是")
            }
            (ValidationError::NotANumber { value, .. }, Lang::En) => {
                format!("The {label} must be a whole number, not “{value}”")
            }
            (ValidationError::FeverExceedsOutpatients { fever, outpatients }, Lang::Zh) => {
                format!("今日发热病人数（{fever}）不能多于今日门诊人数（{outpatients}）")
            }
            (ValidationError::FeverExceedsOutpatients { fever, outpatients }, Lang::En) => format!(
                "Fever patients today ({fever}) cannot be more than outpatients today ({outpatients})"
            ),
            (ValidationError::InFuture { .. }, Lang::Zh) => {
                format!("{label}在将来：请检查手机的日期和时间")
            }
            (ValidationError::InFuture { .. }, Lang::En) => {
                format!("The {label} is in the future: check the phone's date and time")
            }
            (ValidationError::TooOld { max_days, .. }, Lang::Zh) => {
                format!("{label}太久以前：只接受 {max_days} 天以内的报告")
            }
            (ValidationError::TooOld { max_days, .. }, Lang::En) => format!(
                "The {label} is too long ago: only reports from the last {max_days} days are accepted"
            ),
            (ValidationError::TooEarly { .. }, Lang::Zh) => format!(
                "{label}早于 {} 年：请检查手机的日期和时间",
                crate::report::limits::EARLIEST_YEAR
            ),
            (ValidationError::TooEarly { .. }, Lang::En) => format!(
                "The {label} is before {}: check the phone's date and time",
                crate::report::limits::EARLIEST_YEAR
            ),
            (ValidationError::SupersedesItself, Lang::Zh) => {
                "更正报告不能更正它自己".to_owned()
            }
            (ValidationError::SupersedesItself, Lang::En) => {
                "A correction cannot replace itself".to_owned()
            }
            (ValidationError::EnrollmentCode, Lang::Zh) => {
                "注册码无效：应为卫生院给您的 12 位字母和数字，例如 ABCD-EFGH-JKMN".to_owned()
            }
            (ValidationError::EnrollmentCode, Lang::En) => {
                "The enrollment code is invalid: it is the 12 letters and digits the health office gave you, e.g. ABCD-EFGH-JKMN".to_owned()
            }
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label(Lang::En))
    }
}
