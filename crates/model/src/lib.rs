//! caremap's domain model, shared by the PWA (wasm32) and the server (native).
//!
//! Every value that crosses a trust boundary — an API body, an import file, a form — is parsed
//! into the types of this crate once; a value of these types is valid by construction
//! ("parse, don't validate"). Validation errors carry a stable code and a message in both
//! interface languages, so the phone refuses what the server would refuse, with the same words.

pub mod account;
pub mod columnar;
pub mod contract;
pub mod datum;
pub mod error;
pub mod facility;
pub mod geo;
pub mod hours;
pub mod lang;
pub mod navigation;
pub mod nearest;
pub mod outreach;
pub mod push;
pub mod registry;
pub mod report;
pub mod status;
pub mod sync;
pub mod text;
pub mod tiles;
pub mod timetable;

pub use account::{AccountInfo, EnrollRequest, EnrollResponse, EnrollmentCode, Role, Scope};
pub use columnar::ColumnarPage;
pub use contract::{
    ApiErrorCode, ClientConfig, DeviceName, ErrorBody, ErrorDetail, MutationErrorCode,
    HISTORY_MAX_DAYS,
};
pub use datum::Datum;
pub use error::{Field, ValidationError};
pub use facility::{
    AdminArea, Capacity, ExternalId, Facility, FacilityId, FacilityKind, Names, Operational, Phone,
    Service,
};
pub use geo::LatLon;
pub use hours::OpeningHours;
pub use lang::Lang;
pub use push::{Mutation, MutationError, MutationResult, Outcome, PushRequest, PushResponse};
pub use registry::{Cursor, FacilityRecord, PageLimit, RegistryPage};
pub use report::{
    LoadReport, ReportDraft, ReportHistory, ReportId, ReportRecord, ReportedStatus, Stock,
    StockItem, StockLevel,
};
pub use status::{Crowding, FacilityStatus, Freshness, FreshnessThresholds};
pub use text::{Address, AreaName, Name, Note};
pub use tiles::TileSource;
pub use timetable::{HoursState, Timetable, TimetableSet};
