//! Signature V2 requests as S3 reads them, where s3s's V2 check reads them otherwise.
//! Each adjustment is made before s3s sees the request, so s3s still checks every
//! signature itself.
//!
//! - A request to a bucket itself (ListObjects, GetBucketAcl, ...) is signed over the
//!   resource `/<bucket>/`, with a final slash, whatever the URL's path is: botocore
//!   signs `/<bucket>/` for a request to `/<bucket>` ("the auth_path must be
//!   terminated with a '/' character to generate a signature that the server will
//!   accept", botocore/handlers.py), and AWS's V2 reference shows `/<bucket>/` as the
//!   CanonicalizedResource of a bucket's root. s3s signs the path as sent, so a
//!   path-style `/<bucket>` is given its slash: the same bucket to s3s's router.
//! - A presigned URL carries its signed `x-amz-*` headers as query parameters
//!   (botocore's HmacV1QueryAuth moves every one there: the session token, metadata,
//!   the ACL), and the V2 query string's StringToSign keeps them as
//!   CanonicalizedAmzHeaders ("The CanonicalizedAmzHeaders and CanonicalizedResource
//!   are the same"). s3s reads amz headers only from headers, so they are copied
//!   there, where the operation reads them too (metadata, ACL), as S3 does.
//! - "A valid time stamp (using either the HTTP Date header or an x-amz-date
//!   alternative) is mandatory", within 15 minutes of the server's clock, else
//!   RequestTimeTooSkewed (V2 reference, "Time stamp requirement"). s3s checks only
//!   that one is there.

use http::header::{HeaderName, HeaderValue};
use http::uri::{PathAndQuery, Uri};
use s3s::dto::{Timestamp, TimestampFormat};
use s3s::{s3_error, S3Error};

/// Adds the final slash to a V2-signed, path-style request for a bucket itself.
pub fn slash_bucket_root<B>(req: &mut http::Request<B>) {
    if !signed_with_v2(req) {
        return;
    }
    let path = req.uri().path();
    let names_bucket_only = path.len() > 1 && !path[1..].contains('/');
    let path_style = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_none_or(|host| crate::routing::virtual_host_bucket(host).is_none());
    if !(names_bucket_only && path_style) {
        return;
    }
    let slashed = match req.uri().query() {
        Some(q) => format!("{path}/?{q}"),
        None => format!("{path}/"),
    };
    let Ok(path_and_query) = PathAndQuery::try_from(slashed) else { return };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = Uri::from_parts(parts) {
        *req.uri_mut() = uri;
    }
}

/// Copies a V2 presigned URL's `x-amz-*` query parameters into headers of the same
/// name (a header the client also sent is left as sent).
pub fn amz_query_as_headers<B>(req: &mut http::Request<B>) {
    if !presigned_v2(req) {
        return;
    }
    let Some(query) = req.uri().query() else { return };
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned());
    let found: Vec<(HeaderName, HeaderValue)> = query
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name)?.to_ascii_lowercase();
            if !name.starts_with("x-amz-") {
                return None;
            }
            Some((HeaderName::from_bytes(name.as_bytes()).ok()?, HeaderValue::from_str(&decode(value)?).ok()?))
        })
        .collect();
    for (name, value) in found {
        if !req.headers().contains_key(&name) {
            req.headers_mut().insert(name, value);
        }
    }
}

/// S3's refusal of a V2 header-signed request for its date: none or unreadable
/// (403 AccessDenied, as S3 words it), or more than 15 minutes from now
/// (403 RequestTimeTooSkewed). `x-amz-date` wins over `Date`, as in the StringToSign.
pub fn date_refusal<B>(req: &http::Request<B>) -> Option<S3Error> {
    if !header_v2(req) {
        return None;
    }
    let headers = req.headers();
    let date = headers.get("x-amz-date").or_else(|| headers.get(http::header::DATE));
    let when = date
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Timestamp::parse(TimestampFormat::HttpDate, v).ok())
        .map(|t| time::OffsetDateTime::from(t).unix_timestamp());
    let Some(when) = when else {
        return Some(s3_error!(AccessDenied, "AWS authentication requires a valid Date or x-amz-date header"));
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // The same limit as SigV4's.
    (now.abs_diff(when) > nimbus_wire::sigv4::MAX_CLOCK_SKEW_SECS)
        .then(|| s3_error!(RequestTimeTooSkewed, "The difference between the request time and the current time is too large."))
}

fn header_v2<B>(req: &http::Request<B>) -> bool {
    req.headers().get(http::header::AUTHORIZATION).is_some_and(|v| v.as_bytes().starts_with(b"AWS "))
}

/// A query string with `AWSAccessKeyId` and `Signature`.
fn presigned_v2<B>(req: &http::Request<B>) -> bool {
    req.uri().query().is_some_and(|q| {
        let names = || q.split('&').map(|p| p.split('=').next().unwrap_or(""));
        names().any(|n| n == "AWSAccessKeyId") && names().any(|n| n == "Signature")
    })
}

/// `Authorization: AWS <key>:<signature>`, or a V2 presigned URL.
fn signed_with_v2<B>(req: &http::Request<B>) -> bool {
    header_v2(req) || presigned_v2(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slashed(uri: &str, host: &str, auth: Option<&str>) -> String {
        let mut b = http::Request::builder().uri(uri).header("host", host);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        let mut req = b.body(()).unwrap();
        slash_bucket_root(&mut req);
        req.uri().to_string()
    }

    #[test]
    fn only_v2_path_style_bucket_requests_gain_the_slash() {
        let presigned = "/b?list-type=2&AWSAccessKeyId=test&Signature=x%3D&Expires=1";
        assert_eq!(slashed(presigned, "127.0.0.1:4566", None), "/b/?list-type=2&AWSAccessKeyId=test&Signature=x%3D&Expires=1");
        assert_eq!(slashed("/b?acl", "localhost:4566", Some("AWS test:sig=")), "/b/?acl");
        assert_eq!(slashed("/b", "localhost:4566", Some("AWS test:sig=")), "/b/");
        // Already slashed, an object, SigV4, anonymous, virtual-hosted: unchanged.
        assert_eq!(slashed("/b/?acl", "localhost", Some("AWS test:sig=")), "/b/?acl");
        assert_eq!(slashed("/b/k", "localhost", Some("AWS test:sig=")), "/b/k");
        assert_eq!(slashed("/b", "localhost", Some("AWS4-HMAC-SHA256 Credential=x")), "/b");
        assert_eq!(slashed("/b", "localhost", None), "/b");
        assert_eq!(slashed("/k", "b.s3.localhost:4566", Some("AWS test:sig=")), "/k");
    }

    #[test]
    fn presigned_amz_parameters_become_headers() {
        let mut req = http::Request::builder()
            .uri("/b/k?AWSAccessKeyId=test&Signature=s%3D&x-amz-security-token=a%2Bb%2Fc%3D&X-Amz-Meta-Color=blue&Expires=1")
            .header("x-amz-meta-color", "red")
            .body(())
            .unwrap();
        amz_query_as_headers(&mut req);
        assert_eq!(req.headers()["x-amz-security-token"], "a+b/c=");
        assert_eq!(req.headers()["x-amz-meta-color"], "red", "a header sent is kept");
        // Not V2 presigned: nothing is copied.
        let mut v4 = http::Request::builder().uri("/b/k?X-Amz-Signature=s&x-amz-meta-x=1").body(()).unwrap();
        amz_query_as_headers(&mut v4);
        assert!(v4.headers().is_empty());
    }

    fn dated(headers: &[(&str, String)]) -> Option<String> {
        let mut b = http::Request::builder().uri("/b/k").header("authorization", "AWS test:sig=");
        for (n, v) in headers {
            b = b.header(*n, v);
        }
        date_refusal(&b.body(()).unwrap()).map(|e| e.code().as_str().to_owned())
    }

    #[test]
    fn the_date_is_required_and_recent() {
        let http_date = |offset: i64| {
            let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset);
            let mut out = Vec::new();
            Timestamp::from(t).format(TimestampFormat::HttpDate, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(dated(&[("date", http_date(0))]), None);
        assert_eq!(dated(&[("x-amz-date", http_date(-600))]), None);
        assert_eq!(dated(&[]).as_deref(), Some("AccessDenied"));
        assert_eq!(dated(&[("date", "yesterday".into())]).as_deref(), Some("AccessDenied"));
        assert_eq!(dated(&[("date", http_date(-3600))]).as_deref(), Some("RequestTimeTooSkewed"));
        // x-amz-date is the one signed and checked.
        assert_eq!(dated(&[("date", http_date(-3600)), ("x-amz-date", http_date(0))]), None);
        assert_eq!(dated(&[("date", http_date(0)), ("x-amz-date", http_date(3600))]).as_deref(), Some("RequestTimeTooSkewed"));
        // SigV4 and anonymous requests are not this check's.
        let v4 = http::Request::builder().uri("/b").header("authorization", "AWS4-HMAC-SHA256 x").body(()).unwrap();
        assert!(date_refusal(&v4).is_none());
    }
}
