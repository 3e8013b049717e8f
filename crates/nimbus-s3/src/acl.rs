//! Access control lists of buckets and objects: the canned ACLs (`x-amz-acl`),
//! explicit grants (`x-amz-grant-*` headers or an AccessControlPolicy body), and
//! the grants GetBucketAcl / GetObjectAcl report for them.

use s3s::dto::{AccessControlPolicy, Grant, Grantee, Permission, Type};
use s3s::{S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};

pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

const PERMISSIONS: &[&str] = &["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"];

/// Who a grant is for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum GranteeRef {
    /// The resource's owner (nimbus has one canonical user).
    Owner,
    CanonicalUser { id: String },
    Group { uri: String },
    Email { address: String },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredGrant {
    pub grantee: GranteeRef,
    pub permission: String,
}

fn grant(grantee: GranteeRef, permission: &str) -> StoredGrant {
    StoredGrant { grantee, permission: permission.to_string() }
}

fn group(uri: &str) -> GranteeRef {
    GranteeRef::Group { uri: uri.to_string() }
}

/// The grants a canned ACL stands for ("Canned ACL" in the S3 user guide).
/// `object` admits the object-only forms. Bucket and object have one owner here, so
/// bucket-owner-read / bucket-owner-full-control add nothing to the owner's grant.
pub fn canned(name: &str, object: bool) -> S3Result<Vec<StoredGrant>> {
    let owner = grant(GranteeRef::Owner, "FULL_CONTROL");
    let grants = match name {
        "private" => vec![owner],
        "public-read" => vec![owner, grant(group(ALL_USERS), "READ")],
        "public-read-write" => vec![owner, grant(group(ALL_USERS), "READ"), grant(group(ALL_USERS), "WRITE")],
        "authenticated-read" => vec![owner, grant(group(AUTHENTICATED_USERS), "READ")],
        "log-delivery-write" if !object => vec![owner, grant(group(LOG_DELIVERY), "WRITE"), grant(group(LOG_DELIVERY), "READ_ACP")],
        "bucket-owner-read" | "bucket-owner-full-control" | "aws-exec-read" if object => vec![owner],
        _ => return Err(S3Error::with_message(S3ErrorCode::InvalidArgument, format!("Invalid canned ACL: {name}"))),
    };
    Ok(grants)
}

/// The grants of a resource with no ACL set (private).
pub fn default_grants() -> Vec<StoredGrant> {
    vec![grant(GranteeRef::Owner, "FULL_CONTROL")]
}

/// Do two ACLs grant the same (in any order)?
pub fn same_grants(a: &[StoredGrant], b: &[StoredGrant]) -> bool {
    a.iter().all(|g| b.contains(g)) && b.iter().all(|g| a.contains(g))
}

/// `x-amz-grant-read: uri="http://...", id="abc"` → grants with that permission.
fn parse_grant_header(value: &str, permission: &str, owner_id: &str) -> S3Result<Vec<StoredGrant>> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (kind, v) = item.split_once('=').ok_or_else(|| invalid_argument("Invalid grant header"))?;
        let v = v.trim().trim_matches('"').to_string();
        let grantee = match kind.trim().to_ascii_lowercase().as_str() {
            "id" if v == owner_id => GranteeRef::Owner,
            "id" => GranteeRef::CanonicalUser { id: v },
            "uri" => GranteeRef::Group { uri: v },
            "emailaddress" => GranteeRef::Email { address: v },
            _ => return Err(invalid_argument("Invalid grant header")),
        };
        out.push(grant(grantee, permission));
    }
    Ok(out)
}

fn invalid_argument(msg: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, msg.to_string())
}

fn malformed_acl() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::MalformedACLError,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// The grant headers of a request, by permission.
#[derive(Default)]
pub struct GrantHeaders<'a> {
    pub full_control: Option<&'a str>,
    pub read: Option<&'a str>,
    pub read_acp: Option<&'a str>,
    pub write: Option<&'a str>,
    pub write_acp: Option<&'a str>,
}

impl GrantHeaders<'_> {
    fn any(&self) -> bool {
        self.full_control.is_some() || self.read.is_some() || self.read_acp.is_some() || self.write.is_some() || self.write_acp.is_some()
    }
}

/// The ACL a request sets: a canned ACL, grant headers or a policy body (one of them).
/// None: the request sets none.
pub fn requested(
    canned_name: Option<&str>,
    headers: &GrantHeaders<'_>,
    body: Option<&AccessControlPolicy>,
    object: bool,
    owner_id: &str,
) -> S3Result<Option<Vec<StoredGrant>>> {
    if canned_name.is_some() && headers.any() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Specifying both Canned ACLs and Header Grants is not allowed",
        ));
    }
    if let Some(name) = canned_name {
        return canned(name, object).map(Some);
    }
    if headers.any() {
        let mut out = Vec::new();
        for (value, permission) in [
            (headers.full_control, "FULL_CONTROL"),
            (headers.read, "READ"),
            (headers.read_acp, "READ_ACP"),
            (headers.write, "WRITE"),
            (headers.write_acp, "WRITE_ACP"),
        ] {
            if let Some(v) = value {
                out.extend(parse_grant_header(v, permission, owner_id)?);
            }
        }
        return Ok(Some(out));
    }
    match body {
        Some(policy) => from_policy(policy, owner_id).map(Some),
        None => Ok(None),
    }
}

fn from_policy(policy: &AccessControlPolicy, owner_id: &str) -> S3Result<Vec<StoredGrant>> {
    let mut out = Vec::new();
    for g in policy.grants.iter().flatten() {
        let permission = g.permission.as_ref().map(|p| p.as_str().to_string()).ok_or_else(malformed_acl)?;
        if !PERMISSIONS.contains(&permission.as_str()) {
            return Err(malformed_acl());
        }
        let grantee = g.grantee.as_ref().ok_or_else(malformed_acl)?;
        let r = match grantee.type_.as_str() {
            Type::CANONICAL_USER => match grantee.id.as_deref() {
                Some(id) if id == owner_id => GranteeRef::Owner,
                Some(id) => GranteeRef::CanonicalUser { id: id.to_string() },
                None => return Err(malformed_acl()),
            },
            Type::GROUP => GranteeRef::Group { uri: grantee.uri.clone().ok_or_else(malformed_acl)? },
            Type::AMAZON_CUSTOMER_BY_EMAIL => GranteeRef::Email { address: grantee.email_address.clone().ok_or_else(malformed_acl)? },
            _ => return Err(malformed_acl()),
        };
        out.push(StoredGrant { grantee: r, permission });
    }
    Ok(out)
}

/// Grants as GetBucketAcl / GetObjectAcl return them.
pub fn grant_dtos(grants: &[StoredGrant], owner_id: &str, owner_name: &str) -> Vec<Grant> {
    grants
        .iter()
        .map(|g| {
            let grantee = match &g.grantee {
                GranteeRef::Owner => Grantee {
                    id: Some(owner_id.to_string()),
                    display_name: Some(owner_name.to_string()),
                    type_: Type::from_static(Type::CANONICAL_USER),
                    ..grantee_default()
                },
                GranteeRef::CanonicalUser { id } => {
                    Grantee { id: Some(id.clone()), type_: Type::from_static(Type::CANONICAL_USER), ..grantee_default() }
                }
                GranteeRef::Group { uri } => Grantee { uri: Some(uri.clone()), type_: Type::from_static(Type::GROUP), ..grantee_default() },
                GranteeRef::Email { address } => Grantee {
                    email_address: Some(address.clone()),
                    type_: Type::from_static(Type::AMAZON_CUSTOMER_BY_EMAIL),
                    ..grantee_default()
                },
            };
            Grant { grantee: Some(grantee), permission: Some(Permission::from(g.permission.clone())) }
        })
        .collect()
}

fn grantee_default() -> Grantee {
    Grantee { display_name: None, email_address: None, id: None, type_: Type::from_static(Type::CANONICAL_USER), uri: None }
}

/// Do these grants give one of `permissions` to AllUsers (or, for a signed
/// caller, to AuthenticatedUsers)?
pub fn group_granted(grants: &[StoredGrant], permissions: &[&str], signed: bool) -> bool {
    grants.iter().any(|g| {
        let group = matches!(&g.grantee, GranteeRef::Group { uri } if uri == ALL_USERS || (signed && uri == AUTHENTICATED_USERS));
        group && permissions.contains(&g.permission.as_str())
    })
}

/// Is this ACL the bucket owner's full control and nothing else (`private`,
/// `bucket-owner-full-control`, or the same in grants) — the only ACL a bucket with
/// ACLs disabled accepts?
pub fn owner_full_control_only(grants: &[StoredGrant]) -> bool {
    !grants.is_empty() && grants.iter().all(|g| g.grantee == GranteeRef::Owner && g.permission == "FULL_CONTROL")
}

/// A public ACL (what BlockPublicAcls rejects) grants something to AllUsers or
/// AuthenticatedUsers.
pub fn is_public(grants: &[StoredGrant]) -> bool {
    grants.iter().any(|g| matches!(&g.grantee, GranteeRef::Group { uri } if uri == ALL_USERS || uri == AUTHENTICATED_USERS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_grants_ignores_order() {
        let read = grant(GranteeRef::Group { uri: "http://acs.amazonaws.com/groups/global/AllUsers".into() }, "READ");
        let owner = grant(GranteeRef::Owner, "FULL_CONTROL");
        assert!(same_grants(&[owner.clone(), read.clone()], &[read.clone(), owner.clone()]));
        assert!(same_grants(&canned("private", true).unwrap(), &default_grants()));
        assert!(!same_grants(&[owner.clone()], &[owner, read]));
    }

    #[test]
    fn canned_acls_expand_to_aws_grants() {
        assert_eq!(canned("private", false).unwrap(), default_grants());
        let public = canned("public-read", true).unwrap();
        assert!(group_granted(&public, &["READ"], false) && is_public(&public));
        let auth = canned("authenticated-read", false).unwrap();
        assert!(!group_granted(&auth, &["READ"], false) && is_public(&auth));
        assert_eq!(canned("public-read-write", false).unwrap().len(), 3);
        assert!(canned("bucket-owner-full-control", true).is_ok());
        assert!(canned("bucket-owner-full-control", false).is_err());
        assert!(canned("log-delivery-write", true).is_err());
        assert!(canned("nope", true).is_err());
        assert!(owner_full_control_only(&canned("bucket-owner-full-control", true).unwrap()));
        assert!(owner_full_control_only(&canned("private", false).unwrap()));
        assert!(!owner_full_control_only(&public));
        assert!(!owner_full_control_only(&[]));
        assert!(group_granted(&public, &["READ"], false));
        assert!(!group_granted(&public, &["WRITE"], false));
        assert!(!group_granted(&auth, &["READ"], false));
        assert!(group_granted(&auth, &["READ"], true));
    }

    #[test]
    fn grant_headers() {
        let h = GrantHeaders { read: Some(r#"uri="http://acs.amazonaws.com/groups/global/AllUsers", id="abc""#), ..Default::default() };
        let g = requested(None, &h, None, true, "owner").unwrap().unwrap();
        assert_eq!(g.len(), 2);
        assert!(group_granted(&g, &["READ"], false));
        assert_eq!(g[1].grantee, GranteeRef::CanonicalUser { id: "abc".into() });
        assert!(requested(Some("private"), &h, None, true, "owner").is_err());
        assert!(requested(None, &GrantHeaders::default(), None, true, "owner").unwrap().is_none());
    }
}
