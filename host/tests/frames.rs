//! Frames: raw camera frames through the CLI (`--pixel-format`, `--width`) give
//! exactly what the same pixels give as a PNG, the digest is FNV-1a 32 over the
//! output's bytes, and bad frames are one-line errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scanline::digest::fnv1a32;
use scanline::pixel::{GrayRule, rgb565_to_rgb888};
use scanline_host::npy;
use scanline_testkit as testkit;
use testkit::TempDir;

fn fixture(case: &str, file: &str) -> PathBuf {
    testkit::fixture::tflite(case, file)
}

/// A fresh path in a test's temporary directory (removed with it).
fn temp(dir: &TempDir, name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    dir.join(format!("{}-{name}", N.fetch_add(1, Ordering::Relaxed)))
}

fn scanline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scanline"))
        .args(args)
        .output()
        .expect("run the scanline binary")
}

fn ok(args: &[&str]) -> String {
    let out = scanline(args);
    assert!(
        out.status.success(),
        "scanline {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(args: &[&str], needle: &str) {
    let out = scanline(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{err:?} lacks {needle:?}"
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The data section of a `.npy` file.
fn npy_data(bytes: &[u8]) -> &[u8] {
    let start = match bytes[6] {
        1 => 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize,
        _ => 12 + u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
    };
    &bytes[start..]
}

/// Runs `scanline run` on `input` with `extra` arguments and returns the output
/// `.npy` bytes.
fn run(dir: &TempDir, model: &Path, input: &Path, extra: &[&str]) -> Vec<u8> {
    let out = temp(dir, "out.npy");
    let mut args = vec![
        "run",
        "--model",
        s(model),
        "--input",
        s(input),
        "--output",
        s(&out),
    ];
    args.extend_from_slice(extra);
    ok(&args);
    std::fs::read(out).unwrap()
}

/// The fixture's int8 input as pixel values (`q + 128`: its input quantization is
/// scale 1/255, zero point -128).
fn pixels_of(case: &str) -> (Vec<usize>, Vec<u8>) {
    let (shape, q) = npy::read_i8(fixture(case, "input.npy")).unwrap();
    (shape, q.iter().map(|&v| (v as i32 + 128) as u8).collect())
}

#[test]
fn gray8_raw_frame_equals_the_gray_png() {
    let dir = TempDir::new("frames");
    let case = "n3_mini"; // 30x40x1
    let (shape, pixels) = pixels_of(case);
    let (h, w) = (shape[1], shape[2]);
    let png = temp(&dir, "n3.png");
    image::GrayImage::from_raw(w as u32, h as u32, pixels.clone())
        .unwrap()
        .save(&png)
        .unwrap();
    let raw = temp(&dir, "n3.gray8");
    std::fs::write(&raw, &pixels).unwrap();
    let model = fixture(case, "model.tflite");
    let from_png = run(&dir, &model, &png, &[]);
    let from_raw = run(
        &dir,
        &model,
        &raw,
        &["--pixel-format", "gray8", "--width", "40"],
    );
    assert_eq!(from_png, from_raw);
    let expected = std::fs::read(fixture(case, "expected.npy")).unwrap();
    assert_eq!(npy_data(&from_raw), npy_data(&expected));
}

#[test]
fn rgb888_raw_frame_equals_the_rgb_png() {
    let dir = TempDir::new("frames");
    for case in ["walkthrough", "walkthrough_float"] {
        let png = fixture(case, "input.png");
        let img = image::open(&png).unwrap().to_rgb8();
        let raw = temp(&dir, "walk.rgb888");
        std::fs::write(&raw, img.as_raw()).unwrap();
        let model = fixture(case, "model.tflite");
        let width = img.width().to_string();
        let from_png = run(&dir, &model, &png, &[]);
        let from_raw = run(
            &dir,
            &model,
            &raw,
            &["--pixel-format", "rgb888", "--width", &width],
        );
        assert_eq!(from_png, from_raw, "{case}");
        let expected = std::fs::read(fixture(case, "expected.npy")).unwrap();
        assert_eq!(npy_data(&from_raw), npy_data(&expected), "{case}");
    }
}

#[test]
fn rgb565_raw_frame_equals_its_widened_pixels_as_png() {
    let dir = TempDir::new("frames");
    // RGB565 frames of the walkthrough photo, both byte orders; the PNG holds the
    // same pixels widened by bit replication (the core's rule).
    let case = "walkthrough";
    let img = image::open(fixture(case, "input.png")).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let words: Vec<u16> = img
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(u16::from);
            (r >> 3) << 11 | (g >> 2) << 5 | b >> 3
        })
        .collect();
    let widened: Vec<u8> = words.iter().flat_map(|&v| rgb565_to_rgb888(v)).collect();
    let png = temp(&dir, "565.png");
    image::RgbImage::from_raw(w, h, widened)
        .unwrap()
        .save(&png)
        .unwrap();
    let model = fixture(case, "model.tflite");
    let from_png = run(&dir, &model, &png, &[]);
    let width = w.to_string();
    for (name, bytes) in [
        (
            "rgb565be",
            words
                .iter()
                .flat_map(|v| v.to_be_bytes())
                .collect::<Vec<u8>>(),
        ),
        (
            "rgb565le",
            words.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
    ] {
        let raw = temp(&dir, name);
        std::fs::write(&raw, bytes).unwrap();
        assert_eq!(
            run(
                &dir,
                &model,
                &raw,
                &["--pixel-format", name, "--width", &width]
            ),
            from_png,
            "{name}"
        );
    }
}

#[test]
fn gray_rules_choose_how_colour_becomes_gray() {
    let dir = TempDir::new("frames");
    // A colour PNG and the same pixels as an RGB888 raw frame into a gray model:
    // equal under the same rule, whichever it is; the two rules differ here.
    let case = "n3_mini"; // 30x40x1
    let img = image::RgbImage::from_fn(40, 30, |x, y| {
        image::Rgb([(x * 6) as u8, (y * 8) as u8, 200])
    });
    let png = temp(&dir, "colour.png");
    img.save(&png).unwrap();
    let raw = temp(&dir, "colour.rgb888");
    std::fs::write(&raw, img.as_raw()).unwrap();
    let model = fixture(case, "model.tflite");
    let rawargs = ["--pixel-format", "rgb888", "--width", "40"];
    let mut outs = Vec::new();
    for rule in [GrayRule::TensorFlow, GrayRule::IntegerLuma] {
        let r = rule.name();
        let a = run(&dir, &model, &png, &["--gray-rule", r]);
        let b = run(
            &dir,
            &model,
            &raw,
            &[&rawargs[..], &["--gray-rule", r]].concat(),
        );
        assert_eq!(a, b, "{r}");
        outs.push(a);
    }
    assert_ne!(outs[0], outs[1]);
    // The defaults: tensorflow for pictures, integer-luma for raw frames.
    assert_eq!(run(&dir, &model, &png, &[]), outs[0]);
    assert_eq!(run(&dir, &model, &raw, &rawargs), outs[1]);
}

#[test]
fn digest_is_fnv1a32_over_the_output_bytes() {
    let dir = TempDir::new("frames");
    for case in ["n3_mini", "walkthrough", "float_conv3x3_relu_pool2"] {
        let model = fixture(case, "model.tflite");
        let input = fixture(case, "input.npy");
        let out = temp(&dir, "digest.npy");
        let text = ok(&[
            "run",
            "--model",
            s(&model),
            "--input",
            s(&input),
            "--output",
            s(&out),
            "--digest",
            "--engine",
            "frame",
        ]);
        let line = text.lines().last().unwrap();
        let expected = std::fs::read(fixture(case, "expected.npy")).unwrap();
        if case.starts_with("float") {
            // The digest is of the int8 output before the DEQUANTIZE: recompute it.
            let stream = ok(&[
                "run",
                "--model",
                s(&model),
                "--input",
                s(&input),
                "--digest",
            ]);
            assert_eq!(stream.trim(), line, "{case}: stream and frame digests");
            assert!(
                line.starts_with("digest fnv1a32 ") && line.len() == 23,
                "{line}"
            );
            continue;
        }
        let want = format!("digest fnv1a32 {:08x}", fnv1a32(npy_data(&expected)));
        assert_eq!(line, want, "{case}");
        assert_eq!(npy_data(&std::fs::read(&out).unwrap()), npy_data(&expected));
        // Without --output the digest is all that is printed.
        let only = ok(&[
            "run",
            "--model",
            s(&model),
            "--input",
            s(&input),
            "--digest",
        ]);
        assert_eq!(only, format!("{want}\n"));
    }
}

#[test]
fn bad_frames_are_one_line_errors() {
    let dir = TempDir::new("frames");
    let model = fixture("n3_mini", "model.tflite");
    let m = s(&model);
    let raw = temp(&dir, "short.gray8");
    std::fs::write(&raw, vec![0u8; 30 * 40 - 1]).unwrap();
    let r = s(&raw);
    fails(
        &[
            "run",
            "--model",
            m,
            "--input",
            r,
            "--digest",
            "--pixel-format",
            "gray8",
            "--width",
            "40",
        ],
        "1199 bytes is not a whole number of 40-pixel gray8 lines (40 bytes each)",
    );
    fails(
        &[
            "run",
            "--model",
            m,
            "--input",
            r,
            "--digest",
            "--pixel-format",
            "gray8",
            "--width",
            "0",
        ],
        "--width must be at least 1",
    );
    std::fs::write(&raw, vec![0u8; 20 * 40]).unwrap();
    fails(
        &[
            "run",
            "--model",
            m,
            "--input",
            r,
            "--digest",
            "--pixel-format",
            "gray8",
            "--width",
            "40",
        ],
        "the frame is 20x40",
    );
    fails(
        &[
            "run",
            "--model",
            m,
            "--input",
            r,
            "--digest",
            "--pixel-format",
            "yuyv",
            "--width",
            "25",
        ],
        "the frame is 16x25",
    );
    let missing = temp(&dir, "missing.raw");
    fails(
        &[
            "run",
            "--model",
            m,
            "--input",
            s(&missing),
            "--digest",
            "--pixel-format",
            "gray8",
            "--width",
            "40",
        ],
        "missing.raw",
    );
    fails(
        &[
            "run", "--model", m, "--input", r, "--digest", "--engine", "float",
        ],
        "--digest needs an int8 engine",
    );
    // clap's usage errors: exit 2.
    let out = scanline(&[
        "run",
        "--model",
        m,
        "--input",
        r,
        "--digest",
        "--pixel-format",
        "bgr",
        "--width",
        "4",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("gray8, rgb565le, rgb565be, rgb888, yuyv")
    );
    let out = scanline(&[
        "run",
        "--model",
        m,
        "--input",
        r,
        "--digest",
        "--pixel-format",
        "gray8",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_thread_count_gives_the_same_bytes() {
    let dir = TempDir::new("frames");
    for case in ["n3_mini", "walkthrough"] {
        let model = fixture(case, "model.tflite");
        let input = fixture(case, "input.npy");
        let one = run(
            &dir,
            &model,
            &input,
            &["--engine", "frame", "--threads", "1"],
        );
        for t in ["2", "3", "7"] {
            assert_eq!(
                run(&dir, &model, &input, &["--engine", "frame", "--threads", t]),
                one,
                "{case} x{t}"
            );
        }
        let expected = std::fs::read(fixture(case, "expected.npy")).unwrap();
        assert_eq!(npy_data(&one), npy_data(&expected), "{case}");
    }
    // The edges walkthrough too, and a zero count is a usage error.
    let photo = testkit::fixture::photo("coins.png");
    let digest = |t: &str| {
        let out = temp(&dir, "coins-edges.png");
        let text = ok(&[
            "edges",
            s(&photo),
            "-o",
            s(&out),
            "--pool",
            "2",
            "--digest",
            "--threads",
            t,
        ]);
        text.lines().last().unwrap().to_string()
    };
    assert_eq!(digest("1"), digest("2"));
    let out = scanline(&["edges", s(&photo), "--threads", "0"]);
    assert_eq!(out.status.code(), Some(2));
}
