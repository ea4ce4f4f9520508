//! The report form: the facility (picked when the account has several), the reported state,
//! the day's counts, the stock and a note, each field with its error beside it; also the form's
//! modes, fixing a refused report or correcting a sent one.

mod fields;

use super::{facility_name, field_label, time_text};
use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang};
use crate::outbox::{report_store_message, FormMode, FormState, Reporting};
use crate::registry::Registry;
use caremap_model::report::DraftField;
use caremap_model::{
    FacilityId, Field, LoadReport, ReportDraft, ReportId, ReportedStatus, StockItem,
    ValidationError,
};
use chrono::{DateTime, Utc};
use fields::{error_of, NumberField, StockRow, Text};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The report form: facility, reported state, counts, stock and a note.
#[component]
pub(super) fn ReportForm() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let reporting = Reporting::expect();
    let registry = Registry::expect();
    let errors = RwSignal::new(Vec::<(DraftField, ValidationError)>::new());
    let general_error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);
    // Once the doctor has tried to save, errors follow the typing.
    let tried = RwSignal::new(false);

    let scope = Memo::new(move |_| {
        reporting
            .account
            .with(|a| a.record().map(|r| r.account.scope.facilities.clone()))
            .unwrap_or_default()
    });
    // One facility: chosen already. Several: the doctor picks (the last one stays picked).
    Effect::new(move |_| {
        let scope = scope.get();
        let chosen = reporting.form.with_untracked(|f| f.facility);
        if chosen.is_none_or(|c| !scope.contains(&c)) && scope.len() == 1 {
            reporting
                .form
                .update(|f| f.facility = scope.first().copied());
        }
    });

    let check = move |state: &FormState, now: DateTime<Utc>| -> Result<LoadReport, ()> {
        let lang = lang.get_untracked();
        let (as_of, supersedes) = match state.mode {
            FormMode::New => (now, None),
            FormMode::Fix { supersedes, .. } => (now, supersedes),
            FormMode::Correct { supersedes, as_of } => (as_of, Some(supersedes)),
        };
        let facility = state
            .facility
            .filter(|f| scope.with_untracked(|s| s.contains(f)));
        let parsed = match facility {
            Some(facility) => state.draft.parse(facility, as_of, supersedes),
            None => {
                // Everything else is still checked, against a placeholder facility.
                let placeholder = FacilityId::from(ReportId::new_v7().as_uuid());
                let mut errs = state
                    .draft
                    .parse(placeholder, as_of, supersedes)
                    .err()
                    .unwrap_or_default();
                errs.insert(
                    0,
                    (
                        DraftField::Report(Field::Facility),
                        ValidationError::Required {
                            field: Field::Facility,
                        },
                    ),
                );
                Err(errs)
            }
        };
        match parsed {
            Ok(report) => {
                errors.set(Vec::new());
                if let Err(err) = report.check_time(now) {
                    general_error.set(Some(err.message(lang)));
                    return Err(());
                }
                general_error.set(None);
                Ok(report)
            }
            Err(errs) => {
                errors.set(errs);
                Err(())
            }
        }
    };

    Effect::new(move |_| {
        let state = reporting.form.get();
        if tried.get_untracked() {
            let _ = check(&state, Utc::now());
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        tried.set(true);
        saved.set(false);
        let state = reporting.form.get_untracked();
        let now = Utc::now();
        let Ok(report) = check(&state, now) else {
            focus_first_invalid();
            return;
        };
        let replacing = match state.mode {
            FormMode::Fix { replacing, .. } => Some(replacing),
            _ => None,
        };
        busy.set(true);
        spawn_local(async move {
            let result = reporting
                .submit(ReportId::new_v7(), report, now, replacing)
                .await;
            busy.set(false);
            match result {
                Ok(()) => {
                    tried.set(false);
                    errors.set(Vec::new());
                    reporting.form.update(|f| {
                        f.draft = ReportDraft::default();
                        f.mode = FormMode::New;
                    });
                    saved.set(true);
                }
                Err(err) => {
                    general_error.set(Some(report_store_message(&err, lang.get_untracked())));
                }
            }
        });
    };

    let facility_error =
        move || errors.with(|e| error_of(e, DraftField::Report(Field::Facility), lang.get()));
    let facility_picker = move || {
        let ids = scope.get();
        match ids.len() {
            0 => view! {
                <p class="notice notice-error" data-testid="no-facilities">{t!(i18n, report_no_facilities)}</p>
            }
            .into_any(),
            1 => {
                let id = ids[0];
                view! {
                    <p class="report-facility" data-testid="report-facility">
                        <span class="muted">{move || field_label(Field::Facility, lang.get())}</span>
                        " "
                        <strong>{move || facility_name(registry, id, lang.get())}</strong>
                    </p>
                }
                .into_any()
            }
            _ => view! {
                <fieldset
                    class="choice-group"
                    data-testid="report-facility-picker"
                    aria-describedby="report-facility-error"
                    aria-invalid=move || facility_error().is_some().to_string()
                >
                    <legend>{move || field_label(Field::Facility, lang.get())}</legend>
                    {ids
                        .into_iter()
                        .map(|id| {
                            view! {
                                <label class="choice">
                                    <input
                                        type="radio"
                                        name="report-facility"
                                        prop:checked=move || reporting.form.with(|f| f.facility == Some(id))
                                        on:change=move |_| reporting.form.update(|f| f.facility = Some(id))
                                    />
                                    <span>{move || facility_name(registry, id, lang.get())}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                    <p id="report-facility-error" class="field-error" aria-live="polite">{facility_error}</p>
                </fieldset>
            }
            .into_any(),
        }
    };

    let status_error =
        move || errors.with(|e| error_of(e, DraftField::Report(Field::ReportStatus), lang.get()));
    let note_error =
        move || errors.with(|e| error_of(e, DraftField::Report(Field::Note), lang.get()));
    let mode_banner = move || {
        let mode = reporting.form.with(|f| f.mode);
        let cancel = move |_| {
            reporting.form.update(|f| {
                f.mode = FormMode::New;
                f.draft = ReportDraft::default();
            });
            errors.set(Vec::new());
            tried.set(false);
        };
        match mode {
            FormMode::New => None,
            FormMode::Fix { .. } => Some(
                view! {
                    <div class="notice notice-mode" data-testid="form-mode" data-mode="fix">
                        <p>{t!(i18n, report_fixing)}</p>
                        <button type="button" class="button button-secondary" on:click=cancel>
                            {t!(i18n, report_cancel_edit)}
                        </button>
                    </div>
                }
                .into_any(),
            ),
            FormMode::Correct { as_of, .. } => Some(
                view! {
                    <div class="notice notice-mode" data-testid="form-mode" data-mode="correct">
                        <p>
                            {move || {
                                let lang = lang.get();
                                td_string!(locale_of(lang), report_correcting, time = time_text(as_of, lang))
                                    .to_string()
                            }}
                        </p>
                        <button type="button" class="button button-secondary" on:click=cancel>
                            {t!(i18n, report_cancel_edit)}
                        </button>
                    </div>
                }
                .into_any(),
            ),
        }
    };

    view! {
        <form id="report-form" class="report-card report-form" data-testid="report-form" on:submit=submit novalidate>
            <h2>{t!(i18n, report_form_title)}</h2>
            // Who sees what: everything but the note is on the facility's public page.
            <p class="audience audience-public" data-testid="report-audience-public">
                {t!(i18n, report_audience_public)}
            </p>
            {mode_banner}
            {facility_picker}
            <fieldset
                class="choice-group status-group"
                aria-describedby="report-status-error"
                aria-invalid=move || status_error().is_some().to_string()
            >
                <legend>{move || field_label(Field::ReportStatus, lang.get())}</legend>
                {ReportedStatus::ALL
                    .iter()
                    .map(|status| {
                        let status = *status;
                        view! {
                            <label class=format!("choice choice-status choice-{}", status.as_str())>
                                <input
                                    type="radio"
                                    name="report-status"
                                    data-testid=format!("report-status-{}", status.as_str())
                                    value=status.as_str()
                                    prop:checked=move || reporting.form.with(|f| f.draft.status == status.as_str())
                                    on:change=move |_| reporting.form.update(|f| f.draft.status = status.as_str().to_owned())
                                />
                                <span>{move || status.label(lang.get())}</span>
                            </label>
                        }
                    })
                    .collect_view()}
                <p id="report-status-error" class="field-error" aria-live="polite">{status_error}</p>
            </fieldset>
            <div class="number-grid">
                <NumberField text=Text::Outpatients errors />
                <NumberField text=Text::Fever errors />
                <NumberField text=Text::Wait errors />
                <NumberField text=Text::Doctors errors />
            </div>
            <h3>{t!(i18n, report_stock)}</h3>
            {StockItem::ALL.iter().map(|item| view! { <StockRow item=*item errors /> }).collect_view()}
            <div class="form-field">
                <label for="report-note">{move || field_label(Field::Note, lang.get())}</label>
                <p id="report-note-audience" class="audience audience-private" data-testid="report-audience-note">
                    {t!(i18n, report_audience_note)}
                </p>
                <textarea
                    id="report-note"
                    class="big-input"
                    data-testid="report-note"
                    rows="3"
                    aria-invalid=move || note_error().is_some().to_string()
                    aria-describedby="report-note-audience report-note-error"
                    prop:value=move || reporting.form.with(|f| f.draft.note.clone())
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        reporting.form.update(|f| f.draft.note = value);
                    }
                ></textarea>
                <p id="report-note-error" class="field-error" aria-live="polite">{note_error}</p>
            </div>
            {move || {
                general_error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="notice notice-error" role="alert" data-testid="report-error">
                                {message}
                            </p>
                        }
                    })
            }}
            <Show when=move || saved.get()>
                <p class="notice notice-saved" role="status" data-testid="report-saved">
                    {t!(i18n, report_saved)}
                </p>
            </Show>
            <button type="submit" class="button big-button" data-testid="report-submit" disabled=move || busy.get()>
                {t!(i18n, report_submit)}
            </button>
        </form>
    }
}

/// Puts the focus on the first field marked invalid, so the doctor sees what to fix.
fn focus_first_invalid() {
    // After the errors are drawn.
    request_animation_frame(|| {
        let found = document()
            .query_selector("#report-form [aria-invalid=true]")
            .ok()
            .flatten();
        if let Some(element) = found {
            element.scroll_into_view();
            if let Ok(input) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element) {
                let _ = input.focus();
            }
        }
    });
}
