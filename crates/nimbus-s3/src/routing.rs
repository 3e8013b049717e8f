//! Which requests are S3's, and virtual-hosted-style bucket names.

use http::request::Parts;

/// A SigV4 presigned URL may live a week at most ("Authenticating Requests: Using Query
/// Parameters": X-Amz-Expires, "the maximum is 604800 (seven days)"); S3 refuses a longer
/// one with AuthorizationQueryParametersError before checking its signature. s3s sets no
/// limit, so this is checked on the way in. Returns the error message.
pub fn presigned_expiry_error(query: &str) -> Option<&'static str> {
    let mut sigv4 = false;
    let mut expires = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("X-Amz-Algorithm", v)) => sigv4 = v == "AWS4-HMAC-SHA256",
            Some(("X-Amz-Expires", v)) => expires = Some(v),
            _ => {}
        }
    }
    let too_long = expires.and_then(|v| v.parse::<u64>().ok()).is_some_and(|secs| secs > 604_800);
    (sigv4 && too_long).then_some(
        "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
    )
}

/// True when the edge should hand this request to S3 (before reading its body):
/// a SigV4 credential scoped to `s3`, a SigV2 signature, an `.s3.` virtual host,
/// or an unsigned request that is not an awsJson (X-Amz-Target) or awsQuery (Action=) call.
pub fn is_s3_request(parts: &Parts) -> bool {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    // The website endpoint answers every method (405 for most) in HTML.
    if header("host").or_else(|| parts.uri.host()).and_then(parse_website_host).is_some() {
        return true;
    }
    let query = parts.uri.query().unwrap_or("");
    if let Some(auth) = header("authorization") {
        let auth = auth.trim_start();
        if auth.starts_with("AWS ") {
            return true;
        }
        if let Some(i) = auth.find("Credential=") {
            let rest = &auth[i + "Credential=".len()..];
            let cred = rest.split([',', ' ']).next().unwrap_or("");
            return credential_service(cred) == Some("s3");
        }
        return false;
    }
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "X-Amz-Credential" {
            let decoded = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
            return credential_service(&decoded) == Some("s3");
        }
        if k == "AWSAccessKeyId" {
            return true;
        }
    }
    if let Some(host) = header("host").or_else(|| parts.uri.host()) {
        if parse_virtual_host(host).is_some() {
            return true;
        }
    }
    if header("x-amz-target").is_some() {
        return false;
    }
    if query.split('&').any(|p| p.starts_with("Action=")) {
        return false;
    }
    let form = header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form && parts.method == http::Method::POST {
        // An unsigned awsQuery call carries Action in its form body.
        return false;
    }
    // S3 has no POST on the service root: an unsigned POST / belongs to the edge.
    if parts.method == http::Method::POST && parts.uri.path() == "/" {
        return false;
    }
    // nimbus's own endpoints stay with the edge.
    !parts.uri.path().starts_with("/_nimbus")
}

/// `AKID/20240101/us-east-1/s3/aws4_request` → `s3`.
fn credential_service(cred: &str) -> Option<&str> {
    let mut it = cred.rsplit('/');
    let terminator = it.next()?;
    if terminator != "aws4_request" {
        return None;
    }
    it.next()
}

/// A host without its port and trailing dot, and what remains before a known
/// domain (`localhost`, `localhost.localstack.cloud`, `amazonaws.com`).
fn before_domain(host: &str) -> Option<&str> {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    ["localhost.localstack.cloud", "localhost", "amazonaws.com"]
        .iter()
        .find_map(|d| name.strip_suffix(d).and_then(|r| r.strip_suffix('.')))
}

fn valid_region(region: &str) -> bool {
    !region.is_empty() && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The website endpoint: `bucket.s3-website.localhost[:port]` → (bucket, None);
/// `bucket.s3-website-eu-west-1.localhost` and `bucket.s3-website.eu-west-1.localhost`
/// → (bucket, Some(region)).
pub fn parse_website_host(host: &str) -> Option<(&str, Option<&str>)> {
    let rest = before_domain(host)?;
    let i = rest.rfind(".s3-website")?;
    let bucket = &rest[..i];
    let tail = &rest[i + ".s3-website".len()..];
    if bucket.is_empty() {
        return None;
    }
    if tail.is_empty() {
        return Some((bucket, None));
    }
    let region = tail.strip_prefix('-').or_else(|| tail.strip_prefix('.'))?;
    valid_region(region).then_some((bucket, Some(region)))
}

/// The bucket a virtual-hosted `host` names, as s3s reads it: an IP host (with or
/// without a port) is path style, whatever it looks like.
pub fn virtual_host_bucket(host: &str) -> Option<&str> {
    let ip = host.parse::<std::net::SocketAddr>().is_ok() || host.parse::<std::net::IpAddr>().is_ok();
    if ip {
        return None;
    }
    parse_virtual_host(host).map(|(bucket, _)| bucket)
}

/// `bucket.s3.localhost[:port]` → (bucket, None); `bucket.s3.eu-west-1.localhost` →
/// (bucket, Some(region)); also `bucket.s3[.region].localhost.localstack.cloud` and
/// `bucket.s3[.region].amazonaws.com`.
pub fn parse_virtual_host(host: &str) -> Option<(&str, Option<&str>)> {
    let rest = before_domain(host)?;
    // rest = "<bucket>.s3" or "<bucket>.s3.<region>" (bucket names may contain dots)
    if let Some(bucket) = rest.strip_suffix(".s3") {
        return (!bucket.is_empty()).then_some((bucket, None));
    }
    let (before, region) = rest.rsplit_once('.')?;
    let bucket = before.strip_suffix(".s3")?;
    (!bucket.is_empty() && valid_region(region)).then_some((bucket, Some(region)))
}

/// A refusal S3 makes of an object PUT before anything else: (status, code, message).
///
/// - No Content-Length on HTTP/1 (and no chunked body): 411 MissingContentLength
///   ("You must provide the Content-Length HTTP header"); a PUT without one was stored
///   as an empty object. Copies carry no body and are left alone.
/// - `?renameObject`: RenameObject exists only for directory buckets (S3 Express One
///   Zone), which nimbus does not have; s3s would take it for a PutObject and store an
///   empty object under the new name.
pub fn put_refusal<B>(req: &http::Request<B>) -> Option<(http::StatusCode, &'static str, &'static str)> {
    if req.method() != http::Method::PUT {
        return None;
    }
    let query = req.uri().query().unwrap_or("");
    let params = || query.split('&').map(|p| p.split('=').next().unwrap_or(""));
    if params().any(|p| p == "renameObject") {
        return Some((
            http::StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "RenameObject is supported only for directory buckets (S3 Express One Zone), which nimbus does not have.",
        ));
    }
    let object_write = params().all(|p| matches!(p, "" | "x-id" | "partNumber" | "uploadId"));
    let headers = req.headers();
    let unframed = req.version() <= http::Version::HTTP_11
        && !headers.contains_key(http::header::CONTENT_LENGTH)
        && !headers.contains_key(http::header::TRANSFER_ENCODING)
        && !headers.contains_key("x-amz-copy-source");
    (object_write && unframed && addressed(req.uri().path(), host_of(req)).1.is_some())
        .then_some((http::StatusCode::LENGTH_REQUIRED, "MissingContentLength", "You must provide the Content-Length HTTP header."))
}

/// The bucket and key a request addresses, both as sent (still percent-encoded):
/// virtual-hosted (the bucket in the Host) or path-style (the first path segment).
pub fn addressed<'a>(path: &'a str, host: Option<&'a str>) -> (Option<&'a str>, Option<&'a str>) {
    let rest = path.trim_start_matches('/');
    let non_empty = |s: &'a str| (!s.is_empty()).then_some(s);
    match host.and_then(parse_virtual_host) {
        Some((bucket, _)) => (Some(bucket), non_empty(rest)),
        None => match rest.split_once('/') {
            Some((bucket, key)) => (non_empty(bucket), non_empty(key)),
            None => (non_empty(rest), None),
        },
    }
}

/// The Host a request was sent to (the URI's authority over HTTP/2).
pub fn host_of<B>(req: &http::Request<B>) -> Option<&str> {
    req.headers().get(http::header::HOST).and_then(|v| v.to_str().ok()).or_else(|| req.uri().host())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    const S3_AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab";
    const SQS_AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=ab";

    #[test]
    fn sigv4_scope_decides() {
        assert!(is_s3_request(&parts("GET", "/bucket", &[("authorization", S3_AUTH)])));
        assert!(!is_s3_request(&parts("POST", "/", &[("authorization", SQS_AUTH)])));
        assert!(is_s3_request(&parts(
            "GET",
            "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=1",
            &[]
        )));
        assert!(!is_s3_request(&parts(
            "GET",
            "/?Action=ListQueues&X-Amz-Credential=test%2F20240101%2Fus-east-1%2Fsqs%2Faws4_request",
            &[]
        )));
    }

    #[test]
    fn sigv2_is_s3() {
        assert!(is_s3_request(&parts("GET", "/b", &[("authorization", "AWS test:abc=")])));
        assert!(is_s3_request(&parts("GET", "/b/k?AWSAccessKeyId=test&Expires=1&Signature=x", &[])));
    }

    #[test]
    fn presigned_urls_live_a_week_at_most() {
        let q = |e: &str| format!("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Expires={e}&X-Amz-Signature=00");
        assert!(presigned_expiry_error(&q("604800")).is_none());
        assert!(presigned_expiry_error(&q("604801")).is_some());
        assert!(presigned_expiry_error(&q("not-a-number")).is_none(), "left to the signature check");
        assert!(presigned_expiry_error("AWSAccessKeyId=a&Expires=9999999999&Signature=x").is_none(), "SigV2 has no such limit");
        assert!(presigned_expiry_error("").is_none());
    }

    #[test]
    fn unsigned_requests() {
        assert!(is_s3_request(&parts("GET", "/bucket/key", &[])));
        assert!(is_s3_request(&parts("PUT", "/bucket/key", &[("content-type", "image/png")])));
        assert!(!is_s3_request(&parts("POST", "/", &[("x-amz-target", "AmazonSQS.ListQueues")])));
        assert!(!is_s3_request(&parts("GET", "/?Action=ListQueues", &[])));
        assert!(!is_s3_request(&parts("POST", "/", &[("content-type", "application/x-www-form-urlencoded")])));
        assert!(!is_s3_request(&parts("GET", "/_nimbus/health", &[])));
        assert!(!is_s3_request(&parts("POST", "/", &[])));
        assert!(is_s3_request(&parts("GET", "/", &[])));
        assert!(is_s3_request(&parts("GET", "/", &[("host", "photos.s3.localhost:4566")])));
    }

    #[test]
    fn virtual_hosts() {
        assert_eq!(parse_virtual_host("photos.s3.localhost:4566"), Some(("photos", None)));
        assert_eq!(parse_virtual_host("photos.s3.localhost"), Some(("photos", None)));
        assert_eq!(parse_virtual_host("my.photos.s3.eu-west-1.localhost:4566"), Some(("my.photos", Some("eu-west-1"))));
        assert_eq!(parse_virtual_host("photos.s3.localhost.localstack.cloud:4566"), Some(("photos", None)));
        assert_eq!(parse_virtual_host("photos.s3.us-east-2.localhost.localstack.cloud"), Some(("photos", Some("us-east-2"))));
        assert_eq!(parse_virtual_host("localhost:4566"), None);
        assert_eq!(parse_virtual_host("s3.localhost:4566"), None);
        assert_eq!(parse_virtual_host("127.0.0.1:4566"), None);
        assert_eq!(parse_virtual_host("sqs.us-east-1.localhost:4566"), None);
        assert_eq!(parse_virtual_host("s3.localhost.localstack.cloud:4566"), None);
        assert_eq!(parse_virtual_host("site.s3-website.localhost:4566"), None);
        assert_eq!(parse_virtual_host("site.s3-website-us-east-1.localhost:4566"), None);
        assert_eq!(parse_virtual_host("site.s3-website.us-east-1.localhost:4566"), None);
    }

    #[test]
    fn website_hosts() {
        assert_eq!(parse_website_host("site.s3-website.localhost:4566"), Some(("site", None)));
        assert_eq!(parse_website_host("www.example.com.s3-website-us-west-2.localhost:4566"), Some(("www.example.com", Some("us-west-2"))));
        assert_eq!(parse_website_host("site.s3-website.eu-west-1.localhost"), Some(("site", Some("eu-west-1"))));
        assert_eq!(parse_website_host("site.s3-website.us-east-1.amazonaws.com"), Some(("site", Some("us-east-1"))));
        assert_eq!(parse_website_host("s3-website.localhost:4566"), None);
        assert_eq!(parse_website_host("site.s3.localhost:4566"), None);
        assert_eq!(parse_website_host("site.s3-websitex.localhost"), None);
        assert_eq!(parse_website_host("localhost:4566"), None);
        // The website endpoint takes every method, unsigned POST / included.
        assert!(is_s3_request(&parts("POST", "/", &[("host", "site.s3-website.localhost:4566")])));
    }

    #[test]
    fn object_puts_need_a_length_and_renames_are_refused() {
        let put = |uri: &str, headers: &[(&str, &str)]| {
            let mut b = http::Request::put(uri).header("host", "localhost:4566");
            for (n, v) in headers {
                b = b.header(*n, *v);
            }
            b.body(()).unwrap()
        };
        let code = |r: &http::Request<()>| put_refusal(r).map(|(_, c, _)| c);
        assert_eq!(code(&put("/b/k", &[])), Some("MissingContentLength"));
        assert_eq!(code(&put("/b/k?partNumber=1&uploadId=u", &[])), Some("MissingContentLength"));
        assert_eq!(code(&put("/b/k", &[("content-length", "0")])), None);
        assert_eq!(code(&put("/b/k", &[("transfer-encoding", "chunked")])), None);
        assert_eq!(code(&put("/b/k", &[("x-amz-copy-source", "/b/src")])), None);
        assert_eq!(code(&put("/b", &[])), None, "CreateBucket may have no body");
        assert_eq!(code(&put("/b/k?tagging", &[])), None);
        assert_eq!(code(&put("/b/dst?renameObject", &[("content-length", "0")])), Some("NotImplemented"));
    }
}
