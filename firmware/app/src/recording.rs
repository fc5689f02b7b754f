//! Recording: the "frame file" a host hands the QEMU firmware in place of a
//! camera — a 24-byte header, then whole frames of lines, read one line at a
//! time exactly as a camera delivers them.
//!
//! Layout (integers little-endian):
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 4 | magic `SLFR` |
//! | 4 | 1 | version, 1 |
//! | 5 | 1 | kind: 0 = int8 rows (already quantized), 1 = camera pixels |
//! | 6 | 1 | pixel format: 0 `gray8`, 1 `rgb565be`, 2 `rgb565le`, 3 `rgb888`, 4 `yuyv` (0 for int8) |
//! | 7 | 1 | gray rule: 0 integer luma, 1 TensorFlow's (for colour pixels into a gray model) |
//! | 8 | 4 | width (pixels) |
//! | 12 | 4 | height (lines per frame) |
//! | 16 | 4 | channels per pixel of an int8 row (0 for pixels) |
//! | 20 | 4 | frames |
//! | 24 | … | `frames × height` lines of [`Header::line_len`] bytes |
//!
//! # Examples
//!
//! ```
//! use scanline::pixel::{ByteOrder, GrayRule, PixelFormat};
//! use scanline_firmware::recording::{Header, Kind};
//! let h = Header {
//!     kind: Kind::Pixels { format: PixelFormat::Rgb565(ByteOrder::Big), gray: GrayRule::IntegerLuma },
//!     width: 320,
//!     height: 240,
//!     frames: 2,
//! };
//! let bytes = h.to_bytes();
//! assert_eq!(&bytes[..4], b"SLFR");
//! assert_eq!(Header::parse(&bytes), Ok(h));
//! assert_eq!(h.line_len(), 640);
//! ```

use scanline::pixel::{ByteOrder, GrayRule, PixelFormat};

use crate::Error;

/// The magic bytes a frame file starts with.
pub const MAGIC: [u8; 4] = *b"SLFR";
/// The format version this crate reads and writes.
pub const VERSION: u8 = 1;
/// Bytes of the header.
pub const HEADER_LEN: usize = 24;

/// What the lines of a recording hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Quantized int8 input rows of `channels` values per pixel.
    Int8 {
        /// Values per pixel.
        channels: usize,
    },
    /// Camera pixels, for the core's `LineConverter`.
    Pixels {
        /// The pixel format.
        format: PixelFormat,
        /// Colour to gray, for a gray model.
        gray: GrayRule,
    },
}

/// A frame file's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// What the lines hold.
    pub kind: Kind,
    /// Pixels per line.
    pub width: usize,
    /// Lines per frame.
    pub height: usize,
    /// Frames in the file.
    pub frames: usize,
}

/// The file's code of a pixel format.
pub const fn format_code(format: PixelFormat) -> u8 {
    match format {
        PixelFormat::Gray8 => 0,
        PixelFormat::Rgb565(ByteOrder::Big) => 1,
        PixelFormat::Rgb565(ByteOrder::Little) => 2,
        PixelFormat::Rgb888 => 3,
        PixelFormat::Yuyv => 4,
    }
}

/// The pixel format of a file code.
pub const fn format_of(code: u8) -> Option<PixelFormat> {
    Some(match code {
        0 => PixelFormat::Gray8,
        1 => PixelFormat::Rgb565(ByteOrder::Big),
        2 => PixelFormat::Rgb565(ByteOrder::Little),
        3 => PixelFormat::Rgb888,
        4 => PixelFormat::Yuyv,
        _ => return None,
    })
}

/// The command-line name of a pixel format (`gray8`, `rgb565be`, `rgb565le`,
/// `rgb888`, `yuyv`).
pub const fn format_name(format: PixelFormat) -> &'static str {
    match format {
        PixelFormat::Gray8 => "gray8",
        PixelFormat::Rgb565(ByteOrder::Big) => "rgb565be",
        PixelFormat::Rgb565(ByteOrder::Little) => "rgb565le",
        PixelFormat::Rgb888 => "rgb888",
        PixelFormat::Yuyv => "yuyv",
    }
}

/// The pixel format of a command-line name ([`format_name`]).
pub fn format_named(name: &str) -> Option<PixelFormat> {
    (0..5)
        .filter_map(format_of)
        .find(|&f| format_name(f) == name)
}

fn u32_of(b: [u8; 4]) -> usize {
    u32::from_le_bytes(b) as usize
}

fn invalid(reason: &'static str) -> Error {
    Error::Recording { reason }
}

impl Header {
    /// Bytes of one line: `width × channels` for int8 rows, `width × bytes per
    /// pixel` for pixels (saturating: absurd sizes are caught by [`Header::parse`]).
    pub fn line_len(&self) -> usize {
        let per_pixel = match self.kind {
            Kind::Int8 { channels } => channels,
            Kind::Pixels { format, .. } => format.bytes_per_pixel(),
        };
        self.width.saturating_mul(per_pixel)
    }

    /// Bytes of one frame.
    pub fn frame_len(&self) -> usize {
        self.line_len().saturating_mul(self.height)
    }

    /// The header's bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..4].copy_from_slice(&MAGIC);
        b[4] = VERSION;
        let channels = match self.kind {
            Kind::Int8 { channels } => {
                b[5] = 0;
                channels
            }
            Kind::Pixels { format, gray } => {
                b[5] = 1;
                b[6] = format_code(format);
                b[7] = match gray {
                    GrayRule::IntegerLuma => 0,
                    GrayRule::TensorFlow => 1,
                };
                0
            }
        };
        let words = [self.width, self.height, channels, self.frames];
        // Bytes 8..24: four little-endian u32 words.
        for (dst, v) in b.chunks_exact_mut(4).skip(2).zip(words) {
            dst.copy_from_slice(&(v as u32).to_le_bytes());
        }
        b
    }

    /// Reads a header from the first [`HEADER_LEN`] bytes of `bytes`.
    ///
    /// Errors: [`Error::Recording`] naming the field that is wrong (short,
    /// magic, version, kind, pixel format, gray rule, a zero size, a line over
    /// 64 KiB).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let Some(&head) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(invalid("shorter than its 24-byte header"));
        };
        let [
            m0,
            m1,
            m2,
            m3,
            version,
            kind,
            format,
            gray,
            w0,
            w1,
            w2,
            w3,
            h0,
            h1,
            h2,
            h3,
            c0,
            c1,
            c2,
            c3,
            f0,
            f1,
            f2,
            f3,
        ] = head;
        if [m0, m1, m2, m3] != MAGIC {
            return Err(invalid("no SLFR magic: not a frame file"));
        }
        if version != VERSION {
            return Err(invalid("unknown version (this firmware reads version 1)"));
        }
        let (width, height, channels, frames) = (
            u32_of([w0, w1, w2, w3]),
            u32_of([h0, h1, h2, h3]),
            u32_of([c0, c1, c2, c3]),
            u32_of([f0, f1, f2, f3]),
        );
        let int8 = kind == 0;
        let kind = match kind {
            0 => Kind::Int8 { channels },
            1 => Kind::Pixels {
                format: format_of(format).ok_or(invalid("unknown pixel format code"))?,
                gray: match gray {
                    0 => GrayRule::IntegerLuma,
                    1 => GrayRule::TensorFlow,
                    _ => return Err(invalid("unknown gray rule code")),
                },
            },
            _ => return Err(invalid("unknown kind (0 = int8 rows, 1 = pixels)")),
        };
        if width == 0 || height == 0 || frames == 0 || (int8 && channels == 0) {
            return Err(invalid("width, height, channels and frames must not be 0"));
        }
        let header = Header {
            kind,
            width,
            height,
            frames,
        };
        if header.line_len() > 1 << 16 {
            return Err(invalid("a line longer than 64 KiB"));
        }
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let mut kinds = vec![Kind::Int8 { channels: 3 }];
        for code in 0..5 {
            for gray in [GrayRule::IntegerLuma, GrayRule::TensorFlow] {
                kinds.push(Kind::Pixels {
                    format: format_of(code).unwrap(),
                    gray,
                });
            }
        }
        for kind in kinds {
            let h = Header {
                kind,
                width: 7,
                height: 5,
                frames: 3,
            };
            assert_eq!(Header::parse(&h.to_bytes()), Ok(h));
        }
    }

    #[test]
    fn names_and_codes_agree() {
        for code in 0..5 {
            let f = format_of(code).unwrap();
            assert_eq!(format_code(f), code);
            assert_eq!(format_named(format_name(f)), Some(f));
        }
        assert_eq!(format_of(5), None);
        assert_eq!(format_named("rgb565"), None);
    }

    #[test]
    fn bad_headers_say_what_is_wrong() {
        let good = Header {
            kind: Kind::Int8 { channels: 1 },
            width: 4,
            height: 4,
            frames: 1,
        }
        .to_bytes();
        let reason = |b: &[u8]| match Header::parse(b) {
            Err(Error::Recording { reason }) => reason,
            other => panic!("{other:?}"),
        };
        assert!(reason(&good[..10]).contains("shorter"));
        let mut b = good;
        b[0] = b'X';
        assert!(reason(&b).contains("magic"));
        let mut b = good;
        b[4] = 2;
        assert!(reason(&b).contains("version"));
        let mut b = good;
        b[5] = 9;
        assert!(reason(&b).contains("kind"));
        let mut b = good;
        b[5] = 1;
        b[6] = 9;
        assert!(reason(&b).contains("pixel format"));
        let mut b = good;
        b[5] = 1;
        b[7] = 9;
        assert!(reason(&b).contains("gray rule"));
        let mut b = good;
        b[12..16].copy_from_slice(&0u32.to_le_bytes());
        assert!(reason(&b).contains("must not be 0"));
        let mut b = good;
        b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(reason(&b).contains("64 KiB"));
    }
}
