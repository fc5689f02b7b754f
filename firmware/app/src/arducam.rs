//! ArduCAM: the ArduCAM Mini 2MP Plus driver — the ArduChip (SPI: FIFO, capture
//! control) and the OV2640 sensor (SCCB over I2C) — generic over embedded-hal
//! 1.0 (`SpiDevice`, `I2c`, `DelayNs`), and a [`Camera`] that reads the FIFO one
//! line per SPI transaction.
//!
//! ArduChip facts (ArduCAM's Arduino library, ArduCAM.h / ArduCAM.cpp):
//! - a register write is `[addr | 0x80, value]`; a read sends `addr & 0x7F` and
//!   clocks one byte back;
//! - register 0x00 is a test register (write 0x55, read it back);
//! - 0x04 is FIFO control: 0x01 clears the capture-done flag, 0x02 starts a
//!   capture, 0x10 resets the read pointer, 0x20 the write pointer;
//! - 0x41 is status, bit 0x08 = capture done;
//! - 0x42 / 0x43 / 0x44 hold the FIFO length:
//!   `((r44 & 0x7F) << 16 | r43 << 8 | r42) & 0x7FFFFF`;
//! - 0x3C is the burst FIFO read, 0x3D the single-byte read; 0x07 bit 7 resets
//!   the CPLD (the Mini 2MP Plus examples pulse it at start-up).
//!
//! A QVGA RGB565 frame is 153,600 bytes, more than the F411's RAM, so the frame
//! is never held: each line is one SPI transaction `[Write(0x3C), Read(line)]`
//! with chip select held from the command to the last byte (ArduCAM's
//! Capture2SD example resumes a burst after CS rises by sending 0x3C again).
//! Mistakes of existing drivers this one avoids (and the tests pin down): the
//! 8-bit I2C address, wrong clear/start masks, CS dropping between 0x3C and the
//! data.

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;
use embedded_hal::spi::{Operation, SpiDevice};

use crate::Error;
use crate::camera::{Camera, Geometry, LinePair};
use crate::ov2640::{self, Output};
use crate::wait::{self, Budget};

/// ArduChip registers and bits.
pub mod reg {
    /// Test register.
    pub const TEST: u8 = 0x00;
    /// Frames per capture (0: one).
    pub const FRAMES: u8 = 0x01;
    /// FIFO control.
    pub const FIFO: u8 = 0x04;
    /// CPLD reset (bit 7).
    pub const RESET: u8 = 0x07;
    /// Burst FIFO read command.
    pub const BURST_READ: u8 = 0x3c;
    /// Single FIFO read command.
    pub const SINGLE_READ: u8 = 0x3d;
    /// Status.
    pub const STATUS: u8 = 0x41;
    /// FIFO length, bits 7:0.
    pub const FIFO_SIZE1: u8 = 0x42;
    /// FIFO length, bits 15:8.
    pub const FIFO_SIZE2: u8 = 0x43;
    /// FIFO length, bits 22:16 (low 7 bits).
    pub const FIFO_SIZE3: u8 = 0x44;

    /// FIFO control: clear the capture-done flag.
    pub const FIFO_CLEAR: u8 = 0x01;
    /// FIFO control: start a capture.
    pub const FIFO_START: u8 = 0x02;
    /// FIFO control: reset the read pointer.
    pub const FIFO_RDPTR_RST: u8 = 0x10;
    /// FIFO control: reset the write pointer.
    pub const FIFO_WRPTR_RST: u8 = 0x20;
    /// Status: capture done.
    pub const CAP_DONE: u8 = 0x08;
    /// The value the test register is checked with.
    pub const TEST_VALUE: u8 = 0x55;
}

/// Bytes the FIFO may hold beyond one frame before the frame is refused as an
/// overrun (the ArduChip can count a few bytes past the last pixel).
pub const FIFO_SLACK: u32 = 8;

/// Driver settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The sensor's output format.
    pub output: Output,
    /// How long to wait for capture-done, in milliseconds.
    pub timeout_ms: u32,
    /// The poll interval while waiting, in milliseconds.
    pub poll_ms: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            output: Output::Rgb565,
            timeout_ms: 1000,
            poll_ms: 1,
        }
    }
}

/// Bytes of one QVGA line (2 bytes per pixel in RGB565 and YUV422).
pub const LINE_LEN: usize = ov2640::WIDTH * 2;

/// The ArduCAM Mini 2MP Plus on an SPI device, an I2C bus and a delay.
pub struct ArduCam<SPI, I2C, D> {
    spi: SPI,
    i2c: I2C,
    delay: D,
    config: Config,
    pair: LinePair<LINE_LEN>,
    line: usize,
}

impl<SPI, I2C, D> core::fmt::Debug for ArduCam<SPI, I2C, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ArduCam")
            .field("config", &self.config)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl<SPI: SpiDevice, I2C: I2c, D: DelayNs> ArduCam<SPI, I2C, D> {
    /// A driver over `spi` (the ArduChip, chip select managed by the device),
    /// `i2c` (the OV2640) and `delay`. Nothing is sent until [`ArduCam::init`].
    pub fn new(spi: SPI, i2c: I2C, delay: D, config: Config) -> Self {
        let mut pair = LinePair::new();
        // LINE_LEN is the buffers' size: this cannot fail.
        let _ = pair.set_len(LINE_LEN);
        Self {
            spi,
            i2c,
            delay,
            config,
            pair,
            line: 0,
        }
    }

    /// Gives the buses back.
    pub fn release(self) -> (SPI, I2C, D) {
        (self.spi, self.i2c, self.delay)
    }

    /// Writes ArduChip register `addr`.
    pub fn write_reg(&mut self, addr: u8, value: u8) -> Result<(), Error> {
        self.spi
            .write(&[addr | 0x80, value])
            .map_err(|_| Error::Spi)
    }

    /// Reads ArduChip register `addr`.
    pub fn read_reg(&mut self, addr: u8) -> Result<u8, Error> {
        read_reg(&mut self.spi, addr)
    }

    /// Writes sensor register `reg` (in the bank selected last).
    pub fn write_sensor(&mut self, reg: u8, value: u8) -> Result<(), Error> {
        self.i2c
            .write(ov2640::ADDRESS, &[reg, value])
            .map_err(|_| Error::I2c)
    }

    /// Reads sensor register `reg`: the register address in one write, the
    /// value in a separate read (SCCB has no repeated start).
    pub fn read_sensor(&mut self, reg: u8) -> Result<u8, Error> {
        let mut v = [0u8];
        self.i2c
            .write(ov2640::ADDRESS, &[reg])
            .map_err(|_| Error::I2c)?;
        self.i2c
            .read(ov2640::ADDRESS, &mut v)
            .map_err(|_| Error::I2c)?;
        Ok(v[0])
    }

    /// Brings the camera up: CPLD reset, the SPI test register, the sensor's
    /// soft reset, its chip id, the QVGA register table, one frame per capture,
    /// and a cleared capture flag.
    ///
    /// Errors: [`Error::Spi`] / [`Error::I2c`] for bus errors,
    /// [`Error::ArduChip`] if the test register does not read back,
    /// [`Error::ChipId`] if the sensor is not an OV2640.
    pub fn init(&mut self) -> Result<(), Error> {
        // CPLD reset (ArduCAM Mini 2MP Plus examples).
        self.write_reg(reg::RESET, 0x80)?;
        self.delay.delay_ms(100);
        self.write_reg(reg::RESET, 0x00)?;
        self.delay.delay_ms(100);
        // The SPI bus works if the test register keeps what it is given.
        self.write_reg(reg::TEST, reg::TEST_VALUE)?;
        let read = self.read_reg(reg::TEST)?;
        if read != reg::TEST_VALUE {
            return Err(Error::ArduChip {
                wrote: reg::TEST_VALUE,
                read,
            });
        }
        // Sensor: soft reset, then the chip id.
        self.write_sensor(ov2640::reg::BANK_SEL, ov2640::bank::SENSOR)?;
        self.write_sensor(ov2640::reg::COM7, 0x80)?;
        self.delay.delay_ms(ov2640::RESET_MS);
        self.write_sensor(ov2640::reg::BANK_SEL, ov2640::bank::SENSOR)?;
        let pid = self.read_sensor(ov2640::reg::PIDH)?;
        let ver = self.read_sensor(ov2640::reg::PIDL)?;
        if pid != ov2640::PIDH || !ov2640::PIDL.contains(&ver) {
            return Err(Error::ChipId { pid, ver });
        }
        for (r, v) in ov2640::qvga(self.config.output) {
            self.write_sensor(r, v)?;
        }
        self.write_reg(reg::FRAMES, 0x00)?;
        self.clear_flag()
    }

    /// Clears the capture-done flag.
    pub fn clear_flag(&mut self) -> Result<(), Error> {
        self.write_reg(reg::FIFO, reg::FIFO_CLEAR)
    }

    /// Starts a capture (after clearing the flag).
    pub fn start_capture(&mut self) -> Result<(), Error> {
        self.clear_flag()?;
        self.write_reg(reg::FIFO, reg::FIFO_START)
    }

    /// Whether the capture is done.
    pub fn capture_done(&mut self) -> Result<bool, Error> {
        Ok(self.read_reg(reg::STATUS)? & reg::CAP_DONE != 0)
    }

    /// The FIFO length in bytes.
    pub fn fifo_len(&mut self) -> Result<u32, Error> {
        let l1 = u32::from(self.read_reg(reg::FIFO_SIZE1)?);
        let l2 = u32::from(self.read_reg(reg::FIFO_SIZE2)?);
        let l3 = u32::from(self.read_reg(reg::FIFO_SIZE3)? & 0x7f);
        Ok(((l3 << 16) | (l2 << 8) | l1) & 0x7f_ffff)
    }

    /// Reads the next `line.len()` bytes of the FIFO in one SPI transaction:
    /// the burst command and the data with chip select held throughout.
    pub fn read_line(&mut self, line: &mut [u8]) -> Result<(), Error> {
        burst_read(&mut self.spi, line)
    }

    /// Bytes of one frame.
    pub fn frame_len(&self) -> u32 {
        (LINE_LEN * ov2640::HEIGHT) as u32
    }

    /// Captures a frame into the FIFO and checks its length: waits up to the
    /// configured timeout for capture-done ([`Error::Timeout`]), then refuses a
    /// FIFO that is empty, shorter than a frame or longer than a frame plus
    /// [`FIFO_SLACK`]; resets the read pointer for [`ArduCam::read_line`].
    pub fn capture(&mut self) -> Result<u32, Error> {
        self.start_capture()?;
        let budget = Budget {
            timeout_ms: self.config.timeout_ms,
            poll_ms: self.config.poll_ms,
        };
        // The delay is a field of `self`, which the poll borrows too: poll
        // through the parts.
        let (spi, delay) = (&mut self.spi, &mut self.delay);
        wait::until(delay, budget, || {
            Ok(read_reg(spi, reg::STATUS)? & reg::CAP_DONE != 0)
        })?;
        let len = self.fifo_len()?;
        check_fifo(len, self.frame_len())?;
        self.write_reg(reg::FIFO, reg::FIFO_RDPTR_RST)?;
        Ok(len)
    }
}

/// Checks a FIFO length `len` after a capture against a frame of `expected`
/// bytes: [`Error::FifoEmpty`], [`Error::FifoShort`], or [`Error::FifoOverrun`]
/// beyond `expected +` [`FIFO_SLACK`].
///
/// ```
/// use scanline_firmware::arducam::check_fifo;
/// use scanline_firmware::Error;
/// assert_eq!(check_fifo(640, 640), Ok(()));
/// assert_eq!(check_fifo(0, 640), Err(Error::FifoEmpty));
/// assert_eq!(check_fifo(2000, 640), Err(Error::FifoOverrun { expected: 640, found: 2000 }));
/// ```
pub fn check_fifo(len: u32, expected: u32) -> Result<(), Error> {
    if len == 0 {
        return Err(Error::FifoEmpty);
    }
    if len < expected {
        return Err(Error::FifoShort {
            expected,
            found: len,
        });
    }
    if len > expected.saturating_add(FIFO_SLACK) {
        return Err(Error::FifoOverrun {
            expected,
            found: len,
        });
    }
    Ok(())
}

/// Reads ArduChip register `addr`: `addr & 0x7F`, then one byte back.
fn read_reg<SPI: SpiDevice>(spi: &mut SPI, addr: u8) -> Result<u8, Error> {
    let mut v = [0u8];
    spi.transaction(&mut [Operation::Write(&[addr & 0x7f]), Operation::Read(&mut v)])
        .map_err(|_| Error::Spi)?;
    Ok(v[0])
}

/// One burst read of `line.len()` FIFO bytes: `[Write(0x3C), Read(line)]` in one
/// transaction, so chip select stays low from the command to the last byte.
fn burst_read<SPI: SpiDevice>(spi: &mut SPI, line: &mut [u8]) -> Result<(), Error> {
    spi.transaction(&mut [Operation::Write(&[reg::BURST_READ]), Operation::Read(line)])
        .map_err(|_| Error::Spi)
}

impl<SPI: SpiDevice, I2C: I2c, D: DelayNs> Camera for ArduCam<SPI, I2C, D> {
    fn begin_frame(&mut self) -> Result<Geometry, Error> {
        self.line = 0;
        self.capture()?;
        Ok(Geometry {
            lines: ov2640::HEIGHT,
            line_len: LINE_LEN,
        })
    }

    fn next_line(&mut self) -> Result<&[u8], Error> {
        self.line += 1;
        // Fill the back buffer over SPI, then hand it out as the front one.
        burst_read(&mut self.spi, self.pair.back())?;
        Ok(self.pair.swap())
    }

    fn end_frame(&mut self) -> Result<(), Error> {
        self.clear_flag()
    }
}

#[cfg(test)]
mod tests;
