//! scanline-host: the host side of scanline — images, .npy files, the f32 reference
//! and the `scanline` command line.

pub mod classifier;
pub mod cli;
pub mod colour;
pub mod command;
pub mod comparison;
pub mod edges;
pub mod engine;
pub mod error;
pub mod figure;
pub mod file;
pub mod info;
pub mod input;
pub mod json;
pub mod kernel;
pub mod layer;
pub mod mosaic;
pub mod network;
pub mod npy;
pub mod output;
pub mod panel;
pub mod picture;
pub mod reference;
pub mod tensor;
pub mod text;
pub mod verify;
pub mod workload;

pub use error::{Error, Result};
pub use tensor::Tensor;
