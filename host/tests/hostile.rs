//! Hostile: every command given truncated, corrupted, oversized and wrong-typed
//! models, pictures, `.npy` files, raw frames and capture logs, all made here in
//! a temporary directory, ends with a one-line `error: ...` and exit status 1 —
//! never a panic, a signal or an out-of-memory. A corrupted file may still be a
//! valid one (a flipped weight is a different model): then the command may
//! succeed, and the tally says how many did.
//!
//! Run with `--nocapture` for the table `docs/reliability.md` quotes.

mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use scanline_testkit::Rng;
use support::{TempDir, fixture, model, photo, scanline, status, stderr, stdout, temp_dir};

/// Whether a hostile input must be refused or may turn out valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Refused,
    RefusedOrValid,
}

/// How many commands a class of inputs went through, and how they ended.
#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    refused: usize,
    accepted: usize,
}

impl Tally {
    /// Runs `scanline args` on a hostile input and checks how it ended.
    fn run(&mut self, what: &str, args: &[OsString], expect: Expect) {
        let out = scanline(args);
        let code = status(&out); // no signal, no panic
        let err = stderr(&out);
        self.runs += 1;
        if code == 0 {
            assert_eq!(expect, Expect::RefusedOrValid, "{what}: accepted {args:?}");
            self.accepted += 1;
            return;
        }
        assert_eq!(code, 1, "{what}: {args:?}: {err}");
        assert_eq!(
            err.lines().count(),
            1,
            "{what}: {args:?}: not one line: {err}"
        );
        assert!(err.starts_with("error: "), "{what}: {args:?}: {err}");
        self.refused += 1;
    }

    fn report(&self, class: &str, inputs: usize) {
        println!(
            "| {class} | {inputs} | {} | {} refused, {} accepted as valid |",
            self.runs, self.refused, self.accepted
        );
    }
}

/// One class of hostile inputs: its name, the inputs, what is expected.
type Class<'a> = (&'a str, Vec<PathBuf>, Expect);

/// Runs every input of every class through the commands `commands` gives for
/// it, and prints each class's tally.
fn run_classes(classes: Vec<Class<'_>>, commands: impl Fn(&Path) -> Vec<Vec<OsString>>) {
    for (class, inputs, expect) in classes {
        let mut tally = Tally::default();
        for p in &inputs {
            for args in commands(p) {
                tally.run(class, &args, expect);
            }
        }
        tally.report(class, inputs.len());
    }
}

fn os(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    parts.iter().map(|p| p.as_ref().to_os_string()).collect()
}

/// `len` bytes of which the first `prefix.len()` are `prefix`; the rest is a
/// hole (a sparse file: nothing is written or allocated).
fn sparse(path: &Path, prefix: &[u8], len: u64) -> PathBuf {
    std::fs::write(path, prefix).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
    path.to_path_buf()
}

/// Truncations of `bytes` (never the whole), each written to `dir/name-tN`.
fn truncated(dir: &Path, name: &str, bytes: &[u8]) -> Vec<PathBuf> {
    truncated_before(dir, name, bytes, bytes.len())
}

/// Truncations of `bytes` shorter than `n` (e.g. inside a PNG's pixel data: a
/// PNG cut in its 12-byte end chunk still holds every pixel).
fn truncated_before(dir: &Path, name: &str, bytes: &[u8], n: usize) -> Vec<PathBuf> {
    let mut cuts = vec![0, 1, 4, 8, 16, 64, n / 4, n / 2, n * 3 / 4, n - 1];
    cuts.retain(|&c| c < n);
    cuts.dedup();
    cuts.iter()
        .map(|&c| {
            let p = dir.join(format!("{name}-t{c}"));
            std::fs::write(&p, &bytes[..c]).unwrap();
            p
        })
        .collect()
}

/// `count` copies of `bytes` with 1 to 4 random bytes replaced (seeded),
/// each written to `dir/name-cN`.
fn corrupted(dir: &Path, name: &str, bytes: &[u8], count: usize, seed: u64) -> Vec<PathBuf> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            let mut b = bytes.to_vec();
            for _ in 0..rng.usize(1, 5) {
                let at = rng.usize(0, b.len());
                b[at] = rng.i8() as u8;
            }
            let p = dir.join(format!("{name}-c{i}"));
            std::fs::write(&p, &b).unwrap();
            p
        })
        .collect()
}

/// A PNG file's bytes for a `width` x `height` RGB image of which only the
/// header and one tiny data chunk exist (the png crate writes the header and
/// checksums).
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut enc = png::Encoder::new(&mut bytes, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let writer = enc.write_header().unwrap();
    drop(writer);
    bytes
}

fn small_png(dir: &TempDir) -> PathBuf {
    let p = dir.join("small.png");
    image::RgbImage::from_fn(24, 20, |x, y| image::Rgb([x as u8 * 9, y as u8 * 11, 77]))
        .save(&p)
        .unwrap();
    p
}

/// A `.npy` file's bytes: the v1 header for `descr`, `shape` and `fortran`,
/// then `data`.
fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let f = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((header.len() as u16).to_le_bytes());
    b.extend(header.as_bytes());
    b.extend(data);
    b
}

/// Wrong-typed files: what is not a model, picture, array, frame or log.
fn wrong_typed(dir: &Path, name: &str, not: &str) -> Vec<PathBuf> {
    let mut files = vec![
        (format!("{name}-empty"), Vec::new()),
        (format!("{name}-text"), b"hello, this is text\n".to_vec()),
        (format!("{name}-binary"), (0..=255u8).collect()),
    ];
    for (what, path) in [
        ("model", model("n3_mini")),
        ("npy", fixture("n3_mini", "input.npy")),
        ("png", photo("coins.png")),
    ] {
        if what != not {
            files.push((format!("{name}-{what}"), std::fs::read(path).unwrap()));
        }
    }
    let mut paths: Vec<PathBuf> = files
        .into_iter()
        .map(|(n, b)| {
            let p = dir.join(n);
            std::fs::write(&p, b).unwrap();
            p
        })
        .collect();
    let d = dir.join(format!("{name}-directory"));
    std::fs::create_dir_all(&d).unwrap();
    paths.push(d);
    paths
}

/// Every command that reads a model, on `m`.
fn model_commands(m: &Path, tmp: &TempDir, log: &Path) -> Vec<Vec<OsString>> {
    let input = fixture("n3_mini", "input.npy");
    let out = tmp.join("out");
    vec![
        os(&[&"info", &"--model", &m]),
        os(&[&"run", &"--model", &m, &"--input", &input, &"--digest"]),
        os(&[&"compare", &"--model", &m, &"--input", &input]),
        os(&[
            &"features",
            &"--model",
            &m,
            &"--input",
            &input,
            &"-o",
            &tmp.join("g.png"),
        ]),
        os(&[&"verify", &"--capture", &log, &"--model", &m]),
        os(&[&"batch", &"run", &input, &"-o", &out, &"--model", &m]),
    ]
}

/// Every command that reads an input (picture, array, frame), on `input`.
fn input_commands(input: &Path, tmp: &TempDir, extra: &[&str]) -> Vec<Vec<OsString>> {
    let m = model("n3_mini");
    let with = |mut v: Vec<OsString>| {
        v.extend(extra.iter().map(OsString::from));
        v
    };
    vec![
        with(os(&[
            &"run",
            &"--model",
            &m,
            &"--input",
            &input,
            &"--digest",
        ])),
        with(os(&[&"compare", &"--model", &m, &"--input", &input])),
        with(os(&[
            &"features",
            &"--model",
            &m,
            &"--input",
            &input,
            &"-o",
            &tmp.join("g.png"),
        ])),
        with(os(&[
            &"batch",
            &"run",
            &input,
            &"-o",
            &tmp.join("out"),
            &"--model",
            &m,
        ])),
    ]
}

/// A capture log of the built-in gray edge model on one 4x6 frame.
const LOG: &str = "\
scanline model=edges/1/0 input=4x6x1 output=4x6x1 format=gray8 gray=integer-luma arena=120
scanline frame=0 line=0 [00, 10, 20, 30, 40, 50]
scanline frame=0 line=1 [ff, 10, 20, 30, 40, 50]
scanline frame=0 line=2 [00, 10, 80, 30, 40, 50]
scanline frame=0 line=3 [00, 10, 20, 30, 40, 5f]
scanline frame=0 ok digest=1a2b3c4d rows=4
scanline frame=1 dropped fault=timeout error=camera timeout: no capture-done after 500 ms
";

#[test]
fn hostile_models() {
    let tmp = temp_dir("hostile-models");
    let log = tmp.join("capture.txt");
    std::fs::write(
        &log,
        LOG.replace(
            "edges/1/0 input=4x6x1 output=4x6x1",
            "n3 input=20x20x3 output=5x5x8",
        ),
    )
    .unwrap();
    let bytes = std::fs::read(model("n3_mini")).unwrap();
    let classes: [Class<'_>; 4] = [
        (
            "model, truncated",
            truncated(tmp.path(), "m", &bytes),
            Expect::Refused,
        ),
        (
            "model, corrupted (1-4 random bytes)",
            corrupted(tmp.path(), "m", &bytes, 24, 11),
            Expect::RefusedOrValid,
        ),
        (
            "model, oversized (64 MiB + 1, sparse)",
            vec![sparse(&tmp.join("m-huge"), &bytes, (64 << 20) + 1)],
            Expect::Refused,
        ),
        (
            "model, wrong-typed",
            wrong_typed(tmp.path(), "m", "model"),
            Expect::Refused,
        ),
    ];
    run_classes(classes.into(), |m| model_commands(m, &tmp, &log));
}

#[test]
fn hostile_pictures() {
    let tmp = temp_dir("hostile-pictures");
    let png = std::fs::read(small_png(&tmp)).unwrap();
    let huge_header = tmp.join("p-60000x60000.png");
    std::fs::write(&huge_header, png_header(60000, 60000)).unwrap();
    let classes: [Class<'_>; 4] = [
        (
            "picture, truncated (inside the pixel data)",
            truncated_before(tmp.path(), "p", &png, png.len() - 12),
            Expect::Refused,
        ),
        (
            "picture, corrupted",
            corrupted(tmp.path(), "p", &png, 16, 12),
            Expect::RefusedOrValid,
        ),
        (
            "picture, oversized (60000x60000 header; 256 MiB + 1 sparse)",
            vec![
                huge_header,
                sparse(&tmp.join("p-huge.png"), &png, (256 << 20) + 1),
            ],
            Expect::Refused,
        ),
        (
            "picture, wrong-typed",
            wrong_typed(tmp.path(), "p", "png"),
            Expect::Refused,
        ),
    ];
    run_classes(classes.into(), |p| {
        let mut commands = input_commands(p, &tmp, &["--resize"]);
        commands.push(os(&[&"edges", &p, &"-o", &tmp.join("e.png")]));
        commands.push(os(&[&"batch", &"edges", &p, &"-o", &tmp.join("eout")]));
        commands
    });
}

#[test]
fn hostile_arrays() {
    let tmp = temp_dir("hostile-npy");
    let bytes = std::fs::read(fixture("n3_mini", "input.npy")).unwrap();
    let data = &bytes[bytes.len() - 1200..];
    let npy = |name: &str, b: Vec<u8>| {
        let p = tmp.join(format!("a-{name}.npy"));
        std::fs::write(&p, b).unwrap();
        p
    };
    let header_lies = vec![
        npy(
            "shape-huge",
            npy_bytes("|i1", false, "(1099511627776, 1099511627776, 3)", data),
        ),
        npy(
            "shape-overflow",
            npy_bytes("|i1", false, "(18446744073709551615, 2)", data),
        ),
        npy(
            "shape-short",
            npy_bytes("|i1", false, "(1, 20, 20, 3)", &data[..100]),
        ),
        npy(
            "shape-wrong",
            npy_bytes("|i1", false, "(1, 10, 40, 3)", data),
        ),
        npy(
            "dtype-f8",
            npy_bytes("<f8", false, "(1, 20, 20, 3)", &[0; 9600]),
        ),
        npy(
            "dtype-i2",
            npy_bytes("<i2", false, "(1, 20, 20, 3)", &[0; 2400]),
        ),
        npy(
            "dtype-struct",
            npy_bytes("[('a', '<i4')]", false, "(3,)", &[0; 12]),
        ),
        npy("fortran", npy_bytes("|i1", true, "(1, 20, 20, 3)", data)),
        npy("nesting", npy_bytes("|i1", false, &"(".repeat(5000), data)),
        npy("trailing", [bytes.clone(), vec![0; 7]].concat()),
    ];
    let classes: [Class<'_>; 5] = [
        (
            ".npy, truncated",
            truncated(tmp.path(), "a", &bytes),
            Expect::Refused,
        ),
        (
            ".npy, corrupted",
            corrupted(tmp.path(), "a", &bytes, 24, 13),
            Expect::RefusedOrValid,
        ),
        (
            ".npy, lying header (shape, dtype, order, nesting, length)",
            header_lies,
            Expect::Refused,
        ),
        (
            ".npy, oversized (512 MiB + 1, sparse)",
            vec![sparse(&tmp.join("a-huge.npy"), &bytes, (512 << 20) + 1)],
            Expect::Refused,
        ),
        (
            ".npy, wrong-typed",
            wrong_typed(tmp.path(), "a", "npy"),
            Expect::Refused,
        ),
    ];
    run_classes(classes.into(), |p| {
        // Named .npy so that the commands read them as arrays.
        let named = p.with_extension("npy");
        if named != *p && p.is_file() {
            std::fs::rename(p, &named).unwrap();
        }
        input_commands(if p.is_dir() { p } else { &named }, &tmp, &[])
    });
}

#[test]
fn hostile_frames() {
    let tmp = temp_dir("hostile-frames");
    // n3_mini takes 20x20x3: an RGB565 frame is 20 lines of 40 bytes.
    let good: Vec<u8> = (0..800u32).map(|i| (i * 7) as u8).collect();
    let raw = |name: &str, b: &[u8]| {
        let p = tmp.join(format!("f-{name}.raw"));
        std::fs::write(&p, b).unwrap();
        p
    };
    let sizes = vec![
        raw("tall", &[good.clone(), good.clone()].concat()),
        raw("odd", &good[..801 - 2]),
        raw("line-short", &good[..760]),
        raw("empty", &[]),
    ];
    let classes: [(&str, Vec<PathBuf>, &[&str]); 4] = [
        (
            "raw frame, truncated",
            truncated(tmp.path(), "f", &good),
            &["--pixel-format", "rgb565be", "--width", "20"],
        ),
        (
            "raw frame, wrong size for its width",
            sizes,
            &["--pixel-format", "rgb565be", "--width", "20"],
        ),
        (
            "raw frame, wrong width or format",
            vec![raw("good", &good)],
            &["--pixel-format", "yuyv", "--width", "7"],
        ),
        (
            "raw frame, oversized (64 MiB + 1, sparse)",
            vec![sparse(&tmp.join("f-huge.raw"), &good, (64 << 20) + 1)],
            &["--pixel-format", "rgb565be", "--width", "20"],
        ),
    ];
    for (class, inputs, extra) in classes {
        run_classes(vec![(class, inputs, Expect::Refused)], |p| {
            input_commands(p, &tmp, extra)
        });
    }
    // The same frame at width 0 is refused too.
    let mut tally = Tally::default();
    for args in input_commands(
        &raw("w0", &good),
        &tmp,
        &["--pixel-format", "gray8", "--width", "0"],
    ) {
        tally.run("width 0", &args, Expect::Refused);
    }
}

#[test]
fn hostile_capture_logs() {
    let tmp = temp_dir("hostile-logs");
    let log = |name: &str, text: &[u8]| {
        let p = tmp.join(format!("l-{name}.txt"));
        std::fs::write(&p, text).unwrap();
        p
    };
    let lies = vec![
        log(
            "huge-shape",
            LOG.replace(
                "input=4x6x1 output=4x6x1",
                "input=4000000000x4000000000x3 output=4000000000x4000000000x1",
            )
            .replace("edges/1/0", "edges/3/0")
            .as_bytes(),
        ),
        log(
            "overflow-shape",
            LOG.replace(
                "input=4x6x1",
                "input=18446744073709551615x18446744073709551615x1",
            )
            .as_bytes(),
        ),
        log("bad-hex", LOG.replace("[ff, 10", "[zz, 10").as_bytes()),
        log(
            "bad-shape",
            LOG.replace("input=4x6x1", "input=4x6").as_bytes(),
        ),
        log(
            "bad-model",
            LOG.replace("edges/1/0", "edges/x/y").as_bytes(),
        ),
        log(
            "zero-channels",
            LOG.replace("edges/1/0", "edges/0/0").as_bytes(),
        ),
        log(
            "frame-first",
            LOG.lines()
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n")
                .as_bytes(),
        ),
        log(
            "bad-frame",
            LOG.replace("frame=0 ok", "frame=x ok").as_bytes(),
        ),
        log(
            "bad-digest",
            LOG.replace("digest=1a2b3c4d", "digest=xyz").as_bytes(),
        ),
        log(
            "long-line",
            LOG.replace(
                "[00, 10, 20, 30, 40, 50]",
                &format!("[{}]", vec!["00"; 100000].join(", ")),
            )
            .as_bytes(),
        ),
        log(
            "bad-format",
            LOG.replace("format=gray8", "format=bgr").as_bytes(),
        ),
        log(
            "bad-gray",
            LOG.replace("gray=integer-luma", "gray=sepia").as_bytes(),
        ),
        log(
            "no-model-file",
            LOG.replace("edges/1/0", "/nonexistent/m.tflite").as_bytes(),
        ),
        log("non-utf8", &[LOG.as_bytes(), &[0xff, 0xfe, 0x80]].concat()),
    ];
    let classes: [Class<'_>; 5] = [
        (
            "capture log, truncated",
            truncated(tmp.path(), "l", LOG.as_bytes()),
            Expect::RefusedOrValid,
        ),
        (
            "capture log, corrupted",
            corrupted(tmp.path(), "l", LOG.as_bytes(), 24, 14),
            Expect::RefusedOrValid,
        ),
        (
            "capture log, lying or malformed fields",
            lies,
            Expect::Refused,
        ),
        (
            "capture log, oversized (256 MiB + 1, sparse)",
            vec![sparse(
                &tmp.join("l-huge.txt"),
                LOG.as_bytes(),
                (256 << 20) + 1,
            )],
            Expect::Refused,
        ),
        (
            "capture log, wrong-typed",
            wrong_typed(tmp.path(), "l", "log"),
            Expect::Refused,
        ),
    ];
    run_classes(classes.into(), |p| {
        vec![
            os(&[&"verify", &"--capture", &p]),
            os(&[&"verify", &"--capture", &p, &"--json"]),
        ]
    });
    // The untouched log checks (its digest is made up: the frame differs).
    let out = scanline(os(&[&"verify", &"--capture", &log("good", LOG.as_bytes())]));
    assert_eq!(status(&out), 1, "{}", stderr(&out));
    assert!(stdout(&out).contains("frame 0"), "{}", stdout(&out));
}
