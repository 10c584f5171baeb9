//! Varints and a bounds-checked decoder over mapped bytes. Every read can fail with
//! [`Error::Corrupt`] naming the file and the absolute offset; nothing here panics on
//! any byte content.

use std::path::Path;

use crate::Error;

/// Appends `u` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut u: u64) {
    while u >= 0x80 {
        out.push((u as u8) | 0x80);
        u >>= 7;
    }
    out.push(u as u8);
}

/// Appends `v` zigzag-encoded as a varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Reads values from `buf`, which starts at byte `base` of the file `path`.
pub(crate) struct Decoder<'a, 'p> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
    path: &'p Path,
}

impl<'a, 'p> Decoder<'a, 'p> {
    /// A decoder over `buf`, the bytes at `base..` of `path`.
    pub(crate) fn new(buf: &'a [u8], base: u64, path: &'p Path) -> Self {
        Decoder {
            buf,
            pos: 0,
            base,
            path,
        }
    }

    /// Absolute file offset of the next byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Position relative to the start of `buf`.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// A corruption error at the current position.
    pub(crate) fn err(&self, reason: impl Into<String>) -> Error {
        Error::corrupt(self.path, self.offset(), reason)
    }

    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.remaining() {
            return Err(self.err(format!(
                "{n} bytes needed, {} left in the section",
                self.remaining()
            )));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.bytes(1)?[0])
    }

    /// A little-endian u32.
    pub(crate) fn u32_le(&mut self) -> Result<u32, Error> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A little-endian u64.
    pub(crate) fn u64_le(&mut self) -> Result<u64, Error> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// An unsigned LEB128 varint of at most 10 bytes.
    pub(crate) fn uvarint(&mut self) -> Result<u64, Error> {
        let start = self.pos;
        let mut u = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            // The tenth byte holds only the top bit of a u64.
            if i == 9 && b > 1 {
                self.pos = start;
                return Err(self.err("varint overflows 64 bits"));
            }
            u |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(u);
            }
        }
        self.pos = start;
        Err(self.err("varint overflows 64 bits"))
    }

    /// A uvarint that must fit in a u32 (symbol references, counts).
    pub(crate) fn uvarint_u32(&mut self, what: &str) -> Result<u32, Error> {
        let at = self.offset();
        let v = self.uvarint()?;
        u32::try_from(v).map_err(|_| Error::corrupt(self.path, at, format!("{what} {v} too large")))
    }

    /// A count of items that each take at least one byte: refused when more than the
    /// bytes left, so a damaged count never makes us allocate gigabytes.
    pub(crate) fn count(&mut self, what: &str) -> Result<usize, Error> {
        let at = self.offset();
        let n = self.uvarint()?;
        if n > self.remaining() as u64 {
            return Err(Error::corrupt(
                self.path,
                at,
                format!(
                    "{what} count {n} exceeds the {} bytes left",
                    self.remaining()
                ),
            ));
        }
        Ok(n as usize)
    }

    /// A zigzag-encoded signed varint.
    pub(crate) fn varint(&mut self) -> Result<i64, Error> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_extremes() {
        let mut buf = Vec::new();
        let us = [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        let is = [0, -1, 1, i64::MIN, i64::MAX, -64, 64];
        for u in us {
            put_uvarint(&mut buf, u);
        }
        for i in is {
            put_varint(&mut buf, i);
        }
        let path = Path::new("x");
        let mut d = Decoder::new(&buf, 0, path);
        for u in us {
            assert_eq!(d.uvarint().expect("uvarint"), u);
        }
        for i in is {
            assert_eq!(d.varint().expect("varint"), i);
        }
        assert_eq!(d.remaining(), 0);
        assert!(d.u8().is_err());
    }

    #[test]
    fn overlong_varints_and_counts_are_corrupt() {
        let path = Path::new("x");
        let buf = [0xff; 11];
        let err = Decoder::new(&buf, 100, path)
            .uvarint()
            .expect_err("overlong");
        assert!(matches!(err, Error::Corrupt { offset: 100, .. }), "{err}");
        let buf = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Decoder::new(&buf, 0, path).uvarint().is_err());
        let buf = [5, 1, 2];
        assert!(Decoder::new(&buf, 0, path).count("things").is_err());
        let buf = [0x80];
        assert!(Decoder::new(&buf, 0, path).uvarint().is_err());
    }
}
