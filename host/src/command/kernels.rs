//! Kernels: `scanline kernels` — the preset kernels `edges --kernel` takes, with
//! their matrices, divisors and what each is for.

use std::fmt;

use scanline::preset::Preset;

use crate::kernel::purpose;

/// Arguments of `scanline kernels` (none yet).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {}

/// The presets, in [`Preset::ALL`] order; [`Display`](fmt::Display) gives the
/// listing.
///
/// ```
/// use scanline_host::command::kernels::{Args, execute};
/// let text = execute(&Args {}).to_string();
/// assert!(text.contains("gaussian"));
/// assert!(text.contains("/ 16"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Every preset.
    pub presets: Vec<Preset>,
}

/// Runs `scanline kernels`.
pub fn execute(_args: &Args) -> Report {
    Report {
        presets: Preset::ALL.to_vec(),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.presets.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{}: {}", p.name(), purpose(*p))?;
            let taps = p.taps();
            for (r, row) in taps.chunks(3).enumerate() {
                let cells: Vec<String> = row.iter().map(|t| format!("{t:>4}")).collect();
                let divisor = match (r, p.divisor()) {
                    (1, d) if d != 1 => format!("   / {d}"),
                    _ => String::new(),
                };
                writeln!(f, "   {}{divisor}", cells.join(""))?;
            }
        }
        Ok(())
    }
}
