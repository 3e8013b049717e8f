//! Amazon CloudWatch Logs: log groups and streams, PutLogEvents, GetLogEvents and
//! FilterLogEvents (filter patterns), retention and tags, over awsJson 1.1.
//!
//! Groups, streams and events live in memory, indexed for reads; every change is
//! mirrored to SQLite through the store's group-committing writer before the client
//! hears of it. Other services (Lambda) write their logs through [`Target::call`].

mod errors;
mod filter;
mod filter_json;
mod model;
mod ops_events;
mod ops_groups;
mod ops_read;
mod ops_streams;
mod persist;
mod tokens;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use nimbus_core::targets::{Delivery, Target};
use nimbus_core::{now_millis, Arn, AwsError, RequestContext};
use nimbus_store::{Durability, Store};
use nimbus_wire::{ServiceHandler, ServiceModel, WireSpec};
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::model::Group;

const JSON_MODEL: &str = include_str!("../../../specs/logs/2014-03-28/service-2.json");

/// (account, region, log group name): sorted, so a range is one account's groups by name.
type GroupKey = (String, String, String);

pub struct Logs {
    spec: WireSpec,
    state: Arc<State>,
}

pub(crate) struct State {
    groups: RwLock<BTreeMap<GroupKey, Arc<Group>>>,
    store: Store,
    next_seq: AtomicU64,
}

impl Logs {
    /// Opens Logs' state under `data_dir` (or keeps it in memory when `None`) and
    /// starts its retention sweeper. Must run inside a tokio runtime.
    pub fn open(data_dir: Option<&Path>, durability: Durability) -> Result<Self, String> {
        let spec = WireSpec {
            signing_name: "logs",
            target_prefix: Some("Logs_20140328"),
            json_error_namespace: "com.amazonaws.logs",
            json: Some(ServiceModel::from_json(JSON_MODEL).map_err(|e| format!("Logs model: {e}"))?),
            query: None,
            host_prefixes: &["logs"],
            url_member: None,
            rest_json: None,
        };
        let (store, (groups, max_seq)) = match data_dir {
            Some(dir) => Store::open(dir, "logs", durability, persist::SCHEMA, persist::load)
                .map_err(|e| format!("Logs store: {e}"))?,
            None => (Store::in_memory(), (Vec::new(), 0)),
        };
        let map = groups
            .into_iter()
            .map(|g| ((g.account.clone(), g.region.clone(), g.name.clone()), g))
            .collect();
        let state = Arc::new(State { groups: RwLock::new(map), store, next_seq: AtomicU64::new(max_seq + 1) });
        tokio::spawn(retention_sweeper(Arc::downgrade(&state)));
        Ok(Logs { spec, state })
    }

    pub fn group_count(&self) -> usize {
        self.state.groups.read().len()
    }

    /// Waits until every acknowledged write is committed (clean shutdown).
    pub async fn flush(&self) {
        let _ = self.state.store.flush().await;
    }
}

pub(crate) fn input<T: DeserializeOwned>(v: Value) -> Result<T, AwsError> {
    serde_json::from_value(v).map_err(|e| AwsError::bad_request("SerializationException", e.to_string()))
}

pub(crate) fn empty() -> Value {
    Value::Object(Default::default())
}

#[async_trait]
impl ServiceHandler for Logs {
    fn spec(&self) -> &WireSpec {
        &self.spec
    }

    async fn call(&self, ctx: &RequestContext, operation: &str, v: Value) -> Result<Value, AwsError> {
        let s = &self.state;
        match operation {
            "CreateLogGroup" => s.create_log_group(ctx, input(v)?).await,
            "DeleteLogGroup" => s.delete_log_group(ctx, input(v)?).await,
            "DescribeLogGroups" => s.describe_log_groups(ctx, input(v)?),
            "PutRetentionPolicy" => s.put_retention_policy(ctx, input(v)?).await,
            "DeleteRetentionPolicy" => s.delete_retention_policy(ctx, input(v)?).await,
            "PutLogGroupDeletionProtection" => s.put_log_group_deletion_protection(ctx, input(v)?).await,
            "TagResource" => s.tag_resource(input(v)?).await,
            "UntagResource" => s.untag_resource(input(v)?).await,
            "ListTagsForResource" => s.list_tags_for_resource(input(v)?),
            "TagLogGroup" => s.tag_log_group(ctx, input(v)?).await,
            "UntagLogGroup" => s.untag_log_group(ctx, input(v)?).await,
            "ListTagsLogGroup" => s.list_tags_log_group(ctx, input(v)?),
            "CreateLogStream" => s.create_log_stream(ctx, input(v)?).await,
            "DeleteLogStream" => s.delete_log_stream(ctx, input(v)?).await,
            "DescribeLogStreams" => s.describe_log_streams(ctx, input(v)?),
            "PutLogEvents" => s.put_log_events(ctx, input(v)?).await,
            "GetLogEvents" => s.get_log_events(ctx, input(v)?),
            "FilterLogEvents" => s.filter_log_events(ctx, input(v)?),
            other => Err(AwsError::bad_request(
                "UnknownOperationException",
                format!("nimbus does not implement the CloudWatch Logs operation {other} yet"),
            )),
        }
    }
}

/// Other services call Logs' own operations with their JSON shapes: Lambda writes its
/// function logs with CreateLogGroup, CreateLogStream and PutLogEvents.
#[async_trait]
impl Target for Logs {
    async fn deliver(&self, arn: &Arn, _delivery: Delivery) -> Result<(), AwsError> {
        Err(AwsError::invalid_parameter(format!(
            "CloudWatch Logs takes no deliveries; call its operations instead ({arn})"
        )))
    }

    fn exists(&self, arn: &Arn) -> bool {
        self.state.group_by_arn(&arn.to_string()).is_ok()
    }

    async fn call(&self, ctx: &RequestContext, operation: &str, input: Value) -> Result<Value, AwsError> {
        ServiceHandler::call(self, ctx, operation, input).await
    }
}

impl State {
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    fn key(ctx: &RequestContext, name: &str) -> GroupKey {
        (ctx.account.clone(), ctx.region.clone(), name.to_string())
    }

    pub(crate) fn group(&self, ctx: &RequestContext, name: &str) -> Result<Arc<Group>, AwsError> {
        self.groups.read().get(&Self::key(ctx, name)).cloned().ok_or_else(errors::group_not_found)
    }

    /// A group's ARN as tagging takes it (`...:log-group:NAME`, `:*` tolerated).
    pub(crate) fn group_by_arn(&self, arn: &str) -> Result<Arc<Group>, AwsError> {
        let parsed = Arn::parse(arn)
            .filter(|a| a.service == "logs")
            .ok_or_else(|| errors::invalid_parameter(format!("Invalid ARN: {arn}")))?;
        let name = parsed
            .resource
            .strip_prefix("log-group:")
            .ok_or_else(|| errors::invalid_parameter(format!("Invalid resource ARN for a log group: {arn}")))?;
        let name = name.strip_suffix(":*").unwrap_or(name);
        let key = (parsed.account, parsed.region, name.to_string());
        self.groups.read().get(&key).cloned().ok_or_else(errors::group_not_found)
    }

    /// The group an operation names by `logGroupName` or `logGroupIdentifier` (a name
    /// or an ARN); exactly one of them must be given.
    pub(crate) fn group_named(
        &self,
        ctx: &RequestContext,
        name: Option<&str>,
        identifier: Option<&str>,
    ) -> Result<Arc<Group>, AwsError> {
        match (name, identifier) {
            (Some(n), None) => {
                validate::group_name(n, "logGroupName")?;
                self.group(ctx, n)
            }
            (None, Some(id)) if id.starts_with("arn:") => self.group_by_arn(id),
            (None, Some(id)) => self.group(ctx, id),
            (Some(_), Some(_)) => Err(errors::invalid_parameter(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            )),
            (None, None) => Err(errors::invalid_parameter("Should provide either name or identifier.")),
        }
    }
}

/// How often retention is enforced. AWS deletes expired events within days; a minute
/// keeps the database small without rewriting it constantly.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Drops events older than their group's retention period.
async fn retention_sweeper(state: std::sync::Weak<State>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        let Some(state) = state.upgrade() else { return };
        ops_groups::expire_all(&state, now_millis());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::targets::internal_context;
    use serde_json::json;

    fn tmpdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("nimbus-logs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[tokio::test]
    async fn lambda_style_calls_are_stored_and_reloaded() {
        let dir = tmpdir("reload");
        let ctx = internal_context("123456789012", "eu-west-1");
        let now = now_millis();
        {
            let logs = Logs::open(Some(&dir), Durability::Process).unwrap();
            let call = |op: &'static str, v: Value| {
                let (logs, ctx) = (&logs, &ctx);
                async move { Target::call(logs, ctx, op, v).await }
            };
            call("CreateLogGroup", json!({"logGroupName": "/aws/lambda/f"})).await.unwrap();
            let again = call("CreateLogGroup", json!({"logGroupName": "/aws/lambda/f"})).await.unwrap_err();
            assert_eq!(again.code, "ResourceAlreadyExistsException");
            call("CreateLogStream", json!({"logGroupName": "/aws/lambda/f", "logStreamName": "s"})).await.unwrap();
            let out = call(
                "PutLogEvents",
                json!({"logGroupName": "/aws/lambda/f", "logStreamName": "s",
                       "logEvents": [{"timestamp": now, "message": "START"}, {"timestamp": now + 1, "message": "END"}]}),
            )
            .await
            .unwrap();
            assert!(out["nextSequenceToken"].is_string());
            assert!(out.get("rejectedLogEventsInfo").is_none());
            let bad = call("PutLogEvents", json!({"logGroupName": "/aws/lambda/f", "logStreamName": "s", "logEvents": "x"}))
                .await
                .unwrap_err();
            assert_eq!(bad.code, "SerializationException");
            logs.flush().await;
        }
        let logs = Logs::open(Some(&dir), Durability::Process).unwrap();
        assert_eq!(logs.group_count(), 1);
        let got = Target::call(&logs, &ctx, "GetLogEvents", json!({"logGroupName": "/aws/lambda/f", "logStreamName": "s", "startFromHead": true}))
            .await
            .unwrap();
        let messages: Vec<&str> = got["events"].as_array().unwrap().iter().filter_map(|e| e["message"].as_str()).collect();
        assert_eq!(messages, ["START", "END"]);
        // another account sees nothing
        let other = internal_context("000000000000", "eu-west-1");
        let e = Target::call(&logs, &other, "DescribeLogStreams", json!({"logGroupName": "/aws/lambda/f"})).await.unwrap_err();
        assert_eq!(e.code, "ResourceNotFoundException");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
