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
//!
//! Operations whose XML body s3s reads itself (PutBucketTagging, DeleteObjects, …) never
//! reach the provider: s3s turns the failed check into a 500 InternalError. A body of
//! up to [`KEEP_WHOLE_MAX`] bytes is therefore kept whole (by reference) on its way in,
//! and such a 500 is turned into the mismatch when the kept body's hash is not the one
//! the client signed ([`Watch::explain`]).

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

/// The largest body kept whole on its way into s3s (XML documents are far smaller;
/// larger bodies are uploads, whose check the provider explains).
const KEEP_WHOLE_MAX: u64 = 1 << 20;

/// What a request body showed on its way into s3s: its last data chunk, and all of it
/// when it is small enough to keep whole.
#[derive(Default)]
struct Seen {
    last: Option<Bytes>,
    whole: Option<Vec<Bytes>>,
}

/// The chunks of a request body seen on its way into s3s (references, not copies).
#[derive(Clone, Default)]
pub struct Tail(Arc<Mutex<Seen>>);

impl Tail {
    fn take(&self) -> Option<Bytes> {
        self.0.lock().last.take()
    }

    /// The length and hex SHA-256 of the body, when kept whole (hashed where it lies).
    fn whole_sha256(&self) -> Option<(u64, String)> {
        let seen = self.0.lock();
        let chunks = seen.whole.as_ref()?;
        let mut hasher = sha2::Sha256::new();
        chunks.iter().for_each(|c| hasher.update(c));
        Some((chunks.iter().map(|c| c.len() as u64).sum(), hex::encode(hasher.finalize())))
    }
}

/// A request body that keeps its latest data chunk (and every chunk, if its [`Tail`]
/// keeps the body whole) as it passes.
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
                let mut seen = self.tail.0.lock();
                seen.last = Some(data.clone());
                if let Some(whole) = &mut seen.whole {
                    whole.push(data.clone());
                }
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
/// [`Tail`] among its extensions, for [`Signed::error`], and a small body whole, for
/// [`Watch::explain`]. A request known to have no body (GETs, mostly) has no chunk to
/// keep.
pub fn watch(req: http::Request<s3s::Body>) -> (http::Request<s3s::Body>, Option<Watch>) {
    let Some(client) = signed_hash(req.headers()).map(str::to_string) else { return (req, None) };
    let length = HttpBody::size_hint(req.body()).exact();
    if length == Some(0) {
        return (req, None);
    }
    let declared = req.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let keep_whole = declared.filter(|n| *n <= KEEP_WHOLE_MAX);
    let tail = Tail(Arc::new(Mutex::new(Seen { last: None, whole: keep_whole.map(|_| Vec::new()) })));
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(tail.clone());
    let req = http::Request::from_parts(parts, s3s::Body::http_body(Watched { inner: body, tail: tail.clone() }));
    let watch = keep_whole.map(|length| Watch { client, length, tail });
    (req, watch)
}

/// A small signed body on its way into s3s, kept to explain s3s's answer to it.
pub struct Watch {
    client: String,
    length: u64,
    tail: Tail,
}

impl Watch {
    /// Turns s3s's 500 for a body that failed its hash check into
    /// XAmzContentSHA256Mismatch. Only a body that arrived whole and whose hash is not
    /// the signed one counts; any other 500 stays as it is.
    pub fn explain(&self, resp: &mut http::Response<s3s::Body>) {
        if resp.status() != http::StatusCode::INTERNAL_SERVER_ERROR {
            return;
        }
        let Some((length, computed)) = self.tail.whole_sha256() else { return };
        if length != self.length || computed == self.client {
            return;
        }
        if let Ok(answer) = mismatch(Some(&self.client), Some(&computed)).to_http_response() {
            *resp = answer;
        }
    }
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
        let (req, _) = watch(req);
        let signed = Signed::of(req.headers(), req.extensions()).unwrap();
        let _ = req.into_body().collect().await;
        assert_eq!(signed.tail.as_ref().and_then(Tail::take).as_deref(), Some(&b"two"[..]));
        let unsigned = http::Request::builder().header("x-amz-content-sha256", "UNSIGNED-PAYLOAD").body(s3s::Body::from("x".to_string())).unwrap();
        assert!(watch(unsigned).0.extensions().get::<Tail>().is_none());
        let empty = http::Request::builder().header("x-amz-content-sha256", &sha).body(s3s::Body::empty()).unwrap();
        assert!(watch(empty).0.extensions().get::<Tail>().is_none());
    }

    /// A streamed body of `chunks`, signed as `signed_body` (its Content-Length that of
    /// the chunks), watched; and s3s's 500, read through.
    async fn explained(chunks: &[&'static [u8]], signed_body: &[u8]) -> Option<http::Response<s3s::Body>> {
        use http_body_util::BodyExt;
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = chunks.iter().map(|c| Ok(Frame::data(Bytes::from_static(c)))).collect();
        let body = s3s::Body::http_body(http_body_util::StreamBody::new(futures_util::stream::iter(frames)));
        let length: usize = chunks.iter().map(|c| c.len()).sum();
        let req = http::Request::builder()
            .header("x-amz-content-sha256", hex::encode(sha2::Sha256::digest(signed_body)))
            .header("content-length", length.to_string())
            .body(body)
            .unwrap();
        let (req, watch) = watch(req);
        let _ = req.into_body().collect().await;
        let mut resp = crate::internal_error();
        watch?.explain(&mut resp);
        Some(resp)
    }

    #[tokio::test]
    async fn a_500_for_a_small_body_that_fails_its_check_becomes_the_mismatch() {
        let resp = explained(&[b"<Tagging>", b"</Tagging>"], b"something else").await.unwrap();
        assert_eq!(resp.status(), http::StatusCode::BAD_REQUEST);
        assert_eq!(resp.headers().get(ERROR_CLIENT_SHA256_HEADER).unwrap(), &hex::encode(sha2::Sha256::digest(b"something else")));
        assert_eq!(resp.headers().get(ERROR_S3_SHA256_HEADER).unwrap(), &hex::encode(sha2::Sha256::digest(b"<Tagging></Tagging>")));
        // A body whose hash holds: the 500 is about something else, and stays.
        let resp = explained(&[b"<Tagging>", b"</Tagging>"], b"<Tagging></Tagging>").await.unwrap();
        assert_eq!(resp.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn a_body_that_did_not_arrive_whole_is_not_judged() {
        use http_body_util::BodyExt;
        let body = s3s::Body::http_body(http_body_util::StreamBody::new(futures_util::stream::iter(vec![Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(b"abc")))])));
        let req = http::Request::builder()
            .header("x-amz-content-sha256", hex::encode(sha2::Sha256::digest(b"x")))
            .header("content-length", "10")
            .body(body)
            .unwrap();
        let (req, watched) = watch(req);
        let _ = req.into_body().collect().await;
        let mut resp = crate::internal_error();
        watched.unwrap().explain(&mut resp);
        assert_eq!(resp.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        // Too large to keep whole: only the last chunk is kept.
        let req = http::Request::builder()
            .header("x-amz-content-sha256", hex::encode(sha2::Sha256::digest(b"x")))
            .header("content-length", (KEEP_WHOLE_MAX + 1).to_string())
            .body(s3s::Body::from("x".to_string()))
            .unwrap();
        assert!(watch(req).1.is_none());
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
