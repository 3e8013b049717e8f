//! A request signed for one region and sent to a bucket in another is refused before
//! anything else, on both roads, with the region the bucket is in:
//!
//! - signed in its Authorization header: 400 AuthorizationHeaderMalformed, "The
//!   authorization header is malformed; the region 'X' is wrong; expecting 'Y'" (Amazon
//!   CloudFront Developer Guide, "HTTP 400 status code (Bad Request)", quoting S3);
//! - presigned: 400 AuthorizationQueryParametersError, "Error parsing the X-Amz-Credential
//!   parameter; the region 'X' is wrong; expecting 'Y'" (as S3 answers it in public bug
//!   reports, and OpenStack Swift's s3api, test_s3api.py, mirrors it);
//!
//! each with `<Region>Y</Region>` in the document (SAS Problem Note 71037 quotes S3's
//! whole document), which the SDKs follow: boto3 re-signs for that region and retries.
//! The `x-amz-bucket-region` header rides along, as boto3 reads the region of a HEAD's
//! bodiless 400 from it.
//!
//! Requests that name no existing bucket are not concerned (ListBuckets; CreateBucket,
//! whose own rules about regions are IllegalLocationConstraintException's), nor
//! GetBucketLocation, the call made to find a bucket's region, nor requests signed
//! otherwise (SigV2, anonymous, POST forms).

use nimbus_wire::sigv4::{AuthKind, ParsedAuth};
use s3s::{S3Error, S3ErrorCode};

use crate::provider::State;
use crate::storage_class::{error_element_headers_many, ERROR_REGION_HEADER};

/// Where a request carries its SigV4 credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carried {
    Header,
    Query,
}

/// The error for a request (its SigV4 authentication parsed as `signed`) whose
/// credential names a region other than that of the existing bucket it addresses;
/// None for any other request.
pub fn check<B>(req: &http::Request<B>, signed: Option<&ParsedAuth>, state: &State) -> Option<S3Error> {
    let (carried, region) = signed_region(signed?)?;
    let bucket = addressed_bucket(req)?;
    let expected = state.bucket_region(&bucket)?;
    (region != expected).then(|| wrong_region(carried, region, &expected))
}

/// The region an S3 SigV4 request is signed for, and where it carries its credential.
fn signed_region(signed: &ParsedAuth) -> Option<(Carried, &str)> {
    let carried = match signed.kind {
        AuthKind::Header => Carried::Header,
        AuthKind::Presigned { .. } => Carried::Query,
    };
    (signed.credential.service == "s3").then_some((carried, signed.credential.region.as_str()))
}

/// The bucket a request addresses, when the check applies to it: not CreateBucket (a
/// bucket-level PUT with no subresource) nor GetBucketLocation (`?location`).
fn addressed_bucket<B>(req: &http::Request<B>) -> Option<String> {
    let bucket = crate::cors::bucket_of(req)?;
    let host = req.headers().get(http::header::HOST).and_then(|v| v.to_str().ok());
    let virtual_hosted = host.and_then(crate::routing::virtual_host_bucket).is_some();
    let path = req.uri().path().trim_start_matches('/');
    let key = if virtual_hosted { path } else { path.split_once('/').map_or("", |(_, k)| k) };
    if key.is_empty() {
        let names = || req.uri().query().unwrap_or("").split('&').map(|p| p.split_once('=').map_or(p, |(k, _)| k)).filter(|k| !k.is_empty());
        let create = *req.method() == http::Method::PUT && names().all(|k| k == "x-id" || k.starts_with("X-Amz-"));
        let location = *req.method() == http::Method::GET && names().any(|k| k == "location");
        if create || location {
            return None;
        }
    }
    Some(bucket)
}

fn wrong_region(carried: Carried, region: &str, expected: &str) -> S3Error {
    let (code, message) = match carried {
        Carried::Header => ("AuthorizationHeaderMalformed", format!("The authorization header is malformed; the region '{region}' is wrong; expecting '{expected}'")),
        Carried::Query => (
            "AuthorizationQueryParametersError",
            format!("Error parsing the X-Amz-Credential parameter; the region '{region}' is wrong; expecting '{expected}'"),
        ),
    };
    let mut e = S3Error::with_message(S3ErrorCode::Custom(code.into()), message);
    e.set_status_code(http::StatusCode::BAD_REQUEST);
    let mut headers = error_element_headers_many(&[(ERROR_REGION_HEADER, expected)]);
    if let Ok(v) = http::HeaderValue::from_str(expected) {
        headers.insert("x-amz-bucket-region", v);
    }
    e.set_headers(headers);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20240101/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab";

    fn req(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::Request<()> {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    /// The region `r` is signed for, parsed as the S3 handler parses it.
    fn region_of(r: &http::Request<()>) -> Option<(Carried, String)> {
        let parts = nimbus_wire::sigv4::RequestParts { method: r.method().as_str(), path: r.uri().path(), query: r.uri().query().unwrap_or(""), headers: r.headers() };
        let signed = nimbus_wire::sigv4::parse(&parts).ok().flatten()?;
        signed_region(&signed).map(|(c, region)| (c, region.to_string()))
    }

    #[test]
    fn the_signed_region_comes_from_the_credential_scope() {
        let r = req("GET", "/b/k", &[("authorization", AUTH), ("x-amz-date", "20240101T000000Z")]);
        assert_eq!(region_of(&r), Some((Carried::Header, "eu-west-1".into())));
        let r = req("GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20240101%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00", &[]);
        assert_eq!(region_of(&r), Some((Carried::Query, "us-west-2".into())));
        // SigV2, anonymous and malformed scopes name no region.
        assert_eq!(region_of(&req("GET", "/b/k", &[("authorization", "AWS test:abc=")])), None);
        assert_eq!(region_of(&req("GET", "/b/k", &[])), None);
        assert_eq!(region_of(&req("GET", "/b/k", &[("authorization", "AWS4-HMAC-SHA256 Credential=test/eu-west-1")])), None);
    }

    #[test]
    fn create_bucket_and_get_bucket_location_are_left_alone() {
        let bucket = |m: &str, uri: &str| addressed_bucket(&req(m, uri, &[("host", "localhost:4566")]));
        assert_eq!(bucket("PUT", "/b"), None, "CreateBucket");
        assert_eq!(bucket("PUT", "/b?x-id=CreateBucket"), None, "CreateBucket");
        assert_eq!(bucket("PUT", "/b?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x"), None, "presigned CreateBucket");
        assert_eq!(bucket("GET", "/b?location"), None, "GetBucketLocation");
        assert_eq!(bucket("PUT", "/b?versioning").as_deref(), Some("b"));
        assert_eq!(bucket("PUT", "/b/key").as_deref(), Some("b"), "PutObject");
        assert_eq!(bucket("GET", "/b/key?location").as_deref(), Some("b"), "an object GET is not GetBucketLocation");
        assert_eq!(bucket("HEAD", "/b").as_deref(), Some("b"));
        assert_eq!(bucket("GET", "/"), None, "ListBuckets");
        let vh = |m: &str, uri: &str| addressed_bucket(&req(m, uri, &[("host", "b.s3.localhost:4566")]));
        assert_eq!(vh("PUT", "/"), None, "virtual-hosted CreateBucket");
        assert_eq!(vh("PUT", "/key").as_deref(), Some("b"));
    }

    #[test]
    fn the_errors_name_the_bucket_region() {
        for (carried, code, start) in [
            (Carried::Header, "AuthorizationHeaderMalformed", "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'"),
            (Carried::Query, "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'"),
        ] {
            let mut resp = wrong_region(carried, "us-east-1", "eu-west-1").to_http_response().unwrap();
            crate::storage_class::add_error_elements(&mut resp);
            assert_eq!(resp.status(), http::StatusCode::BAD_REQUEST);
            assert_eq!(resp.headers().get("x-amz-bucket-region").unwrap(), "eu-west-1");
            let body = resp.body().bytes().unwrap();
            // s3s writes the apostrophes as `&apos;`, which XML readers give back as is.
            let xml = std::str::from_utf8(&body).unwrap().replace("&apos;", "'");
            assert!(xml.contains(&format!("<Code>{code}</Code>")), "{xml}");
            assert!(xml.contains(&format!("<Message>{start}</Message><Region>eu-west-1</Region>")), "{xml}");
        }
    }
}
