//! Pieces of the interface used by the pages: header, language switch, large-text mode, legend, facility list,
//! load status, demo banner, the banner that offers a new version, and start-up in steps.

mod after_paint;
mod facility_list;
pub mod facility_load;
mod header;
mod lang_switch;
mod large_text;
mod legend;
mod save_map;
mod search_panel;
mod status;
mod update_banner;

pub use after_paint::AfterFirstPaint;
pub use facility_list::{area_text, distance_text, FacilityCount, FacilityList, NEAREST_SHOWN};
pub use facility_load::FacilityLoad;
pub use header::Header;
pub use lang_switch::LangSwitch;
pub use large_text::LargeTextToggle;
pub use legend::Legend;
pub use save_map::SaveMap;
pub use search_panel::{locate, Filters, LocateError, NearMe};
pub use status::{ago, DemoBanner, LoadStatus, MapStatus, SyncBar};
pub use update_banner::UpdateBanner;
