//! JSON: `--json` on `info`, `run` and `compare` writes exactly one JSON object on
//! standard output, in the schemas of docs/json.md; parsed here with serde_json.

mod support;

use serde_json::Value;
use support::{fixture, json, model, scanline, status, stdout, temp_dir};

fn shape(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("a shape is an array")
        .iter()
        .map(|d| d.as_u64().expect("dimensions are integers"))
        .collect()
}

/// `scanline info --model <the case's model> EXTRA... --json`, parsed.
fn info_json(case: &str, extra: &[&str]) -> Value {
    let m = model(case);
    let mut args = vec!["info", "--model", m.to_str().unwrap()];
    args.extend(extra);
    args.push("--json");
    json(args)
}

#[test]
fn info_json_has_every_layer_and_the_totals() {
    let doc = info_json("n3_mini", &[]);
    assert_eq!(doc["schema"], "scanline/info/1");
    assert_eq!(shape(&doc["input"]["shape"]), [30, 40, 1]);
    assert_eq!(doc["input"]["quant"]["zero_point"], -128);
    assert_eq!(doc["input"]["float"], false);
    assert_eq!(shape(&doc["output"]["shape"]), [3, 5, 32]);
    assert_eq!(doc["operators"], 6);
    assert_eq!(doc["planned_width"], Value::Null);
    let layers = doc["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 6);
    assert_eq!(layers[0]["name"], "CONV_2D");
    assert_eq!(layers[0]["window"], "3x3 s1 d1 same");
    assert_eq!(layers[0]["geometry"]["kernel"], serde_json::json!([3, 3]));
    assert_eq!(layers[0]["geometry"]["padding"], "same");
    assert_eq!(layers[0]["macs"], 30 * 40 * 8 * 9);
    assert_eq!(layers[1]["name"], "MAX_POOL_2D");
    let stream: u64 = layers
        .iter()
        .map(|l| l["stream_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(doc["stream_arena_bytes"], stream);
    assert_eq!(doc["stream_arena_bytes"], 2160);
    assert_eq!(doc["frame_peak_bytes"], 12000);
    assert_eq!(doc["conversions"], serde_json::json!([]));

    let wide = info_json("n3_mini", &["--width", "320"]);
    assert_eq!(wide["planned_width"], 320);
    assert_eq!(shape(&wide["input"]["shape"]), [30, 320, 1]);
    assert_eq!(shape(&wide["file_input"]), [30, 40, 1]);
    assert_eq!(wide["stream_arena_bytes"], 17280);
}

#[test]
fn info_json_lists_the_float_conversions() {
    let doc = info_json("float_conv3x3_relu_pool2", &[]);
    assert_eq!(doc["input"]["float"], true);
    assert_eq!(doc["output"]["float"], true);
    let conversions: Vec<&str> = doc["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(conversions, ["QUANTIZE", "DEQUANTIZE"]);
    assert_eq!(doc["layers"][0]["operator"], 1);
}

#[test]
fn run_json_reports_the_output_and_digest() {
    let dir = temp_dir("run-json");
    let out = dir.join("out.npy");
    let doc = json([
        "run".as_ref(),
        "--model".as_ref(),
        model("n3_mini").as_os_str(),
        "--input".as_ref(),
        fixture("n3_mini", "input.npy").as_os_str(),
        "--output".as_ref(),
        out.as_os_str(),
        "--digest".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(doc["schema"], "scanline/run/1");
    assert_eq!(doc["output"], out.to_str().unwrap());
    assert_eq!(shape(&doc["shape"]), [3, 5, 32]);
    assert_eq!(doc["dtype"], "int8");
    assert_eq!(doc["engine"], "stream");
    assert!(doc["millis"].as_f64().unwrap() >= 0.0);
    // The digest is FNV-1a 32 of the output file's data, as 8 hex digits.
    let bytes = std::fs::read(&out).unwrap();
    let header = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let digest = format!("{:08x}", scanline::digest::fnv1a32(&bytes[header..]));
    assert_eq!(doc["digest"], digest);

    // Without --digest it is null; the float engine's dtype is float32.
    let doc = json([
        "run".as_ref(),
        "--model".as_ref(),
        model("n3_mini").as_os_str(),
        "--input".as_ref(),
        fixture("n3_mini", "input.npy").as_os_str(),
        "--output".as_ref(),
        dir.join("float.npy").as_os_str(),
        "--engine".as_ref(),
        "float".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(doc["digest"], Value::Null);
    assert_eq!(
        (&doc["engine"], &doc["dtype"]),
        (&"float".into(), &"float32".into())
    );
}

#[test]
fn compare_json_reports_the_engines_and_the_error() {
    let doc = json([
        "compare".as_ref(),
        "--model".as_ref(),
        model("n3_mini").as_os_str(),
        "--input".as_ref(),
        fixture("n3_mini", "input.npy").as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(doc["schema"], "scanline/compare/1");
    assert_eq!(doc["identical"], true);
    assert_eq!(doc["differences"], 0);
    assert_eq!(doc["values"], 3 * 5 * 32);
    assert_eq!(doc["dequantized"], false);
    assert_eq!(doc["diff"], Value::Null);
    let max = doc["error"]["max_lsb"].as_f64().unwrap();
    assert!(max > 0.0 && max <= 1.5, "{max}");
    assert!(doc["error"]["psnr_db"].as_f64().unwrap() > 40.0);
    assert_eq!(doc["quant"]["zero_point"], -128);
}

#[test]
fn a_failure_with_json_prints_no_json() {
    let out = scanline([
        "info".as_ref(),
        "--model".as_ref(),
        temp_dir("none").join("missing.tflite").as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(status(&out), 1);
    assert_eq!(stdout(&out), "");
}
