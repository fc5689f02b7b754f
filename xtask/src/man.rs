//! Man: `cargo xtask man` — the `scanline` manual pages, generated from the CLI's
//! clap definition (`scanline_host::cli::Cli`) with clap_mangen into `target/man/`.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::project_root;

/// Writes `scanline.1` and one page per subcommand (`scanline-run.1`,
/// `scanline-batch-run.1`, ...) into `target/man/` and lists them.
pub fn run(args: &[String]) -> ExitCode {
    if let Some(extra) = args.first() {
        eprintln!("xtask man: unexpected argument `{extra}` (it takes none)");
        return ExitCode::from(2);
    }
    let dir = project_root().join("target").join("man");
    match generate(&dir) {
        Ok(pages) => {
            for page in &pages {
                println!("{}", page.display());
            }
            println!(
                "{} manual pages in {}; read one with `man -l {}`",
                pages.len(),
                dir.display(),
                dir.join("scanline.1").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask man: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}

/// Generates the pages into `dir` (created if needed); returns their paths, sorted.
fn generate(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(scanline_host::cli::Cli::command(), dir)?;
    let mut pages: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "1"))
        .collect();
    pages.sort();
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_gets_a_page_with_its_examples() {
        let dir = std::env::temp_dir().join(format!("scanline-man-{}", std::process::id()));
        let pages = generate(&dir).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for name in [
            "scanline.1",
            "scanline-run.1",
            "scanline-features.1",
            "scanline-batch.1",
            "scanline-batch-run.1",
            "scanline-completions.1",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
        }
        let run = std::fs::read_to_string(dir.join("scanline-run.1")).unwrap();
        assert!(run.starts_with(".ie"), "a roff page");
        assert!(run.contains("Examples:"), "{run}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
