//! Board binary placeholder (replaced below).
#![no_std]
#![no_main]
use defmt_rtt as _;
use panic_probe as _;
use stm32f4xx_hal as _;
#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
