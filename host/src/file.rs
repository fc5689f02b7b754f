//! File: reading input files whole, with a size limit per kind of file, so that
//! a huge (or endless) file is one clear error instead of an out-of-memory.
//!
//! The limits are far above any real input (a front-of-network `.tflite` is
//! kilobytes to a few megabytes; a raw QVGA frame 150 KiB).
//!
//! # Examples
//!
//! ```
//! use scanline_host::file::{self, Kind};
//! let path = std::env::temp_dir().join(format!("scanline-file-doc-{}", std::process::id()));
//! std::fs::write(&path, b"scanline frame=0 ok").unwrap();
//! assert_eq!(file::read(&path, Kind::Capture).unwrap().len(), 19);
//! # std::fs::remove_file(&path).unwrap();
//! ```

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// What a file is read as, and so its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `.tflite` model: at most [`Kind::limit`] = 64 MiB.
    Model,
    /// A `.npy` array: at most 512 MiB.
    Npy,
    /// A raw camera frame: at most 64 MiB.
    Frame,
    /// A capture log of `scanline verify`: at most 256 MiB.
    Capture,
    /// A PNG or JPEG picture: at most 256 MiB (the decoder limits the pixels).
    Picture,
}

impl Kind {
    /// The largest file of this kind that is read, in bytes.
    pub const fn limit(self) -> u64 {
        const MIB: u64 = 1 << 20;
        match self {
            Kind::Model | Kind::Frame => 64 * MIB,
            Kind::Npy => 512 * MIB,
            Kind::Capture | Kind::Picture => 256 * MIB,
        }
    }

    /// How errors name it.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Model => "model file",
            Kind::Npy => ".npy file",
            Kind::Frame => "raw frame",
            Kind::Capture => "capture log",
            Kind::Picture => "picture",
        }
    }
}

/// Reads the whole file at `path`, refusing one longer than `kind`'s limit
/// (also when it grows while being read).
///
/// # Errors
///
/// [`Error::Io`] naming the file if it cannot be read; [`Error::TooLarge`] if
/// it is longer than [`Kind::limit`].
pub fn read(path: impl AsRef<Path>, kind: Kind) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let file = fs_err::File::open(path)?;
    let limit = kind.limit();
    let too_large = |size| Error::TooLarge {
        path: path.to_path_buf(),
        kind: kind.name(),
        size,
        limit,
    };
    let size = file.metadata()?.len();
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // One byte past the limit tells a file that grew past it.
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads the whole file at `path` as UTF-8 text, with `kind`'s limit.
///
/// # Errors
///
/// As [`read`], and [`Error::Invalid`] naming the file if it is not UTF-8.
pub fn read_to_string(path: impl AsRef<Path>, kind: Kind) -> Result<String> {
    let path = path.as_ref();
    String::from_utf8(read(path, kind)?).map_err(|e| {
        Error::Invalid(format!(
            "{}: the {} is not UTF-8 text (byte {})",
            path.display(),
            kind.name(),
            e.utf8_error().valid_up_to()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_file_past_the_limit_is_refused_unread() {
        let dir = std::env::temp_dir().join(format!("scanline-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("huge.tflite");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(Kind::Model.limit() + 1).unwrap();
        let err = read(&path, Kind::Model).unwrap_err().to_string();
        assert!(err.contains("more than the 67108864 bytes"), "{err}");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let err = read_to_string(&path, Kind::Capture)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not UTF-8"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
