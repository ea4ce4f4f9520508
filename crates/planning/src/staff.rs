//! Lending doctors: clinics whose fever patients exceed what their doctors can see get doctors
//! from the nearest clinics that have more than their own patients need.
//!
//! The same exact solver as stock ([`crate::transport`]), with doctors as the units. A clinic
//! needs ⌈fever patients ÷ patients per doctor per day⌉ doctors; a lender keeps that many and at
//! least `min_kept`, so no clinic is emptied to fill another.

use crate::stock::RuleError;
use crate::transport::{self, Node, SolveError};
use caremap_model::{Lang, LatLon};

/// One clinic's doctors and fever patients today.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffSite<Id> {
    pub id: Id,
    pub at: LatLon,
    pub doctors: u32,
    pub fever_patients: u32,
}

/// How many fever patients a doctor sees a day, how many doctors a lender keeps at least, and
/// how far a doctor may be sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaffRule {
    patients_per_doctor: u32,
    min_kept: u32,
    max_km: Option<f64>,
}

impl StaffRule {
    /// `patients_per_doctor` must be at least 1; a zero would make every patient unseeable.
    pub fn new(
        patients_per_doctor: u32,
        min_kept: u32,
        max_km: Option<f64>,
    ) -> Result<Self, RuleError> {
        if patients_per_doctor == 0 {
            return Err(RuleError::NoPatientsPerDoctor);
        }
        if let Some(cap) = max_km {
            if !(cap.is_finite() && cap > 0.0) {
                return Err(RuleError::BadDistance(cap));
            }
        }
        Ok(StaffRule {
            patients_per_doctor,
            min_kept,
            max_km,
        })
    }

    fn doctors_needed<Id>(&self, site: &StaffSite<Id>) -> u32 {
        site.fever_patients.div_ceil(self.patients_per_doctor)
    }

    /// Doctors the clinic lacks for its fever patients.
    pub fn shortage<Id>(&self, site: &StaffSite<Id>) -> u32 {
        self.doctors_needed(site).saturating_sub(site.doctors)
    }

    /// Doctors the clinic can lend.
    pub fn spare<Id>(&self, site: &StaffSite<Id>) -> u32 {
        let kept = self.doctors_needed(site).max(self.min_kept);
        site.doctors.saturating_sub(kept)
    }
}

/// One suggested loan of doctors.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffTransfer<Id> {
    pub from: Id,
    pub to: Id,
    pub doctors: u32,
    pub distance_km: f64,
    /// Doctors the lender has left after all its loans in the plan.
    pub from_doctors_after: u32,
    /// Doctors the receiver has after all it receives in the plan.
    pub to_doctors_after: u32,
}

/// The suggested loans, with their totals.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffPlan<Id> {
    pub transfers: Vec<StaffTransfer<Id>>,
    /// Doctors the short clinics lack in all, before the plan.
    pub total_shortage: u64,
    /// Doctors the plan sends: the most any plan can under the rule.
    pub covered: u64,
    /// Σ doctors × km, the least for that coverage.
    pub doctor_km: f64,
}

/// Suggests the loans of doctors among `sites`.
pub fn plan_staff<Id: Clone>(
    sites: &[StaffSite<Id>],
    rule: &StaffRule,
) -> Result<StaffPlan<Id>, SolveError> {
    let lenders: Vec<usize> = (0..sites.len())
        .filter(|&k| rule.spare(&sites[k]) > 0)
        .collect();
    let takers: Vec<usize> = (0..sites.len())
        .filter(|&k| rule.shortage(&sites[k]) > 0)
        .collect();
    let supply: Vec<Node> = lenders
        .iter()
        .map(|&k| Node {
            at: sites[k].at,
            units: rule.spare(&sites[k]),
        })
        .collect();
    let demand: Vec<Node> = takers
        .iter()
        .map(|&k| Node {
            at: sites[k].at,
            units: rule.shortage(&sites[k]),
        })
        .collect();
    let solved = transport::solve(&supply, &demand, rule.max_km)?;
    let mut after: Vec<u32> = sites.iter().map(|s| s.doctors).collect();
    for f in &solved.flows {
        // Within the spare and the shortage, so neither overflows.
        after[lenders[f.from]] -= f.units;
        after[takers[f.to]] += f.units;
    }
    let transfers = solved
        .flows
        .iter()
        .map(|f| {
            let (l, t) = (lenders[f.from], takers[f.to]);
            StaffTransfer {
                from: sites[l].id.clone(),
                to: sites[t].id.clone(),
                doctors: f.units,
                distance_km: f.distance_km,
                from_doctors_after: after[l],
                to_doctors_after: after[t],
            }
        })
        .collect();
    Ok(StaffPlan {
        transfers,
        total_shortage: demand.iter().map(|n| u64::from(n.units)).sum(),
        covered: solved.covered,
        doctor_km: solved.unit_km,
    })
}

impl<Id> StaffTransfer<Id> {
    /// The loan as a health officer reads it, e.g. "从 A 派 2 名医生到 B，3.2 公里；之后 A 有 3 名，B 有 5 名".
    pub fn explain(&self, from_name: &str, to_name: &str, lang: Lang) -> String {
        let km = format!("{:.1}", self.distance_km);
        match lang {
            Lang::Zh => format!(
                "从 {from_name} 派 {} 名医生到 {to_name}，{km} 公里；之后 {from_name} 有 {} 名，{to_name} 有 {} 名",
                self.doctors, self.from_doctors_after, self.to_doctors_after
            ),
            Lang::En => format!(
                "Send {} from {from_name} to {to_name}, {km} km; {from_name} keeps {}, {to_name} has {}.",
                doctors_en(self.doctors),
                doctors_en(self.from_doctors_after),
                doctors_en(self.to_doctors_after)
            ),
        }
    }
}

fn doctors_en(n: u32) -> String {
    match n {
        1 => "1 doctor".to_string(),
        n => format!("{n} doctors"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn site(id: &'static str, lon: f64, doctors: u32, fever: u32) -> StaffSite<&'static str> {
        StaffSite {
            id,
            at: LatLon::new(30.04, lon).unwrap(),
            doctors,
            fever_patients: fever,
        }
    }

    #[test]
    fn doctors_go_to_the_nearest_clinic_that_lacks_them() {
        // 40 patients a doctor: B needs 5 for 180 patients and has 3; A needs 1, keeps 2, lends 4;
        // D, farther, could lend too.
        let rule = StaffRule::new(40, 2, None).unwrap();
        let sites = [
            site("A", 121.10, 6, 30),
            site("B", 121.13, 3, 180),
            site("D", 121.50, 9, 0),
        ];
        let plan = plan_staff(&sites, &rule).unwrap();
        assert_eq!((plan.total_shortage, plan.covered), (2, 2));
        assert_eq!(plan.transfers.len(), 1);
        let t = &plan.transfers[0];
        assert_eq!((t.from, t.to, t.doctors), ("A", "B", 2));
        assert_eq!(
            t.explain("A", "B", Lang::Zh),
            "从 A 派 2 名医生到 B，2.9 公里；之后 A 有 4 名，B 有 5 名"
        );
        assert_eq!(
            t.explain("A", "B", Lang::En),
            "Send 2 doctors from A to B, 2.9 km; A keeps 4 doctors, B has 5 doctors."
        );
    }

    #[test]
    fn a_clinic_with_enough_doctors_asks_for_none() {
        let rule = StaffRule::new(40, 1, None).unwrap();
        let plan = plan_staff(&[site("A", 121.1, 2, 80), site("B", 121.2, 5, 0)], &rule).unwrap();
        assert!(plan.transfers.is_empty());
        assert!(StaffRule::new(0, 1, None).is_err());
    }
}
