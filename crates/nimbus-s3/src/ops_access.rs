//! Operations on who may read what: website configuration, Block Public Access,
//! bucket and object ACLs, and the anonymous-request check of strict mode.

use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Result};

use crate::acl::{self, GrantHeaders, StoredGrant};
use crate::config::BucketConfig;
use crate::policy_eval;
use crate::provider::State;
use crate::public_access::{anonymous_allowed, AnonymousAction, PublicAccessBlock};
use crate::website_config::WebsiteConfig;

pub(crate) const OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
pub(crate) const OWNER_NAME: &str = "webfile";

pub(crate) fn owner() -> Owner {
    Owner { display_name: Some(OWNER_NAME.into()), id: Some(OWNER_ID.into()) }
}

fn access_denied() -> S3Error {
    s3_error!(AccessDenied, "Access Denied")
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

/// The ACL of CreateBucket (None: private).
pub(crate) fn bucket_acl_requested(canned: Option<&BucketCannedACL>, headers: &GrantHeaders<'_>) -> S3Result<Option<Vec<StoredGrant>>> {
    acl::requested(canned.map(|c| c.as_str()), headers, None, false, OWNER_ID)
}

impl State {
    fn check_acl_allowed(&self, bucket: &str, grants: Option<&[StoredGrant]>) -> S3Result<()> {
        let block = self.with_config(bucket, |c| c.public_access_block.unwrap_or_default().block_public_acls)?;
        if block && grants.is_some_and(acl::is_public) {
            return Err(access_denied());
        }
        Ok(())
    }

    /// May an anonymous REST request (strict mode) go ahead? Reads of objects the
    /// policy or ACLs make public, and listings the bucket makes public; nothing else.
    pub fn anonymous_request_allowed(&self, operation: &str, bucket: &str, key: Option<&str>) -> bool {
        let buckets = self.buckets.read();
        let Some(b) = buckets.get(bucket) else { return false };
        match (operation, key) {
            ("GetObject" | "HeadObject", Some(key)) => match b.objects.get(key).and_then(|v| v.current()) {
                Some(meta) => anonymous_allowed(bucket, &b.config, AnonymousAction::GetObject { key, object_acl: meta.headers.acl.as_deref() }),
                // A missing key is reported (404) only to callers who may list the bucket.
                None => anonymous_allowed(bucket, &b.config, AnonymousAction::ListBucket),
            },
            ("ListObjects" | "ListObjectsV2", None) => anonymous_allowed(bucket, &b.config, AnonymousAction::ListBucket),
            _ => false,
        }
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
        let grants = self.with_config(bucket, |c| c.acl.clone())?.unwrap_or_else(acl::default_grants);
        Ok(GetBucketAclOutput { grants: Some(acl::grant_dtos(&grants, OWNER_ID, OWNER_NAME)), owner: Some(owner()) })
    }

    pub(crate) async fn put_object_acl(&self, input: PutObjectAclInput) -> S3Result<()> {
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
        self.update_object_headers(&input.bucket, &input.key, input.version_id.as_deref(), move |h| h.acl = Some(grants.clone()))
            .await?;
        Ok(())
    }

    pub(crate) fn get_object_acl(&self, bucket: &str, key: &str, version_id: Option<&str>) -> S3Result<GetObjectAclOutput> {
        let found = self.lookup(bucket, key, version_id)?;
        let grants = found.meta.headers.acl.clone().unwrap_or_else(acl::default_grants);
        Ok(GetObjectAclOutput { grants: Some(acl::grant_dtos(&grants, OWNER_ID, OWNER_NAME)), owner: Some(owner()), request_charged: None })
    }
}
