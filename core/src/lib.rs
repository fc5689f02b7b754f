//! scanline: small convolutional networks (convolution, ReLU, max- and average
//! pooling, global average pooling, dense, softmax) in int8 fixed point, bit-exact
//! with TensorFlow Lite's reference kernels.
//!
//! `no_std`, no allocation: every buffer is the caller's. The same row kernels
//! serve the full-frame engine ([`frame`]) and the streaming engine ([`stream`]),
//! which runs a whole model one camera line at a time in a few KiB; [`pixel`]
//! turns camera lines into quantized input rows.
//!
//! # Examples
//!
//! The classic edge detector over a tiny 4x4 gray image, SAME padding:
//!
//! ```
//! use scanline::{Activation, Requantization, Conv2d, Layer, Model, Padding, Quant, Rounding, Shape, Window};
//! use scanline::WeightLayout;
//!
//! let kernel: [i8; 9] = [-1, -1, -1, -1, 8, -1, -1, -1, -1];
//! let q_in = Quant::new(1.0 / 255.0, -128);
//! let q_out = Quant::new(16.0 / 255.0, -128);
//! let conv = Conv2d {
//!     in_channels: 1,
//!     out_channels: 1,
//!     window: Window::square(3, 1, Padding::Same),
//!     weights: &kernel,
//!     layout: WeightLayout::Ohwi,
//!     bias: None,
//!     requant: Requantization::WeightScales(scanline::Values::Slice(&[1.0])),
//!     input: q_in,
//!     output: q_out,
//!     activation: Activation::Relu,
//! };
//! let layers = [Layer::Conv2d(conv)];
//! let model = Model::new(Shape::new(4, 4, 1), q_in, &layers, Rounding::Double).unwrap();
//! let input = [-128i8; 16]; // a black image
//! let mut output = [0i8; 16];
//! let mut scratch = [0i8; 0];
//! scanline::frame::run(&model, &input, &mut output, &mut scratch).unwrap();
//! assert!(output.iter().all(|&v| v == -128)); // no edges in a flat image
//! ```
#![cfg_attr(not(test), no_std)]
// No panics outside tests: checked forms everywhere, except where a measured hot
// kernel allows indexing locally, with its reason.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod average;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
pub mod conv;
pub mod converter;
#[cfg(feature = "defmt")]
mod defmt;
pub mod dense;
pub mod depthwise;
pub mod digest;
mod dsp;
pub mod edges;
pub mod error;
pub mod exec;
pub mod filter;
pub mod frame;
pub mod geometry;
pub mod kernel;
pub mod layer;
pub mod mean;
pub mod model;
#[cfg(test)]
mod pattern;
pub mod pixel;
pub mod pool;
pub mod preset;
pub mod quant;
pub mod relu;
pub mod requant;
pub mod rows;
pub mod shape;
pub mod softmax;
pub mod stream;
pub mod tflite;
pub mod values;
pub mod workload;

pub use average::AvgPool2d;
pub use conv::Conv2d;
pub use dense::Dense;
pub use depthwise::DepthwiseConv2d;
pub use error::{Error, Param};
pub use filter::WeightLayout;
pub use geometry::{Axis, Padding, Window};
pub use layer::Layer;
pub use mean::Mean;
pub use model::Model;
pub use pool::MaxPool2d;
pub use quant::{Activation, Multiplier, Quant, Rounding};
pub use relu::Relu;
pub use requant::Requantization;
pub use rows::Rows;
pub use shape::Shape;
pub use softmax::Softmax;
pub use values::Values;

/// Result type of the crate.
pub type Result<T> = core::result::Result<T, Error>;
