//! scanline-firmware: the portable part of the firmware — camera lines through
//! scanline's streaming pipeline, the sinks that consume output rows, the
//! ArduCAM Mini 2MP Plus (OV2640) driver and fault handling — `no_std`, no
//! allocation, tested on the host.
//!
//! The binaries (`qemu`, `board`) only wire hardware to this crate: a
//! [`camera::Camera`] (a semihosting file in QEMU, the ArduCAM on the board), a
//! [`clock::Clock`], and sinks. Everything else — converting camera lines with
//! the core's [`scanline::pixel::LineConverter`], pushing rows through
//! [`scanline::stream::Pipeline`], dropping a faulty frame and carrying on — is
//! here, so the host tests exercise the code the MCU runs.
//!
//! # Examples
//!
//! A 4x4 gray "camera" through a one-layer model; the digest sink sees every
//! output row:
//!
//! ```
//! use scanline::digest::Fnv1a32;
//! use scanline::pixel::PixelFormat;
//! use scanline_firmware::camera::Replay;
//! use scanline_firmware::frame::{FrameLoop, Source};
//!
//! // The built-in edge model (laplacian8 over gray, ReLU, no pool) on 4x4 frames.
//! let edges = scanline_firmware::job::edge_model(1, 0).unwrap();
//! let model = edges.model(4, 4).unwrap();
//! let pixels = [128u8; 16];
//! let mut camera = Replay::<4>::new(&pixels, 4, 4);
//! let mut arena = [0i8; 64];
//! let source = Source::pixels(PixelFormat::Gray8, &model).unwrap();
//! let mut frames = FrameLoop::<4>::new(&model, &mut arena, source).unwrap();
//! let mut digest = Fnv1a32::new();
//! let report = frames.run(&mut camera, &mut digest, &mut scanline_firmware::clock::NoClock).unwrap();
//! assert_eq!(report.rows, 4);
//! assert_eq!(digest.len(), 16);
//! ```
#![cfg_attr(not(test), no_std)]
// No panics in the frame loop: checked forms everywhere outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod arducam;
pub mod arena;
pub mod camera;
pub mod capture;
pub mod clock;
#[cfg(feature = "defmt")]
mod defmt;
pub mod error;
pub mod frame;
pub mod inject;
pub mod job;
pub mod ov2640;
pub mod recording;
pub mod sink;
pub mod stack;
pub mod wait;

pub use error::{Error, Fault};
