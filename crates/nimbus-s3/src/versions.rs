//! Object versions: what one key holds (object versions and delete markers, newest
//! first), version ids, and the ListObjectVersions page over a bucket's keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use s3s::{s3_error, S3Result};

use crate::provider::ObjMeta;

/// The version id of objects written while a bucket is unversioned or suspended.
pub const NULL_VERSION: &str = "null";

/// Characters of generated version ids (URL-safe, as AWS's own ids are).
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
const ID_LEN: usize = 32;

/// A fresh, unique version id: 32 URL-safe characters.
pub fn new_version_id() -> String {
    (0..ID_LEN).map(|_| ID_ALPHABET[rand::random::<u32>() as usize % ID_ALPHABET.len()] as char).collect()
}

/// Rejects a version id that cannot be one S3 issued, as S3 does (400 InvalidArgument);
/// a well-formed id that names no version is the caller's NoSuchVersion.
pub fn check_version_id(id: &str) -> S3Result<()> {
    if id.is_empty() {
        return Err(s3_error!(InvalidArgument, "Version id cannot be the empty string"));
    }
    let well_formed = id == NULL_VERSION || (id.len() == ID_LEN && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-'));
    if !well_formed {
        return Err(s3_error!(InvalidArgument, "Invalid version id specified"));
    }
    Ok(())
}

/// A placeholder version that makes its key read as deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteMarker {
    pub version_id: String,
    /// Orders a key's versions (greater is newer).
    pub seq: u64,
    pub modified: u64,
}

#[derive(Debug, Clone)]
pub enum Version {
    Object(Arc<ObjMeta>),
    DeleteMarker(Arc<DeleteMarker>),
}

impl Version {
    pub fn id(&self) -> &str {
        match self {
            Version::Object(o) => &o.version_id,
            Version::DeleteMarker(m) => &m.version_id,
        }
    }

    pub fn seq(&self) -> u64 {
        match self {
            Version::Object(o) => o.seq,
            Version::DeleteMarker(m) => m.seq,
        }
    }

    pub fn modified(&self) -> u64 {
        match self {
            Version::Object(o) => o.modified,
            Version::DeleteMarker(m) => m.modified,
        }
    }

    pub fn is_delete_marker(&self) -> bool {
        matches!(self, Version::DeleteMarker(_))
    }

    /// The body file this version owns, if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            Version::Object(o) => Some(&o.file),
            Version::DeleteMarker(_) => None,
        }
    }
}

/// The versions of one key, newest first.
#[derive(Debug, Clone, Default)]
pub struct KeyVersions {
    newest_first: Vec<Version>,
}

impl KeyVersions {
    pub fn latest(&self) -> Option<&Version> {
        self.newest_first.first()
    }

    /// The object a plain GET returns: the latest version unless that is a delete marker.
    pub fn current(&self) -> Option<&Arc<ObjMeta>> {
        match self.latest() {
            Some(Version::Object(o)) => Some(o),
            _ => None,
        }
    }

    pub fn find(&self, id: &str) -> Option<&Version> {
        self.newest_first.iter().find(|v| v.id() == id)
    }

    /// Adds `v` in its place by sequence, replacing (and returning) a version with the
    /// same id — how a write to a suspended bucket replaces the null version.
    pub fn put(&mut self, v: Version) -> Option<Version> {
        let replaced = self.remove(v.id());
        let at = self.newest_first.iter().position(|x| x.seq() < v.seq()).unwrap_or(self.newest_first.len());
        self.newest_first.insert(at, v);
        replaced
    }

    pub fn remove(&mut self, id: &str) -> Option<Version> {
        let at = self.newest_first.iter().position(|v| v.id() == id)?;
        Some(self.newest_first.remove(at))
    }

    pub fn is_empty(&self) -> bool {
        self.newest_first.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Version> {
        self.newest_first.iter()
    }
}

/// One page of ListObjectVersions.
#[derive(Debug, Default)]
pub struct VersionPage {
    /// (key, version, is latest), in key order then newest first.
    pub entries: Vec<(String, Version, bool)>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    /// Where the next page starts (only when truncated).
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<String>,
}

/// Lists versions under `prefix` after (`key_marker`, `version_id_marker`), rolling
/// keys up at `delimiter`; every version, delete marker and common prefix counts
/// against `max`.
pub fn list_versions(
    keys: &BTreeMap<String, KeyVersions>,
    prefix: &str,
    delimiter: Option<&str>,
    key_marker: Option<&str>,
    version_id_marker: Option<&str>,
    max: usize,
) -> VersionPage {
    use std::ops::Bound;
    let mut page = VersionPage::default();
    let start = match (key_marker, version_id_marker) {
        (Some(k), Some(_)) if k >= prefix => Bound::Included(k.to_string()),
        (Some(k), None) if k >= prefix => Bound::Excluded(k.to_string()),
        _ => Bound::Included(prefix.to_string()),
    };
    let mut count = 0usize;
    let mut last: Option<(String, Option<String>)> = None;
    'keys: for (key, versions) in keys.range((start, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        if let Some(cp) = common_prefix(key, prefix, delimiter) {
            if page.prefixes.last() == Some(&cp) || key_marker.is_some_and(|m| m.starts_with(cp.as_str())) {
                continue;
            }
            if count >= max {
                page.truncated = true;
                break;
            }
            count += 1;
            last = Some((cp.clone(), None));
            page.prefixes.push(cp);
            continue;
        }
        // Resuming inside the marker key: skip up to and including the marker version.
        let mut skip_through = match (key_marker, version_id_marker) {
            (Some(k), Some(v)) if k == key => match versions.iter().position(|x| x.id() == v) {
                Some(i) => Some(i),
                None => continue,
            },
            _ => None,
        };
        for (i, v) in versions.iter().enumerate() {
            if let Some(through) = skip_through {
                if i <= through {
                    continue;
                }
                skip_through = None;
            }
            if count >= max {
                page.truncated = true;
                break 'keys;
            }
            count += 1;
            last = Some((key.clone(), Some(v.id().to_string())));
            page.entries.push((key.clone(), v.clone(), i == 0));
        }
    }
    if page.truncated {
        if let Some((k, v)) = last {
            page.next_key_marker = Some(k);
            page.next_version_id_marker = v;
        }
    }
    page
}

/// The kinds of a ListObjectVersions page's entries in listing order (true: a delete
/// marker), handed from the operation to the response writer.
#[derive(Debug, Clone)]
pub struct ListingOrder(pub Vec<bool>);

/// S3 lists `<Version>` and `<DeleteMarker>` elements interleaved in listing order;
/// s3s writes all markers, then all versions. Re-interleaves them per `order`; None
/// when the document does not hold the entries `order` describes.
pub fn interleave_versions(xml: &str, order: &[bool]) -> Option<String> {
    let blocks = |open: &str, close: &str| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(i) = xml[at..].find(open) {
            let start = at + i;
            let Some(j) = xml[start..].find(close) else { break };
            let end = start + j + close.len();
            out.push((start, end));
            at = end;
        }
        out
    };
    let versions = blocks("<Version>", "</Version>");
    let markers = blocks("<DeleteMarker>", "</DeleteMarker>");
    if versions.len() + markers.len() != order.len() || order.iter().filter(|m| **m).count() != markers.len() {
        return None;
    }
    let mut all: Vec<(usize, usize)> = versions.iter().chain(markers.iter()).copied().collect();
    all.sort();
    let (mut v, mut m) = (versions.iter(), markers.iter());
    let mut merged = String::new();
    for is_marker in order {
        let (s, e) = if *is_marker { m.next()? } else { v.next()? };
        merged.push_str(&xml[*s..*e]);
    }
    // The entries go where the first of them was; the elements s3s wrote between
    // the two lists (Delimiter, IsTruncated, ...) stay, in front of them.
    let mut out = String::with_capacity(xml.len());
    let mut at = 0;
    for (i, (s, e)) in all.iter().enumerate() {
        out.push_str(&xml[at..*s]);
        if i == 0 {
            out.push_str(&merged);
        }
        at = *e;
    }
    out.push_str(&xml[at..]);
    Some(out)
}

/// A listing entry: an item, or the common prefix several keys rolled up into.
pub(crate) enum Rolled<T> {
    Item(T),
    Prefix(String),
}

/// One page of a listing that rolls keys up at a delimiter.
pub(crate) struct RolledPage<T> {
    pub items: Vec<T>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    /// The last item or common prefix returned (where the next page goes on from).
    pub last: Option<Rolled<T>>,
}

/// Pages `entries` (keys in order, already past `marker`): a key with `delimiter`
/// after `prefix` rolls up into its common prefix, listed once and counted once
/// against `max`; a prefix the marker lies inside was listed on an earlier page.
/// Shared by ListObjects(V2) and ListMultipartUploads.
pub(crate) fn roll_up<'k, T: Copy>(
    entries: impl IntoIterator<Item = (&'k str, T)>,
    prefix: &str,
    delimiter: Option<&str>,
    marker: Option<&str>,
    max: usize,
) -> RolledPage<T> {
    let mut page = RolledPage { items: Vec::new(), prefixes: Vec::new(), truncated: false, last: None };
    for (key, item) in entries {
        let common = common_prefix(key, prefix, delimiter);
        if let Some(cp) = &common {
            if page.prefixes.last() == Some(cp) || marker.is_some_and(|m| m.starts_with(cp.as_str())) {
                continue;
            }
        }
        if page.items.len() + page.prefixes.len() >= max {
            page.truncated = true;
            break;
        }
        match common {
            Some(cp) => {
                page.prefixes.push(cp.clone());
                page.last = Some(Rolled::Prefix(cp));
            }
            None => {
                page.items.push(item);
                page.last = Some(Rolled::Item(item));
            }
        }
    }
    page
}

/// The common prefix `key` rolls up into in a listing: `prefix` plus everything up to
/// and including the first `delimiter` after it (ListObjectsV2's CommonPrefixes, used
/// alike by ListObjectVersions and ListMultipartUploads). None: the key is listed itself.
pub(crate) fn common_prefix(key: &str, prefix: &str, delimiter: Option<&str>) -> Option<String> {
    let d = delimiter.filter(|d| !d.is_empty())?;
    let start = prefix.len().min(key.len());
    key.get(start..)?.find(d).map(|i| key[..start + i + d.len()].to_string())
}

#[cfg(test)]
mod tests {

    #[test]
    fn common_prefixes_roll_up_at_the_first_delimiter_after_the_prefix() {
        assert_eq!(common_prefix("photos/2024/a.jpg", "photos/", Some("/")).as_deref(), Some("photos/2024/"));
        assert_eq!(common_prefix("photos/a.jpg", "photos/", Some("/")), None);
        assert_eq!(common_prefix("a/b", "", Some("")), None);
        assert_eq!(common_prefix("a/b", "", None), None);
        assert_eq!(common_prefix("ab", "abc", Some("/")), None);
    }
    use super::*;
    use crate::persist::ObjHeaders;

    fn obj(id: &str, seq: u64) -> Version {
        Version::Object(Arc::new(ObjMeta {
            size: 1,
            etag: "e".into(),
            modified: seq,
            file: format!("f{seq}"),
            headers: ObjHeaders::default(),
            version_id: id.into(),
            seq,
        }))
    }

    fn marker(id: &str, seq: u64) -> Version {
        Version::DeleteMarker(Arc::new(DeleteMarker { version_id: id.into(), seq, modified: seq }))
    }

    #[test]
    fn version_ids() {
        let id = new_version_id();
        assert_eq!(id.len(), 32);
        assert!(check_version_id(&id).is_ok());
        assert_ne!(id, new_version_id());
        assert!(check_version_id("null").is_ok());
        assert!(check_version_id("v5n1PPUjOCMHLyyfq0ayjoZ5RZLfVQKA").is_ok());
        for bad in ["", "dsf", "v5n1PPUjOCMHLyyfq0ayjoZ5RZLfVQK/", "v5n1PPUjOCMHLyyfq0ayjoZ5RZLfVQKAx"] {
            let e = check_version_id(bad).unwrap_err();
            assert_eq!(*e.code(), s3s::S3ErrorCode::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn key_versions_order_and_null_replacement() {
        let mut k = KeyVersions::default();
        assert!(k.put(obj("null", 1)).is_none());
        assert!(k.put(obj("a", 2)).is_none());
        assert!(k.put(marker("m", 3)).is_none());
        assert_eq!(k.iter().map(|v| v.id()).collect::<Vec<_>>(), ["m", "a", "null"]);
        assert!(k.current().is_none());
        assert!(k.latest().is_some_and(|v| v.is_delete_marker()));
        // A new null version replaces the old one and becomes the latest.
        let old = k.put(obj("null", 4)).map(|v| v.seq());
        assert_eq!(old, Some(1));
        assert_eq!(k.iter().map(|v| v.id()).collect::<Vec<_>>(), ["null", "m", "a"]);
        assert_eq!(k.current().map(|o| o.seq), Some(4));
        // An older write committed late still lands in sequence order.
        k.put(obj("b", 0));
        assert_eq!(k.iter().last().map(|v| v.id()), Some("b"));
        assert!(k.remove("null").is_some());
        assert!(k.current().is_none());
        assert!(k.remove("nope").is_none());
    }

    fn bucket() -> BTreeMap<String, KeyVersions> {
        let mut keys: BTreeMap<String, KeyVersions> = BTreeMap::new();
        let mut seq = 0;
        for (key, ids) in [("a", &["a1", "a2"][..]), ("d/1", &["d1"][..]), ("d/2", &["d2"][..]), ("z", &["z1", "zm", "z2"][..])] {
            for id in ids {
                seq += 1;
                let v = if id.ends_with('m') { marker(id, seq) } else { obj(id, seq) };
                keys.entry(key.to_string()).or_default().put(v);
            }
        }
        keys
    }

    fn ids(p: &VersionPage) -> Vec<String> {
        p.entries.iter().map(|(k, v, latest)| format!("{k}:{}{}", v.id(), if *latest { "*" } else { "" })).collect()
    }

    #[test]
    fn lists_versions_in_key_then_newest_order() {
        let keys = bucket();
        let p = list_versions(&keys, "", None, None, None, 1000);
        assert_eq!(ids(&p), ["a:a2*", "a:a1", "d/1:d1*", "d/2:d2*", "z:z2*", "z:zm", "z:z1"]);
        assert!(!p.truncated && p.next_key_marker.is_none());
        let p = list_versions(&keys, "", Some("/"), None, None, 1000);
        assert_eq!(ids(&p), ["a:a2*", "a:a1", "z:z2*", "z:zm", "z:z1"]);
        assert_eq!(p.prefixes, ["d/"]);
        let p = list_versions(&keys, "d/", None, None, None, 1000);
        assert_eq!(ids(&p), ["d/1:d1*", "d/2:d2*"]);
    }

    #[test]
    fn interleaves_versions_and_markers() {
        let xml = "<R><Name>b</Name><Version><Key>a</Key></Version><Version><Key>c</Key></Version><DeleteMarker><Key>a</Key></DeleteMarker><MaxKeys>3</MaxKeys></R>";
        let out = interleave_versions(xml, &[true, false, false]);
        assert_eq!(
            out.as_deref(),
            Some("<R><Name>b</Name><DeleteMarker><Key>a</Key></DeleteMarker><Version><Key>a</Key></Version><Version><Key>c</Key></Version><MaxKeys>3</MaxKeys></R>")
        );
        assert_eq!(interleave_versions(xml, &[false, false, true]).as_deref(), Some(xml));
        assert!(interleave_versions(xml, &[true, true, false]).is_none());
        assert!(interleave_versions(xml, &[false]).is_none());
        // s3s writes DeleteMarkers, then other members, then Versions.
        let apart = "<R><DeleteMarker><Key>a</Key></DeleteMarker><Name>b</Name><Version><Key>a</Key></Version></R>";
        assert_eq!(
            interleave_versions(apart, &[false, true]).as_deref(),
            Some("<R><Version><Key>a</Key></Version><DeleteMarker><Key>a</Key></DeleteMarker><Name>b</Name></R>")
        );
        assert_eq!(interleave_versions("<R></R>", &[]).as_deref(), Some("<R></R>"));
    }

    #[test]
    fn pages_through_markers() {
        let keys = bucket();
        let (mut seen, mut prefixes) = (Vec::new(), Vec::new());
        let mut pages = 0;
        let (mut km, mut vm): (Option<String>, Option<String>) = (None, None);
        for _ in 0..10 {
            let p = list_versions(&keys, "", Some("/"), km.as_deref(), vm.as_deref(), 2);
            pages += 1;
            assert!(p.entries.len() + p.prefixes.len() <= 2);
            seen.extend(ids(&p));
            prefixes.extend(p.prefixes.iter().cloned());
            if !p.truncated {
                break;
            }
            km = p.next_key_marker.clone();
            vm = p.next_version_id_marker.clone();
        }
        assert_eq!(seen, ["a:a2*", "a:a1", "z:z2*", "z:zm", "z:z1"]);
        assert_eq!(prefixes, ["d/"]);
        assert_eq!(pages, 3);
        // A key marker alone starts after every version of that key.
        let p = list_versions(&keys, "", None, Some("a"), None, 1000);
        assert_eq!(ids(&p).first().map(String::as_str), Some("d/1:d1*"));
        // Key and version markers resume inside the key.
        let p = list_versions(&keys, "", None, Some("z"), Some("z2"), 1000);
        assert_eq!(ids(&p), ["z:zm", "z:z1"]);
        let p = list_versions(&keys, "", None, None, None, 0);
        assert!(p.entries.is_empty() && p.truncated);
    }
}
