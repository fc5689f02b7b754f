//! Average: 2-D average pooling (`AVERAGE_POOL_2D`) as a row kernel, rounded as
//! TFLite's reference int8 kernel: padded cells are not counted.

use crate::exec::Exec;
use crate::quant::clamp_i8;
use crate::{Activation, Quant, Result, Rows, Shape, Window};

/// Average pooling: the sum over the window clipped to the image divided by the
/// number of cells inside the image, `(sum + n/2) / n` for a positive sum and
/// `(sum - n/2) / n` otherwise (C division, truncating), then clamped to the fused
/// activation's range. Input and output quantization are the same.
///
/// # Examples
///
/// ```
/// use scanline::{Activation, AvgPool2d, Padding, Quant, Shape, Window};
/// let pool = AvgPool2d {
///     window: Window::square(2, 2, Padding::Valid),
///     quant: Quant::new(0.1, 0),
///     activation: Activation::None,
/// };
/// assert_eq!(pool.output_shape(Shape::new(5, 4, 3)).unwrap(), Shape::new(2, 2, 3));
/// assert_eq!(AvgPool2d::average(-6, 4), -2); // -1.5 rounds away from zero
/// assert_eq!(AvgPool2d::average(6, 4), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AvgPool2d {
    /// Window, stride and padding (dilation must be 1).
    pub window: Window,
    /// Quantization of input and output.
    pub quant: Quant,
    /// Fused activation.
    pub activation: Activation,
}

impl AvgPool2d {
    /// Validates the layer for `input` and returns its output shape: the window
    /// rules of max-pooling ([`crate::MaxPool2d::output_shape`]).
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        crate::MaxPool2d {
            window: self.window,
            quant: self.quant,
            activation: self.activation,
        }
        .output_shape(input)
    }

    /// TFLite's rounded division of a window sum by its cell count `n > 0`.
    #[inline]
    pub const fn average(sum: i32, n: i32) -> i32 {
        if sum > 0 {
            (sum + n / 2) / n
        } else {
            (sum - n / 2) / n
        }
    }

    /// Computes output row `oy` into `out`; see [`crate::Conv2d::compute_row`].
    #[allow(
        clippy::indexing_slicing,
        reason = "hot kernel like max-pooling's: indices bounded by the validated shapes"
    )]
    pub fn compute_row<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        _exec: Exec,
    ) {
        let win = &self.window;
        let c = input.channels;
        let out_w = win.width.output(input.width, win.padding);
        let pad_left = win.pad_left(input.width);
        let y0 = win.height.first_tap(oy, win.pad_top(input.height));
        let (ky_lo, ky_hi) = win.height.tap_range(y0, input.height);
        let (lo, hi) = self.activation.bounds(self.quant);
        for ox in 0..out_w {
            let x0 = win.width.first_tap(ox, pad_left);
            let (kx_lo, kx_hi) = win.width.tap_range(x0, input.width);
            let a = (x0 + kx_lo as isize) as usize * c;
            let b = (x0 + kx_hi as isize) as usize * c;
            for ch in 0..c {
                let mut sum = 0i32;
                let mut n = 0i32;
                for ky in ky_lo..ky_hi {
                    if let Some(row) = rows.row(y0 + ky as isize) {
                        let taps = row.get(a + ch..b).unwrap_or_default();
                        for &v in taps.iter().step_by(c) {
                            sum += v as i32;
                        }
                        n += (kx_hi - kx_lo) as i32;
                    }
                }
                // A window always holds a cell of the image (validated shapes).
                let avg = if n > 0 { Self::average(sum, n) } else { 0 };
                if let Some(o) = out.get_mut(ox * c + ch) {
                    *o = clamp_i8(avg, lo, hi);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Hand-worked rows.

    use super::*;
    use crate::pattern::{assert_pattern, image, run};
    use crate::{Layer, Padding, Rounding};

    #[test]
    fn border_windows_count_only_cells_inside_the_image() {
        // 3x3, stride 2, SAME on 4x5: rows 0-2 and 2-3, columns 0-1, 1-3, 3-4.
        let input = image(&[&[
            "  1   2   3   4   5",
            "  6   7   8   9  10",
            " 11  12  13  14  15",
            "-16 -17 -18 -19 -20",
        ]]);
        let pool = AvgPool2d {
            window: Window::square(3, 2, Padding::Same),
            quant: Quant::new(1.0, 0),
            activation: Activation::None,
        };
        // (1+2+6+7+11+12)/6 = 6.5 -> 7; (2+3+4+7+8+9+12+13+14)/9 = 8;
        // (4+5+9+10+14+15)/6 = 9.5 -> 10; (11+12-16-17)/4 = -2.5 -> -3;
        // (12+13+14-17-18-19)/6 = -2.5 -> -3; (14+15-19-20)/4 = -2.5 -> -3.
        assert_pattern(
            &run(&Layer::AvgPool(pool), Rounding::Double, &input),
            &[&["7 8 10", "-3 -3 -3"]],
        );
    }

    #[test]
    fn a_fused_relu_clamps_at_the_zero_point() {
        let input = image(&[&["-20 -10", "-30 -6"]]);
        let pool = AvgPool2d {
            window: Window::square(2, 2, Padding::Valid),
            quant: Quant::new(0.5, -5),
            activation: Activation::Relu,
        };
        assert_pattern(
            &run(&Layer::AvgPool(pool), Rounding::Double, &input),
            &[&["-5"]],
        );
    }
}
