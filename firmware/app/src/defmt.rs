//! Defmt: `defmt::Format` for the crate's types, for firmware logs (only with
//! the `defmt` feature; host tests cannot link defmt).

use crate::job::{Dump, ModelSpec};
use crate::{Error, Fault};

impl ::defmt::Format for Fault {
    fn format(&self, f: ::defmt::Formatter) {
        ::defmt::write!(f, "{=str}", self.name())
    }
}

impl ::defmt::Format for Dump {
    fn format(&self, f: ::defmt::Formatter) {
        ::defmt::write!(f, "{=str}", self.name())
    }
}

impl ::defmt::Format for ModelSpec<'_> {
    fn format(&self, f: ::defmt::Formatter) {
        match *self {
            ModelSpec::File(path) => ::defmt::write!(f, "{=str}", path),
            ModelSpec::Fit(path) => ::defmt::write!(f, "fit:{=str}", path),
            ModelSpec::Edges { channels, pool } => {
                ::defmt::write!(f, "edges/{=u8}/{=u8}", channels, pool)
            }
            ModelSpec::Workload(w) => ::defmt::write!(f, "workload/{=str}", w.name()),
        }
    }
}

impl ::defmt::Format for Error {
    fn format(&self, f: ::defmt::Formatter) {
        match *self {
            Error::Timeout { waited_ms } => ::defmt::write!(
                f,
                "camera timeout: no capture-done after {=u32} ms",
                waited_ms
            ),
            Error::FifoEmpty => ::defmt::write!(f, "camera FIFO is empty after a capture"),
            Error::FifoShort { expected, found } => ::defmt::write!(
                f,
                "camera FIFO holds {=u32} bytes, less than a frame ({=u32})",
                found,
                expected
            ),
            Error::FifoOverrun { expected, found } => ::defmt::write!(
                f,
                "camera FIFO holds {=u32} bytes, more than a frame ({=u32})",
                found,
                expected
            ),
            Error::Spi => ::defmt::write!(f, "SPI transfer failed"),
            Error::I2c => ::defmt::write!(f, "I2C (SCCB) transfer failed"),
            Error::ChipId { pid, ver } => ::defmt::write!(
                f,
                "sensor id {=u8:#04x} {=u8:#04x} is not an OV2640 (0x26 0x41 or 0x26 0x42)",
                pid,
                ver
            ),
            Error::ArduChip { wrote, read } => ::defmt::write!(
                f,
                "ArduChip test register: wrote {=u8:#04x}, read {=u8:#04x} (check the SPI wiring)",
                wrote,
                read
            ),
            Error::Line {
                line,
                expected,
                found,
            } => ::defmt::write!(
                f,
                "line {=usize}: {=usize} of {=usize} bytes came",
                line,
                found,
                expected
            ),
            Error::Geometry { expected, found } => ::defmt::write!(
                f,
                "camera geometry does not fit: {=usize} needed, {=usize} found",
                expected,
                found
            ),
            Error::Io { code } => ::defmt::write!(f, "host file I/O failed (errno {=i32})", code),
            Error::Recording { reason } => {
                ::defmt::write!(f, "malformed recording: {=str}", reason)
            }
            Error::Core(e) => ::defmt::write!(f, "{}", e),
        }
    }
}
