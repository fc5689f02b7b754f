//! Camera: a frame is a sequence of lines; [`Camera`] hands them out one at a
//! time, and [`LinePair`] holds the two line buffers a source alternates between
//! (one being filled while the other is processed).
//!
//! A blocking source (the ArduCAM read over SPI without DMA) fills the back
//! buffer inside [`Camera::next_line`] and returns the front one. A DMA or FIFO
//! source waits there for the transfer into the back buffer that it started on
//! the previous call, swaps, starts the next transfer into the new back buffer
//! and returns the front: the transfer of line `y + 1` then runs while line `y`
//! is converted and pushed through the pipeline. [`LinePair`] guarantees the
//! buffer being filled is never the one handed out.

use crate::Error;

/// The shape of a camera frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Lines in a frame.
    pub lines: usize,
    /// Bytes of one line.
    pub line_len: usize,
}

/// A source of frames, one line at a time.
///
/// Calls come in this order for every frame: [`Camera::begin_frame`], then
/// [`Camera::next_line`] once per line, then [`Camera::end_frame`]. After a fault
/// anywhere in the frame the caller still calls [`Camera::end_frame`] (its error
/// is then ignored), so the source can recover before the next frame.
pub trait Camera {
    /// Starts a frame (e.g. triggers a capture and waits for it) and says its shape.
    fn begin_frame(&mut self) -> Result<Geometry, Error>;

    /// The next line of the frame: exactly [`Geometry::line_len`] bytes, valid
    /// until the next call.
    fn next_line(&mut self) -> Result<&[u8], Error>;

    /// Ends the frame (e.g. clears the capture-done flag).
    fn end_frame(&mut self) -> Result<(), Error>;
}

/// Two line buffers of up to `N` bytes: a source fills the back one
/// ([`LinePair::back`]) while the front one ([`LinePair::front`]) is processed;
/// [`LinePair::swap`] makes the newly filled line the front.
///
/// # Examples
///
/// ```
/// use scanline_firmware::camera::LinePair;
/// let mut pair = LinePair::<4>::new();
/// pair.set_len(3).unwrap();
/// pair.back().copy_from_slice(&[1, 2, 3]);
/// assert_eq!(pair.swap(), &[1, 2, 3]);
/// pair.back().copy_from_slice(&[4, 5, 6]); // the other buffer
/// assert_eq!(pair.front(), &[1, 2, 3]);
/// assert_eq!(pair.swap(), &[4, 5, 6]);
/// assert!(pair.set_len(5).is_err()); // more than N
/// ```
#[derive(Debug, Clone)]
pub struct LinePair<const N: usize> {
    lines: [[u8; N]; 2],
    front: usize,
    len: usize,
}

impl<const N: usize> Default for LinePair<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LinePair<N> {
    /// Two empty buffers (line length 0 until [`LinePair::set_len`]).
    pub const fn new() -> Self {
        Self {
            lines: [[0; N]; 2],
            front: 0,
            len: 0,
        }
    }

    /// Sets the line length; [`Error::Geometry`] if it exceeds `N`.
    pub fn set_len(&mut self, len: usize) -> Result<(), Error> {
        if len > N {
            return Err(Error::Geometry {
                expected: len,
                found: N,
            });
        }
        self.len = len;
        Ok(())
    }

    /// The line length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the line length is 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The buffer to fill next (never the front one).
    pub fn back(&mut self) -> &mut [u8] {
        // `front` is 0 or 1 and `len` at most N (set_len): never empty by accident.
        let len = self.len;
        let back = self.lines.get_mut(1 - self.front).map(|l| l.get_mut(..len));
        back.flatten().unwrap_or_default()
    }

    /// The line handed out last.
    pub fn front(&self) -> &[u8] {
        let front = self.lines.get(self.front).map(|l| l.get(..self.len));
        front.flatten().unwrap_or_default()
    }

    /// Makes the back buffer (just filled) the front, and returns it.
    pub fn swap(&mut self) -> &[u8] {
        self.front = 1 - self.front;
        self.front()
    }
}

/// A camera replaying frames from memory: `frames` bytes hold whole frames of
/// `lines` lines of `line_len` bytes, back to back, and the replay cycles through
/// them. For tests, examples, and hosts feeding recorded frames.
///
/// A trailing partial frame is served as far as it goes: its first missing
/// line is an [`Error::Line`], as a camera that stops mid-frame.
#[derive(Debug, Clone)]
pub struct Replay<'a, const N: usize> {
    data: &'a [u8],
    geometry: Geometry,
    /// Byte offset of the next line.
    at: usize,
    /// Byte offset of the current frame.
    start: usize,
    /// Line of the current frame.
    line: usize,
    pair: LinePair<N>,
}

impl<'a, const N: usize> Replay<'a, N> {
    /// Replays `data` as frames of `lines` lines of `line_len` bytes.
    pub fn new(data: &'a [u8], lines: usize, line_len: usize) -> Self {
        Self {
            data,
            geometry: Geometry { lines, line_len },
            at: 0,
            start: 0,
            line: 0,
            pair: LinePair::new(),
        }
    }
}

impl<const N: usize> Camera for Replay<'_, N> {
    fn begin_frame(&mut self) -> Result<Geometry, Error> {
        self.pair.set_len(self.geometry.line_len)?;
        if self.at >= self.data.len() {
            self.at = 0;
        }
        self.start = self.at;
        self.line = 0;
        Ok(self.geometry)
    }

    fn next_line(&mut self) -> Result<&[u8], Error> {
        let len = self.geometry.line_len;
        let rest = self.data.get(self.at..).unwrap_or(&[]);
        let Some(line) = rest.get(..len) else {
            return Err(Error::Line {
                line: self.line,
                expected: len,
                found: rest.len(),
            });
        };
        self.pair.back().copy_from_slice(line);
        self.at += len;
        self.line += 1;
        Ok(self.pair.swap())
    }

    fn end_frame(&mut self) -> Result<(), Error> {
        // The next frame starts one frame after this one, however far this one got.
        let frame = self.geometry.lines.saturating_mul(self.geometry.line_len);
        self.at = self.start.saturating_add(frame);
        Ok(())
    }
}

/// Where [`Faulty`] injects its fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// In [`Camera::begin_frame`] (a capture that fails: timeout, FIFO length, bus).
    Begin,
    /// Instead of line `n` (a short or missing line, a bus error mid-frame).
    Line(usize),
}

/// A camera wrapper that fails one chosen frame at one chosen point with one
/// chosen error, and passes everything else through: fault injection for tests
/// (on the host and in QEMU).
///
/// ```
/// use scanline_firmware::camera::{At, Camera, Faulty, Replay};
/// use scanline_firmware::Error;
/// let data = [1u8, 2, 3, 4];
/// let mut cam = Faulty::new(Replay::<2>::new(&data, 2, 2), 1, At::Line(1), Error::Spi);
/// cam.begin_frame().unwrap(); // frame 0: clean
/// cam.next_line().unwrap();
/// cam.next_line().unwrap();
/// cam.end_frame().unwrap();
/// cam.begin_frame().unwrap(); // frame 1: fails at line 1
/// cam.next_line().unwrap();
/// assert_eq!(cam.next_line().unwrap_err(), Error::Spi);
/// ```
#[derive(Debug, Clone)]
pub struct Faulty<C> {
    inner: C,
    frame: u32,
    at: At,
    error: Error,
    current: u32,
    line: usize,
    started: bool,
}

impl<C> Faulty<C> {
    /// Wraps `inner`; frame number `frame` (0-based, counting
    /// [`Camera::begin_frame`] calls) fails at `at` with `error`.
    pub fn new(inner: C, frame: u32, at: At, error: Error) -> Self {
        Self {
            inner,
            frame,
            at,
            error,
            current: 0,
            line: 0,
            started: false,
        }
    }

    /// The wrapped camera.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C: Camera> Camera for Faulty<C> {
    fn begin_frame(&mut self) -> Result<Geometry, Error> {
        if self.started {
            self.current = self.current.wrapping_add(1);
        }
        self.started = true;
        self.line = 0;
        let g = self.inner.begin_frame()?;
        if self.current == self.frame && self.at == At::Begin {
            return Err(self.error);
        }
        Ok(g)
    }

    fn next_line(&mut self) -> Result<&[u8], Error> {
        let n = self.line;
        self.line += 1;
        if self.current == self.frame && self.at == At::Line(n) {
            return Err(self.error);
        }
        self.inner.next_line()
    }

    fn end_frame(&mut self) -> Result<(), Error> {
        self.inner.end_frame()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_handed_out_is_never_the_one_being_filled() {
        let mut pair = LinePair::<2>::new();
        pair.set_len(2).unwrap();
        pair.back().copy_from_slice(&[1, 1]);
        pair.swap();
        for v in 2..10u8 {
            pair.back().fill(v);
            assert_eq!(pair.front(), &[v - 1, v - 1]);
            assert_eq!(pair.swap(), &[v, v]);
        }
    }

    #[test]
    fn replay_cycles_and_reports_a_short_frame() {
        // Two lines of 2 bytes per frame; one whole frame and half of another.
        let data = [1, 2, 3, 4, 5, 6];
        let mut cam = Replay::<2>::new(&data, 2, 2);
        assert_eq!(
            cam.begin_frame().unwrap(),
            Geometry {
                lines: 2,
                line_len: 2
            }
        );
        assert_eq!(cam.next_line().unwrap(), &[1, 2]);
        assert_eq!(cam.next_line().unwrap(), &[3, 4]);
        cam.end_frame().unwrap();
        cam.begin_frame().unwrap();
        assert_eq!(cam.next_line().unwrap(), &[5, 6]);
        assert_eq!(
            cam.next_line().unwrap_err(),
            Error::Line {
                line: 1,
                expected: 2,
                found: 0
            }
        );
        cam.end_frame().unwrap();
        // Back to the first frame.
        cam.begin_frame().unwrap();
        assert_eq!(cam.next_line().unwrap(), &[1, 2]);
    }

    #[test]
    fn a_line_longer_than_the_buffers_is_refused() {
        let data = [0u8; 8];
        let mut cam = Replay::<2>::new(&data, 2, 4);
        assert_eq!(
            cam.begin_frame().unwrap_err(),
            Error::Geometry {
                expected: 4,
                found: 2
            }
        );
    }
}
