//! Kernel: reading an image kernel from the command line — a preset name, or
//! rows of numbers — into the core's [`Kernel`] (which owns its int8 form).

use crate::{Error, Result};
use scanline::kernel::{Kernel, MAX_SIZE};
use scanline::preset::Preset;

/// Parses a preset name (case-insensitive, see [`Preset`]) or rows separated by
/// `;`, values by `,` or spaces, into a kernel.
///
/// # Examples
///
/// ```
/// use scanline_host::kernel::parse;
/// let k = parse("laplacian8").unwrap();
/// assert_eq!(k.size(), 3);
/// let k = parse("0,1,0; 1,-4,1; 0,1,0").unwrap();
/// assert_eq!(k.taps()[4], -4.0);
/// assert!(parse("1,2;3").is_err());
/// ```
pub fn parse(s: &str) -> Result<Kernel> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Error::Kernel("empty kernel".into()));
    }
    if let Some(p) = Preset::from_name(t) {
        return Ok(Kernel::preset(p));
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
    matrix(t)
}

/// A name for printing: the preset name, or `custom NxN`.
///
/// ```
/// use scanline_host::kernel::{name, parse};
/// assert_eq!(name(&parse("sobel-x").unwrap()), "sobel-x");
/// assert_eq!(name(&parse("1").unwrap()), "custom 1x1");
/// ```
pub fn name(k: &Kernel) -> String {
    match k.preset_of() {
        Some(p) => p.name().to_string(),
        None => format!("custom {0}x{0}", k.size()),
    }
}

fn matrix(s: &str) -> Result<Kernel> {
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
    if size.is_multiple_of(2) || size > MAX_SIZE {
        return Err(Error::Kernel(format!(
            "a {size}x{size} kernel is not supported: the size must be odd, from 1 to {MAX_SIZE}"
        )));
    }
    // The core's checks (every tap zero) give the remaining errors.
    Ok(Kernel::new(size, &taps)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse(s).unwrap_err().to_string()
    }

    #[test]
    fn matrices_parse() {
        let k = parse("-1,-1,-1;-1,8,-1;-1,-1,-1").unwrap();
        assert!(k.is_exact());
        assert_eq!(k.size(), 3);
        let k = parse("0.5").unwrap();
        assert_eq!(k.size(), 1);
        assert!(!k.is_exact());
        let k = parse("1 2 3; 4 5 6; 7 8 9").unwrap();
        assert_eq!(k.taps()[5], 6.0);
        assert_eq!(parse("SOBEL-Y").unwrap().preset_of(), Some(Preset::SobelY));
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
