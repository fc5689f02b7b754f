//! Corpus replay: every committed corpus file and crash reproducer of every
//! fuzz target (`fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`) through
//! the target's entry point, on stable, as an ordinary test.

use std::path::{Path, PathBuf};

use scanline_fuzzkit::{TARGETS, target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir` (none if it does not exist), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Replays `name`'s corpus and reproducers; returns how many files ran.
fn replay(name: &str) -> usize {
    let t = target(name).expect("a known target");
    let mut n = 0;
    for kind in ["corpus", "artifacts"] {
        for file in files(&fuzz_dir().join(kind).join(name)) {
            let bytes = std::fs::read(&file).expect("a readable corpus file");
            // Named on stderr, which the harness shows if the entry point panics.
            eprintln!("replaying {}", file.display());
            (t.run)(&bytes);
            n += 1;
        }
    }
    n
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let n = replay(stringify!($name));
                assert!(n > 0, "no committed corpus for the `{}` target", stringify!($name));
            }
        )*

        #[test]
        fn every_target_is_replayed_and_every_corpus_has_a_target() {
            let tested = [$(stringify!($name)),*];
            for t in TARGETS {
                assert!(tested.contains(&t.name), "target `{}` has no replay test", t.name);
            }
            for kind in ["corpus", "artifacts"] {
                let Ok(dirs) = std::fs::read_dir(fuzz_dir().join(kind)) else { continue };
                for d in dirs {
                    let name = d.expect("a directory entry").file_name();
                    let name = name.to_string_lossy();
                    assert!(target(&name).is_some(), "fuzz/{kind}/{name} belongs to no target");
                }
            }
        }
    };
}

replay_tests!(tflite, stream, npy, image, pixel, verify, arducam);
