//! caremap's planning for the health authority (issue 16): where to move kits, medicines and
//! doctors so that the clinics short of them are covered, with the least travel.
//!
//! Native only: the server or an officer's tool runs it, never the phone, so the PWA and
//! caremap-model do not depend on it. One exact solver ([`transport`]) serves every kind of
//! unit; [`stock`] counts stock in days of cover, [`staff`] counts doctors against fever
//! patients. Each suggestion explains itself in Chinese and English, with the names the caller
//! passes in.

pub mod staff;
pub mod stock;
pub mod transport;

pub use staff::{plan_staff, StaffPlan, StaffRule, StaffSite, StaffTransfer};
pub use stock::{plan_stock, CoverRule, RuleError, StockPlan, StockSite, Transfer};
pub use transport::{SolveError, SolveStats};
