//! The S3 operations over nimbus's state.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use base64::Engine;
use md5::{Digest, Md5};
use nimbus_core::RequestContext;
use nimbus_store::{Durability, Store};
use parking_lot::RwLock;
use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use crate::blob;
use crate::sha256_mismatch;
use crate::post_form;
use crate::checksums;
use crate::encryption;
use crate::sse_c;
use crate::lifecycle;
use crate::config::{BucketConfig, Versioning};
use crate::notify::Notifier;
use crate::acl::GrantHeaders;
use crate::ops_access::{self, owner, OWNER_ID};
use crate::versions::Rolled;
use crate::ops_config::{self, EventCtx};
use crate::persist::{self, BucketRow, ObjHeaders, ObjectRow, PartRow, UploadRow};
use crate::versioning::{DeleteCause, Found};
use crate::segments::{Location, Segments, SMALL_BODY_MAX};
use crate::storage_class;
use crate::versions::{self, DeleteMarker, KeyVersions, Version};

const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ObjMeta {
    pub size: u64,
    pub etag: String,
    pub modified: u64,
    pub file: String,
    pub headers: ObjHeaders,
    /// "null" for the null version.
    pub version_id: String,
    /// Orders a key's versions (greater is newer).
    pub seq: u64,
}

impl ObjMeta {
    /// The fields an event message reports.
    pub fn event(size: u64, etag: &str) -> Self {
        ObjMeta {
            size,
            etag: etag.to_string(),
            modified: 0,
            file: String::new(),
            headers: ObjHeaders::default(),
            version_id: String::new(),
            seq: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PartMeta {
    pub size: u64,
    pub etag: String,
    pub modified: u64,
    pub checksum: Option<checksums::Stored>,
}

#[derive(Debug, Clone)]
pub struct Upload {
    pub key: String,
    pub initiated: u64,
    pub headers: ObjHeaders,
    pub parts: BTreeMap<i32, PartMeta>,
}

pub struct BucketState {
    pub account: String,
    pub region: String,
    pub created: u64,
    /// Every key with at least one version or delete marker.
    pub objects: BTreeMap<String, KeyVersions>,
    pub uploads: BTreeMap<String, Upload>,
    pub config: BucketConfig,
}

pub struct State {
    pub root: PathBuf,
    pub temporary: bool,
    pub sync: bool,
    pub store: Store,
    /// Small bodies (see `segments.rs`).
    pub(crate) segments: Arc<Segments>,
    /// Large bodies mapped whole for reading (see `mapped.rs`).
    pub(crate) mapped: Arc<crate::mapped::MappedBodies>,
    pub(crate) buckets: RwLock<BTreeMap<String, BucketState>>,
    pub(crate) notifier: Notifier,
    /// Serialises read-modify-write changes of bucket configurations.
    pub(crate) config_lock: tokio::sync::Mutex<()>,
    /// The sequence number of the next version written (orders a key's versions).
    pub(crate) next_seq: AtomicU64,
    /// Multipart uploads completed lately, for a repeated Complete.
    pub(crate) completions: crate::completed::Completions,
    /// Makes each conditional write's check and write one step.
    pub(crate) key_guards: crate::key_guards::KeyGuards,
}

impl State {
    pub fn new(
        root: PathBuf,
        temporary: bool,
        durability: Durability,
        store: Store,
        segments: Segments,
        loaded: persist::Loaded,
        notifier: Notifier,
    ) -> Self {
        let mut buckets: BTreeMap<String, BucketState> = BTreeMap::new();
        for b in loaded.buckets {
            buckets.insert(
                b.name,
                BucketState {
                    account: b.account,
                    region: b.region,
                    created: b.created,
                    objects: BTreeMap::new(),
                    uploads: BTreeMap::new(),
                    config: BucketConfig::default(),
                },
            );
        }
        for (name, config) in loaded.configs {
            if let Some(b) = buckets.get_mut(&name) {
                b.config = config;
            }
        }
        let mut next_seq = 1;
        for o in loaded.objects {
            next_seq = next_seq.max(o.seq + 1);
            let Some(b) = buckets.get_mut(&o.bucket) else { continue };
            if let Location::Segment { segment, .. } = Location::parse(&o.file) {
                segments.account(segment, o.size);
            }
            let v = if o.delete_marker {
                Version::DeleteMarker(Arc::new(DeleteMarker { version_id: o.version_id, seq: o.seq, modified: o.modified }))
            } else {
                Version::Object(Arc::new(ObjMeta {
                    size: o.size,
                    etag: o.etag,
                    modified: o.modified,
                    file: o.file,
                    headers: o.headers,
                    version_id: o.version_id,
                    seq: o.seq,
                }))
            };
            b.objects.entry(o.key).or_default().put(v);
        }
        let mut upload_bucket = HashMap::new();
        for u in loaded.uploads {
            if let Some(b) = buckets.get_mut(&u.bucket) {
                upload_bucket.insert(u.id.clone(), u.bucket.clone());
                b.uploads.insert(u.id, Upload { key: u.key, initiated: u.initiated, headers: u.headers, parts: BTreeMap::new() });
            }
        }
        for p in loaded.parts {
            let Some(bname) = upload_bucket.get(&p.upload) else { continue };
            if let Some(u) = buckets.get_mut(bname).and_then(|b| b.uploads.get_mut(&p.upload)) {
                u.parts.insert(p.number, PartMeta { size: p.size, etag: p.etag, modified: p.modified, checksum: p.checksum });
            }
        }
        State {
            root,
            temporary,
            sync: durability == Durability::Strict,
            store,
            segments: Arc::new(segments),
            mapped: Arc::default(),
            buckets: RwLock::new(buckets),
            notifier,
            config_lock: tokio::sync::Mutex::new(()),
            next_seq: AtomicU64::new(next_seq),
            completions: Default::default(),
            key_guards: Default::default(),
        }
    }

    pub fn bucket_count(&self) -> usize {
        self.buckets.read().len()
    }

    /// Deletes object and part files, and segments, that no committed metadata
    /// refers to (a crash between storing a body and committing its row).
    pub fn remove_orphans(&self) {
        self.segments.remove_dead();
        let buckets = self.buckets.read();
        let files: HashSet<&str> = buckets.values().flat_map(|b| b.objects.values().flat_map(|k| k.iter().filter_map(|v| v.file()))).collect();
        if let Ok(entries) = std::fs::read_dir(self.root.join("objects")) {
            for e in entries.flatten() {
                let name = e.file_name();
                if !files.contains(name.to_string_lossy().as_ref()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let parts: HashSet<String> = buckets
            .values()
            .flat_map(|b| b.uploads.iter().flat_map(|(id, u)| u.parts.keys().map(move |n| part_name(id, *n))))
            .collect();
        if let Ok(entries) = std::fs::read_dir(self.root.join("parts")) {
            for e in entries.flatten() {
                if !parts.contains(e.file_name().to_string_lossy().as_ref()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    pub(crate) fn object_path(&self, file: &str) -> PathBuf {
        self.root.join("objects").join(file)
    }

    fn part_path(&self, upload: &str, n: i32) -> PathBuf {
        self.root.join("parts").join(part_name(upload, n))
    }

    /// The current (latest, not deleted) object of a key.
    pub(crate) fn object(&self, bucket: &str, key: &str) -> S3Result<Arc<ObjMeta>> {
        self.lookup(bucket, key, None).map(|f| f.meta)
    }

    pub(crate) fn require_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.buckets.read().contains_key(bucket) {
            Ok(())
        } else {
            Err(no_such_bucket(bucket))
        }
    }

    pub(crate) async fn commit(&self, op: impl Fn(&rusqlite::Transaction) -> rusqlite::Result<()> + Send + 'static) -> S3Result<()> {
        self.store.write(op).await.map_err(|e| internal(format!("store: {e}")))
    }
}

impl State {
    /// Forgets a multipart upload and deletes its parts.
    pub(crate) async fn abort_upload(&self, bucket: &str, upload_id: &str) -> S3Result<()> {
        let id = upload_id.to_string();
        self.commit(move |tx| persist::delete_upload(tx, &id)).await?;
        let removed = {
            let mut buckets = self.buckets.write();
            buckets.get_mut(bucket).and_then(|b| b.uploads.remove(upload_id))
        };
        if let Some(u) = removed {
            for n in u.parts.keys() {
                let _ = tokio::fs::remove_file(self.part_path(upload_id, *n)).await;
            }
        }
        Ok(())
    }
}

fn part_name(upload: &str, n: i32) -> String {
    format!("{upload}.{n}")
}

pub(crate) fn now_ms() -> u64 {
    nimbus_core::now_millis()
}

/// A time S3 reports (LastModified, CreationDate, Initiated, ...): to the second, as
/// S3 does (its listings show `.000Z`, and its HTTP dates carry seconds). The aws CLI's
/// `sync --exact-timestamps` compares a listing's LastModified with the whole-second
/// mtime it gave the downloaded file, so a fraction would make it download every
/// object on every run.
pub(crate) fn ts(ms: u64) -> Timestamp {
    ts_exact(ms - ms % 1000)
}

/// A time to the millisecond, for dates a client chose (object lock's retain-until).
pub(crate) fn ts_exact(ms: u64) -> Timestamp {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Timestamp::from(t)
}

fn ts_secs(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

pub(crate) fn internal(msg: String) -> S3Error {
    tracing::error!(%msg, "S3 internal error");
    S3Error::with_message(S3ErrorCode::InternalError, "We encountered an internal error. Please try again.")
}

pub(crate) fn no_such_bucket(bucket: &str) -> S3Error {
    let _ = bucket;
    s3_error!(NoSuchBucket, "The specified bucket does not exist")
}

pub(crate) fn no_such_key() -> S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist.")
}

fn no_such_upload() -> S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )
}

/// 412, naming the header whose condition failed (`<Condition>If-Match</Condition>`, as
/// S3's document does).
fn precondition_failed(condition: &str) -> S3Error {
    let mut e = s3_error!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold");
    e.set_headers(storage_class::error_element_headers_many(&[(storage_class::ERROR_CONDITION_HEADER, condition)]));
    e
}

fn account_of<T>(req: &S3Request<T>) -> String {
    match &req.credentials {
        Some(c) => RequestContext::account_for_key(&c.access_key),
        None => nimbus_core::DEFAULT_ACCOUNT.to_string(),
    }
}

fn etag(v: &str) -> ETag {
    ETag::Strong(v.to_string())
}

fn etag_matches(cond: &ETagCondition, current: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == current,
    }
}

/// Conditional writes and deletes (S3 user guide, "Conditional requests"), evaluated
/// against the key's current version: If-None-Match fails with 412 when it matches the
/// current object; If-Match fails with 404 NoSuchKey when there is none, and with 412
/// when its ETag is another.
fn check_write_conditions(state: &State, bucket: &str, key: &str, if_match: Option<&ETagCondition>, if_none_match: Option<&ETagCondition>) -> S3Result<()> {
    if if_match.is_none() && if_none_match.is_none() {
        return Ok(());
    }
    // A write's If-None-Match "expects the '*' (asterisk) character" (PutObject API
    // reference); S3 answers an ETag there with 501 NotImplemented.
    if if_none_match.is_some_and(|c| !c.is_any()) {
        return Err(s3_error!(NotImplemented, "A header you provided implies functionality that is not implemented"));
    }
    let current = match state.object(bucket, key) {
        Ok(m) => Some(m),
        Err(e) if *e.code() == S3ErrorCode::NoSuchKey => None,
        Err(e) => return Err(e),
    };
    if let Some(c) = if_none_match {
        if current.as_ref().is_some_and(|m| etag_matches(c, &m.etag)) {
            return Err(precondition_failed("If-None-Match"));
        }
    }
    if let Some(c) = if_match {
        match &current {
            None => return Err(no_such_key()),
            Some(m) if !etag_matches(c, &m.etag) => return Err(precondition_failed("If-Match")),
            _ => {}
        }
    }
    Ok(())
}

/// An `If-Match` / `If-None-Match` header s3s does not decode for the operation
/// (CopyObject's, about its destination).
fn condition_header(headers: &http::HeaderMap, name: http::header::HeaderName) -> S3Result<Option<ETagCondition>> {
    headers
        .get(&name)
        .map(|v| ETagCondition::parse_http_header(v.as_bytes()).map_err(|_| S3Error::with_message(S3ErrorCode::InvalidArgument, format!("Invalid {name} header"))))
        .transpose()
}

/// GET/HEAD conditions, in the order RFC 7232 and S3 apply them.
fn check_read_conditions(
    meta: &ObjMeta,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified = (meta.modified / 1000) as i64;
    if let Some(c) = if_match {
        if !etag_matches(c, &meta.etag) {
            return Err(precondition_failed("If-Match"));
        }
    } else if let Some(t) = if_unmodified_since {
        if modified > ts_secs(t) {
            return Err(precondition_failed("If-Unmodified-Since"));
        }
    }
    if let Some(c) = if_none_match {
        if etag_matches(c, &meta.etag) {
            return Err(not_modified(meta));
        }
    } else if let Some(t) = if_modified_since {
        if modified <= ts_secs(t) {
            return Err(not_modified(meta));
        }
    }
    Ok(())
}

/// 304 Not Modified, with the ETag and Last-Modified a 200 would have carried (RFC 7232
/// section 4.1, which the GetObject reference points to): caches revalidate with them.
fn not_modified(meta: &ObjMeta) -> S3Error {
    let mut e = s3_error!(NotModified, "Not Modified");
    let mut h = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(&format!("\"{}\"", meta.etag)) {
        h.insert(http::header::ETAG, v);
    }
    let mut date = Vec::new();
    if ts(meta.modified).format(s3s::dto::TimestampFormat::HttpDate, &mut date).is_ok() {
        if let Ok(v) = http::HeaderValue::from_bytes(&date) {
            h.insert(http::header::LAST_MODIFIED, v);
        }
    }
    e.set_headers(h);
    e
}

/// Copy-source conditions (CopyObject, UploadPartCopy): a failed one is 412 either way.
/// As for GET, an ETag condition overrides its date partner (CopyObject API reference:
/// if-match true with if-unmodified-since false copies; if-none-match false with
/// if-modified-since true is 412).
fn check_copy_source_conditions(
    meta: &ObjMeta,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified = (meta.modified / 1000) as i64;
    let first = match if_match {
        Some(c) => etag_matches(c, &meta.etag),
        None => if_unmodified_since.is_none_or(|t| modified <= ts_secs(t)),
    };
    let second = match if_none_match {
        Some(c) => !etag_matches(c, &meta.etag),
        None => if_modified_since.is_none_or(|t| modified > ts_secs(t)),
    };
    match (first, second) {
        (true, true) => Ok(()),
        (false, _) if if_match.is_some() => Err(precondition_failed("x-amz-copy-source-If-Match")),
        (false, _) => Err(precondition_failed("x-amz-copy-source-If-Unmodified-Since")),
        (_, false) if if_none_match.is_some() => Err(precondition_failed("x-amz-copy-source-If-None-Match")),
        (_, false) => Err(precondition_failed("x-amz-copy-source-If-Modified-Since")),
    }
}

/// `x-amz-copy-source-range: bytes=first-last` → (start, length) within a source of `size` bytes.
fn copy_source_range(range: Option<&str>, size: u64) -> S3Result<(u64, u64)> {
    let Some(range) = range else { return Ok((0, size)) };
    let malformed = || {
        s3_error!(
            InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"
        )
    };
    let (first, last) = range.trim().strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or_else(malformed)?;
    let first: u64 = first.parse().map_err(|_| malformed())?;
    let last: u64 = last.parse().map_err(|_| malformed())?;
    if first > last || last >= size {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("Range specified is not valid for source object of size: {size}"),
        ));
    }
    Ok((first, last - first + 1))
}

/// A copy source that names a delete marker by version id.
fn copy_source_error(e: S3Error) -> S3Error {
    if *e.code() == S3ErrorCode::MethodNotAllowed {
        s3_error!(InvalidRequest, "The source of a copy request may not specifically refer to a delete marker by version id.")
    } else {
        e
    }
}

fn check_part_number(n: i32) -> S3Result<()> {
    if (1..=10000).contains(&n) {
        Ok(())
    } else {
        Err(s3_error!(InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive"))
    }
}

/// `partNumber` on GET/HEAD: the byte span (start, length) of part `n` of an object.
/// A simple object (or one completed before part sizes were kept) is one part.
fn part_span(h: &ObjHeaders, size: u64, n: i32) -> S3Result<(u64, u64)> {
    check_part_number(n)?;
    let index = (n - 1) as usize;
    if h.part_sizes.is_empty() {
        return if n == 1 { Ok((0, size)) } else { Err(invalid_part_number()) };
    }
    let len = *h.part_sizes.get(index).ok_or_else(invalid_part_number)?;
    Ok((h.part_sizes[..index].iter().sum(), len))
}

fn invalid_part_number() -> S3Error {
    let mut e = S3Error::with_message(S3ErrorCode::Custom("InvalidPartNumber".into()), "The requested partnumber is not satisfiable");
    e.set_status_code(http::StatusCode::RANGE_NOT_SATISFIABLE);
    e
}

/// GET/HEAD take a byte range or a part, not both.
fn check_range_or_part<T>(range: Option<&T>, part_number: Option<i32>) -> S3Result<()> {
    if range.is_some() && part_number.is_some() {
        return Err(s3_error!(InvalidRequest, "Cannot specify both Range header and partNumber query parameter"));
    }
    Ok(())
}

/// The algorithm of a completed upload's checksum over its assembled bytes: a
/// FULL_OBJECT upload's, or S3's default CRC64NVME when the upload named none ("S3 now
/// stores a CRC-based whole-object checksum in object metadata, even for multipart
/// uploads", AWS What's New, 2024-12-01). S3 combines the parts' CRCs arithmetically;
/// reading the object once while assembling it gives the same value. None: composite.
fn whole_object_algorithm(upload: &ObjHeaders) -> Option<&str> {
    match upload.checksum_algorithm.as_deref() {
        None => Some(checksums::DEFAULT),
        Some(a) if upload.checksum_full_object => Some(a),
        Some(_) => None,
    }
}

/// The checksum type an upload was created with (none without an algorithm).
fn upload_checksum_type(h: &ObjHeaders) -> Option<ChecksumType> {
    h.checksum_algorithm
        .as_ref()
        .map(|_| ChecksumType::from_static(if h.checksum_full_object { ChecksumType::FULL_OBJECT } else { ChecksumType::COMPOSITE }))
}

/// `x-amz-checksum-type` of a stored checksum.
pub(crate) fn checksum_type(c: &checksums::Stored) -> ChecksumType {
    ChecksumType::from_static(if c.is_composite() { ChecksumType::COMPOSITE } else { ChecksumType::FULL_OBJECT })
}

/// A copy's checksum. A copy is one write, so "the checksum of the copied object is a
/// direct checksum of the full object" (S3 User Guide, "Checking object integrity"):
/// of the algorithm the request names, else the source's, else S3's default CRC64NVME
/// ("present if the object being copied was uploaded with the CRC64NVME checksum
/// algorithm, or if the object was uploaded without a checksum", CopyObjectResult).
/// A source's full-object value of that algorithm still describes the bytes and is
/// kept; anything else (a composite, another algorithm, none) is computed.
enum CopyChecksum {
    Keep(checksums::Stored),
    Compute(&'static str),
}

impl CopyChecksum {
    fn plan(requested: Option<&ChecksumAlgorithm>, source: Option<&checksums::Stored>) -> S3Result<Self> {
        let requested = match requested {
            Some(a) => Some(checksums::algorithm(a.as_str()).ok_or_else(unsupported_checksum_algorithm)?),
            None => None,
        };
        let algorithm = requested.or_else(|| source.and_then(|s| checksums::algorithm(&s.algorithm))).unwrap_or(checksums::DEFAULT);
        Ok(match source {
            Some(s) if s.algorithm == algorithm && !s.is_composite() => CopyChecksum::Keep(s.clone()),
            _ => CopyChecksum::Compute(algorithm),
        })
    }

    fn hasher(&self) -> Option<s3s::checksum::ChecksumHasher> {
        match self {
            CopyChecksum::Keep(_) => None,
            CopyChecksum::Compute(a) => checksums::hasher(a),
        }
    }

    fn finish(self, hasher: Option<s3s::checksum::ChecksumHasher>) -> Option<checksums::Stored> {
        match self {
            CopyChecksum::Keep(s) => Some(s),
            CopyChecksum::Compute(a) => Some(checksums::Stored { algorithm: a.to_string(), value: checksums::finish(hasher?, a)? }),
        }
    }
}

fn unsupported_checksum_algorithm() -> S3Error {
    s3_error!(InvalidRequest, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
}

/// The attributes a GetObjectAttributes request names (`x-amz-object-attributes`).
struct ObjectAttributesWanted {
    etag: bool,
    checksum: bool,
    parts: bool,
    size: bool,
    storage_class: bool,
}

impl ObjectAttributesWanted {
    fn of(list: &[ObjectAttributes]) -> S3Result<Self> {
        let mut w = ObjectAttributesWanted { etag: false, checksum: false, parts: false, size: false, storage_class: false };
        // s3s hands the header over as one value: the names are comma-separated.
        for a in list.iter().flat_map(|a| a.as_str().split(',')) {
            match a.trim() {
                ObjectAttributes::ETAG => w.etag = true,
                ObjectAttributes::CHECKSUM => w.checksum = true,
                ObjectAttributes::OBJECT_PARTS => w.parts = true,
                ObjectAttributes::OBJECT_SIZE => w.size = true,
                ObjectAttributes::STORAGE_CLASS => w.storage_class = true,
                _ => return Err(s3_error!(InvalidArgument, "Invalid attribute name specified.")),
            }
        }
        Ok(w)
    }
}

/// The object's checksum as GetObjectAttributes reports it: a composite one without
/// its `-<parts>` suffix (the count is ObjectParts' TotalPartsCount).
fn attribute_checksum(c: &checksums::Stored) -> Checksum {
    let digest = checksums::Stored { algorithm: c.algorithm.clone(), value: c.digest().to_string() };
    let [crc32, crc32c, crc64nvme, sha1, sha256] = checksums::fields(Some(&digest));
    Checksum {
        checksum_crc32: crc32,
        checksum_crc32c: crc32c,
        checksum_crc64nvme: crc64nvme,
        checksum_sha1: sha1,
        checksum_sha256: sha256,
        checksum_type: Some(checksum_type(c)),
    }
}

/// A multipart object's ObjectParts. The parts themselves are listed (paged like
/// ListParts) only when they have checksums: "if a additional checksum ... isn't
/// applied to the object specified in the request, the response doesn't return Part"
/// (GetObjectAttributesParts, S3 API reference), and a full-object checksum keeps none
/// per part.
fn attribute_parts(h: &ObjHeaders, total: i32, max_parts: Option<i32>, marker: Option<i32>) -> S3Result<GetObjectAttributesParts> {
    let algorithm = h.checksum.as_ref().filter(|c| c.is_composite() && h.part_checksums.len() == h.part_sizes.len()).map(|c| c.algorithm.as_str());
    let Some(algorithm) = algorithm else {
        return Ok(GetObjectAttributesParts { total_parts_count: Some(total), ..Default::default() });
    };
    let max = page_size(max_parts, "max-parts")?;
    let from = usize::try_from(marker.unwrap_or(0).max(0)).unwrap_or(0);
    let parts: Vec<ObjectPart> = h
        .part_sizes
        .iter()
        .zip(&h.part_checksums)
        .enumerate()
        .skip(from)
        .take(max)
        .map(|(i, (size, value))| {
            let [crc32, crc32c, crc64nvme, sha1, sha256] = checksums::reported_fields(Some(checksums::Reported { algorithm, value, composite: true }));
            ObjectPart {
                part_number: Some(i as i32 + 1),
                size: Some(*size as i64),
                checksum_crc32: crc32,
                checksum_crc32c: crc32c,
                checksum_crc64nvme: crc64nvme,
                checksum_sha1: sha1,
                checksum_sha256: sha256,
            }
        })
        .collect();
    // MaxParts=0 is an empty final page, as for ListParts.
    let truncated = max > 0 && from + parts.len() < h.part_sizes.len();
    Ok(GetObjectAttributesParts {
        total_parts_count: Some(total),
        part_number_marker: marker,
        next_part_number_marker: parts.last().and_then(|p| p.part_number),
        max_parts: Some(max as i32),
        is_truncated: Some(truncated),
        parts: Some(parts),
    })
}

/// What GET/HEAD read of an object: all of it, a byte range, or part `n` (`whole`
/// when that part is all of the object).
#[derive(Clone, Copy)]
enum Read {
    All,
    Range,
    Part { n: i32, whole: bool },
}

impl Read {
    fn of(range: bool, part: Option<i32>, start: u64, len: u64, size: u64) -> Self {
        match (part, range) {
            (Some(n), _) => Read::Part { n, whole: start == 0 && len == size },
            (None, true) => Read::Range,
            (None, false) => Read::All,
        }
    }
}

/// The checksum fields and type GET/HEAD report: only with `x-amz-checksum-mode:
/// ENABLED`; the object's for the whole object, a part's for a part (see
/// `checksums::of_part`), none for a byte range (its bytes would not match).
fn reported_checksum(h: &ObjHeaders, mode: Option<&ChecksumMode>, read: Read) -> ([Option<String>; 5], Option<ChecksumType>) {
    if !mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED) {
        return Default::default();
    }
    let reported = match read {
        Read::All => h.checksum.as_ref().map(checksums::Reported::of),
        Read::Range => None,
        Read::Part { n, whole } => checksums::of_part(h.checksum.as_ref(), &h.part_checksums, n, whole),
    };
    let kind = reported.map(|r| ChecksumType::from_static(if r.composite { ChecksumType::COMPOSITE } else { ChecksumType::FULL_OBJECT }));
    (checksums::reported_fields(reported), kind)
}

/// `Content-Range` of a partial answer (None when empty: there is no last byte to name).
fn content_range(start: u64, len: u64, size: u64) -> Option<String> {
    (len > 0).then(|| format!("bytes {}-{}/{}", start, start + len - 1, size))
}

pub(crate) fn check_content_md5(content_md5: Option<&str>, md5: &[u8; 16]) -> S3Result<()> {
    let Some(expected) = content_md5 else { return Ok(()) };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(expected.trim())
        .ok()
        .filter(|d| d.len() == 16)
        .ok_or_else(|| s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."))?;
    if decoded.as_slice() != md5 {
        return Err(s3_error!(BadDigest, "The Content-MD5 you specified did not match what we received."));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn headers_from(
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    expires: Option<&Timestamp>,
    metadata: Option<Metadata>,
) -> ObjHeaders {
    ObjHeaders {
        content_type,
        content_encoding,
        content_disposition,
        content_language,
        cache_control,
        expires: expires.map(ts_secs),
        metadata: metadata.map(|m| m.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect()).unwrap_or_default(),
        parts_count: None,
        tags: Vec::new(),
        acl: None,
        website_redirect_location: None,
        ..Default::default()
    }
}

/// `x-amz-website-redirect-location` must be a path in the bucket or an http(s) URL.
fn website_redirect(value: Option<String>) -> S3Result<Option<String>> {
    match value {
        Some(v) if !(v.starts_with('/') || v.starts_with("http://") || v.starts_with("https://")) || v.len() > 2048 => {
            let mut e = S3Error::with_message(
                S3ErrorCode::Custom("InvalidRedirectLocation".into()),
                "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.",
            );
            e.set_status_code(http::StatusCode::BAD_REQUEST);
            Err(e)
        }
        v => Ok(v),
    }
}

fn metadata_of(h: &ObjHeaders) -> Option<Metadata> {
    (!h.metadata.is_empty()).then(|| h.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn validate_key(key: &str) -> S3Result<()> {
    if key.is_empty() || key.len() > 1024 {
        return Err(s3_error!(KeyTooLongError, "Your key is too long"));
    }
    Ok(())
}

/// The most one PutObject (and one UploadPart) may carry: "Upload an object in a single
/// operation by using the AWS SDKs, REST API, or AWS CLI – With a single PUT operation,
/// you can upload a single object up to 5 GB in size" (user guide, "Uploading objects");
/// a part is 5 MiB to 5 GiB (multipart upload limits).
const MAX_SINGLE_UPLOAD: u64 = 5 * 1024 * 1024 * 1024;

/// Refuses, before reading a byte of it, a body whose declared length (the decoded
/// length of an aws-chunked body) is over [`MAX_SINGLE_UPLOAD`].
fn check_upload_size(headers: &http::HeaderMap) -> S3Result<()> {
    let declared = headers
        .get("x-amz-decoded-content-length")
        .or_else(|| headers.get(http::header::CONTENT_LENGTH))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_SINGLE_UPLOAD) {
        return Err(s3_error!(EntityTooLarge, "Your proposed upload exceeds the maximum allowed object size."));
    }
    Ok(())
}

/// User-defined metadata is limited to 2 KB, "measured by taking the sum of the number
/// of bytes in the UTF-8 encoding of each key and value" (S3 user guide, "Working with
/// object metadata"); more is refused with MetadataTooLarge.
const METADATA_MAX_BYTES: usize = 2048;

fn check_metadata_size(metadata: Option<&Metadata>) -> S3Result<()> {
    let size: usize = metadata.map(|m| m.iter().map(|(k, v)| k.len() + v.len()).sum()).unwrap_or(0);
    if size > METADATA_MAX_BYTES {
        return Err(s3_error!(MetadataTooLarge, "Your metadata headers exceed the maximum allowed metadata size."));
    }
    Ok(())
}

/// The URL of a new object, as CompleteMultipartUpload's Location gives it: on the
/// endpoint the request came to, in its style (virtual-hosted or path), the key
/// encoded as S3 encodes it there (`/` as `%2F`, a space as `+`).
fn object_location(host: &str, bucket: &str, key: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'*');
    let key = percent_encoding::utf8_percent_encode(key, SET).to_string().replace("%20", "+");
    let virtual_hosted = host.len() > bucket.len() && host.starts_with(bucket) && host.as_bytes()[bucket.len()] == b'.';
    if virtual_hosted {
        format!("http://{host}/{key}")
    } else {
        format!("http://{host}/{bucket}/{key}")
    }
}

fn url_encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// One page of a listing: keys after `after` (exclusive) under `prefix`, rolled up
/// at `delimiter`.
struct Page {
    contents: Vec<(String, Arc<ObjMeta>)>,
    prefixes: Vec<String>,
    truncated: bool,
    /// The last key or common prefix returned.
    last: Option<String>,
}

/// Lists current objects only: keys whose latest version is a delete marker are skipped.
fn list_page(objects: &BTreeMap<String, KeyVersions>, prefix: &str, delimiter: Option<&str>, after: Option<&str>, max: usize) -> Page {
    use std::ops::Bound;
    let mut page = Page { contents: Vec::new(), prefixes: Vec::new(), truncated: false, last: None };
    // max-keys=0 asks for nothing: S3 answers an empty page that is not truncated (and
    // so has no marker or token to go on from).
    if max == 0 {
        return page;
    }
    let start = match after {
        Some(a) if a >= prefix => Bound::Excluded(a.to_string()),
        _ => Bound::Included(prefix.to_string()),
    };
    let current = objects
        .range((start, Bound::Unbounded))
        .take_while(|(key, _)| key.starts_with(prefix))
        .filter_map(|(key, versions)| versions.current().map(|meta| (key.as_str(), (key, meta))));
    let rolled = crate::versions::roll_up(current, prefix, delimiter, after, max);
    page.contents = rolled.items.into_iter().map(|(key, meta)| (key.clone(), meta.clone())).collect();
    page.prefixes = rolled.prefixes;
    page.truncated = rolled.truncated;
    page.last = rolled.last.map(|last| match last {
        Rolled::Item((key, _)) => key.clone(),
        Rolled::Prefix(p) => p,
    });
    page
}

fn object_dto(key: String, m: &ObjMeta, encode: bool) -> Object {
    let (checksum_algorithm, checksum_type) = listed_checksum(&m.headers);
    Object {
        key: Some(if encode { url_encode(&key) } else { key }),
        e_tag: Some(etag(&m.etag)),
        last_modified: Some(ts(m.modified)),
        size: Some(m.size as i64),
        storage_class: Some(storage_class::object_class(&m.headers)),
        checksum_algorithm,
        checksum_type,
        ..Default::default()
    }
}

/// The ChecksumAlgorithm and ChecksumType a listing names for an object kept with a
/// checksum (the Object and ObjectVersion types of the S3 API reference).
fn listed_checksum(h: &ObjHeaders) -> (Option<ChecksumAlgorithmList>, Option<ChecksumType>) {
    match &h.checksum {
        Some(c) => (Some(vec![ChecksumAlgorithm::from(c.algorithm.clone())]), Some(checksum_type(c))),
        None => (None, None),
    }
}

fn max_keys(v: Option<i32>) -> S3Result<usize> {
    match v {
        None => Ok(1000),
        Some(n) if n < 0 => Err(s3_error!(InvalidArgument, "Provided max-keys not an integer or within integer range")),
        Some(n) => Ok((n as usize).min(1000)),
    }
}

/// `encoding-type`: `url` is the only one S3 knows.
fn url_encoding(e: Option<&EncodingType>) -> S3Result<bool> {
    match e.map(|e| e.as_str()) {
        None => Ok(false),
        Some(EncodingType::URL) => Ok(true),
        Some(_) => Err(s3_error!(InvalidArgument, "Invalid Encoding Method specified in Request")),
    }
}

/// `max-parts` / `max-uploads`: a page holds at most 1000 (the default); a negative
/// number is refused as S3 words it.
fn page_size(v: Option<i32>, name: &str) -> S3Result<usize> {
    match v {
        Some(n) if n < 0 => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("Argument {name} must be an integer between 0 and 2147483647"),
        )),
        v => Ok(v.unwrap_or(1000).min(1000) as usize),
    }
}

/// Marks a continuation token as one nimbus issued: S3 refuses tokens it did not hand
/// out, so one that merely decodes (base64 of some text) must not be taken as a key.
const TOKEN_TAG: &str = "nimbus-list-v2\n";

/// ListObjectsV2's NextContinuationToken: opaque to clients, the last key or prefix inside.
fn continuation_token(last: &str) -> String {
    tagged_token(TOKEN_TAG, last)
}

fn token_key(token: &str) -> S3Result<String> {
    untag_token(TOKEN_TAG, token)
}

/// A continuation token: `tag` and the page's last name, base64.
fn tagged_token(tag: &str, last: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{tag}{last}"))
}

/// The name inside a token [`tagged_token`] made with `tag`; InvalidArgument for any other.
fn untag_token(tag: &str, token: &str) -> S3Result<String> {
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|d| String::from_utf8(d).ok())
        .and_then(|s| s.strip_prefix(tag).map(str::to_string))
        .ok_or_else(|| s3_error!(InvalidArgument, "The continuation token provided is incorrect"))
}

/// ListBuckets' page size: `max-buckets` (1 to 10,000), else all of them — but "if you
/// specify the bucket-region, prefix, or continuation-token query parameters without
/// using max-buckets ... Amazon S3 applies a default page size of 10,000" (API reference).
fn bucket_page_size(input: &ListBucketsInput) -> S3Result<usize> {
    const MAX: usize = 10_000;
    match input.max_buckets {
        Some(n) if !(1..=MAX as i32).contains(&n) => {
            Err(s3_error!(InvalidArgument, "Argument max-buckets must be an integer between 1 and 10000"))
        }
        Some(n) => Ok(n as usize),
        None if input.prefix.is_some() || input.bucket_region.is_some() || input.continuation_token.is_some() => Ok(MAX),
        None => Ok(usize::MAX),
    }
}

/// Marks a ListBuckets continuation token as one nimbus issued (see [`TOKEN_TAG`]).
const BUCKET_TOKEN_TAG: &str = "nimbus-list-buckets\n";

/// ListBuckets' ContinuationToken: opaque to clients, the page's last bucket inside.
fn bucket_token(last: &str) -> String {
    tagged_token(BUCKET_TOKEN_TAG, last)
}

fn bucket_token_name(token: &str) -> S3Result<String> {
    untag_token(BUCKET_TOKEN_TAG, token)
}

pub struct Provider {
    pub state: Arc<State>,
}

/// A success status s3s cannot send: it answers every HEAD with 200 whatever the
/// operation says (a Range or partNumber HEAD is 206), and RestoreObject always with
/// 200 (a restore started is 202). Set on the operation's response, applied by
/// [`finish_response`].
#[derive(Debug, Clone, Copy)]
pub struct SuccessStatus(pub http::StatusCode);

/// Applies what s3s could not express in the response (see [`SuccessStatus`]).
pub fn finish_response(resp: &mut http::Response<s3s::Body>) {
    if let Some(SuccessStatus(status)) = resp.extensions_mut().remove::<SuccessStatus>() {
        if resp.status().is_success() {
            *resp.status_mut() = status;
        }
    }
}

impl Provider {
    /// Looks up a version and opens the byte range `prepare` picks from it (after
    /// checking what it must). A body deleted or moved between the lookup and the
    /// read (a concurrent overwrite) is looked up again.
    fn open_body<T>(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        prepare: impl Fn(&Found) -> S3Result<(u64, u64, T)>,
    ) -> S3Result<(Found, StreamingBlob, T)> {
        for _ in 0..3 {
            let found = self.state.lookup(bucket, key, version_id)?;
            let (start, len, extra) = prepare(&found)?;
            match self.state.body_range(&found.meta, start, len) {
                Ok(body) => return Ok((found, body, extra)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(internal(format!("cannot read object body: {e}"))),
            }
        }
        Err(internal("object body missing".into()))
    }

    /// Streams a request body to a temporary file; a trailing checksum the request
    /// announced is computed on the way and checked once the trailer has arrived.
    /// Publishes an uploaded part's body and records it (UploadPart, UploadPartCopy).
    async fn install_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: i32,
        written: blob::Written,
        checksum: Option<checksums::Stored>,
    ) -> S3Result<PartRow> {
        let dest = self.state.part_path(upload_id, number);
        blob::publish(&written.tmp, &dest, self.state.sync).await.map_err(internal)?;
        let row = PartRow { upload: upload_id.to_string(), number, size: written.size, etag: hex::encode(written.md5), modified: now_ms(), checksum };
        // The upload may have been aborted meanwhile.
        self.upload_key(bucket, upload_id, key)?;
        let r = row.clone();
        self.state.commit(move |tx| persist::put_part(tx, &r)).await?;
        let mut buckets = self.state.buckets.write();
        if let Some(u) = buckets.get_mut(bucket).and_then(|b| b.uploads.get_mut(upload_id)) {
            u.parts.insert(row.number, PartMeta { size: row.size, etag: row.etag.clone(), modified: row.modified, checksum: row.checksum.clone() });
        }
        Ok(row)
    }

    /// Receives an object's body: a small one stays in memory for a segment, a larger
    /// one is streamed to a temporary file. `small_max` 0 always gives a file (parts).
    /// Returns the body's checksum: the trailer's or the `declared` header's (each
    /// checked against the body: s3s checks neither), else one computed with `compute`
    /// (a multipart upload's algorithm, S3's default CRC64NVME for a PutObject).
    /// `signed`: the payload hash the request was signed with, for the error when the
    /// body does not match it.
    async fn receive_body(
        &self,
        body: Option<StreamingBlob>,
        trailer: Option<&checksums::Trailer>,
        small_max: u64,
        declared: Option<checksums::Stored>,
        compute: Option<&str>,
        signed: Option<&sha256_mismatch::Signed>,
    ) -> S3Result<(blob::Received, Option<checksums::Stored>)> {
        let body = body.unwrap_or_else(|| StreamingBlob::wrap(futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>()));
        // A body known to be large goes to a file from its first byte, its MD5 in lanes
        // from the start (not its first small_max bytes alone, at single-stream speed).
        let known_large = s3s::stream::ByteStream::remaining_length(&body).exact().is_some_and(|n| n as u64 > small_max);
        let small_max = if known_large { 0 } else { small_max };
        let declared = declared.filter(|_| trailer.is_none());
        // A trailer's checksum is the body's checksum: nothing else needs computing.
        let algorithm = declared.as_ref().and_then(|d| checksums::algorithm(&d.algorithm)).or(compute).filter(|_| trailer.is_none());
        let computing = algorithm.and_then(|a| Some((a, parking_lot::Mutex::new(checksums::hasher(a)?))));
        let body = futures_util::StreamExt::inspect(body, |chunk| {
            if let Ok(b) = chunk {
                if let Some(t) = trailer {
                    t.update(b);
                }
                if let Some((_, h)) = &computing {
                    h.lock().update(b);
                }
            }
        });
        // s3s's check of a signed payload (and the short road's) fails the stream; what
        // arrived until then is kept, for the error to name the body's hash.
        let hash_failed = std::sync::atomic::AtomicBool::new(false);
        let received = {
            let body = sha256_mismatch::stop_at_mismatch(body, &hash_failed);
            if small_max == 0 {
                blob::write_stream(&self.state.root, body, self.state.sync).await.map(blob::Received::File)
            } else {
                blob::receive(&self.state.root, body, self.state.sync, small_max).await
            }
        };
        let received = received.map_err(|e| {
            // s3s fails an aws-chunked body at a chunk (or trailer) whose signature does
            // not hold; S3 answers that as any other signature mismatch.
            if e.starts_with("body:") && e.contains("AwsChunkedStreamError: SignatureMismatch") {
                s3_error!(
                    SignatureDoesNotMatch,
                    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
                )
            } else if e.starts_with("body:") {
                s3_error!(IncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
            } else {
                internal(e)
            }
        })?;
        if hash_failed.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(match signed {
                Some(s) => s.error(received).await,
                None => {
                    received.discard().await;
                    sha256_mismatch::mismatch(None, None)
                }
            });
        }
        let mut checksum = None;
        if let Some(t) = trailer {
            match t.verify() {
                Ok((header, value)) => {
                    checksum = checksums::algorithm(header.trim_start_matches("x-amz-checksum-"))
                        .map(|a| checksums::Stored { algorithm: a.to_string(), value })
                }
                Err(e) => {
                    received.discard().await;
                    return Err(e);
                }
            }
        }
        if checksum.is_none() {
            checksum = computing.and_then(|(a, h)| {
                Some(checksums::Stored { algorithm: a.to_string(), value: checksums::finish(h.into_inner(), a)? })
            });
            if let Some(d) = declared {
                if checksum.as_ref() != Some(&d) {
                    received.discard().await;
                    return Err(s3_error!(BadDigest, "The {} you specified did not match the calculated checksum.", d.algorithm));
                }
            }
        }
        Ok((received, checksum))
    }

    /// Streams a part's body to a temporary file.
    async fn write_part_body(
        &self,
        body: Option<StreamingBlob>,
        trailer: Option<&checksums::Trailer>,
        declared: Option<checksums::Stored>,
        compute: Option<&str>,
        signed: Option<&sha256_mismatch::Signed>,
    ) -> S3Result<(blob::Written, Option<checksums::Stored>)> {
        match self.receive_body(body, trailer, 0, declared, compute, signed).await? {
            (blob::Received::File(w), checksum) => Ok((w, checksum)),
            (blob::Received::Small { .. }, _) => Err(internal("a part's body was not written to a file".into())),
        }
    }
}

#[async_trait::async_trait]
impl s3s::S3 for Provider {
    async fn put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        let ctx = EventCtx::of(&req);
        self.state.require_bucket(&req.input.bucket)?;
        self.state.put_notification(&ctx, req.input).await?;
        Ok(S3Response::new(PutBucketNotificationConfigurationOutput {}))
    }

    async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        Ok(S3Response::new(self.state.get_notification(&req.input.bucket)?))
    }

    async fn put_bucket_website(&self, req: S3Request<PutBucketWebsiteInput>) -> S3Result<S3Response<PutBucketWebsiteOutput>> {
        let input = req.input;
        self.state.put_website(&input.bucket, input.website_configuration).await?;
        Ok(S3Response::new(PutBucketWebsiteOutput {}))
    }

    async fn get_bucket_website(&self, req: S3Request<GetBucketWebsiteInput>) -> S3Result<S3Response<GetBucketWebsiteOutput>> {
        Ok(S3Response::new(self.state.get_website(&req.input.bucket)?))
    }

    async fn delete_bucket_website(&self, req: S3Request<DeleteBucketWebsiteInput>) -> S3Result<S3Response<DeleteBucketWebsiteOutput>> {
        self.state
            .update_config(&req.input.bucket, |c| {
                c.website = None;
                Ok(())
            })
            .await?;
        let mut resp = S3Response::new(DeleteBucketWebsiteOutput {});
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    async fn put_public_access_block(&self, req: S3Request<PutPublicAccessBlockInput>) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        let input = req.input;
        self.state.put_public_access_block(&input.bucket, &input.public_access_block_configuration).await?;
        Ok(S3Response::new(PutPublicAccessBlockOutput {}))
    }

    async fn get_public_access_block(&self, req: S3Request<GetPublicAccessBlockInput>) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        let c = self.state.get_public_access_block(&req.input.bucket)?;
        Ok(S3Response::new(GetPublicAccessBlockOutput { public_access_block_configuration: Some(c) }))
    }

    async fn delete_public_access_block(&self, req: S3Request<DeletePublicAccessBlockInput>) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        self.state
            .update_config(&req.input.bucket, |c| {
                c.public_access_block = None;
                Ok(())
            })
            .await?;
        let mut resp = S3Response::new(DeletePublicAccessBlockOutput {});
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    async fn put_bucket_encryption(&self, req: S3Request<PutBucketEncryptionInput>) -> S3Result<S3Response<PutBucketEncryptionOutput>> {
        let sse_c_blocked = crate::sse_c_blocking::requested_setting(&req.extensions)?;
        let input = req.input;
        self.state.put_encryption(&input.bucket, &input.server_side_encryption_configuration, sse_c_blocked).await?;
        Ok(S3Response::new(PutBucketEncryptionOutput {}))
    }

    async fn get_bucket_encryption(&self, req: S3Request<GetBucketEncryptionInput>) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
        self.state.get_encryption(&req.input.bucket)
    }

    async fn delete_bucket_encryption(&self, req: S3Request<DeleteBucketEncryptionInput>) -> S3Result<S3Response<DeleteBucketEncryptionOutput>> {
        self.state.delete_encryption(&req.input.bucket).await?;
        let mut resp = S3Response::new(DeleteBucketEncryptionOutput {});
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    async fn put_bucket_ownership_controls(
        &self,
        req: S3Request<PutBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<PutBucketOwnershipControlsOutput>> {
        let input = req.input;
        self.state.put_ownership_controls(&input.bucket, input.ownership_controls).await?;
        Ok(S3Response::new(PutBucketOwnershipControlsOutput {}))
    }

    async fn get_bucket_ownership_controls(
        &self,
        req: S3Request<GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
        Ok(S3Response::new(self.state.get_ownership_controls(&req.input.bucket)?))
    }

    async fn delete_bucket_ownership_controls(
        &self,
        req: S3Request<DeleteBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
        self.state.delete_ownership_controls(&req.input.bucket).await?;
        let mut resp = S3Response::new(DeleteBucketOwnershipControlsOutput {});
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    async fn get_bucket_policy_status(&self, req: S3Request<GetBucketPolicyStatusInput>) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        Ok(S3Response::new(self.state.get_policy_status(&req.input.bucket)?))
    }

    async fn put_bucket_acl(&self, req: S3Request<PutBucketAclInput>) -> S3Result<S3Response<PutBucketAclOutput>> {
        self.state.put_bucket_acl(req.input).await?;
        Ok(S3Response::new(PutBucketAclOutput {}))
    }

    async fn get_bucket_acl(&self, req: S3Request<GetBucketAclInput>) -> S3Result<S3Response<GetBucketAclOutput>> {
        Ok(S3Response::new(self.state.get_bucket_acl(&req.input.bucket)?))
    }

    async fn put_object_acl(&self, req: S3Request<PutObjectAclInput>) -> S3Result<S3Response<PutObjectAclOutput>> {
        let ctx = EventCtx::of(&req);
        self.state.put_object_acl(&ctx, req.input).await?;
        Ok(S3Response::new(PutObjectAclOutput::default()))
    }

    async fn get_object_acl(&self, req: S3Request<GetObjectAclInput>) -> S3Result<S3Response<GetObjectAclOutput>> {
        let input = &req.input;
        Ok(S3Response::new(self.state.get_object_acl(&input.bucket, &input.key, input.version_id.as_deref())?))
    }

    async fn put_bucket_request_payment(&self, req: S3Request<PutBucketRequestPaymentInput>) -> S3Result<S3Response<PutBucketRequestPaymentOutput>> {
        let input = req.input;
        let requester_pays = match input.request_payment_configuration.payer.as_str() {
            Payer::REQUESTER => true,
            Payer::BUCKET_OWNER => false,
            _ => return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")),
        };
        self.state
            .update_config(&input.bucket, move |c| {
                c.requester_pays = requester_pays;
                Ok(())
            })
            .await?;
        Ok(S3Response::new(PutBucketRequestPaymentOutput {}))
    }

    async fn get_bucket_request_payment(&self, req: S3Request<GetBucketRequestPaymentInput>) -> S3Result<S3Response<GetBucketRequestPaymentOutput>> {
        let requester_pays = self.state.with_config(&req.input.bucket, |c| c.requester_pays)?;
        let payer = if requester_pays { Payer::REQUESTER } else { Payer::BUCKET_OWNER };
        Ok(S3Response::new(GetBucketRequestPaymentOutput { payer: Some(Payer::from_static(payer)) }))
    }

    async fn put_bucket_tagging(&self, req: S3Request<PutBucketTaggingInput>) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        let input = req.input;
        self.state.require_bucket(&input.bucket)?;
        let tags = ops_config::tags_from(input.tagging.tag_set, false)?;
        self.state
            .update_config(&input.bucket, move |c| {
                c.tags = Some(tags);
                Ok(())
            })
            .await?;
        let mut resp = S3Response::new(PutBucketTaggingOutput {});
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    async fn get_bucket_tagging(&self, req: S3Request<GetBucketTaggingInput>) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        let tags = self.state.with_config(&req.input.bucket, |c| c.tags.clone())?;
        let tags = tags.ok_or_else(|| s3_error!(NoSuchTagSet, "The TagSet does not exist"))?;
        Ok(S3Response::new(GetBucketTaggingOutput { tag_set: ops_config::tag_dtos(&tags) }))
    }

    async fn delete_bucket_tagging(&self, req: S3Request<DeleteBucketTaggingInput>) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        self.state
            .update_config(&req.input.bucket, |c| {
                c.tags = None;
                Ok(())
            })
            .await?;
        Ok(S3Response::new(DeleteBucketTaggingOutput {}))
    }

    async fn put_bucket_policy(&self, req: S3Request<PutBucketPolicyInput>) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let input = req.input;
        self.state.require_bucket(&input.bucket)?;
        ops_config::policy_checked(&input.policy)?;
        self.state.check_policy_allowed(&input.bucket, &input.policy)?;
        let policy = input.policy;
        self.state
            .update_config(&input.bucket, move |c| {
                c.policy = Some(policy);
                Ok(())
            })
            .await?;
        let mut resp = S3Response::new(PutBucketPolicyOutput {});
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    async fn get_bucket_policy(&self, req: S3Request<GetBucketPolicyInput>) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let policy = self.state.with_config(&req.input.bucket, |c| c.policy.clone())?;
        let policy = policy.ok_or_else(|| s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist"))?;
        Ok(S3Response::new(GetBucketPolicyOutput { policy: Some(policy) }))
    }

    async fn delete_bucket_policy(&self, req: S3Request<DeleteBucketPolicyInput>) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        self.state
            .update_config(&req.input.bucket, |c| {
                c.policy = None;
                Ok(())
            })
            .await?;
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }

    async fn put_bucket_cors(&self, req: S3Request<PutBucketCorsInput>) -> S3Result<S3Response<PutBucketCorsOutput>> {
        let input = req.input;
        self.state.require_bucket(&input.bucket)?;
        let rules = ops_config::cors_from(input.cors_configuration)?;
        self.state
            .update_config(&input.bucket, move |c| {
                c.cors = Some(rules);
                Ok(())
            })
            .await?;
        Ok(S3Response::new(PutBucketCorsOutput {}))
    }

    async fn get_bucket_cors(&self, req: S3Request<GetBucketCorsInput>) -> S3Result<S3Response<GetBucketCorsOutput>> {
        let rules = self.state.with_config(&req.input.bucket, |c| c.cors.clone())?;
        let rules = rules.ok_or_else(|| s3_error!(NoSuchCORSConfiguration, "The CORS configuration does not exist"))?;
        Ok(S3Response::new(GetBucketCorsOutput { cors_rules: Some(ops_config::cors_dtos(&rules)) }))
    }

    async fn delete_bucket_cors(&self, req: S3Request<DeleteBucketCorsInput>) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
        self.state
            .update_config(&req.input.bucket, |c| {
                c.cors = None;
                Ok(())
            })
            .await?;
        Ok(S3Response::new(DeleteBucketCorsOutput {}))
    }

    async fn put_object_lock_configuration(
        &self,
        req: S3Request<PutObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<PutObjectLockConfigurationOutput>> {
        self.state.put_object_lock_configuration(req.input).await?;
        Ok(S3Response::new(PutObjectLockConfigurationOutput::default()))
    }

    async fn get_object_lock_configuration(
        &self,
        req: S3Request<GetObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
        let c = self.state.get_object_lock_configuration(&req.input.bucket)?;
        Ok(S3Response::new(GetObjectLockConfigurationOutput { object_lock_configuration: Some(c) }))
    }

    async fn put_object_retention(&self, req: S3Request<PutObjectRetentionInput>) -> S3Result<S3Response<PutObjectRetentionOutput>> {
        self.state.put_object_retention(req.input).await?;
        Ok(S3Response::new(PutObjectRetentionOutput::default()))
    }

    async fn get_object_retention(&self, req: S3Request<GetObjectRetentionInput>) -> S3Result<S3Response<GetObjectRetentionOutput>> {
        let i = req.input;
        let retention = self.state.get_object_retention(&i.bucket, &i.key, i.version_id.as_deref())?;
        Ok(S3Response::new(GetObjectRetentionOutput { retention: Some(retention) }))
    }

    async fn put_object_legal_hold(&self, req: S3Request<PutObjectLegalHoldInput>) -> S3Result<S3Response<PutObjectLegalHoldOutput>> {
        self.state.put_object_legal_hold(req.input).await?;
        Ok(S3Response::new(PutObjectLegalHoldOutput::default()))
    }

    async fn get_object_legal_hold(&self, req: S3Request<GetObjectLegalHoldInput>) -> S3Result<S3Response<GetObjectLegalHoldOutput>> {
        let i = req.input;
        let legal_hold = self.state.get_object_legal_hold(&i.bucket, &i.key, i.version_id.as_deref())?;
        Ok(S3Response::new(GetObjectLegalHoldOutput { legal_hold: Some(legal_hold) }))
    }

    async fn put_bucket_versioning(&self, req: S3Request<PutBucketVersioningInput>) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let input = req.input;
        self.state.require_bucket(&input.bucket)?;
        let malformed = || s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema");
        let c = input.versioning_configuration;
        // Status is Enabled or Suspended: a bucket never goes back to unversioned.
        let versioning = c.status.as_ref().and_then(|s| Versioning::parse(s.as_str())).ok_or_else(malformed)?;
        let mfa_delete = self.state.check_versioning_change(&input.bucket, versioning, c.mfa_delete.as_ref().map(|m| m.as_str()), input.mfa.as_deref())?;
        self.state
            .update_config(&input.bucket, move |cfg| {
                cfg.versioning = Some(versioning);
                cfg.mfa_delete = mfa_delete;
                Ok(())
            })
            .await?;
        Ok(S3Response::new(PutBucketVersioningOutput {}))
    }

    async fn get_bucket_versioning(&self, req: S3Request<GetBucketVersioningInput>) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let versioning = self.state.versioning_of(&req.input.bucket)?;
        let mfa = self.state.with_config(&req.input.bucket, |c| c.mfa_delete)?;
        Ok(S3Response::new(GetBucketVersioningOutput {
            mfa_delete: mfa.map(|on| MFADeleteStatus::from(if on { "Enabled" } else { "Disabled" }.to_string())),
            status: versioning.map(|v| BucketVersioningStatus::from(v.as_str().to_string())),
        }))
    }

    async fn list_object_versions(&self, req: S3Request<ListObjectVersionsInput>) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let input = req.input;
        let max = max_keys(input.max_keys)?;
        let encode = url_encoding(input.encoding_type.as_ref())?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let key_marker = input.key_marker.as_deref().filter(|k| !k.is_empty());
        let version_marker = input.version_id_marker.as_deref().filter(|v| !v.is_empty());
        if let Some(v) = version_marker {
            if key_marker.is_none() {
                return Err(s3_error!(InvalidArgument, "A version-id marker cannot be specified without a key marker."));
            }
            versions::check_version_id(v)?;
        }
        let page = {
            let buckets = self.state.buckets.read();
            let b = buckets.get(&input.bucket).ok_or_else(|| no_such_bucket(&input.bucket))?;
            versions::list_versions(&b.objects, &prefix, input.delimiter.as_deref(), key_marker, version_marker, max)
        };
        let enc = |s: String| if encode { url_encode(&s) } else { s };
        let order = versions::ListingOrder(page.entries.iter().map(|(_, v, _)| v.is_delete_marker()).collect());
        let mut object_versions = Vec::new();
        let mut markers = Vec::new();
        for (key, v, is_latest) in page.entries {
            match v {
                Version::Object(m) => object_versions.push(ObjectVersion {
                    checksum_algorithm: listed_checksum(&m.headers).0,
                    checksum_type: listed_checksum(&m.headers).1,
                    key: Some(enc(key)),
                    version_id: Some(m.version_id.clone()),
                    is_latest: Some(is_latest),
                    e_tag: Some(etag(&m.etag)),
                    last_modified: Some(ts(m.modified)),
                    size: Some(m.size as i64),
                    storage_class: Some(storage_class::version_class(&m.headers)),
                    owner: Some(owner()),
                    ..Default::default()
                }),
                Version::DeleteMarker(m) => markers.push(DeleteMarkerEntry {
                    key: Some(enc(key)),
                    version_id: Some(m.version_id.clone()),
                    is_latest: Some(is_latest),
                    last_modified: Some(ts(m.modified)),
                    owner: Some(owner()),
                }),
            }
        }
        let mut resp = S3Response::new(ListObjectVersionsOutput {
            name: Some(input.bucket),
            prefix: Some(enc(prefix)),
            key_marker: Some(input.key_marker.map(enc).unwrap_or_default()),
            version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
            max_keys: Some(max as i32),
            is_truncated: Some(page.truncated),
            next_key_marker: page.next_key_marker.map(enc),
            next_version_id_marker: page.next_version_id_marker,
            versions: (!object_versions.is_empty()).then_some(object_versions),
            delete_markers: (!markers.is_empty()).then_some(markers),
            common_prefixes: (!page.prefixes.is_empty())
                .then(|| page.prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(enc(p)) }).collect()),
            delimiter: input.delimiter.map(enc),
            encoding_type: input.encoding_type,
            request_charged: None,
        });
        // For the response writer, which interleaves versions and markers as S3 does.
        resp.extensions.insert(order);
        Ok(resp)
    }

    async fn put_bucket_lifecycle_configuration(
        &self,
        req: S3Request<PutBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
        let input = req.input;
        self.state.require_bucket(&input.bucket)?;
        let rules = lifecycle::rules_from(input.lifecycle_configuration)?;
        let min_size = lifecycle::min_size_from(input.transition_default_minimum_object_size.as_ref())?;
        let reported = min_size.clone();
        self.state
            .update_config(&input.bucket, move |c| {
                c.lifecycle = Some(rules);
                c.lifecycle_min_size = min_size;
                Ok(())
            })
            .await?;
        Ok(S3Response::new(PutBucketLifecycleConfigurationOutput { transition_default_minimum_object_size: Some(lifecycle::min_size_dto(reported.as_deref())) }))
    }

    async fn get_bucket_lifecycle_configuration(
        &self,
        req: S3Request<GetBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
        let (rules, min_size) = self.state.with_config(&req.input.bucket, |c| (c.lifecycle.clone(), c.lifecycle_min_size.clone()))?;
        let rules = rules.ok_or_else(|| s3_error!(NoSuchLifecycleConfiguration, "The lifecycle configuration does not exist"))?;
        Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
            rules: Some(lifecycle::rule_dtos(&rules)),
            transition_default_minimum_object_size: Some(lifecycle::min_size_dto(min_size.as_deref())),
        }))
    }

    async fn delete_bucket_lifecycle(&self, req: S3Request<DeleteBucketLifecycleInput>) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
        self.state
            .update_config(&req.input.bucket, |c| {
                c.lifecycle = None;
                c.lifecycle_min_size = None;
                Ok(())
            })
            .await?;
        let mut resp = S3Response::new(DeleteBucketLifecycleOutput {});
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    async fn put_object_tagging(&self, req: S3Request<PutObjectTaggingInput>) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let ctx = EventCtx::of(&req);
        let input = req.input;
        let tags = ops_config::tags_from(input.tagging.tag_set, true)?;
        let found = self.state.update_object_headers(&input.bucket, &input.key, input.version_id.as_deref(), move |h| h.tags = tags.clone()).await?;
        self.state.emit_subresource_change(&ctx, "ObjectTagging:Put", &input.bucket, &input.key, &found);
        Ok(S3Response::new(PutObjectTaggingOutput { version_id: found.version_header() }))
    }

    async fn get_object_tagging(&self, req: S3Request<GetObjectTaggingInput>) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let input = &req.input;
        let found = self.state.lookup(&input.bucket, &input.key, input.version_id.as_deref())?;
        Ok(S3Response::new(GetObjectTaggingOutput { tag_set: ops_config::tag_dtos(&found.meta.headers.tags), version_id: found.version_header() }))
    }

    async fn delete_object_tagging(&self, req: S3Request<DeleteObjectTaggingInput>) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let ctx = EventCtx::of(&req);
        let input = req.input;
        let found = self.state.update_object_headers(&input.bucket, &input.key, input.version_id.as_deref(), |h| h.tags.clear()).await?;
        self.state.emit_subresource_change(&ctx, "ObjectTagging:Delete", &input.bucket, &input.key, &found);
        let mut resp = S3Response::new(DeleteObjectTaggingOutput { version_id: found.version_header() });
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        let account = account_of(&req);
        let endpoint_region = req.region.as_ref().map(|r| r.as_str().to_string());
        let input = req.input;
        if reserved_bucket_name(&input.bucket) {
            return Err(s3_error!(InvalidBucketName, "The specified bucket is not valid."));
        }
        let constraint = input
            .create_bucket_configuration
            .as_ref()
            .and_then(|c| c.location_constraint.as_ref())
            .map(|l| l.as_str().to_string())
            .filter(|r| !r.is_empty());
        let region = bucket_region_for(constraint.as_deref(), endpoint_region.as_deref())?;
        let mut config = ops_access::new_bucket_config(
            input.object_ownership.as_ref(),
            input.acl.as_ref(),
            &GrantHeaders {
                full_control: input.grant_full_control.as_deref(),
                read: input.grant_read.as_deref(),
                read_acp: input.grant_read_acp.as_deref(),
                write: input.grant_write.as_deref(),
                write_acp: input.grant_write_acp.as_deref(),
            },
        )?;
        crate::object_lock::on_create_bucket(&mut config, input.object_lock_enabled_for_bucket);
        let row = BucketRow { name: input.bucket.clone(), account: account.clone(), region: region.clone(), created: now_ms() };
        let recreated = {
            let buckets = self.state.buckets.read();
            match buckets.get(&input.bucket) {
                // "For legacy compatibility, if you re-create an existing bucket that you
                // already own in the North Virginia Region, Amazon S3 returns 200 OK and
                // resets the bucket access control lists (ACLs)."
                Some(b) if b.account == account && b.region == "us-east-1" && region == "us-east-1" => true,
                Some(b) if b.account == account => {
                    return Err(s3_error!(BucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it."))
                }
                Some(_) => return Err(s3_error!(BucketAlreadyExists, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")),
                None => false,
            }
        };
        if recreated {
            self.state
                .update_config(&row.name, |c| {
                    c.acl = None;
                    Ok(())
                })
                .await?;
            return Ok(S3Response::new(CreateBucketOutput { location: Some(format!("/{}", row.name)) }));
        }
        {
            let mut buckets = self.state.buckets.write();
            if buckets.contains_key(&input.bucket) {
                return Err(s3_error!(OperationAborted, "A conflicting conditional operation is currently in progress against this resource. Please try again."));
            }
            buckets.insert(
                row.name.clone(),
                BucketState {
                    account,
                    region,
                    created: row.created,
                    objects: BTreeMap::new(),
                    uploads: BTreeMap::new(),
                    config: config.clone(),
                },
            );
        }
        let r = row.clone();
        if let Err(e) = self
            .state
            .commit(move |tx| {
                persist::put_bucket(tx, &r)?;
                persist::put_bucket_config(tx, &r.name, &config)
            })
            .await
        {
            self.state.buckets.write().remove(&row.name);
            return Err(e);
        }
        Ok(S3Response::new(CreateBucketOutput { location: Some(format!("/{}", row.name)) }))
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        let buckets = self.state.buckets.read();
        let b = buckets.get(&req.input.bucket).ok_or_else(|| no_such_bucket(&req.input.bucket))?;
        Ok(S3Response::new(HeadBucketOutput { bucket_region: Some(b.region.clone()), access_point_alias: Some(false), ..Default::default() }))
    }

    async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        let account = account_of(&req);
        let input = &req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let page = bucket_page_size(input)?;
        let after = input.continuation_token.as_deref().filter(|t| !t.is_empty()).map(bucket_token_name).transpose()?;
        let buckets = self.state.buckets.read();
        let mut matching = buckets
            .iter()
            .filter(|(name, _)| after.as_ref().is_none_or(|a| name.as_str() > a.as_str()))
            .filter(|(name, b)| b.account == account && name.starts_with(&prefix))
            .filter(|(_, b)| input.bucket_region.as_ref().is_none_or(|r| *r == b.region));
        let list: Vec<Bucket> = matching
            .by_ref()
            .take(page)
            .map(|(name, b)| Bucket { name: Some(name.clone()), creation_date: Some(ts(b.created)), bucket_region: Some(b.region.clone()) })
            .collect();
        // A token only when more buckets follow this page.
        let more = matching.next().is_some();
        let continuation_token = if more { list.last().and_then(|b| b.name.as_deref()).map(bucket_token) } else { None };
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(list),
            owner: Some(owner()),
            prefix: req.input.prefix,
            continuation_token,
        }))
    }

    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        let name = req.input.bucket;
        let _config = self.state.config_lock.lock().await;
        let parts: Vec<PathBuf> = {
            let buckets = self.state.buckets.read();
            let b = buckets.get(&name).ok_or_else(|| no_such_bucket(&name))?;
            if !b.objects.is_empty() {
                return Err(s3_error!(BucketNotEmpty, "The bucket you tried to delete is not empty"));
            }
            b.uploads.iter().flat_map(|(id, u)| u.parts.keys().map(|n| self.state.part_path(id, *n))).collect()
        };
        let n = name.clone();
        self.state.commit(move |tx| persist::delete_bucket(tx, &n)).await?;
        self.state.buckets.write().remove(&name);
        for p in parts {
            let _ = tokio::fs::remove_file(p).await;
        }
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    async fn get_bucket_location(&self, req: S3Request<GetBucketLocationInput>) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let buckets = self.state.buckets.read();
        let b = buckets.get(&req.input.bucket).ok_or_else(|| no_such_bucket(&req.input.bucket))?;
        let location_constraint = (b.region != "us-east-1").then(|| BucketLocationConstraint::from(b.region.clone()));
        Ok(S3Response::new(GetBucketLocationOutput { location_constraint }))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let ctx = EventCtx::of(&req);
        let event = if req.method == http::Method::POST { "ObjectCreated:Post" } else { "ObjectCreated:Put" };
        let trailer = checksums::Trailer::of(&req.headers, req.trailing_headers.clone());
        let signed = sha256_mismatch::Signed::of(&req.headers, &req.extensions);
        check_upload_size(&req.headers)?;
        // A form upload's file streams beside the fields s3s read (post_form.rs).
        let form_file = if req.method == http::Method::POST { post_form::take_file(&req.extensions) } else { None };
        let mut input = req.input;
        validate_key(&input.key)?;
        check_metadata_size(input.metadata.as_ref())?;
        let tags = ops_config::tags_header(input.tagging.as_deref())?;
        let class = storage_class::requested(input.storage_class.as_ref())?;
        let sse = encryption::requested(input.server_side_encryption.as_ref(), input.ssekms_key_id.as_ref(), input.bucket_key_enabled)?;
        self.state.require_bucket(&input.bucket)?;
        let offered = sse_c::Offered::new(input.sse_customer_algorithm.as_ref(), input.sse_customer_key.as_ref(), input.sse_customer_key_md5.as_ref());
        let customer = self.state.sse_c_for_write(&input.bucket, &input.key, "s3:PutObject", req.credentials.as_ref(), &offered, input.server_side_encryption.as_ref())?;
        // The bucket's default encryption when the request names none, kept with the object.
        let sse = self.state.encryption_for_write(&input.bucket, &sse)?;
        let acl = ops_access::object_acl_requested(
            &self.state,
            &input.bucket,
            input.acl.as_ref(),
            &GrantHeaders {
                full_control: input.grant_full_control.as_deref(),
                read: input.grant_read.as_deref(),
                read_acp: input.grant_read_acp.as_deref(),
                write: None,
                write_acp: input.grant_write_acp.as_deref(),
            },
        )?;
        let redirect = website_redirect(input.website_redirect_location.clone())?;
        let lock = self.state.requested_lock(
            &input.bucket,
            input.object_lock_mode.as_ref().map(|m| m.as_str()),
            input.object_lock_retain_until_date.as_ref(),
            input.object_lock_legal_hold_status.as_ref().map(|l| l.as_str()),
            Some(&req.headers),
        )?;
        let (body, size_check) = match form_file {
            // s3s's stand-in file and its length are not the upload.
            Some((file, check)) => {
                input.content_length = None;
                (Some(file), Some(check))
            }
            None => (input.body.take(), None),
        };
        let check_conditions =
            |state: &State| check_write_conditions(state, &input.bucket, &input.key, input.if_match.as_ref(), input.if_none_match.as_ref());
        check_conditions(&self.state)?;
        // Kept for x-amz-checksum-mode once checked: a header checksum or the trailer's.
        let declared = checksums::from_fields([
            input.checksum_crc32.as_ref(),
            input.checksum_crc32c.as_ref(),
            input.checksum_crc64nvme.as_ref(),
            input.checksum_sha1.as_ref(),
            input.checksum_sha256.as_ref(),
        ]);
        // Without a checksum from the client S3 computes and keeps its default one, and
        // reports it like a client's (PutObject API reference, ChecksumCRC64NVME).
        let received = self.receive_body(body, trailer.as_ref(), SMALL_BODY_MAX, declared, Some(checksums::DEFAULT), signed.as_ref()).await;
        let (received, checksum) = received.map_err(|e| size_check.and_then(|c| c.refusal()).unwrap_or(e))?;
        let (size, md5) = (received.size(), *received.md5());
        let conditional = input.if_match.is_some() || input.if_none_match.is_some();
        let _guard = self.state.key_guards.lock_if(conditional, &input.bucket, &input.key).await;
        let checked = check_content_md5(input.content_md5.as_deref(), &md5)
            .and_then(|()| match input.content_length {
                Some(len) if len >= 0 && len as u64 != size => {
                    Err(s3_error!(IncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header."))
                }
                _ => Ok(()),
            })
            .and_then(|()| check_conditions(&self.state));
        if let Err(e) = checked {
            received.discard().await;
            return Err(e);
        }
        let file = self.state.store_body(received).await?;
        let etag_hex = hex::encode(md5);
        let mut headers = headers_from(
            input.content_type,
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.expires.as_ref(),
            input.metadata,
        );
        headers.tags = tags;
        headers.acl = acl;
        headers.website_redirect_location = redirect;
        headers.storage_class = storage_class::stored(class);
        headers.checksum = checksum.clone();
        sse.store(&mut headers);
        sse_c::store(customer, &mut headers);
        let (sse_customer_algorithm, sse_customer_key_md5) = sse_c::echo(&headers);
        let enc = encryption::reported(&headers);
        lock.apply(&mut headers, now_ms());
        let version = match self.state.next_version(&input.bucket) {
            Ok(v) => v,
            Err(e) => {
                self.state.release_body(&file, size).await;
                return Err(e);
            }
        };
        let row = ObjectRow {
            bucket: input.bucket,
            key: input.key,
            version_id: version.id.clone(),
            seq: version.seq,
            delete_marker: false,
            size,
            etag: etag_hex.clone(),
            modified: now_ms(),
            file: file.clone(),
            headers,
        };
        let (bucket, key) = (row.bucket.clone(), row.key.clone());
        if let Err(e) = self.state.install_object(row).await {
            self.state.release_body(&file, size).await;
            return Err(e);
        }
        self.state.emit(&ctx, event, &bucket, &key, Some(&ObjMeta::event(size, &etag_hex)), version.event_id());
        let [crc32, crc32c, crc64nvme, sha1, sha256] = checksums::fields(checksum.as_ref());
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag(&etag_hex)),
            version_id: version.header(),
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_crc64nvme: crc64nvme,
            checksum_sha1: sha1,
            checksum_sha256: sha256,
            checksum_type: checksum.as_ref().map(checksum_type),
            server_side_encryption: enc.algorithm,
            ssekms_key_id: enc.kms_key_id,
            bucket_key_enabled: enc.bucket_key,
            sse_customer_algorithm,
            sse_customer_key_md5,
            size: Some(size as i64),
            ..Default::default()
        }))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let anonymous = req.extensions.get::<ops_access::AuthorizedCaller>().is_some_and(|c| c.account.is_none());
        let range_sent = req.headers.get(http::header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let input = req.input;
        // "You must sign the request ... when using these parameters. They cannot be
        // used with an unsigned (anonymous) request." (GetObject API reference)
        let overrides = [
            input.response_cache_control.is_some(),
            input.response_content_disposition.is_some(),
            input.response_content_encoding.is_some(),
            input.response_content_language.is_some(),
            input.response_content_type.is_some(),
            input.response_expires.is_some(),
        ];
        if anonymous && overrides.contains(&true) {
            return Err(s3_error!(InvalidRequest, "Request specific response headers cannot be used for anonymous GET requests."));
        }
        let (found, body, (len, content_range, read)) = self.open_body(&input.bucket, &input.key, input.version_id.as_deref(), |found| {
            let meta = &found.meta;
            let offered = sse_c::Offered::new(input.sse_customer_algorithm.as_ref(), input.sse_customer_key.as_ref(), input.sse_customer_key_md5.as_ref());
            sse_c::check_read(&meta.headers, &offered)?;
            storage_class::check_get(&meta.headers)?;
            check_read_conditions(
                meta,
                input.if_match.as_ref(),
                input.if_none_match.as_ref(),
                input.if_modified_since.as_ref(),
                input.if_unmodified_since.as_ref(),
            )?;
            check_range_or_part(input.range.as_ref(), input.part_number)?;
            let (start, len, content_range) = match (&input.range, input.part_number) {
                (_, Some(n)) => {
                    let (start, len) = part_span(&meta.headers, meta.size, n)?;
                    (start, len, content_range(start, len, meta.size))
                }
                (None, None) => (0, meta.size, None),
                (Some(r), None) => {
                    let range = r.check(meta.size).map_err(|_| storage_class::invalid_range(range_sent.as_deref(), meta.size))?;
                    let (start, end) = (range.start, range.end);
                    (start, end - start, Some(format!("bytes {}-{}/{}", start, end.saturating_sub(1), meta.size)))
                }
            };
            let read = Read::of(input.range.is_some(), input.part_number, start, len, meta.size);
            Ok((start, len, (len, content_range, read)))
        })?;
        let meta = &found.meta;
        let h = &meta.headers;
        let (class, restore) = storage_class::read_headers(h);
        let (lock_mode, lock_until, legal_hold) = crate::object_lock::response_headers(h);
        let ([crc32, crc32c, crc64nvme, sha1, sha256], checksum_type) = reported_checksum(h, input.checksum_mode.as_ref(), read);
        let enc = encryption::reported(h);
        let (sse_customer_algorithm, sse_customer_key_md5) = sse_c::echo(h);
        let output = GetObjectOutput {
            sse_customer_algorithm,
            sse_customer_key_md5,
            server_side_encryption: enc.algorithm,
            ssekms_key_id: enc.kms_key_id,
            bucket_key_enabled: enc.bucket_key,
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_crc64nvme: crc64nvme,
            checksum_sha1: sha1,
            checksum_sha256: sha256,
            checksum_type,
            storage_class: class,
            restore,
            body: Some(body),
            accept_ranges: Some("bytes".into()),
            content_length: Some(len as i64),
            content_range: content_range.clone(),
            content_type: input.response_content_type.or_else(|| h.content_type.clone()).or_else(|| Some("binary/octet-stream".into())),
            content_encoding: input.response_content_encoding.or_else(|| h.content_encoding.clone()),
            content_disposition: input.response_content_disposition.or_else(|| h.content_disposition.clone()),
            content_language: input.response_content_language.or_else(|| h.content_language.clone()),
            cache_control: input.response_cache_control.or_else(|| h.cache_control.clone()),
            expires: input.response_expires.or_else(|| h.expires.map(|s| ts((s.max(0) as u64) * 1000))),
            e_tag: Some(etag(&meta.etag)),
            last_modified: Some(ts(meta.modified)),
            metadata: metadata_of(h),
            // "only returned if you specify partNumber in your request and the object was
            // uploaded as a multipart upload" (GetObject/HeadObject API reference).
            parts_count: input.part_number.and(h.parts_count),
            tag_count: (!h.tags.is_empty()).then_some(h.tags.len() as i32),
            version_id: found.version_header(),
            website_redirect_location: h.website_redirect_location.clone(),
            object_lock_mode: lock_mode,
            object_lock_retain_until_date: lock_until,
            object_lock_legal_hold_status: legal_hold,
            ..Default::default()
        };
        let mut resp = S3Response::new(output);
        if content_range.is_some() {
            resp.status = Some(http::StatusCode::PARTIAL_CONTENT);
        }
        Ok(resp)
    }

    async fn get_object_attributes(&self, req: S3Request<GetObjectAttributesInput>) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let input = req.input;
        let wanted = ObjectAttributesWanted::of(&input.object_attributes)?;
        let found = self.state.lookup(&input.bucket, &input.key, input.version_id.as_deref())?;
        let meta = &found.meta;
        let h = &meta.headers;
        let object_parts = match h.parts_count.filter(|_| wanted.parts) {
            Some(total) => Some(attribute_parts(h, total, input.max_parts, input.part_number_marker)?),
            None => None,
        };
        let mut resp = S3Response::new(GetObjectAttributesOutput {
            checksum: h.checksum.as_ref().filter(|_| wanted.checksum).map(attribute_checksum),
            e_tag: wanted.etag.then(|| etag(&meta.etag)),
            object_parts,
            object_size: wanted.size.then_some(meta.size as i64),
            // Unlike HeadObject's header, the attribute names STANDARD too.
            storage_class: wanted.storage_class.then(|| StorageClass::from(h.storage_class.clone().unwrap_or_else(|| StorageClass::STANDARD.to_string()))),
            last_modified: Some(ts(meta.modified)),
            version_id: found.version_header(),
            ..Default::default()
        });
        // s3s quotes every ETag element; this one S3 sends bare.
        resp.extensions.insert(crate::attributes_etag::Unquoted);
        Ok(resp)
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let found = self.state.lookup(&input.bucket, &input.key, input.version_id.as_deref())?;
        let meta = &found.meta;
        let offered = sse_c::Offered::new(input.sse_customer_algorithm.as_ref(), input.sse_customer_key.as_ref(), input.sse_customer_key_md5.as_ref());
        sse_c::check_read(&meta.headers, &offered)?;
        check_read_conditions(
            meta,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        check_range_or_part(input.range.as_ref(), input.part_number)?;
        let (start, len, content_range) = match (&input.range, input.part_number) {
            (_, Some(n)) => {
                let (start, len) = part_span(&meta.headers, meta.size, n)?;
                (start, len, content_range(start, len, meta.size))
            }
            (None, None) => (0, meta.size, None),
            (Some(r), None) => {
                let range = r.check(meta.size).map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable"))?;
                (range.start, range.end - range.start, Some(format!("bytes {}-{}/{}", range.start, range.end.saturating_sub(1), meta.size)))
            }
        };
        let read = Read::of(input.range.is_some(), input.part_number, start, len, meta.size);
        let h = &meta.headers;
        let (class, restore) = storage_class::read_headers(h);
        let (lock_mode, lock_until, legal_hold) = crate::object_lock::response_headers(h);
        let ([crc32, crc32c, crc64nvme, sha1, sha256], checksum_type) = reported_checksum(h, input.checksum_mode.as_ref(), read);
        let enc = encryption::reported(h);
        let (sse_customer_algorithm, sse_customer_key_md5) = sse_c::echo(h);
        let output = HeadObjectOutput {
            sse_customer_algorithm,
            sse_customer_key_md5,
            server_side_encryption: enc.algorithm,
            ssekms_key_id: enc.kms_key_id,
            bucket_key_enabled: enc.bucket_key,
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_crc64nvme: crc64nvme,
            checksum_sha1: sha1,
            checksum_sha256: sha256,
            checksum_type,
            storage_class: class,
            restore,
            accept_ranges: Some("bytes".into()),
            content_length: Some(len as i64),
            content_range: content_range.clone(),
            content_type: input.response_content_type.or_else(|| h.content_type.clone()).or_else(|| Some("binary/octet-stream".into())),
            content_encoding: input.response_content_encoding.or_else(|| h.content_encoding.clone()),
            content_disposition: input.response_content_disposition.or_else(|| h.content_disposition.clone()),
            content_language: input.response_content_language.or_else(|| h.content_language.clone()),
            cache_control: input.response_cache_control.or_else(|| h.cache_control.clone()),
            expires: input.response_expires.or_else(|| h.expires.map(|s| ts((s.max(0) as u64) * 1000))),
            e_tag: Some(etag(&meta.etag)),
            last_modified: Some(ts(meta.modified)),
            metadata: metadata_of(h),
            // "only returned if you specify partNumber in your request and the object was
            // uploaded as a multipart upload" (GetObject/HeadObject API reference).
            parts_count: input.part_number.and(h.parts_count),
            version_id: found.version_header(),
            website_redirect_location: h.website_redirect_location.clone(),
            object_lock_mode: lock_mode,
            object_lock_retain_until_date: lock_until,
            object_lock_legal_hold_status: legal_hold,
            ..Default::default()
        };
        let mut resp = S3Response::new(output);
        if content_range.is_some() {
            resp.status = Some(http::StatusCode::PARTIAL_CONTENT);
            resp.extensions.insert(SuccessStatus(http::StatusCode::PARTIAL_CONTENT));
        }
        Ok(resp)
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        let ctx = EventCtx::of(&req);
        let input = req.input;
        let bypass = input.bypass_governance_retention.unwrap_or(false);
        // Conditional deletes: If-Match is evaluated against the current version.
        let _guard = self.state.key_guards.lock_if(input.if_match.is_some(), &input.bucket, &input.key).await;
        check_write_conditions(&self.state, &input.bucket, &input.key, input.if_match.as_ref(), None)?;
        self.state.check_version_delete(&input.bucket, &input.key, input.version_id.as_deref(), bypass, input.mfa.as_deref())?;
        let done = self.state.delete_version(&ctx, &input.bucket, &input.key, input.version_id.as_deref(), DeleteCause::Request).await?;
        let mut resp = S3Response::new(DeleteObjectOutput {
            delete_marker: done.delete_marker.then_some(true),
            version_id: done.version_id,
            ..Default::default()
        });
        resp.status = Some(http::StatusCode::NO_CONTENT);
        Ok(resp)
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let ctx = EventCtx::of(&req);
        let caller = req.extensions.get::<ops_access::AuthorizedCaller>().cloned();
        let (method, request_headers) = (req.method, req.headers);
        let input = req.input;
        self.state.require_bucket(&input.bucket)?;
        if input.delete.objects.len() > 1000 {
            return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        let bypass = input.bypass_governance_retention.unwrap_or(false);
        for obj in input.delete.objects {
            // Each key is its own s3:DeleteObject (or s3:DeleteObjectVersion) for the policy.
            let query = obj.version_id.as_ref().map(|v| format!("versionId={}", url_encode(v)));
            let allowed = caller.as_ref().map_or(Ok(()), |c| {
                self.state.authorize(&ops_access::AccessRequest {
                    op: "DeleteObject",
                    bucket: Some(&input.bucket),
                    key: Some(&obj.key),
                    caller: c.caller(),
                    method: &method,
                    headers: &request_headers,
                    query: query.as_deref(),
                    source_ip: &c.source_ip,
                })
            });
            // A conditional delete names the ETag (or *) the current version must have.
            let condition = obj.e_tag.as_ref().map(|e| if e.value() == "*" { ETagCondition::Any } else { ETagCondition::ETag(e.clone()) });
            let guard = self.state.key_guards.lock_if(condition.is_some(), &input.bucket, &obj.key).await;
            let checked = allowed
                .and_then(|()| check_write_conditions(&self.state, &input.bucket, &obj.key, condition.as_ref(), None))
                .and_then(|()| self.state.check_version_delete(&input.bucket, &obj.key, obj.version_id.as_deref(), bypass, input.mfa.as_deref()));
            let result = match checked {
                Ok(()) => self.state.delete_version(&ctx, &input.bucket, &obj.key, obj.version_id.as_deref(), DeleteCause::Request).await,
                Err(e) => Err(e),
            };
            drop(guard);
            match result {
                Ok(done) => {
                    if !quiet {
                        deleted.push(DeletedObject {
                            key: Some(obj.key),
                            delete_marker: done.delete_marker.then_some(true),
                            // The marker's id: the one created, or the one removed by id.
                            delete_marker_version_id: done.delete_marker.then(|| done.version_id.clone()).flatten(),
                            version_id: obj.version_id,
                        });
                    }
                }
                Err(e) => errors.push(Error {
                    code: Some(e.code().as_str().to_string()),
                    key: Some(obj.key),
                    message: e.message().map(str::to_string),
                    version_id: obj.version_id,
                }),
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: (!deleted.is_empty()).then_some(deleted),
            errors: (!errors.is_empty()).then_some(errors),
            request_charged: None,
        }))
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        let ctx = EventCtx::of(&req);
        // Conditions on the destination (s3s decodes only the copy source's).
        let if_match = condition_header(&req.headers, http::header::IF_MATCH)?;
        let if_none_match = condition_header(&req.headers, http::header::IF_NONE_MATCH)?;
        let input = req.input;
        // Only COPY and REPLACE exist; s3s passes any other value through.
        if input.metadata_directive.as_ref().is_some_and(|d| ![MetadataDirective::COPY, MetadataDirective::REPLACE].contains(&d.as_str())) {
            return Err(s3_error!(InvalidArgument, "Unknown metadata directive."));
        }
        if input.tagging_directive.as_ref().is_some_and(|d| ![TaggingDirective::COPY, TaggingDirective::REPLACE].contains(&d.as_str())) {
            return Err(s3_error!(InvalidArgument, "Unknown tagging directive."));
        }
        let replace_tags = input.tagging_directive.as_ref().is_some_and(|d| d.as_str() == TaggingDirective::REPLACE);
        let new_tags = ops_config::tags_header(input.tagging.as_deref())?;
        // The copy is encrypted as its request says (else as the destination bucket's
        // default), not as the source.
        let sse = encryption::requested(input.server_side_encryption.as_ref(), input.ssekms_key_id.as_ref(), input.bucket_key_enabled)?;
        let class = storage_class::requested(input.storage_class.as_ref())?;
        validate_key(&input.key)?;
        // Only metadata that replaces the source's is the request's own.
        if input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == MetadataDirective::REPLACE) {
            check_metadata_size(input.metadata.as_ref())?;
        }
        let (src_bucket, src_key, src_version) = match &input.copy_source {
            CopySource::Bucket { bucket, key, version_id } => (bucket.to_string(), key.to_string(), version_id.as_deref().map(str::to_string)),
            _ => return Err(s3_error!(InvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")),
        };
        self.state.require_bucket(&input.bucket)?;
        let check_conditions = |state: &State| check_write_conditions(state, &input.bucket, &input.key, if_match.as_ref(), if_none_match.as_ref());
        check_conditions(&self.state)?;
        let offered = sse_c::Offered::new(input.sse_customer_algorithm.as_ref(), input.sse_customer_key.as_ref(), input.sse_customer_key_md5.as_ref());
        let customer = self.state.sse_c_for_write(&input.bucket, &input.key, "s3:CopyObject", req.credentials.as_ref(), &offered, input.server_side_encryption.as_ref())?;
        let sse = self.state.encryption_for_write(&input.bucket, &sse)?;
        // A copy gets the ACL its request names (private by default), never the source's.
        let acl = ops_access::object_acl_requested(
            &self.state,
            &input.bucket,
            input.acl.as_ref(),
            &GrantHeaders {
                full_control: input.grant_full_control.as_deref(),
                read: input.grant_read.as_deref(),
                read_acp: input.grant_read_acp.as_deref(),
                write: None,
                write_acp: input.grant_write_acp.as_deref(),
            },
        )?;
        let (found, body, ()) = self
            .open_body(&src_bucket, &src_key, src_version.as_deref(), |found| {
                sse_c::check_read(&found.meta.headers, &sse_c::Offered::new(input.copy_source_sse_customer_algorithm.as_ref(), input.copy_source_sse_customer_key.as_ref(), input.copy_source_sse_customer_key_md5.as_ref()))?;
                storage_class::check_copy_source(&found.meta.headers)?;
                check_copy_source_conditions(
                    &found.meta,
                    input.copy_source_if_match.as_ref(),
                    input.copy_source_if_none_match.as_ref(),
                    input.copy_source_if_modified_since.as_ref(),
                    input.copy_source_if_unmodified_since.as_ref(),
                )?;
                Ok((0, found.meta.size, ()))
            })
            .map_err(copy_source_error)?;
        let meta = found.meta.clone();
        let replace = input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        // The four things the message names: a website redirect location or encryption
        // named in the request counts as a change too (`aws s3 cp s3://b/k s3://b/k --sse`).
        let changes = replace
            || class.is_some()
            || input.website_redirect_location.is_some()
            || input.server_side_encryption.is_some()
            || input.ssekms_key_id.is_some()
            || customer.is_some()
            || meta.headers.sse_customer.is_some();
        if src_bucket == input.bucket && src_key == input.key && src_version.is_none() && !changes {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        let mut headers = if replace {
            headers_from(
                input.content_type,
                input.content_encoding,
                input.content_disposition,
                input.content_language,
                input.cache_control,
                input.expires.as_ref(),
                input.metadata,
            )
        } else {
            meta.headers.clone()
        };
        headers.tags = if replace_tags { new_tags } else { meta.headers.tags.clone() };
        headers.acl = acl;
        // Not copied from the source: only what this request names (S3 API reference).
        headers.website_redirect_location = website_redirect(input.website_redirect_location)?;
        let plan = CopyChecksum::plan(input.checksum_algorithm.as_ref(), meta.headers.checksum.as_ref())?;
        headers.part_checksums.clear();
        // The copy is in the class the request names (STANDARD by default), not restored.
        headers.storage_class = storage_class::stored(class);
        headers.restore = None;
        sse.store(&mut headers);
        sse_c::store(customer, &mut headers);
        let (sse_customer_algorithm, sse_customer_key_md5) = sse_c::echo(&headers);
        let enc = encryption::reported(&headers);
        let lock = self.state.requested_lock(
            &input.bucket,
            input.object_lock_mode.as_ref().map(|m| m.as_str()),
            input.object_lock_retain_until_date.as_ref(),
            input.object_lock_legal_hold_status.as_ref().map(|l| l.as_str()),
            None,
        )?;
        lock.apply(&mut headers, now_ms());
        let computing = plan.hasher().map(parking_lot::Mutex::new);
        let body = futures_util::StreamExt::inspect(body, |chunk| {
            if let (Ok(b), Some(h)) = (chunk, &computing) {
                h.lock().update(b);
            }
        });
        let received = blob::receive(&self.state.root, body, self.state.sync, SMALL_BODY_MAX).await.map_err(internal)?;
        headers.checksum = plan.finish(computing.map(parking_lot::Mutex::into_inner));
        let checksum = headers.checksum.clone();
        let size = received.size();
        // A copy is a new single-part object: its ETag is the MD5 of its bytes even when
        // the source was a multipart upload ("Objects created by the PUT Object, POST
        // Object, or Copy operation ... have ETags that are an MD5 digest of their object
        // data", Object in the S3 API reference), and it has no parts.
        let copy_etag = hex::encode(received.md5());
        headers.parts_count = None;
        headers.part_sizes.clear();
        // Checked again now the copy is read, as a PUT does after its body.
        let _guard = self.state.key_guards.lock_if(if_match.is_some() || if_none_match.is_some(), &input.bucket, &input.key).await;
        if let Err(e) = check_conditions(&self.state) {
            received.discard().await;
            return Err(e);
        }
        let new_file = self.state.store_body(received).await?;
        let now = now_ms();
        let version = match self.state.next_version(&input.bucket) {
            Ok(v) => v,
            Err(e) => {
                self.state.release_body(&new_file, size).await;
                return Err(e);
            }
        };
        let row = ObjectRow {
            bucket: input.bucket,
            key: input.key,
            version_id: version.id.clone(),
            seq: version.seq,
            delete_marker: false,
            size,
            etag: copy_etag.clone(),
            modified: now,
            file: new_file.clone(),
            headers,
        };
        let (bucket, key) = (row.bucket.clone(), row.key.clone());
        if let Err(e) = self.state.install_object(row).await {
            self.state.release_body(&new_file, size).await;
            return Err(e);
        }
        self.state.emit(&ctx, "ObjectCreated:Copy", &bucket, &key, Some(&ObjMeta::event(size, &copy_etag)), version.event_id());
        let [crc32, crc32c, crc64nvme, sha1, sha256] = checksums::fields(checksum.as_ref());
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag(&copy_etag)),
                last_modified: Some(ts(now)),
                checksum_crc32: crc32,
                checksum_crc32c: crc32c,
                checksum_crc64nvme: crc64nvme,
                checksum_sha1: sha1,
                checksum_sha256: sha256,
                checksum_type: checksum.as_ref().map(checksum_type),
            }),
            copy_source_version_id: found.version_header(),
            version_id: version.header(),
            sse_customer_algorithm,
            sse_customer_key_md5,
            server_side_encryption: enc.algorithm,
            ssekms_key_id: enc.kms_key_id,
            bucket_key_enabled: enc.bucket_key,
            ..Default::default()
        }))
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let max = max_keys(input.max_keys)?;
        let encode = url_encoding(input.encoding_type.as_ref())?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let page = {
            let buckets = self.state.buckets.read();
            let b = buckets.get(&input.bucket).ok_or_else(|| no_such_bucket(&input.bucket))?;
            list_page(&b.objects, &prefix, input.delimiter.as_deref(), input.marker.as_deref().filter(|m| !m.is_empty()), max)
        };
        let enc = |s: String| if encode { url_encode(&s) } else { s };
        // ListObjects: NextMarker "is returned only if you have the delimiter request
        // parameter specified"; without one, clients go on from the last Key.
        let delimited = input.delimiter.as_deref().is_some_and(|d| !d.is_empty());
        let next_marker = if page.truncated && delimited { page.last.clone().map(enc) } else { None };
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            prefix: Some(enc(prefix)),
            marker: Some(input.marker.map(enc).unwrap_or_default()),
            max_keys: Some(max as i32),
            is_truncated: Some(page.truncated),
            // ListObjects (v1) always names each object's owner; v2 only with fetch-owner.
            contents: Some(
                page.contents
                    .into_iter()
                    .map(|(k, m)| Object { owner: Some(owner()), ..object_dto(k, &m, encode) })
                    .collect(),
            ),
            common_prefixes: (!page.prefixes.is_empty())
                .then(|| page.prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(enc(p)) }).collect()),
            delimiter: input.delimiter.map(enc),
            next_marker,
            encoding_type: input.encoding_type,
            request_charged: None,
        }))
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let max = max_keys(input.max_keys)?;
        let encode = url_encoding(input.encoding_type.as_ref())?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let after = match &input.continuation_token {
            Some(t) => Some(token_key(t)?),
            None => input.start_after.clone().filter(|s| !s.is_empty()),
        };
        let page = {
            let buckets = self.state.buckets.read();
            let b = buckets.get(&input.bucket).ok_or_else(|| no_such_bucket(&input.bucket))?;
            list_page(&b.objects, &prefix, input.delimiter.as_deref(), after.as_deref(), max)
        };
        let enc = |s: String| if encode { url_encode(&s) } else { s };
        let key_count = (page.contents.len() + page.prefixes.len()) as i32;
        let next = if page.truncated { page.last.as_deref().map(continuation_token) } else { None };
        let fetch_owner = input.fetch_owner.unwrap_or(false);
        let restore_status = storage_class::wants_restore_status(input.optional_object_attributes.as_ref());
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(enc(prefix)),
            max_keys: Some(max as i32),
            key_count: Some(key_count),
            continuation_token: input.continuation_token,
            is_truncated: Some(page.truncated),
            next_continuation_token: next,
            contents: Some(
                page.contents
                    .into_iter()
                    .map(|(k, m)| {
                        let mut o = object_dto(k, &m, encode);
                        if fetch_owner {
                            o.owner = Some(owner());
                        }
                        if restore_status {
                            o.restore_status = storage_class::restore_status(&m.headers);
                        }
                        o
                    })
                    .collect(),
            ),
            common_prefixes: (!page.prefixes.is_empty())
                .then(|| page.prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(enc(p)) }).collect()),
            delimiter: input.delimiter.map(enc),
            encoding_type: input.encoding_type,
            start_after: input.start_after.map(enc),
            request_charged: None,
        }))
    }

    async fn create_multipart_upload(&self, req: S3Request<CreateMultipartUploadInput>) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        validate_key(&input.key)?;
        check_metadata_size(input.metadata.as_ref())?;
        let tags = ops_config::tags_header(input.tagging.as_deref())?;
        let class = storage_class::requested(input.storage_class.as_ref())?;
        let sse = encryption::requested(input.server_side_encryption.as_ref(), input.ssekms_key_id.as_ref(), input.bucket_key_enabled)?;
        self.state.require_bucket(&input.bucket)?;
        let offered = sse_c::Offered::new(input.sse_customer_algorithm.as_ref(), input.sse_customer_key.as_ref(), input.sse_customer_key_md5.as_ref());
        let customer = self.state.sse_c_for_write(&input.bucket, &input.key, "s3:PutObject", req.credentials.as_ref(), &offered, input.server_side_encryption.as_ref())?;
        // Decided when the upload starts: the object is completed with it.
        let sse = self.state.encryption_for_write(&input.bucket, &sse)?;
        let acl = ops_access::object_acl_requested(
            &self.state,
            &input.bucket,
            input.acl.as_ref(),
            &GrantHeaders {
                full_control: input.grant_full_control.as_deref(),
                read: input.grant_read.as_deref(),
                read_acp: input.grant_read_acp.as_deref(),
                write: None,
                write_acp: input.grant_write_acp.as_deref(),
            },
        )?;
        let mut headers = headers_from(
            input.content_type,
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.expires.as_ref(),
            input.metadata,
        );
        headers.tags = tags;
        headers.acl = acl;
        headers.website_redirect_location = website_redirect(input.website_redirect_location)?;
        headers.storage_class = storage_class::stored(class);
        let algorithm = match &input.checksum_algorithm {
            Some(a) => Some(checksums::algorithm(a.as_str()).ok_or_else(unsupported_checksum_algorithm)?),
            None => None,
        };
        // CRC64NVME combines only as a full-object checksum; the CRCs can be either
        // ("Checking object integrity", checksum types); the SHAs only composite.
        let full_object = match (algorithm, input.checksum_type.as_ref().map(|t| t.as_str())) {
            (Some("CRC64NVME"), Some(ChecksumType::COMPOSITE)) | (Some("SHA1" | "SHA256"), Some(ChecksumType::FULL_OBJECT)) => {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    format!(
                        "The {} checksum type cannot be used with the {} checksum algorithm.",
                        input.checksum_type.as_ref().map_or("", |t| t.as_str()),
                        algorithm.unwrap_or_default().to_ascii_lowercase()
                    ),
                ));
            }
            (Some("CRC64NVME"), _) => true,
            (Some(_), Some(ChecksumType::FULL_OBJECT)) => true,
            _ => false,
        };
        headers.checksum_algorithm = algorithm.map(str::to_string);
        headers.checksum_full_object = full_object;
        sse.store(&mut headers);
        sse_c::store(customer, &mut headers);
        let (sse_customer_algorithm, sse_customer_key_md5) = sse_c::echo(&headers);
        let enc = encryption::reported(&headers);
        self.state
            .requested_lock(
                &input.bucket,
                input.object_lock_mode.as_ref().map(|m| m.as_str()),
                input.object_lock_retain_until_date.as_ref(),
                input.object_lock_legal_hold_status.as_ref().map(|l| l.as_str()),
                None,
            )?
            .apply(&mut headers, now_ms());
        let row = UploadRow { id: blob::new_id(), bucket: input.bucket.clone(), key: input.key.clone(), initiated: now_ms(), headers };
        self.state.require_bucket(&row.bucket)?;
        let r = row.clone();
        self.state.commit(move |tx| persist::put_upload(tx, &r)).await?;
        {
            let mut buckets = self.state.buckets.write();
            let b = buckets.get_mut(&row.bucket).ok_or_else(|| no_such_bucket(&row.bucket))?;
            b.uploads.insert(
                row.id.clone(),
                Upload { key: row.key.clone(), initiated: row.initiated, headers: row.headers.clone(), parts: BTreeMap::new() },
            );
        }
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(row.id),
            sse_customer_algorithm,
            sse_customer_key_md5,
            server_side_encryption: enc.algorithm,
            ssekms_key_id: enc.kms_key_id,
            bucket_key_enabled: enc.bucket_key,
            checksum_algorithm: input.checksum_algorithm,
            checksum_type: algorithm
                .map(|_| ChecksumType::from_static(if full_object { ChecksumType::FULL_OBJECT } else { ChecksumType::COMPOSITE })),
            ..Default::default()
        }))
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let trailer = checksums::Trailer::of(&req.headers, req.trailing_headers.clone());
        let signed = sha256_mismatch::Signed::of(&req.headers, &req.extensions);
        check_upload_size(&req.headers)?;
        let input = req.input;
        check_part_number(input.part_number)?;
        self.upload_key(&input.bucket, &input.upload_id, &input.key)?;
        self.state.check_part_integrity(&input.bucket, &input.upload_id, &req.headers)?;
        let upload = self.upload_headers(&input.bucket, &input.upload_id);
        let offered = sse_c::Offered::new(input.sse_customer_algorithm.as_ref(), input.sse_customer_key.as_ref(), input.sse_customer_key_md5.as_ref());
        self.state.sse_c_for_part(&input.bucket, &input.key, req.credentials.as_ref(), &upload, &offered)?;
        let algorithm = upload.checksum_algorithm.clone();
        let declared = checksums::from_fields([
            input.checksum_crc32.as_ref(),
            input.checksum_crc32c.as_ref(),
            input.checksum_crc64nvme.as_ref(),
            input.checksum_sha1.as_ref(),
            input.checksum_sha256.as_ref(),
        ]);
        // A part's checksum is of the upload's algorithm (S3: InvalidRequest "Checksum
        // Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32").
        let sent = declared.as_ref().map(|c| c.algorithm.as_str()).or_else(|| trailer.as_ref().map(checksums::Trailer::algorithm));
        if let (Some(expected), Some(sent)) = (algorithm.as_deref(), sent) {
            if expected != sent {
                return Err(s3_error!(
                    InvalidRequest,
                    "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                    expected.to_ascii_lowercase(),
                    sent.to_ascii_lowercase()
                ));
            }
        }
        let (written, checksum) = self.write_part_body(input.body, trailer.as_ref(), declared, algorithm.as_deref(), signed.as_ref()).await?;
        if let Err(e) = check_content_md5(input.content_md5.as_deref(), &written.md5) {
            let _ = tokio::fs::remove_file(&written.tmp).await;
            return Err(e);
        }
        let row = self.install_part(&input.bucket, &input.key, &input.upload_id, input.part_number, written, checksum).await?;
        let [crc32, crc32c, crc64nvme, sha1, sha256] = checksums::fields(row.checksum.as_ref());
        let enc = encryption::reported(&upload);
        let (sse_customer_algorithm, sse_customer_key_md5) = sse_c::echo(&upload);
        Ok(S3Response::new(UploadPartOutput {
            sse_customer_algorithm,
            sse_customer_key_md5,
            server_side_encryption: enc.algorithm,
            ssekms_key_id: enc.kms_key_id,
            bucket_key_enabled: enc.bucket_key,
            e_tag: Some(etag(&row.etag)),
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_crc64nvme: crc64nvme,
            checksum_sha1: sha1,
            checksum_sha256: sha256,
            ..Default::default()
        }))
    }

    async fn upload_part_copy(&self, req: S3Request<UploadPartCopyInput>) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        check_part_number(input.part_number)?;
        self.upload_key(&input.bucket, &input.upload_id, &input.key)?;
        let (src_bucket, src_key, src_version) = match &input.copy_source {
            CopySource::Bucket { bucket, key, version_id } => (bucket.to_string(), key.to_string(), version_id.as_deref().map(str::to_string)),
            _ => return Err(s3_error!(InvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")),
        };
        let upload = self.upload_headers(&input.bucket, &input.upload_id);
        let offered = sse_c::Offered::new(input.sse_customer_algorithm.as_ref(), input.sse_customer_key.as_ref(), input.sse_customer_key_md5.as_ref());
        self.state.sse_c_for_part(&input.bucket, &input.key, req.credentials.as_ref(), &upload, &offered)?;
        let (found, body, ()) = self
            .open_body(&src_bucket, &src_key, src_version.as_deref(), |found| {
                sse_c::check_read(&found.meta.headers, &sse_c::Offered::new(input.copy_source_sse_customer_algorithm.as_ref(), input.copy_source_sse_customer_key.as_ref(), input.copy_source_sse_customer_key_md5.as_ref()))?;
                storage_class::check_copy_source(&found.meta.headers)?;
                check_copy_source_conditions(
                    &found.meta,
                    input.copy_source_if_match.as_ref(),
                    input.copy_source_if_none_match.as_ref(),
                    input.copy_source_if_modified_since.as_ref(),
                    input.copy_source_if_unmodified_since.as_ref(),
                )?;
                let (start, len) = copy_source_range(input.copy_source_range.as_deref(), found.meta.size)?;
                Ok((start, len, ()))
            })
            .map_err(copy_source_error)?;
        let (written, checksum) = self.write_part_body(Some(body), None, None, upload.checksum_algorithm.as_deref(), None).await?;
        let enc = encryption::reported(&upload);
        let (sse_customer_algorithm, sse_customer_key_md5) = sse_c::echo(&upload);
        let row = self.install_part(&input.bucket, &input.key, &input.upload_id, input.part_number, written, checksum).await?;
        let [crc32, crc32c, crc64nvme, sha1, sha256] = checksums::fields(row.checksum.as_ref());
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(etag(&row.etag)),
                last_modified: Some(ts(row.modified)),
                checksum_crc32: crc32,
                checksum_crc32c: crc32c,
                checksum_crc64nvme: crc64nvme,
                checksum_sha1: sha1,
                checksum_sha256: sha256,
            }),
            copy_source_version_id: found.version_header(),
            sse_customer_algorithm,
            sse_customer_key_md5,
            server_side_encryption: enc.algorithm,
            ssekms_key_id: enc.kms_key_id,
            bucket_key_enabled: enc.bucket_key,
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(&self, req: S3Request<CompleteMultipartUploadInput>) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let ctx = EventCtx::of(&req);
        let host = req.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_string();
        let input = req.input;
        let requested = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
        if requested.is_empty() {
            return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
        }
        let listed = crate::completed::listed(&requested);
        let upload = {
            let buckets = self.state.buckets.read();
            let b = buckets.get(&input.bucket).ok_or_else(|| no_such_bucket(&input.bucket))?;
            match b.uploads.get(&input.upload_id).filter(|u| u.key == input.key) {
                Some(u) => u.clone(),
                None => {
                    let again = self.state.completions.repeat(&input.upload_id, &input.bucket, &input.key, &listed);
                    return again.map(S3Response::new).ok_or_else(no_such_upload);
                }
            }
        };
        // "If the checksum type doesn't match the checksum type that was specified for the
        // object during the CreateMultipartUpload request, it'll result in a BadDigest error."
        if let (Some(asked), Some(kind)) = (&input.checksum_type, upload_checksum_type(&upload.headers)) {
            if *asked != kind {
                return Err(s3_error!(
                    BadDigest,
                    "The checksum type {} does not match the {} checksum type the upload was created with.",
                    asked.as_str(),
                    kind.as_str()
                ));
            }
        }
        let mut last = 0;
        for p in &requested {
            let n = p.part_number.unwrap_or(0);
            if n < 1 {
                return Err(s3_error!(InvalidArgument, "PartNumber must be >= 1"));
            }
            if n <= last {
                return Err(s3_error!(InvalidPartOrder, "The list of parts was not in ascending order. The parts list must be specified in order by part number."));
            }
            last = n;
        }
        let mut files = Vec::new();
        let mut md5s = Md5::new();
        let count = requested.len();
        for (i, p) in requested.iter().enumerate() {
            let n = p.part_number.unwrap_or(0);
            let invalid = || {
                s3_error!(
                    InvalidPart,
                    "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."
                )
            };
            let have = upload.parts.get(&n).ok_or_else(invalid)?;
            if p.e_tag.as_ref().is_some_and(|e| e.value() != have.etag) {
                return Err(invalid());
            }
            // A part checksum named in the request must be the one the part was stored with.
            let named = checksums::from_fields([
                p.checksum_crc32.as_ref(),
                p.checksum_crc32c.as_ref(),
                p.checksum_crc64nvme.as_ref(),
                p.checksum_sha1.as_ref(),
                p.checksum_sha256.as_ref(),
            ]);
            if named.is_some_and(|c| have.checksum.as_ref().is_some_and(|h| *h != c)) {
                return Err(invalid());
            }
            if i + 1 < count && have.size < MIN_PART_SIZE {
                return Err(s3_error!(EntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size."));
            }
            let raw = hex::decode(&have.etag).map_err(|e| internal(e.to_string()))?;
            md5s.update(&raw);
            files.push(self.state.part_path(&input.upload_id, n));
        }
        if let Some(expected) = input.mpu_object_size {
            let size: u64 = requested.iter().filter_map(|p| upload.parts.get(&p.part_number.unwrap_or(0)).map(|m| m.size)).sum();
            if u64::try_from(expected).ok() != Some(size) {
                return Err(s3_error!(
                    InvalidRequest,
                    "The x-amz-mp-object-size header ({expected}) does not match the size of the parts listed ({size} bytes)."
                ));
            }
        }
        let conditional = input.if_match.is_some() || input.if_none_match.is_some();
        let _guard = self.state.key_guards.lock_if(conditional, &input.bucket, &input.key).await;
        check_write_conditions(&self.state, &input.bucket, &input.key, input.if_match.as_ref(), input.if_none_match.as_ref())?;
        let etag_value = format!("{}-{}", hex::encode(md5s.finalize()), count);
        // With a checksum algorithm, the object's checksum is the composite of its parts'
        // (a FULL_OBJECT one is computed over the assembled bytes below).
        let composite = upload.headers.checksum_algorithm.as_deref().filter(|_| !upload.headers.checksum_full_object).and_then(|a| {
            let values: Option<Vec<&str>> = requested
                .iter()
                .map(|p| upload.parts.get(&p.part_number.unwrap_or(0)).and_then(|m| m.checksum.as_ref()).filter(|c| c.algorithm == a).map(|c| c.value.as_str()))
                .collect();
            Some(checksums::Stored { algorithm: a.to_string(), value: checksums::composite(a, &values?)? })
        });
        let (written, whole) = blob::concat(&self.state.root, &files, self.state.sync, whole_object_algorithm(&upload.headers)).await.map_err(internal)?;
        let checksum = match upload.headers.checksum_algorithm.as_deref() {
            None => whole,
            Some(_) if upload.headers.checksum_full_object => {
                let declared = checksums::from_fields([
                    input.checksum_crc32.as_ref(),
                    input.checksum_crc32c.as_ref(),
                    input.checksum_crc64nvme.as_ref(),
                    input.checksum_sha1.as_ref(),
                    input.checksum_sha256.as_ref(),
                ]);
                // The whole object's checksum the client computed must be the one of the bytes.
                if let Some(d) = declared.filter(|d| whole.as_ref().is_some_and(|s| s.algorithm == d.algorithm && s.value != d.value)) {
                    let _ = tokio::fs::remove_file(&written.tmp).await;
                    return Err(s3_error!(BadDigest, "The {} you specified did not match the calculated checksum.", d.algorithm));
                }
                whole
            }
            Some(_) => composite,
        };
        let file = blob::new_id();
        blob::publish(&written.tmp, &self.state.object_path(&file), self.state.sync).await.map_err(internal)?;
        let mut headers = upload.headers.clone();
        headers.checksum_algorithm = None;
        headers.checksum_full_object = false;
        headers.checksum = checksum.clone();
        headers.parts_count = Some(count as i32);
        headers.part_sizes = requested.iter().filter_map(|p| upload.parts.get(&p.part_number.unwrap_or(0)).map(|m| m.size)).collect();
        // A composite checksum's parts keep theirs: a GET of one part reports it.
        headers.part_checksums = match &checksum {
            Some(c) if c.is_composite() => {
                requested.iter().filter_map(|p| upload.parts.get(&p.part_number.unwrap_or(0)).and_then(|m| m.checksum.as_ref()).map(|c| c.value.clone())).collect()
            }
            _ => Vec::new(),
        };
        let version = match self.state.next_version(&input.bucket) {
            Ok(v) => v,
            Err(e) => {
                let _ = tokio::fs::remove_file(self.state.object_path(&file)).await;
                return Err(e);
            }
        };
        let row = ObjectRow {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            version_id: version.id.clone(),
            seq: version.seq,
            delete_marker: false,
            size: written.size,
            etag: etag_value.clone(),
            modified: now_ms(),
            file: file.clone(),
            headers,
        };
        let id = input.upload_id.clone();
        let r = row.clone();
        // One transaction: the object appears and the upload disappears together.
        if let Err(e) = self.state.commit(move |tx| {
            persist::put_object(tx, &r)?;
            persist::delete_upload(tx, &id)
        })
        .await
        {
            let _ = tokio::fs::remove_file(self.state.object_path(&file)).await;
            return Err(e);
        }
        if let Some(b) = self.state.buckets.write().get_mut(&input.bucket) {
            b.uploads.remove(&input.upload_id);
        }
        let replaced = self.state.show_version(&row)?;
        self.state.drop_version_file(replaced, &row.file).await;
        for n in upload.parts.keys() {
            let _ = tokio::fs::remove_file(self.state.part_path(&input.upload_id, *n)).await;
        }
        self.state.emit(
            &ctx,
            "ObjectCreated:CompleteMultipartUpload",
            &input.bucket,
            &input.key,
            Some(&ObjMeta::event(row.size, &etag_value)),
            version.event_id(),
        );
        let answer = crate::completed::Answer {
            etag: etag_value,
            checksum,
            version_id: version.header(),
            encryption: encryption::reported(&row.headers),
            location: object_location(&host, &input.bucket, &input.key),
        };
        let out = answer.output(&input.bucket, &input.key);
        self.state.completions.remember(&input.upload_id, &input.bucket, &input.key, listed, answer);
        Ok(S3Response::new(out))
    }

    async fn restore_object(&self, req: S3Request<RestoreObjectInput>) -> S3Result<S3Response<RestoreObjectOutput>> {
        let ctx = EventCtx::of(&req);
        let input = req.input;
        let (outcome, _) =
            self.state.restore_object(&ctx, &input.bucket, &input.key, input.version_id.as_deref(), input.restore_request.as_ref()).await?;
        let mut resp = S3Response::new(RestoreObjectOutput::default());
        if outcome == storage_class::RestoreOutcome::Started {
            resp.extensions.insert(SuccessStatus(http::StatusCode::ACCEPTED));
        }
        Ok(resp)
    }

    async fn abort_multipart_upload(&self, req: S3Request<AbortMultipartUploadInput>) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.upload_key(&input.bucket, &input.upload_id, &input.key)?;
        self.state.abort_upload(&input.bucket, &input.upload_id).await?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let max = page_size(input.max_parts, "max-parts")?;
        let marker = input.part_number_marker.unwrap_or(0);
        let buckets = self.state.buckets.read();
        let b = buckets.get(&input.bucket).ok_or_else(|| no_such_bucket(&input.bucket))?;
        let u = b.uploads.get(&input.upload_id).filter(|u| u.key == input.key).ok_or_else(no_such_upload)?;
        let all: Vec<(&i32, &PartMeta)> = u.parts.range(marker + 1..).collect();
        // max-parts=0 is an empty final page, as for ListMultipartUploads (upload_page).
        let truncated = max > 0 && all.len() > max;
        let parts: Vec<Part> = all
            .iter()
            .take(max)
            .map(|(n, p)| {
                let [crc32, crc32c, crc64nvme, sha1, sha256] = checksums::fields(p.checksum.as_ref());
                Part {
                    part_number: Some(**n),
                    e_tag: Some(etag(&p.etag)),
                    size: Some(p.size as i64),
                    last_modified: Some(ts(p.modified)),
                    checksum_crc32: crc32,
                    checksum_crc32c: crc32c,
                    checksum_crc64nvme: crc64nvme,
                    checksum_sha1: sha1,
                    checksum_sha256: sha256,
                }
            })
            .collect();
        let next = parts.last().and_then(|p| p.part_number);
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            upload_id: Some(input.upload_id.clone()),
            max_parts: Some(max as i32),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: next,
            is_truncated: Some(truncated),
            parts: Some(parts),
            owner: Some(owner()),
            initiator: Some(Initiator { display_name: Some("webfile".into()), id: Some(OWNER_ID.into()) }),
            storage_class: Some(storage_class::upload_class(&u.headers)),
            checksum_algorithm: u.headers.checksum_algorithm.clone().map(ChecksumAlgorithm::from),
            checksum_type: upload_checksum_type(&u.headers),
            ..Default::default()
        }))
    }

    async fn list_multipart_uploads(&self, req: S3Request<ListMultipartUploadsInput>) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let max = page_size(input.max_uploads, "max-uploads")?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let encode = url_encoding(input.encoding_type.as_ref())?;
        let enc = |s: String| if encode { url_encode(&s) } else { s };
        let buckets = self.state.buckets.read();
        let b = buckets.get(&input.bucket).ok_or_else(|| no_such_bucket(&input.bucket))?;
        let mut all: Vec<(&String, &Upload)> = b.uploads.iter().filter(|(_, u)| u.key.starts_with(&prefix)).collect();
        all.sort_by(|a, b| (&a.1.key, a.1.initiated, a.0).cmp(&(&b.1.key, b.1.initiated, b.0)));
        let key_marker = input.key_marker.as_deref().filter(|k| !k.is_empty());
        if let Some(km) = key_marker {
            let uim = input.upload_id_marker.as_deref().unwrap_or("");
            // A key's uploads are listed by initiation time; the upload-id-marker names the
            // last one seen (NextUploadIdMarker), so go on after it in that order. A marker
            // nimbus never issued falls back to comparing ids, as the API reference words it.
            let seen = all.iter().position(|(id, u)| u.key == km && id.as_str() == uim);
            let mut i = 0;
            all.retain(|(id, u)| {
                i += 1;
                u.key.as_str() > km
                    || (u.key == km && !uim.is_empty() && seen.map_or(id.as_str() > uim, |s| i - 1 > s))
            });
        }
        let page = upload_page(&all, &prefix, input.delimiter.as_deref(), key_marker, max);
        let uploads: Vec<MultipartUpload> = page
            .uploads
            .iter()
            .map(|(id, u)| MultipartUpload {
                key: Some(enc(u.key.clone())),
                upload_id: Some((*id).clone()),
                initiated: Some(ts(u.initiated)),
                owner: Some(owner()),
                initiator: Some(Initiator { display_name: Some("webfile".into()), id: Some(OWNER_ID.into()) }),
                storage_class: Some(storage_class::upload_class(&u.headers)),
                checksum_algorithm: u.headers.checksum_algorithm.clone().map(ChecksumAlgorithm::from),
                checksum_type: upload_checksum_type(&u.headers),
                ..Default::default()
            })
            .collect();
        // The markers to go on from: the last upload, or the last common prefix (no upload id).
        let (next_key, next_id) = match (page.truncated, &page.last) {
            (true, Some(UploadEntry::Upload(id, u))) => (Some(enc(u.key.clone())), Some((*id).clone())),
            (true, Some(UploadEntry::Prefix(p))) => (Some(enc(p.clone())), None),
            _ => (None, None),
        };
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket.clone()),
            prefix: input.prefix.map(enc),
            delimiter: input.delimiter.map(enc),
            key_marker: input.key_marker.map(enc),
            upload_id_marker: input.upload_id_marker,
            max_uploads: Some(max as i32),
            is_truncated: Some(page.truncated),
            next_key_marker: next_key,
            next_upload_id_marker: next_id,
            uploads: (!uploads.is_empty()).then_some(uploads),
            common_prefixes: (!page.prefixes.is_empty())
                .then(|| page.prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(enc(p)) }).collect()),
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }
}

enum UploadEntry<'a> {
    Upload(&'a String, &'a Upload),
    Prefix(String),
}

struct UploadPage<'a> {
    uploads: Vec<(&'a String, &'a Upload)>,
    prefixes: Vec<String>,
    truncated: bool,
    last: Option<UploadEntry<'a>>,
}

/// One page of ListMultipartUploads over `sorted` (already past the markers): keys
/// containing `delimiter` after `prefix` roll up into one common prefix, which counts
/// once against `max` (ListMultipartUploads API reference, Delimiter and CommonPrefixes).
///
/// max-uploads=0 asks for nothing: an empty page that is not truncated (and so names no
/// markers to go on from), as ListObjects answers max-keys=0. A truncated page with no
/// NextKeyMarker could never be continued. (The API reference is silent; MinIO, built to
/// S3's behaviour, "return[s an] empty response if maxUploads is zero".)
fn upload_page<'a>(sorted: &[(&'a String, &'a Upload)], prefix: &str, delimiter: Option<&str>, key_marker: Option<&str>, max: usize) -> UploadPage<'a> {
    if max == 0 {
        return UploadPage { uploads: Vec::new(), prefixes: Vec::new(), truncated: false, last: None };
    }
    let rolled = crate::versions::roll_up(sorted.iter().map(|&(id, u)| (u.key.as_str(), (id, u))), prefix, delimiter, key_marker, max);
    UploadPage {
        uploads: rolled.items,
        prefixes: rolled.prefixes,
        truncated: rolled.truncated,
        last: rolled.last.map(|last| match last {
            Rolled::Item((id, u)) => UploadEntry::Upload(id, u),
            Rolled::Prefix(p) => UploadEntry::Prefix(p),
        }),
    }
}

impl Provider {
    /// The headers a multipart upload was created with (checksum algorithm, encryption).
    fn upload_headers(&self, bucket: &str, upload_id: &str) -> ObjHeaders {
        let buckets = self.state.buckets.read();
        buckets.get(bucket).and_then(|b| b.uploads.get(upload_id)).map(|u| u.headers.clone()).unwrap_or_default()
    }

    fn upload_key(&self, bucket: &str, upload_id: &str, key: &str) -> S3Result<()> {
        let buckets = self.state.buckets.read();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        b.uploads.get(upload_id).filter(|u| u.key == key).map(|_| ()).ok_or_else(no_such_upload)
    }
}

/// Names S3 keeps for itself (s3s checks the rest of the naming rules): "Bucket names
/// must not start with the prefix xn--, sthree-, amzn-s3-demo-" and "must not end with
/// the suffix -s3alias, --ol-s3, .mrap, --x-s3, --table-s3" (S3 user guide, "General
/// purpose bucket naming rules").
fn reserved_bucket_name(name: &str) -> bool {
    const PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    PREFIXES.iter().any(|p| name.starts_with(p)) || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The region a new bucket goes to, by S3's rules for CreateBucket: the constraint
/// must name the region of the endpoint the request was sent to (the region it is
/// signed for), except at us-east-1's, which takes any; none means us-east-1, which
/// may not be named itself. A constraint that is not a region's name at all is
/// InvalidLocationConstraint (checked by the shape of AWS's region names, so that
/// regions newer than nimbus still work).
fn bucket_region_for(constraint: Option<&str>, endpoint_region: Option<&str>) -> S3Result<String> {
    let endpoint = endpoint_region.unwrap_or("us-east-1");
    match constraint {
        Some("EU" | "us-east-1") => Err(s3_error!(InvalidLocationConstraint, "The specified location-constraint is not valid")),
        Some(c) if !region_shaped(c) => Err(s3_error!(InvalidLocationConstraint, "The specified location-constraint is not valid")),
        None if endpoint != "us-east-1" => Err(s3_error!(
            IllegalLocationConstraintException,
            "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
        )),
        Some(c) if endpoint != "us-east-1" && c != endpoint => Err(s3_error!(
            IllegalLocationConstraintException,
            "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
        )),
        Some(c) => Ok(c.to_string()),
        None => Ok("us-east-1".to_string()),
    }
}

/// `af-south-1`, `us-gov-west-1`, `ap-southeast-7`: letters, one or two words, a number.
fn region_shaped(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let words = |p: &[&str]| p.iter().all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
    match parts.split_last() {
        Some((number, rest)) => (2..=3).contains(&rest.len()) && rest[0].len() == 2 && words(rest) && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_size_limit_is_5_gib() {
        let headers = |pairs: &[(&str, &str)]| -> http::HeaderMap {
            pairs.iter().map(|(k, v)| (http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), http::HeaderValue::from_str(v).unwrap())).collect()
        };
        assert!(check_upload_size(&headers(&[])).is_ok());
        assert!(check_upload_size(&headers(&[("content-length", "5368709120")])).is_ok());
        let over = check_upload_size(&headers(&[("content-length", "5368709121")])).map_err(|e| e.code().as_str().to_string());
        assert_eq!(over, Err("EntityTooLarge".into()));
        // aws-chunked: the decoded length counts, not the framing around it.
        assert!(check_upload_size(&headers(&[("content-length", "5368809120"), ("x-amz-decoded-content-length", "5368709120")])).is_ok());
        assert!(check_upload_size(&headers(&[("content-length", "not a number")])).is_ok());
    }

    #[test]
    fn reserved_bucket_names() {
        for name in ["sthree-abc", "sthree-configurator", "amzn-s3-demo-bucket", "xn--abc", "abc-s3alias", "abc--ol-s3", "abc.mrap", "abc--x-s3", "abc--table-s3"] {
            assert!(reserved_bucket_name(name), "{name}");
        }
        for name in ["three-abc", "my-sthree-bucket", "amzn-s3-demo", "s3alias-abc", "abc-ol-s3", "mrap.abc", "abc-x-s3"] {
            assert!(!reserved_bucket_name(name), "{name}");
        }
    }

    #[test]
    fn list_buckets_pages_and_tokens() {
        let input = |max: Option<i32>, prefix: Option<&str>| ListBucketsInput { max_buckets: max, prefix: prefix.map(str::to_string), ..Default::default() };
        assert_eq!(bucket_page_size(&input(None, None)).ok(), Some(usize::MAX));
        assert_eq!(bucket_page_size(&input(None, Some("a"))).ok(), Some(10_000));
        assert_eq!(bucket_page_size(&input(Some(2), None)).ok(), Some(2));
        for bad in [0, -1, 10_001] {
            assert_eq!(bucket_page_size(&input(Some(bad), None)).map_err(|e| e.code().as_str().to_string()), Err("InvalidArgument".into()));
        }
        assert_eq!(bucket_token_name(&bucket_token("my-bucket")).ok().as_deref(), Some("my-bucket"));
        assert!(bucket_token_name("bXktYnVja2V0").is_err(), "a name nimbus did not hand out");
        assert!(bucket_token_name(&continuation_token("k")).is_err(), "a ListObjectsV2 token");
        assert!(bucket_token_name("%%%").is_err());
    }

    #[test]
    fn metadata_limit_counts_utf8_bytes_of_keys_and_values() {
        let meta = |pairs: &[(&str, String)]| -> Metadata { pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect() };
        assert!(check_metadata_size(None).is_ok());
        assert!(check_metadata_size(Some(&meta(&[("ab", "x".repeat(2046))]))).is_ok());
        let over = check_metadata_size(Some(&meta(&[("ab", "x".repeat(2047))]))).map_err(|e| e.code().as_str().to_string());
        assert_eq!(over, Err("MetadataTooLarge".into()));
        // 'é' is two bytes in UTF-8: 1024 of them with a 1-byte key is 2049 bytes.
        assert!(check_metadata_size(Some(&meta(&[("k", "é".repeat(1024))]))).is_err());
        assert!(check_metadata_size(Some(&meta(&[("a", "x".repeat(1023)), ("b", "y".repeat(1023))]))).is_ok());
    }

    #[test]
    fn create_bucket_region_rules() {
        let code = |c: Option<&str>, e: Option<&str>| bucket_region_for(c, e).map_err(|e| e.code().as_str().to_string());
        assert_eq!(code(None, None), Ok("us-east-1".into()));
        assert_eq!(code(None, Some("us-east-1")), Ok("us-east-1".into()));
        assert_eq!(code(Some("eu-west-1"), Some("us-east-1")), Ok("eu-west-1".into()), "us-east-1's endpoint takes any region");
        assert_eq!(code(Some("eu-west-1"), Some("eu-west-1")), Ok("eu-west-1".into()));
        assert_eq!(code(None, Some("eu-west-1")), Err("IllegalLocationConstraintException".into()));
        assert_eq!(code(Some("us-west-2"), Some("eu-west-1")), Err("IllegalLocationConstraintException".into()));
        assert_eq!(code(Some("us-east-1"), None), Err("InvalidLocationConstraint".into()));
        assert_eq!(code(Some("EU"), Some("eu-west-1")), Err("InvalidLocationConstraint".into()));
        assert_eq!(code(Some("not-a-region"), None), Err("InvalidLocationConstraint".into()));
        assert_eq!(code(Some("us-gov-west-1"), None), Ok("us-gov-west-1".into()));
        assert_eq!(code(Some("ap-southeast-7"), None), Ok("ap-southeast-7".into()));
    }

    fn objs(keys: &[&str]) -> BTreeMap<String, KeyVersions> {
        keys.iter()
            .map(|k| {
                let mut versions = KeyVersions::default();
                versions.put(Version::Object(Arc::new(ObjMeta {
                    size: 1,
                    etag: "e".into(),
                    modified: 0,
                    file: "f".into(),
                    headers: ObjHeaders::default(),
                    version_id: versions::NULL_VERSION.into(),
                    seq: 1,
                })));
                (k.to_string(), versions)
            })
            .collect()
    }

    #[test]
    fn listing_rolls_up_and_pages() {
        let o = objs(&["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
        let p = list_page(&o, "", Some("/"), None, 1000);
        assert_eq!(p.contents.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), ["b", "d"]);
        assert_eq!(p.prefixes, ["a/", "c/"]);
        assert!(!p.truncated);
        // Pages of two, continuing after the last key or prefix.
        let p1 = list_page(&o, "", Some("/"), None, 2);
        assert!(p1.truncated);
        assert_eq!(p1.last.as_deref(), Some("b"));
        let p2 = list_page(&o, "", Some("/"), p1.last.as_deref(), 2);
        assert_eq!(p2.prefixes, ["c/"]);
        assert_eq!(p2.contents.len(), 1);
        assert!(!p2.truncated);
        let p3 = list_page(&o, "", Some("/"), Some("a/"), 1);
        assert_eq!(p3.contents.first().map(|c| c.0.as_str()), Some("b"));
        let p4 = list_page(&o, "c/", Some("/"), None, 10);
        assert_eq!(p4.prefixes, ["c/x/"]);
        assert_eq!(p4.contents.len(), 1);
        let empty = list_page(&o, "", None, None, 0);
        assert!(empty.contents.is_empty() && !empty.truncated);
    }

    #[test]
    fn listing_skips_keys_whose_latest_version_is_a_delete_marker() {
        let mut o = objs(&["a", "d/x", "e"]);
        for key in ["a", "d/x"] {
            if let Some(k) = o.get_mut(key) {
                k.put(Version::DeleteMarker(Arc::new(DeleteMarker { version_id: "m".into(), seq: 2, modified: 0 })));
            }
        }
        let p = list_page(&o, "", Some("/"), None, 1000);
        assert_eq!(p.contents.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), ["e"]);
        assert!(p.prefixes.is_empty());
        let p = list_page(&o, "", None, None, 1);
        assert_eq!(p.contents.first().map(|c| c.0.as_str()), Some("e"));
        assert!(!p.truncated);
    }

    #[test]
    fn headers_stored_before_default_checksums_still_load() {
        // A row written before checksums and part checksums were kept.
        let old: ObjHeaders = serde_json::from_str(r#"{"content_type":"text/plain","parts_count":2,"part_sizes":[5,1]}"#).unwrap();
        assert_eq!((old.checksum.as_ref(), old.part_checksums.len()), (None, 0));
        let enabled = ChecksumMode::from_static(ChecksumMode::ENABLED);
        assert_eq!(reported_checksum(&old, Some(&enabled), Read::All), Default::default());
        assert_eq!(reported_checksum(&old, Some(&enabled), Read::Part { n: 1, whole: false }), Default::default());
        // Nothing new is written for an object without them.
        assert!(!serde_json::to_string(&old).unwrap().contains("checksum"));
    }

    #[test]
    fn reads_report_the_checksum_that_describes_their_bytes() {
        let full = ObjHeaders { checksum: Some(checksums::Stored { algorithm: "CRC64NVME".into(), value: "AAAAAAAAAAA=".into() }), ..Default::default() };
        let enabled = ChecksumMode::from_static(ChecksumMode::ENABLED);
        let (fields, kind) = reported_checksum(&full, Some(&enabled), Read::All);
        assert_eq!((fields[2].as_deref(), kind.as_ref().map(|k| k.as_str())), (Some("AAAAAAAAAAA="), Some(ChecksumType::FULL_OBJECT)));
        assert_eq!(reported_checksum(&full, None, Read::All), Default::default());
        assert_eq!(reported_checksum(&full, Some(&enabled), Read::Range), Default::default());
        assert!(matches!(Read::of(false, Some(1), 0, 7, 7), Read::Part { n: 1, whole: true }));
        assert!(matches!(Read::of(true, None, 0, 7, 7), Read::Range));
        assert!(matches!(Read::of(false, None, 0, 7, 7), Read::All));
    }

    #[test]
    fn completed_uploads_checksum_their_whole_bytes_unless_composite() {
        let mut upload = ObjHeaders::default();
        assert_eq!(whole_object_algorithm(&upload), Some("CRC64NVME"));
        upload.checksum_algorithm = Some("SHA256".into());
        assert_eq!(whole_object_algorithm(&upload), None);
        upload.checksum_algorithm = Some("CRC32".into());
        upload.checksum_full_object = true;
        assert_eq!(whole_object_algorithm(&upload), Some("CRC32"));
    }

    #[test]
    fn copies_keep_a_full_object_checksum_and_compute_any_other() {
        let stored = |a: &str, v: &str| checksums::Stored { algorithm: a.into(), value: v.into() };
        let keep = |p: CopyChecksum| matches!(p, CopyChecksum::Keep(_));
        let computes = |p: CopyChecksum, want: &str| matches!(p, CopyChecksum::Compute(a) if a == want);
        assert!(computes(CopyChecksum::plan(None, None).unwrap(), "CRC64NVME"));
        assert!(keep(CopyChecksum::plan(None, Some(&stored("CRC32", "AAAAAA=="))).unwrap()));
        assert!(computes(CopyChecksum::plan(None, Some(&stored("SHA256", "x-2"))).unwrap(), "SHA256"));
        let sha1 = ChecksumAlgorithm::from_static(ChecksumAlgorithm::SHA1);
        assert!(computes(CopyChecksum::plan(Some(&sha1), Some(&stored("CRC32", "AAAAAA=="))).unwrap(), "SHA1"));
        let md5 = ChecksumAlgorithm::from("MD5".to_string());
        assert_eq!(CopyChecksum::plan(Some(&md5), None).err().map(|e| e.code().as_str().to_string()).as_deref(), Some("InvalidRequest"));
    }

    #[test]
    fn object_attribute_names() {
        let list = vec![ObjectAttributes::from("ETag,Checksum".to_string()), ObjectAttributes::from(" ObjectSize".to_string())];
        let w = ObjectAttributesWanted::of(&list).unwrap();
        assert!(w.etag && w.checksum && w.size && !w.parts && !w.storage_class);
        let bad = vec![ObjectAttributes::from("ETag,Colour".to_string())];
        assert_eq!(ObjectAttributesWanted::of(&bad).err().map(|e| e.code().as_str().to_string()).as_deref(), Some("InvalidArgument"));
    }

    #[test]
    fn parts_of_a_multipart_object() {
        let h = ObjHeaders { parts_count: Some(3), part_sizes: vec![5, 5, 2], ..Default::default() };
        assert_eq!(part_span(&h, 12, 1).ok(), Some((0, 5)));
        assert_eq!(part_span(&h, 12, 3).ok(), Some((10, 2)));
        assert_eq!(part_span(&h, 12, 4).unwrap_err().code().as_str(), "InvalidPartNumber");
        assert_eq!(*part_span(&h, 12, 0).unwrap_err().code(), S3ErrorCode::InvalidArgument);
        // A simple object is its own single part.
        let simple = ObjHeaders::default();
        assert_eq!(part_span(&simple, 7, 1).ok(), Some((0, 7)));
        assert!(part_span(&simple, 7, 2).is_err());
        assert_eq!(content_range(10, 2, 12).as_deref(), Some("bytes 10-11/12"));
        assert_eq!(content_range(0, 0, 0), None);
    }

    #[test]
    fn copy_source_conditions_pair_up_as_documented() {
        let meta = ObjMeta { modified: 10_000_000, etag: "e".into(), ..ObjMeta::event(1, "e") };
        let before = ts(1_000_000);
        let after = ts(20_000_000);
        let yes = ETagCondition::ETag(ETag::Strong("e".into()));
        let no = ETagCondition::ETag(ETag::Strong("x".into()));
        // if-match true + if-unmodified-since false: copied.
        assert!(check_copy_source_conditions(&meta, Some(&yes), None, None, Some(&before)).is_ok());
        // if-none-match false + if-modified-since true: 412.
        assert!(check_copy_source_conditions(&meta, None, Some(&yes), Some(&before), None).is_err());
        assert!(check_copy_source_conditions(&meta, Some(&no), None, None, None).is_err());
        assert!(check_copy_source_conditions(&meta, None, None, Some(&after), None).is_err());
        assert!(check_copy_source_conditions(&meta, None, None, None, Some(&before)).is_err());
        assert!(check_copy_source_conditions(&meta, None, Some(&no), Some(&after), None).is_ok());
    }

    #[test]
    fn continuation_tokens_are_ours_only() {
        let t = continuation_token("a/b c");
        assert_eq!(token_key(&t).ok().as_deref(), Some("a/b c"));
        for bad in ["Zm9v", "not-a-token", ""] {
            assert_eq!(*token_key(bad).unwrap_err().code(), S3ErrorCode::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn uploads_roll_up_at_the_delimiter() {
        let up = |key: &str| Upload { key: key.into(), initiated: 0, headers: ObjHeaders::default(), parts: BTreeMap::new() };
        let ids: Vec<String> = (0..4).map(|i| format!("id{i}")).collect();
        let uploads = [up("a/1"), up("a/2"), up("b"), up("c/x")];
        let sorted: Vec<(&String, &Upload)> = ids.iter().zip(uploads.iter()).collect();
        let p = upload_page(&sorted, "", Some("/"), None, 10);
        assert_eq!(p.prefixes, ["a/", "c/"]);
        assert_eq!(p.uploads.iter().map(|(_, u)| u.key.as_str()).collect::<Vec<_>>(), ["b"]);
        let p = upload_page(&sorted, "", Some("/"), None, 1);
        assert!(p.truncated && matches!(p.last, Some(UploadEntry::Prefix(ref x)) if x == "a/"));
        // Going on from the prefix marker does not list it again.
        let p = upload_page(&sorted[2..], "", Some("/"), Some("a/"), 10);
        assert_eq!(p.prefixes, ["c/"]);
    }

    #[test]
    fn zero_max_uploads_is_an_empty_final_page() {
        let up = |key: &str| Upload { key: key.into(), initiated: 0, headers: ObjHeaders::default(), parts: BTreeMap::new() };
        let ids: Vec<String> = (0..2).map(|i| format!("id{i}")).collect();
        let uploads = [up("a"), up("b/c")];
        let sorted: Vec<(&String, &Upload)> = ids.iter().zip(uploads.iter()).collect();
        for delimiter in [None, Some("/")] {
            let p = upload_page(&sorted, "", delimiter, None, 0);
            assert!(p.uploads.is_empty() && p.prefixes.is_empty());
            assert!(!p.truncated && p.last.is_none(), "a truncated page needs a marker to go on from");
        }
    }

    #[test]
    fn content_md5_checked() {
        let md5: [u8; 16] = Md5::digest(b"hello").into();
        let good = base64::engine::general_purpose::STANDARD.encode(md5);
        assert!(check_content_md5(Some(&good), &md5).is_ok());
        assert!(check_content_md5(None, &md5).is_ok());
        let bad = base64::engine::general_purpose::STANDARD.encode([0u8; 16]);
        assert_eq!(*check_content_md5(Some(&bad), &md5).unwrap_err().code(), S3ErrorCode::BadDigest);
        assert_eq!(*check_content_md5(Some("!!"), &md5).unwrap_err().code(), S3ErrorCode::InvalidDigest);
    }
}
