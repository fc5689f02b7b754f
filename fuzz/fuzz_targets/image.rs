//! The `image` fuzz target: [`scanline_fuzzkit`]'s `image` entry point under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (scanline_fuzzkit::target("image")
        .expect("a known target")
        .run)(data);
});
