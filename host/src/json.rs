//! Json: the `--json` output of the commands — one JSON object on one line, with a
//! versioned `schema` field such as `"scanline/run/1"` — and the serde helpers
//! that give core types their JSON form. The schemas are documented in
//! `docs/json.md`.
//!
//! A report becomes a document by implementing [`Schema`] (its schema name) and
//! `serde::Serialize` (its fields); [`document`] puts the `schema` field first.
//! A schema's version changes only when a field is removed or changes meaning;
//! new fields may be added within a version.
//!
//! # Examples
//!
//! ```
//! use scanline_host::json::{self, Schema};
//! #[derive(serde::Serialize)]
//! struct Hello { greeting: &'static str }
//! impl Schema for Hello { const SCHEMA: &'static str = "scanline/hello/1"; }
//! let text = json::document(&Hello { greeting: "hi" }).unwrap();
//! assert_eq!(text, r#"{"schema":"scanline/hello/1","greeting":"hi"}"#);
//! ```

use std::path::Path;

use scanline::{Quant, Shape};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use serde_json::value::RawValue;

use crate::Result;

/// A report with a JSON form: its schema name, `scanline/<command>/<version>`.
pub trait Schema {
    /// The schema name written in the `schema` field.
    const SCHEMA: &'static str;
}

#[derive(Serialize)]
struct Document<'a, T> {
    schema: &'static str,
    #[serde(flatten)]
    report: &'a T,
}

/// The report as one JSON object on one line (no trailing newline), its
/// `schema` field first.
///
/// # Errors
///
/// [`crate::Error::Json`] if serde fails (not for the reports of this crate).
pub fn document<T: Serialize + Schema>(report: &T) -> Result<String> {
    Ok(serde_json::to_string(&Document {
        schema: T::SCHEMA,
        report,
    })?)
}

/// The report's [`document`] as raw JSON, to nest it unchanged in another
/// document (`scanline batch --json` does).
///
/// # Errors
///
/// As [`document`].
pub fn raw<T: Serialize + Schema>(report: &T) -> Result<Box<RawValue>> {
    Ok(RawValue::from_string(document(report)?)?)
}

/// A shape as `[height, width, channels]`.
///
/// ```
/// # use scanline::Shape;
/// #[derive(serde::Serialize)]
/// struct S { #[serde(serialize_with = "scanline_host::json::shape")] s: Shape }
/// assert_eq!(serde_json::to_string(&S { s: Shape::new(3, 5, 32) }).unwrap(), r#"{"s":[3,5,32]}"#);
/// ```
pub fn shape<S: Serializer>(s: &Shape, ser: S) -> std::result::Result<S::Ok, S::Error> {
    [s.height, s.width, s.channels].serialize(ser)
}

/// A quantization as `{"scale": f32, "zero_point": i32}`.
///
/// ```
/// # use scanline::Quant;
/// #[derive(serde::Serialize)]
/// struct S { #[serde(serialize_with = "scanline_host::json::quant")] q: Quant }
/// let text = serde_json::to_string(&S { q: Quant::new(0.5, -128) }).unwrap();
/// assert_eq!(text, r#"{"q":{"scale":0.5,"zero_point":-128}}"#);
/// ```
pub fn quant<S: Serializer>(q: &Quant, ser: S) -> std::result::Result<S::Ok, S::Error> {
    let mut s = ser.serialize_struct("Quant", 2)?;
    s.serialize_field("scale", &q.scale)?;
    s.serialize_field("zero_point", &q.zero_point)?;
    s.end()
}

/// A path as a string (lossy for paths that are not UTF-8).
pub fn path<P: AsRef<Path>, S: Serializer>(p: P, ser: S) -> std::result::Result<S::Ok, S::Error> {
    ser.serialize_str(&p.as_ref().to_string_lossy())
}

/// A list of paths as an array of strings.
pub fn paths<S: Serializer>(
    paths: &[std::path::PathBuf],
    ser: S,
) -> std::result::Result<S::Ok, S::Error> {
    ser.collect_seq(paths.iter().map(|p| p.to_string_lossy()))
}

/// An optional path as a string or `null`.
pub fn option_path<S: Serializer>(
    p: &Option<std::path::PathBuf>,
    ser: S,
) -> std::result::Result<S::Ok, S::Error> {
    match p {
        Some(p) => path(p, ser),
        None => ser.serialize_none(),
    }
}

/// An optional FNV-1a 32 digest as 8 lowercase hex digits (what `--digest`
/// prints and the firmware logs) or `null`.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct S { #[serde(serialize_with = "scanline_host::json::digest")] d: Option<u32> }
/// assert_eq!(serde_json::to_string(&S { d: Some(0xe40c292c) }).unwrap(), r#"{"d":"e40c292c"}"#);
/// ```
pub fn digest<S: Serializer>(d: &Option<u32>, ser: S) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser.serialize_str(&format!("{d:08x}")),
        None => ser.serialize_none(),
    }
}
