//! Generates the typed translation module (`crate::i18n`) from `locales/*.json` with
//! leptos_i18n_build: zh-CN is the default locale, English the second. Also checks that
//! `index.html`'s app shell says what the app says (`check_shell`).

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};
use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

/// Texts of the shell that no page of the app shows (the shell's own sync-bar state).
const SHELL_ONLY: &[(&str, &str)] = &[("正在启动…", "Starting…")];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=index.html");
    println!("cargo::rerun-if-changed=staff.html");
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

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    check_shell(root, "index.html")?;
    check_shell(root, "staff.html")
}

/// `index.html` draws the map page's first frame before the wasm runs, in both languages: each
/// text as a `zh-only` element followed by its `en-only` twin (a span's text, a select's
/// `aria-label`). Every such pair must be one key's two texts in `locales/*.json`, so changing a
/// text in one place and not the other fails the build instead of showing a resident one word
/// before the app replaces it with another.
/// `staff.html` (the staff app's shell: header and sync bar) is held to the same rule.
fn check_shell(root: &Path, file: &str) -> Result<(), Box<dyn Error>> {
    let html = std::fs::read_to_string(root.join(file))?;
    let zh = locale(&root.join("locales/zh-CN.json"))?;
    let en = locale(&root.join("locales/en.json"))?;
    let pairs = shell_pairs(&html)?;
    if pairs.is_empty() {
        return Err(format!("{file}: no zh-only/en-only texts found in the app shell").into());
    }
    for (zh_text, en_text) in pairs {
        let known = zh
            .iter()
            .any(|(key, text)| *text == zh_text && en.get(key) == Some(&en_text))
            || SHELL_ONLY.contains(&(zh_text.as_str(), en_text.as_str()));
        if !known {
            return Err(format!(
                "{file}'s app shell says \"{zh_text}\" / \"{en_text}\", which is not one \
                 key's texts in locales/zh-CN.json and locales/en.json: change them together"
            )
            .into());
        }
    }
    Ok(())
}

/// A locale file's texts by key path ("a.b" for nested objects).
fn locale(path: &Path) -> Result<BTreeMap<String, String>, Box<dyn Error>> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    walk(&format!("{prefix}{key}."), value, out);
                }
            }
            serde_json::Value::String(text) => {
                out.insert(prefix.trim_end_matches('.').to_owned(), text.clone());
            }
            _ => {}
        }
    }
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    let mut out = BTreeMap::new();
    walk("", &value, &mut out);
    Ok(out)
}

/// The shell's (zh, en) text pairs, in document order.
fn shell_pairs(html: &str) -> Result<Vec<(String, String)>, Box<dyn Error>> {
    let mut texts: Vec<(&str, String)> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..end];
        let after = &rest[end + 1..];
        let lang = if tag.contains("class=\"zh-only\"") {
            "zh"
        } else if tag.contains("class=\"en-only\"") {
            "en"
        } else {
            continue;
        };
        let text = if tag.starts_with("select") {
            attribute(tag, "aria-label")
                .ok_or("index.html: a zh-only/en-only select without aria-label")?
        } else {
            after[..after.find('<').unwrap_or(after.len())]
                .trim()
                .to_owned()
        };
        texts.push((lang, text));
    }
    let mut pairs = Vec::new();
    let mut texts = texts.into_iter();
    while let Some((lang, zh_text)) = texts.next() {
        match (lang, texts.next()) {
            ("zh", Some(("en", en_text))) => pairs.push((zh_text, en_text)),
            _ => {
                return Err(format!(
                    "index.html: the app shell's \"{zh_text}\" is not a zh-only text followed by its en-only twin"
                )
                .into())
            }
        }
    }
    Ok(pairs)
}

/// The value of `name="…"` in a tag's text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_owned())
}
