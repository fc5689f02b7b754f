//! Dsp: the Cortex-M4 kernel set — row kernels written over a handful of
//! DSP-extension primitives (`SMLAD`, `SXTB16`, `SMMULR`, `SSUB8`/`SEL`, ...)
//! that are one instruction each on 32-bit Arm (`core::arch::asm!`) and plain
//! Rust elsewhere, so the same kernels run in the host's tests (against the
//! portable kernels) and on the microcontroller (where the QEMU equality stage
//! and the benchmark's CMSIS-NN checksums prove the instructions).
//!
//! What makes them fast: the input zero point folded into the bias once per
//! row (padding then reads as the zero point itself), int8 pairs widened to
//! int16 pairs with `SXTB16` and multiplied two at a time by `SMLAD` against
//! weights packed as int16 pairs, four output channels per pass over a window,
//! a 3x3 one-input-channel kernel that makes two outputs per three word loads,
//! requantization in a few instructions when the accumulator's bound allows
//! (`SMMULR` on the doubled accumulator is TFLite's
//! `SaturatingRoundingDoublingHighMul`), and max-pooling four bytes at a time.
//! Layers the kernels do not cover take the portable kernels.
#![allow(unsafe_code)]
#![allow(
    clippy::indexing_slicing,
    reason = "measured Cortex-M4 kernels (cargo xtask bench --m4): every index is bounded by the validated shapes; checked forms cost in the inner loops"
)]

pub(crate) mod conv;
pub(crate) mod pool;

use crate::quant::clamp_i8;
use crate::{Multiplier, Rounding};

/// `acc + lo(a) * lo(b) + hi(a) * hi(b)` on signed 16-bit halves (`SMLAD`).
#[inline(always)]
pub(crate) fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(target_arch = "arm")]
    {
        let r: i32;
        // SAFETY: `smlad` only reads and writes the registers named here; the
        // assembler accepts it only for Arm targets with the DSP extension
        // (Armv7E-M and up), so a build that has it runs on a CPU that has it.
        unsafe {
            core::arch::asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack, preserves_flags));
        }
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let lo = (a as i16 as i32) * (b as i16 as i32);
        let hi = ((a >> 16) as i16 as i32) * ((b >> 16) as i16 as i32);
        acc.wrapping_add(lo).wrapping_add(hi)
    }
}

/// `acc + lo(a) * lo(b)` (`SMLABB`).
#[inline(always)]
pub(crate) fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(target_arch = "arm")]
    {
        let r: i32;
        // SAFETY: as in `smlad`.
        unsafe {
            core::arch::asm!("smlabb {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack, preserves_flags));
        }
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        acc.wrapping_add((a as i16 as i32) * (b as i16 as i32))
    }
}

/// `acc + hi(a) * lo(b)` (`SMLATB`).
#[inline(always)]
pub(crate) fn smlatb(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(target_arch = "arm")]
    {
        let r: i32;
        // SAFETY: as in `smlad`.
        unsafe {
            core::arch::asm!("smlatb {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack, preserves_flags));
        }
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        acc.wrapping_add(((a >> 16) as i16 as i32) * (b as i16 as i32))
    }
}

/// Bytes 0 and 2 of `x`, sign-extended into the two halves (`SXTB16`).
#[inline(always)]
pub(crate) fn sxtb16(x: u32) -> u32 {
    #[cfg(target_arch = "arm")]
    {
        let r: u32;
        // SAFETY: as in `smlad`.
        unsafe {
            core::arch::asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags));
        }
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        (x as i8 as i16 as u16 as u32) | (((x >> 16) as i8 as i16 as u16 as u32) << 16)
    }
}

/// Bytes 1 and 3 of `x`, sign-extended into the two halves (`SXTB16 ..., ROR #8`).
#[inline(always)]
pub(crate) fn sxtb16_ror8(x: u32) -> u32 {
    #[cfg(target_arch = "arm")]
    {
        let r: u32;
        // SAFETY: as in `smlad`.
        unsafe {
            core::arch::asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags));
        }
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        sxtb16(x.rotate_right(8))
    }
}

/// `(a * b + 2^31) >> 32`, the rounded high word of the product (`SMMULR`).
#[inline(always)]
pub(crate) fn smmulr(a: i32, b: i32) -> i32 {
    #[cfg(target_arch = "arm")]
    {
        let r: i32;
        // SAFETY: as in `smlad`.
        unsafe {
            core::arch::asm!("smmulr {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack, preserves_flags));
        }
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        ((a as i64 * b as i64 + (1 << 31)) >> 32) as i32
    }
}

/// The signed maximum of each of the four bytes (`SSUB8` then `SEL`).
#[inline(always)]
pub(crate) fn max8x4(a: u32, b: u32) -> u32 {
    #[cfg(target_arch = "arm")]
    {
        let r: u32;
        // SAFETY: as in `smlad`; `ssub8` sets the APSR.GE bits that `sel`
        // reads right after, inside this one block (flags are clobbered).
        unsafe {
            core::arch::asm!("ssub8 {r}, {a}, {b}", "sel {r}, {a}, {b}", r = out(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack));
        }
        r
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let (a, b) = (a.to_le_bytes(), b.to_le_bytes());
        u32::from_le_bytes(core::array::from_fn(|i| (a[i] as i8).max(b[i] as i8) as u8))
    }
}

/// Four dot products at once: `init[j] + Σ_k SMLAD(SXTB16(x[k]), w[8k + 2j]) +
/// SMLAD(SXTB16(x[k] ROR 8), w[8k + 2j + 1])` — the window `x` (words of four
/// int8) against four channels' weights packed as int16 pairs, eight words per
/// window word. On Arm one loop of 17 instructions per 16 MACs (the compiler's
/// own schedule spills the four accumulators).
#[inline(always)]
pub(crate) fn dot4(x: &[u32], w: &[u32], init: [i32; 4]) -> [i32; 4] {
    let n = x.len();
    let w = &w[..8 * n];
    if n == 0 {
        return init;
    }
    #[cfg(target_arch = "arm")]
    {
        let [mut a0, mut a1, mut a2, mut a3] = init;
        let (mut px, mut pw, mut k) = (x.as_ptr(), w.as_ptr(), n);
        // SAFETY: the loop runs `n >= 1` times, reading `n` words from `x`
        // (`x.len() == n`) and `8 * n` words from `w` (sliced to that length
        // above, so it has them); both are `u32` slices, so every `LDRD` is
        // word-aligned. It writes only the registers named here (flags are
        // clobbered), and the instructions are Armv7E-M DSP ones, accepted by
        // the assembler only for targets that have them.
        unsafe {
            core::arch::asm!(
                "2:",
                "ldr {x}, [{px}], #4",
                "sxtb16 {xb}, {x}, ror #8",
                "sxtb16 {x}, {x}",
                "ldrd {w0}, {w1}, [{pw}], #8",
                "smlad {a0}, {x}, {w0}, {a0}",
                "smlad {a0}, {xb}, {w1}, {a0}",
                "ldrd {w0}, {w1}, [{pw}], #8",
                "smlad {a1}, {x}, {w0}, {a1}",
                "smlad {a1}, {xb}, {w1}, {a1}",
                "ldrd {w0}, {w1}, [{pw}], #8",
                "smlad {a2}, {x}, {w0}, {a2}",
                "smlad {a2}, {xb}, {w1}, {a2}",
                "ldrd {w0}, {w1}, [{pw}], #8",
                "smlad {a3}, {x}, {w0}, {a3}",
                "smlad {a3}, {xb}, {w1}, {a3}",
                "subs {k}, {k}, #1",
                "bne 2b",
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                a3 = inout(reg) a3,
                px = inout(reg) px,
                pw = inout(reg) pw,
                k = inout(reg) k,
                x = out(reg) _,
                xb = out(reg) _,
                w0 = out(reg) _,
                w1 = out(reg) _,
                options(nostack, readonly),
            );
        }
        let _ = (px, pw, k);
        [a0, a1, a2, a3]
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let [mut a0, mut a1, mut a2, mut a3] = init;
        for (&x, w) in x.iter().zip(w.chunks_exact(8)) {
            let (xa, xb) = (sxtb16(x), sxtb16_ror8(x));
            a0 = smlad(xb, w[1], smlad(xa, w[0], a0));
            a1 = smlad(xb, w[3], smlad(xa, w[2], a1));
            a2 = smlad(xb, w[5], smlad(xa, w[4], a2));
            a3 = smlad(xb, w[7], smlad(xa, w[6], a3));
        }
        [a0, a1, a2, a3]
    }
}

/// Four bytes of `s` from `i` as a little-endian word (an unaligned `LDR`).
#[inline(always)]
pub(crate) fn word(s: &[i8], i: usize) -> u32 {
    let b = &s[i..i + 4];
    u32::from_le_bytes([b[0] as u8, b[1] as u8, b[2] as u8, b[3] as u8])
}

/// Two int8 weights as an int16 pair (`lo` in the low half).
#[inline(always)]
pub(crate) fn pair(lo: i8, hi: i8) -> u32 {
    (lo as i16 as u16 as u32) | ((hi as i16 as u16 as u32) << 16)
}

/// One output channel's requantization, prepared for the fast path: the
/// accumulator (bias already folded in) to the clamped int8 output.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Requant {
    /// True when `acc << (left + 1)` cannot overflow for any accumulator the
    /// channel can reach: then TFLite's double rounding is `SMMULR` and one
    /// rounding shift.
    fast: bool,
    /// `left + 1`, the multiplier, and the right shift's rounding half and
    /// sign mask (`-1` if there is a right shift) and the right shift.
    left: u32,
    m: i32,
    half: i32,
    sign: i32,
    right: u32,
    mult: Multiplier,
    rounding: Rounding,
    zp: i32,
    lo: i32,
    hi: i32,
}

impl Requant {
    /// For a channel whose accumulators stay within `±bound`, multiplier
    /// `mult`, output zero point `zp` and activation range `lo..=hi`.
    pub(crate) fn new(
        bound: i64,
        mult: Multiplier,
        rounding: Rounding,
        zp: i32,
        (lo, hi): (i32, i32),
    ) -> Self {
        let left = mult.shift.max(0) as u32;
        let right = (-mult.shift).max(0) as u32;
        let fits = left < 31 && (bound << (left + 1)) <= i32::MAX as i64;
        let fast = rounding == Rounding::Double && fits && right < 32;
        Self {
            fast,
            left: left + 1,
            m: mult.multiplier,
            half: if right > 0 { 1 << (right - 1) } else { 0 },
            sign: if right > 0 { -1 } else { 0 },
            right: if fast { right } else { 0 },
            mult,
            rounding,
            zp,
            lo,
            hi,
        }
    }

    /// The output value of accumulator `acc`.
    #[inline(always)]
    pub(crate) fn apply(&self, acc: i32) -> i8 {
        let v = if self.fast {
            // SRDHM(acc << left', m) = floor((2a * m + 2^31) / 2^32) with
            // a = acc << left' (no overflow: checked in `new`); then
            // RoundingDivideByPOT, half away from zero (no correction for
            // negatives without a shift: `sign` is 0 then).
            let x = smmulr(acc << self.left, self.m);
            (x + self.half + ((x >> 31) & self.sign)) >> self.right
        } else {
            self.slow(acc)
        };
        // The output zero point is added in wrapping int32, as TFLite and the
        // other kernel sets do (`Multiplier::apply_offset`).
        clamp_i8(v.wrapping_add(self.zp), self.lo, self.hi)
    }

    /// The general requantization, out of the hot loops' way.
    #[cold]
    #[inline(never)]
    fn slow(&self, acc: i32) -> i32 {
        self.mult.apply(acc, self.rounding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Xorshift32;

    #[test]
    fn primitives_match_their_definitions() {
        let mut r = Xorshift32::new(7);
        for _ in 0..10_000 {
            let (a, b, c) = (r.next_u32(), r.next_u32(), r.next_u32() as i32);
            let h = |x: u32, i: u32| (x >> (16 * i)) as i16 as i32;
            assert_eq!(
                smlad(a, b, c),
                c.wrapping_add(h(a, 0) * h(b, 0))
                    .wrapping_add(h(a, 1) * h(b, 1))
            );
            assert_eq!(smlabb(a, b, c), c.wrapping_add(h(a, 0) * h(b, 0)));
            assert_eq!(smlatb(a, b, c), c.wrapping_add(h(a, 1) * h(b, 0)));
            let bytes = a.to_le_bytes().map(|v| v as i8);
            assert_eq!(sxtb16(a), pair(bytes[0], bytes[2]));
            assert_eq!(sxtb16_ror8(a), pair(bytes[1], bytes[3]));
            let m = max8x4(a, b).to_le_bytes();
            let (ab, bb) = (a.to_le_bytes(), b.to_le_bytes());
            for ((&m, &x), &y) in m.iter().zip(&ab).zip(&bb) {
                assert_eq!(m as i8, (x as i8).max(y as i8));
            }
        }
    }

    #[test]
    fn fast_requantization_is_tflites() {
        let mut r = Xorshift32::new(99);
        for i in 0..200_000u32 {
            let bound = ((r.next_u32() >> 1) >> (r.next_u32() % 31)) as i64;
            let shift = (r.next_u32() % 40) as i32 - 31;
            let mult = Multiplier {
                multiplier: (r.next_u32() >> 1) as i32 | if i % 3 == 0 { 0x4000_0000 } else { 0 },
                shift: shift.min(30),
            };
            let rq = Requant::new(bound, mult, Rounding::Double, -3, (-128, 127));
            for acc in [
                bound as i32,
                -(bound as i32),
                0,
                (r.next_u32() as i64 % (bound + 1)) as i32,
                -((r.next_u32() as i64 % (bound + 1)) as i32),
            ] {
                let want = clamp_i8(mult.apply(acc, Rounding::Double) - 3, -128, 127);
                assert_eq!(rq.apply(acc), want, "{acc} {mult:?} {bound}");
            }
        }
    }
}
