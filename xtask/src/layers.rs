//! The PWA's layers point one way: pages use components, components use everything below them,
//! and nothing below `src/components/` (the registry, sync, store, outbox, map, the browser and
//! clock modules…) names `crate::components` or `crate::pages`. A native test reads the sources,
//! so `cargo test --workspace` (and `cargo xtask test`) fails on a use that points up.

use std::path::{Path, PathBuf};

/// The modules a file may not name, by where it lives in `src/`: the layers above it.
fn above(relative: &Path) -> &'static [&'static str] {
    let first = relative
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str());
    match first {
        // The root mounts the app and names every layer.
        Some("lib.rs" | "main.rs") => &[],
        Some("pages") => &[],
        Some("components") => &["crate::pages"],
        _ => &["crate::components", "crate::pages"],
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `file:line: text` of `src/` that names a layer above its own.
fn upward_uses(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap_or(&file);
        let forbidden = above(relative);
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if forbidden.iter().any(|module| code.contains(module)) {
                found.push(format!(
                    "src/{}:{}: {}",
                    relative.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    found
}

#[test]
fn nothing_below_components_uses_components_or_pages() {
    let src = crate::root().join("src");
    assert!(
        src.join("lib.rs").is_file(),
        "no PWA sources at {}",
        src.display()
    );
    let found = upward_uses(&src);
    assert!(
        found.is_empty(),
        "these lines use a layer above their own (move what they need down instead):\n{}",
        found.join("\n")
    );
}

#[test]
fn an_upward_use_is_found() {
    let dir = std::env::temp_dir().join(format!("caremap-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("outbox")).expect("temp dir");
    std::fs::write(
        dir.join("outbox/mod.rs"),
        "// crate::components in a comment is fine\nuse crate::components::Header;\n",
    )
    .expect("write");
    std::fs::write(dir.join("lib.rs"), "use crate::components::Header;\n").expect("write");
    let found = upward_uses(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        found,
        ["src/outbox/mod.rs:2: use crate::components::Header;"]
    );
}
