//! The `npy` fuzz target: [`scanline_fuzzkit`]'s `npy` entry point under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (scanline_fuzzkit::target("npy").expect("a known target").run)(data);
});
