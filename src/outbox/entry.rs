//! What each report on the phone is, as the doctor's history lists it: waiting to be sent,
//! refused, held for the account that wrote it, or sent. The classification lives here, beside
//! the outbox it reads, so the page only draws it.

use crate::store::{OutboxEntry, OutboxState, ReportAuthor, SentReport};
use caremap_model::{LoadReport, ReportId};
use chrono::{DateTime, Utc};

/// Where a report on the phone stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryState {
    /// In the outbox, to be sent by the enrolled account.
    Pending,
    /// Refused by the server: waits for the doctor to fix or discard it.
    Rejected,
    /// Pending, but written by another account than the one enrolled: it waits for that one.
    Held,
    /// Acknowledged by the server.
    Sent,
}

impl EntryState {
    /// Its name in the page's markup (`data-state`, classes).
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::Rejected => "rejected",
            EntryState::Held => "held",
            EntryState::Sent => "sent",
        }
    }
}

/// One line of the history: a report waiting, refused, held for another account or sent.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryEntry {
    /// In the outbox: pending, or refused.
    Waiting(OutboxEntry),
    /// Pending, but written by an account that is not the one enrolled: it waits for that one.
    Held(OutboxEntry, ReportAuthor),
    Sent(SentReport),
}

impl HistoryEntry {
    /// What a report in the outbox is, with `enrolled` the enrolled account's id (`None`
    /// while the phone's account is not read yet: nothing is said held meanwhile).
    pub fn of_outbox(entry: OutboxEntry, enrolled: Option<Option<i64>>) -> HistoryEntry {
        let held = enrolled
            .filter(|_| entry.is_pending())
            .and_then(|enrolled| entry.held_for(enrolled).cloned());
        match held {
            Some(author) => HistoryEntry::Held(entry, author),
            None => HistoryEntry::Waiting(entry),
        }
    }

    /// The outbox and the sent reports as one history, newest first.
    pub fn history(
        outbox: &[OutboxEntry],
        sent: &[SentReport],
        enrolled: Option<Option<i64>>,
    ) -> Vec<HistoryEntry> {
        let mut entries: Vec<HistoryEntry> = outbox
            .iter()
            .cloned()
            .map(|e| HistoryEntry::of_outbox(e, enrolled))
            .chain(sent.iter().cloned().map(HistoryEntry::Sent))
            .collect();
        entries.sort_by(|a, b| {
            b.recorded_at()
                .cmp(&a.recorded_at())
                .then_with(|| b.id().cmp(&a.id()))
        });
        entries
    }

    pub fn id(&self) -> ReportId {
        match self {
            HistoryEntry::Waiting(e) | HistoryEntry::Held(e, _) => e.id,
            HistoryEntry::Sent(s) => s.id,
        }
    }

    pub fn report(&self) -> &LoadReport {
        match self {
            HistoryEntry::Waiting(e) | HistoryEntry::Held(e, _) => &e.report,
            HistoryEntry::Sent(s) => &s.report,
        }
    }

    pub fn recorded_at(&self) -> DateTime<Utc> {
        match self {
            HistoryEntry::Waiting(e) | HistoryEntry::Held(e, _) => e.recorded_at,
            HistoryEntry::Sent(s) => s.recorded_at,
        }
    }

    pub fn state(&self) -> EntryState {
        match self {
            HistoryEntry::Waiting(OutboxEntry {
                state: OutboxState::Pending,
                ..
            }) => EntryState::Pending,
            HistoryEntry::Waiting(_) => EntryState::Rejected,
            HistoryEntry::Held(..) => EntryState::Held,
            HistoryEntry::Sent(_) => EntryState::Sent,
        }
    }

    /// The account that wrote a report in the outbox (`None`: sent, or not recorded).
    pub fn writer(&self) -> Option<i64> {
        match self {
            HistoryEntry::Waiting(e) | HistoryEntry::Held(e, _) => e.account.as_ref().map(|a| a.id),
            HistoryEntry::Sent(_) => None,
        }
    }

    /// The account it waits for, when it is held.
    pub fn held_for(&self) -> Option<&ReportAuthor> {
        match self {
            HistoryEntry::Held(_, author) => Some(author),
            _ => None,
        }
    }
}

/// Pending reports in `outbox`: (those this phone may send now, or once enrolled; those held
/// for another account than `enrolled`).
pub fn pending_counts(outbox: &[OutboxEntry], enrolled: Option<i64>) -> (usize, usize) {
    outbox
        .iter()
        .filter(|e| e.is_pending())
        .fold((0, 0), |(mine, held), e| match e.held_for(enrolled) {
            Some(_) => (mine, held + 1),
            None => (mine + 1, held),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use caremap_model::{FacilityId, Lang, ReportDraft};
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0)
            .single()
            .expect("valid time")
    }

    fn entry(n: u128, hour: u32, account: Option<i64>, state: OutboxState) -> OutboxEntry {
        let report = ReportDraft {
            status: "open".into(),
            ..Default::default()
        }
        .parse(FacilityId::from(uuid::Uuid::from_u128(7)), at(hour), None)
        .expect("valid report");
        OutboxEntry {
            id: ReportId::from(uuid::Uuid::from_u128(n)),
            seq: n as u64,
            report,
            recorded_at: at(hour),
            state,
            account: account.map(|id| ReportAuthor {
                id,
                name: format!("doctor {id}"),
            }),
            mutation_json: None,
        }
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn entries_are_pending_refused_held_or_sent_newest_first() {
        let refused = OutboxState::Rejected {
            code: "forbidden_facility".into(),
            message: "no".into(),
            lang: Lang::En,
            at: at(9),
        };
        let outbox = [
            entry(1, 8, Some(1), OutboxState::Pending),
            entry(2, 9, Some(2), OutboxState::Pending),
            entry(3, 10, None, OutboxState::Pending),
            entry(4, 11, Some(2), refused),
        ];
        let sent = [SentReport {
            id: ReportId::from(uuid::Uuid::from_u128(5)),
            report: outbox[0].report.clone(),
            recorded_at: at(7),
            sent_at: at(7),
        }];
        let history = HistoryEntry::history(&outbox, &sent, Some(Some(1)));
        let states: Vec<&str> = history.iter().map(|e| e.state().as_str()).collect();
        assert_eq!(states, ["rejected", "pending", "held", "pending", "sent"]);
        assert_eq!(history[2].held_for().map(|a| a.id), Some(2));
        assert_eq!(history[0].writer(), Some(2));
        // While the account is not read yet, nothing is said held.
        let unknown = HistoryEntry::history(&outbox, &sent, None);
        assert!(unknown.iter().all(|e| e.state() != EntryState::Held));
        assert_eq!(pending_counts(&outbox, Some(1)), (2, 1));
        // Signed out: every report with a writer waits for it.
        assert_eq!(pending_counts(&outbox, None), (1, 2));
    }
}
