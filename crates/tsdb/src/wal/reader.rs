//! Reads one WAL segment back, record by record, stopping at the first bad record.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::record::{self, Record};
use super::{HEADER_BYTES, MAX_RECORD_BYTES};
use crate::Error;

/// How reading a segment ended.
#[derive(Debug, Default)]
pub(crate) struct SegmentEnd {
    /// Bytes of whole, valid records from the start of the file.
    pub valid_len: u64,
    /// Why reading stopped before the end of the file, if it did.
    pub corruption: Option<String>,
}

/// Calls `on_record` for each valid record of the segment at `path`, in order.
pub(crate) fn read_segment(
    path: &Path,
    mut on_record: impl FnMut(Record),
) -> Result<SegmentEnd, Error> {
    let file = File::open(path).map_err(|e| Error::io("open WAL segment", path, e))?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut end = SegmentEnd::default();
    let mut payload = Vec::new();
    loop {
        let mut header = [0u8; HEADER_BYTES];
        let got =
            read_full(&mut r, &mut header).map_err(|e| Error::io("read WAL segment", path, e))?;
        if got == 0 {
            return Ok(end);
        }
        if got < HEADER_BYTES {
            end.corruption = Some(format!(
                "torn record header ({got} of {HEADER_BYTES} bytes)"
            ));
            return Ok(end);
        }
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len == 0 || len > MAX_RECORD_BYTES {
            end.corruption = Some(format!(
                "record length {len} outside 1..={MAX_RECORD_BYTES}"
            ));
            return Ok(end);
        }
        payload.resize(len, 0);
        let got =
            read_full(&mut r, &mut payload).map_err(|e| Error::io("read WAL segment", path, e))?;
        if got < len {
            end.corruption = Some(format!("torn record ({got} of {len} payload bytes)"));
            return Ok(end);
        }
        if crc32c::crc32c(&payload) != crc {
            end.corruption = Some("record checksum mismatch".to_string());
            return Ok(end);
        }
        match record::decode(&payload) {
            Ok(rec) => on_record(rec),
            Err(e) => {
                end.corruption = Some(e.to_string());
                return Ok(end);
            }
        }
        end.valid_len += (HEADER_BYTES + len) as u64;
    }
}

/// Reads until `buf` is full or end of file; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::super::frame_with;
    use super::super::record::{SampleRecord, encode_samples};
    use super::*;

    fn two_records() -> Vec<u8> {
        let mut out = Vec::new();
        for id in [1u64, 2] {
            frame_with(&mut out, |b| {
                encode_samples(b, [SampleRecord { id, t: 10, v: 1.0 }])
            });
        }
        out
    }

    #[test]
    fn reads_all_records_of_a_clean_segment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("00000000");
        let data = two_records();
        std::fs::write(&p, &data).expect("write");
        let mut n = 0;
        let end = read_segment(&p, |_| n += 1).expect("read");
        assert_eq!(n, 2);
        assert_eq!(end.valid_len, data.len() as u64);
        assert!(end.corruption.is_none());
    }

    #[test]
    fn stops_at_a_flipped_byte_and_reports_the_valid_prefix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("00000000");
        let mut data = two_records();
        let one = data.len() / 2;
        let last = data.len() - 1;
        data[last] ^= 0x40;
        std::fs::write(&p, &data).expect("write");
        let mut n = 0;
        let end = read_segment(&p, |_| n += 1).expect("read");
        assert_eq!(n, 1);
        assert_eq!(end.valid_len, one as u64);
        assert!(end.corruption.expect("corrupt").contains("checksum"));
    }

    #[test]
    fn zero_filled_tail_is_corruption() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("00000000");
        let mut data = two_records();
        data.extend_from_slice(&[0u8; 100]);
        std::fs::write(&p, &data).expect("write");
        let end = read_segment(&p, |_| {}).expect("read");
        assert!(end.corruption.is_some());
        assert_eq!(end.valid_len, (data.len() - 100) as u64);
    }
}
