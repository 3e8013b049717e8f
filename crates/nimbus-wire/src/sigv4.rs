//! AWS Signature Version 4 — the server side: find the signature a request carries
//! (the `Authorization` header or presigned `X-Amz-*` query parameters), rebuild the
//! canonical request and string to sign exactly as the client did, and compare.
//!
//! Self-contained: it uses only external crates (hmac, sha2, hex, form_urlencoded,
//! http, parking_lot), so it can move between crates unchanged.
//!
//! The rules followed (AWS's SigV4 documentation and its published test suite,
//! vendored under `tests/sigv4-suite/`):
//! - canonical URI: every service but S3 normalizes the path (dot segments and empty
//!   segments removed) and URI-encodes the already-encoded path once more ("double
//!   encoding": `%3A` → `%253A`). S3 signs the path as sent, single-encoded.
//! - canonical query: every `key=value` pair decoded, re-encoded with AWS's rules
//!   (`A-Z a-z 0-9 - _ . ~` kept, everything else `%XX` uppercase), sorted by encoded key
//!   then value; presigned requests leave `X-Amz-Signature` out.
//! - canonical headers: the signed headers in the order `SignedHeaders` lists them,
//!   values trimmed with inner runs of spaces/tabs collapsed to one space, repeated
//!   headers joined with `,` in arrival order.
//!
//! Where clients differ in what they sign, the verifier tries the few canonical forms
//! real clients produce, the common one first, so a valid request costs one HMAC chain
//! and only a failing one tries the rest (see [`verify`]).

use std::borrow::Cow;
use std::fmt;

use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The only SigV4 algorithm this module verifies.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// SigV4a's algorithm name: recognised so that it is not mistaken for garbage, not verified here.
const ALGORITHM_V4A: &str = "AWS4-ECDSA-P256-SHA256";
/// The payload hash literal for unsigned bodies.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Longest validity of a presigned URL AWS accepts: seven days.
pub const MAX_PRESIGNED_EXPIRES: u64 = 604_800;
/// How far a header-signed request's `X-Amz-Date` may be from the server's clock.
pub const MAX_CLOCK_SKEW_SECS: u64 = 15 * 60;

const SIGNATURE_MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the \
     signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
     service documentation for details.";
const S3_SIGNATURE_MISMATCH_MESSAGE: &str =
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
const PRESIGNED_MISSING_PARAMS: &str = "Query-string authentication version 4 requires the \
     X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and \
     X-Amz-Expires parameters.";

/// The credential scope: `AKID/YYYYMMDD/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    /// `YYYYMMDD`
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Credential {
    /// `YYYYMMDD/region/service/aws4_request`
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// Where the signature travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: AWS4-HMAC-SHA256 ...`
    Header,
    /// `X-Amz-Signature` & co. in the query string; valid for `expires_secs` after `X-Amz-Date`.
    Presigned { expires_secs: u64 },
}

/// The SigV4 parameters of one request, as the client sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuth {
    pub credential: Credential,
    /// Lower-case header names in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// Hex signature as sent.
    pub signature: String,
    /// `YYYYMMDDTHHMMSSZ` (from `X-Amz-Date`, or converted from the `Date` header).
    pub amz_date: String,
    pub kind: AuthKind,
}

/// What the verifier needs of the request. `path` is the raw request path as received
/// (still percent-encoded), `query` the raw query string without '?'.
///
/// `headers` must hold every header the client signed, `host` included: over HTTP/2
/// the caller inserts `host` from the `:authority` pseudo-header.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
}

/// Why a request's SigV4 authentication was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum SigError {
    /// The authentication parameters are missing pieces or malformed (HTTP 400).
    Malformed(String),
    /// The signature is well-formed but wrong (HTTP 403).
    SignatureDoesNotMatch,
    /// A presigned request used after `X-Amz-Date + X-Amz-Expires` (HTTP 403).
    RequestExpired,
    /// A header-signed request whose `X-Amz-Date` is more than 15 minutes away from
    /// the server's clock (HTTP 403). Holds AWS's message.
    ClockSkew(String),
}

impl SigError {
    /// AWS's error code as the awsQuery / restXml services (SQS, SNS, STS, IAM …) send it.
    pub fn code(&self) -> &'static str {
        match self {
            SigError::Malformed(_) => "IncompleteSignature",
            SigError::SignatureDoesNotMatch | SigError::ClockSkew(_) => "SignatureDoesNotMatch",
            SigError::RequestExpired => "AccessDenied",
        }
    }

    /// AWS's error code as the awsJson / restJson services (DynamoDB, Kinesis, Lambda …)
    /// send it.
    pub fn json_code(&self) -> &'static str {
        match self {
            SigError::Malformed(_) => "IncompleteSignatureException",
            SigError::SignatureDoesNotMatch | SigError::ClockSkew(_) => "InvalidSignatureException",
            SigError::RequestExpired => "AccessDeniedException",
        }
    }

    /// S3's error code; `presigned` tells the header and query-string flavours apart.
    pub fn s3_code(&self, presigned: bool) -> &'static str {
        match self {
            SigError::Malformed(_) if presigned => "AuthorizationQueryParametersError",
            SigError::Malformed(_) => "AuthorizationHeaderMalformed",
            SigError::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            SigError::RequestExpired => "AccessDenied",
            SigError::ClockSkew(_) => "RequestTimeTooSkewed",
        }
    }

    /// AWS's message for [`SigError::code`].
    pub fn message(&self) -> String {
        match self {
            SigError::Malformed(m) | SigError::ClockSkew(m) => m.clone(),
            SigError::SignatureDoesNotMatch => SIGNATURE_MISMATCH_MESSAGE.to_string(),
            SigError::RequestExpired => "Request has expired".to_string(),
        }
    }

    /// S3's message for [`SigError::s3_code`].
    pub fn s3_message(&self) -> String {
        match self {
            SigError::SignatureDoesNotMatch => S3_SIGNATURE_MISMATCH_MESSAGE.to_string(),
            SigError::ClockSkew(_) => {
                "The difference between the request time and the current time is too large."
                    .to_string()
            }
            other => other.message(),
        }
    }

    /// HTTP status: 400 for malformed authentication, 403 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            SigError::Malformed(_) => 400,
            _ => 403,
        }
    }
}

impl fmt::Display for SigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for SigError {}

fn malformed(msg: impl Into<String>) -> SigError {
    SigError::Malformed(msg.into())
}

// ---------------------------------------------------------------------------------------
// parse
// ---------------------------------------------------------------------------------------

/// Finds SigV4 auth in the Authorization header ("AWS4-HMAC-SHA256 Credential=.../date/region/service/aws4_request, SignedHeaders=..., Signature=...")
/// or in presigned query params (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
/// X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature). Ok(None) if the request carries
/// no SigV4 auth at all — no Authorization header of the `AWS4-HMAC-SHA256` scheme and no
/// `X-Amz-Algorithm` parameter. SigV2 (`AWS AKID:sig`, `?Signature=`) and SigV4a
/// (`AWS4-ECDSA-P256-SHA256`) also give Ok(None): the caller decides about them.
pub fn parse(req: &RequestParts) -> Result<Option<ParsedAuth>, SigError> {
    let authz = req
        .headers
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    let header_v4 = authz.filter(|v| starts_with_scheme(v, ALGORITHM.as_bytes()));
    let algorithm = query_param(req.query, "X-Amz-Algorithm");

    if let Some(alg) = algorithm {
        if header_v4.is_some() {
            return Err(malformed(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
                 Signature query string parameter or the Authorization header should be specified",
            ));
        }
        if alg == ALGORITHM {
            return parse_presigned(req).map(Some);
        }
        if alg == ALGORITHM_V4A {
            return Ok(None);
        }
        return Err(malformed(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256\"",
        ));
    }
    match header_v4 {
        Some(v) => parse_header_auth(req, v).map(Some),
        None => Ok(None),
    }
}

/// `value` is `scheme` followed by whitespace or nothing.
fn starts_with_scheme(value: &[u8], scheme: &[u8]) -> bool {
    let value = trim_bytes(value);
    value.len() >= scheme.len()
        && value[..scheme.len()] == *scheme
        && value
            .get(scheme.len())
            .is_none_or(|b| *b == b' ' || *b == b'\t')
}

fn parse_header_auth(req: &RequestParts, raw: &[u8]) -> Result<ParsedAuth, SigError> {
    let Ok(value) = std::str::from_utf8(raw) else {
        return Err(malformed("Authorization header is not valid UTF-8"));
    };
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    let rest = &value[ALGORITHM.len()..];

    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let v = v.trim_matches(|c| c == ' ' || c == '\t');
        match k.trim_matches(|c| c == ' ' || c == '\t') {
            "Credential" if credential.is_none() => credential = Some(v),
            "SignedHeaders" if signed_headers.is_none() => signed_headers = Some(v),
            "Signature" if signature.is_none() => signature = Some(v),
            _ => {}
        }
    }

    let x_amz_date = header_str(req.headers, "x-amz-date");
    let date_header = if x_amz_date.is_none() {
        header_str(req.headers, "date")
    } else {
        None
    };

    let mut missing = String::new();
    if credential.is_none() {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if x_amz_date.is_none() && date_header.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !missing.is_empty() {
        missing.push_str("Authorization=");
        missing.push_str(value);
        return Err(SigError::Malformed(missing));
    }
    let (credential, signed_headers, signature) = (
        credential.unwrap_or_default(),
        signed_headers.unwrap_or_default(),
        signature.unwrap_or_default(),
    );

    let amz_date = if let Some(d) = x_amz_date {
        if parse_amz_date(d).is_none() {
            return Err(malformed(format!(
                "Date must be in ISO-8601 'basic format'. Got '{d}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )));
        }
        d.to_string()
    } else {
        match date_header.and_then(parse_http_date) {
            Some(t) => format_amz_date(t),
            None => {
                return Err(malformed(
                    "AWS authentication requires a valid Date or x-amz-date header",
                ))
            }
        }
    };

    let credential = parse_credential(credential)?;
    check_scope_date(&credential, &amz_date)?;
    let signed_headers = parse_signed_headers(signed_headers)?;
    Ok(ParsedAuth {
        credential,
        signed_headers,
        signature: signature.to_string(),
        amz_date,
        kind: AuthKind::Header,
    })
}

fn parse_presigned(req: &RequestParts) -> Result<ParsedAuth, SigError> {
    let (mut credential, mut date, mut expires, mut signed_headers, mut signature) =
        (None, None, None, None, None);
    for (k, v) in form_urlencoded::parse(req.query.as_bytes()) {
        let slot = if k.eq_ignore_ascii_case("X-Amz-Credential") {
            &mut credential
        } else if k.eq_ignore_ascii_case("X-Amz-Date") {
            &mut date
        } else if k.eq_ignore_ascii_case("X-Amz-Expires") {
            &mut expires
        } else if k.eq_ignore_ascii_case("X-Amz-SignedHeaders") {
            &mut signed_headers
        } else if k.eq_ignore_ascii_case("X-Amz-Signature") {
            &mut signature
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(v);
        }
    }
    let (Some(credential), Some(date), Some(expires), Some(signed_headers), Some(signature)) =
        (credential, date, expires, signed_headers, signature)
    else {
        return Err(malformed(PRESIGNED_MISSING_PARAMS));
    };

    let expires_secs = parse_expires(&expires)?;
    if parse_amz_date(&date).is_none() {
        return Err(malformed(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        ));
    }
    let credential = parse_credential(&credential)?;
    check_scope_date(&credential, &date)?;
    let signed_headers = parse_signed_headers(&signed_headers)?;
    Ok(ParsedAuth {
        credential,
        signed_headers,
        signature: signature.into_owned(),
        amz_date: date.into_owned(),
        kind: AuthKind::Presigned { expires_secs },
    })
}

fn parse_expires(s: &str) -> Result<u64, SigError> {
    if let Some(digits) = s.strip_prefix('-') {
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed("X-Amz-Expires must be non-negative"));
        }
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("X-Amz-Expires should be a number"));
    }
    // All digits: only overflow can fail, and anything that large is over the limit.
    let n = s.parse::<u64>().unwrap_or(u64::MAX);
    if n > MAX_PRESIGNED_EXPIRES {
        return Err(expires_too_long());
    }
    Ok(n)
}

fn expires_too_long() -> SigError {
    malformed("X-Amz-Expires must be less than a week (in seconds) that is; 604800")
}

fn parse_credential(s: &str) -> Result<Credential, SigError> {
    let mut parts = s.rsplitn(5, '/');
    let (Some(terminator), Some(service), Some(region), Some(date), Some(access_key)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(malformed(
            "The authorization header is malformed; the Credential is mal-formed; expecting \
             \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
        ));
    };
    if terminator != "aws4_request" {
        return Err(malformed(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if access_key.is_empty() {
        return Err(malformed("Credential should contain an access key id."));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(format!(
            "Invalid credential date \"{date}\". Credential should be scoped to a date in YYYYMMDD format."
        )));
    }
    if region.is_empty() {
        return Err(malformed("Credential should be scoped to a valid region."));
    }
    if service.is_empty() {
        return Err(malformed("Credential should be scoped to correct service."));
    }
    Ok(Credential {
        access_key: access_key.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
    })
}

fn check_scope_date(credential: &Credential, amz_date: &str) -> Result<(), SigError> {
    let day = amz_date.get(..8).unwrap_or(amz_date);
    if credential.date != day {
        return Err(malformed(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
             '{}' != '{}', from '{}'.",
            credential.date, day, amz_date
        )));
    }
    Ok(())
}

fn parse_signed_headers(s: &str) -> Result<Vec<String>, SigError> {
    if s.is_empty() {
        return Err(malformed(
            "SignedHeaders must name at least one header (host).",
        ));
    }
    let mut out = Vec::with_capacity(s.bytes().filter(|b| *b == b';').count() + 1);
    for name in s.split(';') {
        if name.is_empty() {
            return Err(malformed(format!(
                "SignedHeaders contains an empty header name: '{s}'."
            )));
        }
        out.push(name.to_ascii_lowercase());
    }
    Ok(out)
}

fn header_str<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .map(|s| s.trim())
}

/// The decoded value of the first query parameter named `name` (ASCII case-insensitive).
fn query_param<'a>(query: &'a str, name: &str) -> Option<Cow<'a, str>> {
    if query.is_empty() {
        return None;
    }
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

// ---------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------

/// Verifies the signature. `payload_hash` is the hex SHA-256 of the body or the literal
/// the client signed (e.g. "UNSIGNED-PAYLOAD"); when the request has an
/// x-amz-content-sha256 header the caller passes that header's value.
///
/// For presigned requests the payload hash is `X-Amz-Content-Sha256` when it is among the
/// query params; otherwise "UNSIGNED-PAYLOAD" is tried first (S3 and most presigners) and
/// then `payload_hash` (the hash of the body — botocore and the CRT presign non-S3
/// services that way).
///
/// `now_unix` is seconds since epoch: presigned requests past X-Amz-Date + X-Amz-Expires
/// give [`SigError::RequestExpired`] (X-Amz-Expires over 604800 is
/// [`SigError::Malformed`]); header-signed requests more than 15 minutes away from it give
/// [`SigError::ClockSkew`].
///
/// `s3_style`: S3 does not double-encode or normalize the path: the canonical URI is the
/// path as sent, its percent-encoding normalized to AWS's rules (what S3 does). Every
/// other service removes dot segments and URI-encodes the path once more, as the SigV4
/// spec says.
///
/// Tolerated variants, tried only when the common form fails: a raw `+` in the query
/// signed as a literal `+` (`%2B`) rather than a space; an S3 path signed byte-for-byte
/// as sent; a presigned `X-Amz-Security-Token` added after signing (as some SDKs do for
/// IoT).
pub fn verify(
    auth: &ParsedAuth,
    req: &RequestParts,
    payload_hash: &str,
    secret_key: &str,
    now_unix: u64,
    s3_style: bool,
) -> Result<(), SigError> {
    let Some(request_time) = parse_amz_date(&auth.amz_date) else {
        return Err(malformed(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            auth.amz_date
        )));
    };
    check_scope_date(&auth.credential, &auth.amz_date)?;
    let presigned = match auth.kind {
        AuthKind::Presigned { expires_secs } => {
            if expires_secs > MAX_PRESIGNED_EXPIRES {
                return Err(expires_too_long());
            }
            if request_time.saturating_add(expires_secs) < now_unix {
                return Err(SigError::RequestExpired);
            }
            true
        }
        AuthKind::Header => {
            check_clock_skew(&auth.amz_date, request_time, now_unix)?;
            false
        }
    };

    // The signature as 32 bytes; anything else cannot match.
    let mut provided = [0u8; 32];
    if hex::decode_to_slice(auth.signature.as_bytes(), &mut provided).is_err() {
        return Err(SigError::SignatureDoesNotMatch);
    }

    let key = signing_key(
        secret_key,
        &auth.credential.date,
        &auth.credential.region,
        &auth.credential.service,
    );

    // Parts shared by every candidate.
    let mut tail = Vec::with_capacity(256);
    write_headers_block(&mut tail, auth, req.headers);

    // Payload hash candidates.
    let query_sha = if presigned {
        query_param(req.query, "X-Amz-Content-Sha256")
    } else {
        None
    };
    let payloads: [Option<&str>; 2] = match (&query_sha, presigned) {
        (Some(q), _) => [Some(q.as_ref()), None],
        (None, true) => [
            Some(UNSIGNED_PAYLOAD),
            (payload_hash != UNSIGNED_PAYLOAD).then_some(payload_hash),
        ],
        (None, false) => [Some(payload_hash), None],
    };

    // Canonical URI candidates.
    let uri = canonical_uri(req.path, s3_style);
    let as_sent = if s3_style && !req.path.is_empty() && req.path != uri {
        Some(req.path)
    } else {
        None
    };
    let uris = [Some(uri.as_ref()), as_sent];

    // Canonical query candidates, built lazily.
    let primary = QueryOpts {
        plus_is_space: true,
        exclude_signature: presigned,
        exclude_token: false,
    };
    let has_plus = req.query.contains('+');
    let has_token = presigned && query_param(req.query, "X-Amz-Security-Token").is_some();
    let queries = [
        Some(primary),
        has_plus.then_some(QueryOpts {
            plus_is_space: false,
            ..primary
        }),
        has_token.then_some(QueryOpts {
            exclude_token: true,
            ..primary
        }),
    ];

    let mut query_buf = Vec::with_capacity(req.query.len() + 16);
    for opts in queries.into_iter().flatten() {
        query_buf.clear();
        write_canonical_query(&mut query_buf, req.query, opts);
        for uri in uris.into_iter().flatten() {
            for payload in payloads.into_iter().flatten() {
                let mut h = Sha256::new();
                h.update(req.method.as_bytes());
                h.update(b"\n");
                h.update(uri.as_bytes());
                h.update(b"\n");
                h.update(&query_buf);
                h.update(b"\n");
                h.update(&tail);
                h.update(payload.as_bytes());
                let computed = signature_bytes(&key, auth, &h.finalize().into());
                if ct_eq(&computed, &provided) {
                    return Ok(());
                }
            }
        }
    }
    Err(SigError::SignatureDoesNotMatch)
}

fn check_clock_skew(amz_date: &str, request_time: u64, now: u64) -> Result<(), SigError> {
    if now > request_time.saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Err(SigError::ClockSkew(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            amz_date,
            format_amz_date(now - MAX_CLOCK_SKEW_SECS),
            format_amz_date(now)
        )));
    }
    if request_time > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Err(SigError::ClockSkew(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            amz_date,
            format_amz_date(now.saturating_add(MAX_CLOCK_SKEW_SECS)),
            format_amz_date(now)
        )));
    }
    Ok(())
}

/// HMAC(signing key, string to sign), the string to sign fed piece by piece.
fn signature_bytes(key: &[u8; 32], auth: &ParsedAuth, creq_hash: &[u8; 32]) -> [u8; 32] {
    let mut hex_hash = [0u8; 64];
    // 32 bytes into 64 always fits.
    let _ = hex::encode_to_slice(creq_hash, &mut hex_hash);
    let c = &auth.credential;
    let mut mac = hmac(key);
    mac.update(ALGORITHM.as_bytes());
    mac.update(b"\n");
    mac.update(auth.amz_date.as_bytes());
    mac.update(b"\n");
    mac.update(c.date.as_bytes());
    mac.update(b"/");
    mac.update(c.region.as_bytes());
    mac.update(b"/");
    mac.update(c.service.as_bytes());
    mac.update(b"/aws4_request\n");
    mac.update(&hex_hash);
    mac.finalize().into_bytes().into()
}

fn hmac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this never fails.
    <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn hmac_once(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = hmac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for i in 0..32 {
        diff |= a[i] ^ b[i];
    }
    std::hint::black_box(diff) == 0
}

/// Hex SHA-256 helper.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

// ---------------------------------------------------------------------------------------
// signing key and its cache
// ---------------------------------------------------------------------------------------

struct KeyEntry {
    secret: Box<str>,
    date: Box<str>,
    region: Box<str>,
    service: Box<str>,
    key: [u8; 32],
}

const KEY_CACHE_MAX: usize = 64;
static KEY_CACHE: Mutex<Vec<KeyEntry>> = Mutex::new(Vec::new());

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"),
/// cached per (secret, date, region, service): the key changes once a day per scope, and
/// this runs on every request. The cache is cleared when it reaches 64 entries.
/// Public for aws-chunked (streaming) payload verification, which chains chunk
/// signatures with the same key.
pub fn signing_key(secret_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    {
        let cache = KEY_CACHE.lock();
        if let Some(e) = cache.iter().find(|e| {
            &*e.date == date
                && &*e.service == service
                && &*e.region == region
                && &*e.secret == secret_key
        }) {
            return e.key;
        }
    }
    let key = derive_signing_key(secret_key, date, region, service);
    let mut cache = KEY_CACHE.lock();
    if cache.len() >= KEY_CACHE_MAX {
        cache.clear();
    }
    cache.push(KeyEntry {
        secret: secret_key.into(),
        date: date.into(),
        region: region.into(),
        service: service.into(),
        key,
    });
    key
}

fn derive_signing_key(secret_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret_key.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret_key.as_bytes());
    let k_date = hmac_once(&k_secret, date.as_bytes());
    let k_region = hmac_once(&k_date, region.as_bytes());
    let k_service = hmac_once(&k_region, service.as_bytes());
    hmac_once(&k_service, b"aws4_request")
}

// ---------------------------------------------------------------------------------------
// canonical request
// ---------------------------------------------------------------------------------------

/// The canonical request of the common form [`verify`] tries first, as text (for tests
/// and debugging; `verify` hashes the same bytes without building this string).
/// `payload_hash` is used as given.
#[doc(hidden)]
pub fn canonical_request(
    auth: &ParsedAuth,
    req: &RequestParts,
    payload_hash: &str,
    s3_style: bool,
) -> String {
    let presigned = matches!(auth.kind, AuthKind::Presigned { .. });
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(req.path, s3_style).as_bytes());
    out.push(b'\n');
    write_canonical_query(
        &mut out,
        req.query,
        QueryOpts {
            plus_is_space: true,
            exclude_signature: presigned,
            exclude_token: false,
        },
    );
    out.push(b'\n');
    write_headers_block(&mut out, auth, req.headers);
    out.extend_from_slice(payload_hash.as_bytes());
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The string to sign for `canonical_request`.
#[doc(hidden)]
pub fn string_to_sign(auth: &ParsedAuth, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        auth.amz_date,
        auth.credential.scope(),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The hex signature of `string_to_sign` under the scope's signing key.
#[doc(hidden)]
pub fn sign_string(secret_key: &str, credential: &Credential, string_to_sign: &str) -> String {
    let key = signing_key(
        secret_key,
        &credential.date,
        &credential.region,
        &credential.service,
    );
    hex::encode(hmac_once(&key, string_to_sign.as_bytes()))
}

/// The `Authorization` header value that signs `req` as `auth` describes (its
/// `signature` field is not used), in the common form, with `secret_key`.
pub fn sign_header(auth: &ParsedAuth, req: &RequestParts, payload_hash: &str, secret_key: &str, s3_style: bool) -> String {
    let canonical = canonical_request(auth, req, payload_hash, s3_style);
    let signature = sign_string(secret_key, &auth.credential, &string_to_sign(auth, &canonical));
    auth.authorization(&signature)
}

impl ParsedAuth {
    /// `AWS4-HMAC-SHA256 Credential=<key>/<scope>, SignedHeaders=<names>, Signature=<hex>`:
    /// the layout SDKs send, with `signature`.
    pub fn authorization(&self, signature: &str) -> String {
        format!(
            "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={signature}",
            self.credential.access_key,
            self.credential.scope(),
            self.signed_headers.join(";"),
        )
    }

    /// Whether `value` is exactly `self.authorization(&self.signature)`, checked
    /// without building it (the short road asks this of every small request).
    pub fn is_authorization(&self, value: &[u8]) -> bool {
        let c = &self.credential;
        let mut pieces = [ALGORITHM, " Credential=", &c.access_key, "/", &c.date, "/", &c.region, "/", &c.service, "/aws4_request, SignedHeaders="]
            .into_iter()
            .chain(self.signed_headers.iter().enumerate().flat_map(|(i, name)| [if i == 0 { "" } else { ";" }, name.as_str()]))
            .chain([", Signature=", &self.signature]);
        let mut rest = value;
        pieces.all(|piece| match rest.strip_prefix(piece.as_bytes()) {
            Some(after) => {
                rest = after;
                true
            }
            None => false,
        }) && rest.is_empty()
    }
}

/// Canonical headers (`name:value\n` each), a blank line, the signed header list and a
/// newline: everything between the canonical query and the payload hash.
fn write_headers_block(out: &mut Vec<u8>, auth: &ParsedAuth, headers: &http::HeaderMap) {
    for name in &auth.signed_headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let mut first = true;
        for value in headers.get_all(name.as_str()) {
            if !first {
                out.push(b',');
            }
            first = false;
            write_trimmed_value(out, value.as_bytes());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    for (i, name) in auth.signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(b';');
        }
        out.extend_from_slice(name.as_bytes());
    }
    out.push(b'\n');
}

/// Leading/trailing whitespace dropped, inner runs of whitespace collapsed to one space.
fn write_trimmed_value(out: &mut Vec<u8>, value: &[u8]) {
    let is_ws = |b: &u8| matches!(*b, b' ' | b'\t' | b'\r' | b'\n');
    let mut first = true;
    for word in value.split(is_ws).filter(|w| !w.is_empty()) {
        if !first {
            out.push(b' ');
        }
        first = false;
        out.extend_from_slice(word);
    }
}

fn trim_bytes(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(start, |e| e + 1);
    &v[start..end.max(start)]
}

#[inline]
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

#[inline]
fn push_encoded(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&[
        b'%',
        HEX_UPPER[(b >> 4) as usize],
        HEX_UPPER[(b & 15) as usize],
    ]);
}

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// The byte a valid `%XY` escape at `s[i]` stands for.
#[inline]
fn escape_at(s: &[u8], i: usize) -> Option<u8> {
    if s.get(i) != Some(&b'%') {
        return None;
    }
    Some(hex_val(*s.get(i + 1)?)? << 4 | hex_val(*s.get(i + 2)?)?)
}

/// `s` is already in AWS's canonical encoding: only unreserved bytes and uppercase
/// escapes of bytes that must be escaped (plus `/` when `slash_ok`).
fn is_canonical_encoded(s: &[u8], slash_ok: bool) -> bool {
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if is_unreserved(b) || (slash_ok && b == b'/') {
            i += 1;
        } else if b == b'%' {
            match (s.get(i + 1), s.get(i + 2), escape_at(s, i)) {
                (Some(h), Some(l), Some(v))
                    if !h.is_ascii_lowercase() && !l.is_ascii_lowercase() && !is_unreserved(v) =>
                {
                    i += 3
                }
                _ => return false,
            }
        } else {
            return false;
        }
    }
    true
}

/// The canonical URI of the common form.
///
/// S3: the path as sent with its percent-encoding normalized (escapes of unreserved
/// characters decoded, other escapes uppercased, bytes that need escaping escaped; `/`
/// and an escaped `%2F` both kept as they are); no dot-segment removal.
/// Other services: dot segments and empty segments removed (RFC 3986 5.2.4), then every
/// byte but unreserved ones and `/` percent-encoded, `%` included (double encoding).
#[doc(hidden)]
pub fn canonical_uri(path: &str, s3_style: bool) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    let bytes = path.as_bytes();
    if s3_style {
        if is_canonical_encoded(bytes, true) {
            return Cow::Borrowed(path);
        }
        let mut out = Vec::with_capacity(bytes.len() + 16);
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(v) = escape_at(bytes, i) {
                if is_unreserved(v) {
                    out.push(v);
                } else {
                    push_encoded(&mut out, v);
                }
                i += 3;
                continue;
            }
            if is_unreserved(b) || b == b'/' {
                out.push(b);
            } else {
                push_encoded(&mut out, b);
            }
            i += 1;
        }
        return Cow::Owned(ascii_string(out));
    }

    let needs_normalizing = !bytes.starts_with(b"/")
        || path.contains("//")
        || path.contains("/./")
        || path.contains("/../")
        || path.ends_with("/.")
        || path.ends_with("/..");
    let needs_encoding = !bytes.iter().all(|b| is_unreserved(*b) || *b == b'/');
    if !needs_normalizing && !needs_encoding {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&[u8]> = Vec::new();
    for seg in bytes.split(|b| *b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing_slash = ["/", "/.", "/.."].iter().any(|s| path.ends_with(s));
    let mut out = Vec::with_capacity(bytes.len() + 16);
    for seg in &segments {
        out.push(b'/');
        for &b in *seg {
            if is_unreserved(b) {
                out.push(b);
            } else {
                push_encoded(&mut out, b);
            }
        }
    }
    if out.is_empty() || (trailing_slash && out.last() != Some(&b'/')) {
        out.push(b'/');
    }
    Cow::Owned(ascii_string(out))
}

/// Our encoders only ever emit ASCII.
fn ascii_string(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_default()
}

#[derive(Debug, Clone, Copy)]
struct QueryOpts {
    /// A raw `+` means a space (form encoding, what AWS's servers read); else a literal `+`.
    plus_is_space: bool,
    /// Presigned: the signature itself is not part of what was signed.
    exclude_signature: bool,
    /// Presigned request whose X-Amz-Security-Token was appended after signing.
    exclude_token: bool,
}

/// One query key or value in AWS's canonical encoding.
fn canonical_component(raw: &[u8], plus_is_space: bool) -> Cow<'_, [u8]> {
    if is_canonical_encoded(raw, false) {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + 8);
    let mut i = 0;
    while i < raw.len() {
        let (b, step) = match escape_at(raw, i) {
            Some(v) => (v, 3),
            None if raw[i] == b'+' && plus_is_space => (b' ', 1),
            None => (raw[i], 1),
        };
        if is_unreserved(b) {
            out.push(b);
        } else {
            push_encoded(&mut out, b);
        }
        i += step;
    }
    Cow::Owned(out)
}

/// One canonical `key=value` pair of the query, borrowed when already canonical.
type QueryPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

fn write_canonical_query(out: &mut Vec<u8>, raw: &str, opts: QueryOpts) {
    if raw.is_empty() {
        return;
    }
    let mut pairs: Vec<QueryPair<'_>> = Vec::new();
    for piece in raw.as_bytes().split(|b| *b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (k, v) = match piece.iter().position(|b| *b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        let k = canonical_component(k, opts.plus_is_space);
        if (opts.exclude_signature && k.eq_ignore_ascii_case(b"X-Amz-Signature"))
            || (opts.exclude_token && k.eq_ignore_ascii_case(b"X-Amz-Security-Token"))
        {
            continue;
        }
        pairs.push((k, canonical_component(v, opts.plus_is_space)));
    }
    pairs.sort_unstable();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(k);
        out.push(b'=');
        out.extend_from_slice(v);
    }
}

// ---------------------------------------------------------------------------------------
// dates, by hand
// ---------------------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(b - b'0');
    }
    Some(n)
}

fn to_unix(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<u64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59
    {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    u64::try_from(secs).ok()
}

/// `YYYYMMDDTHHMMSSZ` → seconds since the epoch; None for anything else (or before 1970).
pub fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    to_unix(
        i64::from(digits(&b[0..4])?),
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    )
}

/// Seconds since the epoch → `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let rem = unix % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// An HTTP `Date` header in IMF-fixdate form (`Fri, 24 May 2013 00:00:00 GMT`).
fn parse_http_date(s: &str) -> Option<u64> {
    let b = s.trim().as_bytes();
    // "Fri, 24 May 2013 00:00:00 GMT"
    if b.len() != 29
        || b[3] != b','
        || b[4] != b' '
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
    {
        return None;
    }
    if b[19] != b':' || b[22] != b':' || b[25] != b' ' || &b[26..29] != b"GMT" {
        return None;
    }
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let month = MONTHS.iter().position(|m| m[..] == b[8..11])? as u32 + 1;
    to_unix(
        i64::from(digits(&b[12..16])?),
        month,
        digits(&b[5..7])?,
        digits(&b[17..19])?,
        digits(&b[20..22])?,
        digits(&b[23..25])?,
    )
}

// ---------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderName, HeaderValue};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const NOW: u64 = 1_440_938_160; // 20150830T123600Z
    const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn parts<'a>(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        h: &'a HeaderMap,
    ) -> RequestParts<'a> {
        RequestParts {
            method,
            path,
            query,
            headers: h,
        }
    }

    /// Signs like a client would (through our own canonicalization) — for round trips.
    fn sign_header(
        method: &str,
        path: &str,
        query: &str,
        h: &mut HeaderMap,
        s3: bool,
        payload: &str,
    ) {
        let auth = ParsedAuth {
            credential: Credential {
                access_key: "AKIDEXAMPLE".into(),
                date: "20150830".into(),
                region: "us-east-1".into(),
                service: "service".into(),
            },
            signed_headers: vec!["host".into(), "x-amz-date".into()],
            signature: String::new(),
            amz_date: "20150830T123600Z".into(),
            kind: AuthKind::Header,
        };
        let creq = canonical_request(&auth, &parts(method, path, query, h), payload, s3);
        let sig = sign_string(SECRET, &auth.credential, &string_to_sign(&auth, &creq));
        h.insert(
            "authorization",
            HeaderValue::from_str(&format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature={sig}"
            ))
            .unwrap(),
        );
    }

    fn vanilla() -> HeaderMap {
        headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ])
    }

    #[test]
    fn sigv4_vanilla_parses_and_verifies() {
        let h = vanilla();
        let req = parts("GET", "/", "", &h);
        let auth = parse(&req).unwrap().unwrap();
        assert_eq!(auth.credential.access_key, "AKIDEXAMPLE");
        assert_eq!(auth.credential.date, "20150830");
        assert_eq!(auth.credential.region, "us-east-1");
        assert_eq!(auth.credential.service, "service");
        assert_eq!(auth.signed_headers, vec!["host", "x-amz-date"]);
        assert_eq!(auth.amz_date, "20150830T123600Z");
        assert_eq!(auth.kind, AuthKind::Header);
        assert_eq!(
            canonical_request(&auth, &req, EMPTY_SHA, false),
            format!("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{EMPTY_SHA}")
        );
        verify(&auth, &req, EMPTY_SHA, SECRET, NOW, false).unwrap();
        assert_eq!(
            verify(&auth, &req, EMPTY_SHA, "wrong", NOW, false),
            Err(SigError::SignatureDoesNotMatch)
        );
        assert_eq!(verify(&auth, &req, EMPTY_SHA, SECRET, NOW, true), Ok(()));
    }

    #[test]
    fn sigv4_signing_key_matches_aws_docs_example() {
        // From AWS's "Deriving the signing key" example (iam service, 20120215, us-east-1).
        let key = derive_signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        // Cached and uncached agree, repeatedly, and past the cache bound.
        for i in 0..(KEY_CACHE_MAX * 2 + 3) {
            let region = format!("r-{i}");
            assert_eq!(
                signing_key("s", "20120215", &region, "iam"),
                derive_signing_key("s", "20120215", &region, "iam")
            );
        }
        assert_eq!(
            signing_key(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "20120215",
                "us-east-1",
                "iam"
            ),
            key
        );
        assert!(KEY_CACHE.lock().len() <= KEY_CACHE_MAX);
    }

    #[test]
    fn sigv4_sha256_hex() {
        assert_eq!(sha256_hex(b""), EMPTY_SHA);
        assert_eq!(
            sha256_hex(b"Param1=value1"),
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        );
    }

    #[test]
    fn sigv4_dates_by_hand() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(NOW));
        assert_eq!(parse_amz_date("20000229T000000Z"), Some(951_782_400));
        assert_eq!(parse_amz_date("21000229T000000Z"), None); // 2100 is no leap year
        assert_eq!(parse_amz_date("20240229T235959Z"), Some(1_709_251_199));
        for bad in [
            "",
            "2015083T123600Z",
            "20150830 123600Z",
            "20150830T123600",
            "20151330T123600Z",
            "20150832T123600Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "2015-08-30T12:36:00Z",
            "20150830T123600z",
            "19691231T235959Z",
            "+0150830T123600Z",
            "２0150830T12360Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        // Round trip over a spread of instants, leap days and century edges included.
        let mut t = 0u64;
        while t < 8_000_000_000 {
            let s = format_amz_date(t);
            assert_eq!(parse_amz_date(&s), Some(t), "{s}");
            t += 86_400 * 37 + 3_601;
        }
        assert_eq!(format_amz_date(NOW), "20150830T123600Z");
        assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(
            parse_http_date("Fri, 24 May 2013 00:00:00 GMT"),
            parse_amz_date("20130524T000000Z")
        );
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), Some(NOW));
        assert_eq!(parse_http_date("Sun, 30 Foo 2015 12:36:00 GMT"), None);
        assert_eq!(parse_http_date("Sunday, 30-Aug-15 12:36:00 GMT"), None);
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 UTC"), None);
    }

    #[test]
    fn sigv4_canonical_uri_rules() {
        // Other services: normalize, then encode again.
        for (path, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("//example//", "/example/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/a/b/../c/./d", "/a/c/d"),
            ("/a/b/.", "/a/b/"),
            ("/../../x", "/x"),
            ("/-._~09AZaz", "/-._~09AZaz"),
            ("/example%20space/", "/example%2520space/"),
            ("/example space/", "/example%20space/"),
            ("/ሴ", "/%E1%88%B4"),
            (
                "/test/@connections/JBDvjfGEIAMCERw%3D",
                "/test/%40connections/JBDvjfGEIAMCERw%253D",
            ),
            (
                "/2015-03-31/functions/arn%3Aaws%3Alambda/invocations",
                "/2015-03-31/functions/arn%253Aaws%253Alambda/invocations",
            ),
            ("relative/x", "/relative/x"),
        ] {
            assert_eq!(canonical_uri(path, false), want, "service: {path}");
        }
        // S3: as sent, only percent-encoding normalized.
        for (path, want) in [
            ("", "/"),
            ("/", "/"),
            ("//example//", "//example//"),
            ("/./example/..", "/./example/.."),
            ("/bucket/key%20with%20space", "/bucket/key%20with%20space"),
            ("/bucket/key with space", "/bucket/key%20with%20space"),
            ("/bucket/a%2fb%7e", "/bucket/a%2Fb~"),
            ("/bucket/a%2Fb", "/bucket/a%2Fb"),
            ("/test$file.text", "/test%24file.text"),
            ("/b/ሴ", "/b/%E1%88%B4"),
            ("/b/100%", "/b/100%25"),
            ("/b/%zz", "/b/%25zz"),
            ("/b/a+b", "/b/a%2Bb"),
        ] {
            assert_eq!(canonical_uri(path, true), want, "s3: {path}");
        }
        assert!(matches!(
            canonical_uri("/already/canonical%2F", true),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            canonical_uri("/plain/path", false),
            Cow::Borrowed(_)
        ));
    }

    fn cq(raw: &str, presigned: bool) -> String {
        let mut out = Vec::new();
        write_canonical_query(
            &mut out,
            raw,
            QueryOpts {
                plus_is_space: true,
                exclude_signature: presigned,
                exclude_token: false,
            },
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sigv4_canonical_query_rules() {
        assert_eq!(cq("", false), "");
        assert_eq!(
            cq("Param2=value2&Param1=value1", false),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            cq("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", false),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(cq("ሴ=bar", false), "%E1%88%B4=bar");
        // Sorted by key, then by value.
        assert_eq!(cq("a=2&b=1&a=1", false), "a=1&a=2&b=1");
        // Key without '=' and empty values.
        assert_eq!(cq("acl", false), "acl=");
        assert_eq!(cq("versioning&a=", false), "a=&versioning=");
        assert_eq!(cq("&&a=1&", false), "a=1");
        // Re-encoding: lowercase escapes uppercased, unreserved escapes decoded, reserved encoded.
        assert_eq!(cq("k=%7e%2f%41", false), "k=~%2FA");
        assert_eq!(
            cq("prefix=a/b&delimiter=/", false),
            "delimiter=%2F&prefix=a%2Fb"
        );
        assert_eq!(cq("k=a=b", false), "k=a%3Db");
        assert_eq!(cq("k=%zz%", false), "k=%25zz%25");
        // '+' is a space (form encoding); %2B is a plus.
        assert_eq!(
            cq("k=a+b&p=a%2Bb&s=a%20b", false),
            "k=a%20b&p=a%2Bb&s=a%20b"
        );
        // Unreserved characters untouched.
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        assert_eq!(
            cq(&format!("{unreserved}={unreserved}"), false),
            format!("{unreserved}={unreserved}")
        );
        // Presigned: the signature is left out, everything else stays.
        assert_eq!(
            cq(
                "X-Amz-Signature=abc&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60",
                true
            ),
            "X-Amz-Date=20150830T123600Z&X-Amz-Expires=60"
        );
        assert_eq!(cq("X-Amz-Signature=abc", false), "X-Amz-Signature=abc");
        // All printable ASCII, as the Rust SDK's own test expects.
        let all: String = (32u8..127).map(char::from).collect();
        let enc: String = all
            .bytes()
            .map(|b| {
                if is_unreserved(b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        assert_eq!(cq(&format!("prefix={enc}"), false), format!("prefix={enc}"));
    }

    #[test]
    fn sigv4_canonical_headers_trim_and_join() {
        let mut h = headers(&[
            ("host", "example.amazonaws.com"),
            ("my-header1", "  value1  "),
            ("my-header2", "\"a   b   c\""),
            ("my-header3", "v1"),
            ("my-header3", " v2 \t x"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        h.append(
            "my-header4",
            HeaderValue::from_bytes(b"\xe2\x82\xac  x").unwrap(),
        );
        let auth = ParsedAuth {
            credential: Credential {
                access_key: "A".into(),
                date: "20150830".into(),
                region: "r".into(),
                service: "s".into(),
            },
            signed_headers: [
                "host",
                "my-header1",
                "my-header2",
                "my-header3",
                "my-header4",
                "missing",
                "x-amz-date",
            ]
            .map(String::from)
            .to_vec(),
            signature: String::new(),
            amz_date: "20150830T123600Z".into(),
            kind: AuthKind::Header,
        };
        let creq = canonical_request(&auth, &parts("GET", "/", "", &h), "UNSIGNED-PAYLOAD", false);
        assert_eq!(
            creq,
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nmy-header3:v1,v2 x\n\
             my-header4:€ x\nmissing:\nx-amz-date:20150830T123600Z\n\n\
             host;my-header1;my-header2;my-header3;my-header4;missing;x-amz-date\nUNSIGNED-PAYLOAD"
        );
    }

    #[test]
    fn sigv4_no_auth_is_none() {
        let h = headers(&[("host", "x")]);
        assert_eq!(parse(&parts("GET", "/", "a=b", &h)), Ok(None));
        let h = headers(&[(
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
        )]);
        assert_eq!(parse(&parts("GET", "/", "", &h)), Ok(None));
        let h = headers(&[("authorization", "AWS4-HMAC-SHA256x Credential=x")]);
        assert_eq!(parse(&parts("GET", "/", "", &h)), Ok(None));
        let h = headers(&[("authorization", "Bearer abc")]);
        assert_eq!(parse(&parts("GET", "/", "", &h)), Ok(None));
        let h = headers(&[("authorization", "AWS4-ECDSA-P256-SHA256 Credential=x")]);
        assert_eq!(parse(&parts("GET", "/", "", &h)), Ok(None));
        // SigV2 presigned.
        let h = HeaderMap::new();
        assert_eq!(
            parse(&parts(
                "GET",
                "/b/k",
                "AWSAccessKeyId=A&Expires=1&Signature=x",
                &h
            )),
            Ok(None)
        );
        assert_eq!(
            parse(&parts(
                "GET",
                "/b/k",
                "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256",
                &h
            )),
            Ok(None)
        );
    }

    #[test]
    fn sigv4_malformed_header_auth() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            ("AWS4-HMAC-SHA256", &[("x-amz-date", "20150830T123600Z")], "requires 'Credential' parameter"),
            (
                "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request, SignedHeaders=host",
                &[("x-amz-date", "20150830T123600Z")],
                "requires 'Signature' parameter",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request, SignedHeaders=host, Signature=00",
                &[],
                "either a 'X-Amz-Date' or a 'Date' header",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s, SignedHeaders=host, Signature=00",
                &[("x-amz-date", "20150830T123600Z")],
                "Credential is mal-formed",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws5_request, SignedHeaders=host, Signature=00",
                &[("x-amz-date", "20150830T123600Z")],
                "valid terminator: 'aws4_request', not 'aws5_request'",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=A/20150831/us-east-1/s/aws4_request, SignedHeaders=host, Signature=00",
                &[("x-amz-date", "20150830T123600Z")],
                "'20150831' != '20150830', from '20150830T123600Z'",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request, SignedHeaders=host, Signature=00",
                &[("x-amz-date", "2015-08-30T12:36:00Z")],
                "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'.",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request, SignedHeaders=, Signature=00",
                &[("x-amz-date", "20150830T123600Z")],
                "SignedHeaders",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=A/20150830//s/aws4_request, SignedHeaders=host, Signature=00",
                &[("x-amz-date", "20150830T123600Z")],
                "valid region",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request, SignedHeaders=host, Signature=00",
                &[("date", "yesterday")],
                "valid Date or x-amz-date",
            ),
        ];
        for (authz, extra, want) in cases {
            let mut h = headers(extra);
            h.insert("authorization", HeaderValue::from_str(authz).unwrap());
            match parse(&parts("GET", "/", "", &h)) {
                Err(e @ SigError::Malformed(_)) => {
                    assert!(e.message().contains(want), "{authz}: {}", e.message());
                    assert_eq!(e.code(), "IncompleteSignature");
                    assert_eq!(e.status(), 400);
                }
                other => panic!("{authz}: {other:?}"),
            }
        }
    }

    #[test]
    fn sigv4_lenient_authorization_spacing_and_date_header() {
        // No spaces after commas (the S3 docs' examples), extra spaces around '='.
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("date", "Sun, 30 Aug 2015 12:36:00 GMT"),
            (
                "authorization",
                "AWS4-HMAC-SHA256   Credential = AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;date,Signature=00",
            ),
        ]);
        let auth = parse(&parts("GET", "/", "", &h)).unwrap().unwrap();
        assert_eq!(auth.amz_date, "20150830T123600Z");
        assert_eq!(auth.signed_headers, vec!["host", "date"]);
        assert_eq!(auth.signature, "00");
    }

    #[test]
    fn is_authorization_matches_exactly_the_built_header() {
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", "AWS4-HMAC-SHA256   Credential = AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature=ab"),
        ]);
        let auth = parse(&parts("GET", "/", "", &h)).unwrap().unwrap();
        let exact = auth.authorization("ab");
        assert_eq!(exact, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab");
        assert!(auth.is_authorization(exact.as_bytes()));
        assert!(!auth.is_authorization(h["authorization"].as_bytes()), "another layout");
        assert!(!auth.is_authorization(format!("{exact}0").as_bytes()), "trailing bytes");
        assert!(!auth.is_authorization(&exact.as_bytes()[..exact.len() - 1]), "cut short");
        assert!(!auth.is_authorization(exact.replace("host;x-amz-date", "host,x-amz-date").as_bytes()));
    }

    #[test]
    fn sigv4_round_trip_with_odd_queries_and_paths() {
        for (path, query, s3) in [
            ("/", "a=b+c&d=%2B", false),
            (
                "/x y/ሴ/%41",
                "prefix=a%2Fb&delimiter=%2F&list-type=2",
                false,
            ),
            ("/bucket/key%2Bwith%2Bplus", "uploads", true),
            ("/bucket/a b", "", true),
        ] {
            let mut h = headers(&[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ]);
            sign_header("PUT", path, query, &mut h, s3, EMPTY_SHA);
            let req = parts("PUT", path, query, &h);
            let auth = parse(&req).unwrap().unwrap();
            verify(&auth, &req, EMPTY_SHA, SECRET, NOW, s3).unwrap();
            assert_eq!(
                verify(&auth, &req, "UNSIGNED-PAYLOAD", SECRET, NOW, s3),
                Err(SigError::SignatureDoesNotMatch)
            );
            assert_eq!(
                verify(
                    &auth,
                    &parts("POST", path, query, &h),
                    EMPTY_SHA,
                    SECRET,
                    NOW,
                    s3
                ),
                Err(SigError::SignatureDoesNotMatch)
            );
            let other_query = format!("{query}&extra=1");
            assert_eq!(
                verify(
                    &auth,
                    &parts("PUT", path, &other_query, &h),
                    EMPTY_SHA,
                    SECRET,
                    NOW,
                    s3
                ),
                Err(SigError::SignatureDoesNotMatch)
            );
        }
    }

    #[test]
    fn sigv4_plus_signed_as_literal_plus_is_tolerated() {
        // A client that signed `a+b` as the literal "a+b" (canonical %2B).
        let query = "k=a+b";
        let mut h = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        sign_header("GET", "/", "k=a%2Bb", &mut h, false, EMPTY_SHA);
        let req = parts("GET", "/", query, &h);
        let auth = parse(&req).unwrap().unwrap();
        verify(&auth, &req, EMPTY_SHA, SECRET, NOW, false).unwrap();
        // ... and one that meant a space.
        let mut h = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        sign_header("GET", "/", "k=a%20b", &mut h, false, EMPTY_SHA);
        let req = parts("GET", "/", query, &h);
        verify(
            &parse(&req).unwrap().unwrap(),
            &req,
            EMPTY_SHA,
            SECRET,
            NOW,
            false,
        )
        .unwrap();
    }

    #[test]
    fn sigv4_s3_path_as_sent_is_tolerated() {
        // A client that signed a lowercase escape exactly as it sent it.
        let mut h = headers(&[
            ("host", "b.s3.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        let auth = ParsedAuth {
            credential: Credential {
                access_key: "AKIDEXAMPLE".into(),
                date: "20150830".into(),
                region: "us-east-1".into(),
                service: "service".into(),
            },
            signed_headers: vec!["host".into(), "x-amz-date".into()],
            signature: String::new(),
            amz_date: "20150830T123600Z".into(),
            kind: AuthKind::Header,
        };
        let creq = format!(
            "GET\n/key%2fx\n\nhost:b.s3.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{EMPTY_SHA}"
        );
        let sig = sign_string(SECRET, &auth.credential, &string_to_sign(&auth, &creq));
        h.insert("authorization", HeaderValue::from_str(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={sig}"
        )).unwrap());
        let req = parts("GET", "/key%2fx", "", &h);
        let auth = parse(&req).unwrap().unwrap();
        verify(&auth, &req, EMPTY_SHA, SECRET, NOW, true).unwrap();
        assert_eq!(
            verify(&auth, &req, EMPTY_SHA, SECRET, NOW, false),
            Err(SigError::SignatureDoesNotMatch)
        );
    }

    #[test]
    fn sigv4_clock_skew() {
        let h = vanilla();
        let req = parts("GET", "/", "", &h);
        let auth = parse(&req).unwrap().unwrap();
        verify(&auth, &req, EMPTY_SHA, SECRET, NOW + 900, false).unwrap();
        verify(&auth, &req, EMPTY_SHA, SECRET, NOW - 900, false).unwrap();
        let late = verify(&auth, &req, EMPTY_SHA, SECRET, NOW + 901, false).unwrap_err();
        assert_eq!(
            late,
            SigError::ClockSkew(
                "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
                 (20150830T125101Z - 15 min.)"
                    .into()
            )
        );
        assert_eq!(late.code(), "SignatureDoesNotMatch");
        assert_eq!(late.s3_code(false), "RequestTimeTooSkewed");
        assert_eq!(late.status(), 403);
        let early = verify(&auth, &req, EMPTY_SHA, SECRET, NOW - 901, false).unwrap_err();
        assert_eq!(
            early.message(),
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z \
             (20150830T122059Z + 15 min.)"
        );
        // The wording of AWS's message, for a request signed 20 minutes before "now".
        let t = parse_amz_date("20130524T002000Z").unwrap();
        assert_eq!(
            check_clock_skew(
                "20130524T000000Z",
                parse_amz_date("20130524T000000Z").unwrap(),
                t
            ),
            Err(SigError::ClockSkew(
                "Signature expired: 20130524T000000Z is now earlier than 20130524T000500Z \
                 (20130524T002000Z - 15 min.)"
                    .into()
            ))
        );
        // Directly: 10 minutes late is fine, 25 is not.
        assert!(check_clock_skew("x", t - 600, t).is_ok());
        assert!(check_clock_skew("x", t - 1500, t).is_err());
        // No underflow near the epoch.
        assert!(check_clock_skew("x", 0, 10).is_ok());
        assert!(check_clock_skew("x", u64::MAX, 0).is_err());
    }

    #[test]
    fn sigv4_presigned_parse_and_expiry() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d";
        let h = headers(&[("host", "example.amazonaws.com")]);
        let req = parts("GET", "/", q, &h);
        let auth = parse(&req).unwrap().unwrap();
        assert_eq!(auth.kind, AuthKind::Presigned { expires_secs: 3600 });
        assert_eq!(auth.signed_headers, vec!["host"]);
        // The CRT suite presigns with the empty-body hash, which verify tries after UNSIGNED-PAYLOAD.
        verify(&auth, &req, EMPTY_SHA, SECRET, NOW, false).unwrap();
        verify(&auth, &req, EMPTY_SHA, SECRET, NOW + 3600, false).unwrap();
        // Presigned requests have no 15-minute window: an hour later is still fine.
        assert_eq!(
            verify(&auth, &req, EMPTY_SHA, SECRET, NOW + 3601, false),
            Err(SigError::RequestExpired)
        );
        assert_eq!(SigError::RequestExpired.code(), "AccessDenied");
        assert_eq!(SigError::RequestExpired.message(), "Request has expired");
        // The signature covers the presign parameters themselves.
        let longer = q.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200");
        let req2 = parts("GET", "/", &longer, &h);
        let auth2 = parse(&req2).unwrap().unwrap();
        assert_eq!(
            verify(&auth2, &req2, EMPTY_SHA, SECRET, NOW, false),
            Err(SigError::SignatureDoesNotMatch)
        );

        // Both mechanisms at once.
        let mut both = vanilla();
        both.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        assert!(matches!(
            parse(&parts("GET", "/", q, &both)),
            Err(SigError::Malformed(_))
        ));

        for (bad, want) in [
            (
                q.replace("X-Amz-Expires=3600", "X-Amz-Expires=604801"),
                "less than a week",
            ),
            (
                q.replace("X-Amz-Expires=3600", "X-Amz-Expires=abc"),
                "should be a number",
            ),
            (
                q.replace("X-Amz-Expires=3600", "X-Amz-Expires=-5"),
                "non-negative",
            ),
            (
                q.replace(
                    "X-Amz-Expires=3600",
                    "X-Amz-Expires=99999999999999999999999",
                ),
                "less than a week",
            ),
            (
                q.replace("&X-Amz-Expires=3600", ""),
                "requires the X-Amz-Algorithm",
            ),
            (
                q.replace("&X-Amz-Signature=", "&X-Amz-Sig="),
                "requires the X-Amz-Algorithm",
            ),
            (
                q.replace("X-Amz-Date=20150830T123600Z", "X-Amz-Date=2015"),
                "ISO8601 Long Format",
            ),
            (
                q.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=HMAC"),
                "only supports",
            ),
        ] {
            match parse(&parts("GET", "/", &bad, &h)) {
                Err(e @ SigError::Malformed(_)) => {
                    assert!(e.message().contains(want), "{bad}: {}", e.message());
                    assert_eq!(e.s3_code(true), "AuthorizationQueryParametersError");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        let mut too_long = auth.clone();
        too_long.kind = AuthKind::Presigned {
            expires_secs: 604_801,
        };
        assert!(matches!(
            verify(&too_long, &req, EMPTY_SHA, SECRET, NOW, false),
            Err(SigError::Malformed(_))
        ));
        let mut week = auth.clone();
        week.kind = AuthKind::Presigned {
            expires_secs: 604_800,
        };
        // (The canonical query is rebuilt from the raw query, not from `kind`.)
        verify(&week, &req, EMPTY_SHA, SECRET, NOW, false).unwrap();
    }

    #[test]
    fn sigv4_bad_signature_shapes_do_not_match() {
        let h = vanilla();
        let req = parts("GET", "/", "", &h);
        let mut auth = parse(&req).unwrap().unwrap();
        for sig in [
            "",
            "5fa00fa3",
            "zz00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf3100",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30",
        ] {
            auth.signature = sig.into();
            assert_eq!(
                verify(&auth, &req, EMPTY_SHA, SECRET, NOW, false),
                Err(SigError::SignatureDoesNotMatch),
                "{sig}"
            );
        }
        // Uppercase hex of the right signature is the same bytes.
        auth.signature = "5FA00FA31553B73EBF1942676E86291E8372FF2A2260956D9B8AAE1D763FBF31".into();
        verify(&auth, &req, EMPTY_SHA, SECRET, NOW, false).unwrap();
    }

    #[test]
    fn sigv4_error_codes_and_messages() {
        let m = SigError::SignatureDoesNotMatch;
        assert_eq!(m.code(), "SignatureDoesNotMatch");
        assert_eq!(m.json_code(), "InvalidSignatureException");
        assert_eq!(m.s3_code(false), "SignatureDoesNotMatch");
        assert_eq!(
            m.message(),
            "The request signature we calculated does not match the signature you provided. Check your AWS \
             Secret Access Key and signing method. Consult the service documentation for details."
        );
        assert_eq!(
            m.s3_message(),
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        );
        let bad = SigError::Malformed("x".into());
        assert_eq!(
            (bad.code(), bad.json_code(), bad.s3_code(false)),
            (
                "IncompleteSignature",
                "IncompleteSignatureException",
                "AuthorizationHeaderMalformed"
            )
        );
        assert_eq!(bad.to_string(), "IncompleteSignature: x");
    }

    /// `cargo test --release -p nimbus-wire --lib sigv4_throughput -- --ignored --nocapture`
    #[test]
    #[ignore = "timing, run by hand in release mode"]
    fn sigv4_throughput() {
        let h = vanilla();
        let req = parts("GET", "/", "", &h);
        let n = 200_000u32;
        let start = std::time::Instant::now();
        for _ in 0..n {
            let auth = parse(&req).unwrap().unwrap();
            verify(&auth, &req, EMPTY_SHA, SECRET, NOW, false).unwrap();
        }
        let per = start.elapsed() / n;
        eprintln!("parse + verify: {per:?} per request");
    }

    /// A tiny deterministic generator for the garbage tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.below(xs.len())]
        }
    }

    #[test]
    fn sigv4_garbage_never_panics() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let atoms = [
            "AWS4-HMAC-SHA256",
            " ",
            ",",
            ", ",
            "=",
            "/",
            ";",
            "Credential=",
            "SignedHeaders=",
            "Signature=",
            "AKID",
            "20150830",
            "20150830T123600Z",
            "us-east-1",
            "s3",
            "aws4_request",
            "host",
            "x-amz-date",
            "%",
            "%2",
            "%2F",
            "%zz",
            "+",
            "&",
            "?",
            "ሴ",
            "\u{0}",
            "..",
            ".",
            "//",
            "X-Amz-Algorithm=",
            "X-Amz-Credential=",
            "X-Amz-Date=",
            "X-Amz-Expires=",
            "X-Amz-SignedHeaders=",
            "X-Amz-Signature=",
            "X-Amz-Security-Token=",
            "X-Amz-Content-Sha256=",
            "604800",
            "99999999999999999999",
            "-1",
            "abc",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            "\t",
            "AWS4-ECDSA-P256-SHA256",
        ];
        let header_names = [
            "host",
            "x-amz-date",
            "date",
            "authorization",
            "x-amz-content-sha256",
            "range",
        ];
        for round in 0..20_000 {
            let s = |n: usize, rng: &mut Rng| -> String {
                (0..rng.below(n)).map(|_| rng.pick(&atoms)).collect()
            };
            let path = s(6, &mut rng);
            let query = s(12, &mut rng);
            let mut h = HeaderMap::new();
            for _ in 0..rng.below(6) {
                let name = header_names[rng.below(header_names.len())];
                let mut v: Vec<u8> = s(10, &mut rng).into_bytes();
                if rng.below(4) == 0 {
                    v.push(0x80 + (rng.below(127) as u8));
                }
                v.retain(|b| *b == b'\t' || (*b >= 0x20 && *b != 0x7f));
                if let Ok(v) = HeaderValue::from_bytes(&v) {
                    h.append(name, v);
                }
            }
            if round % 3 == 0 {
                let authz = format!(
                    "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}",
                    s(5, &mut rng),
                    s(4, &mut rng),
                    s(2, &mut rng)
                );
                if let Ok(v) = HeaderValue::from_str(&authz.replace('\u{0}', "")) {
                    h.insert("authorization", v);
                }
            }
            let method = rng.pick(&["GET", "PUT", "", "g e t"]);
            let req = RequestParts {
                method,
                path: &path,
                query: &query,
                headers: &h,
            };
            if let Ok(Some(auth)) = parse(&req) {
                for s3 in [false, true] {
                    let _ = verify(&auth, &req, "UNSIGNED-PAYLOAD", "secret", rng.next(), s3);
                    let _ = canonical_request(&auth, &req, "", s3);
                }
            }
            // Verify with arbitrary hand-made auth too.
            let auth = ParsedAuth {
                credential: Credential {
                    access_key: s(2, &mut rng),
                    date: s(2, &mut rng),
                    region: s(2, &mut rng),
                    service: s(2, &mut rng),
                },
                signed_headers: (0..rng.below(4)).map(|_| s(3, &mut rng)).collect(),
                signature: s(2, &mut rng),
                amz_date: s(2, &mut rng),
                kind: if rng.below(2) == 0 {
                    AuthKind::Header
                } else {
                    AuthKind::Presigned {
                        expires_secs: rng.next(),
                    }
                },
            };
            let _ = verify(
                &auth,
                &req,
                &s(2, &mut rng),
                "secret",
                rng.next(),
                rng.below(2) == 0,
            );
            let _ = canonical_request(&auth, &req, "", true);
            let _ = canonical_uri(&path, false);
            let _ = canonical_uri(&path, true);
            let _ = parse_amz_date(&path);
            let _ = parse_http_date(&query);
        }
        // Extreme timestamps.
        let _ = format_amz_date(u64::MAX);
        let _ = format_amz_date(0);
    }
}
