//! Conv: the VNNI convolution kernel — window-major, four window values per
//! `vpdpbusd` for 16 lanes (16 output channels of one pixel, or 8 channels of
//! two pixels) — and which convolutions it takes.

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::requant::{Requant16, store16};
use crate::{Conv2d, Rounding, Rows, Shape, WeightLayout};

/// Vectors of accumulators computed together (each loaded weight vector
/// serves them all).
const PX: usize = 8;
/// Packed weight quads one pass holds (64 KiB).
const PACK: usize = 16 * 1024;
/// Most groups of channels one pass packs.
const MAX_GROUPS: usize = 16;
/// Bytes of the offset input rows one pass holds.
const ROWS: usize = 48 * 1024;

/// How the 16 lanes of a vector map to output values.
#[derive(Clone, Copy)]
struct Lanes {
    /// Output channels per pixel in one vector: 16, or 8 with two pixels.
    channels: usize,
    /// Pixels per vector: 1, or 2.
    pixels: usize,
}

impl Lanes {
    /// 16 channels of one pixel when there are more than 8 output channels,
    /// else 8 channels of two neighbouring pixels.
    fn of(out_channels: usize) -> Self {
        if out_channels > 8 {
            Lanes {
                channels: 16,
                pixels: 1,
            }
        } else {
            Lanes {
                channels: 8,
                pixels: 2,
            }
        }
    }

    /// Output pixels of one block of [`PX`] vectors.
    const fn block(self) -> usize {
        PX * self.pixels
    }
}

/// Whether [`conv_rows`] takes this convolution: at least 4 output channels
/// (fewer would leave most lanes empty: the AVX2 tap kernel takes those),
/// weights contiguous per channel, double rounding, and the buffers fit.
pub(super) fn fits(conv: &Conv2d<'_>, rounding: Rounding) -> bool {
    let f = conv.filter();
    let contiguous = conv.layout == WeightLayout::Ohwi || f.out_channels == 1;
    let w = &conv.window.width;
    let block = Lanes::of(f.out_channels).block();
    let one_column = (block * w.stride + w.effective()) * f.in_channels + 4;
    rounding == Rounding::Double
        && f.out_channels >= 4
        && contiguous
        && quads(conv).saturating_mul(16) <= PACK
        && f.height.saturating_mul(one_column) <= ROWS
}

/// A kernel row as `(segments, values per segment, input step between them)`:
/// one run of `kw * ci` values without horizontal dilation.
fn segments(conv: &Conv2d<'_>) -> (usize, usize, usize) {
    let (kw, ci) = (conv.window.width.kernel, conv.in_channels);
    let dx = conv.window.width.dilation;
    if dx == 1 {
        (1, kw * ci, 0)
    } else {
        (kw, ci, dx * ci)
    }
}

/// Weight quads (4 values, the last of a segment padded with zero weights) of
/// one output channel.
fn quads(conv: &Conv2d<'_>) -> usize {
    let (segs, seg, _) = segments(conv);
    conv.window.height.kernel * segs * seg.div_ceil(4)
}

/// Window-major convolution with `vpdpbusd`. The input rows an output row reads
/// are copied once as `u = x + 128` (exactly a `u8` for every `i8`), with the
/// padding — columns and rows outside the image — holding `zp + 128`, the
/// value whose `x - zp` is zero. Then `Σ w (x - zp) = Σ w u - (zp + 128) Σ w`:
/// the second term is folded into each channel's bias once, and the first is
/// four products a lane per `vpdpbusd`, with each output pixel's four window
/// bytes broadcast to its lanes against the packed weights of their channels (a
/// segment of odd length pads its last quad with zero weights). `vpdpbusd` and
/// the adds wrap modulo 2^32; the true sum lies in i32 (validation bounds
/// `|bias| + Σ|w| max|x - zp|` by `i32::MAX`), so the wrapped sum is exactly it.
///
/// # Safety
///
/// The CPU supports AVX2 and AVX-512 F, BW and VNNI, and [`fits`] holds.
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vnni")]
pub(super) unsafe fn conv_rows<R: Rows + ?Sized>(
    conv: &Conv2d<'_>,
    rows: &R,
    input: Shape,
    first: usize,
    row_len: usize,
    out: &mut [i8],
) {
    let win = &conv.window;
    let f = conv.filter();
    let (kh, ci, co) = (f.height, f.in_channels, f.out_channels);
    let k = f.per_channel();
    let lanes = Lanes::of(co);
    let block = lanes.block();
    let sx = win.width.stride;
    let (segs, seg, step) = segments(conv);
    let nq = seg.div_ceil(4);
    let per_group = quads(conv) * 16;
    let out_w = win.width.output(input.width, win.padding);
    let pad_left = win.pad_left(input.width) as isize;
    let zp = conv.input.zero_point;
    let pad = (zp + 128) as u8;
    let chunk = (PACK / per_group).clamp(1, MAX_GROUPS);
    let groups = co.div_ceil(lanes.channels);
    // Output columns per pass: their kh rows (+ the block's spare pixels, + the
    // overshoot of a padded quad) fit in ROWS.
    let span = win.width.effective();
    let cols_for = |cols: usize| ((cols + block - 1) * sx + span) * ci + 4;
    let mut cols = out_w.max(1);
    while cols > 1 && kh * cols_for(cols) > ROWS {
        cols = cols.div_ceil(2);
    }
    let row_stride = cols_for(cols);
    // The second pixel of a vector: lanes 8..16, its window one stride on.
    let (second, next) = if lanes.pixels == 2 {
        (0xFF00u16, sx * ci)
    } else {
        (0, 0)
    };

    // Packed weights: quad j of lane l of group g at [g * per_group + j * 16 + l].
    let mut packed = [const { MaybeUninit::<i32>::uninit() }; PACK];
    // Per group: the folded biases and the requantization.
    let mut biases = [const { MaybeUninit::<[i32; 16]>::uninit() }; MAX_GROUPS];
    let mut requants = [const { MaybeUninit::<Requant16>::uninit() }; MAX_GROUPS];
    // Offset input rows, kernel row ky at [ky * row_stride..]; the first `len`
    // bytes of each of the kh rows are written, and only they are read.
    let mut offset = [const { MaybeUninit::<u8>::uninit() }; ROWS];

    let mut g0 = 0;
    while g0 < groups {
        let gn = chunk.min(groups - g0);
        for gi in 0..gn {
            let oc0 = (g0 + gi) * lanes.channels;
            let base = gi * per_group;
            let channel = |l: usize| oc0 + l % lanes.channels;
            let mut bias = [0i32; 16];
            for (l, b) in bias.iter_mut().enumerate() {
                let oc = channel(l);
                let w = (oc < co).then(|| &conv.weights[oc * k..oc * k + k]);
                if let Some(w) = w {
                    let sum: i32 = w.iter().map(|&v| v as i32).sum();
                    *b = conv
                        .channel_requant(oc, Rounding::Double)
                        .bias
                        .wrapping_sub((zp + 128).wrapping_mul(sum));
                }
                let mut j = 0;
                for ky in 0..kh {
                    for sg in 0..segs {
                        let at = ky * f.width * ci + sg * seg;
                        for q in 0..nq {
                            let mut quad = [0i8; 4];
                            if let Some(w) = w {
                                let n = (seg - 4 * q).min(4);
                                quad[..n].copy_from_slice(&w[at + 4 * q..at + 4 * q + n]);
                            }
                            packed[base + j * 16 + l]
                                .write(i32::from_le_bytes(quad.map(|v| v as u8)));
                            j += 1;
                        }
                    }
                }
            }
            biases[gi].write(bias);
            requants[gi].write(Requant16::of(conv, channel));
        }
        for (i, out) in out.chunks_exact_mut(row_len).enumerate() {
            let oy = first + i;
            let y0 = win.height.first_tap(oy, win.pad_top(input.height));
            let mut c0 = 0;
            while c0 < out_w {
                let n_cols = cols.min(out_w - c0);
                // Input column of offset[_][0]: the first tap of output column c0.
                let x0 = (c0 * sx) as isize - pad_left;
                let len = cols_for(n_cols);
                for ky in 0..kh {
                    let dst = &mut offset[ky * row_stride..ky * row_stride + len];
                    let Some(row) = rows.row(y0 + (ky * win.height.dilation) as isize) else {
                        dst.fill(MaybeUninit::new(pad));
                        continue;
                    };
                    // Values of dst inside the image: columns x0.. in 0..width.
                    let a = ((-x0).max(0) as usize * ci).min(len);
                    let b = ((input.width as isize - x0).max(0) as usize * ci).clamp(a, len);
                    dst[..a].fill(MaybeUninit::new(pad));
                    dst[b..].fill(MaybeUninit::new(pad));
                    let from = (x0 * ci as isize + a as isize) as usize;
                    for (d, &x) in dst[a..b].iter_mut().zip(&row[from..from + (b - a)]) {
                        d.write(x as u8 ^ 0x80);
                    }
                }
                let mut ox = 0;
                while ox < n_cols {
                    let n = block.min(n_cols - ox);
                    for gi in 0..gn {
                        // SAFETY: biases[gi] and requants[gi] were written for every
                        // gi < gn above.
                        let (bias, rq) = unsafe {
                            (biases[gi].assume_init_ref(), requants[gi].assume_init_ref())
                        };
                        // SAFETY: 16 i32 are 64 readable bytes.
                        let bias = unsafe { _mm512_loadu_si512(bias.as_ptr().cast()) };
                        let mut acc = [bias; PX];
                        for ky in 0..kh {
                            let row = offset[ky * row_stride..].as_ptr().cast::<u8>();
                            for sg in 0..segs {
                                let j0 = (ky * segs + sg) * nq;
                                let at = ox * sx * ci + sg * step;
                                for q in 0..nq {
                                    // SAFETY: gi * per_group + (j0 + q) * 16 + 15 <
                                    // gn * per_group <= PACK, written above; an
                                    // unaligned 64-byte read.
                                    let w = unsafe {
                                        _mm512_loadu_si512(
                                            packed
                                                .as_ptr()
                                                .add(gi * per_group + (j0 + q) * 16)
                                                .cast(),
                                        )
                                    };
                                    for (p, a) in acc.iter_mut().enumerate() {
                                        // SAFETY: pixel ox + p * pixels (+ 1 for the
                                        // second) <= ox + block - 1 <= n_cols + block
                                        // - 2; its quad starts at that pixel * sx * ci
                                        // + sg * step + 4 q and ends below (pixel * sx
                                        // + span) * ci + 4 <= cols_for(n_cols) = len:
                                        // inside the row's written prefix. Four bytes
                                        // read as one unaligned i32.
                                        let x = unsafe {
                                            let at =
                                                row.add(at + p * lanes.pixels * sx * ci + 4 * q);
                                            let one = _mm512_set1_epi32(
                                                at.cast::<i32>().read_unaligned(),
                                            );
                                            if second == 0 {
                                                one
                                            } else {
                                                _mm512_mask_set1_epi32(
                                                    one,
                                                    second,
                                                    at.add(next).cast::<i32>().read_unaligned(),
                                                )
                                            }
                                        };
                                        *a = _mm512_dpbusd_epi32(*a, x, w);
                                    }
                                }
                            }
                        }
                        let oc0 = (g0 + gi) * lanes.channels;
                        let stored = lanes.channels.min(co - oc0);
                        for (p, a) in acc.iter().enumerate() {
                            let px = ox + p * lanes.pixels;
                            if px >= ox + n {
                                break;
                            }
                            let v = rq.apply(*a);
                            let at = (c0 + px) * co + oc0;
                            if lanes.pixels == 1 {
                                store16(v, &mut out[at..], stored);
                            } else if co == 8 && px + 1 < ox + n {
                                // Two whole pixels of 8 channels: 16 contiguous bytes.
                                store16(v, &mut out[at..], 16);
                            } else {
                                let mut both = [0i8; 16];
                                store16(v, &mut both, 16);
                                out[at..at + stored].copy_from_slice(&both[..stored]);
                                if px + 1 < ox + n {
                                    out[at + co..at + co + stored]
                                        .copy_from_slice(&both[8..8 + stored]);
                                }
                            }
                        }
                    }
                    ox += n;
                }
                c0 += n_cols;
            }
        }
        g0 += gn;
    }
}
