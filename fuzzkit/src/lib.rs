//! scanline-fuzzkit: the fuzz entry points, one plain function per target, each
//! taking the fuzzer's bytes.
//!
//! The cargo-fuzz targets in `fuzz/` (nightly, libFuzzer) are one-line wrappers
//! around these functions, and `tests/replay.rs` feeds every committed corpus
//! file and crash reproducer (`fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`)
//! through the same functions on stable, so `cargo xtask test` catches a
//! regression without nightly.
//!
//! An entry point returns normally for every input the product refuses cleanly
//! (an `Err`); it panics only when the product misbehaves: a panic inside the
//! product, or an oracle failing (the streaming and frame engines disagreeing,
//! a camera frame's digest differing from the host's).

pub mod arducam;
pub mod engines;
pub mod model;
pub mod readers;

/// A fuzz target: its name (the `fuzz/fuzz_targets/<name>.rs` file and the
/// `fuzz/corpus/<name>/` directory) and its entry point.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// What it fuzzes, one line.
    pub about: &'static str,
    /// The entry point.
    pub run: fn(&[u8]),
}

/// Every fuzz target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "tflite",
        about: "the .tflite reader and model validation, then both engines on any model it accepts",
        run: readers::tflite,
    },
    Target {
        name: "stream",
        about: "a structured small model and its input rows: the streaming pipeline against the frame engine",
        run: model::stream,
    },
    Target {
        name: "npy",
        about: "the host's .npy reader",
        run: readers::npy,
    },
    Target {
        name: "image",
        about: "PNG/JPEG bytes through the host's picture loader (decoder limits set)",
        run: readers::image,
    },
    Target {
        name: "pixel",
        about: "LineConverter over every pixel format, width, channel count and quantization",
        run: readers::pixel,
    },
    Target {
        name: "verify",
        about: "capture logs through the parser and frame check of `scanline verify`",
        run: readers::verify,
    },
    Target {
        name: "arducam",
        about: "the ArduCAM driver and frame loop against a fuzzed mock camera (registers, FIFO length, line data, bus errors)",
        run: arducam::arducam,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
