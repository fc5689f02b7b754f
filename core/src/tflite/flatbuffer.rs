//! Flatbuffer: a small, zero-copy, bounds-checked reader of the FlatBuffers binary
//! format, enough to walk a TFLite model (tables, scalars, vectors, strings).
//!
//! Every read checks its offset against the buffer with checked arithmetic; a
//! malformed buffer gives [`Error::Malformed`] naming the byte offset and the field
//! being read, never a panic. Nothing is copied: vectors and strings borrow the
//! buffer.
//!
//! The format, in brief: all integers are little-endian. The buffer starts with a
//! `u32` offset to the root table. A table starts with an `i32` *soffset*; the
//! table's vtable is at `table - soffset`. A vtable is `u16` vtable length in bytes,
//! `u16` table inline length, then one `u16` per field: the field's offset from the
//! table start, 0 if absent (the field then has its default). Field `n` is vtable
//! slot `n`; a union takes two slots (type, then value). Tables, vectors and strings
//! are referenced by a `u32` offset relative to where the offset is stored. A vector
//! (and a string) is a `u32` element count followed by the elements; a vector of
//! tables holds `u32` offsets, each relative to its own position.

use crate::{Error, Result};

/// `Error::Malformed` at `offset`.
pub(super) const fn malformed(offset: usize, what: &'static str) -> Error {
    Error::Malformed { offset, what }
}

/// `len` bytes at `pos` of `buf`, or a malformed error naming `what`.
pub(super) fn bytes_at<'a>(
    buf: &'a [u8],
    pos: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8]> {
    pos.checked_add(len)
        .and_then(|end| buf.get(pos..end))
        .ok_or(malformed(pos, what))
}

fn u16_at(buf: &[u8], pos: usize, what: &'static str) -> Result<u16> {
    let b = bytes_at(buf, pos, 2, what)?;
    b.first_chunk()
        .copied()
        .map(u16::from_le_bytes)
        .ok_or(malformed(pos, what))
}

fn u32_at(buf: &[u8], pos: usize, what: &'static str) -> Result<u32> {
    let b = bytes_at(buf, pos, 4, what)?;
    b.first_chunk()
        .copied()
        .map(u32::from_le_bytes)
        .ok_or(malformed(pos, what))
}

/// Follows the `u32` offset stored at `pos`: `pos + value`.
fn follow(buf: &[u8], pos: usize, what: &'static str) -> Result<usize> {
    let off = u32_at(buf, pos, what)? as usize;
    pos.checked_add(off)
        .filter(|&t| t < buf.len())
        .ok_or(malformed(pos, what))
}

/// The root table of a flatbuffer, checking the 4-byte file identifier at bytes 4..8.
pub(super) fn root<'a>(buf: &'a [u8], identifier: &[u8; 4]) -> Result<Table<'a>> {
    let id = bytes_at(buf, 4, 4, "file identifier (file too short)")?;
    if id != identifier {
        return Err(malformed(4, "file identifier is not \"TFL3\""));
    }
    let pos = follow(buf, 0, "root table offset")?;
    Table::new(buf, pos, "root table")
}

/// A table: its position and its vtable, both checked to lie inside the buffer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
    inline_len: usize,
}

impl<'a> Table<'a> {
    /// The table at `pos`.
    pub(super) fn new(buf: &'a [u8], pos: usize, what: &'static str) -> Result<Self> {
        let b = bytes_at(buf, pos, 4, what)?;
        let soffset = b
            .first_chunk()
            .copied()
            .map(i32::from_le_bytes)
            .ok_or(malformed(pos, what))? as i64;
        let vtable = (pos as i64)
            .checked_sub(soffset)
            .filter(|&v| v >= 0 && (v as u64) < buf.len() as u64)
            .ok_or(malformed(pos, "vtable offset out of range"))? as usize;
        let vtable_len = u16_at(buf, vtable, "vtable header")? as usize;
        let inline_len = u16_at(buf, vtable + 2, "vtable header")? as usize;
        if vtable_len < 4 || !vtable_len.is_multiple_of(2) {
            return Err(malformed(vtable, "vtable length"));
        }
        bytes_at(buf, vtable, vtable_len, "vtable")?;
        if inline_len < 4 {
            return Err(malformed(vtable, "table length"));
        }
        bytes_at(buf, pos, inline_len, "table")?;
        Ok(Self {
            buf,
            pos,
            vtable,
            vtable_len,
            inline_len,
        })
    }

    /// Byte offset of the table in the buffer.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Position of field `id` (`size` bytes, inside the table), or `None` if absent.
    fn field(&self, id: usize, size: usize, what: &'static str) -> Result<Option<usize>> {
        let slot = 4 + 2 * id;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = u16_at(self.buf, self.vtable + slot, what)? as usize;
        if off == 0 {
            return Ok(None);
        }
        if off < 4 || off + size > self.inline_len {
            return Err(malformed(self.vtable + slot, what));
        }
        Ok(Some(self.pos + off))
    }

    fn scalar<const N: usize>(&self, id: usize, what: &'static str) -> Result<Option<[u8; N]>> {
        match self.field(id, N, what)? {
            None => Ok(None),
            Some(p) => {
                let mut a = [0u8; N];
                a.copy_from_slice(bytes_at(self.buf, p, N, what)?);
                Ok(Some(a))
            }
        }
    }

    /// An `i8` (byte) field.
    pub(super) fn i8(&self, id: usize, default: i8, what: &'static str) -> Result<i8> {
        Ok(self
            .scalar::<1>(id, what)?
            .map_or(default, i8::from_le_bytes))
    }

    /// A `u8` (ubyte, union type) field.
    pub(super) fn u8(&self, id: usize, default: u8, what: &'static str) -> Result<u8> {
        Ok(self
            .scalar::<1>(id, what)?
            .map_or(default, u8::from_le_bytes))
    }

    /// An `i32` field.
    pub(super) fn i32(&self, id: usize, default: i32, what: &'static str) -> Result<i32> {
        Ok(self
            .scalar::<4>(id, what)?
            .map_or(default, i32::from_le_bytes))
    }

    /// A `u32` field.
    pub(super) fn u32(&self, id: usize, default: u32, what: &'static str) -> Result<u32> {
        Ok(self
            .scalar::<4>(id, what)?
            .map_or(default, u32::from_le_bytes))
    }

    /// A `u64` field.
    pub(super) fn u64(&self, id: usize, default: u64, what: &'static str) -> Result<u64> {
        Ok(self
            .scalar::<8>(id, what)?
            .map_or(default, u64::from_le_bytes))
    }

    /// A sub-table field.
    pub(super) fn table(&self, id: usize, what: &'static str) -> Result<Option<Table<'a>>> {
        match self.field(id, 4, what)? {
            None => Ok(None),
            Some(p) => Table::new(self.buf, follow(self.buf, p, what)?, what).map(Some),
        }
    }

    /// A vector field whose elements are `elem` bytes each.
    pub(super) fn vector(
        &self,
        id: usize,
        elem: usize,
        what: &'static str,
    ) -> Result<Option<Vector<'a>>> {
        match self.field(id, 4, what)? {
            None => Ok(None),
            Some(p) => {
                let at = follow(self.buf, p, what)?;
                let len = u32_at(self.buf, at, what)? as usize;
                let n = len.checked_mul(elem).ok_or(malformed(at, what))?;
                let data = bytes_at(self.buf, at + 4, n, what).map_err(|_| malformed(at, what))?;
                Ok(Some(Vector {
                    buf: self.buf,
                    pos: at + 4,
                    data,
                    len,
                    what,
                }))
            }
        }
    }

    /// A string field (UTF-8 is checked).
    pub(super) fn string(&self, id: usize, what: &'static str) -> Result<Option<&'a str>> {
        match self.vector(id, 1, what)? {
            None => Ok(None),
            Some(v) => core::str::from_utf8(v.data)
                .map(Some)
                .map_err(|_| malformed(v.pos, what)),
        }
    }
}

/// A vector: `len` elements at `pos`, all inside the buffer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Vector<'a> {
    buf: &'a [u8],
    pos: usize,
    data: &'a [u8],
    len: usize,
    what: &'static str,
}

impl<'a> Vector<'a> {
    /// Number of elements.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The elements' bytes.
    pub(super) fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Byte offset of the first element.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Element `i` of a vector of `i32`.
    pub(super) fn i32(&self, i: usize) -> Option<i32> {
        let b = self.data.get(i.checked_mul(4)?..)?;
        b.first_chunk().copied().map(i32::from_le_bytes)
    }

    /// Element `i` of a vector of tables.
    pub(super) fn table(&self, i: usize) -> Result<Table<'a>> {
        if i >= self.len {
            return Err(malformed(self.pos, self.what));
        }
        let p = self.pos + 4 * i;
        Table::new(self.buf, follow(self.buf, p, self.what)?, self.what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built flatbuffer: root table with an i32 field (id 0) = 7 and a vector
    /// of i32 (id 1) = [1, -2]; field 2 lies past the vtable (absent).
    fn sample() -> [u8; 48] {
        let mut b = [0u8; 48];
        b[0..4].copy_from_slice(&16u32.to_le_bytes()); // root at 16
        b[4..8].copy_from_slice(b"TFL3");
        // vtable at 8: len 8, inline 16, fields 0 and 1 at 4 and 8
        b[8..10].copy_from_slice(&8u16.to_le_bytes());
        b[10..12].copy_from_slice(&16u16.to_le_bytes());
        b[12..14].copy_from_slice(&4u16.to_le_bytes());
        b[14..16].copy_from_slice(&8u16.to_le_bytes());
        // table at 16: soffset 8 → vtable at 8
        b[16..20].copy_from_slice(&8i32.to_le_bytes());
        b[20..24].copy_from_slice(&7i32.to_le_bytes());
        b[24..28].copy_from_slice(&(32u32 - 24).to_le_bytes()); // vector at 32
        b[32..36].copy_from_slice(&2u32.to_le_bytes());
        b[36..40].copy_from_slice(&1i32.to_le_bytes());
        b[40..44].copy_from_slice(&(-2i32).to_le_bytes());
        b
    }

    #[test]
    fn reads_fields_and_rejects_bad_offsets() {
        let b = sample();
        let t = root(&b, b"TFL3").unwrap();
        assert_eq!(t.i32(0, 0, "x").unwrap(), 7);
        let v = t.vector(1, 4, "v").unwrap().unwrap();
        assert_eq!(
            (v.len(), v.i32(0), v.i32(1), v.i32(2)),
            (2, Some(1), Some(-2), None)
        );
        // Field 2 is beyond the vtable (length 8 covers ids 0 and 1): absent.
        assert_eq!(t.string(2, "s").unwrap(), None);
        assert_eq!(t.i32(5, -1, "absent").unwrap(), -1);
        // (The message names the identifier TFLite files carry, the only one read.)
        assert_eq!(
            root(&b, b"XXXX").unwrap_err(),
            malformed(4, "file identifier is not \"TFL3\"")
        );
        // Vector length past the end.
        let mut bad = b;
        bad[32..36].copy_from_slice(&1000u32.to_le_bytes());
        let t = root(&bad, b"TFL3").unwrap();
        assert_eq!(t.vector(1, 4, "v").unwrap_err(), malformed(32, "v"));
        // Root offset past the end.
        let mut bad = b;
        bad[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            root(&bad, b"TFL3").unwrap_err(),
            malformed(0, "root table offset")
        );
        // soffset pointing before the start.
        let mut bad = b;
        bad[16..20].copy_from_slice(&100i32.to_le_bytes());
        assert_eq!(
            root(&bad, b"TFL3").unwrap_err(),
            malformed(16, "vtable offset out of range")
        );
        assert_eq!(
            root(&b[..6], b"TFL3").unwrap_err(),
            malformed(4, "file identifier (file too short)")
        );
    }
}
