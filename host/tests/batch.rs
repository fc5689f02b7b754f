//! Batch: `scanline batch` over folders, files and patterns — one output per
//! input, the same as the single command's, a broken file reported by name and
//! skipped, a summary, exit status 1 if anything failed, and `--json`.

mod support;

use std::path::{Path, PathBuf};

use support::{
    TempDir, fixture, model, ok, parse_one, photo, scanline, status, stderr, stdout, temp_dir,
};

/// A temporary directory and, in it, a folder `in` holding two good inputs for
/// n3_mini (an int8 .npy and a photo, which needs --resize), one broken "PNG",
/// and a text file that is not an input.
fn inputs(name: &str) -> (TempDir, PathBuf) {
    let tmp = temp_dir(name);
    let dir = tmp.join("in");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("n3_mini", "input.npy"), dir.join("a.npy")).unwrap();
    std::fs::copy(photo("camera.png"), dir.join("b.png")).unwrap();
    std::fs::write(dir.join("broken.png"), b"this is not a PNG").unwrap();
    std::fs::write(dir.join("notes.txt"), b"not an input").unwrap();
    (tmp, dir)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `scanline batch run DIR -o OUT --model <n3_mini> --resize EXTRA...`.
fn batch_run_n3(dir: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let m = model("n3_mini");
    let mut args = vec![
        "batch",
        "run",
        s(dir),
        "-o",
        s(out),
        "--model",
        s(&m),
        "--resize",
    ];
    args.extend(extra);
    scanline(args)
}

#[test]
fn a_folder_with_a_broken_file() {
    let (tmp, dir) = inputs("batch-run");
    let out = tmp.join("out");
    let m = model("n3_mini");
    let run = batch_run_n3(&dir, &out, &[]);
    // One failed: exit status 1, the summary says so and names the file.
    assert_eq!(status(&run), 1, "{}", stderr(&run));
    let text = stdout(&run);
    assert!(
        text.starts_with("batch run: 3 inputs, 2 done, 1 failed, in "),
        "{text}"
    );
    let broken = dir.join("broken.png");
    assert!(
        text.contains(&format!("failed: {}: not an image", broken.display())),
        "{text}"
    );
    assert_eq!(stderr(&run), "error: 1 of 3 inputs failed\n");
    // The others are written, each exactly what `scanline run` writes for it.
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["a.npy", "b.npy"]);
    for (input, name) in [("a.npy", "a.npy"), ("b.png", "b.npy")] {
        let single = tmp.join(format!("single-{name}"));
        ok([
            "run",
            "--model",
            s(&m),
            "--input",
            s(&dir.join(input)),
            "--output",
            s(&single),
            "--resize",
        ]);
        assert_eq!(
            std::fs::read(out.join(name)).unwrap(),
            std::fs::read(&single).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn batch_json_has_every_input_and_its_report() {
    let (tmp, dir) = inputs("batch-json");
    let out = tmp.join("out");
    let run = batch_run_n3(&dir, &out, &["--digest", "--json", "-j", "1"]);
    assert_eq!(status(&run), 1);
    let doc = parse_one(&stdout(&run));
    assert_eq!(doc["schema"], "scanline/batch/1");
    assert_eq!(doc["command"], "run");
    assert_eq!(
        (&doc["inputs"], &doc["done"], &doc["failed"]),
        (&3.into(), &2.into(), &1.into())
    );
    assert_eq!(doc["threads"], 1);
    assert!(doc["seconds"].as_f64().unwrap() >= 0.0);
    let jobs = doc["jobs"].as_array().unwrap();
    let names: Vec<&str> = jobs.iter().map(|j| j["input"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            s(&dir.join("a.npy")),
            s(&dir.join("b.png")),
            s(&dir.join("broken.png"))
        ]
    );
    assert_eq!(jobs[0]["ok"], true);
    assert_eq!(jobs[0]["output"], s(&out.join("a.npy")));
    assert_eq!(jobs[0]["report"]["schema"], "scanline/run/1");
    assert_eq!(jobs[0]["report"]["shape"], serde_json::json!([3, 5, 32]));
    // The same digest as a single run of the same input.
    let single = support::json([
        "run",
        "--model",
        s(&model("n3_mini")),
        "--input",
        s(&dir.join("a.npy")),
        "--digest",
        "--json",
    ]);
    assert_eq!(jobs[0]["report"]["digest"], single["digest"]);
    assert_eq!(jobs[2]["ok"], false);
    assert_eq!(jobs[2]["report"], serde_json::Value::Null);
    assert!(
        jobs[2]["error"].as_str().unwrap().contains("not an image"),
        "{}",
        jobs[2]
    );
}

#[test]
fn patterns_named_files_and_repeated_names() {
    let dir = temp_dir("batch-edges");
    for sub in ["x", "y"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::copy(photo("coins.png"), dir.join(sub).join("coins.png")).unwrap();
    }
    let out = dir.join("out");
    // A pattern the shell did not expand, a file named directly, a missing file.
    let missing = dir.join("missing.png");
    let run = scanline([
        "batch",
        "edges",
        s(&dir.join("x/*.png")),
        s(&dir.join("y/coins.png")),
        s(&missing),
        "-o",
        s(&out),
        "--kernel",
        "sobel-x",
        "--gray",
        "--json",
    ]);
    assert_eq!(status(&run), 1);
    let doc = parse_one(&stdout(&run));
    assert_eq!((&doc["done"], &doc["failed"]), (&2.into(), &1.into()));
    let jobs = doc["jobs"].as_array().unwrap();
    assert_eq!(jobs[0]["output"], s(&out.join("coins-edges.png")));
    assert_eq!(jobs[1]["output"], s(&out.join("coins-2-edges.png")));
    assert_eq!(jobs[0]["report"]["schema"], "scanline/edges/1");
    assert_eq!(jobs[0]["report"]["kernel"], "sobel-x");
    assert_eq!(jobs[2]["input"], s(&missing));
    assert!(out.join("coins-edges.png").exists() && out.join("coins-2-edges.png").exists());

    // A pattern that matches nothing is a failure of its own.
    let run = scanline(["batch", "edges", s(&dir.join("*.jpeg")), "-o", s(&out)]);
    assert_eq!(status(&run), 1);
    assert!(
        stdout(&run).contains("the pattern matches no input file"),
        "{}",
        stdout(&run)
    );
}

#[test]
fn a_clean_batch_compare_succeeds() {
    let dir = temp_dir("batch-compare");
    std::fs::copy(fixture("n3_mini", "input.npy"), dir.join("n3.npy")).unwrap();
    let out = dir.join("diffs");
    let text = ok([
        "batch",
        "compare",
        s(&dir.join("n3.npy")),
        "-o",
        s(&out),
        "--model",
        s(&model("n3_mini")),
    ]);
    assert!(
        text.starts_with("batch compare: 1 input, 1 done, 0 failed"),
        "{text}"
    );
    assert!(!text.contains("failed:"), "{text}");
    assert!(out.join("n3-diff.png").exists());
}

#[test]
fn an_output_never_overwrites_an_input() {
    let dir = temp_dir("batch-overwrite");
    std::fs::copy(fixture("n3_mini", "input.npy"), dir.join("x.npy")).unwrap();
    let before = std::fs::read(dir.join("x.npy")).unwrap();
    let run = scanline([
        "batch",
        "run",
        s(dir.path()),
        "-o",
        s(dir.path()),
        "--model",
        s(&model("n3_mini")),
    ]);
    assert_eq!(status(&run), 1);
    assert!(
        stdout(&run).contains("would overwrite an input of this batch"),
        "{}",
        stdout(&run)
    );
    assert_eq!(std::fs::read(dir.join("x.npy")).unwrap(), before);
}

#[test]
fn batch_usage_errors() {
    // No input, no output folder, a bad format, zero threads: usage errors.
    for args in [
        vec!["batch", "run", "-o", "out", "--model", "m.tflite"],
        vec!["batch", "run", "in.npy", "--model", "m.tflite"],
        vec![
            "batch", "run", "in.npy", "-o", "o", "--model", "m", "--format", "bmp",
        ],
        vec!["batch", "edges", "in.png", "-o", "o", "-j", "0"],
        vec!["batch", "features", "in.png", "-o", "o"],
    ] {
        let out = scanline(&args);
        assert_eq!(status(&out), 2, "{args:?}: {}", stderr(&out));
    }
}
