//! SSE-C: server-side encryption with customer-provided keys, as S3 checks it.
//!
//! A write names the key in three headers (`x-amz-server-side-encryption-customer-
//! algorithm`, `-key`, `-key-MD5`); every later read of that object must offer the same
//! key, and a copy from it the `x-amz-copy-source-server-side-encryption-customer-*`
//! trio. S3 "does not store the encryption key that you provide" but a salted HMAC of it
//! to check later requests ("Using server-side encryption with customer-provided keys",
//! S3 User Guide). nimbus keeps only the algorithm and the key's MD5 (what the response
//! headers echo) and does not encrypt the body at rest: a matching MD5 is a matching key.
//!
//! The checks and their order follow LocalStack's `validate_sse_c` and its GetObject
//! checks, whose tests are snapshot-recorded against S3; the messages are S3's own.
//! Whether a bucket accepts SSE-C writes at all is sse_c_blocking.rs's.

use base64::Engine as _;
use md5::{Digest, Md5};
use s3s::dto::ServerSideEncryption;
use s3s::{S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};

use crate::persist::ObjHeaders;
use crate::storage_class::{error_element_headers_many, ERROR_ARGUMENT_NAME_HEADER, ERROR_ARGUMENT_VALUE_HEADER};

/// The only algorithm SSE-C has.
const AES256: &str = "AES256";
/// S3 names this header as the argument at fault in every SSE-C InvalidArgument,
/// even where another header is (LocalStack's snapshot notes the same oddity).
const ARGUMENT: &str = "x-amz-server-side-encryption";

/// What an SSE-C object (or multipart upload) keeps: never the key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Customer {
    pub algorithm: String,
    /// base64 of the MD5 of the 32-byte key, as `x-amz-server-side-encryption-customer-key-MD5`.
    pub key_md5: String,
}

/// The three SSE-C headers of a request, as sent (or the copy-source three).
#[derive(Debug, Clone, Copy, Default)]
pub struct Offered<'a> {
    pub algorithm: Option<&'a str>,
    pub key: Option<&'a str>,
    pub key_md5: Option<&'a str>,
}

impl<'a> Offered<'a> {
    pub fn new(algorithm: Option<&'a String>, key: Option<&'a String>, key_md5: Option<&'a String>) -> Self {
        Offered { algorithm: algorithm.map(String::as_str), key: key.map(String::as_str), key_md5: key_md5.map(String::as_str) }
    }

    /// Does the request specify SSE-C (any of the three headers)?
    pub fn any(&self) -> bool {
        self.algorithm.is_some() || self.key.is_some() || self.key_md5.is_some()
    }
}

/// Why a request's SSE-C headers are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// SSE-C together with `x-amz-server-side-encryption` (its value).
    Incompatible(String),
    NoAlgorithm,
    NoKey,
    /// An algorithm other than AES256 (its value).
    Algorithm(String),
    /// Not base64 of 32 bytes.
    Key,
    /// No MD5, or not the key's.
    Md5,
    /// A read of an SSE-C object without the key.
    KeyRequired,
    /// A read of an SSE-C object with another key.
    WrongKey,
    /// SSE-C headers on a read of an object that is not SSE-C.
    NotApplicable,
    /// An UploadPart without the key its SSE-C upload was started with, or with SSE-C
    /// on an upload started without it.
    PartNeedsKey,
    /// An UploadPart with another key than its upload's.
    PartKeyDiffers,
}

impl Invalid {
    pub fn error(&self) -> S3Error {
        use S3ErrorCode::*;
        let (code, message, value): (_, &str, Option<&str>) = match self {
            Invalid::Incompatible(sse) => {
                (InvalidArgument, "Server Side Encryption with Customer provided key is incompatible with the encryption method specified", Some(sse))
            }
            Invalid::NoAlgorithm => {
                (InvalidArgument, "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.", None)
            }
            Invalid::NoKey => {
                (InvalidArgument, "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.", None)
            }
            Invalid::Algorithm(a) => (InvalidEncryptionAlgorithmError, "The Encryption request you specified is not valid. Supported value: AES256.", Some(a)),
            Invalid::Key => (InvalidArgument, "The secret key was invalid for the specified algorithm.", None),
            Invalid::Md5 => (InvalidArgument, "The calculated MD5 hash of the key did not match the hash that was provided.", None),
            Invalid::KeyRequired => {
                return S3Error::with_message(
                    InvalidRequest,
                    "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
                )
            }
            Invalid::WrongKey => {
                return S3Error::with_message(
                    AccessDenied,
                    "Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.",
                )
            }
            Invalid::NotApplicable => return S3Error::with_message(InvalidRequest, "The encryption parameters are not applicable to this object."),
            Invalid::PartNeedsKey => {
                return S3Error::with_message(
                    InvalidRequest,
                    "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.",
                )
            }
            Invalid::PartKeyDiffers => {
                return S3Error::with_message(InvalidRequest, "The provided encryption parameters did not match the ones used originally.")
            }
        };
        let mut e = S3Error::with_message(code, message);
        // InvalidEncryptionAlgorithmError is a 400 too; s3s may not know its status.
        e.set_status_code(http::StatusCode::BAD_REQUEST);
        let mut elements = vec![(ERROR_ARGUMENT_NAME_HEADER, ARGUMENT)];
        if let Some(v) = value {
            elements.push((ERROR_ARGUMENT_VALUE_HEADER, v));
        }
        e.set_headers(error_element_headers_many(&elements));
        e
    }
}

/// base64 of the MD5 of `key`.
fn md5_b64(key: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(key))
}

/// Checks SSE-C headers as S3 does, in LocalStack's order: SSE-C with another
/// encryption; a key without an algorithm; an algorithm without a key; an algorithm
/// but AES256; a key that is not 32 bytes; an MD5 that is missing or not the key's.
/// None: the request names no SSE-C (an MD5 alone is ignored, as LocalStack does).
pub fn validate(o: &Offered, sse: Option<&str>) -> Result<Option<Customer>, Invalid> {
    if o.key.is_none() && o.algorithm.is_none() {
        return Ok(None);
    }
    if let Some(s) = sse {
        return Err(Invalid::Incompatible(s.to_string()));
    }
    let (algorithm, key) = match (o.algorithm, o.key) {
        (None, _) => return Err(Invalid::NoAlgorithm),
        (_, None) => return Err(Invalid::NoKey),
        (Some(a), Some(k)) => (a, k),
    };
    if algorithm != AES256 {
        return Err(Invalid::Algorithm(algorithm.to_string()));
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(key.trim()).map_err(|_| Invalid::Key)?;
    if raw.len() != 32 {
        return Err(Invalid::Key);
    }
    let md5 = md5_b64(&raw);
    if o.key_md5.map(str::trim) != Some(md5.as_str()) {
        return Err(Invalid::Md5);
    }
    Ok(Some(Customer { algorithm: AES256.to_string(), key_md5: md5 }))
}

/// The customer key a write asks for (checked), given the request's
/// `x-amz-server-side-encryption`.
pub fn for_write(o: &Offered, sse: Option<&ServerSideEncryption>) -> S3Result<Option<Customer>> {
    validate(o, sse.map(|s| s.as_str())).map_err(|e| e.error())
}

/// Checks the key a read (GetObject, HeadObject) or a copy's source offers for the
/// object with headers `h`, as LocalStack does: an SSE-C object needs the MD5 header
/// (400) and its value must be the stored one (403) before the headers themselves are
/// checked; SSE-C headers on any other object are not applicable (400).
pub fn check_read(h: &ObjHeaders, o: &Offered) -> S3Result<()> {
    check_read_inner(h.sse_customer.as_ref(), o).map_err(|e| e.error())
}

fn check_read_inner(stored: Option<&Customer>, o: &Offered) -> Result<(), Invalid> {
    if let Some(c) = stored {
        match o.key_md5 {
            None => return Err(Invalid::KeyRequired),
            Some(m) if m.trim() != c.key_md5 => return Err(Invalid::WrongKey),
            Some(_) => {}
        }
    }
    let offered = validate(o, None)?;
    if stored.is_none() && offered.is_some() {
        return Err(Invalid::NotApplicable);
    }
    Ok(())
}

/// Checks an UploadPart's (or UploadPartCopy's) SSE-C headers against its upload's:
/// "you must provide identical encryption information in each part upload"
/// (UploadPart, S3 API reference).
pub fn check_part(upload: &ObjHeaders, o: &Offered) -> S3Result<()> {
    check_part_inner(upload.sse_customer.as_ref(), o).map_err(|e| e.error())
}

fn check_part_inner(stored: Option<&Customer>, o: &Offered) -> Result<(), Invalid> {
    let offered = validate(o, None)?;
    match (stored, offered) {
        (None, None) => Ok(()),
        // Recorded against S3 for both mismatches (aws-sdk-ruby#1084; MinIO and others
        // answer the same).
        (Some(_), None) | (None, Some(_)) => Err(Invalid::PartNeedsKey),
        (Some(s), Some(c)) if s.key_md5 != c.key_md5 => Err(Invalid::PartKeyDiffers),
        _ => Ok(()),
    }
}

/// Records a write's customer key in the headers of the new object (or upload): an
/// SSE-C object has no other server-side encryption. A write without one clears what
/// the headers had (a copy starts from its source's headers).
pub fn store(c: Option<Customer>, h: &mut ObjHeaders) {
    if c.is_some() {
        h.sse = None;
        h.sse_kms_key_id = None;
        h.sse_bucket_key = false;
    }
    h.sse_customer = c;
}

/// `x-amz-server-side-encryption-customer-algorithm` and `-key-MD5` for a response
/// about an object (or upload) with headers `h`.
pub fn echo(h: &ObjHeaders) -> (Option<String>, Option<String>) {
    match &h.sse_customer {
        Some(c) => (Some(c.algorithm.clone()), Some(c.key_md5.clone())),
        None => (None, None),
    }
}

impl crate::provider::State {
    /// The customer key a write (PutObject, POST, CopyObject, CreateMultipartUpload)
    /// names, checked: refused first when the bucket blocks SSE-C (before the headers
    /// are looked at), then as `validate` does. `action` names the write in the 403.
    pub(crate) fn sse_c_for_write(
        &self,
        bucket: &str,
        key: &str,
        action: &str,
        caller: Option<&s3s::auth::Credentials>,
        o: &Offered,
        sse: Option<&ServerSideEncryption>,
    ) -> S3Result<Option<Customer>> {
        self.check_sse_c_allowed(bucket, key, action, caller, o)?;
        for_write(o, sse)
    }

    /// Checks an UploadPart's (or UploadPartCopy's) SSE-C headers: blocked buckets
    /// refuse them ("you will get an HTTP 403 Access Denied error when you specify the
    /// SSE-C request headers", UploadPart API reference); else they must be the upload's.
    pub(crate) fn sse_c_for_part(&self, bucket: &str, key: &str, caller: Option<&s3s::auth::Credentials>, upload: &ObjHeaders, o: &Offered) -> S3Result<()> {
        self.check_sse_c_allowed(bucket, key, "s3:PutObject", caller, o)?;
        check_part(upload, o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7u8; 32];

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    fn offered<'a>(a: Option<&'a str>, k: Option<&'a str>, m: Option<&'a str>) -> Offered<'a> {
        Offered { algorithm: a, key: k, key_md5: m }
    }

    #[test]
    fn a_good_key_is_kept_as_its_md5() {
        let (k, m) = (b64(&KEY), md5_b64(&KEY));
        let c = validate(&offered(Some("AES256"), Some(&k), Some(&m)), None).unwrap().unwrap();
        assert_eq!(c, Customer { algorithm: "AES256".into(), key_md5: m });
        assert_eq!(validate(&Offered::default(), Some("aws:kms")), Ok(None));
        // An MD5 alone names no SSE-C.
        assert_eq!(validate(&offered(None, None, Some("x")), None), Ok(None));
    }

    #[test]
    fn checks_come_in_s3s_order() {
        let (k, m) = (b64(&KEY), md5_b64(&KEY));
        let short = b64(&[1u8; 10]);
        let short_md5 = md5_b64(&[1u8; 10]);
        let cases: Vec<(Offered, Option<&str>, Invalid)> = vec![
            (offered(Some("AES256"), Some(&k), Some(&m)), Some("AES256"), Invalid::Incompatible("AES256".into())),
            (offered(None, Some(&k), Some(&m)), None, Invalid::NoAlgorithm),
            (offered(Some("AES256"), None, Some(&m)), None, Invalid::NoKey),
            (offered(Some("AES128"), Some(&k), Some(&m)), None, Invalid::Algorithm("AES128".into())),
            (offered(Some("AES256"), Some(&short), Some(&short_md5)), None, Invalid::Key),
            (offered(Some("AES256"), Some("%%%"), Some(&m)), None, Invalid::Key),
            (offered(Some("AES256"), Some(&k), None), None, Invalid::Md5),
            (offered(Some("AES256"), Some(&k), Some(&short_md5)), None, Invalid::Md5),
        ];
        for (o, sse, want) in cases {
            assert_eq!(validate(&o, sse), Err(want));
        }
    }

    #[test]
    fn errors_are_s3s() {
        let e = Invalid::Algorithm("AES128".into()).error();
        assert_eq!(*e.code(), S3ErrorCode::InvalidEncryptionAlgorithmError);
        assert_eq!(e.status_code(), Some(http::StatusCode::BAD_REQUEST));
        assert_eq!(*Invalid::WrongKey.error().code(), S3ErrorCode::AccessDenied);
        assert_eq!(*Invalid::KeyRequired.error().code(), S3ErrorCode::InvalidRequest);
        assert_eq!(*Invalid::Md5.error().code(), S3ErrorCode::InvalidArgument);
    }

    #[test]
    fn reads_need_the_same_key() {
        let (k, m) = (b64(&KEY), md5_b64(&KEY));
        let other = [9u8; 32];
        let (ok, om) = (b64(&other), md5_b64(&other));
        let stored = Customer { algorithm: "AES256".into(), key_md5: m.clone() };
        let good = offered(Some("AES256"), Some(&k), Some(&m));
        assert_eq!(check_read_inner(Some(&stored), &good), Ok(()));
        assert_eq!(check_read_inner(Some(&stored), &Offered::default()), Err(Invalid::KeyRequired));
        assert_eq!(check_read_inner(Some(&stored), &offered(Some("AES256"), Some(&ok), Some(&om))), Err(Invalid::WrongKey));
        assert_eq!(check_read_inner(None, &good), Err(Invalid::NotApplicable));
        assert_eq!(check_read_inner(None, &Offered::default()), Ok(()));
        // The headers themselves are still checked.
        assert_eq!(check_read_inner(Some(&stored), &offered(Some("AES128"), Some(&k), Some(&m))), Err(Invalid::Algorithm("AES128".into())));
    }

    #[test]
    fn parts_carry_their_uploads_key() {
        let (k, m) = (b64(&KEY), md5_b64(&KEY));
        let other = [9u8; 32];
        let (ok, om) = (b64(&other), md5_b64(&other));
        let stored = Customer { algorithm: "AES256".into(), key_md5: m.clone() };
        let good = offered(Some("AES256"), Some(&k), Some(&m));
        assert_eq!(check_part_inner(Some(&stored), &good), Ok(()));
        assert_eq!(check_part_inner(Some(&stored), &Offered::default()), Err(Invalid::PartNeedsKey));
        assert_eq!(check_part_inner(None, &good), Err(Invalid::PartNeedsKey));
        assert_eq!(check_part_inner(Some(&stored), &offered(Some("AES256"), Some(&ok), Some(&om))), Err(Invalid::PartKeyDiffers));
        assert_eq!(check_part_inner(None, &Offered::default()), Ok(()));
    }

    #[test]
    fn store_replaces_other_encryption() {
        let mut h = ObjHeaders { sse: Some("aws:kms".into()), sse_kms_key_id: Some("k".into()), sse_bucket_key: true, ..Default::default() };
        let c = Customer { algorithm: "AES256".into(), key_md5: "m".into() };
        store(Some(c.clone()), &mut h);
        assert_eq!((h.sse.as_deref(), h.sse_kms_key_id.as_deref(), h.sse_bucket_key), (None, None, false));
        assert_eq!(echo(&h), (Some("AES256".into()), Some("m".into())));
        store(None, &mut h);
        assert_eq!(echo(&h), (None, None));
    }
}
