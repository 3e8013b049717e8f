//! Browser form uploads (presigned POST), prepared before s3s reads them.
//!
//! s3s reads a form's file whole into memory before it calls the provider, so a 1 GiB
//! browser upload would hold 1 GiB. nimbus therefore splits the form as it arrives:
//! s3s gets the fields ahead of the file, with a stand-in file of the smallest size the
//! policy allows, so that its checks of the signature, the policy's conditions and the
//! fields run as before; the real file goes to the provider beside it as a stream
//! ([`take_file`]) that ends at the form's closing boundary, its size checked against
//! the policy's `content-length-range` as it goes. AWS requires the file to be the
//! form's last field and ignores any field after it; so does this.
//!
//! The key may hold `${filename}`: S3 replaces it with the name of the file the user
//! picked. s3s takes the `key` field as it is, so it is replaced here.
//!
//! s3s's refusals of a form are then worded as S3 words them ([`Form::explain`]).

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use parking_lot::Mutex;
use s3s::dto::StreamingBlob;
use s3s::stream::ByteStream;
use s3s::{s3_error, Body, S3Error, StdError};

/// Form fields ahead of the file are small; past this, nimbus leaves the form to s3s.
const MAX_FIELDS: usize = 1024 * 1024;
/// The largest stand-in file; a policy whose minimum size is larger leaves its form to
/// s3s (which then holds the file in memory).
const MAX_STAND_IN: u64 = 1024 * 1024;
const VARIABLE: &[u8] = b"${filename}";

const SIZE_FITS: u8 = 0;
const TOO_LARGE: u8 = 1;
const TOO_SMALL: u8 = 2;

/// A form upload's policy, as far as nimbus reads it itself.
pub struct Form {
    conditions: Vec<serde_json::Value>,
}

/// A form's file on its way to the provider, among the request's extensions; taken once.
#[derive(Clone)]
struct PostFile {
    stream: Arc<Mutex<Option<FileStream>>>,
    verdict: Arc<AtomicU8>,
}

/// Whether a form's file fitted the policy's content-length-range, once it has streamed.
pub struct SizeCheck(Arc<AtomicU8>);

impl SizeCheck {
    /// S3's refusal of a file outside the range; None when it fitted (or is still arriving).
    pub fn refusal(&self) -> Option<S3Error> {
        match self.0.load(Ordering::Relaxed) {
            TOO_LARGE => Some(s3_error!(EntityTooLarge, "Your proposed upload exceeds the maximum allowed object size.")),
            TOO_SMALL => Some(s3_error!(EntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size.")),
            _ => None,
        }
    }
}

/// The real file of a form upload whose fields s3s read (in place of s3s's stand-in).
pub fn take_file(extensions: &http::Extensions) -> Option<(StreamingBlob, SizeCheck)> {
    let post = extensions.get::<PostFile>()?;
    let stream = post.stream.lock().take()?;
    Some((StreamingBlob::new(stream), SizeCheck(post.verdict.clone())))
}

/// What becomes of a request on its way to s3s.
pub enum Prepared {
    /// To s3s, with the form's policy when it is a form nimbus split.
    Forward(http::Request<Body>, Option<Form>),
    /// Refused before s3s reads it.
    Refused(http::Response<Body>),
}

/// Splits a POST object form (see the module's comment); other requests, and forms
/// nimbus cannot split, pass through whole.
pub async fn prepare(req: http::Request<Body>) -> Prepared {
    let boundary = (req.method() == http::Method::POST).then(|| form_boundary(req.headers())).flatten();
    let Some(boundary) = boundary else { return Prepared::Forward(req, None) };
    let (mut parts, mut body) = req.into_parts();
    let mut head = BytesMut::new();
    let mut ended = false;
    // Read until the file part's headers are in (or the form is too large to care).
    let file_start = loop {
        if let Some(at) = file_content_start(&head) {
            break Some(at);
        }
        if head.len() >= MAX_FIELDS {
            break None;
        }
        match body.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(_)) | None => {
                ended = true;
                break None;
            }
        }
    };
    let head = head.freeze();
    let rest = if ended { Body::empty() } else { body };
    let policy = file_start.map(|at| policy_conditions(&head[..at]));
    let (min, max) = policy.as_deref().map(length_range).unwrap_or((0, u64::MAX));
    // A whole form without a file.
    if file_start.is_none() && ended {
        let e = s3_error!(IncorrectNumberOfFilesInPostRequest, "POST requires exactly one file upload per request.");
        return Prepared::Refused(e.to_http_response().unwrap_or_else(|_| crate::internal_error()));
    }
    // S3 reads no field after the file: a key that comes later is no key.
    if file_start.is_some_and(|at| find(&head[..at], b"name=\"key\"").is_none()) {
        return Prepared::Refused(missing_key());
    }
    let (Some(file_start), true) = (file_start, min <= MAX_STAND_IN) else {
        let whole: s3s::stream::DynByteStream = Box::pin(Prefixed { prefix: Some(head), rest });
        return Prepared::Forward(http::Request::from_parts(parts, Body::from(whole)), None);
    };
    // What s3s reads: the fields (the key's variable replaced), a stand-in file, the end.
    let fields = rewrite(&head[..file_start]).map(Bytes::from).unwrap_or_else(|| head.slice(..file_start));
    let mut form = BytesMut::with_capacity(fields.len() + min as usize + boundary.len() + 8);
    form.extend_from_slice(&fields);
    form.resize(form.len() + min as usize, b'0');
    form.extend_from_slice(b"\r\n--");
    form.extend_from_slice(&boundary);
    form.extend_from_slice(b"--\r\n");
    parts.headers.remove(http::header::TRANSFER_ENCODING);
    parts.headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(form.len()));
    let mut delimiter = b"\r\n--".to_vec();
    delimiter.extend_from_slice(&boundary);
    let verdict = Arc::new(AtomicU8::new(SIZE_FITS));
    let file = FileStream {
        source: Prefixed { prefix: Some(head.slice(file_start..)), rest },
        finder: memchr::memmem::Finder::new(&delimiter).into_owned(),
        pending: BytesMut::new(),
        size: 0,
        range: (min, max),
        verdict: verdict.clone(),
        ended: false,
    };
    parts.extensions.insert(PostFile { stream: Arc::new(Mutex::new(Some(file))), verdict });
    let form_policy = Form { conditions: policy.unwrap_or_default() };
    Prepared::Forward(http::Request::from_parts(parts, Body::from(form.freeze())), Some(form_policy))
}

/// S3's answer to a form without a key ahead of its file.
fn missing_key() -> http::Response<Body> {
    use crate::storage_class::{error_element_headers_many, ERROR_ARGUMENT_NAME_HEADER, ERROR_ARGUMENT_VALUE_HEADER};
    let mut e = S3Error::with_message(
        s3s::S3ErrorCode::InvalidArgument,
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
    );
    e.set_headers(error_element_headers_many(&[(ERROR_ARGUMENT_NAME_HEADER, "key"), (ERROR_ARGUMENT_VALUE_HEADER, "")]));
    e.to_http_response().unwrap_or_else(|_| crate::internal_error())
}

/// The boundary of a `multipart/form-data` request.
fn form_boundary(headers: &http::HeaderMap) -> Option<Vec<u8>> {
    let content_type = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (name, value) = p.split_once('=')?;
        let value = value.trim().trim_matches('"');
        (name.trim().eq_ignore_ascii_case("boundary") && !value.is_empty()).then(|| value.as_bytes().to_vec())
    })
}

/// Where the file's bytes start: after the headers of the part named `file`.
fn file_content_start(head: &[u8]) -> Option<usize> {
    let at = find(head, b"name=\"file\"")?;
    Some(at + find(&head[at..], b"\r\n\r\n")? + 4)
}

/// The conditions of the form's policy (none when it has no policy nimbus can read:
/// s3s then judges it).
fn policy_conditions(fields: &[u8]) -> Vec<serde_json::Value> {
    let value = || -> Option<Vec<serde_json::Value>> {
        let at = find(fields, b"name=\"policy\"")?;
        let start = at + find(&fields[at..], b"\r\n\r\n")? + 4;
        let end = start + find(&fields[start..], b"\r\n")?;
        let json = base64::engine::general_purpose::STANDARD.decode(fields[start..end].trim_ascii()).ok()?;
        let policy: serde_json::Value = serde_json::from_slice(&json).ok()?;
        policy.get("conditions")?.as_array().cloned()
    };
    value().unwrap_or_default()
}

/// The sizes every `content-length-range` condition allows, together.
fn length_range(conditions: &[serde_json::Value]) -> (u64, u64) {
    let number = |v: &serde_json::Value| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok());
    conditions.iter().filter_map(|c| c.as_array()).fold((0, u64::MAX), |(min, max), c| {
        match (c.first().and_then(|k| k.as_str()), c.get(1).and_then(number), c.get(2).and_then(number)) {
            (Some(k), Some(lo), Some(hi)) if k.eq_ignore_ascii_case("content-length-range") => (min.max(lo), max.min(hi)),
            _ => (min, max),
        }
    })
}

impl Form {
    /// Words s3s's refusal of the form as S3 does: "Invalid according to Policy: ...",
    /// 403 AccessDenied, naming the condition that failed as the policy wrote it, the
    /// field no condition covers, or the policy's expiry.
    pub fn explain(&self, resp: &mut http::Response<Body>) {
        if resp.status().is_success() || resp.status().is_redirection() {
            return;
        }
        let Some(bytes) = resp.body().bytes() else { return };
        let Ok(xml) = std::str::from_utf8(&bytes) else { return };
        let (Some(code), Some(message)) = (element(xml, "Code"), element(xml, "Message")) else { return };
        let reason = match (code.as_str(), message.as_str()) {
            ("AccessDenied", "Request has expired") => "Policy expired.".to_string(),
            ("AccessDenied", m) if m.starts_with("Each form field that you specify") => match m.split('"').nth(1) {
                Some(field) => format!("Extra input fields: {field}"),
                None => return,
            },
            ("InvalidPolicyDocument", m) if m.starts_with("Policy condition '") => {
                let mut quoted = m.split('\'').skip(1).step_by(2);
                match (quoted.next(), quoted.next()) {
                    (Some(kind), Some(field)) => match self.condition(kind, field) {
                        Some(condition) => format!("Policy Condition failed: {condition}"),
                        None => "Policy Condition failed".to_string(),
                    },
                    _ => return,
                }
            }
            _ => return,
        };
        let denied = S3Error::with_message(s3s::S3ErrorCode::AccessDenied, format!("Invalid according to Policy: {reason}"));
        if let Ok(answer) = denied.to_http_response() {
            *resp = answer;
        }
    }

    /// The policy's `kind` condition on `field`, written as S3 quotes it:
    /// `["eq", "$acl", "public-read"]` (the object form `{"acl": "public-read"}` too).
    fn condition(&self, kind: &str, field: &str) -> Option<String> {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        self.conditions.iter().find_map(|c| {
            let (k, name, value) = match c {
                serde_json::Value::Object(o) if o.len() == 1 => {
                    let (name, value) = o.iter().next()?;
                    ("eq".to_string(), format!("${name}"), value.as_str()?.to_string())
                }
                serde_json::Value::Array(a) if a.len() == 3 => (a[0].as_str()?.to_ascii_lowercase(), a[1].as_str()?.to_string(), a[2].as_str()?.to_string()),
                _ => return None,
            };
            (k == kind && name.trim_start_matches('$').eq_ignore_ascii_case(field)).then(|| format!("[{}, {}, {}]", quote(&k), quote(&name), quote(&value)))
        })
    }
}

/// The unescaped text of an error document's first `<name>` element.
fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{name}>"))?;
    quick_xml::escape::unescape(&xml[start..start + len]).ok().map(|t| t.into_owned())
}

/// A form's file: its bytes up to the form's closing boundary, counted against the
/// policy's size range.
struct FileStream {
    source: Prefixed,
    finder: memchr::memmem::Finder<'static>,
    /// Bytes not yet passed on: the boundary may straddle two chunks.
    pending: BytesMut,
    size: u64,
    range: (u64, u64),
    verdict: Arc<AtomicU8>,
    ended: bool,
}

impl FileStream {
    /// Passes `bytes` on, or ends the file when its size leaves the range.
    fn pass(&mut self, bytes: Bytes, last: bool) -> Option<Result<Bytes, StdError>> {
        self.size += bytes.len() as u64;
        let (min, max) = self.range;
        let refused = if self.size > max {
            TOO_LARGE
        } else if last && self.size < min {
            TOO_SMALL
        } else if bytes.is_empty() {
            return None;
        } else {
            return Some(Ok(bytes));
        };
        self.ended = true;
        self.verdict.store(refused, Ordering::Relaxed);
        Some(Err("the form's file is outside the policy's content-length-range".into()))
    }
}

impl Stream for FileStream {
    type Item = Result<Bytes, StdError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(at) = this.finder.find(&this.pending) {
                let file_end = this.pending.split_to(at).freeze();
                this.pending.clear();
                this.ended = true;
                return Poll::Ready(this.pass(file_end, true));
            }
            // Keep back what could be the start of the boundary.
            let keep = this.finder.needle().len() - 1;
            if this.pending.len() > keep {
                let ready_bytes = this.pending.split_to(this.pending.len() - keep).freeze();
                return Poll::Ready(this.pass(ready_bytes, false));
            }
            match ready!(Pin::new(&mut this.source).poll_next(cx)) {
                Some(Ok(chunk)) => this.pending.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    this.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    this.ended = true;
                    return Poll::Ready(Some(Err("the form ended before its closing boundary".into())));
                }
            }
        }
    }
}

impl ByteStream for FileStream {}

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

    /// The file of a form that arrives in `chunks`, read through a FileStream whose
    /// size range is `range`.
    async fn file_of(chunks: &[&[u8]], range: (u64, u64)) -> (Vec<Result<Bytes, String>>, u8) {
        let frames: Vec<Result<http_body::Frame<Bytes>, std::io::Error>> = chunks.iter().map(|c| Ok(http_body::Frame::data(Bytes::copy_from_slice(c)))).collect();
        let rest = Body::http_body(http_body_util::StreamBody::new(futures_util::stream::iter(frames)));
        let verdict = Arc::new(AtomicU8::new(SIZE_FITS));
        let file = FileStream {
            source: Prefixed { prefix: None, rest },
            finder: memchr::memmem::Finder::new(b"\r\n--b").into_owned(),
            pending: BytesMut::new(),
            size: 0,
            range,
            verdict: verdict.clone(),
            ended: false,
        };
        let items = file.map(|r| r.map_err(|e| e.to_string())).collect().await;
        (items, verdict.load(Ordering::Relaxed))
    }

    fn joined(items: &[Result<Bytes, String>]) -> Vec<u8> {
        items.iter().filter_map(|r| r.as_ref().ok()).flat_map(|b| b.to_vec()).collect()
    }

    #[tokio::test]
    async fn the_file_ends_at_the_boundary_wherever_the_reads_split_it() {
        let form = b"DATA\r\n-x\r\n--c\r\n--b--\r\n";
        for split in 0..form.len() {
            let (items, verdict) = file_of(&[&form[..split], &form[split..]], (0, u64::MAX)).await;
            assert_eq!(joined(&items), b"DATA\r\n-x\r\n--c", "split at {split}");
            assert!(items.iter().all(|r| r.is_ok()));
            assert_eq!(verdict, SIZE_FITS);
        }
        let (items, _) = file_of(&[b"\r\n--b--\r\n"], (0, u64::MAX)).await;
        assert!(items.is_empty(), "an empty file");
    }

    #[tokio::test]
    async fn a_file_outside_the_range_is_refused() {
        let (items, verdict) = file_of(&[b"0123456789", b"abc\r\n--b--"], (0, 12)).await;
        assert!(items.last().unwrap().is_err());
        assert_eq!(verdict, TOO_LARGE);
        let (items, verdict) = file_of(&[b"01\r\n--b--"], (3, 12)).await;
        assert!(items.last().unwrap().is_err());
        assert_eq!(verdict, TOO_SMALL);
        let (items, verdict) = file_of(&[b"012\r\n--b--"], (3, 3)).await;
        assert_eq!(joined(&items), b"012");
        assert_eq!(verdict, SIZE_FITS);
        // A form cut off before its closing boundary is an error, not a shorter file.
        let (items, _) = file_of(&[b"0123"], (0, u64::MAX)).await;
        assert!(items.last().unwrap().is_err());
    }

    #[test]
    fn reads_the_policy_and_the_boundary() {
        let policy = base64::engine::general_purpose::STANDARD
            .encode(r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b"},["content-length-range",5,100],["content-length-range","10","50"]]}"#);
        let fields = format!("--b\r\nContent-Disposition: form-data; name=\"Policy\"\r\n\r\n{policy}\r\n");
        let conditions = policy_conditions(fields.as_bytes());
        assert_eq!(conditions.len(), 3);
        assert_eq!(length_range(&conditions), (10, 50));
        let form = Form { conditions };
        assert_eq!(form.condition("eq", "bucket").as_deref(), Some(r#"["eq", "$bucket", "b"]"#));
        let mut h = http::HeaderMap::new();
        h.insert("content-type", http::HeaderValue::from_static("multipart/form-data; boundary=\"----x y\""));
        assert_eq!(form_boundary(&h).as_deref(), Some(&b"----x y"[..]));
        h.insert("content-type", http::HeaderValue::from_static("application/x-www-form-urlencoded"));
        assert_eq!(form_boundary(&h), None);
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
