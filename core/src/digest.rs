//! Digest: an FNV-1a 32 checksum of a model's output, computed as the rows stream
//! out, so the firmware and the host can compare whole frames by one number.
//!
//! FNV-1a 32: offset basis `0x811C9DC5`, prime `0x01000193`; for each byte `b`,
//! `h = (h ^ b) * prime` (wrapping). The bytes are the output's int8 values in HWC
//! order (row by row, each row pixel by pixel, channels innermost), each as its
//! two's-complement byte: the digest of a frame equals FNV-1a 32 over the output
//! tensor's bytes, e.g. the data section of the int8 `.npy` the host writes.
//!
//! # Examples
//!
//! ```
//! use scanline::digest::{Fnv1a32, fnv1a32};
//! use scanline::stream::Sink;
//! assert_eq!(fnv1a32(&[]), 0x811c_9dc5);
//! assert_eq!(fnv1a32(b"a"), 0xe40c_292c); // the published test vector
//!
//! // As a sink: rows in order give the digest of the whole tensor.
//! let mut d = Fnv1a32::new();
//! d.row(0, &[1, -1]).unwrap();
//! d.row(1, &[97]).unwrap();
//! assert_eq!(d.value(), fnv1a32(&[1, 0xff, 97]));
//! ```

use core::convert::Infallible;

use crate::stream::Sink;

/// FNV-1a 32 offset basis.
pub const OFFSET: u32 = 0x811c_9dc5;
/// FNV-1a 32 prime.
pub const PRIME: u32 = 0x0100_0193;

/// FNV-1a 32 of `bytes`.
pub const fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h = OFFSET;
    let mut rest = bytes;
    while let [b, tail @ ..] = rest {
        h = (h ^ *b as u32).wrapping_mul(PRIME);
        rest = tail;
    }
    h
}

/// A running FNV-1a 32 digest of int8 values; a [`Sink`] that cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv1a32 {
    hash: u32,
    len: usize,
}

impl Default for Fnv1a32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Fnv1a32 {
    /// A digest of nothing yet (the offset basis).
    pub const fn new() -> Self {
        Self {
            hash: OFFSET,
            len: 0,
        }
    }

    /// Adds `values`, each as its two's-complement byte.
    #[inline]
    pub fn update(&mut self, values: &[i8]) {
        let mut h = self.hash;
        for &v in values {
            h = (h ^ v as u8 as u32).wrapping_mul(PRIME);
        }
        self.hash = h;
        self.len += values.len();
    }

    /// The digest of every value added so far.
    pub const fn value(&self) -> u32 {
        self.hash
    }

    /// How many values were added.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// True if no value was added.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Starts over (for the next frame).
    pub fn reset(&mut self) {
        *self = Self::new();
    }
}

impl Sink for Fnv1a32 {
    type Error = Infallible;

    #[inline]
    fn row(&mut self, _y: usize, row: &[i8]) -> Result<(), Infallible> {
        self.update(row);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv, FNV-1a 32).
        assert_eq!(fnv1a32(b""), 0x811c9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9cf968);
    }

    #[test]
    fn update_in_pieces_equals_whole() {
        let bytes: [i8; 6] = [102, 111, 111, 98, 97, 114]; // "foobar"
        let mut d = Fnv1a32::new();
        d.update(&bytes[..2]);
        d.update(&[]);
        d.update(&bytes[2..]);
        assert_eq!((d.value(), d.len()), (0xbf9cf968, 6));
        d.reset();
        assert!(d.is_empty());
        assert_eq!(d.value(), OFFSET);
    }

    #[test]
    fn negative_values_hash_as_twos_complement_bytes() {
        let mut d = Fnv1a32::new();
        d.update(&[-128, -1, 0, 127]);
        assert_eq!(d.value(), fnv1a32(&[0x80, 0xff, 0x00, 0x7f]));
    }
}
