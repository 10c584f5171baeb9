//! Reads one WAL segment back, record by record, stopping at the first bad record.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::record::{self, Record};
use super::{
    FORMAT_VERSION, HEADER_BYTES, MAX_RECORD_BYTES, OLDEST_READABLE_VERSION, SEGMENT_HEADER_BYTES,
    SEGMENT_MAGIC,
};
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
///
/// A segment written in another format version (or in the unversioned first format) is an
/// error, not corruption: it is neither misread nor truncated away.
pub(crate) fn read_segment(
    path: &Path,
    mut on_record: impl FnMut(Record),
) -> Result<SegmentEnd, Error> {
    let file = File::open(path).map_err(|e| Error::io("open WAL segment", path, e))?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut end = SegmentEnd::default();
    let mut header = [0u8; SEGMENT_HEADER_BYTES];
    let got = read_full(&mut r, &mut header).map_err(|e| Error::io("read WAL segment", path, e))?;
    if got == 0 {
        // Created, then a crash before its header was written.
        return Ok(end);
    }
    if got < SEGMENT_HEADER_BYTES {
        end.corruption = Some(format!(
            "torn segment header ({got} of {SEGMENT_HEADER_BYTES} bytes)"
        ));
        return Ok(end);
    }
    if header[..4] != SEGMENT_MAGIC {
        if looks_like_v1(path, &header) {
            return Err(unsupported(
                path,
                "written in the unversioned first WAL format (version 1)".to_string(),
            ));
        }
        end.corruption = Some("not a WAL segment header".to_string());
        return Ok(end);
    }
    let crc = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    if crc32c::crc32c(&header[..8]) != crc {
        end.corruption = Some("segment header checksum mismatch".to_string());
        return Ok(end);
    }
    let version = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(unsupported(
            path,
            format!("written in WAL format version {version}"),
        ));
    }
    end.valid_len = SEGMENT_HEADER_BYTES as u64;
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

/// The error for a segment this build cannot read.
fn unsupported(path: &Path, what: String) -> Error {
    Error::io(
        "read WAL segment",
        path,
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{what}; this build reads versions {OLDEST_READABLE_VERSION} to \
                 {FORMAT_VERSION}. Move the wal \
                 directory away (its data is not replayed) or open it with the build that \
                 wrote it"
            ),
        ),
    )
}

/// Whether a segment without a header starts with a valid record of the first format
/// (length, crc32c, then a series, samples or metadata payload).
fn looks_like_v1(path: &Path, header: &[u8; SEGMENT_HEADER_BYTES]) -> bool {
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len == 0 || len > MAX_RECORD_BYTES || !(1..=3).contains(&header[8]) {
        return false;
    }
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut r = BufReader::new(file);
    let mut buf = vec![0u8; HEADER_BYTES + len];
    matches!(read_full(&mut r, &mut buf), Ok(n) if n == buf.len())
        && crc32c::crc32c(&buf[HEADER_BYTES..]) == crc
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
        let mut out = super::super::segment_header().to_vec();
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
        let one = SEGMENT_HEADER_BYTES + (data.len() - SEGMENT_HEADER_BYTES) / 2;
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

    /// A segment of the first, unversioned format: 24-byte samples entries, no header.
    fn v1_segment() -> Vec<u8> {
        let mut payload = vec![2u8];
        for (id, t, v) in [(1u64, 1000i64, 1.0f64), (1, 2000, 2.0)] {
            payload.extend_from_slice(&id.to_le_bytes());
            payload.extend_from_slice(&t.to_le_bytes());
            payload.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        let mut out = (payload.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    #[test]
    fn a_first_format_segment_is_refused_not_misread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("00000000");
        std::fs::write(&p, v1_segment()).expect("write");
        let mut n = 0;
        let err = read_segment(&p, |_| n += 1).expect_err("refused");
        assert_eq!(n, 0);
        assert!(err.to_string().contains("version 1"), "{err}");
    }

    /// The two-record segment with its header saying format `version` (checksummed).
    fn two_records_in_version(version: u32) -> Vec<u8> {
        let mut data = two_records();
        data[4..8].copy_from_slice(&version.to_le_bytes());
        let crc = crc32c::crc32c(&data[..8]);
        data[8..12].copy_from_slice(&crc.to_le_bytes());
        data
    }

    #[test]
    fn another_format_version_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("00000000");
        std::fs::write(&p, two_records_in_version(FORMAT_VERSION + 1)).expect("write");
        let mut n = 0;
        let err = read_segment(&p, |_| n += 1).expect_err("refused");
        assert_eq!(n, 0);
        assert!(err.to_string().contains("version 4"), "{err}");
    }

    #[test]
    fn segments_of_the_previous_version_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("00000000");
        std::fs::write(&p, two_records_in_version(OLDEST_READABLE_VERSION)).expect("write");
        let mut n = 0;
        let end = read_segment(&p, |_| n += 1).expect("read");
        assert_eq!(n, 2);
        assert!(end.corruption.is_none());
    }

    #[test]
    fn empty_torn_and_damaged_headers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("00000000");
        let data = two_records();
        std::fs::write(&p, []).expect("write");
        let end = read_segment(&p, |_| panic!("no records")).expect("read");
        assert!(end.corruption.is_none());
        assert_eq!(end.valid_len, 0);
        for cut in [1, 5, SEGMENT_HEADER_BYTES - 1] {
            std::fs::write(&p, &data[..cut]).expect("write");
            let end = read_segment(&p, |_| panic!("no records")).expect("read");
            assert!(end.corruption.expect("torn").contains("torn"));
            assert_eq!(end.valid_len, 0);
        }
        // Any flipped bit of the header is damage (a clean truncation), never a refusal.
        for byte in 0..SEGMENT_HEADER_BYTES {
            for bit in 0..8 {
                let mut bad = data.clone();
                bad[byte] ^= 1 << bit;
                std::fs::write(&p, &bad).expect("write");
                let end = read_segment(&p, |_| panic!("no records")).expect("read");
                assert!(end.corruption.is_some());
                assert_eq!(end.valid_len, 0);
            }
        }
        // A header and nothing else is a clean, empty segment.
        std::fs::write(&p, &data[..SEGMENT_HEADER_BYTES]).expect("write");
        let end = read_segment(&p, |_| panic!("no records")).expect("read");
        assert!(end.corruption.is_none());
        assert_eq!(end.valid_len, SEGMENT_HEADER_BYTES as u64);
    }
}
