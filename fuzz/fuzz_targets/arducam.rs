//! The `arducam` fuzz target: [`scanline_fuzzkit`]'s `arducam` entry point under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (scanline_fuzzkit::target("arducam")
        .expect("a known target")
        .run)(data);
});
