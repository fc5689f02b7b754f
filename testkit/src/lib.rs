//! scanline-testkit: what the tests of every scanline crate share, so that no test
//! file carries its own copy — one seeded random generator ([`Rng`]), how many
//! cases a property test runs ([`cases`]), exact powers of two ([`exact`]), the paths of the repository's fixtures
//! ([`fixture`]), golden files that `cargo xtask test --bless` rewrites
//! ([`golden`]) and temporary directories and files that clean up after
//! themselves ([`TempDir`], [`TempFile`]).
//!
//! std only, and it depends on no scanline crate, so the core can dev-depend on it
//! without a cycle. Add it under `[dev-dependencies]`:
//!
//! ```toml
//! [dev-dependencies]
//! scanline-testkit = { path = "../testkit" }
//! ```
//!
//! # Examples
//!
//! Random int8 data from a fixed seed, a fixture model, and a scratch directory:
//!
//! ```
//! use scanline_testkit::{Rng, TempDir, fixture};
//!
//! let mut rng = Rng::new(7);
//! let input: Vec<i8> = rng.i8s(16);
//! assert_eq!(input, Rng::new(7).i8s(16)); // the same seed, the same data
//!
//! let model = fixture::read(fixture::tflite("n3_mini", "model.tflite"));
//! assert_eq!(&model[4..8], b"TFL3");
//!
//! let dir = TempDir::new("doc");
//! std::fs::write(dir.join("out.bin"), &model[..8]).unwrap();
//! assert!(dir.join("out.bin").is_file());
//! let path = dir.path().to_path_buf();
//! drop(dir); // removes the directory and everything in it
//! assert!(!path.exists());
//! ```

pub mod cases;
pub mod exact;
pub mod fixture;
pub mod golden;
pub mod rng;
pub mod temp;

pub use rng::Rng;
pub use temp::{TempDir, TempFile};
