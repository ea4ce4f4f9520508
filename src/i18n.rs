//! Interface language: the translations generated from `locales/*.json` by leptos_i18n (see
//! `build.rs`), the bridge to the model's [`Lang`], and remembering the user's choice.
//!
//! zh-CN is the default whatever the browser says; a choice made with the language switch is
//! kept in `localStorage` and applied on the next start. leptos_i18n keeps `<html lang>` in step.

// The generated code is a `pub mod i18n`, re-exported below.
#![allow(clippy::module_inception)]

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

pub use caremap_model::Lang;
pub use i18n::*;

use leptos::prelude::*;

/// The `localStorage` key of the chosen language (a BCP 47 tag: `zh-CN` or `en`).
const STORAGE_KEY: &str = "caremap.lang";

/// The model's language for a locale.
pub fn lang_of(locale: Locale) -> Lang {
    match locale {
        Locale::zh_CN => Lang::Zh,
        Locale::en => Lang::En,
    }
}

/// The locale for a model language.
pub fn locale_of(lang: Lang) -> Locale {
    match lang {
        Lang::Zh => Locale::zh_CN,
        Lang::En => Locale::en,
    }
}

/// The current interface language, as the model's [`Lang`].
pub fn use_lang() -> Signal<Lang> {
    let i18n = use_i18n();
    Signal::derive(move || lang_of(i18n.get_locale()))
}

/// The other language: what the language switch offers.
pub fn other(lang: Lang) -> Lang {
    match lang {
        Lang::Zh => Lang::En,
        Lang::En => Lang::Zh,
    }
}

/// The language chosen earlier on this device, if any.
fn stored_lang() -> Option<Lang> {
    Lang::from_tag(&crate::browser::stored(STORAGE_KEY)?)
}

fn store_lang(lang: Lang) {
    // Private browsing may refuse; the choice then lasts for this visit only.
    let _ = crate::browser::store(STORAGE_KEY, lang.tag());
}

/// Applies the stored language (or zh-CN) once, then remembers every change. Render it once,
/// inside `I18nContextProvider`.
///
/// leptos_i18n starts from the browser's languages (its cookie is off); this effect runs after
/// the provider's own first effect, so the stored choice, or the zh-CN default, wins.
#[component]
pub fn LangMemory() -> impl IntoView {
    let i18n = use_i18n();
    let initial = stored_lang().unwrap_or_default();
    Effect::new(move |applied: Option<()>| {
        let current = lang_of(i18n.get_locale());
        if applied.is_none() {
            if current != initial {
                i18n.set_locale(locale_of(initial));
            }
        } else {
            store_lang(current);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn locales_and_langs_map_both_ways() {
        for lang in Lang::ALL {
            assert_eq!(lang_of(locale_of(lang)), lang);
            assert_ne!(other(lang), lang);
        }
        assert_eq!(Locale::zh_CN.as_str(), Lang::Zh.tag());
        assert_eq!(Locale::en.as_str(), Lang::En.tag());
    }
}
