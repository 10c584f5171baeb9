//! `LabelStr`: a label name or value, shared rather than copied.
//!
//! Label strings repeat across millions of series and are copied on every
//! query (storage hands out label sets, operators rebuild them). Holding them
//! as reference-counted strings makes those copies a counter increment, and
//! lets a store that interns its strings hand them out without allocating.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// An immutable, cheaply cloned string; compares, hashes and orders as `str`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LabelStr(Arc<str>);

impl LabelStr {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared allocation, for stores that intern strings.
    pub fn as_arc(&self) -> &Arc<str> {
        &self.0
    }
}

impl Default for LabelStr {
    fn default() -> Self {
        LabelStr(Arc::from(""))
    }
}

impl Deref for LabelStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for LabelStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for LabelStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Hash for LabelStr {
    // As `str` hashes, so that `Borrow<str>` lookups in hash maps agree.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for LabelStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for LabelStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl From<&str> for LabelStr {
    fn from(s: &str) -> Self {
        LabelStr(Arc::from(s))
    }
}

impl From<&String> for LabelStr {
    fn from(s: &String) -> Self {
        LabelStr(Arc::from(s.as_str()))
    }
}

impl From<String> for LabelStr {
    fn from(s: String) -> Self {
        LabelStr(Arc::from(s))
    }
}

impl From<Arc<str>> for LabelStr {
    fn from(s: Arc<str>) -> Self {
        LabelStr(s)
    }
}

impl From<&Arc<str>> for LabelStr {
    fn from(s: &Arc<str>) -> Self {
        LabelStr(Arc::clone(s))
    }
}

impl From<&LabelStr> for LabelStr {
    fn from(s: &LabelStr) -> Self {
        s.clone()
    }
}

impl From<LabelStr> for String {
    fn from(s: LabelStr) -> Self {
        s.as_str().to_string()
    }
}

impl PartialEq<str> for LabelStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LabelStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for LabelStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<LabelStr> for str {
    fn eq(&self, other: &LabelStr) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<LabelStr> for &str {
    fn eq(&self, other: &LabelStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<LabelStr> for String {
    fn eq(&self, other: &LabelStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl serde::Serialize for LabelStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn behaves_as_str() {
        let a = LabelStr::from("job");
        assert_eq!(a, "job");
        let longer = LabelStr::from("jobs");
        assert!(a < longer);
        assert_eq!(format!("{a}/{a:?}"), "job/\"job\"");
        let mut m = HashMap::new();
        m.insert(a.clone(), 1);
        assert_eq!(m.get("job"), Some(&1));
        let b = a.clone();
        assert!(Arc::ptr_eq(a.as_arc(), b.as_arc()));
    }
}
