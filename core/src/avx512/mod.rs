//! Avx512: the x86-64 AVX-512 VNNI kernel set — the AVX2 kernels, plus a
//! window-major convolution in which one `vpdpbusd` adds four `u8 × i8`
//! products for each of 16 output channels. Same bytes as the portable kernels:
//! the sums are exact in 32 bits and requantization is integer arithmetic.
//!
//! The only way in is [`Avx512::of`], which needs [`Kernels`] for
//! [`Isa::Avx512`]; building those is `unsafe` ([`Kernels::assume`]) and
//! promises the CPU has AVX2, AVX-512 F, BW and VNNI, which is the safety
//! argument of every call below.
#![allow(unsafe_code)]
#![allow(
    clippy::indexing_slicing,
    reason = "measured x86 SIMD kernels: every index is bounded by the validated shapes (see each SAFETY note); checked forms cost in the inner loops"
)]

mod conv;
mod requant;

use crate::exec::{Isa, Kernels};
use crate::{Conv2d, Rounding, Rows, Shape};

/// Proof that the CPU runs AVX2 and AVX-512 F, BW and VNNI: only
/// [`Avx512::of`] makes one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx512(());

impl Avx512 {
    /// The AVX-512 kernels, if `kernels` chose them.
    #[inline]
    pub(crate) fn of(kernels: Kernels) -> Option<Self> {
        (kernels.isa() == Isa::Avx512).then_some(Avx512(()))
    }

    /// Computes output rows `first..` of `conv` into `out` (whole rows of `n`
    /// values) if the VNNI kernel takes this convolution, and says whether it
    /// did; the caller runs the AVX2 kernels otherwise.
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
    ) -> bool {
        if !conv::fits(conv, rounding) {
            return false;
        }
        // SAFETY: an `Avx512` exists only for `Kernels` built by
        // `Kernels::assume(Isa::Avx512)`, whose contract is that the CPU supports
        // AVX2 and AVX-512 F, BW and VNNI.
        unsafe { conv::conv_rows(conv, rows, input, first, n, out) };
        true
    }
}
