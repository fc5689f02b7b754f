//! Pool: 2-D max-pooling (`MAX_POOL_2D`) as a row kernel; padded cells are ignored.

use crate::exec::Exec;
use crate::quant::clamp_i8;
use crate::{Activation, Error, Param, Quant, Result, Rows, Shape, Window};

/// Largest pooling window height or width.
pub const MAX_WINDOW: usize = 255;

/// Max-pooling: the maximum over the window clipped to the image, then clamped to
/// the fused activation's range. Input and output quantization are the same.
///
/// # Examples
///
/// ```
/// use scanline::{Activation, MaxPool2d, Padding, Quant, Shape, Window};
/// let pool = MaxPool2d {
///     window: Window::square(2, 2, Padding::Valid),
///     quant: Quant::new(0.1, 0),
///     activation: Activation::None,
/// };
/// assert_eq!(pool.output_shape(Shape::new(5, 4, 3)).unwrap(), Shape::new(2, 2, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxPool2d {
    /// Window, stride and padding (dilation must be 1).
    pub window: Window,
    /// Quantization of input and output.
    pub quant: Quant,
    /// Fused activation (the converter folds a following ReLU into the pool).
    pub activation: Activation,
}

impl MaxPool2d {
    /// Validates the layer for `input` and returns its output shape.
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        self.window.validate(MAX_WINDOW)?;
        if self.window.height.dilation != 1 {
            return Err(Error::invalid(
                Param::DilationHeight,
                "max-pooling has no dilation: must be 1",
            ));
        }
        if self.window.width.dilation != 1 {
            return Err(Error::invalid(
                Param::DilationWidth,
                "max-pooling has no dilation: must be 1",
            ));
        }
        if input.channels == 0 {
            return Err(Error::invalid(Param::InChannels, "must be at least 1"));
        }
        self.quant.validate(Param::InputQuant)?;
        self.window.checked_output(input, input.channels)
    }

    /// Computes output row `oy` into `out`; see [`crate::Conv2d::compute_row`].
    pub fn compute_row<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        exec: Exec,
    ) {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = crate::avx2::Avx2::of(exec.kernels) {
            return avx2.pool(self, rows, input, oy, out);
        }
        if exec.kernels.isa() == crate::exec::Isa::Dsp
            && crate::dsp::pool::pool2x2(self, rows, input, oy, out)
        {
            return;
        }
        self.row(rows, input, oy, out);
    }

    /// [`MaxPool2d::compute_row`] with the portable kernels.
    #[inline(always)]
    #[allow(
        clippy::indexing_slicing,
        reason = "measured hot kernel: indices bounded by the validated shapes; checked forms cost in the inner loops"
    )]
    pub(crate) fn row<R: Rows + ?Sized>(&self, rows: &R, input: Shape, oy: usize, out: &mut [i8]) {
        let win = &self.window;
        let c = input.channels;
        let out_w = win.width.output(input.width, win.padding);
        let pad_left = win.pad_left(input.width);
        let y0 = win.height.first_tap(oy, win.pad_top(input.height));
        let (ky_lo, ky_hi) = win.height.tap_range(y0, input.height);
        let (lo, hi) = self.activation.bounds(self.quant);
        let out = &mut out[..out_w * c];
        out.fill(i8::MIN);
        // Rows are gathered in groups, so each output reads its window column-wise
        // from a small array of row slices.
        const GROUP: usize = 16;
        let mut group: [&[i8]; GROUP] = [&[]; GROUP];
        let mut ky = ky_lo;
        while ky < ky_hi {
            let mut n = 0;
            while n < GROUP && ky < ky_hi {
                if let Some(row) = rows.row(y0 + ky as isize) {
                    group[n] = row;
                    n += 1;
                }
                ky += 1;
            }
            for ox in 0..out_w {
                let x0 = win.width.first_tap(ox, pad_left);
                let (kx_lo, kx_hi) = win.width.tap_range(x0, input.width);
                let a = (x0 + kx_lo as isize) as usize * c;
                let b = (x0 + kx_hi as isize) as usize * c;
                for ch in 0..c {
                    let mut m = out[ox * c + ch];
                    for row in &group[..n] {
                        for &v in row[a + ch..b].iter().step_by(c) {
                            m = m.max(v);
                        }
                    }
                    out[ox * c + ch] = m;
                }
            }
        }
        for v in out.iter_mut() {
            *v = clamp_i8(*v as i32, lo, hi);
        }
    }
}

impl MaxPool2d {
    /// True if no input row belongs to two output rows' windows (window height
    /// equal to its stride, at least 2): the streaming engine then keeps a
    /// running maximum in the output row instead of a ring of input rows
    /// (`MaxPool2d::fold_row`).
    pub fn runs(&self) -> bool {
        let h = self.window.height;
        h.kernel >= 2 && h.kernel == h.stride && h.dilation == 1
    }

    /// Folds input `row` (of an input of shape `input`) into `acc`, one output
    /// row: each output's maximum over its columns of this row, maxed into
    /// `acc`, or replacing it when `first` (the first row of its window inside
    /// the image). Max is associative, so after the window's last row
    /// [`MaxPool2d::clamp_row`] gives [`MaxPool2d::compute_row`]'s bytes.
    #[allow(
        clippy::indexing_slicing,
        reason = "measured hot kernel: indices bounded by the validated shapes; checked forms cost in the inner loops"
    )]
    pub(crate) fn fold_row(
        &self,
        row: &[i8],
        input: Shape,
        acc: &mut [i8],
        first: bool,
        exec: Exec,
    ) {
        if exec.kernels.isa() == crate::exec::Isa::Dsp
            && crate::dsp::pool::fold2x2(self, row, input, acc, first)
        {
            return;
        }
        let win = &self.window;
        let c = input.channels;
        let out_w = win.width.output(input.width, win.padding);
        let pad_left = win.pad_left(input.width);
        let Some(acc) = acc.get_mut(..out_w * c) else {
            return;
        };
        if first {
            acc.fill(i8::MIN);
        }
        let ax = win.width;
        if ax.kernel == 2 && ax.stride == 2 && pad_left == 0 && 2 * out_w <= input.width {
            // The common 2x2/2 pool: each output pixel folds two whole input
            // pixels, no border (a loop LLVM vectorizes).
            for (px, pair) in acc.chunks_exact_mut(c).zip(row.chunks_exact(2 * c)) {
                let (l, r) = pair.split_at(c);
                for ((m, &a), &b) in px.iter_mut().zip(l).zip(r) {
                    *m = (*m).max(a.max(b));
                }
            }
            return;
        }
        for (ox, px) in acc.chunks_exact_mut(c).enumerate() {
            let x0 = win.width.first_tap(ox, pad_left);
            let (kx_lo, kx_hi) = win.width.tap_range(x0, input.width);
            let a = (x0 + kx_lo as isize) as usize * c;
            let b = (x0 + kx_hi as isize) as usize * c;
            for pixel in row.get(a..b).unwrap_or_default().chunks_exact(c) {
                for (m, &v) in px.iter_mut().zip(pixel) {
                    *m = (*m).max(v);
                }
            }
        }
    }

    /// Applies the fused activation to a folded output row.
    pub(crate) fn clamp_row(&self, acc: &mut [i8]) {
        let (lo, hi) = self.activation.bounds(self.quant);
        if (lo, hi) != (-128, 127) {
            for v in acc.iter_mut() {
                *v = clamp_i8(*v as i32, lo, hi);
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
    fn windows_clipped_at_the_border_ignore_the_padding() {
        // 3x3, stride 2, SAME on 4x5: 2x3 outputs. Rows: padding 1 in total, after
        // (windows rows 0-2 and 2-3); columns: 2 in total, one each side (windows
        // columns 0-1, 1-3, 3-4). Every value is negative: a padded cell counted as
        // 0 would make every output 0.
        let input = image(&[&[
            " -9  -8  -7  -6  -5",
            " -4  -3  -2  -1 -10",
            "-20 -30 -40 -50 -60",
            " -1  -2  -3  -4  -5",
        ]]);
        let pool = MaxPool2d {
            window: Window::square(3, 2, Padding::Same),
            quant: Quant::new(1.0, 0),
            activation: Activation::None,
        };
        assert_pattern(
            &run(&Layer::MaxPool(pool), Rounding::Double, &input),
            &[&[
                "-3 -1 -1", // rows 0-2: columns 0-1, 1-3, 3-4
                "-1 -2 -4", // rows 2-3: the same columns
            ]],
        );
    }

    #[test]
    fn channels_pool_apart_and_a_fused_relu6_clamps() {
        // 2x2, stride 2, VALID; scale 0.5, zero point -5: ReLU6 keeps
        // [-5, -5 + round(6 / 0.5)] = [-5, 7].
        let input = image(&[
            &["-20 -10 3 9", "-30 -6 8 20"], // channel 0
            &["1 2 3 4", "-1 -2 -3 -4"],     // channel 1
        ]);
        let pool = MaxPool2d {
            window: Window::square(2, 2, Padding::Valid),
            quant: Quant::new(0.5, -5),
            activation: Activation::Relu6,
        };
        assert_pattern(
            &run(&Layer::MaxPool(pool), Rounding::Double, &input),
            &[
                &["-5 7"], // max -6 clamped up to -5, max 20 clamped down to 7
                &["2 4"],
            ],
        );
    }
}
