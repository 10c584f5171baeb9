//! Deserialisation helpers that reproduce Go's YAML decoding where serde differs:
//! any scalar fits a string field as written, null is the zero value, sizes need units.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, MapAccess, Visitor};

use crate::units::parse_base2_bytes;

pub(crate) use model::goyaml::scalar_string;

/// A string list whose items may be any scalar.
pub(crate) fn scalar_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Item(#[serde(deserialize_with = "scalar_string")] String);
    let v: Option<Vec<Item>> = serde::Deserialize::deserialize(d)?;
    Ok(v.unwrap_or_default().into_iter().map(|i| i.0).collect())
}

/// A string-to-string mapping whose values may be any scalar (label sets, headers).
pub(crate) fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    struct MapVisitor;
    impl<'de> Visitor<'de> for MapVisitor {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a mapping of strings")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(MapVisitor)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            #[derive(serde::Deserialize)]
            struct S(#[serde(deserialize_with = "scalar_string")] String);
            let mut out = BTreeMap::new();
            while let Some((k, v)) = m.next_entry::<S, S>()? {
                if out.insert(k.0.clone(), v.0).is_some() {
                    return Err(de::Error::custom(format!("duplicate key {:?}", k.0)));
                }
            }
            Ok(out)
        }
    }
    d.deserialize_option(MapVisitor)
}

/// A byte size with a unit (`15MB`); bare numbers are refused, as in Prometheus.
pub(crate) fn byte_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let s = scalar_string(d)?;
    if s.is_empty() {
        return Ok(None);
    }
    parse_base2_bytes(&s).map(Some).ok_or_else(|| {
        de::Error::custom(format!(
            "invalid byte size {s:?} (a unit is required: B, KB, MB, GB, KiB, MiB, ...)"
        ))
    })
}
