//! Verify: reads the capture log a firmware run prints (defmt decoded to text,
//! as probe-rs or `cargo xtask qemu` shows it) and checks every captured frame
//! against the host: recompute the frame from its logged input lines with the
//! core, then compare row by row (frames whose output rows were dumped) or by
//! digest (frames with input lines and a digest only).
//!
//! The log grammar is the firmware's (`scanline-firmware`'s `capture` module):
//! every line of interest contains `scanline ` and then space-separated
//! `key=value` fields; byte payloads are defmt's hex lists `[0a, ff, ...]`.
//! Whatever precedes `scanline ` on a line (timestamps, levels) is ignored.
//!
//! ```text
//! scanline model=edges/3/2 input=6x8x3 output=3x4x1 format=rgb565be gray=integer-luma arena=120
//! scanline frame=0 line=0 [0a, ff, ...]
//! scanline frame=0 row=0 [80, 80, 81, 80]
//! scanline frame=0 ok digest=1a2b3c4d rows=3
//! scanline frame=1 dropped fault=timeout error=camera timeout: no capture-done after 500 ms
//! ```
//!
//! A `model=` line starts a new capture (frame numbers restart with it).

use std::collections::BTreeMap;

use scanline::digest::fnv1a32;
use scanline::pixel::{ByteOrder, GrayRule, LineConverter, PixelFormat};
use scanline::{Model, Shape};

use crate::{Error, Result};

/// The `model=` line of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The model: `edges/C/P` (built in) or the path the firmware was given.
    pub model: String,
    /// The model's input shape.
    pub input: Shape,
    /// The model's output shape.
    pub output: Shape,
    /// What the input lines hold: a pixel format name, or `int8`.
    pub format: String,
    /// The colour-to-gray rule (`integer-luma`, `tensorflow`, `none`).
    pub gray: String,
}

/// How a frame ended, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The frame went through.
    Ok {
        /// FNV-1a 32 of its output bytes.
        digest: u32,
        /// Output rows.
        rows: usize,
    },
    /// The firmware dropped the frame.
    Dropped {
        /// The fault kind.
        fault: String,
        /// The error message.
        error: String,
    },
}

/// One frame of a capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// The frame number.
    pub number: u32,
    /// Input lines that were logged, by line number.
    pub lines: BTreeMap<usize, Vec<u8>>,
    /// Output rows that were logged, by row number (int8 as bytes).
    pub rows: BTreeMap<usize, Vec<u8>>,
    /// How it ended (`None` if the log stops before).
    pub outcome: Option<Outcome>,
    /// Other `key=value` fields logged for the frame (instructions, cycles, ...).
    pub measures: BTreeMap<String, String>,
}

/// One capture: a model line and the frames after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The model line.
    pub header: Header,
    /// The frames, in order of first appearance.
    pub frames: Vec<Frame>,
}

/// The result of checking one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every logged output row (or the digest) equals the host's.
    Match,
    /// The first output value that differs.
    Differs {
        /// Output row.
        row: usize,
        /// Column.
        column: usize,
        /// Channel.
        channel: usize,
        /// The firmware's value.
        firmware: i8,
        /// The host's value.
        host: i8,
    },
    /// No output rows were logged, and the digest differs from the host's.
    DigestDiffers {
        /// The firmware's digest.
        firmware: u32,
        /// The host's.
        host: u32,
    },
    /// The firmware dropped the frame.
    Dropped {
        /// Its fault kind and message.
        reason: String,
    },
    /// The frame cannot be checked: what is missing.
    Unchecked {
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Match => f.write_str("match"),
            Verdict::Differs {
                row,
                column,
                channel,
                firmware,
                host,
            } => write!(
                f,
                "differs first at row {row}, column {column}, channel {channel}: firmware {firmware}, host {host}"
            ),
            Verdict::DigestDiffers { firmware, host } => {
                write!(
                    f,
                    "digest differs: firmware {firmware:08x}, host {host:08x}"
                )
            }
            Verdict::Dropped { reason } => write!(f, "dropped by the firmware: {reason}"),
            Verdict::Unchecked { reason } => write!(f, "not checked: {reason}"),
        }
    }
}

/// One parsed `scanline ...` line.
#[derive(Debug, Default)]
struct Fields<'a> {
    fields: Vec<(&'a str, &'a str)>,
    words: Vec<&'a str>,
    bytes: Option<Vec<u8>>,
    /// The text after `error=`, which may contain spaces.
    error: Option<&'a str>,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

fn bad(number: usize, message: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("capture log line {number}: {message}"))
}

/// Parses a hex list `[0a, ff]` (defmt's `{=[u8]:02x}`).
fn hex_list(text: &str) -> std::result::Result<Vec<u8>, String> {
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| format!("a byte list must be [..], found `{text}`"))?;
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|b| {
            let b = b.trim();
            let b = b.strip_prefix("0x").unwrap_or(b);
            u8::from_str_radix(b, 16).map_err(|_| format!("`{b}` is not a hex byte"))
        })
        .collect()
}

fn split(rest: &str, number: usize) -> Result<Fields<'_>> {
    let mut out = Fields::default();
    let (rest, list) = match rest.find('[') {
        Some(i) if rest.contains("line=") || rest.contains("row=") => {
            (&rest[..i], Some(&rest[i..]))
        }
        _ => (rest, None),
    };
    let (rest, error) = match rest.find("error=") {
        Some(i) => (&rest[..i], Some(rest[i + "error=".len()..].trim())),
        None => (rest, None),
    };
    out.error = error;
    for word in rest.split_whitespace() {
        match word.split_once('=') {
            Some((k, v)) => out.fields.push((k, v)),
            None => out.words.push(word),
        }
    }
    if let Some(list) = list {
        let end = list.rfind(']').map_or(list.len(), |i| i + 1);
        out.bytes = Some(hex_list(&list[..end]).map_err(|e| bad(number, e))?);
    }
    Ok(out)
}

fn shape(text: &str, number: usize) -> Result<Shape> {
    let dims: Vec<usize> = text
        .split('x')
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad(number, format!("`{text}` is not a HxWxC shape")))?;
    match dims[..] {
        [h, w, c] => Ok(Shape::new(h, w, c)),
        _ => Err(bad(number, format!("`{text}` is not a HxWxC shape"))),
    }
}

fn number<T: std::str::FromStr>(f: &Fields<'_>, key: &str, line: usize) -> Result<T> {
    let v = f
        .get(key)
        .ok_or_else(|| bad(line, format!("no `{key}=` field")))?;
    v.parse()
        .map_err(|_| bad(line, format!("`{key}={v}` is not a number")))
}

/// Parses every capture in a log. Lines without `scanline ` are skipped; a
/// malformed `scanline` line is an error naming its line number.
pub fn parse(text: &str) -> Result<Vec<Capture>> {
    let mut captures: Vec<Capture> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let Some(at) = raw.find("scanline ") else {
            continue;
        };
        let f = split(&raw[at + "scanline ".len()..], n)?;
        if let Some(model) = f.get("model") {
            let header = Header {
                model: model.to_owned(),
                input: shape(f.get("input").unwrap_or(""), n)?,
                output: shape(f.get("output").unwrap_or(""), n)?,
                format: f.get("format").unwrap_or("int8").to_owned(),
                gray: f.get("gray").unwrap_or("none").to_owned(),
            };
            captures.push(Capture {
                header,
                frames: Vec::new(),
            });
            continue;
        }
        let Some(frame_no) = f.get("frame") else {
            continue; // machine and job lines
        };
        let frame_no: u32 = frame_no
            .parse()
            .map_err(|_| bad(n, format!("`frame={frame_no}` is not a number")))?;
        let Some(capture) = captures.last_mut() else {
            return Err(bad(n, "a frame line before any `scanline model=` line"));
        };
        let at = match capture.frames.iter().position(|fr| fr.number == frame_no) {
            Some(p) => p,
            None => {
                capture.frames.push(Frame {
                    number: frame_no,
                    ..Frame::default()
                });
                capture.frames.len() - 1
            }
        };
        let frame = &mut capture.frames[at];
        if f.get("line").is_some() || f.get("row").is_some() {
            let bytes = f
                .bytes
                .clone()
                .ok_or_else(|| bad(n, "a line or row without its [..] bytes"))?;
            if f.get("line").is_some() {
                frame.lines.insert(number(&f, "line", n)?, bytes);
            } else {
                frame.rows.insert(number(&f, "row", n)?, bytes);
            }
        } else if f.words.contains(&"ok") {
            let digest = f
                .get("digest")
                .ok_or_else(|| bad(n, "no `digest=` field"))?;
            let digest = u32::from_str_radix(digest.trim_start_matches("0x"), 16)
                .map_err(|_| bad(n, format!("`digest={digest}` is not hex")))?;
            frame.outcome = Some(Outcome::Ok {
                digest,
                rows: number(&f, "rows", n)?,
            });
        } else if f.words.contains(&"dropped") {
            frame.outcome = Some(Outcome::Dropped {
                fault: f.get("fault").unwrap_or("unknown").to_owned(),
                error: f.error.unwrap_or("").to_owned(),
            });
        } else {
            for (k, v) in &f.fields {
                if *k != "frame" {
                    frame.measures.insert((*k).to_owned(), (*v).to_owned());
                }
            }
        }
    }
    Ok(captures)
}

/// The pixel format of a capture's `format=` name (`None` for `int8`).
///
/// # Errors
///
/// [`Error::Invalid`] for an unknown name.
pub fn pixel_format(name: &str) -> Result<Option<PixelFormat>> {
    Ok(Some(match name {
        "int8" => return Ok(None),
        "gray8" => PixelFormat::Gray8,
        "rgb565be" => PixelFormat::Rgb565(ByteOrder::Big),
        "rgb565le" => PixelFormat::Rgb565(ByteOrder::Little),
        "rgb888" => PixelFormat::Rgb888,
        "yuyv" => PixelFormat::Yuyv,
        other => {
            return Err(Error::Invalid(format!(
                "capture: unknown pixel format `{other}` (gray8, rgb565be, rgb565le, rgb888, yuyv, int8)"
            )));
        }
    }))
}

/// The int8 input rows the firmware computed from a frame's lines, by the same
/// core conversion; `None` if a line is missing.
///
/// # Errors
///
/// [`Error::Invalid`] if the capture's format or gray rule is unknown, or a line
/// has the wrong length; the core's errors for a format the model cannot take.
pub fn input_of(header: &Header, frame: &Frame, model: &Model<'_>) -> Result<Option<Vec<i8>>> {
    let shape = model.input_shape();
    let gray = match header.gray.as_str() {
        "tensorflow" => GrayRule::TensorFlow,
        "integer-luma" | "none" => GrayRule::IntegerLuma,
        other => {
            return Err(Error::Invalid(format!(
                "capture: unknown gray rule `{other}`"
            )));
        }
    };
    let converter = pixel_format(&header.format)?
        .map(|f| LineConverter::for_model(f, model).map(|c| c.with_gray(gray)))
        .transpose()?;
    // Every line must be there before the input is allocated: its size comes
    // from the log's header, which may claim any shape.
    if (0..shape.height).any(|y| !frame.lines.contains_key(&y)) {
        return Ok(None);
    }
    let mut input = vec![0i8; shape.len()];
    for (y, row) in input.chunks_mut(shape.row_len()).enumerate() {
        let Some(line) = frame.lines.get(&y) else {
            return Ok(None);
        };
        match &converter {
            Some(c) => c.convert(line, row).map_err(|e| {
                Error::Invalid(format!("capture frame {}: line {y}: {e}", frame.number))
            })?,
            None => {
                if line.len() != row.len() {
                    return Err(Error::Invalid(format!(
                        "capture frame {}: line {y} has {} bytes, the model's row {}",
                        frame.number,
                        line.len(),
                        row.len()
                    )));
                }
                row.iter_mut().zip(line).for_each(|(r, &b)| *r = b as i8);
            }
        }
    }
    Ok(Some(input))
}

/// Checks one frame of `capture` against `model` run by the core's frame engine.
///
/// # Errors
///
/// As [`input_of`]; the core's errors if the model does not run.
pub fn check_frame(capture: &Capture, frame: &Frame, model: &Model<'_>) -> Result<Verdict> {
    if model.input_shape() != capture.header.input || model.output_shape() != capture.header.output
    {
        return Err(Error::Invalid(format!(
            "capture: the log's model takes {} and gives {}; the model given takes {} and gives {}",
            capture.header.input,
            capture.header.output,
            model.input_shape(),
            model.output_shape()
        )));
    }
    let digest = match &frame.outcome {
        None => {
            return Ok(Verdict::Unchecked {
                reason: "the log ends before the frame's result".into(),
            });
        }
        Some(Outcome::Dropped { fault, error }) => {
            return Ok(Verdict::Dropped {
                reason: format!("{fault}: {error}"),
            });
        }
        Some(Outcome::Ok { digest, .. }) => *digest,
    };
    let Some(input) = input_of(&capture.header, frame, model)? else {
        return Ok(Verdict::Unchecked {
            reason: "its input lines were not logged (dump mode off)".into(),
        });
    };
    let mut output = vec![0i8; model.output_shape().len()];
    let mut scratch = vec![0i8; model.frame_scratch_len()];
    scanline::frame::run(model, &input, &mut output, &mut scratch)?;
    let out = model.output_shape();
    if !frame.rows.is_empty() {
        for (y, host_row) in output.chunks(out.row_len()).enumerate() {
            let Some(fw_row) = frame.rows.get(&y) else {
                return Ok(Verdict::Unchecked {
                    reason: format!("output row {y} was not logged"),
                });
            };
            if fw_row.len() != host_row.len() {
                return Ok(Verdict::Unchecked {
                    reason: format!(
                        "output row {y} has {} values, not {}",
                        fw_row.len(),
                        host_row.len()
                    ),
                });
            }
            if let Some(i) = fw_row
                .iter()
                .zip(host_row)
                .position(|(&a, &b)| a as i8 != b)
            {
                return Ok(Verdict::Differs {
                    row: y,
                    column: i / out.channels,
                    channel: i % out.channels,
                    firmware: fw_row[i] as i8,
                    host: host_row[i],
                });
            }
        }
    }
    let host = fnv1a32(&output.iter().map(|&v| v as u8).collect::<Vec<u8>>());
    if host != digest {
        return Ok(Verdict::DigestDiffers {
            firmware: digest,
            host,
        });
    }
    Ok(Verdict::Match)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scanline::edges::EdgeModel;
    use scanline::kernel::Kernel;
    use scanline::preset::Preset;

    /// The gray edge model (laplacian8, ReLU, no pool) on a 3x4 frame.
    fn with_model<T>(f: impl FnOnce(&Model<'_>) -> T) -> T {
        let edges = EdgeModel::new(Kernel::preset(Preset::Laplacian8), 1, None).unwrap();
        let model = edges.model(3, 4).unwrap();
        f(&model)
    }

    fn hex(bytes: &[u8]) -> String {
        let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("[{}]", parts.join(", "))
    }

    /// A log as the firmware would print it for `lines` (gray8 pixels), with
    /// output rows when `rows`, and the digest the host computes.
    fn log(
        model: &Model<'_>,
        lines: &[[u8; 4]],
        rows: bool,
        tamper: Option<(usize, usize)>,
    ) -> String {
        let mut input = Vec::new();
        for l in lines {
            input.extend(l.iter().map(|&p| (p as i32 - 128) as i8));
        }
        let mut out = vec![0i8; 12];
        let mut scratch = vec![0i8; model.frame_scratch_len()];
        scanline::frame::run(model, &input, &mut out, &mut scratch).unwrap();
        if let Some((y, x)) = tamper {
            out[y * 4 + x] = out[y * 4 + x].wrapping_add(1);
        }
        let mut text = String::from(
            "0.000 INFO scanline machine=qemu statics=10\n\
             INFO  scanline model=edges/1/0 input=3x4x1 output=3x4x1 format=gray8 gray=integer-luma arena=20\n",
        );
        for (y, l) in lines.iter().enumerate() {
            text += &format!("INFO scanline frame=0 line={y} {}\n", hex(l));
        }
        if rows {
            for (y, r) in out.chunks(4).enumerate() {
                let b: Vec<u8> = r.iter().map(|&v| v as u8).collect();
                text += &format!("scanline frame=0 row={y} {}\n", hex(&b));
            }
        }
        let digest = fnv1a32(&out.iter().map(|&v| v as u8).collect::<Vec<u8>>());
        text += &format!("scanline frame=0 ok digest={digest:08x} rows=3\n");
        text += "scanline frame=0 instructions=1234 worst_push_row=99\n";
        text += "WARN scanline frame=1 dropped fault=timeout error=camera timeout: no capture-done after 500 ms\n";
        text
    }

    const LINES: [[u8; 4]; 3] = [[10, 200, 30, 40], [0, 255, 0, 255], [128, 128, 90, 7]];

    #[test]
    fn a_faithful_log_matches() {
        with_model(|model| {
            for rows in [false, true] {
                let captures = parse(&log(model, &LINES, rows, None)).unwrap();
                assert_eq!(captures.len(), 1);
                let c = &captures[0];
                assert_eq!(c.header.input, Shape::new(3, 4, 1));
                assert_eq!(c.frames.len(), 2);
                assert_eq!(c.frames[0].measures["instructions"], "1234");
                assert_eq!(check_frame(c, &c.frames[0], model).unwrap(), Verdict::Match);
                assert_eq!(
                    check_frame(c, &c.frames[1], model).unwrap().to_string(),
                    "dropped by the firmware: timeout: camera timeout: no capture-done after 500 ms"
                );
            }
        });
    }

    #[test]
    fn a_wrong_value_is_located() {
        with_model(|model| {
            let captures = parse(&log(model, &LINES, true, Some((2, 3)))).unwrap();
            let c = &captures[0];
            match check_frame(c, &c.frames[0], model).unwrap() {
                Verdict::Differs {
                    row,
                    column,
                    channel,
                    ..
                } => assert_eq!((row, column, channel), (2, 3, 0)),
                other => panic!("{other:?}"),
            }
            // Without rows, the digest tells.
            let captures = parse(&log(model, &LINES, false, Some((0, 0)))).unwrap();
            let c = &captures[0];
            assert!(matches!(
                check_frame(c, &c.frames[0], model).unwrap(),
                Verdict::DigestDiffers { .. }
            ));
        });
    }

    #[test]
    fn missing_lines_and_bad_lines_are_reported() {
        with_model(|model| {
            let text = log(model, &LINES, false, None).replace("frame=0 line=1", "frame=9 line=1");
            let captures = parse(&text).unwrap();
            let c = &captures[0];
            assert!(matches!(
                check_frame(c, &c.frames[0], model).unwrap(),
                Verdict::Unchecked { .. }
            ));
        });
        let err = parse("scanline model=x input=3x4 output=1x1x1\n").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = parse("scanline frame=0 ok digest=1 rows=1\n").unwrap_err();
        assert!(err.to_string().contains("before any"), "{err}");
        let err =
            parse("scanline model=x input=1x1x1 output=1x1x1\nscanline frame=0 line=0 [zz]\n")
                .unwrap_err();
        assert!(
            err.to_string().contains("line 2") && err.to_string().contains("zz"),
            "{err}"
        );
    }

    #[test]
    fn hex_lists() {
        assert_eq!(hex_list("[0a, ff, 00]").unwrap(), [10, 255, 0]);
        assert_eq!(hex_list("[]").unwrap(), Vec::<u8>::new());
        assert_eq!(hex_list("[0x1f]").unwrap(), [31]);
        assert!(hex_list("0a, ff").is_err());
    }
}
