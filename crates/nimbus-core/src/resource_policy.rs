//! Resource policies (a queue's `Policy`, a function's permissions) judged for a
//! request one AWS service makes for one of its resources: may `s3.amazonaws.com`,
//! acting for bucket `arn:aws:s3:::photos` in account 000000000000, call
//! `sqs:SendMessage` on this queue?
//!
//! IAM's rules, as far as such a request needs them: a statement applies when its
//! principal, action, resource and every condition match; an applying Deny wins over
//! any Allow; nothing applying is an implicit deny. Conditions know the keys such a
//! request carries, `aws:SourceArn` and `aws:SourceAccount`; a key the request does not
//! carry fails a condition unless the operator is negated or ends in `IfExists`.

use serde_json::Value;

/// What a service asks of a resource policy.
#[derive(Debug, Clone, Copy)]
pub struct ServiceRequest<'a> {
    /// The calling service's principal, e.g. "s3.amazonaws.com".
    pub principal: &'a str,
    /// e.g. "sqs:SendMessage".
    pub action: &'a str,
    /// The ARN of the resource the policy belongs to.
    pub resource: &'a str,
    /// The resource the service acts for (the bucket); empty when none.
    pub source_arn: &'a str,
    /// The account of that resource; empty when unknown.
    pub source_account: &'a str,
}

/// Whether `policy` (a policy document) allows the request.
pub fn allows(policy: &Value, req: &ServiceRequest) -> bool {
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(all)) => all.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let mut allowed = false;
    for s in statements.into_iter().filter(|s| applies(s, req)) {
        match s.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return false,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    allowed
}

fn applies(s: &Value, req: &ServiceRequest) -> bool {
    let principal = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(p), _) => principal_matches(p, req.principal),
        (None, Some(p)) => !principal_matches(p, req.principal),
        (None, None) => false,
    };
    let action = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), _) => strings(a).any(|p| glob(&p.to_ascii_lowercase(), &req.action.to_ascii_lowercase())),
        (None, Some(a)) => !strings(a).any(|p| glob(&p.to_ascii_lowercase(), &req.action.to_ascii_lowercase())),
        (None, None) => false,
    };
    let resource = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), _) => strings(r).any(|p| glob(p, req.resource)),
        (None, Some(r)) => !strings(r).any(|p| glob(p, req.resource)),
        (None, None) => true,
    };
    principal && action && resource && s.get("Condition").is_none_or(|c| conditions_hold(c, req))
}

/// `"*"`, `{"AWS": "*"}` (everyone, services included) or `{"Service": ...}` naming it.
fn principal_matches(p: &Value, principal: &str) -> bool {
    match p {
        Value::String(s) => s == "*",
        Value::Object(m) => {
            m.get("AWS").is_some_and(|a| strings(a).any(|s| s == "*"))
                || m.get("Service").is_some_and(|a| strings(a).any(|s| s.eq_ignore_ascii_case(principal)))
        }
        _ => false,
    }
}

/// A string or an array of strings, as policy elements are written.
fn strings(v: &Value) -> impl Iterator<Item = &str> {
    let all: Vec<&str> = match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    all.into_iter()
}

fn conditions_hold(c: &Value, req: &ServiceRequest) -> bool {
    let Value::Object(operators) = c else { return false };
    operators.iter().all(|(operator, keys)| {
        let Value::Object(keys) = keys else { return false };
        keys.iter().all(|(key, wanted)| condition_holds(operator, key, wanted, req))
    })
}

fn condition_holds(operator: &str, key: &str, wanted: &Value, req: &ServiceRequest) -> bool {
    let (operator, if_exists) = match operator.strip_suffix("IfExists") {
        Some(op) => (op, true),
        None => (operator, false),
    };
    let value = match key.to_ascii_lowercase().as_str() {
        "aws:sourcearn" => Some(req.source_arn),
        "aws:sourceaccount" => Some(req.source_account),
        _ => None,
    }
    .filter(|v| !v.is_empty());
    if operator == "Null" {
        // {"Null": {"aws:SourceArn": "true"}}: the key is absent.
        return strings(wanted).chain(wanted.as_bool().map(|b| if b { "true" } else { "false" })).all(|w| (w == "true") == value.is_none());
    }
    let negated = operator.contains("Not");
    let Some(value) = value else { return if_exists || negated };
    let matches = |w: &str| match operator {
        "StringEquals" | "StringNotEquals" => w == value,
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => w.eq_ignore_ascii_case(value),
        "StringLike" | "StringNotLike" | "ArnLike" | "ArnNotLike" | "ArnEquals" | "ArnNotEquals" => glob(w, value),
        _ => false,
    };
    let known = matches!(
        operator,
        "StringEquals"
            | "StringNotEquals"
            | "StringEqualsIgnoreCase"
            | "StringNotEqualsIgnoreCase"
            | "StringLike"
            | "StringNotLike"
            | "ArnLike"
            | "ArnNotLike"
            | "ArnEquals"
            | "ArnNotEquals"
    );
    known && (strings(wanted).any(matches) != negated)
}

/// IAM's wildcards: `*` any run of characters, `?` any one character.
pub fn glob(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const QUEUE: &str = "arn:aws:sqs:us-east-1:000000000000:jobs";

    /// S3 sending for `bucket_arn`.
    fn from_bucket(bucket_arn: &str) -> ServiceRequest<'_> {
        ServiceRequest {
            principal: "s3.amazonaws.com",
            action: "sqs:SendMessage",
            resource: QUEUE,
            source_arn: bucket_arn,
            source_account: "000000000000",
        }
    }

    const PHOTOS: &str = "arn:aws:s3:::photos";

    /// The policy of the S3 user guide's "Granting permissions to publish event
    /// notification messages to a destination".
    fn documented(bucket: &str) -> Value {
        json!({
            "Version": "2012-10-17",
            "Id": "example-ID",
            "Statement": [{
                "Sid": "example-statement-ID",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": ["SQS:SendMessage"],
                "Resource": QUEUE,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": format!("arn:aws:s3:*:*:{bucket}")},
                    "StringEquals": {"aws:SourceAccount": "000000000000"}
                }
            }]
        })
    }

    #[test]
    fn the_documented_policy_allows_its_bucket_only() {
        assert!(allows(&documented("photos"), &from_bucket(PHOTOS)));
        assert!(!allows(&documented("photos"), &from_bucket("arn:aws:s3:::other")));
        let mut elsewhere = from_bucket(PHOTOS);
        elsewhere.source_account = "111122223333";
        assert!(!allows(&documented("photos"), &elsewhere));
    }

    #[test]
    fn nothing_allowing_is_a_deny_and_a_deny_wins() {
        assert!(!allows(&json!({}), &from_bucket(PHOTOS)));
        let other_service = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:*", "Resource": "*"}});
        assert!(!allows(&other_service, &from_bucket(PHOTOS)));
        let open = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}});
        assert!(allows(&open, &from_bucket(PHOTOS)));
        let mut denied = documented("photos");
        denied["Statement"].as_array_mut().unwrap().push(json!({
            "Effect": "Deny", "Principal": {"Service": ["s3.amazonaws.com"]}, "Action": "SQS:Send*", "Resource": QUEUE
        }));
        assert!(!allows(&denied, &from_bucket(PHOTOS)));
    }

    #[test]
    fn conditions_on_keys_the_request_lacks() {
        let mut req = from_bucket(PHOTOS);
        req.source_account = "";
        let policy = |op: &str| json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": QUEUE,
            "Condition": {op: {"aws:SourceAccount": "000000000000"}}}});
        assert!(!allows(&policy("StringEquals"), &req));
        assert!(allows(&policy("StringEqualsIfExists"), &req));
        assert!(allows(&policy("StringNotEquals"), &req));
        assert!(!allows(&policy("NumericEquals"), &from_bucket(PHOTOS)), "an operator nimbus does not know never holds");
    }

    #[test]
    fn globs() {
        assert!(glob("arn:aws:s3:*:*:photos", "arn:aws:s3:::photos"));
        assert!(glob("a*b?d", "aXXbcd"));
        assert!(!glob("a*b?d", "aXXbd"));
        assert!(glob("*", ""));
        assert!(!glob("photos", "photos2"));
        assert!(glob("arn:aws:s3:::b?cket", "arn:aws:s3:::bucket"));
        assert!(!glob("arn:aws:s3:::other", "arn:aws:s3:::bucket"));
    }
}
