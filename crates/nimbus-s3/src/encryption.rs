//! Server-side encryption: a bucket's default encryption (Put/Get/DeleteBucketEncryption)
//! and the encryption each new object is recorded with and reports.
//!
//! Since 5 January 2023 every bucket has SSE-S3 (AES256) as its default ("Setting
//! default server-side encryption behavior for Amazon S3 buckets", S3 User Guide):
//! GetBucketEncryption on a bucket never configured answers that rule, and
//! DeleteBucketEncryption "resets the default encryption for the bucket as
//! server-side encryption with Amazon S3 managed keys (SSE-S3)". A write that names
//! no encryption gets the bucket's default; the encryption is kept with the object,
//! so a later change of the default leaves existing objects as they were. nimbus
//! stores bodies as they are and only reports what S3 would have applied.

use s3s::dto::{
    GetBucketEncryptionOutput, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use s3s::{S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};

use crate::persist::ObjHeaders;
use crate::provider::{no_such_bucket, State};

/// A bucket's configured default encryption (None in `BucketConfig`: SSE-S3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DefaultEncryption {
    /// AES256, aws:kms or aws:kms:dsse.
    pub algorithm: String,
    /// KMSMasterKeyID as given (key id, key ARN or alias); only with the KMS algorithms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bucket_key_enabled: bool,
}

const AES256: &str = ServerSideEncryption::AES256;
const KMS: &str = ServerSideEncryption::AWS_KMS;
const KMS_DSSE: &str = ServerSideEncryption::AWS_KMS_DSSE;

/// The algorithms a general purpose bucket's default may name (PutBucketEncryption:
/// `aws:fsx` and `aws:backup` belong to FSx and Backup access points).
const DEFAULT_ALGORITHMS: &[&str] = &[AES256, KMS, KMS_DSSE];

fn malformed_xml() -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
}

/// The message S3 answers a default naming a key for SSE-S3 with (recorded against
/// S3 in LocalStack's AWS-validated snapshot `test_s3_default_bucket_encryption_exc`).
pub const KEY_WITHOUT_KMS: &str = "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse";

/// Why a ServerSideEncryptionConfiguration is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// MalformedXML: not exactly one rule, no ApplyServerSideEncryptionByDefault, an
    /// SSEAlgorithm a bucket default cannot have, or an empty KMSMasterKeyID.
    Malformed,
    /// InvalidArgument (ArgumentName ApplyServerSideEncryptionByDefault): a
    /// KMSMasterKeyID with AES256.
    KeyWithoutKms,
}

impl Invalid {
    fn error(&self) -> S3Error {
        match self {
            Invalid::Malformed => malformed_xml(),
            Invalid::KeyWithoutKms => {
                let mut e = S3Error::with_message(S3ErrorCode::InvalidArgument, KEY_WITHOUT_KMS);
                e.set_headers(crate::storage_class::error_element_headers(
                    crate::storage_class::ERROR_ARGUMENT_NAME_HEADER,
                    "ApplyServerSideEncryptionByDefault",
                ));
                e
            }
        }
    }
}

/// Checks a PutBucketEncryption document as S3 does: exactly one rule, with
/// ApplyServerSideEncryptionByDefault naming AES256, aws:kms or aws:kms:dsse, and a
/// KMSMasterKeyID only with the KMS algorithms ("This parameter is allowed if and only
/// if SSEAlgorithm is set to aws:kms or aws:kms:dsse", ServerSideEncryptionByDefault).
/// S3 does not check that the key exists ("Amazon S3 doesn't validate the KMS key ID
/// provided in PutBucketEncryption requests").
///
/// `blocking_given`: the rule had a BlockedEncryptionTypes (sse_c_blocking.rs), and may
/// then do without ApplyServerSideEncryptionByDefault (None: the SSE-S3 default).
pub fn from_dto(c: &ServerSideEncryptionConfiguration, blocking_given: bool) -> Result<Option<DefaultEncryption>, Invalid> {
    let [rule] = c.rules.as_slice() else { return Err(Invalid::Malformed) };
    let by_default = match rule.apply_server_side_encryption_by_default.as_ref() {
        Some(d) => d,
        None if blocking_given => return Ok(None),
        None => return Err(Invalid::Malformed),
    };
    let algorithm = by_default.sse_algorithm.as_str();
    if !DEFAULT_ALGORITHMS.contains(&algorithm) {
        return Err(Invalid::Malformed);
    }
    let key = by_default.kms_master_key_id.clone();
    if key.is_some() && algorithm == AES256 {
        return Err(Invalid::KeyWithoutKms);
    }
    if key.as_deref().is_some_and(|k| k.trim().is_empty()) {
        return Err(Invalid::Malformed);
    }
    Ok(Some(DefaultEncryption { algorithm: algorithm.to_string(), kms_master_key_id: key, bucket_key_enabled: rule.bucket_key_enabled.unwrap_or(false) }))
}

/// The configuration GetBucketEncryption answers (None: the SSE-S3 default every
/// bucket has, with BucketKeyEnabled false).
pub fn to_dto(d: Option<&DefaultEncryption>) -> ServerSideEncryptionConfiguration {
    let (algorithm, key, bucket_key) = match d {
        Some(d) => (d.algorithm.clone(), d.kms_master_key_id.clone(), d.bucket_key_enabled),
        None => (AES256.to_string(), None, false),
    };
    ServerSideEncryptionConfiguration {
        rules: vec![ServerSideEncryptionRule {
            apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                kms_master_key_id: key,
                sse_algorithm: ServerSideEncryption::from(algorithm),
            }),
            bucket_key_enabled: Some(bucket_key),
        }],
    }
}

/// The encryption headers of a write (PutObject, POST, CopyObject,
/// CreateMultipartUpload), checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requested {
    /// `x-amz-server-side-encryption` (None: not sent).
    pub algorithm: Option<String>,
    pub kms_key_id: Option<String>,
    /// `x-amz-server-side-encryption-bucket-key-enabled`.
    pub bucket_key: Option<bool>,
}

/// Checks a write's encryption headers: a KMS key id needs `aws:kms` (or
/// `aws:kms:dsse`), and only the algorithms S3 has are taken.
pub fn requested(sse: Option<&ServerSideEncryption>, kms_key_id: Option<&String>, bucket_key: Option<bool>) -> S3Result<Requested> {
    let algorithm = sse.map(|s| s.as_str());
    match algorithm.unwrap_or(AES256) {
        AES256 if kms_key_id.is_some() => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
        )),
        AES256 | KMS | KMS_DSSE => Ok(Requested { algorithm: algorithm.map(str::to_string), kms_key_id: kms_key_id.cloned(), bucket_key }),
        _ => Err(S3Error::with_message(S3ErrorCode::InvalidArgument, "The encryption method specified is not supported")),
    }
}

/// The encryption an object is written with, as kept in its headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// None: AES256 (SSE-S3).
    pub algorithm: Option<String>,
    /// The KMS key, as the object reports it (an ARN unless given as an alias).
    pub kms_key_id: Option<String>,
    pub bucket_key: bool,
}

/// The encryption a write gets: what its request names, else the bucket's default.
///
/// - A KMS key id is reported as the key's ARN in the bucket's region and account; an
///   alias stays as given (nimbus has no KMS to resolve it). Without a key id S3 uses
///   the AWS managed key `aws/s3` and reports its ARN.
/// - The S3 Bucket Key applies to SSE-KMS only: the request's header, else the
///   bucket's BucketKeyEnabled ("If you specify the x-amz-server-side-encryption:aws:kms
///   header but don't provide the ... bucket-key-enabled header, your object uses the
///   S3 Bucket Key settings for the destination bucket"). Bucket Keys are not supported
///   for DSSE-KMS, nor reported for SSE-S3.
pub fn apply(req: &Requested, default: Option<&DefaultEncryption>, region: &str, account: &str) -> Applied {
    let (algorithm, key) = match (&req.algorithm, default) {
        (Some(a), _) => (a.as_str(), req.kms_key_id.as_deref()),
        (None, Some(d)) => (d.algorithm.as_str(), d.kms_master_key_id.as_deref()),
        (None, None) => (AES256, None),
    };
    if algorithm == AES256 {
        return Applied::default();
    }
    let kms_key_id = Some(match key {
        Some(k) => key_arn(k, region, account),
        None => managed_key_arn(region, account),
    });
    let bucket_key = algorithm == KMS && req.bucket_key.unwrap_or_else(|| default.is_some_and(|d| d.bucket_key_enabled));
    Applied { algorithm: Some(algorithm.to_string()), kms_key_id, bucket_key }
}

/// A KMS key as S3 reports it: a bare key id becomes the key's ARN in the bucket's
/// region and account; an ARN or an alias is kept.
fn key_arn(key: &str, region: &str, account: &str) -> String {
    if key.starts_with("arn:") || key.starts_with("alias/") {
        key.to_string()
    } else {
        format!("arn:aws:kms:{region}:{account}:key/{key}")
    }
}

/// The ARN of the account's AWS managed key for S3 (`aws/s3`) in `region`: one key per
/// account and region, its id a UUID (here derived from both, so it stays the same).
pub fn managed_key_arn(region: &str, account: &str) -> String {
    use md5::{Digest, Md5};
    let h = hex::encode(Md5::digest(format!("aws/s3\n{account}\n{region}").as_bytes()));
    format!("arn:aws:kms:{region}:{account}:key/{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

impl Applied {
    /// Records the encryption in an object's (or upload's) headers.
    pub fn store(self, h: &mut ObjHeaders) {
        h.sse = self.algorithm;
        h.sse_kms_key_id = self.kms_key_id;
        h.sse_bucket_key = self.bucket_key;
    }
}

/// The encryption headers an object (or upload) reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    pub algorithm: Option<ServerSideEncryption>,
    pub kms_key_id: Option<String>,
    /// `x-amz-server-side-encryption-bucket-key-enabled`, sent only when true.
    pub bucket_key: Option<bool>,
}

pub fn reported(h: &ObjHeaders) -> Reported {
    // An SSE-C object reports its customer headers instead (sse_c.rs); S3 sends no
    // `x-amz-server-side-encryption` for it (LocalStack's recorded SSE-C PutObject).
    if h.sse_customer.is_some() {
        return Reported { algorithm: None, kms_key_id: None, bucket_key: None };
    }
    let algorithm = h.sse.clone().unwrap_or_else(|| AES256.to_string());
    Reported {
        algorithm: Some(ServerSideEncryption::from(algorithm)),
        kms_key_id: h.sse_kms_key_id.clone(),
        bucket_key: h.sse_bucket_key.then_some(true),
    }
}

impl State {
    /// The encryption a write to `bucket` gets (NoSuchBucket when there is none).
    pub(crate) fn encryption_for_write(&self, bucket: &str, req: &Requested) -> S3Result<Applied> {
        let buckets = self.buckets.read();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        Ok(apply(req, b.config.encryption.as_ref(), &b.region, &b.account))
    }

    /// `sse_c_blocked`: the rule's BlockedEncryptionTypes (None: not given, the setting
    /// stays as it is; sse_c_blocking.rs).
    pub(crate) async fn put_encryption(&self, bucket: &str, c: &ServerSideEncryptionConfiguration, sse_c_blocked: Option<bool>) -> S3Result<()> {
        // A missing bucket is reported before the document is looked at.
        self.require_bucket(bucket)?;
        let d = from_dto(c, sse_c_blocked.is_some()).map_err(|e| e.error())?;
        self.update_config(bucket, move |cfg| {
            cfg.encryption = d;
            if let Some(blocked) = sse_c_blocked {
                cfg.sse_c_allowed = !blocked;
            }
            Ok(())
        })
        .await
    }

    /// The answer carries whether SSE-C is blocked, for `sse_c_blocking::add_to_answer`.
    pub(crate) fn get_encryption(&self, bucket: &str) -> S3Result<s3s::S3Response<GetBucketEncryptionOutput>> {
        let (d, allowed) = self.with_config(bucket, |c| (c.encryption.clone(), c.sse_c_allowed))?;
        let mut resp = s3s::S3Response::new(GetBucketEncryptionOutput { server_side_encryption_configuration: Some(to_dto(d.as_ref())) });
        resp.extensions.insert(crate::sse_c_blocking::Answer { blocked: !allowed });
        Ok(resp)
    }

    /// Back to the SSE-S3 default. Whether SSE-C is blocked stays as it was: AWS
    /// documents no effect of DeleteBucketEncryption on BlockedEncryptionTypes.
    pub(crate) async fn delete_encryption(&self, bucket: &str) -> S3Result<()> {
        self.update_config(bucket, |cfg| {
            cfg.encryption = None;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(algorithm: &str, key: Option<&str>, bucket_key: Option<bool>) -> ServerSideEncryptionConfiguration {
        ServerSideEncryptionConfiguration {
            rules: vec![ServerSideEncryptionRule {
                apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                    kms_master_key_id: key.map(str::to_string),
                    sse_algorithm: ServerSideEncryption::from(algorithm.to_string()),
                }),
                bucket_key_enabled: bucket_key,
            }],
        }
    }

    fn from_dto_t(c: &ServerSideEncryptionConfiguration) -> Result<DefaultEncryption, Invalid> {
        from_dto(c, false).map(|d| d.expect("a rule without a default is refused"))
    }

    #[test]
    fn a_rule_may_only_block_or_unblock_sse_c() {
        let only_blocking = ServerSideEncryptionConfiguration { rules: vec![ServerSideEncryptionRule::default()] };
        assert_eq!(from_dto(&only_blocking, true), Ok(None));
        assert_eq!(from_dto(&only_blocking, false), Err(Invalid::Malformed));
    }

    #[test]
    fn accepts_the_three_algorithms() {
        let d = from_dto_t(&config("AES256", None, None)).unwrap();
        assert_eq!(d, DefaultEncryption { algorithm: "AES256".into(), kms_master_key_id: None, bucket_key_enabled: false });
        let d = from_dto_t(&config("aws:kms", Some("alias/k"), Some(true))).unwrap();
        assert_eq!(d.kms_master_key_id.as_deref(), Some("alias/k"));
        assert!(d.bucket_key_enabled);
        assert!(from_dto_t(&config("aws:kms:dsse", Some("1234abcd-12ab-34cd-56ef-1234567890ab"), None)).is_ok());
        // A Bucket Key setting with SSE-S3 is accepted (and kept, though unused).
        assert!(from_dto_t(&config("AES256", None, Some(true))).unwrap().bucket_key_enabled);
    }

    #[test]
    fn refuses_what_s3_refuses() {
        for bad in ["SSE-KMS", "aes256", "aws:fsx", "aws:backup", "", "KMS"] {
            assert_eq!(from_dto_t(&config(bad, None, None)), Err(Invalid::Malformed), "{bad}");
        }
        assert_eq!(from_dto_t(&config("AES256", Some("randomkeyid"), None)), Err(Invalid::KeyWithoutKms));
        assert_eq!(from_dto_t(&config("aws:kms", Some(""), None)), Err(Invalid::Malformed));
        let none = ServerSideEncryptionConfiguration { rules: vec![] };
        assert_eq!(from_dto_t(&none), Err(Invalid::Malformed));
        let mut two = config("aws:kms", None, None);
        two.rules.push(config("AES256", None, None).rules.remove(0));
        assert_eq!(from_dto_t(&two), Err(Invalid::Malformed));
        let empty_rule = ServerSideEncryptionConfiguration { rules: vec![ServerSideEncryptionRule::default()] };
        assert_eq!(from_dto_t(&empty_rule), Err(Invalid::Malformed));
    }

    #[test]
    fn invalid_argument_names_the_element() {
        let e = Invalid::KeyWithoutKms.error();
        assert_eq!(*e.code(), S3ErrorCode::InvalidArgument);
        assert_eq!(e.message(), Some(KEY_WITHOUT_KMS));
        assert_eq!(*Invalid::Malformed.error().code(), S3ErrorCode::MalformedXML);
    }

    #[test]
    fn never_configured_reads_as_sse_s3() {
        let c = to_dto(None);
        let rule = &c.rules[0];
        assert_eq!(rule.apply_server_side_encryption_by_default.as_ref().unwrap().sse_algorithm.as_str(), "AES256");
        assert_eq!(rule.bucket_key_enabled, Some(false));
        let d = from_dto_t(&config("aws:kms", Some("k"), Some(true))).unwrap();
        assert_eq!(to_dto(Some(&d)), config("aws:kms", Some("k"), Some(true)));
    }

    #[test]
    fn request_headers_are_checked() {
        let kms = ServerSideEncryption::from_static(ServerSideEncryption::AWS_KMS);
        let aes = ServerSideEncryption::from_static(ServerSideEncryption::AES256);
        let key = "k".to_string();
        assert!(requested(None, None, None).is_ok());
        assert!(requested(Some(&kms), Some(&key), Some(true)).is_ok());
        assert!(requested(Some(&aes), Some(&key), None).is_err());
        assert!(requested(None, Some(&key), None).is_err());
        assert!(requested(Some(&ServerSideEncryption::from("ROT13".to_string())), None, None).is_err());
    }

    const REGION: &str = "us-east-1";
    const ACCOUNT: &str = "000000000000";

    fn kms_default(key: Option<&str>, bucket_key: bool) -> DefaultEncryption {
        DefaultEncryption { algorithm: "aws:kms".into(), kms_master_key_id: key.map(str::to_string), bucket_key_enabled: bucket_key }
    }

    #[test]
    fn writes_without_headers_get_the_default() {
        assert_eq!(apply(&Requested::default(), None, REGION, ACCOUNT), Applied::default());
        let d = kms_default(Some("1234abcd-12ab-34cd-56ef-1234567890ab"), true);
        let a = apply(&Requested::default(), Some(&d), REGION, ACCOUNT);
        assert_eq!(a.algorithm.as_deref(), Some("aws:kms"));
        assert_eq!(a.kms_key_id.as_deref(), Some("arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(a.bucket_key);
        // No key configured: the AWS managed key, the same one every time.
        let a = apply(&Requested::default(), Some(&kms_default(None, false)), REGION, ACCOUNT);
        let managed = managed_key_arn(REGION, ACCOUNT);
        assert_eq!(a.kms_key_id.as_deref(), Some(managed.as_str()));
        assert!(!a.bucket_key);
        assert!(managed.starts_with("arn:aws:kms:us-east-1:000000000000:key/") && managed.len() == 39 + 36);
        assert_ne!(managed, managed_key_arn("eu-west-1", ACCOUNT));
        // An ARN or an alias is kept as given.
        for k in ["arn:aws:kms:us-east-2:111122223333:key/x", "alias/mine"] {
            assert_eq!(apply(&Requested::default(), Some(&kms_default(Some(k), false)), REGION, ACCOUNT).kms_key_id.as_deref(), Some(k));
        }
        // An SSE-S3 default with a Bucket Key reports none.
        let aes = DefaultEncryption { algorithm: "AES256".into(), kms_master_key_id: None, bucket_key_enabled: true };
        assert_eq!(apply(&Requested::default(), Some(&aes), REGION, ACCOUNT), Applied::default());
    }

    #[test]
    fn the_request_overrides_the_default() {
        let d = kms_default(Some("bucket-key"), true);
        let aes = Requested { algorithm: Some("AES256".into()), ..Default::default() };
        assert_eq!(apply(&aes, Some(&d), REGION, ACCOUNT), Applied::default());
        // aws:kms without a key id: the AWS managed key; the bucket's Bucket Key setting
        // unless the request says otherwise.
        let kms = Requested { algorithm: Some("aws:kms".into()), ..Default::default() };
        let a = apply(&kms, Some(&d), REGION, ACCOUNT);
        assert_eq!(a.kms_key_id, Some(managed_key_arn(REGION, ACCOUNT)));
        assert!(a.bucket_key);
        let off = Requested { bucket_key: Some(false), ..kms.clone() };
        assert!(!apply(&off, Some(&d), REGION, ACCOUNT).bucket_key);
        // DSSE-KMS has no Bucket Key.
        let dsse = Requested { algorithm: Some("aws:kms:dsse".into()), kms_key_id: Some("alias/d".into()), bucket_key: Some(true) };
        let a = apply(&dsse, Some(&d), REGION, ACCOUNT);
        assert_eq!((a.algorithm.as_deref(), a.kms_key_id.as_deref(), a.bucket_key), (Some("aws:kms:dsse"), Some("alias/d"), false));
    }

    #[test]
    fn objects_report_what_they_were_written_with() {
        let mut h = ObjHeaders::default();
        let r = reported(&h);
        assert_eq!((r.algorithm.as_ref().map(|a| a.as_str()), r.kms_key_id, r.bucket_key), (Some("AES256"), None, None));
        Applied { algorithm: Some("aws:kms".into()), kms_key_id: Some("arn:k".into()), bucket_key: true }.store(&mut h);
        let r = reported(&h);
        assert_eq!((r.algorithm.as_ref().map(|a| a.as_str()), r.kms_key_id.as_deref(), r.bucket_key), (Some("aws:kms"), Some("arn:k"), Some(true)));
    }

    #[test]
    fn stored_configuration_round_trips_and_old_configs_load() {
        let d = kms_default(Some("k"), true);
        let back: DefaultEncryption = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
        let old: crate::config::BucketConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(old.encryption, None);
    }
}
