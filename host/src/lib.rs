//! scanline-host: the host side of scanline — images, .npy files, the f32 reference
//! and the `scanline` command line.

pub mod edges;
pub mod engine;
pub mod error;
pub mod info;
pub mod kernel;
pub mod network;
pub mod npy;
pub mod panel;
pub mod picture;
pub mod quantize;
pub mod reference;
pub mod tensor;
pub mod verify;
pub mod workload;

pub use error::{Error, Result};
pub use tensor::Tensor;
