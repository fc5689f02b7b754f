//! Stream: the line-buffer engine. Input rows go in one at a time; every layer of a
//! [`Model`] keeps only the rows its vertical window still needs, in a ring inside a
//! caller-provided arena, and output rows of the last layer come out as soon as they
//! are determined.
//!
//! The arithmetic is the row kernels' ([`Layer::compute_row`]), read through a
//! [`Rows`] view of the ring: the frame engine ([`crate::frame`]) and this one
//! differ only in where rows come from.
//!
//! # How rows flow
//!
//! Stage `i` runs layer `i`. When input row `y` reaches a stage, the stage computes,
//! in order, every output row whose taps inside the image are all `<= y` (taps in
//! the padding contribute nothing, and the model knows the frame height, so the
//! rows the bottom padding determines come out with the last input row, and a
//! dilated window whose last taps fall below the image does not wait for rows it
//! never reads). Outputs whose every tap is padding come with the first push. Each
//! output row goes to the next stage at once (depth first), or to the [`Sink`] for
//! the last stage. Then the stage stores row `y` in its ring if a later output
//! still reads it; rows no output reads (strides larger than the window) are
//! dropped. The newest row is never copied before use: it is read where it already
//! is, in the caller's slice (stage 0) or the previous stage's output buffer.
//!
//! # Latency
//!
//! When `push_row` for input row `r` returns, every output row that an engine
//! emitting each layer's rows in order could have produced from rows `0..=r` has
//! been emitted (the tests check this against a brute-force computation over the
//! taps). "In order" is the one qualification: a row waits for the rows before it
//! in its own layer, as a sink expects. It matters for dilated windows near the
//! bottom, where a row's own taps can complete before an earlier row's: in the
//! tests' random models about 1 model in 10 has such an output row, and about 1
//! multi-layer model in 70 has an output row that would come a few pushes earlier
//! if intermediate layers emitted rows out of order.
//!
//! # Memory: the arena formula
//!
//! For stage `i` with vertical window `k` taps, stride `s`, dilation `d`, input
//! height `H`, input row `width * in_channels` bytes and output row
//! `out_width * out_channels` bytes:
//!
//! ```text
//! M       = max over t in 0..k-1 of  t*d + floor(((k-1-t)*d - 1) / s) * s
//! g       = gcd(s, d)
//! ring_i  = min(M/g + 1, floor((H-2)/g) + 1) rows    (0 if k == 1 or H == 1,
//!           or for a max-pool with k == s: see below)
//! bytes_i = ring_i * input_row + output_row
//! arena   = sum of bytes_i over all layers           (Model::stream_arena_len)
//! ```
//!
//! A reduction ([`Layer::is_reduction`]: a mean over height and width, a dense
//! layer over the whole tensor) keeps no rows: each input row is added to its
//! int32 accumulators as it arrives (per-channel sums, per-output partial dot
//! products) and its one output row is computed when the last input row has
//! been added, so its `bytes_i = 4 * accumulators + output_row`. A whole
//! classifier (convolutions, pools, a flatten into a dense layer or a global
//! average pool, a softmax) therefore streams in rows-sized memory and its class
//! scores come out of the push of the last camera line.
//!
//! Why: while the next output `o` waits for its last tap, every row still kept is
//! a tap of an output `>= o` that has arrived, so it lies at `a + j*s + t*d` with
//! `a = o*s - pad` the first tap of `o`, below `o`'s last tap `a + (k-1)*d`: kept
//! rows differ by at most `M`, and all lie on one lattice of step `g`. Row `y`
//! lives in slot `(y / g) mod ring_i`, so rows kept together never share a slot.
//! The newest row is not stored before use, which saves one row per stage, and the
//! last input row is never stored (every output is complete when it arrives),
//! hence the `H - 2` cap.
//!
//! This is the true minimum (the most rows ever live at once, checked by brute
//! force in the tests) whenever `d == 1` or `s == 1`: `k - 1` rows for any stride
//! when `d == 1` (a 3x3 convolution keeps 2 rows, a 2x2 pool 1, a pool whose
//! stride exceeds its window still `k - 1`), `eff_k - 1` when `s == 1`. Keras and
//! TF refuse stride > 1 together with dilation > 1, and pools have no dilation,
//! so that covers converted models. With both `d > 1` and `s > 1` the live rows
//! can be sparser than any modular ring (e.g. `k = 2, d = 3, s = 2`: 2 live rows,
//! a ring of 3); only a tagged slot map would do better.
//!
//! A max-pool whose window height equals its stride (every 2x2/2 pool) keeps
//! no ring at all: each input row belongs to one output row's window, so the
//! stage folds it into its output row as it comes (a running maximum, replaced
//! at the window's first row) and passes the row on, clamped, after the last.
//!
//! The reference chain N3 (240x320x1, three conv3x3+ReLU / maxpool2 pairs) needs
//! 17 280 bytes (24 960 with a ring in front of each pool).
//!
//! # Examples
//!
//! A 3x3 box filter over a 4x5 image, streamed and compared with the frame engine:
//!
//! ```
//! use scanline::WeightLayout;
//! use scanline::stream::Pipeline;
//! use scanline::{Activation, Requantization, Conv2d, Error, Layer, Model, Padding, Quant, Rounding, Shape, Values, Window};
//!
//! let q = Quant::new(1.0 / 255.0, -128);
//! let ones = [1i8; 9];
//! let layers = [Layer::Conv2d(Conv2d {
//!     in_channels: 1,
//!     out_channels: 1,
//!     window: Window::square(3, 1, Padding::Same),
//!     weights: &ones,
//!     layout: WeightLayout::Ohwi,
//!     bias: None,
//!     requant: Requantization::WeightScales(Values::Slice(&[1.0 / 9.0])),
//!     input: q,
//!     output: q,
//!     activation: Activation::None,
//! })];
//! let model = Model::new(Shape::new(4, 5, 1), q, &layers, Rounding::Double)?;
//! let image: [i8; 20] = core::array::from_fn(|i| (i as i8) * 5 - 50);
//!
//! let mut arena = [0i8; 64];
//! assert_eq!(model.stream_arena_len(), 2 * 5 + 5); // 2 ring rows + 1 output row
//! let mut pipeline = Pipeline::new(&model, &mut arena)?;
//! let mut streamed = [0i8; 20];
//! for row in image.chunks(5) {
//!     pipeline.push_row(row, &mut |y: usize, out: &[i8]| {
//!         streamed[y * 5..y * 5 + 5].copy_from_slice(out);
//!         Ok::<(), Error>(())
//!     })?;
//! }
//! pipeline.finish()?;
//!
//! let mut framed = [0i8; 20];
//! scanline::frame::run(&model, &image, &mut framed, &mut [])?;
//! assert_eq!(streamed, framed);
//! # Ok::<(), scanline::stream::PushError<Error>>(())
//! ```

mod running;

use crate::exec::Exec;
use crate::model::MAX_LAYERS;
use crate::{Axis, Error, Layer, Model, Param, Rows, Shape};

/// Where the output rows of a [`Pipeline`] go.
///
/// Implemented for every closure `FnMut(usize, &[i8]) -> Result<(), E>`; the
/// closure's parameters need type annotations (`|y: usize, row: &[i8]|`) so that
/// it accepts rows of any lifetime.
///
/// # Examples
///
/// ```
/// use scanline::stream::Sink;
///
/// /// Sums every output value, for a checksum.
/// struct Checksum(i64);
/// impl Sink for Checksum {
///     type Error = core::convert::Infallible;
///     fn row(&mut self, _y: usize, row: &[i8]) -> Result<(), Self::Error> {
///         self.0 += row.iter().map(|&v| v as i64).sum::<i64>();
///         Ok(())
///     }
/// }
/// let mut c = Checksum(0);
/// c.row(0, &[1, -3]).unwrap();
/// assert_eq!(c.0, -2);
/// ```
pub trait Sink {
    /// What the sink can fail with (e.g. a bus error while sending a row).
    type Error;

    /// Receives output row `y` (`out_width * out_channels` values) of the last
    /// layer. Rows arrive in order `0, 1, 2, ...`, once each per frame.
    fn row(&mut self, y: usize, row: &[i8]) -> Result<(), Self::Error>;
}

impl<F, E> Sink for F
where
    F: FnMut(usize, &[i8]) -> Result<(), E>,
{
    type Error = E;

    #[inline]
    fn row(&mut self, y: usize, row: &[i8]) -> Result<(), E> {
        self(y, row)
    }
}

/// Why [`Pipeline::push_row`] failed: the pipeline refused the row, or the sink
/// failed (which aborts the frame: [`Pipeline::reset`] before the next).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError<E> {
    /// The row was refused; the pipeline is unchanged.
    Stream(Error),
    /// The sink returned an error; the frame is aborted.
    Sink(E),
}

impl<E> From<Error> for PushError<E> {
    fn from(e: Error) -> Self {
        PushError::Stream(e)
    }
}

impl<E: core::fmt::Display> core::fmt::Display for PushError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PushError::Stream(e) => e.fmt(f),
            PushError::Sink(e) => write!(f, "sink failed: {e}"),
        }
    }
}

impl<E: core::fmt::Debug + core::fmt::Display> core::error::Error for PushError<E> {}

/// Rows of the ring a stage keeps for a vertical window `axis` over an input of
/// `height` rows (see the module documentation for the formula).
///
/// # Examples
///
/// ```
/// use scanline::Axis;
/// use scanline::stream::ring_rows;
/// assert_eq!(ring_rows(Axis::new(3, 1, 1), 240), 2); // 3x3 conv
/// assert_eq!(ring_rows(Axis::new(2, 2, 1), 240), 1); // 2x2 pool
/// assert_eq!(ring_rows(Axis::new(2, 3, 1), 240), 1); // stride > window
/// assert_eq!(ring_rows(Axis::new(3, 1, 2), 240), 4); // dilated: eff_k - 1
/// assert_eq!(ring_rows(Axis::new(3, 2, 2), 240), 2); // even rows only: g = 2
/// assert_eq!(ring_rows(Axis::new(1, 1, 1), 240), 0); // 1x1, ReLU
/// assert_eq!(ring_rows(Axis::new(7, 1, 1), 3), 2); // never more than H - 1
/// ```
pub const fn ring_rows(axis: Axis, height: usize) -> usize {
    let (k, s, d) = (axis.kernel, axis.stride, axis.dilation);
    if k < 2 || s == 0 || d == 0 {
        return 0;
    }
    let mut m = 0;
    let mut t = 0;
    while t < k - 1 {
        let b = (k - 1 - t) * d - 1;
        let v = t * d + (b / s) * s;
        if v > m {
            m = v;
        }
        t += 1;
    }
    let g = gcd(s, d);
    let rows = m / g + 1;
    // Rows 0..=H-2 (the last row is never stored) on the lattice of step g.
    let cap = if height >= 2 { (height - 2) / g + 1 } else { 0 };
    if rows < cap { rows } else { cap }
}

/// Step of the lattice the taps of a window live on: `gcd(stride, dilation)`.
const fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        let r = a % b;
        a = b;
        b = r;
    }
    a
}

impl Model<'_> {
    /// Ring rows stage `i` keeps (see [`ring_rows`]; none for a reduction);
    /// `None` if there is no layer `i`.
    pub fn stream_ring_rows(&self, i: usize) -> Option<usize> {
        let layer = self.layers().get(i)?;
        let input = self.shape(i)?;
        if running::runs(layer) {
            return Some(0);
        }
        Some(ring_rows(layer.vertical().0, input.height))
    }

    /// Arena bytes stage `i` of a [`Pipeline`] uses: its ring rows times its input
    /// row (4 bytes per int32 accumulator for a reduction), plus one output row.
    /// `None` if there is no layer `i`.
    pub fn stream_layer_len(&self, i: usize) -> Option<usize> {
        let rows = self.stream_ring_rows(i)?;
        let input = self.shape(i)?;
        let output = self.shape(i + 1)?;
        let acc = self.layers().get(i)?.accumulators(input).saturating_mul(4);
        Some(
            rows.saturating_mul(input.row_len())
                .saturating_add(acc)
                .saturating_add(output.row_len()),
        )
    }

    /// Exactly the arena bytes a [`Pipeline`] over this model needs: the sum of
    /// [`Model::stream_layer_len`] over the layers (formula in [`crate::stream`]).
    ///
    /// ```
    /// use scanline::{Activation, Layer, MaxPool2d, Model, Padding, Quant, Rounding, Shape, Window};
    /// let q = Quant::new(0.1, 0);
    /// let pool = Layer::MaxPool(MaxPool2d {
    ///     window: Window::square(2, 2, Padding::Valid),
    ///     quant: q,
    ///     activation: Activation::None,
    /// });
    /// let model = Model::new(Shape::new(240, 320, 8), q, &[pool], Rounding::Double).unwrap();
    /// // No ring: one output row (160 * 8) holding the running maximum.
    /// assert_eq!(model.stream_arena_len(), 160 * 8);
    /// ```
    pub fn stream_arena_len(&self) -> usize {
        (0..self.layers().len())
            .map(|i| self.stream_layer_len(i).unwrap_or(usize::MAX))
            .fold(0usize, usize::saturating_add)
    }
}

/// Per-stage bookkeeping (the rows themselves live in the arena).
#[derive(Debug, Clone, Copy)]
struct Stage {
    /// Vertical window of the layer.
    axis: Axis,
    /// Top padding rows.
    pad: usize,
    /// Input shape of the layer.
    input: Shape,
    /// Output rows of the layer.
    out_height: usize,
    /// Ring slots (rows).
    slots: usize,
    /// Lattice step of the rows the window reads (`gcd(stride, dilation)`).
    step: usize,
    /// Bytes of one output row.
    out_len: usize,
    /// Bytes of the int32 accumulators of a reduction (0: a windowed layer).
    acc_len: usize,
    /// Input rows received in this frame.
    received: usize,
    /// Next output row to compute.
    next_out: usize,
}

impl Stage {
    /// Input rows that must have arrived before output `o` is determined: one past
    /// its last tap inside the image (0 if every tap is padding).
    fn ready_after(&self, o: usize) -> usize {
        let first = self.axis.first_tap(o, self.pad);
        let (lo, hi) = self.axis.tap_range(first, self.input.height);
        if lo >= hi {
            0
        } else {
            (first + ((hi - 1) * self.axis.dilation) as isize) as usize + 1
        }
    }

    /// Whether input row `y` is a tap of an output not computed yet.
    fn needed_later(&self, y: usize) -> bool {
        let (s, d) = (self.axis.stride.max(1), self.axis.dilation);
        (0..self.axis.kernel).any(|t| {
            let base = (y + self.pad) as isize - (t * d) as isize;
            if base < 0 || !(base as usize).is_multiple_of(s) {
                return false;
            }
            let o = base as usize / s;
            o >= self.next_out && o < self.out_height
        })
    }

    fn ring_len(&self) -> usize {
        self.slots * self.input.row_len()
    }
}

/// The rows a stage's kernel sees: its ring plus the newest row, read in place.
struct RingRows<'r> {
    ring: &'r [i8],
    row_len: usize,
    slots: usize,
    step: usize,
    height: usize,
    newest: Option<(usize, &'r [i8])>,
}

impl Rows for RingRows<'_> {
    #[inline]
    fn row(&self, y: isize) -> Option<&[i8]> {
        if y < 0 || y as usize >= self.height {
            return None;
        }
        let y = y as usize;
        if let Some((n, row)) = self.newest
            && n == y
        {
            return Some(row);
        }
        if self.slots == 0 {
            return None;
        }
        let start = ((y / self.step.max(1)) % self.slots) * self.row_len;
        self.ring.get(start..start + self.row_len)
    }
}

/// Frame progress of a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Rows may be pushed.
    Running,
    /// The sink failed mid-frame.
    Aborted,
}

/// A streaming pipeline over every layer of a [`Model`], working in a
/// caller-provided arena of [`Model::stream_arena_len`] bytes.
///
/// Push the rows of a frame in order with [`Pipeline::push_row`], check with
/// [`Pipeline::finish`], then [`Pipeline::reset`] for the next frame. See the
/// [module documentation](crate::stream) for an example.
///
/// On a microcontroller the arena is typically a `static` buffer handed out once
/// (e.g. by `static_cell::StaticCell<[i8; N]>` or `cortex_m::singleton!`) with `N`
/// at least [`Model::stream_arena_len`]; [`Pipeline::new`] checks the size, so a
/// wrong `N` is an error at start-up, never a panic mid-frame.
pub struct Pipeline<'p, 'a> {
    model: &'p Model<'a>,
    arena: &'p mut [i8],
    stages: heapless::Vec<Stage, MAX_LAYERS>,
    pushed: usize,
    state: State,
}

impl core::fmt::Debug for Pipeline<'_, '_> {
    /// Progress and sizes, not the arena's bytes.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pipeline")
            .field("layers", &self.stages.len())
            .field("arena_len", &self.arena.len())
            .field("rows_pushed", &self.pushed)
            .field("rows_emitted", &self.rows_emitted())
            .field("aborted", &(self.state == State::Aborted))
            .finish()
    }
}

impl<'p, 'a> Pipeline<'p, 'a> {
    /// A pipeline for `model` in `arena`, which must hold at least
    /// [`Model::stream_arena_len`] bytes ([`Error::ArenaTooSmall`] otherwise;
    /// extra bytes are left unused). The arena's contents do not matter.
    ///
    /// ```
    /// use scanline::{Activation, Error, Layer, MaxPool2d, Model, Padding, Quant, Rounding, Shape, Window};
    /// use scanline::stream::Pipeline;
    /// let q = Quant::new(0.1, 0);
    /// let pool = Layer::MaxPool(MaxPool2d {
    ///     window: Window::square(2, 2, Padding::Valid),
    ///     quant: q,
    ///     activation: Activation::None,
    /// });
    /// let model = Model::new(Shape::new(4, 4, 1), q, &[pool], Rounding::Double).unwrap();
    /// // Two output values, the running maximum of each window: no ring.
    /// let mut small = [0i8; 1];
    /// assert_eq!(
    ///     Pipeline::new(&model, &mut small).unwrap_err(),
    ///     Error::ArenaTooSmall { needed: 2, found: 1 }
    /// );
    /// ```
    pub fn new(model: &'p Model<'a>, arena: &'p mut [i8]) -> Result<Self, Error> {
        let needed = model.stream_arena_len();
        let found = arena.len();
        let arena = arena
            .get_mut(..needed)
            .ok_or(Error::ArenaTooSmall { needed, found })?;
        let mut stages = heapless::Vec::new();
        for (i, layer) in model.layers().iter().enumerate() {
            let input = model.shape(i).unwrap_or_default();
            let output = model.shape(i + 1).unwrap_or_default();
            let (axis, padding) = layer.vertical();
            let stage = Stage {
                axis,
                pad: axis.pad_before(input.height, padding),
                input,
                out_height: output.height,
                slots: model.stream_ring_rows(i).unwrap_or(0),
                step: gcd(axis.stride, axis.dilation),
                out_len: output.row_len(),
                acc_len: layer.accumulators(input) * 4,
                received: 0,
                next_out: 0,
            };
            // A model holds at most MAX_LAYERS layers: this cannot fail.
            let _ = stages.push(stage);
        }
        Ok(Self {
            model,
            arena,
            stages,
            pushed: 0,
            state: State::Running,
        })
    }

    /// The model this pipeline runs.
    pub fn model(&self) -> &Model<'a> {
        self.model
    }

    /// Input rows pushed in the current frame.
    pub fn rows_pushed(&self) -> usize {
        self.pushed
    }

    /// Output rows of the last layer emitted in the current frame.
    pub fn rows_emitted(&self) -> usize {
        self.stages.last().map_or(0, |s| s.next_out)
    }

    /// Feeds input row `y = rows_pushed()` (`width * channels` values of the model's
    /// input) and hands every output row of the last layer that it completes to
    /// `sink`, in order. When it returns, every output row that depends only on the
    /// rows pushed so far has been emitted (rows are emitted in order, so a row
    /// waits for the rows before it).
    ///
    /// Errors: [`Error::Length`] (`Param::Row`) for a row of the wrong length,
    /// [`Error::TooManyRows`] past the frame height, [`Error::FrameAborted`] after a
    /// sink failure; these leave the pipeline unchanged. A sink error is returned
    /// as [`PushError::Sink`] and aborts the frame.
    pub fn push_row<S: Sink + ?Sized>(
        &mut self,
        row: &[i8],
        sink: &mut S,
    ) -> Result<(), PushError<S::Error>> {
        if self.state == State::Aborted {
            return Err(Error::FrameAborted.into());
        }
        let input = self.model.input_shape();
        if row.len() != input.row_len() {
            return Err(Error::length(Param::Row, input.row_len(), row.len()).into());
        }
        if self.pushed >= input.height {
            return Err(Error::TooManyRows {
                height: input.height,
            }
            .into());
        }
        let layers = self.model.layers();
        let rounding = self.model.exec();
        let y = self.pushed;
        if y == 0 {
            // Outputs whose every tap is padding depend on no row: emit them now.
            feed(&mut self.stages, layers, rounding, None, self.arena, sink)
                .map_err(|e| self.abort(e))?;
        }
        feed(
            &mut self.stages,
            layers,
            rounding,
            Some((y, row)),
            self.arena,
            sink,
        )
        .map_err(|e| self.abort(e))?;
        self.pushed += 1;
        Ok(())
    }

    fn abort<E>(&mut self, e: E) -> PushError<E> {
        self.state = State::Aborted;
        PushError::Sink(e)
    }

    /// Ends the frame. Every output row has already been emitted by the push of
    /// the last input row (the pipeline knows the frame height, so the rows the
    /// bottom padding determines need no extra call); `finish` checks that the frame
    /// is complete: [`Error::IncompleteFrame`] if rows are missing (push them, or
    /// [`Pipeline::reset`]), [`Error::FrameAborted`] after a sink failure.
    pub fn finish(&mut self) -> Result<(), Error> {
        if self.state == State::Aborted {
            return Err(Error::FrameAborted);
        }
        let height = self.model.input_shape().height;
        if self.pushed < height {
            return Err(Error::IncompleteFrame {
                received: self.pushed,
                height,
            });
        }
        debug_assert!(self.stages.iter().all(|s| s.next_out == s.out_height));
        Ok(())
    }

    /// Starts a new frame: forgets every row of the current one. Legal at any time,
    /// e.g. to abort a frame after a camera fault. The arena needs no clearing: a
    /// ring slot is always written before it is read.
    pub fn reset(&mut self) {
        for s in self.stages.iter_mut() {
            s.received = 0;
            s.next_out = 0;
        }
        self.pushed = 0;
        self.state = State::Running;
    }
}

/// Hands input row `newest` (or, with `None`, nothing: a poll for outputs that
/// need no row) to the first of `stages`, computing and passing on every output
/// it completes. `arena` starts at the first stage's ring; the stages' regions
/// follow each other as `ring, accumulators, output row`.
fn feed<S: Sink + ?Sized>(
    stages: &mut [Stage],
    layers: &[Layer<'_>],
    rounding: Exec,
    newest: Option<(usize, &[i8])>,
    arena: &mut [i8],
    sink: &mut S,
) -> Result<(), S::Error> {
    let Some((stage, later)) = stages.split_first_mut() else {
        return Ok(());
    };
    let Some((layer, later_layers)) = layers.split_first() else {
        return Ok(());
    };
    let (ring, rest) = arena.split_at_mut(stage.ring_len());
    let (acc, rest) = rest.split_at_mut(stage.acc_len);
    let (out, rest) = rest.split_at_mut(stage.out_len);
    if layer.is_reduction() {
        // Sums, not rows: the one output row comes with the last input row.
        let Some((y, row)) = newest else {
            return feed(later, later_layers, rounding, None, rest, sink);
        };
        stage.received = y + 1;
        layer.accumulate(stage.input, y, row, acc, rounding);
        if stage.received == stage.input.height && stage.next_out == 0 {
            layer.finish(stage.input, acc, out, rounding);
            stage.next_out = 1;
            if later.is_empty() {
                sink.row(0, out)?;
            } else {
                feed(later, later_layers, rounding, Some((0, &*out)), rest, sink)?;
            }
        }
        return Ok(());
    }
    if let (Layer::MaxPool(pool), true) = (layer, running::runs(layer)) {
        return running::feed_running(
            stage,
            later,
            pool,
            later_layers,
            rounding,
            newest,
            out,
            rest,
            sink,
        );
    }
    if let Some((y, _)) = newest {
        stage.received = y + 1;
    }
    while stage.next_out < stage.out_height && stage.ready_after(stage.next_out) <= stage.received {
        let o = stage.next_out;
        let rows = RingRows {
            ring: &*ring,
            row_len: stage.input.row_len(),
            slots: stage.slots,
            step: stage.step,
            height: stage.input.height,
            newest,
        };
        layer.compute_row(&rows, stage.input, o, out, rounding);
        stage.next_out += 1;
        if later.is_empty() {
            sink.row(o, out)?;
        } else {
            feed(later, later_layers, rounding, Some((o, &*out)), rest, sink)?;
        }
    }
    match newest {
        Some((y, row)) => {
            if stage.slots > 0 && stage.needed_later(y) {
                let n = row.len();
                let start = ((y / stage.step.max(1)) % stage.slots) * n;
                // In bounds by construction (the ring is `slots` rows of `n`).
                if let Some(slot) = ring.get_mut(start..start + n) {
                    slot.copy_from_slice(row);
                }
            }
        }
        None => feed(later, later_layers, rounding, None, rest, sink)?,
    }
    Ok(())
}
