//! Temp: unique temporary directories and files, removed when dropped, so tests
//! running in parallel (or a rerun after a crash) never share or leave files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tells apart the temporary paths of one process.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// `<system temp dir>/scanline-<tag>-<process id>-<n>`, with `n` unique in this
/// process.
fn unique(tag: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("scanline-{tag}-{}-{n}", std::process::id()))
}

/// A fresh, empty directory, removed with everything in it when dropped.
///
/// # Examples
///
/// ```
/// use scanline_testkit::TempDir;
/// let a = TempDir::new("cli");
/// let b = TempDir::new("cli");
/// assert_ne!(a.path(), b.path()); // unique, even with the same tag
/// std::fs::write(a.join("x.npy"), b"data").unwrap();
/// assert_eq!(std::fs::read_dir(a.path()).unwrap().count(), 1);
/// let kept = a.path().to_path_buf();
/// drop(a);
/// assert!(!kept.exists());
/// ```
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<system temp dir>/scanline-<tag>-<process id>-<n>`. A directory
    /// left there by an earlier process with the same id is skipped, never reused.
    ///
    /// # Panics
    ///
    /// If no directory can be created; the message names the path.
    pub fn new(tag: &str) -> Self {
        loop {
            let path = unique(tag);
            match std::fs::create_dir(&path) {
                Ok(()) => return Self { path },
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!(
                    "{}: cannot create a temporary directory: {e}",
                    path.display()
                ),
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `name` inside the directory (not created).
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A unique path for one temporary file, removed (if it was written) when
/// dropped. The file itself is not created: hand the path to the code under test.
///
/// # Examples
///
/// ```
/// use scanline_testkit::TempFile;
/// let file = TempFile::new("out.npy");
/// assert!(file.path().to_string_lossy().ends_with("-out.npy")); // keeps the extension
/// assert!(!file.path().exists());
/// std::fs::write(file.path(), b"data").unwrap();
/// assert_eq!(file.read(), b"data");
/// let kept = file.path().to_path_buf();
/// drop(file);
/// assert!(!kept.exists());
/// ```
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// `<system temp dir>/scanline-<process id>-<n>-<name>`, a path no existing
    /// file has.
    pub fn new(name: &str) -> Self {
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("scanline-{}-{n}-{name}", std::process::id()));
            if !path.exists() {
                return Self { path };
            }
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes.
    ///
    /// # Panics
    ///
    /// If the file cannot be read (not written yet, say); the message names it.
    pub fn read(&self) -> Vec<u8> {
        crate::fixture::read(&self.path)
    }
}

impl AsRef<Path> for TempFile {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_removed_with_its_contents() {
        let dir = TempDir::new("testkit");
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.txt"), b"a").unwrap();
        let path = dir.path().to_path_buf();
        assert!(path.starts_with(std::env::temp_dir()));
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn a_stale_directory_is_skipped_not_reused() {
        // Make the next paths exist already, as a crashed run with the same
        // process id would have left them, each holding a file.
        let n = NEXT.load(Ordering::Relaxed);
        let stale: Vec<PathBuf> = (n..n + 64).map(|n| unique_at("stale", n)).collect();
        for dir in &stale {
            std::fs::create_dir(dir).unwrap();
            std::fs::write(dir.join("keep"), b"k").unwrap();
        }
        let fresh = TempDir::new("stale");
        assert!(!stale.iter().any(|s| s == fresh.path()));
        assert_eq!(std::fs::read_dir(fresh.path()).unwrap().count(), 0);
        for dir in &stale {
            assert_eq!(crate::fixture::read(dir.join("keep")), b"k");
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    fn unique_at(tag: &str, n: u64) -> PathBuf {
        std::env::temp_dir().join(format!("scanline-{tag}-{}-{n}", std::process::id()))
    }

    #[test]
    fn an_unwritten_file_drops_quietly() {
        let file = TempFile::new("never.bin");
        let path = file.path().to_path_buf();
        drop(file);
        assert!(!path.exists());
    }
}
