//! Who may read without credentials: a bucket's Block Public Access settings, its
//! policy (anonymous Allow/Deny) and the ACLs of the bucket and its objects,
//! combined as S3 combines them.

use s3s::dto::PublicAccessBlockConfiguration;
use serde::{Deserialize, Serialize};

use crate::acl::{self, StoredGrant};
use crate::config::BucketConfig;
use crate::policy_eval::{self, Caller, Context, Decision};

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

impl PublicAccessBlock {
    /// All four settings on: what a bucket created since April 2023 starts with.
    pub fn all_on() -> Self {
        PublicAccessBlock { block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true }
    }
}

/// What an anonymous caller wants to do (the website endpoint's two questions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnonymousAction<'a> {
    /// s3:GetObject on a key, with that object's ACL when it exists.
    GetObject { key: &'a str, object_acl: Option<&'a [StoredGrant]> },
    /// s3:ListBucket (also decides 404 versus 403 for a missing key).
    ListBucket,
}

/// Which ACL grant could let a request through when no policy allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclGrant<'a> {
    /// READ on the object (GetObject, HeadObject), with its ACL when it exists.
    ObjectRead(Option<&'a [StoredGrant]>),
    /// READ on the bucket (listing).
    BucketRead,
    /// WRITE on the bucket (writing or deleting objects).
    BucketWrite,
    /// No ACL grants this action.
    None,
}

/// May `caller` do `action` on `resource` of a bucket owned by `owner`? An explicit
/// Deny in the policy wins; the owner's account may do anything else; others need
/// an Allow in the policy (void under RestrictPublicBuckets when the policy is
/// public) or an ACL grant (void when ACLs are disabled, and for public grants
/// under IgnorePublicAcls).
pub fn allowed(owner: &str, cfg: &BucketConfig, caller: Caller<'_>, action: &str, resource: &str, grant: AclGrant<'_>, ctx: &Context) -> bool {
    let pab = cfg.public_access_block.unwrap_or_default();
    let policy = cfg.policy.as_deref();
    let decision = policy.map(|p| policy_eval::evaluate(p, caller, action, resource, ctx)).unwrap_or(Decision::NotApplicable);
    if decision == Decision::Deny {
        return false;
    }
    if caller == Caller::Account(owner) {
        return true;
    }
    if decision == Decision::Allow && !(pab.restrict_public_buckets && policy.is_some_and(policy_eval::is_public)) {
        return true;
    }
    if cfg.acls_disabled() {
        return false;
    }
    let grants = match grant {
        AclGrant::ObjectRead(acl) => acl,
        AclGrant::BucketRead | AclGrant::BucketWrite => cfg.acl.as_deref(),
        AclGrant::None => None,
    };
    let want: &[&str] = match grant {
        AclGrant::ObjectRead(_) | AclGrant::BucketRead => &["READ", "FULL_CONTROL"],
        AclGrant::BucketWrite => &["WRITE", "FULL_CONTROL"],
        AclGrant::None => &[],
    };
    // Grants to AllUsers and AuthenticatedUsers are the public ones.
    let signed = matches!(caller, Caller::Account(_));
    !pab.ignore_public_acls && grants.is_some_and(|g| acl::group_granted(g, want, signed))
}

/// May an anonymous caller do `action` in `bucket` (the website endpoint)?
pub fn anonymous_allowed(bucket: &str, cfg: &BucketConfig, action: AnonymousAction<'_>, ctx: &Context) -> bool {
    match action {
        AnonymousAction::GetObject { key, object_acl } => allowed(
            "",
            cfg,
            Caller::Anonymous,
            "s3:GetObject",
            &format!("arn:aws:s3:::{bucket}/{key}"),
            AclGrant::ObjectRead(object_acl),
            ctx,
        ),
        AnonymousAction::ListBucket => {
            allowed("", cfg, Caller::Anonymous, "s3:ListBucket", &format!("arn:aws:s3:::{bucket}"), AclGrant::BucketRead, ctx)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(policy: Option<&str>, pab: Option<PublicAccessBlock>) -> BucketConfig {
        BucketConfig { policy: policy.map(str::to_string), public_access_block: pab, ..Default::default() }
    }

    fn anonymous_allowed(bucket: &str, cfg: &BucketConfig, action: AnonymousAction<'_>) -> bool {
        super::anonymous_allowed(bucket, cfg, action, &Context::new())
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
        // Bucket owner enforced: ACLs grant nothing.
        let enforced = BucketConfig { ownership: Some(crate::config::ObjectOwnership::BucketOwnerEnforced), ..Default::default() };
        assert!(!anonymous_allowed("b", &enforced, get));
    }

    #[test]
    fn signed_callers() {
        let ctx = Context::new();
        let deny_ip = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
            "Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}"#;
        let c = cfg(Some(deny_ip), None);
        let mut local = Context::new();
        local.set("aws:SourceIp", "127.0.0.1");
        let get = |caller, ctx: &Context| allowed("111111111111", &c, caller, "s3:GetObject", "arn:aws:s3:::b/k", AclGrant::ObjectRead(None), ctx);
        assert!(!get(Caller::Account("111111111111"), &local), "an explicit Deny binds the owner too");
        assert!(get(Caller::Account("111111111111"), &ctx));
        assert!(!get(Caller::Account("222222222222"), &ctx), "another account needs an Allow");
        let allow_other = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        let c2 = cfg(Some(allow_other), Some(PublicAccessBlock::all_on()));
        assert!(allowed("111111111111", &c2, Caller::Account("222222222222"), "s3:GetObject", "arn:aws:s3:::b/k", AclGrant::None, &ctx));
        assert!(!allowed("111111111111", &c2, Caller::Account("333333333333"), "s3:GetObject", "arn:aws:s3:::b/k", AclGrant::None, &ctx));
        // RestrictPublicBuckets: a public policy reaches only the owner's account.
        let c3 = cfg(Some(POLICY), Some(PublicAccessBlock { restrict_public_buckets: true, ..Default::default() }));
        assert!(!allowed("111111111111", &c3, Caller::Account("222222222222"), "s3:GetObject", "arn:aws:s3:::b/k", AclGrant::None, &ctx));
        // authenticated-read lets other accounts read, not anonymous callers.
        let auth = acl::canned("authenticated-read", true).unwrap();
        let open = cfg(None, None);
        assert!(allowed("1", &open, Caller::Account("2"), "s3:GetObject", "arn:aws:s3:::b/k", AclGrant::ObjectRead(Some(&auth)), &ctx));
        assert!(!allowed("1", &open, Caller::Anonymous, "s3:GetObject", "arn:aws:s3:::b/k", AclGrant::ObjectRead(Some(&auth)), &ctx));
        let rw = BucketConfig { acl: Some(acl::canned("public-read-write", false).unwrap()), ..Default::default() };
        assert!(allowed("1", &rw, Caller::Anonymous, "s3:PutObject", "arn:aws:s3:::b/k", AclGrant::BucketWrite, &ctx));
    }
}
