//! The `tflite` fuzz target: [`scanline_fuzzkit`]'s `tflite` entry point under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (scanline_fuzzkit::target("tflite")
        .expect("a known target")
        .run)(data);
});
