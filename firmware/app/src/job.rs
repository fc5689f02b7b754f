//! Job: one line of the job list the QEMU firmware works through in one boot —
//! which model, which recording in, where the output rows go, and what to dump
//! to the log — so a host can run many inputs per emulator start.
//!
//! A job list is text, one job per line, four or five fields separated by tabs:
//!
//! ```text
//! MODEL <TAB> INPUT <TAB> OUTPUT <TAB> DUMP [<TAB> FAULTS]
//! ```
//!
//! - `MODEL`: a `.tflite` path; `fit:PATH`, the same model with its layers
//!   planned for the recording's height and width; `edges/C/P`: the
//!   built-in edge model over `C` (1 or 3) input channels with a `P`x`P`
//!   max-pool (`P` = 0: none); or `workload/W1` (`W2`, `W3`): a CMSIS-NN
//!   comparison workload ([`scanline::workload`]), whose data the firmware
//!   generates itself (`INPUT` and `OUTPUT` are then `-`).
//! - `INPUT`: a frame file ([`crate::recording`]).
//! - `OUTPUT`: where the output rows of every frame go, back to back (int8).
//! - `DUMP`: `digest` (per-frame report only), `input` (also every input line),
//!   or `full` (also every output row): the capture log `scanline verify` reads.
//! - `FAULTS` (optional): camera faults to inject, a [`crate::inject::Plan`]
//!   (`1:short@5,3:stall@0`, `random/SEED/PERMILLE`); absent or `none`: none.
//!
//! Empty lines and lines starting with `#` are skipped. Paths are host paths
//! (no tabs or newlines).
//!
//! # Examples
//!
//! ```
//! use scanline_firmware::job::{Dump, Job, ModelSpec};
//! let job = Job::parse("edges/3/2\tin.frames\tout.bin\tfull").unwrap();
//! assert_eq!(job.model, ModelSpec::Edges { channels: 3, pool: 2 });
//! assert_eq!(job.dump, Dump::Full);
//! assert_eq!(job.to_string(), "edges/3/2\tin.frames\tout.bin\tfull");
//! ```

use scanline::edges::EdgeModel;
use scanline::kernel::Kernel;
use scanline::preset::Preset;
use scanline::workload::Workload;

use crate::Error;
use crate::inject::Plan;

/// The built-in edge model of `edges/C/P`: the core's [`EdgeModel`] for the
/// classic Laplacian `[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]` stacked over
/// `channels` (1 or 3), ReLU, and a `pool`x`pool` max-pool (0: none) — byte for
/// byte the host's `scanline edges` model. Plan it for a frame size with
/// [`EdgeModel::model`].
///
/// ```
/// let edges = scanline_firmware::job::edge_model(3, 2).unwrap();
/// let model = edges.model(240, 320).unwrap();
/// assert_eq!(model.output_shape(), scanline::Shape::new(120, 160, 1));
/// ```
pub fn edge_model(channels: u8, pool: u8) -> Result<EdgeModel, Error> {
    let pool = (pool > 0).then_some(usize::from(pool));
    Ok(EdgeModel::new(
        Kernel::preset(Preset::Laplacian8),
        usize::from(channels),
        pool,
    )?)
}

/// Which model a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSpec<'a> {
    /// A `.tflite` file at this host path.
    File(&'a str),
    /// A `.tflite` file whose layers are planned for the recording's height
    /// and width (`fit:PATH`): the same weights over a larger frame, e.g. a
    /// small fixture run at QVGA.
    Fit(&'a str),
    /// The built-in edge model over `channels` inputs, with a `pool`x`pool`
    /// max-pool (0: none).
    Edges {
        /// 1 (gray) or 3 (RGB).
        channels: u8,
        /// Pool size, 0 for none.
        pool: u8,
    },
    /// A CMSIS-NN comparison workload: data generated on the target, conv and
    /// pool timed apart in both engines, checked against the known checksums.
    Workload(Workload),
}

/// What a job logs besides its per-frame report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dump {
    /// The report only (digest, instructions, ...).
    #[default]
    Digest,
    /// Also every input line (hex): the host can recompute every frame.
    Input,
    /// Also every output row (hex): the host can name the first differing value.
    Full,
}

impl Dump {
    /// The job-list name: `digest`, `input`, `full`.
    pub const fn name(self) -> &'static str {
        match self {
            Dump::Digest => "digest",
            Dump::Input => "input",
            Dump::Full => "full",
        }
    }

    /// The dump of a job-list name.
    pub fn named(name: &str) -> Option<Self> {
        [Dump::Digest, Dump::Input, Dump::Full]
            .into_iter()
            .find(|d| d.name() == name)
    }
}

/// One job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job<'a> {
    /// The model.
    pub model: ModelSpec<'a>,
    /// The input recording's path.
    pub input: &'a str,
    /// The output file's path.
    pub output: &'a str,
    /// What to log.
    pub dump: Dump,
    /// Camera faults to inject.
    pub faults: Plan<'a>,
}

fn bad(reason: &'static str) -> Error {
    Error::Recording { reason }
}

impl<'a> ModelSpec<'a> {
    /// Parses `edges/C/P` or a path.
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        if let Some(name) = text.strip_prefix("workload/") {
            return Workload::from_name(name)
                .map(ModelSpec::Workload)
                .ok_or(bad(
                    "job: the workloads are workload/W1, workload/W2, workload/W3",
                ));
        }
        let Some(rest) = text.strip_prefix("edges/") else {
            if let Some(path) = text.strip_prefix("fit:").filter(|p| !p.is_empty()) {
                return Ok(ModelSpec::Fit(path));
            }
            if text.is_empty() {
                return Err(bad("job: empty model field"));
            }
            return Ok(ModelSpec::File(text));
        };
        let (c, p) = rest
            .split_once('/')
            .ok_or(bad("job: the built-in model is edges/CHANNELS/POOL"))?;
        let channels: u8 = c
            .parse()
            .map_err(|_| bad("job: edges channels must be 1 or 3"))?;
        let pool: u8 = p
            .parse()
            .map_err(|_| bad("job: edges pool must be a number (0: none)"))?;
        if channels != 1 && channels != 3 {
            return Err(bad("job: edges channels must be 1 or 3"));
        }
        Ok(ModelSpec::Edges { channels, pool })
    }
}

impl core::fmt::Display for ModelSpec<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ModelSpec::File(path) => f.write_str(path),
            ModelSpec::Fit(path) => write!(f, "fit:{path}"),
            ModelSpec::Edges { channels, pool } => write!(f, "edges/{channels}/{pool}"),
            ModelSpec::Workload(w) => write!(f, "workload/{}", w.name()),
        }
    }
}

impl<'a> Job<'a> {
    /// Parses one job line (without its newline).
    pub fn parse(line: &'a str) -> Result<Self, Error> {
        let mut fields = line.trim_end_matches('\r').split('\t');
        let mut next =
            |what: &'static str| fields.next().filter(|f| !f.is_empty()).ok_or(bad(what));
        let model = ModelSpec::parse(next("job: no model field")?)?;
        let input = next("job: no input field")?;
        let output = next("job: no output field")?;
        let dump = Dump::named(next("job: no dump field")?)
            .ok_or(bad("job: dump must be digest, input or full"))?;
        let faults = match fields.next() {
            Some(text) => Plan::parse(text)?,
            None => Plan::None,
        };
        if fields.next().is_some() {
            return Err(bad("job: more than five tab-separated fields"));
        }
        Ok(Job {
            model,
            input,
            output,
            dump,
            faults,
        })
    }

    /// Every job of a job list, in order (skipping blank and `#` lines).
    pub fn all(list: &'a str) -> impl Iterator<Item = Result<Job<'a>, Error>> {
        list.lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(Job::parse)
    }
}

impl core::fmt::Display for Job<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{}\t{}\t{}\t{}",
            self.model,
            self.input,
            self.output,
            self.dump.name()
        )?;
        match self.faults {
            Plan::None => Ok(()),
            plan => write!(f, "\t{plan}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_round_trips() {
        let list = "# four jobs\nm.tflite\ta b.frames\to.bin\tdigest\n\nedges/1/0\ti\to\tinput\tnone\nfit:n.tflite\ti\to\tfull\t2:bus@1\nworkload/w2\t-\t-\tdigest\n";
        let jobs: Vec<Job<'_>> = Job::all(list).map(Result::unwrap).collect();
        assert_eq!(jobs.len(), 4);
        assert_eq!(jobs[3].model, ModelSpec::Workload(Workload::W2));
        assert_eq!(jobs[2].model, ModelSpec::Fit("n.tflite"));
        assert_eq!(jobs[0].model, ModelSpec::File("m.tflite"));
        assert_eq!(jobs[0].input, "a b.frames");
        assert_eq!(
            jobs[1].model,
            ModelSpec::Edges {
                channels: 1,
                pool: 0
            }
        );
        assert_eq!(jobs[1].dump, Dump::Input);
        assert_eq!(jobs[1].faults, Plan::None);
        assert_eq!(jobs[2].faults, Plan::List("2:bus@1"));
        for j in jobs {
            assert_eq!(Job::parse(&j.to_string()), Ok(j));
        }
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let reason = |l: &str| match Job::parse(l) {
            Err(Error::Recording { reason }) => reason,
            other => panic!("{other:?}"),
        };
        assert!(reason("m\ti\to").contains("no dump"));
        assert!(reason("m\ti\to\tall").contains("digest, input or full"));
        assert!(reason("m\ti\to\tfull\tnone\textra").contains("five"));
        assert!(reason("m\ti\to\tfull\t1:melt@0").contains("fault plan"));
        assert!(reason("edges/2/2\ti\to\tfull").contains("1 or 3"));
        assert!(reason("edges/3\ti\to\tfull").contains("CHANNELS/POOL"));
        assert!(reason("\ti\to\tfull").contains("model"));
        assert!(reason("workload/W4\t-\t-\tdigest").contains("workload/W3"));
    }
}
