//! A bucket's sub-resources kept beside it: notification configuration, tags,
//! policy and CORS rules — validated as AWS validates them, stored as one JSON
//! document per bucket.

use serde::{Deserialize, Serialize};

/// Everything a bucket is configured with beyond its objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BucketConfig {
    /// BlockedEncryptionTypes NONE was set: SSE-C writes are allowed. False (the
    /// default, also of every bucket stored before nimbus knew the setting) blocks them,
    /// as S3 does for new buckets since April 2026 (sse_c_blocking.rs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sse_c_allowed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<NotificationTarget>,
    /// None: no tag set (GetBucketTagging → NoSuchTagSet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<(String, String)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Vec<CorsRule>>,
    /// An EventBridgeConfiguration was set (stored and returned; nothing is sent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub event_bridge: bool,
    /// None: versioning was never configured (the bucket is unversioned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<Versioning>,
    /// None: no lifecycle configuration (GetBucketLifecycleConfiguration → NoSuchLifecycleConfiguration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Vec<crate::lifecycle::Rule>>,
    /// The lifecycle's TransitionDefaultMinimumObjectSize; None: all_storage_classes_128K.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_min_size: Option<String>,
    /// None: no website configuration (GetBucketWebsite → NoSuchWebsiteConfiguration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<crate::website_config::WebsiteConfig>,
    /// None: no PublicAccessBlock configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<crate::public_access::PublicAccessBlock>,
    /// None: the default ACL (the owner has full control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<crate::acl::StoredGrant>>,
    /// The ObjectOwnership of the bucket's OwnershipControls; None: none set
    /// (GetBucketOwnershipControls → OwnershipControlsNotFoundError; ACLs enabled).
    ///
    /// CreateBucket stores AWS's defaults of buckets created since April 2023
    /// explicitly: BucketOwnerEnforced here and all four Block Public Access settings
    /// in `public_access_block`. A configuration written before nimbus knew about
    /// them has neither field, so buckets from an older data directory keep their old
    /// behaviour (no block, ACLs enabled) — as AWS left buckets created before the
    /// change — with no marker needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<ObjectOwnership>,
    /// None: no Object Lock (GetObjectLockConfiguration → ObjectLockConfigurationNotFoundError).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock: Option<crate::object_lock::LockConfig>,
    /// The versioning configuration's MFADelete; None: never configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_delete: Option<bool>,
    /// The default encryption PutBucketEncryption set; None: SSE-S3, every bucket's
    /// default since January 2023 (and after DeleteBucketEncryption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<crate::encryption::DefaultEncryption>,
    /// PutBucketRequestPayment made the requester pay: the website endpoint refuses
    /// the bucket ("Requester Pays buckets do not allow access through a website endpoint").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requester_pays: bool,
}

/// S3 Object Ownership.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum ObjectOwnership {
    /// ACLs are disabled: they no longer grant anything, and requests setting one
    /// other than the owner's full control fail.
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

impl ObjectOwnership {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BucketOwnerEnforced" => Some(ObjectOwnership::BucketOwnerEnforced),
            "BucketOwnerPreferred" => Some(ObjectOwnership::BucketOwnerPreferred),
            "ObjectWriter" => Some(ObjectOwnership::ObjectWriter),
            _ => None,
        }
    }
}

impl BucketConfig {
    /// Are ACLs disabled (Object Ownership BucketOwnerEnforced)?
    pub fn acls_disabled(&self) -> bool {
        self.ownership == Some(ObjectOwnership::BucketOwnerEnforced)
    }
}

/// A bucket's versioning state once configured; a bucket never returns to unversioned.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Versioning {
    Enabled,
    Suspended,
}

impl Versioning {
    pub fn as_str(self) -> &'static str {
        match self {
            Versioning::Enabled => "Enabled",
            Versioning::Suspended => "Suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Enabled" => Some(Versioning::Enabled),
            "Suspended" => Some(Versioning::Suspended),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum TargetKind {
    Queue,
    Topic,
    Lambda,
}

/// One queue, topic or Lambda configuration of a bucket's notification configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotificationTarget {
    pub kind: TargetKind,
    pub id: String,
    pub arn: String,
    /// As configured, e.g. "s3:ObjectCreated:*".
    pub events: Vec<String>,
    /// Filter rules in the order given: ("Prefix" | "Suffix", value).
    #[serde(default)]
    pub rules: Vec<(String, String)>,
}

/// The event types a notification configuration may name.
const VALID_EVENTS: &[&str] = &[
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:Replication:OperationNotTracked",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
];

pub fn valid_event(e: &str) -> bool {
    VALID_EVENTS.contains(&e)
}

/// Does the configured event type `pattern` ("s3:ObjectCreated:*") cover the event
/// `name` ("ObjectCreated:Put")?
pub fn event_matches(pattern: &str, name: &str) -> bool {
    let Some(p) = pattern.strip_prefix("s3:") else { return false };
    match p.strip_suffix('*') {
        Some(family) => name.starts_with(family),
        None => p == name,
    }
}

impl NotificationTarget {
    /// The key prefix the filter names. Filter values are written URL-encoded ("If your
    /// prefix or suffix contains a space, you must replace it with the "+" character. If
    /// you use any other special characters ..., you must enter them in URL-encoded
    /// (percent-encoded) format"), so `my+photos/` selects keys under `my photos/`.
    pub fn prefix(&self) -> String {
        self.rule("Prefix")
    }

    pub fn suffix(&self) -> String {
        self.rule("Suffix")
    }

    fn rule(&self, name: &str) -> String {
        let value = self.rules.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("");
        percent_encoding::percent_decode_str(&value.replace('+', " ")).decode_utf8_lossy().into_owned()
    }

    pub fn matches(&self, event: &str, key: &str) -> bool {
        self.events.iter().any(|p| event_matches(p, event)) && key.starts_with(&self.prefix()) && key.ends_with(&self.suffix())
    }
}

/// Normalises and checks one configuration's filter rules; Err is the message of an
/// InvalidArgument.
pub fn normalise_rules(rules: Vec<(String, String)>) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in rules {
        let name = match name.to_ascii_lowercase().as_str() {
            "prefix" => "Prefix",
            "suffix" => "Suffix",
            _ => return Err("filter rule name must be either prefix or suffix".into()),
        };
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("Cannot specify more than one {} rule in a filter.", name.to_ascii_lowercase()));
        }
        if value.len() > 1024 {
            return Err("The filter value is too long".into());
        }
        out.push((name.to_string(), value));
    }
    Ok(out)
}

/// Two configurations overlap (AWS rejects that) when they share an event type and
/// a key could match both filters.
pub fn overlapping(a: &NotificationTarget, b: &NotificationTarget) -> bool {
    let shares_event = a.events.iter().any(|x| {
        b.events.iter().any(|y| {
            x == y || event_family_covers(x, y) || event_family_covers(y, x)
        })
    });
    if !shares_event {
        return false;
    }
    let (pa, pb) = (a.prefix(), b.prefix());
    let (sa, sb) = (a.suffix(), b.suffix());
    (pa.starts_with(&pb) || pb.starts_with(&pa)) && (sa.ends_with(&sb) || sb.ends_with(&sa))
}

fn event_family_covers(pattern: &str, other: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(family) => other.starts_with(family),
        None => false,
    }
}

/// Validates tags; `object` selects the object limits (10 tags) over the bucket's (50).
pub fn validate_tags(tags: &[(String, String)], object: bool) -> Result<(), String> {
    let limit = if object { 10 } else { 50 };
    if tags.len() > limit {
        return Err(if object {
            "Object tags cannot be greater than 10".into()
        } else {
            "Bucket tag count cannot be greater than 50".into()
        });
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 {
            return Err("The TagKey you have provided is invalid".into());
        }
        if v.chars().count() > 256 {
            return Err("The TagValue you have provided is invalid".into());
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err("System tags cannot be added/updated by requester".into());
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err("Cannot provide multiple Tags with the same key".into());
        }
    }
    Ok(())
}

/// The `x-amz-tagging` header: a URL query string `k1=v1&k2=v2`.
pub fn parse_tagging_header(s: &str) -> Result<Vec<(String, String)>, String> {
    let decode = |x: &str| -> Result<String, String> {
        let plus = x.replace('+', " ");
        percent_encoding::percent_decode_str(&plus)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.".to_string())
    };
    let mut out = Vec::new();
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

/// Checks a bucket policy document; Err is the MalformedPolicy message. S3 tells a
/// body that is not a JSON object at all ("...the first byte must be '{'") from one
/// that starts as one but does not parse ("This policy contains invalid Json").
pub fn validate_policy(policy: &str) -> Result<(), String> {
    const NOT_AN_OBJECT: &str = "Policies must be valid JSON and the first byte must be '{'";
    if !policy.trim_start().starts_with('{') {
        return Err(NOT_AN_OBJECT.into());
    }
    let doc: serde_json::Value = serde_json::from_str(policy).map_err(|_| "This policy contains invalid Json".to_string())?;
    let obj = doc.as_object().ok_or_else(|| NOT_AN_OBJECT.to_string())?;
    let statements = match obj.get("Statement") {
        None => return Err("Missing required field Statement".into()),
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(s @ serde_json::Value::Object(_)) => vec![s.clone()],
        Some(_) => return Err("Statement is not a valid JSON object or array".into()),
    };
    if statements.is_empty() {
        return Err("Could not parse the policy: Statement is empty!".into());
    }
    for st in &statements {
        let st = st.as_object().ok_or_else(|| "Statement is not a valid JSON object".to_string())?;
        match st.get("Effect").and_then(|e| e.as_str()) {
            Some("Allow") | Some("Deny") => {}
            Some(other) => return Err(format!("Invalid effect: {other}")),
            None => return Err("Missing required field Effect".into()),
        }
        if !st.contains_key("Action") && !st.contains_key("NotAction") {
            return Err("Missing required field Action".into());
        }
        if !st.contains_key("Principal") && !st.contains_key("NotPrincipal") {
            return Err("Missing required field Principal".into());
        }
        if !st.contains_key("Resource") && !st.contains_key("NotResource") {
            return Err("Missing required field Resource".into());
        }
        if let Some(cond) = st.get("Condition") {
            let ops = cond.as_object().ok_or_else(|| "Invalid policy syntax.".to_string())?;
            for (op, keys) in ops {
                if !crate::policy_eval::known_operator(op) {
                    return Err(format!("Invalid Condition type : {op}"));
                }
                if !keys.is_object() {
                    return Err("Invalid policy syntax.".into());
                }
            }
        }
    }
    Ok(())
}

/// One CORS rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CorsRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i32>,
}

pub fn validate_cors(rules: &[CorsRule]) -> Result<(), String> {
    if rules.is_empty() || rules.len() > 100 {
        return Err("The XML you provided was not well-formed or did not validate against our published schema".into());
    }
    for r in rules {
        if r.allowed_methods.is_empty() || r.allowed_origins.is_empty() {
            return Err("The XML you provided was not well-formed or did not validate against our published schema".into());
        }
        for m in &r.allowed_methods {
            if !["GET", "PUT", "HEAD", "POST", "DELETE"].contains(&m.as_str()) {
                return Err(format!("Found unsupported HTTP method in CORS config. Unsupported method is {m}"));
            }
        }
        for o in &r.allowed_origins {
            if o.matches('*').count() > 1 {
                return Err(format!("AllowedOrigin \"{o}\" can not have more than one wildcard."));
            }
        }
        for h in &r.allowed_headers {
            if h.matches('*').count() > 1 {
                return Err(format!("AllowedHeader \"{h}\" can not have more than one wildcard."));
            }
        }
    }
    Ok(())
}

/// Matches `value` against a pattern with at most one `*` wildcard.
fn wildcard(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let (p, v) = if case_insensitive { (pattern.to_ascii_lowercase(), value.to_ascii_lowercase()) } else { (pattern.to_string(), value.to_string()) };
    match p.split_once('*') {
        None => p == v,
        Some((head, tail)) => v.len() >= head.len() + tail.len() && v.starts_with(head) && v.ends_with(tail),
    }
}

impl CorsRule {
    pub fn origin_matches(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| wildcard(o, origin, false))
    }

    pub fn method_allowed(&self, method: &str) -> bool {
        self.allowed_methods.iter().any(|m| m == method)
    }

    pub fn header_allowed(&self, header: &str) -> bool {
        self.allowed_headers.iter().any(|h| wildcard(h, header, true))
    }

    /// "*" when the rule allows every origin, else the request's origin echoed.
    pub fn allow_origin(&self, origin: &str) -> String {
        if self.allowed_origins.iter().any(|o| o == "*") {
            "*".into()
        } else {
            origin.into()
        }
    }
}

/// The first rule allowing this origin, method and (preflight) request headers.
pub fn find_cors_rule<'a>(rules: &'a [CorsRule], origin: &str, method: &str, headers: &[String]) -> Option<&'a CorsRule> {
    rules.iter().find(|r| r.origin_matches(origin) && r.method_allowed(method) && headers.iter().all(|h| r.header_allowed(h)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(events: &[&str], rules: &[(&str, &str)]) -> NotificationTarget {
        NotificationTarget {
            kind: TargetKind::Queue,
            id: "c".into(),
            arn: "arn:aws:sqs:us-east-1:000000000000:q".into(),
            events: events.iter().map(|s| s.to_string()).collect(),
            rules: rules.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        }
    }

    #[test]
    fn events_and_filters() {
        assert!(event_matches("s3:ObjectCreated:*", "ObjectCreated:Put"));
        assert!(event_matches("s3:ObjectCreated:*", "ObjectCreated:CompleteMultipartUpload"));
        assert!(!event_matches("s3:ObjectCreated:*", "ObjectRemoved:Delete"));
        assert!(event_matches("s3:ObjectRemoved:Delete", "ObjectRemoved:Delete"));
        assert!(!event_matches("s3:ObjectCreated:Put", "ObjectCreated:Post"));
        let t = target(&["s3:ObjectCreated:*"], &[("Prefix", "images/"), ("Suffix", ".jpg")]);
        assert!(t.matches("ObjectCreated:Put", "images/a.jpg"));
        assert!(!t.matches("ObjectCreated:Put", "images/a.png"));
        assert!(!t.matches("ObjectCreated:Put", "docs/a.jpg"));
        assert!(!t.matches("ObjectRemoved:Delete", "images/a.jpg"));
        assert!(valid_event("s3:ObjectRemoved:DeleteMarkerCreated"));
        assert!(!valid_event("s3:ObjectCreated:Nope"));
    }

    #[test]
    fn rules_normalised() {
        let r = normalise_rules(vec![("prefix".into(), "a/".into()), ("SUFFIX".into(), ".x".into())]).unwrap();
        assert_eq!(r, vec![("Prefix".to_string(), "a/".to_string()), ("Suffix".to_string(), ".x".to_string())]);
        assert!(normalise_rules(vec![("prefix".into(), "a".into()), ("Prefix".into(), "b".into())]).is_err());
        assert!(normalise_rules(vec![("middle".into(), "a".into())]).is_err());
    }

    #[test]
    fn overlap() {
        let a = target(&["s3:ObjectCreated:*"], &[("Prefix", "images/")]);
        let b = target(&["s3:ObjectCreated:Put"], &[("Prefix", "images/thumbs/")]);
        let c = target(&["s3:ObjectCreated:Put"], &[("Prefix", "docs/")]);
        let d = target(&["s3:ObjectRemoved:*"], &[("Prefix", "images/")]);
        assert!(overlapping(&a, &b));
        assert!(!overlapping(&a, &c));
        assert!(!overlapping(&a, &d));
        let e = target(&["s3:ObjectCreated:*"], &[("Suffix", ".jpg")]);
        let f = target(&["s3:ObjectCreated:*"], &[("Suffix", ".png")]);
        assert!(!overlapping(&e, &f));
    }

    #[test]
    fn tags() {
        assert!(validate_tags(&[("a".into(), "1".into())], true).is_ok());
        assert!(validate_tags(&[("a".into(), "1".into()), ("a".into(), "2".into())], true).is_err());
        assert!(validate_tags(&[("aws:x".into(), "1".into())], false).is_err());
        let many: Vec<_> = (0..11).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(validate_tags(&many, true).is_err());
        assert!(validate_tags(&many, false).is_ok());
        assert_eq!(
            parse_tagging_header("a=1&b%20c=d+e&empty=").unwrap(),
            vec![("a".into(), "1".into()), ("b c".into(), "d e".into()), ("empty".into(), "".into())]
        );
    }

    #[test]
    fn policies() {
        assert!(validate_policy("nope").is_err());
        assert!(validate_policy("[1]").is_err());
        assert!(validate_policy(r#"{"Version":"2012-10-17"}"#).is_err());
        assert!(validate_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
        )
        .is_ok());
        let cond = |c: &str| {
            format!(r#"{{"Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{c}}}]}}"#)
        };
        assert!(validate_policy(&cond(r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)).is_ok());
        assert!(validate_policy(&cond(r#"{"IpAdress":{"aws:SourceIp":"10.0.0.0/8"}}"#)).is_err());
        assert!(validate_policy(&cond(r#"{"IpAddress":"x"}"#)).is_err());
        assert!(validate_policy(&cond(r#"[]"#)).is_err());
    }

    #[test]
    fn policy_messages() {
        let first_byte = "Policies must be valid JSON and the first byte must be '{'";
        assert_eq!(validate_policy("nope").unwrap_err(), first_byte);
        assert_eq!(validate_policy("[1]").unwrap_err(), first_byte);
        assert_eq!(validate_policy(r#"{"Statement": [}"#).unwrap_err(), "This policy contains invalid Json");
        assert_eq!(validate_policy(r#"{"Statement":[]}"#).unwrap_err(), "Could not parse the policy: Statement is empty!");
        let effect = r#"{"Statement":[{"Effect":"hello","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b"}]}"#;
        assert_eq!(validate_policy(effect).unwrap_err(), "Invalid effect: hello");
        let no_principal = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b"}]}"#;
        assert_eq!(validate_policy(no_principal).unwrap_err(), "Missing required field Principal");
    }

    #[test]
    fn configurations_from_before_ownership_keep_acls_and_no_block() {
        // What an older nimbus stored for a bucket: no ownership, no public access block.
        let old: BucketConfig = serde_json::from_str(r#"{"tags":[["a","b"]]}"#).unwrap();
        assert_eq!(old.ownership, None);
        assert_eq!(old.public_access_block, None);
        assert!(!old.acls_disabled());
        let new = BucketConfig { ownership: Some(ObjectOwnership::BucketOwnerEnforced), ..Default::default() };
        let back: BucketConfig = serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
        assert!(back.acls_disabled());
    }

    #[test]
    fn cors_matching() {
        let rules = vec![CorsRule {
            allowed_methods: vec!["PUT".into(), "GET".into()],
            allowed_origins: vec!["https://*.example.com".into()],
            allowed_headers: vec!["content-*".into(), "x-amz-date".into()],
            ..Default::default()
        }];
        assert!(find_cors_rule(&rules, "https://app.example.com", "PUT", &["Content-Type".into()]).is_some());
        assert!(find_cors_rule(&rules, "https://app.example.com", "DELETE", &[]).is_none());
        assert!(find_cors_rule(&rules, "https://evil.com", "PUT", &[]).is_none());
        assert!(find_cors_rule(&rules, "https://app.example.com", "PUT", &["authorization".into()]).is_none());
        assert!(validate_cors(&rules).is_ok());
        let bad = vec![CorsRule { allowed_methods: vec!["PATCH".into()], allowed_origins: vec!["*".into()], ..Default::default() }];
        assert!(validate_cors(&bad).is_err());
    }
}
