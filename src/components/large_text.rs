//! Large-text mode (大字模式): bigger text, stronger contrast and larger touch targets for
//! elderly residents, one tap away in the header and remembered on the device.
//!
//! The mode is the class [`CLASS`] on `<html>`; `style/main.css` does the rest. The choice is
//! kept in `localStorage` under [`STORAGE_KEY`]. `public/boot.js`, a classic script in
//! `index.html`'s head, applies a stored choice before the first paint (no flash of small text
//! before the wasm starts); this component reads the class it set and keeps class and storage in
//! step with the button.

use crate::browser;
use crate::i18n::{t, td_string, use_i18n};
use leptos::prelude::*;

/// The `localStorage` key (also read by `public/boot.js`): `"1"` when the mode is on.
pub const STORAGE_KEY: &str = "caremap.large-text";

/// The class on `<html>` while the mode is on (also set by `public/boot.js`).
pub const CLASS: &str = "large-text";

/// `class` with [`CLASS`] added (`on`) or removed, other classes kept in their order.
pub fn with_class(class: &str, on: bool) -> String {
    let mut classes: Vec<&str> = class.split_whitespace().filter(|c| *c != CLASS).collect();
    if on {
        classes.push(CLASS);
    }
    classes.join(" ")
}

/// Whether a class attribute has [`CLASS`].
pub fn has_class(class: &str) -> bool {
    class.split_whitespace().any(|c| c == CLASS)
}

fn root() -> Option<web_sys::Element> {
    document().document_element()
}

fn stored() -> bool {
    browser::stored(STORAGE_KEY).is_some_and(|v| v == "1")
}

fn store(on: bool) {
    // Private browsing may refuse; the mode then lasts for this visit only.
    if on {
        let _ = browser::store(STORAGE_KEY, "1");
    } else {
        browser::unstore(STORAGE_KEY);
    }
}

fn apply(on: bool) {
    if let Some(root) = root() {
        let class = root.class_name();
        if has_class(&class) != on {
            root.set_class_name(&with_class(&class, on));
        }
    }
}

/// The header's toggle button (`aria-pressed`).
#[component]
pub fn LargeTextToggle() -> impl IntoView {
    let i18n = use_i18n();
    // The early script has already applied the stored choice; read it back (and apply it, in case
    // that script could not run).
    let initial = root().is_some_and(|r| has_class(&r.class_name())) || stored();
    apply(initial);
    let on = RwSignal::new(initial);
    let toggle = move |_| {
        let next = !on.get_untracked();
        on.set(next);
        apply(next);
        store(next);
    };
    let label = move || td_string!(i18n.get_locale(), large_text_label);
    view! {
        <button
            type="button"
            class="large-text-toggle"
            data-testid="large-text-toggle"
            aria-pressed=move || if on.get() { "true" } else { "false" }
            title=label
            on:click=toggle
        >
            {t!(i18n, large_text)}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn the_class_is_added_once_and_removed_alone() {
        assert_eq!(with_class("", true), "large-text");
        assert_eq!(with_class("a b", true), "a b large-text");
        assert_eq!(with_class("a large-text b", true), "a b large-text");
        assert_eq!(with_class("a large-text b", false), "a b");
        assert_eq!(with_class("large-texts", false), "large-texts");
        assert!(has_class("x large-text"));
        assert!(!has_class("large-texts"));
    }
}
