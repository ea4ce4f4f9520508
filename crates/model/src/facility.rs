//! Facilities: the places residents go for care, as the registry holds them.

use crate::error::{Field, ValidationError};
use crate::geo::LatLon;
use crate::hours::OpeningHours;
use crate::lang::Lang;
use crate::text::{Address, AreaName, Name, Note};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A facility's identity, stable across edits and across devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
pub struct FacilityId(Uuid);

/// Namespace of the UUID v5 ids derived from external ids, so that importing the same source
/// twice updates the same facilities instead of adding copies.
const EXTERNAL_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_3c2e_8d4a_4f0b_9a57_2c1e_0d3b_7e91);

impl FacilityId {
    pub fn new_random() -> Self {
        FacilityId(Uuid::new_v4())
    }

    /// The id a facility known by `external` always gets.
    pub fn from_external(external: &ExternalId) -> Self {
        FacilityId(Uuid::new_v5(
            &EXTERNAL_ID_NAMESPACE,
            external.as_str().as_bytes(),
        ))
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for FacilityId {
    fn from(uuid: Uuid) -> Self {
        FacilityId(uuid)
    }
}

impl fmt::Display for FacilityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for FacilityId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(FacilityId)
    }
}

/// Generates an enum of wire names with zh/en labels, `ALL`, `as_str` and `FromStr`.
macro_rules! labelled_enum {
    ($(#[$doc:meta])* $name:ident, $field:expr, { $($(#[$vdoc:meta])* $variant:ident = $wire:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $wire)] $variant,)+
        }

        // Written out rather than derived: utoipa's derive does not see a `rename` whose value
        // comes from a macro argument, and published the variants' Rust names (`Reporter`)
        // instead of the wire names (`reporter`).
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name (also used in import files and URLs).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// The label a user reads.
            pub fn label(self, lang: Lang) -> &'static str {
                match self { $($name::$variant => lang.pick($zh, $en),)+ }
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| ValidationError::UnknownValue { field: $field, value: s.to_owned() })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use labelled_enum;

labelled_enum!(
    /// What kind of place a facility is.
    FacilityKind, Field::Kind, {
        /// Hospital fever clinic.
        FeverClinic = "fever_clinic", "发热门诊", "Fever clinic";
        /// Temporary fever consultation point.
        FeverStation = "fever_station", "发热诊疗站", "Fever station";
        /// Township health centre or community health service centre.
        TownshipHealthCenter = "township_health_center", "乡镇卫生院", "Township health centre";
        /// Village clinic.
        VillageClinic = "village_clinic", "村卫生室", "Village clinic";
        /// Vaccination point, fixed or mobile.
        VaccinationPoint = "vaccination_point", "接种点", "Vaccination point";
    }
);

labelled_enum!(
    /// A service a facility offers, as residents filter for it.
    Service, Field::Service, {
        PaediatricFever = "paediatric_fever", "儿童发热", "Paediatric fever";
        Open24h = "open_24h", "24小时", "Open 24 hours";
        AntigenTesting = "antigen_testing", "抗原检测", "Antigen testing";
        ElderlyVaccination = "elderly_vaccination", "老年人接种", "Elderly vaccination";
        HomeVisits = "home_visits", "上门服务", "Home visits";
        WheelchairAccess = "wheelchair_access", "无障碍通道", "Wheelchair access";
    }
);

/// A facility's names: Chinese always, English where known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Names {
    pub zh: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<Name>,
}

impl Names {
    /// The name to show in `lang`: the English one where there is one, else the Chinese.
    pub fn display(&self, lang: Lang) -> &str {
        match (lang, &self.en) {
            (Lang::En, Some(en)) => en.as_str(),
            _ => self.zh.as_str(),
        }
    }
}

/// Where a facility sits in the administration: township (乡镇/街道) and village (村/社区).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminArea {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub township: Option<AreaName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub village: Option<AreaName>,
}

/// One or more phone numbers, e.g. `0574-62681234` or `120; 0574 6268 1234`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "0574-62681234"))]
pub struct Phone(String);

impl Phone {
    const MAX_NUMBERS: usize = 3;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || ValidationError::Phone {
            value: raw.trim().to_owned(),
        };
        let numbers: Vec<&str> = raw.split(';').map(str::trim).collect();
        if numbers.len() > Self::MAX_NUMBERS {
            return Err(invalid());
        }
        for number in &numbers {
            let digits = number.chars().filter(char::is_ascii_digit).count();
            let charset_ok = number
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'));
            let plus_ok = number.rfind('+').is_none_or(|pos| pos == 0);
            if !(3..=20).contains(&digits) || !charset_ok || !plus_ok {
                return Err(invalid());
            }
        }
        Ok(Phone(numbers.join("; ")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The numbers, each with only its digits and a leading `+`, for `tel:` links.
    pub fn dialable(&self) -> impl Iterator<Item = String> + '_ {
        self.0.split("; ").map(|n| {
            n.chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect()
        })
    }
}

impl TryFrom<String> for Phone {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Phone::parse(&raw)
    }
}

impl From<Phone> for String {
    fn from(value: Phone) -> String {
        value.0
    }
}

/// An id of the facility in another register: `osm:node/123`, `healthsites:abc`,
/// `registry:YY-001`. Lower-case source, then a colon, then the id (no spaces).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "osm:node/123456"))]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let invalid = || ValidationError::ExternalId {
            value: raw.to_owned(),
        };
        let (source, id) = raw.split_once(':').ok_or_else(invalid)?;
        let source_ok = !source.is_empty()
            && source.len() <= 32
            && source
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        let id_ok = !id.is_empty()
            && id.chars().count() <= 100
            && !id.chars().any(|c| c.is_whitespace() || c.is_control());
        if source_ok && id_ok {
            Ok(ExternalId(raw.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExternalId {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        ExternalId::parse(&raw)
    }
}

impl From<ExternalId> for String {
    fn from(value: ExternalId) -> String {
        value.0
    }
}

/// Baseline capacity: staff and beds on an ordinary day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Capacity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctors: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beds: Option<u32>,
    /// Outpatients the facility can see in a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_capacity: Option<u32>,
}

impl Capacity {
    /// No facility in a county has more; a larger number is a typing error.
    pub const MAX: u32 = 100_000;

    pub fn parse_count(raw: &str) -> Result<Option<u32>, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let n: u32 = raw.parse().map_err(|_| ValidationError::UnknownValue {
            field: Field::Capacity,
            value: raw.to_owned(),
        })?;
        Self::check(n).map(Some)
    }

    fn check(n: u32) -> Result<u32, ValidationError> {
        if n > Self::MAX {
            Err(ValidationError::TooLarge {
                field: Field::Capacity,
                max: u64::from(Self::MAX),
            })
        } else {
            Ok(n)
        }
    }

    /// Checks every number is at most [`Capacity::MAX`].
    pub fn validate(self) -> Result<Self, ValidationError> {
        for n in [self.doctors, self.beds, self.daily_capacity]
            .into_iter()
            .flatten()
        {
            Self::check(n)?;
        }
        Ok(self)
    }
}

/// Whether a facility is operating, as the health office or its staff declared it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Operational {
    #[default]
    Open,
    /// Open with reduced service.
    Reduced {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Note>,
    },
    Closed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Note>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reopens_on: Option<chrono::NaiveDate>,
    },
}

impl Operational {
    pub fn label(&self, lang: Lang) -> &'static str {
        match self {
            Operational::Open => lang.pick("正常开放", "Open"),
            Operational::Reduced { .. } => lang.pick("部分开放", "Reduced service"),
            Operational::Closed { .. } => lang.pick("暂停服务", "Closed"),
        }
    }
}

/// A facility as the registry holds it. Every field is valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facility {
    pub kind: FacilityKind,
    pub name: Names,
    pub location: LatLon,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default)]
    pub area: AdminArea,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<OpeningHours>,
    #[serde(default)]
    pub services: BTreeSet<Service>,
    #[serde(default)]
    pub capacity: Capacity,
    #[serde(default)]
    pub operational: Operational,
    /// A mobile vaccination point moves between villages; its location is its usual stand.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mobile: bool,
    #[serde(default)]
    pub external_ids: BTreeSet<ExternalId>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // proptest! bodies are not seen as tests by clippy
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kinds_parse_from_wire_names_and_refuse_others() {
        for kind in FacilityKind::ALL {
            assert_eq!(kind.as_str().parse::<FacilityKind>().unwrap(), *kind);
        }
        let err = "hospital".parse::<FacilityKind>().unwrap_err();
        assert_eq!(err.code(), "unknown_value");
        assert_eq!(err.message(Lang::Zh), "未知的机构类型“hospital”");
    }

    #[test]
    fn phones() {
        assert_eq!(
            Phone::parse(" 0574-62681234 ").unwrap().as_str(),
            "0574-62681234"
        );
        assert_eq!(
            Phone::parse("120;+86 574 6268 1234").unwrap().as_str(),
            "120; +86 574 6268 1234"
        );
        let dial: Vec<String> = Phone::parse("120; +86 (574) 6268-1234")
            .unwrap()
            .dialable()
            .collect();
        assert_eq!(dial, ["120", "+8657462681234"]);
        for bad in ["", "12", "call me", "0574-6268x", "1;2;3;4", "86+574"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn external_ids() {
        assert!(ExternalId::parse("osm:node/123").is_ok());
        assert!(ExternalId::parse("registry:YY-001").is_ok());
        for bad in ["node/123", ":1", "osm:", "OSM:1", "osm:a b"] {
            assert!(ExternalId::parse(bad).is_err(), "{bad}");
        }
        let a = ExternalId::parse("osm:node/1").unwrap();
        let b = ExternalId::parse("osm:node/2").unwrap();
        assert_eq!(FacilityId::from_external(&a), FacilityId::from_external(&a));
        assert_ne!(FacilityId::from_external(&a), FacilityId::from_external(&b));
    }

    #[test]
    fn facility_json_is_parsed_and_validated() {
        let json = r#"{
            "kind": "village_clinic",
            "name": {"zh": "马渚镇某村卫生室"},
            "location": {"lat": 30.06, "lon": 121.08},
            "phone": "0574-62681234",
            "opening_hours": "Mo-Sa 08:00-11:30,13:30-17:00",
            "services": ["home_visits", "elderly_vaccination"],
            "operational": {"state": "closed", "reason": "医生外出培训", "reopens_on": "2026-12-01"}
        }"#;
        let facility: Facility = serde_json::from_str(json).unwrap();
        assert_eq!(facility.kind, FacilityKind::VillageClinic);
        assert_eq!(facility.services.len(), 2);
        let back: Facility =
            serde_json::from_str(&serde_json::to_string(&facility).unwrap()).unwrap();
        assert_eq!(back, facility);

        let bad = json.replace("0574-62681234", "call the doctor");
        assert!(serde_json::from_str::<Facility>(&bad)
            .unwrap_err()
            .to_string()
            .contains("电话号码"));
        let bad = json.replace("village_clinic", "spa");
        assert!(serde_json::from_str::<Facility>(&bad).is_err());
    }

    proptest! {
        #[test]
        fn accepted_phones_round_trip(raw in "[0-9 +()-]{0,24}(;[0-9 +()-]{0,24}){0,3}") {
            if let Ok(phone) = Phone::parse(&raw) {
                prop_assert_eq!(Phone::parse(phone.as_str()).unwrap(), phone.clone());
                for number in phone.dialable() {
                    prop_assert!((3..=21).contains(&number.len()));
                }
            }
        }

        #[test]
        fn accepted_external_ids_round_trip(raw in "[a-z_]{1,8}:[!-~]{1,20}") {
            let id = ExternalId::parse(&raw).unwrap();
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<ExternalId>(&json).unwrap(), id);
        }
    }
}
