//! A `Range` S3 does not serve (several ranges, or not a byte range) is ignored by
//! S3: 200 and the whole object. s3s refuses it with 400. The short road ignores it
//! itself (fast_path.rs); for GETs and HEADs that go through s3s it is taken off the
//! request here first.
//!
//! s3s checks the signature of what it receives, so where the client signed the
//! header (SigV4 in the Authorization header), the request's signature is checked
//! here and, if it holds, the request is signed again without `Range`, with the
//! same key, date and scope. A signature that does not hold is left for s3s to
//! refuse. A presigned URL that signed `Range` (unusual: SDKs sign only `host`) is
//! presigned again the same way, its query rewritten.

use http::HeaderValue;
use nimbus_wire::sigv4;
use s3s::dto::Range;

use crate::Auth;

/// Takes an unserved `Range` off `req` (re-signing it if the header was signed).
pub fn drop_unserved(req: &mut http::Request<s3s::Body>, auth: &Auth) {
    if !matches!(*req.method(), http::Method::GET | http::Method::HEAD) {
        return;
    }
    let mut ranges = req.headers().get_all(http::header::RANGE).iter();
    let (Some(range), None) = (ranges.next(), ranges.next()) else { return };
    // What s3s cannot parse is what it would refuse; text it cannot read is its to refuse.
    match range.to_str() {
        Ok(text) if Range::parse(text).is_err() => {}
        _ => return,
    }
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let parts = sigv4::RequestParts { method: req.method().as_str(), path: &path, query: &query, headers: req.headers() };
    let signed = match sigv4::parse(&parts) {
        // Anonymous, or SigV2 (whose string to sign leaves Range out).
        Ok(None) => None,
        Ok(Some(signed)) if !signed.signed_headers.iter().any(|h| h == "range") => None,
        Ok(Some(signed)) => Some(signed),
        _ => return,
    };
    let Some(signed) = signed else {
        req.headers_mut().remove(http::header::RANGE);
        return;
    };
    if matches!(signed.kind, sigv4::AuthKind::Presigned { .. }) {
        let Some(path_and_query) = represign_without_range(&signed, &parts, auth).and_then(|p| p.parse().ok()) else { return };
        let mut uri = req.uri().clone().into_parts();
        uri.path_and_query = Some(path_and_query);
        if let Ok(uri) = http::Uri::from_parts(uri) {
            req.headers_mut().remove(http::header::RANGE);
            *req.uri_mut() = uri;
        }
        return;
    }
    if let Some(authorization) = resign_without_range(&signed, &parts, auth) {
        let headers = req.headers_mut();
        headers.remove(http::header::RANGE);
        headers.insert(http::header::AUTHORIZATION, authorization);
    }
}

/// The Authorization header for the request without `Range`, if the client's
/// signature of it holds.
fn resign_without_range(signed: &sigv4::ParsedAuth, parts: &sigv4::RequestParts, auth: &Auth) -> Option<HeaderValue> {
    let payload = parts.headers.get("x-amz-content-sha256")?.to_str().ok()?;
    let mut headers = parts.headers.clone();
    headers.remove(http::header::RANGE);
    let stripped = sigv4::RequestParts { headers: &headers, ..*parts };
    let names = signed.signed_headers.iter().filter(|h| *h != "range").cloned().collect();
    crate::resign::resign(signed, parts, payload, &stripped, payload, names, auth)
}

/// The presigned path and query for the request without `Range`, if the client's
/// signature of it holds.
fn represign_without_range(signed: &sigv4::ParsedAuth, parts: &sigv4::RequestParts, auth: &Auth) -> Option<String> {
    let mut headers = parts.headers.clone();
    headers.remove(http::header::RANGE);
    let names = signed.signed_headers.iter().filter(|h| *h != "range").cloned().collect();
    crate::resign::resign_presigned(signed, parts, &headers, names, auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn auth() -> Auth {
        Auth::new(&nimbus_core::AuthConfig::default())
    }

    /// A GET signed (secret "test") over host, range, x-amz-content-sha256 and x-amz-date.
    fn signed_get(range: &str) -> http::Request<s3s::Body> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let amz_date = sigv4::format_amz_date(now);
        let mut req = http::Request::get("/bucket/key").body(s3s::Body::empty()).unwrap();
        let h = req.headers_mut();
        h.insert("host", HeaderValue::from_static("localhost:4566"));
        h.insert("range", HeaderValue::from_str(range).unwrap());
        h.insert("x-amz-content-sha256", HeaderValue::from_static(EMPTY_SHA256));
        h.insert("x-amz-date", HeaderValue::from_str(&amz_date).unwrap());
        let credential = sigv4::Credential { access_key: "test".into(), date: amz_date[..8].into(), region: "us-east-1".into(), service: "s3".into() };
        let signed = sigv4::ParsedAuth {
            credential,
            signed_headers: ["host", "range", "x-amz-content-sha256", "x-amz-date"].map(String::from).to_vec(),
            signature: String::new(),
            amz_date,
            kind: sigv4::AuthKind::Header,
        };
        let parts = sigv4::RequestParts { method: "GET", path: "/bucket/key", query: "", headers: req.headers() };
        let value = sigv4::sign_header(&signed, &parts, EMPTY_SHA256, "test", true);
        req.headers_mut().insert(http::header::AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
        req
    }

    fn verifies(req: &http::Request<s3s::Body>) -> bool {
        let parts = sigv4::RequestParts { method: "GET", path: "/bucket/key", query: "", headers: req.headers() };
        let Ok(Some(signed)) = sigv4::parse(&parts) else { return false };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        sigv4::verify(&signed, &parts, EMPTY_SHA256, "test", now, true).is_ok()
    }

    #[test]
    fn a_signed_unserved_range_is_re_signed_away() {
        let mut req = signed_get("bytes=0-1,5-6");
        assert!(verifies(&req));
        drop_unserved(&mut req, &auth());
        assert!(req.headers().get("range").is_none());
        assert!(verifies(&req), "re-signed without range");
        assert!(req.headers()["authorization"].to_str().unwrap().contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"));
    }

    #[test]
    fn a_served_range_or_a_bad_signature_is_left_alone() {
        let mut req = signed_get("bytes=0-1");
        drop_unserved(&mut req, &auth());
        assert_eq!(req.headers()["range"], "bytes=0-1");
        let mut req = signed_get("bytes=abc");
        req.headers_mut().insert("x-amz-date", HeaderValue::from_static("20200101T000000Z"));
        let before = req.headers()["authorization"].clone();
        drop_unserved(&mut req, &auth());
        assert_eq!((req.headers()["range"].to_str().unwrap(), &req.headers()["authorization"]), ("bytes=abc", &before));
    }

    #[test]
    fn an_unsigned_unserved_range_is_dropped() {
        let mut req = http::Request::get("/bucket/key").body(s3s::Body::empty()).unwrap();
        req.headers_mut().insert("range", HeaderValue::from_static("bytes=0-1,5-6"));
        drop_unserved(&mut req, &auth());
        assert!(req.headers().get("range").is_none());
    }

    /// A GET presigned (secret "test") over host and range.
    fn presigned_get(range: &str) -> http::Request<s3s::Body> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let amz_date = sigv4::format_amz_date(now);
        let query = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F{}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date={amz_date}&X-Amz-Expires=300&X-Amz-SignedHeaders=host%3Brange",
            &amz_date[..8]
        );
        let mut headers = http::HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("localhost:4566"));
        headers.insert("range", HeaderValue::from_str(range).unwrap());
        // The canonical request leaves X-Amz-Signature out: any value parses.
        let unsigned = format!("{query}&X-Amz-Signature=00");
        let parts = sigv4::RequestParts { method: "GET", path: "/bucket/key", query: &unsigned, headers: &headers };
        let signed = sigv4::parse(&parts).unwrap().unwrap();
        let canonical = sigv4::canonical_request(&signed, &parts, sigv4::UNSIGNED_PAYLOAD, true);
        let signature = sigv4::sign_string("test", &signed.credential, &sigv4::string_to_sign(&signed, &canonical));
        let mut req = http::Request::get(format!("/bucket/key?{query}&X-Amz-Signature={signature}")).body(s3s::Body::empty()).unwrap();
        *req.headers_mut() = headers;
        req
    }

    fn presigned_verifies(req: &http::Request<s3s::Body>) -> bool {
        let query = req.uri().query().unwrap_or("");
        let parts = sigv4::RequestParts { method: "GET", path: req.uri().path(), query, headers: req.headers() };
        let Ok(Some(signed)) = sigv4::parse(&parts) else { return false };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        sigv4::verify(&signed, &parts, sigv4::UNSIGNED_PAYLOAD, "test", now, true).is_ok()
    }

    #[test]
    fn a_presigned_unserved_range_is_presigned_away() {
        let mut req = presigned_get("bytes=0-1,5-6");
        assert!(presigned_verifies(&req));
        drop_unserved(&mut req, &auth());
        assert!(req.headers().get("range").is_none());
        assert!(req.uri().query().unwrap().contains("X-Amz-SignedHeaders=host&"), "{}", req.uri());
        assert!(presigned_verifies(&req), "presigned again without range: {}", req.uri());
    }

    #[test]
    fn a_tampered_presigned_range_is_left_for_s3s() {
        let mut req = presigned_get("bytes=0-1,5-6");
        req.headers_mut().insert("range", HeaderValue::from_static("bytes=0-1,7-8"));
        let before = req.uri().clone();
        drop_unserved(&mut req, &auth());
        assert_eq!((req.uri(), req.headers()["range"].to_str().unwrap()), (&before, "bytes=0-1,7-8"));
    }
}
