//! The history of the doctor's reports on this phone, newest first: waiting, refused (with the
//! server's reason, to fix or discard), held for the account that wrote it, or sent (to
//! correct). What each report is comes from [`crate::outbox::HistoryEntry`].

use super::{facility_name, field_label, time_text};
use crate::browser::confirm;
use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang, Lang};
use crate::outbox::{
    reason_in, AccountState, EntryState, FormMode, FormState, HistoryEntry, Reporting,
};
use crate::registry::Registry;
use crate::store::{OutboxEntry, OutboxState};
use caremap_model::{Field, LoadReport, ReportDraft};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The main figures of a report in one line.
fn figures(report: &LoadReport, lang: Lang) -> String {
    let mut parts = vec![report.status.label(lang).to_owned()];
    let mut figure = |field: Field, value: Option<u32>| {
        if let Some(n) = value {
            parts.push(format!(
                "{}{}{n}",
                field_label(field, lang),
                td_string!(locale_of(lang), label_separator)
            ));
        }
    };
    figure(Field::OutpatientsToday, report.outpatients_today);
    figure(Field::FeverPatientsToday, report.fever_patients_today);
    figure(Field::WaitMinutes, report.wait_minutes);
    figure(Field::DoctorsOnDuty, report.doctors_on_duty);
    for (item, level) in report.shortages() {
        parts.push(format!("{}{}", item.label(lang), level.label(lang)));
    }
    parts.join(" · ")
}

/// Every report on the phone, newest first.
#[component]
pub(super) fn ReportHistory() -> impl IntoView {
    let i18n = use_i18n();
    let reporting = Reporting::expect();
    let items = Memo::new(move |_| {
        let enrolled = reporting.account.with(|a| match a {
            AccountState::Loading => None,
            _ => Some(a.record().map(|r| r.account.id)),
        });
        reporting.outbox.with(|o| {
            reporting
                .sent
                .with(|s| HistoryEntry::history(o, s, enrolled))
        })
    });
    view! {
        <section class="report-history" data-testid="report-history">
            <h2>{t!(i18n, report_history_title)}</h2>
            <Show
                when=move || items.with(|i| !i.is_empty())
                fallback=move || view! { <p class="muted">{t!(i18n, report_history_empty)}</p> }
            >
                <ul class="history-list">
                    <For each=move || items.get() key=|item| (item.id(), item.state()) let:item>
                        <HistoryItem item />
                    </For>
                </ul>
            </Show>
        </section>
    }
}

#[component]
fn HistoryItem(item: HistoryEntry) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let reporting = Reporting::expect();
    let registry = Registry::expect();
    let id = item.id();
    let state = item.state();
    let report = item.report().clone();
    let recorded_at = item.recorded_at();
    let facility = report.facility;
    let supersedes = report.supersedes;
    let report = StoredValue::new(report);
    let corrected = move || {
        reporting
            .sent
            .with(|s| s.iter().any(|r| r.report.supersedes == Some(id)))
            || reporting
                .outbox
                .with(|o| o.iter().any(|e| e.report.supersedes == Some(id)))
    };
    // Whose report it is, when it waits for an account that is not the one enrolled.
    let held_by = item.held_for().map(|author| author.name.clone());
    // The account that wrote it, for a report in the outbox (`None`: not recorded).
    let writer = item.writer();
    let badge = {
        let held_by = held_by.clone().unwrap_or_default();
        move || match state {
            EntryState::Pending => td_string!(i18n.get_locale(), report_state_pending).to_string(),
            EntryState::Rejected => {
                td_string!(i18n.get_locale(), report_state_rejected).to_string()
            }
            EntryState::Held => {
                td_string!(i18n.get_locale(), report_state_held, name = held_by.clone()).to_string()
            }
            EntryState::Sent => td_string!(i18n.get_locale(), report_state_sent).to_string(),
        }
    };
    let reason = match &item {
        HistoryEntry::Waiting(OutboxEntry {
            state:
                OutboxState::Rejected {
                    code,
                    message,
                    lang: message_lang,
                    ..
                },
            ..
        }) => {
            let (code, message, message_lang) = (code.clone(), message.clone(), *message_lang);
            Some(move || reason_in(&code, &message, message_lang, lang.get()))
        }
        _ => None,
    };
    let edit = move |mode: FormMode| {
        reporting.form.set(FormState {
            facility: Some(facility),
            draft: report.with_value(ReportDraft::from_report),
            mode,
        });
        request_animation_frame(|| {
            if let Some(form) = document().get_element_by_id("report-form") {
                form.scroll_into_view();
            }
        });
    };
    let fix = move |_| {
        edit(FormMode::Fix {
            replacing: id,
            supersedes,
        })
    };
    let correct = move |_| {
        edit(FormMode::Correct {
            supersedes: id,
            as_of: report.with_value(|r| r.as_of),
        })
    };
    let discard = move |_| {
        let question = td_string!(i18n.get_locale_untracked(), discard_confirm);
        if confirm(question) {
            spawn_local(async move {
                if let Err(err) = reporting.discard(id).await {
                    reporting.store_problem.set(Some(err));
                }
            });
        }
    };
    let enrolled = move || reporting.account.with(|a| a.active().is_some());
    // A refused report is fixed only by the account that wrote it (a fix is sent as its own).
    let may_fix = move || {
        enrolled()
            && reporting
                .enrolled_id()
                .is_some_and(|id| writer.is_none_or(|w| w == id))
    };
    view! {
        <li class=format!("history-item history-{}", state.as_str()) data-testid="report-entry" data-state=state.as_str() data-id=id.to_string()>
            <p class="history-head">
                <span class=format!("state-badge state-{}", state.as_str())>{badge}</span>
                " "
                <strong>{move || facility_name(registry, facility, lang.get())}</strong>
                " · "
                <time datetime=recorded_at.to_rfc3339()>{move || time_text(recorded_at, lang.get())}</time>
            </p>
            <p class="history-figures">{move || report.with_value(|r| figures(r, lang.get()))}</p>
            {supersedes
                .map(|_| view! { <p class="muted">{t!(i18n, report_is_correction)}</p> })}
            {reason
                .map(|reason| {
                    view! {
                        <p class="history-reason" data-testid="reject-reason">
                            <strong>{t!(i18n, report_reason)}</strong>
                            {reason}
                        </p>
                        <div class="history-actions">
                            <Show when=may_fix>
                                <button type="button" class="button" data-testid="fix" on:click=fix>
                                    {t!(i18n, report_fix)}
                                </button>
                            </Show>
                            <button type="button" class="button button-secondary" data-testid="discard" on:click=discard>
                                {t!(i18n, report_discard)}
                            </button>
                        </div>
                    }
                })}
            {held_by
                .map(|name| {
                    view! {
                        <p class="history-held" data-testid="held-note">
                            {move || {
                                td_string!(i18n.get_locale(), report_held_note, name = name.clone())
                                    .to_string()
                            }}
                        </p>
                        <div class="history-actions">
                            <button type="button" class="button button-secondary" data-testid="discard" on:click=discard>
                                {t!(i18n, report_discard)}
                            </button>
                        </div>
                    }
                })}
            {(state == EntryState::Sent)
                .then(|| {
                    view! {
                        <Show
                            when=corrected
                            fallback=move || {
                                view! {
                                    <Show when=enrolled>
                                        <div class="history-actions">
                                            <button type="button" class="button button-secondary" data-testid="correct" on:click=correct>
                                                {t!(i18n, report_correct)}
                                            </button>
                                        </div>
                                    </Show>
                                }
                            }
                        >
                            <p class="muted" data-testid="corrected">{t!(i18n, report_corrected)}</p>
                        </Show>
                    }
                })}
        </li>
    }
}
