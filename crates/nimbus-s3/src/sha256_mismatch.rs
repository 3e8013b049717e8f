//! XAmzContentSHA256Mismatch as S3 sends it: with `<ClientComputedContentSHA256>` (the
//! `x-amz-content-sha256` the client signed) and `<S3ComputedContentSHA256>` (the
//! SHA-256 of the body that arrived), both hex. Real S3's answer, as the AWS SDK for
//! JavaScript v3 printed it in a public bug report ("AWS S3 bug reproduction example":
//! `Code`, `ClientComputedContentSHA256`, `S3ComputedContentSHA256`, `RequestId`,
//! `HostId`); OpenStack Swift's s3api, which mirrors S3, writes the same two elements
//! (test/unit/common/middleware/s3api/test_s3request.py,
//! `test_v4_req_xmz_content_sha256_mismatch`).
//!
//! The body's hash is known only to whoever checked it: the short road's own check, or
//! s3s's. Neither reports it, and hashing every signed body a second time to have it
//! ready would double the cost of the commonest upload over plain HTTP (SDKs sign every
//! payload there). So it is worked out only when the check fails, from what the
//! provider received: the whole body on the short road (its check fails at the end of
//! the stream), all of it but the last chunk on the s3s road (s3s's check fails in
//! place of the chunk that completes the body). That chunk is kept, by reference, as it
//! passes on its way into s3s ([`watch`]).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http_body::{Body as HttpBody, Frame, SizeHint};
use parking_lot::Mutex;
use s3s::{S3Error, S3ErrorCode};
use sha2::Digest;

use crate::blob::Received;
use crate::storage_class::{error_element_headers_many, ERROR_CLIENT_SHA256_HEADER, ERROR_S3_SHA256_HEADER};

/// What a body stream's error says when its signed payload hash did not match: the
/// short road's check says it, and s3s's `UploadStreamError::Sha256Mismatch` displays it.
pub(crate) const SHA256_MISMATCH: &str = "Sha256Mismatch";

/// The last chunk of a request body seen on its way into s3s.
#[derive(Clone, Default)]
pub struct Tail(Arc<Mutex<Option<Bytes>>>);

impl Tail {
    fn take(&self) -> Option<Bytes> {
        self.0.lock().take()
    }
}

/// A request body that keeps its latest data chunk in a [`Tail`] (a reference count,
/// not a copy).
struct Watched {
    inner: s3s::Body,
    tail: Tail,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = s3s::StdError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref().filter(|d| !d.is_empty()) {
                *self.tail.0.lock() = Some(data.clone());
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        HttpBody::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> SizeHint {
        HttpBody::size_hint(&self.inner)
    }
}

/// The signed payload hash of a request (`x-amz-content-sha256` as 64 hex digits),
/// or None for an unsigned or streaming payload.
fn signed_hash(headers: &http::HeaderMap) -> Option<&str> {
    let v = headers.get("x-amz-content-sha256")?.to_str().ok()?;
    (v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())).then_some(v)
}

/// On the s3s road: a request with a signed payload keeps its body's last chunk in a
/// [`Tail`] among its extensions, for [`Signed::error`]. A request known to have no
/// body (GETs, mostly) has no chunk to keep.
pub fn watch(req: http::Request<s3s::Body>) -> http::Request<s3s::Body> {
    if signed_hash(req.headers()).is_none() || HttpBody::size_hint(req.body()).exact() == Some(0) {
        return req;
    }
    let tail = Tail::default();
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(tail.clone());
    http::Request::from_parts(parts, s3s::Body::http_body(Watched { inner: body, tail }))
}

/// A request's signed payload hash, and the chunk s3s may have kept from the provider.
pub struct Signed {
    client: String,
    tail: Option<Tail>,
}

impl Signed {
    /// None when the request's payload is not signed whole (nothing to mismatch).
    pub fn of(headers: &http::HeaderMap, extensions: &http::Extensions) -> Option<Self> {
        Some(Signed { client: signed_hash(headers)?.to_string(), tail: extensions.get::<Tail>().cloned() })
    }

    /// The error for a body that failed its hash check, `received` being what arrived
    /// of it (deleted here).
    pub async fn error(&self, received: Received) -> S3Error {
        let tail = self.tail.as_ref().and_then(Tail::take);
        let computed = body_sha256(&received, tail).await;
        received.discard().await;
        mismatch(Some(&self.client), computed.as_deref())
    }
}

/// XAmzContentSHA256Mismatch (400), naming the hashes that are known.
pub fn mismatch(client: Option<&str>, computed: Option<&str>) -> S3Error {
    let mut err = S3Error::with_message(
        S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
    err.set_status_code(http::StatusCode::BAD_REQUEST);
    let elements: Vec<(&'static str, &str)> =
        [(ERROR_CLIENT_SHA256_HEADER, client), (ERROR_S3_SHA256_HEADER, computed)].into_iter().filter_map(|(h, v)| Some((h, v?))).collect();
    err.set_headers(error_element_headers_many(&elements));
    err
}

/// Hex SHA-256 of `received` followed by `tail`; None when the received file cannot be
/// read back.
async fn body_sha256(received: &Received, tail: Option<Bytes>) -> Option<String> {
    let mut hasher = sha2::Sha256::new();
    match received {
        Received::Small { body, .. } => hasher.update(body),
        Received::File(w) => {
            let path = w.tmp.clone();
            hasher = tokio::task::spawn_blocking(move || hash_file(&path, hasher)).await.ok()?.ok()?;
        }
    }
    if let Some(t) = tail {
        hasher.update(&t);
    }
    Some(hex::encode(hasher.finalize()))
}

fn hash_file(path: &std::path::Path, mut hasher: sha2::Sha256) -> std::io::Result<sha2::Sha256> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(hasher),
            n => hasher.update(&buf[..n]),
        }
    }
}

/// Ends `body` where its payload hash check failed, setting `failed`, so the part that
/// arrived is kept (to be hashed) rather than thrown away with an error.
pub fn stop_at_mismatch<S, E>(body: S, failed: &AtomicBool) -> StopAtMismatch<'_, S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    StopAtMismatch { inner: body, failed, done: false }
}

/// See [`stop_at_mismatch`].
pub struct StopAtMismatch<'a, S> {
    inner: S,
    failed: &'a AtomicBool,
    done: bool,
}

impl<S, E> Stream for StopAtMismatch<'_, S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Err(e))) if e.to_string().contains(SHA256_MISMATCH) => {
                self.failed.store(true, Ordering::Relaxed);
                self.done = true;
                Poll::Ready(None)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(sha: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert("x-amz-content-sha256", http::HeaderValue::from_str(sha).unwrap());
        h
    }

    #[test]
    fn only_whole_signed_payloads_count() {
        let sha = hex::encode(sha2::Sha256::digest(b"x"));
        assert_eq!(signed_hash(&headers(&sha)), Some(sha.as_str()));
        for other in ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "abc"] {
            assert_eq!(signed_hash(&headers(other)), None, "{other}");
        }
        assert_eq!(signed_hash(&http::HeaderMap::new()), None);
    }

    #[tokio::test]
    async fn a_failed_check_ends_the_stream_and_is_noted() {
        let items: Vec<Result<Bytes, String>> = vec![Ok(Bytes::from_static(b"ab")), Err(format!("UploadStreamError: {SHA256_MISMATCH}"))];
        let failed = AtomicBool::new(false);
        let got: Vec<_> = futures_util::StreamExt::collect(stop_at_mismatch(futures_util::stream::iter(items), &failed)).await;
        assert_eq!(got, vec![Ok(Bytes::from_static(b"ab"))]);
        assert!(failed.load(Ordering::Relaxed));
        // Any other error goes through, unnoted.
        let items: Vec<Result<Bytes, String>> = vec![Err("IncompleteBody".into())];
        let failed = AtomicBool::new(false);
        let got: Vec<_> = futures_util::StreamExt::collect(stop_at_mismatch(futures_util::stream::iter(items), &failed)).await;
        assert_eq!(got.len(), 1);
        assert!(!failed.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn the_body_hash_includes_the_kept_tail() {
        let received = Received::Small { body: Bytes::from_static(b"hello "), md5: [0; 16] };
        let got = body_sha256(&received, Some(Bytes::from_static(b"world"))).await;
        assert_eq!(got, Some(hex::encode(sha2::Sha256::digest(b"hello world"))));
        let root = std::env::temp_dir().join(format!("nimbus-sha-{}", crate::blob::new_id()));
        std::fs::create_dir_all(&root).unwrap();
        let tmp = root.join("body");
        std::fs::write(&tmp, vec![7u8; 300_000]).unwrap();
        let file = Received::File(crate::blob::Written { tmp, size: 300_000, md5: [0; 16] });
        assert_eq!(body_sha256(&file, None).await, Some(hex::encode(sha2::Sha256::digest(vec![7u8; 300_000]))));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn watched_bodies_keep_their_last_chunk() {
        use http_body_util::BodyExt;
        let chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![Ok(Frame::data(Bytes::from_static(b"one"))), Ok(Frame::data(Bytes::from_static(b"two")))];
        let body = s3s::Body::http_body(http_body_util::StreamBody::new(futures_util::stream::iter(chunks)));
        let sha = hex::encode(sha2::Sha256::digest(b"onetwo"));
        let req = http::Request::builder().header("x-amz-content-sha256", &sha).body(body).unwrap();
        let req = watch(req);
        let signed = Signed::of(req.headers(), req.extensions()).unwrap();
        let _ = req.into_body().collect().await;
        assert_eq!(signed.tail.as_ref().and_then(Tail::take).as_deref(), Some(&b"two"[..]));
        let unsigned = http::Request::builder().header("x-amz-content-sha256", "UNSIGNED-PAYLOAD").body(s3s::Body::from("x".to_string())).unwrap();
        assert!(watch(unsigned).extensions().get::<Tail>().is_none());
        let empty = http::Request::builder().header("x-amz-content-sha256", &sha).body(s3s::Body::empty()).unwrap();
        assert!(watch(empty).extensions().get::<Tail>().is_none());
    }

    #[test]
    fn the_error_names_both_hashes() {
        let mut resp = mismatch(Some("aa"), Some("bb")).to_http_response().unwrap();
        crate::storage_class::add_error_elements(&mut resp);
        assert_eq!(resp.status(), http::StatusCode::BAD_REQUEST);
        let body = resp.body().bytes().unwrap();
        let xml = std::str::from_utf8(&body).unwrap();
        assert!(xml.contains("<Code>XAmzContentSHA256Mismatch</Code>"), "{xml}");
        assert!(xml.contains("</Message><ClientComputedContentSHA256>aa</ClientComputedContentSHA256><S3ComputedContentSHA256>bb</S3ComputedContentSHA256>"), "{xml}");
    }
}
