//! Exec: how the row kernels run — the requantization rounding and the
//! instruction set their inner loops use. Every kernel set computes the same
//! bytes: int32 accumulation and integer requantization are exact in any
//! instruction set, and the portable kernels are the reference the others are
//! tested against.
//!
//! A kernel set other than [`Kernels::PORTABLE`] is chosen by the caller, who
//! knows the CPU: the core cannot detect features without `std`, and running
//! AVX2 code on a CPU without AVX2 is undefined behaviour, so
//! [`Kernels::assume`] is `unsafe`. The host detects features at run time
//! (`scanline_host::engine::Kernels`-style helpers) and offers only the sets the
//! CPU has.
//!
//! # Examples
//!
//! ```
//! use scanline::exec::{Exec, Isa, Kernels};
//! use scanline::Rounding;
//! let exec = Exec::new(Rounding::Double, Kernels::PORTABLE);
//! assert_eq!(exec.kernels.isa(), Isa::Portable);
//! for &isa in Isa::ALL {
//!     assert_eq!(Isa::from_name(isa.name()), Some(isa));
//! }
//! ```

use crate::Rounding;

/// An instruction set the row kernels can be compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Isa {
    /// Plain Rust, no explicit SIMD: runs everywhere, the reference.
    #[default]
    Portable,
    /// x86-64 AVX2 (and FMA's baseline): 256-bit integer SIMD. Only on
    /// `x86_64` builds.
    Avx2,
    /// x86-64 AVX-512 with VNNI (F, BW and VNNI, besides AVX2): `vpdpbusd`
    /// convolutions over 16 output channels, the AVX2 kernels elsewhere. Only on
    /// `x86_64` builds.
    Avx512,
    /// The Cortex-M4 (Armv7E-M) DSP extension: `SMLAD` on int16 pairs,
    /// `SXTB16`, `SSUB8`/`SEL`. Its primitives are single instructions on
    /// 32-bit Arm and plain Rust elsewhere, so every build has it (on the host
    /// it is the same algorithm, tested, not a speed-up); the default on Arm.
    Dsp,
}

impl Isa {
    /// Every instruction set this build has kernels for (the CPU may lack
    /// some), slowest first on this architecture: the last one a CPU supports
    /// is the one to run.
    pub const ALL: &'static [Isa] = &[
        Isa::Portable,
        Isa::Dsp,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512,
    ];

    /// Its name: `portable`, `dsp`, `avx2`, `avx512`.
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Dsp => "dsp",
        }
    }

    /// The instruction set called `name` (case-insensitive) that this build has.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|i| i.name().eq_ignore_ascii_case(name))
    }
}

/// A kernel set the caller vouches the CPU can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Kernels {
    isa: Isa,
}

impl Kernels {
    /// The portable kernels: safe everywhere.
    pub const PORTABLE: Kernels = Kernels { isa: Isa::Portable };

    /// The Cortex-M4 DSP kernels: safe everywhere too (on 32-bit Arm the
    /// assembler takes their instructions only for a target that has them;
    /// elsewhere they are plain Rust).
    pub const DSP: Kernels = Kernels { isa: Isa::Dsp };

    /// What a model runs with unless told otherwise: [`Kernels::DSP`] on
    /// 32-bit Arm (the Cortex-M4 firmware), [`Kernels::PORTABLE`] elsewhere
    /// (the host chooses AVX2 itself, after detecting it).
    pub const DEFAULT: Kernels = if cfg!(target_arch = "arm") {
        Kernels::DSP
    } else {
        Kernels::PORTABLE
    };

    /// The kernels for `isa`.
    ///
    /// # Safety
    ///
    /// The CPU that runs any model using these kernels must support `isa` (for
    /// [`Isa::Avx2`]: `is_x86_feature_detected!("avx2")` is true; for
    /// [`Isa::Avx512`]: so are `avx512f`, `avx512bw` and `avx512vnni`, and
    /// `avx2`). `isa` must be
    /// in [`Isa::ALL`] for this build; an instruction set this build has no
    /// kernels for falls back to the portable ones.
    // SAFETY: nothing unsafe happens here; `unsafe` hands the caller the duty
    // stated above, which every kernel that matches on the set relies on.
    #[allow(unsafe_code)]
    pub const unsafe fn assume(isa: Isa) -> Self {
        Kernels { isa }
    }

    /// The instruction set.
    pub const fn isa(self) -> Isa {
        self.isa
    }
}

/// How a model's rows are computed: rounding and kernel set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exec {
    /// Requantization rounding.
    pub rounding: Rounding,
    /// Instruction set of the inner loops.
    pub kernels: Kernels,
}

impl Exec {
    /// `rounding` with `kernels`.
    pub const fn new(rounding: Rounding, kernels: Kernels) -> Self {
        Self { rounding, kernels }
    }

    /// `rounding` with the portable kernels.
    pub const fn portable(rounding: Rounding) -> Self {
        Self::new(rounding, Kernels::PORTABLE)
    }
}
