//! Soak: camera faults in QEMU, checked frame by frame against the host —
//! `cargo xtask soak` (N frames, faults at seeded random lines) and the fault
//! run of the firmware stage (each fault kind once).
//!
//! The recording is N small RGB565 frames cut from the bundled photos at
//! seeded places, run through the built-in edge model (`edges/3/2`); the
//! firmware wraps it in the fault injector with the job's plan
//! (`scanline_firmware::inject`). The host reads the same plan and checks: a
//! planned fault drops exactly its frame, counted under its reason; every other
//! frame's digest equals the host frame engine's; the firmware exits 0 (it
//! checks the same on its side); the stack high-water mark, logged every 100
//! frames, stays flat.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use scanline::pixel::{ByteOrder, PixelFormat};
use scanline_firmware::inject::Plan;
use scanline_firmware::job::{Dump, ModelSpec};
use scanline_firmware::recording::{Header, Kind as LineKind};
use scanline_host::verify::{self, Outcome};

use super::*;
use crate::project_root;

/// Frame size of the soak and the fault run: small, so that 1000 frames take
/// seconds in QEMU (the per-frame code paths are those of a QVGA frame).
pub const HEIGHT: usize = 24;
/// See [`HEIGHT`].
pub const WIDTH: usize = 32;

/// The fault run of `cargo xtask test`: each kind once, every other frame clean.
pub const EACH_KIND: &str = "1:short@5,3:missing@9,5:stall@2,7:overrun@0,9:bus@17";

const USAGE: &str = "\
usage: cargo xtask soak [--frames N] [--seed S] [--permille P] [--elf ELF]

Runs N frames (default 1000) of 24x32 RGB565 pictures cut from the bundled
photos through the firmware's edge model in QEMU (mps2-an386), with camera
faults (short line, missing line, stall, FIFO overrun, bus error) injected on
P per thousand frames (default 100) at lines drawn from seed S (default 1).
Reports frames processed, dropped and why, digest mismatches against the host
frame engine (must be 0) and the stack high-water mark after every 100 frames
(must stay flat); exits non-zero unless every frame behaved as planned.
";

/// SplitMix64 step: where a frame is cut from (the same idea as the firmware's
/// plans, kept separate: crops are a host-side matter).
fn mix(z: u64) -> u64 {
    let z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `frames` RGB565 frames of [`HEIGHT`]x[`WIDTH`], cut from the bundled photos
/// at places drawn from `seed`, as a prepared edge-model job.
pub fn recording(frames: usize, seed: u64) -> Result<Prepared, String> {
    let dir = project_root().join("tests/data");
    let mut photos = Vec::new();
    for name in ["camera.png", "chelsea.png", "coins.png"] {
        photos.push(host::picture(&dir.join(name))?);
    }
    let mut lines = Vec::with_capacity(frames * HEIGHT * WIDTH * 2);
    for f in 0..frames {
        let h = mix(seed ^ ((f as u64) << 20));
        let p = &photos[f % photos.len()];
        let (ph, pw, c) = (p.shape.height, p.shape.width, p.shape.channels);
        let (y0, x0) = (
            (h as usize) % (ph - HEIGHT),
            ((h >> 32) as usize) % (pw - WIDTH),
        );
        lines.extend(rgb565_be(&crop(p, y0, x0, HEIGHT, WIDTH), c));
    }
    let header = Header {
        kind: LineKind::Pixels {
            format: PixelFormat::Rgb565(ByteOrder::Big),
            gray: scanline::pixel::GrayRule::IntegerLuma,
        },
        width: WIDTH,
        height: HEIGHT,
        frames,
    };
    edges_job(header, lines)
}

/// The `h` x `w` pixels of picture `p` from row `y0`, column `x0`.
pub(super) fn crop(p: &host::HostTensor<u8>, y0: usize, x0: usize, h: usize, w: usize) -> Vec<u8> {
    let (pw, c) = (p.shape.width, p.shape.channels);
    let mut out = Vec::with_capacity(h * w * c);
    for y in y0..y0 + h {
        let start = (y * pw + x0) * c;
        out.extend_from_slice(&p.data[start..start + w * c]);
    }
    out
}

/// A recording of RGB lines through the built-in edge model `edges/3/2`,
/// with the host's answer.
pub(super) fn edges_job(header: Header, lines: Vec<u8>) -> Result<Prepared, String> {
    let edges = scanline_firmware::job::edge_model(3, 2).map_err(|e| e.to_string())?;
    let model = edges
        .model(header.height, header.width)
        .map_err(|e| e.to_string())?;
    let spec = ModelSpec::Edges {
        channels: 3,
        pool: 2,
    }
    .to_string();
    finish(spec, &model, false, header, lines)
}

/// What one run with injected faults came to.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Frames in the recording.
    pub frames: usize,
    /// Frames the firmware processed (a result logged).
    pub processed: usize,
    /// Frames that went through, with the host's digest.
    pub ok: usize,
    /// Frames dropped, by fault name.
    pub dropped: BTreeMap<String, usize>,
    /// Frames planned to break.
    pub planned: usize,
    /// Frames whose digest differs from the host's.
    pub mismatches: usize,
    /// Every way the run differs from the plan (mismatches included).
    pub problems: Vec<String>,
    /// (frames so far, stack high-water bytes) from the progress lines.
    pub stack: Vec<(usize, usize)>,
    /// The firmware's exit code.
    pub exit: i32,
    /// Wall time of the QEMU run.
    pub secs: f64,
}

impl Tally {
    /// True if the run went exactly as planned.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report printed by `cargo xtask soak` (and the fault run), titled `title`.
    pub fn report(&self, title: &str, plan: &str) -> String {
        let mut out = String::new();
        let dropped: usize = self.dropped.values().sum();
        let reasons: Vec<String> = self
            .dropped
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            out,
            "{title}: {} frames of {HEIGHT}x{WIDTH} RGB565 through edges/3/2 in QEMU, faults {plan}, {:.1} s",
            self.frames, self.secs
        );
        let _ = writeln!(
            out,
            "frames processed {}, ok {}, dropped {dropped} ({}); {} faults planned",
            self.processed,
            self.ok,
            if reasons.is_empty() {
                "none".into()
            } else {
                reasons.join(", ")
            },
            self.planned
        );
        let _ = writeln!(out, "digest mismatches: {}", self.mismatches);
        let marks: Vec<String> = self
            .stack
            .iter()
            .map(|(f, s)| format!("{f}: {s}"))
            .collect();
        let flat = self.stack.windows(2).all(|w| w[0].1 == w[1].1);
        if marks.is_empty() {
            let _ = writeln!(
                out,
                "stack high-water: no progress line (fewer than 100 frames)"
            );
        } else {
            let _ = writeln!(
                out,
                "stack high-water (bytes) after frame {} -> {}",
                marks.join(", "),
                if flat { "flat" } else { "NOT flat" }
            );
        }
        let _ = writeln!(out, "firmware exit {}", self.exit);
        for p in self.problems.iter().take(20) {
            let _ = writeln!(out, "PROBLEM: {p}");
        }
        out
    }
}

/// Runs `prepared` in QEMU with faults `plan` and checks every frame against
/// the plan and the host.
pub fn run_plan(elf: &Path, name: &str, prepared: &Prepared, plan: &str) -> Result<Tally, String> {
    let parsed = Plan::parse(plan).map_err(|e| format!("--plan {plan}: {e}"))?;
    let work = work_dir(name)?;
    let job = prepared.job_with_faults(&work, 0, Dump::Digest, parsed)?;
    let frames = prepared.header.frames;
    // A frame takes well under a second even when it stalls.
    let timeout = Duration::from_secs(DEFAULT_TIMEOUT + frames as u64 / 10);
    let boot = boot(elf, &work, &[job], timeout)?;
    let text = boot.log.join("\n");
    std::fs::write(work.join("capture.log"), &text).map_err(|e| e.to_string())?;
    let captures = verify::parse(&text).map_err(|e| e.to_string())?;
    let mut t = Tally {
        frames,
        exit: boot.exit,
        secs: boot.secs,
        ..Tally::default()
    };
    let Some(capture) = captures.first() else {
        return Err(format!("the firmware logged no model line:\n{text}"));
    };
    let frame_len = prepared.output.len();
    let expected = prepared.expected();
    for f in 0..frames {
        let planned = parsed.at(f as u32, prepared.header.height);
        let frame = capture.frames.iter().find(|fr| fr.number == f as u32);
        let outcome = frame.and_then(|fr| fr.outcome.as_ref());
        if outcome.is_some() {
            t.processed += 1;
        }
        if planned.is_some() {
            t.planned += 1;
        }
        match (planned, outcome) {
            (_, None) => t.problems.push(format!("frame {f}: no result in the log")),
            (Some(i), Some(Outcome::Dropped { fault, error })) => {
                *t.dropped.entry(fault.clone()).or_default() += 1;
                if fault != i.kind.fault().name() {
                    t.problems.push(format!(
                        "frame {f}: {}@{} planned, dropped as {fault}: {error}",
                        i.kind.name(),
                        i.line
                    ));
                }
            }
            (Some(i), Some(Outcome::Ok { .. })) => t.problems.push(format!(
                "frame {f}: {}@{} planned, but the frame went through",
                i.kind.name(),
                i.line
            )),
            (None, Some(Outcome::Dropped { fault, error })) => {
                *t.dropped.entry(fault.clone()).or_default() += 1;
                t.problems.push(format!(
                    "frame {f}: dropped without a fault planned ({fault}): {error}"
                ));
            }
            (None, Some(Outcome::Ok { digest, .. })) => {
                t.ok += 1;
                let host = digest_of(&expected[f * frame_len..][..frame_len]);
                if *digest != host {
                    t.mismatches += 1;
                    t.problems.push(format!(
                        "frame {f}: firmware digest {digest:08x}, host {host:08x}"
                    ));
                }
            }
        }
    }
    for line in boot.log.iter().filter(|l| l.contains("scanline progress=")) {
        let n = field_text(line, "progress").parse().unwrap_or(0);
        let s = field_text(line, "stack_high_water").parse().unwrap_or(0);
        t.stack.push((n, s));
    }
    if t.stack.len() != frames / 100 {
        t.problems.push(format!(
            "{} progress lines logged, {} expected",
            t.stack.len(),
            frames / 100
        ));
    }
    if !t.stack.windows(2).all(|w| w[0].1 == w[1].1) {
        t.problems
            .push("the stack high-water mark grew during the run".into());
    }
    if boot.exit != 0 {
        t.problems
            .push(format!("the firmware exited with {}", boot.exit));
    }
    if t.passed() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        t.problems
            .push(format!("log: {}", work.join("capture.log").display()));
    }
    Ok(t)
}

/// The fault run of the firmware stage: [`EACH_KIND`] over 12 frames.
pub fn fault_run(elf: &Path) -> Result<(), String> {
    let prepared = recording(12, 11)?;
    let t = run_plan(elf, "faults", &prepared, EACH_KIND)?;
    print!("{}", t.report("fault run", EACH_KIND));
    if t.passed() && t.dropped.values().sum::<usize>() == 5 && t.ok == 7 {
        println!(
            "fault run: each kind dropped exactly its frame, counted by reason; the frames after it equal the host's"
        );
        Ok(())
    } else {
        Err(format!(
            "the fault run went wrong:\n{}",
            t.report("fault run", EACH_KIND)
        ))
    }
}

/// The soak: `frames` frames, faults on `permille` per thousand at lines drawn
/// from `seed`.
pub fn soak(elf: &Path, frames: usize, seed: u32, permille: u16) -> Result<Tally, String> {
    let prepared = recording(frames, u64::from(seed))?;
    let plan = format!("random/{seed}/{permille}");
    let t = run_plan(elf, "soak", &prepared, &plan)?;
    print!("{}", t.report("soak", &plan));
    Ok(t)
}

/// The soak stage of `cargo xtask test`: 100 frames, seed 1.
pub fn soak_stage(install: bool) -> Result<(), String> {
    crate::test::ensure_qemu(install)?;
    let elf = build_firmware()?;
    let t = soak(&elf, 100, 1, 100)?;
    if t.passed() {
        Ok(())
    } else {
        Err(t.problems.join("\n"))
    }
}

/// Runs `cargo xtask soak` with the arguments after `soak`.
pub fn soak_task(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (mut frames, mut seed, mut permille, mut elf) = (1000usize, 1u32, 100u16, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = it.next().map(String::as_str).unwrap_or("");
        let bad = |what: &str| {
            eprint!("xtask soak: {arg} {value}: expected {what}\n\n{USAGE}");
            ExitCode::from(2)
        };
        match arg.as_str() {
            "--frames" => match value.parse() {
                Ok(n) if n > 0 => frames = n,
                _ => return bad("a positive number of frames"),
            },
            "--seed" => match value.parse() {
                Ok(s) => seed = s,
                _ => return bad("a 32-bit seed"),
            },
            "--permille" => match value.parse() {
                Ok(p) if p <= 1000 => permille = p,
                _ => return bad("0 to 1000"),
            },
            "--elf" if !value.is_empty() => elf = Some(PathBuf::from(value)),
            _ => {
                eprint!("xtask soak: unknown option `{arg}`\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let result = crate::test::ensure_qemu(true).and_then(|()| {
        let elf = match elf {
            Some(e) => e,
            None => build_firmware()?,
        };
        soak(&elf, frames, seed, permille)
    });
    match result {
        Ok(t) if t.passed() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask soak: {e}");
            ExitCode::FAILURE
        }
    }
}
