//! Capture: the log lines both firmware binaries print (defmt) and `scanline
//! verify` reads back — one grammar, written here once, so a board's log and the
//! QEMU binary's are checked by the same parser.
//!
//! Every line of interest contains `scanline ` followed by space-separated
//! `key=value` fields (whatever a log viewer puts before it — timestamp, level —
//! is ignored); byte payloads are defmt's hex list `[0a, ff, ...]`:
//!
//! ```text
//! scanline model=edges/3/2 input=240x320x3 output=120x160x1 format=rgb565be gray=integer-luma arena=3520
//! scanline frame=0 line=17 [0a, ff, ...]      (dump input/full: the camera line as it came)
//! scanline frame=0 row=3 [80, 80, ...]        (dump full: output row, int8 as two's-complement bytes)
//! scanline frame=0 ok digest=1a2b3c4d rows=120
//! scanline frame=0 top=1 score=7 scores=[-121, 7, ...]   (a classifier: its int8 class scores)
//! scanline frame=1 dropped fault=timeout error=camera timeout: ...
//! ```
//!
//! Machine-specific measurement lines (`instructions=`, `cycles=`, statistics)
//! follow the same `scanline frame=N key=value ...` shape.
//!
//! `digest` is FNV-1a 32 over the frame's output bytes ([`scanline::digest`]).

#[cfg(feature = "defmt")]
pub use log::*;

#[cfg(feature = "defmt")]
mod log {
    use scanline::Model;
    use scanline::pixel::{GrayRule, PixelFormat};

    use crate::camera::{Camera, Geometry};
    use crate::frame::Counters;
    use crate::job::{Dump, ModelSpec};
    use crate::recording::format_name;
    use crate::{Error, Fault};

    /// What the input lines hold, for the model line.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum LineKind {
        /// Quantized int8 rows.
        Int8,
        /// Camera pixels.
        Pixels(PixelFormat, GrayRule),
    }

    /// Logs the model line that opens a capture.
    pub fn model(spec: &ModelSpec<'_>, model: &Model<'_>, kind: LineKind) {
        let i = model.input_shape();
        let o = model.output_shape();
        let (format, gray) = match kind {
            LineKind::Int8 => ("int8", "none"),
            LineKind::Pixels(f, g) => (format_name(f), g.name()),
        };
        defmt::info!(
            "scanline model={} input={=usize}x{=usize}x{=usize} output={=usize}x{=usize}x{=usize} format={=str} gray={=str} arena={=usize}",
            spec,
            i.height,
            i.width,
            i.channels,
            o.height,
            o.width,
            o.channels,
            format,
            gray,
            model.stream_arena_len()
        );
    }

    /// Logs a frame that went through.
    pub fn done(frame: u32, digest: u32, rows: usize) {
        defmt::info!(
            "scanline frame={=u32} ok digest={=u32:08x} rows={=usize}",
            frame,
            digest,
            rows
        );
    }

    /// Logs a classifier's class scores (its one output row, int8) and the best
    /// class (the first of equal scores).
    pub fn scores(frame: u32, row: &[i8]) {
        let (top, score) =
            row.iter().enumerate().fold(
                (0, i8::MIN),
                |best, (i, &v)| if v > best.1 { (i, v) } else { best },
            );
        defmt::info!(
            "scanline frame={=u32} top={=usize} score={=i8} scores={}",
            frame,
            top,
            score,
            row
        );
    }

    /// Logs a dropped frame, with its fault kind and error.
    pub fn dropped(frame: u32, error: &Error) {
        defmt::warn!(
            "scanline frame={=u32} dropped fault={=str} error={}",
            frame,
            error.fault().name(),
            error
        );
    }

    /// Logs the frames dropped so far, in all and by fault kind (no `frame=`
    /// field: the drop itself is the [`dropped`] line before it).
    pub fn counts(c: &Counters) {
        defmt::info!(
            "scanline dropped total={=u32} timeout={=u32} fifo-empty={=u32} fifo-short={=u32} fifo-overrun={=u32} spi={=u32} i2c={=u32} chip={=u32} line={=u32} missing-line={=u32} other={=u32}",
            c.dropped_total(),
            c.dropped_for(Fault::Timeout),
            c.dropped_for(Fault::FifoEmpty),
            c.dropped_for(Fault::FifoShort),
            c.dropped_for(Fault::FifoOverrun),
            c.dropped_for(Fault::Spi),
            c.dropped_for(Fault::I2c),
            c.dropped_for(Fault::Chip),
            c.dropped_for(Fault::Line),
            c.dropped_for(Fault::Missing),
            c.dropped_for(Fault::Other)
        );
    }

    /// Logs one output row (dump `full`).
    pub fn row(frame: u32, y: usize, row: &[i8]) {
        let bytes: &[u8] = bytemuck::cast_slice(row);
        defmt::info!(
            "scanline frame={=u32} row={=usize} {=[u8]:02x}",
            frame,
            y,
            bytes
        );
    }

    /// Logs one input line (dump `input` or `full`).
    pub fn line(frame: u32, y: usize, line: &[u8]) {
        defmt::info!(
            "scanline frame={=u32} line={=usize} {=[u8]:02x}",
            frame,
            y,
            line
        );
    }

    /// A camera wrapper that logs every line it hands out (dump `input` and
    /// `full`), as lines of frame `frame`.
    pub struct Logged<'c, C: ?Sized> {
        inner: &'c mut C,
        frame: u32,
        line: usize,
        on: bool,
    }

    impl<'c, C: Camera + ?Sized> Logged<'c, C> {
        /// Wraps `inner`; logs lines of frame `frame` when `dump` asks for them.
        pub fn new(inner: &'c mut C, frame: u32, dump: Dump) -> Self {
            Self {
                inner,
                frame,
                line: 0,
                on: dump != Dump::Digest,
            }
        }
    }

    impl<C: Camera + ?Sized> Camera for Logged<'_, C> {
        fn begin_frame(&mut self) -> Result<Geometry, Error> {
            self.line = 0;
            self.inner.begin_frame()
        }

        fn next_line(&mut self) -> Result<&[u8], Error> {
            let y = self.line;
            self.line += 1;
            let line = self.inner.next_line()?;
            if self.on {
                self::line(self.frame, y, line);
            }
            Ok(line)
        }

        fn end_frame(&mut self) -> Result<(), Error> {
            self.inner.end_frame()
        }
    }
}
