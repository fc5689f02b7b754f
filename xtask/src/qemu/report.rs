//! Report: the per-frame report printed from a boot's decoded log.

use std::fmt::Write as _;

use scanline_host::verify::{Capture, Outcome};

use super::*;

/// The per-frame report of a boot, as a table.
pub fn report(boot: &Boot, captures: &[Capture]) -> String {
    let mut out = String::new();
    let machine = boot
        .log
        .iter()
        .find(|l| l.contains("scanline machine="))
        .map(|l| field_text(l, "statics"))
        .unwrap_or_default();
    let stack = boot
        .log
        .iter()
        .rev()
        .find(|l| l.contains("stack_high_water="))
        .map(|l| field_text(l, "stack_high_water"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "QEMU mps2-an386, -icount shift=0 (1 SysTick tick = 40 instructions): statics {machine} bytes, stack high-water {stack} bytes, {:.2} s",
        boot.secs
    );
    let arena: Vec<String> = boot
        .log
        .iter()
        .filter(|l| l.contains("scanline model="))
        .map(|l| field_text(l, "arena"))
        .collect();
    let _ = writeln!(
        out,
        "{:>3} {:>5}  {:>14} {:>14} {:>14} {:>10} {:>8} {:>9}  model",
        "job", "frame", "instructions", "pipeline", "worst push_row", "arena", "stack", "digest",
    );
    for (j, c) in captures.iter().enumerate() {
        for f in &c.frames {
            let m = |k: &str| f.measures.get(k).cloned().unwrap_or_else(|| "-".into());
            let digest = match &f.outcome {
                Some(Outcome::Ok { digest, .. }) => format!("{digest:08x}"),
                Some(Outcome::Dropped { fault, .. }) => format!("({fault})"),
                None => "-".into(),
            };
            let _ = writeln!(
                out,
                "{j:>3} {:>5}  {:>14} {:>14} {:>14} {:>10} {:>8} {:>9}  {}",
                f.number,
                m("instructions"),
                m("pipeline"),
                m("worst_push_row"),
                arena.get(j).cloned().unwrap_or_default(),
                m("stack"),
                digest,
                c.header.model
            );
        }
    }
    out
}

/// The value of `key=` in a log line ("" if absent).
pub(crate) fn field_text(line: &str, key: &str) -> String {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or("")
        .to_owned()
}
