//! The outbox's status line: how many reports wait to be sent (and how many are held for
//! another account), what the sender is doing about them, and a button to send now.

use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang, Locale};
use crate::outbox::{pending_counts, Reporting, SenderPhase};
use leptos::prelude::*;

/// "3 份报告等待发送" / "3 reports waiting to be sent".
fn waiting_text(locale: Locale, n: usize) -> String {
    if n == 1 {
        td_string!(locale, outbox_waiting_one).to_owned()
    } else {
        td_string!(locale, outbox_waiting, count = n.to_string()).to_string()
    }
}

/// The outbox in one line: how many reports wait, what the sender is doing, and "send now".
#[component]
pub(super) fn OutboxStatus() -> impl IntoView {
    let lang = use_lang();
    let reporting = Reporting::expect();
    let i18n = use_i18n();
    // Pending reports that this phone may send now, or once enrolled; and those held for
    // another account.
    let counts = move || {
        let enrolled = reporting.enrolled_id();
        reporting.outbox.with(|o| pending_counts(o, enrolled))
    };
    let pending = move || counts().0;
    let held = move || counts().1;
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
        let locale = locale_of(lang);
        let n = pending();
        let waiting = waiting_text(locale, n);
        reporting.phase.with(|p| match p {
            SenderPhase::Revoked => td_string!(locale, outbox_revoked).to_owned(),
            // Only reports held for another account: the line about them says it all.
            _ if n == 0 && held() > 0 => String::new(),
            _ if n == 0 => td_string!(locale, outbox_all_sent).to_owned(),
            SenderPhase::Sending => {
                td_string!(locale, outbox_sending, waiting = waiting).to_string()
            }
            SenderPhase::Offline => {
                td_string!(locale, outbox_offline, waiting = waiting).to_string()
            }
            SenderPhase::Retrying(err) => td_string!(
                locale,
                outbox_retrying,
                waiting = waiting,
                problem = err.user_message(lang)
            )
            .to_string(),
            SenderPhase::Failed(err) => td_string!(
                locale,
                outbox_failed,
                waiting = waiting,
                problem = err.user_message(lang)
            )
            .to_string(),
            SenderPhase::Idle => match reporting.account.with(|a| a.active().is_some()) {
                true => waiting,
                false => td_string!(locale, outbox_not_enrolled, waiting = waiting).to_string(),
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
                    {t!(i18n, send_now)}
                </button>
            </Show>
        </div>
    }
}
