//! meta.json: what a block holds, as JSON so operators and tools can read it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{BlockMeta, BlockStats, ulid};
use crate::Error;

/// Name of the file inside a block directory.
pub(crate) const FILE: &str = "meta.json";

/// The only meta.json version this build reads and writes.
pub(crate) const VERSION: u32 = 1;

/// Unknown fields are ignored, so a later build may add optional ones without a new
/// version; those stay outside the checksum, which covers exactly the fields below as
/// version 1 defines them (renaming or reordering one changes every block's checksum).
#[derive(Serialize, Deserialize)]
struct Json {
    version: u32,
    id: String,
    min_t: i64,
    max_t: i64,
    stats: JsonStats,
    level: u32,
    sources: Vec<String>,
    /// CRC-32C, hex, of the seven fields above as compact JSON (see [`checksum`]).
    /// Blocks written before it existed have none and are read unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checksum: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct JsonStats {
    series: u64,
    samples: u64,
    chunks: u64,
}

/// Read first on its own, so a block of another version is refused as such rather than
/// as a parse error on fields this build does not know.
#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

/// The JSON text of `meta`.
pub(crate) fn encode(meta: &BlockMeta) -> Result<Vec<u8>, Error> {
    let json = Json {
        version: VERSION,
        id: meta.id.clone(),
        min_t: meta.min_t,
        max_t: meta.max_t,
        stats: JsonStats {
            series: meta.stats.series,
            samples: meta.stats.samples,
            chunks: meta.stats.chunks,
        },
        level: meta.level,
        sources: meta.sources.clone(),
        checksum: None,
    };
    let cannot = |e: serde_json::Error| Error::BlockWrite {
        reason: format!("cannot encode meta.json: {e}"),
    };
    let json = Json {
        checksum: Some(checksum(&json).map_err(cannot)?),
        ..json
    };
    let mut out = serde_json::to_vec_pretty(&json).map_err(cannot)?;
    out.push(b'\n');
    Ok(out)
}

/// Parses and checks the meta.json at `path`, read as `bytes`, of the block in directory
/// `dir_name`.
pub(crate) fn decode(path: &Path, bytes: &[u8], dir_name: &str) -> Result<BlockMeta, Error> {
    let bad = |reason: String| Error::corrupt(path, 0, reason);
    let version: VersionOnly =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not a block meta.json: {e}")))?;
    if version.version != VERSION {
        return Err(bad(format!(
            "block format version {} is not supported (this build reads version {VERSION})",
            version.version
        )));
    }
    let mut j: Json =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not a block meta.json: {e}")))?;
    // A flipped digit can leave valid JSON that misstates the block (a wrong time range
    // would hide its data from queries): the checksum catches it.
    if let Some(stated) = j.checksum.take() {
        let actual = checksum(&j).map_err(|e| bad(format!("cannot re-encode: {e}")))?;
        if stated != actual {
            return Err(bad(format!(
                "checksum {stated:?} does not match the content (its checksum is {actual:?})"
            )));
        }
    }
    if ulid::parse(&j.id).is_none() {
        return Err(bad(format!("id {:?} is not a ULID", j.id)));
    }
    if j.id != dir_name {
        return Err(bad(format!(
            "id {} differs from the directory name {dir_name:?}",
            j.id
        )));
    }
    if j.min_t > j.max_t {
        return Err(bad(format!("min_t {} is after max_t {}", j.min_t, j.max_t)));
    }
    if j.level == 0 {
        return Err(bad("level 0 (levels start at 1)".to_string()));
    }
    Ok(BlockMeta {
        id: j.id,
        min_t: j.min_t,
        max_t: j.max_t,
        stats: BlockStats {
            series: j.stats.series,
            samples: j.stats.samples,
            chunks: j.stats.chunks,
        },
        level: j.level,
        sources: j.sources,
    })
}

/// The checksum of `json`, whose `checksum` is not set: CRC-32C of its compact JSON,
/// which is the same for any spacing of the file, as 8 hex digits.
fn checksum(json: &Json) -> Result<String, serde_json::Error> {
    debug_assert!(
        json.checksum.is_none(),
        "a checksum covers the other fields"
    );
    let bare = serde_json::to_vec(json)?;
    Ok(format!("{:08x}", crc32c::crc32c(&bare)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> BlockMeta {
        BlockMeta {
            id: id.to_string(),
            min_t: -5,
            max_t: 10,
            stats: BlockStats {
                series: 1,
                samples: 2,
                chunks: 3,
            },
            level: 2,
            sources: vec![id.to_string()],
        }
    }

    #[test]
    fn round_trips_and_has_a_version() {
        let id = ulid::new();
        let m = meta(&id);
        let bytes = encode(&m).expect("encode");
        let text = String::from_utf8(bytes.clone()).expect("utf-8");
        assert!(text.contains("\"version\": 1"), "{text}");
        assert_eq!(decode(Path::new("m"), &bytes, &id).expect("decode"), m);
    }

    #[test]
    fn refuses_other_versions_garbage_and_misnamed_blocks() {
        let id = ulid::new();
        let text = String::from_utf8(encode(&meta(&id)).expect("encode")).expect("utf-8");
        let v2 = text.replace("\"version\": 1", "\"version\": 2");
        let err = decode(Path::new("m"), v2.as_bytes(), &id).expect_err("version 2");
        assert!(
            err.to_string().contains("version 2 is not supported"),
            "{err}"
        );
        let err = decode(Path::new("m"), b"{garbage", &id).expect_err("garbage");
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        let other = ulid::new();
        assert!(decode(Path::new("m"), text.as_bytes(), &other).is_err());
    }

    #[test]
    fn the_checksum_of_a_fixed_meta_is_fixed() {
        // The example in FORMAT.md: a change here is a format change that would move
        // every existing block aside as corrupt.
        let id = "01JDF3Z8W6M8Q4X7J5N2A9B0CD";
        let m = BlockMeta {
            id: id.to_string(),
            min_t: 1_732_150_800_000,
            max_t: 1_732_157_999_999,
            stats: BlockStats {
                series: 1200,
                samples: 1_728_000,
                chunks: 14_400,
            },
            level: 1,
            sources: vec![id.to_string()],
        };
        let text = String::from_utf8(encode(&m).expect("encode")).expect("utf-8");
        assert!(text.contains("\"checksum\": \"29feda6b\""), "{text}");
        assert_eq!(
            decode(Path::new("m"), text.as_bytes(), id).expect("decode"),
            m
        );
    }

    #[test]
    fn a_changed_value_fails_the_checksum_and_spacing_does_not() {
        let id = ulid::new();
        let text = String::from_utf8(encode(&meta(&id)).expect("encode")).expect("utf-8");
        assert!(text.contains("\"checksum\""), "{text}");
        // Still valid JSON, but the block would claim the wrong time range.
        let shifted = text.replace("\"max_t\": 10", "\"max_t\": 11");
        assert_ne!(shifted, text);
        let err = decode(Path::new("m"), shifted.as_bytes(), &id).expect_err("max_t changed");
        assert!(err.to_string().contains("checksum"), "{err}");
        let compact: String = text.split_whitespace().collect();
        assert_eq!(
            decode(Path::new("m"), compact.as_bytes(), &id).expect("respaced"),
            meta(&id)
        );
        // A block written before the checksum existed is read as it was.
        let start = text.find(",\n  \"checksum\"").expect("checksum field");
        // Past the comma and the newline, to the end of the checksum's line.
        let end = text[start + 2..]
            .find('\n')
            .map(|n| start + 2 + n)
            .expect("line end");
        let old = format!("{}{}", &text[..start], &text[end..]);
        assert!(!old.contains("checksum"), "{old}");
        assert_eq!(
            decode(Path::new("m"), old.as_bytes(), &id).expect("old"),
            meta(&id)
        );
    }
}
