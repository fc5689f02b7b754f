//! Npy: reading and writing NumPy `.npy` files (through `npyz`), with errors that
//! name the file and say what is wrong with it.
//!
//! Only C-order arrays of plain numeric dtypes are read; Fortran order is accepted
//! only where it cannot matter (at most one axis longer than 1). The whole file is
//! read into memory and checked before `npyz` decodes it: the magic and header are
//! bounds-checked, the header's shape must not overflow (npyz multiplies the
//! dimensions without checking), and the data section must hold exactly
//! `product(shape) * itemsize` bytes — npyz itself would only notice a short file
//! part-way through decoding and would ignore trailing bytes.
//!
//! # Examples
//!
//! ```
//! use scanline_host::npy;
//! let path = std::env::temp_dir().join(format!("scanline-npy-doc-{}.npy", std::process::id()));
//! npy::write_i8(&path, &[2, 3], &[1, -2, 3, -4, 5, -6]).unwrap();
//! let (shape, data) = npy::read_i8(&path).unwrap();
//! assert_eq!((shape, data), (vec![2, 3], vec![1, -2, 3, -4, 5, -6]));
//! // Asking for the wrong type names both.
//! let err = npy::read_f32(&path).unwrap_err().to_string();
//! assert!(err.contains("expected float32, found int8"), "{err}");
//! # std::fs::remove_file(&path).unwrap();
//! ```

use std::path::Path;

use npyz::{DType, NpyFile, NpyHeader, Order, TypeChar, TypeStr, WriteOptions, WriterBuilder};

use crate::{Error, Result};

/// The `.npy` magic string.
const MAGIC: &[u8] = b"\x93NUMPY";

/// Deepest bracket nesting accepted in a header (a real header nests at most a few
/// levels; the header parser npyz uses is recursive, so absurd nesting is refused
/// before it runs).
const MAX_NESTING: usize = 16;

/// The values of an array, by element type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Data {
    /// `int8` (`|i1`).
    I8(Vec<i8>),
    /// `uint8` (`|u1`).
    U8(Vec<u8>),
    /// `int16`.
    I16(Vec<i16>),
    /// `int32`.
    I32(Vec<i32>),
    /// `int64`.
    I64(Vec<i64>),
    /// `float32`.
    F32(Vec<f32>),
    /// `float64`.
    F64(Vec<f64>),
}

impl Data {
    /// NumPy's name of the element type, e.g. `"int8"` or `"float64"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use scanline_host::npy::Data;
    /// assert_eq!(Data::F64(vec![]).dtype(), "float64");
    /// ```
    pub fn dtype(&self) -> &'static str {
        match self {
            Data::I8(_) => "int8",
            Data::U8(_) => "uint8",
            Data::I16(_) => "int16",
            Data::I32(_) => "int32",
            Data::I64(_) => "int64",
            Data::F32(_) => "float32",
            Data::F64(_) => "float64",
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Data::I8(v) => v.len(),
            Data::U8(v) => v.len(),
            Data::I16(v) => v.len(),
            Data::I32(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::F32(v) => v.len(),
            Data::F64(v) => v.len(),
        }
    }

    /// True if there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An array read from a `.npy` file: its shape (C order, as written) and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions, outermost first (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Data,
}

/// Reads a `.npy` file of any supported numeric dtype (int8, uint8, int16, int32,
/// int64, float32, float64; either byte order).
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be read; [`Error::Npy`] if it is not a `.npy`
/// file, is truncated, has trailing bytes, has an unsupported dtype (named), is in
/// Fortran order, or its shape is absurd.
pub fn read_any(path: impl AsRef<Path>) -> Result<Array> {
    let path = path.as_ref();
    let bytes = crate::file::read(path, crate::file::Kind::Npy)?;
    parse(path, &bytes)
}

/// Reads an `int8` array; any other dtype is an error naming what was found.
///
/// # Errors
///
/// As [`read_any`], plus "expected int8, found ..." for another dtype.
pub fn read_i8(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<i8>)> {
    let path = path.as_ref();
    match read_any(path)? {
        Array {
            shape,
            data: Data::I8(v),
        } => Ok((shape, v)),
        other => Err(wrong_dtype(path, "int8", other.data.dtype())),
    }
}

/// Reads a `float32` array; any other dtype is an error naming what was found
/// (no silent conversion from float64).
///
/// # Errors
///
/// As [`read_any`], plus "expected float32, found ..." for another dtype.
pub fn read_f32(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<f32>)> {
    let path = path.as_ref();
    match read_any(path)? {
        Array {
            shape,
            data: Data::F32(v),
        } => Ok((shape, v)),
        other => Err(wrong_dtype(path, "float32", other.data.dtype())),
    }
}

/// Writes an `int8` array (`|i1`, C order) of the given shape.
///
/// # Errors
///
/// [`Error::Npy`] if `data.len()` is not the product of `shape`; [`Error::Io`] if
/// the file cannot be written.
pub fn write_i8(path: impl AsRef<Path>, shape: &[usize], data: &[i8]) -> Result<()> {
    write(path.as_ref(), shape, data)
}

/// Writes a `float32` array (`<f4`, C order) of the given shape.
///
/// # Errors
///
/// [`Error::Npy`] if `data.len()` is not the product of `shape`; [`Error::Io`] if
/// the file cannot be written.
pub fn write_f32(path: impl AsRef<Path>, shape: &[usize], data: &[f32]) -> Result<()> {
    write(path.as_ref(), shape, data)
}

fn write<T: npyz::AutoSerialize + Copy>(path: &Path, shape: &[usize], data: &[T]) -> Result<()> {
    let expected = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| npy_error(path, format!("shape {shape:?} is too large")))?;
    if expected != data.len() {
        return Err(npy_error(
            path,
            format!(
                "shape {shape:?} needs {expected} values but {} were given",
                data.len()
            ),
        ));
    }
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut bytes = Vec::new();
    let mut encode = || -> std::io::Result<()> {
        let mut writer = WriteOptions::<T>::new()
            .default_dtype()
            .shape(&dims)
            .writer(&mut bytes)
            .begin_nd()?;
        writer.extend(data.iter().copied())?;
        writer.finish()
    };
    encode().map_err(|e| npy_error(path, format!("cannot encode: {e}")))?;
    Ok(fs_err::write(path, &bytes)?)
}

fn npy_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Npy {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn wrong_dtype(path: &Path, expected: &str, found: &str) -> Error {
    npy_error(path, format!("expected {expected}, found {found}"))
}

/// Parses the bytes of a whole `.npy` file; `path` only names the file in errors.
///
/// # Errors
///
/// As [`read_any`], without the I/O errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Array> {
    let err = |m: String| npy_error(path, m);
    let header_end = check_preamble(bytes).map_err(err)?;
    let text = &bytes[..header_end];
    check_nesting(text).map_err(err)?;
    let dims = scan_shape(text).map_err(err)?;

    let mut reader = text;
    let header = NpyHeader::from_reader(&mut reader)
        .map_err(|e| npy_error(path, format!("malformed header: {e}")))?;
    let DType::Plain(ty) = header.dtype() else {
        return Err(npy_error(
            path,
            format!(
                "unsupported dtype: structured or array dtype {}",
                header.dtype().descr()
            ),
        ));
    };
    let name = dtype_name(&ty);
    let item = ty.num_bytes().filter(|&n| n > 0);
    let supported = matches!(
        (ty.type_char(), ty.size_field()),
        (TypeChar::Int, 1 | 2 | 4 | 8) | (TypeChar::Uint, 1) | (TypeChar::Float, 4 | 8)
    );
    let Some(item) = item.filter(|_| supported) else {
        return Err(npy_error(
            path,
            format!("unsupported dtype {name} ('{ty}')"),
        ));
    };
    if header.order() == Order::Fortran && dims.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(npy_error(
            path,
            "Fortran-order arrays are not supported (save a C-order array, e.g. with np.ascontiguousarray)",
        ));
    }

    let shape: Vec<usize> = dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| npy_error(path, format!("shape {dims:?} is too large")))?;
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let needed = count.and_then(|n| n.checked_mul(item));
    let (Some(count), Some(needed)) = (count, needed) else {
        return Err(npy_error(path, format!("shape {shape:?} is too large")));
    };
    let body = &bytes[header_end..];
    if body.len() < needed {
        return Err(npy_error(
            path,
            format!(
                "truncated: shape {shape:?} of {name} needs {needed} data bytes, the file has {}",
                body.len()
            ),
        ));
    }
    if body.len() > needed {
        return Err(npy_error(
            path,
            format!(
                "{} unexpected bytes after the data of shape {shape:?} of {name}",
                body.len() - needed
            ),
        ));
    }

    let file = NpyFile::with_header(header, body);
    let decode = |e: std::io::Error| npy_error(path, format!("cannot decode {name} data: {e}"));
    let data = match (ty.type_char(), ty.size_field()) {
        (TypeChar::Int, 1) => Data::I8(file.into_vec().map_err(decode)?),
        (TypeChar::Uint, 1) => Data::U8(file.into_vec().map_err(decode)?),
        (TypeChar::Int, 2) => Data::I16(file.into_vec().map_err(decode)?),
        (TypeChar::Int, 4) => Data::I32(file.into_vec().map_err(decode)?),
        (TypeChar::Int, 8) => Data::I64(file.into_vec().map_err(decode)?),
        (TypeChar::Float, 4) => Data::F32(file.into_vec().map_err(decode)?),
        _ => Data::F64(file.into_vec().map_err(decode)?),
    };
    if data.len() != count {
        return Err(npy_error(
            path,
            format!("decoded {} values, shape says {count}", data.len()),
        ));
    }
    Ok(Array { shape, data })
}

/// Checks magic, version and header length; returns the offset of the data.
fn check_preamble(bytes: &[u8]) -> std::result::Result<usize, String> {
    if bytes.len() < MAGIC.len() || !bytes.starts_with(MAGIC) {
        let what = if MAGIC.starts_with(bytes) {
            "truncated (shorter than the .npy magic)"
        } else {
            "not a .npy file (no \\x93NUMPY magic)"
        };
        return Err(what.into());
    }
    let (len_bytes, start) = match bytes.get(6..8) {
        Some([1, 0]) => (2, 10),
        Some([2 | 3, 0]) => (4, 12),
        Some([major, minor]) => return Err(format!("unsupported .npy version {major}.{minor}")),
        _ => return Err("truncated header (no version)".into()),
    };
    let Some(len) = bytes.get(8..8 + len_bytes) else {
        return Err("truncated header (no header length)".into());
    };
    let len = len
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let end = start + len;
    if bytes.len() < end {
        return Err(format!(
            "truncated header: {end} header bytes announced, the file has {}",
            bytes.len()
        ));
    }
    Ok(end)
}

/// Refuses absurdly nested headers before a recursive parser sees them.
fn check_nesting(header: &[u8]) -> std::result::Result<(), String> {
    let mut depth = 0usize;
    for &b in header {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err("malformed header: brackets nested too deeply".into());
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Finds the `'shape': (a, b, ...)` entry and checks that the product of its
/// non-zero dimensions fits in a `u64` (npyz computes the strides and the element
/// count with unchecked multiplications, which would panic in debug builds).
fn scan_shape(header: &[u8]) -> std::result::Result<Vec<u64>, String> {
    let text = String::from_utf8_lossy(header);
    let bad = || "malformed header: no shape tuple".to_string();
    let at = text
        .find("'shape'")
        .or_else(|| text.find("\"shape\""))
        .ok_or_else(bad)?;
    let rest = text[at + 7..].trim_start();
    let rest = rest.strip_prefix(':').ok_or_else(bad)?.trim_start();
    let (open, close) = match rest.chars().next() {
        Some('(') => ('(', ')'),
        Some('[') => ('[', ']'),
        _ => return Err(bad()),
    };
    let inner = &rest[open.len_utf8()..];
    let end = inner.find(close).ok_or_else(bad)?;
    let mut dims = Vec::new();
    let mut product = 1u64;
    for token in inner[..end].split(',').map(str::trim) {
        if token.is_empty() {
            continue;
        }
        let digits = token.trim_end_matches(['L', 'l']);
        let d: u64 = digits
            .parse()
            .map_err(|_| format!("malformed header: shape entry {token:?} is not a size"))?;
        if d != 0 {
            product = product
                .checked_mul(d)
                .ok_or_else(|| format!("shape {}{}{close} is too large", open, &inner[..end]))?;
        }
        dims.push(d);
    }
    Ok(dims)
}

/// NumPy's name of a scalar dtype, e.g. `float64` for `<f8`.
fn dtype_name(ty: &TypeStr) -> String {
    let bits = ty.size_field().saturating_mul(8);
    match ty.type_char() {
        TypeChar::Bool => "bool".into(),
        TypeChar::Int => format!("int{bits}"),
        TypeChar::Uint => format!("uint{bits}"),
        TypeChar::Float => format!("float{bits}"),
        TypeChar::Complex => format!("complex{bits}"),
        TypeChar::ByteStr => format!("bytes{}", ty.size_field()),
        TypeChar::UnicodeStr => format!("str{}", ty.size_field()),
        TypeChar::TimeDelta => "timedelta64".into(),
        TypeChar::DateTime => "datetime64".into(),
        _ => format!("'{ty}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A fresh path in the system temp directory.
    fn temp(name: &str) -> PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!("scanline-npy-{}-{n}-{name}", std::process::id()))
    }

    /// A hand-made `.npy` (version 1.0) with `dict` as header and `body` as data.
    fn npy_bytes(dict: &str, body: &[u8]) -> Vec<u8> {
        let mut text = dict.as_bytes().to_vec();
        while !(10 + text.len() + 1).is_multiple_of(16) {
            text.push(b' ');
        }
        text.push(b'\n');
        let mut out = MAGIC.to_vec();
        out.extend([1, 0]);
        out.extend((text.len() as u16).to_le_bytes());
        out.extend(text);
        out.extend(body);
        out
    }

    fn err_of(bytes: &[u8]) -> String {
        let path = temp("bad.npy");
        std::fs::write(&path, bytes).unwrap();
        let r = read_any(&path);
        std::fs::remove_file(&path).unwrap();
        let e = r.unwrap_err();
        assert!(matches!(e, Error::Npy { .. }), "{e:?}");
        let s = e.to_string();
        assert!(s.contains("bad.npy"), "error does not name the file: {s}");
        s
    }

    #[test]
    fn i8_round_trip() {
        let path = temp("i8.npy");
        let data: Vec<i8> = (-128..=127).collect();
        write_i8(&path, &[1, 16, 8, 2], &data).unwrap();
        assert_eq!(read_i8(&path).unwrap(), (vec![1, 16, 8, 2], data));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn f32_round_trip_keeps_bits() {
        let path = temp("f32.npy");
        let data = vec![
            0.0f32,
            -0.0,
            1.5,
            f32::MIN_POSITIVE,
            f32::MAX,
            -1e-30,
            f32::INFINITY,
        ];
        write_f32(&path, &[7], &data).unwrap();
        let (shape, back) = read_f32(&path).unwrap();
        assert_eq!(shape, vec![7]);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&data));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn empty_and_scalar_shapes() {
        let path = temp("empty.npy");
        write_f32(&path, &[0, 5], &[]).unwrap();
        assert_eq!(read_f32(&path).unwrap(), (vec![0, 5], vec![]));
        write_i8(&path, &[], &[7]).unwrap();
        assert_eq!(read_i8(&path).unwrap(), (vec![], vec![7]));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn read_any_names_the_dtype() {
        let body: Vec<u8> = [1.0f64, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let bytes = npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
            &body,
        );
        let path = temp("f64.npy");
        std::fs::write(&path, &bytes).unwrap();
        let a = read_any(&path).unwrap();
        assert_eq!(a.shape, vec![2]);
        assert_eq!(a.data, Data::F64(vec![1.0, -2.0]));
        let e = read_i8(&path).unwrap_err().to_string();
        assert!(e.contains("expected int8, found float64"), "{e}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn big_endian_and_uint8() {
        let body: Vec<u8> = [1.5f32, -3.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let path = temp("be.npy");
        let dict = "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }";
        std::fs::write(&path, npy_bytes(dict, &body)).unwrap();
        assert_eq!(read_f32(&path).unwrap(), (vec![1, 2], vec![1.5, -3.0]));
        let dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }";
        std::fs::write(&path, npy_bytes(dict, &[0, 128, 255])).unwrap();
        assert_eq!(read_any(&path).unwrap().data, Data::U8(vec![0, 128, 255]));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn missing_file_is_io() {
        let path = temp("absent.npy");
        let e = read_i8(&path).unwrap_err();
        assert!(matches!(e, Error::Io(_)), "{e:?}");
        assert!(e.to_string().contains("absent.npy"));
    }

    #[test]
    fn wrong_magic() {
        assert!(err_of(b"PK\x03\x04 this is a zip").contains("not a .npy file"));
        assert!(err_of(b"").contains("truncated"));
        assert!(err_of(b"\x93NUM").contains("truncated"));
    }

    #[test]
    fn truncated_header() {
        let bytes = npy_bytes(
            "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }",
            &[1, 2],
        );
        for cut in [7, 9, 20, 60] {
            let e = err_of(&bytes[..cut]);
            assert!(e.contains("truncated"), "cut {cut}: {e}");
        }
    }

    #[test]
    fn unsupported_version() {
        let mut bytes = npy_bytes(
            "{'descr': '|i1', 'fortran_order': False, 'shape': (1,), }",
            &[1],
        );
        bytes[6] = 9;
        assert!(err_of(&bytes).contains("unsupported .npy version 9.0"));
    }

    #[test]
    fn bad_dtypes_are_named() {
        let cases = [
            ("'<c16'", "complex128"),
            ("'|b1'", "bool"),
            ("'<u2'", "uint16"),
            ("'<f2'", "float16"),
            ("'|S3'", "bytes3"),
            ("[('a', '<i4'), ('b', '<f4')]", "structured"),
        ];
        for (descr, name) in cases {
            let dict = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}");
            let e = err_of(&npy_bytes(&dict, &[0; 16]));
            assert!(
                e.contains("unsupported dtype") && e.contains(name),
                "{descr}: {e}"
            );
        }
        let e = err_of(&npy_bytes(
            "{'descr': '<q9', 'fortran_order': False, 'shape': (1,), }",
            &[],
        ));
        assert!(e.contains("malformed header"), "{e}");
    }

    #[test]
    fn data_shorter_than_shape() {
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let e = err_of(&npy_bytes(dict, &[0; 23]));
        assert!(
            e.contains("truncated") && e.contains("24") && e.contains("23"),
            "{e}"
        );
        let e = err_of(&npy_bytes(dict, &[0; 25]));
        assert!(e.contains("1 unexpected bytes"), "{e}");
    }

    #[test]
    fn absurd_shapes_do_not_panic() {
        // npyz would overflow computing the element count or the strides.
        for shape in [
            "(1099511627776, 1099511627776)",
            "(0, 4294967296, 4294967296, 2)",
        ] {
            let dict = format!("{{'descr': '|i1', 'fortran_order': False, 'shape': {shape}, }}");
            let e = err_of(&npy_bytes(&dict, &[]));
            assert!(e.contains("too large"), "{shape}: {e}");
        }
        let e = err_of(&npy_bytes(
            "{'descr': '|i1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
            &[],
        ));
        assert!(
            e.ends_with("shape (4294967296, 4294967296) is too large"),
            "{e}"
        );
        let e = err_of(&npy_bytes(
            "{'descr': '|i1', 'fortran_order': False, 'shape': (-1,), }",
            &[],
        ));
        assert!(e.contains("malformed header"), "{e}");
        let e = err_of(&npy_bytes(
            "{'descr': '|i1', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
            &[],
        ));
        assert!(e.contains("malformed header"), "{e}");
        let deep = format!(
            "{{'descr': '|i1', 'shape': (1,), 'x': {}{}}}",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert!(err_of(&npy_bytes(&deep, &[0])).contains("nested too deeply"));
        let e = err_of(&npy_bytes("{'descr': '|i1', 'fortran_order': False}", &[]));
        assert!(e.contains("no shape"), "{e}");
        let e = err_of(&npy_bytes("garbage 'shape': (1,) garbage", &[0]));
        assert!(e.contains("malformed header"), "{e}");
    }

    #[test]
    fn fortran_order() {
        let dict = "{'descr': '|i1', 'fortran_order': True, 'shape': (2, 3), }";
        assert!(err_of(&npy_bytes(dict, &[0; 6])).contains("Fortran"));
        // One axis longer than 1: the layout is the same in both orders.
        let path = temp("f1.npy");
        let dict = "{'descr': '|i1', 'fortran_order': True, 'shape': (1, 3), }";
        std::fs::write(&path, npy_bytes(dict, &[1, 2, 3])).unwrap();
        assert_eq!(read_i8(&path).unwrap(), (vec![1, 3], vec![1, 2, 3]));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn write_checks_shape_and_path() {
        let path = temp("w.npy");
        let e = write_i8(&path, &[2, 3], &[0; 5]).unwrap_err();
        assert!(
            matches!(e, Error::Npy { .. }) && e.to_string().contains("6 values"),
            "{e}"
        );
        let e = write_f32(&path, &[usize::MAX, 2], &[]).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        let dir = temp("no-such-dir").join("x.npy");
        let e = write_f32(&dir, &[1], &[1.0]).unwrap_err();
        assert!(matches!(e, Error::Io(_)), "{e:?}");
        assert!(!path.exists());
    }

    #[test]
    fn every_prefix_of_a_valid_file_is_an_error() {
        let path = temp("p.npy");
        write_f32(&path, &[2, 2], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        for cut in 0..bytes.len() {
            err_of(&bytes[..cut]);
        }
    }
}
