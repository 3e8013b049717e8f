//! BlockedEncryptionTypes: whether a bucket takes SSE-C writes.
//!
//! A field of each ServerSideEncryptionRule of Put/GetBucketEncryption, `SSE-C` or
//! `NONE` ("Blocking or unblocking SSE-C for a general purpose bucket", S3 User Guide).
//! Since April 2026 S3 blocks SSE-C on every new bucket (and on existing buckets of
//! accounts without SSE-C objects); a blocked bucket answers PutObject, CopyObject,
//! POST, CreateMultipartUpload and UploadPart(Copy) that specify SSE-C with 403
//! AccessDenied, while existing SSE-C objects stay readable with their key.
//!
//! A PutBucketEncryption without the element leaves the setting as it was: a bucket
//! configured that way still reads back `SSE-C` (hashicorp/terraform-provider-aws#47320,
//! trussworks/terraform-aws-logs#333). A rule may hold only the element
//! (`{"Rules":[{"BlockedEncryptionTypes":{"EncryptionType":["NONE"]}}]}` in the user
//! guide); its default encryption is then SSE-S3.
//!
//! s3s 0.14.1 has no such field and refuses the unknown element (MalformedXML), so the
//! element is read from the request body here and cut out before s3s sees it. The body
//! is covered by the signature (its SHA-256 in `x-amz-content-sha256`), so a request
//! signed in its Authorization header is first checked here (body hash and signature),
//! then signed again over the shortened body with the same key, date and scope, as
//! unserved_range.rs does for a Range header. A request that does not check out is
//! left untouched for s3s to refuse. GetBucketEncryption's answer gets the element back
//! in `add_to_answer`.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::HeaderValue;
use nimbus_wire::sigv4;
use quick_xml::events::Event;
use s3s::{Body, S3Error, S3ErrorCode, S3Result};

use crate::provider::State;
use crate::sse_c::Offered;
use crate::Auth;

/// Encryption configurations are a few hundred bytes; larger bodies are left to s3s.
const MAX_BODY: u64 = 64 * 1024;
const SSE_C: &str = "SSE-C";
const NONE: &str = "NONE";

/// What a PutBucketEncryption's BlockedEncryptionTypes asks for (a request extension
/// for the provider; no extension: the request had no such element).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    Block,
    Allow,
    /// A value other than `SSE-C` or `NONE`, or both at once.
    Invalid,
}

/// Rides on a GetBucketEncryption answer: is SSE-C blocked (`add_to_answer`)?
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub blocked: bool,
}

/// The BlockedEncryptionTypes elements of a ServerSideEncryptionConfiguration: the
/// types they list and their byte spans.
#[derive(Debug, Default, PartialEq, Eq)]
struct Found {
    types: Vec<String>,
    spans: Vec<(usize, usize)>,
}

/// Finds `Rule/BlockedEncryptionTypes` in `xml`. None: not well-formed (s3s answers it).
fn find_blocked(xml: &[u8]) -> Option<Found> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut found = Found::default();
    let mut open: Option<usize> = None;
    loop {
        let before = usize::try_from(reader.buffer_position()).ok()?;
        let event = reader.read_event().ok()?;
        let after = usize::try_from(reader.buffer_position()).ok()?;
        let in_rule = path.len() == 2 && path[1] == b"Rule";
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                if in_rule && name == b"BlockedEncryptionTypes" {
                    open = Some(before);
                }
                path.push(name);
            }
            Event::Empty(e) if in_rule && e.local_name().as_ref() == b"BlockedEncryptionTypes" => found.spans.push((before, after)),
            Event::Text(t) if open.is_some() && path.last().is_some_and(|n| n == b"EncryptionType") => {
                found.types.push(t.decode().ok()?.trim().to_string());
            }
            Event::End(_) => {
                path.pop();
                if path.len() == 2 && open.is_some() {
                    found.spans.push((open.take()?, after));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (path.is_empty() && open.is_none()).then_some(found)
}

/// What the listed types ask for (None: nothing listed, the setting is kept).
fn requested(types: &[String]) -> Option<Requested> {
    let block = types.iter().any(|t| t == SSE_C);
    let allow = types.iter().any(|t| t == NONE);
    if types.iter().any(|t| t != SSE_C && t != NONE) || (block && allow) {
        return Some(Requested::Invalid);
    }
    match (block, allow) {
        (true, _) => Some(Requested::Block),
        (_, true) => Some(Requested::Allow),
        _ => None,
    }
}

/// `xml` without the spans.
fn cut(xml: &[u8], spans: &[(usize, usize)]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(xml.len());
    let mut at = 0;
    for &(start, end) in spans {
        out.extend_from_slice(xml.get(at..start)?);
        at = end;
    }
    out.extend_from_slice(xml.get(at..)?);
    Some(out)
}

/// Is `req` a PutBucketEncryption (`PUT /<bucket>?encryption`)?
fn is_put_bucket_encryption<B>(req: &http::Request<B>) -> bool {
    if req.method() != http::Method::PUT {
        return false;
    }
    let query = req.uri().query().unwrap_or("");
    if !query.split('&').any(|p| p.split('=').next() == Some("encryption")) {
        return false;
    }
    // The path names the bucket only: "/" on a virtual host, "/<bucket>" otherwise.
    let host = req.headers().get(http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let virtual_host = crate::routing::virtual_host_bucket(host).is_some();
    let path = req.uri().path().trim_start_matches('/').trim_end_matches('/');
    if virtual_host {
        path.is_empty()
    } else {
        !path.is_empty() && !path.contains('/')
    }
}

/// Reads PutBucketEncryption's BlockedEncryptionTypes into a request extension and
/// hands s3s the configuration without it (re-signed where it was signed). Any other
/// request passes through untouched.
pub async fn take_from_request(req: http::Request<Body>, auth: &Auth) -> http::Request<Body> {
    if !is_put_bucket_encryption(&req) {
        return req;
    }
    let length = req.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let streaming = req.headers().get("x-amz-content-sha256").is_some_and(|v| v.as_bytes().starts_with(b"STREAMING-"));
    if streaming || !length.is_some_and(|l| l <= MAX_BODY) {
        return req;
    }
    let (mut parts, body) = req.into_parts();
    let Some(bytes) = read_all(body).await else {
        // The body broke off: s3s answers what it gets.
        return http::Request::from_parts(parts, Body::empty());
    };
    let Some(found) = find_blocked(&bytes).filter(|f| !f.spans.is_empty()) else {
        return http::Request::from_parts(parts, Body::from(bytes));
    };
    let Some(shorter) = cut(&bytes, &found.spans) else {
        return http::Request::from_parts(parts, Body::from(bytes));
    };
    if !rewrite_headers(&mut parts, &bytes, &shorter, auth) {
        return http::Request::from_parts(parts, Body::from(bytes));
    }
    if let Some(r) = requested(&found.types) {
        parts.extensions.insert(r);
    }
    http::Request::from_parts(parts, Body::from(Bytes::from(shorter)))
}

/// The whole (small) body, or None if it broke off or outgrew `MAX_BODY`.
async fn read_all(mut body: Body) -> Option<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        buf.extend_from_slice(&chunk.ok()?);
        if buf.len() as u64 > MAX_BODY {
            return None;
        }
    }
    Some(buf.freeze())
}

/// Sets the headers for the shorter body (Content-Length, the payload hash, the
/// signature). False: the request cannot be rewritten and is left for s3s to answer.
fn rewrite_headers(parts: &mut http::request::Parts, original: &[u8], shorter: &[u8], auth: &Auth) -> bool {
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let request = sigv4::RequestParts { method: parts.method.as_str(), path: &path, query: &query, headers: &parts.headers };
    let signed = match sigv4::parse(&request) {
        // Anonymous, or SigV2 (whose string to sign has neither the body nor its length).
        Ok(None) => None,
        Ok(Some(s)) => Some(s),
        Err(_) => return false,
    };
    let payload = parts.headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()).map(str::to_string);
    let new_payload = match payload.as_deref() {
        None => None,
        Some(sigv4::UNSIGNED_PAYLOAD) => Some(sigv4::UNSIGNED_PAYLOAD.to_string()),
        // A hash that is not the body's is s3s's to refuse.
        Some(h) if h.eq_ignore_ascii_case(&sigv4::sha256_hex(original)) => Some(sigv4::sha256_hex(shorter)),
        Some(_) => return false,
    };
    let authorization = match &signed {
        None => None,
        Some(s) if s.kind == sigv4::AuthKind::Header => match resign(s, &request, payload.as_deref(), new_payload.as_deref(), shorter.len(), auth) {
            Some(a) => Some(a),
            None => return false,
        },
        // Presigned: fine as long as neither the length nor the hash was signed.
        Some(s) if s.signed_headers.iter().any(|h| h == "content-length" || h == "x-amz-content-sha256") => return false,
        Some(_) => None,
    };
    let headers = &mut parts.headers;
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(shorter.len()));
    if let Some(v) = new_payload.and_then(|p| HeaderValue::from_str(&p).ok()) {
        headers.insert("x-amz-content-sha256", v);
    }
    if let Some(a) = authorization {
        headers.insert(http::header::AUTHORIZATION, a);
    }
    true
}

/// The Authorization header for the request with the shorter body, if the client's
/// signature of the original holds.
fn resign(signed: &sigv4::ParsedAuth, parts: &sigv4::RequestParts, payload: Option<&str>, new_payload: Option<&str>, new_len: usize, auth: &Auth) -> Option<HeaderValue> {
    let (payload, new_payload) = (payload?, new_payload?);
    let mut headers = parts.headers.clone();
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(new_len));
    headers.insert("x-amz-content-sha256", HeaderValue::from_str(new_payload).ok()?);
    let shorter = sigv4::RequestParts { headers: &headers, ..*parts };
    crate::resign::resign(signed, parts, payload, &shorter, new_payload, signed.signed_headers.clone(), auth)
}

/// Puts `<BlockedEncryptionTypes>` into each rule of a GetBucketEncryption answer.
pub fn add_to_answer(resp: &mut http::Response<Body>) {
    let Some(Answer { blocked }) = resp.extensions_mut().remove::<Answer>() else { return };
    if !resp.status().is_success() {
        return;
    }
    let Some(bytes) = resp.body().bytes() else { return };
    let Ok(xml) = std::str::from_utf8(&bytes) else { return };
    let element = format!("<BlockedEncryptionTypes><EncryptionType>{}</EncryptionType></BlockedEncryptionTypes></Rule>", if blocked { SSE_C } else { NONE });
    let xml = xml.replace("</Rule>", &element);
    crate::set_body(resp, xml);
}

fn malformed_xml() -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
}

/// The setting a PutBucketEncryption asks for: Some(true) block, Some(false) allow,
/// None keep; MalformedXML for values S3 does not have.
pub fn requested_setting(extensions: &http::Extensions) -> S3Result<Option<bool>> {
    match extensions.get::<Requested>() {
        None => Ok(None),
        Some(Requested::Block) => Ok(Some(true)),
        Some(Requested::Allow) => Ok(Some(false)),
        Some(Requested::Invalid) => Err(malformed_xml()),
    }
}

impl State {
    /// Is SSE-C blocked on `bucket` (NoSuchBucket when there is none)?
    pub(crate) fn sse_c_blocked(&self, bucket: &str) -> S3Result<bool> {
        self.with_config(bucket, |c| !c.sse_c_allowed)
    }

    /// Refuses a write that specifies SSE-C to a bucket that blocks it, before its
    /// headers are looked at, with S3's message ("Troubleshoot Access Denied (403
    /// Forbidden) errors", S3 User Guide). `action` is the IAM action the message names.
    pub(crate) fn check_sse_c_allowed(
        &self,
        bucket: &str,
        key: &str,
        action: &str,
        caller: Option<&s3s::auth::Credentials>,
        offered: &Offered,
    ) -> S3Result<()> {
        if !offered.any() || !self.sse_c_blocked(bucket)? {
            return Ok(());
        }
        Err(S3Error::with_message(S3ErrorCode::AccessDenied, blocked_message(bucket, key, action, caller)))
    }
}

/// "User: <arn> is not authorized to perform: <action> on resource: "<arn>" because
/// this bucket has blocked upload requests that specify ... (SSE-C). ..." nimbus's
/// callers are their account's root user.
fn blocked_message(bucket: &str, key: &str, action: &str, caller: Option<&s3s::auth::Credentials>) -> String {
    let user = match caller {
        Some(c) => format!("arn:aws:iam::{}:root", nimbus_core::RequestContext::account_for_key(&c.access_key)),
        None => "anonymous".to_string(),
    };
    format!(
        "User: {user} is not authorized to perform: {action} on resource: \"arn:aws:s3:::{bucket}/{key}\" because this bucket has blocked upload requests that specify Server Side Encryption with Customer provided keys (SSE-C). Please specify a different server-side encryption type"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"#;

    #[test]
    fn finds_and_cuts_the_element() {
        let found = find_blocked(XML.as_bytes()).unwrap();
        assert_eq!(found.types, ["NONE"]);
        let cut = String::from_utf8(cut(XML.as_bytes(), &found.spans).unwrap()).unwrap();
        assert!(!cut.contains("Blocked"));
        assert!(cut.contains("</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>"));
        assert_eq!(requested(&found.types), Some(Requested::Allow));
    }

    #[test]
    fn a_rule_of_only_the_element() {
        let xml = "<ServerSideEncryptionConfiguration><Rule>\n  <BlockedEncryptionTypes>\n <EncryptionType>SSE-C</EncryptionType>\n</BlockedEncryptionTypes>\n</Rule></ServerSideEncryptionConfiguration>";
        let found = find_blocked(xml.as_bytes()).unwrap();
        assert_eq!(requested(&found.types), Some(Requested::Block));
        let cut = String::from_utf8(cut(xml.as_bytes(), &found.spans).unwrap()).unwrap();
        assert_eq!(cut.split_whitespace().collect::<String>(), "<ServerSideEncryptionConfiguration><Rule></Rule></ServerSideEncryptionConfiguration>");
        let empty = find_blocked(b"<C><Rule><BlockedEncryptionTypes/></Rule></C>").unwrap();
        assert_eq!((empty.spans.len(), requested(&empty.types)), (1, None));
    }

    #[test]
    fn elsewhere_or_broken_is_left_alone() {
        assert_eq!(find_blocked(b"<C><BlockedEncryptionTypes/></C>").unwrap(), Found::default());
        assert!(find_blocked(b"<C><Rule><BlockedEncryptionTypes>").is_none());
        assert!(find_blocked(b"<C><Rule></C>").is_none());
        assert_eq!(find_blocked(b"").unwrap(), Found::default());
    }

    #[test]
    fn values_s3_does_not_have_are_refused() {
        let v = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(requested(&v(&["SSE-KMS"])), Some(Requested::Invalid));
        assert_eq!(requested(&v(&["SSE-C", "NONE"])), Some(Requested::Invalid));
        assert_eq!(requested(&v(&["SSE-C", "SSE-C"])), Some(Requested::Block));
        assert_eq!(requested(&v(&[])), None);
        let mut ext = http::Extensions::new();
        assert_eq!(requested_setting(&ext).unwrap(), None);
        ext.insert(Requested::Invalid);
        assert_eq!(*requested_setting(&ext).unwrap_err().code(), S3ErrorCode::MalformedXML);
    }

    fn put(uri: &str, host: &str) -> http::Request<()> {
        http::Request::builder().method("PUT").uri(uri).header("host", host).body(()).unwrap()
    }

    #[test]
    fn only_put_bucket_encryption_is_read() {
        assert!(is_put_bucket_encryption(&put("/bkt?encryption", "127.0.0.1:4566")));
        assert!(is_put_bucket_encryption(&put("/bkt?encryption=", "localhost:4566")));
        assert!(is_put_bucket_encryption(&put("/?encryption", "bkt.s3.localhost:4566")));
        assert!(!is_put_bucket_encryption(&put("/bkt/key?encryption", "127.0.0.1:4566")));
        assert!(!is_put_bucket_encryption(&put("/bkt?encryptionx", "127.0.0.1:4566")));
        assert!(!is_put_bucket_encryption(&put("/bkt?tagging", "127.0.0.1:4566")));
        let get = http::Request::builder().method("GET").uri("/bkt?encryption").body(()).unwrap();
        assert!(!is_put_bucket_encryption(&get));
    }

    #[test]
    fn the_answer_gets_the_element() {
        let mut resp = http::Response::new(Body::from("<ServerSideEncryptionConfiguration><Rule><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>".to_string()));
        resp.extensions_mut().insert(Answer { blocked: true });
        add_to_answer(&mut resp);
        let body = resp.body().bytes().unwrap();
        assert!(std::str::from_utf8(&body).unwrap().contains("</BucketKeyEnabled><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule>"));
    }

    #[test]
    fn the_message_names_caller_action_and_object() {
        let m = blocked_message("b", "k", "s3:PutObject", None);
        assert!(m.starts_with("User: anonymous is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" because this bucket has blocked"));
    }
}
