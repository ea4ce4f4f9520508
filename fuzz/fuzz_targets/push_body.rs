//! libFuzzer target: `caremap_fuzz::push_body` (what it checks is said there, in src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| caremap_fuzz::push_body(data));
