//! The `scanline` binary: parses the command line ([`scanline_host::cli`]), runs
//! the command from the library and prints its report; errors go to standard
//! error on one line. Exit status: 0 success, 1 failure, 2 usage error.

use std::fmt::Display;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Parser;
use scanline_host::cli::{self, Cli, Command, FAILURE};
use scanline_host::command::{batch, compare, edges, features, info, kernels, run, verify};
use scanline_host::json::{self, Schema};
use serde::Serialize;

fn main() -> ExitCode {
    // A usage error exits here, with clap's message and status 2.
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(FAILURE as u8)
        }
    }
}

fn execute(command: Command) -> Result<()> {
    match command {
        Command::Edges(args) => print(&edges::execute(&args)?, args.json),
        Command::Run(args) => print(&run::execute(&args)?, args.json),
        Command::Info(args) => print(&info::execute(&args)?, args.json),
        Command::Features(args) => emit(&features::execute(&args)?.to_string()),
        Command::Batch(args) => {
            let summary = batch::execute(&args)?;
            print(&summary, args.task.common().json)?;
            if summary.failed > 0 {
                bail!("{} of {} inputs failed", summary.failed, summary.inputs);
            }
            Ok(())
        }
        Command::Completions(args) => emit(&String::from_utf8_lossy(&cli::completions(args.shell))),
        Command::Verify(args) => {
            let report = verify::execute(&args)?;
            print(&report, args.json)?;
            if !report.verified() {
                bail!(
                    "{} of {} frames differ from the host ({} checked)",
                    report.differed,
                    report.frames.len(),
                    report.matched + report.differed
                );
            }
            Ok(())
        }
        Command::Kernels(args) => emit(&kernels::execute(&args).to_string()),
        Command::Compare(args) => {
            let report = compare::execute(&args)?;
            print(&report, args.json)?;
            if !report.identical {
                bail!(
                    "frame and stream engines differ in {} of {} values",
                    report.differences,
                    report.values
                );
            }
            Ok(())
        }
    }
}

/// Prints a report as text, or with `json` as its one-line JSON document.
fn print<R: Display + Serialize + Schema>(report: &R, json: bool) -> Result<()> {
    if json {
        emit(&(json::document(report)? + "\n"))
    } else {
        emit(&report.to_string())
    }
}

/// The error and its causes on one line, skipping a cause whose text the message
/// already holds (the library's errors print their sources themselves).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.replace('\n', " ")
}

/// Writes `text` to standard output; a closed pipe (`scanline info | head`) is not
/// an error.
fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
