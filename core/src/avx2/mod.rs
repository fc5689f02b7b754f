//! Avx2: the x86-64 AVX2 kernel set — the portable row kernels compiled for AVX2
//! (LLVM vectorizes their inner loops 256 bits wide), and explicit AVX2 kernels
//! where auto-vectorization does not reach. Same bytes as the portable kernels:
//! every product is exact in 32 bits and requantization is integer arithmetic.
//!
//! The only way in is [`Avx2::of`], which needs [`Kernels`] for [`Isa::Avx2`]
//! (or [`Isa::Avx512`], which includes AVX2);
//! building those is `unsafe` ([`Kernels::assume`]) and promises the CPU has AVX2,
//! which is the safety argument of every call below.
#![allow(unsafe_code)]
#![allow(
    clippy::indexing_slicing,
    reason = "measured x86 SIMD kernels: every index is bounded by the validated shapes (see each SAFETY note); checked forms cost in the inner loops"
)]

mod conv;
mod depthwise;
mod pool;

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use crate::exec::{Isa, Kernels};
use crate::requant::ChannelRequant;
use crate::{Conv2d, DepthwiseConv2d, MaxPool2d, Rounding, Rows, Shape};

/// Proof that the CPU runs AVX2: only [`Avx2::of`] makes one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(());

impl Avx2 {
    /// The AVX2 kernels, if `kernels` chose them.
    #[inline]
    pub(crate) fn of(kernels: Kernels) -> Option<Self> {
        // The AVX-512 set promises AVX2 too, and runs these kernels where its
        // own do not apply.
        matches!(kernels.isa(), Isa::Avx2 | Isa::Avx512).then_some(Avx2(()))
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
        unsafe { conv::conv_rows(conv, rows, input, first, n, out, rounding) }
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
        unsafe { pool::pool_row(pool, rows, input, oy, out) }
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
    conv::conv_rows(conv, rows, input, oy, n, out, rounding);
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
        let co = conv.out_channels;
        Self::lanes(|l| (oc0 + l < co).then(|| conv.channel_requant(oc0 + l, Rounding::Double)))
    }

    /// The constants of lane `l` from `channel(l)` (zeros for `None`).
    #[target_feature(enable = "avx2")]
    fn lanes(channel: impl Fn(usize) -> Option<ChannelRequant>) -> Self {
        let mut bias = [0i32; 8];
        let mut mult = [0i32; 8];
        let mut left = [0i32; 8];
        let mut right = [0i32; 8];
        for l in 0..8 {
            if let Some(rq) = channel(l) {
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

    /// The constants of one channel in every lane.
    #[target_feature(enable = "avx2")]
    fn splat(rq: ChannelRequant) -> Self {
        let right = (-rq.mult.shift).clamp(0, 31);
        let mask = ((1i64 << right) - 1) as i32;
        Self {
            bias: _mm256_set1_epi32(rq.bias),
            mult: _mm256_set1_epi32(rq.mult.multiplier),
            left: _mm256_set1_epi32(rq.mult.shift.max(0)),
            right: _mm256_set1_epi32(right),
            mask: _mm256_set1_epi32(mask),
            half: _mm256_set1_epi32(mask >> 1),
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
    if depthwise::fits(dw, input, rounding) {
        depthwise::row(dw, rows, input, oy, out);
    } else {
        dw.row(rows, input, oy, out, rounding);
    }
}
