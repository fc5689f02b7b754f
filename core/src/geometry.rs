//! Geometry of sliding windows: TensorFlow's SAME/VALID output sizes and padding,
//! stride and dilation per axis. The one place these formulas live.

use crate::{Error, Param, Result, Shape};

/// Largest kernel height or width of a convolution, in taps.
pub const MAX_KERNEL: usize = 16;

/// TensorFlow padding mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// Output size `ceil(in / stride)`; the window is centred, the odd extra
    /// padding row/column goes to the bottom/right.
    #[default]
    Same,
    /// No padding: output size `ceil((in - eff_k + 1) / stride)`.
    Valid,
}

/// A window along one axis: size, stride, dilation.
///
/// # Examples
///
/// ```
/// use scanline::{Axis, Padding};
/// let a = Axis::new(3, 2, 1);
/// assert_eq!(a.output(7, Padding::Same), 4);
/// assert_eq!(a.output(7, Padding::Valid), 3);
/// assert_eq!(a.pad_before(7, Padding::Same), 1);
/// // Even input: total padding 1 goes to the end.
/// assert_eq!(a.pad_before(8, Padding::Same), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axis {
    /// Taps (kernel size or pooling window).
    pub kernel: usize,
    /// Step between outputs.
    pub stride: usize,
    /// Step between taps.
    pub dilation: usize,
}

impl Axis {
    /// An axis with the given kernel, stride and dilation.
    pub const fn new(kernel: usize, stride: usize, dilation: usize) -> Self {
        Self {
            kernel,
            stride,
            dilation,
        }
    }

    /// `(kernel - 1) * dilation + 1`.
    pub const fn effective(&self) -> usize {
        (self.kernel.saturating_sub(1)).saturating_mul(self.dilation) + 1
    }

    /// Output length for an input of length `input` (0 if the window never fits).
    pub const fn output(&self, input: usize, padding: Padding) -> usize {
        if input == 0 || self.stride == 0 {
            return 0;
        }
        match padding {
            Padding::Same => input.div_ceil(self.stride),
            Padding::Valid => {
                let eff = self.effective();
                if input < eff {
                    0
                } else {
                    (input - eff + 1).div_ceil(self.stride)
                }
            }
        }
    }

    /// Total padding `max(0, (out - 1) * stride + eff_k - in)`.
    pub const fn pad_total(&self, input: usize, padding: Padding) -> usize {
        let out = self.output(input, padding);
        if out == 0 {
            return 0;
        }
        ((out - 1) * self.stride + self.effective()).saturating_sub(input)
    }

    /// Padding before the first input (top or left): `total / 2`.
    pub const fn pad_before(&self, input: usize, padding: Padding) -> usize {
        self.pad_total(input, padding) / 2
    }

    /// Input index of tap 0 for output `o` (negative inside the top/left padding).
    #[inline]
    pub const fn first_tap(&self, o: usize, pad_before: usize) -> isize {
        (o * self.stride) as isize - pad_before as isize
    }

    /// Last input index (exclusive upper bound) any tap of outputs `0..=o` reads,
    /// clipped to `input`: once this many inputs have arrived, output `o` is determined.
    pub const fn inputs_needed(&self, o: usize, input: usize, pad_before: usize) -> usize {
        let last = self.first_tap(o, pad_before) + ((self.kernel - 1) * self.dilation) as isize;
        let need = if last < 0 { 0 } else { last as usize + 1 };
        if need > input { input } else { need }
    }

    /// The taps `lo..hi` of a window starting at input index `first` that fall inside
    /// `0..input` (taps outside contribute nothing: they are padding).
    #[inline]
    pub const fn tap_range(&self, first: isize, input: usize) -> (usize, usize) {
        // At least 1 (validated); said again so the divisions below cannot panic.
        let d = self.dilation as isize;
        let d = if d > 1 { d } else { 1 };
        let lo = if first < 0 { ((-first) + d - 1) / d } else { 0 };
        let last_in = input as isize - 1 - first; // largest offset still inside
        if last_in < 0 {
            return (0, 0);
        }
        let hi = last_in / d + 1;
        let hi = if hi > self.kernel as isize {
            self.kernel as isize
        } else {
            hi
        };
        if lo >= hi {
            (0, 0)
        } else {
            (lo as usize, hi as usize)
        }
    }

    fn validate(&self, k: Param, s: Param, d: Param, max_kernel: usize) -> Result<()> {
        if self.kernel == 0 || self.kernel > max_kernel {
            return Err(Error::invalid(
                k,
                "must be at least 1 and within the supported maximum",
            ));
        }
        if self.stride == 0 || self.stride > 255 {
            return Err(Error::invalid(s, "must be in 1..=255"));
        }
        if self.dilation == 0 || self.dilation > 255 {
            return Err(Error::invalid(d, "must be in 1..=255"));
        }
        Ok(())
    }
}

/// A 2-D window: height axis, width axis and padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Vertical axis (rows).
    pub height: Axis,
    /// Horizontal axis (columns).
    pub width: Axis,
    /// SAME or VALID.
    pub padding: Padding,
}

impl Window {
    /// A `k`x`k` window with stride `stride` in both axes, no dilation.
    ///
    /// ```
    /// use scanline::{Padding, Shape, Window};
    /// let w = Window::square(3, 1, Padding::Same);
    /// assert_eq!(w.output(Shape::new(5, 7, 2), 4), Shape::new(5, 7, 4));
    /// ```
    pub const fn square(k: usize, stride: usize, padding: Padding) -> Self {
        Self {
            height: Axis::new(k, stride, 1),
            width: Axis::new(k, stride, 1),
            padding,
        }
    }

    /// Output shape for `input`, with `channels` output channels.
    pub const fn output(&self, input: Shape, channels: usize) -> Shape {
        Shape::new(
            self.height.output(input.height, self.padding),
            self.width.output(input.width, self.padding),
            channels,
        )
    }

    /// Top padding rows for an input of height `h`.
    pub const fn pad_top(&self, h: usize) -> usize {
        self.height.pad_before(h, self.padding)
    }

    /// Left padding columns for an input of width `w`.
    pub const fn pad_left(&self, w: usize) -> usize {
        self.width.pad_before(w, self.padding)
    }

    /// Checks sizes, strides and dilations: kernels in `1..=max_kernel` taps,
    /// strides and dilations in `1..=255`; the error names the parameter.
    ///
    /// ```
    /// use scanline::{Axis, Padding, Window, Error, Param};
    /// let mut w = Window::square(3, 1, Padding::Same);
    /// assert!(w.validate(16).is_ok());
    /// w.width = Axis::new(3, 0, 1);
    /// assert!(matches!(w.validate(16), Err(Error::Invalid { param: Param::StrideWidth, .. })));
    /// ```
    pub fn validate(&self, max_kernel: usize) -> Result<()> {
        self.height.validate(
            Param::KernelHeight,
            Param::StrideHeight,
            Param::DilationHeight,
            max_kernel,
        )?;
        self.width.validate(
            Param::KernelWidth,
            Param::StrideWidth,
            Param::DilationWidth,
            max_kernel,
        )
    }

    /// Output shape, or [`Error::EmptyOutput`] when a VALID window does not fit.
    ///
    /// ```
    /// use scanline::{Padding, Shape, Window, Error};
    /// let w = Window::square(5, 1, Padding::Valid);
    /// assert_eq!(w.checked_output(Shape::new(6, 6, 1), 2), Ok(Shape::new(2, 2, 2)));
    /// assert!(matches!(w.checked_output(Shape::new(4, 6, 1), 2), Err(Error::EmptyOutput { .. })));
    /// ```
    pub fn checked_output(&self, input: Shape, channels: usize) -> Result<Shape> {
        let out = self.output(input, channels);
        if out.height == 0 || out.width == 0 {
            return Err(Error::EmptyOutput { layer: None, input });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TF's formulas written out literally, for comparison.
    fn tf(input: usize, k: usize, s: usize, d: usize, same: bool) -> (usize, usize) {
        let eff = (k - 1) * d + 1;
        let out = if same {
            input.div_ceil(s)
        } else if input + 1 > eff {
            (input - eff + 1).div_ceil(s)
        } else {
            0
        };
        let total = if out == 0 {
            0
        } else {
            ((out as isize - 1) * s as isize + eff as isize - input as isize).max(0) as usize
        };
        (out, total / 2)
    }

    #[test]
    fn matches_tf_formulas() {
        for input in 1..40 {
            for k in 1..8 {
                for s in 1..4 {
                    for d in 1..4 {
                        let a = Axis::new(k, s, d);
                        for (pad, same) in [(Padding::Same, true), (Padding::Valid, false)] {
                            let (out, before) = tf(input, k, s, d, same);
                            assert_eq!(a.output(input, pad), out);
                            assert_eq!(a.pad_before(input, pad), before);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn odd_padding_goes_to_the_end() {
        // k=4, s=1, SAME: total 3 → 1 before, 2 after.
        let a = Axis::new(4, 1, 1);
        assert_eq!(a.pad_total(10, Padding::Same), 3);
        assert_eq!(a.pad_before(10, Padding::Same), 1);
        // k=3, s=2, in=6, SAME: out 3, total (2*2+3-6)=1 → 0 before.
        let a = Axis::new(3, 2, 1);
        assert_eq!(a.pad_before(6, Padding::Same), 0);
        // Dilation 2: eff 5, SAME, s=1: total 4 → 2 before.
        let a = Axis::new(3, 1, 2);
        assert_eq!(a.pad_before(9, Padding::Same), 2);
        assert_eq!(a.output(4, Padding::Valid), 0);
    }

    #[test]
    fn tap_range_matches_brute_force() {
        for input in 1..12 {
            for k in 1..6 {
                for d in 1..4 {
                    let a = Axis::new(k, 1, d);
                    for first in -12isize..12 {
                        let inside: Vec<usize> = (0..k)
                            .filter(|&t| (0..input as isize).contains(&(first + (t * d) as isize)))
                            .collect();
                        let (lo, hi) = a.tap_range(first, input);
                        assert_eq!(
                            inside,
                            (lo..hi).collect::<Vec<_>>(),
                            "{input} {k} {d} {first}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn inputs_needed_is_monotone_and_clipped() {
        let a = Axis::new(3, 1, 1);
        assert_eq!(a.inputs_needed(0, 10, 1), 2);
        assert_eq!(a.inputs_needed(9, 10, 1), 10);
        let a = Axis::new(1, 3, 1);
        assert_eq!(a.inputs_needed(2, 10, 0), 7);
    }

    #[test]
    fn validation_names_the_axis() {
        let w = Window {
            height: Axis::new(3, 0, 1),
            width: Axis::new(3, 1, 1),
            padding: Padding::Same,
        };
        assert_eq!(
            w.validate(16),
            Err(Error::invalid(Param::StrideHeight, "must be in 1..=255"))
        );
        let w = Window::square(17, 1, Padding::Same);
        assert_eq!(
            w.validate(16),
            Err(Error::invalid(
                Param::KernelHeight,
                "must be at least 1 and within the supported maximum"
            ))
        );
        let w = Window {
            height: Axis::new(3, 1, 1),
            width: Axis::new(3, 1, 256),
            padding: Padding::Valid,
        };
        assert_eq!(
            w.validate(16),
            Err(Error::invalid(Param::DilationWidth, "must be in 1..=255"))
        );
    }
}
