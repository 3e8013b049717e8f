//! What S3 puts at the end of every error document and s3s leaves out: the resource
//! the error is about (`<BucketName>` of NoSuchBucket, `<Key>` of NoSuchKey) and the
//! request's `<RequestId>` and `<HostId>` (the `x-amz-request-id` / `x-amz-id-2` of the
//! response), e.g.
//! `<Error><Code>NoSuchKey</Code><Message>...</Message><Key>cat.jpg</Key><RequestId>...</RequestId><HostId>...</HostId></Error>`.

use crate::cors::xml_escape;
use crate::notify::ReqInfo;

/// The bucket and key a request addressed, for the error document.
pub struct Addressed {
    pub bucket: Option<String>,
    pub key: Option<String>,
}

impl Addressed {
    /// From the request's URI and Host header (kept from before the request was used up).
    pub fn new(uri: &http::Uri, host: Option<&http::HeaderValue>) -> Self {
        let host = host.and_then(|h| h.to_str().ok()).or_else(|| uri.host());
        let (bucket, key) = crate::routing::addressed(uri.path(), host);
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        Addressed { bucket: bucket.map(decode), key: key.map(decode) }
    }
}

/// Completes an S3 XML error document in `resp` (no-op for anything else). A 405 for
/// a delete marker also names the method and the resource
/// (`<Method>GET</Method><ResourceType>DeleteMarker</ResourceType>`).
pub fn complete(resp: &mut http::Response<s3s::Body>, info: &ReqInfo, addressed: &Addressed, method: &http::Method) {
    if !(resp.status().is_client_error() || resp.status().is_server_error()) {
        return;
    }
    let Some(bytes) = resp.body().bytes() else { return };
    let Ok(xml) = std::str::from_utf8(&bytes) else { return };
    let Some(end) = xml.rfind("</Error>") else { return };
    if xml.contains("<RequestId>") {
        return;
    }
    let mut extra = String::new();
    let marker = resp.headers().get("x-amz-delete-marker").is_some_and(|v| v == "true");
    if resp.status() == http::StatusCode::METHOD_NOT_ALLOWED && marker && !xml.contains("<Method>") {
        extra += &format!("<Method>{method}</Method><ResourceType>DeleteMarker</ResourceType>");
    }
    let code = xml.find("<Code>").and_then(|i| xml[i + 6..].find("</Code>").map(|n| &xml[i + 6..i + 6 + n]));
    match (code, &addressed.bucket, &addressed.key) {
        (Some("NoSuchBucket"), Some(b), _) if !xml.contains("<BucketName>") => extra += &format!("<BucketName>{}</BucketName>", xml_escape(b)),
        (Some("NoSuchKey"), _, Some(k)) if !xml.contains("<Key>") => extra += &format!("<Key>{}</Key>", xml_escape(k)),
        _ => {}
    }
    extra += &format!("<RequestId>{}</RequestId><HostId>{}</HostId>", info.request_id, info.host_id);
    let xml = format!("{}{}{}", &xml[..end], extra, &xml[end..]);
    crate::set_body(resp, xml);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(xml: &str) -> http::Response<s3s::Body> {
        let mut r = http::Response::new(s3s::Body::from(xml.to_string()));
        *r.status_mut() = http::StatusCode::NOT_FOUND;
        r
    }

    fn text(r: &http::Response<s3s::Body>) -> String {
        String::from_utf8(r.body().bytes().unwrap().to_vec()).unwrap()
    }

    fn addressed(uri: &str, host: &str) -> Addressed {
        Addressed::new(&uri.parse().unwrap(), Some(&http::HeaderValue::from_str(host).unwrap()))
    }

    #[test]
    fn errors_name_their_resource_and_request() {
        let info = ReqInfo::new(None);
        let mut r = error("<Error><Code>NoSuchKey</Code><Message>m</Message></Error>");
        complete(&mut r, &info, &addressed("/photos/a%20b/c.jpg", "localhost:4566"), &http::Method::GET);
        let want = format!("<Key>a b/c.jpg</Key><RequestId>{}</RequestId><HostId>{}</HostId></Error>", info.request_id, info.host_id);
        assert!(text(&r).ends_with(&want), "{}", text(&r));
        let mut r = error("<Error><Code>NoSuchBucket</Code><Message>m</Message></Error>");
        complete(&mut r, &info, &addressed("/k", "photos.s3.localhost:4566"), &http::Method::GET);
        assert!(text(&r).contains("<Message>m</Message><BucketName>photos</BucketName><RequestId>"), "{}", text(&r));
    }

    #[test]
    fn successes_and_complete_documents_are_left_alone() {
        let info = ReqInfo::new(None);
        let mut ok = http::Response::new(s3s::Body::from("<Error></Error>".to_string()));
        complete(&mut ok, &info, &addressed("/b/k", "localhost"), &http::Method::GET);
        assert_eq!(text(&ok), "<Error></Error>");
        let done = "<Error><Code>AccessDenied</Code><RequestId>r</RequestId></Error>";
        let mut r = error(done);
        complete(&mut r, &info, &addressed("/b/k", "localhost"), &http::Method::GET);
        assert_eq!(text(&r), done);
    }
}
