//! A function's resource-based policy: AddPermission / RemovePermission / GetPolicy,
//! and the check other services' deliveries pass (S3 may invoke a function only when
//! the policy lets s3.amazonaws.com do so for that bucket).

use nimbus_core::resource_policy::{self, ServiceRequest};
use nimbus_core::{AwsError, RequestContext};
use serde_json::{json, Map, Value};

use crate::errors;
use crate::functions::{parse_ref, str_member, FunctionRecord};
use crate::State;

/// The policy's statements as AWS renders them.
fn statement(f: &FunctionRecord, qualifier: Option<&str>, v: &Value) -> Result<Value, AwsError> {
    let sid = str_member(v, "StatementId").ok_or_else(|| AwsError::missing_parameter("StatementId"))?;
    if sid.is_empty() || sid.len() > 100 || !sid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(errors::validation(format!(
            "1 validation error detected: Value '{sid}' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"
        )));
    }
    let action = str_member(v, "Action").ok_or_else(|| AwsError::missing_parameter("Action"))?;
    if !(action == "*" || action.starts_with("lambda:")) {
        return Err(errors::validation(format!(
            "1 validation error detected: Value '{action}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])"
        )));
    }
    let principal = str_member(v, "Principal").ok_or_else(|| AwsError::missing_parameter("Principal"))?;
    let principal_json = if principal == "*" {
        json!("*")
    } else if principal.ends_with(".amazonaws.com") || principal.ends_with(".amazonaws.com.cn") {
        json!({ "Service": principal })
    } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
    } else if principal.starts_with("arn:") {
        json!({ "AWS": principal })
    } else {
        return Err(errors::invalid_parameter(format!("The provided principal was invalid. Please check the principal and try again.: {principal}")));
    };
    let resource = resource_of(f, qualifier);
    let mut condition = Map::new();
    if let Some(account) = str_member(v, "SourceAccount") {
        condition.insert("StringEquals".into(), json!({ "AWS:SourceAccount": account }));
    }
    if let Some(arn) = str_member(v, "SourceArn") {
        condition.insert("ArnLike".into(), json!({ "AWS:SourceArn": arn }));
    }
    if let Some(org) = str_member(v, "PrincipalOrgID") {
        condition.insert("StringEquals".into(), json!({ "aws:PrincipalOrgID": org }));
    }
    let mut s = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal_json,
        "Action": action,
        "Resource": resource,
    });
    if let (false, Value::Object(m)) = (condition.is_empty(), &mut s) {
        m.insert("Condition".into(), Value::Object(condition));
    }
    Ok(s)
}

/// The statements of the policy on `resource` (the function's ARN, or a version's or
/// alias's: each qualifier has its own policy, as on AWS).
fn statements<'a>(f: &'a FunctionRecord, resource: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    f.policy.iter().filter(move |s| s.get("Resource").and_then(Value::as_str) == Some(resource))
}

fn resource_of(f: &FunctionRecord, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("{}:{q}", f.arn()),
        None => f.arn(),
    }
}

/// Whether the policy on `resource` lets the service `principal` invoke the function
/// for `source_arn` in `source_account`.
pub fn allows(f: &FunctionRecord, resource: &str, principal: &str, source_arn: &str, source_account: &str) -> bool {
    let policy = json!({ "Statement": statements(f, resource).cloned().collect::<Vec<_>>() });
    let req = ServiceRequest { principal, action: "lambda:InvokeFunction", resource, source_arn, source_account };
    resource_policy::allows(&policy, &req)
}

impl State {
    pub(crate) async fn add_permission(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let r = parse_ref(ctx, name, str_member(&v, "Qualifier"))?;
        self.function(&r)?; // the qualifier must exist
        let f = self.latest_of(&r)?;
        if let Some(rev) = str_member(&v, "RevisionId") {
            if rev != f.revision_id {
                return Err(errors::precondition_failed());
            }
        }
        let s = statement(&f, r.qualifier.as_deref(), &v)?;
        let sid = s["Sid"].as_str().unwrap_or_default().to_string();
        let resource = resource_of(&f, r.qualifier.as_deref());
        if statements(&f, &resource).any(|p| p.get("Sid").and_then(Value::as_str) == Some(sid.as_str())) {
            return Err(errors::conflict(format!(
                "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
            )));
        }
        let out = json!({ "Statement": s.to_string() });
        self.update_meta(&f, move |rec| rec.policy.push(s.clone())).await?;
        Ok(out)
    }

    pub(crate) async fn remove_permission(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let sid = str_member(&v, "StatementId").ok_or_else(|| AwsError::missing_parameter("StatementId"))?.to_string();
        let r = parse_ref(ctx, name, str_member(&v, "Qualifier"))?;
        self.function(&r)?;
        let f = self.latest_of(&r)?;
        let resource = resource_of(&f, r.qualifier.as_deref());
        if let Some(rev) = str_member(&v, "RevisionId") {
            if rev != f.revision_id {
                return Err(errors::precondition_failed());
            }
        }
        if !statements(&f, &resource).any(|p| p.get("Sid").and_then(Value::as_str) == Some(sid.as_str())) {
            return Err(AwsError::new(404, "ResourceNotFoundException", format!("Statement {sid} is not found in resource policy.")));
        }
        self.update_meta(&f, move |rec| {
            rec.policy.retain(|p| {
                !(p.get("Sid").and_then(Value::as_str) == Some(sid.as_str())
                    && p.get("Resource").and_then(Value::as_str) == Some(resource.as_str()))
            })
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) fn get_policy(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let r = parse_ref(ctx, name, str_member(&v, "Qualifier"))?;
        self.function(&r)?;
        let f = self.latest_of(&r)?;
        let resource = resource_of(&f, r.qualifier.as_deref());
        let mine: Vec<&Value> = statements(&f, &resource).collect();
        if mine.is_empty() {
            return Err(AwsError::new(404, "ResourceNotFoundException", "The resource you requested does not exist."));
        }
        let policy = json!({ "Version": "2012-10-17", "Id": "default", "Statement": mine });
        Ok(json!({ "Policy": policy.to_string(), "RevisionId": f.revision_id }))
    }
}
