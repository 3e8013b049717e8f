//! S3's tables: buckets, object metadata, multipart uploads and their parts.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, Transaction};
use serde::{Deserialize, Serialize};

use crate::config::BucketConfig;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified INTEGER NOT NULL,
    file TEXT NOT NULL,
    headers TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    initiated INTEGER NOT NULL,
    headers TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    upload TEXT NOT NULL,
    number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified INTEGER NOT NULL,
    PRIMARY KEY (upload, number)
) WITHOUT ROWID;
-- A part's checksum (JSON), kept beside `parts` so older data directories need no migration.
CREATE TABLE IF NOT EXISTS part_checksums (
    upload TEXT NOT NULL,
    number INTEGER NOT NULL,
    checksum TEXT NOT NULL,
    PRIMARY KEY (upload, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bucket_configs (
    bucket TEXT PRIMARY KEY,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS object_versions (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    version TEXT NOT NULL,
    seq INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified INTEGER NOT NULL,
    file TEXT NOT NULL,
    headers TEXT NOT NULL,
    PRIMARY KEY (bucket, key, version)
) WITHOUT ROWID;
-- Data directories from before versioning kept one row per key in `objects`:
-- each becomes its key's null version (a no-op once `objects` is empty).
INSERT OR IGNORE INTO object_versions (bucket, key, version, seq, delete_marker, size, etag, modified, file, headers)
    SELECT bucket, key, 'null', modified, 0, size, etag, modified, file, headers FROM objects;
DELETE FROM objects;
";

/// The headers an object keeps and returns.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ObjHeaders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts_count: Option<i32>,
    /// The sizes of a multipart object's parts, in order (GET/HEAD `partNumber`).
    /// Empty for simple objects and for objects completed before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_sizes: Vec<u64>,
    /// A composite checksum's part checksums (same algorithm), in part order: a GET or
    /// HEAD of one part reports its own. Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_checksums: Vec<String>,
    /// The object's checksum (`x-amz-checksum-*`), returned with `x-amz-checksum-mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<crate::checksums::Stored>,
    /// A multipart upload's `x-amz-checksum-algorithm` (uploads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    /// A multipart upload's `x-amz-checksum-type` is FULL_OBJECT (uploads only): the
    /// object's checksum is of its bytes, not of its parts' checksums.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checksum_full_object: bool,
    /// `x-amz-server-side-encryption` the object was written with when not SSE-S3
    /// (None: AES256, which S3 applies to every object since January 2023).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<String>,
    /// The KMS key as the object reports it (an ARN, or an alias as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_kms_key_id: Option<String>,
    /// SSE-KMS with an S3 Bucket Key (`x-amz-server-side-encryption-bucket-key-enabled`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sse_bucket_key: bool,
    /// SSE-C: the customer key's algorithm and MD5 (never the key; sse_c.rs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_customer: Option<crate::sse_c::Customer>,
    /// Object tags, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// None: the default ACL (the owner has full control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<crate::acl::StoredGrant>>,
    /// `x-amz-website-redirect-location`: the website endpoint answers 301 to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect_location: Option<String>,
    /// None: STANDARD (and every version stored before storage classes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// The restore of an archived version (`storage_class.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<crate::storage_class::Restore>,
    /// Object Lock retention of this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<crate::object_lock::Retention>,
    /// Object Lock legal hold (None: never set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<bool>,
}

/// One version of an object, or a delete marker (then size 0, no etag, no file).
#[derive(Debug, Clone)]
pub struct ObjectRow {
    pub bucket: String,
    pub key: String,
    /// "null" for the null version.
    pub version_id: String,
    /// Orders a key's versions (greater is newer).
    pub seq: u64,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub modified: u64,
    pub file: String,
    pub headers: ObjHeaders,
}

#[derive(Debug, Clone)]
pub struct BucketRow {
    pub name: String,
    pub account: String,
    pub region: String,
    pub created: u64,
}

#[derive(Debug, Clone)]
pub struct UploadRow {
    pub id: String,
    pub bucket: String,
    pub key: String,
    pub initiated: u64,
    pub headers: ObjHeaders,
}

#[derive(Debug, Clone)]
pub struct PartRow {
    pub upload: String,
    pub number: i32,
    pub size: u64,
    pub etag: String,
    pub modified: u64,
    pub checksum: Option<crate::checksums::Stored>,
}

#[derive(Default)]
pub struct Loaded {
    pub buckets: Vec<BucketRow>,
    pub objects: Vec<ObjectRow>,
    pub uploads: Vec<UploadRow>,
    pub parts: Vec<PartRow>,
    /// bucket → its configuration document
    pub configs: Vec<(String, BucketConfig)>,
}

fn headers_json(h: &ObjHeaders) -> String {
    serde_json::to_string(h).unwrap_or_else(|_| "{}".into())
}

pub fn load(c: &Connection) -> rusqlite::Result<Loaded> {
    let mut out = Loaded::default();
    let mut st = c.prepare("SELECT name, account, region, created FROM buckets")?;
    out.buckets = st
        .query_map([], |r| {
            Ok(BucketRow { name: r.get(0)?, account: r.get(1)?, region: r.get(2)?, created: r.get::<_, i64>(3)? as u64 })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = c.prepare(
        "SELECT bucket, key, version, seq, delete_marker, size, etag, modified, file, headers FROM object_versions",
    )?;
    out.objects = st
        .query_map([], |r| {
            Ok(ObjectRow {
                bucket: r.get(0)?,
                key: r.get(1)?,
                version_id: r.get(2)?,
                seq: r.get::<_, i64>(3)? as u64,
                delete_marker: r.get::<_, i64>(4)? != 0,
                size: r.get::<_, i64>(5)? as u64,
                etag: r.get(6)?,
                modified: r.get::<_, i64>(7)? as u64,
                file: r.get(8)?,
                headers: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = c.prepare("SELECT id, bucket, key, initiated, headers FROM uploads")?;
    out.uploads = st
        .query_map([], |r| {
            Ok(UploadRow {
                id: r.get(0)?,
                bucket: r.get(1)?,
                key: r.get(2)?,
                initiated: r.get::<_, i64>(3)? as u64,
                headers: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = c.prepare(
        "SELECT p.upload, p.number, p.size, p.etag, p.modified, c.checksum FROM parts p \
         LEFT JOIN part_checksums c ON c.upload = p.upload AND c.number = p.number",
    )?;
    out.parts = st
        .query_map([], |r| {
            Ok(PartRow {
                upload: r.get(0)?,
                number: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                etag: r.get(3)?,
                modified: r.get::<_, i64>(4)? as u64,
                checksum: r.get::<_, Option<String>>(5)?.and_then(|j| serde_json::from_str(&j).ok()),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = c.prepare("SELECT bucket, config FROM bucket_configs")?;
    out.configs = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .map(|(b, c)| (b, serde_json::from_str(&c).unwrap_or_default()))
        .collect();
    Ok(out)
}

pub fn put_bucket_config(tx: &Transaction, bucket: &str, config: &BucketConfig) -> rusqlite::Result<()> {
    if *config == BucketConfig::default() {
        tx.prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1")?.execute([bucket])?;
        return Ok(());
    }
    let json = serde_json::to_string(config).unwrap_or_else(|_| "{}".into());
    tx.prepare_cached("INSERT OR REPLACE INTO bucket_configs (bucket, config) VALUES (?1, ?2)")?.execute([bucket, json.as_str()])?;
    Ok(())
}

pub fn put_bucket(tx: &Transaction, b: &BucketRow) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO buckets (name, account, region, created) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![b.name, b.account, b.region, b.created as i64])?;
    Ok(())
}

pub fn delete_bucket(tx: &Transaction, name: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM part_checksums WHERE upload IN (SELECT id FROM uploads WHERE bucket = ?1)")?.execute([name])?;
    tx.prepare_cached("DELETE FROM parts WHERE upload IN (SELECT id FROM uploads WHERE bucket = ?1)")?.execute([name])?;
    tx.prepare_cached("DELETE FROM uploads WHERE bucket = ?1")?.execute([name])?;
    tx.prepare_cached("DELETE FROM object_versions WHERE bucket = ?1")?.execute([name])?;
    tx.prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1")?.execute([name])?;
    tx.prepare_cached("DELETE FROM buckets WHERE name = ?1")?.execute([name])?;
    Ok(())
}

/// Stores a version (replacing one with the same id: the null version).
pub fn put_object(tx: &Transaction, o: &ObjectRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO object_versions (bucket, key, version, seq, delete_marker, size, etag, modified, file, headers) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        o.bucket,
        o.key,
        o.version_id,
        o.seq as i64,
        o.delete_marker as i64,
        o.size as i64,
        o.etag,
        o.modified as i64,
        o.file,
        headers_json(&o.headers)
    ])?;
    Ok(())
}

/// Changes the headers of a version if it still has body `file`.
pub fn update_object_headers(tx: &Transaction, bucket: &str, key: &str, version_id: &str, file: &str, headers: &ObjHeaders) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE object_versions SET headers = ?5 WHERE bucket = ?1 AND key = ?2 AND version = ?3 AND file = ?4")?
        .execute(params![bucket, key, version_id, file, headers_json(headers)])?;
    Ok(())
}

/// Repoints a version's row at a moved body (segment compaction).
pub fn move_body(tx: &Transaction, bucket: &str, key: &str, version_id: &str, from: &str, to: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE object_versions SET file = ?5 WHERE bucket = ?1 AND key = ?2 AND version = ?3 AND file = ?4")?
        .execute(params![bucket, key, version_id, from, to])?;
    Ok(())
}

pub fn delete_object_version(tx: &Transaction, bucket: &str, key: &str, version_id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM object_versions WHERE bucket = ?1 AND key = ?2 AND version = ?3")?.execute([bucket, key, version_id])?;
    Ok(())
}

pub fn put_upload(tx: &Transaction, u: &UploadRow) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO uploads (id, bucket, key, initiated, headers) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![u.id, u.bucket, u.key, u.initiated as i64, headers_json(&u.headers)])?;
    Ok(())
}

pub fn delete_upload(tx: &Transaction, id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM part_checksums WHERE upload = ?1")?.execute([id])?;
    tx.prepare_cached("DELETE FROM parts WHERE upload = ?1")?.execute([id])?;
    tx.prepare_cached("DELETE FROM uploads WHERE id = ?1")?.execute([id])?;
    Ok(())
}

pub fn put_part(tx: &Transaction, p: &PartRow) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO parts (upload, number, size, etag, modified) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![p.upload, p.number, p.size as i64, p.etag, p.modified as i64])?;
    // A part uploaded again replaces its checksum, or drops it.
    match p.checksum.as_ref().and_then(|c| serde_json::to_string(c).ok()) {
        Some(json) => {
            tx.prepare_cached("INSERT OR REPLACE INTO part_checksums (upload, number, checksum) VALUES (?1, ?2, ?3)")?
                .execute(params![p.upload, p.number, json])?;
        }
        None => {
            tx.prepare_cached("DELETE FROM part_checksums WHERE upload = ?1 AND number = ?2")?.execute(params![p.upload, p.number])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_from_before_versioning_become_null_versions() {
        let c = Connection::open_in_memory().unwrap();
        // The schema of the previous release, with one object in it.
        c.execute_batch(
            "CREATE TABLE objects (bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, \
             modified INTEGER NOT NULL, file TEXT NOT NULL, headers TEXT NOT NULL, PRIMARY KEY (bucket, key)) WITHOUT ROWID;
             INSERT INTO objects VALUES ('b', 'k', 3, 'e', 1000, 'f', '{\"content_type\":\"text/plain\"}');",
        )
        .unwrap();
        c.execute_batch(SCHEMA).unwrap();
        // Applying the schema again (every open does) changes nothing.
        c.execute_batch(SCHEMA).unwrap();
        let loaded = load(&c).unwrap();
        assert_eq!(loaded.objects.len(), 1);
        let o = &loaded.objects[0];
        assert_eq!((o.bucket.as_str(), o.key.as_str(), o.version_id.as_str()), ("b", "k", "null"));
        assert!(!o.delete_marker);
        assert_eq!((o.size, o.etag.as_str(), o.file.as_str()), (3, "e", "f"));
        assert_eq!(o.headers.content_type.as_deref(), Some("text/plain"));
    }

    #[test]
    fn versions_and_markers_round_trip() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        let row = |v: &str, seq: u64, marker: bool| ObjectRow {
            bucket: "b".into(),
            key: "k".into(),
            version_id: v.into(),
            seq,
            delete_marker: marker,
            size: if marker { 0 } else { 1 },
            etag: String::new(),
            modified: seq,
            file: if marker { String::new() } else { format!("f{seq}") },
            headers: ObjHeaders::default(),
        };
        let tx = c.transaction().unwrap();
        put_object(&tx, &row("null", 1, false)).unwrap();
        put_object(&tx, &row("v2", 2, false)).unwrap();
        put_object(&tx, &row("m3", 3, true)).unwrap();
        // A second null version replaces the first.
        put_object(&tx, &row("null", 4, false)).unwrap();
        delete_object_version(&tx, "b", "k", "v2").unwrap();
        tx.commit().unwrap();
        let mut got: Vec<(String, u64, bool)> = load(&c).unwrap().objects.into_iter().map(|o| (o.version_id, o.seq, o.delete_marker)).collect();
        got.sort();
        assert_eq!(got, vec![("m3".to_string(), 3, true), ("null".to_string(), 4, false)]);
    }
}
