//! The fuzz targets' committed corpora (`fuzz/corpus/<target>/`) replayed through the same
//! checks libFuzzer runs (`fuzz/src/lib.rs`, included here), so `cargo test` proves that no input
//! once found to crash a parser crashes it again, without building libFuzzer.

#[path = "../../../../fuzz/src/lib.rs"]
mod checks;

use std::path::Path;

#[test]
fn every_committed_fuzz_input_passes_its_check() {
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut replayed = 0;
    for (target, check) in checks::TARGETS {
        let dir = corpora.join(target);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
            .map(|entry| entry.expect("corpus entry").path())
            .collect::<Vec<_>>();
        assert!(!entries.is_empty(), "{target} has no seed inputs");
        for path in entries {
            let data = std::fs::read(&path).expect("corpus file");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(
                outcome.is_ok(),
                "{target}: {} fails its check",
                path.display()
            );
            replayed += 1;
        }
    }
    assert!(replayed >= checks::TARGETS.len());
}
