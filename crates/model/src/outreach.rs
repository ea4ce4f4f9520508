//! Elderly-vaccination outreach (issue 15): the village register a team works from, the sessions
//! it plans, what it records after each one, and the figures it steers by — coverage, dropout,
//! open-vial wastage, what is left to do, who is due for a revisit.
//!
//! **Aggregates only.** Nothing here holds a person: no name, no ID-card number, no phone
//! number, no birth date. A village is counted by age band, a session's outcome by age band and
//! dose number, a deferral by reason and revisit date. The one free text, the note on serious
//! adverse events, is for what happened (symptoms, where the person was sent), bounded like every
//! [`Note`]; the form says not to write names in it.
//!
//! Times are the facility's local time, as everywhere in the crate ([`crate::timetable`]): a
//! session has a [`NaiveDate`] and a window of two [`NaiveTime`]s, and the clock a plan is checked
//! against is a local [`NaiveDateTime`] the caller passes in.
//!
//! Rules that need nothing else run in serde (a [`Village`], [`Session`] or [`SessionOutcome`]
//! that parses keeps them); the rules that need the register, the doses recorded so far or a
//! clock are [`Session::check`] and [`SessionOutcome::check`], which give every broken rule at
//! once, each naming its field ([`OutreachField`]) so a form can show it beside the input.

use crate::error::{Field, ValidationError};
use crate::facility::FacilityId;
use crate::geo::LatLon;
use crate::lang::Lang;
use crate::text::{AreaName, Name, Note};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use uuid::Uuid;

/// The largest numbers outreach records may carry; anything larger is a typing error.
pub mod limits {
    /// Elderly people of one age band in one village.
    pub const POPULATION: u32 = 1_000_000;
    /// Doses, deferrals, refusals, visits or events in one cell of one session.
    pub const SESSION_COUNT: u32 = 10_000;
    /// Vials of one product opened in one session.
    pub const VIALS: u32 = 10_000;
    pub const DOSES_PER_VIAL: u32 = 100;
    pub const TEAM_SIZE: u32 = 100;
    /// Products one session carries.
    pub const PRODUCTS: usize = 20;
    /// Deferral rows of one outcome.
    pub const DEFERRALS: usize = 100;
}

/// An age band of the elderly population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AgeBand {
    #[serde(rename = "age_60_69")]
    Age60To69,
    #[serde(rename = "age_70_79")]
    Age70To79,
    #[serde(rename = "age_80_plus")]
    Age80Plus,
}

impl AgeBand {
    pub const ALL: [AgeBand; 3] = [AgeBand::Age60To69, AgeBand::Age70To79, AgeBand::Age80Plus];

    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Age60To69 => "age_60_69",
            AgeBand::Age70To79 => "age_70_79",
            AgeBand::Age80Plus => "age_80_plus",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            AgeBand::Age60To69 => lang.pick("60–69 岁", "aged 60–69"),
            AgeBand::Age70To79 => lang.pick("70–79 岁", "aged 70–79"),
            AgeBand::Age80Plus => lang.pick("80 岁及以上", "aged 80 and over"),
        }
    }
}

/// Which dose of the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseNumber {
    First,
    Second,
    Booster,
}

impl DoseNumber {
    pub const ALL: [DoseNumber; 3] = [DoseNumber::First, DoseNumber::Second, DoseNumber::Booster];

    pub fn as_str(self) -> &'static str {
        match self {
            DoseNumber::First => "first",
            DoseNumber::Second => "second",
            DoseNumber::Booster => "booster",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            DoseNumber::First => lang.pick("第 1 剂", "1st dose"),
            DoseNumber::Second => lang.pick("第 2 剂", "2nd dose"),
            DoseNumber::Booster => lang.pick("加强剂", "booster"),
        }
    }
}

/// One value per dose number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct ByDose<T> {
    pub first: T,
    pub second: T,
    pub booster: T,
}

impl<T: Copy> ByDose<T> {
    pub fn get(&self, dose: DoseNumber) -> T {
        match dose {
            DoseNumber::First => self.first,
            DoseNumber::Second => self.second,
            DoseNumber::Booster => self.booster,
        }
    }

    pub fn get_mut(&mut self, dose: DoseNumber) -> &mut T {
        match dose {
            DoseNumber::First => &mut self.first,
            DoseNumber::Second => &mut self.second,
            DoseNumber::Booster => &mut self.booster,
        }
    }
}

/// One value per age band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct ByBand<T> {
    pub age_60_69: T,
    pub age_70_79: T,
    pub age_80_plus: T,
}

impl<T: Copy> ByBand<T> {
    pub fn get(&self, band: AgeBand) -> T {
        match band {
            AgeBand::Age60To69 => self.age_60_69,
            AgeBand::Age70To79 => self.age_70_79,
            AgeBand::Age80Plus => self.age_80_plus,
        }
    }

    pub fn get_mut(&mut self, band: AgeBand) -> &mut T {
        match band {
            AgeBand::Age60To69 => &mut self.age_60_69,
            AgeBand::Age70To79 => &mut self.age_70_79,
            AgeBand::Age80Plus => &mut self.age_80_plus,
        }
    }
}

/// Doses per age band and dose number.
pub type DoseTable = ByBand<ByDose<u32>>;

impl DoseTable {
    /// The count of one cell.
    pub fn cell(&self, band: AgeBand, dose: DoseNumber) -> u32 {
        self.get(band).get(dose)
    }

    /// Every cell with its band and dose, bands then doses in order.
    pub fn cells(&self) -> impl Iterator<Item = (AgeBand, DoseNumber, u32)> + '_ {
        AgeBand::ALL.into_iter().flat_map(move |band| {
            DoseNumber::ALL
                .into_iter()
                .map(move |dose| (band, dose, self.cell(band, dose)))
        })
    }

    /// Every dose of the table.
    pub fn total(&self) -> u64 {
        self.cells().map(|(_, _, n)| u64::from(n)).sum()
    }

    /// `self + other`, cell by cell (saturating: both are bounded far below `u32::MAX`).
    pub fn plus(&self, other: &DoseTable) -> DoseTable {
        let mut sum = *self;
        for (band, dose, n) in other.cells() {
            let cell = sum.get_mut(band).get_mut(dose);
            *cell = cell.saturating_add(n);
        }
        sum
    }
}

/// A village as the register names it: its township and its own name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "VillageKeyWire")]
pub struct VillageKey {
    pub township: AreaName,
    pub village: AreaName,
}

#[derive(Deserialize)]
struct VillageKeyWire {
    township: String,
    village: String,
}

impl TryFrom<VillageKeyWire> for VillageKey {
    type Error = ValidationError;
    fn try_from(w: VillageKeyWire) -> Result<Self, Self::Error> {
        VillageKey::parse(&w.township, &w.village)
    }
}

impl VillageKey {
    /// Parses both names, each trimmed and bounded like every area name.
    pub fn parse(township: &str, village: &str) -> Result<Self, ValidationError> {
        Ok(VillageKey {
            township: AreaName::parse_for(township, Field::Township)?,
            village: AreaName::parse_for(village, Field::Village)?,
        })
    }
}

impl fmt::Display for VillageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.township, self.village)
    }
}

/// One entry of the village register: the elderly population per band and the doses given
/// before the team's own records begin (the health office's baseline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VillageWire")]
pub struct Village {
    pub key: VillageKey,
    pub population: ByBand<u32>,
    #[serde(default)]
    pub baseline: DoseTable,
}

#[derive(Deserialize)]
struct VillageWire {
    key: VillageKey,
    population: ByBand<u32>,
    #[serde(default)]
    baseline: DoseTable,
}

impl TryFrom<VillageWire> for Village {
    type Error = OutreachError;
    fn try_from(w: VillageWire) -> Result<Self, Self::Error> {
        Village {
            key: w.key,
            population: w.population,
            baseline: w.baseline,
        }
        .validate()
    }
}

impl Village {
    /// The first broken rule, if any.
    pub fn validate(self) -> Result<Self, OutreachError> {
        match self.errors().into_iter().next() {
            Some(err) => Err(err),
            None => Ok(self),
        }
    }

    /// Every broken rule: populations within [`limits::POPULATION`], no baseline cell above its
    /// band's population.
    pub fn errors(&self) -> Vec<OutreachError> {
        let mut errors = Vec::new();
        for band in AgeBand::ALL {
            let population = self.population.get(band);
            if population > limits::POPULATION {
                errors.push(OutreachError::TooLarge {
                    field: OutreachField::Population(band),
                    max: limits::POPULATION,
                });
                continue;
            }
            for dose in DoseNumber::ALL {
                let baseline = self.baseline.cell(band, dose);
                if baseline > population {
                    errors.push(OutreachError::BaselineAbovePopulation {
                        band,
                        dose,
                        baseline,
                        population,
                    });
                }
            }
        }
        errors
    }

    /// Who is left for a dose: the band's population less the baseline and the doses recorded.
    pub fn remaining(&self, recorded: &DoseTable, band: AgeBand, dose: DoseNumber) -> u32 {
        self.population
            .get(band)
            .saturating_sub(self.baseline.cell(band, dose))
            .saturating_sub(recorded.cell(band, dose))
    }
}

/// The villages a team works in, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Village>", into = "Vec<Village>")]
pub struct Register {
    villages: Vec<Village>,
}

impl TryFrom<Vec<Village>> for Register {
    type Error = OutreachError;
    fn try_from(villages: Vec<Village>) -> Result<Self, Self::Error> {
        Register::new(villages)
    }
}

impl From<Register> for Vec<Village> {
    fn from(register: Register) -> Self {
        register.villages
    }
}

impl Register {
    /// A register of these villages, in this order; a village listed twice is refused.
    pub fn new(villages: Vec<Village>) -> Result<Self, OutreachError> {
        let mut seen = BTreeSet::new();
        for village in &villages {
            if !seen.insert(&village.key) {
                return Err(OutreachError::DuplicateInRegister {
                    village: village.key.clone(),
                });
            }
        }
        Ok(Register { villages })
    }

    /// The villages, in register order.
    pub fn villages(&self) -> &[Village] {
        &self.villages
    }

    pub fn village(&self, key: &VillageKey) -> Option<&Village> {
        self.villages.iter().find(|v| &v.key == key)
    }
}

/// A session's identity: a UUID made on the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(Uuid);

impl SessionId {
    pub fn new_v7() -> Self {
        SessionId(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for SessionId {
    fn from(uuid: Uuid) -> Self {
        SessionId(uuid)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a session is held: a facility of the registry, or a point with what it is (村委会).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Place {
    Facility { facility: FacilityId },
    Point { location: LatLon, description: Name },
}

/// How a session reaches people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// At a clinic or vaccination point of the registry (固定接种点).
    FixedPoint,
    /// A point set up for the day (临时接种点), e.g. at the village committee.
    TemporaryPoint,
    /// A vaccination vehicle (流动接种车).
    Vehicle,
    /// Door to door, for the bedridden and the frail (上门接种).
    HomeVisits,
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Planned,
    /// Announced to the village.
    Published,
    Cancelled,
    Done,
}

/// A vaccine product the session carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// The product's name as the vials say it; unique within a session.
    pub name: Name,
    pub doses_per_vial: u32,
}

/// A planned session in one village.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SessionWire")]
pub struct Session {
    pub id: SessionId,
    pub village: VillageKey,
    pub place: Place,
    /// Local date.
    pub date: NaiveDate,
    /// The window, local time; `start < end`.
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub kind: SessionKind,
    pub products: Vec<Product>,
    /// Doses the team means to give.
    #[serde(default)]
    pub target: DoseTable,
    pub team_size: u32,
    pub state: SessionState,
}

#[derive(Deserialize)]
struct SessionWire {
    id: SessionId,
    village: VillageKey,
    place: Place,
    date: NaiveDate,
    start: NaiveTime,
    end: NaiveTime,
    kind: SessionKind,
    products: Vec<Product>,
    #[serde(default)]
    target: DoseTable,
    team_size: u32,
    state: SessionState,
}

impl TryFrom<SessionWire> for Session {
    type Error = OutreachError;
    fn try_from(w: SessionWire) -> Result<Self, Self::Error> {
        Session {
            id: w.id,
            village: w.village,
            place: w.place,
            date: w.date,
            start: w.start,
            end: w.end,
            kind: w.kind,
            products: w.products,
            target: w.target,
            team_size: w.team_size,
            state: w.state,
        }
        .validate()
    }
}

impl Session {
    /// The first rule broken that needs nothing but the session.
    pub fn validate(self) -> Result<Self, OutreachError> {
        match self.errors().into_iter().next() {
            Some(err) => Err(err),
            None => Ok(self),
        }
    }

    /// Every rule that needs nothing but the session: window, team size, products.
    pub fn errors(&self) -> Vec<OutreachError> {
        let mut errors = Vec::new();
        if self.start >= self.end {
            errors.push(OutreachError::WindowNotOrdered {
                start: self.start,
                end: self.end,
            });
        }
        if self.team_size == 0 {
            errors.push(OutreachError::AtLeastOne {
                field: OutreachField::TeamSize,
            });
        } else if self.team_size > limits::TEAM_SIZE {
            errors.push(OutreachError::TooLarge {
                field: OutreachField::TeamSize,
                max: limits::TEAM_SIZE,
            });
        }
        if self.products.is_empty() {
            errors.push(OutreachError::NoProducts);
        } else if self.products.len() > limits::PRODUCTS {
            errors.push(OutreachError::TooManyProducts {
                max: limits::PRODUCTS,
            });
        }
        let mut names = BTreeSet::new();
        for (index, product) in self.products.iter().enumerate() {
            if product.doses_per_vial == 0 {
                errors.push(OutreachError::AtLeastOne {
                    field: OutreachField::DosesPerVial(index),
                });
            } else if product.doses_per_vial > limits::DOSES_PER_VIAL {
                errors.push(OutreachError::TooLarge {
                    field: OutreachField::DosesPerVial(index),
                    max: limits::DOSES_PER_VIAL,
                });
            }
            if !names.insert(product.name.as_str()) {
                errors.push(OutreachError::DuplicateProduct {
                    index,
                    name: product.name.as_str().to_owned(),
                });
            }
        }
        for (band, dose, n) in self.target.cells() {
            if n > limits::SESSION_COUNT {
                errors.push(OutreachError::TooLarge {
                    field: OutreachField::Target(band, dose),
                    max: limits::SESSION_COUNT,
                });
            }
        }
        errors
    }

    /// When the window opens, local time.
    pub fn starts_at(&self) -> NaiveDateTime {
        self.date.and_time(self.start)
    }

    /// When the window closes, local time.
    pub fn ends_at(&self) -> NaiveDateTime {
        self.date.and_time(self.end)
    }

    /// The product of that name.
    pub fn product(&self, name: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.name.as_str() == name)
    }

    /// Every rule, including those that need the register, the doses `recorded` in the village
    /// by its other sessions (see [`recorded_doses`]) and the local clock: the village is in
    /// the register, no target is above who is left for that band and dose, and a plan that is
    /// still to happen (planned, published) has a window that has not yet closed at `now`. A
    /// session done or cancelled is history and is not held to the clock.
    pub fn check(
        &self,
        register: &Register,
        recorded: &DoseTable,
        now: NaiveDateTime,
    ) -> Result<(), Vec<OutreachError>> {
        let mut errors = self.errors();
        if matches!(self.state, SessionState::Planned | SessionState::Published)
            && self.ends_at() <= now
        {
            errors.push(OutreachError::InPast);
        }
        match register.village(&self.village) {
            None => errors.push(OutreachError::UnknownVillage {
                village: self.village.clone(),
            }),
            Some(village) => {
                for (band, dose, target) in self.target.cells() {
                    let remaining = village.remaining(recorded, band, dose);
                    if target > remaining && target <= limits::SESSION_COUNT {
                        errors.push(OutreachError::TargetAboveRemaining {
                            band,
                            dose,
                            target,
                            remaining,
                        });
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Why a person was not vaccinated today but should be seen again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeferralReason {
    /// Fever or an acute illness (发热/急性疾病).
    AcuteIllness,
    /// A chronic disease not under control (慢性病未控制).
    UncontrolledChronic,
    Other,
}

impl DeferralReason {
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            DeferralReason::AcuteIllness => lang.pick("发热/急性疾病", "fever or acute illness"),
            DeferralReason::UncontrolledChronic => {
                lang.pick("慢性病未控制", "uncontrolled chronic disease")
            }
            DeferralReason::Other => lang.pick("其他", "other"),
        }
    }
}

/// How many people of a band were deferred for a reason, and when to see them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferral {
    pub reason: DeferralReason,
    pub band: AgeBand,
    pub count: u32,
    /// Local date; on or after the session's date.
    pub revisit_on: NaiveDate,
}

/// Adverse events following immunisation, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdverseEvents {
    pub non_serious: u32,
    pub serious: u32,
    /// Required when `serious > 0`: what happened and what was done (never a name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serious_note: Option<Note>,
}

/// The vials of one product a session opened, and the doses thrown away from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VialUse {
    /// A product of the session, by name.
    pub product: Name,
    pub vials_opened: u32,
    #[serde(default)]
    pub doses_discarded: u32,
}

/// What a session did, recorded by the team afterwards. A later outcome of the same session
/// replaces the earlier one (a correction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SessionOutcomeWire")]
pub struct SessionOutcome {
    pub session: SessionId,
    #[serde(default)]
    pub doses_given: DoseTable,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deferrals: Vec<Deferral>,
    #[serde(default)]
    pub refusals: u32,
    #[serde(default)]
    pub home_visits: u32,
    #[serde(default)]
    pub adverse_events: AdverseEvents,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vials: Vec<VialUse>,
}

#[derive(Deserialize)]
struct SessionOutcomeWire {
    session: SessionId,
    #[serde(default)]
    doses_given: DoseTable,
    #[serde(default)]
    deferrals: Vec<Deferral>,
    #[serde(default)]
    refusals: u32,
    #[serde(default)]
    home_visits: u32,
    #[serde(default)]
    adverse_events: AdverseEvents,
    #[serde(default)]
    vials: Vec<VialUse>,
}

impl TryFrom<SessionOutcomeWire> for SessionOutcome {
    type Error = OutreachError;
    fn try_from(w: SessionOutcomeWire) -> Result<Self, Self::Error> {
        SessionOutcome {
            session: w.session,
            doses_given: w.doses_given,
            deferrals: w.deferrals,
            refusals: w.refusals,
            home_visits: w.home_visits,
            adverse_events: w.adverse_events,
            vials: w.vials,
        }
        .validate()
    }
}

/// Something in an outcome that does not add up but may be true; shown, not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutreachWarning {
    /// More doses given and discarded than the opened vials hold (overfilled vials, or a
    /// miscount).
    DosesExceedVials {
        given: u64,
        discarded: u64,
        capacity: u64,
    },
    /// Doses of the opened vials neither given nor recorded as discarded.
    DosesUnaccounted {
        given: u64,
        discarded: u64,
        capacity: u64,
    },
}

impl OutreachWarning {
    pub fn code(&self) -> &'static str {
        match self {
            OutreachWarning::DosesExceedVials { .. } => "doses_exceed_vials",
            OutreachWarning::DosesUnaccounted { .. } => "doses_unaccounted",
        }
    }

    /// The field a form shows it beside.
    pub fn field(&self) -> OutreachField {
        OutreachField::Vials
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (
                OutreachWarning::DosesExceedVials {
                    given,
                    discarded,
                    capacity,
                },
                Lang::Zh,
            ) => format!(
                "接种 {given} 剂加废弃 {discarded} 剂，多于所开疫苗瓶的 {capacity} 剂：请核对"
            ),
            (
                OutreachWarning::DosesExceedVials {
                    given,
                    discarded,
                    capacity,
                },
                Lang::En,
            ) => format!(
                "{given} doses given and {discarded} discarded are more than the {capacity} the opened vials hold: please check"
            ),
            (
                OutreachWarning::DosesUnaccounted {
                    given,
                    discarded,
                    capacity,
                },
                Lang::Zh,
            ) => {
                let left = capacity.saturating_sub(given + discarded);
                format!("所开疫苗瓶共 {capacity} 剂，接种 {given} 剂、废弃 {discarded} 剂，还有 {left} 剂未记录：请核对")
            }
            (
                OutreachWarning::DosesUnaccounted {
                    given,
                    discarded,
                    capacity,
                },
                Lang::En,
            ) => {
                let left = capacity.saturating_sub(given + discarded);
                format!("The opened vials held {capacity} doses; {given} given and {discarded} discarded leave {left} unaccounted for: please check")
            }
        }
    }
}

impl SessionOutcome {
    /// The first rule broken that needs nothing but the outcome.
    pub fn validate(self) -> Result<Self, OutreachError> {
        match self.errors().into_iter().next() {
            Some(err) => Err(err),
            None => Ok(self),
        }
    }

    /// Every rule that needs nothing but the outcome: bounded counts, a note for serious
    /// adverse events.
    pub fn errors(&self) -> Vec<OutreachError> {
        let mut errors = Vec::new();
        let mut bounded = |value: u32, field: OutreachField, max: u32| {
            if value > max {
                errors.push(OutreachError::TooLarge { field, max });
            }
        };
        for (band, dose, n) in self.doses_given.cells() {
            bounded(
                n,
                OutreachField::DosesGiven(band, dose),
                limits::SESSION_COUNT,
            );
        }
        for (index, deferral) in self.deferrals.iter().enumerate() {
            bounded(
                deferral.count,
                OutreachField::DeferralCount(index),
                limits::SESSION_COUNT,
            );
        }
        bounded(
            self.refusals,
            OutreachField::Refusals,
            limits::SESSION_COUNT,
        );
        bounded(
            self.home_visits,
            OutreachField::HomeVisits,
            limits::SESSION_COUNT,
        );
        bounded(
            self.adverse_events.non_serious,
            OutreachField::AdverseNonSerious,
            limits::SESSION_COUNT,
        );
        bounded(
            self.adverse_events.serious,
            OutreachField::AdverseSerious,
            limits::SESSION_COUNT,
        );
        for (index, vials) in self.vials.iter().enumerate() {
            bounded(
                vials.vials_opened,
                OutreachField::VialsOpened(index),
                limits::VIALS,
            );
            bounded(
                vials.doses_discarded,
                OutreachField::DosesDiscarded(index),
                limits::VIALS * limits::DOSES_PER_VIAL,
            );
        }
        if self.deferrals.len() > limits::DEFERRALS {
            errors.push(OutreachError::TooManyDeferrals {
                max: limits::DEFERRALS,
            });
        }
        if self.adverse_events.serious > 0 && self.adverse_events.serious_note.is_none() {
            errors.push(OutreachError::SeriousEventWithoutNote);
        }
        errors
    }

    /// Every rule, including those that need the session it records and the village: it is
    /// that session's, which is not cancelled; every revisit is on or after the session's date;
    /// every vial row names one of the session's products; no dose cell is above who was left in
    /// the village (population less baseline less `recorded`, the doses of the village's other
    /// sessions). What does not add up but may be true comes back as warnings.
    pub fn check(
        &self,
        session: &Session,
        register: &Register,
        recorded: &DoseTable,
    ) -> Result<Vec<OutreachWarning>, Vec<OutreachError>> {
        let mut errors = self.errors();
        if self.session != session.id {
            errors.push(OutreachError::WrongSession);
        } else if session.state == SessionState::Cancelled {
            errors.push(OutreachError::SessionCancelled);
        }
        for (index, deferral) in self.deferrals.iter().enumerate() {
            if deferral.revisit_on < session.date {
                errors.push(OutreachError::RevisitBeforeSession {
                    index,
                    revisit_on: deferral.revisit_on,
                    session_date: session.date,
                });
            }
        }
        let mut seen = BTreeSet::new();
        for (index, vials) in self.vials.iter().enumerate() {
            if session.product(vials.product.as_str()).is_none() {
                errors.push(OutreachError::UnknownProduct {
                    index,
                    name: vials.product.as_str().to_owned(),
                });
            } else if !seen.insert(vials.product.as_str()) {
                errors.push(OutreachError::DuplicateVialRow {
                    index,
                    name: vials.product.as_str().to_owned(),
                });
            }
        }
        match register.village(&session.village) {
            None => errors.push(OutreachError::UnknownVillage {
                village: session.village.clone(),
            }),
            Some(village) => {
                for (band, dose, given) in self.doses_given.cells() {
                    let remaining = village.remaining(recorded, band, dose);
                    if given > remaining && given <= limits::SESSION_COUNT {
                        errors.push(OutreachError::DosesAbovePopulation {
                            band,
                            dose,
                            given,
                            remaining,
                        });
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let given = self.doses_given.total();
        let discarded = self.doses_discarded();
        let capacity = self.vial_capacity(session);
        let mut warnings = Vec::new();
        if given + discarded > capacity {
            warnings.push(OutreachWarning::DosesExceedVials {
                given,
                discarded,
                capacity,
            });
        } else if given + discarded < capacity {
            warnings.push(OutreachWarning::DosesUnaccounted {
                given,
                discarded,
                capacity,
            });
        }
        Ok(warnings)
    }

    /// Doses thrown away, every product.
    pub fn doses_discarded(&self) -> u64 {
        self.vials
            .iter()
            .map(|v| u64::from(v.doses_discarded))
            .sum()
    }

    /// Doses the opened vials held: vials × doses per vial of the session's product (a row
    /// naming no product of the session holds none).
    pub fn vial_capacity(&self, session: &Session) -> u64 {
        self.vials
            .iter()
            .map(|v| {
                let per_vial = session
                    .product(v.product.as_str())
                    .map_or(0, |p| p.doses_per_vial);
                u64::from(v.vials_opened) * u64::from(per_vial)
            })
            .sum()
    }

    /// Open-vial wastage: doses discarded ÷ doses the opened vials held; `None` with no vial
    /// opened.
    pub fn wastage(&self, session: &Session) -> Option<f64> {
        ratio(self.doses_discarded(), self.vial_capacity(session))
    }
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// A field of the register, a session or an outcome, as a form lays them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutreachField {
    Township,
    Village,
    Population(AgeBand),
    Baseline(AgeBand, DoseNumber),
    Date,
    Start,
    End,
    Place,
    Products,
    ProductName(usize),
    DosesPerVial(usize),
    Target(AgeBand, DoseNumber),
    TeamSize,
    Session,
    DosesGiven(AgeBand, DoseNumber),
    DeferralCount(usize),
    DeferralRevisit(usize),
    Deferrals,
    Refusals,
    HomeVisits,
    AdverseNonSerious,
    AdverseSerious,
    SeriousNote,
    Vials,
    VialProduct(usize),
    VialsOpened(usize),
    DosesDiscarded(usize),
    /// The header row of an import file.
    Header,
    /// A whole line of an import file.
    Line,
}

impl OutreachField {
    /// A stable key for a form: the value's JSON path in a session or outcome
    /// (`target.age_80_plus.first`, `products.0.doses_per_vial`); a village's own names are
    /// `village.township` and `village.village` wherever they are.
    pub fn key(self) -> String {
        use OutreachField as F;
        let cell = |name: &str, band: AgeBand, dose: DoseNumber| {
            format!("{name}.{}.{}", band.as_str(), dose.as_str())
        };
        match self {
            F::Township => "village.township".to_owned(),
            F::Village => "village.village".to_owned(),
            F::Population(band) => format!("population.{}", band.as_str()),
            F::Baseline(band, dose) => cell("baseline", band, dose),
            F::Date => "date".to_owned(),
            F::Start => "start".to_owned(),
            F::End => "end".to_owned(),
            F::Place => "place".to_owned(),
            F::Products => "products".to_owned(),
            F::ProductName(i) => format!("products.{i}.name"),
            F::DosesPerVial(i) => format!("products.{i}.doses_per_vial"),
            F::Target(band, dose) => cell("target", band, dose),
            F::TeamSize => "team_size".to_owned(),
            F::Session => "session".to_owned(),
            F::DosesGiven(band, dose) => cell("doses_given", band, dose),
            F::DeferralCount(i) => format!("deferrals.{i}.count"),
            F::DeferralRevisit(i) => format!("deferrals.{i}.revisit_on"),
            F::Deferrals => "deferrals".to_owned(),
            F::Refusals => "refusals".to_owned(),
            F::HomeVisits => "home_visits".to_owned(),
            F::AdverseNonSerious => "adverse_events.non_serious".to_owned(),
            F::AdverseSerious => "adverse_events.serious".to_owned(),
            F::SeriousNote => "adverse_events.serious_note".to_owned(),
            F::Vials => "vials".to_owned(),
            F::VialProduct(i) => format!("vials.{i}.product"),
            F::VialsOpened(i) => format!("vials.{i}.vials_opened"),
            F::DosesDiscarded(i) => format!("vials.{i}.doses_discarded"),
            F::Header => "header".to_owned(),
            F::Line => "line".to_owned(),
        }
    }

    /// The field's label for an error message.
    pub fn label(self, lang: Lang) -> String {
        use OutreachField as F;
        let cell = |zh: &str, en: &str, band: AgeBand, dose: DoseNumber| match lang {
            Lang::Zh => format!("{zh}（{} {}）", band.label(lang), dose.label(lang)),
            Lang::En => format!("{en} ({}, {})", band.label(lang), dose.label(lang)),
        };
        let nth = |zh: &str, en: &str, i: usize| match lang {
            Lang::Zh => format!("第 {} {zh}", i + 1),
            Lang::En => format!("{en} {}", i + 1),
        };
        let fixed = |zh: &str, en: &str| lang.pick(zh, en).to_owned();
        match self {
            F::Township => fixed("乡镇/街道", "township"),
            F::Village => fixed("村/社区", "village"),
            F::Population(band) => match lang {
                Lang::Zh => format!("{}老年人口", band.label(lang)),
                Lang::En => format!("population {}", band.label(lang)),
            },
            F::Baseline(band, dose) => cell("既往已接种", "doses given before", band, dose),
            F::Date => fixed("日期", "date"),
            F::Start => fixed("开始时间", "start time"),
            F::End => fixed("结束时间", "end time"),
            F::Place => fixed("接种地点", "place"),
            F::Products => fixed("疫苗", "vaccines"),
            F::ProductName(i) => nth("种疫苗的名称", "name of vaccine", i),
            F::DosesPerVial(i) => nth("种疫苗的每瓶剂数", "doses per vial of vaccine", i),
            F::Target(band, dose) => cell("目标剂次", "target", band, dose),
            F::TeamSize => fixed("队员人数", "team size"),
            F::Session => fixed("接种场次", "session"),
            F::DosesGiven(band, dose) => cell("本次接种剂次", "doses given", band, dose),
            F::DeferralCount(i) => nth("条暂缓接种的人数", "number deferred in row", i),
            F::DeferralRevisit(i) => nth("条暂缓接种的复访日期", "revisit date in row", i),
            F::Deferrals => fixed("暂缓接种", "deferrals"),
            F::Refusals => fixed("拒绝接种人数", "refusals"),
            F::HomeVisits => fixed("上门服务次数", "home visits done"),
            F::AdverseNonSerious => fixed("一般不良反应数", "non-serious adverse events"),
            F::AdverseSerious => fixed("严重不良反应数", "serious adverse events"),
            F::SeriousNote => fixed("严重不良反应说明", "note on serious adverse events"),
            F::Vials => fixed("开瓶记录", "vials opened"),
            F::VialProduct(i) => nth("条开瓶记录的疫苗", "vaccine of vial row", i),
            F::VialsOpened(i) => nth("条开瓶记录的开瓶数", "vials opened in vial row", i),
            F::DosesDiscarded(i) => nth("条开瓶记录的废弃剂数", "doses discarded in vial row", i),
            F::Header => fixed("表头", "header row"),
            F::Line => fixed("整行", "line"),
        }
    }
}

impl fmt::Display for OutreachField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Why outreach data was refused. `Display` gives the Chinese message, as the interface does
/// by default; [`OutreachError::message`] gives either language.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OutreachError {
    /// A text or other value refused by the crate's common rules (names, notes, places).
    #[error("{}", self.message(Lang::Zh))]
    Invalid {
        field: OutreachField,
        error: ValidationError,
    },
    #[error("{}", self.message(Lang::Zh))]
    TooLarge { field: OutreachField, max: u32 },
    /// Zero where at least one is needed (team size, doses per vial).
    #[error("{}", self.message(Lang::Zh))]
    AtLeastOne { field: OutreachField },
    #[error("{}", self.message(Lang::Zh))]
    BaselineAbovePopulation {
        band: AgeBand,
        dose: DoseNumber,
        baseline: u32,
        population: u32,
    },
    #[error("{}", self.message(Lang::Zh))]
    UnknownVillage { village: VillageKey },
    #[error("{}", self.message(Lang::Zh))]
    WindowNotOrdered { start: NaiveTime, end: NaiveTime },
    /// A plan whose window has already closed.
    #[error("{}", self.message(Lang::Zh))]
    InPast,
    #[error("{}", self.message(Lang::Zh))]
    NoProducts,
    #[error("{}", self.message(Lang::Zh))]
    TooManyProducts { max: usize },
    #[error("{}", self.message(Lang::Zh))]
    DuplicateProduct { index: usize, name: String },
    #[error("{}", self.message(Lang::Zh))]
    TargetAboveRemaining {
        band: AgeBand,
        dose: DoseNumber,
        target: u32,
        remaining: u32,
    },
    /// An outcome recorded against another session than the one it is checked with.
    #[error("{}", self.message(Lang::Zh))]
    WrongSession,
    #[error("{}", self.message(Lang::Zh))]
    SessionCancelled,
    #[error("{}", self.message(Lang::Zh))]
    RevisitBeforeSession {
        index: usize,
        revisit_on: NaiveDate,
        session_date: NaiveDate,
    },
    #[error("{}", self.message(Lang::Zh))]
    TooManyDeferrals { max: usize },
    #[error("{}", self.message(Lang::Zh))]
    SeriousEventWithoutNote,
    #[error("{}", self.message(Lang::Zh))]
    UnknownProduct { index: usize, name: String },
    #[error("{}", self.message(Lang::Zh))]
    DuplicateVialRow { index: usize, name: String },
    #[error("{}", self.message(Lang::Zh))]
    DosesAbovePopulation {
        band: AgeBand,
        dose: DoseNumber,
        given: u32,
        remaining: u32,
    },
    /// Not a whole number where one is expected (import files).
    #[error("{}", self.message(Lang::Zh))]
    NotANumber { field: OutreachField, value: String },
    /// An import file's header is not the template's.
    #[error("{}", self.message(Lang::Zh))]
    WrongHeader { expected: String },
    /// An import line with another number of cells than the header.
    #[error("{}", self.message(Lang::Zh))]
    WrongCellCount { expected: usize, found: usize },
    /// Quotes in an import file: the format has none (no cell may contain a comma).
    #[error("{}", self.message(Lang::Zh))]
    Quoted,
    /// The same village twice in a register.
    #[error("{}", self.message(Lang::Zh))]
    DuplicateInRegister { village: VillageKey },
    /// The same village twice in an import file.
    #[error("{}", self.message(Lang::Zh))]
    DuplicateVillage {
        village: VillageKey,
        first_line: u64,
    },
}

impl From<ValidationError> for OutreachError {
    fn from(error: ValidationError) -> Self {
        let field = match error.field() {
            Field::Township => OutreachField::Township,
            Field::Village => OutreachField::Village,
            Field::Latitude | Field::Longitude => OutreachField::Place,
            Field::Note => OutreachField::SeriousNote,
            _ => OutreachField::Line,
        };
        OutreachError::Invalid { field, error }
    }
}

impl OutreachError {
    /// A stable code for clients and tests: never translated, never reworded.
    pub fn code(&self) -> &'static str {
        use OutreachError as E;
        match self {
            E::Invalid { error, .. } => error.code(),
            E::TooLarge { .. } => "too_large",
            E::AtLeastOne { .. } => "at_least_one",
            E::BaselineAbovePopulation { .. } => "baseline_above_population",
            E::UnknownVillage { .. } => "unknown_village",
            E::WindowNotOrdered { .. } => "window_not_ordered",
            E::InPast => "in_past",
            E::NoProducts => "no_products",
            E::TooManyProducts { .. } => "too_many_products",
            E::DuplicateProduct { .. } => "duplicate_product",
            E::TargetAboveRemaining { .. } => "target_above_remaining",
            E::WrongSession => "wrong_session",
            E::SessionCancelled => "session_cancelled",
            E::RevisitBeforeSession { .. } => "revisit_before_session",
            E::TooManyDeferrals { .. } => "too_many_deferrals",
            E::SeriousEventWithoutNote => "serious_event_without_note",
            E::UnknownProduct { .. } => "unknown_product",
            E::DuplicateVialRow { .. } => "duplicate_vial_row",
            E::DosesAbovePopulation { .. } => "doses_above_population",
            E::NotANumber { .. } => "not_a_number",
            E::WrongHeader { .. } => "wrong_header",
            E::WrongCellCount { .. } => "wrong_cell_count",
            E::Quoted => "quoted",
            E::DuplicateVillage { .. } | E::DuplicateInRegister { .. } => "duplicate_village",
        }
    }

    /// The field the error is about, for a form to show it beside.
    pub fn field(&self) -> OutreachField {
        use OutreachError as E;
        use OutreachField as F;
        match self {
            E::Invalid { field, .. }
            | E::TooLarge { field, .. }
            | E::AtLeastOne { field }
            | E::NotANumber { field, .. } => *field,
            E::BaselineAbovePopulation { band, dose, .. } => F::Baseline(*band, *dose),
            E::UnknownVillage { .. }
            | E::DuplicateVillage { .. }
            | E::DuplicateInRegister { .. } => F::Village,
            E::WindowNotOrdered { .. } => F::End,
            E::InPast => F::Date,
            E::NoProducts | E::TooManyProducts { .. } => F::Products,
            E::DuplicateProduct { index, .. } => F::ProductName(*index),
            E::TargetAboveRemaining { band, dose, .. } => F::Target(*band, *dose),
            E::WrongSession | E::SessionCancelled => F::Session,
            E::RevisitBeforeSession { index, .. } => F::DeferralRevisit(*index),
            E::TooManyDeferrals { .. } => F::Deferrals,
            E::SeriousEventWithoutNote => F::SeriousNote,
            E::UnknownProduct { index, .. } | E::DuplicateVialRow { index, .. } => {
                F::VialProduct(*index)
            }
            E::DosesAbovePopulation { band, dose, .. } => F::DosesGiven(*band, *dose),
            E::WrongHeader { .. } => F::Header,
            E::WrongCellCount { .. } | E::Quoted => F::Line,
        }
    }

    /// The message a user reads, in their language.
    pub fn message(&self, lang: Lang) -> String {
        use OutreachError as E;
        let label = self.field().label(lang);
        let zh = lang == Lang::Zh;
        match self {
            E::Invalid { error, .. } => error.message(lang),
            E::TooLarge { max, .. } if zh => format!("{label}过大：最多 {max}"),
            E::TooLarge { max, .. } => format!("The {label} is too large: at most {max}"),
            E::AtLeastOne { .. } if zh => format!("{label}至少为 1"),
            E::AtLeastOne { .. } => format!("The {label} must be at least 1"),
            E::BaselineAbovePopulation {
                baseline,
                population,
                ..
            } if zh => format!("{label}（{baseline}）多于该年龄段老年人口（{population}）"),
            E::BaselineAbovePopulation {
                baseline,
                population,
                ..
            } => format!("The {label} ({baseline}) are more than the band's population ({population})"),
            E::UnknownVillage { village } if zh => {
                format!("花名册中没有“{}”“{}”", village.township, village.village)
            }
            E::UnknownVillage { village } => format!(
                "“{}” in “{}” is not in the village register",
                village.village, village.township
            ),
            E::WindowNotOrdered { start, end } if zh => format!(
                "结束时间（{}）应晚于开始时间（{}）",
                end.format("%H:%M"),
                start.format("%H:%M")
            ),
            E::WindowNotOrdered { start, end } => format!(
                "The end time ({}) must be after the start time ({})",
                end.format("%H:%M"),
                start.format("%H:%M")
            ),
            E::InPast if zh => "该场次的时间已经过去：请检查日期和时间".to_owned(),
            E::InPast => "The session's time has already passed: check the date and times".to_owned(),
            E::NoProducts if zh => "请至少选择一种疫苗".to_owned(),
            E::NoProducts => "Choose at least one vaccine".to_owned(),
            E::TooManyProducts { max } if zh => format!("疫苗过多：最多 {max} 种"),
            E::TooManyProducts { max } => format!("Too many vaccines: at most {max}"),
            E::DuplicateProduct { name, .. } if zh => format!("疫苗“{name}”重复"),
            E::DuplicateProduct { name, .. } => format!("The vaccine “{name}” is listed twice"),
            E::TargetAboveRemaining {
                target, remaining, ..
            } if zh => format!("{label}（{target}）多于尚未接种的人数（{remaining}）"),
            E::TargetAboveRemaining {
                target, remaining, ..
            } => format!("The {label} ({target}) is more than the people still to vaccinate ({remaining})"),
            E::WrongSession if zh => "该记录不属于这个接种场次".to_owned(),
            E::WrongSession => "This record belongs to another session".to_owned(),
            E::SessionCancelled if zh => "该场次已取消，不能记录接种结果".to_owned(),
            E::SessionCancelled => "The session was cancelled: no outcome can be recorded".to_owned(),
            E::RevisitBeforeSession {
                revisit_on,
                session_date,
                ..
            } if zh => format!("{label}（{revisit_on}）不能早于接种日期（{session_date}）"),
            E::RevisitBeforeSession {
                revisit_on,
                session_date,
                ..
            } => format!("The {label} ({revisit_on}) cannot be before the session's date ({session_date})"),
            E::TooManyDeferrals { max } if zh => format!("暂缓接种记录过多：最多 {max} 条"),
            E::TooManyDeferrals { max } => format!("Too many deferral rows: at most {max}"),
            E::SeriousEventWithoutNote if zh => {
                "有严重不良反应时，请填写严重不良反应说明（不要写姓名）".to_owned()
            }
            E::SeriousEventWithoutNote => {
                "Serious adverse events need a note on what happened (no names)".to_owned()
            }
            E::UnknownProduct { name, .. } if zh => format!("本场次没有疫苗“{name}”"),
            E::UnknownProduct { name, .. } => format!("The session carries no vaccine “{name}”"),
            E::DuplicateVialRow { name, .. } if zh => format!("疫苗“{name}”的开瓶记录重复"),
            E::DuplicateVialRow { name, .. } => format!("The vaccine “{name}” has two vial rows"),
            E::DosesAbovePopulation {
                given, remaining, ..
            } if zh => format!("{label}（{given}）多于该村尚未接种的老年人数（{remaining}）"),
            E::DosesAbovePopulation {
                given, remaining, ..
            } => format!("The {label} ({given}) are more than the village's elderly still to vaccinate ({remaining})"),
            E::NotANumber { value, .. } if zh => format!("{label}应为整数，“{value}”不是"),
            E::NotANumber { value, .. } => {
                format!("The {label} must be a whole number, not “{value}”")
            }
            E::WrongHeader { expected } if zh => format!("表头应为：{expected}"),
            E::WrongHeader { expected } => format!("The header row must be: {expected}"),
            E::WrongCellCount { expected, found } if zh => {
                format!("应有 {expected} 列，这一行有 {found} 列")
            }
            E::WrongCellCount { expected, found } => {
                format!("Expected {expected} cells; this line has {found}")
            }
            E::Quoted if zh => "不支持引号：单元格中不能有逗号或引号".to_owned(),
            E::Quoted => "Quotes are not supported: no cell may hold a comma or a quote".to_owned(),
            E::DuplicateInRegister { village } if zh => {
                format!("花名册中“{}”“{}”重复", village.township, village.village)
            }
            E::DuplicateInRegister { village } => format!(
                "“{}” in “{}” is in the register twice",
                village.village, village.township
            ),
            E::DuplicateVillage { village, first_line } if zh => format!(
                "“{}”“{}”重复：第 {first_line} 行已有",
                village.township, village.village
            ),
            E::DuplicateVillage { village, first_line } => format!(
                "“{}” in “{}” is listed twice: already on line {first_line}",
                village.village, village.township
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Derived figures for the team's own view.

/// The outcomes that count: one per session (the last given replaces earlier ones), only of
/// sessions in `sessions` that are not cancelled, with the session each records.
fn counted<'a>(
    sessions: &'a [Session],
    outcomes: &'a [SessionOutcome],
) -> Vec<(&'a Session, &'a SessionOutcome)> {
    let by_id: BTreeMap<SessionId, &Session> = sessions
        .iter()
        .filter(|s| s.state != SessionState::Cancelled)
        .map(|s| (s.id, s))
        .collect();
    let mut last: BTreeMap<SessionId, &SessionOutcome> = BTreeMap::new();
    for outcome in outcomes {
        last.insert(outcome.session, outcome);
    }
    last.into_iter()
        .filter_map(|(id, outcome)| by_id.get(&id).map(|s| (*s, outcome)))
        .collect()
}

/// The doses the team recorded, per village.
pub fn recorded_doses(
    sessions: &[Session],
    outcomes: &[SessionOutcome],
) -> BTreeMap<VillageKey, DoseTable> {
    let mut recorded: BTreeMap<VillageKey, DoseTable> = BTreeMap::new();
    for (session, outcome) in counted(sessions, outcomes) {
        let table = recorded.entry(session.village.clone()).or_default();
        *table = table.plus(&outcome.doses_given);
    }
    recorded
}

/// A population and the doses it has had (baseline and recorded), summed over villages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub population: ByBand<u64>,
    pub doses: ByBand<ByDose<u64>>,
}

impl Tally {
    fn add_village(&mut self, village: &Village, recorded: &DoseTable) {
        for band in AgeBand::ALL {
            *self.population.get_mut(band) += u64::from(village.population.get(band));
            for dose in DoseNumber::ALL {
                *self.doses.get_mut(band).get_mut(dose) +=
                    u64::from(village.baseline.cell(band, dose))
                        + u64::from(recorded.cell(band, dose));
            }
        }
    }

    pub fn doses(&self, band: AgeBand, dose: DoseNumber) -> u64 {
        self.doses.get(band).get(dose)
    }

    /// Coverage: doses ÷ population of the band; `None` for a band nobody is in. May exceed 1
    /// when the register's population is out of date.
    pub fn coverage(&self, band: AgeBand, dose: DoseNumber) -> Option<f64> {
        ratio(self.doses(band, dose), self.population.get(band))
    }

    /// Dropout from 1st to 2nd dose: (d1 − d2) ÷ d1; `None` with no first dose. Negative when
    /// more second doses were given than first ones (people whose first dose was elsewhere).
    pub fn dropout(&self, band: AgeBand) -> Option<f64> {
        let first = self.doses(band, DoseNumber::First);
        let second = self.doses(band, DoseNumber::Second);
        (first > 0).then(|| (first as f64 - second as f64) / first as f64)
    }

    /// Dropout over every band.
    pub fn dropout_all(&self) -> Option<f64> {
        let sum = |dose| {
            AgeBand::ALL
                .iter()
                .map(|b| self.doses(*b, dose))
                .sum::<u64>()
        };
        let (first, second) = (sum(DoseNumber::First), sum(DoseNumber::Second));
        (first > 0).then(|| (first as f64 - second as f64) / first as f64)
    }

    /// People of a band with no first dose.
    pub fn unvaccinated(&self, band: AgeBand) -> u64 {
        self.population
            .get(band)
            .saturating_sub(self.doses(band, DoseNumber::First))
    }

    /// People of a band who had a first dose but no second.
    pub fn second_due(&self, band: AgeBand) -> u64 {
        self.doses(band, DoseNumber::First)
            .saturating_sub(self.doses(band, DoseNumber::Second))
    }
}

/// Each village's tally, in register order.
pub fn village_tallies(
    register: &Register,
    sessions: &[Session],
    outcomes: &[SessionOutcome],
) -> Vec<(VillageKey, Tally)> {
    let recorded = recorded_doses(sessions, outcomes);
    let none = DoseTable::default();
    register
        .villages
        .iter()
        .map(|village| {
            let mut tally = Tally::default();
            tally.add_village(village, recorded.get(&village.key).unwrap_or(&none));
            (village.key.clone(), tally)
        })
        .collect()
}

/// Each township's tally (its villages summed), by township name.
pub fn township_tallies(
    register: &Register,
    sessions: &[Session],
    outcomes: &[SessionOutcome],
) -> BTreeMap<AreaName, Tally> {
    let recorded = recorded_doses(sessions, outcomes);
    let none = DoseTable::default();
    let mut townships: BTreeMap<AreaName, Tally> = BTreeMap::new();
    for village in &register.villages {
        townships
            .entry(village.key.township.clone())
            .or_default()
            .add_village(village, recorded.get(&village.key).unwrap_or(&none));
    }
    townships
}

/// Open-vial wastage over sessions: every dose discarded ÷ every dose the opened vials held;
/// `None` with no vial opened.
pub fn wastage(sessions: &[Session], outcomes: &[SessionOutcome]) -> Option<f64> {
    let (discarded, capacity) = counted(sessions, outcomes).into_iter().fold(
        (0u64, 0u64),
        |(discarded, capacity), (session, outcome)| {
            (
                discarded + outcome.doses_discarded(),
                capacity + outcome.vial_capacity(session),
            )
        },
    );
    ratio(discarded, capacity)
}

/// What is left to do in one village.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToDo {
    pub village: VillageKey,
    /// People with no first dose, per band.
    pub unvaccinated: ByBand<u64>,
    /// People with a first dose and no second, per band.
    pub second_due: ByBand<u64>,
}

/// Villages by what is left to do: most unvaccinated people aged 80 and over first, then most
/// unvaccinated of every band, then most second doses due, then by name. Villages with nothing
/// left are left out.
pub fn ranked_to_do(
    register: &Register,
    sessions: &[Session],
    outcomes: &[SessionOutcome],
) -> Vec<ToDo> {
    let by_band = |f: &dyn Fn(AgeBand) -> u64| ByBand {
        age_60_69: f(AgeBand::Age60To69),
        age_70_79: f(AgeBand::Age70To79),
        age_80_plus: f(AgeBand::Age80Plus),
    };
    let total = |b: &ByBand<u64>| b.age_60_69 + b.age_70_79 + b.age_80_plus;
    let mut list: Vec<ToDo> = village_tallies(register, sessions, outcomes)
        .into_iter()
        .map(|(village, tally)| ToDo {
            village,
            unvaccinated: by_band(&|b| tally.unvaccinated(b)),
            second_due: by_band(&|b| tally.second_due(b)),
        })
        .filter(|t| total(&t.unvaccinated) + total(&t.second_due) > 0)
        .collect();
    list.sort_by(|a, b| {
        b.unvaccinated
            .age_80_plus
            .cmp(&a.unvaccinated.age_80_plus)
            .then(total(&b.unvaccinated).cmp(&total(&a.unvaccinated)))
            .then(total(&b.second_due).cmp(&total(&a.second_due)))
            .then(a.village.cmp(&b.village))
    });
    list
}

/// A deferral due for a revisit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisitDue {
    pub session: SessionId,
    pub village: VillageKey,
    pub deferral: Deferral,
}

/// Deferrals whose revisit falls in the seven days from `week_start` (local dates), by date,
/// then village.
pub fn revisits_due(
    sessions: &[Session],
    outcomes: &[SessionOutcome],
    week_start: NaiveDate,
) -> Vec<RevisitDue> {
    let week_end = week_start.checked_add_signed(Duration::days(7));
    let mut due: Vec<RevisitDue> = counted(sessions, outcomes)
        .into_iter()
        .flat_map(|(session, outcome)| {
            outcome
                .deferrals
                .iter()
                .filter(|d| d.revisit_on >= week_start && week_end.is_none_or(|e| d.revisit_on < e))
                .map(|d| RevisitDue {
                    session: session.id,
                    village: session.village.clone(),
                    deferral: *d,
                })
        })
        .collect();
    due.sort_by(|a, b| {
        a.deferral
            .revisit_on
            .cmp(&b.deferral.revisit_on)
            .then(a.village.cmp(&b.village))
    });
    due
}

// ---------------------------------------------------------------------------------------------
// The health office's population file.

/// The population file's header: the template the health office fills in. Plain
/// comma-separated UTF-8 (a BOM is allowed), one village per line, exactly these columns in this
/// order; no quotes, so no cell may hold a comma. Empty lines are skipped. Populations are
/// required; an empty baseline cell is 0. Digits may be full-width.
pub const POPULATION_TEMPLATE: &str = "township,village,pop_60_69,pop_70_79,pop_80_plus,\
base_60_69_first,base_60_69_second,base_60_69_booster,\
base_70_79_first,base_70_79_second,base_70_79_booster,\
base_80_plus_first,base_80_plus_second,base_80_plus_booster";

/// A problem of one line of an import file.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    /// 1 is the header.
    pub line: u64,
    pub error: OutreachError,
}

impl LineError {
    /// `第 3 行：…` / `line 3: …`; the message names the column.
    pub fn message(&self, lang: Lang) -> String {
        let message = self.error.message(lang);
        match lang {
            Lang::Zh => format!("第 {} 行：{message}", self.line),
            Lang::En => format!("line {}: {message}", self.line),
        }
    }
}

fn parse_import_count(
    raw: &str,
    field: OutreachField,
    required: bool,
    max: u32,
) -> Result<u32, OutreachError> {
    let normalised: String = raw
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')).unwrap_or(c),
            other => other,
        })
        .collect();
    if normalised.is_empty() {
        return if required {
            Err(OutreachError::NotANumber {
                field,
                value: String::new(),
            })
        } else {
            Ok(0)
        };
    }
    if !normalised.chars().all(|c| c.is_ascii_digit()) {
        return Err(OutreachError::NotANumber {
            field,
            value: raw.chars().take(20).collect(),
        });
    }
    match normalised.parse::<u32>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(OutreachError::TooLarge { field, max }),
    }
}

/// Parses the health office's population file ([`POPULATION_TEMPLATE`]). All or nothing: the
/// register, or every problem with its line number (every problem of every line, not only the
/// first).
pub fn parse_population_csv(text: &str) -> Result<Register, Vec<LineError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let columns: Vec<&str> = POPULATION_TEMPLATE.split(',').collect();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i as u64 + 1, l));
    let header_ok = lines.next().is_some_and(|(_, header)| {
        let cells: Vec<String> = header
            .split(',')
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        cells == columns
    });
    if !header_ok {
        return Err(vec![LineError {
            line: 1,
            error: OutreachError::WrongHeader {
                expected: POPULATION_TEMPLATE.to_owned(),
            },
        }]);
    }
    let mut problems = Vec::new();
    let mut villages: Vec<Village> = Vec::new();
    let mut first_line: BTreeMap<VillageKey, u64> = BTreeMap::new();
    for (line, raw) in lines {
        if raw.trim().is_empty() {
            continue;
        }
        let mut fail = |error: OutreachError| problems.push(LineError { line, error });
        if raw.contains('"') {
            fail(OutreachError::Quoted);
            continue;
        }
        let cells: Vec<&str> = raw.split(',').map(str::trim).collect();
        if cells.len() != columns.len() {
            fail(OutreachError::WrongCellCount {
                expected: columns.len(),
                found: cells.len(),
            });
            continue;
        }
        let township = AreaName::parse_for(cells[0], Field::Township);
        let village = AreaName::parse_for(cells[1], Field::Village);
        let mut population = ByBand::<u32>::default();
        let mut baseline = DoseTable::default();
        let mut ok = true;
        for (i, band) in AgeBand::ALL.into_iter().enumerate() {
            let field = OutreachField::Population(band);
            match parse_import_count(cells[2 + i], field, true, limits::POPULATION) {
                Ok(n) => *population.get_mut(band) = n,
                Err(e) => {
                    fail(e);
                    ok = false;
                }
            }
            for (j, dose) in DoseNumber::ALL.into_iter().enumerate() {
                let field = OutreachField::Baseline(band, dose);
                match parse_import_count(cells[5 + 3 * i + j], field, false, limits::POPULATION) {
                    Ok(n) => *baseline.get_mut(band).get_mut(dose) = n,
                    Err(e) => {
                        fail(e);
                        ok = false;
                    }
                }
            }
        }
        let key = match (township, village) {
            (Ok(township), Ok(village)) => Some(VillageKey { township, village }),
            (township, village) => {
                for err in [township.err(), village.err()].into_iter().flatten() {
                    fail(OutreachError::from(err));
                }
                None
            }
        };
        let (Some(key), true) = (key, ok) else {
            continue;
        };
        if let Some(first) = first_line.get(&key) {
            fail(OutreachError::DuplicateVillage {
                village: key,
                first_line: *first,
            });
            continue;
        }
        let village = Village {
            key: key.clone(),
            population,
            baseline,
        };
        let errors = village.errors();
        if errors.is_empty() {
            first_line.insert(key, line);
            villages.push(village);
        } else {
            errors.into_iter().for_each(fail);
        }
    }
    if problems.is_empty() {
        Ok(Register { villages })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(township: &str, village: &str) -> VillageKey {
        VillageKey::parse(township, village).unwrap()
    }

    fn name(raw: &str) -> Name {
        Name::parse_for(raw, Field::Name).unwrap()
    }

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    fn time(raw: &str) -> NaiveTime {
        raw.parse().unwrap()
    }

    /// 2026-12-04 08:00, local time.
    fn now() -> NaiveDateTime {
        date("2026-12-04").and_time(time("08:00:00"))
    }

    fn doses(cells: &[(AgeBand, DoseNumber, u32)]) -> DoseTable {
        let mut table = DoseTable::default();
        for (band, dose, n) in cells {
            *table.get_mut(*band).get_mut(*dose) = *n;
        }
        table
    }

    /// 马渚镇 沈家村: 300 / 200 / 100 elderly; 80 of the 80+ have had a first dose already.
    fn village() -> Village {
        Village {
            key: key("马渚镇", "沈家村"),
            population: ByBand {
                age_60_69: 300,
                age_70_79: 200,
                age_80_plus: 100,
            },
            baseline: doses(&[
                (AgeBand::Age80Plus, DoseNumber::First, 80),
                (AgeBand::Age80Plus, DoseNumber::Second, 60),
                (AgeBand::Age60To69, DoseNumber::First, 150),
            ]),
        }
    }

    fn register() -> Register {
        Register {
            villages: vec![
                village(),
                Village {
                    key: key("马渚镇", "斗门村"),
                    population: ByBand {
                        age_60_69: 50,
                        age_70_79: 40,
                        age_80_plus: 30,
                    },
                    baseline: DoseTable::default(),
                },
            ],
        }
    }

    fn session() -> Session {
        Session {
            id: SessionId::from(Uuid::from_u128(1)),
            village: key("马渚镇", "沈家村"),
            place: Place::Point {
                location: LatLon::new(30.05, 121.2).unwrap(),
                description: name("村委会"),
            },
            date: date("2026-12-05"),
            start: time("08:30:00"),
            end: time("11:30:00"),
            kind: SessionKind::TemporaryPoint,
            products: vec![Product {
                name: name("流感疫苗"),
                doses_per_vial: 10,
            }],
            target: doses(&[
                (AgeBand::Age80Plus, DoseNumber::First, 20),
                (AgeBand::Age70To79, DoseNumber::First, 50),
            ]),
            team_size: 3,
            state: SessionState::Published,
        }
    }

    /// 18 + 20 doses from 4 vials of 10, 2 discarded: adds up.
    fn outcome() -> SessionOutcome {
        SessionOutcome {
            session: session().id,
            doses_given: doses(&[
                (AgeBand::Age80Plus, DoseNumber::First, 18),
                (AgeBand::Age70To79, DoseNumber::First, 20),
            ]),
            deferrals: vec![Deferral {
                reason: DeferralReason::AcuteIllness,
                band: AgeBand::Age80Plus,
                count: 2,
                revisit_on: date("2026-12-12"),
            }],
            refusals: 3,
            home_visits: 4,
            adverse_events: AdverseEvents {
                non_serious: 1,
                serious: 0,
                serious_note: None,
            },
            vials: vec![VialUse {
                product: name("流感疫苗"),
                vials_opened: 4,
                doses_discarded: 2,
            }],
        }
    }

    fn none() -> DoseTable {
        DoseTable::default()
    }

    fn session_codes(s: &Session, recorded: &DoseTable) -> Vec<(&'static str, String)> {
        match s.check(&register(), recorded, now()) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(|e| (e.code(), e.field().key())).collect(),
        }
    }

    fn outcome_codes(o: &SessionOutcome, s: &Session) -> Vec<(&'static str, String)> {
        match o.check(s, &register(), &none()) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(|e| (e.code(), e.field().key())).collect(),
        }
    }

    fn pair(code: &'static str, key: &str) -> Vec<(&'static str, String)> {
        vec![(code, key.to_owned())]
    }

    #[test]
    fn a_good_plan_and_outcome_pass() {
        assert_eq!(session_codes(&session(), &none()), Vec::new());
        assert_eq!(
            outcome().check(&session(), &register(), &none()),
            Ok(Vec::new())
        );
        assert_eq!(outcome().wastage(&session()), Some(0.05));
    }

    #[test]
    fn the_window_must_end_after_it_starts() {
        let mut s = session();
        s.end = s.start;
        assert_eq!(
            session_codes(&s, &none()),
            pair("window_not_ordered", "end")
        );
        let err = s.clone().validate().unwrap_err();
        assert_eq!(
            err.message(Lang::Zh),
            "结束时间（08:30）应晚于开始时间（08:30）"
        );
        assert_eq!(
            err.message(Lang::En),
            "The end time (08:30) must be after the start time (08:30)"
        );
    }

    #[test]
    fn a_plan_may_not_be_in_the_past_but_history_may() {
        let mut s = session();
        s.date = date("2026-12-04");
        s.start = time("06:00:00");
        s.end = time("08:00:00");
        assert_eq!(session_codes(&s, &none()), pair("in_past", "date"));
        s.end = time("08:01:00");
        assert_eq!(session_codes(&s, &none()), Vec::new(), "still open");
        s.date = date("2026-11-01");
        s.state = SessionState::Done;
        assert_eq!(session_codes(&s, &none()), Vec::new());
    }

    #[test]
    fn targets_are_bounded_by_who_is_left() {
        let mut s = session();
        // 100 aged 80+, 80 had a first dose before: 20 left.
        *s.target
            .get_mut(AgeBand::Age80Plus)
            .get_mut(DoseNumber::First) = 21;
        assert_eq!(
            session_codes(&s, &none()),
            pair("target_above_remaining", "target.age_80_plus.first")
        );
        let err = s.check(&register(), &none(), now()).unwrap_err().remove(0);
        assert_eq!(
            err.message(Lang::Zh),
            "目标剂次（80 岁及以上 第 1 剂）（21）多于尚未接种的人数（20）"
        );
        assert_eq!(
            err.message(Lang::En),
            "The target (aged 80 and over, 1st dose) (21) is more than the people still to vaccinate (20)"
        );
        // Doses the team recorded in the village before count as given.
        let mut s = session();
        let recorded = doses(&[(AgeBand::Age70To79, DoseNumber::First, 151)]);
        assert_eq!(
            session_codes(&s, &recorded),
            pair("target_above_remaining", "target.age_70_79.first")
        );
        *s.target
            .get_mut(AgeBand::Age70To79)
            .get_mut(DoseNumber::First) = 49;
        assert_eq!(session_codes(&s, &recorded), Vec::new());
        *s.target
            .get_mut(AgeBand::Age60To69)
            .get_mut(DoseNumber::Booster) = limits::SESSION_COUNT + 1;
        assert_eq!(
            session_codes(&s, &recorded),
            pair("too_large", "target.age_60_69.booster"),
            "a typing error is said once"
        );
    }

    #[test]
    fn a_team_has_at_least_one_member() {
        let mut s = session();
        s.team_size = 0;
        assert_eq!(
            session_codes(&s, &none()),
            pair("at_least_one", "team_size")
        );
        assert_eq!(
            s.clone().validate().unwrap_err().message(Lang::En),
            "The team size must be at least 1"
        );
        s.team_size = limits::TEAM_SIZE + 1;
        assert_eq!(session_codes(&s, &none()), pair("too_large", "team_size"));
    }

    #[test]
    fn products_are_listed_once_each_with_doses_per_vial() {
        let mut s = session();
        s.products.clear();
        assert_eq!(session_codes(&s, &none()), pair("no_products", "products"));
        let mut s = session();
        s.products[0].doses_per_vial = 0;
        assert_eq!(
            session_codes(&s, &none()),
            pair("at_least_one", "products.0.doses_per_vial")
        );
        assert_eq!(
            s.clone().validate().unwrap_err().message(Lang::Zh),
            "第 1 种疫苗的每瓶剂数至少为 1"
        );
        let mut s = session();
        s.products.push(s.products[0].clone());
        assert_eq!(
            session_codes(&s, &none()),
            pair("duplicate_product", "products.1.name")
        );
    }

    #[test]
    fn a_session_is_in_a_village_of_the_register() {
        let mut s = session();
        s.village = key("马渚镇", "不存在村");
        assert_eq!(
            session_codes(&s, &none()),
            pair("unknown_village", "village.village")
        );
        let err = s.check(&register(), &none(), now()).unwrap_err().remove(0);
        assert_eq!(err.message(Lang::Zh), "花名册中没有“马渚镇”“不存在村”");
        assert_eq!(
            err.message(Lang::En),
            "“不存在村” in “马渚镇” is not in the village register"
        );
    }

    #[test]
    fn every_broken_rule_of_a_plan_is_given_at_once() {
        let mut s = session();
        s.end = s.start;
        s.team_size = 0;
        s.products.clear();
        s.village = key("马渚镇", "不存在村");
        let codes: Vec<_> = session_codes(&s, &none())
            .into_iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(
            codes,
            [
                "window_not_ordered",
                "at_least_one",
                "no_products",
                "unknown_village"
            ]
        );
    }

    #[test]
    fn a_register_lists_each_village_once() {
        let err = Register::new(vec![village(), village()]).unwrap_err();
        assert_eq!(err.code(), "duplicate_village");
        assert_eq!(err.field().key(), "village.village");
        assert_eq!(err.message(Lang::Zh), "花名册中“马渚镇”“沈家村”重复");
        let json = serde_json::to_value(vec![village(), village()]).unwrap();
        assert!(serde_json::from_value::<Register>(json).is_err());
        assert_eq!(register().villages().len(), 2);
    }

    #[test]
    fn a_village_has_no_more_doses_before_than_people() {
        let mut v = village();
        *v.baseline
            .get_mut(AgeBand::Age70To79)
            .get_mut(DoseNumber::Second) = 201;
        let err = v.clone().validate().unwrap_err();
        assert_eq!(err.code(), "baseline_above_population");
        assert_eq!(err.field().key(), "baseline.age_70_79.second");
        assert_eq!(
            err.message(Lang::Zh),
            "既往已接种（70–79 岁 第 2 剂）（201）多于该年龄段老年人口（200）"
        );
        let mut v = village();
        v.population.age_60_69 = limits::POPULATION + 1;
        assert_eq!(v.validate().unwrap_err().code(), "too_large");
    }

    #[test]
    fn revisits_are_on_or_after_the_session() {
        let mut o = outcome();
        o.deferrals[0].revisit_on = date("2026-12-05");
        assert_eq!(outcome_codes(&o, &session()), Vec::new());
        o.deferrals[0].revisit_on = date("2026-12-04");
        assert_eq!(
            outcome_codes(&o, &session()),
            pair("revisit_before_session", "deferrals.0.revisit_on")
        );
        let err = o
            .check(&session(), &register(), &none())
            .unwrap_err()
            .remove(0);
        assert_eq!(
            err.message(Lang::Zh),
            "第 1 条暂缓接种的复访日期（2026-12-04）不能早于接种日期（2026-12-05）"
        );
        assert_eq!(
            err.message(Lang::En),
            "The revisit date in row 1 (2026-12-04) cannot be before the session's date (2026-12-05)"
        );
    }

    #[test]
    fn serious_adverse_events_need_a_bounded_note() {
        let mut o = outcome();
        o.adverse_events.serious = 1;
        assert_eq!(
            outcome_codes(&o, &session()),
            pair("serious_event_without_note", "adverse_events.serious_note")
        );
        o.adverse_events.serious_note =
            Some(Note::parse_for("接种后 30 分钟晕厥，已送卫生院", Field::Note).unwrap());
        assert_eq!(outcome_codes(&o, &session()), Vec::new());
        // The note is bounded on the wire too.
        let mut json = serde_json::to_value(&o).unwrap();
        json["adverse_events"]["serious_note"] = serde_json::json!("晕".repeat(501));
        let err = serde_json::from_value::<SessionOutcome>(json).unwrap_err();
        assert!(err.to_string().contains("过长"), "{err}");
        let mut json = serde_json::to_value(&o).unwrap();
        json["adverse_events"]
            .as_object_mut()
            .unwrap()
            .remove("serious_note");
        let err = serde_json::from_value::<SessionOutcome>(json).unwrap_err();
        assert!(err.to_string().contains("严重不良反应说明"), "{err}");
    }

    #[test]
    fn vial_rows_name_the_sessions_products_once() {
        let mut o = outcome();
        o.vials[0].product = name("狂犬疫苗");
        assert_eq!(
            outcome_codes(&o, &session()),
            pair("unknown_product", "vials.0.product")
        );
        let mut o = outcome();
        o.vials.push(o.vials[0].clone());
        assert_eq!(
            outcome_codes(&o, &session()),
            pair("duplicate_vial_row", "vials.1.product")
        );
    }

    #[test]
    fn doses_given_are_bounded_by_the_village() {
        let mut o = outcome();
        *o.doses_given
            .get_mut(AgeBand::Age80Plus)
            .get_mut(DoseNumber::First) = 21;
        o.vials[0].vials_opened = 5;
        assert_eq!(
            outcome_codes(&o, &session()),
            pair("doses_above_population", "doses_given.age_80_plus.first")
        );
        let err = o
            .check(&session(), &register(), &none())
            .unwrap_err()
            .remove(0);
        assert_eq!(
            err.message(Lang::En),
            "The doses given (aged 80 and over, 1st dose) (21) are more than the village's elderly still to vaccinate (20)"
        );
        let mut o = outcome();
        o.refusals = limits::SESSION_COUNT + 1;
        assert_eq!(outcome_codes(&o, &session()), pair("too_large", "refusals"));
        let mut o = outcome();
        o.deferrals = vec![o.deferrals[0]; limits::DEFERRALS + 1];
        assert_eq!(
            outcome_codes(&o, &session()),
            pair("too_many_deferrals", "deferrals")
        );
    }

    #[test]
    fn an_outcome_is_of_its_session_and_not_of_a_cancelled_one() {
        let mut o = outcome();
        o.session = SessionId::from(Uuid::from_u128(2));
        assert_eq!(
            outcome_codes(&o, &session()),
            pair("wrong_session", "session")
        );
        let mut s = session();
        s.state = SessionState::Cancelled;
        assert_eq!(
            outcome_codes(&outcome(), &s),
            pair("session_cancelled", "session")
        );
    }

    #[test]
    fn vials_that_do_not_add_up_are_warned_about_not_refused() {
        let mut o = outcome();
        o.vials[0].vials_opened = 3;
        let warnings = o.check(&session(), &register(), &none()).unwrap();
        assert_eq!(
            warnings,
            vec![OutreachWarning::DosesExceedVials {
                given: 38,
                discarded: 2,
                capacity: 30
            }]
        );
        assert_eq!(warnings[0].code(), "doses_exceed_vials");
        assert_eq!(
            warnings[0].message(Lang::Zh),
            "接种 38 剂加废弃 2 剂，多于所开疫苗瓶的 30 剂：请核对"
        );
        o.vials[0].vials_opened = 5;
        let warnings = o.check(&session(), &register(), &none()).unwrap();
        assert_eq!(warnings[0].code(), "doses_unaccounted");
        assert_eq!(
            warnings[0].message(Lang::En),
            "The opened vials held 50 doses; 38 given and 2 discarded leave 10 unaccounted for: please check"
        );
        assert_eq!(o.wastage(&session()), Some(0.04));
        o.vials.clear();
        assert_eq!(o.wastage(&session()), None);
    }

    #[test]
    fn every_error_speaks_both_languages_with_a_distinct_code() {
        let band = AgeBand::Age80Plus;
        let dose = DoseNumber::Booster;
        let errors = vec![
            OutreachError::from(ValidationError::Required {
                field: Field::Township,
            }),
            OutreachError::TooLarge {
                field: OutreachField::HomeVisits,
                max: 3,
            },
            OutreachError::AtLeastOne {
                field: OutreachField::TeamSize,
            },
            OutreachError::BaselineAbovePopulation {
                band,
                dose,
                baseline: 2,
                population: 1,
            },
            OutreachError::UnknownVillage {
                village: key("a", "b"),
            },
            OutreachError::WindowNotOrdered {
                start: time("09:00:00"),
                end: time("08:00:00"),
            },
            OutreachError::InPast,
            OutreachError::NoProducts,
            OutreachError::TooManyProducts { max: 2 },
            OutreachError::DuplicateProduct {
                index: 0,
                name: "x".into(),
            },
            OutreachError::TargetAboveRemaining {
                band,
                dose,
                target: 2,
                remaining: 1,
            },
            OutreachError::WrongSession,
            OutreachError::SessionCancelled,
            OutreachError::RevisitBeforeSession {
                index: 0,
                revisit_on: date("2026-01-01"),
                session_date: date("2026-01-02"),
            },
            OutreachError::TooManyDeferrals { max: 1 },
            OutreachError::SeriousEventWithoutNote,
            OutreachError::UnknownProduct {
                index: 0,
                name: "x".into(),
            },
            OutreachError::DuplicateVialRow {
                index: 0,
                name: "x".into(),
            },
            OutreachError::DosesAbovePopulation {
                band,
                dose,
                given: 2,
                remaining: 1,
            },
            OutreachError::NotANumber {
                field: OutreachField::Population(band),
                value: "x".into(),
            },
            OutreachError::WrongHeader {
                expected: POPULATION_TEMPLATE.into(),
            },
            OutreachError::WrongCellCount {
                expected: 14,
                found: 3,
            },
            OutreachError::Quoted,
            OutreachError::DuplicateVillage {
                village: key("a", "b"),
                first_line: 2,
            },
        ];
        let codes: BTreeSet<_> = errors.iter().map(OutreachError::code).collect();
        assert_eq!(codes.len(), errors.len());
        for err in &errors {
            let (zh, en) = (err.message(Lang::Zh), err.message(Lang::En));
            assert!(!zh.is_empty() && !en.is_empty() && zh != en, "{err:?}");
            assert!(en.is_ascii() || en.contains('“'), "{en}");
            assert_eq!(err.to_string(), zh);
            assert!(!err.field().label(Lang::Zh).is_empty());
        }
    }

    #[test]
    fn wire_names_are_snake_case_and_round_trip() {
        let json = serde_json::json!({
            "id": "00000000-0000-0000-0000-000000000001",
            "village": {"township": "马渚镇", "village": "沈家村"},
            "place": {"type": "point", "location": {"lat": 30.05, "lon": 121.2}, "description": "村委会"},
            "date": "2026-12-05",
            "start": "08:30:00",
            "end": "11:30:00",
            "kind": "temporary_point",
            "products": [{"name": "流感疫苗", "doses_per_vial": 10}],
            "target": {
                "age_60_69": {"first": 0, "second": 0, "booster": 0},
                "age_70_79": {"first": 50, "second": 0, "booster": 0},
                "age_80_plus": {"first": 20, "second": 0, "booster": 0}
            },
            "team_size": 3,
            "state": "published"
        });
        let s: Session = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(s, session());
        assert_eq!(serde_json::to_value(&s).unwrap(), json);

        let json = serde_json::json!({
            "session": "00000000-0000-0000-0000-000000000001",
            "doses_given": {
                "age_60_69": {"first": 0, "second": 0, "booster": 0},
                "age_70_79": {"first": 20, "second": 0, "booster": 0},
                "age_80_plus": {"first": 18, "second": 0, "booster": 0}
            },
            "deferrals": [{"reason": "acute_illness", "band": "age_80_plus", "count": 2, "revisit_on": "2026-12-12"}],
            "refusals": 3,
            "home_visits": 4,
            "adverse_events": {"non_serious": 1, "serious": 0},
            "vials": [{"product": "流感疫苗", "vials_opened": 4, "doses_discarded": 2}]
        });
        let o: SessionOutcome = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(o, outcome());
        assert_eq!(serde_json::to_value(&o).unwrap(), json);

        for (value, wire) in [
            (serde_json::to_value(SessionKind::FixedPoint), "fixed_point"),
            (serde_json::to_value(SessionKind::HomeVisits), "home_visits"),
            (serde_json::to_value(SessionKind::Vehicle), "vehicle"),
            (serde_json::to_value(SessionState::Cancelled), "cancelled"),
            (serde_json::to_value(SessionState::Done), "done"),
            (serde_json::to_value(SessionState::Planned), "planned"),
            (
                serde_json::to_value(DeferralReason::UncontrolledChronic),
                "uncontrolled_chronic",
            ),
            (serde_json::to_value(DeferralReason::Other), "other"),
            (serde_json::to_value(DoseNumber::Booster), "booster"),
            (serde_json::to_value(AgeBand::Age60To69), "age_60_69"),
        ] {
            assert_eq!(value.unwrap(), serde_json::json!(wire));
        }
        let place = Place::Facility {
            facility: FacilityId::from(Uuid::from_u128(7)),
        };
        let json = serde_json::to_value(&place).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "facility", "facility": "00000000-0000-0000-0000-000000000007"})
        );
        assert_eq!(serde_json::from_value::<Place>(json).unwrap(), place);

        let v = village();
        let back: Village = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
        assert_eq!(back, v);
        let reg = register();
        let back: Register = serde_json::from_str(&serde_json::to_string(&reg).unwrap()).unwrap();
        assert_eq!(back, reg);
    }

    /// Every key of a JSON value, at any depth.
    fn keys(value: &serde_json::Value, into: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    into.insert(k.clone());
                    keys(v, into);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, into)),
            _ => {}
        }
    }

    #[test]
    fn records_hold_aggregates_only() {
        let mut o = outcome();
        o.adverse_events.serious = 1;
        o.adverse_events.serious_note = Some(Note::parse_for("晕厥，已转诊", Field::Note).unwrap());
        let mut found = BTreeSet::new();
        keys(&serde_json::to_value(session()).unwrap(), &mut found);
        keys(&serde_json::to_value(o).unwrap(), &mut found);
        keys(&serde_json::to_value(register()).unwrap(), &mut found);
        let bands = ["age_60_69", "age_70_79", "age_80_plus"];
        let doses = ["first", "second", "booster"];
        let documented: BTreeSet<String> = [
            "id",
            "village",
            "township",
            "place",
            "type",
            "location",
            "lat",
            "lon",
            "description",
            "date",
            "start",
            "end",
            "kind",
            "products",
            "name",
            "doses_per_vial",
            "target",
            "team_size",
            "state",
            "session",
            "doses_given",
            "deferrals",
            "reason",
            "band",
            "count",
            "revisit_on",
            "refusals",
            "home_visits",
            "adverse_events",
            "non_serious",
            "serious",
            "serious_note",
            "vials",
            "product",
            "vials_opened",
            "doses_discarded",
            "key",
            "population",
            "baseline",
        ]
        .into_iter()
        .chain(bands)
        .chain(doses)
        .map(str::to_owned)
        .collect();
        // `name` is a vaccine product's; no field is a person's name, ID number or phone.
        assert_eq!(found, documented);
    }

    #[test]
    fn serde_refuses_what_validation_refuses() {
        let mut json = serde_json::to_value(session()).unwrap();
        json["end"] = serde_json::json!("08:00:00");
        let err = serde_json::from_value::<Session>(json).unwrap_err();
        assert!(err.to_string().contains("应晚于开始时间"), "{err}");
        let mut json = serde_json::to_value(session()).unwrap();
        json["village"]["village"] = serde_json::json!("  ");
        let err = serde_json::from_value::<Session>(json).unwrap_err();
        assert!(err.to_string().contains("请填写村/社区"), "{err}");
        let mut json = serde_json::to_value(village()).unwrap();
        json["baseline"]["age_80_plus"]["first"] = serde_json::json!(101);
        assert!(serde_json::from_value::<Village>(json).is_err());
        let mut json = serde_json::to_value(outcome()).unwrap();
        json["refusals"] = serde_json::json!(-1);
        assert!(serde_json::from_value::<SessionOutcome>(json).is_err());
    }

    #[test]
    fn figures_for_the_team() {
        let mut done = session();
        done.state = SessionState::Done;
        let mut cancelled = session();
        cancelled.id = SessionId::from(Uuid::from_u128(9));
        cancelled.state = SessionState::Cancelled;
        let mut of_cancelled = outcome();
        of_cancelled.session = cancelled.id;
        let sessions = vec![done.clone(), cancelled];
        let outcomes = vec![outcome(), of_cancelled];
        let tallies = village_tallies(&register(), &sessions, &outcomes);
        let (k, shen) = &tallies[0];
        assert_eq!(k, &key("马渚镇", "沈家村"));
        // 80 before + 18 recorded of 100; the cancelled session's outcome does not count.
        assert_eq!(
            shen.coverage(AgeBand::Age80Plus, DoseNumber::First),
            Some(0.98)
        );
        assert_eq!(shen.dropout(AgeBand::Age80Plus), Some((98.0 - 60.0) / 98.0));
        assert_eq!(shen.dropout(AgeBand::Age70To79), Some(1.0));
        assert_eq!(tallies[1].1.dropout(AgeBand::Age70To79), None);
        let townships = township_tallies(&register(), &sessions, &outcomes);
        let town = townships.values().next().unwrap();
        assert_eq!(town.population.age_80_plus, 130);
        assert_eq!(
            town.coverage(AgeBand::Age80Plus, DoseNumber::First),
            Some(98.0 / 130.0)
        );
        assert_eq!(wastage(&sessions, &outcomes), Some(0.05));

        let to_do = ranked_to_do(&register(), &sessions, &outcomes);
        // 斗门村 has 30 aged 80+ with no dose, 沈家村 2.
        assert_eq!(to_do[0].village, key("马渚镇", "斗门村"));
        assert_eq!(to_do[0].unvaccinated.age_80_plus, 30);
        assert_eq!(to_do[1].unvaccinated.age_80_plus, 2);
        assert_eq!(to_do[1].second_due.age_80_plus, 38);

        let due = revisits_due(&sessions, &outcomes, date("2026-12-07"));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].deferral.revisit_on, date("2026-12-12"));
        assert!(revisits_due(&sessions, &outcomes, date("2026-12-13")).is_empty());
        assert_eq!(
            revisits_due(&sessions, &outcomes, date("2026-12-06")).len(),
            1
        );
        assert!(revisits_due(&sessions, &outcomes, date("2026-12-05")).is_empty());
    }

    #[test]
    fn a_later_outcome_of_a_session_replaces_the_earlier() {
        let mut corrected = outcome();
        *corrected
            .doses_given
            .get_mut(AgeBand::Age80Plus)
            .get_mut(DoseNumber::First) = 10;
        let recorded = recorded_doses(&[session()], &[outcome(), corrected]);
        assert_eq!(
            recorded[&key("马渚镇", "沈家村")].cell(AgeBand::Age80Plus, DoseNumber::First),
            10
        );
    }

    const HEADER: &str = POPULATION_TEMPLATE;

    #[test]
    fn the_population_file_imports_whole() {
        let file = format!(
            "\u{feff}{HEADER}\n马渚镇,沈家村,300,200,100,150,,,,,,80,60,\n\n马渚镇,斗门村,５０,40,30,,,,,,,,,\n"
        );
        let register = parse_population_csv(&file).unwrap();
        assert_eq!(register.villages.len(), 2);
        assert_eq!(register.villages[0], village());
        assert_eq!(register.villages[1].population.age_60_69, 50);
    }

    #[test]
    fn every_bad_line_is_named_with_its_number_and_nothing_imports() {
        let file = format!(
            "{HEADER}\n\
             马渚镇,沈家村,300,200,100,,,,,,,,,\n\
             马渚镇,,很多,200,100,,,,,,,,,\n\
             马渚镇,斗门村,10,20\n\
             马渚镇,\"陆埠村\",1,2,3,,,,,,,,,\n\
             马渚镇,沈家村,300,200,100,,,,,,,,,\n\
             马渚镇,丈亭村,300,200,,,,,,,,,,\n\
             马渚镇,牟山村,10,20,30,11,,,,,,,,\n"
        );
        let problems = parse_population_csv(&file).unwrap_err();
        let found: Vec<(u64, &str, String)> = problems
            .iter()
            .map(|p| (p.line, p.error.code(), p.error.field().key()))
            .collect();
        assert_eq!(
            found,
            vec![
                (3, "not_a_number", "population.age_60_69".to_owned()),
                (3, "required", "village.village".to_owned()),
                (4, "wrong_cell_count", "line".to_owned()),
                (5, "quoted", "line".to_owned()),
                (6, "duplicate_village", "village.village".to_owned()),
                (7, "not_a_number", "population.age_80_plus".to_owned()),
                (
                    8,
                    "baseline_above_population",
                    "baseline.age_60_69.first".to_owned()
                ),
            ]
        );
        assert_eq!(
            problems[0].message(Lang::Zh),
            "第 3 行：60–69 岁老年人口应为整数，“很多”不是"
        );
        assert_eq!(
            problems[4].message(Lang::En),
            "line 6: “沈家村” in “马渚镇” is listed twice: already on line 2"
        );
        assert_eq!(
            problems[2].message(Lang::En),
            "line 4: Expected 14 cells; this line has 4"
        );
    }

    #[test]
    fn the_header_must_be_the_templates() {
        let problems = parse_population_csv("township,village,pop\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 1);
        assert_eq!(problems[0].error.code(), "wrong_header");
        assert!(parse_population_csv("").is_err());
        assert_eq!(
            parse_population_csv(&format!("{}\n", HEADER.to_uppercase())).unwrap(),
            Register::default()
        );
    }

    // --- properties: the figures equal a direct recomputation from the stored records ---

    const TOWNSHIPS: [&str; 2] = ["马渚镇", "丈亭镇"];
    const PRODUCTS: [&str; 2] = ["流感疫苗", "肺炎疫苗"];

    fn arb_table(max: u32) -> impl Strategy<Value = DoseTable> {
        proptest::array::uniform9(0..=max).prop_map(|cells| {
            let mut table = DoseTable::default();
            for (i, (band, dose, _)) in DoseTable::default().cells().enumerate() {
                *table.get_mut(band).get_mut(dose) = cells[i];
            }
            table
        })
    }

    fn arb_village(index: usize) -> impl Strategy<Value = Village> {
        (
            0..2usize,
            proptest::array::uniform3(0u32..500),
            arb_table(300),
        )
            .prop_map(move |(township, pop, baseline)| Village {
                key: key(TOWNSHIPS[township], &format!("村{index}")),
                population: ByBand {
                    age_60_69: pop[0],
                    age_70_79: pop[1],
                    age_80_plus: pop[2],
                },
                baseline,
            })
    }

    fn arb_register() -> impl Strategy<Value = Register> {
        (1usize..5)
            .prop_flat_map(|n| (0..n).map(arb_village).collect::<Vec<_>>())
            .prop_map(|villages| Register { villages })
    }

    fn arb_state() -> impl Strategy<Value = SessionState> {
        prop_oneof![
            Just(SessionState::Planned),
            Just(SessionState::Published),
            Just(SessionState::Cancelled),
            Just(SessionState::Done),
        ]
    }

    /// A register, sessions in its villages and at most one outcome per session.
    fn arb_records() -> impl Strategy<Value = (Register, Vec<Session>, Vec<SessionOutcome>)> {
        arb_register().prop_flat_map(|register| {
            let villages = register.villages.len();
            let session = (
                0..villages,
                arb_state(),
                proptest::array::uniform2(1u32..=20),
                0u32..30,
            );
            let outcome = (
                any::<bool>(),
                arb_table(40),
                proptest::array::uniform2((0u32..20, 0u32..30)),
                proptest::collection::vec((0u32..10, 0i64..20), 0..3),
            );
            (
                Just(register),
                proptest::collection::vec((session, outcome), 0..8),
            )
                .prop_map(|(register, drawn)| {
                    let mut sessions = Vec::new();
                    let mut outcomes = Vec::new();
                    for (i, ((village, state, per_vial, day), outcome)) in
                        drawn.into_iter().enumerate()
                    {
                        let session = Session {
                            id: SessionId::from(Uuid::from_u128(i as u128 + 1)),
                            village: register.villages[village].key.clone(),
                            place: Place::Facility {
                                facility: FacilityId::from(Uuid::from_u128(7)),
                            },
                            date: date("2026-12-01") + Duration::days(i64::from(day)),
                            start: time("08:00:00"),
                            end: time("12:00:00"),
                            kind: SessionKind::Vehicle,
                            products: PRODUCTS
                                .iter()
                                .zip(per_vial)
                                .map(|(p, d)| Product {
                                    name: name(p),
                                    doses_per_vial: d,
                                })
                                .collect(),
                            target: DoseTable::default(),
                            team_size: 2,
                            state,
                        };
                        let (recorded, given, vials, deferrals) = outcome;
                        if recorded {
                            outcomes.push(SessionOutcome {
                                session: session.id,
                                doses_given: given,
                                deferrals: deferrals
                                    .into_iter()
                                    .map(|(count, after)| Deferral {
                                        reason: DeferralReason::Other,
                                        band: AgeBand::Age80Plus,
                                        count,
                                        revisit_on: session.date + Duration::days(after),
                                    })
                                    .collect(),
                                refusals: 0,
                                home_visits: 0,
                                adverse_events: AdverseEvents::default(),
                                vials: PRODUCTS
                                    .iter()
                                    .zip(vials)
                                    .map(|(p, (opened, discarded))| VialUse {
                                        product: name(p),
                                        vials_opened: opened,
                                        doses_discarded: discarded,
                                    })
                                    .collect(),
                            });
                        }
                        sessions.push(session);
                    }
                    (register, sessions, outcomes)
                })
        })
    }

    /// Doses of one cell in the villages `pick` chooses: baseline plus every outcome of a
    /// session in them that was not cancelled. Written out plainly, apart from the module.
    fn direct_doses(
        register: &Register,
        sessions: &[Session],
        outcomes: &[SessionOutcome],
        pick: &dyn Fn(&VillageKey) -> bool,
        band: AgeBand,
        dose: DoseNumber,
    ) -> u64 {
        let mut total = 0u64;
        for v in &register.villages {
            if pick(&v.key) {
                total += u64::from(v.baseline.cell(band, dose));
            }
        }
        for o in outcomes {
            for s in sessions {
                if s.id == o.session && s.state != SessionState::Cancelled && pick(&s.village) {
                    total += u64::from(o.doses_given.cell(band, dose));
                }
            }
        }
        total
    }

    fn direct_population(
        register: &Register,
        pick: &dyn Fn(&VillageKey) -> bool,
        band: AgeBand,
    ) -> u64 {
        register
            .villages
            .iter()
            .filter(|v| pick(&v.key))
            .map(|v| u64::from(v.population.get(band)))
            .sum()
    }

    fn div(a: u64, b: u64) -> Option<f64> {
        if b == 0 {
            None
        } else {
            Some(a as f64 / b as f64)
        }
    }

    fn direct_dropout(first: u64, second: u64) -> Option<f64> {
        if first == 0 {
            None
        } else {
            Some((first as f64 - second as f64) / first as f64)
        }
    }

    proptest! {
        #[test]
        fn coverage_and_dropout_equal_a_direct_recomputation((register, sessions, outcomes) in arb_records()) {
            let villages = village_tallies(&register, &sessions, &outcomes);
            prop_assert_eq!(villages.len(), register.villages.len());
            for (key, tally) in &villages {
                let pick = |k: &VillageKey| k == key;
                for band in AgeBand::ALL {
                    let population = direct_population(&register, &pick, band);
                    for dose in DoseNumber::ALL {
                        let doses = direct_doses(&register, &sessions, &outcomes, &pick, band, dose);
                        prop_assert_eq!(tally.coverage(band, dose), div(doses, population));
                    }
                    let first = direct_doses(&register, &sessions, &outcomes, &pick, band, DoseNumber::First);
                    let second = direct_doses(&register, &sessions, &outcomes, &pick, band, DoseNumber::Second);
                    prop_assert_eq!(tally.dropout(band), direct_dropout(first, second));
                }
            }
            let townships = township_tallies(&register, &sessions, &outcomes);
            for (township, tally) in &townships {
                let pick = |k: &VillageKey| &k.township == township;
                for band in AgeBand::ALL {
                    let population = direct_population(&register, &pick, band);
                    for dose in DoseNumber::ALL {
                        let doses = direct_doses(&register, &sessions, &outcomes, &pick, band, dose);
                        prop_assert_eq!(tally.coverage(band, dose), div(doses, population));
                    }
                }
                let first: u64 = AgeBand::ALL.iter().map(|b| direct_doses(&register, &sessions, &outcomes, &pick, *b, DoseNumber::First)).sum();
                let second: u64 = AgeBand::ALL.iter().map(|b| direct_doses(&register, &sessions, &outcomes, &pick, *b, DoseNumber::Second)).sum();
                prop_assert_eq!(tally.dropout_all(), direct_dropout(first, second));
            }
        }

        #[test]
        fn wastage_equals_a_direct_recomputation((register, sessions, outcomes) in arb_records()) {
            let _ = register;
            let (mut discarded, mut capacity) = (0u64, 0u64);
            for o in &outcomes {
                for s in &sessions {
                    if s.id != o.session || s.state == SessionState::Cancelled {
                        continue;
                    }
                    for v in &o.vials {
                        for p in &s.products {
                            if p.name == v.product {
                                discarded += u64::from(v.doses_discarded);
                                capacity += u64::from(v.vials_opened) * u64::from(p.doses_per_vial);
                            }
                        }
                    }
                }
            }
            prop_assert_eq!(wastage(&sessions, &outcomes), div(discarded, capacity));
        }

        #[test]
        fn the_ranking_puts_unvaccinated_80_plus_first_and_revisits_fall_in_the_week(
            (register, sessions, outcomes) in arb_records(),
            week in 0i64..40,
        ) {
            let to_do = ranked_to_do(&register, &sessions, &outcomes);
            for pair in to_do.windows(2) {
                prop_assert!(pair[0].unvaccinated.age_80_plus >= pair[1].unvaccinated.age_80_plus);
            }
            let start = date("2026-12-01") + Duration::days(week);
            let due = revisits_due(&sessions, &outcomes, start);
            let mut expected = 0usize;
            for o in &outcomes {
                for s in &sessions {
                    if s.id == o.session && s.state != SessionState::Cancelled {
                        expected += o.deferrals.iter().filter(|d| {
                            d.revisit_on >= start && d.revisit_on < start + Duration::days(7)
                        }).count();
                    }
                }
            }
            prop_assert_eq!(due.len(), expected);
            for pair in due.windows(2) {
                prop_assert!(pair[0].deferral.revisit_on <= pair[1].deferral.revisit_on);
            }
        }

        #[test]
        fn valid_sessions_and_outcomes_round_trip((_, sessions, outcomes) in arb_records()) {
            for s in sessions {
                let json = serde_json::to_string(&s).unwrap();
                prop_assert_eq!(serde_json::from_str::<Session>(&json).unwrap(), s);
            }
            for o in outcomes {
                let json = serde_json::to_string(&o).unwrap();
                prop_assert_eq!(serde_json::from_str::<SessionOutcome>(&json).unwrap(), o);
            }
        }
    }
}
