//! Suggested transfers of one stock item (issue 16): from the clinics whose latest report holds
//! more than they need to those short of it, solved exactly by `caremap-planning`, each said in
//! words. The `transfers` command prints them for the health office; the console will show the
//! same suggestions.
//!
//! What a clinic holds and needs comes from its latest report (the one its status is from),
//! where the doctor gave the item's count and daily need. A clinic whose latest report gives
//! neither is left out: the suggestions never guess a number.

use crate::store::{SharedStore, StoreError};
use caremap_model::{Facility, FacilityId, Lang, StockItem};
use caremap_planning::{plan_stock, CoverRule, SolveError, StockPlan, StockSite};
use std::collections::HashMap;

/// The suggestions for one item, with the facilities they name.
pub struct Suggestions {
    pub item: StockItem,
    pub plan: StockPlan<FacilityId>,
    /// The clinics that gave a count and a daily need, out of those with a status.
    pub counted: usize,
    pub facilities: HashMap<FacilityId, Facility>,
}

impl Suggestions {
    /// Each transfer in words, in the plan's order.
    pub fn explained(&self, lang: Lang) -> Vec<String> {
        let name = |id: &FacilityId| {
            self.facilities
                .get(id)
                .map_or_else(|| id.to_string(), |f| f.name.display(lang).to_owned())
        };
        self.plan
            .transfers
            .iter()
            .map(|t| t.explain(&name(&t.from), &name(&t.to), self.item, lang))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransfersError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Solve(#[from] SolveError),
}

/// The transfers of `item` that cover the most need under `rule` for the least distance.
pub async fn suggest(
    store: &SharedStore,
    item: StockItem,
    rule: &CoverRule,
) -> Result<Suggestions, TransfersError> {
    let mut sites = Vec::new();
    let mut facilities = HashMap::new();
    for record in store.list().await? {
        let (Some(facility), Some(status)) = (record.facility, record.status) else {
            continue;
        };
        // The status's own report: the history since its time holds it (unless corrected since,
        // when the status is the correction's).
        let latest = store
            .report_history(record.id, status.as_of)
            .await?
            .into_iter()
            .find(|r| r.id == status.report);
        let counted = latest
            .and_then(|r| r.report.stock.get(&item).copied())
            .and_then(|s| Some((s.count?, s.daily_need?)));
        if let Some((stock, daily_need)) = counted {
            sites.push(StockSite {
                id: record.id,
                at: facility.location,
                stock,
                daily_need,
            });
            facilities.insert(record.id, facility);
        }
    }
    let plan = plan_stock(&sites, rule)?;
    Ok(Suggestions {
        item,
        plan,
        counted: sites.len(),
        facilities,
    })
}
