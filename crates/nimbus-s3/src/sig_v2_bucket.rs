//! Signature V2 signs a request to a bucket itself (ListObjects, GetBucketAcl, ...)
//! over the resource `/<bucket>/`, with a final slash, whatever the URL's path is:
//! botocore signs `/<bucket>/` for a request to `/<bucket>` ("the auth_path must be
//! terminated with a '/' character to generate a signature that the server will
//! accept", botocore/handlers.py), and AWS's V2 reference shows `/<bucket>/` as the
//! CanonicalizedResource of a request to a bucket's root. s3s signs the path as
//! sent, so a path-style `/<bucket>` is given its slash before s3s sees it: the same
//! bucket to s3s's router, the resource AWS signs to its V2 check.

use http::uri::{PathAndQuery, Uri};

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

/// `Authorization: AWS <key>:<signature>`, or a query string with `AWSAccessKeyId`
/// and `Signature`.
fn signed_with_v2<B>(req: &http::Request<B>) -> bool {
    let header = req.headers().get(http::header::AUTHORIZATION).is_some_and(|v| v.as_bytes().starts_with(b"AWS "));
    let query = req.uri().query().is_some_and(|q| {
        let names = || q.split('&').map(|p| p.split('=').next().unwrap_or(""));
        names().any(|n| n == "AWSAccessKeyId") && names().any(|n| n == "Signature")
    });
    header || query
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
}
