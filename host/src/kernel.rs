//! Kernel: a square convolution kernel given by preset name or as a matrix on the
//! command line, and its exact-or-nearest int8 form.

use crate::{Error, Result};
use scanline::preset::Preset;

/// Largest custom kernel side.
pub const MAX_SIZE: usize = 11;

/// A square, odd-sized real kernel, row-major.
///
/// # Examples
///
/// ```
/// use scanline_host::kernel::Kernel;
/// let k: Kernel = "laplacian8".parse().unwrap();
/// assert_eq!(k.size(), 3);
/// let k: Kernel = "0,1,0; 1,-4,1; 0,1,0".parse().unwrap();
/// assert_eq!(k.taps()[4], -4.0);
/// assert!("1,2;3".parse::<Kernel>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    name: String,
    size: usize,
    taps: Vec<f32>,
    /// Integer taps and divisor when the kernel is exactly representable in int8.
    exact: Option<(Vec<i8>, u8)>,
}

impl Kernel {
    /// Side length.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Real taps, row-major.
    pub fn taps(&self) -> &[f32] {
        &self.taps
    }

    /// A name for printing: the preset name, or `custom NxN`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The int8 weights and their (per-tensor) scale, `real ≈ q * scale`.
    ///
    /// Presets and integer kernels within ±127 are exact (scale `1/divisor`);
    /// other kernels are quantized as the TFLite converter does: symmetric, scale
    /// `max|w| / 127`, round half away from zero.
    pub fn quantized(&self) -> (Vec<i8>, f32) {
        if let Some((q, d)) = &self.exact {
            return (q.clone(), 1.0 / *d as f32);
        }
        let max = self.taps.iter().fold(0f32, |m, &t| m.max(t.abs()));
        let scale = max / 127.0;
        let q = self
            .taps
            .iter()
            .map(|&t| scanline::quant::round_f32(t / scale).clamp(-127, 127) as i8)
            .collect();
        (q, scale)
    }

    /// True if [`Kernel::quantized`] represents the kernel exactly.
    pub fn is_exact(&self) -> bool {
        self.exact.is_some()
    }

    fn from_preset(p: Preset) -> Self {
        Self {
            name: p.name().to_string(),
            size: 3,
            taps: p.real().to_vec(),
            exact: Some((p.taps().to_vec(), p.divisor())),
        }
    }

    fn from_matrix(s: &str) -> Result<Self> {
        let mut taps = Vec::new();
        let mut size = 0;
        let rows: Vec<&str> = s.split(';').collect();
        for (r, row) in rows.iter().enumerate() {
            let cells: Vec<&str> = row
                .split([',', ' ', '\t'])
                .filter(|c| !c.trim().is_empty())
                .collect();
            if cells.is_empty() {
                return Err(Error::Kernel(format!("row {} is empty", r + 1)));
            }
            if r == 0 {
                size = cells.len();
            } else if cells.len() != size {
                return Err(Error::Kernel(format!(
                    "row {} has {} values but row 1 has {size}: the kernel must be square",
                    r + 1,
                    cells.len()
                )));
            }
            for c in cells {
                let v: f32 = c.trim().parse().map_err(|_| {
                    Error::Kernel(format!("'{}' in row {} is not a number", c.trim(), r + 1))
                })?;
                if !v.is_finite() {
                    return Err(Error::Kernel(format!(
                        "'{}' in row {} is not finite",
                        c.trim(),
                        r + 1
                    )));
                }
                taps.push(v);
            }
        }
        if rows.len() != size {
            return Err(Error::Kernel(format!(
                "{} rows of {size} values: the kernel must be square",
                rows.len()
            )));
        }
        if size % 2 == 0 || size > MAX_SIZE {
            return Err(Error::Kernel(format!(
                "a {size}x{size} kernel is not supported: the size must be odd, from 1 to {MAX_SIZE}"
            )));
        }
        if taps.iter().all(|&t| t == 0.0) {
            return Err(Error::Kernel(
                "every tap is zero: the kernel responds to nothing".into(),
            ));
        }
        let exact = taps
            .iter()
            .all(|&t| t.fract() == 0.0 && t.abs() <= 127.0)
            .then(|| (taps.iter().map(|&t| t as i8).collect(), 1));
        Ok(Self {
            name: format!("custom {size}x{size}"),
            size,
            taps,
            exact,
        })
    }
}

impl std::str::FromStr for Kernel {
    type Err = Error;

    /// A preset name (see [`Preset`]) or rows separated by `;`, values by `,`.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.is_empty() {
            return Err(Error::Kernel("empty kernel".into()));
        }
        if let Some(p) = Preset::from_name(t) {
            return Ok(Self::from_preset(p));
        }
        if t.chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
            && !t.contains([',', ';'])
        {
            let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
            return Err(Error::Kernel(format!(
                "unknown kernel '{t}'; presets: {}; or give rows like \"-1,-1,-1;-1,8,-1;-1,-1,-1\"",
                names.join(", ")
            )));
        }
        Self::from_matrix(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        s.parse::<Kernel>().unwrap_err().to_string()
    }

    #[test]
    fn presets_are_exact() {
        for p in Preset::ALL {
            let k: Kernel = p.name().parse().unwrap();
            let (q, scale) = k.quantized();
            for (qi, t) in q.iter().zip(k.taps()) {
                assert_eq!(*qi as f32 * scale, *t, "{}", p.name());
            }
        }
    }

    #[test]
    fn matrices_parse() {
        let k: Kernel = "-1,-1,-1;-1,8,-1;-1,-1,-1".parse().unwrap();
        assert!(k.is_exact());
        assert_eq!(k.size(), 3);
        let k: Kernel = "0.5".parse().unwrap();
        assert_eq!(k.size(), 1);
        assert!(!k.is_exact());
        let (q, s) = k.quantized();
        assert_eq!(q, vec![127]);
        assert!((s - 0.5 / 127.0).abs() < 1e-9);
        let k: Kernel = "1 2 3; 4 5 6; 7 8 9".parse().unwrap();
        assert_eq!(k.taps()[5], 6.0);
    }

    #[test]
    fn bad_kernels_say_why() {
        assert!(err("1,2;3,4").contains("must be odd"));
        assert!(err("1,2,3;4,5").contains("row 2 has 2 values"));
        assert!(err("1,2,3;;7,8,9").contains("row 2 is empty"));
        assert!(err("1,x,3;4,5,6;7,8,9").contains("'x' in row 1 is not a number"));
        assert!(err("1,2,3;4,5,6").contains("must be square"));
        assert!(err("sobel").contains("unknown kernel 'sobel'"));
        assert!(err("").contains("empty"));
        assert!(err("0,0,0;0,0,0;0,0,0").contains("zero"));
        let big = vec!["1"; 13].join(",");
        let big = vec![big.as_str(); 13].join(";");
        assert!(err(&big).contains("13x13"));
        assert!(err("1,nan,1;1,1,1;1,1,1").contains("not finite"));
    }
}
