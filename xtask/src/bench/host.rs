//! Host: the host section of `cargo xtask bench` — scanline (every kernel set,
//! one thread and all) beside TensorFlow Lite (XNNPACK, optimized built-ins,
//! reference kernels; one thread) and OpenCV `filter2D`, measured in the same
//! run. TensorFlow Lite and OpenCV come from a Python venv under
//! `target/bench-venv` that this task creates (`--system-site-packages`, then
//! `pip install` of what is missing); if that fails it says so and prints
//! scanline's half.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::Options;
use crate::project_root;

/// What the venv must provide.
const PACKAGES: [&str; 3] = ["tensorflow-cpu==2.21.0", "opencv-python-headless", "numpy"];

/// Runs the section and returns its table (also written to
/// `target/bench/host.md`).
pub fn run(options: &Options) -> Result<String, String> {
    let root = project_root();
    println!("\n==> host: scanline (cargo bench -p scanline-host --bench yardsticks)");
    let ours = scanline_figures(&root, options.quick)?;
    println!("\n==> host: TensorFlow Lite and OpenCV (Python venv)");
    let theirs = match python(&root).and_then(|py| yardsticks(&root, &py, options.quick)) {
        Ok(v) => Some(v),
        Err(e) => {
            println!("host: TensorFlow Lite / OpenCV not measured: {e}");
            None
        }
    };
    let table = render(&ours, theirs.as_ref());
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let md = dir.join("host.md");
    std::fs::write(&md, &table).map_err(|e| format!("{}: {e}", md.display()))?;
    Ok(format!("{table}\n(written to {})", md.display()))
}

fn json_of(text: &str, what: &str) -> Result<Value, String> {
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or_else(|| format!("{what} printed no JSON"))?;
    serde_json::from_str(line).map_err(|e| format!("{what}: bad JSON: {e}"))
}

/// scanline's figures: the `yardsticks` benchmark's JSON.
fn scanline_figures(root: &Path, quick: bool) -> Result<Value, String> {
    let mut cmd = Command::new("cargo");
    cmd.args([
        "bench",
        "-p",
        "scanline-host",
        "--bench",
        "yardsticks",
        "--",
    ])
    .current_dir(root)
    .stderr(Stdio::inherit());
    if quick {
        cmd.arg("--quick");
    }
    let out = cmd.output().map_err(|e| format!("cargo bench: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo bench failed ({})", out.status));
    }
    json_of(
        &String::from_utf8_lossy(&out.stdout),
        "the yardsticks benchmark",
    )
}

/// The venv's python, created and provisioned if needed.
fn python(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target/bench-venv");
    let py = venv.join("bin/python3");
    if !py.is_file() {
        println!(
            "creating {} (python3 -m venv --system-site-packages)",
            venv.display()
        );
        let ok = Command::new("python3")
            .args(["-m", "venv", "--system-site-packages"])
            .arg(&venv)
            .status()
            .map_err(|e| {
                format!("python3 not found ({e}): install Python 3 to compare with TFLite")
            })?;
        if !ok.success() {
            return Err(format!(
                "python3 -m venv failed ({ok}); on Debian: apt-get install python3-venv"
            ));
        }
    }
    let have = Command::new(&py)
        .args(["-c", "import tensorflow, cv2, numpy"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        println!(
            "installing {} into the venv (a few minutes the first time)",
            PACKAGES.join(" ")
        );
        let ok = Command::new(&py)
            .args(["-m", "pip", "install", "--quiet"])
            .args(PACKAGES)
            .status()
            .map_err(|e| format!("pip: {e}"))?;
        if !ok.success() {
            return Err(format!("pip install {} failed ({ok})", PACKAGES.join(" ")));
        }
    }
    Ok(py)
}

/// TensorFlow Lite's and OpenCV's figures: `xtask/bench/host_yardsticks.py`.
fn yardsticks(root: &Path, py: &Path, quick: bool) -> Result<Value, String> {
    let out = Command::new(py)
        .arg(root.join("xtask/bench/host_yardsticks.py"))
        .env("SCANLINE_BENCH_SECONDS", if quick { "0.3" } else { "1.5" })
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("host_yardsticks.py: {e}"))?;
    if !out.status.success() {
        return Err(format!("host_yardsticks.py failed ({})", out.status));
    }
    let v = json_of(&String::from_utf8_lossy(&out.stdout), "host_yardsticks.py")?;
    if let Some(errors) = v["errors"].as_array().filter(|e| !e.is_empty()) {
        for e in errors {
            println!("host_yardsticks.py: {}", e.as_str().unwrap_or("?"));
        }
    }
    Ok(v)
}

/// The scanline time (ms) of one configuration of a workload.
fn ms(results: &Value, kernels: &str, threads: u64, engine: &str) -> Option<f64> {
    results.as_array()?.iter().find_map(|r| {
        (r["kernels"] == kernels && r["threads"] == threads && r["engine"] == engine)
            .then(|| r["ms"].as_f64())
            .flatten()
    })
}

fn cell(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| {
        if v >= 100.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.3}")
        }
    })
}

fn ratio(num: Option<f64>, den: Option<f64>) -> String {
    match (num, den) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "-".into(),
    }
}

/// The markdown tables.
fn render(ours: &Value, theirs: Option<&Value>) -> String {
    let sets: Vec<&str> = ours["kernel_sets"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let best = *sets.last().unwrap_or(&"portable");
    let cores = ours["cores"].as_u64().unwrap_or(1);
    let mut t = String::new();
    let _ = writeln!(t, "## Host: scanline beside TensorFlow Lite and OpenCV\n");
    let _ = writeln!(
        t,
        "Median ms per frame, one thread unless noted; {cores} cores; kernel sets {}; TFLite {} (one thread each). \
         \"x XNNPACK\" / \"x built-in\": their time divided by scanline's best one-thread time (above 1: scanline is faster).\n",
        sets.join(", "),
        theirs.map_or("not measured".into(), |v| v["versions"]["tensorflow"]
            .as_str()
            .unwrap_or("?")
            .to_string())
    );
    let mut head = vec!["workload".to_string(), "MACs".into()];
    for s in &sets {
        head.push(s.to_string());
    }
    head.push(format!("{best} x{cores} thr"));
    head.push(format!("stream ({best})"));
    head.extend(
        [
            "XNNPACK",
            "TFLite built-in",
            "TFLite ref",
            "x XNNPACK",
            "x built-in",
            "threads speed-up",
        ]
        .map(String::from),
    );
    let _ = writeln!(t, "| {} |", head.join(" | "));
    let _ = writeln!(t, "|{}", "---|".repeat(head.len()));
    for w in ours["workloads"].as_array().into_iter().flatten() {
        let name = w["name"].as_str().unwrap_or("?");
        let r = &w["results"];
        let one = ms(r, best, 1, "frame");
        let all = ms(r, best, cores, "frame");
        let tf = theirs.map(|v| &v["tflite"][name]);
        let tfv = |k: &str| tf.and_then(|t| t[k].as_f64());
        let mut row = vec![
            name.to_string(),
            format!("{:.1} M", w["macs"].as_f64().unwrap_or(0.0) / 1e6),
        ];
        for s in &sets {
            row.push(cell(ms(r, s, 1, "frame")));
        }
        row.push(cell(all));
        row.push(cell(ms(r, best, 1, "stream")));
        row.push(cell(tfv("xnnpack")));
        row.push(cell(tfv("builtin")));
        row.push(cell(tfv("ref")));
        row.push(ratio(tfv("xnnpack"), one));
        row.push(ratio(tfv("builtin"), one));
        row.push(ratio(one, all));
        let _ = writeln!(t, "| {} |", row.join(" | "));
    }
    let _ = writeln!(
        t,
        "\n### `edges` (laplacian8, ReLU, 2x2 max-pool, every stage kept) beside OpenCV `filter2D`\n"
    );
    let _ = writeln!(
        t,
        "Mpx/s. OpenCV does only the 3x3 filter (u8 to i16); scanline also requantizes, applies ReLU and pools.\n"
    );
    let _ = writeln!(
        t,
        "| image | scanline ({best}, 1 thread) | scanline (x{cores} threads) | OpenCV filter2D | x OpenCV | threads speed-up |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|");
    let edges: Vec<&Value> = ours["edges"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut images: Vec<&str> = edges.iter().filter_map(|e| e["image"].as_str()).collect();
    images.dedup();
    for image in images {
        let rate = |threads: u64| {
            edges.iter().find_map(|e| {
                (e["image"] == image && e["kernels"] == best && e["threads"] == threads)
                    .then(|| Some(e["pixels"].as_f64()? / (e["ms"].as_f64()? * 1e-3) / 1e6))
                    .flatten()
            })
        };
        let (one, all) = (rate(1), rate(cores));
        let cv = theirs.and_then(|v| v["opencv"][image].as_f64());
        let _ = writeln!(
            t,
            "| {image} | {} | {} | {} | {} | {} |",
            cell(one),
            cell(all),
            cell(cv),
            ratio(one, cv),
            ratio(all, one)
        );
    }
    t
}
