//! Avx2: the x86-64 AVX2 kernel set — the portable row kernels compiled for AVX2
//! (LLVM vectorizes their inner loops 256 bits wide), and explicit AVX2 kernels
//! where auto-vectorization does not reach. Same bytes as the portable kernels:
//! every product is exact in 32 bits and requantization is integer arithmetic.
//!
//! The only way in is [`Avx2::of`], which needs [`Kernels`] for [`Isa::Avx2`];
//! building those is `unsafe` ([`Kernels::assume`]) and promises the CPU has AVX2,
//! which is the safety argument of every call below.
#![allow(unsafe_code)]

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use crate::exec::{Isa, Kernels};
use crate::{Conv2d, DepthwiseConv2d, MaxPool2d, Rounding, Rows, Shape, WeightLayout};

/// Proof that the CPU runs AVX2: only [`Avx2::of`] makes one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(());

impl Avx2 {
    /// The AVX2 kernels, if `kernels` chose them.
    #[inline]
    pub(crate) fn of(kernels: Kernels) -> Option<Self> {
        (kernels.isa() == Isa::Avx2).then_some(Avx2(()))
    }

    /// [`Conv2d::compute_row`] for AVX2.
    #[inline]
    pub(crate) fn conv<R: Rows + ?Sized>(
        self,
        conv: &Conv2d<'_>,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        rounding: Rounding,
    ) {
        // SAFETY: an `Avx2` exists only for `Kernels` built by `Kernels::assume(Avx2)`,
        // whose contract is that the CPU supports AVX2.
        unsafe { conv_row(conv, rows, input, oy, out, rounding) }
    }

    /// [`crate::Layer::compute_rows`] of a convolution for AVX2: `out` holds whole
    /// output rows of `n` values from row `first` on.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn conv_rows<R: Rows + ?Sized>(
        self,
        conv: &Conv2d<'_>,
        rows: &R,
        input: Shape,
        first: usize,
        n: usize,
        out: &mut [i8],
        rounding: Rounding,
    ) {
        // SAFETY: as in `Avx2::conv`.
        unsafe { conv_rows(conv, rows, input, first, n, out, rounding) }
    }

    /// [`DepthwiseConv2d::compute_row`] for AVX2.
    #[inline]
    pub(crate) fn depthwise<R: Rows + ?Sized>(
        self,
        dw: &DepthwiseConv2d<'_>,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        rounding: Rounding,
    ) {
        // SAFETY: as in `Avx2::conv`.
        unsafe { depthwise_row(dw, rows, input, oy, out, rounding) }
    }

    /// [`MaxPool2d::compute_row`] for AVX2.
    #[inline]
    pub(crate) fn pool<R: Rows + ?Sized>(
        self,
        pool: &MaxPool2d,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
    ) {
        // SAFETY: as in `Avx2::conv`.
        unsafe { pool_row(pool, rows, input, oy, out) }
    }
}

#[target_feature(enable = "avx2")]
fn conv_row<R: Rows + ?Sized>(
    conv: &Conv2d<'_>,
    rows: &R,
    input: Shape,
    oy: usize,
    out: &mut [i8],
    rounding: Rounding,
) {
    let n = out.len();
    conv_rows(conv, rows, input, oy, n, out, rounding);
}

/// Whether [`conv_windows`] takes this convolution.
fn windows_fit(conv: &Conv2d<'_>, rounding: Rounding) -> bool {
    let f = conv.filter();
    let contiguous = conv.layout == WeightLayout::Ohwi || f.out_channels == 1;
    rounding == Rounding::Double && conv.in_channels > 1 && contiguous && f.per_channel() <= MAX_K
}

#[target_feature(enable = "avx2")]
fn conv_rows<R: Rows + ?Sized>(
    conv: &Conv2d<'_>,
    rows: &R,
    input: Shape,
    first: usize,
    n: usize,
    out: &mut [i8],
    rounding: Rounding,
) {
    if windows_fit(conv, rounding) {
        conv_windows(conv, rows, input, first, n, out);
    } else {
        for (i, row) in out.chunks_exact_mut(n).enumerate() {
            conv.row(rows, input, first + i, row, rounding);
        }
    }
}

/// Largest window (`kh * kw * in_channels`) [`conv_windows`] takes.
const MAX_K: usize = crate::conv::WINDOW;
/// Output pixels computed together (each loaded weight serves them all).
const PX: usize = 4;

/// Double-rounding requantization constants of 8 output channels (one per lane).
#[derive(Clone, Copy)]
struct Requant8 {
    bias: __m256i,
    mult: __m256i,
    left: __m256i,
    right: __m256i,
    /// `(1 << right) - 1`.
    mask: __m256i,
    /// `mask >> 1`.
    half: __m256i,
}

impl Requant8 {
    /// The constants of channels `oc0..oc0 + 8`; lanes past `out_channels` get zeros.
    #[target_feature(enable = "avx2")]
    fn of(conv: &Conv2d<'_>, oc0: usize) -> Self {
        let mut bias = [0i32; 8];
        let mut mult = [0i32; 8];
        let mut left = [0i32; 8];
        let mut right = [0i32; 8];
        for l in 0..8 {
            if oc0 + l < conv.out_channels {
                let rq = conv.channel_requant(oc0 + l, Rounding::Double);
                bias[l] = rq.bias;
                mult[l] = rq.mult.multiplier;
                left[l] = rq.mult.shift.max(0);
                right[l] = (-rq.mult.shift).clamp(0, 31);
            }
        }
        let mask = right.map(|r| ((1i64 << r) - 1) as i32);
        Self {
            bias: load8(&bias),
            mult: load8(&mult),
            left: load8(&left),
            right: load8(&right),
            mask: load8(&mask),
            half: load8(&mask.map(|m| m >> 1)),
        }
    }

    /// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc << left, mult), right)`
    /// per lane, exactly as [`crate::Multiplier::apply`] with double rounding (the
    /// saturating case needs `mult == i32::MIN`, which no multiplier is).
    #[target_feature(enable = "avx2")]
    fn apply(&self, acc: __m256i) -> __m256i {
        let x = _mm256_sllv_epi32(acc, self.left);
        let nudge = _mm256_set1_epi64x(1 << 30);
        let even = _mm256_add_epi64(_mm256_mul_epi32(x, self.mult), nudge);
        let odd = _mm256_add_epi64(
            _mm256_mul_epi32(
                _mm256_srli_epi64::<32>(x),
                _mm256_srli_epi64::<32>(self.mult),
            ),
            nudge,
        );
        // Bits 31..62 of each 64-bit sum: floor((ab + 2^30) / 2^31) as i32.
        let even = _mm256_srli_epi64::<31>(even);
        let odd = _mm256_slli_epi64::<32>(_mm256_srli_epi64::<31>(odd));
        let v = _mm256_blend_epi32::<0b1010_1010>(even, odd);
        let rem = _mm256_and_si256(v, self.mask);
        // mask >> 1, plus 1 for negative values.
        let threshold = _mm256_sub_epi32(self.half, _mm256_srai_epi32::<31>(v));
        let q = _mm256_srav_epi32(v, self.right);
        _mm256_sub_epi32(q, _mm256_cmpgt_epi32(rem, threshold))
    }
}

#[target_feature(enable = "avx2")]
fn load8(v: &[i32; 8]) -> __m256i {
    // SAFETY: 8 i32 are 32 readable bytes; loadu has no alignment requirement.
    unsafe { _mm256_loadu_si256(v.as_ptr().cast()) }
}

/// `(a, b)` as one 32-bit lane of two i16: `a` low, `b` high (what `vpmaddwd` pairs).
#[inline(always)]
fn pair(a: i8, b: i8) -> i32 {
    (a as i16 as u16 as u32 | ((b as i16 as u16 as u32) << 16)) as i32
}

/// Packed weight pairs one pass of [`conv_windows`] holds (64 KiB).
const PACK: usize = 16 * 1024;
/// Most groups of 8 channels one pass packs.
const MAX_GROUPS: usize = 32;

/// Window-major convolution of one output row with `vpmaddwd`: each output
/// pixel's window is gathered once as `x - zp` in i16 (0 for padding taps), the
/// weights of groups of 8 output channels are packed as i16 pairs, and each
/// `vpmaddwd` adds two products for 8 channels. The products are those of the
/// portable kernels, summed in another order: exact in i32 (validation bounds
/// `|bias| + Σ|w| * max|x - zp|` by `i32::MAX`, hence every partial sum).
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
    let (kw, ci, co) = (f.width, f.in_channels, f.out_channels);
    let k = f.per_channel();
    let k2 = k.div_ceil(2);
    let out_w = win.width.output(input.width, win.padding);
    let pad_left = win.pad_left(input.width);
    let dx = win.width.dilation;
    let zp = conv.input.zero_point as i16;
    let (lo, hi) = conv.activation.bounds(conv.output);
    let (lo, hi) = (_mm256_set1_epi32(lo), _mm256_set1_epi32(hi));
    let out_zp = _mm256_set1_epi32(conv.output.zero_point);
    let run = kw * ci;
    let per_group = k2 * 8;
    let chunk = (PACK / per_group).clamp(1, MAX_GROUPS);
    let groups = co.div_ceil(8);

    // Packed weights: pair j of lane l of group g at [g * per_group + j * 8 + l].
    // Only the entries a pass writes are read.
    let mut packed = [const { MaybeUninit::<i32>::uninit() }; PACK];
    // The windows of a block of pixels as i16 (with one 0 past an odd k); only
    // the first k + 1 of each are written and read.
    let mut windows = [[const { MaybeUninit::<i16>::uninit() }; MAX_K + 2]; PX];
    let mut requants = [const { MaybeUninit::<Requant8>::uninit() }; MAX_GROUPS];

    let mut g0 = 0;
    while g0 < groups {
        let gn = chunk.min(groups - g0);
        for (gi, requant) in requants.iter_mut().enumerate().take(gn) {
            let oc0 = (g0 + gi) * 8;
            let base = gi * per_group;
            for l in 0..8 {
                let lane = oc0 + l;
                if lane < co {
                    let w = &conv.weights[lane * k..lane * k + k];
                    for (j, p) in w.chunks(2).enumerate() {
                        packed[base + j * 8 + l].write(pair(p[0], p.get(1).copied().unwrap_or(0)));
                    }
                } else {
                    for j in 0..k2 {
                        packed[base + j * 8 + l].write(0);
                    }
                }
            }
            requant.write(Requant8::of(conv, oc0));
        }
        for (i, out) in out.chunks_exact_mut(row_len).enumerate() {
            let (taps, ky_lo, ky_hi) = crate::rows::gather(rows, win, input.height, first + i);
            let mut ox0 = 0;
            while ox0 < out_w {
                let n = PX.min(out_w - ox0);
                for (p, window) in windows.iter_mut().enumerate().take(n) {
                    let x0 = win.width.first_tap(ox0 + p, pad_left);
                    let (kx_lo, kx_hi) = win.width.tap_range(x0, input.width);
                    for (ky, dst) in window[..k].chunks_exact_mut(run).enumerate() {
                        // Rows outside the image are padding: their taps contribute 0.
                        if !(ky_lo..ky_hi).contains(&ky) {
                            dst.fill(MaybeUninit::new(0));
                            continue;
                        }
                        let row = taps[ky];
                        if dx == 1 && kx_lo == 0 && kx_hi == kw {
                            let ix = x0 as usize * ci;
                            widen_minus(&row[ix..ix + run], zp, dst);
                            continue;
                        }
                        for (kx, d) in dst.chunks_exact_mut(ci).enumerate() {
                            if (kx_lo..kx_hi).contains(&kx) {
                                let ix = (x0 + (kx * dx) as isize) as usize * ci;
                                widen_minus(&row[ix..ix + ci], zp, d);
                            } else {
                                d.fill(MaybeUninit::new(0));
                            }
                        }
                    }
                    window[k].write(0);
                }
                // A short last block: the spare pixels compute zeros, never stored.
                for window in windows.iter_mut().skip(n) {
                    window[..=k].fill(MaybeUninit::new(0));
                }
                for (gi, requant) in requants.iter().enumerate().take(gn) {
                    // SAFETY: written for every gi < gn above.
                    let rq = unsafe { requant.assume_init_ref() };
                    let base = gi * per_group;
                    let mut acc = [rq.bias; PX];
                    for j in 0..k2 {
                        // SAFETY: base + j * 8 + 7 < gn * per_group <= PACK, all written
                        // above; an unaligned 32-byte read.
                        let w =
                            unsafe { _mm256_loadu_si256(packed.as_ptr().add(base + j * 8).cast()) };
                        for (a, window) in acc.iter_mut().zip(&windows) {
                            // SAFETY: 2j + 1 <= k < MAX_K + 2, and values 0..=k of every
                            // window of the block were written above; an unaligned read
                            // of two i16 as one i32.
                            let x = unsafe {
                                window.as_ptr().add(2 * j).cast::<i32>().read_unaligned()
                            };
                            *a = _mm256_add_epi32(*a, _mm256_madd_epi16(_mm256_set1_epi32(x), w));
                        }
                    }
                    let oc0 = (g0 + gi) * 8;
                    let lanes = (co - oc0).min(8);
                    for (p, a) in acc.iter().enumerate().take(n) {
                        let v = _mm256_add_epi32(rq.apply(*a), out_zp);
                        let v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
                        let mut lanes_out = [0i32; 8];
                        // SAFETY: 8 i32 are 32 writable bytes; storeu has no alignment
                        // requirement.
                        unsafe { _mm256_storeu_si256(lanes_out.as_mut_ptr().cast(), v) };
                        let o = (ox0 + p) * co + oc0;
                        for (d, &v) in out[o..o + lanes].iter_mut().zip(&lanes_out) {
                            *d = v as i8;
                        }
                    }
                }
                ox0 += n;
            }
        }
        g0 += gn;
    }
}

/// `dst[i] = src[i] - zp` as i16, 16 at a time (writing every `dst[..n]`,
/// `n = min(len)`).
#[target_feature(enable = "avx2")]
fn widen_minus(src: &[i8], zp: i16, dst: &mut [MaybeUninit<i16>]) {
    let n = src.len().min(dst.len());
    let z = _mm256_set1_epi16(zp);
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 <= n: 16 readable bytes of `src`, 32 writable of `dst`
        // (MaybeUninit<i16> has i16's layout).
        unsafe {
            let x = _mm256_cvtepi8_epi16(_mm_loadu_si128(src.as_ptr().add(i).cast()));
            _mm256_storeu_si256(dst.as_mut_ptr().add(i).cast(), _mm256_sub_epi16(x, z));
        }
        i += 16;
    }
    for (d, &x) in dst[i..n].iter_mut().zip(&src[i..n]) {
        d.write(x as i16 - zp);
    }
}

#[target_feature(enable = "avx2")]
fn depthwise_row<R: Rows + ?Sized>(
    dw: &DepthwiseConv2d<'_>,
    rows: &R,
    input: Shape,
    oy: usize,
    out: &mut [i8],
    rounding: Rounding,
) {
    dw.row(rows, input, oy, out, rounding);
}

#[target_feature(enable = "avx2")]
fn pool_row<R: Rows + ?Sized>(pool: &MaxPool2d, rows: &R, input: Shape, oy: usize, out: &mut [i8]) {
    pool.row(rows, input, oy, out);
}
