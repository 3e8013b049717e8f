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
