//! Generates the typed translation module (`crate::i18n`) from `locales/*.json` with
//! leptos_i18n_build: zh-CN is the default locale, English the second.

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out_dir = std::env::var_os("OUT_DIR").ok_or("cargo did not set OUT_DIR")?;
    let module_dir = PathBuf::from(out_dir).join("i18n");

    // interpolate_display: texts with values ("{{ time }} 关门") can be made into plain strings
    // (td_string!), for attributes and for text computed outside a view.
    let config = Config::new("zh-CN")?
        .add_locale("en")?
        .parse_options(ParseOptions::new().interpolate_display(true));
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(module_dir)?;
    Ok(())
}
