//! The `verify` fuzz target: [`scanline_fuzzkit`]'s `verify` entry point under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (scanline_fuzzkit::target("verify")
        .expect("a known target")
        .run)(data);
});
