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
                        sum += (self.weights[c * out + ky * y + kx * x + i * si] as i64).abs();
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
        if let Some(avx2) = crate::avx2::Avx2::of(exec.kernels) {
            return avx2.conv(self, rows, input, oy, out, exec.rounding);
        }
        self.row(rows, input, oy, out, exec.rounding);
    }

    /// [`Conv2d::compute_row`] with the portable kernels (inlined into the other
    /// kernel sets' builds of it).
    #[inline(always)]
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
                    let v = rq.mult.apply(rq.bias + dot, rounding) + self.output.zero_point;
                    *o = clamp_i8(v, lo, hi);
                }
            }
            oc0 += n;
        }
        true
    }

    /// Tap-major: for each tap, `acc[ox] += w * (x - zp)` over a chunk of columns.
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
                    let v = rq.mult.apply(s, rounding) + self.output.zero_point;
                    out[(ox0 + j) * co + oc] = clamp_i8(v, lo_q, hi_q);
                }
                ox0 += n;
            }
        }
    }

    /// Pixel-major: for each output pixel, a dot product over the window.
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
                let v = rq.mult.apply(acc, rounding) + self.output.zero_point;
                out[ox * co + oc] = clamp_i8(v, lo, hi);
            }
        }
    }
}
