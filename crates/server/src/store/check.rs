//! `caremap-server check`: whether what the database holds agrees with itself, read-only. For
//! operators after a crash, a restore or a hand edit, and for the crash harness
//! (`cargo xtask chaos`), which runs it after every kill of the server.
//!
//! It holds when
//! - every load-report mutation (the idempotency record a push writes) has its report, and
//!   every report its mutation (both are written in one transaction, and a mutation id is
//!   stored once: it is the primary key of both tables);
//! - every live facility's stored status is the one its reports give: the status of its newest
//!   report (by `as_of`, then receipt, then id) that no correction replaced, or none when it
//!   has no report. The writer computes it at each push over the reports of the last
//!   [`STATUS_WINDOW_DAYS`] days, so when the newest report is older than that, "no status"
//!   holds too (the status ages out at the next push, not by itself).

use super::push::STATUS_WINDOW_DAYS;
use super::sql::{Backend, Column, DbId, SqlStore, StoredTime};
use super::{now, StoreError};
use caremap_model::{FacilityId, FacilityStatus, LoadReport, ReportId};
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Encode, Executor, IntoArguments, Row as _, Type};
use uuid::Uuid;

/// The most ids of each kind of disagreement listed (the counts are complete).
const LISTED: usize = 20;

/// What `check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consistency {
    /// Idempotency records (every mutation type).
    pub mutations: u64,
    /// Stored reports.
    pub reports: u64,
    /// Live facilities, whose statuses were recomputed.
    pub facilities: u64,
    /// Load-report mutations with no report (at most [`LISTED`] ids), and how many in all.
    pub mutations_without_report: (u64, Vec<Uuid>),
    /// Reports with no mutation.
    pub reports_without_mutation: (u64, Vec<Uuid>),
    /// Live facilities whose stored status is not the one their reports give.
    pub wrong_status: (u64, Vec<FacilityId>),
}

impl Consistency {
    /// Whether nothing disagrees.
    pub fn holds(&self) -> bool {
        self.mutations_without_report.0 == 0
            && self.reports_without_mutation.0 == 0
            && self.wrong_status.0 == 0
    }
}

fn note<T>(list: &mut (u64, Vec<T>), item: T) {
    list.0 += 1;
    if list.1.len() < LISTED {
        list.1.push(item);
    }
}

impl<DB> SqlStore<DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    bool: Column<DB>,
    i64: Column<DB>,
    String: Column<DB>,
    Option<String>: Column<DB>,
    DateTime<Utc>: Column<DB>,
    DbId: Column<DB>,
    StoredTime: Column<DB>,
{
    /// Reads the database and says whether it agrees with itself (see the module's doc).
    pub(super) async fn check_consistency(&self) -> Result<Consistency, StoreError> {
        let pool = self.pool();
        let mut found = Consistency {
            mutations: count(pool, "SELECT COUNT(*) FROM mutations").await?,
            reports: count(pool, "SELECT COUNT(*) FROM reports").await?,
            ..Consistency::default()
        };
        let orphans: Vec<DbId> = sqlx::query_scalar(
            "SELECT m.id FROM mutations m WHERE m.kind = 'load_report' \
             AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.id = m.id) ORDER BY m.id",
        )
        .fetch_all(pool)
        .await?;
        for id in orphans {
            note(&mut found.mutations_without_report, id.0);
        }
        let orphans: Vec<DbId> = sqlx::query_scalar(
            "SELECT r.id FROM reports r \
             WHERE NOT EXISTS (SELECT 1 FROM mutations m WHERE m.id = r.id) ORDER BY r.id",
        )
        .fetch_all(pool)
        .await?;
        for id in orphans {
            note(&mut found.reports_without_mutation, id.0);
        }

        found.facilities = count(
            pool,
            "SELECT COUNT(*) FROM facilities WHERE deleted = FALSE",
        )
        .await?;
        // A status with no report left to give it.
        let lone: Vec<DbId> = sqlx::query_scalar(
            "SELECT f.id FROM facilities f WHERE f.deleted = FALSE AND f.status IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM reports n \
             WHERE n.facility_id = f.id AND n.superseded = FALSE) ORDER BY f.id",
        )
        .fetch_all(pool)
        .await?;
        for id in lone {
            note(&mut found.wrong_status, FacilityId::from(id));
        }
        let window_start = now() - chrono::Duration::days(STATUS_WINDOW_DAYS);
        let rows = sqlx::query(
            "SELECT f.id, f.status, r.id AS report, r.body, r.as_of, r.received_at \
             FROM facilities f JOIN reports r ON r.id = (SELECT n.id FROM reports n \
             WHERE n.facility_id = f.id AND n.superseded = FALSE \
             ORDER BY n.as_of DESC, n.received_at DESC, n.id DESC LIMIT 1) \
             WHERE f.deleted = FALSE ORDER BY f.id",
        )
        .fetch_all(pool)
        .await?;
        for row in rows {
            let facility = FacilityId::from(row.try_get::<DbId, _>("id")?);
            let stored: Option<String> = row.try_get("status")?;
            let report: DbId = row.try_get("report")?;
            let body: String = row.try_get("body")?;
            let as_of: StoredTime = row.try_get("as_of")?;
            let received: StoredTime = row.try_get("received_at")?;
            let corrupt = |detail: String| StoreError::Corrupt {
                id: report.0.to_string(),
                detail,
            };
            let parsed: LoadReport =
                serde_json::from_str(&body).map_err(|e| corrupt(format!("report: {e}")))?;
            let status = FacilityStatus::from_report(ReportId::from(report.0), &parsed, received.0);
            let expected =
                serde_json::to_value(&status).map_err(|e| corrupt(format!("status: {e}")))?;
            // Compared as values: the stored text is the writer's serialisation of the same type.
            let holds = match &stored {
                Some(text) => {
                    serde_json::from_str::<serde_json::Value>(text).ok() == Some(expected)
                }
                None => as_of.0 < window_start,
            };
            if !holds {
                note(&mut found.wrong_status, facility);
            }
        }
        Ok(found)
    }
}

async fn count<DB>(pool: &sqlx::Pool<DB>, sql: &str) -> Result<u64, StoreError>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    usize: ColumnIndex<DB::Row>,
    i64: Column<DB>,
{
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
    Ok(u64::try_from(n).unwrap_or_default())
}
