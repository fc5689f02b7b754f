//! Panics: `cargo xtask panics` — builds the board binary in release and counts
//! the panic call sites its frame loop still links.
//!
//! Method (no disassembler needed): read the ELF with the `object` crate, take
//! every function symbol, and decode the Thumb-2 branch instructions of the
//! frame loop's functions — `BL`, `B.W`, `B<c>.W`, the 16-bit `B`/`B<c>`,
//! `CBZ`/`CBNZ` — skipping literal pools (the `$d` mapping symbols). The frame
//! loop is every function reachable by direct branches from the board's
//! `frames` function (kept out of line for this); a panic call site is a branch
//! from one of them to a panic entry point: a function of `core::panicking`, a
//! `core` function ending in `_fail`/`_failed` (bounds, slice, unwrap, expect),
//! or any function whose own name says `panic` (e.g. a HAL's "this must not be
//! called"). Calls through a register (`BLX rM`) cannot be followed; their count
//! is reported. LTO inlines most of the loop into a few functions, so a site is
//! a branch instruction, not a source line: one inlined `a[i]` is one site.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

const USAGE: &str = "\
usage: cargo xtask panics [--elf ELF] [--root NAME] [--max N] [--sites]

Builds firmware/'s board binary in release (unless --elf names an ELF) and
counts the panic call sites its frame loop links: branches from any function
reachable from the root (default: the board's `frames`) to a panic entry point
(core::panicking::*, core's *_fail / *_failed, functions named *panic*).
--sites lists every site (caller, address, panic function); --max N exits
non-zero if more than N sites remain (a regression gate).
";

/// One branch from a frame-loop function to a panic entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The function holding the branch.
    pub caller: String,
    /// The branch instruction's address.
    pub address: u64,
    /// The panic entry point it branches to.
    pub panic: String,
}

/// What the walk of the frame loop found.
#[derive(Debug, Clone, Default)]
pub struct Census {
    /// The root function's name.
    pub root: String,
    /// Functions reachable from the root by direct branches (root included).
    pub functions: Vec<String>,
    /// Branches to panic entry points.
    pub sites: Vec<Site>,
    /// Calls through a register inside those functions (not followed).
    pub indirect: usize,
}

impl Census {
    /// The report `cargo xtask panics` prints.
    pub fn report(&self, list_sites: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "frame loop: {} functions reachable from {} by direct calls ({} calls through a register not followed)",
            self.functions.len(),
            self.root,
            self.indirect
        );
        let _ = writeln!(out, "panic call sites: {}", self.sites.len());
        let mut by_panic: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_caller: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.sites {
            *by_panic.entry(&s.panic).or_default() += 1;
            *by_caller.entry(&s.caller).or_default() += 1;
        }
        if !self.sites.is_empty() {
            let _ = writeln!(out, "  by panic entry point:");
            for (name, n) in &by_panic {
                let _ = writeln!(out, "    {n:>4}  {name}");
            }
            let _ = writeln!(out, "  by caller:");
            for (name, n) in &by_caller {
                let _ = writeln!(out, "    {n:>4}  {name}");
            }
        }
        if list_sites {
            for s in &self.sites {
                let _ = writeln!(out, "  {:#010x}  {}  ->  {}", s.address, s.caller, s.panic);
            }
        }
        out
    }
}

/// Whether a (demangled, hash-free) function name is a panic entry point.
pub fn is_panic(name: &str) -> bool {
    let last = name.rsplit("::").next().unwrap_or(name);
    name.starts_with("core::panicking::")
        || (name.starts_with("core::") && (last.ends_with("_fail") || last.ends_with("_failed")))
        || last.contains("panic")
        || last == "rust_begin_unwind"
}

/// A function of the ELF.
struct Function {
    name: String,
    start: u64,
    end: u64,
}

/// The ELF's functions and its code, with the data regions of its code.
struct Image<'a> {
    functions: Vec<Function>,
    by_start: HashMap<u64, usize>,
    /// Mapping symbols, sorted: (address, true for data `$d`).
    mapping: Vec<(u64, bool)>,
    sections: Vec<(u64, &'a [u8])>,
}

impl<'a> Image<'a> {
    fn parse(elf: &'a [u8]) -> Result<Self, String> {
        let file = object::File::parse(elf).map_err(|e| format!("not an ELF: {e}"))?;
        let mut functions = Vec::new();
        let mut by_start = HashMap::new();
        let mut mapping = Vec::new();
        for sym in file.symbols() {
            let Ok(raw) = sym.name() else { continue };
            let addr = sym.address() & !1;
            if raw.starts_with("$d") || raw.starts_with("$t") {
                mapping.push((addr, raw.starts_with("$d")));
                continue;
            }
            if sym.kind() != SymbolKind::Text || sym.size() == 0 || by_start.contains_key(&addr) {
                continue;
            }
            let name = format!("{:#}", rustc_demangle::demangle(raw));
            by_start.insert(addr, functions.len());
            functions.push(Function {
                name,
                start: addr,
                end: addr + sym.size(),
            });
        }
        mapping.sort_unstable();
        let mut sections = Vec::new();
        for s in file.sections() {
            if let Ok(data) = s.data()
                && !data.is_empty()
            {
                sections.push((s.address(), data));
            }
        }
        Ok(Image {
            functions,
            by_start,
            mapping,
            sections,
        })
    }

    fn halfword(&self, addr: u64) -> Option<u16> {
        self.sections.iter().find_map(|&(base, data)| {
            let off = usize::try_from(addr.checked_sub(base)?).ok()?;
            let b = data.get(off..off + 2)?;
            Some(u16::from_le_bytes([b[0], b[1]]))
        })
    }

    fn is_data(&self, addr: u64) -> bool {
        let i = self.mapping.partition_point(|&(a, _)| a <= addr);
        i > 0 && self.mapping[i - 1].1
    }
}

/// What one Thumb instruction does to control flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A direct branch or call to this address.
    Branch(u64),
    /// A call through a register.
    Indirect,
    /// Anything else.
    Other,
}

fn sign_extend(value: u32, bits: u32) -> i64 {
    let shift = 32 - bits;
    i64::from(((value << shift) as i32) >> shift)
}

/// Decodes the Thumb instruction at `addr` from its first halfword `hw1` and
/// the next `hw2`: its control flow and length in bytes.
pub fn decode(addr: u64, hw1: u16, hw2: u16) -> (Flow, u64) {
    let pc = addr as i64 + 4;
    let target = |off: i64| Flow::Branch((pc + off) as u64);
    if matches!(hw1 >> 11, 0b11101..=0b11111) {
        let (h1, h2) = (u32::from(hw1), u32::from(hw2));
        let flow = if h1 >> 11 == 0b11110 && h2 & 0x8000 != 0 {
            let s = (h1 >> 10) & 1;
            let (j1, j2) = ((h2 >> 13) & 1, (h2 >> 11) & 1);
            match h2 & 0xd000 {
                // BL (T1) and B.W (T4).
                0xd000 | 0x9000 => {
                    let (i1, i2) = (!(j1 ^ s) & 1, !(j2 ^ s) & 1);
                    let imm = (s << 24)
                        | (i1 << 23)
                        | (i2 << 22)
                        | ((h1 & 0x3ff) << 12)
                        | ((h2 & 0x7ff) << 1);
                    target(sign_extend(imm, 25))
                }
                // B<c>.W (T3); cond 111x is not a branch.
                0x8000 if (h1 >> 6) & 0xe != 0xe => {
                    let imm = (s << 20)
                        | (j2 << 19)
                        | (j1 << 18)
                        | ((h1 & 0x3f) << 12)
                        | ((h2 & 0x7ff) << 1);
                    target(sign_extend(imm, 21))
                }
                _ => Flow::Other,
            }
        } else {
            Flow::Other
        };
        return (flow, 4);
    }
    let h = u32::from(hw1);
    let flow = if h & 0xf800 == 0xe000 {
        target(sign_extend((h & 0x7ff) << 1, 12))
    } else if h & 0xf000 == 0xd000 && (h >> 8) & 0xe != 0xe {
        target(sign_extend((h & 0xff) << 1, 9))
    } else if h & 0xf500 == 0xb100 {
        target(i64::from((((h >> 9) & 1) << 6) | (((h >> 3) & 0x1f) << 1)))
    } else if h & 0xff87 == 0x4780 {
        Flow::Indirect
    } else {
        Flow::Other
    };
    (flow, 2)
}

/// Walks the frame loop of `elf` from the function named `root` (its demangled
/// name without hash, or a suffix of it such as `board::frames`).
pub fn census(elf: &[u8], root: &str) -> Result<Census, String> {
    let image = Image::parse(elf)?;
    let roots: Vec<usize> = (0..image.functions.len())
        .filter(|&i| {
            image.functions[i].name == root
                || image.functions[i].name.ends_with(&format!("::{root}"))
        })
        .collect();
    let &start = match roots.as_slice() {
        [one] => one,
        [] => {
            return Err(format!(
                "no function named {root} in the ELF (inlined? it must be #[inline(never)])"
            ));
        }
        _ => return Err(format!("{} functions are named {root}", roots.len())),
    };
    let mut census = Census {
        root: image.functions[start].name.clone(),
        ..Census::default()
    };
    let mut seen = HashSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(f) = queue.pop_front() {
        let func = &image.functions[f];
        census.functions.push(func.name.clone());
        let mut addr = func.start;
        while addr < func.end {
            if image.is_data(addr) {
                addr += 2;
                continue;
            }
            let Some(hw1) = image.halfword(addr) else {
                break;
            };
            let hw2 = image.halfword(addr + 2).unwrap_or(0);
            let (flow, len) = decode(addr, hw1, hw2);
            match flow {
                Flow::Indirect => census.indirect += 1,
                Flow::Branch(t) => {
                    if let Some(&g) = image.by_start.get(&t)
                        && g != f
                    {
                        let callee = &image.functions[g];
                        if is_panic(&callee.name) {
                            census.sites.push(Site {
                                caller: func.name.clone(),
                                address: addr,
                                panic: callee.name.clone(),
                            });
                        } else if seen.insert(g) {
                            queue.push_back(g);
                        }
                    }
                }
                Flow::Other => {}
            }
            addr += len;
        }
    }
    census.functions.sort();
    Ok(census)
}

/// Builds the board binary (release) and returns its ELF.
pub fn build_board() -> Result<PathBuf, String> {
    crate::qemu::build_firmware_binary("scanline-board", "board")
}

struct Options {
    elf: Option<PathBuf>,
    root: String,
    max: Option<usize>,
    sites: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        elf: None,
        root: "board::frames".into(),
        max: None,
        sites: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--elf" => o.elf = Some(value("--elf")?.into()),
            "--root" => o.root = value("--root")?,
            "--max" => {
                let v = value("--max")?;
                o.max = Some(
                    v.parse()
                        .map_err(|_| format!("--max {v}: expected a count"))?,
                );
            }
            "--sites" => o.sites = true,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(o)
}

/// Runs `cargo xtask panics` with the arguments after `panics`.
pub fn run(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let o = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprint!("xtask panics: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match count(&o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask panics: {e}");
            ExitCode::FAILURE
        }
    }
}

fn count(o: &Options) -> Result<bool, String> {
    let elf = match &o.elf {
        Some(p) => p.clone(),
        None => build_board()?,
    };
    let census = census_of(&elf, &o.root)?;
    println!("{}: {}", elf.display(), census.report(o.sites).trim_end());
    match o.max {
        Some(max) if census.sites.len() > max => {
            println!("more than {max} panic call sites (--max {max})");
            Ok(false)
        }
        _ => Ok(true),
    }
}

/// The census of the ELF at `path`.
pub fn census_of(path: &Path, root: &str) -> Result<Census, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    census(&bytes, root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_entry_points_by_name() {
        for p in [
            "core::panicking::panic_bounds_check",
            "core::panicking::panic_const::panic_const_div_by_zero",
            "core::slice::index::slice_index_fail",
            "core::option::unwrap_failed",
            "core::result::unwrap_failed",
            "embedded_hal_bus::spi::no_delay_panic",
            "__rustc::rust_begin_unwind",
        ] {
            assert!(is_panic(p), "{p}");
        }
        for p in [
            "scanline::stream::feed",
            "core::fmt::write",
            "board::frames",
            "compiler_builtins::mem::memcpy",
        ] {
            assert!(!is_panic(p), "{p}");
        }
    }

    #[test]
    fn thumb_branches_decode() {
        // Encodings checked against llvm-objdump on the board binary.
        // bl 0x8008d68 at 0x8001000: f007 feb2.
        assert_eq!(
            decode(0x0800_1000, 0xf007, 0xfeb2),
            (Flow::Branch(0x0800_8d68), 4)
        );
        // b.w backwards: f7ff bffe is `b.w .` (branch to itself).
        assert_eq!(decode(0x100, 0xf7ff, 0xbffe), (Flow::Branch(0x100), 4));
        // bne.w +0x10 (T3): f040 8006 -> pc + 4 + 0xc.
        assert_eq!(decode(0x200, 0xf040, 0x8006), (Flow::Branch(0x210), 4));
        // 16-bit b . (e7fe) and beq +4 (d002).
        assert_eq!(decode(0x300, 0xe7fe, 0), (Flow::Branch(0x300), 2));
        assert_eq!(decode(0x300, 0xd002, 0), (Flow::Branch(0x308), 2));
        // cbz r0, +8 (b110 -> imm5 = 2): pc + 4 + 4... i:imm5:0 = 0b000100.
        assert_eq!(decode(0x400, 0xb110, 0), (Flow::Branch(0x408), 2));
        // blx r3; a plain add; a 32-bit non-branch (mov.w).
        assert_eq!(decode(0x500, 0x4798, 0), (Flow::Indirect, 2));
        assert_eq!(decode(0x500, 0x1840, 0), (Flow::Other, 2));
        assert_eq!(decode(0x500, 0xf04f, 0x0000), (Flow::Other, 4));
    }
}
