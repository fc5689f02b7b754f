//! Clock: a monotonic counter the frame loop reads around each `push_row`, in
//! whatever unit the machine counts (QEMU: SysTick ticks of 40 instructions;
//! the board: DWT cycles).

/// A monotonic counter.
pub trait Clock {
    /// The current count; it only grows (within a frame).
    fn now(&mut self) -> u64;
}

/// A clock that always reads 0 (no timing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoClock;

impl Clock for NoClock {
    fn now(&mut self) -> u64 {
        0
    }
}

/// A clock that advances by a fixed step at every reading: for tests.
///
/// ```
/// use scanline_firmware::clock::{Clock, Steps};
/// let mut c = Steps::new(10);
/// assert_eq!((c.now(), c.now()), (10, 20));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Steps {
    now: u64,
    step: u64,
}

impl Steps {
    /// A clock starting at 0 that advances by `step` before each reading.
    pub const fn new(step: u64) -> Self {
        Self { now: 0, step }
    }
}

impl Clock for Steps {
    fn now(&mut self) -> u64 {
        self.now += self.step;
        self.now
    }
}
