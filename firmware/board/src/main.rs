//! The firmware on an STM32F411CEU6 "Black Pill" with an ArduCAM Mini 2MP Plus
//! (OV2640): QVGA RGB565 frames read from the camera's FIFO one line per SPI
//! transaction, through the built-in edge model (or a `.tflite` model embedded
//! at build time), with per-frame defmt logs over RTT: frame number, DWT cycles,
//! the worst `push_row`, dropped frames and why, per-channel output statistics,
//! the output digest; with the `dump` feature also every input line and output
//! row (the capture log `scanline verify` checks).
//!
//! Wiring (README, "Firmware"): SPI1 PA5 SCK, PA6 MISO, PA7 MOSI, PA4 CS;
//! I2C1 PB6 SCL, PB7 SDA; 3V3 and GND.
#![no_std]
#![no_main]

use cortex_m::peripheral::DWT;
use cortex_m_rt::{ExceptionFrame, entry, exception};
use defmt_rtt as _;
use embedded_hal::delay::DelayNs;
use embedded_hal_bus::spi::ExclusiveDevice;
use panic_probe as _;
use scanline::Model;
use scanline::digest::Fnv1a32;
use scanline::pixel::{ByteOrder, GrayRule, PixelFormat};
use scanline_firmware::arducam::{ArduCam, Config};
use scanline_firmware::arena::Arena;
use scanline_firmware::capture::{self, LineKind, Logged};
use scanline_firmware::clock::Clock;
use scanline_firmware::frame::{FrameLoop, Source};
use scanline_firmware::job::{Dump, ModelSpec};
use scanline_firmware::sink::{RowFn, Stats, Tee};
use scanline_firmware::{Error, ov2640, stack};
use static_cell::ConstStaticCell;
use stm32f4xx_hal::i2c::I2c;
use stm32f4xx_hal::pac;
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::rcc::Config as RccConfig;
use stm32f4xx_hal::spi::{Mode, Phase, Polarity, Spi};

/// Core clock: 100 MHz from the Black Pill's 25 MHz crystal.
const SYSCLK_HZ: u32 = 100_000_000;

/// The pipeline's arena: room for N3 at QVGA (17,280 bytes) and the
/// tutorial's board model (17,184) with margin; the edge model needs about
/// 3 KiB.
const ARENA_LEN: usize = 28 * 1024;
static ARENA: ConstStaticCell<Arena<ARENA_LEN>> = ConstStaticCell::new(Arena::new());

/// Values of an input row: QVGA, up to 3 channels.
const MAX_ROW: usize = ov2640::WIDTH * 3;
/// Output channels the statistics cover.
const MAX_CHANNELS: usize = 64;

/// Whether input lines and output rows are logged.
const DUMP: Dump = if cfg!(feature = "dump") {
    Dump::Full
} else {
    Dump::Digest
};

#[cfg(feature = "embedded-model")]
static MODEL: &[u8] = include_bytes!(env!(
    "SCANLINE_MODEL",
    "the embedded-model feature needs SCANLINE_MODEL=path/to/model.tflite"
));

/// The DWT cycle counter, extended to 64 bits (read at least once per 42 s).
struct Cycles {
    last: u32,
    high: u64,
}

impl Clock for Cycles {
    fn now(&mut self) -> u64 {
        let c = DWT::cycle_count();
        if c < self.last {
            self.high += 1 << 32;
        }
        self.last = c;
        self.high + u64::from(c)
    }
}

#[entry]
fn main() -> ! {
    let (Some(dp), Some(mut cp)) = (pac::Peripherals::take(), cortex_m::Peripherals::take()) else {
        defmt::error!("scanline fatal: peripherals already taken");
        reset()
    };
    let mut rcc = dp
        .RCC
        .freeze(RccConfig::hse(25.MHz()).sysclk(SYSCLK_HZ.Hz()));
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();
    let mut clock = Cycles { last: 0, high: 0 };

    let gpioa = dp.GPIOA.split(&mut rcc);
    let gpiob = dp.GPIOB.split(&mut rcc);
    let mode = Mode {
        polarity: Polarity::IdleLow,
        phase: Phase::CaptureOnFirstTransition,
    };
    let spi = Spi::new(
        dp.SPI1,
        (Some(gpioa.pa5), Some(gpioa.pa6), Some(gpioa.pa7)),
        mode,
        8.MHz(),
        &mut rcc,
    );
    let cs = gpioa.pa4.into_push_pull_output();
    // Driving a GPIO pin cannot fail on this chip (the error type is Infallible).
    let Ok(spi) = ExclusiveDevice::new_no_delay(spi, cs);
    let i2c = I2c::new(dp.I2C1, (gpiob.pb6, gpiob.pb7), 100.kHz(), &mut rcc);
    let mut delay = cp.SYST.delay(&rcc.clocks);
    let camera_delay = dp.TIM2.delay_us(&mut rcc);
    let mut camera = ArduCam::new(spi, i2c, camera_delay, Config::default());

    let layout = stack::layout();
    defmt::info!(
        "scanline machine=stm32f411-black-pill sysclk={=u32} statics={=usize} stack_region={=usize}",
        SYSCLK_HZ,
        layout.statics,
        layout.stack
    );
    // A camera that does not answer is retried every second, never a panic.
    let mut attempts = 0u32;
    while let Err(e) = camera.init() {
        attempts += 1;
        defmt::error!(
            "scanline camera init failed attempt={=u32} fault={=str} error={}",
            attempts,
            e.fault().name(),
            e
        );
        delay.delay_ms(1000);
    }
    defmt::info!("scanline camera ready attempts={=u32}", attempts + 1);

    let Some(arena) = ARENA.try_take().map(Arena::bytes) else {
        defmt::error!("scanline fatal: the arena was taken twice");
        reset()
    };
    if let Err(e) = run(&mut camera, arena, &mut clock) {
        defmt::error!("scanline fatal: {}", e);
    }
    reset()
}

/// The model and the frame loop, forever.
fn run<C: scanline_firmware::camera::Camera>(
    camera: &mut C,
    arena: &mut [i8],
    clock: &mut Cycles,
) -> Result<(), Error> {
    #[cfg(not(feature = "embedded-model"))]
    {
        let edges = scanline_firmware::job::edge_model(3, 2)?;
        let model = edges.model(ov2640::HEIGHT, ov2640::WIDTH)?;
        frames(
            camera,
            &ModelSpec::Edges {
                channels: 3,
                pool: 2,
            },
            &model,
            arena,
            clock,
        )
    }
    #[cfg(feature = "embedded-model")]
    {
        let import = scanline::tflite::parse(MODEL)?;
        frames(
            camera,
            &ModelSpec::File("embedded"),
            import.model(),
            arena,
            clock,
        )
    }
}

/// The frame loop, forever. Never inlined: `cargo xtask panics` finds the
/// frame loop's code by this function's symbol.
#[inline(never)]
fn frames<C: scanline_firmware::camera::Camera>(
    camera: &mut C,
    spec: &ModelSpec<'_>,
    model: &Model<'_>,
    arena: &mut [i8],
    clock: &mut Cycles,
) -> Result<(), Error> {
    let format = PixelFormat::Rgb565(ByteOrder::Big);
    let gray = GrayRule::IntegerLuma;
    capture::model(spec, model, LineKind::Pixels(format, gray));
    let source = Source::pixels_with(format, gray, model)?;
    let mut frames = FrameLoop::<MAX_ROW>::new(model, arena, source)?;
    let channels = model.output_shape().channels;
    let stats = Stats::<MAX_CHANNELS>::new(channels).ok_or(Error::Geometry {
        expected: channels,
        found: MAX_CHANNELS,
    })?;
    let frame_no = core::cell::Cell::new(0u32);
    let vector = model.output_is_vector();
    let mut sink = Tee(
        Fnv1a32::new(),
        Tee(
            stats,
            RowFn(|y: usize, row: &[i8]| {
                if DUMP == Dump::Full {
                    capture::row(frame_no.get(), y, row);
                }
                if vector {
                    capture::scores(frame_no.get(), row);
                }
                Ok(())
            }),
        ),
    );
    loop {
        let frame = frame_no.get();
        let mut logged = Logged::new(camera, frame, DUMP);
        match frames.run(&mut logged, &mut sink, clock) {
            Ok(report) => {
                let digest = sink.0.value();
                capture::done(frame, digest, report.rows);
                defmt::info!(
                    "scanline frame={=u32} cycles={=u64} pipeline_cycles={=u64} worst_push_cycles={=u64} worst_line={=usize} stack={=usize}",
                    frame,
                    report.total,
                    report.pipeline,
                    report.worst_push,
                    report.worst_line,
                    stack::high_water()
                );
                let stats = &sink.1.0;
                for c in 0..channels {
                    defmt::info!(
                        "scanline frame={=u32} channel={=usize} mean={=f32} std={=f32} min={=i8} max={=i8}",
                        frame,
                        c,
                        stats.mean(c).unwrap_or(0.0),
                        stats.std(c).unwrap_or(0.0),
                        stats.min(c).unwrap_or(0),
                        stats.max(c).unwrap_or(0)
                    );
                }
            }
            Err(e) => {
                capture::dropped(frame, &e);
                capture::counts(&frames.counters());
            }
        }
        frame_no.set(frame.wrapping_add(1));
    }
}

/// Restarts the MCU (after a fatal error: a board must never hang).
fn reset() -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}

// SAFETY: cortex-m-rt requires the HardFault handler to be declared `unsafe`;
// it only reads the stacked exception frame it is given, logs and resets.
#[allow(unsafe_code)]
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!(
        "scanline hardfault: pc={=u32:#010x} lr={=u32:#010x} xpsr={=u32:#010x}",
        frame.pc(),
        frame.lr(),
        frame.xpsr()
    );
    reset()
}
