//! The language switch: one button that toggles 中文 ↔ English (the choice is remembered by
//! [`crate::i18n::LangMemory`]).

use crate::i18n::{locale_of, other, t, td_string, use_i18n, use_lang};
use leptos::prelude::*;

#[component]
pub fn LangSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let toggle = move |_| i18n.set_locale(locale_of(other(lang.get_untracked())));
    // The button names the language it switches to, in that language.
    let target_tag = move || other(lang.get()).tag();
    let label = move || td_string!(i18n.get_locale(), lang_switch_label);
    view! {
        <button
            type="button"
            class="lang-switch"
            data-testid="lang-switch"
            lang=target_tag
            aria-label=label
            on:click=toggle
        >
            {t!(i18n, lang_switch)}
        </button>
    }
}
