//! Frame: the frame loop — camera line → the core's `LineConverter` (or int8
//! rows as they are) → `stream::Pipeline` → sink — with timing per `push_row`
//! and fault handling: a frame that fails anywhere is dropped, counted under its
//! [`Fault`], the pipeline is reset, and the next frame starts clean.

use scanline::pixel::{GrayRule, LineConverter, PixelFormat};
use scanline::stream::{Pipeline, PushError};
use scanline::{Model, Param};

use crate::camera::Camera;
use crate::clock::Clock;
use crate::sink::FrameSink;
use crate::{Error, Fault};

/// What a camera line holds, and how it becomes an input row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "no heap to box into; a frame loop holds one Source and never moves it in the loop"
)]
pub enum Source {
    /// Camera pixels, converted by the core's [`LineConverter`].
    Pixels(LineConverter),
    /// Input rows already quantized: each byte is an int8 value (two's
    /// complement), `width * channels` per line.
    Int8,
}

impl Source {
    /// Pixels of `format` for `model`'s input (colour to gray by
    /// [`GrayRule::IntegerLuma`], what a camera pipeline computes).
    pub fn pixels(format: PixelFormat, model: &Model<'_>) -> Result<Self, Error> {
        Ok(Source::Pixels(LineConverter::for_model(format, model)?))
    }

    /// Pixels of `format` for `model`'s input with colour-to-gray rule `gray`.
    pub fn pixels_with(
        format: PixelFormat,
        gray: GrayRule,
        model: &Model<'_>,
    ) -> Result<Self, Error> {
        Ok(Source::Pixels(
            LineConverter::for_model(format, model)?.with_gray(gray),
        ))
    }

    /// Bytes of one camera line for an input row of `row_len` values.
    pub fn line_len(&self, row_len: usize) -> usize {
        match self {
            Source::Pixels(c) => c.line_len(),
            Source::Int8 => row_len,
        }
    }
}

/// Counts of frames done and dropped, per [`Fault`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames that went through whole.
    pub done: u32,
    /// Frames dropped, per [`Fault::index`].
    pub dropped: [u32; Fault::ALL.len()],
}

impl Counters {
    /// Frames dropped in all.
    pub fn dropped_total(&self) -> u32 {
        self.dropped.iter().sum()
    }

    /// Frames dropped for `fault`.
    pub fn dropped_for(&self, fault: Fault) -> u32 {
        self.dropped.get(fault.index()).copied().unwrap_or(0)
    }
}

/// What one frame cost, in the [`Clock`]'s unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameReport {
    /// Input rows pushed (the model's input height).
    pub lines: usize,
    /// Output rows the sink received.
    pub rows: usize,
    /// Clock count from the start of the frame to its end (camera, conversion,
    /// pipeline, sink).
    pub total: u64,
    /// Clock count of the pipeline alone (sum over the `push_row` calls).
    pub pipeline: u64,
    /// The largest count of a single `push_row` (the per-line deadline).
    pub worst_push: u64,
    /// The input line whose `push_row` took [`FrameReport::worst_push`].
    pub worst_line: usize,
}

/// The frame loop over one model, with an input row buffer of `R` values.
///
/// See the crate documentation for an example.
pub struct FrameLoop<'p, 'a, const R: usize> {
    pipeline: Pipeline<'p, 'a>,
    source: Source,
    row: [i8; R],
    row_len: usize,
    counters: Counters,
}

impl<'p, 'a, const R: usize> core::fmt::Debug for FrameLoop<'p, 'a, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FrameLoop")
            .field("pipeline", &self.pipeline)
            .field("source", &self.source)
            .field("row_len", &self.row_len)
            .field("counters", &self.counters)
            .finish()
    }
}

impl<'p, 'a, const R: usize> FrameLoop<'p, 'a, R> {
    /// A frame loop for `model` working in `arena` (at least
    /// [`Model::stream_arena_len`] bytes), fed by `source`.
    ///
    /// Errors: the core's (arena too small, a pixel format the model cannot
    /// take), [`Error::Geometry`] if an input row exceeds `R` values.
    pub fn new(model: &'p Model<'a>, arena: &'p mut [i8], source: Source) -> Result<Self, Error> {
        let row_len = model.input_shape().row_len();
        if row_len > R {
            return Err(Error::Geometry {
                expected: row_len,
                found: R,
            });
        }
        if let Source::Pixels(c) = &source
            && c.row_len() != row_len
        {
            return Err(scanline::Error::Length {
                layer: None,
                param: Param::Row,
                expected: row_len,
                found: c.row_len(),
            }
            .into());
        }
        Ok(Self {
            pipeline: Pipeline::new(model, arena)?,
            source,
            row: [0; R],
            row_len,
            counters: Counters::default(),
        })
    }

    /// The model.
    pub fn model(&self) -> &Model<'a> {
        self.pipeline.model()
    }

    /// Bytes of a camera line this loop takes.
    pub fn line_len(&self) -> usize {
        self.source.line_len(self.row_len)
    }

    /// Frames done and dropped so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Runs one frame from `camera` into `sink`, timing with `clock`.
    ///
    /// On any error (camera, conversion, pipeline, sink) the frame is dropped:
    /// the pipeline is reset, the camera told to end the frame, the drop counted
    /// under [`Error::fault`], and the error returned. The next call starts a
    /// clean frame; nothing panics.
    pub fn run<C, S, K>(
        &mut self,
        camera: &mut C,
        sink: &mut S,
        clock: &mut K,
    ) -> Result<FrameReport, Error>
    where
        C: Camera + ?Sized,
        S: FrameSink + ?Sized,
        S::Error: Into<Error>,
        K: Clock + ?Sized,
    {
        self.pipeline.reset();
        sink.start_frame();
        match self.frame(camera, sink, clock) {
            Ok(report) => {
                sink.end_frame();
                self.counters.done += 1;
                Ok(report)
            }
            Err(e) => {
                self.pipeline.reset();
                // The camera recovers as best it can; the first error is the story.
                let _ = camera.end_frame();
                // One counter per fault kind: `index` is always in range.
                if let Some(n) = self.counters.dropped.get_mut(e.fault().index()) {
                    *n = n.saturating_add(1);
                }
                Err(e)
            }
        }
    }

    fn frame<C, S, K>(
        &mut self,
        camera: &mut C,
        sink: &mut S,
        clock: &mut K,
    ) -> Result<FrameReport, Error>
    where
        C: Camera + ?Sized,
        S: FrameSink + ?Sized,
        S::Error: Into<Error>,
        K: Clock + ?Sized,
    {
        let start = clock.now();
        let geometry = camera.begin_frame()?;
        let height = self.pipeline.model().input_shape().height;
        let line_len = self.line_len();
        if geometry.line_len != line_len {
            return Err(Error::Geometry {
                expected: line_len,
                found: geometry.line_len,
            });
        }
        if geometry.lines != height {
            return Err(Error::Geometry {
                expected: height,
                found: geometry.lines,
            });
        }
        let mut report = FrameReport::default();
        // `row_len` was checked against R in `new`.
        let row = self.row.get_mut(..self.row_len).ok_or(Error::Geometry {
            expected: self.row_len,
            found: R,
        })?;
        for y in 0..height {
            let line = camera.next_line()?;
            if line.len() != line_len {
                return Err(Error::Line {
                    line: y,
                    expected: line_len,
                    found: line.len(),
                });
            }
            match &self.source {
                Source::Pixels(c) => c.convert(line, row)?,
                Source::Int8 => {
                    for (r, &b) in row.iter_mut().zip(line) {
                        *r = b as i8;
                    }
                }
            }
            let t0 = clock.now();
            let pushed = self.pipeline.push_row(row, sink);
            let dt = clock.now().wrapping_sub(t0);
            match pushed {
                Ok(()) => {}
                Err(PushError::Stream(e)) => return Err(e.into()),
                Err(PushError::Sink(e)) => return Err(e.into()),
            }
            report.pipeline += dt;
            if dt > report.worst_push {
                report.worst_push = dt;
                report.worst_line = y;
            }
        }
        camera.end_frame()?;
        self.pipeline.finish()?;
        report.lines = height;
        report.rows = self.pipeline.rows_emitted();
        report.total = clock.now().wrapping_sub(start);
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
