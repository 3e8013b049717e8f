//! Who may read without credentials: a bucket's Block Public Access settings, its
//! policy (anonymous Allow/Deny) and the ACLs of the bucket and its objects,
//! combined as S3 combines them.

use s3s::dto::PublicAccessBlockConfiguration;
use serde::{Deserialize, Serialize};

use crate::acl::{self, StoredGrant};
use crate::config::BucketConfig;
use crate::policy_eval::{self, Decision};

/// A bucket's PublicAccessBlock configuration (every setting defaults to false).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublicAccessBlock {
    #[serde(default)]
    pub block_public_acls: bool,
    #[serde(default)]
    pub ignore_public_acls: bool,
    #[serde(default)]
    pub block_public_policy: bool,
    #[serde(default)]
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub fn from_dto(c: &PublicAccessBlockConfiguration) -> Self {
        PublicAccessBlock {
            block_public_acls: c.block_public_acls.unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
            block_public_policy: c.block_public_policy.unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
        }
    }

    pub fn to_dto(self) -> PublicAccessBlockConfiguration {
        PublicAccessBlockConfiguration {
            block_public_acls: Some(self.block_public_acls),
            ignore_public_acls: Some(self.ignore_public_acls),
            block_public_policy: Some(self.block_public_policy),
            restrict_public_buckets: Some(self.restrict_public_buckets),
        }
    }
}

/// What an anonymous caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnonymousAction<'a> {
    /// s3:GetObject on a key, with that object's ACL when it exists.
    GetObject { key: &'a str, object_acl: Option<&'a [StoredGrant]> },
    /// s3:ListBucket (also decides 404 versus 403 for a missing key).
    ListBucket,
}

/// May an anonymous caller do `action` in `bucket`? An explicit Deny in the policy
/// wins; RestrictPublicBuckets voids a public policy's Allow; IgnorePublicAcls voids
/// public ACL grants.
pub fn anonymous_allowed(bucket: &str, cfg: &BucketConfig, action: AnonymousAction<'_>) -> bool {
    let pab = cfg.public_access_block.unwrap_or_default();
    let (name, resource) = match action {
        AnonymousAction::GetObject { key, .. } => ("s3:GetObject", format!("arn:aws:s3:::{bucket}/{key}")),
        AnonymousAction::ListBucket => ("s3:ListBucket", format!("arn:aws:s3:::{bucket}")),
    };
    let decision = cfg.policy.as_deref().map(|p| policy_eval::evaluate_anonymous(p, name, &resource)).unwrap_or(Decision::NotApplicable);
    if decision == Decision::Deny {
        return false;
    }
    if decision == Decision::Allow && !pab.restrict_public_buckets {
        return true;
    }
    if pab.ignore_public_acls {
        return false;
    }
    match action {
        AnonymousAction::GetObject { object_acl, .. } => object_acl.is_some_and(acl::everyone_may_read),
        AnonymousAction::ListBucket => cfg.acl.as_deref().is_some_and(acl::everyone_may_read),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(policy: Option<&str>, pab: Option<PublicAccessBlock>) -> BucketConfig {
        BucketConfig { policy: policy.map(str::to_string), public_access_block: pab, ..Default::default() }
    }

    const POLICY: &str = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;

    #[test]
    fn policy_and_block_public_access() {
        let get = AnonymousAction::GetObject { key: "index.html", object_acl: None };
        assert!(!anonymous_allowed("b", &cfg(None, None), get));
        assert!(anonymous_allowed("b", &cfg(Some(POLICY), None), get));
        assert!(!anonymous_allowed("b", &cfg(Some(POLICY), None), AnonymousAction::ListBucket));
        let restrict = PublicAccessBlock { restrict_public_buckets: true, ..Default::default() };
        assert!(!anonymous_allowed("b", &cfg(Some(POLICY), Some(restrict)), get));
        // BlockPublicPolicy only stops new policies; one already stored still applies.
        let block = PublicAccessBlock { block_public_policy: true, ..Default::default() };
        assert!(anonymous_allowed("b", &cfg(Some(POLICY), Some(block)), get));
    }

    #[test]
    fn public_acls_unless_ignored() {
        let public = acl::canned("public-read", true).unwrap();
        let get = AnonymousAction::GetObject { key: "a", object_acl: Some(&public) };
        assert!(anonymous_allowed("b", &cfg(None, None), get));
        let ignore = PublicAccessBlock { ignore_public_acls: true, ..Default::default() };
        assert!(!anonymous_allowed("b", &cfg(None, Some(ignore)), get));
        let deny = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(!anonymous_allowed("b", &cfg(Some(deny), None), get));
    }
}
