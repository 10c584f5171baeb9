//! The `chunks` file: an 8-byte header, then chunk entries back to back, each
//! `encoding byte, uvarint length, data, CRC-32C(encoding + data)`. Entries are found
//! through the offsets the index keeps; the file itself has no table.

use std::path::Path;

use super::encoding::{Decoder, put_uvarint};
use crate::Error;

/// Name of the file inside a block directory.
pub(crate) const FILE: &str = "chunks";

/// First four bytes of the file.
pub(crate) const MAGIC: [u8; 4] = *b"FWCK";

/// Format version, u32 little-endian after the magic.
pub(crate) const VERSION: u32 = 1;

/// Bytes before the first entry.
pub(crate) const HEADER_LEN: u64 = 8;

/// The header bytes.
pub(crate) fn header() -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..4].copy_from_slice(&MAGIC);
    h[4..].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Checks the header of a mapped chunks file.
pub(crate) fn check_header(path: &Path, file: &[u8]) -> Result<(), Error> {
    if file.len() < HEADER_LEN as usize {
        return Err(Error::corrupt(
            path,
            0,
            format!("{} bytes, shorter than the header", file.len()),
        ));
    }
    if file[..4] != MAGIC {
        return Err(Error::corrupt(path, 0, "not a chunks file (bad magic)"));
    }
    let mut d = Decoder::new(&file[4..8], 4, path);
    let v = d.u32_le()?;
    if v != VERSION {
        return Err(Error::corrupt(
            path,
            4,
            format!("chunks format version {v} is not supported (this build reads {VERSION})"),
        ));
    }
    Ok(())
}

/// The entry bytes of one chunk: the caller writes them at the offset it records.
pub(crate) fn entry(encoding: u8, data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.push(encoding);
    put_uvarint(out, data.len() as u64);
    out.extend_from_slice(data);
    let crc = crc32c::crc32c_append(crc32c::crc32c(&[encoding]), data);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// The encoding and data of the entry at `offset` of the mapped file, CRC checked.
pub(crate) fn read<'a>(path: &Path, file: &'a [u8], offset: u64) -> Result<(u8, &'a [u8]), Error> {
    if offset < HEADER_LEN || offset >= file.len() as u64 {
        return Err(Error::corrupt(
            path,
            offset,
            format!(
                "chunk offset outside the file's entries ({HEADER_LEN}..{})",
                file.len()
            ),
        ));
    }
    // In range of a mapped slice, so it fits in usize.
    let start = offset as usize;
    let mut d = Decoder::new(&file[start..], offset, path);
    let encoding = d.u8()?;
    let len = d.uvarint()?;
    if len > d.remaining() as u64 {
        return Err(Error::corrupt(
            path,
            offset,
            format!(
                "chunk of {len} bytes runs past the end of the file ({} bytes left)",
                d.remaining()
            ),
        ));
    }
    let data = d.bytes(len as usize)?;
    let crc_at = d.offset();
    let stored = d.u32_le().map_err(|_| {
        Error::corrupt(path, crc_at, "chunk checksum runs past the end of the file")
    })?;
    let crc = crc32c::crc32c_append(crc32c::crc32c(&[encoding]), data);
    if crc != stored {
        return Err(Error::corrupt(
            path,
            offset,
            format!("chunk checksum mismatch (stored {stored:#010x}, computed {crc:#010x})"),
        ));
    }
    Ok((encoding, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_every_flip_is_caught() {
        let path = Path::new("chunks");
        let mut file = header().to_vec();
        let mut e = Vec::new();
        entry(7, b"hello chunk", &mut e);
        file.extend_from_slice(&e);
        check_header(path, &file).expect("header");
        assert_eq!(
            read(path, &file, HEADER_LEN).expect("read"),
            (7, &b"hello chunk"[..])
        );
        for i in HEADER_LEN as usize..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x10;
            let err = read(path, &bad, HEADER_LEN).expect_err("flip is caught");
            assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        }
        for cut in 0..file.len() {
            assert!(read(path, &file[..cut], HEADER_LEN).is_err());
        }
        assert!(read(path, &file, 0).is_err());
        assert!(read(path, &file, u64::MAX).is_err());
    }
}
