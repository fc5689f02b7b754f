//! Boot: one QEMU boot of the firmware over a job list, its defmt log decoded
//! in-process.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::stage;

/// One QEMU run: the decoded log and the exit status.
#[derive(Debug, Clone)]
pub struct Boot {
    /// Decoded defmt lines, `LEVEL message`.
    pub log: Vec<String>,
    /// QEMU's exit status (the firmware's semihosting exit code).
    pub exit: i32,
    /// Wall time of the run.
    pub secs: f64,
}

/// The QEMU command line for `elf`.
pub fn qemu_command(elf: &Path) -> Command {
    let mut cmd = Command::new("qemu-system-arm");
    cmd.args([
        "-machine",
        "mps2-an386",
        "-cpu",
        "cortex-m4",
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-icount",
        "shift=0",
        "-kernel",
    ])
    .arg(elf);
    cmd
}

/// Boots `elf` in QEMU with `jobs` as its job list, in `dir`; a run longer
/// than `timeout` is killed and reported as a hang.
pub fn boot(elf: &Path, dir: &Path, jobs: &[String], timeout: Duration) -> Result<Boot, String> {
    let list = jobs.join("\n") + "\n";
    std::fs::write(dir.join("scanline-jobs.txt"), list)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let elf_bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let mut cmd = qemu_command(elf);
    cmd.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    println!("$ {}", stage::show(&cmd));
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("qemu-system-arm could not be started: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let err_reader = std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = stderr.read_to_string(&mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let bytes = reader.join().map_err(|_| "the stdout reader panicked")?;
    let errors = err_reader
        .join()
        .map_err(|_| "the stderr reader panicked")?;
    let log = decode(&elf_bytes, &bytes)?;
    let secs = start.elapsed().as_secs_f64();
    let Some(status) = status else {
        return Err(format!(
            "QEMU did not finish within {} s (a hang); the log so far:\n{}",
            timeout.as_secs(),
            log.join("\n")
        ));
    };
    if !errors.trim().is_empty() {
        eprintln!("qemu stderr: {}", errors.trim());
    }
    let exit = status.code().ok_or("QEMU was killed by a signal")?;
    Ok(Boot { log, exit, secs })
}

/// Decodes the firmware's defmt stream with the ELF's table, in-process.
pub fn decode(elf: &[u8], stream: &[u8]) -> Result<Vec<String>, String> {
    let table = defmt_decoder::Table::parse(elf)
        .map_err(|e| format!("the ELF's defmt table: {e}"))?
        .ok_or("the ELF has no defmt table (not a defmt firmware)")?;
    let mut decoder = table.new_stream_decoder();
    decoder.received(stream);
    let mut lines = Vec::new();
    loop {
        match decoder.decode() {
            Ok(frame) => {
                let level = frame.level().map_or("", |l| l.as_str());
                lines.push(format!(
                    "{:<5} {}",
                    level.to_uppercase(),
                    frame.display_message()
                ));
            }
            Err(defmt_decoder::DecodeError::UnexpectedEof) => break,
            Err(defmt_decoder::DecodeError::Malformed) => {
                lines.push("ERROR (a malformed defmt frame: the log is corrupt from here)".into());
                break;
            }
        }
    }
    Ok(lines)
}
