//! The report form's fields: which part of the draft each text field edits, its element id, its
//! label and its error beside it; and the stock rows.

use super::super::field_label;
use crate::i18n::{td_string, use_i18n, use_lang, Lang};
use crate::outbox::Reporting;
use caremap_model::report::DraftField;
use caremap_model::{Field, ReportDraft, StockItem, StockLevel, ValidationError};
use leptos::prelude::*;

/// The error of one form field, in the interface language.
pub(super) fn error_of(
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
pub(super) enum Text {
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
pub(super) fn NumberField(
    text: Text,
    errors: RwSignal<Vec<(DraftField, ValidationError)>>,
) -> impl IntoView {
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

/// One stock item: its level, its count and the daily need.
#[component]
pub(super) fn StockRow(
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
