//! Inject: camera faults on purpose. [`Injector`] wraps any [`Camera`] and
//! breaks the frames a [`Plan`] names the way cameras break — a short line, a
//! missing line, a stall, a FIFO that holds more than a frame, a bus error —
//! so that the frame loop's own checks must catch each one. The QEMU binary
//! wraps its recording in it (a job's fifth field, [`crate::job`]); the host
//! reads the same [`Plan`] to know which frames must drop, and why.
//!
//! | kind | `KIND@N` means | caught by | counted as |
//! |---|---|---|---|
//! | `short` | line N comes with half its bytes | the frame loop's line length check | [`Fault::Line`] |
//! | `missing` | line N never comes: the later lines move up one and the frame ends a line early | the same check, at the last line (0 bytes) | [`Fault::Missing`] |
//! | `stall` | line N never comes and the camera stalls | the bounded wait ([`crate::wait::until`]) | [`Fault::Timeout`] |
//! | `overrun` | the FIFO reports N+1 lines more than a frame (at least [`FIFO_SLACK`] + 1 bytes more) | [`crate::arducam::check_fifo`] at the frame's start | [`Fault::FifoOverrun`] |
//! | `bus` | the bus transfer of line N fails | the transfer's error | [`Fault::Spi`] |
//!
//! A plan is `none`; a list of `FRAME:KIND@LINE` entries separated by commas
//! (`1:short@5,3:stall@0`); or `random/SEED/PERMILLE`: each frame is broken
//! with probability PERMILLE/1000, by a kind and at a line drawn from SEED and
//! the frame number (SplitMix64), the same on the MCU and the host.
//!
//! # Examples
//!
//! ```
//! use scanline_firmware::inject::{Injection, Kind, Plan};
//! let plan = Plan::parse("1:short@5,3:stall@0").unwrap();
//! assert_eq!(plan.at(1, 24), Some(Injection { kind: Kind::Short, line: 5 }));
//! assert_eq!(plan.at(2, 24), None);
//! let random = Plan::parse("random/7/100").unwrap();
//! let broken = (0..1000).filter(|&f| random.at(f, 24).is_some()).count();
//! assert!((60..140).contains(&broken));
//! ```

use embedded_hal::delay::DelayNs;

use crate::arducam::{FIFO_SLACK, check_fifo};
use crate::camera::{Camera, Geometry};
use crate::wait::{self, Budget};
use crate::{Error, Fault};

/// What goes wrong (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A line with half its bytes.
    Short,
    /// A line that never comes; the frame ends a line early.
    Missing,
    /// A line that never comes: the camera stalls.
    Stall,
    /// A FIFO length beyond the frame.
    Overrun,
    /// A failed bus transfer.
    Bus,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 5] = [
        Kind::Short,
        Kind::Missing,
        Kind::Stall,
        Kind::Overrun,
        Kind::Bus,
    ];

    /// The plan's name: `short`, `missing`, `stall`, `overrun`, `bus`.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Short => "short",
            Kind::Missing => "missing",
            Kind::Stall => "stall",
            Kind::Overrun => "overrun",
            Kind::Bus => "bus",
        }
    }

    /// The kind of a plan name.
    pub fn named(name: &str) -> Option<Self> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The fault a frame broken this way must be dropped for.
    pub const fn fault(self) -> Fault {
        match self {
            Kind::Short => Fault::Line,
            Kind::Missing => Fault::Missing,
            Kind::Stall => Fault::Timeout,
            Kind::Overrun => Fault::FifoOverrun,
            Kind::Bus => Fault::Spi,
        }
    }
}

/// One broken frame: how, and at which line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injection {
    /// What goes wrong.
    pub kind: Kind,
    /// Where (see [`Kind`]).
    pub line: usize,
}

/// Which frames break (see the module documentation for the text form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Plan<'a> {
    /// No fault.
    #[default]
    None,
    /// `FRAME:KIND@LINE` entries separated by commas (checked by [`Plan::parse`]).
    List(&'a str),
    /// Each frame broken with probability `permille`/1000, drawn from `seed`.
    Random {
        /// The seed.
        seed: u32,
        /// Faults per thousand frames (at most 1000).
        permille: u16,
    },
}

fn bad(reason: &'static str) -> Error {
    Error::Recording { reason }
}

/// One `FRAME:KIND@LINE` entry.
fn entry(text: &str) -> Result<(u32, Injection), Error> {
    let (frame, rest) = text
        .split_once(':')
        .ok_or(bad("fault plan: an entry is FRAME:KIND@LINE"))?;
    let (kind, line) = rest
        .split_once('@')
        .ok_or(bad("fault plan: an entry is FRAME:KIND@LINE"))?;
    let frame = frame
        .parse()
        .map_err(|_| bad("fault plan: FRAME must be a frame number"))?;
    let kind = Kind::named(kind).ok_or(bad(
        "fault plan: KIND is short, missing, stall, overrun or bus",
    ))?;
    let line = line
        .parse()
        .map_err(|_| bad("fault plan: LINE must be a line number"))?;
    Ok((frame, Injection { kind, line }))
}

/// SplitMix64's output function: a well-mixed 64-bit hash of `z`.
const fn mix(z: u64) -> u64 {
    let z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl<'a> Plan<'a> {
    /// Parses a plan. Errors: [`Error::Recording`] naming what is wrong.
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        if text == "none" {
            return Ok(Plan::None);
        }
        if let Some(rest) = text.strip_prefix("random/") {
            let (seed, permille) = rest
                .split_once('/')
                .ok_or(bad("fault plan: random/SEED/PERMILLE"))?;
            let seed = seed
                .parse()
                .map_err(|_| bad("fault plan: SEED must be a 32-bit number"))?;
            let permille = permille
                .parse()
                .ok()
                .filter(|&p| p <= 1000)
                .ok_or(bad("fault plan: PERMILLE must be 0 to 1000"))?;
            return Ok(Plan::Random { seed, permille });
        }
        for (i, e) in text.split(',').enumerate() {
            let (frame, _) = entry(e)?;
            for earlier in text.split(',').take(i) {
                if entry(earlier)?.0 == frame {
                    return Err(bad("fault plan: a frame listed twice"));
                }
            }
        }
        Ok(Plan::List(text))
    }

    /// The fault planned for frame `frame` (0-based) of `lines` lines, if any.
    pub fn at(&self, frame: u32, lines: usize) -> Option<Injection> {
        match *self {
            Plan::None => None,
            Plan::List(text) => text
                .split(',')
                .filter_map(|e| entry(e).ok())
                .find(|&(f, _)| f == frame)
                .map(|(_, i)| i),
            Plan::Random { seed, permille } => {
                let h = mix((u64::from(seed) << 32) | u64::from(frame));
                if h % 1000 >= u64::from(permille) || lines == 0 {
                    return None;
                }
                let kind = *Kind::ALL.get(((h >> 16) % Kind::ALL.len() as u64) as usize)?;
                let line = ((h >> 32) % lines as u64) as usize;
                Some(Injection { kind, line })
            }
        }
    }

    /// Checks the plan against frames of `lines` lines: a listed line beyond the
    /// frame would never fire (an `overrun` line counts extra lines and may be
    /// anything). Errors: [`Error::Recording`].
    pub fn check(&self, lines: usize) -> Result<(), Error> {
        if let Plan::List(text) = self {
            for e in text.split(',') {
                let (_, i) = entry(e)?;
                if i.kind != Kind::Overrun && i.line >= lines {
                    return Err(bad("fault plan: a LINE beyond the frame"));
                }
            }
        }
        Ok(())
    }
}

impl core::fmt::Display for Plan<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Plan::None => f.write_str("none"),
            Plan::List(text) => f.write_str(text),
            Plan::Random { seed, permille } => write!(f, "random/{seed}/{permille}"),
        }
    }
}

/// A camera that breaks the frames of a [`Plan`] (see the module documentation);
/// frames are numbered by its [`Camera::begin_frame`] calls from 0. A stall
/// waits on `delay` within `budget` before it gives up.
pub struct Injector<'c, 'p, C: ?Sized, D> {
    inner: &'c mut C,
    plan: Plan<'p>,
    delay: D,
    budget: Budget,
    next: u32,
    current: Option<Injection>,
    line: usize,
    lines: usize,
}

impl<C: ?Sized, D> core::fmt::Debug for Injector<'_, '_, C, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Injector")
            .field("plan", &self.plan)
            .field("budget", &self.budget)
            .field("next", &self.next)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl<'c, 'p, C: Camera + ?Sized, D: DelayNs> Injector<'c, 'p, C, D> {
    /// Wraps `inner`, breaking the frames `plan` names.
    pub fn new(inner: &'c mut C, plan: Plan<'p>, delay: D, budget: Budget) -> Self {
        Self {
            inner,
            plan,
            delay,
            budget,
            next: 0,
            current: None,
            line: 0,
            lines: 0,
        }
    }

    /// The fault of the frame in progress (or the last one), if any.
    pub fn current(&self) -> Option<Injection> {
        self.current
    }
}

impl<C: Camera + ?Sized, D: DelayNs> Camera for Injector<'_, '_, C, D> {
    fn begin_frame(&mut self) -> Result<Geometry, Error> {
        let frame = self.next;
        self.next = self.next.wrapping_add(1);
        self.line = 0;
        self.current = None;
        let g = self.inner.begin_frame()?;
        self.lines = g.lines;
        self.current = self.plan.at(frame, g.lines);
        if let Some(Injection {
            kind: Kind::Overrun,
            line,
        }) = self.current
        {
            // The FIFO counts `line + 1` lines past the frame, and at least
            // more than the slack the ArduChip is allowed.
            let frame_len = g.lines.saturating_mul(g.line_len);
            let extra = line
                .saturating_add(1)
                .saturating_mul(g.line_len)
                .max(FIFO_SLACK as usize + 1);
            let fifo = u32::try_from(frame_len.saturating_add(extra)).unwrap_or(u32::MAX);
            check_fifo(fifo, u32::try_from(frame_len).unwrap_or(u32::MAX))?;
        }
        Ok(g)
    }

    fn next_line(&mut self) -> Result<&[u8], Error> {
        let y = self.line;
        self.line = self.line.saturating_add(1);
        let Some(Injection { kind, line }) = self.current else {
            return self.inner.next_line();
        };
        match kind {
            Kind::Short if y == line => {
                let l = self.inner.next_line()?;
                Ok(l.get(..l.len() / 2).unwrap_or_default())
            }
            Kind::Missing if y >= line => {
                if y == line {
                    // Line `line` is lost.
                    self.inner.next_line()?;
                }
                if y.saturating_add(1) >= self.lines {
                    // The frame ended a line early: nothing comes.
                    return Ok(&[]);
                }
                self.inner.next_line()
            }
            Kind::Stall if y == line => {
                // The line-ready flag never rises: the bounded wait gives up.
                wait::until(&mut self.delay, self.budget, || Ok(false))?;
                self.inner.next_line()
            }
            Kind::Bus if y == line => Err(Error::Spi),
            _ => self.inner.next_line(),
        }
    }

    fn end_frame(&mut self) -> Result<(), Error> {
        self.inner.end_frame()
    }
}

#[cfg(test)]
mod tests;
