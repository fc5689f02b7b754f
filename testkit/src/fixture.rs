//! Fixture: where the repository's test inputs live — TFLite fixture cases,
//! photos, golden outputs — as absolute paths from the repository root, so a test
//! finds them from whichever crate it runs in.
//!
//! | path | holds |
//! |---|---|
//! | `tests/fixtures/tflite/<case>/<file>` | `model.tflite`, `input.npy`, `expected.npy`, `ops.txt` of one TFLite case ([`tflite`]); the cases are listed in `manifest.txt` ([`tflite_cases`]) |
//! | `tests/fixtures/tflite/bad/<file>` | models that must not import ([`tflite_bad`]) |
//! | `tests/data/<photo>` | the bundled photos ([`photo`]) |
//! | `tests/fixtures/golden/<file>` | golden outputs ([`golden`], checked and blessed by [`crate::golden`]) |

use std::path::{Path, PathBuf};

/// The repository root: the parent of this crate's directory (found from
/// `CARGO_MANIFEST_DIR` when the testkit was built, so it does not depend on the
/// directory a test runs in).
///
/// ```
/// let root = scanline_testkit::fixture::root();
/// assert!(root.join("Cargo.toml").is_file());
/// assert!(root.join("testkit").is_dir());
/// ```
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the testkit lives one level below the repository root")
        .to_path_buf()
}

/// The directory of the TFLite fixture cases, `tests/fixtures/tflite`.
pub fn tflite_dir() -> PathBuf {
    root().join("tests/fixtures/tflite")
}

/// File `file` of TFLite fixture case `case`:
/// `tests/fixtures/tflite/<case>/<file>`.
///
/// ```
/// use scanline_testkit::fixture;
/// let path = fixture::tflite("conv1x1_c3_valid", "expected.npy");
/// assert!(path.ends_with("tests/fixtures/tflite/conv1x1_c3_valid/expected.npy"));
/// assert!(path.is_file());
/// ```
pub fn tflite(case: &str, file: &str) -> PathBuf {
    tflite_dir().join(case).join(file)
}

/// A model of `tests/fixtures/tflite/bad/` (one that must not import).
///
/// ```
/// let path = scanline_testkit::fixture::tflite_bad("dense.tflite");
/// assert!(path.is_file());
/// ```
pub fn tflite_bad(file: &str) -> PathBuf {
    tflite_dir().join("bad").join(file)
}

/// The TFLite fixture cases, in the order of `manifest.txt` (the first word of
/// each non-empty line).
///
/// ```
/// let cases = scanline_testkit::fixture::tflite_cases();
/// assert!(cases.iter().any(|c| c == "n3_mini"));
/// assert!(cases.iter().all(|c| scanline_testkit::fixture::tflite(c, "model.tflite").is_file()));
/// ```
pub fn tflite_cases() -> Vec<String> {
    let text =
        String::from_utf8(read(tflite_dir().join("manifest.txt"))).expect("manifest.txt is UTF-8");
    text.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// A bundled photo, `tests/data/<name>` (`coins.png`, `chelsea.png`,
/// `camera.png`; their sources are in `tests/data/SOURCES.md`).
///
/// ```
/// assert!(scanline_testkit::fixture::photo("coins.png").is_file());
/// ```
pub fn photo(name: &str) -> PathBuf {
    root().join("tests/data").join(name)
}

/// The directory of golden outputs, `tests/fixtures/golden`.
pub fn golden_dir() -> PathBuf {
    root().join("tests/fixtures/golden")
}

/// Golden file `name`, `tests/fixtures/golden/<name>` (compare with
/// [`crate::golden::check`]).
///
/// ```
/// let path = scanline_testkit::fixture::golden("coins-laplacian8-conv.npy");
/// assert!(path.is_file());
/// ```
pub fn golden(name: &str) -> PathBuf {
    golden_dir().join(name)
}

/// The bytes of `path`.
///
/// # Panics
///
/// If the file cannot be read; the message names the path.
///
/// ```
/// let bytes = scanline_testkit::fixture::read(scanline_testkit::fixture::photo("coins.png"));
/// assert_eq!(&bytes[1..4], b"PNG");
/// ```
pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    let path = path.as_ref();
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()))
}
