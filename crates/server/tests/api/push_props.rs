//! Property: however a phone's outbox is retried, split, reordered or sent concurrently, each
//! report is stored exactly once, and an id reused with another body is refused. Checked
//! against the real HTTP app (group commit and all).

use crate::helpers::{enrolled, facility, load_report, report_mutation, spawn_app, Backend};
use caremap_model::{Mutation, MutationResult, Outcome, ReportId, Role};
use chrono::{Duration, Utc};
use proptest::prelude::*;
use std::collections::HashMap;

/// One mutation sent: which report, and whether in its altered form (same id, other body).
type Sent = (usize, bool);

#[derive(Debug, Clone)]
struct Scenario {
    /// The wait of each report (its content).
    waits: Vec<u32>,
    /// Pushes, each a batch of reports by index.
    pushes: Vec<Vec<Sent>>,
    /// Send every push at once instead of one after the other.
    concurrent: bool,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    prop::collection::vec(0u32..120, 1..=6)
        .prop_flat_map(|waits| {
            let n = waits.len();
            let sent = (0..n, prop::bool::weighted(0.15));
            (
                Just(waits),
                prop::collection::vec(prop::collection::vec(sent, 1..=6), 1..=8),
                any::<bool>(),
            )
        })
        .prop_map(|(waits, pushes, concurrent)| Scenario {
            waits,
            pushes,
            concurrent,
        })
}

async fn check(backend: Backend, scenario: Scenario) -> Result<(), TestCaseError> {
    let Some(app) = spawn_app(backend).await else {
        return Ok(());
    };
    let a = facility(1);
    app.store
        .upsert_batch(std::slice::from_ref(&a))
        .await
        .expect("facility");
    let a = a.0;
    let (_, token) = enrolled(&app, Role::Reporter, &[a]).await;
    let now = Utc::now();
    let ids: Vec<ReportId> = scenario.waits.iter().map(|_| ReportId::new_v7()).collect();
    let mutation = |(i, altered): Sent| -> Mutation {
        let wait = scenario.waits[i] + if altered { 200 } else { 0 };
        report_mutation(
            ids[i],
            &load_report(a, now - Duration::minutes(i as i64), wait),
        )
    };
    let pushes: Vec<Vec<Mutation>> = scenario
        .pushes
        .iter()
        .map(|p| p.iter().map(|s| mutation(*s)).collect())
        .collect();

    let mut answers: Vec<Vec<MutationResult>> = Vec::with_capacity(pushes.len());
    if scenario.concurrent {
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for push in pushes.clone() {
            let (app, token) = (app.clone(), token.clone());
            tasks.push(tokio::spawn(async move { app.push(&token, &push).await }));
        }
        for task in tasks {
            answers.push(task.await.expect("push task"));
        }
        return verify(&scenario, &ids, &answers, &app.history(a).await, false);
    }
    for push in &pushes {
        answers.push(app.push(&token, push).await);
    }
    verify(&scenario, &ids, &answers, &app.history(a).await, true)
}

fn verify(
    scenario: &Scenario,
    ids: &[ReportId],
    answers: &[Vec<MutationResult>],
    history: &[caremap_model::ReportRecord],
    in_order: bool,
) -> Result<(), TestCaseError> {
    // Exactly one stored copy of every report sent, none of those never sent.
    let mut stored: HashMap<ReportId, bool> = HashMap::new();
    for record in history {
        let i = ids.iter().position(|id| *id == record.id);
        let i = i.ok_or_else(|| TestCaseError::fail("a stored report nobody sent"))?;
        let altered = record.report.wait_minutes != Some(scenario.waits[i]);
        prop_assert!(stored.insert(record.id, altered).is_none(), "stored twice");
    }
    let mut first_sent: HashMap<usize, bool> = HashMap::new();
    for &(i, altered) in scenario.pushes.iter().flatten() {
        first_sent.entry(i).or_insert(altered);
    }
    prop_assert_eq!(stored.len(), first_sent.len());

    // Each sent once applied; every other send a duplicate of the stored content, or id_reused.
    let mut applied: HashMap<usize, usize> = HashMap::new();
    for (push, results) in scenario.pushes.iter().zip(answers) {
        prop_assert_eq!(push.len(), results.len());
        for (&(i, altered), result) in push.iter().zip(results) {
            prop_assert_eq!(result.id, ids[i].as_uuid());
            let stored_altered = *stored
                .get(&ids[i])
                .ok_or_else(|| TestCaseError::fail("sent but not stored"))?;
            match result.outcome {
                Outcome::Applied => {
                    *applied.entry(i).or_default() += 1;
                    prop_assert_eq!(altered, stored_altered);
                }
                Outcome::Duplicate => prop_assert_eq!(altered, stored_altered),
                Outcome::Rejected => {
                    prop_assert_ne!(altered, stored_altered);
                    prop_assert_eq!(
                        result.error.as_ref().map(|e| e.code.as_str()),
                        Some("id_reused")
                    );
                }
            }
        }
    }
    for i in first_sent.keys() {
        prop_assert_eq!(
            applied.get(i).copied(),
            Some(1),
            "report {} applied once",
            i
        );
    }
    if in_order {
        for (i, altered) in &first_sent {
            prop_assert_eq!(stored.get(&ids[*i]), Some(altered), "the first sent wins");
        }
    }
    Ok(())
}

fn run(backend: Backend, scenario: Scenario) -> Result<(), TestCaseError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(check(backend, scenario))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_report_is_stored_exactly_once_on_sqlite(scenario in scenario()) {
        run(Backend::Sqlite, scenario)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn every_report_is_stored_exactly_once_on_postgres(scenario in scenario()) {
        run(Backend::Postgres, scenario)?;
    }
}
