//! DeleteObjects must prove its body's integrity: "The Content-MD5 or
//! x-amz-sdk-checksum-algorithm header is required for all Multi-Object Delete
//! requests" (DeleteObjects API reference), and the value must match the body. s3s
//! checks neither, and a corrupted list deletes the wrong keys, so the body is read
//! (it is small) and checked here before s3s parses it.

use md5::{Digest, Md5};
use s3s::{s3_error, Body, S3Error};

use crate::checksums;

/// A delete list of 1,000 keys of 1,024 bytes, escaped, fits in this.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Whether `req` is a DeleteObjects request (`POST /<bucket>?delete`).
pub fn is_delete_objects<B>(req: &http::Request<B>) -> bool {
    req.method() == http::Method::POST
        && req.uri().query().is_some_and(|q| q.split('&').any(|p| p == "delete" || p.starts_with("delete=")))
}

/// S3's refusal of a DeleteObjects body without a matching Content-MD5 or checksum;
/// None lets it through (its body kept for s3s).
pub async fn refusal(req: &mut http::Request<Body>) -> Option<S3Error> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_md5 = header("content-md5");
    let checksum = checksums::ALGORITHMS
        .into_iter()
        .find_map(|a| header(&format!("x-amz-checksum-{}", a.to_ascii_lowercase())).map(|v| (a, v)));
    // A trailing checksum (aws-chunked) is checked by the chunked decoding's signature.
    if header("x-amz-trailer").is_some() {
        return None;
    }
    let signed_hash = header("x-amz-content-sha256").filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let body = match req.body_mut().store_all_limited(MAX_BODY).await {
        Ok(body) => body,
        Err(_) => return Some(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")),
    };
    // A body that is not the one signed is s3s's to refuse first (XAmzContentSHA256Mismatch).
    if signed_hash.is_some_and(|h| !h.eq_ignore_ascii_case(&hex::encode(sha2::Sha256::digest(&body)))) {
        return None;
    }
    if content_md5.is_none() && checksum.is_none() {
        return Some(s3_error!(InvalidRequest, "Missing required header for this request: Content-MD5"));
    }
    if let Some(expected) = content_md5 {
        let md5: [u8; 16] = Md5::digest(&body).into();
        if let Err(e) = crate::provider::check_content_md5(Some(&expected), &md5) {
            return Some(e);
        }
    }
    if let Some((algorithm, expected)) = checksum {
        let mut hasher = checksums::hasher(algorithm)?;
        hasher.update(&body);
        if checksums::finish(hasher, algorithm).as_deref() != Some(expected.trim()) {
            return Some(s3_error!(BadDigest, "The {} you specified did not match the calculated checksum.", algorithm));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const LIST: &[u8] = b"<Delete><Object><Key>k</Key></Object></Delete>";

    fn request(headers: &[(&str, String)]) -> http::Request<Body> {
        let mut req = http::Request::post("/b?delete").body(Body::from(bytes::Bytes::from_static(LIST))).unwrap();
        for (n, v) in headers {
            req.headers_mut().insert(http::HeaderName::from_bytes(n.as_bytes()).unwrap(), v.parse().unwrap());
        }
        req
    }

    fn code(e: Option<S3Error>) -> Option<String> {
        e.map(|e| e.code().as_str().to_string())
    }

    #[tokio::test]
    async fn a_delete_list_needs_a_matching_digest() {
        let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(LIST));
        let mut ok = request(&[("content-md5", md5)]);
        assert!(refusal(&mut ok).await.is_none());
        assert_eq!(ok.body().bytes().as_deref(), Some(LIST), "the body is kept for s3s");
        assert_eq!(code(refusal(&mut request(&[])).await).as_deref(), Some("InvalidRequest"));
        let other = base64::engine::general_purpose::STANDARD.encode(Md5::digest(b"other"));
        assert_eq!(code(refusal(&mut request(&[("content-md5", other)])).await).as_deref(), Some("BadDigest"));
        assert_eq!(code(refusal(&mut request(&[("content-md5", "not-base64".into())])).await).as_deref(), Some("InvalidDigest"));
        assert_eq!(code(refusal(&mut request(&[("x-amz-checksum-crc32", "AAAAAA==".into())])).await).as_deref(), Some("BadDigest"));
        let mut h = checksums::hasher("CRC32").unwrap();
        h.update(LIST);
        let crc = checksums::finish(h, "CRC32").unwrap();
        assert!(refusal(&mut request(&[("x-amz-checksum-crc32", crc)])).await.is_none());
    }

    #[test]
    fn only_delete_objects_is_checked() {
        assert!(is_delete_objects(&http::Request::post("/b?delete").body(()).unwrap()));
        assert!(is_delete_objects(&http::Request::post("/b?delete=").body(()).unwrap()));
        assert!(!is_delete_objects(&http::Request::post("/b/k?uploads").body(()).unwrap()));
        assert!(!is_delete_objects(&http::Request::delete("/b/k").body(()).unwrap()));
    }
}
