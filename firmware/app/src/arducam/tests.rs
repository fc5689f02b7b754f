//! Tests of the ArduCAM driver against mocked buses: the exact SPI and I2C
//! traffic of init, capture and line reads, and every fault.

use embedded_hal::spi::{ErrorKind, ErrorType, Operation, SpiDevice};
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I};
use embedded_hal_mock::eh1::spi::{Mock as SpiMock, Transaction as S};
use scanline::digest::{Fnv1a32, fnv1a32};
use scanline::pixel::{ByteOrder, PixelFormat};

use super::*;
use crate::clock::NoClock;
use crate::frame::{FrameLoop, Source};

fn w(addr: u8, v: u8) -> Vec<S<u8>> {
    vec![
        S::transaction_start(),
        S::write_vec(vec![addr | 0x80, v]),
        S::transaction_end(),
    ]
}

fn r(addr: u8, v: u8) -> Vec<S<u8>> {
    vec![
        S::transaction_start(),
        S::write_vec(vec![addr & 0x7f]),
        S::read_vec(vec![v]),
        S::transaction_end(),
    ]
}

/// One line read: the burst command and the data in one transaction (CS held).
fn line(data: Vec<u8>) -> Vec<S<u8>> {
    vec![
        S::transaction_start(),
        S::write_vec(vec![0x3c]),
        S::read_vec(data),
        S::transaction_end(),
    ]
}

fn sensor_w(reg: u8, v: u8) -> I {
    I::write(0x30, vec![reg, v])
}

fn sensor_r(reg: u8, v: u8) -> Vec<I> {
    vec![I::write(0x30, vec![reg]), I::read(0x30, vec![v])]
}

fn init_spi_prefix() -> Vec<S<u8>> {
    [w(0x07, 0x80), w(0x07, 0x00), w(0x00, 0x55)].concat()
}

fn init_i2c(pid: u8, ver: u8) -> Vec<I> {
    let mut t = vec![
        sensor_w(0xff, 0x01),
        sensor_w(0x12, 0x80),
        sensor_w(0xff, 0x01),
    ];
    t.extend(sensor_r(0x0a, pid));
    t.extend(sensor_r(0x0b, ver));
    t
}

fn config() -> Config {
    Config {
        output: Output::Rgb565,
        timeout_ms: 3,
        poll_ms: 1,
    }
}

fn done(cam: ArduCam<SpiMock<u8>, I2cMock, NoopDelay>) {
    let (mut spi, mut i2c, _) = cam.release();
    spi.done();
    i2c.done();
}

#[test]
fn init_resets_checks_the_chip_and_writes_the_qvga_table() {
    let mut spi = init_spi_prefix();
    spi.extend(r(0x00, 0x55));
    spi.extend(w(0x01, 0x00));
    spi.extend(w(0x04, 0x01));
    let mut i2c = init_i2c(0x26, 0x42);
    i2c.extend(
        ov2640::qvga(Output::Rgb565)
            .iter()
            .map(|&(r, v)| sensor_w(r, v)),
    );
    let mut cam = ArduCam::new(SpiMock::new(&spi), I2cMock::new(&i2c), NoopDelay, config());
    cam.init().unwrap();
    done(cam);
}

#[test]
fn the_sensor_is_addressed_at_0x30_never_0x60() {
    // Every I2C transaction of init goes to the 7-bit address.
    let i2c = init_i2c(0x26, 0x41);
    assert!(
        i2c.iter()
            .all(|t| format!("{t:?}").contains("expected_addr: 48"))
    );
}

#[test]
fn a_test_register_that_does_not_read_back_is_a_wiring_error() {
    let mut spi = init_spi_prefix();
    spi.extend(r(0x00, 0xff));
    let mut cam = ArduCam::new(SpiMock::new(&spi), I2cMock::new(&[]), NoopDelay, config());
    assert_eq!(
        cam.init(),
        Err(Error::ArduChip {
            wrote: 0x55,
            read: 0xff
        })
    );
    done(cam);
}

#[test]
fn a_sensor_that_is_not_an_ov2640_is_refused() {
    let mut spi = init_spi_prefix();
    spi.extend(r(0x00, 0x55));
    let i2c = init_i2c(0x56, 0x42); // an OV5642's high byte
    let mut cam = ArduCam::new(SpiMock::new(&spi), I2cMock::new(&i2c), NoopDelay, config());
    assert_eq!(
        cam.init(),
        Err(Error::ChipId {
            pid: 0x56,
            ver: 0x42
        })
    );
    done(cam);
}

#[test]
fn an_i2c_error_is_reported() {
    let mut spi = init_spi_prefix();
    spi.extend(r(0x00, 0x55));
    let i2c =
        [
            I::write(0x30, vec![0xff, 0x01]).with_error(
                embedded_hal::i2c::ErrorKind::NoAcknowledge(
                    embedded_hal::i2c::NoAcknowledgeSource::Address,
                ),
            ),
        ];
    let mut cam = ArduCam::new(SpiMock::new(&spi), I2cMock::new(&i2c), NoopDelay, config());
    assert_eq!(cam.init(), Err(Error::I2c));
    done(cam);
}

/// The capture traffic: clear, start, `busy` status polls, done, the FIFO
/// length `len`, the read-pointer reset.
fn capture(busy: usize, len: u32) -> Vec<S<u8>> {
    let mut t = [w(0x04, 0x01), w(0x04, 0x02)].concat();
    for _ in 0..busy {
        t.extend(r(0x41, 0x00));
    }
    t.extend(r(0x41, 0x08));
    t.extend(r(0x42, len as u8));
    t.extend(r(0x43, (len >> 8) as u8));
    t.extend(r(0x44, (len >> 16) as u8 | 0x80)); // bit 7 is not part of the length
    if (153_600..=153_608).contains(&len) {
        t.extend(w(0x04, 0x10));
    }
    t
}

#[test]
fn capture_polls_reads_the_fifo_length_and_resets_the_read_pointer() {
    let spi = capture(2, 153_600);
    let mut cam = ArduCam::new(SpiMock::new(&spi), I2cMock::new(&[]), NoopDelay, config());
    assert_eq!(cam.capture(), Ok(153_600));
    done(cam);
}

#[test]
fn every_fifo_fault_is_named() {
    let cases = [
        (0, Error::FifoEmpty),
        (
            100,
            Error::FifoShort {
                expected: 153_600,
                found: 100,
            },
        ),
        (
            153_609,
            Error::FifoOverrun {
                expected: 153_600,
                found: 153_609,
            },
        ),
        (
            0x7f_ffff,
            Error::FifoOverrun {
                expected: 153_600,
                found: 0x7f_ffff,
            },
        ),
    ];
    for (len, err) in cases {
        let spi = capture(0, len);
        let mut cam = ArduCam::new(SpiMock::new(&spi), I2cMock::new(&[]), NoopDelay, config());
        assert_eq!(cam.capture(), Err(err));
        done(cam);
    }
}

#[test]
fn a_capture_that_never_finishes_times_out() {
    let mut spi = [w(0x04, 0x01), w(0x04, 0x02)].concat();
    for _ in 0..4 {
        spi.extend(r(0x41, 0x00)); // polls at 0, 1, 2 and 3 ms
    }
    let mut cam = ArduCam::new(SpiMock::new(&spi), I2cMock::new(&[]), NoopDelay, config());
    assert_eq!(cam.capture(), Err(Error::Timeout { waited_ms: 3 }));
    done(cam);
}

/// A QVGA RGB565 test pattern, line `y`.
fn pattern(frame: u8, y: usize) -> Vec<u8> {
    (0..LINE_LEN)
        .map(|i| (i as u8).wrapping_mul(7) ^ (y as u8).wrapping_mul(13) ^ frame)
        .collect()
}

fn frame_traffic(frame: u8) -> Vec<S<u8>> {
    let mut t = capture(1, 153_600);
    for y in 0..ov2640::HEIGHT {
        t.extend(line(pattern(frame, y)));
    }
    t.extend(w(0x04, 0x01)); // end of frame: clear the flag
    t
}

/// The host's answer for a pattern frame through the edge model.
fn expected_digest(model: &scanline::Model<'_>, frame: u8) -> u32 {
    let conv =
        scanline::pixel::LineConverter::for_model(PixelFormat::Rgb565(ByteOrder::Big), model)
            .unwrap();
    let shape = model.input_shape();
    let mut input = vec![0i8; shape.len()];
    for (y, row) in input.chunks_mut(shape.row_len()).enumerate() {
        conv.convert(&pattern(frame, y), row).unwrap();
    }
    let mut out = vec![0i8; model.output_shape().len()];
    let mut scratch = vec![0i8; model.frame_scratch_len()];
    scanline::frame::run(model, &input, &mut out, &mut scratch).unwrap();
    fnv1a32(&out.iter().map(|&v| v as u8).collect::<Vec<_>>())
}

#[test]
fn frames_come_line_by_line_and_equal_the_host() {
    let edges = crate::job::edge_model(3, 2).unwrap();
    let model = edges.model(ov2640::HEIGHT, ov2640::WIDTH).unwrap();
    let spi = [frame_traffic(0), frame_traffic(1)].concat();
    let mut cam = ArduCam::new(SpiMock::new(&spi), I2cMock::new(&[]), NoopDelay, config());
    let mut arena = vec![0i8; model.stream_arena_len()];
    let source = Source::pixels(PixelFormat::Rgb565(ByteOrder::Big), &model).unwrap();
    let mut frames = FrameLoop::<{ 320 * 3 }>::new(&model, &mut arena, source).unwrap();
    for f in 0..2 {
        let mut digest = Fnv1a32::new();
        frames.run(&mut cam, &mut digest, &mut NoClock).unwrap();
        assert_eq!(digest.value(), expected_digest(&model, f));
    }
    done(cam);
}

/// An SPI device that fails its `fail_at`-th transaction (0-based) and passes
/// the others to the mock.
struct FailAt {
    inner: SpiMock<u8>,
    n: usize,
    fail_at: usize,
}

impl ErrorType for FailAt {
    type Error = ErrorKind;
}

impl SpiDevice for FailAt {
    fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), ErrorKind> {
        let n = self.n;
        self.n += 1;
        if n == self.fail_at {
            return Err(ErrorKind::Other);
        }
        self.inner.transaction(ops)
    }
}

#[test]
fn camera_faults_drop_their_frame_and_the_next_frame_is_correct() {
    let edges = crate::job::edge_model(3, 2).unwrap();
    let model = edges.model(ov2640::HEIGHT, ov2640::WIDTH).unwrap();
    // Frame 0 times out, frame 1 has an SPI error in line 100, frame 2 is fine.
    let mut spi = [w(0x04, 0x01), w(0x04, 0x02)].concat();
    for _ in 0..4 {
        spi.extend(r(0x41, 0x00));
    }
    spi.extend(w(0x04, 0x01)); // the loop's end_frame after the fault
    let before_faulty_frame = spi.len();
    spi.extend(capture(0, 153_600));
    for y in 0..100 {
        spi.extend(line(pattern(1, y)));
    }
    // Line 100's transaction fails before reaching the mock.
    spi.extend(w(0x04, 0x01));
    spi.extend(frame_traffic(2));
    // Count transactions: those before frame 1, its 7 capture transactions,
    // its lines 0..100.
    let transactions_before =
        |t: &[S<u8>]| t.iter().filter(|x| **x == S::transaction_start()).count();
    let fail_at = transactions_before(&spi[..before_faulty_frame]) + 7 + 100;
    let dev = FailAt {
        inner: SpiMock::new(&spi),
        n: 0,
        fail_at,
    };
    let mut cam = ArduCam::new(dev, I2cMock::new(&[]), NoopDelay, config());
    let mut arena = vec![0i8; model.stream_arena_len()];
    let source = Source::pixels(PixelFormat::Rgb565(ByteOrder::Big), &model).unwrap();
    let mut frames = FrameLoop::<{ 320 * 3 }>::new(&model, &mut arena, source).unwrap();
    let mut digest = Fnv1a32::new();
    assert_eq!(
        frames.run(&mut cam, &mut digest, &mut NoClock),
        Err(Error::Timeout { waited_ms: 3 })
    );
    assert_eq!(
        frames.run(&mut cam, &mut digest, &mut NoClock),
        Err(Error::Spi)
    );
    frames.run(&mut cam, &mut digest, &mut NoClock).unwrap();
    assert_eq!(digest.value(), expected_digest(&model, 2));
    let c = frames.counters();
    assert_eq!(
        (
            c.done,
            c.dropped_for(crate::Fault::Timeout),
            c.dropped_for(crate::Fault::Spi)
        ),
        (1, 1, 1)
    );
    let (mut spi, mut i2c, _) = cam.release();
    spi.inner.done();
    i2c.done();
}
