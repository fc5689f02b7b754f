//! Batch: `scanline batch edges|run|compare` — one command, with the same
//! options, over many inputs (files, folders, glob patterns), in parallel on all
//! cores, one output per input in one folder, and a summary of what was done
//! and what failed.
//!
//! Each input runs the command's own `execute` with its per-input fields (input
//! and output paths) filled in, so a batch computes exactly what the single
//! command computes. An input that fails (unreadable, not an image, the wrong
//! shape) is reported by name and skipped; the others go on.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::value::RawValue;

use super::{compare, edges, plural, run};
use crate::cli::examples;
use crate::json::{self, Schema};
use crate::output::OutputFormat;
use crate::{Error, Result};

/// Arguments of `scanline batch`: which command to run over the inputs.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The command.
    #[command(subcommand)]
    pub task: Task,
}

/// The command a batch runs, with its options.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Task {
    /// `scanline edges` on every photo: DIR/NAME-edges.png each.
    #[command(after_help = examples!(
        "scanline batch edges photos/ -o edges/",
        "scanline batch edges 'photos/*.jpg' -o edges/ --kernel sobel-x --gray --pool 2",
    ))]
    Edges {
        /// Inputs, output folder, threads.
        #[command(flatten)]
        batch: Common,
        /// The options of `scanline edges`.
        #[command(flatten)]
        options: edges::Options,
    },
    /// `scanline run` on every input: DIR/NAME.npy (or .png with --format png) each.
    #[command(after_help = examples!(
        "scanline batch run photos/ -o out/ --model model.tflite --resize",
        "scanline batch run 'inputs/*.npy' -o maps/ --model model.tflite --format png",
        "scanline batch run frames/ -o out/ --model model.tflite --pixel-format yuyv --width 320 --digest --json",
    ))]
    Run {
        /// Inputs, output folder, threads.
        #[command(flatten)]
        batch: Common,
        /// What to write for each input: npy (the output tensor) or png (its
        /// feature maps).
        #[arg(long, value_name = "FORMAT", value_parser = parse_format, default_value = "npy")]
        format: OutputFormat,
        /// The options of `scanline run`.
        #[command(flatten)]
        options: run::Options,
    },
    /// `scanline compare` on every input: DIR/NAME-diff.png each (|int8 - float|).
    #[command(after_help = examples!(
        "scanline batch compare inputs/ -o diffs/ --model model.tflite",
        "scanline batch compare photos/ -o diffs/ --model model.tflite --resize --json",
    ))]
    Compare {
        /// Inputs, output folder, threads.
        #[command(flatten)]
        batch: Common,
        /// The options of `scanline compare`.
        #[command(flatten)]
        options: super::ModelArgs,
    },
}

/// What every batch takes: the inputs, the output folder, threads, JSON.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Input files, folders (their files with a known extension: .png, .jpg,
    /// .jpeg, and .npy for run and compare; every file with --pixel-format) or
    /// glob patterns ("photos/*.png", quoted so that the shell leaves them).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// The folder to write into (created if needed). Each output is named after
    /// its input's file stem; a stem that repeats gets -2, -3, ... appended.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Worker threads [default: one per core].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Print the summary as one JSON object (schema scanline/batch/1, with every
    /// input's own report; see docs/json.md).
    #[arg(long, display_order = 100)]
    pub json: bool,
}

fn parse_format(s: &str) -> std::result::Result<OutputFormat, String> {
    match s.to_ascii_lowercase().as_str() {
        "npy" => Ok(OutputFormat::Npy),
        "png" => Ok(OutputFormat::Png),
        _ => Err(format!("unknown format '{s}' (npy or png)")),
    }
}

impl Task {
    /// The command's name: `edges`, `run` or `compare`.
    pub const fn name(&self) -> &'static str {
        match self {
            Task::Edges { .. } => "edges",
            Task::Run { .. } => "run",
            Task::Compare { .. } => "compare",
        }
    }

    /// Inputs, output folder and threads.
    pub const fn common(&self) -> &Common {
        match self {
            Task::Edges { batch, .. } | Task::Run { batch, .. } | Task::Compare { batch, .. } => {
                batch
            }
        }
    }

    /// Whether a file found in a folder or by a pattern is an input of this
    /// command (by its extension; raw frames take every file).
    fn accepts(&self, path: &Path) -> bool {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let image = matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg"));
        match self {
            Task::Edges { .. } => image,
            Task::Run { options, .. } if options.network.input_args.pixel_format.is_some() => true,
            Task::Compare { options, .. } if options.input_args.pixel_format.is_some() => true,
            Task::Run { .. } | Task::Compare { .. } => image || ext.as_deref() == Some("npy"),
        }
    }

    /// The output file name for an input whose file stem is `stem`.
    fn output_name(&self, stem: &str) -> String {
        match self {
            Task::Edges { .. } => format!("{stem}-edges.png"),
            Task::Run { format, .. } => match format {
                OutputFormat::Npy => format!("{stem}.npy"),
                OutputFormat::Png => format!("{stem}.png"),
            },
            Task::Compare { .. } => format!("{stem}-diff.png"),
        }
    }

    /// Runs the command on one input, writing `output`: its report as JSON, and
    /// the failure if the command failed after reporting (compare's engines
    /// differ).
    fn run_one(&self, input: &Path, output: &Path) -> Result<(Box<RawValue>, Option<String>)> {
        match self {
            Task::Edges { options, .. } => {
                let mut options = options.clone();
                // The inputs already run in parallel: one thread each unless asked.
                options.threads.get_or_insert(1);
                let args = edges::Args {
                    image: input.to_path_buf(),
                    output: Some(output.to_path_buf()),
                    npy: None,
                    json: false,
                    options,
                };
                Ok((json::raw(&edges::execute(&args)?)?, None))
            }
            Task::Run { options, .. } => {
                let mut options = options.clone();
                options.network.threads.get_or_insert(1);
                let args = run::Args {
                    input: input.to_path_buf(),
                    output: Some(output.to_path_buf()),
                    labels: None,
                    json: false,
                    options,
                };
                Ok((json::raw(&run::execute(&args)?)?, None))
            }
            Task::Compare { options, .. } => {
                let mut options = options.clone();
                options.threads.get_or_insert(1);
                let args = compare::Args {
                    input: input.to_path_buf(),
                    diff: Some(output.to_path_buf()),
                    json: false,
                    options,
                };
                let report = compare::execute(&args)?;
                let failure = (!report.identical).then(|| {
                    format!(
                        "frame and stream engines differ in {} of {} values",
                        report.differences, report.values
                    )
                });
                Ok((json::raw(&report)?, failure))
            }
        }
    }
}

/// What happened to one input.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// The input file (or the pattern or folder that gave no input).
    #[serde(serialize_with = "json::path")]
    pub input: PathBuf,
    /// The file written for it (or that would have been).
    #[serde(serialize_with = "json::option_path")]
    pub output: Option<PathBuf>,
    /// True if the command succeeded.
    pub ok: bool,
    /// Why it failed, on one line.
    pub error: Option<String>,
    /// The command's own report as its JSON document, if it got that far.
    pub report: Option<Box<RawValue>>,
}

impl Job {
    fn failed(input: PathBuf, output: Option<PathBuf>, error: String) -> Self {
        Self {
            input,
            output,
            ok: false,
            error: Some(error),
            report: None,
        }
    }
}

/// What a batch did: [`Display`](fmt::Display) gives the text summary, `serde`
/// the `scanline/batch/1` JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The command: `edges`, `run` or `compare`.
    pub command: &'static str,
    /// The output folder.
    #[serde(serialize_with = "json::path")]
    pub directory: PathBuf,
    /// Inputs found.
    pub inputs: usize,
    /// Inputs whose command succeeded.
    pub done: usize,
    /// Inputs that failed.
    pub failed: usize,
    /// Wall time of the whole batch, in seconds.
    pub seconds: f64,
    /// Worker threads.
    pub threads: usize,
    /// Every input, in the order found.
    pub jobs: Vec<Job>,
}

impl Schema for Summary {
    const SCHEMA: &'static str = "scanline/batch/1";
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "batch {}: {}, {} done, {} failed, in {:.2} s on {}; outputs in {}",
            self.command,
            plural(self.inputs, "input"),
            self.done,
            self.failed,
            self.seconds,
            plural(self.threads, "thread"),
            self.directory.display()
        )?;
        for job in self.jobs.iter().filter(|j| !j.ok) {
            writeln!(
                f,
                "failed: {}: {}",
                job.input.display(),
                job.error.as_deref().unwrap_or("failed")
            )?;
        }
        Ok(())
    }
}

/// One input found, or why a pattern or folder gave none.
type Found = std::result::Result<PathBuf, (PathBuf, String)>;

/// The inputs named by `patterns`, in order, without repeats: a file as named
/// (even if it does not exist: it fails later, by name), the files of a folder
/// that `accepts` takes (sorted, hidden files skipped, not recursing), and the
/// files a glob pattern matches that `accepts` takes (when the path does not
/// exist as named and holds `*`, `?` or `[`). A folder that cannot be read or a
/// pattern that matches nothing is an error entry.
pub fn find_inputs(patterns: &[PathBuf], accepts: &dyn Fn(&Path) -> bool) -> Vec<Found> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |found: &mut Vec<Found>, p: PathBuf| {
        if seen.insert(p.clone()) {
            found.push(Ok(p));
        }
    };
    for pattern in patterns {
        let text = pattern.to_string_lossy();
        // The files a folder or a pattern gives, and what to say if none.
        let (listed, none): (std::result::Result<Vec<PathBuf>, String>, &str) = if pattern.is_dir()
        {
            let files = fs_err::read_dir(pattern)
                .map_err(|e| e.to_string())
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok())
                        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                        .map(|e| e.path())
                        .collect()
                });
            (files, "no input file in this folder")
        } else if !pattern.exists() && text.contains(['*', '?', '[']) {
            // As a shell matches: `*` does not match a leading dot.
            let options = glob::MatchOptions {
                require_literal_leading_dot: true,
                ..glob::MatchOptions::new()
            };
            let files = glob::glob_with(&text, options)
                .map_err(|e| format!("bad pattern: {e}"))
                .map(|paths| paths.filter_map(|p| p.ok()).collect());
            (files, "the pattern matches no input file")
        } else {
            push(&mut found, pattern.clone());
            continue;
        };
        match listed {
            Ok(files) => {
                let mut files: Vec<PathBuf> = files
                    .into_iter()
                    .filter(|p| p.is_file() && accepts(p))
                    .collect();
                files.sort();
                if files.is_empty() {
                    found.push(Err((pattern.clone(), none.into())));
                }
                for f in files {
                    push(&mut found, f);
                }
            }
            Err(e) => found.push(Err((pattern.clone(), e))),
        }
    }
    found
}

/// The output file of every input in `dir`: `name(stem)`, a repeated name made
/// unique with `-2`, `-3`, ... after the stem.
fn output_paths(inputs: &[&Path], dir: &Path, name: &dyn Fn(&str) -> String) -> Vec<PathBuf> {
    let mut used: HashMap<String, usize> = HashMap::new();
    inputs
        .iter()
        .map(|input| {
            let stem = input
                .file_stem()
                .map_or("input".into(), |s| s.to_string_lossy().into_owned());
            let mut n = 1;
            let mut file = name(&stem);
            while used.contains_key(&file) {
                n += 1;
                file = name(&format!("{stem}-{n}"));
            }
            used.insert(file.clone(), n);
            dir.join(file)
        })
        .collect()
}

/// The path as the file system names it, if it exists (else as given), for
/// comparing an output with the inputs.
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Runs `scanline batch`. A progress bar is drawn on standard error while
/// standard output is a terminal, and never otherwise.
///
/// # Errors
///
/// The output folder cannot be created, or the thread pool cannot start. A
/// failing input is not an error: it is in the summary.
pub fn execute(args: &Args) -> Result<Summary> {
    let task = &args.task;
    let common = task.common();
    let start = Instant::now();
    fs_err::create_dir_all(&common.output)?;
    let found = find_inputs(&common.inputs, &|p| task.accepts(p));
    let files: Vec<&Path> = found
        .iter()
        .filter_map(|f| f.as_ref().ok().map(PathBuf::as_path))
        .collect();
    let outputs = output_paths(&files, &common.output, &|stem| task.output_name(stem));
    let inputs: HashSet<PathBuf> = files.iter().map(|f| canonical(f)).collect();
    let planned: Vec<(PathBuf, PathBuf)> =
        files.iter().map(|f| f.to_path_buf()).zip(outputs).collect();

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(common.jobs.map_or(0, usize::from))
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the worker threads: {e}")))?;
    let threads = pool.current_num_threads();
    let bar = progress_bar(planned.len() as u64);
    let results: Vec<Job> = pool.install(|| {
        planned
            .par_iter()
            .map(|(input, output)| {
                let job = if inputs.contains(&canonical(output)) {
                    Job::failed(
                        input.clone(),
                        Some(output.clone()),
                        format!(
                            "{}: would overwrite an input of this batch; choose another -o DIR",
                            output.display()
                        ),
                    )
                } else {
                    match task.run_one(input, output) {
                        Ok((report, failure)) => Job {
                            input: input.clone(),
                            output: Some(output.clone()),
                            ok: failure.is_none(),
                            error: failure,
                            report: Some(report),
                        },
                        Err(e) => Job::failed(
                            input.clone(),
                            Some(output.clone()),
                            without_prefix(&e.to_string(), input),
                        ),
                    }
                };
                if let Some(e) = &job.error {
                    bar.println(format!("failed: {}: {e}", input.display()));
                }
                bar.inc(1);
                job
            })
            .collect()
    });
    bar.finish_and_clear();

    let mut results = results.into_iter();
    let jobs: Vec<Job> = found
        .into_iter()
        .map(|f| match f {
            Ok(_) => results.next().unwrap_or_else(|| {
                Job::failed(PathBuf::new(), None, "lost track of this input".into())
            }),
            Err((what, why)) => Job::failed(what, None, why),
        })
        .collect();
    let failed = jobs.iter().filter(|j| !j.ok).count();
    Ok(Summary {
        command: task.name(),
        directory: common.output.clone(),
        inputs: jobs.len(),
        done: jobs.len() - failed,
        failed,
        seconds: start.elapsed().as_secs_f64(),
        threads,
        jobs,
    })
}

/// An error message on one line, without a leading `INPUT: ` (the summary names
/// the input already).
fn without_prefix(message: &str, input: &Path) -> String {
    let prefix = format!("{}: ", input.display());
    message
        .strip_prefix(&prefix)
        .unwrap_or(message)
        .replace('\n', " ")
}

/// A progress bar of `len` steps on standard error, hidden unless standard
/// output is a terminal (so that pipes, files and `--json` get none).
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} ({eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_stems_get_numbered_outputs() {
        let inputs = [
            Path::new("a/x.png"),
            Path::new("b/x.png"),
            Path::new("x.jpg"),
        ];
        let out = output_paths(&inputs, Path::new("out"), &|s| format!("{s}-edges.png"));
        assert_eq!(
            out,
            [
                PathBuf::from("out/x-edges.png"),
                PathBuf::from("out/x-2-edges.png"),
                PathBuf::from("out/x-3-edges.png")
            ]
        );
    }

    #[test]
    fn folders_patterns_and_names() {
        let dir = std::env::temp_dir().join(format!("scanline-batch-find-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for f in [
            "b.png",
            "a.PNG",
            "c.npy",
            "notes.txt",
            ".hidden.png",
            "sub/d.png",
        ] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        let images = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
        let names = |found: Vec<Found>| -> Vec<String> {
            found
                .into_iter()
                .map(|f| match f {
                    Ok(p) => p.file_name().unwrap().to_string_lossy().into_owned(),
                    Err((p, why)) => format!("{}: {why}", p.display()),
                })
                .collect()
        };
        // A folder: its accepted files, sorted, hidden ones and sub-folders skipped.
        assert_eq!(
            names(find_inputs(std::slice::from_ref(&dir), &images)),
            ["a.PNG", "b.png"]
        );
        // A pattern, and a file named twice (once by the pattern).
        let pattern = dir.join("*.png");
        let found = find_inputs(
            &[pattern, dir.join("b.png"), dir.join("notes.txt")],
            &images,
        );
        assert_eq!(names(found), ["b.png", "notes.txt"]);
        // A named file that does not exist is kept (it fails later, by name); a
        // pattern that matches nothing is an error entry.
        let found = find_inputs(&[dir.join("gone.png"), dir.join("*.jpg")], &images);
        let n = names(found);
        assert_eq!(n[0], "gone.png");
        assert!(n[1].ends_with("the pattern matches no input file"), "{n:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
