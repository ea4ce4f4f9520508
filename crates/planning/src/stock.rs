//! Moving one stock item (antigen kits, a medicine) from clinics with more than they need to
//! clinics that are running out.
//!
//! Everything is counted in days of cover (stock ÷ daily need), the figure a health office
//! thinks in: a site below `min_days` of cover is short by what brings it to `min_days`; a site
//! gives only what it holds beyond `keep_days`, so no transfer leaves a giver short. Whole
//! units only, as they are counted on the shelf.

use crate::transport::{self, Node, SolveError, SolveStats};
use caremap_model::{Lang, LatLon, StockItem};

/// One site's stock of the item being planned.
#[derive(Debug, Clone, PartialEq)]
pub struct StockSite<Id> {
    pub id: Id,
    pub at: LatLon,
    /// Units on hand.
    pub stock: u32,
    /// Units used a day. Zero: the site uses none, is never short, and all it holds can go.
    pub daily_need: u32,
}

impl<Id> StockSite<Id> {
    /// Days the stock lasts, `None` for a site that uses none (it lasts for ever).
    pub fn days_of_cover(&self) -> Option<f64> {
        days(u64::from(self.stock), self.daily_need)
    }

    /// Units it lacks to reach `min_days` of cover.
    pub fn shortage(&self, rule: &CoverRule) -> u32 {
        let wanted = u64::from(rule.min_days) * u64::from(self.daily_need);
        saturate(wanted.saturating_sub(u64::from(self.stock)))
    }

    /// Units it holds beyond `keep_days` of cover.
    pub fn surplus(&self, rule: &CoverRule) -> u32 {
        let kept = u64::from(rule.keep_days) * u64::from(self.daily_need);
        saturate(u64::from(self.stock).saturating_sub(kept))
    }
}

fn saturate(units: u64) -> u32 {
    u32::try_from(units).unwrap_or(u32::MAX)
}

fn days(units: u64, daily_need: u32) -> Option<f64> {
    (daily_need > 0).then(|| units as f64 / f64::from(daily_need))
}

/// How many days of cover count as short, and how many a giver keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverRule {
    min_days: u32,
    keep_days: u32,
    max_km: Option<f64>,
}

/// A rule that cannot make a sensible plan.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// With `keep_days` below `min_days` a giver would be left short by its own transfer.
    #[error("keep_days ({keep_days}) must be at least min_days ({min_days})")]
    KeepBelowMin { min_days: u32, keep_days: u32 },
    #[error("patients per doctor per day must be at least 1")]
    NoPatientsPerDoctor,
    #[error("the distance cap must be a positive number of kilometres, not {0}")]
    BadDistance(f64),
}

impl CoverRule {
    /// Sites below `min_days` of cover are topped up to it; sites give what exceeds `keep_days`;
    /// no transfer is longer than `max_km` when one is given.
    pub fn new(min_days: u32, keep_days: u32, max_km: Option<f64>) -> Result<Self, RuleError> {
        if keep_days < min_days {
            return Err(RuleError::KeepBelowMin {
                min_days,
                keep_days,
            });
        }
        if let Some(cap) = max_km {
            if !(cap.is_finite() && cap > 0.0) {
                return Err(RuleError::BadDistance(cap));
            }
        }
        Ok(CoverRule {
            min_days,
            keep_days,
            max_km,
        })
    }

    pub fn min_days(&self) -> u32 {
        self.min_days
    }

    pub fn keep_days(&self) -> u32 {
        self.keep_days
    }

    pub fn max_km(&self) -> Option<f64> {
        self.max_km
    }
}

/// One suggested move of stock.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer<Id> {
    pub from: Id,
    pub to: Id,
    pub units: u32,
    pub distance_km: f64,
    /// The giver's days of cover after *all* its transfers in the plan (`None`: uses none).
    pub from_days_after: Option<f64>,
    /// The receiver's days of cover after all it receives in the plan.
    pub to_days_after: Option<f64>,
}

/// The suggested transfers of one item, with their totals.
#[derive(Debug, Clone, PartialEq)]
pub struct StockPlan<Id> {
    pub transfers: Vec<Transfer<Id>>,
    /// Units the short sites lack in all, before the plan.
    pub total_shortage: u64,
    /// Units the plan covers: the most any plan can under the rule.
    pub covered: u64,
    /// Σ units × km, the least for that coverage.
    pub unit_km: f64,
    pub stats: SolveStats,
}

impl<Id> StockPlan<Id> {
    /// Need that no plan within the rule can cover (no surplus near enough, or none at all).
    pub fn uncovered(&self) -> u64 {
        self.total_shortage - self.covered
    }
}

/// Suggests the transfers of one item among `sites`.
pub fn plan_stock<Id: Clone>(
    sites: &[StockSite<Id>],
    rule: &CoverRule,
) -> Result<StockPlan<Id>, SolveError> {
    let givers: Vec<usize> = (0..sites.len())
        .filter(|&k| sites[k].surplus(rule) > 0)
        .collect();
    let takers: Vec<usize> = (0..sites.len())
        .filter(|&k| sites[k].shortage(rule) > 0)
        .collect();
    let supply: Vec<Node> = givers
        .iter()
        .map(|&k| Node {
            at: sites[k].at,
            units: sites[k].surplus(rule),
        })
        .collect();
    let demand: Vec<Node> = takers
        .iter()
        .map(|&k| Node {
            at: sites[k].at,
            units: sites[k].shortage(rule),
        })
        .collect();
    let solved = transport::solve(&supply, &demand, rule.max_km)?;

    let mut stock_after: Vec<u64> = sites.iter().map(|s| u64::from(s.stock)).collect();
    for f in &solved.flows {
        stock_after[givers[f.from]] -= u64::from(f.units);
        stock_after[takers[f.to]] += u64::from(f.units);
    }
    let transfers = solved
        .flows
        .iter()
        .map(|f| {
            let (g, t) = (givers[f.from], takers[f.to]);
            Transfer {
                from: sites[g].id.clone(),
                to: sites[t].id.clone(),
                units: f.units,
                distance_km: f.distance_km,
                from_days_after: days(stock_after[g], sites[g].daily_need),
                to_days_after: days(stock_after[t], sites[t].daily_need),
            }
        })
        .collect();
    Ok(StockPlan {
        transfers,
        total_shortage: demand.iter().map(|n| u64::from(n.units)).sum(),
        covered: solved.covered,
        unit_km: solved.unit_km,
        stats: solved.stats,
    })
}

/// How an item is counted in a sentence: Chinese measure word and English noun phrase.
fn item_words(item: StockItem) -> (&'static str, &'static str) {
    match item {
        StockItem::AntigenKits => ("份", "antigen test kits"),
        StockItem::Antipyretics => ("份", "units of antipyretics"),
        StockItem::CoughCold => ("份", "units of cough and cold medicine"),
        StockItem::Oxygen => ("件", "units of oxygen and oximeters"),
    }
}

/// Whole days, rounded down: "还够 6 天" must never promise more than the shelf holds.
fn whole_days(days: f64) -> u64 {
    days.floor().max(0.0) as u64
}

impl<Id> Transfer<Id> {
    /// The transfer as a health officer reads it, e.g. "从 A 调 200 份抗原检测试剂到 B，3.2
    /// 公里；调出后 A 还够 6 天，B 可撑 3 天".
    pub fn explain(&self, from_name: &str, to_name: &str, item: StockItem, lang: Lang) -> String {
        let (measure, noun) = item_words(item);
        let km = format!("{:.1}", self.distance_km);
        match lang {
            Lang::Zh => {
                let from_after = match self.from_days_after {
                    Some(d) => format!("{from_name} 还够 {} 天", whole_days(d)),
                    None => format!("{from_name} 不再消耗"),
                };
                let to_after = match self.to_days_after {
                    Some(d) => format!("{to_name} 可撑 {} 天", whole_days(d)),
                    None => format!("{to_name} 不再消耗"),
                };
                format!(
                    "从 {from_name} 调 {} {measure}{}到 {to_name}，{km} 公里；调出后 {from_after}，{to_after}",
                    self.units,
                    item.label(Lang::Zh),
                )
            }
            Lang::En => {
                let from_after = match self.from_days_after {
                    Some(d) => format!("{from_name} keeps {} of cover", days_en(d)),
                    None => format!("{from_name} uses none"),
                };
                let to_after = match self.to_days_after {
                    Some(d) => format!("{to_name} gets {}", days_en(d)),
                    None => format!("{to_name} uses none"),
                };
                format!(
                    "Move {} {noun} from {from_name} to {to_name}, {km} km; {from_after}, {to_after}.",
                    self.units
                )
            }
        }
    }
}

fn days_en(days: f64) -> String {
    match whole_days(days) {
        1 => "1 day".to_string(),
        n => format!("{n} days"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // proptest! bodies are not seen as tests by clippy
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn site(id: &'static str, lon: f64, stock: u32, daily_need: u32) -> StockSite<&'static str> {
        StockSite {
            id,
            at: LatLon::new(30.04, lon).unwrap(),
            stock,
            daily_need,
        }
    }

    fn rule(max_km: Option<f64>) -> CoverRule {
        CoverRule::new(3, 6, max_km).unwrap()
    }

    #[test]
    fn no_shortage_means_no_transfer() {
        let sites = [site("A", 121.10, 1000, 10), site("B", 121.13, 50, 10)];
        let plan = plan_stock(&sites, &rule(None)).unwrap();
        assert!(plan.transfers.is_empty());
        assert_eq!((plan.total_shortage, plan.covered), (0, 0));
    }

    #[test]
    fn one_surplus_covers_one_shortage() {
        // A: 1000 kits at 100/day keeps 600, gives 400. B: 50 at 100/day needs 250 to reach 3 days.
        let sites = [site("A", 121.10, 1000, 100), site("B", 121.13, 50, 100)];
        let plan = plan_stock(&sites, &rule(None)).unwrap();
        assert_eq!(plan.transfers.len(), 1);
        let t = &plan.transfers[0];
        assert_eq!((t.from, t.to, t.units), ("A", "B", 250));
        assert!((t.distance_km - 2.89).abs() < 0.05, "{}", t.distance_km);
        assert_eq!(t.from_days_after, Some(7.5));
        assert_eq!(t.to_days_after, Some(3.0));
        assert_eq!((plan.covered, plan.uncovered()), (250, 0));
        assert_eq!(
            t.explain("城东卫生院", "马渚镇卫生院", StockItem::AntigenKits, Lang::Zh),
            "从 城东卫生院 调 250 份抗原检测试剂到 马渚镇卫生院，2.9 公里；调出后 城东卫生院 还够 7 天，马渚镇卫生院 可撑 3 天"
        );
        assert_eq!(
            t.explain("A", "B", StockItem::AntigenKits, Lang::En),
            "Move 250 antigen test kits from A to B, 2.9 km; A keeps 7 days of cover, B gets 3 days."
        );
    }

    #[test]
    fn a_distance_cap_excludes_a_pair() {
        // C is 2.9 km from B, A is about 29 km away: with a 10 km cap only C may give.
        let sites = [
            site("A", 121.40, 10_000, 10),
            site("B", 121.10, 0, 100),
            site("C", 121.13, 700, 100),
        ];
        let plan = plan_stock(&sites, &rule(Some(10.0))).unwrap();
        assert_eq!(plan.total_shortage, 300);
        assert_eq!(plan.covered, 100);
        assert_eq!(plan.uncovered(), 200);
        assert_eq!(plan.transfers.len(), 1);
        assert_eq!(plan.transfers[0].from, "C");
        let uncapped = plan_stock(&sites, &rule(None)).unwrap();
        assert_eq!(uncapped.covered, 300);
    }

    #[test]
    fn a_site_that_uses_none_gives_all() {
        let sites = [site("A", 121.10, 40, 0), site("B", 121.13, 0, 10)];
        let plan = plan_stock(&sites, &rule(None)).unwrap();
        assert_eq!(plan.covered, 30);
        assert_eq!(plan.transfers[0].from_days_after, None);
        assert!(plan.transfers[0]
            .explain("A", "B", StockItem::Antipyretics, Lang::En)
            .contains("A uses none"));
    }

    #[test]
    fn rules_that_make_no_sense_are_refused() {
        assert!(matches!(
            CoverRule::new(5, 3, None),
            Err(RuleError::KeepBelowMin { .. })
        ));
        assert!(CoverRule::new(3, 6, Some(f64::NAN)).is_err());
        assert!(CoverRule::new(3, 6, Some(0.0)).is_err());
    }

    proptest! {
        /// No giver drops below `keep_days`, no taker is filled past `min_days`, and the days
        /// after agree with the units moved.
        #[test]
        fn transfers_keep_to_the_rule(
            raw in prop::collection::vec((0.0f64..0.2, 0u32..2_000, 0u32..100), 0..10),
            min_days in 1u32..5, extra in 0u32..5,
        ) {
            let rule = CoverRule::new(min_days, min_days + extra, None).unwrap();
            let sites: Vec<StockSite<usize>> = raw
                .iter()
                .enumerate()
                .map(|(id, &(dlon, stock, daily_need))| StockSite {
                    id,
                    at: LatLon::new(30.0, 121.0 + dlon).unwrap(),
                    stock,
                    daily_need,
                })
                .collect();
            let plan = plan_stock(&sites, &rule).unwrap();
            let mut after: Vec<i64> = sites.iter().map(|s| i64::from(s.stock)).collect();
            for t in &plan.transfers {
                prop_assert!(t.units > 0 && t.from != t.to);
                after[t.from] -= i64::from(t.units);
                after[t.to] += i64::from(t.units);
            }
            for t in &plan.transfers {
                let (g, r) = (&sites[t.from], &sites[t.to]);
                prop_assert!(after[t.from] >= i64::from(rule.keep_days() * g.daily_need));
                prop_assert!(after[t.to] <= i64::from(rule.min_days() * r.daily_need));
                prop_assert_eq!(t.from_days_after, days(after[t.from] as u64, g.daily_need));
                prop_assert_eq!(t.to_days_after, days(after[t.to] as u64, r.daily_need));
            }
            let supply: u64 = sites.iter().map(|s| u64::from(s.surplus(&rule))).sum();
            prop_assert_eq!(plan.covered, plan.total_shortage.min(supply));
        }
    }
}
