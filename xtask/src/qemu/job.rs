//! Job: one firmware job — the model it runs and its input as a recording —
//! prepared on the host, with the host's answer to compare with.

use std::path::{Path, PathBuf};

use scanline::pixel::{GrayRule, LineConverter, PixelFormat};
use scanline::{Model, Quant, Shape};
use scanline_firmware::inject::Plan;
use scanline_firmware::job::{Dump, Job, ModelSpec};
use scanline_firmware::recording::{self, Header, Kind};
use scanline_host::verify::{Capture, Outcome};

use super::*;

/// Which model a job runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelChoice {
    /// A `.tflite` file.
    File(PathBuf),
    /// A `.tflite` file planned for the input's height and width.
    Fit(PathBuf),
    /// The built-in edge model over the input's channels, with a pool.
    Edges {
        /// Pool size (0: none).
        pool: u8,
    },
}

/// A job ready to run: the recording's bytes and the host's expected output.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What runs.
    pub(super) spec: String,
    /// Header and lines of the recording.
    pub(super) recording: Vec<u8>,
    pub(super) header: Header,
    /// Output shape of one frame.
    pub(super) output: Shape,
    /// Output quantization, and whether the model ends with DEQUANTIZE.
    pub(super) quant: Quant,
    pub(super) float: bool,
    /// The host frame engine's output for every frame, back to back.
    pub(super) expected: Vec<i8>,
}

impl Prepared {
    /// Writes the recording into `dir` and returns the job line for it; job
    /// `index` writes `output-<index>.bin`.
    pub fn job(&self, dir: &Path, index: usize, dump: Dump) -> Result<String, String> {
        self.job_with_faults(dir, index, dump, Plan::None)
    }

    /// [`Prepared::job`] with camera faults injected by `faults`.
    pub fn job_with_faults(
        &self,
        dir: &Path,
        index: usize,
        dump: Dump,
        faults: Plan<'_>,
    ) -> Result<String, String> {
        let input = dir.join(format!("input-{index}.frames"));
        std::fs::write(&input, &self.recording).map_err(|e| format!("{}: {e}", input.display()))?;
        let output = dir.join(format!("output-{index}.bin"));
        let (input, output) = (path_str(&input)?, path_str(&output)?);
        let model = ModelSpec::parse(&self.spec).map_err(|e| e.to_string())?;
        Ok(Job {
            model,
            input: &input,
            output: &output,
            dump,
            faults,
        }
        .to_string())
    }

    /// The host frame engine's output (all frames).
    pub fn expected(&self) -> &[i8] {
        &self.expected
    }

    /// Checks the firmware's output bytes and its capture against the host:
    /// byte for byte, and every logged digest.
    pub fn check(&self, output: &[u8], capture: Option<&Capture>) -> Result<(), String> {
        let capture = capture.ok_or("the firmware logged no model line (see the log above)")?;
        let frame_len = self.output.len();
        for f in 0..self.header.frames {
            let frame = capture.frames.iter().find(|fr| fr.number == f as u32);
            match frame.and_then(|fr| fr.outcome.as_ref()) {
                Some(Outcome::Ok { digest, .. }) => {
                    let want = &self.expected[f * frame_len..][..frame_len];
                    let host = digest_of(want);
                    if *digest != host {
                        return Err(format!(
                            "frame {f}: firmware digest {digest:08x}, host {host:08x}"
                        ));
                    }
                }
                Some(Outcome::Dropped { fault, error }) => {
                    return Err(format!(
                        "frame {f}: dropped by the firmware ({fault}): {error}"
                    ));
                }
                None => return Err(format!("frame {f}: no result in the log")),
            }
        }
        if output.len() != self.expected.len() {
            return Err(format!(
                "the output holds {} values, the host's {}",
                output.len(),
                self.expected.len()
            ));
        }
        if let Some(i) = output
            .iter()
            .zip(&self.expected)
            .position(|(&a, &b)| a as i8 != b)
        {
            let (f, rest) = (i / frame_len, i % frame_len);
            let row = self.output.row_len();
            return Err(format!(
                "frame {f}, row {}, column {}, channel {}: firmware {}, host {}",
                rest / row,
                rest % row / self.output.channels,
                rest % self.output.channels,
                output[i] as i8,
                self.expected[i]
            ));
        }
        Ok(())
    }

    /// Writes the firmware's output as `scanline run` would (one frame), or as
    /// an int8 `[N, H, W, C]` array (several frames).
    pub fn save(&self, output: &[u8], path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let values: Vec<i8> = output.iter().map(|&b| b as i8).collect();
        if self.header.frames == 1 {
            let t = host::HostTensor::new(self.output, values).map_err(|e| e.to_string())?;
            host::save(t, self.quant, self.float, path)
        } else {
            host::save_frames(path, self.header.frames, self.output, &values)
        }
    }
}

/// FNV-1a 32 of int8 values (the firmware's digest).
pub(super) fn digest_of(v: &[i8]) -> u32 {
    let mut d = scanline::digest::Fnv1a32::new();
    d.update(v);
    d.value()
}

pub(super) fn path_str(p: &Path) -> Result<String, String> {
    let s = p
        .to_str()
        .ok_or_else(|| format!("{}: not UTF-8", p.display()))?;
    if s.contains(['\t', '\n']) {
        return Err(format!("{s}: a path with a tab or newline"));
    }
    Ok(s.to_owned())
}

/// The rows of a recording's frames as int8 input tensors, by the core's
/// conversion (what the firmware computes from the same lines).
pub(super) fn rows_of(
    model: &Model<'_>,
    header: &Header,
    lines: &[u8],
) -> Result<Vec<host::HostTensor<i8>>, String> {
    let shape = model.input_shape();
    let converter = match header.kind {
        Kind::Int8 { .. } => None,
        Kind::Pixels { format, gray } => Some(
            LineConverter::for_model(format, model)
                .map_err(|e| e.to_string())?
                .with_gray(gray),
        ),
    };
    let line_len = header.line_len();
    let mut frames = Vec::new();
    for frame in lines.chunks(header.frame_len()) {
        let mut data = vec![0i8; shape.len()];
        for (row, line) in data.chunks_mut(shape.row_len()).zip(frame.chunks(line_len)) {
            match &converter {
                Some(c) => c.convert(line, row).map_err(|e| e.to_string())?,
                None => row.iter_mut().zip(line).for_each(|(r, &b)| *r = b as i8),
            }
        }
        frames.push(host::HostTensor::new(shape, data).map_err(|e| e.to_string())?);
    }
    Ok(frames)
}

/// Prepares a job: reads the model and the input, makes the recording and
/// computes the host's answer.
pub fn prepare(
    model: &ModelChoice,
    input: &Path,
    raw: Option<(PixelFormat, usize)>,
) -> Result<Prepared, String> {
    let is_npy = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    match model {
        ModelChoice::File(path) | ModelChoice::Fit(path) => {
            let fit = matches!(model, ModelChoice::Fit(_));
            let net = host::load(path)?;
            let import = net.import().map_err(|e| e.to_string())?;
            let planned;
            let mut m = import.model();
            let s = m.input_shape();
            let (header, lines) = if let Some((format, width)) = raw {
                raw_recording(input, format, width, (!fit).then_some(s.height))?
            } else if is_npy {
                let t = host::npy_input(&net, input)?;
                int8_recording(&t)
            } else {
                image_recording(input)?
            };
            if fit {
                planned = Model::new(
                    Shape::new(header.height, header.width, s.channels),
                    m.input_quant(),
                    m.layers(),
                    m.rounding(),
                )
                .map_err(|e| {
                    format!(
                        "{} planned for {}x{}: {e}",
                        path.display(),
                        header.height,
                        header.width
                    )
                })?;
                m = &planned;
            }
            if (header.height, header.width) != (m.input_shape().height, m.input_shape().width) {
                return Err(format!(
                    "{}: {}x{} (HxW), the model takes {}x{}",
                    input.display(),
                    header.height,
                    header.width,
                    s.height,
                    s.width
                ));
            }
            let absolute =
                std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let spec = if fit {
                format!("fit:{}", path_str(&absolute)?)
            } else {
                path_str(&absolute)?
            };
            finish(spec, m, import.float_output().is_some(), header, lines)
        }
        ModelChoice::Edges { pool } => {
            let (header, lines) = if let Some((format, width)) = raw {
                raw_recording(input, format, width, None)?
            } else if is_npy {
                int8_recording(&host::npy_int8(input)?)
            } else {
                image_recording(input)?
            };
            // Gray pictures and gray8 frames feed a gray model, colour a colour one.
            let channels = match header.kind {
                Kind::Int8 { channels } => channels,
                Kind::Pixels {
                    format: PixelFormat::Gray8,
                    ..
                } => 1,
                Kind::Pixels { .. } => 3,
            };
            let channels = u8::try_from(channels)
                .ok()
                .filter(|&c| c == 1 || c == 3)
                .ok_or_else(|| {
                    format!("the edge model takes 1 or 3 channels, the input has {channels}")
                })?;
            let edges =
                scanline_firmware::job::edge_model(channels, *pool).map_err(|e| e.to_string())?;
            let m = edges
                .model(header.height, header.width)
                .map_err(|e| e.to_string())?;
            let spec = ModelSpec::Edges {
                channels,
                pool: *pool,
            }
            .to_string();
            finish(spec, &m, false, header, lines)
        }
    }
}

pub(super) fn finish(
    spec: String,
    model: &Model<'_>,
    float: bool,
    header: Header,
    lines: Vec<u8>,
) -> Result<Prepared, String> {
    let mut expected = Vec::new();
    for t in rows_of(model, &header, &lines)? {
        expected.extend(host::frame(model, &t)?.data);
    }
    let mut recording = header.to_bytes().to_vec();
    recording.extend(lines);
    Ok(Prepared {
        spec,
        recording,
        header,
        output: model.output_shape(),
        quant: model.output_quant(),
        float,
        expected,
    })
}

pub(super) fn int8_recording(t: &host::HostTensor<i8>) -> (Header, Vec<u8>) {
    let s = t.shape;
    let header = Header {
        kind: Kind::Int8 {
            channels: s.channels,
        },
        width: s.width,
        height: s.height,
        frames: 1,
    };
    (header, t.data.iter().map(|&v| v as u8).collect())
}

/// An image's lines as stored (Gray8 or RGB888); a gray model takes colour
/// lines by TensorFlow's rule, as `scanline run` does for photos.
pub(super) fn image_recording(path: &Path) -> Result<(Header, Vec<u8>), String> {
    let p = host::picture(path)?;
    let format = match p.shape.channels {
        1 => PixelFormat::Gray8,
        3 => PixelFormat::Rgb888,
        c => return Err(format!("{}: an image of {c} channels", path.display())),
    };
    Ok((
        Header {
            kind: Kind::Pixels {
                format,
                gray: GrayRule::TensorFlow,
            },
            width: p.shape.width,
            height: p.shape.height,
            frames: 1,
        },
        p.data,
    ))
}

/// Raw camera frames: `height` lines per frame (all of the file for `None`),
/// gray by integer luma (a camera pipeline's rule).
pub(super) fn raw_recording(
    path: &Path,
    format: PixelFormat,
    width: usize,
    height: Option<usize>,
) -> Result<(Header, Vec<u8>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let line = width * format.bytes_per_pixel();
    if bytes.is_empty() || !bytes.len().is_multiple_of(line) {
        return Err(format!(
            "{}: {} bytes are not whole lines of {line} bytes ({width} {} pixels)",
            path.display(),
            bytes.len(),
            recording::format_name(format)
        ));
    }
    let lines = bytes.len() / line;
    let height = height.unwrap_or(lines);
    if !lines.is_multiple_of(height) {
        return Err(format!(
            "{}: {lines} lines are not whole frames of {height} lines",
            path.display()
        ));
    }
    Ok((
        Header {
            kind: Kind::Pixels {
                format,
                gray: GrayRule::IntegerLuma,
            },
            width,
            height,
            frames: lines / height,
        },
        bytes,
    ))
}
