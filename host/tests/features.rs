//! Features: `scanline features` draws a layer's output channels as a grid, one
//! grid per layer with `--all`, for the same inputs as `run`.

mod support;

use scanline_host::engine::Engine;
use scanline_host::mosaic::{self, MIN_TILE};
use scanline_host::network::Network;
use scanline_host::panel::{self, MapRange};
use support::{fails, fixture, model, ok, scanline, status, temp_dir};

fn png_size(path: &std::path::Path) -> (u32, u32) {
    let img = image::open(path).expect("a readable PNG");
    (img.width(), img.height())
}

/// `scanline features` of n3_mini on its fixture input into `grid`, with
/// `extra` arguments; expects success and returns the report.
fn features_n3(grid: &std::path::Path, extra: &[&str]) -> String {
    let (m, input) = (model("n3_mini"), fixture("n3_mini", "input.npy"));
    let mut args = vec!["features", "--model", m.to_str().unwrap()];
    args.extend([
        "--input",
        input.to_str().unwrap(),
        "-o",
        grid.to_str().unwrap(),
    ]);
    args.extend(extra);
    ok(args)
}

#[test]
fn the_default_grid_is_the_last_layer() {
    let dir = temp_dir("features-default");
    let grid = dir.join("grid.png");
    let text = features_n3(&grid, &[]);
    assert!(
        text.contains("layer 5 (MAX_POOL_2D), 32 channels of 3x5"),
        "{text}"
    );
    // The picture is the titled mosaic of the last layer's 32 channels, which are
    // the model's output.
    let net = Network::load(model("n3_mini")).unwrap();
    let input = net.input_from_npy(fixture("n3_mini", "input.npy")).unwrap();
    let out = net.run_int8(Engine::Stream, &input).unwrap();
    let quant = net.import().unwrap().model().output_quant();
    let panels = panel::channel_maps(&out.dequantize(quant), MapRange::PerMap).unwrap();
    assert_eq!(panels.len(), 32);
    let heading = "layer 5: MAX_POOL_2D 3x5x32, each channel over its own range";
    assert_eq!(
        png_size(&grid),
        mosaic::titled_size(heading, &panels, MIN_TILE)
    );
}

#[test]
fn a_layer_cut_gives_the_same_values_as_the_whole_model() {
    // The model cut after its last layer is the model: same output, bit for bit.
    let net = Network::load(model("n3_mini")).unwrap();
    let input = net.input_from_npy(fixture("n3_mini", "input.npy")).unwrap();
    let whole = net.run_int8(Engine::Frame, &input).unwrap();
    let cut = Engine::Frame
        .run(&net.model_through(5).unwrap(), &input.int8)
        .unwrap();
    assert_eq!(whole, cut);
    // And the first layer alone gives its own output shape.
    let first = Engine::Stream
        .run(&net.model_through(0).unwrap(), &input.int8)
        .unwrap();
    assert_eq!(first.shape.to_string(), "30x40x8");
}

#[test]
fn all_writes_one_grid_per_layer_named_after_it() {
    let dir = temp_dir("features-all");
    let text = features_n3(&dir.join("maps/g.png"), &["--all"]);
    assert_eq!(text.lines().count(), 6, "{text}");
    let mut names: Vec<String> = std::fs::read_dir(dir.join("maps"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "g-00-conv2d.png",
            "g-01-max-pool2d.png",
            "g-02-conv2d.png",
            "g-03-max-pool2d.png",
            "g-04-conv2d.png",
            "g-05-max-pool2d.png"
        ]
    );
    for n in &names {
        let (w, h) = png_size(&dir.join("maps").join(n));
        assert!(w > 0 && h > 0);
    }
}

#[test]
fn layers_are_named_by_operator_index_and_images_work() {
    let dir = temp_dir("features-layer");
    // A float-input model: operator 0 is the QUANTIZE, the first layer is operator 1.
    let args = |layer: &str, out: &std::path::Path| {
        vec![
            "features".to_string(),
            "--model".into(),
            model("float_conv3x3_relu_pool2").display().to_string(),
            "--input".into(),
            fixture("float_conv3x3_relu_pool2", "input.npy")
                .display()
                .to_string(),
            "-o".into(),
            out.display().to_string(),
            "--layer".into(),
            layer.into(),
        ]
    };
    let text = ok(args("1", &dir.join("conv.png")));
    assert!(
        text.contains("layer 1 (CONV_2D), 8 channels of 16x16"),
        "{text}"
    );
    fails(
        args("0", &dir.join("q.png")),
        "operator 0 is QUANTIZE, a float conversion, not a layer; the layers are operators 1..=2",
    );
    fails(args("9", &dir.join("q.png")), "there is no operator 9");

    // A picture input, resized, as for `run`.
    let text = ok([
        "features".as_ref(),
        "--model".as_ref(),
        model("walkthrough").as_os_str(),
        "--input".as_ref(),
        support::photo("chelsea.png").as_os_str(),
        "--resize".as_ref(),
        "-o".as_ref(),
        dir.join("walk.png").as_os_str(),
        "--layer".as_ref(),
        "0".as_ref(),
    ]);
    assert!(text.contains("layer 0 (CONV_2D), 64 channels"), "{text}");
}

#[test]
fn bad_feature_requests() {
    let dir = temp_dir("features-bad");
    let base = [
        "features".to_string(),
        "--model".into(),
        model("n3_mini").display().to_string(),
        "--input".into(),
        fixture("n3_mini", "input.npy").display().to_string(),
    ];
    let with = |extra: &[&str]| {
        let mut v: Vec<String> = base.to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let grid = dir.join("g.npy");
    fails(
        with(&["-o", grid.to_str().unwrap()]),
        "the grid must be a .png",
    );
    // --layer and --all together: a usage error.
    let out = scanline(with(&["-o", "x.png", "--layer", "1", "--all"]));
    assert_eq!(status(&out), 2);
    assert!(!dir.join("x.png").exists());
}
