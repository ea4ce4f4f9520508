//! libFuzzer target: `caremap_fuzz::enrollment_code` (what it checks is said there, in src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| caremap_fuzz::enrollment_code(data));
