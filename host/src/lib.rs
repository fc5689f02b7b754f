//! scanline-host: the host side of scanline — images, .npy files, the f32 reference
//! and the `scanline` command line.

pub mod error;

pub use error::{Error, Result};
