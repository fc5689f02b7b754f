//! The firmware on QEMU's mps2-an386 (Cortex-M4F): works through a job list
//! read by semihosting — each job a model (a `.tflite` file or the built-in
//! edge model), a recording fed line by line as a camera would, and an output
//! file for the rows — and logs a per-frame report over defmt (semihosting
//! stdout, binary frames). Exits through semihosting: 0 if every frame of
//! every job went through, 1 otherwise; a panic or HardFault exits 101 / 102
//! with a decoded message, never hangs.
//!
//! Instruction counts: with `-icount shift=0` QEMU advances its virtual clock
//! 1 ns per guest instruction, and the mps2-an386 SysTick counts the 25 MHz core
//! clock, so one SysTick tick is 40 guest instructions. The binary checks this
//! at boot against `cortex_m::asm::delay`, whose loop length is known, and logs
//! the ratio it measured. DWT CYCCNT does not count under QEMU.
#![no_std]
#![no_main]

mod clock;
mod file;
mod run;
mod workload;

use cortex_m_rt::{ExceptionFrame, entry, exception};
use defmt_semihosting as _;
use scanline_firmware::stack;

use crate::clock::SysTickClock;

/// The job list, in QEMU's working directory.
const JOBS: &core::ffi::CStr = c"scanline-jobs.txt";

#[entry]
fn main() -> ! {
    let Some(mut core) = cortex_m::Peripherals::take() else {
        defmt::error!("scanline fatal: core peripherals already taken");
        exit(1)
    };
    let mut clock = SysTickClock::start(&mut core.SYST);
    let (per_tick, ticks) = clock::calibrate(&mut clock);
    defmt::info!("scanline calibration ticks={=u64}", ticks);
    let layout = stack::layout();
    defmt::info!(
        "scanline machine=qemu-mps2-an386 statics={=usize} stack_region={=usize} instructions_per_tick={=u32} calibration=asm::delay",
        layout.statics,
        layout.stack,
        per_tick
    );
    if per_tick != clock::INSTRUCTIONS_PER_TICK {
        defmt::warn!(
            "scanline calibration: measured {=u32} instructions per SysTick tick, expected {=u32} (is -icount shift=0 set?)",
            per_tick,
            clock::INSTRUCTIONS_PER_TICK
        );
    }
    let ok = run::jobs(JOBS, &mut clock);
    defmt::info!(
        "scanline end status={=str} stack_high_water={=usize}",
        if ok { "ok" } else { "failed" },
        stack::high_water()
    );
    exit(if ok { 0 } else { 1 })
}

/// Ends the emulation with `code` (QEMU exits with it).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::interrupt::disable();
    defmt::error!("scanline panic: {}", defmt::Display2Format(info));
    exit(101)
}

// SAFETY: cortex-m-rt requires the HardFault handler to be declared `unsafe`;
// it only reads the stacked exception frame it is given and exits.
#[allow(unsafe_code)]
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!(
        "scanline hardfault: pc={=u32:#010x} lr={=u32:#010x} xpsr={=u32:#010x}",
        frame.pc(),
        frame.lr(),
        frame.xpsr()
    );
    exit(102)
}

#[exception]
fn SysTick() {
    clock::on_wrap();
}
