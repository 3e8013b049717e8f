//! What happens to a request body nobody read.
//!
//! S3 answers many errors (a wrong signature, a missing bucket, a bad header) before
//! reading the body. hyper then closes the connection, and a socket closed with
//! unread data in it sends a reset: a client may see "connection reset" instead of
//! S3's error, and a client that reuses the connection sees its next request fail.
//! So a request body gives what was not read of it (by s3s, or by the preflight and
//! website answers, which never read it) back to the connection handler, which reads
//! and drops a small rest (as servers do before closing) and otherwise marks the
//! answer `Connection: close`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use parking_lot::Mutex;

/// Rests up to this size are read and dropped; larger ones close the connection.
const MAX_DRAINED: u64 = 1 << 20;
/// How long to wait for a rest that is slow to come.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Where a dropped, unfinished body is left.
#[derive(Clone, Default)]
pub struct Slot(Arc<Mutex<Option<Incoming>>>);

/// A request body that leaves its unread rest in a `Slot` when dropped.
pub struct Returning {
    inner: Option<Incoming>,
    slot: Slot,
}

impl Returning {
    pub fn new(body: Incoming, slot: &Slot) -> Self {
        Returning { inner: Some(body), slot: slot.clone() }
    }
}

impl HttpBody for Returning {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut().inner.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        if let Some(body) = self.inner.take() {
            if !body.is_end_stream() {
                *self.slot.0.lock() = Some(body);
            }
        }
    }
}

/// Deals with the unread rest of a request body, if any, before `resp` goes out.
/// `expects_continue`: the client waits for `100 Continue` before sending the body;
/// reading it would ask for the whole body, so the connection is closed instead
/// (the client then sends nothing, as RFC 9110 intends).
pub async fn settle(slot: &Slot, expects_continue: bool, resp: &mut http::Response<s3s::Body>) {
    let Some(mut rest) = slot.0.lock().take() else { return };
    let small = rest.size_hint().exact().is_some_and(|n| n <= MAX_DRAINED);
    if !expects_continue && small {
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            use http_body_util::BodyExt;
            while let Some(frame) = rest.frame().await {
                if frame.is_err() {
                    return false;
                }
            }
            true
        })
        .await;
        if drained == Ok(true) {
            return;
        }
    }
    resp.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
}
