//! The village doctor's page (`/report`): enrolling this phone with the code the health office
//! gave, the account and its facilities, the report form, the outbox's status and the history
//! of the doctor's reports on this phone (waiting, refused, sent, or held for the account that
//! wrote them when another is enrolled).
//!
//! The form is checked with the model's [`ReportDraft::parse`], the same rules the server
//! applies, each error shown beside its field; nothing typed is lost. A saved report goes to
//! the outbox in IndexedDB first and is shown at once as waiting; the sender
//! ([`crate::outbox`]) sends it when it can.

use crate::i18n::{t, td_string, use_i18n, use_lang, Lang};
use crate::outbox::{
    reason_in, report_store_message, AccountState, FormMode, FormState, Reporting, SenderPhase,
};
use crate::registry::Registry;
use crate::store::{OutboxEntry, OutboxState, ReportAuthor, SentReport};
use caremap_model::report::DraftField;
use caremap_model::{
    EnrollmentCode, FacilityId, Field, LoadReport, ReportDraft, ReportId, ReportedStatus,
    StockItem, StockLevel, ValidationError,
};
use chrono::{DateTime, Datelike, Local, Timelike, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// A field's label as a heading: the model's words, capitalised in English.
fn field_label(field: Field, lang: Lang) -> String {
    let label = field.label(lang);
    let mut chars = label.chars();
    match (lang, chars.next()) {
        (Lang::En, Some(first)) => first.to_uppercase().chain(chars).collect(),
        _ => label.to_owned(),
    }
}

/// A time on the phone's clock: "11月29日 08:05" / "29 Nov 08:05".
pub fn time_text(at: DateTime<Utc>, lang: Lang) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let local = at.with_timezone(&Local);
    let (h, m) = (local.hour(), local.minute());
    match lang {
        Lang::Zh => format!("{}月{}日 {h:02}:{m:02}", local.month(), local.day()),
        Lang::En => format!(
            "{} {} {h:02}:{m:02}",
            local.day(),
            MONTHS[local.month0() as usize % 12]
        ),
    }
}

/// A facility's name from the phone's registry, or a short form of its id when the registry
/// does not have it (yet).
fn facility_name(registry: Registry, id: FacilityId, lang: Lang) -> String {
    registry.facilities.with(|f| {
        f.get(id)
            .map(|f| f.name.display(lang).to_owned())
            .unwrap_or_else(|| {
                let short: String = id.to_string().chars().take(8).collect();
                match lang {
                    Lang::Zh => format!("机构 {short}…"),
                    Lang::En => format!("Facility {short}…"),
                }
            })
    })
}

fn confirm(message: &str) -> bool {
    window().confirm_with_message(message).unwrap_or(false)
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let reporting = Reporting::expect();
    // Which part shows: changes only when the account does, so typing is never re-rendered.
    let mode = Memo::new(move |_| {
        reporting.account.with(|a| match a {
            AccountState::Loading => 0u8,
            AccountState::None => 1,
            AccountState::Enrolled(r) if r.revoked => 2,
            AccountState::Enrolled(_) => 3,
        })
    });
    let store_problem = move || {
        reporting
            .store_problem
            .get()
            .map(|err| report_store_message(&err, lang.get()))
    };
    view! {
        <main class="page report-page" data-testid="report-page">
            <h1>{t!(i18n, report_title)}</h1>
            {move || {
                store_problem()
                    .map(|message| {
                        view! {
                            <p class="notice notice-error" role="alert" data-testid="report-store-problem">
                                {message}
                            </p>
                        }
                    })
            }}
            {move || match mode.get() {
                0 => view! { <p class="notice" role="status">{t!(i18n, loading)}</p> }.into_any(),
                1 => view! { <EnrollForm /> }.into_any(),
                2 => view! {
                    <div class="notice notice-error" role="alert" data-testid="revoked">
                        <p><strong>{t!(i18n, report_revoked_title)}</strong></p>
                        <p>{t!(i18n, report_revoked_text)}</p>
                    </div>
                    <EnrollForm />
                }
                .into_any(),
                _ => view! {
                    <AccountCard />
                    <ReportForm />
                }
                .into_any(),
            }}
            // Said once there is something to say: reports waiting, or sent from this phone.
            <Show when=move || {
                reporting.outbox.with(|o| !o.is_empty()) || reporting.sent.with(|s| !s.is_empty())
            }>
                <OutboxStatus />
            </Show>
            <ReportHistory />
        </main>
    }
}

#[component]
fn EnrollForm() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let reporting = Reporting::expect();
    let code = RwSignal::new(String::new());
    let device = RwSignal::new(String::new());
    // The code's error: the model's refusal of its shape, or the server's of the code.
    let code_error = RwSignal::new(None::<String>);
    let general_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let lang = lang.get_untracked();
        general_error.set(None);
        let parsed = match EnrollmentCode::parse(&code.get_untracked()) {
            Ok(parsed) => parsed,
            Err(err) => {
                code_error.set(Some(err.message(lang)));
                return;
            }
        };
        code_error.set(None);
        let device = Some(device.get_untracked().trim().to_owned()).filter(|d| !d.is_empty());
        busy.set(true);
        spawn_local(async move {
            let result = reporting.enroll(parsed, device).await;
            busy.set(false);
            match result {
                Ok(()) => {}
                Err(crate::outbox::EnrollError::Refused { code, message })
                    if code == "invalid_enrollment_code" || code == "enrollment_failed" =>
                {
                    code_error.set(Some(message));
                }
                Err(err) => general_error.set(Some(err.user_message(lang))),
            }
        });
    };
    let invalid = move || code_error.with(Option::is_some).to_string();
    view! {
        <form class="report-card enroll-form" data-testid="enroll-form" on:submit=submit novalidate>
            <h2>{t!(i18n, enroll_title)}</h2>
            <p>{t!(i18n, enroll_intro)}</p>
            <div class="form-field">
                <label for="enroll-code">{move || field_label(Field::EnrollmentCode, lang.get())}</label>
                <input
                    id="enroll-code"
                    class="big-input code-input"
                    data-testid="enroll-code"
                    type="text"
                    autocomplete="one-time-code"
                    autocapitalize="characters"
                    spellcheck="false"
                    placeholder="ABCD-EFGH-JKMN"
                    aria-invalid=invalid
                    aria-describedby="enroll-code-error"
                    prop:value=move || code.get()
                    on:input=move |ev| code.set(event_target_value(&ev))
                />
                <p id="enroll-code-error" class="field-error" data-testid="enroll-code-error" aria-live="polite">
                    {move || code_error.get()}
                </p>
            </div>
            <div class="form-field">
                <label for="enroll-device">{t!(i18n, enroll_device)}</label>
                <input
                    id="enroll-device"
                    class="big-input"
                    data-testid="enroll-device"
                    type="text"
                    maxlength="60"
                    prop:value=move || device.get()
                    on:input=move |ev| device.set(event_target_value(&ev))
                />
            </div>
            {move || {
                general_error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="notice notice-error" role="alert" data-testid="enroll-error">
                                {message}
                            </p>
                        }
                    })
            }}
            <button type="submit" class="button big-button" data-testid="enroll-submit" disabled=move || busy.get()>
                {move || {
                    if busy.get() {
                        td_string!(i18n.get_locale(), enroll_busy).to_string()
                    } else {
                        td_string!(i18n.get_locale(), enroll_submit).to_string()
                    }
                }}
            </button>
        </form>
    }
}

#[component]
fn AccountCard() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let reporting = Reporting::expect();
    let registry = Registry::expect();
    let record = move || reporting.account.with(|a| a.record().cloned());
    let name = move || record().map(|r| r.account.name).unwrap_or_default();
    let role = move || {
        record()
            .map(|r| r.account.role.label(lang.get()))
            .unwrap_or_default()
    };
    let facilities = move || {
        record()
            .map(|r| r.account.scope.facilities)
            .unwrap_or_default()
            .into_iter()
            .map(|id| view! { <li>{move || facility_name(registry, id, lang.get())}</li> })
            .collect_view()
    };
    let sign_out = move |_| {
        let locale = i18n.get_locale_untracked();
        // This account's unsent reports (refused ones included): they stay, held for it.
        let unsent = untrack(move || reporting.unsent());
        let question = if unsent > 0 {
            let name = untrack(name);
            td_string!(
                locale,
                sign_out_unsent_confirm,
                count = unsent.to_string(),
                name = name
            )
            .to_string()
        } else {
            td_string!(locale, sign_out_confirm).to_string()
        };
        if confirm(&question) {
            spawn_local(async move {
                if let Err(err) = reporting.sign_out().await {
                    reporting.store_problem.set(Some(err));
                }
            });
        }
    };
    view! {
        <section class="report-card account-card" data-testid="account-card">
            <p class="account-name">
                <strong data-testid="account-name">{name}</strong>
                " · "
                <span data-testid="account-role">{role}</span>
            </p>
            <p class="muted">{t!(i18n, account_facilities)}</p>
            <ul class="account-facilities" data-testid="account-facilities">
                {facilities}
            </ul>
            <button type="button" class="button button-secondary" data-testid="sign-out" on:click=sign_out>
                {t!(i18n, sign_out)}
            </button>
        </section>
    }
}

/// The error of one form field, in the interface language.
fn error_of(
    errors: &[(DraftField, ValidationError)],
    at: DraftField,
    lang: Lang,
) -> Option<String> {
    let messages: Vec<String> = errors
        .iter()
        .filter(|(field, _)| *field == at)
        .map(|(_, err)| err.message(lang))
        .collect();
    (!messages.is_empty()).then(|| messages.join(" "))
}

/// The element id of a form field (and, with `-error`, of its error).
fn field_id(at: DraftField) -> String {
    match at {
        DraftField::Report(field) => format!("report-{}", report_field_key(field)),
        DraftField::Stock(item, field) => {
            format!("report-stock-{}-{}", item.as_str(), report_field_key(field))
        }
    }
}

fn report_field_key(field: Field) -> &'static str {
    match field {
        Field::ReportStatus => "status",
        Field::OutpatientsToday => "outpatients",
        Field::FeverPatientsToday => "fever",
        Field::WaitMinutes => "wait",
        Field::DoctorsOnDuty => "doctors",
        Field::StockCount => "count",
        Field::StockDailyNeed => "need",
        Field::Note => "note",
        Field::Facility => "facility",
        _ => "other",
    }
}

/// One of the form's text fields: which part of the draft it edits.
#[derive(Clone, Copy)]
enum Text {
    Outpatients,
    Fever,
    Wait,
    Doctors,
    StockCount(StockItem),
    StockNeed(StockItem),
}

impl Text {
    fn get(self, draft: &ReportDraft) -> String {
        match self {
            Text::Outpatients => draft.outpatients_today.clone(),
            Text::Fever => draft.fever_patients_today.clone(),
            Text::Wait => draft.wait_minutes.clone(),
            Text::Doctors => draft.doctors_on_duty.clone(),
            Text::StockCount(item) => draft
                .stock
                .get(&item)
                .map(|s| s.count.clone())
                .unwrap_or_default(),
            Text::StockNeed(item) => draft
                .stock
                .get(&item)
                .map(|s| s.daily_need.clone())
                .unwrap_or_default(),
        }
    }

    fn set(self, draft: &mut ReportDraft, value: String) {
        match self {
            Text::Outpatients => draft.outpatients_today = value,
            Text::Fever => draft.fever_patients_today = value,
            Text::Wait => draft.wait_minutes = value,
            Text::Doctors => draft.doctors_on_duty = value,
            Text::StockCount(item) => draft.stock.entry(item).or_default().count = value,
            Text::StockNeed(item) => draft.stock.entry(item).or_default().daily_need = value,
        }
    }

    fn at(self) -> DraftField {
        match self {
            Text::Outpatients => DraftField::Report(Field::OutpatientsToday),
            Text::Fever => DraftField::Report(Field::FeverPatientsToday),
            Text::Wait => DraftField::Report(Field::WaitMinutes),
            Text::Doctors => DraftField::Report(Field::DoctorsOnDuty),
            Text::StockCount(item) => DraftField::Stock(item, Field::StockCount),
            Text::StockNeed(item) => DraftField::Stock(item, Field::StockDailyNeed),
        }
    }
}

/// A whole-number field with a numeric keyboard, its label and its error beside it.
#[component]
fn NumberField(text: Text, errors: RwSignal<Vec<(DraftField, ValidationError)>>) -> impl IntoView {
    let lang = use_lang();
    let reporting = Reporting::expect();
    let at = text.at();
    let id = field_id(at);
    let error_id = format!("{id}-error");
    let label_field = match at {
        DraftField::Report(field) | DraftField::Stock(_, field) => field,
    };
    let error = move || errors.with(|e| error_of(e, at, lang.get()));
    view! {
        <div class="form-field">
            <label for=id.clone()>{move || field_label(label_field, lang.get())}</label>
            <input
                id=id.clone()
                class="big-input number-input"
                data-testid=id
                type="text"
                inputmode="numeric"
                pattern="[0-9]*"
                autocomplete="off"
                aria-invalid=move || error().is_some().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || reporting.form.with(|f| text.get(&f.draft))
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    reporting.form.update(|f| text.set(&mut f.draft, value));
                }
            />
            <p id=error_id class="field-error" aria-live="polite">{error}</p>
        </div>
    }
}

#[component]
fn ReportForm() -> impl IntoView {
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
                            {move || match lang.get() {
                                Lang::Zh => format!("正在更正 {} 的报告：发送后将替代原报告。", time_text(as_of, Lang::Zh)),
                                Lang::En => format!("Correcting the report of {}: once sent it replaces it.", time_text(as_of, Lang::En)),
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
                <textarea
                    id="report-note"
                    class="big-input"
                    data-testid="report-note"
                    rows="3"
                    aria-invalid=move || note_error().is_some().to_string()
                    aria-describedby="report-note-error"
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

#[component]
fn StockRow(
    item: StockItem,
    errors: RwSignal<Vec<(DraftField, ValidationError)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let reporting = Reporting::expect();
    let level = move || {
        reporting.form.with(|f| {
            f.draft
                .stock
                .get(&item)
                .map(|s| s.level.clone())
                .unwrap_or_default()
        })
    };
    let set_level = move |value: &str| {
        let value = value.to_owned();
        reporting
            .form
            .update(|f| f.draft.stock.entry(item).or_default().level = value);
    };
    let choices: Vec<(&'static str, Option<StockLevel>)> = std::iter::once(("", None))
        .chain(StockLevel::ALL.iter().map(|l| (l.as_str(), Some(*l))))
        .collect();
    let name = format!("report-stock-{}", item.as_str());
    view! {
        <fieldset class="stock-row" data-testid=format!("stock-{}", item.as_str())>
            <legend>{move || item.label(lang.get())}</legend>
            <div class="choice-row">
                {choices
                    .into_iter()
                    .map(|(wire, level_choice)| {
                        let name = name.clone();
                        view! {
                            <label class=format!("choice choice-small choice-level-{}", if wire.is_empty() { "none" } else { wire })>
                                <input
                                    type="radio"
                                    name=name
                                    value=wire
                                    data-testid=format!("stock-{}-{}", item.as_str(), if wire.is_empty() { "none" } else { wire })
                                    prop:checked=move || level() == wire
                                    on:change=move |_| set_level(wire)
                                />
                                <span>
                                    {move || match level_choice {
                                        Some(l) => l.label(lang.get()).to_owned(),
                                        None => td_string!(i18n.get_locale(), stock_not_reported).to_string(),
                                    }}
                                </span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            <div class="number-grid">
                <NumberField text=Text::StockCount(item) errors />
                <NumberField text=Text::StockNeed(item) errors />
            </div>
        </fieldset>
    }
}

#[component]
fn OutboxStatus() -> impl IntoView {
    let lang = use_lang();
    let reporting = Reporting::expect();
    let i18n = use_i18n();
    // Pending reports held for another account (`true`), or that this phone may send now, or
    // once enrolled (`false`).
    let pending_held = move |held: bool| {
        let enrolled = reporting.enrolled_id();
        reporting.outbox.with(|o| {
            o.iter()
                .filter(|e| e.is_pending() && e.held_for(enrolled).is_some() == held)
                .count()
        })
    };
    let pending = move || pending_held(false);
    let held = move || pending_held(true);
    let state = move || reporting.phase.with(|p| p.as_str());
    let held_text = move || {
        let held = held();
        (held > 0).then(|| {
            td_string!(
                i18n.get_locale(),
                report_held_count,
                count = held.to_string()
            )
            .to_string()
        })
    };
    let text = move || {
        let lang = lang.get();
        let n = pending();
        let waiting = match lang {
            Lang::Zh => format!("{n} 份报告等待发送"),
            Lang::En if n == 1 => "1 report waiting to be sent".to_owned(),
            Lang::En => format!("{n} reports waiting to be sent"),
        };
        reporting.phase.with(|p| match p {
            SenderPhase::Revoked => lang
                .pick(
                    "这部手机已被撤销，报告暂不能发送，仍保存在手机上。",
                    "This phone was revoked: reports cannot be sent for now and stay on the phone.",
                )
                .to_owned(),
            // Only reports held for another account: the line about them says it all.
            _ if n == 0 && held() > 0 => String::new(),
            _ if n == 0 => lang
                .pick("所有报告都已发送。", "Every report has been sent.")
                .to_owned(),
            SenderPhase::Sending => match lang {
                Lang::Zh => format!("正在发送… {waiting}"),
                Lang::En => format!("Sending… {waiting}"),
            },
            SenderPhase::Offline => match lang {
                Lang::Zh => format!("离线：{waiting}，联网后自动发送。"),
                Lang::En => format!("Offline: {waiting}; they go when the network is back."),
            },
            SenderPhase::Retrying(err) => match lang {
                Lang::Zh => format!("{waiting}。{} 稍后自动重试。", err.user_message(lang)),
                Lang::En => format!("{waiting}. {} Retrying by itself.", err.user_message(lang)),
            },
            SenderPhase::Failed(err) => format!("{waiting}. {}", err.user_message(lang)),
            SenderPhase::Idle => match reporting.account.with(|a| a.active().is_some()) {
                true => waiting,
                false => match lang {
                    Lang::Zh => format!("{waiting}：请先登记这部手机。"),
                    Lang::En => format!("{waiting}: enroll this phone first."),
                },
            },
        })
    };
    let can_send = move || {
        pending() > 0
            && reporting.account.with(|a| a.active().is_some())
            && reporting
                .phase
                .with(|p| !matches!(p, SenderPhase::Sending | SenderPhase::Revoked))
    };
    view! {
        <div class="outbox-status" data-testid="outbox-status" data-state=state data-pending=move || pending().to_string() role="status">
            <span class="outbox-text">{text}</span>
            {move || held_text().map(|t| view! { " " <span class="outbox-held" data-testid="outbox-held">{t}</span> })}
            <Show when=can_send>
                <button type="button" class="button button-small" data-testid="send-now" on:click=move |_| reporting.send_now()>
                    {move || lang.get().pick("立即发送", "Send now")}
                </button>
            </Show>
        </div>
    }
}

/// One line of the history: a report waiting, refused, held for another account or sent.
#[derive(Clone, PartialEq)]
enum Item {
    /// In the outbox: pending, or refused.
    Waiting(OutboxEntry),
    /// Pending, but written by an account that is not the one enrolled: it waits for that one.
    Held(OutboxEntry, ReportAuthor),
    Sent(SentReport),
}

impl Item {
    /// What a report in the outbox is, with `enrolled` the enrolled account's id (`None`
    /// while the phone's account is not read yet: nothing is said held meanwhile).
    fn of_entry(entry: OutboxEntry, enrolled: Option<Option<i64>>) -> Item {
        let held = enrolled
            .filter(|_| entry.is_pending())
            .and_then(|enrolled| entry.held_for(enrolled).cloned());
        match held {
            Some(author) => Item::Held(entry, author),
            None => Item::Waiting(entry),
        }
    }

    fn id(&self) -> ReportId {
        match self {
            Item::Waiting(e) | Item::Held(e, _) => e.id,
            Item::Sent(s) => s.id,
        }
    }

    fn report(&self) -> &LoadReport {
        match self {
            Item::Waiting(e) | Item::Held(e, _) => &e.report,
            Item::Sent(s) => &s.report,
        }
    }

    fn recorded_at(&self) -> DateTime<Utc> {
        match self {
            Item::Waiting(e) | Item::Held(e, _) => e.recorded_at,
            Item::Sent(s) => s.recorded_at,
        }
    }

    fn state(&self) -> &'static str {
        match self {
            Item::Waiting(OutboxEntry {
                state: OutboxState::Pending,
                ..
            }) => "pending",
            Item::Waiting(_) => "rejected",
            Item::Held(..) => "held",
            Item::Sent(_) => "sent",
        }
    }
}

/// The main figures of a report in one line.
fn figures(report: &LoadReport, lang: Lang) -> String {
    let mut parts = vec![report.status.label(lang).to_owned()];
    let mut figure = |field: Field, value: Option<u32>| {
        if let Some(n) = value {
            parts.push(format!(
                "{}{}{n}",
                field_label(field, lang),
                lang.pick("：", ": ")
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

#[component]
fn ReportHistory() -> impl IntoView {
    let i18n = use_i18n();
    let reporting = Reporting::expect();
    let items = Memo::new(move |_| {
        let enrolled = reporting.account.with(|a| match a {
            AccountState::Loading => None,
            _ => Some(a.record().map(|r| r.account.id)),
        });
        let mut items: Vec<Item> = reporting.outbox.with(|o| {
            o.iter()
                .cloned()
                .map(|e| Item::of_entry(e, enrolled))
                .collect()
        });
        items.extend(
            reporting
                .sent
                .with(|s| s.iter().cloned().map(Item::Sent).collect::<Vec<_>>()),
        );
        items.sort_by(|a, b| {
            b.recorded_at()
                .cmp(&a.recorded_at())
                .then_with(|| b.id().cmp(&a.id()))
        });
        items
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
fn HistoryItem(item: Item) -> impl IntoView {
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
    let held_by = match &item {
        Item::Held(_, author) => Some(author.name.clone()),
        _ => None,
    };
    // The account that wrote it, for a report in the outbox (`None`: not recorded).
    let writer = match &item {
        Item::Waiting(e) | Item::Held(e, _) => e.account.as_ref().map(|a| a.id),
        Item::Sent(_) => None,
    };
    let badge = {
        let held_by = held_by.clone().unwrap_or_default();
        move || match state {
            "pending" => td_string!(i18n.get_locale(), report_state_pending).to_string(),
            "rejected" => td_string!(i18n.get_locale(), report_state_rejected).to_string(),
            "held" => {
                td_string!(i18n.get_locale(), report_state_held, name = held_by.clone()).to_string()
            }
            _ => td_string!(i18n.get_locale(), report_state_sent).to_string(),
        }
    };
    let reason = match &item {
        Item::Waiting(OutboxEntry {
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
        let question = lang.get_untracked().pick(
            "放弃这份报告？它将从手机上删除，不会发送。",
            "Discard this report? It is deleted from the phone and never sent.",
        );
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
        <li class=format!("history-item history-{state}") data-testid="report-entry" data-state=state data-id=id.to_string()>
            <p class="history-head">
                <span class=format!("state-badge state-{state}")>{badge}</span>
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
            {(state == "sent")
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
