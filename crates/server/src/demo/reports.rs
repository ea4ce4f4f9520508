//! Demo load reports: plausible reports for about 40 % of the demo registry's clinics, so the
//! map shows crowding, shortages and ages (`caremap-server demo --reports`, or
//! `serve --demo-reports`, e.g. `cargo xtask run -- --demo-reports`). Off by default: tests
//! that seed the demo registry expect facilities without a status.
//!
//! Deterministic like the registry: the same facilities get the same figures (a seeded ChaCha
//! generator), and the report ids are UUID v5 of the facility and the day, so seeding twice in
//! a day stores nothing new (the second run's reports are `duplicate` or `id_reused`). Their
//! times are relative to `now`: most from the last ten hours, some a day or more old (stale).
//! They are pushed like a phone's, through [`Store::push`], by an admin account named
//! [`DEMO_ACCOUNT_NAME`] (created once; each seeding gives it a fresh device token and
//! revokes the previous one, which nobody holds).

use super::{registry, SeedError};
use crate::auth;
use crate::store::push::{prepare, PushBatch};
use crate::store::{CodeOutcome, NewAccount, Store};
use caremap_model::push::MAX_BATCH;
use caremap_model::{
    FacilityKind, LoadReport, Mutation, Operational, Outcome, ReportId, ReportedStatus, Role,
    Scope, Stock, StockItem, StockLevel,
};
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The account demo reports are sent by.
pub const DEMO_ACCOUNT_NAME: &str = "演示数据 / demo data";

const SEED: u64 = 0x5245_504f_5254;

/// Namespace of the demo report ids (UUID v5).
const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7265_6d61_7044_656d_6f52_6570_6f72);

/// What seeding reports did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportSummary {
    /// Reports stored now.
    pub applied: usize,
    /// Reports stored before (seeded earlier the same day) or refused.
    pub skipped: usize,
}

/// The demo reports as of `now`: one per chosen facility.
pub fn reports(now: DateTime<Utc>) -> Result<Vec<(ReportId, LoadReport)>, SeedError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let day = now.date_naive();
    let mut out = Vec::new();
    for (id, facility) in registry()? {
        // Draw for every facility, chosen or not, so each one's figures never depend on others.
        let draw: [u32; 12] = std::array::from_fn(|_| rng.random_range(0..1000));
        let reports_load = matches!(
            facility.kind,
            FacilityKind::FeverClinic
                | FacilityKind::FeverStation
                | FacilityKind::TownshipHealthCenter
                | FacilityKind::VillageClinic
        );
        if !reports_load
            || matches!(facility.operational, Operational::Closed { .. })
            || draw[0] >= 400
        {
            continue;
        }
        let minutes_ago = if draw[1] < 100 {
            26 * 60 + i64::from(draw[2]) * 2 // stale: a day or two old
        } else {
            5 + i64::from(draw[2]) * 6 / 10 // the last ten hours
        };
        let (status, wait) = match draw[3] {
            0..=499 => (ReportedStatus::Open, 5 + draw[4] % 21),
            500..=799 => (ReportedStatus::Open, 26 + draw[4] % 24),
            800..=939 => (ReportedStatus::Reduced, 50 + draw[4] % 70),
            940..=969 => (ReportedStatus::Open, 50 + draw[4] % 40),
            _ => (ReportedStatus::Closed, 0),
        };
        let outpatients = match facility.kind {
            FacilityKind::FeverClinic => 120 + draw[5] % 300,
            FacilityKind::FeverStation => 40 + draw[5] % 160,
            FacilityKind::TownshipHealthCenter => 60 + draw[5] % 200,
            _ => 5 + draw[5] % 60,
        };
        let fever = outpatients * (20 + draw[6] % 50) / 100;
        let mut stock = BTreeMap::new();
        for (i, item) in StockItem::ALL.iter().enumerate() {
            let roll = draw[7 + i];
            if roll < 250 {
                continue; // not reported
            }
            let level = match roll {
                250..=849 => StockLevel::Ample,
                850..=949 => StockLevel::Low,
                _ => StockLevel::Out,
            };
            stock.insert(
                *item,
                Stock {
                    level,
                    count: None,
                    daily_need: None,
                },
            );
        }
        let closed = status == ReportedStatus::Closed;
        let report = LoadReport {
            facility: id,
            as_of: now - Duration::minutes(minutes_ago),
            status,
            outpatients_today: (!closed).then_some(outpatients),
            fever_patients_today: (!closed).then_some(fever),
            wait_minutes: (!closed).then_some(wait),
            doctors_on_duty: (!closed).then_some(1 + draw[11] % 6),
            stock,
            note: None,
            supersedes: None,
        }
        .validate()?;
        let report_id = ReportId::from(Uuid::new_v5(&NAMESPACE, format!("{id}/{day}").as_bytes()));
        out.push((report_id, report));
    }
    Ok(out)
}

/// Pushes the demo reports as of `now` (see the module docs).
pub async fn seed_reports(
    store: &dyn Store,
    now: DateTime<Utc>,
) -> Result<ReportSummary, SeedError> {
    let reports = reports(now)?;
    let token_hash = demo_token(store).await?;
    let mut summary = ReportSummary::default();
    for chunk in reports.chunks(MAX_BATCH) {
        let mutations = chunk
            .iter()
            .map(|(id, report)| prepare(&Mutation::load_report(*id, report, report.as_of), now))
            .collect();
        let results = store
            .push(PushBatch {
                token_hash: token_hash.clone(),
                mutations,
            })
            .await?
            .unwrap_or_default();
        for result in results {
            if result.outcome == Outcome::Applied {
                summary.applied += 1;
            } else {
                summary.skipped += 1;
            }
        }
    }
    Ok(summary)
}

/// A working device token (its hash) of the demo account, made for this seeding.
async fn demo_token(store: &dyn Store) -> Result<String, SeedError> {
    let code = auth::new_enrollment_code().map_err(|e| SeedError::Random(e.to_string()))?;
    let code_hash = auth::code_hash(&code);
    let expires = Utc::now() + Duration::minutes(10);
    let existing = store.accounts().await?.into_iter().find(|s| {
        s.account.name == DEMO_ACCOUNT_NAME
            && s.account.role == Role::Admin
            && s.account.revoked_at.is_none()
    });
    let fresh_code = match existing {
        Some(s) => matches!(
            store
                .replace_enrollment_code(s.account.id, &code_hash, expires)
                .await?,
            CodeOutcome::Issued { .. }
        ),
        None => false,
    };
    if !fresh_code {
        store
            .create_account(
                &NewAccount {
                    name: DEMO_ACCOUNT_NAME.to_owned(),
                    role: Role::Admin,
                    scope: Scope::default(),
                },
                &code_hash,
                expires,
            )
            .await?;
    }
    let token = auth::new_token().map_err(|e| SeedError::Random(e.to_string()))?;
    let token_hash = auth::sha256_hex(&token);
    store
        .enroll(&code_hash, &token_hash, Some("caremap-server demo"))
        .await?
        .ok_or_else(|| SeedError::Random("the demo account's code did not work".to_owned()))?;
    Ok(token_hash)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn about_forty_percent_of_the_clinics_with_valid_reports_every_run_alike() {
        let now: DateTime<Utc> = "2026-11-29T08:00:00Z".parse().unwrap();
        let first = reports(now).unwrap();
        assert_eq!(first, reports(now).unwrap());
        let clinics = registry()
            .unwrap()
            .iter()
            .filter(|(_, f)| f.kind != FacilityKind::VaccinationPoint)
            .count();
        let share = first.len() as f64 / clinics as f64;
        assert!((0.3..0.5).contains(&share), "{share}");
        for (_, report) in &first {
            assert!(report.check_time(now).is_ok());
        }
        let crowding: std::collections::HashSet<_> = first
            .iter()
            .map(|(_, r)| caremap_model::Crowding::of(r.status, r.wait_minutes))
            .collect();
        assert!(crowding.len() >= 4, "every level appears: {crowding:?}");
        // The next day: other ids.
        let tomorrow = reports(now + Duration::days(1)).unwrap();
        assert_ne!(first[0].0, tomorrow[0].0);
    }
}
