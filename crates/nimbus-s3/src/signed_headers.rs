//! What SigV4 must sign, and how a repeated header is read: checks S3 makes of the
//! headers themselves, before either road (the short road or s3s) checks the
//! signature.
//!
//! - S3's SigV4 reference: CanonicalHeaders must list "any x-amz-* headers that you
//!   plan to include in your request". S3 refuses an `x-amz-*` header left out of
//!   SignedHeaders, for header signatures and presigned URLs alike, with 403
//!   AccessDenied "There were headers present in the request which were not signed"
//!   and a `HeadersNotSigned` element naming them (S3's answer as quoted in
//!   apache/arrow-rs-object-store#484 and soto-project/soto#374). Neither s3s nor the
//!   short road looks beyond SignedHeaders, so such a header (metadata, a checksum,
//!   an ACL) would otherwise be taken unsigned.
//! - A header sent twice is one header whose value is the comma-joined list (RFC 9110
//!   5.3), which is how S3 stores a repeated `x-amz-meta-*` header (the SigV2
//!   reference's "Upload" example sends X-Amz-Meta-ReviewedBy twice and signs
//!   "joe@...,jane@..."). s3s refuses a repeated metadata header; joined first, both
//!   signature versions canonicalize it exactly as the client signed the two.

use http::header::{HeaderName, HeaderValue};
use http::{Response, StatusCode};
use nimbus_wire::sigv4::ParsedAuth;

use crate::cors::{error, xml_escape};
use crate::notify::ReqInfo;
use crate::Body;

/// The refusal of a SigV4 request carrying `x-amz-*` headers its signature left out.
pub fn unsigned_refusal<B>(req: &http::Request<B>, signed: Option<&ParsedAuth>, info: &ReqInfo) -> Option<Response<Body>> {
    let signed = signed?;
    let mut unsigned: Vec<&str> = req
        .headers()
        .keys()
        .map(HeaderName::as_str)
        .filter(|name| name.starts_with("x-amz-") && !signed.signed_headers.iter().any(|s| s == name))
        .collect();
    if unsigned.is_empty() {
        return None;
    }
    unsigned.sort_unstable();
    let extra = format!("<HeadersNotSigned>{}</HeadersNotSigned>", xml_escape(&unsigned.join(", ")));
    Some(error(StatusCode::FORBIDDEN, "AccessDenied", "There were headers present in the request which were not signed", &extra, info))
}

/// Joins each repeated `x-amz-meta-*` header into one, its values comma-separated.
pub fn join_repeated_metadata<B>(req: &mut http::Request<B>) {
    let headers = req.headers();
    let repeated: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-amz-meta-") && headers.get_all(*name).iter().nth(1).is_some())
        .cloned()
        .collect();
    for name in repeated {
        let values: Option<Vec<&str>> = req.headers().get_all(&name).iter().map(|v| v.to_str().ok().map(str::trim)).collect();
        // A value that is not text is s3s's to refuse, as sent.
        let Some(joined) = values.map(|v| v.join(",")) else { continue };
        if let Ok(value) = HeaderValue::from_str(&joined) {
            req.headers_mut().insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_wire::sigv4;

    fn parsed(req: &http::Request<()>) -> Option<ParsedAuth> {
        let parts = sigv4::RequestParts { method: req.method().as_str(), path: req.uri().path(), query: req.uri().query().unwrap_or(""), headers: req.headers() };
        sigv4::parse(&parts).ok().flatten()
    }

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

    /// A request signed for host, x-amz-content-sha256 and x-amz-date, with `extra` headers.
    fn signed_request(extra: &[(&str, &str)]) -> http::Request<()> {
        let mut b = http::Request::builder()
            .uri("/b/k")
            .header("host", "h")
            .header("authorization", AUTH)
            .header("x-amz-date", "20261127T000000Z")
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        for (name, value) in extra {
            b = b.header(*name, *value);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn unsigned_amz_headers_are_named() {
        let req = signed_request(&[("x-amz-meta-b", "1"), ("x-amz-acl", "public-read"), ("user-agent", "not x-amz, need not be signed")]);
        let resp = unsigned_refusal(&req, parsed(&req).as_ref(), &ReqInfo::new(None)).expect("refused");
        assert_eq!(resp.status(), 403);
        let body = format!("{:?}", resp.body());
        assert!(body.contains("<HeadersNotSigned>x-amz-acl, x-amz-meta-b</HeadersNotSigned>"), "{body}");
    }

    #[test]
    fn signed_or_unsigned_requests_without_extra_headers_pass() {
        let req = signed_request(&[]);
        assert!(unsigned_refusal(&req, parsed(&req).as_ref(), &ReqInfo::new(None)).is_none());
        // Anonymous and SigV2 requests are not SigV4's to judge.
        let anonymous = http::Request::builder().uri("/b/k").header("x-amz-meta-a", "1").body(()).unwrap();
        assert!(unsigned_refusal(&anonymous, parsed(&anonymous).as_ref(), &ReqInfo::new(None)).is_none());
    }

    #[test]
    fn repeated_metadata_is_joined() {
        let mut req = http::Request::builder()
            .uri("/b/k")
            .header("x-amz-meta-reviewedby", "joe@example.com")
            .header("x-amz-meta-reviewedby", " jane@example.com ")
            .header("x-amz-meta-one", "1")
            .header("accept", "a")
            .header("accept", "b")
            .body(())
            .unwrap();
        join_repeated_metadata(&mut req);
        let all: Vec<_> = req.headers().get_all("x-amz-meta-reviewedby").iter().collect();
        assert_eq!(all, ["joe@example.com,jane@example.com"]);
        assert_eq!(req.headers()["x-amz-meta-one"], "1");
        assert_eq!(req.headers().get_all("accept").iter().count(), 2, "only metadata is joined");
    }
}
