//! The app's pages, one per route in [`crate::routes`].

mod elsewhere;
mod facility;
mod map;
mod not_found;
mod report;

pub use elsewhere::ElsewhereInTheSite;
pub use facility::FacilityPage;
pub use map::MapPage;
pub use not_found::NotFound;
pub use report::ReportPage;
