//! The `stream` fuzz target: [`scanline_fuzzkit`]'s `stream` entry point under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (scanline_fuzzkit::target("stream")
        .expect("a known target")
        .run)(data);
});
