//! Where a version's body is kept and how it is read back: small bodies in
//! segments (`segments.rs`), larger ones in a file each under `objects/`.

use std::io;

use bytes::Bytes;
use s3s::dto::StreamingBlob;
use s3s::S3Result;

use crate::blob::{self, Received};
use crate::provider::{internal, ObjMeta, State};
use crate::segments::Location;

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
                let f = std::fs::File::open(self.object_path(file))?;
                if len <= crate::segments::SMALL_BODY_MAX {
                    let mut buf = vec![0u8; len as usize];
                    std::os::unix::fs::FileExt::read_exact_at(&f, &mut buf, start)?;
                    return Ok(whole(Bytes::from(buf)));
                }
                Ok(StreamingBlob::wrap(blob::FileStream::spawn(f, start, len)))
            }
        }
    }

    /// A whole body in memory (calls from other services, which take small objects).
    pub(crate) async fn read_body(&self, meta: &ObjMeta) -> io::Result<Bytes> {
        match Location::parse(&meta.file) {
            Location::Segment { segment, offset } => self.segments.read(segment, offset, meta.size),
            Location::File(file) => tokio::fs::read(self.object_path(file)).await.map(Bytes::from),
        }
    }
}

fn whole(body: Bytes) -> StreamingBlob {
    StreamingBlob::wrap(futures_util::stream::once(async move { Ok::<_, io::Error>(body) }))
}
