//! Trailing checksums: current SDKs send a body's CRC32 (or CRC32C, CRC64NVME, SHA1,
//! SHA256) in an aws-chunked trailer named by `x-amz-trailer`. s3s verifies the
//! trailer's signature but not the value, so nimbus computes the checksum while the
//! body streams to disk and compares it once the trailer has arrived.

use std::sync::Mutex;

use bytes::Bytes;
use s3s::checksum::ChecksumHasher;
use s3s::TrailingHeaders;
use s3s::{s3_error, S3Result};

/// The checksum a request promises in its trailer, and the running computation.
pub struct Trailer {
    /// `x-amz-checksum-crc32`, ...
    header: &'static str,
    hasher: Mutex<ChecksumHasher>,
    trailers: TrailingHeaders,
}

const NAMES: [&str; 5] = [
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
];

impl Trailer {
    /// The trailer a request announces (`x-amz-trailer: x-amz-checksum-crc32`), if any.
    pub fn of(headers: &http::HeaderMap, trailers: Option<TrailingHeaders>) -> Option<Trailer> {
        let announced = headers.get("x-amz-trailer")?.to_str().ok()?.to_ascii_lowercase();
        let header = NAMES.iter().copied().find(|n| announced.split(',').any(|a| a.trim() == *n))?;
        let mut hasher = ChecksumHasher::default();
        match header {
            "x-amz-checksum-crc32" => hasher.crc32 = Some(Default::default()),
            "x-amz-checksum-crc32c" => hasher.crc32c = Some(Default::default()),
            "x-amz-checksum-crc64nvme" => hasher.crc64nvme = Some(Default::default()),
            "x-amz-checksum-sha1" => hasher.sha1 = Some(Default::default()),
            _ => hasher.sha256 = Some(Default::default()),
        }
        Some(Trailer { header, hasher: Mutex::new(hasher), trailers: trailers? })
    }

    /// The algorithm the trailer carries ("CRC32", ...).
    pub fn algorithm(&self) -> &'static str {
        match self.header {
            "x-amz-checksum-crc32" => "CRC32",
            "x-amz-checksum-crc32c" => "CRC32C",
            "x-amz-checksum-crc64nvme" => "CRC64NVME",
            "x-amz-checksum-sha1" => "SHA1",
            _ => "SHA256",
        }
    }

    pub fn update(&self, chunk: &Bytes) {
        if let Ok(mut h) = self.hasher.lock() {
            h.update(chunk);
        }
    }

    /// After the body: the trailer's value must equal what was computed (BadDigest
    /// otherwise). Returns the algorithm's response header and its value.
    pub fn verify(&self) -> S3Result<(&'static str, String)> {
        let sent = self
            .trailers
            .read(|h| h.get(self.header).and_then(|v| v.to_str().ok()).map(str::to_string))
            .flatten()
            .ok_or_else(|| s3_error!(InvalidRequest, "The x-amz-trailer header names {} but the request's trailer did not carry it.", self.header))?;
        let computed = self.hasher.lock().map(|mut h| std::mem::take(&mut *h).finalize()).ok();
        let computed = computed.and_then(|c| match self.header {
            "x-amz-checksum-crc32" => c.checksum_crc32,
            "x-amz-checksum-crc32c" => c.checksum_crc32c,
            "x-amz-checksum-crc64nvme" => c.checksum_crc64nvme,
            "x-amz-checksum-sha1" => c.checksum_sha1,
            _ => c.checksum_sha256,
        });
        if computed.as_deref() != Some(sent.as_str()) {
            let algorithm = self.header.trim_start_matches("x-amz-checksum-").to_ascii_uppercase();
            return Err(s3_error!(BadDigest, "The {algorithm} you specified did not match the calculated checksum."));
        }
        Ok((self.header, sent))
    }
}

/// An object's or a part's checksum, as S3 keeps and reports it ("Checking object
/// integrity" in the S3 User Guide).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stored {
    /// CRC32, CRC32C, CRC64NVME, SHA1 or SHA256.
    pub algorithm: String,
    /// Base64 of the digest; a multipart object's composite checksum ends in `-<parts>`.
    pub value: String,
}

impl Stored {
    /// A composite (checksum-of-checksums) value, as opposed to one of the full object.
    pub fn is_composite(&self) -> bool {
        self.value.contains('-')
    }

    /// The digest without a composite's `-<parts>` suffix, as GetObjectAttributes
    /// reports it (the part count is in its ObjectParts).
    pub fn digest(&self) -> &str {
        self.value.split_once('-').map_or(self.value.as_str(), |(d, _)| d)
    }
}

/// A checksum as a read reports it: the stored value, or one of a composite object's
/// part checksums (GET/HEAD with `partNumber`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reported<'a> {
    pub algorithm: &'a str,
    pub value: &'a str,
    /// `x-amz-checksum-type: COMPOSITE` (else FULL_OBJECT).
    pub composite: bool,
}

impl<'a> Reported<'a> {
    pub fn of(c: &'a Stored) -> Self {
        Reported { algorithm: &c.algorithm, value: &c.value, composite: c.is_composite() }
    }
}

/// The checksum a GET/HEAD of part `n` (1-based) reports. A composite object's part
/// has its own stored checksum (reported COMPOSITE); a part that is the whole object
/// (a simple object's part 1, a one-part upload) has the object's. Any other part of
/// a full-object checksum has none: S3 keeps no per-part value for those (LocalStack's
/// AWS-validated tests, localstack/localstack#12842).
pub fn of_part<'a>(object: Option<&'a Stored>, parts: &'a [String], n: i32, whole: bool) -> Option<Reported<'a>> {
    let object = object?;
    if object.is_composite() {
        let value = parts.get(usize::try_from(n).ok()?.checked_sub(1)?)?;
        return Some(Reported { algorithm: &object.algorithm, value, composite: true });
    }
    whole.then(|| Reported::of(object))
}

pub const ALGORITHMS: [&str; 5] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

/// The checksum S3 computes and keeps for an object written without one: since
/// December 2024 "if objects are uploaded without a checksum, S3 automatically
/// attaches the recommended full object CRC-64/NVME (CRC64NVME) checksum" (S3 User
/// Guide, "Checking object integrity"). s3s's CRC64NVME is crc-fast's (carry-less
/// multiply SIMD), so computing it on every write costs little next to the MD5.
pub const DEFAULT: &str = "CRC64NVME";

/// The algorithm's canonical name, or None for one S3 does not know.
pub fn algorithm(name: &str) -> Option<&'static str> {
    ALGORITHMS.iter().copied().find(|a| a.eq_ignore_ascii_case(name))
}

/// The checksum a request carried in an `x-amz-checksum-*` header (s3s has checked it
/// against the body), in the order of the five fields.
pub fn from_fields(fields: [Option<&String>; 5]) -> Option<Stored> {
    ALGORITHMS.iter().zip(fields).find_map(|(a, v)| v.map(|v| Stored { algorithm: (*a).to_string(), value: v.clone() }))
}

/// The five response fields (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) for a checksum.
pub fn fields(c: Option<&Stored>) -> [Option<String>; 5] {
    reported_fields(c.map(Reported::of))
}

/// The five response fields for a checksum as a read reports it.
pub fn reported_fields(c: Option<Reported<'_>>) -> [Option<String>; 5] {
    let mut out: [Option<String>; 5] = Default::default();
    if let Some(c) = c {
        if let Some(i) = ALGORITHMS.iter().position(|a| *a == c.algorithm) {
            out[i] = Some(c.value.to_string());
        }
    }
    out
}

/// A hasher computing `algorithm` only.
pub fn hasher(algorithm: &str) -> Option<ChecksumHasher> {
    let mut h = ChecksumHasher::default();
    match algorithm {
        "CRC32" => h.crc32 = Some(Default::default()),
        "CRC32C" => h.crc32c = Some(Default::default()),
        "CRC64NVME" => h.crc64nvme = Some(Default::default()),
        "SHA1" => h.sha1 = Some(Default::default()),
        "SHA256" => h.sha256 = Some(Default::default()),
        _ => return None,
    }
    Some(h)
}

/// The base64 digest a [`hasher`] for `algorithm` computed.
pub fn finish(h: ChecksumHasher, algorithm: &str) -> Option<String> {
    let c = h.finalize();
    match algorithm {
        "CRC32" => c.checksum_crc32,
        "CRC32C" => c.checksum_crc32c,
        "CRC64NVME" => c.checksum_crc64nvme,
        "SHA1" => c.checksum_sha1,
        "SHA256" => c.checksum_sha256,
        _ => None,
    }
}

/// A multipart upload's composite checksum: the algorithm over the concatenated raw
/// (decoded) part checksums, base64, then `-<number of parts>` (S3 User Guide, "Using
/// part-level checksums for multipart uploads"). None for CRC64NVME, which S3 only
/// combines into a full-object checksum, and for values that are not base64.
pub fn composite(algorithm: &str, parts: &[&str]) -> Option<String> {
    use base64::Engine;
    if algorithm == "CRC64NVME" {
        return None;
    }
    let mut h = hasher(algorithm)?;
    for p in parts {
        h.update(&base64::engine::general_purpose::STANDARD.decode(p).ok()?);
    }
    Some(format!("{}-{}", finish(h, algorithm)?, parts.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn b64(d: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(d)
    }

    fn sha256(d: &[u8]) -> Vec<u8> {
        let mut h = hasher("SHA256").unwrap();
        h.update(d);
        base64::engine::general_purpose::STANDARD.decode(finish(h, "SHA256").unwrap()).unwrap()
    }

    #[test]
    fn composite_is_the_checksum_of_the_part_checksums() {
        let (a, b) = (sha256(b"part one"), sha256(b"part two"));
        assert_eq!(a.len(), 32);
        let both = [a.clone(), b.clone()].concat();
        let want = format!("{}-2", b64(&sha256(&both)));
        assert_eq!(composite("SHA256", &[&b64(&a), &b64(&b)]), Some(want));
        assert_eq!(composite("CRC64NVME", &["AAAAAAAAAAA="]), None);
        assert_eq!(composite("SHA256", &["not base64!"]), None);
    }

    #[test]
    fn crc64nvme_is_crc_64_nvme() {
        // The catalogue's check value: CRC-64/NVME("123456789") = 0xAE8B14860A799888.
        let mut h = hasher(DEFAULT).unwrap();
        h.update(b"1234");
        h.update(b"56789");
        assert_eq!(finish(h, DEFAULT), Some(b64(&0xAE8B_1486_0A79_9888u64.to_be_bytes())));
        // The empty body's (every zero-length PUT stores it).
        assert_eq!(finish(hasher(DEFAULT).unwrap(), DEFAULT), Some(b64(&[0; 8])));
    }

    #[test]
    fn part_reads_report_part_checksums() {
        let composite = Stored { algorithm: "SHA256".into(), value: "Y29tcG9zaXRl-2".into() };
        let parts = vec!["cGFydDE=".to_string(), "cGFydDI=".to_string()];
        let want = Reported { algorithm: "SHA256", value: "cGFydDI=", composite: true };
        assert_eq!(of_part(Some(&composite), &parts, 2, false), Some(want));
        assert_eq!(of_part(Some(&composite), &parts, 3, false), None);
        assert_eq!(of_part(Some(&composite), &parts, 0, false), None);
        assert_eq!(composite.digest(), "Y29tcG9zaXRl");
        // A full-object checksum describes a part only when the part is the object.
        let full = Stored { algorithm: DEFAULT.into(), value: "AAAAAAAAAAA=".into() };
        assert_eq!(of_part(Some(&full), &[], 1, true), Some(Reported::of(&full)));
        assert_eq!(of_part(Some(&full), &[], 1, false), None);
        assert_eq!(of_part(None, &parts, 1, true), None);
        assert_eq!(reported_fields(of_part(Some(&composite), &parts, 1, false))[4].as_deref(), Some("cGFydDE="));
    }

    #[test]
    fn fields_round_trip() {
        let s = from_fields([None, None, None, None, Some(&"x".to_string())]);
        assert_eq!(s, Some(Stored { algorithm: "SHA256".into(), value: "x".into() }));
        assert_eq!(fields(s.as_ref()), [None, None, None, None, Some("x".to_string())]);
        assert_eq!(algorithm("crc32c"), Some("CRC32C"));
        assert_eq!(algorithm("md5"), None);
        let mut h = hasher("CRC32").unwrap();
        h.update(b"hello world");
        // CRC32 of "hello world" is 0x0d4a1185.
        assert_eq!(finish(h, "CRC32"), Some(b64(&[0x0d, 0x4a, 0x11, 0x85])));
    }
}
