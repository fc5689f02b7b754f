//! The `pixel` fuzz target: [`scanline_fuzzkit`]'s `pixel` entry point under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (scanline_fuzzkit::target("pixel")
        .expect("a known target")
        .run)(data);
});
