//! Depthwise: the AVX2 depthwise-convolution kernel (depth multiplier 1) — 16
//! channels at a time, two taps per `vpmaddwd` with per-channel weight pairs.

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::{Requant8, pair, widen_minus};
use crate::{DepthwiseConv2d, Rounding, Rows, Shape};

/// i16 values of the widened input rows one row of [`row`] holds.
const ROWS: usize = 32 * 1024;
/// Channels per step.
const CH: usize = 16;
/// Most taps of a window (`MAX_KERNEL²`), plus one to pair an odd count.
const TAPS: usize = crate::geometry::MAX_KERNEL * crate::geometry::MAX_KERNEL + 1;

/// Whether [`row`] takes this layer: depth multiplier 1, at least 8 channels,
/// double rounding, and the widened rows of one output row fit.
pub(super) fn fits(dw: &DepthwiseConv2d<'_>, input: Shape, rounding: Rounding) -> bool {
    let w = &dw.window;
    let len = (input.width + w.width.effective()) * input.channels + CH;
    rounding == Rounding::Double
        && dw.depth_multiplier == 1
        && dw.in_channels >= 8
        && w.height.kernel.saturating_mul(len) <= ROWS
}

/// One output row: the valid input rows are widened once to `x - zp` in i16
/// with zeros in the padding columns; for each group of 16 channels, every pair
/// of taps is two `vpmaddwd` (the channels' values of the two taps interleaved,
/// against the matching pairs of weights) per output pixel. The products are the
/// portable kernel's, summed in another order: exact in i32 (validation bounds
/// every accumulator by `i32::MAX`).
#[target_feature(enable = "avx2")]
pub(super) fn row<R: Rows + ?Sized>(
    dw: &DepthwiseConv2d<'_>,
    rows: &R,
    input: Shape,
    oy: usize,
    out: &mut [i8],
) {
    let win = &dw.window;
    let c = dw.in_channels;
    let (kw, dx, sx) = (win.width.kernel, win.width.dilation, win.width.stride);
    let out_w = win.width.output(input.width, win.padding);
    let pad_left = win.pad_left(input.width);
    let y0 = win.height.first_tap(oy, win.pad_top(input.height));
    let (ky_lo, ky_hi) = win.height.tap_range(y0, input.height);
    let zp = dw.input.zero_point as i16;
    let (lo, hi) = dw.activation.bounds(dw.output);
    let (lo, hi) = (_mm256_set1_epi32(lo), _mm256_set1_epi32(hi));
    let out_zp = _mm256_set1_epi32(dw.output.zero_point);
    // Widened row ky at [ky * len..]: value of column x - pad_left, channel ch at
    // x * c + ch; CH spare values past the last column for the last group.
    let len = (input.width + win.width.effective()) * c + CH;
    let mut widened = [const { MaybeUninit::<i16>::uninit() }; ROWS];
    let mut valid = [false; crate::geometry::MAX_KERNEL];
    for ky in ky_lo..ky_hi {
        let Some(row) = rows.row(y0 + (ky * win.height.dilation) as isize) else {
            continue;
        };
        valid[ky] = true;
        let dst = &mut widened[ky * len..(ky + 1) * len];
        let a = pad_left * c;
        let b = (a + input.width * c).min(len);
        dst[..a].fill(MaybeUninit::new(0));
        dst[b..].fill(MaybeUninit::new(0));
        widen_minus(&row[..input.width * c], zp, &mut dst[a..b]);
    }
    // The valid taps (row, column offset in values, index in the weights), paired.
    let mut taps = [(0usize, 0usize, usize::MAX); TAPS];
    let mut nt = 0;
    for ky in (ky_lo..ky_hi).filter(|&ky| valid[ky]) {
        for kx in 0..kw {
            taps[nt] = (ky, kx * dx * c, ky * kw + kx);
            nt += 1;
        }
    }
    if nt % 2 == 1 {
        // A tap with zero weights pairs the last one.
        taps[nt] = (taps[0].0, 0, usize::MAX);
        nt += 1;
    }
    let mut c0 = 0;
    while c0 < c {
        let lanes = (c - c0).min(CH);
        // Weight pairs of this group, per tap pair: lanes [0-3, 8-11] and [4-7, 12-15]
        // of the group (the order `vpunpck{l,h}wd` interleaves in).
        let mut wpairs = [const { MaybeUninit::<(__m256i, __m256i)>::uninit() }; TAPS / 2 + 1];
        let weight = |t: usize, ch: usize| -> i8 {
            if t == usize::MAX || ch >= lanes {
                0
            } else {
                dw.weights[t * c + c0 + ch]
            }
        };
        for (p, slot) in wpairs.iter_mut().enumerate().take(nt / 2) {
            let (ta, tb) = (taps[2 * p].2, taps[2 * p + 1].2);
            let mut lo_pairs = [0i32; 8];
            let mut hi_pairs = [0i32; 8];
            for l in 0..8 {
                let (cl, ch) = (lane_lo(l), lane_hi(l));
                lo_pairs[l] = pair(weight(ta, cl), weight(tb, cl));
                hi_pairs[l] = pair(weight(ta, ch), weight(tb, ch));
            }
            slot.write((super::load8(&lo_pairs), super::load8(&hi_pairs)));
        }
        let channel =
            |ch: usize| (ch < lanes).then(|| dw.channel_requant(c0 + ch, Rounding::Double));
        let rq_lo = Requant8::lanes(|l| channel(lane_lo(l)));
        let rq_hi = Requant8::lanes(|l| channel(lane_hi(l)));
        for ox in 0..out_w {
            let at = ox * sx * c + c0;
            let mut acc_lo = rq_lo.bias;
            let mut acc_hi = rq_hi.bias;
            for (p, w) in wpairs.iter().enumerate().take(nt / 2) {
                // SAFETY: written for every p < nt / 2 above.
                let (w_lo, w_hi) = unsafe { w.assume_init() };
                let (ya, xa, _) = taps[2 * p];
                let (yb, xb, _) = taps[2 * p + 1];
                // SAFETY: the rows ya, yb are valid (written above); the 16 values
                // start at ox * sx * c + x + c0 <= ((out_w - 1) * sx + (kw - 1) * dx) * c
                // + c0, and end below (width + effective) * c + CH = len, within the
                // written row.
                let (va, vb) = unsafe {
                    (
                        _mm256_loadu_si256(widened.as_ptr().add(ya * len + at + xa).cast()),
                        _mm256_loadu_si256(widened.as_ptr().add(yb * len + at + xb).cast()),
                    )
                };
                acc_lo = _mm256_add_epi32(
                    acc_lo,
                    _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), w_lo),
                );
                acc_hi = _mm256_add_epi32(
                    acc_hi,
                    _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), w_hi),
                );
            }
            let r_lo = _mm256_min_epi32(
                _mm256_max_epi32(_mm256_add_epi32(rq_lo.apply(acc_lo), out_zp), lo),
                hi,
            );
            let r_hi = _mm256_min_epi32(
                _mm256_max_epi32(_mm256_add_epi32(rq_hi.apply(acc_hi), out_zp), lo),
                hi,
            );
            // Per 128-bit half: lanes 0-3 of lo then of hi: channels in order.
            let words = _mm256_packs_epi32(r_lo, r_hi);
            let bytes = _mm256_permute4x64_epi64::<0b1000>(_mm256_packs_epi16(words, words));
            let o = ox * c + c0;
            if lanes == CH {
                // SAFETY: o + 16 <= out_w * c: 16 writable bytes of the row.
                unsafe {
                    _mm_storeu_si128(
                        out.as_mut_ptr().add(o).cast(),
                        _mm256_castsi256_si128(bytes),
                    )
                };
            } else {
                let mut all = [0i8; 32];
                // SAFETY: 32 writable bytes.
                unsafe { _mm256_storeu_si256(all.as_mut_ptr().cast(), bytes) };
                out[o..o + lanes].copy_from_slice(&all[..lanes]);
            }
        }
        c0 += lanes;
    }
}

/// The channel of lane `l` of the low half-interleave: 0-3, then 8-11.
const fn lane_lo(l: usize) -> usize {
    if l < 4 { l } else { l + 4 }
}

/// The channel of lane `l` of the high half-interleave: 4-7, then 12-15.
const fn lane_hi(l: usize) -> usize {
    lane_lo(l) + 4
}
