//! Tutorial: what docs/tutorial.md shows of `examples/walkthrough` and
//! `examples/board` stays true — the output equals TensorFlow Lite's reference
//! kernels', the digest and memory figures it prints, and its feature-map
//! pictures (golden files: `cargo xtask test --bless` rewrites them).

mod support;

use std::path::{Path, PathBuf};

use scanline_host::npy::{self, Data};
use scanline_testkit::fixture::root;
use scanline_testkit::golden;
use support::{ok, temp_dir};

fn example(path: &str) -> PathBuf {
    root().join("examples").join(path)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn int8(path: &Path) -> (Vec<usize>, Vec<i8>) {
    let array = npy::read_any(path).unwrap();
    match array.data {
        Data::I8(v) => (array.shape, v),
        other => panic!("{}: {}", path.display(), other.dtype()),
    }
}

#[test]
fn the_walkthrough_model_gives_tflites_reference_output() {
    let dir = temp_dir("tutorial-run");
    let model = example("walkthrough/model.tflite");
    let expected = int8(&example("walkthrough/expected.npy"));
    for input in ["walkthrough/input.png", "walkthrough/input.npy"] {
        let out = dir.join("out.npy");
        let text = ok([
            "run",
            "--model",
            s(&model),
            "--input",
            s(&example(input)),
            "--output",
            s(&out),
            "--digest",
        ]);
        assert!(text.ends_with("digest fnv1a32 fdf8386b\n"), "{text}");
        assert_eq!(int8(&out), expected, "{input}");
    }
    let compare = ok([
        "compare",
        "--model",
        s(&model),
        "--input",
        s(&example("walkthrough/input.png")),
    ]);
    assert!(
        compare.contains("frame == stream: identical (93248 values)"),
        "{compare}"
    );
}

#[test]
fn the_memory_figures_of_the_tutorial() {
    let walkthrough = example("walkthrough/model.tflite");
    let info = ok(["info", "--model", s(&walkthrough)]);
    assert!(info.contains("streaming arena:  9,600 bytes"), "{info}");
    let wide = ok(["info", "--model", s(&walkthrough), "--width", "320"]);
    assert!(wide.contains("streaming arena:  32,448 bytes"), "{wide}");
    // The board model fits the board binary's 28 KiB (28,672-byte) arena.
    let board = ok(["info", "--model", s(&example("board/model.tflite"))]);
    assert!(board.contains("input:  240x320x3 int8"), "{board}");
    assert!(board.contains("streaming arena:  17,184 bytes"), "{board}");
}

#[test]
fn the_tutorial_pictures_are_what_features_draws() {
    let dir = temp_dir("tutorial-features");
    ok([
        "features",
        "--model",
        s(&example("walkthrough/model.tflite")),
        "--input",
        s(&example("walkthrough/input.png")),
        "-o",
        s(&dir.join("tutorial-features.png")),
        "--all",
    ]);
    for name in [
        "tutorial-features-00-conv2d.png",
        "tutorial-features-01-max-pool2d.png",
    ] {
        let drawn = std::fs::read(dir.join(name)).unwrap();
        golden::check(root().join("docs").join(name), &drawn).unwrap();
    }
}
