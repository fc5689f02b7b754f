//! Verify: `scanline verify` — a firmware capture log (the board's defmt log as
//! probe-rs prints it, or the QEMU binary's) checked frame by frame against the
//! host, with [`crate::verify`]'s parser and checker.

use std::fmt;
use std::path::{Path, PathBuf};

use scanline::edges::EdgeModel;
use scanline::kernel::Kernel;
use scanline::preset::Preset;
use serde::Serialize;

use super::plural;
use crate::json::{self, Schema};
use crate::network::Network;
use crate::verify::{self, Capture, Verdict};
use crate::{Error, Result};

/// Arguments of `scanline verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The capture log: the decoded defmt text of a run with the dump feature
    /// (input lines and output rows in hex), as probe-rs prints it or as
    /// `cargo xtask qemu --dump full --capture LOG` writes it.
    #[arg(long, value_name = "LOG")]
    pub capture: PathBuf,
    /// The model the firmware ran (.tflite) [default: the built-in edge model
    /// for an `edges/C/P` log, else the path the log names].
    #[arg(long, value_name = "M.tflite")]
    pub model: Option<PathBuf>,
    /// Print the report as one JSON object (schema scanline/verify/1, see
    /// docs/json.md).
    #[arg(long, display_order = 100)]
    pub json: bool,
}

/// One frame's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameCheck {
    /// The capture it belongs to (0 for the first `model=` line of the log).
    pub capture: usize,
    /// The frame number the firmware logged.
    pub frame: u32,
    /// `match`, `differs`, `digest-differs`, `dropped` or `unchecked`.
    pub verdict: &'static str,
    /// The verdict in words (where it differs, why it was not checked).
    pub detail: String,
}

/// What `scanline verify` found; `serde` gives its `scanline/verify/1` JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The capture log.
    #[serde(serialize_with = "json::path")]
    pub log: PathBuf,
    /// The model of each capture, as the log names it.
    pub models: Vec<String>,
    /// Every frame, in the order logged.
    pub frames: Vec<FrameCheck>,
    /// Frames equal to the host's.
    pub matched: usize,
    /// Frames that differ (a value or the digest).
    pub differed: usize,
    /// Frames the firmware dropped (a camera fault), counted apart.
    pub dropped: usize,
    /// Frames that could not be checked (their lines were not logged).
    pub unchecked: usize,
}

impl Schema for Report {
    const SCHEMA: &'static str = "scanline/verify/1";
}

impl Report {
    /// True if no frame differs and at least one was checked.
    pub fn verified(&self) -> bool {
        self.differed == 0 && self.matched > 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {}: {} match, {} differ, {} dropped by the firmware, {} not checked",
            self.log.display(),
            plural(self.frames.len(), "frame"),
            self.matched,
            self.differed,
            self.dropped,
            self.unchecked
        )?;
        for c in &self.frames {
            let model = self.models.get(c.capture).map_or("", String::as_str);
            if self.models.len() > 1 {
                write!(f, "capture {} ({model}) ", c.capture)?;
            }
            writeln!(f, "frame {}: {}", c.frame, c.detail)?;
        }
        Ok(())
    }
}

/// Runs `scanline verify`. A report with differing frames is returned as such
/// (the binary prints it, then fails).
///
/// # Errors
///
/// An unreadable or malformed log, a log with no capture, a model that cannot
/// be loaded or does not fit the log's frames.
pub fn execute(args: &Args) -> Result<Report> {
    let text = crate::file::read_to_string(&args.capture, crate::file::Kind::Capture)?;
    let captures = verify::parse(&text)?;
    if captures.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: no `scanline model=` line: not a capture log",
            args.capture.display()
        )));
    }
    let mut frames = Vec::new();
    for (i, capture) in captures.iter().enumerate() {
        for (frame, verdict) in check_capture(capture, args.model.as_deref())? {
            let kind = match &verdict {
                Verdict::Match => "match",
                Verdict::Differs { .. } => "differs",
                Verdict::DigestDiffers { .. } => "digest-differs",
                Verdict::Dropped { .. } => "dropped",
                Verdict::Unchecked { .. } => "unchecked",
            };
            frames.push(FrameCheck {
                capture: i,
                frame,
                verdict: kind,
                detail: verdict.to_string(),
            });
        }
    }
    let count = |kinds: &[&str]| frames.iter().filter(|c| kinds.contains(&c.verdict)).count();
    Ok(Report {
        log: args.capture.clone(),
        models: captures.iter().map(|c| c.header.model.clone()).collect(),
        matched: count(&["match"]),
        differed: count(&["differs", "digest-differs"]),
        dropped: count(&["dropped"]),
        unchecked: count(&["unchecked"]),
        frames,
    })
}

/// Every frame of one capture and its verdict, against `model` or the model the
/// log names.
fn check_capture(capture: &Capture, model: Option<&Path>) -> Result<Vec<(u32, Verdict)>> {
    let header = &capture.header;
    let check = |m: &scanline::Model<'_>| -> Result<Vec<(u32, Verdict)>> {
        capture
            .frames
            .iter()
            .map(|f| Ok((f.number, verify::check_frame(capture, f, m)?)))
            .collect()
    };
    if let (None, Some(spec)) = (model, header.model.strip_prefix("edges/")) {
        let edges = edge_model(spec)?;
        return check(&edges.model(header.input.height, header.input.width)?);
    }
    let path = model.map_or_else(|| PathBuf::from(&header.model), Path::to_path_buf);
    let net = Network::load(&path)?;
    let own = net.input_shape()?;
    if own.width != header.input.width && own.height == header.input.height {
        // A model planned by the firmware for the camera's width.
        return check(&net.model_for_width(header.input.width)?);
    }
    check(net.import()?.model())
}

/// The firmware's built-in edge model `edges/C/P`: laplacian8 stacked over C
/// channels, ReLU, a PxP max-pool (0: none).
fn edge_model(spec: &str) -> Result<EdgeModel> {
    let bad = || {
        Error::Invalid(format!(
            "capture: model `edges/{spec}` is not edges/CHANNELS/POOL"
        ))
    };
    let (c, p) = spec.split_once('/').ok_or_else(bad)?;
    let channels: usize = c.parse().map_err(|_| bad())?;
    let pool: usize = p.parse().map_err(|_| bad())?;
    Ok(EdgeModel::new(
        Kernel::preset(Preset::Laplacian8),
        channels,
        (pool > 0).then_some(pool),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capture of the gray edge model without pooling on two 2x3 gray frames,
    /// the first logged with its lines and rows, the second dropped.
    fn log(tamper: bool) -> String {
        let edges = edge_model("1/0").unwrap();
        let model = edges.model(2, 3).unwrap();
        let pixels: [u8; 6] = [10, 200, 30, 40, 50, 250];
        let input: Vec<i8> = pixels.iter().map(|&p| (p as i32 - 128) as i8).collect();
        let mut out = vec![0i8; 6];
        let mut scratch = vec![0i8; model.frame_scratch_len()];
        scanline::frame::run(&model, &input, &mut out, &mut scratch).unwrap();
        let digest = crate::output::digest(&out);
        if tamper {
            out[4] = out[4].wrapping_add(1);
        }
        let hex = |b: &[u8]| {
            let parts: Vec<String> = b.iter().map(|v| format!("{v:02x}")).collect();
            format!("[{}]", parts.join(", "))
        };
        let bytes: Vec<u8> = out.iter().map(|&v| v as u8).collect();
        format!(
            "INFO scanline model=edges/1/0 input=2x3x1 output=2x3x1 format=gray8 gray=integer-luma arena=64\n\
             INFO scanline frame=0 line=0 {}\nINFO scanline frame=0 line=1 {}\n\
             INFO scanline frame=0 row=0 {}\nINFO scanline frame=0 row=1 {}\n\
             INFO scanline frame=0 ok digest={digest:08x} rows=2\n\
             INFO scanline frame=1 dropped fault=timeout error=camera timeout\n",
            hex(&pixels[..3]),
            hex(&pixels[3..]),
            hex(&bytes[..3]),
            hex(&bytes[3..]),
        )
    }

    fn run(text: &str) -> Report {
        let file = std::env::temp_dir().join(format!(
            "scanline-verify-{}-{}.log",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&file, text).unwrap();
        let report = execute(&Args {
            capture: file.clone(),
            model: None,
            json: false,
        });
        std::fs::remove_file(&file).unwrap();
        report.unwrap()
    }

    #[test]
    fn a_faithful_capture_verifies() {
        let r = run(&log(false));
        assert_eq!(
            (r.matched, r.differed, r.dropped, r.unchecked),
            (1, 0, 1, 0)
        );
        assert!(r.verified());
        let text = r.to_string();
        assert!(
            text.contains("2 frames: 1 match, 0 differ, 1 dropped by the firmware"),
            "{text}"
        );
        assert!(text.contains("frame 0: match\n"), "{text}");
        let doc: serde_json::Value = serde_json::from_str(&json::document(&r).unwrap()).unwrap();
        assert_eq!(doc["schema"], "scanline/verify/1");
        assert_eq!(doc["frames"][1]["verdict"], "dropped");
    }

    #[test]
    fn a_wrong_value_is_located() {
        let r = run(&log(true));
        assert_eq!((r.matched, r.differed), (0, 1));
        assert!(!r.verified());
        assert!(
            r.frames[0]
                .detail
                .starts_with("differs first at row 1, column 1, channel 0"),
            "{}",
            r.frames[0].detail
        );
    }
}
