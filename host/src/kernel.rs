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
        let hint = closest(t).map_or(String::new(), |p| format!("; did you mean '{}'?", p.name()));
        return Err(Error::Kernel(format!(
            "unknown kernel '{t}'{hint} (presets: {}; `scanline kernels` shows them; \
             or give rows like \"-1,-1,-1;-1,8,-1;-1,-1,-1\")",
            names.join(", ")
        )));
    }
    matrix(t)
}

/// The preset whose name is closest to `name`, if one is close enough to be what
/// was meant: the highest Jaro-Winkler similarity (case-insensitive; it favours
/// a shared beginning) if at least 0.8, else a preset name that contains `name`
/// or is contained in it (`blur` → `box-blur`). Ties go to the first preset in
/// [`Preset::ALL`].
///
/// ```
/// use scanline::preset::Preset;
/// use scanline_host::kernel::closest;
/// assert_eq!(closest("sobl"), Some(Preset::SobelX));
/// assert_eq!(closest("sobely"), Some(Preset::SobelY));
/// assert_eq!(closest("laplace"), Some(Preset::Laplacian8));
/// assert_eq!(closest("Gausian"), Some(Preset::Gaussian));
/// assert_eq!(closest("blur"), Some(Preset::BoxBlur));
/// assert_eq!(closest("canny"), None);
/// ```
pub fn closest(name: &str) -> Option<Preset> {
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    let mut best: Option<(f64, Preset)> = None;
    for p in Preset::ALL {
        let score = strsim::jaro_winkler(&name, p.name());
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, p));
        }
    }
    match best {
        Some((score, p)) if score >= 0.8 => Some(p),
        _ => Preset::ALL
            .into_iter()
            .find(|p| name.len() >= 3 && (p.name().contains(&name) || name.contains(p.name()))),
    }
}

/// What a preset is for, in a few words (what `scanline kernels` prints).
///
/// ```
/// use scanline::preset::Preset;
/// assert!(scanline_host::kernel::purpose(Preset::SobelX).contains("vertical edges"));
/// ```
pub const fn purpose(p: Preset) -> &'static str {
    match p {
        Preset::Laplacian8 => {
            "edges in every direction, diagonals included (second derivative); the walkthrough's kernel"
        }
        Preset::Laplacian4 => "edges in every direction, without the diagonals (second derivative)",
        Preset::SobelX => "vertical edges: the horizontal gradient, smoothed along the edge",
        Preset::SobelY => "horizontal edges: the vertical gradient, smoothed along the edge",
        Preset::ScharrX => "vertical edges, with a gradient more even over all angles than Sobel's",
        Preset::ScharrY => {
            "horizontal edges, with a gradient more even over all angles than Sobel's"
        }
        Preset::PrewittX => "vertical edges: the horizontal gradient, unweighted",
        Preset::PrewittY => "horizontal edges: the vertical gradient, unweighted",
        Preset::Sharpen => "sharpening: the picture plus its edges (identity minus laplacian4)",
        Preset::BoxBlur => "blur: the mean of the 3x3 neighbourhood",
        Preset::Gaussian => "blur weighted towards the centre (binomial 1-2-1, a small Gaussian)",
        Preset::Emboss => "relief: edges lit from the top left, flat areas kept",
        Preset::Outline => "the same kernel as laplacian8, by the name image-kernel galleries use",
    }
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
        assert!(err("sobel").contains("unknown kernel 'sobel'; did you mean 'sobel-x'?"));
        assert!(err("emboos").contains("did you mean 'emboss'?"));
        assert!(!err("zzzzzz").contains("did you mean"));
        assert!(err("").contains("empty"));
        assert!(err("0,0,0;0,0,0;0,0,0").contains("zero"));
        let big = vec!["1"; 13].join(",");
        let big = vec![big.as_str(); 13].join(";");
        assert!(err(&big).contains("13x13"));
        assert!(err("1,nan,1;1,1,1;1,1,1").contains("not finite"));
    }
}
