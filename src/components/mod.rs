//! Pieces of the interface used by the pages: header, language switch, legend, facility list,
//! load status and demo banner.

mod facility_list;
mod header;
mod lang_switch;
mod legend;
mod status;

pub use facility_list::{area_text, FacilityCount, FacilityList};
pub use header::Header;
pub use lang_switch::LangSwitch;
pub use legend::Legend;
pub use status::{DemoBanner, LoadStatus};
