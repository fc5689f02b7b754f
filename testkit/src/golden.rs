//! Golden: outputs compared byte for byte with committed golden files, and
//! rewritten on request by `cargo xtask test --bless`.
//!
//! A golden file records an output that no independent oracle gives (the
//! `edges` walkthrough on the bundled photos, say), so that any change to it is
//! seen and judged. When a change is intended, `cargo xtask test --bless` reruns
//! the tests with [`BLESS_VAR`] set: every [`check`] then writes the new output
//! instead of failing, and xtask lists the files that changed. Review the diff and
//! commit it with the change that caused it.
//!
//! # Examples
//!
//! ```
//! use scanline_testkit::golden::{self, Outcome};
//! use scanline_testkit::TempDir;
//!
//! let dir = TempDir::new("golden-doc");
//! let path = dir.join("out.bin");
//! // Not blessing: a missing golden file is a failure that says what to run.
//! let err = golden::check_with(&path, b"new", false).unwrap_err();
//! assert!(err.ends_with("run `cargo xtask test --bless` to create it"));
//! // Blessing writes it; afterwards the same bytes pass, other bytes fail.
//! assert_eq!(golden::check_with(&path, b"new", true), Ok(Outcome::Created));
//! assert_eq!(golden::check_with(&path, b"new", false), Ok(Outcome::Unchanged));
//! assert!(golden::check_with(&path, b"now", false).is_err());
//! ```

use std::path::Path;

/// The environment variable `cargo xtask test --bless` sets for the tests it
/// runs. It is xtask's way of passing the request down, not an interface: bless
/// with `cargo xtask test --bless`.
pub const BLESS_VAR: &str = "SCANLINE_BLESS";

/// Whether this run rewrites golden files: [`BLESS_VAR`] is set to `1`.
pub fn blessing() -> bool {
    std::env::var_os(BLESS_VAR).is_some_and(|v| v == "1")
}

/// What [`check`] did with a golden file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The output equals the golden file.
    Unchanged,
    /// Blessing: there was no golden file; it was written.
    Created,
    /// Blessing: the golden file differed; it was rewritten.
    Rewritten,
}

/// Compares `actual` with the golden file at `path`, or when [`blessing`] writes
/// it there if it differs. See [`check_with`].
pub fn check(path: impl AsRef<Path>, actual: &[u8]) -> Result<Outcome, String> {
    check_with(path, actual, blessing())
}

/// Compares `actual` with the golden file at `path`; with `bless`, writes `actual`
/// there instead when the file is missing or differs (an unchanged file is not
/// touched). The error names the file, says how much differs and how to bless.
///
/// ```
/// use scanline_testkit::golden::{check_with, Outcome};
/// let file = scanline_testkit::TempFile::new("golden.bin");
/// std::fs::write(file.path(), [1, 2, 3, 4]).unwrap();
/// let err = check_with(file.path(), &[1, 2, 9, 9, 5], false).unwrap_err();
/// assert!(err.contains("5 bytes, the golden file 4; 2 of the first 4 differ, the first at byte 2"), "{err}");
/// assert_eq!(check_with(file.path(), &[1, 2, 9], true), Ok(Outcome::Rewritten));
/// assert_eq!(file.read(), [1, 2, 9]);
/// ```
pub fn check_with(path: impl AsRef<Path>, actual: &[u8], bless: bool) -> Result<Outcome, String> {
    let path = path.as_ref();
    let shown = path.display();
    let golden = match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{shown}: cannot read the golden file: {e}")),
    };
    let outcome = match &golden {
        Some(g) if g == actual => return Ok(Outcome::Unchanged),
        Some(_) => Outcome::Rewritten,
        None => Outcome::Created,
    };
    if bless {
        std::fs::write(path, actual)
            .map_err(|e| format!("{shown}: cannot write the golden file: {e}"))?;
        return Ok(outcome);
    }
    Err(match golden {
        None => format!(
            "{shown}: no golden file; if this output is right, \
             run `cargo xtask test --bless` to create it"
        ),
        Some(g) => {
            let common = g.len().min(actual.len());
            let differ = (0..common).filter(|&i| g[i] != actual[i]).count();
            let first = (0..common).find(|&i| g[i] != actual[i]).unwrap_or(common);
            format!(
                "{shown}: the output differs from the golden file (the output has {} bytes, \
                 the golden file {}; {differ} of the first {common} differ, the first at byte \
                 {first}); if the change is intended, run `cargo xtask test --bless` and \
                 commit the new file",
                actual.len(),
                g.len()
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TempDir;

    #[test]
    fn a_difference_is_reported_with_its_position() {
        let dir = TempDir::new("golden");
        let path = dir.join("g.bin");
        std::fs::write(&path, [0u8, 1, 2, 3]).unwrap();
        let err = check_with(&path, &[0, 1, 7, 3], false).unwrap_err();
        assert_eq!(
            err,
            format!(
                "{}: the output differs from the golden file (the output has 4 bytes, the \
                 golden file 4; 1 of the first 4 differ, the first at byte 2); if the change \
                 is intended, run `cargo xtask test --bless` and commit the new file",
                path.display()
            )
        );
        // Not blessing never writes.
        assert_eq!(std::fs::read(&path).unwrap(), [0, 1, 2, 3]);
    }

    #[test]
    fn blessing_writes_only_what_changed() {
        let dir = TempDir::new("golden");
        let path = dir.join("g.bin");
        assert_eq!(check_with(&path, b"abc", true), Ok(Outcome::Created));
        let written = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(check_with(&path, b"abc", true), Ok(Outcome::Unchanged));
        let after = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(written, after, "an unchanged golden file is not rewritten");
        assert_eq!(check_with(&path, b"abd", true), Ok(Outcome::Rewritten));
        assert_eq!(std::fs::read(&path).unwrap(), b"abd");
    }

    #[test]
    fn a_missing_file_fails_naming_the_command() {
        let dir = TempDir::new("golden");
        let path = dir.join("none.npy");
        assert_eq!(
            check_with(&path, b"x", false),
            Err(format!(
                "{}: no golden file; if this output is right, run `cargo xtask test --bless` \
                 to create it",
                path.display()
            ))
        );
        assert!(!path.exists());
    }
}
