//! Conv: the AVX2 convolution kernels — window-major with `vpmaddwd` for many
//! input channels, tap-major for one — and which convolutions they take.

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::{MAX_K, PX, Requant8, pair, widen_minus};
use crate::{Conv2d, Rounding, Rows, Shape, WeightLayout};

/// Whether [`conv_windows`] takes this convolution.
fn windows_fit(conv: &Conv2d<'_>, rounding: Rounding) -> bool {
    let f = conv.filter();
    let contiguous = conv.layout == WeightLayout::Ohwi || f.out_channels == 1;
    let w = &conv.window.width;
    // One output column's widened rows must fit (see `conv_windows`).
    let one_column = (PX * w.stride + w.effective()) * f.in_channels + 2;
    rounding == Rounding::Double
        && conv.in_channels > 1
        && contiguous
        && f.per_channel() <= MAX_K
        && f.height.saturating_mul(one_column) <= ROWS
}

#[target_feature(enable = "avx2")]
pub(super) fn conv_rows<R: Rows + ?Sized>(
    conv: &Conv2d<'_>,
    rows: &R,
    input: Shape,
    first: usize,
    n: usize,
    out: &mut [i8],
    rounding: Rounding,
) {
    if taps_fit(conv, rounding) {
        for (i, row) in out.chunks_exact_mut(n).enumerate() {
            conv_taps(conv, rows, input, first + i, row);
        }
    } else if windows_fit(conv, rounding) {
        conv_windows(conv, rows, input, first, n, out);
    } else {
        for (i, row) in out.chunks_exact_mut(n).enumerate() {
            conv.row(rows, input, first + i, row, rounding);
        }
    }
}

/// Packed weight pairs one pass of [`conv_windows`] holds (64 KiB).
const PACK: usize = 16 * 1024;
/// Most groups of 8 channels one pass packs.
const MAX_GROUPS: usize = 32;
/// i16 values of the widened input rows one pass of [`conv_windows`] holds.
const ROWS: usize = 24 * 1024;

/// Window-major convolution with `vpmaddwd`, without gathering windows: the
/// input rows an output row reads are widened once to `x - zp` in i16 (zeros in
/// the padding columns), and every pair of window values of an output pixel is
/// read from them directly and broadcast; the weights of groups of 8 output
/// channels are packed as the matching i16 pairs (a segment of odd length pairs
/// its last value with a zero weight), so each `vpmaddwd` adds two products for
/// 8 channels. Rows outside the image are skipped (their taps contribute
/// nothing). The products are the portable kernels', summed in another order:
/// exact in i32 (validation bounds `|bias| + Σ|w| * max|x - zp|` by `i32::MAX`,
/// hence every partial sum).
#[target_feature(enable = "avx2")]
fn conv_windows<R: Rows + ?Sized>(
    conv: &Conv2d<'_>,
    rows: &R,
    input: Shape,
    first: usize,
    row_len: usize,
    out: &mut [i8],
) {
    let win = &conv.window;
    let f = conv.filter();
    let (kh, kw, ci, co) = (f.height, f.width, f.in_channels, f.out_channels);
    let k = f.per_channel();
    let (sx, dx) = (win.width.stride, win.width.dilation);
    // A kernel row is `segs` segments of `seg` values, `step` values apart in
    // the input row: one run of kw * ci without horizontal dilation.
    let (segs, seg, step) = if dx == 1 {
        (1, kw * ci, 0)
    } else {
        (kw, ci, dx * ci)
    };
    let pairs = seg.div_ceil(2);
    let k2 = kh * segs * pairs;
    let out_w = win.width.output(input.width, win.padding);
    let pad_left = win.pad_left(input.width) as isize;
    let zp = conv.input.zero_point as i16;
    let (lo, hi) = conv.activation.bounds(conv.output);
    let (lo, hi) = (_mm256_set1_epi32(lo), _mm256_set1_epi32(hi));
    let out_zp = _mm256_set1_epi32(conv.output.zero_point);
    let per_group = k2 * 8;
    let chunk = (PACK / per_group).clamp(1, MAX_GROUPS);
    let groups = co.div_ceil(8);
    // Output columns per pass: their kh widened rows (+ the block's spare
    // pixels, + one value of overshoot for an odd segment) fit in ROWS.
    let span = win.width.effective();
    let cols_for = |cols: usize| ((cols + PX - 1) * sx + span) * ci + 2;
    let mut cols = out_w.max(1);
    while cols > 1 && kh * cols_for(cols) > ROWS {
        cols = cols.div_ceil(2);
    }
    let row_stride = cols_for(cols);

    // Packed weights: pair j of lane l of group g at [g * per_group + j * 8 + l];
    // only the entries a pass writes are read.
    let mut packed = [const { MaybeUninit::<i32>::uninit() }; PACK];
    let mut requants = [const { MaybeUninit::<Requant8>::uninit() }; MAX_GROUPS];
    // Widened input rows, kernel row ky at [ky * row_stride..]: only the valid
    // rows' first `len` values are written, and read.
    let mut widened = [const { MaybeUninit::<i16>::uninit() }; ROWS];

    let mut g0 = 0;
    while g0 < groups {
        let gn = chunk.min(groups - g0);
        for (gi, requant) in requants.iter_mut().enumerate().take(gn) {
            let oc0 = (g0 + gi) * 8;
            let base = gi * per_group;
            for l in 0..8 {
                let lane = oc0 + l;
                let mut j = 0;
                for ky in 0..kh {
                    for sg in 0..segs {
                        let at = ky * kw * ci + sg * seg;
                        for pp in 0..pairs {
                            let v = if lane < co {
                                let w = &conv.weights[lane * k + at..lane * k + at + seg];
                                pair(w[2 * pp], w.get(2 * pp + 1).copied().unwrap_or(0))
                            } else {
                                0
                            };
                            packed[base + j * 8 + l].write(v);
                            j += 1;
                        }
                    }
                }
            }
            requant.write(Requant8::of(conv, oc0));
        }
        for (i, out) in out.chunks_exact_mut(row_len).enumerate() {
            let oy = first + i;
            let y0 = win.height.first_tap(oy, win.pad_top(input.height));
            let (ky_lo, ky_hi) = win.height.tap_range(y0, input.height);
            let mut c0 = 0;
            while c0 < out_w {
                let n_cols = cols.min(out_w - c0);
                // Input column of widened[_][0]: the first tap of output column c0.
                let x0 = (c0 * sx) as isize - pad_left;
                let len = cols_for(n_cols);
                let mut valid = [false; crate::geometry::MAX_KERNEL];
                for ky in ky_lo..ky_hi {
                    let Some(row) = rows.row(y0 + (ky * win.height.dilation) as isize) else {
                        continue;
                    };
                    valid[ky] = true;
                    let dst = &mut widened[ky * row_stride..ky * row_stride + len];
                    // Values of dst inside the image: columns x0.. in 0..width.
                    let a = ((-x0).max(0) as usize * ci).min(len);
                    let b = ((input.width as isize - x0).max(0) as usize * ci).clamp(a, len);
                    dst[..a].fill(MaybeUninit::new(0));
                    dst[b..].fill(MaybeUninit::new(0));
                    let from = (x0 * ci as isize + a as isize) as usize;
                    widen_minus(&row[from..from + (b - a)], zp, &mut dst[a..b]);
                }
                let mut ox = 0;
                while ox < n_cols {
                    let n = PX.min(n_cols - ox);
                    for (gi, requant) in requants.iter().enumerate().take(gn) {
                        // SAFETY: written for every gi < gn above.
                        let rq = unsafe { requant.assume_init_ref() };
                        let mut acc = [rq.bias; PX];
                        for ky in (ky_lo..ky_hi).filter(|&ky| valid[ky]) {
                            let row = widened[ky * row_stride..].as_ptr();
                            for sg in 0..segs {
                                let j0 = (ky * segs + sg) * pairs;
                                let at = ox * sx * ci + sg * step;
                                for pp in 0..pairs {
                                    let j = j0 + pp;
                                    // SAFETY: gi * per_group + j * 8 + 7 < gn * per_group
                                    // <= PACK, written above; an unaligned 32-byte read.
                                    let w = unsafe {
                                        _mm256_loadu_si256(
                                            packed.as_ptr().add(gi * per_group + j * 8).cast(),
                                        )
                                    };
                                    for (p, a) in acc.iter_mut().enumerate() {
                                        // SAFETY: the pair starts at (ox + p) * sx * ci
                                        // + sg * step + 2 pp, and its second value is
                                        // below ((ox + p) * sx + span) * ci + 1
                                        // < cols_for(n_cols) = len (ox + p < n_cols + PX
                                        // - 1): inside the row's written prefix. Two
                                        // i16 read as one unaligned i32.
                                        let x = unsafe {
                                            row.add(at + p * sx * ci + 2 * pp)
                                                .cast::<i32>()
                                                .read_unaligned()
                                        };
                                        *a = _mm256_add_epi32(
                                            *a,
                                            _mm256_madd_epi16(_mm256_set1_epi32(x), w),
                                        );
                                    }
                                }
                            }
                        }
                        let oc0 = (g0 + gi) * 8;
                        let lanes = (co - oc0).min(8);
                        for (p, a) in acc.iter().enumerate().take(n) {
                            let v = _mm256_add_epi32(rq.apply(*a), out_zp);
                            let v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
                            store8(v, &mut out[(c0 + ox + p) * co + oc0..], lanes);
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

/// Stores the first `lanes` of 8 i32 lanes (each in -128..=127) as i8 into `dst`.
#[target_feature(enable = "avx2")]
fn store8(v: __m256i, dst: &mut [i8], lanes: usize) {
    // i32 → i16 → i8 per 128-bit half; then the halves' low 4 bytes together.
    let words = _mm256_packs_epi32(v, v);
    let bytes = _mm256_packs_epi16(words, words);
    let lo = _mm256_castsi256_si128(bytes);
    let hi = _mm256_extracti128_si256::<1>(bytes);
    let eight = _mm_unpacklo_epi32(lo, hi);
    if lanes == 8 && dst.len() >= 8 {
        // SAFETY: 8 writable bytes.
        unsafe { _mm_storel_epi64(dst.as_mut_ptr().cast(), eight) };
    } else {
        let mut all = [0i8; 16];
        // SAFETY: 16 writable bytes.
        unsafe { _mm_storeu_si128(all.as_mut_ptr().cast(), eight) };
        let n = lanes.min(dst.len());
        dst[..n].copy_from_slice(&all[..n]);
    }
}

/// Largest effective kernel width [`conv_taps`] takes.
const MAX_TAP_SPAN: usize = 64;
/// Output columns [`conv_taps`] computes per pass.
const COLUMNS: usize = 512;
/// Output pixels of one `conv_taps` block (two vectors of 8 lanes).
const BLOCK: usize = 16;

/// Whether [`conv_taps`] takes this convolution: one input channel, stride 1.
fn taps_fit(conv: &Conv2d<'_>, rounding: Rounding) -> bool {
    let w = &conv.window.width;
    let ci = conv.in_channels;
    rounding == Rounding::Double
        && (ci == 1 || conv.out_channels < 8)
        && conv.window.height.kernel * ci <= PLANES
        && w.stride == 1
        && w.effective() <= MAX_TAP_SPAN
}

/// Most widened planes (kernel rows times input channels) [`conv_taps`] holds.
const PLANES: usize = 48;

/// Tap-major convolution, 16 output pixels per block, for one input channel or
/// few output channels (where 8 channel lanes would go unused): each tap row is
/// copied once per pass as `x - zp` in i16, one plane per input channel, with
/// zeros for the padding columns, and every pair of taps `(row, column,
/// channel)` is one `vpmaddwd` over the 16 pixels (their values interleaved,
/// the two weights broadcast). Same products as the portable kernel, summed in
/// another order: exact in i32.
#[target_feature(enable = "avx2")]
fn conv_taps<R: Rows + ?Sized>(
    conv: &Conv2d<'_>,
    rows: &R,
    input: Shape,
    oy: usize,
    out: &mut [i8],
) {
    const SPAN: usize = COLUMNS + MAX_TAP_SPAN + BLOCK;
    const TAPS: usize = PLANES * crate::geometry::MAX_KERNEL + 1;
    let win = &conv.window;
    let f = conv.filter();
    let (kw, ci, co) = (f.width, f.in_channels, f.out_channels);
    let dx = win.width.dilation;
    let span = win.width.effective();
    let (taps, ky_lo, ky_hi) = crate::rows::gather(rows, win, input.height, oy);
    let out_w = win.width.output(input.width, win.padding);
    let pad_left = win.pad_left(input.width) as isize;
    let zp = conv.input.zero_point as i16;
    let (lo, hi) = conv.activation.bounds(conv.output);
    let (lo, hi) = (_mm256_set1_epi32(lo), _mm256_set1_epi32(hi));
    let out_zp = _mm256_set1_epi32(conv.output.zero_point);
    // The valid tap rows of one pass as i16, plane ky * ci + ic for channel ic
    // of kernel row ky, zeros outside the image; only the first `len` values of
    // the planes of rows ky_lo..ky_hi are written, and read.
    let mut padded = [[const { MaybeUninit::<i16>::uninit() }; SPAN]; PLANES];
    // The valid taps of one channel with their weights, in pairs (one spare for
    // an odd count); only the first `nt` are written and read.
    let mut list = [const { MaybeUninit::<(usize, usize, i8)>::uninit() }; TAPS];
    let mut c0 = 0;
    while c0 < out_w {
        let cols = COLUMNS.min(out_w - c0);
        // Input column of padded[_][0]: the first tap of output column c0.
        let x0 = c0 as isize - pad_left;
        let len = cols.div_ceil(BLOCK) * BLOCK + span;
        // Columns of a plane inside the image: x0 + i in 0..width.
        let a = (-x0).clamp(0, len as isize) as usize;
        let b = (input.width as isize - x0).clamp(a as isize, len as isize) as usize;
        let first = (x0 + a as isize) as usize;
        for ky in ky_lo..ky_hi {
            let row = taps[ky];
            for plane in &mut padded[ky * ci..(ky + 1) * ci] {
                plane[..a].fill(MaybeUninit::new(0));
                plane[b..len].fill(MaybeUninit::new(0));
            }
            if ci == 3 {
                let [p0, p1, p2] = &mut padded[ky * 3..ky * 3 + 3] else {
                    continue;
                };
                let src = &row[first * 3..(first + b - a) * 3];
                widen_planes(src, zp, [&mut p0[a..b], &mut p1[a..b], &mut p2[a..b]]);
                continue;
            }
            for ic in 0..ci {
                let dst = &mut padded[ky * ci + ic][..len];
                if ci == 1 {
                    widen_minus(&row[first..first + (b - a)], zp, &mut dst[a..b]);
                } else {
                    for (d, &x) in dst[a..b]
                        .iter_mut()
                        .zip(row[first * ci + ic..].iter().step_by(ci))
                    {
                        d.write(x as i16 - zp);
                    }
                }
            }
        }
        for oc in 0..co {
            let mut nt = 0;
            for ky in ky_lo..ky_hi {
                for kx in 0..kw {
                    for ic in 0..ci {
                        let w = conv.weights[f.index(conv.layout, oc, ky, kx, ic)];
                        if w != 0 {
                            list[nt].write((ky * ci + ic, kx * dx, w));
                            nt += 1;
                        }
                    }
                }
            }
            if nt % 2 == 1 {
                // A zero weight on a valid tap pairs the last one.
                list[nt].write((ky_lo * ci, 0, 0));
                nt += 1;
            }
            let rq = Requant8::splat(conv.channel_requant(oc, Rounding::Double));
            let mut bx = 0;
            while bx < cols {
                let mut acc_lo = rq.bias;
                let mut acc_hi = rq.bias;
                for t in (0..nt).step_by(2) {
                    // SAFETY: list[..nt] was written above.
                    let ((ya, xa, wa), (yb, xb, wb)) =
                        unsafe { (list[t].assume_init(), list[t + 1].assume_init()) };
                    // SAFETY: bx + x + 16 <= cols.div_ceil(16) * 16 + span = len <= SPAN
                    // for x < span: 16 i16 of a valid row's written prefix.
                    let (va, vb) = unsafe {
                        (
                            _mm256_loadu_si256(padded[ya].as_ptr().add(bx + xa).cast()),
                            _mm256_loadu_si256(padded[yb].as_ptr().add(bx + xb).cast()),
                        )
                    };
                    let w = _mm256_set1_epi32(pair(wa, wb));
                    acc_lo = _mm256_add_epi32(
                        acc_lo,
                        _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), w),
                    );
                    acc_hi = _mm256_add_epi32(
                        acc_hi,
                        _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), w),
                    );
                }
                // Lanes: acc_lo holds pixels 0-3 and 8-11, acc_hi 4-7 and 12-15; the
                // 32-to-16 pack per 128-bit half puts them back in order.
                let r_lo = _mm256_min_epi32(
                    _mm256_max_epi32(_mm256_add_epi32(rq.apply(acc_lo), out_zp), lo),
                    hi,
                );
                let r_hi = _mm256_min_epi32(
                    _mm256_max_epi32(_mm256_add_epi32(rq.apply(acc_hi), out_zp), lo),
                    hi,
                );
                let words = _mm256_packs_epi32(r_lo, r_hi);
                let bytes = _mm256_permute4x64_epi64::<0b1000>(_mm256_packs_epi16(words, words));
                let mut px = [0i8; 32];
                // SAFETY: 32 writable bytes.
                unsafe { _mm256_storeu_si256(px.as_mut_ptr().cast(), bytes) };
                let n = BLOCK.min(cols - bx);
                let o0 = (c0 + bx) * co + oc;
                if co == 1 {
                    out[o0..o0 + n].copy_from_slice(&px[..n]);
                } else {
                    for (p, &v) in px[..n].iter().enumerate() {
                        out[o0 + p * co] = v;
                    }
                }
                bx += BLOCK;
            }
        }
        c0 += cols;
    }
}

/// `pshufb` masks picking channel `c` of 16 interleaved 3-channel pixels out of
/// their 48 bytes, one mask per 16-byte third: the third's bytes of channel
/// `c` go to their pixel's position, every other lane is zeroed (`-128`).
const fn rgb_masks(c: usize) -> [[i8; 16]; 3] {
    let mut masks = [[-128i8; 16]; 3];
    let mut p = 0;
    while p < 16 {
        let at = 3 * p + c;
        masks[at / 16][p] = (at % 16) as i8;
        p += 1;
    }
    masks
}

/// The masks of the three channels.
const RGB_MASKS: [[[i8; 16]; 3]; 3] = [rgb_masks(0), rgb_masks(1), rgb_masks(2)];

/// `planes[c][i] = src[3 i + c] - zp` as i16: three interleaved channels split
/// into planes, 16 pixels a step (three `pshufb` per plane), the rest one by one.
#[target_feature(enable = "avx2")]
fn widen_planes(src: &[i8], zp: i16, planes: [&mut [MaybeUninit<i16>]; 3]) {
    let n = (src.len() / 3).min(planes.iter().map(|p| p.len()).min().unwrap_or(0));
    let z = _mm256_set1_epi16(zp);
    // SAFETY: 16 readable bytes each.
    let masks = RGB_MASKS.map(|m| m.map(|m| unsafe { _mm_loadu_si128(m.as_ptr().cast()) }));
    let [p0, p1, p2] = planes;
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: 3 (i + 16) <= 3 n <= src.len(): 48 readable bytes from 3 i.
        let thirds = unsafe {
            let at = src.as_ptr().add(3 * i);
            [0, 16, 32].map(|o| _mm_loadu_si128(at.add(o).cast()))
        };
        for (c, plane) in [&mut *p0, &mut *p1, &mut *p2].into_iter().enumerate() {
            let m = &masks[c];
            let bytes = _mm_or_si128(
                _mm_or_si128(
                    _mm_shuffle_epi8(thirds[0], m[0]),
                    _mm_shuffle_epi8(thirds[1], m[1]),
                ),
                _mm_shuffle_epi8(thirds[2], m[2]),
            );
            let v = _mm256_sub_epi16(_mm256_cvtepi8_epi16(bytes), z);
            // SAFETY: i + 16 <= n <= plane.len(): 32 writable bytes
            // (MaybeUninit<i16> has i16's layout).
            unsafe { _mm256_storeu_si256(plane.as_mut_ptr().add(i).cast(), v) };
        }
        i += 16;
    }
    for (j, px) in src.chunks_exact(3).enumerate().take(n).skip(i) {
        p0[j].write(px[0] as i16 - zp);
        p1[j].write(px[1] as i16 - zp);
        p2[j].write(px[2] as i16 - zp);
    }
}
