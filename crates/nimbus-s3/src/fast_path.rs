//! A shorter road for the commonest requests: a plain GetObject, HeadObject or
//! PutObject signed in its `Authorization` header.
//!
//! s3s's generic route cost about a third of a small GET's server time: it derives the
//! SigV4 signing key anew for every request (four HMACs), builds the canonical request
//! through several allocations, and decodes and encodes every operation field by field.
//! Here the signature is checked by nimbus-wire's verifier (signing key cached), the
//! caller authorized by the same `State::authorize`, and the request answered by the
//! same `Provider` methods; only s3s's decoding and encoding are replaced.
//!
//! A request qualifies only when everything about it is known to mean nothing more
//! than the operation itself: no query (but the SDKs' `x-id`), no header beyond the
//! allow-list below, a SigV4 header signature in the SDKs' exact layout over an
//! unsigned, empty or whole signed payload (checked as it streams), and, for a PUT, a
//! bucket that exists. Anything else takes the full route through s3s, so every
//! refusal before the operation (signature, permission, names) is s3s's; the
//! operation's own errors are encoded with s3s's encoder.
//!
//! A Range S3 does not serve (several ranges, or not a byte range) is ignored, as S3
//! does; on the s3s road, unserved_range.rs takes it off the request first.

use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use nimbus_wire::sigv4;
use s3s::dto::{ChecksumMode, ETagCondition, GetObjectInput, HeadObjectInput, Metadata, PutObjectInput, Range, Timestamp, TimestampFormat};
use s3s::path::S3Path;
use s3s::{Body, S3Request, S3Response, S3};

use crate::ops_access::AccessRequest;
use crate::provider::{Provider, State};

/// The hash of an empty payload, what SDKs sign for a GET.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Get,
    Head,
    Put,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Get => "GetObject",
            Op::Head => "HeadObject",
            Op::Put => "PutObject",
        }
    }
}

/// A request found fit for the short road, with what checking it established.
pub(crate) struct Plan {
    op: Op,
    bucket: String,
    key: String,
    access_key: String,
    secret_key: String,
    region: s3s::region::Region,
}

/// Headers every qualifying request may carry (besides Content-Length, checked on its
/// own): routing, signing and connection headers, none of which changes what the
/// operation does.
fn neutral_header(name: &str) -> bool {
    matches!(
        name,
        "host"
            | "authorization"
            | "x-amz-date"
            | "x-amz-content-sha256"
            | "user-agent"
            | "x-amz-user-agent"
            | "amz-sdk-invocation-id"
            | "amz-sdk-request"
            | "accept"
            | "accept-encoding"
            | "connection"
            | "keep-alive"
            | "origin"
            // Temporary credentials' token: nimbus has no STS and reads it on neither road.
            | "x-amz-security-token"
    )
}

/// Headers a qualifying GetObject or HeadObject may also carry (boto3 asks for
/// checksums on every GetObject; browsers revalidate with the conditions).
fn read_header(name: &str) -> bool {
    matches!(
        name,
        "range" | "x-amz-checksum-mode" | "if-match" | "if-none-match" | "if-modified-since" | "if-unmodified-since"
    )
}

/// A read's conditional headers, parsed as s3s parses them; Err when s3s would refuse
/// one (the request then goes through s3s for its answer).
struct Conditions {
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
}

impl Conditions {
    fn parse(headers: &HeaderMap) -> Result<Self, ()> {
        let etag = |name: http::header::HeaderName| match headers.get(name) {
            Some(v) => ETagCondition::parse_http_header(v.as_bytes()).map(Some).map_err(|_| ()),
            None => Ok(None),
        };
        let date = |name: http::header::HeaderName| match headers.get(name) {
            Some(v) => v.to_str().ok().and_then(|v| Timestamp::parse(TimestampFormat::HttpDate, v).ok()).map(Some).ok_or(()),
            None => Ok(None),
        };
        Ok(Conditions {
            if_match: etag(http::header::IF_MATCH)?,
            if_none_match: etag(http::header::IF_NONE_MATCH)?,
            if_modified_since: date(http::header::IF_MODIFIED_SINCE)?,
            if_unmodified_since: date(http::header::IF_UNMODIFIED_SINCE)?,
        })
    }
}

/// Headers a qualifying PutObject may also carry: each maps to one input field that
/// s3s takes verbatim.
fn put_header(name: &str) -> bool {
    matches!(
        name,
        "content-type"
            | "content-md5"
            | "expect"
            | "x-amz-checksum-crc32"
            | "x-amz-checksum-crc32c"
            | "x-amz-checksum-crc64nvme"
            | "x-amz-checksum-sha1"
            | "x-amz-checksum-sha256"
            | "x-amz-sdk-checksum-algorithm"
            | "x-amz-checksum-algorithm"
    )
}

/// Decides whether `req` (its SigV4 authentication parsed as `signed`) may take the
/// short road, checking its signature and its caller's permission on the way. None
/// sends it through s3s.
pub(crate) fn plan<B>(req: &http::Request<B>, signed: Option<sigv4::ParsedAuth>, auth: &crate::Auth, state: &State, source_ip: &str) -> Option<Plan> {
    let op = match *req.method() {
        Method::GET => Op::Get,
        Method::HEAD => Op::Head,
        Method::PUT => Op::Put,
        _ => return None,
    };
    let query = req.uri().query().unwrap_or("");
    if !(query.is_empty() || (op == Op::Put && query == "x-id=PutObject") || (op == Op::Get && query == "x-id=GetObject")) {
        return None;
    }
    let headers = req.headers();
    // s3s refuses a repeated header its operation reads; the short road would take
    // the first.
    if headers.len() != headers.keys_len() {
        return None;
    }
    let mut has_body = false;
    for (name, value) in headers {
        let name = name.as_str();
        if name == "content-length" {
            has_body = value.as_bytes() != b"0";
            // s3s refuses a length it cannot read as a (signed 64-bit) number.
            value.to_str().ok()?.parse::<i64>().ok()?;
        } else if !(neutral_header(name) || (op == Op::Put && put_header(name)) || (op != Op::Put && read_header(name))) {
            return None;
        }
        // s3s takes header values as UTF-8 text (anything else is its to refuse) and an
        // empty one as absent.
        if value.is_empty() {
            return None;
        }
        value.to_str().ok()?;
    }
    let payload = headers.get("x-amz-content-sha256")?.to_str().ok()?;
    match op {
        Op::Get | Op::Head if has_body || headers.contains_key(http::header::TRANSFER_ENCODING) => return None,
        Op::Get | Op::Head if payload != EMPTY_SHA256 && payload != sigv4::UNSIGNED_PAYLOAD => return None,
        // A PUT needs its length (s3s answers MissingContentLength); its payload is
        // unsigned or signed whole (aws-chunked bodies go through s3s).
        Op::Put if !headers.contains_key(http::header::CONTENT_LENGTH) || (payload != sigv4::UNSIGNED_PAYLOAD && PayloadHash::parse(payload).is_none()) => return None,
        _ => {}
    }

    let (bucket, key) = object_path(req)?;
    // nimbus-wire's verifier tolerates variants real clients produce that s3s does
    // not; those stay with s3s: a path not already in canonical form (or with an
    // encoded '/', which s3s decodes before signing), and any Authorization header
    // but the SDKs' exact layout.
    let path = req.uri().path();
    if !canonical_as_s3s(path) {
        return None;
    }
    let parts = sigv4::RequestParts { method: req.method().as_str(), path, query, headers };
    let signed = signed?;
    if signed.kind != sigv4::AuthKind::Header || signed.credential.service != "s3" || !in_sdk_layout(&signed, headers) {
        return None;
    }
    let region = s3s::region::Region::new(signed.credential.region.as_str().into()).ok()?;
    let secret_key = auth.secret(&signed.credential.access_key)?.to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    // Near the 15-minute skew limit s3s's sub-second comparison decides.
    let signed_at = sigv4::parse_amz_date(&signed.amz_date)?;
    if now.abs_diff(signed_at) >= sigv4::MAX_CLOCK_SKEW_SECS - 1 {
        return None;
    }
    sigv4::verify(&signed, &parts, payload, &secret_key, now, true).ok()?;
    // A PUT to a missing bucket would fail after taking the body.
    if op == Op::Put && !state.bucket_exists(&bucket) {
        return None;
    }
    let account = nimbus_core::RequestContext::account_for_key(&signed.credential.access_key);
    state
        .authorize(&AccessRequest {
            op: op.name(),
            bucket: Some(&bucket),
            key: Some(&key),
            caller: crate::policy_eval::Caller::Account(&account),
            method: req.method(),
            headers,
            query: req.uri().query(),
            source_ip,
        })
        .ok()?;
    let sigv4::ParsedAuth { credential, .. } = signed;
    Some(Plan { op, bucket, key, access_key: credential.access_key, secret_key, region })
}

/// Is `path` one that s3s and nimbus-wire's common form canonicalize alike: already
/// in canonical form, and no encoded '/' (which s3s decodes before signing).
pub(crate) fn canonical_as_s3s(path: &str) -> bool {
    sigv4::canonical_uri(path, true) == path && !path.contains("%2F") && !path.contains("%2f")
}

/// Is the Authorization header exactly what the SDKs send (and all s3s accepts):
/// `AWS4-HMAC-SHA256 Credential=<key>/<scope>, SignedHeaders=<names>, Signature=<hex>`,
/// the names lower-case, sorted, unrepeated and all present, the signature lower-case?
fn in_sdk_layout(signed: &sigv4::ParsedAuth, headers: &HeaderMap) -> bool {
    let names = &signed.signed_headers;
    let sorted = names.windows(2).all(|w| w[0] < w[1]);
    let present = names.iter().all(|n| n != "authorization" && headers.contains_key(n.as_str()));
    let lower_hex = |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !(sorted && present && lower_hex(&signed.signature)) {
        return false;
    }
    headers.get(http::header::AUTHORIZATION).is_some_and(|v| signed.is_authorization(v.as_bytes()))
}

/// The bucket and key a request names, as s3s reads them (path or virtual-hosted
/// style); None when it names no object or s3s would refuse the names.
fn object_path<B>(req: &http::Request<B>) -> Option<(String, String)> {
    let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8().ok()?;
    let host = req.headers().get(http::header::HOST)?.to_str().ok()?;
    let vh_bucket = crate::routing::virtual_host_bucket(host);
    match s3s::path::parse_virtual_hosted_style(vh_bucket, &path).ok()? {
        S3Path::Object { bucket, key } => Some((bucket.into(), key.into())),
        _ => None,
    }
}

impl Plan {
    /// GET and HEAD are answered without consuming the request (see `read`).
    pub(crate) fn is_read(&self) -> bool {
        self.op != Op::Put
    }

    fn request<T>(&self, input: T, method: Method, uri: http::Uri, headers: HeaderMap, extensions: http::Extensions) -> S3Request<T> {
        S3Request {
            input,
            method,
            uri,
            headers,
            extensions,
            credentials: Some(s3s::auth::Credentials {
                access_key: self.access_key.clone(),
                secret_key: self.secret_key.as_str().into(),
            }),
            region: Some(self.region.clone()),
            service: Some("s3".to_string()),
            trailing_headers: None,
        }
    }

    /// Answers a GET or HEAD without consuming `req`. None (a condition s3s refuses,
    /// or an answer that cannot be encoded) sends it through s3s.
    pub(crate) async fn read(&self, state: &Arc<State>, req: &http::Request<Body>) -> Option<http::Response<Body>> {
        let Conditions { if_match, if_none_match, if_modified_since, if_unmodified_since } = Conditions::parse(req.headers()).ok()?;
        let provider = Provider { state: state.clone() };
        let (method, uri, headers) = (req.method().clone(), req.uri().clone(), req.headers().clone());
        let extensions = req.extensions().clone();
        // A Range S3 does not serve (several ranges, or not a byte range) is ignored,
        // as RFC 9110 allows and S3 does: the whole object comes back.
        let range = headers.get(http::header::RANGE).and_then(|v| v.to_str().ok()).and_then(|v| Range::parse(v).ok());
        let checksum_mode = headers.get(&s3s::header::X_AMZ_CHECKSUM_MODE).and_then(|v| v.to_str().ok()).map(|v| ChecksumMode::from(v.to_string()));
        let (bucket, key) = (self.bucket.clone(), self.key.clone());
        // GetObjectInput and HeadObjectInput: the same fields in two s3s types.
        macro_rules! read_input {
            ($input:ident) => {
                $input { bucket, key, range, checksum_mode, if_match, if_none_match, if_modified_since, if_unmodified_since, ..Default::default() }
            };
        }
        let answer = match self.op {
            Op::Get => {
                let input = read_input!(GetObjectInput);
                provider.get_object(self.request(input, method, uri, headers, extensions)).await.map(encode::get_object)
            }
            Op::Head => {
                let input = read_input!(HeadObjectInput);
                provider.head_object(self.request(input, method, uri, headers, extensions)).await.map(encode::head_object)
            }
            Op::Put => return None,
        };
        match answer {
            Ok(resp) => resp,
            Err(e) => Some(error_response(e)),
        }
    }

    /// Answers a PUT, taking its body; its errors are encoded as s3s does.
    pub(crate) async fn write(self, state: &Arc<State>, req: http::Request<Body>) -> http::Response<Body> {
        let provider = Provider { state: state.clone() };
        let (parts, body) = req.into_parts();
        let text = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let content_length = text("content-length").and_then(|v| v.parse::<i64>().ok());
        let body = s3s::dto::StreamingBlob::from(body);
        let signed_hash = text("x-amz-content-sha256").as_deref().and_then(PayloadHash::parse);
        let body = match signed_hash {
            Some(expected) => s3s::dto::StreamingBlob::wrap(PayloadHash::check(body, expected)),
            None => body,
        };
        let input = PutObjectInput {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            body: Some(body),
            content_length,
            content_type: text("content-type"),
            content_md5: text("content-md5"),
            checksum_algorithm: text(s3s::header::X_AMZ_CHECKSUM_ALGORITHM.as_str()).map(Into::into),
            checksum_crc32: text("x-amz-checksum-crc32"),
            checksum_crc32c: text("x-amz-checksum-crc32c"),
            checksum_crc64nvme: text("x-amz-checksum-crc64nvme"),
            checksum_sha1: text("x-amz-checksum-sha1"),
            checksum_sha256: text("x-amz-checksum-sha256"),
            ..Default::default()
        };
        let s3_req = self.request(input, parts.method, parts.uri, parts.headers, parts.extensions);
        provider.put_object(s3_req).await.and_then(encode::put_object).unwrap_or_else(error_response)
    }
}

/// A signed payload's SHA-256, checked as the body streams past.
struct PayloadHash;

impl PayloadHash {
    /// The 32 bytes of a hex `x-amz-content-sha256` (lower-case, as s3s requires).
    fn parse(hex_hash: &str) -> Option<[u8; 32]> {
        if hex_hash.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_hash, &mut out).ok()?;
        Some(out)
    }

    /// Passes `body` through; at its end, a hash other than `expected` becomes the
    /// stream error the provider answers with XAmzContentSHA256Mismatch, so the
    /// object is never stored.
    fn check(body: s3s::dto::StreamingBlob, expected: [u8; 32]) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + Sync + 'static {
        use sha2::Digest;
        let state = (body, Some(sha2::Sha256::new()));
        futures_util::stream::unfold(state, move |(mut body, hasher)| {
            async move {
                let mut hasher = hasher?;
                match futures_util::StreamExt::next(&mut body).await {
                    Some(Ok(chunk)) => {
                        hasher.update(&chunk);
                        Some((Ok(chunk), (body, Some(hasher))))
                    }
                    Some(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), (body, None))),
                    None if hasher.finalize().as_slice() == expected => None,
                    None => Some((Err(std::io::Error::other(crate::sha256_mismatch::SHA256_MISMATCH)), (body, None))),
                }
            }
        })
    }
}

/// An operation's error, encoded as s3s encodes it.
fn error_response(e: s3s::S3Error) -> http::Response<Body> {
    e.to_http_response().unwrap_or_else(|_| crate::internal_error())
}

/// The three outputs written as s3s's generated serializers write them (same headers,
/// same order, same formats), field for field.
mod encode {
    use super::*;
    use s3s::dto::{GetObjectOutput, HeadObjectOutput, PutObjectOutput};
    use s3s::header as h;

    type Headers = HeaderMap;

    fn text(hs: &mut Headers, name: HeaderName, value: Option<impl AsRef<str>>) -> Option<()> {
        if let Some(v) = value {
            hs.insert(name, HeaderValue::from_str(v.as_ref()).ok()?);
        }
        Some(())
    }

    fn number(hs: &mut Headers, name: HeaderName, value: Option<impl Into<HeaderValue>>) {
        if let Some(v) = value {
            hs.insert(name, v.into());
        }
    }

    fn flag(hs: &mut Headers, name: HeaderName, value: Option<bool>) {
        if let Some(v) = value {
            hs.insert(name, HeaderValue::from_static(if v { "true" } else { "false" }));
        }
    }

    fn time(hs: &mut Headers, name: HeaderName, value: Option<Timestamp>, format: TimestampFormat) -> Option<()> {
        if let Some(t) = value {
            let fast = match format {
                TimestampFormat::HttpDate => http_date(t.clone().into()),
                _ => None,
            };
            let value = match fast {
                Some(v) => v,
                None => {
                    let mut buf = Vec::with_capacity(32);
                    t.format(format, &mut buf).ok()?;
                    HeaderValue::from_bytes(&buf).ok()?
                }
            };
            hs.insert(name, value);
        }
        Some(())
    }

    /// s3s's HTTP date (`[weekday repr:short], [day] [month repr:short] [year]
    /// [hour]:[minute]:[second] GMT`, the offset taken as it is), written directly:
    /// the `time` crate's interpreted format description costs more than the rest of
    /// a GET's headers. None outside four-digit years (left to `Timestamp::format`).
    pub(super) fn http_date(t: time::OffsetDateTime) -> Option<HeaderValue> {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        if !(1000..=9999).contains(&t.year()) {
            return None;
        }
        let text = format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
            DAYS[usize::from(t.weekday().number_days_from_monday())],
            t.day(),
            MONTHS[usize::from(u8::from(t.month())) - 1],
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        );
        HeaderValue::from_str(&text).ok()
    }

    /// User metadata, values outside printable ASCII in RFC 2047 words (as s3s writes
    /// them).
    fn metadata(hs: &mut Headers, value: Option<Metadata>) -> Option<()> {
        for (key, val) in value.into_iter().flatten() {
            let name = HeaderName::from_bytes(format!("x-amz-meta-{key}").as_bytes()).ok()?;
            let value = if val.bytes().all(|b| b.is_ascii() && b >= 0x20 && b != 0x7f) {
                HeaderValue::from_str(&val).ok()?
            } else {
                HeaderValue::from_str(&rfc2047(&val)?).ok()?
            };
            hs.insert(name, value);
        }
        Some(())
    }

    /// s3s's RFC 2047 encoding (its `utils::rfc2047::encode`, private to it): one
    /// `=?UTF-8?B?<base64>?=` word when its estimate says the word fits in 75
    /// characters, else words of at most 45 input bytes, cut at character boundaries
    /// and joined by spaces. None above 1 MiB, which s3s refuses.
    pub(super) fn rfc2047(value: &str) -> Option<String> {
        use base64::Engine;
        const WORD_INPUT: usize = 45;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
        if value.len() > 1024 * 1024 {
            return None;
        }
        if (value.len() * 4).div_ceil(3) + "=?UTF-8?B??=".len() <= 75 {
            return Some(format!("=?UTF-8?B?{}?=", b64(value)));
        }
        let mut words = Vec::new();
        let mut i = 0;
        while i < value.len() {
            let mut end = (i + WORD_INPUT).min(value.len());
            while end > i && !value.is_char_boundary(end) {
                end -= 1;
            }
            if end <= i {
                return None;
            }
            words.push(format!("=?UTF-8?B?{}?=", b64(&value[i..end])));
            i = end;
        }
        Some(words.join(" "))
    }

    fn respond(status: Option<StatusCode>, default: StatusCode, body: Body, headers: Headers, custom: Headers, extensions: http::Extensions) -> http::Response<Body> {
        let mut resp = http::Response::new(body);
        *resp.status_mut() = status.unwrap_or(default);
        *resp.headers_mut() = headers;
        resp.headers_mut().extend(custom);
        *resp.extensions_mut() = extensions;
        resp
    }

    /// The headers GetObjectOutput and HeadObjectOutput share (the same fields in two
    /// s3s types); None when one cannot be encoded.
    macro_rules! object_headers {
        ($hs:expr, $x:expr) => {{
            let (hs, x) = ($hs, $x);
            (|| {
                text(hs, http::header::ACCEPT_RANGES, x.accept_ranges)?;
                flag(hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION_BUCKET_KEY_ENABLED, x.bucket_key_enabled);
                text(hs, http::header::CACHE_CONTROL, x.cache_control)?;
                text(hs, h::X_AMZ_CHECKSUM_CRC32, x.checksum_crc32)?;
                text(hs, h::X_AMZ_CHECKSUM_CRC32C, x.checksum_crc32c)?;
                text(hs, h::X_AMZ_CHECKSUM_CRC64NVME, x.checksum_crc64nvme)?;
                text(hs, h::X_AMZ_CHECKSUM_SHA1, x.checksum_sha1)?;
                text(hs, h::X_AMZ_CHECKSUM_SHA256, x.checksum_sha256)?;
                text(hs, h::X_AMZ_CHECKSUM_TYPE, x.checksum_type.as_ref().map(|v| v.as_str()))?;
                text(hs, http::header::CONTENT_DISPOSITION, x.content_disposition)?;
                text(hs, http::header::CONTENT_ENCODING, x.content_encoding)?;
                text(hs, http::header::CONTENT_LANGUAGE, x.content_language)?;
                number(hs, http::header::CONTENT_LENGTH, x.content_length);
                text(hs, http::header::CONTENT_RANGE, x.content_range)?;
                text(hs, http::header::CONTENT_TYPE, x.content_type)?;
                flag(hs, h::X_AMZ_DELETE_MARKER, x.delete_marker);
                if let Some(e) = x.e_tag {
                    hs.insert(http::header::ETAG, e.to_http_header().ok()?);
                }
                text(hs, h::X_AMZ_EXPIRATION, x.expiration)?;
                time(hs, http::header::EXPIRES, x.expires, TimestampFormat::HttpDate)?;
                time(hs, http::header::LAST_MODIFIED, x.last_modified, TimestampFormat::HttpDate)?;
                metadata(hs, x.metadata)?;
                number(hs, h::X_AMZ_MISSING_META, x.missing_meta);
                text(hs, h::X_AMZ_OBJECT_LOCK_LEGAL_HOLD, x.object_lock_legal_hold_status.as_ref().map(|v| v.as_str()))?;
                text(hs, h::X_AMZ_OBJECT_LOCK_MODE, x.object_lock_mode.as_ref().map(|v| v.as_str()))?;
                time(hs, h::X_AMZ_OBJECT_LOCK_RETAIN_UNTIL_DATE, x.object_lock_retain_until_date, TimestampFormat::DateTime)?;
                number(hs, h::X_AMZ_MP_PARTS_COUNT, x.parts_count);
                text(hs, h::X_AMZ_REPLICATION_STATUS, x.replication_status.as_ref().map(|v| v.as_str()))?;
                text(hs, h::X_AMZ_REQUEST_CHARGED, x.request_charged.as_ref().map(|v| v.as_str()))?;
                text(hs, h::X_AMZ_RESTORE, x.restore)?;
                text(hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM, x.sse_customer_algorithm)?;
                text(hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY_MD5, x.sse_customer_key_md5)?;
                text(hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID, x.ssekms_key_id)?;
                text(hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION, x.server_side_encryption.as_ref().map(|v| v.as_str()))?;
                text(hs, h::X_AMZ_STORAGE_CLASS, x.storage_class.as_ref().map(|v| v.as_str()))?;
                text(hs, h::X_AMZ_VERSION_ID, x.version_id)?;
                text(hs, h::X_AMZ_WEBSITE_REDIRECT_LOCATION, x.website_redirect_location)?;
                Some(())
            })()
        }};
    }

    pub(super) fn get_object(out: S3Response<GetObjectOutput>) -> Option<http::Response<Body>> {
        let S3Response { output: mut x, status, headers: custom, extensions } = out;
        let mut hs = Headers::with_capacity(16);
        let default = if x.content_range.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
        let body = x.body.take().map(Body::from).unwrap_or_default();
        number(&mut hs, h::X_AMZ_TAGGING_COUNT, x.tag_count);
        object_headers!(&mut hs, x)?;
        if custom.get(http::header::TRANSFER_ENCODING).is_some_and(|v| v.as_bytes() == b"chunked") {
            // s3s's special case (its issue 80): a chunked answer has no length.
            hs.remove(http::header::CONTENT_LENGTH);
        }
        Some(respond(status, default, body, hs, custom, extensions))
    }

    pub(super) fn head_object(out: S3Response<HeadObjectOutput>) -> Option<http::Response<Body>> {
        let S3Response { output: x, status, headers: custom, extensions } = out;
        let mut hs = Headers::with_capacity(16);
        text(&mut hs, h::X_AMZ_ARCHIVE_STATUS, x.archive_status.as_ref().map(|v| v.as_str()))?;
        object_headers!(&mut hs, x)?;
        Some(respond(status, StatusCode::OK, Body::empty(), hs, custom, extensions))
    }

    pub(super) fn put_object(out: S3Response<PutObjectOutput>) -> s3s::S3Result<http::Response<Body>> {
        let S3Response { output: x, status, headers: custom, extensions } = out;
        let mut hs = Headers::with_capacity(8);
        let encoded = (|| {
            flag(&mut hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION_BUCKET_KEY_ENABLED, x.bucket_key_enabled);
            text(&mut hs, h::X_AMZ_CHECKSUM_CRC32, x.checksum_crc32)?;
            text(&mut hs, h::X_AMZ_CHECKSUM_CRC32C, x.checksum_crc32c)?;
            text(&mut hs, h::X_AMZ_CHECKSUM_CRC64NVME, x.checksum_crc64nvme)?;
            text(&mut hs, h::X_AMZ_CHECKSUM_SHA1, x.checksum_sha1)?;
            text(&mut hs, h::X_AMZ_CHECKSUM_SHA256, x.checksum_sha256)?;
            text(&mut hs, h::X_AMZ_CHECKSUM_TYPE, x.checksum_type.as_ref().map(|v| v.as_str()))?;
            if let Some(e) = x.e_tag {
                hs.insert(http::header::ETAG, e.to_http_header().ok()?);
            }
            text(&mut hs, h::X_AMZ_EXPIRATION, x.expiration)?;
            text(&mut hs, h::X_AMZ_REQUEST_CHARGED, x.request_charged.as_ref().map(|v| v.as_str()))?;
            text(&mut hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM, x.sse_customer_algorithm)?;
            text(&mut hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY_MD5, x.sse_customer_key_md5)?;
            text(&mut hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION_CONTEXT, x.ssekms_encryption_context)?;
            text(&mut hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID, x.ssekms_key_id)?;
            text(&mut hs, h::X_AMZ_SERVER_SIDE_ENCRYPTION, x.server_side_encryption.as_ref().map(|v| v.as_str()))?;
            number(&mut hs, h::X_AMZ_OBJECT_SIZE, x.size);
            text(&mut hs, h::X_AMZ_VERSION_ID, x.version_id)?;
            Some(())
        })();
        match encoded {
            Some(()) => Ok(respond(status, StatusCode::OK, Body::empty(), hs, custom, extensions)),
            None => Err(s3s::S3Error::with_message(s3s::S3ErrorCode::InternalError, "cannot encode the PutObject answer")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_match_s3s() {
        for secs in [0i64, 951_782_400, 1_700_000_000, 1_893_456_000, 4_102_444_799, 253_402_300_799, -30_610_224_000, -2_208_988_800] {
            let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let mut s3s_text = Vec::new();
            Timestamp::from(t).format(TimestampFormat::HttpDate, &mut s3s_text).unwrap();
            assert_eq!(encode::http_date(t).unwrap().as_bytes(), s3s_text.as_slice(), "{secs}");
        }
        // Year 999 is left to s3s's own formatting.
        let early = time::OffsetDateTime::from_unix_timestamp(-30_610_224_001).unwrap();
        assert!(encode::http_date(early).is_none());
    }

    #[test]
    fn metadata_words_are_s3s_words() {
        assert_eq!(encode::rfc2047("café").as_deref(), Some("=?UTF-8?B?Y2Fmw6k=?="));
        // Long values are cut into words of 45 bytes, never inside a character.
        let long = "é".repeat(40);
        let words = encode::rfc2047(&long).unwrap();
        assert_eq!(words.split(' ').count(), 2);
        assert!(words.split(' ').all(|w| w.starts_with("=?UTF-8?B?") && w.ends_with("?=") && w.len() <= 75));
    }

    #[test]
    fn object_paths_are_read_as_s3s_reads_them() {
        let req = |method: &str, uri: &str, headers: &[(&str, &str)]| {
            let mut b = http::Request::builder().method(method).uri(uri);
            for (k, v) in headers {
                b = b.header(*k, *v);
            }
            b.body(()).unwrap()
        };
        let host = [("host", "localhost:4566")];
        assert_eq!(object_path(&req("GET", "/bkt/k", &host)), Some(("bkt".into(), "k".into())));
        assert!(object_path(&req("GET", "/bkt", &host)).is_none());
        assert!(object_path(&req("GET", "/bkt/", &host)).is_none());
        assert!(object_path(&req("GET", "/b/k", &host)).is_none());
        assert!(object_path(&req("GET", "/B_ad/k", &host)).is_none());
        assert_eq!(object_path(&req("GET", "/k%20x", &[("host", "bkt.s3.localhost:4566")])), Some(("bkt".into(), "k x".into())));
        assert_eq!(object_path(&req("GET", "/bkt/a%2Bb+c", &host)), Some(("bkt".into(), "a+b+c".into())));
        // An IP host is path style whatever it looks like.
        assert_eq!(object_path(&req("GET", "/bkt/k", &[("host", "127.0.0.1:4566")])), Some(("bkt".into(), "k".into())));
    }
}
