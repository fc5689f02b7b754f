//! Tidy: repository checks, run as ordinary tests by `cargo test --workspace`;
//! every problem is reported as `path:line: what is wrong`, all at once.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::project_root;

/// Directories holding this repository's crates (`firmware` only when present).
const CRATE_DIRS: [&str; 7] = [
    "core", "host", "testkit", "tests", "xtask", "firmware", "fuzzkit",
];

/// Source directories where every file holds one concern, and so stays short.
const SHORT_FILE_DIRS: [&str; 5] = [
    "core/src",
    "host/src",
    "testkit/src",
    "xtask/src",
    "fuzzkit/src",
];

/// The most lines a file under [`SHORT_FILE_DIRS`] may have (a file that grows
/// past it holds more than one concern; split it).
const MAX_LINES: usize = 700;

/// Macros that must not be left in non-test code.
const FORBIDDEN_MACROS: [&str; 3] = ["dbg", "todo", "unimplemented"];

/// Files under the crate directories whose name satisfies `keep`, relative to
/// the project root, sorted; `target/` and hidden directories are skipped.
fn files(keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    walk(root, &path, keep, out);
                }
            } else if keep(&name) {
                out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
            }
        }
    }
    let root = project_root();
    let mut out = Vec::new();
    for dir in CRATE_DIRS {
        walk(&root, &root.join(dir), &keep, &mut out);
    }
    out.sort();
    out
}

fn rust_files() -> Vec<PathBuf> {
    files(|name| name.ends_with(".rs"))
}

fn read(rel: &Path) -> String {
    let path = project_root().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()))
}

/// `rel` as shown in messages: forward slashes, relative to the project root.
fn shown(rel: &Path) -> String {
    rel.to_string_lossy().replace('\\', "/")
}

fn report(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "tidy: {} problem(s): {what}\n{}\n",
        problems.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------- checks --

/// The first line of a module must be a `//!` line saying what it is for.
fn check_module_doc(path: &str, text: &str) -> Option<String> {
    match text.lines().next() {
        Some(line) if line.starts_with("//!") => None,
        Some(line) => Some(format!(
            "{path}:1: the first line must be a `//!` line saying what the module is for, \
             found `{}`",
            line.trim()
        )),
        None => Some(format!(
            "{path}:1: empty file; it must start with a `//!` line saying what it is for"
        )),
    }
}

/// A file longer than [`MAX_LINES`].
fn check_length(path: &str, text: &str) -> Option<String> {
    let lines = text.lines().count();
    (lines > MAX_LINES).then(|| {
        format!(
            "{path}: {lines} lines, more than {MAX_LINES}: a file this long holds more than \
             one concern; split it into modules named by one noun each"
        )
    })
}

/// The code of a line, without a trailing `//` comment.
fn code_part(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `word` occurs in `code` as a whole identifier, optionally followed
/// by `suffix` (e.g. `!(` for a macro call).
fn has_word(code: &str, word: &str, suffix: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = &code[i + word.len()..];
        !before.is_some_and(is_ident_char)
            && if suffix.is_empty() {
                !after.chars().next().is_some_and(is_ident_char)
            } else {
                after.starts_with(suffix)
            }
    })
}

/// A Rust file split into what is compiled outside tests and what is not.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan<'a> {
    /// (1-based line number, line) of every line outside `#[cfg(test)]` items.
    non_test: Vec<(usize, &'a str)>,
    /// Names of out-of-line modules declared `#[cfg(test)] mod name;`.
    test_mods: Vec<String>,
}

/// Splits `text` into non-test lines and `#[cfg(test)]` items. It relies on
/// rustfmt'd layout: an item that does not end on its first line ends at the
/// next line with the same indentation that starts with `}`.
fn scan(text: &str) -> Scan<'_> {
    let mut out = Scan::default();
    if text.lines().any(|l| l.trim() == "#![cfg(test)]") {
        return out;
    }
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut pending_cfg_test = false;
    let mut skip_until_indent = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(level) = skip_until_indent {
            if trimmed.starts_with('}') && indent(line) == level {
                skip_until_indent = None;
            }
            continue;
        }
        if pending_cfg_test {
            if trimmed.is_empty() || trimmed.starts_with("#[") || trimmed.starts_with("//") {
                continue;
            }
            pending_cfg_test = false;
            let code = code_part(trimmed).trim_end();
            if code.ends_with(';') {
                let decl = code.trim_end_matches(';');
                if let Some(name) = decl.rsplit_once("mod ").map(|(_, n)| n.trim())
                    && !name.is_empty()
                    && name.chars().all(is_ident_char)
                {
                    out.test_mods.push(name.to_owned());
                }
            } else {
                skip_until_indent = Some(indent(line));
            }
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") {
            pending_cfg_test = true;
            continue;
        }
        out.non_test.push((i + 1, line));
    }
    out
}

/// Files that hold the out-of-line test module `name` declared in `file`
/// (`name.rs` and everything under `name/`), as path prefixes.
fn test_module_paths(file: &Path, name: &str) -> [PathBuf; 2] {
    let parent = file.parent().unwrap_or(Path::new(""));
    let is_dir_owner = matches!(
        file.file_name().and_then(|n| n.to_str()),
        Some("main.rs" | "lib.rs" | "mod.rs")
    );
    let dir = if is_dir_owner {
        parent.to_path_buf()
    } else {
        parent.join(file.file_stem().unwrap_or_default())
    };
    [dir.join(format!("{name}.rs")), dir.join(name)]
}

/// Whether `rel` is an integration test (`<crate>/tests/...`).
fn is_integration_test(rel: &Path) -> bool {
    rel.components()
        .nth(1)
        .is_some_and(|c| c.as_os_str() == "tests")
}

/// `dbg!(`, `todo!(` and `unimplemented!(` in the non-test lines of a file.
fn check_forbidden_macros(path: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (number, line) in scan(text).non_test {
        let code = code_part(line);
        for name in FORBIDDEN_MACROS {
            if has_word(code, name, "!(") {
                problems.push(format!(
                    "{path}:{number}: `{name}!(` in non-test code: `{}`",
                    line.trim()
                ));
            }
        }
    }
    problems
}

/// `unsafe` (the keyword, outside comments) in a file with no `// SAFETY:`
/// comment.
fn check_unsafe(path: &str, text: &str) -> Vec<String> {
    if text.contains("// SAFETY:") {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| has_word(code_part(line), "unsafe", ""))
        .map(|(i, line)| {
            format!(
                "{path}:{}: `unsafe` in a file with no `// SAFETY:` comment arguing why \
                 it is sound: `{}`",
                i + 1,
                line.trim()
            )
        })
        .collect()
}

/// A crate's Cargo.toml must inherit the workspace lints.
fn check_lints(path: &str, manifest: &str) -> Option<String> {
    let mut section = String::new();
    for line in manifest.lines() {
        let line: String = line
            .split('#')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if line.starts_with('[') {
            section = line;
        } else if (section == "[lints]" && line == "workspace=true")
            || (section.is_empty()
                && (line == "lints.workspace=true" || line == "lints={workspace=true}"))
        {
            return None;
        }
    }
    Some(format!(
        "{path}: no `[lints]` table with `workspace = true`; every crate of the workspace \
         inherits [workspace.lints] (add it at the end of the file)"
    ))
}

/// The README must exist and name the test command that `.ci/run` runs.
fn check_readme(text: Option<&str>) -> Option<String> {
    match text {
        None => Some(
            "README.md: missing at the project root; it must exist and mention \
             `cargo xtask test` (the test command that .ci/run runs)"
                .to_owned(),
        ),
        Some(text) if !text.contains("cargo xtask test") => Some(
            "README.md: does not mention `cargo xtask test` (the test command that \
             .ci/run runs)"
                .to_owned(),
        ),
        Some(_) => None,
    }
}

// ------------------------------------------------------------ the tests --

#[test]
fn every_module_starts_with_a_doc_line() {
    let problems: Vec<String> = rust_files()
        .iter()
        .filter_map(|rel| check_module_doc(&shown(rel), &read(rel)))
        .collect();
    report("modules without a leading `//!` line", &problems);
}

#[test]
fn source_files_hold_one_concern_and_stay_short() {
    let problems: Vec<String> = rust_files()
        .iter()
        .filter(|rel| SHORT_FILE_DIRS.iter().any(|dir| rel.starts_with(dir)))
        .filter_map(|rel| check_length(&shown(rel), &read(rel)))
        .collect();
    report("source files too long", &problems);
}

#[test]
fn no_debugging_leftovers_in_non_test_code() {
    let files = rust_files();
    let texts: Vec<String> = files.iter().map(|rel| read(rel)).collect();
    let mut test_paths = BTreeSet::new();
    for (rel, text) in files.iter().zip(&texts) {
        for name in scan(text).test_mods {
            test_paths.extend(test_module_paths(rel, &name));
        }
    }
    let mut problems = Vec::new();
    for (rel, text) in files.iter().zip(&texts) {
        let is_test =
            is_integration_test(rel) || test_paths.iter().any(|prefix| rel.starts_with(prefix));
        if !is_test {
            problems.extend(check_forbidden_macros(&shown(rel), text));
        }
    }
    report("debugging macros in non-test code", &problems);
}

#[test]
fn unsafe_in_core_is_argued() {
    let problems: Vec<String> = rust_files()
        .iter()
        .filter(|rel| rel.starts_with("core/src"))
        .flat_map(|rel| check_unsafe(&shown(rel), &read(rel)))
        .collect();
    report("unsafe without a SAFETY comment in core/src", &problems);
}

#[test]
fn every_crate_inherits_the_workspace_lints() {
    let manifests = files(|name| name == "Cargo.toml");
    assert!(
        manifests.len() >= 4,
        "tidy: found only {manifests:?}; expected core, host, tests and xtask"
    );
    let problems: Vec<String> = manifests
        .iter()
        .filter(|rel| !rel.starts_with("firmware"))
        .filter_map(|rel| check_lints(&shown(rel), &read(rel)))
        .collect();
    report("crates not inheriting [workspace.lints]", &problems);
}

#[test]
fn readme_names_the_test_command() {
    let text = fs::read_to_string(project_root().join("README.md")).ok();
    let problems: Vec<String> = check_readme(text.as_deref()).into_iter().collect();
    report("README.md", &problems);
}

#[test]
fn ci_script_runs_the_test_command() {
    let path = project_root().join(".ci/run");
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("tidy: .ci/run: cannot read ({e}); CI runs this script"));
    assert!(
        text.lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("cargo xtask test")),
        "tidy: .ci/run: does not run `cargo xtask test`, the README's test command"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        assert!(
            mode & 0o111 != 0,
            "tidy: .ci/run: not executable (mode {mode:o}); run `chmod +x .ci/run` and \
             `git update-index --chmod=+x .ci/run`"
        );
    }
}

// ------------------------------------- the checks can fail: bad inputs --

mod checks_catch_problems {
    use super::*;

    #[test]
    fn module_doc() {
        assert_eq!(check_module_doc("a.rs", "//! A module.\nfn f() {}\n"), None);
        let late = |found: &str| {
            Some(format!(
                "core/src/x.rs:1: the first line must be a `//!` line saying what the \
                 module is for, found `{found}`"
            ))
        };
        assert_eq!(
            check_module_doc("core/src/x.rs", "#![no_std]\n//! Late.\n"),
            late("#![no_std]")
        );
        assert_eq!(
            check_module_doc("core/src/x.rs", "/// Item doc.\n"),
            late("/// Item doc.")
        );
        assert_eq!(
            check_module_doc("a.rs", ""),
            Some(
                "a.rs:1: empty file; it must start with a `//!` line saying what it is for"
                    .to_owned()
            )
        );
    }

    #[test]
    fn length() {
        let short = "//! M.\n".repeat(MAX_LINES);
        assert_eq!(check_length("core/src/a.rs", &short), None);
        let long = format!("{short}fn one_more() {{}}\n");
        assert_eq!(
            check_length("core/src/a.rs", &long),
            Some(format!(
                "core/src/a.rs: {} lines, more than {MAX_LINES}: a file this long holds more \
                 than one concern; split it into modules named by one noun each",
                MAX_LINES + 1
            ))
        );
    }

    #[test]
    fn forbidden_macros() {
        let bad = "//! M.\nfn f() {\n    let x = dbg!(1);\n    todo!()\n}\n";
        assert_eq!(
            check_forbidden_macros("host/src/a.rs", bad),
            [
                "host/src/a.rs:3: `dbg!(` in non-test code: `let x = dbg!(1);`",
                "host/src/a.rs:4: `todo!(` in non-test code: `todo!()`",
            ]
        );
        let bad = "//! M.\nfn g() -> u8 {\n    unimplemented!(\"later\")\n}\n";
        assert_eq!(
            check_forbidden_macros("a.rs", bad),
            ["a.rs:3: `unimplemented!(` in non-test code: `unimplemented!(\"later\")`"]
        );
    }

    #[test]
    fn forbidden_macros_allowed_in_tests_and_comments() {
        let ok = "//! M.\n\
                  // dbg!(x) would print here\n\
                  fn my_dbg() {}\n\
                  fn h() { my_dbg!(1); }\n\
                  #[cfg(test)]\n\
                  mod tests {\n    fn t() {\n        dbg!(1);\n    }\n}\n\
                  #[cfg(test)]\n\
                  fn helper() {\n    todo!()\n}\n";
        assert_eq!(check_forbidden_macros("a.rs", ok), Vec::<String>::new());
        // Code after a test module is checked again.
        let bad = "//! M.\n#[cfg(test)]\nmod tests {\n}\nfn f() {\n    dbg!(2);\n}\n";
        assert_eq!(
            check_forbidden_macros("a.rs", bad),
            ["a.rs:6: `dbg!(` in non-test code: `dbg!(2);`"]
        );
        // A whole-file `#![cfg(test)]` is test code.
        assert!(check_forbidden_macros("a.rs", "//! T.\n#![cfg(test)]\ntodo!();\n").is_empty());
    }

    #[test]
    fn out_of_line_test_modules() {
        let text =
            "//! M.\n#[cfg(test)]\nmod tidy;\n#[cfg(test)]\npub(crate) mod helpers;\nmod real;\n";
        assert_eq!(scan(text).test_mods, ["tidy", "helpers"]);
        assert_eq!(
            test_module_paths(Path::new("xtask/src/main.rs"), "tidy"),
            [
                PathBuf::from("xtask/src/tidy.rs"),
                PathBuf::from("xtask/src/tidy")
            ]
        );
        assert_eq!(
            test_module_paths(Path::new("core/src/conv.rs"), "tests"),
            [
                PathBuf::from("core/src/conv/tests.rs"),
                PathBuf::from("core/src/conv/tests")
            ]
        );
        assert!(is_integration_test(Path::new("tests/tests/golden.rs")));
        assert!(is_integration_test(Path::new("host/tests/cli.rs")));
        assert!(!is_integration_test(Path::new("tests/src/lib.rs")));
    }

    #[test]
    fn unsafe_needs_a_safety_comment() {
        let bad = "//! M.\n#![forbid(unsafe_code)]\n// unsafe in a comment is fine\nfn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n";
        assert_eq!(
            check_unsafe("core/src/k.rs", bad),
            [
                "core/src/k.rs:5: `unsafe` in a file with no `// SAFETY:` comment arguing why \
                 it is sound: `unsafe { *p }`"
            ]
        );
        let argued = bad.replace("    unsafe", "    // SAFETY: p is valid.\n    unsafe");
        assert!(check_unsafe("core/src/k.rs", &argued).is_empty());
    }

    #[test]
    fn lints_table() {
        let good = "[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n";
        assert_eq!(check_lints("a/Cargo.toml", good), None);
        assert_eq!(
            check_lints("a/Cargo.toml", "lints.workspace = true\n[package]\n"),
            None
        );
        let missing = "[package]\nname = \"a\"\n[dependencies]\nworkspace = true\n";
        let err = |path: &str| {
            Some(format!(
                "{path}: no `[lints]` table with `workspace = true`; every crate of the \
                 workspace inherits [workspace.lints] (add it at the end of the file)"
            ))
        };
        assert_eq!(
            check_lints("host/Cargo.toml", missing),
            err("host/Cargo.toml")
        );
        assert_eq!(
            check_lints("a/Cargo.toml", "[lints]\nworkspace = false\n"),
            err("a/Cargo.toml")
        );
        assert_eq!(
            check_lints("a/Cargo.toml", "[lints]\n# workspace = true\n"),
            err("a/Cargo.toml")
        );
    }

    #[test]
    fn readme() {
        assert_eq!(
            check_readme(None).as_deref(),
            Some(
                "README.md: missing at the project root; it must exist and mention \
                 `cargo xtask test` (the test command that .ci/run runs)"
            )
        );
        assert_eq!(
            check_readme(Some("# scanline\n")).as_deref(),
            Some(
                "README.md: does not mention `cargo xtask test` (the test command that \
                 .ci/run runs)"
            )
        );
        assert_eq!(check_readme(Some("Run `cargo xtask test`.\n")), None);
    }
}
