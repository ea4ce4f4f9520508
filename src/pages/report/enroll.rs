//! Enrolling this phone: the one-time code the health office gave (its shape checked by the
//! model before anything is sent) and, if the doctor likes, a name for the phone.

use super::field_label;
use crate::i18n::{t, td_string, use_i18n, use_lang};
use crate::outbox::{EnrollError, Reporting};
use caremap_model::{ApiErrorCode, DeviceName, EnrollmentCode, Field};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The enrollment form: the code the health office gave, and a name for this phone.
#[component]
pub(super) fn EnrollForm() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let reporting = Reporting::expect();
    let code = RwSignal::new(String::new());
    let device = RwSignal::new(String::new());
    // The code's error: the model's refusal of its shape, or the server's of the code.
    let code_error = RwSignal::new(None::<String>);
    // The name's error: the contract's rule for a device name (too long, control characters).
    let device_error = RwSignal::new(None::<String>);
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
        let device = match DeviceName::parse(&device.get_untracked()) {
            Ok(device) => device,
            Err(err) => {
                device_error.set(Some(err.message(lang)));
                return;
            }
        };
        device_error.set(None);
        busy.set(true);
        spawn_local(async move {
            let result = reporting.enroll(parsed, device).await;
            busy.set(false);
            match result {
                Ok(()) => {}
                Err(EnrollError::Refused {
                    code: ApiErrorCode::InvalidEnrollmentCode | ApiErrorCode::EnrollmentFailed,
                    message,
                }) => {
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
                    maxlength=DeviceName::MAX_CHARS.to_string()
                    aria-invalid=move || device_error.with(Option::is_some).to_string()
                    aria-describedby="enroll-device-error"
                    prop:value=move || device.get()
                    on:input=move |ev| device.set(event_target_value(&ev))
                />
                <p id="enroll-device-error" class="field-error" aria-live="polite">
                    {move || device_error.get()}
                </p>
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
