//! Evaluates a stored bucket policy for one request: does a statement whose
//! Principal, Action, Resource and Condition all match the request allow or deny
//! it? An explicit Deny wins over any Allow; no matching statement is an implicit
//! deny (Decision::NotApplicable).
//!
//! Conditions follow the IAM policy reference ("IAM JSON policy elements: Condition
//! operators"): several operators, and several keys under one operator, must all
//! hold (AND); several values for one key are alternatives (OR). A key missing from
//! the request makes a positive operator false and a negated one (StringNotEquals,
//! NotIpAddress, ...) true; `...IfExists` makes a missing key true; `Null` tests
//! presence; `ForAnyValue:` / `ForAllValues:` compare multi-valued keys.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::Value;

/// The outcome of evaluating a policy for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// An explicit Deny statement matched.
    Deny,
    /// No statement matched.
    NotApplicable,
}

/// Who is asking. nimbus's credentials stand for an account's root user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// An unsigned request (strict mode).
    Anonymous,
    /// The root user of this account.
    Account(&'a str),
}

/// The request context: condition key → values (a key absent here is missing).
/// Key names are case-insensitive, as in IAM.
#[derive(Debug, Clone, Default)]
pub struct Context {
    values: HashMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Adds a value to a multi-valued key.
    pub fn add(&mut self, key: &str, value: impl Into<String>) {
        self.values.entry(key.to_ascii_lowercase()).or_default().push(value.into());
    }

    fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(&key.to_ascii_lowercase()).map(Vec::as_slice).filter(|v| !v.is_empty())
    }
}

/// Evaluates `policy` for `caller` doing `action` (e.g. "s3:GetObject") on
/// `resource` (e.g. "arn:aws:s3:::bucket/key") in the request context `ctx`.
pub fn evaluate(policy: &str, caller: Caller<'_>, action: &str, resource: &str, ctx: &Context) -> Decision {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else { return Decision::NotApplicable };
    let mut decision = Decision::NotApplicable;
    for st in statements(&doc) {
        if !principal_matches(st, caller) || !action_matches(st, action) || !resource_matches(st, resource) {
            continue;
        }
        if !conditions_hold(st.get("Condition"), ctx) {
            continue;
        }
        match st.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Decision::Deny,
            Some("Allow") => decision = Decision::Allow,
            _ => {}
        }
    }
    decision
}

/// Evaluates `policy` for an anonymous caller with an empty request context.
#[cfg(test)]
pub fn evaluate_anonymous(policy: &str, action: &str, resource: &str) -> Decision {
    evaluate(policy, Caller::Anonymous, action, resource, &Context::new())
}

/// Is the policy public, as S3 defines it ("The meaning of public" in the S3 user
/// guide)? A policy is public when an Allow statement grants something to everyone
/// (`"*"`) without a condition that pins the request to fixed values: a set of
/// CIDRs in aws:SourceIp, or a fixed aws:SourceArn, aws:SourceVpc, aws:SourceVpce,
/// aws:SourceOwner, aws:SourceAccount, aws:PrincipalAccount, aws:PrincipalArn,
/// aws:PrincipalOrgID, aws:userid or s3:x-amz-server-side-encryption-aws-kms-key-id.
/// nimbus's reading of "a set of CIDRs": ranges no wider than /8 (IPv4) or /32 (IPv6).
pub fn is_public(policy: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else { return false };
    statements(&doc).into_iter().any(|st| {
        st.get("Effect").and_then(Value::as_str) == Some("Allow") && principal_is_everyone(st) && !pins_request(st.get("Condition"))
    })
}

const FIXED_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
];

/// Does some condition of a statement restrict it to fixed callers or addresses?
fn pins_request(cond: Option<&Value>) -> bool {
    let Some(ops) = cond.and_then(Value::as_object) else { return false };
    ops.iter().any(|(op_name, keys)| {
        let Some(op) = Op::parse(op_name) else { return false };
        if op.negated || op.if_exists || op.set.is_some() {
            return false;
        }
        let Some(keys) = keys.as_object() else { return false };
        keys.iter().any(|(key, vals)| {
            let key = key.to_ascii_lowercase();
            let vals = values(vals);
            if vals.is_empty() {
                return false;
            }
            match op.base {
                Base::Ip => key == "aws:sourceip" && vals.iter().all(|v| parse_cidr(v).is_some_and(|(ip, len)| len >= if ip.is_ipv4() { 8 } else { 32 })),
                Base::StrEq | Base::StrEqIgnoreCase | Base::Arn => FIXED_KEYS.contains(&key.as_str()) && vals.iter().all(|v| !v.contains(['*', '?'])),
                Base::StrLike => FIXED_KEYS.contains(&key.as_str()) && vals.iter().all(|v| !v.contains(['*', '?'])),
                _ => false,
            }
        })
    })
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// `"*"`, `{"AWS": "*"}` or `{"AWS": ["*", ...]}`.
fn principal_is_everyone(st: &Value) -> bool {
    match st.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(o)) => match o.get("AWS") {
            Some(v) => strings(v).contains(&"*"),
            None => false,
        },
        _ => false,
    }
}

/// Does a Principal element name the caller? "*" names everyone, anonymous callers
/// included; an account id or `arn:aws:iam::<account>:root` names that account.
fn names_caller(principal: &Value, caller: Caller<'_>) -> bool {
    let aws: Vec<&str> = match principal {
        Value::String(s) if s == "*" => return true,
        Value::Object(o) => o.get("AWS").map(strings).unwrap_or_default(),
        _ => return false,
    };
    aws.iter().any(|p| {
        *p == "*"
            || match caller {
                Caller::Anonymous => false,
                Caller::Account(account) => *p == account || *p == format!("arn:aws:iam::{account}:root"),
            }
    })
}

fn principal_matches(st: &Value, caller: Caller<'_>) -> bool {
    match (st.get("Principal"), st.get("NotPrincipal")) {
        (Some(p), _) => names_caller(p, caller),
        (None, Some(n)) => !names_caller(n, caller),
        (None, None) => false,
    }
}

fn action_matches(st: &Value, action: &str) -> bool {
    let any = |v: &Value| strings(v).iter().any(|p| glob(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()));
    match (st.get("Action"), st.get("NotAction")) {
        (Some(a), _) => any(a),
        (None, Some(n)) => !any(n),
        (None, None) => false,
    }
}

fn resource_matches(st: &Value, resource: &str) -> bool {
    let any = |v: &Value| strings(v).iter().any(|p| glob(p, resource));
    match (st.get("Resource"), st.get("NotResource")) {
        (Some(r), _) => any(r),
        (None, Some(n)) => !any(n),
        (None, None) => false,
    }
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A condition's values as strings (policies may write numbers and booleans bare).
fn values(v: &Value) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match v {
        Value::Array(a) => a.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    StrEq,
    StrEqIgnoreCase,
    StrLike,
    Num(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// A condition operator, e.g. `ForAllValues:StringNotLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Op {
    set: Option<SetQualifier>,
    base: Base,
    negated: bool,
    if_exists: bool,
}

impl Op {
    fn parse(name: &str) -> Option<Op> {
        let lower = name.to_ascii_lowercase();
        let (set, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = lower.strip_prefix("forallvalues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, lower.as_str())
        };
        let (if_exists, rest) = match rest.strip_suffix("ifexists") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (base, negated) = match rest {
            "stringequals" => (Base::StrEq, false),
            "stringnotequals" => (Base::StrEq, true),
            "stringequalsignorecase" => (Base::StrEqIgnoreCase, false),
            "stringnotequalsignorecase" => (Base::StrEqIgnoreCase, true),
            "stringlike" => (Base::StrLike, false),
            "stringnotlike" => (Base::StrLike, true),
            "numericequals" => (Base::Num(Cmp::Eq), false),
            "numericnotequals" => (Base::Num(Cmp::Eq), true),
            "numericlessthan" => (Base::Num(Cmp::Lt), false),
            "numericlessthanequals" => (Base::Num(Cmp::Le), false),
            "numericgreaterthan" => (Base::Num(Cmp::Gt), false),
            "numericgreaterthanequals" => (Base::Num(Cmp::Ge), false),
            "dateequals" => (Base::Date(Cmp::Eq), false),
            "datenotequals" => (Base::Date(Cmp::Eq), true),
            "datelessthan" => (Base::Date(Cmp::Lt), false),
            "datelessthanequals" => (Base::Date(Cmp::Le), false),
            "dategreaterthan" => (Base::Date(Cmp::Gt), false),
            "dategreaterthanequals" => (Base::Date(Cmp::Ge), false),
            "bool" => (Base::Bool, false),
            "binaryequals" => (Base::Binary, false),
            "ipaddress" => (Base::Ip, false),
            "notipaddress" => (Base::Ip, true),
            "arnequals" | "arnlike" => (Base::Arn, false),
            "arnnotequals" | "arnnotlike" => (Base::Arn, true),
            "null" if !if_exists && set.is_none() => (Base::Null, false),
            _ => return None,
        };
        Some(Op { set, base, negated, if_exists })
    }
}

/// Is `name` a condition operator IAM knows? (PutBucketPolicy refuses others.)
pub fn known_operator(name: &str) -> bool {
    Op::parse(name).is_some()
}

/// Do all of a statement's conditions hold? (No Condition element: yes.)
pub fn conditions_hold(cond: Option<&Value>, ctx: &Context) -> bool {
    let Some(cond) = cond else { return true };
    let Some(ops) = cond.as_object() else { return false };
    ops.iter().all(|(name, keys)| {
        let (Some(op), Some(keys)) = (Op::parse(name), keys.as_object()) else { return false };
        keys.iter().all(|(key, vals)| condition_holds(op, ctx.get(key), &values(vals)))
    })
}

fn condition_holds(op: Op, request: Option<&[String]>, policy: &[String]) -> bool {
    if op.base == Base::Null {
        let present = request.is_some();
        return policy.iter().any(|v| if v.eq_ignore_ascii_case("true") { !present } else { v.eq_ignore_ascii_case("false") && present });
    }
    let Some(request) = request else {
        return match op.set {
            _ if op.if_exists => true,
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => false,
            None => op.negated,
        };
    };
    let one = |v: &String| {
        let hit = policy.iter().any(|p| matches(op.base, v, p));
        hit != op.negated
    };
    match op.set {
        Some(SetQualifier::ForAllValues) => request.iter().all(one),
        // A single-valued key has one value; several values without a qualifier
        // are compared as ForAnyValue.
        Some(SetQualifier::ForAnyValue) | None => request.iter().any(one),
    }
}

/// Does the request's `value` match the policy's `pattern` under `base`?
fn matches(base: Base, value: &str, pattern: &str) -> bool {
    match base {
        Base::StrEq | Base::Binary => value == pattern,
        Base::StrEqIgnoreCase => value.to_lowercase() == pattern.to_lowercase(),
        Base::StrLike => glob(pattern, value),
        Base::Num(cmp) => match (value.trim().parse::<f64>(), pattern.trim().parse::<f64>()) {
            (Ok(a), Ok(b)) => cmp.holds(a, b),
            _ => false,
        },
        Base::Date(cmp) => match (parse_date(value), parse_date(pattern)) {
            (Some(a), Some(b)) => cmp.holds(a, b),
            _ => false,
        },
        Base::Bool => value.eq_ignore_ascii_case(pattern.trim()),
        Base::Ip => match (value.parse::<IpAddr>(), parse_cidr(pattern)) {
            (Ok(ip), Some((net, len))) => cidr_contains(net, len, ip),
            _ => false,
        },
        Base::Arn => arn_like(pattern, value),
        Base::Null => false,
    }
}

/// An ISO 8601 date/time (`2024-01-01T00:00:00Z`, `2024-01-01`) or epoch seconds, as
/// seconds since the epoch.
fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let parse = |t: &str| s3s::dto::Timestamp::parse(s3s::dto::TimestampFormat::DateTime, t).ok();
    let ts = parse(s).or_else(|| parse(&format!("{s}T00:00:00Z")))?;
    let t = time::OffsetDateTime::from(ts);
    Some(t.unix_timestamp() as f64 + f64::from(t.millisecond()) / 1000.0)
}

/// `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128).
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((ip, len))
}

fn cidr_contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (net.to_canonical(), ip.to_canonical()) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len.min(32))) };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len.min(128))) };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// ArnEquals / ArnLike: each of the six colon-separated parts matched on its own,
/// with `*` and `?` wildcards.
fn arn_like(pattern: &str, value: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let v: Vec<&str> = value.splitn(6, ':').collect();
    if p.len() == 1 && p[0] == "*" {
        return true;
    }
    p.len() == 6 && v.len() == 6 && p.iter().zip(&v).all(|(p, v)| glob(p, v))
}

/// IAM wildcard matching: `*` is any run of characters, `?` any one character.
fn glob(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, vi));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == v[vi] => {
                pi += 1;
                vi += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    pi = sp + 1;
                    vi = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicReadGetObject","Effect":"Allow",
        "Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::site/*"]}]}"#;

    #[test]
    fn public_read_policy_allows_objects_only() {
        assert_eq!(evaluate_anonymous(PUBLIC_READ, "s3:GetObject", "arn:aws:s3:::site/index.html"), Decision::Allow);
        assert_eq!(evaluate_anonymous(PUBLIC_READ, "s3:GetObject", "arn:aws:s3:::other/index.html"), Decision::NotApplicable);
        assert_eq!(evaluate_anonymous(PUBLIC_READ, "s3:PutObject", "arn:aws:s3:::site/index.html"), Decision::NotApplicable);
        assert_eq!(evaluate_anonymous(PUBLIC_READ, "s3:ListBucket", "arn:aws:s3:::site"), Decision::NotApplicable);
        assert!(is_public(PUBLIC_READ));
    }

    #[test]
    fn principal_forms() {
        let p = |principal: &str| {
            format!(r#"{{"Statement":{{"Effect":"Allow","Principal":{principal},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}}}}"#)
        };
        for everyone in [r#""*""#, r#"{"AWS":"*"}"#, r#"{"AWS":["arn:aws:iam::1:root","*"]}"#] {
            assert_eq!(evaluate_anonymous(&p(everyone), "s3:GetObject", "arn:aws:s3:::b/k"), Decision::Allow, "{everyone}");
        }
        for someone in [r#"{"AWS":"arn:aws:iam::123456789012:root"}"#, r#"{"Service":"*"}"#] {
            assert_eq!(evaluate_anonymous(&p(someone), "s3:GetObject", "arn:aws:s3:::b/k"), Decision::NotApplicable);
            assert!(!is_public(&p(someone)));
        }
        let ctx = Context::new();
        let acct = p(r#"{"AWS":"arn:aws:iam::123456789012:root"}"#);
        assert_eq!(evaluate(&acct, Caller::Account("123456789012"), "s3:GetObject", "arn:aws:s3:::b/k", &ctx), Decision::Allow);
        assert_eq!(evaluate(&acct, Caller::Account("111111111111"), "s3:GetObject", "arn:aws:s3:::b/k", &ctx), Decision::NotApplicable);
        let bare = p(r#"{"AWS":["123456789012"]}"#);
        assert_eq!(evaluate(&bare, Caller::Account("123456789012"), "s3:GetObject", "arn:aws:s3:::b/k", &ctx), Decision::Allow);
        let user = p(r#"{"AWS":"arn:aws:iam::123456789012:user/alice"}"#);
        assert_eq!(evaluate(&user, Caller::Account("123456789012"), "s3:GetObject", "arn:aws:s3:::b/k", &ctx), Decision::NotApplicable);
        let not = r#"{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"*"}}"#;
        assert_eq!(evaluate(not, Caller::Account("123456789012"), "s3:GetObject", "arn:aws:s3:::b/k", &ctx), Decision::NotApplicable);
        assert_eq!(evaluate(not, Caller::Account("111111111111"), "s3:GetObject", "arn:aws:s3:::b/k", &ctx), Decision::Deny);
        assert_eq!(evaluate(not, Caller::Anonymous, "s3:GetObject", "arn:aws:s3:::b/k", &ctx), Decision::Deny);
    }

    #[test]
    fn deny_wins() {
        let policy = r#"{"Statement":[
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:Get*","Resource":"arn:aws:s3:::b/private/*"}]}"#;
        assert_eq!(evaluate_anonymous(policy, "s3:GetObject", "arn:aws:s3:::b/public/a"), Decision::Allow);
        assert_eq!(evaluate_anonymous(policy, "s3:GetObject", "arn:aws:s3:::b/private/a"), Decision::Deny);
    }

    #[test]
    fn not_action() {
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","Resource":"*"}]}"#;
        assert_eq!(evaluate_anonymous(policy, "s3:GetObject", "arn:aws:s3:::b/a"), Decision::Allow);
        assert_eq!(evaluate_anonymous(policy, "s3:DeleteObject", "arn:aws:s3:::b/a"), Decision::NotApplicable);
        assert_eq!(evaluate_anonymous("not json", "s3:GetObject", "arn:aws:s3:::b/a"), Decision::NotApplicable);
    }

    fn holds(cond: &str, ctx: &Context) -> bool {
        let v: Value = serde_json::from_str(cond).unwrap();
        conditions_hold(Some(&v), ctx)
    }

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        let mut c = Context::new();
        for (k, v) in pairs {
            c.add(k, *v);
        }
        c
    }

    #[test]
    fn string_operators() {
        let c = ctx(&[("s3:prefix", "home/alice/"), ("aws:UserAgent", "Boto3/1.0")]);
        assert!(holds(r#"{"StringEquals":{"s3:prefix":"home/alice/"}}"#, &c));
        assert!(holds(r#"{"StringEquals":{"S3:Prefix":["x","home/alice/"]}}"#, &c), "key names are case-insensitive; values OR");
        assert!(!holds(r#"{"StringEquals":{"s3:prefix":"HOME/alice/"}}"#, &c));
        assert!(holds(r#"{"StringEqualsIgnoreCase":{"s3:prefix":"HOME/ALICE/"}}"#, &c));
        assert!(!holds(r#"{"StringNotEqualsIgnoreCase":{"s3:prefix":"HOME/ALICE/"}}"#, &c));
        assert!(holds(r#"{"StringNotEquals":{"s3:prefix":["a","b"]}}"#, &c));
        assert!(!holds(r#"{"StringNotEquals":{"s3:prefix":["a","home/alice/"]}}"#, &c));
        assert!(holds(r#"{"StringLike":{"s3:prefix":"home/*/"}}"#, &c));
        assert!(holds(r#"{"StringLike":{"s3:prefix":"home/?lice/"}}"#, &c));
        assert!(!holds(r#"{"StringLike":{"s3:prefix":"docs/*"}}"#, &c));
        assert!(holds(r#"{"StringNotLike":{"s3:prefix":"docs/*"}}"#, &c));
        // Keys AND: one failing key fails the block.
        assert!(!holds(r#"{"StringLike":{"s3:prefix":"home/*","aws:UserAgent":"curl*"}}"#, &c));
        assert!(holds(r#"{"StringLike":{"s3:prefix":"home/*","aws:UserAgent":"Boto3*"}}"#, &c));
        // Operators AND too.
        assert!(!holds(r#"{"StringLike":{"s3:prefix":"home/*"},"StringEquals":{"aws:UserAgent":"x"}}"#, &c));
    }

    #[test]
    fn missing_keys_if_exists_and_null() {
        let c = ctx(&[("aws:SourceIp", "10.1.2.3")]);
        assert!(!holds(r#"{"StringEquals":{"aws:Referer":"x"}}"#, &c), "positive operator, missing key: false");
        assert!(holds(r#"{"StringNotEquals":{"aws:Referer":"x"}}"#, &c), "negated operator, missing key: true");
        assert!(!holds(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}"#, &c));
        assert!(holds(r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}"#, &c));
        assert!(holds(r#"{"StringEqualsIfExists":{"aws:Referer":"x"}}"#, &c));
        assert!(!holds(r#"{"IpAddressIfExists":{"aws:SourceIp":"192.168.0.0/16"}}"#, &c), "IfExists still checks a present key");
        assert!(holds(r#"{"Null":{"aws:Referer":"true"}}"#, &c));
        assert!(!holds(r#"{"Null":{"aws:Referer":"false"}}"#, &c));
        assert!(holds(r#"{"Null":{"aws:SourceIp":"false"}}"#, &c));
        assert!(holds(r#"{"Null":{"aws:SourceIp":false}}"#, &c), "bare JSON booleans");
        assert!(!holds(r#"{"NoSuchOperator":{"aws:SourceIp":"x"}}"#, &c), "an unknown operator never holds");
        assert!(!holds(r#"[]"#, &c));
    }

    #[test]
    fn numeric_date_bool() {
        let c = ctx(&[
            ("s3:max-keys", "10"),
            ("aws:CurrentTime", "2024-06-01T12:00:00Z"),
            ("aws:EpochTime", "1717243200"),
            ("aws:SecureTransport", "false"),
        ]);
        assert!(holds(r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#, &c));
        assert!(holds(r#"{"NumericLessThanEquals":{"s3:max-keys":10}}"#, &c));
        assert!(!holds(r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#, &c));
        assert!(holds(r#"{"NumericGreaterThan":{"s3:max-keys":"9.5"}}"#, &c));
        assert!(holds(r#"{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}"#, &c));
        assert!(holds(r#"{"NumericEquals":{"s3:max-keys":"10"}}"#, &c));
        assert!(holds(r#"{"NumericNotEquals":{"s3:max-keys":"11"}}"#, &c));
        assert!(!holds(r#"{"NumericEquals":{"s3:max-keys":"ten"}}"#, &c));
        assert!(holds(r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}"#, &c));
        assert!(holds(r#"{"DateLessThan":{"aws:CurrentTime":"2025-01-01"}}"#, &c));
        assert!(holds(r#"{"DateEquals":{"aws:EpochTime":"2024-06-01T12:00:00Z"}}"#, &c));
        assert!(holds(r#"{"DateLessThanEquals":{"aws:CurrentTime":"1717243200"}}"#, &c));
        assert!(!holds(r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-06-01T12:00:00.001Z"}}"#, &c));
        assert!(holds(r#"{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#, &c));
        assert!(holds(r#"{"Bool":{"aws:SecureTransport":"false"}}"#, &c));
        assert!(holds(r#"{"Bool":{"aws:SecureTransport":false}}"#, &c));
        assert!(!holds(r#"{"Bool":{"aws:SecureTransport":"true"}}"#, &c));
    }

    #[test]
    fn ip_addresses() {
        let v4 = ctx(&[("aws:SourceIp", "192.168.1.20")]);
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"192.168.1.0/24"}}"#, &v4));
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#, &v4));
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"192.168.1.20"}}"#, &v4));
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#, &v4));
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"192.168.2.0/24"}}"#, &v4));
        assert!(holds(r#"{"NotIpAddress":{"aws:SourceIp":"192.168.2.0/24"}}"#, &v4));
        assert!(!holds(r#"{"NotIpAddress":{"aws:SourceIp":"192.168.0.0/16"}}"#, &v4));
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#, &v4));
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"not-an-ip"}}"#, &v4));
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"192.168.1.0/33"}}"#, &v4));
        let v6 = ctx(&[("aws:SourceIp", "2001:db8:85a3::8a2e:370:7334")]);
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#, &v6));
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"2001:db9::/32"}}"#, &v6));
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"::/0"}}"#, &v6));
        let mapped = ctx(&[("aws:SourceIp", "::ffff:127.0.0.1")]);
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}"#, &mapped));
    }

    #[test]
    fn arns_and_sets() {
        let c = ctx(&[("aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:topic")]);
        assert!(holds(r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:topic"}}"#, &c));
        assert!(holds(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012:*"}}"#, &c));
        assert!(!holds(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sqs:*:123456789012:*"}}"#, &c));
        assert!(holds(r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:other"}}"#, &c));
        assert!(!holds(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns"}}"#, &c));

        let tags = ctx(&[("aws:TagKeys", "env"), ("aws:TagKeys", "team")]);
        assert!(holds(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team","cost"]}}"#, &tags));
        assert!(!holds(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}"#, &tags));
        assert!(holds(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}"#, &tags));
        assert!(!holds(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["cost"]}}"#, &tags));
        assert!(holds(r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env"]}}"#, &tags));
        assert!(!holds(r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["env"]}}"#, &tags));
        assert!(holds(r#"{"ForAllValues:StringLike":{"aws:TagKeys":["*"]}}"#, &tags));
        let none = Context::new();
        assert!(holds(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}"#, &none), "ForAllValues over no values is true");
        assert!(!holds(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}"#, &none));
        assert!(holds(r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["env"]}}"#, &none));
    }

    #[test]
    fn conditions_in_statements() {
        let policy = r#"{"Statement":[
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
             "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
            {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*",
             "Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.1/32"]}}}]}"#;
        let inside = ctx(&[("aws:SourceIp", "10.9.9.9")]);
        let local = ctx(&[("aws:SourceIp", "127.0.0.1")]);
        let outside = ctx(&[("aws:SourceIp", "8.8.8.8")]);
        let get = |c: &Context| evaluate(policy, Caller::Anonymous, "s3:GetObject", "arn:aws:s3:::b/k", c);
        assert_eq!(get(&inside), Decision::Allow);
        assert_eq!(get(&local), Decision::NotApplicable);
        assert_eq!(get(&outside), Decision::Deny);
        assert_eq!(evaluate(policy, Caller::Account("1"), "s3:PutObject", "arn:aws:s3:::b/k", &outside), Decision::Deny);
        assert_eq!(evaluate(policy, Caller::Account("1"), "s3:PutObject", "arn:aws:s3:::b/k", &inside), Decision::NotApplicable);
    }

    #[test]
    fn public_means_unpinned() {
        let with = |cond: &str| {
            format!(r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{cond}}}]}}"#)
        };
        assert!(!is_public(&with(r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)));
        assert!(!is_public(&with(r#"{"IpAddress":{"aws:SourceIp":["192.168.1.0/24","2001:db8::/48"]}}"#)));
        assert!(is_public(&with(r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#)));
        assert!(is_public(&with(r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","0.0.0.0/1"]}}"#)));
        assert!(is_public(&with(r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)));
        assert!(!is_public(&with(r#"{"StringEquals":{"aws:SourceAccount":"123456789012"}}"#)));
        assert!(!is_public(&with(r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudfront::123456789012:distribution/E1"}}"#)));
        assert!(is_public(&with(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudfront::*:distribution/*"}}"#)));
        assert!(!is_public(&with(r#"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#)));
        assert!(is_public(&with(r#"{"StringLike":{"aws:Referer":"http://example.com/*"}}"#)), "Referer does not pin the caller");
        assert!(is_public(&with(r#"{"Bool":{"aws:SecureTransport":"true"}}"#)));
        let deny = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
        assert!(!is_public(deny));
    }

    #[test]
    fn operators_known() {
        for op in ["StringEquals", "ForAnyValue:StringLike", "ForAllValues:StringNotEqualsIfExists", "NumericLessThanIfExists", "Null", "ArnNotLike", "BinaryEquals", "DateGreaterThanEquals", "NotIpAddress", "Bool"] {
            assert!(known_operator(op), "{op}");
        }
        for op in ["StringEqual", "NullIfExists", "ForSomeValues:StringEquals", ""] {
            assert!(!known_operator(op), "{op}");
        }
    }

    #[test]
    fn wildcards() {
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c"));
        assert!(glob("arn:aws:s3:::b/*.html", "arn:aws:s3:::b/x/index.html"));
        assert!(!glob("arn:aws:s3:::b/*.html", "arn:aws:s3:::b/x/index.htm"));
        assert!(glob("arn:aws:s3:::b?/*", "arn:aws:s3:::b1/k"));
        assert!(!glob("arn:aws:s3:::b/*", "arn:aws:s3:::b"));
        assert!(glob("*", ""));
    }
}
