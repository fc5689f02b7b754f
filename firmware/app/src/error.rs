//! Error: everything that can go wrong in the firmware's portable part, and the
//! [`Fault`] kind each error is counted under when a frame is dropped.

/// What went wrong. Never a panic: each case names what is wrong and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The camera never signalled "capture done" (ArduChip status 0x41 bit 0x08).
    Timeout {
        /// How long the driver waited, in milliseconds.
        waited_ms: u32,
    },
    /// The camera's FIFO holds no byte after a capture.
    FifoEmpty,
    /// The FIFO holds fewer bytes than one frame.
    FifoShort {
        /// Bytes of one frame.
        expected: u32,
        /// Bytes the FIFO length registers report.
        found: u32,
    },
    /// The FIFO holds more bytes than one frame (plus the few the ArduChip adds).
    FifoOverrun {
        /// Bytes of one frame.
        expected: u32,
        /// Bytes the FIFO length registers report.
        found: u32,
    },
    /// An SPI transfer failed.
    Spi,
    /// An I2C (SCCB) transfer to the sensor failed.
    I2c,
    /// The sensor is not an OV2640 (`0x0A` must read 0x26, `0x0B` 0x41 or 0x42).
    ChipId {
        /// Register 0x0A (PIDH).
        pid: u8,
        /// Register 0x0B (PIDL).
        ver: u8,
    },
    /// The ArduChip's test register did not read back what was written: SPI wiring.
    ArduChip {
        /// The value written to register 0x00.
        wrote: u8,
        /// The value read back.
        read: u8,
    },
    /// A camera line came short (or not at all): the source ran out mid-frame.
    Line {
        /// The line (0-based) of the frame.
        line: usize,
        /// Bytes a line has.
        expected: usize,
        /// Bytes that came.
        found: usize,
    },
    /// A line does not fit the line buffers, or the camera's geometry does not
    /// match what the model takes.
    Geometry {
        /// What was needed (bytes of a line, or lines of a frame).
        expected: usize,
        /// What the camera has.
        found: usize,
    },
    /// A host file could not be opened, read or written (QEMU's semihosting).
    Io {
        /// The errno the host returned (0 if unknown).
        code: i32,
    },
    /// A recorded input (frame file) is malformed.
    Recording {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The core refused something: the model, the arena, a row.
    Core(scanline::Error),
}

/// The kind of fault a dropped frame is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// [`Error::Timeout`].
    Timeout,
    /// [`Error::FifoEmpty`].
    FifoEmpty,
    /// [`Error::FifoShort`].
    FifoShort,
    /// [`Error::FifoOverrun`].
    FifoOverrun,
    /// [`Error::Spi`].
    Spi,
    /// [`Error::I2c`].
    I2c,
    /// [`Error::ChipId`] or [`Error::ArduChip`]: the wrong hardware, or none.
    Chip,
    /// [`Error::Line`] with some bytes: a short line.
    Line,
    /// [`Error::Line`] with no byte: a missing line (the frame ended early).
    Missing,
    /// Anything else (configuration, files, the core).
    Other,
}

impl Fault {
    /// Every kind, in counter order.
    pub const ALL: [Fault; 10] = [
        Fault::Timeout,
        Fault::FifoEmpty,
        Fault::FifoShort,
        Fault::FifoOverrun,
        Fault::Spi,
        Fault::I2c,
        Fault::Chip,
        Fault::Line,
        Fault::Missing,
        Fault::Other,
    ];

    /// A short name for logs: `timeout`, `fifo-empty`, ...
    ///
    /// ```
    /// use scanline_firmware::Fault;
    /// assert_eq!(Fault::FifoShort.name(), "fifo-short");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Fault::Timeout => "timeout",
            Fault::FifoEmpty => "fifo-empty",
            Fault::FifoShort => "fifo-short",
            Fault::FifoOverrun => "fifo-overrun",
            Fault::Spi => "spi",
            Fault::I2c => "i2c",
            Fault::Chip => "chip",
            Fault::Line => "line",
            Fault::Missing => "missing-line",
            Fault::Other => "other",
        }
    }

    /// Index in [`Fault::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl Error {
    /// The fault kind a frame dropped for this error is counted under.
    ///
    /// ```
    /// use scanline_firmware::{Error, Fault};
    /// assert_eq!(Error::Timeout { waited_ms: 500 }.fault(), Fault::Timeout);
    /// assert_eq!(Error::ChipId { pid: 0, ver: 0 }.fault(), Fault::Chip);
    /// ```
    pub const fn fault(&self) -> Fault {
        match self {
            Error::Timeout { .. } => Fault::Timeout,
            Error::FifoEmpty => Fault::FifoEmpty,
            Error::FifoShort { .. } => Fault::FifoShort,
            Error::FifoOverrun { .. } => Fault::FifoOverrun,
            Error::Spi => Fault::Spi,
            Error::I2c => Fault::I2c,
            Error::ChipId { .. } | Error::ArduChip { .. } => Fault::Chip,
            Error::Line { found: 0, .. } => Fault::Missing,
            Error::Line { .. } => Fault::Line,
            Error::Geometry { .. }
            | Error::Io { .. }
            | Error::Recording { .. }
            | Error::Core(_) => Fault::Other,
        }
    }
}

impl From<scanline::Error> for Error {
    fn from(e: scanline::Error) -> Self {
        Error::Core(e)
    }
}

impl From<core::convert::Infallible> for Error {
    fn from(never: core::convert::Infallible) -> Self {
        match never {}
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Timeout { waited_ms } => {
                write!(f, "camera timeout: no capture-done after {waited_ms} ms")
            }
            Error::FifoEmpty => f.write_str("camera FIFO is empty after a capture"),
            Error::FifoShort { expected, found } => write!(
                f,
                "camera FIFO holds {found} bytes, less than a frame ({expected})"
            ),
            Error::FifoOverrun { expected, found } => write!(
                f,
                "camera FIFO holds {found} bytes, more than a frame ({expected})"
            ),
            Error::Spi => f.write_str("SPI transfer failed"),
            Error::I2c => f.write_str("I2C (SCCB) transfer failed"),
            Error::ChipId { pid, ver } => write!(
                f,
                "sensor id {pid:#04x} {ver:#04x} is not an OV2640 (0x26 0x41 or 0x26 0x42)"
            ),
            Error::ArduChip { wrote, read } => write!(
                f,
                "ArduChip test register: wrote {wrote:#04x}, read {read:#04x} (check the SPI wiring)"
            ),
            Error::Line {
                line,
                expected,
                found,
            } => write!(f, "line {line}: {found} of {expected} bytes came"),
            Error::Geometry { expected, found } => write!(
                f,
                "camera geometry does not fit: {expected} needed, {found} found"
            ),
            Error::Io { code } => write!(f, "host file I/O failed (errno {code})"),
            Error::Recording { reason } => write!(f, "malformed recording: {reason}"),
            Error::Core(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_has_its_index() {
        for (i, f) in Fault::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
        }
    }

    #[test]
    fn messages_name_the_problem() {
        let e = Error::Line {
            line: 17,
            expected: 640,
            found: 12,
        };
        assert_eq!(e.to_string(), "line 17: 12 of 640 bytes came");
        assert_eq!(e.fault(), Fault::Line);
        let e = Error::Line {
            line: 5,
            expected: 640,
            found: 0,
        };
        assert_eq!(e.fault(), Fault::Missing);
        let e = Error::from(scanline::Error::FrameAborted);
        assert_eq!(e.fault(), Fault::Other);
    }
}
