//! Where a version's body is kept and how it is read back: small bodies in
//! segments (`segments.rs`), larger ones in a file each under `objects/`.

use std::io;
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use s3s::dto::StreamingBlob;
use s3s::S3Result;

use crate::blob::{self, Received};
use crate::provider::{internal, ObjMeta, State};
use crate::persist;
use crate::segments::Location;
use crate::versions::Version;

/// How often mostly-dead segments are looked for.
const COMPACT_EVERY: Duration = Duration::from_secs(2);

impl State {
    /// Stores a received body for a version about to be committed; returns the
    /// location its row records. Until that row is committed nothing points to it:
    /// a failed request calls `release_body`.
    pub(crate) async fn store_body(&self, received: Received) -> S3Result<String> {
        match received {
            Received::Small { body, .. } => self.append_small(body).await,
            Received::File(w) => {
                let file = blob::new_id();
                blob::publish(&w.tmp, &self.object_path(&file), self.sync).await.map_err(internal)?;
                Ok(file)
            }
        }
    }

    async fn append_small(&self, body: Bytes) -> S3Result<String> {
        let appended = if self.sync {
            // Strict durability syncs the segment: keep that off the async workers.
            let state = self.segments.clone();
            tokio::task::spawn_blocking(move || state.append(&body)).await.map_err(|e| internal(e.to_string()))?
        } else {
            // A write of at most SMALL_BODY_MAX bytes to the page cache.
            self.segments.append(&body)
        };
        appended.map_err(|e| internal(format!("cannot store object body: {e}")))
    }

    /// The body stored at `location` (`size` bytes) is no longer needed.
    pub(crate) async fn release_body(&self, location: &str, size: u64) {
        match Location::parse(location) {
            Location::Segment { segment, .. } => self.segments.release(segment, size),
            Location::File(file) if !file.is_empty() => {
                self.mapped.forget(file);
                let _ = tokio::fs::remove_file(self.object_path(file)).await;
            }
            Location::File(_) => {}
        }
    }

    /// `len` bytes of a version's body from `start`. Small reads come back whole in
    /// one read; larger ones stream. NotFound means the body was deleted or moved
    /// since `meta` was looked up: look it up again.
    pub(crate) fn body_range(&self, meta: &ObjMeta, start: u64, len: u64) -> io::Result<StreamingBlob> {
        if len == 0 {
            return Ok(whole(Bytes::new()));
        }
        match Location::parse(&meta.file) {
            Location::Segment { segment, offset } => Ok(whole(self.segments.read(segment, offset + start, len)?)),
            Location::File(file) => {
                let range = start as usize..(start + len) as usize;
                if let Some(body) = self.mapped.get(file).filter(|b| b.len() >= range.end) {
                    return Ok(whole(body.slice(range)));
                }
                let f = std::fs::File::open(self.object_path(file))?;
                if len <= crate::segments::SMALL_BODY_MAX {
                    let mut buf = vec![0u8; len as usize];
                    std::os::unix::fs::FileExt::read_exact_at(&f, &mut buf, start)?;
                    return Ok(whole(Bytes::from(buf)));
                }
                self.map_in_background(file, meta.size);
                Ok(StreamingBlob::wrap(blob::FileStream::spawn(f, start, len)))
            }
        }
    }

    /// Maps a large body whole for the reads after this one (this one streams).
    fn map_in_background(&self, file: &str, size: u64) {
        if !crate::mapped::worth_mapping(size) || !self.mapped.begin(file) {
            return;
        }
        let (mapped, file, path) = (self.mapped.clone(), file.to_string(), self.object_path(file));
        tokio::task::spawn_blocking(move || {
            if let Err(e) = mapped.map(&file, &path, size) {
                tracing::debug!(file, error = %e, "S3: body not mapped");
            }
        });
    }

    /// A whole body in memory (calls from other services, which take small objects).
    pub(crate) async fn read_body(&self, meta: &ObjMeta) -> io::Result<Bytes> {
        match Location::parse(&meta.file) {
            Location::Segment { segment, offset } => self.segments.read(segment, offset, meta.size),
            Location::File(file) => tokio::fs::read(self.object_path(file)).await.map(Bytes::from),
        }
    }
}

impl State {
    /// Moves the live bodies out of mostly-dead segments, which are then deleted.
    pub(crate) async fn compact_segments(&self) {
        let wasteful = self.segments.worth_compacting();
        if wasteful.is_empty() {
            return;
        }
        for segment in wasteful {
            if let Err(e) = self.compact_segment(segment).await {
                tracing::warn!(segment, error = %e, "S3: segment compaction stopped");
                return;
            }
        }
        let (size, live) = self.segments.usage();
        tracing::debug!(size, live, "S3: compacted small-object segments");
    }

    async fn compact_segment(&self, segment: u32) -> io::Result<()> {
        let live: Vec<(String, String, Arc<ObjMeta>)> = {
            let buckets = self.buckets.read();
            buckets
                .iter()
                .flat_map(|(bucket, b)| {
                    b.objects.iter().flat_map(move |(key, versions)| {
                        versions.iter().filter_map(move |v| match v {
                            Version::Object(m) if matches!(Location::parse(&m.file), Location::Segment { segment: s, .. } if s == segment) => {
                                Some((bucket.clone(), key.clone(), m.clone()))
                            }
                            _ => None,
                        })
                    })
                })
                .collect()
        };
        for (bucket, key, meta) in live {
            let Location::Segment { offset, .. } = Location::parse(&meta.file) else { continue };
            let body = self.segments.read(segment, offset, meta.size)?;
            let moved = self.append_small(body).await.map_err(|e| io::Error::other(e.to_string()))?;
            let Location::Segment { segment: to, .. } = Location::parse(&moved) else { continue };
            // The swap and the queued row update happen under the lock, so anything
            // that sees the new location is ordered after the update in the store.
            let commit = {
                let mut buckets = self.buckets.write();
                let versions = buckets.get_mut(&bucket).and_then(|b| b.objects.get_mut(&key));
                let current = versions.as_ref().and_then(|k| match k.find(&meta.version_id) {
                    Some(Version::Object(m)) if m.file == meta.file => Some(m.clone()),
                    _ => None,
                });
                match (versions, current) {
                    (Some(versions), Some(current)) => {
                        versions.put(Version::Object(Arc::new(ObjMeta { file: moved.clone(), ..(*current).clone() })));
                        let (b, k, v, from, to) = (bucket.clone(), key.clone(), meta.version_id.clone(), meta.file.clone(), moved.clone());
                        Some(self.store.write(move |tx| persist::move_body(tx, &b, &k, &v, &from, &to)))
                    }
                    // Deleted or replaced meanwhile: the copy is not needed.
                    _ => None,
                }
            };
            match commit {
                None => self.segments.release(to, meta.size),
                Some(done) => match done.await {
                    Ok(()) => self.segments.release(segment, meta.size),
                    // The row still names the old body: keep both live.
                    Err(e) => return Err(io::Error::other(e.to_string())),
                },
            }
        }
        Ok(())
    }
}

/// Runs segment compaction in the background while `state` lives.
pub fn start_compactor(state: Weak<State>) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    handle.spawn(async move {
        let mut tick = tokio::time::interval(COMPACT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else { return };
            state.compact_segments().await;
            state.mapped.expire_idle();
        }
    });
}

fn whole(body: Bytes) -> StreamingBlob {
    StreamingBlob::wrap(futures_util::stream::once(async move { Ok::<_, io::Error>(body) }))
}
