//! Operations on who may do what: the access decision for every request (bucket
//! policies with their conditions, ACLs, Block Public Access), website
//! configuration, Block Public Access, Object Ownership, and bucket and object ACLs.

use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Result};

use crate::acl::{self, GrantHeaders, StoredGrant};
use crate::config::{BucketConfig, ObjectOwnership};
use crate::policy_eval::{self, Caller, Context, Decision};
use crate::provider::State;
use crate::public_access::{allowed, AclGrant, PublicAccessBlock};
use crate::website_config::WebsiteConfig;

pub(crate) const OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
pub(crate) const OWNER_NAME: &str = "webfile";

pub(crate) fn owner() -> Owner {
    Owner { display_name: Some(OWNER_NAME.into()), id: Some(OWNER_ID.into()) }
}

fn access_denied() -> S3Error {
    s3_error!(AccessDenied, "Access Denied")
}

/// An error with a code s3s doesn't know (those default to 500).
fn custom_error(code: &'static str, message: &str, status: http::StatusCode) -> S3Error {
    let mut e = S3Error::with_message(S3ErrorCode::Custom(code.into()), message.to_string());
    e.set_status_code(status);
    e
}

fn acls_not_supported() -> S3Error {
    custom_error("AccessControlListNotSupported", "The bucket does not allow ACLs", http::StatusCode::BAD_REQUEST)
}

fn invalid_acl_with_ownership() -> S3Error {
    custom_error(
        "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        http::StatusCode::BAD_REQUEST,
    )
}

fn ownership_controls_not_found() -> S3Error {
    let mut e = S3Error::with_message(
        S3ErrorCode::Custom("OwnershipControlsNotFoundError".into()),
        "The bucket ownership controls were not found",
    );
    e.set_status_code(http::StatusCode::NOT_FOUND);
    e
}

fn no_such_public_access_block() -> S3Error {
    let mut e = S3Error::with_message(
        S3ErrorCode::Custom("NoSuchPublicAccessBlockConfiguration".into()),
        "The public access block configuration was not found",
    );
    e.set_status_code(http::StatusCode::NOT_FOUND);
    e
}

/// The ACL an object-writing request asks for (None: private), refused when the
/// bucket's BlockPublicAcls setting forbids a public one.
pub(crate) fn object_acl_requested(
    state: &State,
    bucket: &str,
    canned: Option<&ObjectCannedACL>,
    headers: &GrantHeaders<'_>,
) -> S3Result<Option<Vec<StoredGrant>>> {
    let grants = acl::requested(canned.map(|c| c.as_str()), headers, None, true, OWNER_ID)?;
    state.check_acl_allowed(bucket, grants.as_deref())?;
    Ok(grants)
}

/// The configuration CreateBucket starts a bucket with: AWS's defaults since April
/// 2023 (ACLs disabled, all four Block Public Access settings on), the
/// `x-amz-object-ownership` the request chose, and the ACL it asked for, which
/// must fit both.
pub(crate) fn new_bucket_config(
    ownership: Option<&s3s::dto::ObjectOwnership>,
    canned: Option<&BucketCannedACL>,
    headers: &GrantHeaders<'_>,
) -> S3Result<BucketConfig> {
    let ownership = match ownership {
        Some(o) => ObjectOwnership::parse(o.as_str())
            .ok_or_else(|| S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid x-amz-object-ownership header"))?,
        None => ObjectOwnership::BucketOwnerEnforced,
    };
    let grants = acl::requested(canned.map(|c| c.as_str()), headers, None, false, OWNER_ID)?;
    if let Some(g) = &grants {
        if ownership == ObjectOwnership::BucketOwnerEnforced && !acl::owner_full_control_only(g) {
            return Err(invalid_acl_with_ownership());
        }
        if acl::is_public(g) {
            return Err(custom_error(
                "InvalidBucketAclWithBlockPublicAccessError",
                "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
                http::StatusCode::BAD_REQUEST,
            ));
        }
    }
    Ok(BucketConfig { acl: grants, ownership: Some(ownership), public_access_block: Some(PublicAccessBlock::all_on()), ..BucketConfig::default() })
}

/// Who a request comes from, as the access decision sees it.
/// Who the access check let in, kept on the request for operations that authorize
/// again per item (DeleteObjects checks each key).
#[derive(Debug, Clone)]
pub(crate) struct AuthorizedCaller {
    /// None: anonymous.
    pub account: Option<String>,
    pub source_ip: String,
}

impl AuthorizedCaller {
    pub fn caller(&self) -> Caller<'_> {
        match &self.account {
            Some(a) => Caller::Account(a),
            None => Caller::Anonymous,
        }
    }
}

pub(crate) struct AccessRequest<'a> {
    /// The s3s operation name ("GetObject", "ListObjectsV2", ...).
    pub op: &'a str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub caller: Caller<'a>,
    pub method: &'a http::Method,
    pub headers: &'a http::HeaderMap,
    pub query: Option<&'a str>,
    /// The peer address (X-Forwarded-For is not trusted).
    pub source_ip: &'a str,
}

/// The IAM action an S3 operation is authorized as ("Actions, resources, and
/// condition keys for Amazon S3").
fn iam_action(op: &str, version_id: bool) -> String {
    let name = match op {
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => "ListBucket",
        "ListObjectVersions" => "ListBucketVersions",
        "ListMultipartUploads" => "ListBucketMultipartUploads",
        "ListParts" => "ListMultipartUploadParts",
        "HeadObject" | "GetObject" | "GetObjectAttributes" if version_id => "GetObjectVersion",
        "HeadObject" | "GetObject" => "GetObject",
        "GetObjectAttributes" => "GetObjectAttributes",
        "GetObjectAcl" if version_id => "GetObjectVersionAcl",
        "PutObjectAcl" if version_id => "PutObjectVersionAcl",
        "GetObjectTagging" if version_id => "GetObjectVersionTagging",
        "PutObjectTagging" if version_id => "PutObjectVersionTagging",
        "DeleteObjectTagging" if version_id => "DeleteObjectVersionTagging",
        "DeleteObject" if version_id => "DeleteObjectVersion",
        "DeleteObjects" => "DeleteObject",
        "PostObject" | "CopyObject" | "CreateMultipartUpload" | "UploadPart" | "UploadPartCopy" | "CompleteMultipartUpload" => "PutObject",
        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => "PutBucketPublicAccessBlock",
        "GetBucketNotificationConfiguration" => "GetBucketNotification",
        "PutBucketNotificationConfiguration" => "PutBucketNotification",
        "GetBucketCors" => "GetBucketCORS",
        "PutBucketCors" | "DeleteBucketCors" => "PutBucketCORS",
        "GetBucketLifecycleConfiguration" => "GetLifecycleConfiguration",
        "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => "PutLifecycleConfiguration",
        "DeleteBucketTagging" => "PutBucketTagging",
        "DeleteBucketWebsite" => "DeleteBucketWebsite",
        "DeleteBucketOwnershipControls" => "PutBucketOwnershipControls",
        "GetObjectLockConfiguration" => "GetBucketObjectLockConfiguration",
        "PutObjectLockConfiguration" => "PutBucketObjectLockConfiguration",
        "GetBucketEncryption" => "GetEncryptionConfiguration",
        "PutBucketEncryption" | "DeleteBucketEncryption" => "PutEncryptionConfiguration",
        other => other,
    };
    format!("s3:{name}")
}

/// Does the request ask to bypass governance retention? (`true` or `True`, the values
/// s3s reads as true for the header.)
fn bypass_requested(headers: &http::HeaderMap) -> bool {
    matches!(headers.get("x-amz-bypass-governance-retention").map(|v| v.as_bytes()), Some(b"true" | b"True"))
}

/// The ACL grant that can let an operation through.
fn acl_grant_for<'a>(op: &str, object_acl: Option<&'a [StoredGrant]>) -> AclGrant<'a> {
    match op {
        "GetObject" | "HeadObject" => AclGrant::ObjectRead(object_acl),
        "ListObjects" | "ListObjectsV2" | "ListObjectVersions" | "HeadBucket" | "ListMultipartUploads" => AclGrant::BucketRead,
        "PutObject" | "PostObject" | "CopyObject" | "DeleteObject" | "DeleteObjects" | "CreateMultipartUpload" | "UploadPart"
        | "UploadPartCopy" | "CompleteMultipartUpload" | "AbortMultipartUpload" => AclGrant::BucketWrite,
        _ => AclGrant::None,
    }
}

/// A query string's parameters, decoded.
fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The request headers S3 offers as condition keys (`s3:x-amz-acl`, ...).
const HEADER_KEYS: &[&str] = &[
    "x-amz-acl",
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-read-acp",
    "x-amz-grant-write",
    "x-amz-grant-write-acp",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-storage-class",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-content-sha256",
    "x-amz-object-ownership",
    "x-amz-website-redirect-location",
];

/// The condition keys of a request that doesn't depend on stored state (the
/// website endpoint's anonymous requests, and the base of every other).
pub(crate) fn base_context(headers: &http::HeaderMap, source_ip: &str, caller: Caller<'_>) -> Context {
    let mut ctx = Context::new();
    // Empty for a service acting on the caller's behalf: the key is then absent.
    if !source_ip.is_empty() {
        ctx.set("aws:SourceIp", source_ip);
    }
    // nimbus serves plain HTTP.
    ctx.set("aws:SecureTransport", "false");
    let now = time::OffsetDateTime::now_utc();
    ctx.set("aws:EpochTime", now.unix_timestamp().to_string());
    ctx.set(
        "aws:CurrentTime",
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        ),
    );
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(v) = header("referer") {
        ctx.set("aws:Referer", v);
    }
    if let Some(v) = header("user-agent") {
        ctx.set("aws:UserAgent", v);
    }
    if let Caller::Account(account) = caller {
        ctx.set("aws:PrincipalAccount", account);
        ctx.set("aws:PrincipalArn", format!("arn:aws:iam::{account}:root"));
        ctx.set("aws:PrincipalType", "Account");
        ctx.set("aws:userid", account);
    }
    ctx
}

fn request_context(r: &AccessRequest<'_>, owner: &str, existing_tags: Option<&[(String, String)]>) -> Context {
    let mut ctx = base_context(r.headers, r.source_ip, r.caller);
    ctx.set("aws:ResourceAccount", owner);
    ctx.set("s3:ResourceAccount", owner);
    for name in HEADER_KEYS {
        if let Some(v) = r.headers.get(*name).and_then(|v| v.to_str().ok()) {
            ctx.set(&format!("s3:{name}"), v);
        }
    }
    let params = query_params(r.query);
    if matches!(r.op, "ListObjects" | "ListObjectsV2" | "ListObjectVersions") {
        for (param, key) in [("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys")] {
            if let Some((_, v)) = params.iter().find(|(k, _)| k == param) {
                ctx.set(key, v.clone());
            }
        }
    }
    if let Some((_, v)) = params.iter().find(|(k, _)| k == "versionId") {
        ctx.set("s3:VersionId", v.clone());
    }
    let presigned = params.iter().any(|(k, _)| k == "X-Amz-Signature" || k == "Signature");
    let auth_type = if *r.method == http::Method::POST && r.op == "PostObject" {
        "POST"
    } else if presigned {
        "REST-QUERY-STRING"
    } else {
        "REST-HEADER"
    };
    if r.caller != Caller::Anonymous {
        ctx.set("s3:authType", auth_type);
    }
    for (k, v) in existing_tags.unwrap_or_default() {
        ctx.set(&format!("s3:ExistingObjectTag/{k}"), v.clone());
    }
    if let Some(tags) = r.headers.get("x-amz-tagging").and_then(|v| v.to_str().ok()).and_then(|t| crate::config::parse_tagging_header(t).ok()) {
        for (k, v) in tags {
            ctx.set(&format!("s3:RequestObjectTag/{k}"), v);
            ctx.add("s3:RequestObjectTagKeys", k);
        }
    }
    ctx
}

impl State {
    /// The checks of a request that sets an ACL: refused where ACLs are disabled
    /// (unless it is the owner's full control) and, when public, where
    /// BlockPublicAcls is on.
    fn check_acl_allowed(&self, bucket: &str, grants: Option<&[StoredGrant]>) -> S3Result<()> {
        let (disabled, block) = self.with_config(bucket, |c| (c.acls_disabled(), c.public_access_block.unwrap_or_default().block_public_acls))?;
        let Some(grants) = grants else { return Ok(()) };
        if disabled && !acl::owner_full_control_only(grants) {
            return Err(acls_not_supported());
        }
        if block && acl::is_public(grants) {
            return Err(access_denied());
        }
        Ok(())
    }

    /// May this request go ahead? Decided as S3 decides it for a caller who is
    /// an account's root user: an explicit Deny of the bucket policy stops anyone
    /// it names (except the bucket owner's own Get/Put/DeleteBucketPolicy); the
    /// owner's account may do everything else; other accounts and anonymous callers
    /// need an Allow from the policy or an ACL grant.
    pub(crate) fn authorize(&self, r: &AccessRequest<'_>) -> S3Result<()> {
        let anonymous = r.caller == Caller::Anonymous;
        let verdict = |ok: bool| if ok { Ok(()) } else { Err(access_denied()) };
        let Some(bucket) = r.bucket else { return verdict(!anonymous) };
        let buckets = self.buckets.read();
        // A missing bucket is for the operation to report (or create). S3 reports it before
        // it reads an encryption configuration (a document with no rule for a missing
        // bucket is NoSuchBucket, not MalformedXML), and s3s reads the body after this.
        let Some(b) = buckets.get(bucket) else {
            if !anonymous && r.op == "PutBucketEncryption" {
                return Err(crate::provider::no_such_bucket(bucket));
            }
            return verdict(!anonymous);
        };
        if r.op == "CreateBucket" {
            return verdict(!anonymous);
        }
        if r.caller == Caller::Account(&b.account) && matches!(r.op, "GetBucketPolicy" | "PutBucketPolicy" | "DeleteBucketPolicy") {
            return Ok(());
        }
        // Only a policy can deny the owner: without one, skip building the context
        // (the common case, on every request). A copy still checks its source.
        let copy = matches!(r.op, "CopyObject" | "UploadPartCopy");
        if r.caller == Caller::Account(&b.account) && b.config.policy.is_none() && !copy {
            return Ok(());
        }
        let params = query_params(r.query);
        let version_id = params.iter().any(|(k, _)| k == "versionId");
        let action = iam_action(r.op, version_id);
        let versions = r.key.and_then(|k| b.objects.get(k));
        let current = versions.and_then(|v| v.current());
        let ctx = request_context(r, &b.account, current.map(|m| m.headers.tags.as_slice()));
        let resource = match (r.op, r.key) {
            // Each key of a multi-object delete is one s3:DeleteObject; nimbus decides
            // them together, as a delete of any key in the bucket.
            ("DeleteObjects", _) => format!("arn:aws:s3:::{bucket}/*"),
            (_, Some(k)) => format!("arn:aws:s3:::{bucket}/{k}"),
            (_, None) => format!("arn:aws:s3:::{bucket}"),
        };
        let grant = acl_grant_for(r.op, current.and_then(|m| m.headers.acl.as_deref()));
        let exists = if version_id { versions.is_some() } else { current.is_some() };
        let ok = if matches!(r.op, "GetObject" | "HeadObject") && !exists {
            // A missing key is reported (404) only to callers who may list the bucket.
            let denied = b.config.policy.as_deref().is_some_and(|p| policy_eval::evaluate(p, r.caller, &action, &resource, &ctx) == Decision::Deny);
            !denied && allowed(&b.account, &b.config, r.caller, "s3:ListBucket", &format!("arn:aws:s3:::{bucket}"), AclGrant::BucketRead, &ctx)
        } else {
            allowed(&b.account, &b.config, r.caller, &action, &resource, grant, &ctx)
        };
        if !ok {
            return Err(access_denied());
        }
        // `x-amz-bypass-governance-retention: true` takes effect only for callers allowed
        // s3:BypassGovernanceRetention on the object ("To use this header, you must have
        // the s3:BypassGovernanceRetention permission", DeleteObject / DeleteObjects /
        // PutObjectRetention in the API reference). Sent without that permission, the
        // request is refused, locked version or not, as S3 does in a bucket with Object
        // Lock. (DeleteObjects reaches here once per key, as op "DeleteObject".)
        if matches!(r.op, "DeleteObject" | "PutObjectRetention") && b.config.object_lock.is_some() && bypass_requested(r.headers) {
            let bypass_ok = allowed(&b.account, &b.config, r.caller, "s3:BypassGovernanceRetention", &resource, AclGrant::None, &ctx);
            if !bypass_ok {
                return Err(access_denied());
            }
        }
        // A copy also reads its source.
        if matches!(r.op, "CopyObject" | "UploadPartCopy") {
            if let Some(source) = r.headers.get("x-amz-copy-source").and_then(|v| v.to_str().ok()) {
                let source = percent_encoding::percent_decode_str(source).decode_utf8_lossy();
                let path = source.trim_start_matches('/');
                let path = path.split_once("?versionId=").map_or(path, |(p, _)| p);
                if let Some((src_bucket, src_key)) = path.split_once('/') {
                    if let Some(sb) = buckets.get(src_bucket) {
                        let meta = sb.objects.get(src_key).and_then(|v| v.current());
                        let ctx = request_context(r, &sb.account, meta.map(|m| m.headers.tags.as_slice()));
                        let grant = AclGrant::ObjectRead(meta.and_then(|m| m.headers.acl.as_deref()));
                        let resource = format!("arn:aws:s3:::{src_bucket}/{src_key}");
                        return verdict(allowed(&sb.account, &sb.config, r.caller, "s3:GetObject", &resource, grant, &ctx));
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn put_website(&self, bucket: &str, c: WebsiteConfiguration) -> S3Result<()> {
        self.require_bucket(bucket)?;
        let site = WebsiteConfig::from_dto(c)?;
        self.update_config(bucket, move |cfg| {
            cfg.website = Some(site);
            Ok(())
        })
        .await
    }

    pub(crate) fn get_website(&self, bucket: &str) -> S3Result<GetBucketWebsiteOutput> {
        let site = self.with_config(bucket, |c| c.website.clone())?;
        let site = site.ok_or_else(|| s3_error!(NoSuchWebsiteConfiguration, "The specified bucket does not have a website configuration"))?;
        Ok(GetBucketWebsiteOutput {
            error_document: site.error_document(),
            index_document: site.index_document(),
            redirect_all_requests_to: site.redirect_all_dto(),
            routing_rules: site.rule_dtos(),
        })
    }

    pub(crate) async fn put_public_access_block(&self, bucket: &str, c: &PublicAccessBlockConfiguration) -> S3Result<()> {
        let pab = PublicAccessBlock::from_dto(c);
        self.update_config(bucket, move |cfg| {
            cfg.public_access_block = Some(pab);
            Ok(())
        })
        .await
    }

    pub(crate) fn get_public_access_block(&self, bucket: &str) -> S3Result<PublicAccessBlockConfiguration> {
        let pab = self.with_config(bucket, |c| c.public_access_block)?;
        pab.map(PublicAccessBlock::to_dto).ok_or_else(no_such_public_access_block)
    }

    /// BlockPublicPolicy: a policy granting anything to everyone is refused.
    pub(crate) fn check_policy_allowed(&self, bucket: &str, policy: &str) -> S3Result<()> {
        let block = self.with_config(bucket, |c| c.public_access_block.unwrap_or_default().block_public_policy)?;
        if block && policy_eval::is_public(policy) {
            return Err(access_denied());
        }
        Ok(())
    }

    pub(crate) async fn put_bucket_acl(&self, input: PutBucketAclInput) -> S3Result<()> {
        self.require_bucket(&input.bucket)?;
        let headers = GrantHeaders {
            full_control: input.grant_full_control.as_deref(),
            read: input.grant_read.as_deref(),
            read_acp: input.grant_read_acp.as_deref(),
            write: input.grant_write.as_deref(),
            write_acp: input.grant_write_acp.as_deref(),
        };
        let grants = acl::requested(input.acl.as_ref().map(|c| c.as_str()), &headers, input.access_control_policy.as_ref(), false, OWNER_ID)?
            .ok_or_else(|| s3_error!(MissingSecurityHeader, "Your request was missing a required header"))?;
        self.check_acl_allowed(&input.bucket, Some(&grants))?;
        self.update_config(&input.bucket, move |cfg: &mut BucketConfig| {
            cfg.acl = Some(grants);
            Ok(())
        })
        .await
    }

    pub(crate) fn get_bucket_acl(&self, bucket: &str) -> S3Result<GetBucketAclOutput> {
        // With ACLs disabled, reading an ACL shows the owner's full control.
        let grants = self.with_config(bucket, |c| if c.acls_disabled() { None } else { c.acl.clone() })?.unwrap_or_else(acl::default_grants);
        Ok(GetBucketAclOutput { grants: Some(acl::grant_dtos(&grants, OWNER_ID, OWNER_NAME)), owner: Some(owner()) })
    }

    /// Sets an object's ACL; an ACL that changes it is reported as `ObjectAcl:Put` (S3
    /// sends no event "when a request results in no change to an object's ACL").
    pub(crate) async fn put_object_acl(&self, ctx: &crate::ops_config::EventCtx, input: PutObjectAclInput) -> S3Result<()> {
        let headers = GrantHeaders {
            full_control: input.grant_full_control.as_deref(),
            read: input.grant_read.as_deref(),
            read_acp: input.grant_read_acp.as_deref(),
            write: input.grant_write.as_deref(),
            write_acp: input.grant_write_acp.as_deref(),
        };
        let grants = acl::requested(input.acl.as_ref().map(|c| c.as_str()), &headers, input.access_control_policy.as_ref(), true, OWNER_ID)?
            .ok_or_else(|| s3_error!(MissingSecurityHeader, "Your request was missing a required header"))?;
        self.check_acl_allowed(&input.bucket, Some(&grants))?;
        let changed = std::sync::atomic::AtomicBool::new(false);
        let found = self
            .update_object_headers(&input.bucket, &input.key, input.version_id.as_deref(), |h| {
                changed.store(!acl::same_grants(h.acl.as_deref().unwrap_or(&acl::default_grants()), &grants), std::sync::atomic::Ordering::Relaxed);
                h.acl = Some(grants.clone());
            })
            .await?;
        if changed.load(std::sync::atomic::Ordering::Relaxed) {
            self.emit_subresource_change(ctx, "ObjectAcl:Put", &input.bucket, &input.key, &found);
        }
        Ok(())
    }

    pub(crate) fn get_object_acl(&self, bucket: &str, key: &str, version_id: Option<&str>) -> S3Result<GetObjectAclOutput> {
        let disabled = self.with_config(bucket, |c| c.acls_disabled())?;
        let found = self.lookup(bucket, key, version_id)?;
        let grants = found.meta.headers.acl.clone().filter(|_| !disabled).unwrap_or_else(acl::default_grants);
        Ok(GetObjectAclOutput { grants: Some(acl::grant_dtos(&grants, OWNER_ID, OWNER_NAME)), owner: Some(owner()), request_charged: None })
    }

    pub(crate) async fn put_ownership_controls(&self, bucket: &str, c: OwnershipControls) -> S3Result<()> {
        let malformed = || s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema");
        let [rule] = c.rules.as_slice() else { return Err(malformed()) };
        let ownership = ObjectOwnership::parse(rule.object_ownership.as_str()).ok_or_else(malformed)?;
        self.update_config(bucket, move |cfg| {
            // ACLs can be disabled only once the bucket's ACL grants nothing beyond the owner.
            if ownership == ObjectOwnership::BucketOwnerEnforced && cfg.acl.as_deref().is_some_and(|g| !acl::owner_full_control_only(g)) {
                return Err(invalid_acl_with_ownership());
            }
            cfg.ownership = Some(ownership);
            Ok(())
        })
        .await
    }

    pub(crate) fn get_ownership_controls(&self, bucket: &str) -> S3Result<GetBucketOwnershipControlsOutput> {
        let ownership = self.with_config(bucket, |c| c.ownership)?.ok_or_else(ownership_controls_not_found)?;
        Ok(GetBucketOwnershipControlsOutput {
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule { object_ownership: s3s::dto::ObjectOwnership::from(ownership.as_str().to_string()) }],
            }),
        })
    }

    pub(crate) async fn delete_ownership_controls(&self, bucket: &str) -> S3Result<()> {
        self.update_config(bucket, |cfg| {
            cfg.ownership = None;
            Ok(())
        })
        .await
    }

    pub(crate) fn get_policy_status(&self, bucket: &str) -> S3Result<GetBucketPolicyStatusOutput> {
        let policy = self.with_config(bucket, |c| c.policy.clone())?;
        let policy = policy.ok_or_else(|| s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist"))?;
        Ok(GetBucketPolicyStatusOutput { policy_status: Some(PolicyStatus { is_public: Some(policy_eval::is_public(&policy)) }) })
    }
}
