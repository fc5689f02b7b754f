//! Conv: the Cortex-M4 convolution kernels — 3x3 over one input channel, and
//! window by window over many input channels, four output channels a pass.
//! Both fold the input zero point into the bias (`bias - zp * Σ w`), so a
//! padding tap is the zero point itself and every tap is a plain product.
//! Accumulation wraps like the hardware's: the final sum is the true one,
//! which validation bounds within i32, so the intermediate wrap is harmless.

use super::{Requant, dot4, pair, smlabb, smlad, smlatb, sxtb16, sxtb16_ror8, word};
use crate::conv::Conv2d;
use crate::filter::Strides;
use crate::{Rounding, Rows, Shape};

/// Widest input row (values) the 3x3 gray kernel takes.
pub(crate) const GRAY_ROW: usize = 1024;
/// Largest window (values, rounded up to 4) of the many-channel kernel.
pub(crate) const WINDOW: usize = 1024;
/// Packed weight words (int16 pairs) the many-channel kernel holds at once.
const PACK: usize = 1024;
/// Most output channels prepared at once.
const CHUNK: usize = 32;
/// Output channels per pass over a window ([`dot4`]).
const BLOCK: usize = 4;

/// Folded bias and requantization of output channel `c`, whose taps are
/// `taps()` (an iterator over its weights).
fn channel(
    conv: &Conv2d<'_>,
    c: usize,
    taps: impl Iterator<Item = i8>,
    rounding: Rounding,
) -> (i32, Requant) {
    let rq = conv.channel_requant(c, rounding);
    let zp = conv.input.zero_point;
    let (mut sum, mut abs) = (0i32, 0i64);
    for w in taps {
        sum += w as i32;
        abs += (w as i64).abs();
    }
    let dev = (127 - zp).max(zp + 128) as i64;
    let bound = (rq.bias as i64).abs() + abs * dev;
    let requant = Requant::new(
        bound,
        rq.mult,
        rounding,
        conv.output.zero_point,
        conv.activation.bounds(conv.output),
    );
    (rq.bias.wrapping_sub(zp.wrapping_mul(sum)), requant)
}

/// 3x3, stride 1, no dilation, one input channel, at most one column of
/// left padding and [`GRAY_ROW`] columns; `false` (nothing done) otherwise.
///
/// Each kernel row is one word load of four input bytes, widened to the pairs
/// (x0, x2) and (x1, x3): output j is `SMLAD((x0, x2), (w0, w2)) + x1 * w1`,
/// output j + 1 `SMLAD((x1, x3), (w0, w2)) + x2 * w1`.
pub(crate) fn gray3x3<R: Rows + ?Sized>(
    conv: &Conv2d<'_>,
    rows: &R,
    input: Shape,
    oy: usize,
    out: &mut [i8],
    rounding: Rounding,
) -> bool {
    let win = &conv.window;
    let (h, w) = (win.height, win.width);
    let square = h.kernel == 3 && w.kernel == 3 && h.stride == 1 && w.stride == 1;
    let plain = h.dilation == 1 && w.dilation == 1 && conv.in_channels == 1;
    let pad_left = win.pad_left(input.width);
    if !(square && plain && pad_left <= 1 && input.width + 8 <= GRAY_ROW) {
        return false;
    }
    let y0 = h.first_tap(oy, win.pad_top(input.height));
    let taps: [Option<&[i8]>; 3] = core::array::from_fn(|ky| rows.row(y0 + ky as isize));
    gray3x3_row(conv, &taps, input, pad_left, out, rounding);
    true
}

/// [`gray3x3`] once the rows are found (one copy of the code for both engines).
#[inline(never)]
fn gray3x3_row(
    conv: &Conv2d<'_>,
    taps: &[Option<&[i8]>; 3],
    input: Shape,
    pad_left: usize,
    out: &mut [i8],
    rounding: Rounding,
) {
    if let [Some(r0), Some(r1), Some(r2)] = *taps {
        return gray3x3_inside(conv, [r0, r1, r2], input, pad_left, out, rounding);
    }
    // A row outside the image reads as the zero point (it then adds nothing:
    // the zero point is folded into the bias).
    let zp = [conv.input.zero_point as i8; GRAY_ROW];
    let rows = core::array::from_fn(|ky| taps[ky].unwrap_or(&zp[..input.width]));
    gray3x3_inside(conv, rows, input, pad_left, out, rounding);
}

/// [`gray3x3_row`] over three rows: words read straight from the rows, the
/// (at most three) outputs whose window leaves the row's ends computed tap by
/// tap.
#[inline(never)]
fn gray3x3_inside(
    conv: &Conv2d<'_>,
    rows: [&[i8]; 3],
    input: Shape,
    pad_left: usize,
    out: &mut [i8],
    rounding: Rounding,
) {
    let zp = conv.input.zero_point;
    let co = conv.out_channels;
    let width = input.width;
    let out_w = conv.window.width.output(width, conv.window.padding);
    let Strides {
        out: so,
        y: sy,
        x: sx,
        ..
    } = conv.filter().strides(conv.layout);
    for oc in 0..co {
        let (bias, rq, w) = gray_channel(conv, oc, rounding);
        // Output j reads columns j - pad_left .. j - pad_left + 2.
        let edge = |j: usize| {
            let mut acc = bias;
            for (ky, row) in rows.iter().enumerate() {
                for kx in 0..3 {
                    let c = (j + kx).checked_sub(pad_left).filter(|&c| c < width);
                    let x = c.map_or(zp, |c| row[c] as i32);
                    acc = acc.wrapping_add(conv.weights[oc * so + ky * sy + kx * sx] as i32 * x);
                }
            }
            rq.apply(acc)
        };
        let mut j = 0;
        while j < pad_left.min(out_w) {
            out[j * co + oc] = edge(j);
            j += 1;
        }
        while j + 1 < out_w && j - pad_left + 4 <= width {
            let x = core::array::from_fn(|ky| word(rows[ky], j - pad_left));
            let (a0, a1) = two_outputs(x, &w, bias);
            out[j * co + oc] = rq.apply(a0);
            out[(j + 1) * co + oc] = rq.apply(a1);
            j += 2;
        }
        while j < out_w {
            out[j * co + oc] = edge(j);
            j += 1;
        }
    }
}

/// Weights of a 3x3 one-channel kernel as the two-output step takes them:
/// per kernel row, (w0, w2) as an int16 pair and w1 in the low half.
type GrayWeights = ([u32; 3], [u32; 3]);

/// Folded bias, requantization and weights of output channel `oc`.
fn gray_channel(conv: &Conv2d<'_>, oc: usize, rounding: Rounding) -> (i32, Requant, GrayWeights) {
    let Strides {
        out: so,
        y: sy,
        x: sx,
        ..
    } = conv.filter().strides(conv.layout);
    let tap = |ky: usize, kx: usize| conv.weights[oc * so + ky * sy + kx * sx];
    let (bias, rq) = channel(conv, oc, (0..9).map(|t| tap(t / 3, t % 3)), rounding);
    let outer = core::array::from_fn(|ky| pair(tap(ky, 0), tap(ky, 2)));
    let mid = core::array::from_fn(|ky| pair(tap(ky, 1), 0));
    (bias, rq, (outer, mid))
}

/// Outputs j and j + 1 from the words `x[ky]` = columns j - 1 .. j + 2 (as
/// the output's window sees them) of each kernel row.
#[inline(always)]
fn two_outputs(x: [u32; 3], (outer, mid): &GrayWeights, bias: i32) -> (i32, i32) {
    let (mut a0, mut a1) = (bias, bias);
    for ky in 0..3 {
        let (xa, xb) = (sxtb16(x[ky]), sxtb16_ror8(x[ky]));
        a0 = smlabb(xb, mid[ky], smlad(xa, outer[ky], a0));
        a1 = smlatb(xa, mid[ky], smlad(xb, outer[ky], a1));
    }
    (a0, a1)
}

/// Window by window, for OHWI weights (each output channel's `(ky, kx, ic)`
/// contiguous) and windows of at most [`WINDOW`] values; `false` (nothing
/// done) otherwise.
///
/// Each output pixel's window is gathered once as bytes (padding taps hold the
/// zero point), then every four output channels take one pass over it: a word
/// of four inputs becomes the pairs (x0, x2) and (x1, x3), each multiplied into
/// four accumulators by `SMLAD` against weights packed the same way.
pub(crate) fn windows<R: Rows + ?Sized>(
    conv: &Conv2d<'_>,
    rows: &R,
    input: Shape,
    oy: usize,
    out: &mut [i8],
    rounding: Rounding,
) -> bool {
    let win = &conv.window;
    let (kh, kw) = (win.height.kernel, win.width.kernel);
    let (ci, co) = (conv.in_channels, conv.out_channels);
    let len = kh * kw * ci;
    let len4 = len.div_ceil(4) * 4;
    let Strides {
        out: so,
        y: sy,
        x: sx,
        input: si,
    } = conv.filter().strides(conv.layout);
    let contiguous = si == 1 && sx == ci && sy == kw * ci && (so == len || co == 1);
    // A block's packed weights must fit: BLOCK * len4 / 2 words.
    if !contiguous || len4 + 4 > WINDOW || BLOCK * len4 / 2 > PACK {
        return false;
    }
    let y0 = win.height.first_tap(oy, win.pad_top(input.height));
    let taps: [Option<&[i8]>; crate::geometry::MAX_KERNEL] = core::array::from_fn(|ky| {
        (ky < kh)
            .then(|| rows.row(y0 + (ky * win.height.dilation) as isize))
            .flatten()
    });
    windows_row(conv, &taps, input, so, out, rounding);
    true
}

/// [`windows`] once the rows are found (one copy of the code for both engines).
#[inline(never)]
fn windows_row(
    conv: &Conv2d<'_>,
    taps: &[Option<&[i8]>; crate::geometry::MAX_KERNEL],
    input: Shape,
    so: usize,
    out: &mut [i8],
    rounding: Rounding,
) {
    let win = &conv.window;
    let kw = win.width.kernel;
    let (ci, co) = (conv.in_channels, conv.out_channels);
    let len = win.height.kernel * kw * ci;
    let len4 = len.div_ceil(4) * 4;
    let chunk = (PACK * 2 / len4 / BLOCK * BLOCK).min(CHUNK);
    let zp = conv.input.zero_point as i8;
    let dx = win.width.dilation as isize;
    let out_w = win.width.output(input.width, win.padding);
    let pad_left = win.pad_left(input.width);
    let run4 = (kw * ci).div_ceil(4) * 4;
    let row_len = input.row_len();
    let kh = win.height.kernel;
    let gather = |x0: isize, window: &mut [i8]| {
        gather_window(&taps[..kh], win, x0, input.width, ci, zp, window, len);
    };
    let mut words = [0u32; WINDOW / 4];
    let window: &mut [i8] = bytemuck::cast_slice_mut(&mut words[..len4 / 4 + 1]);
    window.fill(zp);
    let run = kw * ci;
    let mut packed = [0u32; PACK];
    let mut requant = [Requant::default(); CHUNK];
    let mut bias = [0i32; CHUNK];
    let nk = len4 / 4;
    let mut oc0 = 0;
    while oc0 < co {
        let n = chunk.min(co - oc0);
        let blocks = n.div_ceil(BLOCK);
        // Packed: block b, word k, channel j: (w[4k], w[4k+2]), (w[4k+1], w[4k+3]).
        for b in 0..blocks {
            for j in 0..BLOCK {
                let c = oc0 + BLOCK * b + j;
                let w = if BLOCK * b + j < n {
                    &conv.weights[c * so..c * so + len]
                } else {
                    &[][..]
                };
                let dst = packed[b * nk * 2 * BLOCK..].chunks_exact_mut(2 * BLOCK);
                let mut quads = w.chunks_exact(4);
                let mut dst = dst.take(nk);
                // Quads first: `zip` must not take a slot it cannot fill.
                for (q, d) in quads.by_ref().zip(dst.by_ref()) {
                    d[2 * j] = pair(q[0], q[2]);
                    d[2 * j + 1] = pair(q[1], q[3]);
                }
                // The tail of the window (and absent channels): zero weights.
                let rest = quads.remainder();
                let at = |i: usize| rest.get(i).copied().unwrap_or(0);
                for d in dst {
                    d[2 * j] = pair(at(0), at(2));
                    d[2 * j + 1] = pair(at(1), at(3));
                }
                if BLOCK * b + j < n {
                    let (bi, rq) = channel(conv, c, w.iter().copied(), rounding);
                    bias[BLOCK * b + j] = bi;
                    requant[BLOCK * b + j] = rq;
                }
            }
        }
        for ox in 0..out_w {
            let x0 = win.width.first_tap(ox, pad_left);
            let window: &mut [i8] = bytemuck::cast_slice_mut(&mut words[..nk + 1]);
            // Inside the image with room to read whole words: each window row
            // is `run4 / 4` word copies, the last few bytes overwritten by the
            // next row (after the last, they meet zero weights).
            if dx == 1 && x0 >= 0 && x0 as usize * ci + run4 <= row_len {
                let ix = x0 as usize * ci;
                for (ky, tap) in taps[..kh].iter().enumerate() {
                    let dst = &mut window[ky * run..];
                    match tap {
                        Some(row) => {
                            for k in (0..run4).step_by(4) {
                                dst[k..k + 4].copy_from_slice(&row[ix + k..ix + k + 4]);
                            }
                        }
                        None => dst[..run].fill(zp),
                    }
                }
            } else {
                gather(x0, window);
            }
            let px = &mut out[ox * co + oc0..ox * co + oc0 + n];
            for b in 0..blocks {
                let step = 2 * BLOCK;
                let pk = &packed[b * nk * step..(b + 1) * nk * step];
                let base = BLOCK * b;
                let init = core::array::from_fn(|j| bias.get(base + j).copied().unwrap_or(0));
                let acc = dot4(&words[..nk], pk, init);
                for (j, &a) in acc.iter().enumerate() {
                    if let Some(o) = px.get_mut(base + j) {
                        *o = requant[base + j].apply(a);
                    }
                }
            }
        }
        oc0 += n;
    }
}

/// Gathers the window of the output column whose first tap is `x0` into
/// `window` (padding taps hold the zero point): the general case, near the
/// borders or with dilation.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn gather_window(
    taps: &[Option<&[i8]>],
    win: &crate::Window,
    x0: isize,
    width: usize,
    ci: usize,
    zp: i8,
    window: &mut [i8],
    len: usize,
) {
    let (kw, dx) = (win.width.kernel, win.width.dilation as isize);
    let run = kw * ci;
    let (kx_lo, kx_hi) = win.width.tap_range(x0, width);
    for (ky, dst) in window[..len].chunks_exact_mut(run).enumerate() {
        let Some(row) = taps[ky] else {
            dst.fill(zp);
            continue;
        };
        if dx == 1 && kx_lo == 0 && kx_hi == kw {
            let ix = x0 as usize * ci;
            dst.copy_from_slice(&row[ix..ix + run]);
            continue;
        }
        for (kx, d) in dst.chunks_exact_mut(ci).enumerate() {
            if (kx_lo..kx_hi).contains(&kx) {
                let ix = (x0 + kx as isize * dx) as usize * ci;
                d.copy_from_slice(&row[ix..ix + ci]);
            } else {
                d.fill(zp);
            }
        }
    }
}
