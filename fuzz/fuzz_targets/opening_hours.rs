//! libFuzzer target: `caremap_fuzz::opening_hours` (what it checks is said there, in src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| caremap_fuzz::opening_hours(data));
