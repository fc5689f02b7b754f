//! The firmware's built-in edge model is the host's `scanline edges` model, byte
//! for byte: the core's `EdgeModel` fed a photo's lines through the core's
//! `LineConverter` and streamed into a digest sink (the firmware's path, on the
//! host) gives the digest `scanline edges --digest` prints and the host engines'
//! output.

use std::path::PathBuf;
use std::process::Command;

use scanline::digest::Fnv1a32;
use scanline::edges::{EdgeModel, INPUT_QUANT};
use scanline::kernel::Kernel;
use scanline::pixel::{GrayRule, LineConverter, PixelFormat};
use scanline::preset::Preset;
use scanline::stream::Pipeline;
use scanline_host::edges::Edges;
use scanline_host::engine::Engine;
use scanline_host::picture::{self, Channels};

fn data(name: &str) -> PathBuf {
    scanline_testkit::fixture::photo(name)
}

/// The firmware's path on the host: camera lines → LineConverter → Pipeline →
/// digest, all core, no host code.
fn core_digest(
    pixels: &[u8],
    format: PixelFormat,
    model: &scanline::Model<'_>,
    rule: GrayRule,
) -> u32 {
    let conv = LineConverter::for_model(format, model)
        .unwrap()
        .with_gray(rule);
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut pipeline = Pipeline::new(model, &mut arena).unwrap();
    let mut digest = Fnv1a32::new();
    let mut row = vec![0i8; conv.row_len()];
    for line in pixels.chunks_exact(conv.line_len()) {
        conv.convert(line, &mut row).unwrap();
        pipeline.push_row(&row, &mut digest).unwrap();
    }
    pipeline.finish().unwrap();
    assert_eq!(digest.len(), model.output_shape().len());
    digest.value()
}

#[test]
fn core_edge_model_streams_what_the_host_edges_command_computes() {
    for (photo, preset, pool) in [
        ("chelsea.png", Preset::Laplacian8, Some(2)),
        ("chelsea.png", Preset::SobelX, None),
        ("coins.png", Preset::Laplacian8, Some(2)),
        ("camera.png", Preset::Gaussian, Some(3)),
    ] {
        let stored = picture::load(data(photo), Channels::Keep).unwrap();
        let s = stored.shape;
        let format = if s.channels == 3 {
            PixelFormat::Rgb888
        } else {
            PixelFormat::Gray8
        };
        let edges = EdgeModel::new(Kernel::preset(preset), s.channels, pool).unwrap();
        let model = edges.model(s.height, s.width).unwrap();
        let digest = core_digest(&stored.data, format, &model, GrayRule::TensorFlow);

        // The host library's engines over the same photo.
        let host = Edges::new(Kernel::preset(preset), s.channels, pool).unwrap();
        assert_eq!(host.edge_model(), &edges);
        let input = picture::to_int8(&stored, INPUT_QUANT).unwrap();
        for engine in [Engine::Frame, Engine::Stream] {
            let stages = host.run_int8(engine, &input).unwrap();
            let last = stages.pool.as_ref().unwrap_or(&stages.relu);
            assert_eq!(
                scanline_host::output::digest(&last.data),
                digest,
                "{photo} {engine:?}"
            );
        }

        // The command line.
        let out =
            std::env::temp_dir().join(format!("scanline-edge-model-{}.png", std::process::id()));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scanline"));
        cmd.arg("edges").arg(data(photo)).arg("-o").arg(&out);
        cmd.args(["--kernel", preset.name(), "--digest"]);
        if let Some(n) = pool {
            cmd.args(["--pool", &n.to_string()]);
        }
        let run = cmd.output().unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = String::from_utf8(run.stdout).unwrap();
        assert_eq!(
            text.lines().last().unwrap(),
            format!("digest fnv1a32 {digest:08x}"),
            "{photo} {}",
            preset.name()
        );
    }
}

#[test]
fn gray_edges_from_a_colour_photo_follow_the_gray_rule() {
    // `--gray` on a colour photo: the core converter's TensorFlow rule by default,
    // the integer luma the firmware uses on camera pixels with --gray-rule.
    let stored = picture::load(data("chelsea.png"), Channels::Keep).unwrap();
    let s = stored.shape;
    let edges = EdgeModel::new(Kernel::preset(Preset::Laplacian8), 1, Some(2)).unwrap();
    let model = edges.model(s.height, s.width).unwrap();
    for rule in [GrayRule::TensorFlow, GrayRule::IntegerLuma] {
        let digest = core_digest(&stored.data, PixelFormat::Rgb888, &model, rule);
        let out =
            std::env::temp_dir().join(format!("scanline-edge-gray-{}.png", std::process::id()));
        let run = Command::new(env!("CARGO_BIN_EXE_scanline"))
            .arg("edges")
            .arg(data("chelsea.png"))
            .arg("-o")
            .arg(&out)
            .args([
                "--gray",
                "--pool",
                "2",
                "--digest",
                "--gray-rule",
                rule.name(),
            ])
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = String::from_utf8(run.stdout).unwrap();
        assert!(
            text.ends_with(&format!("digest fnv1a32 {digest:08x}\n")),
            "{}: {text}",
            rule.name()
        );
    }
}
