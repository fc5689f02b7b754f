//! Bless: what `cargo xtask test --bless` rewrote — the golden files read before
//! the tests and after, compared file by file and listed.
//!
//! The tests learn of the request through [`BLESS_VAR`], which only xtask sets;
//! `scanline_testkit::golden` reads it and writes the outputs that changed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use scanline_testkit::golden::BLESS_VAR;

/// The directories holding golden files, relative to the project root.
pub fn golden_dirs() -> Vec<PathBuf> {
    vec![scanline_testkit::fixture::golden_dir()]
}

/// Every file under `dirs` (recursively) and its bytes, keyed by path relative to
/// `root`. A missing directory holds nothing.
pub fn snapshot(root: &Path, dirs: &[PathBuf]) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                out.insert(rel, bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    for dir in dirs {
        walk(root, dir, &mut out);
    }
    out
}

/// The files that differ between two snapshots, each with what happened to it
/// (`created`, `rewritten`, `removed`), sorted by path.
pub fn changes(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<(PathBuf, &'static str)> {
    let mut out = Vec::new();
    for (path, bytes) in after {
        match before.get(path) {
            None => out.push((path.clone(), "created")),
            Some(old) if old != bytes => out.push((path.clone(), "rewritten")),
            Some(_) => {}
        }
    }
    for path in before.keys().filter(|p| !after.contains_key(*p)) {
        out.push((path.clone(), "removed"));
    }
    out.sort();
    out
}

/// The report of a blessing run: one line per changed file, or a line saying
/// that nothing changed out of how many files.
pub fn report(changes: &[(PathBuf, &'static str)], files: usize) -> String {
    if changes.is_empty() {
        return format!("--bless: all {files} golden file(s) unchanged\n");
    }
    let mut out = format!("--bless: {} golden file(s) changed:\n", changes.len());
    for (path, what) in changes {
        let _ = writeln!(
            out,
            "  {what}: {}",
            path.to_string_lossy().replace('\\', "/")
        );
    }
    out.push_str(
        "review them (git diff --stat) and commit them with the change that caused them\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use scanline_testkit::TempDir;

    #[test]
    fn changes_are_listed_by_kind() {
        let dir = TempDir::new("xtask-bless");
        let golden = dir.join("golden");
        std::fs::create_dir_all(golden.join("sub")).unwrap();
        std::fs::write(golden.join("same.npy"), b"s").unwrap();
        std::fs::write(golden.join("old.npy"), b"1").unwrap();
        std::fs::write(golden.join("sub/gone.npy"), b"g").unwrap();
        let dirs = [golden.clone()];
        let before = snapshot(dir.path(), &dirs);
        assert_eq!(before.len(), 3);
        std::fs::write(golden.join("old.npy"), b"2").unwrap();
        std::fs::write(golden.join("new.npy"), b"n").unwrap();
        std::fs::remove_file(golden.join("sub/gone.npy")).unwrap();
        let after = snapshot(dir.path(), &dirs);
        let found = changes(&before, &after);
        assert_eq!(
            found,
            [
                (PathBuf::from("golden/new.npy"), "created"),
                (PathBuf::from("golden/old.npy"), "rewritten"),
                (PathBuf::from("golden/sub/gone.npy"), "removed"),
            ]
        );
        assert_eq!(
            report(&found, after.len()),
            "--bless: 3 golden file(s) changed:\n  created: golden/new.npy\n  \
             rewritten: golden/old.npy\n  removed: golden/sub/gone.npy\nreview them (git diff \
             --stat) and commit them with the change that caused them\n"
        );
        assert_eq!(report(&[], 3), "--bless: all 3 golden file(s) unchanged\n");
    }

    #[test]
    fn a_missing_directory_is_empty() {
        let dir = TempDir::new("xtask-bless");
        assert!(snapshot(dir.path(), &[dir.join("none")]).is_empty());
    }

    #[test]
    fn the_golden_files_of_the_repository_are_found() {
        let root = crate::project_root();
        let found = snapshot(&root, &golden_dirs());
        assert!(
            found.contains_key(Path::new("tests/fixtures/golden/coins-laplacian8-conv.npy")),
            "{:?}",
            found.keys().collect::<Vec<_>>()
        );
    }
}
