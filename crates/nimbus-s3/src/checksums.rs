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
