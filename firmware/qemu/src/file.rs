//! File: host files through semihosting — a recording read line by line as a
//! [`Camera`], whole files into static buffers, output rows appended to a file.

use core::ffi::CStr;

use scanline_firmware::Error;
use scanline_firmware::camera::{Camera, Geometry, LinePair};
use scanline_firmware::recording::{HEADER_LEN, Header};
use semihosting::fs::File;
use semihosting::io::{Read, Seek, SeekFrom, Write};
use static_cell::ConstStaticCell;

/// Longest host path a job may name.
pub const MAX_PATH: usize = 1024;

/// Longest camera line a recording may hold.
pub const MAX_LINE: usize = 8 * 1024;

fn io(e: semihosting::io::Error) -> Error {
    Error::Io {
        code: e.raw_os_error().unwrap_or(0),
    }
}

/// `path` as a NUL-terminated C string.
pub fn c_path(path: &str) -> Result<heapless::Vec<u8, MAX_PATH>, Error> {
    let mut v = heapless::Vec::new();
    let long = Error::Recording {
        reason: "a path longer than 1023 bytes",
    };
    v.extend_from_slice(path.as_bytes()).map_err(|_| long)?;
    v.push(0).map_err(|_| long)?;
    Ok(v)
}

fn open(path: &str) -> Result<File, Error> {
    let c = c_path(path)?;
    let c = CStr::from_bytes_with_nul(&c).map_err(|_| Error::Recording {
        reason: "a path with a NUL byte",
    })?;
    File::open(c).map_err(io)
}

/// Reads the whole file at `path` into `buf`; returns its length. A file larger
/// than `buf` is [`Error::Geometry`] (bytes needed, capacity).
pub fn read_all(path: &str, buf: &mut [u8]) -> Result<usize, Error> {
    let mut f = open(path)?;
    read_all_from(&mut f, buf)
}

/// Reads the file `c` names into `buf`.
pub fn read_c(c: &CStr, buf: &mut [u8]) -> Result<usize, Error> {
    let mut f = File::open(c).map_err(io)?;
    read_all_from(&mut f, buf)
}

fn read_all_from(f: &mut File, buf: &mut [u8]) -> Result<usize, Error> {
    let len = f.metadata().map_err(io)?.len() as usize;
    if len > buf.len() {
        return Err(Error::Geometry {
            expected: len,
            found: buf.len(),
        });
    }
    f.read_exact(&mut buf[..len]).map_err(io)?;
    Ok(len)
}

/// An output file, created (or truncated) at `path`.
pub struct Output(File);

impl Output {
    /// Creates the file.
    pub fn create(path: &str) -> Result<Self, Error> {
        let c = c_path(path)?;
        let c = CStr::from_bytes_with_nul(&c).map_err(|_| Error::Recording {
            reason: "a path with a NUL byte",
        })?;
        File::create(c).map(Output).map_err(io)
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.0.write_all(bytes).map_err(io)
    }
}

/// The recording's two line buffers, static so that the stack holds what the
/// board's holds (its own line pair is 2 x 640 bytes).
static LINES: ConstStaticCell<LinePair<MAX_LINE>> = ConstStaticCell::new(LinePair::new());

/// A recording on the host, read one line per call as a camera delivers them.
pub struct Recording<'p> {
    file: File,
    header: Header,
    pair: &'p mut LinePair<MAX_LINE>,
    frame: usize,
    line: usize,
}

impl<'p> Recording<'p> {
    /// Opens the recording at `path` and reads its header; `pair` holds its
    /// lines (see [`line_pair`]).
    pub fn open(path: &str, pair: &'p mut LinePair<MAX_LINE>) -> Result<Self, Error> {
        let mut file = open(path)?;
        let mut head = [0u8; HEADER_LEN];
        let n = read_some(&mut file, &mut head)?;
        let header = Header::parse(&head[..n])?;
        pair.set_len(header.line_len())?;
        Ok(Self {
            file,
            header,
            pair,
            frame: 0,
            line: 0,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }
}

/// The line buffers of every recording, once (`None` the second time).
pub fn line_pair() -> Option<&'static mut LinePair<MAX_LINE>> {
    LINES.try_take()
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_some(file: &mut File, buf: &mut [u8]) -> Result<usize, Error> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]).map_err(io)? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

impl Camera for Recording<'_> {
    fn begin_frame(&mut self) -> Result<Geometry, Error> {
        self.frame += 1;
        self.line = 0;
        Ok(Geometry {
            lines: self.header.height,
            line_len: self.header.line_len(),
        })
    }

    fn next_line(&mut self) -> Result<&[u8], Error> {
        let y = self.line;
        self.line += 1;
        let expected = self.pair.len();
        let n = read_some(&mut self.file, self.pair.back())?;
        if n != expected {
            return Err(Error::Line {
                line: y,
                expected,
                found: n,
            });
        }
        Ok(self.pair.swap())
    }

    fn end_frame(&mut self) -> Result<(), Error> {
        // However far this frame got (a fault may stop it mid-way), the next one
        // starts one frame further on.
        let next = HEADER_LEN as u64 + (self.frame as u64) * self.header.frame_len() as u64;
        self.file.seek(SeekFrom::Start(next)).map_err(io)?;
        Ok(())
    }
}
