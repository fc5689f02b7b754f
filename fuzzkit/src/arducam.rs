//! ArduCAM: the `arducam` target — the firmware's ArduCAM driver and frame loop
//! (the code the board runs, built for the host) against a mock ArduChip and
//! OV2640 whose answers come from the fuzzer: test-register read-back, chip id,
//! capture-done polls, the FIFO length, line data and bus errors at any
//! transaction.
//!
//! Oracles: nothing panics; a frame the loop accepts has the digest the host's
//! frame engine computes from the very lines the mock sent; a refused frame is
//! counted as dropped; and after any fault a clean frame goes through.

use std::cell::RefCell;
use std::rc::Rc;

use arbitrary::{Result, Unstructured};
use embedded_hal::delay::DelayNs;
use embedded_hal::{i2c, spi};
use scanline::digest::Fnv1a32;
use scanline::pixel::{ByteOrder, LineConverter, PixelFormat};
use scanline_firmware::arducam::{self, ArduCam, Config, reg};
use scanline_firmware::clock::NoClock;
use scanline_firmware::frame::{FrameLoop, Source};
use scanline_firmware::ov2640;

/// Entry point of the `arducam` target.
pub fn arducam(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(plan) = Plan::generate(&mut u) else {
        return;
    };
    run(plan);
}

/// What one frame's capture looks like to the driver.
#[derive(Debug, Clone, Default)]
struct Shot {
    /// Status polls that read "not done" before "done".
    polls: u32,
    /// The FIFO length registers' value (23 bits are kept).
    fifo_len: u32,
    /// The SPI transaction (counted from the capture start) that fails.
    spi_error_at: Option<u32>,
    /// The line whose burst read returns fewer bytes than asked (a
    /// mis-sized transfer is a bus error on real hardware).
    short_line: Option<u32>,
    /// The bytes the lines are cut from, cyclically.
    seed: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Plan {
    test_readback: Option<u8>,
    pid: u8,
    ver: u8,
    i2c_error_at: Option<u32>,
    shots: Vec<Shot>,
}

impl Plan {
    fn generate(u: &mut Unstructured<'_>) -> Result<Self> {
        let rare = |u: &mut Unstructured<'_>| u.ratio(1, 16);
        let test_readback = if rare(u)? { Some(u.arbitrary()?) } else { None };
        let (pid, ver) = if rare(u)? {
            (u.arbitrary()?, u.arbitrary()?)
        } else {
            (ov2640::PIDH, *u.choose(&ov2640::PIDL)?)
        };
        let i2c_error_at = if rare(u)? {
            Some(u.int_in_range(0..=200)?)
        } else {
            None
        };
        let frame = frame_len();
        let mut shots = Vec::new();
        for _ in 0..u.int_in_range(1..=3)? {
            let polls = if rare(u)? {
                u.int_in_range(0..=2000)?
            } else {
                u.int_in_range(0..=3)?
            };
            let fifo_len = match u.int_in_range(0..=7)? {
                0 => 0,
                1 => frame - u.int_in_range(1..=frame)?,
                2 => frame + u.int_in_range(1..=arducam::FIFO_SLACK + 4)?,
                3 => u.arbitrary()?,
                _ => frame,
            };
            let spi_error_at = if rare(u)? {
                Some(u.int_in_range(0..=260)?)
            } else {
                None
            };
            let short_line = if rare(u)? {
                Some(u.int_in_range(0..=239)?)
            } else {
                None
            };
            let n = u.int_in_range(1..=64)?;
            let seed = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
            shots.push(Shot {
                polls,
                fifo_len,
                spi_error_at,
                short_line,
                seed,
            });
        }
        Ok(Self {
            test_readback,
            pid,
            ver,
            i2c_error_at,
            shots,
        })
    }
}

fn frame_len() -> u32 {
    (arducam::LINE_LEN * ov2640::HEIGHT) as u32
}

/// The mock hardware both buses talk to.
#[derive(Debug, Default)]
struct Chip {
    plan: Option<Plan>,
    regs: Vec<u8>,
    /// The shot being captured (index into the plan; past its end: clean).
    shot: Option<usize>,
    /// SPI transactions since the capture started.
    ops: u32,
    polls: u32,
    i2c_ops: u32,
    sensor_reg: u8,
    /// The lines sent in the current frame.
    lines: Vec<Vec<u8>>,
}

impl Chip {
    fn shot(&self) -> Shot {
        let plan = self.plan.as_ref();
        match self.shot.and_then(|i| plan?.shots.get(i)) {
            Some(s) => s.clone(),
            None => Shot {
                fifo_len: frame_len(),
                seed: vec![7, 99, 200, 31],
                ..Shot::default()
            },
        }
    }

    fn spi(
        &mut self,
        ops: &mut [spi::Operation<'_, u8>],
    ) -> core::result::Result<(), spi::ErrorKind> {
        let shot = self.shot();
        self.ops += 1;
        if shot.spi_error_at == Some(self.ops - 1) {
            return Err(spi::ErrorKind::Other);
        }
        match ops {
            [spi::Operation::Write(w)] if w.len() == 2 && w[0] & 0x80 != 0 => {
                let addr = usize::from(w[0] & 0x7f);
                self.regs[addr] = w[1];
                if addr == usize::from(reg::FIFO) && w[1] & reg::FIFO_START != 0 {
                    self.shot = Some(self.shot.map_or(0, |s| s + 1));
                    self.ops = 0;
                    self.polls = 0;
                    self.lines.clear();
                }
                Ok(())
            }
            [spi::Operation::Write(w), spi::Operation::Read(r)] if w.len() == 1 => {
                if w[0] == reg::BURST_READ {
                    let y = self.lines.len();
                    let len = r.len();
                    for (i, b) in r.iter_mut().enumerate() {
                        let k = y * len + i;
                        *b = shot.seed[k % shot.seed.len()].wrapping_add((k / 977) as u8);
                    }
                    if shot.short_line == Some(y as u32) {
                        return Err(spi::ErrorKind::Other);
                    }
                    self.lines.push(r.to_vec());
                    return Ok(());
                }
                let Some(out) = r.first_mut() else {
                    return Err(spi::ErrorKind::Other);
                };
                let plan = self.plan.as_ref();
                *out = match w[0] {
                    reg::TEST => plan
                        .and_then(|p| p.test_readback)
                        .unwrap_or(self.regs[usize::from(reg::TEST)]),
                    reg::STATUS => {
                        self.polls += 1;
                        if self.polls > shot.polls {
                            reg::CAP_DONE
                        } else {
                            0
                        }
                    }
                    reg::FIFO_SIZE1 => shot.fifo_len as u8,
                    reg::FIFO_SIZE2 => (shot.fifo_len >> 8) as u8,
                    reg::FIFO_SIZE3 => (shot.fifo_len >> 16) as u8,
                    a => self.regs[usize::from(a & 0x7f)],
                };
                Ok(())
            }
            _ => Err(spi::ErrorKind::Other),
        }
    }

    fn i2c(
        &mut self,
        address: u8,
        ops: &mut [i2c::Operation<'_>],
    ) -> core::result::Result<(), i2c::ErrorKind> {
        self.i2c_ops += 1;
        let plan = self.plan.as_ref();
        if address != ov2640::ADDRESS || plan.and_then(|p| p.i2c_error_at) == Some(self.i2c_ops - 1)
        {
            return Err(i2c::ErrorKind::Other);
        }
        for op in ops {
            match op {
                i2c::Operation::Write(w) => {
                    if let Some(&r) = w.first() {
                        self.sensor_reg = r;
                    }
                }
                i2c::Operation::Read(r) => {
                    let v = match self.sensor_reg {
                        ov2640::reg::PIDH => plan.map_or(ov2640::PIDH, |p| p.pid),
                        ov2640::reg::PIDL => plan.map_or(ov2640::PIDL[0], |p| p.ver),
                        _ => 0,
                    };
                    r.fill(v);
                }
            }
        }
        Ok(())
    }
}

/// The SPI side of the mock.
struct Spi(Rc<RefCell<Chip>>);
/// The I2C side of the mock.
struct I2c(Rc<RefCell<Chip>>);
/// A delay that does not wait.
struct Delay;

impl spi::ErrorType for Spi {
    type Error = spi::ErrorKind;
}

impl spi::SpiDevice for Spi {
    fn transaction(
        &mut self,
        ops: &mut [spi::Operation<'_, u8>],
    ) -> core::result::Result<(), Self::Error> {
        self.0.borrow_mut().spi(ops)
    }
}

impl i2c::ErrorType for I2c {
    type Error = i2c::ErrorKind;
}

impl i2c::I2c for I2c {
    fn transaction(
        &mut self,
        address: u8,
        ops: &mut [i2c::Operation<'_>],
    ) -> core::result::Result<(), Self::Error> {
        self.0.borrow_mut().i2c(address, ops)
    }
}

impl DelayNs for Delay {
    fn delay_ns(&mut self, _ns: u32) {}
}

/// Input rows of a QVGA line: 320 gray values.
const ROW: usize = ov2640::WIDTH;

fn run(plan: Plan) {
    let shots = plan.shots.len();
    let chip = Rc::new(RefCell::new(Chip {
        plan: Some(plan),
        regs: vec![0; 128],
        ..Chip::default()
    }));
    let config = Config {
        timeout_ms: 1000,
        poll_ms: 1,
        ..Config::default()
    };
    let mut camera = ArduCam::new(Spi(chip.clone()), I2c(chip.clone()), Delay, config);
    if camera.init().is_err() {
        return;
    }
    // A one-layer model (ReLU over gray QVGA): the driver and the frame loop
    // are under test, not the kernels, and a convolution over four QVGA frames
    // per input would leave libFuzzer one execution a second.
    let q = scanline::Quant::new(1.0 / 255.0, -128);
    let relu = [scanline::Layer::Relu(scanline::Relu {
        activation: scanline::Activation::Relu,
        input: q,
        output: q,
    })];
    let shape = scanline::Shape::new(ov2640::HEIGHT, ov2640::WIDTH, 1);
    let model = scanline::Model::new(shape, q, &relu, scanline::Rounding::Double)
        .expect("a ReLU over gray QVGA");
    let format = PixelFormat::Rgb565(ByteOrder::Big);
    let mut arena = vec![0i8; model.stream_arena_len()];
    let source = Source::pixels(format, &model).expect("RGB565 into a gray model");
    let mut frames = FrameLoop::<ROW>::new(&model, &mut arena, source).expect("the frame loop");
    let converter = LineConverter::for_model(format, &model).expect("the converter");
    // Every planned shot, then one clean frame that must go through.
    for i in 0..=shots {
        let before = frames.counters();
        let mut digest = Fnv1a32::new();
        let result = frames.run(&mut camera, &mut digest, &mut NoClock);
        let after = frames.counters();
        match result {
            Ok(report) => {
                assert_eq!(report.rows, model.output_shape().height);
                assert_eq!(after.done, before.done + 1);
                let lines = chip.borrow().lines.clone();
                assert_eq!(
                    digest.value(),
                    host_digest(&model, &converter, &lines),
                    "frame {i}"
                );
            }
            Err(e) => {
                assert!(
                    i < shots,
                    "the clean frame after the faults was dropped: {e}"
                );
                assert_eq!(after.dropped_total(), before.dropped_total() + 1, "{e}");
            }
        }
    }
}

/// The digest of the host's frame engine over `lines`.
fn host_digest(model: &scanline::Model<'_>, converter: &LineConverter, lines: &[Vec<u8>]) -> u32 {
    let row = converter.row_len();
    let mut input = vec![0i8; row * lines.len()];
    for (line, out) in lines.iter().zip(input.chunks_mut(row)) {
        converter
            .convert(line, out)
            .expect("a logged line converts");
    }
    let mut output = vec![0i8; model.output_shape().len()];
    let mut scratch = vec![0i8; model.frame_scratch_len()];
    scanline::frame::run(model, &input, &mut output, &mut scratch).expect("the frame engine");
    let mut digest = Fnv1a32::new();
    digest.update(&output);
    digest.value()
}
