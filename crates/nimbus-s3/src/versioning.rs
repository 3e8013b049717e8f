//! Versioned reads, writes and deletes over a bucket's state: which version a
//! request addresses, what id a new write gets, and what a DELETE leaves behind
//! (nothing, a delete marker, or one version fewer).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use s3s::dto::TimestampFormat;
use s3s::{s3_error, S3Error, S3Result};

use crate::config::Versioning;
use crate::ops_config::EventCtx;
use crate::persist::{self, ObjHeaders, ObjectRow};
use crate::provider::{no_such_bucket, no_such_key, now_ms, ObjMeta, State};
use crate::versions::{self, DeleteMarker, Version, NULL_VERSION};

/// The version a read found.
pub struct Found {
    pub meta: Arc<ObjMeta>,
    /// The bucket has a versioning state: responses carry `x-amz-version-id`.
    pub versioned: bool,
}

impl Found {
    pub fn version_header(&self) -> Option<String> {
        self.versioned.then(|| self.meta.version_id.clone())
    }
}

/// The id and order a new write gets.
pub struct NewVersion {
    pub id: String,
    pub seq: u64,
    pub versioning: Option<Versioning>,
}

impl NewVersion {
    /// The `x-amz-version-id` of a write's response: only versioning-enabled buckets
    /// report the id they assigned.
    pub fn header(&self) -> Option<String> {
        (self.versioning == Some(Versioning::Enabled)).then(|| self.id.clone())
    }

    /// The versionId of the write's event notifications.
    pub fn event_id(&self) -> Option<&str> {
        self.versioning.is_some().then_some(self.id.as_str())
    }
}

/// Who deletes: a client's request, or the bucket's lifecycle rules (which report
/// their own event names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteCause {
    Request,
    /// With the length of a lifecycle day in ms.
    Lifecycle { day_ms: u64 },
}

impl DeleteCause {
    /// When a delete marker made now is dated: lifecycle dates its markers at the
    /// start (00:00 UTC) of the current day.
    fn marker_time(self, now_ms: u64) -> u64 {
        match self {
            DeleteCause::Request => now_ms,
            DeleteCause::Lifecycle { day_ms } => now_ms / day_ms.max(1) * day_ms.max(1),
        }
    }

    fn removed_event(self) -> &'static str {
        match self {
            DeleteCause::Request => "ObjectRemoved:Delete",
            DeleteCause::Lifecycle { .. } => "LifecycleExpiration:Delete",
        }
    }

    fn marker_event(self) -> &'static str {
        match self {
            DeleteCause::Request => "ObjectRemoved:DeleteMarkerCreated",
            DeleteCause::Lifecycle { .. } => "LifecycleExpiration:DeleteMarkerCreated",
        }
    }
}

/// What a DeleteObject did.
#[derive(Debug, Default, PartialEq)]
pub struct DeleteOutcome {
    /// The version removed, or the delete marker created.
    pub version_id: Option<String>,
    /// A delete marker was created, or the version removed was one.
    pub delete_marker: bool,
    /// The delete marker created (DeleteObjects' DeleteMarkerVersionId).
    pub marker_created: bool,
}

fn header_value(s: &str) -> Option<http::HeaderValue> {
    http::HeaderValue::from_str(s).ok()
}

/// An error that tells the client the version it hit is a delete marker.
fn delete_marker_error(mut err: S3Error, marker: &DeleteMarker, versioned: bool, last_modified: bool) -> S3Error {
    let mut h = http::HeaderMap::new();
    h.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/xml"));
    h.insert("x-amz-delete-marker", http::HeaderValue::from_static("true"));
    if versioned {
        if let Some(v) = header_value(&marker.version_id) {
            h.insert("x-amz-version-id", v);
        }
    }
    if last_modified {
        let mut buf = Vec::new();
        if crate::provider::ts(marker.modified).format(TimestampFormat::HttpDate, &mut buf).is_ok() {
            if let Some(v) = std::str::from_utf8(&buf).ok().and_then(header_value) {
                h.insert(http::header::LAST_MODIFIED, v);
            }
        }
    }
    err.set_headers(h);
    err
}

pub fn no_such_version() -> S3Error {
    s3_error!(NoSuchVersion, "The specified version does not exist.")
}

fn method_not_allowed() -> S3Error {
    s3_error!(MethodNotAllowed, "The specified method is not allowed against this resource.")
}

impl State {
    pub(crate) fn versioning_of(&self, bucket: &str) -> S3Result<Option<Versioning>> {
        self.with_config(bucket, |c| c.versioning)
    }

    /// The version a GET/HEAD (or copy source, or tagging call) addresses: the latest
    /// without `version_id`. A delete marker reads as NoSuchKey when it is the latest,
    /// and as MethodNotAllowed when named by id.
    pub(crate) fn lookup(&self, bucket: &str, key: &str, version_id: Option<&str>) -> S3Result<Found> {
        if let Some(id) = version_id {
            versions::check_version_id(id)?;
        }
        let buckets = self.buckets.read();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        let versioned = b.config.versioning.is_some();
        let versions = b.objects.get(key);
        let found = match version_id {
            None => versions.and_then(|k| k.latest()).ok_or_else(no_such_key)?,
            Some(id) => versions.and_then(|k| k.find(id)).ok_or_else(no_such_version)?,
        };
        match found {
            Version::Object(meta) => Ok(Found { meta: meta.clone(), versioned }),
            Version::DeleteMarker(m) if version_id.is_none() => Err(delete_marker_error(no_such_key(), m, versioned, false)),
            Version::DeleteMarker(m) => Err(delete_marker_error(method_not_allowed(), m, versioned, true)),
        }
    }

    /// The id and sequence number of a write about to be committed to `bucket`.
    pub(crate) fn next_version(&self, bucket: &str) -> S3Result<NewVersion> {
        let versioning = self.versioning_of(bucket)?;
        let id = match versioning {
            Some(Versioning::Enabled) => versions::new_version_id(),
            _ => NULL_VERSION.to_string(),
        };
        Ok(NewVersion { id, seq: self.next_seq.fetch_add(1, Ordering::SeqCst), versioning })
    }

    /// Makes a committed row visible; returns the version it replaced (same id).
    pub(crate) fn show_version(&self, row: &ObjectRow) -> S3Result<Option<Version>> {
        let mut buckets = self.buckets.write();
        let b = buckets.get_mut(&row.bucket).ok_or_else(|| no_such_bucket(&row.bucket))?;
        let v = if row.delete_marker {
            Version::DeleteMarker(Arc::new(DeleteMarker { version_id: row.version_id.clone(), seq: row.seq, modified: row.modified }))
        } else {
            Version::Object(Arc::new(ObjMeta {
                size: row.size,
                etag: row.etag.clone(),
                modified: row.modified,
                file: row.file.clone(),
                headers: row.headers.clone(),
                version_id: row.version_id.clone(),
                seq: row.seq,
            }))
        };
        Ok(b.objects.entry(row.key.clone()).or_default().put(v))
    }

    /// Releases the body of a version that is gone, unless `kept` still uses it.
    pub(crate) async fn drop_version_file(&self, gone: Option<Version>, kept: &str) {
        if let Some(Version::Object(meta)) = gone {
            if meta.file != kept {
                self.release_body(&meta.file, meta.size).await;
            }
        }
    }

    /// Commits `row`, then makes it visible and removes the file of the version it replaced.
    pub(crate) async fn install_object(&self, row: ObjectRow) -> S3Result<()> {
        let r = row.clone();
        self.commit(move |tx| persist::put_object(tx, &r)).await?;
        let replaced = self.show_version(&row)?;
        self.drop_version_file(replaced, &row.file).await;
        Ok(())
    }

    /// DeleteObject: with `version_id`, removes that version for good (a missing one is
    /// no error); without, removes the null version of an unversioned bucket, or puts a
    /// delete marker on top (a new one when enabled, the null version when suspended).
    pub(crate) async fn delete_version(
        &self,
        ctx: &EventCtx,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        cause: DeleteCause,
    ) -> S3Result<DeleteOutcome> {
        let versioning = self.versioning_of(bucket)?;
        let permanent = match version_id {
            Some(id) => {
                versions::check_version_id(id)?;
                Some(id.to_string())
            }
            None if versioning.is_none() => Some(NULL_VERSION.to_string()),
            None => None,
        };
        let Some(id) = permanent else {
            let new = self.next_version(bucket)?;
            let row = ObjectRow {
                bucket: bucket.to_string(),
                key: key.to_string(),
                version_id: new.id.clone(),
                seq: new.seq,
                delete_marker: true,
                size: 0,
                etag: String::new(),
                modified: cause.marker_time(now_ms()),
                file: String::new(),
                headers: ObjHeaders::default(),
            };
            self.install_object(row).await?;
            self.emit(ctx, cause.marker_event(), bucket, key, None, Some(&new.id));
            return Ok(DeleteOutcome { version_id: Some(new.id), delete_marker: true, marker_created: true });
        };
        let exists = {
            let buckets = self.buckets.read();
            let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
            b.objects.get(key).and_then(|k| k.find(&id)).is_some()
        };
        let reported = version_id.map(str::to_string);
        // Lifecycle never removes a version Object Lock holds (nor bypasses governance).
        if matches!(cause, DeleteCause::Lifecycle { .. }) && self.version_locked(bucket, key, &id) {
            return Ok(DeleteOutcome { version_id: reported, ..Default::default() });
        }
        if !exists {
            return Ok(DeleteOutcome { version_id: reported, ..Default::default() });
        }
        let (b, k, v) = (bucket.to_string(), key.to_string(), id.clone());
        self.commit(move |tx| persist::delete_object_version(tx, &b, &k, &v)).await?;
        let removed = {
            let mut buckets = self.buckets.write();
            let b = buckets.get_mut(bucket).ok_or_else(|| no_such_bucket(bucket))?;
            let removed = b.objects.get_mut(key).and_then(|k| k.remove(&id));
            if b.objects.get(key).is_some_and(|k| k.is_empty()) {
                b.objects.remove(key);
            }
            removed
        };
        let was_marker = removed.as_ref().is_some_and(|v| v.is_delete_marker());
        if removed.is_some() {
            self.drop_version_file(removed, "").await;
            self.emit(ctx, cause.removed_event(), bucket, key, None, versioning.map(|_| id.as_str()));
        }
        Ok(DeleteOutcome { version_id: reported, delete_marker: was_marker, marker_created: false })
    }

    /// Rewrites the stored headers (tags) of one version without touching its body;
    /// returns the version changed.
    pub(crate) async fn update_object_headers(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        f: impl Fn(&mut ObjHeaders),
    ) -> S3Result<Found> {
        for _ in 0..5 {
            let found = self.lookup(bucket, key, version_id)?;
            let current = found.meta.clone();
            let mut headers = current.headers.clone();
            f(&mut headers);
            let (b, k, v, file, h) = (bucket.to_string(), key.to_string(), current.version_id.clone(), current.file.clone(), headers.clone());
            // Only the same body's row is updated: a version deleted or overwritten
            // meanwhile is not brought back.
            self.commit(move |tx| persist::update_object_headers(tx, &b, &k, &v, &file, &h)).await?;
            let mut buckets = self.buckets.write();
            let bs = buckets.get_mut(bucket).ok_or_else(|| no_such_bucket(bucket))?;
            let Some(versions) = bs.objects.get_mut(key) else { continue };
            let unchanged = matches!(versions.find(&current.version_id), Some(Version::Object(now)) if Arc::ptr_eq(now, &current));
            if !unchanged {
                continue;
            }
            versions.put(Version::Object(Arc::new(ObjMeta { headers, ..(*current).clone() })));
            return Ok(Found { meta: current, versioned: found.versioned });
        }
        Err(crate::provider::internal("object changed too often while tagging".into()))
    }
}
