//! Stack: how much of the stack a run has used, measured from the paint
//! `cortex-m-rt` (feature `paint-stack`) writes over the whole stack region at
//! reset, and how RAM splits into statics and stack.
//!
//! The stack grows down from `_stack_start` towards `_stack_end` (the end of
//! the statics). Every word still holding [`PAINT`] was never written, so the
//! high-water mark is the region's size less the painted words at its low end.
//! (A function that reserved stack and never wrote the bottom words would be
//! under-counted by those words; the figure is a lower bound, tight in practice.)

/// The value `cortex-m-rt`'s `paint-stack` feature fills the stack with.
pub const PAINT: u32 = 0xcccc_cccc;

/// Bytes used of a stack region given as its words from the lowest address
/// up: everything above the leading run of [`PAINT`] words.
///
/// ```
/// use scanline_firmware::stack::{used, PAINT};
/// assert_eq!(used(&[PAINT, PAINT, 7, PAINT, 1]), 12);
/// assert_eq!(used(&[PAINT; 4]), 0);
/// ```
pub fn used(words: &[u32]) -> usize {
    let untouched = words.iter().take_while(|&&w| w == PAINT).count();
    (words.len() - untouched) * 4
}

/// How RAM is laid out, from the linker's symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Bytes of statics (`.data`, `.bss`, `.uninit`): from the start of RAM to
    /// `_stack_end`.
    pub statics: usize,
    /// Bytes of the stack region: `_stack_end` to `_stack_start`.
    pub stack: usize,
}

#[cfg(all(target_arch = "arm", target_os = "none"))]
mod hw {
    use super::{Layout, PAINT};

    // SAFETY: the linker script of cortex-m-rt defines these three symbols; they
    // are declared only to take their addresses.
    #[allow(unsafe_code)]
    unsafe extern "C" {
        static __sdata: u32;
        static _stack_end: u32;
        static _stack_start: u32;
    }

    fn bounds() -> (usize, usize, usize) {
        // Only the addresses of the linker's symbols are taken, never their
        // contents.
        let ram = core::ptr::addr_of!(__sdata) as usize;
        let end = core::ptr::addr_of!(_stack_end) as usize;
        let start = core::ptr::addr_of!(_stack_start) as usize;
        (ram, end, start)
    }

    /// RAM layout of the running firmware.
    pub fn layout() -> Layout {
        let (ram, end, start) = bounds();
        Layout {
            statics: end - ram,
            stack: start - end,
        }
    }

    /// Bytes of stack used since reset (see the module documentation).
    #[allow(unsafe_code)]
    pub fn high_water() -> usize {
        let (_, end, start) = bounds();
        let mut p = end;
        while p < start {
            // SAFETY: `p` is 4-aligned (the linker script asserts `_stack_end`
            // is) and inside the stack region `[_stack_end, _stack_start)`,
            // which is RAM the program owns; the read is volatile because that
            // memory belongs to no Rust object while it is painted, and a word
            // in use by a live frame is only read, never referenced.
            let w = unsafe { core::ptr::read_volatile(p as *const u32) };
            if w != PAINT {
                break;
            }
            p += 4;
        }
        start - p
    }

    /// The lowest stack address written since reset.
    pub fn deepest() -> usize {
        let (_, _, start) = bounds();
        start - high_water()
    }
}

#[cfg(all(target_arch = "arm", target_os = "none"))]
pub use hw::{deepest, high_water, layout};
