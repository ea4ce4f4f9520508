//! Generates the typed translation module (`crate::i18n`) from `locales/*.json` with
//! leptos_i18n_build: zh-CN is the default locale, English the second.

use leptos_i18n_build::{Config, TranslationsInfos};
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out_dir = std::env::var_os("OUT_DIR").ok_or("cargo did not set OUT_DIR")?;
    let module_dir = PathBuf::from(out_dir).join("i18n");

    let config = Config::new("zh-CN")?.add_locale("en")?;
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(module_dir)?;
    Ok(())
}
