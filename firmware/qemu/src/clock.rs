//! Clock: SysTick on the core clock, extended to 64 bits by counting wraps in
//! its exception, read as a [`scanline_firmware::clock::Clock`] in ticks.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use scanline_firmware::clock::Clock;

/// Guest instructions per SysTick tick under `-icount shift=0` on mps2-an386
/// (1 ns per instruction, 25 MHz core clock).
pub const INSTRUCTIONS_PER_TICK: u32 = 40;

const RELOAD: u32 = 0x00ff_ffff;

static WRAPS: AtomicU32 = AtomicU32::new(0);

/// Called from the SysTick exception: the counter went through zero.
pub fn on_wrap() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// SysTick, counting down from 0xFFFFFF on the core clock.
pub struct SysTickClock {
    _private: (),
}

impl SysTickClock {
    /// Starts SysTick (core clock, reload 0xFFFFFF, wrap exception on).
    pub fn start(syst: &mut SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        // The counter reads 0 until its first reload: wait for it, so the first
        // reading is not mistaken for the end of a period.
        while SYST::get_current() == 0 {}
        Self { _private: () }
    }
}

impl Clock for SysTickClock {
    fn now(&mut self) -> u64 {
        ticks()
    }
}

/// SysTick ticks since [`SysTickClock::start`] (64 bits, wraps counted).
fn ticks() -> u64 {
    loop {
        let before = WRAPS.load(Ordering::Relaxed);
        let current = SYST::get_current();
        let after = WRAPS.load(Ordering::Relaxed);
        if before == after {
            return (u64::from(before) << 24) + u64::from(RELOAD - current);
        }
    }
}

/// Nanoseconds per SysTick tick: the 25 MHz core clock.
const NS_PER_TICK: u64 = 40;

/// A busy-wait delay on SysTick (guest time: under `-icount shift=0` one
/// nanosecond per instruction), for the bounded waits of the injected camera
/// faults. Only valid after [`SysTickClock::start`].
pub struct Sleep;

impl embedded_hal::delay::DelayNs for Sleep {
    fn delay_ns(&mut self, ns: u32) {
        let end = ticks().saturating_add(u64::from(ns).div_ceil(NS_PER_TICK));
        while ticks() < end {}
    }
}

/// Measures instructions per tick with `asm::delay(n)`, whose loop runs
/// `2 * (n + 1)` instructions (`subs` + `bne` per turn): 4,000,000 of them.
pub fn calibrate(clock: &mut SysTickClock) -> (u32, u64) {
    const N: u32 = 1_999_999;
    let t0 = clock.now();
    cortex_m::asm::delay(N);
    let ticks = clock.now() - t0;
    let instructions = 2 * (u64::from(N) + 1);
    // Round to the nearest integer: the two clock reads add a few instructions.
    (((instructions + ticks / 2) / ticks.max(1)) as u32, ticks)
}
