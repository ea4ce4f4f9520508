//! `cargo xtask bench`: measures DESIGN.md's budgets and prints the figures. Nothing here
//! asserts a number: budgets are read by people, not by CI.

use crate::shell::{self, Cmd, Result};

pub fn all() -> Result<()> {
    crate::build_pwa()?;
    wasm_size()
}

/// Size of the built WASM module, raw and compressed as the server sends it.
fn wasm_size() -> Result<()> {
    shell::step("PWA size");
    let dist = crate::root().join("dist");
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let raw = std::fs::metadata(&path)?.len();
            let gzip = Cmd::new("sh")
                .arg("-c")
                .arg(format!("gzip -9 -c '{}' | wc -c", path.display()))
                .output()
                .unwrap_or_default();
            println!(
                "wasm {}: raw {} KB, gzip -9 {} KB (budget: 250 KB compressed)",
                path.file_name().unwrap_or_default().to_string_lossy(),
                raw / 1024,
                gzip.trim().parse::<u64>().unwrap_or(0) / 1024
            );
        }
    }
    Ok(())
}
