//! M4: the Cortex-M4 section of `cargo xtask bench` — the QEMU firmware
//! (mps2-an386, `-icount shift=0`, so instruction counts are exact and
//! repeatable) over the CMSIS-NN workloads W1–W3 (conv and pool apart, frame
//! and stream engines, checked against CMSIS-NN's checksums), N3 and the
//! built-in edge model on a QVGA frame (checked against the host's frame
//! engine), the flash and static RAM of both firmware binaries and the arena
//! of each model. Writes `target/bench/cortex-m4.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use scanline::pixel::PixelFormat;
use scanline::workload::Workload;
use scanline_host::verify;

use crate::project_root;
use crate::qemu::{self, ModelChoice, field_text};

/// CMSIS-NN v7 (gcc -O3, DSP path) in the same QEMU: conv and pool
/// instructions (DESIGN.md, "Performance yardsticks").
const CMSIS: [(Workload, u64, u64); 3] = [
    (Workload::W1, 42_760_000, 3_110_000),
    (Workload::W2, 25_510_000, 2_020_000),
    (Workload::W3, 15_860_000, 830_000),
];

/// QVGA.
const WIDTH: usize = 320;
const HEIGHT: usize = 240;

/// Runs the section and returns its table (also written to
/// `target/bench/cortex-m4.md`).
pub fn run() -> Result<String, String> {
    let root = project_root();
    println!("\n==> cortex-m4: the QEMU firmware (cargo build --release -p scanline-qemu)");
    crate::test::ensure_qemu(true)?;
    let elf = qemu::build_firmware()?;
    let board = crate::panics::build_board()?;
    let work = qemu::work_dir("bench")?;
    let frame = qvga_frame(&root, &work)?;
    let raw = Some((PixelFormat::Gray8, WIDTH));
    let n3 = root.join("tests/fixtures/tflite/n3_mini/model.tflite");
    let models = [
        ("N3 (n3_mini's weights at QVGA)", ModelChoice::Fit(n3)),
        (
            "edges/1/2 (laplacian8, ReLU, pool 2)",
            ModelChoice::Edges { pool: 2 },
        ),
    ];
    let mut jobs: Vec<String> = Workload::ALL
        .iter()
        .map(|w| format!("workload/{}\t-\t-\tdigest", w.name()))
        .collect();
    let mut prepared = Vec::new();
    for (i, (_, m)) in models.iter().enumerate() {
        let p = qemu::prepare(m, &frame, raw)?;
        jobs.push(p.job(&work, i, scanline_firmware::job::Dump::Digest)?);
        prepared.push(p);
    }
    let boot = qemu::boot(&elf, &work, &jobs, Duration::from_secs(600))?;
    if boot.exit != 0 {
        return Err(format!(
            "the firmware exited with {}; its log:\n{}",
            boot.exit,
            boot.log.join("\n")
        ));
    }
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Cortex-M4 (QEMU 7.2 mps2-an386, `-icount shift=0`: guest instructions, exact)\n"
    );
    workloads(&mut md, &boot.log)?;
    let captures = verify::parse(&boot.log.join("\n")).map_err(|e| e.to_string())?;
    let _ = writeln!(
        md,
        "\n### Models on a QVGA gray frame (stream engine, whole frame loop)\n"
    );
    let _ = writeln!(
        md,
        "| model | instructions / frame | push_row total | worst push_row | arena bytes | firmware == host |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---|");
    let arenas: Vec<String> = boot
        .log
        .iter()
        .filter(|l| l.contains("scanline model="))
        .map(|l| field_text(l, "arena"))
        .collect();
    for (i, ((name, _), p)) in models.iter().zip(&prepared).enumerate() {
        let output = std::fs::read(work.join(format!("output-{i}.bin")))
            .map_err(|e| format!("{name}: the firmware wrote no output: {e}"))?;
        p.check(&output, captures.get(i))
            .map_err(|e| format!("{name}: firmware != host: {e}"))?;
        let f = captures
            .get(i)
            .and_then(|c| c.frames.first())
            .ok_or_else(|| format!("{name}: no frame in the log"))?;
        let m = |k: &str| group(f.measures.get(k).map_or("-", |s| s.as_str()));
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | identical |",
            m("instructions"),
            m("pipeline"),
            m("worst_push_row"),
            group(arenas.get(i).map_or("-", |s| s.as_str())),
        );
    }
    let _ = writeln!(
        md,
        "\n### Firmware binaries (release, LTO; bytes from the ELF's section headers)\n"
    );
    let _ = writeln!(
        md,
        "| binary | .text | .rodata | .data | .bss (+.uninit) | flash | static RAM |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    for (name, path) in [("qemu (mps2-an386)", &elf), ("board (STM32F411)", &board)] {
        let s = sizes(path)?;
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            group(&s.text.to_string()),
            group(&s.rodata.to_string()),
            group(&s.data.to_string()),
            group(&s.bss.to_string()),
            group(&s.flash().to_string()),
            group(&(s.data + s.bss).to_string()),
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("cortex-m4.md");
    std::fs::write(&path, &md).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("{md}\n(written to {})", path.display()))
}

/// The workload table from the firmware's `scanline workload=` lines.
fn workloads(md: &mut String, log: &[String]) -> Result<(), String> {
    let _ = writeln!(
        md,
        "### W1–W3 against CMSIS-NN (conv3x3 SAME + ReLU, then max-pool 2x2; CMSIS-NN's data, checksums verified)\n"
    );
    let _ = writeln!(
        md,
        "| workload | engine | conv | pool | total | conv / output | conv / MAC | pool / output | CMSIS-NN conv / pool / total | ratio | pool ratio | conv × M4 floor | checksums |"
    );
    let _ = writeln!(
        md,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for (w, c_conv, c_pool) in CMSIS {
        for engine in ["frame", "stream"] {
            let line = log
                .iter()
                .find(|l| {
                    l.contains(&format!("scanline workload={} ", w.name()))
                        && l.contains(&format!("engine={engine} "))
                })
                .ok_or_else(|| format!("{} {engine}: no result in the log", w.name()))?;
            let num = |k: &str| -> Result<u64, String> {
                field_text(line, k)
                    .parse()
                    .map_err(|_| format!("{} {engine}: no {k}= in `{line}`", w.name()))
            };
            let (conv, pool) = (num("conv")?, num("pool")?);
            let macs = w.macs() as f64;
            let conv_out = w.conv_shape().len() as f64;
            let pool_out = w.pool_shape().len() as f64;
            let ok = field_text(line, "ok") == "true";
            if !ok {
                return Err(format!(
                    "{} {engine}: checksums differ from CMSIS-NN's: {line}",
                    w.name()
                ));
            }
            let _ = writeln!(
                md,
                "| {} | {engine} | {} | {} | {} | {:.2} | {:.3} | {:.1} | {:.2} M / {:.2} M / {:.2} M | **{:.3}** | {:.2} | {:.2} | {} / {} |",
                w.name(),
                millions(conv),
                millions(pool),
                millions(conv + pool),
                conv as f64 / conv_out,
                conv as f64 / macs,
                pool as f64 / pool_out,
                c_conv as f64 / 1e6,
                c_pool as f64 / 1e6,
                (c_conv + c_pool) as f64 / 1e6,
                (conv + pool) as f64 / (c_conv + c_pool) as f64,
                pool as f64 / c_pool as f64,
                // The floor: 2 MACs per cycle (SMLAD), one instruction per cycle.
                conv as f64 / (macs / 2.0),
                field_text(line, "conv_digest"),
                field_text(line, "pool_digest"),
            );
        }
    }
    let _ = writeln!(
        md,
        "\nratio = scanline (conv + pool) ÷ CMSIS-NN (conv + pool); conv × M4 floor = conv instructions ÷ (MACs / 2), the M4's 2 MACs per `SMLAD`."
    );
    Ok(())
}

fn millions(v: u64) -> String {
    format!("{:.2} M", v as f64 / 1e6)
}

/// `1234567` as `1,234,567` (non-numbers as they are).
fn group(s: &str) -> String {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_owned();
    }
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A QVGA gray frame: the middle of `tests/data/camera.png` (512x512), as raw
/// Gray8 lines in `dir`.
fn qvga_frame(root: &Path, dir: &Path) -> Result<PathBuf, String> {
    let src = root.join("tests/data/camera.png");
    let p = qemu::host::picture(&src)?;
    let (h, w, c) = (p.shape.height, p.shape.width, p.shape.channels);
    if c != 1 || h < HEIGHT || w < WIDTH {
        return Err(format!(
            "{}: expected a gray image of at least {WIDTH}x{HEIGHT}",
            src.display()
        ));
    }
    let (y0, x0) = ((h - HEIGHT) / 2, (w - WIDTH) / 2);
    let mut bytes = Vec::with_capacity(WIDTH * HEIGHT);
    for y in y0..y0 + HEIGHT {
        bytes.extend_from_slice(&p.data[y * w + x0..y * w + x0 + WIDTH]);
    }
    let path = dir.join("qvga.gray8");
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Section sizes of a firmware ELF.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sizes {
    /// `.vector_table` and `.text`.
    text: u64,
    rodata: u64,
    data: u64,
    /// `.bss` and `.uninit`.
    bss: u64,
}

impl Sizes {
    /// What flash holds: code, constants and `.data`'s initial values.
    fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }
}

/// Reads the section headers of a 32-bit little-endian ELF.
fn sizes(path: &Path) -> Result<Sizes, String> {
    let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bad = || format!("{}: not a 32-bit little-endian ELF", path.display());
    if b.len() < 52 || &b[..4] != b"\x7fELF" || b[4] != 1 || b[5] != 1 {
        return Err(bad());
    }
    let u16_at = |o: usize| {
        b.get(o..o + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    let shoff = u32_at(32).ok_or_else(bad)?;
    let shentsize = u16_at(46).ok_or_else(bad)?;
    let shnum = u16_at(48).ok_or_else(bad)?;
    let shstrndx = u16_at(50).ok_or_else(bad)?;
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u32_at(header(shstrndx) + 16).ok_or_else(bad)?;
    let mut s = Sizes::default();
    for i in 0..shnum {
        let h = header(i);
        let name_at = strtab + u32_at(h).ok_or_else(bad)?;
        let end = b[name_at..].iter().position(|&c| c == 0).ok_or_else(bad)?;
        let name = std::str::from_utf8(&b[name_at..name_at + end]).map_err(|_| bad())?;
        let size = u32_at(h + 20).ok_or_else(bad)? as u64;
        match name {
            ".vector_table" | ".text" => s.text += size,
            ".rodata" => s.rodata += size,
            ".data" => s.data += size,
            ".bss" | ".uninit" => s.bss += size,
            _ => {}
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group("1234567"), "1,234,567");
        assert_eq!(group("123"), "123");
        assert_eq!(group("-"), "-");
    }
}
