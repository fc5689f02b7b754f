//! Wait: the bounded wait every camera source uses for a flag that may never
//! come (capture done, a line ready) — poll, sleep, give up with
//! [`Error::Timeout`] after a budget, so a stalled camera costs one dropped
//! frame, never a hang.

use embedded_hal::delay::DelayNs;

use crate::Error;

/// How long to wait and how often to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Give up after this many milliseconds.
    pub timeout_ms: u32,
    /// Sleep this long between two polls (0 counts as 1).
    pub poll_ms: u32,
}

/// Polls `ready` until it says true; sleeps [`Budget::poll_ms`] on `delay`
/// between polls and returns [`Error::Timeout`] once [`Budget::timeout_ms`]
/// have been slept. `ready` is polled at most `timeout_ms / poll_ms + 2` times;
/// its own errors end the wait at once.
///
/// ```
/// use embedded_hal::delay::DelayNs;
/// use scanline_firmware::wait::{until, Budget};
/// use scanline_firmware::Error;
/// struct Slept(u32);
/// impl DelayNs for Slept {
///     fn delay_ns(&mut self, ns: u32) { self.0 += ns / 1_000_000; }
/// }
/// let mut delay = Slept(0);
/// let budget = Budget { timeout_ms: 10, poll_ms: 3 };
/// // A flag that never comes: 12 ms slept (4 polls of 3 ms), then the timeout.
/// assert_eq!(until(&mut delay, budget, || Ok(false)), Err(Error::Timeout { waited_ms: 12 }));
/// assert_eq!(delay.0, 12);
/// let mut polls = 0;
/// assert_eq!(until(&mut delay, budget, || { polls += 1; Ok(polls == 2) }), Ok(()));
/// ```
pub fn until<D, F>(delay: &mut D, budget: Budget, mut ready: F) -> Result<(), Error>
where
    D: DelayNs + ?Sized,
    F: FnMut() -> Result<bool, Error>,
{
    let poll = budget.poll_ms.max(1);
    let mut waited = 0u32;
    while !ready()? {
        if waited >= budget.timeout_ms {
            return Err(Error::Timeout { waited_ms: waited });
        }
        delay.delay_ms(poll);
        waited = waited.saturating_add(poll);
    }
    Ok(())
}
