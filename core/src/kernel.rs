//! Kernel: a square image kernel (a preset, or any odd size up to 11x11 of real
//! taps) and its int8 form — exact for presets and small integer kernels, else
//! quantized as the TFLite converter quantizes weights.

use crate::converter::quantize_weights;
use crate::filter::Filter;
use crate::preset::Preset;
use crate::{Error, Param, Result, WeightLayout};

/// Largest kernel side.
pub const MAX_SIZE: usize = 11;
/// Largest number of taps (`MAX_SIZE²`).
pub const MAX_TAPS: usize = MAX_SIZE * MAX_SIZE;

/// A square, odd-sized real kernel, row-major, in fixed-size storage.
///
/// # Examples
///
/// ```
/// use scanline::kernel::Kernel;
/// use scanline::preset::Preset;
/// let k = Kernel::preset(Preset::Gaussian);
/// let (q, scale) = k.quantized();
/// assert_eq!((&q[..3], scale), (&[1i8, 2, 1][..], 1.0 / 16.0));
/// assert!(k.is_exact());
///
/// // Not integers: quantized as the TFLite converter does, scale max|w| / 127.
/// let k = Kernel::new(1, &[0.5]).unwrap();
/// assert!(!k.is_exact());
/// let (q, scale) = k.quantized();
/// assert_eq!((q[0], scale), (127, 0.5 / 127.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kernel {
    size: usize,
    taps: [f32; MAX_TAPS],
    preset: Option<Preset>,
}

impl Kernel {
    /// The 3x3 kernel of a preset.
    pub fn preset(p: Preset) -> Self {
        let mut taps = [0.0; MAX_TAPS];
        taps[..9].copy_from_slice(&p.real());
        Self {
            size: 3,
            taps,
            preset: Some(p),
        }
    }

    /// A `size` x `size` kernel of real `taps`, row-major.
    ///
    /// Errors ([`Param::Kernel`]): a size that is even, 0 or above [`MAX_SIZE`],
    /// a tap count other than `size²`, a tap that is not finite, or every tap zero.
    pub fn new(size: usize, taps: &[f32]) -> Result<Self> {
        if size.is_multiple_of(2) || size > MAX_SIZE {
            return Err(Error::invalid(
                Param::Kernel,
                "the size must be odd, from 1 to 11",
            ));
        }
        if taps.len() != size * size {
            return Err(Error::length(Param::Kernel, size * size, taps.len()));
        }
        if taps.iter().any(|t| !t.is_finite()) {
            return Err(Error::invalid(Param::Kernel, "every tap must be finite"));
        }
        if taps.iter().all(|&t| t == 0.0) {
            return Err(Error::invalid(
                Param::Kernel,
                "every tap is zero: the kernel responds to nothing",
            ));
        }
        let mut all = [0.0; MAX_TAPS];
        all.get_mut(..taps.len())
            .ok_or(Error::invalid(Param::Kernel, "too many taps"))?
            .copy_from_slice(taps);
        Ok(Self {
            size,
            taps: all,
            preset: None,
        })
    }

    /// Side length.
    pub const fn size(&self) -> usize {
        self.size
    }

    /// Real taps, row-major (`size²` of them).
    pub fn taps(&self) -> &[f32] {
        // `size` was checked against MAX_TAPS when the kernel was made.
        let n = self.size * self.size;
        self.taps.get(..n).unwrap_or(&self.taps)
    }

    /// The preset this kernel is, if it was built from one.
    pub const fn preset_of(&self) -> Option<Preset> {
        self.preset
    }

    /// Integer taps and divisor when the kernel is exactly `taps / divisor` with
    /// int8 taps: presets, and kernels of integers within ±127 (divisor 1).
    pub fn exact(&self) -> Option<([i8; MAX_TAPS], u8)> {
        let mut q = [0i8; MAX_TAPS];
        if let Some(p) = self.preset {
            q[..9].copy_from_slice(&p.taps());
            return Some((q, p.divisor()));
        }
        for (q, &t) in q.iter_mut().zip(self.taps()) {
            if !(-127.0..=127.0).contains(&t) || t as i8 as f32 != t {
                return None;
            }
            *q = t as i8;
        }
        Some((q, 1))
    }

    /// True if [`Kernel::quantized`] represents the kernel exactly.
    pub fn is_exact(&self) -> bool {
        self.exact().is_some()
    }

    /// The int8 taps (the first `size²` are used) and their per-tensor scale,
    /// `real ≈ q * scale`: exact ones with scale `1 / divisor`, otherwise the
    /// converter's symmetric quantization ([`quantize_weights`]).
    pub fn quantized(&self) -> ([i8; MAX_TAPS], f32) {
        if let Some((q, d)) = self.exact() {
            return (q, 1.0 / d as f32);
        }
        let mut q = [0i8; MAX_TAPS];
        let mut scale = [1.0f32];
        let n = self.size * self.size;
        let filter = Filter::new(1, self.size, self.size, 1);
        // Cannot fail: the taps are finite and the lengths match the filter.
        let _ = quantize_weights(
            self.taps(),
            filter,
            WeightLayout::Ohwi,
            q.get_mut(..n).unwrap_or_default(),
            &mut scale,
        );
        let [scale] = scale;
        (q, scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_exact() {
        for p in Preset::ALL {
            let k = Kernel::preset(p);
            let (q, scale) = k.quantized();
            for (qi, t) in q.iter().zip(k.taps()) {
                assert_eq!(*qi as f32 * scale, *t, "{}", p.name());
            }
        }
    }

    #[test]
    fn integer_kernels_are_exact_others_quantized() {
        let k = Kernel::new(3, &[-1.0, -1.0, -1.0, -1.0, 8.0, -1.0, -1.0, -1.0, -1.0]).unwrap();
        assert_eq!(k.exact().map(|(q, d)| (q[4], d)), Some((8, 1)));
        assert!(Kernel::new(1, &[128.0]).unwrap().exact().is_none());
        // The converter's rule: multiply by 127 / max, not divide by the scale.
        let (q, s) = Kernel::new(3, &[0.01, 0.005, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
            .unwrap()
            .quantized();
        assert_eq!((q[0], q[1], s), (127, 64, 0.01 / 127.0));
    }

    #[test]
    fn bad_kernels_name_the_kernel() {
        let size = Error::invalid(Param::Kernel, "the size must be odd, from 1 to 11");
        for (n, taps, want) in [
            (2usize, &[1.0f32; 4][..], size),
            (13, &[1.0; 169][..], size),
            (3, &[1.0; 8][..], Error::length(Param::Kernel, 9, 8)),
            (
                1,
                &[f32::NAN][..],
                Error::invalid(Param::Kernel, "every tap must be finite"),
            ),
            (
                1,
                &[0.0][..],
                Error::invalid(
                    Param::Kernel,
                    "every tap is zero: the kernel responds to nothing",
                ),
            ),
        ] {
            assert_eq!(Kernel::new(n, taps).unwrap_err(), want, "{n}");
        }
    }
}
