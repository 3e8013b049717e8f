//! Re-signing a request nimbus changed on its way to s3s.
//!
//! s3s checks the signature of the request it receives. Where nimbus must change a
//! signed request first (a Range S3 ignores, an XML element s3s does not know), it
//! checks the client's signature of the original itself and, only if that holds,
//! signs the changed request again with the same key, date and scope.

use http::HeaderValue;
use nimbus_wire::sigv4;

use crate::Auth;

/// The Authorization header for `changed` (signing `signed_headers` and
/// `changed_payload`), if the client's header signature of `original` (with
/// `original_payload`) holds. None leaves the request for s3s to judge as sent.
pub fn resign(
    signed: &sigv4::ParsedAuth,
    original: &sigv4::RequestParts,
    original_payload: &str,
    changed: &sigv4::RequestParts,
    changed_payload: &str,
    signed_headers: Vec<String>,
    auth: &Auth,
) -> Option<HeaderValue> {
    // Only what s3s canonicalizes as nimbus-wire's common form does.
    if signed.kind != sigv4::AuthKind::Header || !crate::fast_path::canonical_as_s3s(original.path) {
        return None;
    }
    let secret = auth.secret(&signed.credential.access_key)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    sigv4::verify(signed, original, original_payload, secret, now, true).ok()?;
    let again = sigv4::ParsedAuth { signed_headers, ..signed.clone() };
    let value = sigv4::sign_header(&again, changed, changed_payload, secret, true);
    HeaderValue::from_str(&value).ok()
}

/// The path and query of a presigned request changed to sign only `signed_headers`
/// (its `X-Amz-SignedHeaders` and `X-Amz-Signature` replaced), if the client's
/// presigned signature of `original` holds. Only URLs over an unsigned payload (what
/// every S3 presigner makes) are re-signed; None leaves the request for s3s to judge.
pub fn resign_presigned(
    signed: &sigv4::ParsedAuth,
    original: &sigv4::RequestParts,
    changed_headers: &http::HeaderMap,
    signed_headers: Vec<String>,
    auth: &Auth,
) -> Option<String> {
    if !matches!(signed.kind, sigv4::AuthKind::Presigned { .. }) || !crate::fast_path::canonical_as_s3s(original.path) {
        return None;
    }
    let pairs: Vec<&str> = original.query.split('&').filter(|p| !p.is_empty()).collect();
    let name_is = |pair: &str, name: &str| pair.split('=').next().is_some_and(|k| k.eq_ignore_ascii_case(name));
    if pairs.iter().any(|p| name_is(p, "X-Amz-Content-Sha256")) {
        return None;
    }
    let secret = auth.secret(&signed.credential.access_key)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    sigv4::verify(signed, original, sigv4::UNSIGNED_PAYLOAD, secret, now, true).ok()?;
    let listed = format!("X-Amz-SignedHeaders={}", signed_headers.join("%3B"));
    let query: Vec<&str> = pairs
        .iter()
        .filter(|p| !name_is(p, "X-Amz-Signature"))
        .map(|p| if name_is(p, "X-Amz-SignedHeaders") { listed.as_str() } else { p })
        .collect();
    let query = query.join("&");
    let again = sigv4::ParsedAuth { signed_headers, ..signed.clone() };
    let changed = sigv4::RequestParts { query: &query, headers: changed_headers, ..*original };
    let canonical = sigv4::canonical_request(&again, &changed, sigv4::UNSIGNED_PAYLOAD, true);
    let signature = sigv4::sign_string(secret, &again.credential, &sigv4::string_to_sign(&again, &canonical));
    Some(format!("{}?{query}&X-Amz-Signature={signature}", original.path))
}
