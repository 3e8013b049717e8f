//! Browser form uploads (presigned POST) may name the key `uploads/${filename}`: S3
//! replaces `${filename}` with the name of the file the user picked. s3s takes the
//! `key` field as it is, so nimbus substitutes it before s3s reads the form. Only the
//! form fields ahead of the file are buffered (AWS requires the file to be the last
//! field); the file itself keeps streaming.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use s3s::stream::ByteStream;
use s3s::{Body, StdError};

/// Form fields ahead of the file are small; past this, nimbus leaves the form alone.
const MAX_FIELDS: usize = 1024 * 1024;
const VARIABLE: &[u8] = b"${filename}";

/// Rewrites a POST object form whose `key` holds `${filename}`; other requests pass through.
pub async fn substitute(req: http::Request<Body>) -> http::Request<Body> {
    let is_form = req.method() == http::Method::POST
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_form {
        return req;
    }
    let (mut parts, mut body) = req.into_parts();
    let mut head = BytesMut::new();
    let mut ended = false;
    // Read until the file part's headers are in (or the form is too large to care).
    while find(&head, b"name=\"file\"").and_then(|at| find(&head[at..], b"\r\n\r\n")).is_none() && head.len() < MAX_FIELDS {
        match body.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(_)) | None => {
                ended = true;
                break;
            }
        }
    }
    let head = head.freeze();
    let rewritten = rewrite(&head);
    let delta = rewritten.as_ref().map_or(0, |r| r.len() as i64 - head.len() as i64);
    if delta != 0 {
        let length = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok());
        if let Some(v) = length.and_then(|l| http::HeaderValue::from_str(&(l + delta).to_string()).ok()) {
            parts.headers.insert(http::header::CONTENT_LENGTH, v);
        }
    }
    let prefix = rewritten.map(Bytes::from).unwrap_or(head);
    let rest = if ended { Body::empty() } else { body };
    let stream: s3s::stream::DynByteStream = Box::pin(Prefixed { prefix: Some(prefix), rest });
    http::Request::from_parts(parts, Body::from(stream))
}

/// The form's start with `${filename}` in the key field replaced by the file's name,
/// or None when there is nothing to replace.
fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let key_at = find(head, b"name=\"key\"")?;
    let value_start = key_at + find(&head[key_at..], b"\r\n\r\n")? + 4;
    let value_end = value_start + find(&head[value_start..], b"\r\n")?;
    let var = value_start + find(&head[value_start..value_end], VARIABLE)?;
    let file_at = find(head, b"name=\"file\"")?;
    let header_end = file_at + find(&head[file_at..], b"\r\n")?;
    let line = &head[file_at..header_end];
    let name_at = find(line, b"filename=\"")? + b"filename=\"".len();
    let name_end = name_at + find(&line[name_at..], b"\"")?;
    // Browsers on Windows send a full path; S3 keeps the last component.
    let full = &line[name_at..name_end];
    let file_name = full.rsplit(|c| *c == b'\\' || *c == b'/').next().unwrap_or(full);
    let mut out = Vec::with_capacity(head.len() + file_name.len());
    out.extend_from_slice(&head[..var]);
    out.extend_from_slice(file_name);
    out.extend_from_slice(&head[var + VARIABLE.len()..]);
    Some(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

/// The buffered start of a body, then the rest of it.
struct Prefixed {
    prefix: Option<Bytes>,
    rest: Body,
}

impl Stream for Prefixed {
    type Item = Result<Bytes, StdError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(p) = self.prefix.take() {
            if !p.is_empty() {
                return Poll::Ready(Some(Ok(p)));
            }
        }
        Pin::new(&mut self.rest).poll_next(cx)
    }
}

impl ByteStream for Prefixed {}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(key: &str, filename: &str) -> Vec<u8> {
        format!(
            "--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n{key}\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\nDATA\r\n--b--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn replaces_the_variable_with_the_file_name() {
        let out = rewrite(&form("uploads/${filename}", "cat.png")).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("\r\n\r\nuploads/cat.png\r\n"));
        let out = rewrite(&form("u/${filename}", "C:\\Users\\me\\dog.jpg")).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("\r\n\r\nu/dog.jpg\r\n"));
        assert!(rewrite(&form("plain-key", "cat.png")).is_none());
    }
}
