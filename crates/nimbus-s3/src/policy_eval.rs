//! Evaluates a stored bucket policy for anonymous callers: does it let "everyone"
//! (`"Principal": "*"` or `{"AWS": "*"}`) perform an action on a resource? An
//! explicit Deny wins over any Allow; no matching statement is an implicit deny.
//!
//! Statements with a `Condition` are not evaluated: an Allow with one is not
//! counted (nimbus cannot prove the condition holds), a Deny with one is (the
//! safe side).

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

/// Evaluates `policy` for an anonymous caller doing `action` (e.g. "s3:GetObject")
/// on `resource` (e.g. "arn:aws:s3:::bucket/key").
pub fn evaluate_anonymous(policy: &str, action: &str, resource: &str) -> Decision {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else { return Decision::NotApplicable };
    let mut decision = Decision::NotApplicable;
    for st in statements(&doc) {
        if !principal_is_everyone(st) || !action_matches(st, action) || !resource_matches(st, resource) {
            continue;
        }
        match st.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Decision::Deny,
            Some("Allow") if st.get("Condition").is_none() => decision = Decision::Allow,
            _ => {}
        }
    }
    decision
}

/// A policy is public (what BlockPublicPolicy rejects) when an unconditional Allow
/// statement grants anything to everyone.
pub fn is_public(policy: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else { return false };
    statements(&doc).into_iter().any(|st| {
        st.get("Effect").and_then(Value::as_str) == Some("Allow") && st.get("Condition").is_none() && principal_is_everyone(st)
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
    fn not_action_and_conditions() {
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","Resource":"*"}]}"#;
        assert_eq!(evaluate_anonymous(policy, "s3:GetObject", "arn:aws:s3:::b/a"), Decision::Allow);
        assert_eq!(evaluate_anonymous(policy, "s3:DeleteObject", "arn:aws:s3:::b/a"), Decision::NotApplicable);
        let conditional = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
            "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
        assert_eq!(evaluate_anonymous(conditional, "s3:GetObject", "arn:aws:s3:::b/a"), Decision::NotApplicable);
        assert!(!is_public(conditional));
        assert_eq!(evaluate_anonymous("not json", "s3:GetObject", "arn:aws:s3:::b/a"), Decision::NotApplicable);
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
