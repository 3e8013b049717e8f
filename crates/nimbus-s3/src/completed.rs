//! Recently completed multipart uploads, so that a CompleteMultipartUpload repeated
//! with the same parts (a client retrying after a lost answer) gets the first answer
//! again, as on S3, rather than NoSuchUpload for an object that was written.
//!
//! Kept in memory for the last [`REMEMBERED`] completions: a retry comes seconds after
//! the first call, and after a restart the upload is simply unknown (NoSuchUpload).

use std::collections::VecDeque;

use parking_lot::Mutex;
use s3s::dto::{CompleteMultipartUploadOutput, CompletedPart};

use crate::checksums;
use crate::encryption::Reported;

const REMEMBERED: usize = 1024;

/// What a completion answered, to answer it again.
pub(crate) struct Answer {
    pub etag: String,
    pub checksum: Option<checksums::Stored>,
    pub version_id: Option<String>,
    pub encryption: Reported,
    pub location: String,
}

impl Answer {
    pub fn output(&self, bucket: &str, key: &str) -> CompleteMultipartUploadOutput {
        let [crc32, crc32c, crc64nvme, sha1, sha256] = checksums::fields(self.checksum.as_ref());
        CompleteMultipartUploadOutput {
            checksum_crc32: crc32,
            checksum_crc32c: crc32c,
            checksum_crc64nvme: crc64nvme,
            checksum_sha1: sha1,
            checksum_sha256: sha256,
            checksum_type: self.checksum.as_ref().map(crate::provider::checksum_type),
            server_side_encryption: self.encryption.algorithm.clone(),
            ssekms_key_id: self.encryption.kms_key_id.clone(),
            bucket_key_enabled: self.encryption.bucket_key,
            bucket: Some(bucket.to_string()),
            key: Some(key.to_string()),
            e_tag: Some(s3s::dto::ETag::Strong(self.etag.clone())),
            location: Some(self.location.clone()),
            version_id: self.version_id.clone(),
            ..Default::default()
        }
    }
}

struct Completion {
    upload_id: String,
    bucket: String,
    key: String,
    /// Part numbers and ETags as the completing request listed them.
    parts: Vec<(i32, String)>,
    answer: Answer,
}

/// The parts of a Complete request as compared between a call and its retry.
pub(crate) fn listed(parts: &[CompletedPart]) -> Vec<(i32, String)> {
    parts.iter().map(|p| (p.part_number.unwrap_or(0), p.e_tag.as_ref().map(|e| e.value().to_string()).unwrap_or_default())).collect()
}

#[derive(Default)]
pub(crate) struct Completions(Mutex<VecDeque<Completion>>);

impl Completions {
    pub fn remember(&self, upload_id: &str, bucket: &str, key: &str, parts: Vec<(i32, String)>, answer: Answer) {
        let mut all = self.0.lock();
        if all.len() == REMEMBERED {
            all.pop_front();
        }
        all.push_back(Completion { upload_id: upload_id.to_string(), bucket: bucket.to_string(), key: key.to_string(), parts, answer });
    }

    /// The first answer, if `upload_id` was completed recently for this object with
    /// the same parts.
    pub fn repeat(&self, upload_id: &str, bucket: &str, key: &str, parts: &[(i32, String)]) -> Option<CompleteMultipartUploadOutput> {
        let all = self.0.lock();
        let c = all.iter().rev().find(|c| c.upload_id == upload_id)?;
        (c.bucket == bucket && c.key == key && c.parts == parts).then(|| c.answer.output(bucket, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(etag: &str) -> Answer {
        Answer {
            etag: etag.into(),
            checksum: None,
            version_id: None,
            encryption: Reported { algorithm: None, kms_key_id: None, bucket_key: None },
            location: "http://localhost/b/k".into(),
        }
    }

    #[test]
    fn a_retry_with_the_same_parts_gets_the_same_answer() {
        let c = Completions::default();
        c.remember("u1", "b", "k", vec![(1, "e1".into())], answer("abc-1"));
        let out = c.repeat("u1", "b", "k", &[(1, "e1".into())]).unwrap();
        assert_eq!(out.e_tag.map(|e| e.value().to_string()), Some("abc-1".into()));
        assert!(c.repeat("u1", "b", "k", &[(1, "e2".into())]).is_none(), "other parts");
        assert!(c.repeat("u1", "b", "other", &[(1, "e1".into())]).is_none(), "other key");
        assert!(c.repeat("u2", "b", "k", &[(1, "e1".into())]).is_none(), "other upload");
    }

    #[test]
    fn only_the_latest_completions_are_kept() {
        let c = Completions::default();
        for i in 0..=REMEMBERED {
            c.remember(&format!("u{i}"), "b", "k", Vec::new(), answer("x"));
        }
        assert!(c.repeat("u0", "b", "k", &[]).is_none());
        assert!(c.repeat(&format!("u{REMEMBERED}"), "b", "k", &[]).is_some());
    }
}
