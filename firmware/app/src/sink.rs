//! Sink: where a frame's output rows go — the core's FNV-1a digest, per-channel
//! statistics, a closure — each told when a frame starts and ends.
//!
//! Statistics use f32 and `micromath` for the square root: they describe the
//! output for a person reading the log, and never feed back into the exact int8
//! path.

use core::convert::Infallible;

use micromath::F32Ext;
use scanline::digest::Fnv1a32;
use scanline::stream::Sink;

/// A [`Sink`] that is told when a frame starts and ends (both do nothing by
/// default). A dropped frame is started again from the top: [`FrameSink::start_frame`]
/// must forget a partial frame.
pub trait FrameSink: Sink {
    /// A new frame begins: forget the rows of any previous one.
    fn start_frame(&mut self) {}

    /// Every row of the frame has been received.
    fn end_frame(&mut self) {}
}

impl FrameSink for Fnv1a32 {
    fn start_frame(&mut self) {
        self.reset();
    }
}

/// Per-channel statistics of int8 output values (count, min, max, exact integer
/// sums; mean and standard deviation in f32), for up to `C` channels.
///
/// # Examples
///
/// ```
/// use scanline::stream::Sink;
/// use scanline_firmware::sink::{FrameSink, Stats};
/// let mut s = Stats::<2>::new(2).unwrap();
/// s.start_frame();
/// s.row(0, &[1, -4, 3, 4]).unwrap(); // two pixels, channels interleaved
/// assert_eq!((s.min(0), s.max(0), s.mean(0)), (Some(1), Some(3), Some(2.0)));
/// assert_eq!(s.std(1), Some(4.0));
/// assert_eq!(s.mean(2), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Stats<const C: usize> {
    channels: usize,
    count: u32,
    min: [i8; C],
    max: [i8; C],
    sum: [i64; C],
    sum_sq: [u64; C],
}

impl<const C: usize> Stats<C> {
    /// Statistics over `channels` interleaved channels; `None` if more than `C`
    /// or 0.
    pub fn new(channels: usize) -> Option<Self> {
        if channels == 0 || channels > C {
            return None;
        }
        Some(Self {
            channels,
            count: 0,
            min: [i8::MAX; C],
            max: [i8::MIN; C],
            sum: [0; C],
            sum_sq: [0; C],
        })
    }

    /// The number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Values seen per channel.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The smallest value of channel `c`; `None` if there is no such channel or
    /// no value yet.
    pub fn min(&self, c: usize) -> Option<i8> {
        self.min.get(c).copied().filter(|_| self.seen(c))
    }

    /// The largest value of channel `c`.
    pub fn max(&self, c: usize) -> Option<i8> {
        self.max.get(c).copied().filter(|_| self.seen(c))
    }

    /// The exact sum of channel `c`'s values.
    pub fn sum(&self, c: usize) -> Option<i64> {
        self.sum.get(c).copied().filter(|_| self.seen(c))
    }

    /// The mean of channel `c` (f32).
    pub fn mean(&self, c: usize) -> Option<f32> {
        let sum = self.sum(c)?;
        Some((sum as f64 / self.count as f64) as f32)
    }

    /// The population standard deviation of channel `c` (f32; see [`sqrt`]).
    pub fn std(&self, c: usize) -> Option<f32> {
        let sum = self.sum(c)?;
        let sum_sq = *self.sum_sq.get(c)?;
        let n = self.count as f64;
        let mean = sum as f64 / n;
        let var = (sum_sq as f64 / n - mean * mean).max(0.0);
        Some(sqrt(var as f32))
    }

    fn seen(&self, c: usize) -> bool {
        c < self.channels && self.count > 0
    }
}

/// Square root in f32 without `std`: `micromath`'s estimate (within a few per
/// cent) refined by three Newton steps `y = (y + x / y) / 2`, which bring it to
/// within a few f32 ulps (checked against `f64::sqrt` in the tests).
///
/// ```
/// use scanline_firmware::sink::sqrt;
/// assert_eq!(sqrt(0.0), 0.0);
/// assert!((sqrt(2.0) - core::f32::consts::SQRT_2).abs() < 1e-6);
/// ```
pub fn sqrt(x: f32) -> f32 {
    if x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let mut y = F32Ext::sqrt(x);
    for _ in 0..3 {
        y = 0.5 * (y + x / y);
    }
    y
}

impl<const C: usize> Sink for Stats<C> {
    type Error = Infallible;

    fn row(&mut self, _y: usize, row: &[i8]) -> Result<(), Infallible> {
        let n = self.channels;
        // `max(1)`: a zero chunk size would panic; `channels` is at least 1.
        for px in row.chunks_exact(n.max(1)) {
            let lanes = (self.min.iter_mut().zip(&mut self.max))
                .zip(self.sum.iter_mut().zip(&mut self.sum_sq))
                .zip(px);
            for (((min, max), (sum, sum_sq)), &v) in lanes {
                *min = (*min).min(v);
                *max = (*max).max(v);
                *sum += i64::from(v);
                *sum_sq += (i64::from(v) * i64::from(v)) as u64;
            }
            self.count += 1;
        }
        Ok(())
    }
}

impl<const C: usize> FrameSink for Stats<C> {
    fn start_frame(&mut self) {
        self.count = 0;
        self.min = [i8::MAX; C];
        self.max = [i8::MIN; C];
        self.sum = [0; C];
        self.sum_sq = [0; C];
    }
}

/// Two sinks fed the same rows, in order; the first error wins (as a
/// [`crate::Error`]).
///
/// ```
/// use scanline::digest::Fnv1a32;
/// use scanline::stream::Sink;
/// use scanline_firmware::sink::{Stats, Tee};
/// let mut both = Tee(Fnv1a32::new(), Stats::<1>::new(1).unwrap());
/// both.row(0, &[5, 7]).unwrap();
/// assert_eq!((both.0.len(), both.1.max(0)), (2, Some(7)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Tee<A, B>(pub A, pub B);

impl<A, B> Sink for Tee<A, B>
where
    A: Sink,
    B: Sink,
    A::Error: Into<crate::Error>,
    B::Error: Into<crate::Error>,
{
    type Error = crate::Error;

    fn row(&mut self, y: usize, row: &[i8]) -> Result<(), crate::Error> {
        self.0.row(y, row).map_err(Into::into)?;
        self.1.row(y, row).map_err(Into::into)
    }
}

impl<A, B> FrameSink for Tee<A, B>
where
    A: FrameSink,
    B: FrameSink,
    A::Error: Into<crate::Error>,
    B::Error: Into<crate::Error>,
{
    fn start_frame(&mut self) {
        self.0.start_frame();
        self.1.start_frame();
    }

    fn end_frame(&mut self) {
        self.0.end_frame();
        self.1.end_frame();
    }
}

/// A closure `FnMut(y, row) -> Result<(), crate::Error>` as a [`FrameSink`]
/// (e.g. writing rows to a file or a log).
///
/// ```
/// use scanline::stream::Sink;
/// use scanline_firmware::sink::RowFn;
/// let mut n = 0;
/// let mut s = RowFn(|_y: usize, row: &[i8]| {
///     n += row.len();
///     Ok(())
/// });
/// s.row(0, &[1, 2, 3]).unwrap();
/// drop(s);
/// assert_eq!(n, 3);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RowFn<F>(pub F);

impl<F> Sink for RowFn<F>
where
    F: FnMut(usize, &[i8]) -> Result<(), crate::Error>,
{
    type Error = crate::Error;

    fn row(&mut self, y: usize, row: &[i8]) -> Result<(), crate::Error> {
        (self.0)(y, row)
    }
}

impl<F> FrameSink for RowFn<F> where F: FnMut(usize, &[i8]) -> Result<(), crate::Error> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_match_a_direct_computation() {
        let values: [i8; 12] = [-128, 127, 0, 5, -3, 9, 100, -100, 7, 1, 2, 3];
        let mut s = Stats::<3>::new(3).unwrap();
        s.start_frame();
        s.row(0, &values[..6]).unwrap();
        s.row(1, &values[6..]).unwrap();
        for c in 0..3 {
            let vals: Vec<f64> = values
                .iter()
                .skip(c)
                .step_by(3)
                .map(|&v| v as f64)
                .collect();
            let mean = vals.iter().sum::<f64>() / 4.0;
            let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 4.0;
            assert_eq!(s.mean(c).unwrap(), mean as f32);
            let std = s.std(c).unwrap() as f64;
            assert!(
                (std - var.sqrt()).abs() <= 1e-5 * var.sqrt().max(1.0),
                "{std} vs {}",
                var.sqrt()
            );
            assert_eq!(
                s.min(c).unwrap() as f64,
                vals.iter().cloned().fold(f64::MAX, f64::min)
            );
        }
        assert_eq!(s.count(), 4);
        // A new frame forgets the old one.
        s.start_frame();
        assert_eq!(s.mean(0), None);
        assert!(Stats::<3>::new(4).is_none());
        assert!(Stats::<3>::new(0).is_none());
    }

    #[test]
    fn sqrt_is_close_to_f64_over_a_wide_range() {
        let mut x = 1e-6f32;
        while x < 1e7 {
            let want = (x as f64).sqrt();
            let got = sqrt(x) as f64;
            assert!(
                (got - want).abs() <= 4e-7 * want,
                "sqrt({x}) = {got}, want {want}"
            );
            x *= 1.37;
        }
        assert!(sqrt(-1.0).is_nan());
        assert_eq!(sqrt(f32::INFINITY), f32::INFINITY);
    }

    #[test]
    fn a_failing_sink_in_a_tee_stops_the_row() {
        let mut seen = 0;
        {
            let mut tee = Tee(
                RowFn(|_y: usize, _r: &[i8]| Err(crate::Error::Io { code: 5 })),
                RowFn(|_y: usize, _r: &[i8]| {
                    seen += 1;
                    Ok(())
                }),
            );
            assert_eq!(tee.row(0, &[1]), Err(crate::Error::Io { code: 5 }));
        }
        assert_eq!(seen, 0);
    }

    #[test]
    fn the_digest_restarts_with_each_frame() {
        let mut d = Fnv1a32::new();
        d.row(0, &[1, 2]).unwrap();
        d.start_frame();
        d.row(0, &[3]).unwrap();
        assert_eq!(d.value(), scanline::digest::fnv1a32(&[3]));
    }
}
