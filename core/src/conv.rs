//! Conv: 2-D convolution (`CONV_2D`, `tf.nn.conv2d`) as a row kernel, with
//! per-channel requantization and fused activation.

use crate::exec::Exec;
use crate::filter::{Filter, Strides, WeightLayout};
use crate::geometry::MAX_KERNEL;
use crate::quant::clamp_i8;
use crate::requant::{ChannelRequant, Channels};
use crate::{
    Activation, Error, Param, Quant, Requantization, Result, Rounding, Rows, Shape, Values, Window,
};

/// Largest window (`kh * kw * in_channels` values) the window-major kernel gathers
/// on the stack, as i16; larger windows take the pixel-major path. Stack cost:
/// `2 * WINDOW` bytes plus [`OC_CHUNK`] requantization states (12 bytes each).
pub const WINDOW: usize = 1024;

/// Output channels whose requantization the window-major kernel prepares at once.
pub const OC_CHUNK: usize = 32;

/// A 2-D convolution: `acc = bias[c] + Σ w * (x - input_zp)`, then
/// `clamp(requantize(acc) + output_zp, activation range)`.
///
/// See the crate documentation for an example.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conv2d<'a> {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (filters).
    pub out_channels: usize,
    /// Kernel size, stride, dilation and padding.
    pub window: Window,
    /// int8 weights, `out * kh * kw * in` of them, laid out as `layout` says.
    pub weights: &'a [i8],
    /// Memory layout of `weights`.
    pub layout: WeightLayout,
    /// Optional int32 bias per output channel (scale `input_scale * weight_scale[c]`).
    pub bias: Option<Values<'a, i32>>,
    /// Requantization: weight scales, or fixed-point multipliers and shifts; one
    /// (per tensor) or one per output channel.
    pub requant: Requantization<'a>,
    /// Input quantization.
    pub input: Quant,
    /// Output quantization.
    pub output: Quant,
    /// Fused activation.
    pub activation: Activation,
}

impl Conv2d<'_> {
    /// The parameters shared with depthwise convolution.
    fn channels(&self) -> Channels<'_> {
        Channels {
            out_channels: self.out_channels,
            bias: self.bias,
            requant: self.requant,
            input: self.input,
            output: self.output,
        }
    }

    /// Bias and multiplier of output channel `c`.
    pub fn channel_requant(&self, c: usize, rounding: Rounding) -> ChannelRequant {
        self.channels().channel(c, rounding)
    }

    /// The filter's dimensions.
    pub fn filter(&self) -> Filter {
        let w = &self.window;
        Filter::new(
            self.out_channels,
            w.height.kernel,
            w.width.kernel,
            self.in_channels,
        )
    }

    /// Element strides of `(out channel, ky, kx, in channel)` in `weights`.
    fn strides(&self) -> (usize, usize, usize, usize) {
        let Strides { out, y, x, input } = self.filter().strides(self.layout);
        (out, y, x, input)
    }

    /// Validates the layer for `input` and returns its output shape.
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        self.window.validate(MAX_KERNEL)?;
        if self.in_channels == 0 {
            return Err(Error::invalid(Param::InChannels, "must be at least 1"));
        }
        if self.out_channels == 0 {
            return Err(Error::invalid(Param::OutChannels, "must be at least 1"));
        }
        let expected = Shape::new(input.height, input.width, self.in_channels);
        if input.channels != self.in_channels {
            return Err(Error::Shape {
                layer: None,
                expected,
                found: input,
            });
        }
        // Saturating: absurd channel counts must give an error, not an overflow.
        let filter = self.filter();
        let n = filter.len();
        if self.weights.len() != n {
            return Err(Error::length(Param::Weights, n, self.weights.len()));
        }
        let Strides {
            out,
            y,
            x,
            input: si,
        } = filter.strides(self.layout);
        self.channels().validate(|c| {
            let mut sum = 0i64;
            for ky in 0..filter.height {
                for kx in 0..filter.width {
                    for i in 0..filter.in_channels {
                        let w = self.weights.get(c * out + ky * y + kx * x + i * si);
                        sum += w.map_or(0, |&w| i64::from(w).abs());
                    }
                }
            }
            sum
        })?;
        self.window.checked_output(input, self.out_channels)
    }

    /// Computes output row `oy` into `out` (`out_width * out_channels` values) from
    /// the rows of an input of shape `input`. The layer must have been validated for
    /// `input` ([`Conv2d::output_shape`]).
    ///
    /// One input channel (gray) is accumulated tap by tap over a chunk of
    /// output columns (contiguous, vectorizable); many input channels window by
    /// window (each pixel's window gathered once, then one contiguous dot product
    /// per output channel) when each channel's weights are contiguous and the
    /// window has at most [`WINDOW`] values, else pixel by pixel. All sum the same
    /// products.
    pub fn compute_row<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        exec: Exec,
    ) {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx512) = crate::avx512::Avx512::of(exec.kernels)
            && avx512.conv_rows(self, rows, input, oy, out.len(), out, exec.rounding)
        {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = crate::avx2::Avx2::of(exec.kernels) {
            return avx2.conv(self, rows, input, oy, out, exec.rounding);
        }
        if exec.kernels.isa() == crate::exec::Isa::Dsp
            && (crate::dsp::conv::gray3x3(self, rows, input, oy, out, exec.rounding)
                || crate::dsp::conv::windows(self, rows, input, oy, out, exec.rounding))
        {
            return;
        }
        self.row(rows, input, oy, out, exec.rounding);
    }

    /// [`Conv2d::compute_row`] with the portable kernels (inlined into the other
    /// kernel sets' builds of it).
    #[inline(always)]
    #[allow(
        clippy::indexing_slicing,
        reason = "measured hot kernel: indices bounded by the validated shapes; checked forms cost in the inner loops"
    )]
    pub(crate) fn row<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        rounding: Rounding,
    ) {
        let win = &self.window;
        let (taps, ky_lo, ky_hi) = crate::rows::gather(rows, win, input.height, oy);
        let taps = &taps[ky_lo..ky_hi];
        if self.in_channels == 1 {
            self.row_by_taps(taps, ky_lo, input, out, rounding);
        } else if !self.row_by_windows(taps, ky_lo, input, out, rounding) {
            self.row_by_pixels(taps, ky_lo, input, out, rounding);
        }
    }

    /// Window-major, for many input channels when each output channel's weights
    /// are one contiguous `(ky, kx, ic)` run (OHWI, or HWIO with one output
    /// channel) of at most [`WINDOW`] values; returns `false` (and does nothing)
    /// otherwise.
    ///
    /// Each output pixel's window is gathered once, as `x - zp` in i16 (0 for
    /// padding taps, which contribute nothing), into a stack buffer in the
    /// weights' order; every output channel is then one contiguous dot product
    /// with its weights. The products and their order of summation differ from
    /// [`Conv2d::row_by_pixels`] only by reassociation, exact in i32: validation
    /// bounds `|bias| + Σ|w| * max|x - zp|`, hence every partial sum, by `i32::MAX`.
    #[allow(
        clippy::indexing_slicing,
        reason = "measured hot kernel: indices bounded by the validated shapes; checked forms cost in the inner loops"
    )]
    fn row_by_windows(
        &self,
        taps: &[&[i8]],
        ky_lo: usize,
        input: Shape,
        out: &mut [i8],
        rounding: Rounding,
    ) -> bool {
        let win = &self.window;
        let (kh, kw) = (win.height.kernel, win.width.kernel);
        let (ci, co) = (self.in_channels, self.out_channels);
        let len = kh * kw * ci;
        let (so, sy, sx, si) = self.strides();
        let contiguous = si == 1 && sx == ci && sy == kw * ci && (so == len || co == 1);
        if !contiguous || len > WINDOW {
            return false;
        }
        let dx = win.width.dilation as isize;
        let out_w = win.width.output(input.width, win.padding);
        let pad_left = win.pad_left(input.width);
        let (lo, hi) = self.activation.bounds(self.output);
        // Validated: the zero point is an int8, so x - zp fits in i16.
        let zp = self.input.zero_point as i16;
        let run = kw * ci;
        let mut buf = [0i16; WINDOW];
        let window = &mut buf[..len];
        let mut oc0 = 0;
        while oc0 < co {
            let n = OC_CHUNK.min(co - oc0);
            let mut requant = [ChannelRequant::default(); OC_CHUNK];
            for (j, rq) in requant[..n].iter_mut().enumerate() {
                *rq = self.channel_requant(oc0 + j, rounding);
            }
            for ox in 0..out_w {
                let x0 = win.width.first_tap(ox, pad_left);
                let (kx_lo, kx_hi) = win.width.tap_range(x0, input.width);
                for (ky, dst) in window.chunks_exact_mut(run).enumerate() {
                    let Some(row) = ky.checked_sub(ky_lo).and_then(|t| taps.get(t)) else {
                        dst.fill(0);
                        continue;
                    };
                    if dx == 1 && kx_lo == 0 && kx_hi == kw {
                        let ix = x0 as usize * ci;
                        for (d, &x) in dst.iter_mut().zip(&row[ix..ix + run]) {
                            *d = x as i16 - zp;
                        }
                        continue;
                    }
                    for (kx, d) in dst.chunks_exact_mut(ci).enumerate() {
                        if (kx_lo..kx_hi).contains(&kx) {
                            let ix = (x0 + kx as isize * dx) as usize * ci;
                            for (d, &x) in d.iter_mut().zip(&row[ix..ix + ci]) {
                                *d = x as i16 - zp;
                            }
                        } else {
                            d.fill(0);
                        }
                    }
                }
                let px = &mut out[ox * co + oc0..ox * co + oc0 + n];
                for (j, (o, rq)) in px.iter_mut().zip(&requant).enumerate() {
                    let oc = oc0 + j;
                    let w = &self.weights[oc * len..(oc + 1) * len];
                    let dot: i32 = window
                        .iter()
                        .zip(w)
                        .map(|(&x, &w)| x as i32 * w as i32)
                        .sum();
                    let v = rq
                        .mult
                        .apply_offset(rq.bias + dot, rounding, self.output.zero_point);
                    *o = clamp_i8(v, lo, hi);
                }
            }
            oc0 += n;
        }
        true
    }

    /// Tap-major: for each tap, `acc[ox] += w * (x - zp)` over a chunk of columns.
    #[allow(
        clippy::indexing_slicing,
        reason = "measured hot kernel: indices bounded by the validated shapes; checked forms cost in the inner loops"
    )]
    fn row_by_taps(
        &self,
        taps: &[&[i8]],
        ky_lo: usize,
        input: Shape,
        out: &mut [i8],
        rounding: Rounding,
    ) {
        const CHUNK: usize = 64;
        let win = &self.window;
        let (sx, dx) = (win.width.stride, win.width.dilation);
        let (ci, co) = (self.in_channels, self.out_channels);
        let out_w = win.width.output(input.width, win.padding);
        let pad_left = win.pad_left(input.width) as isize;
        let (lo_q, hi_q) = self.activation.bounds(self.output);
        let zp = self.input.zero_point;
        let (so, sy, sxw, si) = self.strides();
        let mut acc = [0i32; CHUNK];
        for oc in 0..co {
            let rq = self.channel_requant(oc, rounding);
            let w_oc = &self.weights[oc * so..];
            let mut ox0 = 0;
            while ox0 < out_w {
                let n = CHUNK.min(out_w - ox0);
                let acc = &mut acc[..n];
                acc.fill(rq.bias);
                for (t, row) in taps.iter().enumerate() {
                    let ky = ky_lo + t;
                    for kx in 0..win.width.kernel {
                        // Columns ox with 0 <= ox*sx + off < width read this tap.
                        let off = (kx * dx) as isize - pad_left;
                        let last = input.width as isize - 1 - off;
                        if last < 0 {
                            continue;
                        }
                        let lo = if off >= 0 { 0 } else { (-off) as usize }.div_ceil(sx);
                        let hi = last as usize / sx + 1;
                        let (a, b) = (lo.max(ox0), hi.min(ox0 + n));
                        if a >= b {
                            continue;
                        }
                        let step = sx * ci;
                        let first = ((a * sx) as isize + off) as usize * ci;
                        for ic in 0..ci {
                            let w = w_oc[ky * sy + kx * sxw + ic * si] as i32;
                            if w == 0 {
                                continue;
                            }
                            let xs = &row[first + ic..];
                            let accs = &mut acc[a - ox0..b - ox0];
                            if step == 1 {
                                for (s, &x) in accs.iter_mut().zip(xs) {
                                    *s += w * (x as i32 - zp);
                                }
                            } else {
                                for (s, &x) in accs.iter_mut().zip(xs.iter().step_by(step)) {
                                    *s += w * (x as i32 - zp);
                                }
                            }
                        }
                    }
                }
                for (j, &s) in acc.iter().enumerate() {
                    let v = rq.mult.apply_offset(s, rounding, self.output.zero_point);
                    out[(ox0 + j) * co + oc] = clamp_i8(v, lo_q, hi_q);
                }
                ox0 += n;
            }
        }
    }

    /// Pixel-major: for each output pixel, a dot product over the window.
    #[allow(
        clippy::indexing_slicing,
        reason = "measured hot kernel: indices bounded by the validated shapes; checked forms cost in the inner loops"
    )]
    fn row_by_pixels(
        &self,
        taps: &[&[i8]],
        ky_lo: usize,
        input: Shape,
        out: &mut [i8],
        rounding: Rounding,
    ) {
        let win = &self.window;
        let dx = win.width.dilation as isize;
        let (ci, co) = (self.in_channels, self.out_channels);
        let out_w = win.width.output(input.width, win.padding);
        let pad_left = win.pad_left(input.width);
        let (lo, hi) = self.activation.bounds(self.output);
        let zp = self.input.zero_point;
        let (so, sy, sx, si) = self.strides();
        // With OHWI weights and no horizontal dilation, a full window row is one
        // contiguous run of kw * ci values in both the input row and the weights.
        let contiguous = si == 1 && dx == 1;
        for oc in 0..co {
            let rq = self.channel_requant(oc, rounding);
            let w_oc = &self.weights[oc * so..];
            for ox in 0..out_w {
                let x0 = win.width.first_tap(ox, pad_left);
                let (kx_lo, kx_hi) = win.width.tap_range(x0, input.width);
                let mut acc = rq.bias;
                for (t, row) in taps.iter().enumerate() {
                    let ky = ky_lo + t;
                    if contiguous {
                        let ix = (x0 + kx_lo as isize) as usize;
                        let len = (kx_hi - kx_lo) * ci;
                        let px = &row[ix * ci..ix * ci + len];
                        let w = &w_oc[ky * sy + kx_lo * sx..ky * sy + kx_lo * sx + len];
                        acc += px
                            .iter()
                            .zip(w)
                            .map(|(&x, &w)| w as i32 * (x as i32 - zp))
                            .sum::<i32>();
                        continue;
                    }
                    for kx in kx_lo..kx_hi {
                        let ix = (x0 + kx as isize * dx) as usize;
                        let px = &row[ix * ci..ix * ci + ci];
                        let w = &w_oc[ky * sy + kx * sx..];
                        for (i, &xv) in px.iter().enumerate() {
                            acc += w[i * si] as i32 * (xv as i32 - zp);
                        }
                    }
                }
                let v = rq.mult.apply_offset(acc, rounding, self.output.zero_point);
                out[ox * co + oc] = clamp_i8(v, lo, hi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Hand-worked rows. Scales of 1 (input, weights, output) make the
    //! requantization the identity (real multiplier 1: `M = 2^30, shift = 1`), so an
    //! output is its accumulator plus the output zero point, clamped.

    use super::*;
    use crate::pattern::{Image, assert_pattern, image, run};
    use crate::{Axis, Layer, Padding};

    const ONE: Quant = Quant::new(1.0, 0);

    /// A 1-channel convolution with scale-1 quantization and no activation.
    fn gray(window: Window, weights: &[i8]) -> Conv2d<'_> {
        Conv2d {
            in_channels: 1,
            out_channels: 1,
            window,
            weights,
            layout: WeightLayout::Ohwi,
            bias: None,
            requant: Requantization::WeightScales(Values::Slice(&[1.0])),
            input: ONE,
            output: ONE,
            activation: Activation::None,
        }
    }

    /// A 3x3 kernel reading the window's top-left and bottom-right corners.
    fn corners() -> Vec<i8> {
        #[rustfmt::skip]
        let kernel = image(&[&[
            "1 0 0",
            "0 0 0",
            "0 0 1",
        ]]);
        kernel.1
    }

    /// `conv` over `input`, rounding twice (TFLite's default).
    fn conv_rows(conv: Conv2d<'_>, input: &Image) -> Image {
        run(&Layer::Conv2d(conv), Rounding::Double, input)
    }

    #[test]
    fn same_padding_reads_nothing_outside_and_the_kernel_is_not_flipped() {
        // Kernel taps top-left (1) and bottom-right (2): out(y, x) =
        // in(y-1, x-1) + 2 * in(y+1, x+1), a tap outside the image adding nothing
        // (TF's conv2d is a correlation: no flip).
        let input = image(&[&[
            " 1  2  3  4", //
            " 5  6  7  8",
            " 9 10 11 12",
        ]]);
        #[rustfmt::skip]
        let kernel = image(&[&[
            "1 0 0",
            "0 0 0",
            "0 0 2",
        ]]);
        let conv = gray(Window::square(3, 1, Padding::Same), &kernel.1);
        assert_pattern(
            &conv_rows(conv, &input),
            &[&[
                // row 0: nothing above; 2 * row 1 shifted left, 0 past the right edge
                "12 14 16  0",
                // row 1: row 0 shifted right (0 at the left edge) + 2 * row 2 shifted left
                "20 23 26  3",
                // row 2: row 1 shifted right; nothing below
                " 0  5  6  7",
            ]],
        );
    }

    #[test]
    fn padding_holds_the_input_zero_point_and_the_output_zero_point_is_added() {
        // A flat image of real value 1 (stored 11 at zero point 10) under a 3x3
        // box: each output counts the taps inside the image (4 at a corner, 6 on an
        // edge, 9 inside), then the output zero point -5 is added.
        let input = image(&[&["11 11 11 11", "11 11 11 11", "11 11 11 11"]]);
        let conv = Conv2d {
            input: Quant::new(1.0, 10),
            output: Quant::new(1.0, -5),
            ..gray(Window::square(3, 1, Padding::Same), &[1; 9])
        };
        assert_pattern(
            &conv_rows(conv, &input),
            &[&[
                "-1  1  1 -1", //
                " 1  4  4  1",
                "-1  1  1 -1",
            ]],
        );
    }

    #[test]
    fn stride_two_same_puts_the_odd_padding_at_the_bottom_right() {
        // 4 wide, 3x3, stride 2, SAME: 2 outputs, padding total (2-1)*2 + 3 - 4 = 1,
        // all of it after (none before). Taps top-left and bottom-right:
        // out(oy, ox) = in(2oy, 2ox) + in(2oy+2, 2ox+2), the second past the
        // bottom/right edge for the last row/column.
        let input = image(&[&[
            " 0  1  2  3", //
            " 4  5  6  7",
            " 8  9 10 11",
            "12 13 14 15",
        ]]);
        let kernel = corners();
        let conv = gray(Window::square(3, 2, Padding::Same), &kernel);
        assert_pattern(
            &conv_rows(conv, &input),
            &[&[
                "10  2", // 0 + 10, 2 + (past the right edge)
                " 8 10", // 8 + (past the bottom), 10 + (past both)
            ]],
        );
    }

    #[test]
    fn stride_two_valid_and_dilation_two_down() {
        // 5x5, in(y, x) = 10y + x.
        let input = image(&[&[
            " 0  1  2  3  4",
            "10 11 12 13 14",
            "20 21 22 23 24",
            "30 31 32 33 34",
            "40 41 42 43 44",
        ]]);
        // 3x3 stride 2 VALID, taps top-left and bottom-right: 2x2 outputs,
        // out(oy, ox) = in(2oy, 2ox) + in(2oy+2, 2ox+2).
        let kernel = corners();
        let strided = gray(Window::square(3, 2, Padding::Valid), &kernel);
        assert_pattern(
            &conv_rows(strided, &input),
            &[&[
                "22 26", //  0+22,  2+24
                "62 66", // 20+42, 22+44
            ]],
        );
        // 2x2 taps, dilation 2 down, 1 across (effective 3x2), VALID: 3x4 outputs,
        // out(y, x) = in(y, x) + in(y+2, x+1) = 20y + 2x + 21.
        let dilated = Window {
            height: Axis::new(2, 1, 2),
            width: Axis::new(2, 1, 1),
            padding: Padding::Valid,
        };
        assert_pattern(
            &conv_rows(gray(dilated, &[1, 0, 0, 1]), &input),
            &[&[
                "21 23 25 27", //
                "41 43 45 47",
                "61 63 65 67",
            ]],
        );
    }

    #[test]
    fn a_multiplier_per_output_channel_and_both_roundings() {
        // 1x1 conv, one input channel copied to two output channels with real
        // multipliers 1 (M = 2^30, shift 1) and 1/4 (M = 2^30, shift -1).
        // Channel 1 is x/4: 6/4 = 1.5 and -6/4 = -1.5 round away from zero under
        // double rounding, toward +inf under single; 5/4 = 1.25 becomes 2 under
        // double rounding (SRDHM rounds 2.5 up to 3, then 3/2 = 1.5 to 2), 1 under
        // single (one rounding of 1.25).
        let input = image(&[&["6 -6 2 -2 5 -5"]]);
        let fixed = Requantization::Fixed {
            multipliers: Values::Slice(&[1 << 30, 1 << 30]),
            shifts: Values::Slice(&[1, -1]),
        };
        let scales = Requantization::WeightScales(Values::Slice(&[1.0, 0.25]));
        for requant in [fixed, scales] {
            let conv = Conv2d {
                out_channels: 2,
                requant,
                ..gray(Window::square(1, 1, Padding::Valid), &[1, 1])
            };
            assert_pattern(
                &conv_rows(conv, &input),
                &[&["6 -6 2 -2 5 -5"], &["2 -2 1 -1 2 -1"]],
            );
            assert_pattern(
                &run(&Layer::Conv2d(conv), Rounding::Single, &input),
                &[&["6 -6 2 -2 5 -5"], &["2 -1 1  0 1 -1"]],
            );
        }
    }

    #[test]
    fn fused_relu6_clamps_to_zero_and_six_in_output_units() {
        // Output scale 1/2, zero point -100: q = 2 * acc - 100 (multiplier 2:
        // M = 2^30, shift 2), clamped by ReLU6 to [zp, zp + round(6 / 0.5)] =
        // [-100, -88], the reals 0 and 6.
        let input = image(&[&["-3 0 1 3 6 50"]]);
        let conv = Conv2d {
            output: Quant::new(0.5, -100),
            activation: Activation::Relu6,
            ..gray(Window::square(1, 1, Padding::Valid), &[1])
        };
        assert_pattern(
            &conv_rows(conv, &input),
            // 2*acc - 100: -106 -100 -98 -94 -88 0
            &[&["-100 -100 -98 -94 -88 -88"]],
        );
    }

    #[test]
    fn several_input_channels_both_layouts_and_a_bias() {
        // Two input channels a, b; 1x1 kernel; out0 = 2a - b + 7, out1 = a + b.
        // OHWI lists the weights output channel by output channel, HWIO input
        // channel by input channel.
        let input = image(&[&["1 2 3", "4 5 6"], &["10 20 30", "0 -1 -2"]]);
        for (layout, weights) in [
            (WeightLayout::Ohwi, [2, -1, 1, 1]),
            (WeightLayout::Hwio, [2, 1, -1, 1]),
        ] {
            let conv = Conv2d {
                in_channels: 2,
                out_channels: 2,
                layout,
                bias: Some(Values::Slice(&[7, 0])),
                requant: Requantization::WeightScales(Values::Slice(&[1.0])),
                ..gray(Window::square(1, 1, Padding::Valid), &weights)
            };
            assert_pattern(
                &conv_rows(conv, &input),
                &[
                    &[
                        "-1 -9 -17", // 2-10+7, 4-20+7, 6-30+7
                        "15 18  21", // 8-0+7, 10+1+7, 12+2+7
                    ],
                    &[
                        "11 22 33", //
                        " 4  4  4",
                    ],
                ],
            );
        }
    }
}
