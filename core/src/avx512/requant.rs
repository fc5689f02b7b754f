//! Requant: double-rounding requantization of 16 output channels at once, and
//! their store as 16 bytes — the AVX-512 form of the AVX2 kernels' `Requant8`.

use core::arch::x86_64::*;

use crate::{Conv2d, Rounding};

/// Double-rounding requantization constants of 16 output channels (one per
/// lane), with the output zero point and the activation's clamp.
#[derive(Clone, Copy)]
pub(super) struct Requant16 {
    mult: __m512i,
    left: __m512i,
    right: __m512i,
    /// `(1 << right) - 1`.
    mask: __m512i,
    /// `mask >> 1`.
    half: __m512i,
    zero_point: __m512i,
    lo: __m512i,
    hi: __m512i,
}

impl Requant16 {
    /// The constants of the channels `channel(l)` of lanes `l` in 0..16; lanes
    /// whose channel is past `out_channels` get zeros (their values are never
    /// stored).
    #[target_feature(enable = "avx512f")]
    pub(super) fn of(conv: &Conv2d<'_>, channel: impl Fn(usize) -> usize) -> Self {
        let mut mult = [0i32; 16];
        let mut left = [0i32; 16];
        let mut right = [0i32; 16];
        for l in 0..16 {
            let oc = channel(l);
            if oc < conv.out_channels {
                let rq = conv.channel_requant(oc, Rounding::Double);
                mult[l] = rq.mult.multiplier;
                left[l] = rq.mult.shift.max(0);
                right[l] = (-rq.mult.shift).clamp(0, 31);
            }
        }
        let mask = right.map(|r| ((1i64 << r) - 1) as i32);
        let (lo, hi) = conv.activation.bounds(conv.output);
        Self {
            mult: load16(&mult),
            left: load16(&left),
            right: load16(&right),
            mask: load16(&mask),
            half: load16(&mask.map(|m| m >> 1)),
            zero_point: _mm512_set1_epi32(conv.output.zero_point),
            lo: _mm512_set1_epi32(lo),
            hi: _mm512_set1_epi32(hi),
        }
    }

    /// The output values of the accumulators `acc`:
    /// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc << left, mult),
    /// right) + zero_point`, clamped to the activation, per lane — exactly
    /// [`crate::Multiplier::apply`] with double rounding (the saturating case
    /// needs `mult == i32::MIN`, which no multiplier is).
    #[target_feature(enable = "avx512f")]
    pub(super) fn apply(&self, acc: __m512i) -> __m512i {
        let x = _mm512_sllv_epi32(acc, self.left);
        let nudge = _mm512_set1_epi64(1 << 30);
        let even = _mm512_add_epi64(_mm512_mul_epi32(x, self.mult), nudge);
        let odd = _mm512_add_epi64(
            _mm512_mul_epi32(
                _mm512_srli_epi64::<32>(x),
                _mm512_srli_epi64::<32>(self.mult),
            ),
            nudge,
        );
        // Bits 31..62 of each 64-bit sum: floor((ab + 2^30) / 2^31) as i32.
        let even = _mm512_srli_epi64::<31>(even);
        let odd = _mm512_slli_epi64::<32>(_mm512_srli_epi64::<31>(odd));
        let v = _mm512_mask_blend_epi32(0xAAAA, even, odd);
        let rem = _mm512_and_si512(v, self.mask);
        // mask >> 1, plus 1 for negative values.
        let threshold = _mm512_sub_epi32(self.half, _mm512_srai_epi32::<31>(v));
        let q = _mm512_srav_epi32(v, self.right);
        let up = _mm512_cmpgt_epi32_mask(rem, threshold);
        let q = _mm512_mask_add_epi32(q, up, q, _mm512_set1_epi32(1));
        let q = _mm512_add_epi32(q, self.zero_point);
        _mm512_min_epi32(_mm512_max_epi32(q, self.lo), self.hi)
    }
}

/// Stores the first `lanes` of 16 i32 lanes (each in -128..=127) as i8 into
/// `dst`.
#[target_feature(enable = "avx512f")]
pub(super) fn store16(v: __m512i, dst: &mut [i8], lanes: usize) {
    // Every lane is already in i8's range: the saturating narrowing is exact.
    let bytes = _mm512_cvtsepi32_epi8(v);
    if lanes >= 16 && dst.len() >= 16 {
        // SAFETY: 16 writable bytes.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), bytes) };
    } else {
        let mut all = [0i8; 16];
        // SAFETY: 16 writable bytes.
        unsafe { _mm_storeu_si128(all.as_mut_ptr().cast(), bytes) };
        let n = lanes.min(dst.len()).min(16);
        dst[..n].copy_from_slice(&all[..n]);
    }
}

#[target_feature(enable = "avx512f")]
fn load16(v: &[i32; 16]) -> __m512i {
    // SAFETY: 16 i32 are 64 readable bytes; loadu has no alignment requirement.
    unsafe { _mm512_loadu_si512(v.as_ptr().cast()) }
}
