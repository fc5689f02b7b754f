//! TFLite fixtures: every case in `fixtures/tflite/manifest.txt` imported with
//! `scanline::tflite::parse` and run with the frame engine and with the streaming
//! engine must reproduce TFLite's reference-kernel output (`expected.npy`) byte for
//! byte.

use std::path::Path;

use scanline::tflite;
use scanline_testkit::fixture;

enum Array {
    I8(Vec<i8>),
    F32(Vec<f32>),
}

fn load_npy(path: &Path) -> (Vec<u64>, Array) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    let descr = npy.dtype().descr();
    let data = match descr.trim_matches('\'') {
        "|i1" => Array::I8(npy.into_vec::<i8>().unwrap()),
        "<f4" => Array::F32(npy.into_vec::<f32>().unwrap()),
        other => panic!("{}: unexpected dtype {other}", path.display()),
    };
    (shape, data)
}

/// Runs one case; `Err` describes the first mismatch.
fn run_case(name: &str) -> Result<(), String> {
    let dir = fixture::tflite_dir().join(name);
    let bytes = std::fs::read(dir.join("model.tflite")).map_err(|e| format!("model: {e}"))?;
    let import = tflite::parse(&bytes).map_err(|e| format!("import: {e}"))?;
    let model = import.model();

    // Operators match ops.txt.
    let ops = std::fs::read_to_string(dir.join("ops.txt")).map_err(|e| format!("ops: {e}"))?;
    let want: Vec<&str> = ops.split_whitespace().collect();
    let got: Vec<&str> = import.operators().iter().map(|o| o.name).collect();
    if want != got {
        return Err(format!("operators {got:?}, ops.txt {want:?}"));
    }

    let (in_shape, input) = load_npy(&dir.join("input.npy"));
    let (out_shape, expected) = load_npy(&dir.join("expected.npy"));
    let s = model.input_shape();
    if in_shape != [1, s.height as u64, s.width as u64, s.channels as u64] {
        return Err(format!("input.npy shape {in_shape:?}, model input {s}"));
    }
    let s = model.output_shape();
    // A classifier's output is `[1, N]`: the trailing dimensions of `[1, 1, 1, N]`.
    let mut padded = vec![1u64; 4usize.saturating_sub(out_shape.len())];
    padded.extend(&out_shape);
    if padded != [1, s.height as u64, s.width as u64, s.channels as u64] {
        return Err(format!(
            "expected.npy shape {out_shape:?}, model output {s}"
        ));
    }
    let input: Vec<i8> = match (input, import.float_input()) {
        (Array::I8(v), None) => v,
        (Array::F32(v), Some(q)) => v.iter().map(|&x| q.quantize(x)).collect(),
        _ => return Err("input dtype does not match the model's (float) input".into()),
    };
    // Every kernel set this CPU runs, each through both engines.
    for kernels in scanline_host::engine::available_kernels() {
        let model = &model.clone().with_kernels(kernels);
        let set = kernels.isa().name();
        let mut frame = vec![0i8; model.output_shape().len()];
        let mut scratch = vec![0i8; model.frame_scratch_len()];
        scanline::frame::run(model, &input, &mut frame, &mut scratch)
            .map_err(|e| format!("{set} frame run: {e}"))?;
        let tensor = scanline_host::Tensor::new(model.input_shape(), input.clone())
            .map_err(|e| format!("input: {e}"))?;
        let stream = scanline_host::engine::run_stream(model, &tensor)
            .map_err(|e| format!("{set} stream run: {e}"))?
            .data;
        // Row bands on several threads: the same bytes.
        let threads = scanline_host::engine::run_frame_threads(model, &tensor, 3)
            .map_err(|e| format!("{set} threaded frame run: {e}"))?
            .data;
        for (engine, output) in [("frame", frame), ("stream", stream), ("frame x3", threads)] {
            check_output(&expected, import.float_output(), &output)
                .map_err(|e| format!("{set} {engine}: {e}"))?;
        }
    }
    Ok(())
}

/// Compares an int8 engine output with `expected.npy` (dequantized first for a
/// model ending in DEQUANTIZE).
fn check_output(
    expected: &Array,
    float_output: Option<scanline::Quant>,
    output: &[i8],
) -> Result<(), String> {
    let n = match expected {
        Array::I8(v) => v.len(),
        Array::F32(v) => v.len(),
    };
    if output.len() != n {
        return Err(format!("{} outputs, expected.npy has {n}", output.len()));
    }
    match (expected, float_output) {
        (Array::I8(want), None) => {
            let bad: Vec<usize> = (0..want.len()).filter(|&i| want[i] != output[i]).collect();
            if let Some(&i) = bad.first() {
                return Err(format!(
                    "{} of {} int8 outputs differ; first at flat index {i}: got {}, want {}",
                    bad.len(),
                    want.len(),
                    output[i],
                    want[i]
                ));
            }
        }
        (Array::F32(want), Some(q)) => {
            // TFLite's DEQUANTIZE: scale * (q - zero_point), one rounding to f32.
            let got: Vec<f32> = output.iter().map(|&v| q.dequantize(v)).collect();
            let bad: Vec<usize> = (0..want.len())
                .filter(|&i| want[i].to_bits() != got[i].to_bits())
                .collect();
            if let Some(&i) = bad.first() {
                return Err(format!(
                    "{} of {} float outputs differ; first at flat index {i}: got {}, want {}",
                    bad.len(),
                    want.len(),
                    got[i],
                    want[i]
                ));
            }
        }
        _ => return Err("expected dtype does not match the model's (float) output".into()),
    }
    Ok(())
}

#[test]
fn every_fixture_is_bit_exact_with_tflite_reference_kernels() {
    let cases = fixture::tflite_cases();
    assert!(
        cases.len() >= 25,
        "expected at least 25 fixture cases, manifest lists {}",
        cases.len()
    );
    // Every case directory is in the manifest, and every manifest case has a directory.
    let mut dirs: Vec<String> = std::fs::read_dir(fixture::tflite_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("model.tflite").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut listed = cases.clone();
    listed.sort();
    assert_eq!(
        dirs, listed,
        "fixture directories and manifest.txt disagree"
    );

    let mut passed = 0;
    let mut failures = Vec::new();
    for name in &cases {
        match run_case(name) {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{passed} of {} fixtures bit-exact; failures:\n{}",
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(passed, cases.len());
}

#[test]
fn float_io_models_expose_their_quantization() {
    let bytes = fixture::read(fixture::tflite("walkthrough_float", "model.tflite"));
    let import = tflite::parse(&bytes).unwrap();
    let qin = import.float_input().expect("QUANTIZE input");
    // The representative data span [0, 1]: scale 1/255 (the f32 nearest to it, as
    // the converter computes (1 - 0) / 255 in f32), zero point -128.
    assert_eq!(qin, scanline::Quant::new(1.0 / 255.0, -128));
    assert_eq!(import.float_output(), Some(import.model().output_quant()));
    let names: Vec<_> = import.operators().iter().map(|o| o.name).collect();
    assert_eq!(names, ["QUANTIZE", "CONV_2D", "MAX_POOL_2D", "DEQUANTIZE"]);
    let layers: Vec<_> = import.operators().iter().map(|o| o.layer).collect();
    assert_eq!(layers, [None, Some(0), Some(1), None]);
    assert_eq!(import.operator_of_layer(1).unwrap().index, 2);

    let bytes = fixture::read(fixture::tflite("walkthrough", "model.tflite"));
    let import = tflite::parse(&bytes).unwrap();
    assert_eq!(import.float_input(), None);
    assert_eq!(import.float_output(), None);
    assert_eq!(import.model().layers().len(), 2);
}
