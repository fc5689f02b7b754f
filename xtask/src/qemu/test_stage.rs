//! Test stage: the firmware stage of `cargo xtask test` — every fixture, every
//! photo and a capture log in one boot, each checked against the host.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scanline::Model;
use scanline::pixel::PixelFormat;
use scanline_firmware::job::{Dump, ModelSpec};
use scanline_firmware::recording::{self};
use scanline_host::verify::{self, Capture};

use super::*;
use crate::project_root;

/// One job of the test boot and what it is checked against.
pub(super) struct TestJob {
    pub(super) name: String,
    pub(super) prepared: Prepared,
    /// The fixture's `expected.npy` (int8 models only).
    pub(super) expected: Option<Vec<i8>>,
    /// Whether its capture log (dump `full`) is checked by `scanline verify`'s
    /// checker too.
    pub(super) verify: bool,
}

/// The firmware stage of `cargo xtask test`: every `.tflite` fixture, every
/// bundled photo through the edge model (as image lines and as RGB565 raw
/// frames), a multi-frame raw recording checked through its capture log, all in
/// one QEMU boot; then a truncated recording in a second boot, which must fail
/// cleanly naming the line; then each camera fault kind injected once
/// ([`fault_run`]). Fails unless every output equals the host's.
pub fn test_stage(install: bool) -> Result<(), String> {
    crate::test::ensure_qemu(install)?;
    let elf = build_firmware()?;
    let root = project_root();
    let work = work_dir("test")?;
    let mut jobs = Vec::new();

    let fixtures = root.join("tests/fixtures/tflite");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .map_err(|e| format!("{}: {e}", fixtures.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("model.tflite").is_file() && p.join("input.npy").is_file())
        .collect();
    dirs.sort();
    if dirs.len() < 10 {
        return Err(format!(
            "only {} fixtures found in {}",
            dirs.len(),
            fixtures.display()
        ));
    }
    for dir in &dirs {
        let name = dir
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let model = ModelChoice::File(dir.join("model.tflite"));
        let prepared =
            prepare(&model, &dir.join("input.npy"), None).map_err(|e| format!("{name}: {e}"))?;
        let expected = host::expected_int8(&dir.join("expected.npy"))?;
        if let Some(e) = &expected
            && e != prepared.expected()
        {
            return Err(format!(
                "{name}: the host frame engine differs from expected.npy"
            ));
        }
        jobs.push(TestJob {
            verify: name == "n3_mini",
            name,
            prepared,
            expected,
        });
    }

    let photos = root.join("tests/data");
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(&photos)
        .map_err(|e| format!("{}: {e}", photos.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pngs.sort();
    if pngs.is_empty() {
        return Err(format!("no photos in {}", photos.display()));
    }
    let edges = ModelChoice::Edges { pool: 2 };
    for png in &pngs {
        let name = png
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        jobs.push(TestJob {
            name: format!("{name} (edges, image lines)"),
            prepared: prepare(&edges, png, None).map_err(|e| format!("{name}: {e}"))?,
            expected: None,
            verify: false,
        });
        let pixels = host::picture(png)?;
        let raw = work.join(format!("{name}.rgb565"));
        std::fs::write(&raw, rgb565_be(&pixels.data, pixels.shape.channels))
            .map_err(|e| format!("{}: {e}", raw.display()))?;
        let format = PixelFormat::Rgb565(scanline::pixel::ByteOrder::Big);
        jobs.push(TestJob {
            name: format!("{name} (edges, RGB565 frame)"),
            prepared: prepare(&edges, &raw, Some((format, pixels.shape.width)))
                .map_err(|e| format!("{name} as RGB565: {e}"))?,
            expected: None,
            verify: false,
        });
    }
    // Three small RGB565 frames cut from the first photo, dumped in full: the
    // capture log is checked by the verifier as a board's would be.
    let pixels = host::picture(&pngs[0])?;
    let (h, w, c) = (24, 32, pixels.shape.channels);
    let mut crops = Vec::new();
    for f in 0..3 {
        crops.extend(crop(&pixels, f * 40, f * 50, h, w));
    }
    let raw = work.join("crops.rgb565");
    std::fs::write(&raw, rgb565_be(&crops, c)).map_err(|e| format!("{}: {e}", raw.display()))?;
    let format = PixelFormat::Rgb565(scanline::pixel::ByteOrder::Big);
    let (header, lines) = raw_recording(&raw, format, w, Some(h))?;
    let crop_job = edges_job(header, lines)?;
    jobs.push(TestJob {
        name: "three RGB565 crops (capture log)".into(),
        prepared: crop_job,
        expected: None,
        verify: true,
    });

    let lines: Vec<String> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let dump = if j.verify { Dump::Full } else { Dump::Digest };
            j.prepared.job(&work, i, dump)
        })
        .collect::<Result<_, _>>()?;
    let boot1 = boot(&elf, &work, &lines, Duration::from_secs(DEFAULT_TIMEOUT))?;
    let text = boot1.log.join("\n");
    std::fs::write(work.join("capture.log"), &text).map_err(|e| e.to_string())?;
    let captures = verify::parse(&text).map_err(|e| e.to_string())?;
    print!("{}", report(&boot1, &captures));
    let mut failures = Vec::new();
    if captures.len() != jobs.len() {
        failures.push(format!(
            "{} jobs ran, {} logged a model line (log: {})",
            jobs.len(),
            captures.len(),
            work.join("capture.log").display()
        ));
    }
    for (i, job) in jobs.iter().enumerate() {
        let output = std::fs::read(work.join(format!("output-{i}.bin"))).unwrap_or_default();
        let capture = captures.get(i);
        if let Err(e) = job.prepared.check(&output, capture) {
            failures.push(format!("{}: {e}", job.name));
            continue;
        }
        if let Some(expected) = &job.expected
            && output.iter().map(|&b| b as i8).ne(expected.iter().copied())
        {
            failures.push(format!(
                "{}: the firmware's output differs from expected.npy",
                job.name
            ));
        }
        if job.verify
            && let Some(capture) = capture
            && let Err(e) = verify_capture(&job.prepared, capture)
        {
            failures.push(format!("{}: verify: {e}", job.name));
        }
    }
    if boot1.exit != 0 {
        failures.push(format!(
            "the firmware exited with {} (log: {})",
            boot1.exit,
            work.join("capture.log").display()
        ));
    }
    println!(
        "firmware qemu: {} jobs ({} fixtures, {} photo runs, 1 capture) in one boot, {:.1} s",
        jobs.len(),
        dirs.len(),
        2 * pngs.len(),
        boot1.secs
    );

    // A truncated recording: frame 0 whole, frame 1 cut in line 17.
    let n3 = jobs
        .iter()
        .find(|j| j.name == "n3_mini")
        .ok_or("the n3_mini fixture is missing")?;
    let mut cut = n3.prepared.recording.clone();
    let mut header = n3.prepared.header;
    header.frames = 2;
    cut[..recording::HEADER_LEN].copy_from_slice(&header.to_bytes());
    let frame = n3.prepared.recording[recording::HEADER_LEN..].to_vec();
    cut.extend_from_slice(&frame[..17 * header.line_len() + 5]);
    let truncated = Prepared {
        recording: cut,
        header,
        ..n3.prepared.clone()
    };
    let job = truncated.job(&work, 999, Dump::Digest)?;
    let boot2 = boot(&elf, &work, &[job], Duration::from_secs(DEFAULT_TIMEOUT))?;
    let text2 = boot2.log.join("\n");
    let names_line = text2.contains("dropped fault=line error=line 17: 5 of 40 bytes came");
    if boot2.exit != 1 || !names_line || !text2.contains("frame=0 ok") {
        failures.push(format!(
            "a truncated recording must end in exit 1 with frame 0 ok and frame 1 dropped at \
             line 17; got exit {} and:\n{text2}",
            boot2.exit
        ));
    } else {
        println!(
            "truncated recording: frame 0 ok, frame 1 dropped at line 17, exit 1 (as it must)"
        );
    }
    // Each camera fault kind once, in a third boot.
    if let Err(e) = fault_run(&elf) {
        failures.push(e);
    }
    if failures.is_empty() {
        // The boot's files are kept only when something went wrong.
        let _ = std::fs::remove_dir_all(&work);
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// Checks a capture log with `scanline verify`'s checker, every frame.
pub(super) fn verify_capture(prepared: &Prepared, capture: &Capture) -> Result<(), String> {
    let spec = ModelSpec::parse(&prepared.spec).map_err(|e| e.to_string())?;
    let (channels, pool) = match spec {
        ModelSpec::Edges { channels, pool } => (channels, pool),
        ModelSpec::File(path) => {
            let net = host::load(Path::new(path))?;
            let import = net.import().map_err(|e| e.to_string())?;
            return verify_frames(capture, import.model(), prepared.header.frames);
        }
        ModelSpec::Fit(_) => return Err("capture checks of fit: models are not wired".into()),
        ModelSpec::Workload(_) => return Err("workload jobs log no capture".into()),
    };
    let edges = scanline_firmware::job::edge_model(channels, pool).map_err(|e| e.to_string())?;
    let model = edges
        .model(prepared.header.height, prepared.header.width)
        .map_err(|e| e.to_string())?;
    verify_frames(capture, &model, prepared.header.frames)
}

pub(super) fn verify_frames(
    capture: &Capture,
    model: &Model<'_>,
    frames: usize,
) -> Result<(), String> {
    if capture.frames.len() != frames {
        return Err(format!(
            "{} frames logged, {frames} expected",
            capture.frames.len()
        ));
    }
    for f in &capture.frames {
        if f.rows.is_empty() || f.lines.is_empty() {
            return Err(format!(
                "frame {}: its lines and rows were not dumped",
                f.number
            ));
        }
        match verify::check_frame(capture, f, model).map_err(|e| e.to_string())? {
            verify::Verdict::Match => {}
            other => return Err(format!("frame {}: {other}", f.number)),
        }
    }
    Ok(())
}

/// RGB565, high byte first, of 8-bit pixels (gray replicated into R, G, B).
pub(super) fn rgb565_be(pixels: &[u8], channels: usize) -> Vec<u8> {
    pixels
        .chunks_exact(channels)
        .flat_map(|p| {
            let (r, g, b) = if channels == 3 {
                (p[0], p[1], p[2])
            } else {
                (p[0], p[0], p[0])
            };
            let v = (u16::from(r >> 3) << 11) | (u16::from(g >> 2) << 5) | u16::from(b >> 3);
            v.to_be_bytes()
        })
        .collect()
}
