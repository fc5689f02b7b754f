//! `scanline edges` end to end: the panel and .npy files it writes, and a one-line
//! error with a non-zero exit for every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_scanline");

fn photo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scanline-edges-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn edges(args: &[&str]) -> Output {
    Command::new(BIN).arg("edges").args(args).output().unwrap()
}

fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert!(
        stderr.contains(needle),
        "stderr {stderr:?} does not mention {needle:?}"
    );
    let lines = stderr.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(lines, 1, "not a one-line error: {stderr}");
}

#[test]
fn writes_panel_and_npy() {
    let png = tmp("coins.png");
    let dir = tmp("npy");
    let p = photo("coins.png");
    let out = edges(&[
        p.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
        "--pool",
        "2",
        "--npy",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("output quantization: scale"), "{stdout}");
    let img = image::open(&png).unwrap();
    assert!(img.width() > 3 * 384 && img.height() > 303);
    for name in ["conv", "relu", "pool"] {
        let (shape, data) = scanline_host::npy::read_f32(dir.join(format!("{name}.npy"))).unwrap();
        let expect = if name == "pool" {
            [151, 192]
        } else {
            [303, 384]
        };
        assert_eq!(shape, expect);
        assert_eq!(data.len(), expect[0] * expect[1]);
    }
}

#[test]
fn stream_and_frame_write_identical_npy() {
    let p = photo("chelsea.png");
    let mut files = Vec::new();
    for engine in ["frame", "stream"] {
        let dir = tmp(&format!("eng-{engine}"));
        let png = tmp(&format!("eng-{engine}.png"));
        let out = edges(&[
            p.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
            "--pool",
            "3",
            "--engine",
            engine,
            "--npy",
            dir.to_str().unwrap(),
            "--kernel",
            "sobel-x",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for stage in ["conv", "relu", "pool"] {
            files.push(std::fs::read(dir.join(format!("{stage}.npy"))).unwrap());
        }
    }
    assert_eq!(files[..3], files[3..]);
}

#[test]
fn bad_inputs_get_one_line_errors() {
    let p = photo("coins.png");
    let p = p.to_str().unwrap();
    let o = tmp("bad.png");
    let o = o.to_str().unwrap();
    let with_kernel = |k: &str| edges(&[p, "-o", o, "--kernel", k]);
    assert_one_line_error(&with_kernel("1,2;3,4"), "odd");
    assert_one_line_error(&with_kernel("1,2,3;4,5"), "row 2 has 2 values");
    assert_one_line_error(&with_kernel("1,2,3;;7,8,9"), "row 2 is empty");
    assert_one_line_error(&with_kernel("1,a,3;4,5,6;7,8,9"), "not a number");
    assert_one_line_error(&with_kernel("nope"), "unknown kernel");
    assert_one_line_error(&with_kernel("0,0,0;0,0,0;0,0,0"), "zero");
    assert_one_line_error(&edges(&[p, "-o", o, "--pool", "0"]), "--pool");
    assert_one_line_error(&edges(&[p, "-o", o, "--pool", "5000"]), "1..=255");
    let tiny = tmp("tiny.png");
    image::GrayImage::from_pixel(6, 4, image::Luma([9]))
        .save(&tiny)
        .unwrap();
    let t = tiny.to_str().unwrap();
    assert_one_line_error(&edges(&[t, "-o", o, "--pool", "5"]), "does not fit");
    assert_one_line_error(&edges(&["/nonexistent/photo.png", "-o", o]), "photo.png");
    let junk = tmp("junk.png");
    std::fs::write(&junk, b"this is not an image").unwrap();
    assert_one_line_error(&edges(&[junk.to_str().unwrap(), "-o", o]), "junk.png");
    let file = tmp("a-file");
    std::fs::write(&file, b"x").unwrap();
    assert_one_line_error(
        &edges(&[p, "-o", o, "--npy", file.to_str().unwrap()]),
        "a-file",
    );
    let unwritable = "/nonexistent-dir/out.png";
    assert_one_line_error(&edges(&[p, "-o", unwritable]), "out.png");
}
