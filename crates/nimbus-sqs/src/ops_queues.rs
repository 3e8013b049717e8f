//! Queue operations: create, find, list, delete, purge, attributes, tags, permissions.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use nimbus_core::{now_millis, AwsError, RequestContext};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::attributes::{self, READ_ONLY};
use crate::errors;
use crate::persist::{self, QueueRow};
use crate::queue::Queue;
use crate::{empty, url, State};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateQueueInput {
    queue_name: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default, rename = "tags")]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueueUrlInput {
    queue_url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetQueueUrlInput {
    queue_name: String,
    #[serde(default, rename = "QueueOwnerAWSAccountId")]
    owner: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListQueuesInput {
    #[serde(default)]
    queue_name_prefix: Option<String>,
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSourcesInput {
    queue_url: String,
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetAttributesInput {
    queue_url: String,
    #[serde(default)]
    attribute_names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetAttributesInput {
    queue_url: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    queue_url: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagInput {
    queue_url: String,
    #[serde(default)]
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddPermissionInput {
    queue_url: String,
    label: String,
    #[serde(default, rename = "AWSAccountIds")]
    account_ids: Vec<String>,
    #[serde(default)]
    actions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemovePermissionInput {
    queue_url: String,
    label: String,
}

const PERMISSION_ACTIONS: &[&str] = &[
    "*",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "PurgeQueue",
    "ListQueueTags",
];

fn now_secs() -> u64 {
    now_millis() / 1000
}

fn valid_queue_name(name: &str, fifo: bool) -> bool {
    let base = if fifo { name.strip_suffix(".fifo") } else { Some(name) };
    let Some(base) = base else { return false };
    !base.is_empty()
        && name.len() <= 80
        && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), AwsError> {
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(AwsError::invalid_parameter(format!(
                "Tag keys must be 1 to 128 characters and values at most 256 characters: {k}"
            )));
        }
    }
    Ok(())
}

fn paginate(names: Vec<String>, next_token: Option<&str>, max: Option<i64>) -> Result<(Vec<String>, Option<String>), AwsError> {
    if let Some(m) = max {
        if !(1..=1000).contains(&m) {
            return Err(errors::invalid_parameter("MaxResults", &m.to_string(), "MaxResults must be an integer between 1 and 1000."));
        }
    }
    let start_after = match next_token {
        Some(t) if !t.is_empty() => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| AwsError::invalid_parameter("Invalid NextToken value."))?,
        ),
        _ => None,
    };
    let mut rest: Vec<String> = names.into_iter().filter(|n| start_after.as_ref().is_none_or(|s| n > s)).collect();
    let limit = max.unwrap_or(1000) as usize;
    let token = if max.is_some() && rest.len() > limit {
        rest.truncate(limit);
        rest.last().map(|l| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(l))
    } else {
        rest.truncate(limit);
        None
    };
    Ok((rest, token))
}

impl State {
    pub(crate) fn resolve(&self, ctx: &RequestContext, queue_url: &str) -> Result<Arc<Queue>, AwsError> {
        let (account, name) = url::parse(ctx, queue_url)?;
        self.queue(&account, &ctx.region, &name).ok_or_else(errors::queue_does_not_exist)
    }

    /// Checks a RedrivePolicy against the queues that exist.
    fn check_redrive_target(&self, source_arn: &str, fifo: bool, policy: &str) -> Result<(), AwsError> {
        if policy.is_empty() {
            return Ok(());
        }
        let (dlq_arn, _) = attributes::parse_redrive_policy(policy)?;
        let dlq = self
            .queue_by_arn(&dlq_arn)
            .ok_or_else(|| attributes::redrive_error(policy, "Dead letter target does not exist."))?;
        let dlq_inner = dlq.inner.lock();
        if dlq_inner.settings.fifo != fifo {
            return Err(attributes::redrive_error(policy, "Dead-letter queue must be same type of queue as the source."));
        }
        if !attributes::redrive_allowed(dlq_inner.attributes.get("RedriveAllowPolicy"), source_arn) {
            return Err(attributes::redrive_error(
                policy,
                "Dead-letter target's RedriveAllowPolicy does not allow this queue as a source.",
            ));
        }
        Ok(())
    }

    pub(crate) async fn create_queue(&self, ctx: &RequestContext, i: CreateQueueInput) -> Result<Value, AwsError> {
        let fifo = i.attributes.get("FifoQueue").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if !valid_queue_name(&i.queue_name, fifo) {
            return Err(AwsError::invalid_parameter(if fifo {
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
            } else {
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
            }));
        }
        let given = attributes::validate(&i.attributes, fifo, true)?;
        check_tags(&i.tags)?;
        if i.tags.len() > 50 {
            return Err(AwsError::invalid_parameter(format!("Too many tags added for queue {}.", i.queue_name)));
        }
        let key = (ctx.account.clone(), ctx.region.clone(), i.queue_name.clone());
        let url = url::queue_url(ctx, &ctx.account, &i.queue_name);
        if let Some(existing) = self.queues.read().get(&key).cloned() {
            let inner = existing.inner.lock();
            for (k, v) in &given {
                if inner.attributes.get(k) != Some(v) {
                    return Err(AwsError::bad_request(
                        "QueueNameExists",
                        format!("A queue already exists with the same name and a different value for attribute {k}"),
                    ));
                }
            }
            return Ok(json!({ "QueueUrl": url }));
        }
        {
            let now = now_millis();
            let mut deleted = self.recently_deleted.lock();
            deleted.retain(|_, at| now < *at + 60_000);
            if deleted.contains_key(&key) {
                return Err(AwsError::bad_request(
                    "QueueDeletedRecently",
                    "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
                ));
            }
        }
        let arn = format!("arn:aws:sqs:{}:{}:{}", ctx.region, ctx.account, i.queue_name);
        if let Some(p) = given.get("RedrivePolicy") {
            self.check_redrive_target(&arn, fifo, p)?;
        }
        let mut attrs = attributes::defaults(fifo);
        attrs.extend(given.into_iter().filter(|(_, v)| !v.is_empty()));
        let queue = Arc::new(Queue::new(&ctx.account, &ctx.region, &i.queue_name, now_secs(), attrs, i.tags));
        let row = {
            let mut queues = self.queues.write();
            if queues.contains_key(&key) {
                // Created concurrently with the same name: CreateQueue is idempotent.
                return Ok(json!({ "QueueUrl": url }));
            }
            queues.insert(key, queue.clone());
            let inner = queue.inner.lock();
            QueueRow::of(&queue, &inner)
        };
        self.save(row).await?;
        Ok(json!({ "QueueUrl": url }))
    }

    pub(crate) fn get_queue_url(&self, ctx: &RequestContext, i: GetQueueUrlInput) -> Result<Value, AwsError> {
        let account = i.owner.unwrap_or_else(|| ctx.account.clone());
        self.queue(&account, &ctx.region, &i.queue_name).ok_or_else(errors::queue_does_not_exist)?;
        Ok(json!({ "QueueUrl": url::queue_url(ctx, &account, &i.queue_name) }))
    }

    pub(crate) fn list_queues(&self, ctx: &RequestContext, i: ListQueuesInput) -> Result<Value, AwsError> {
        let prefix = i.queue_name_prefix.unwrap_or_default();
        let mut names: Vec<String> = self
            .queues
            .read()
            .keys()
            .filter(|(a, r, n)| *a == ctx.account && *r == ctx.region && n.starts_with(&prefix))
            .map(|(_, _, n)| n.clone())
            .collect();
        names.sort();
        let (page, token) = paginate(names, i.next_token.as_deref(), i.max_results)?;
        let mut out = Map::new();
        if !page.is_empty() {
            let urls: Vec<String> = page.iter().map(|n| url::queue_url(ctx, &ctx.account, n)).collect();
            out.insert("QueueUrls".into(), json!(urls));
        }
        if let Some(t) = token {
            out.insert("NextToken".into(), json!(t));
        }
        Ok(Value::Object(out))
    }

    pub(crate) async fn delete_queue(&self, ctx: &RequestContext, i: QueueUrlInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let key = (q.account.clone(), q.region.clone(), q.name.clone());
        self.queues.write().remove(&key);
        self.recently_deleted.lock().insert(key, now_millis());
        q.inner.lock().deleted = true;
        q.notify.notify_waiters();
        let arn = q.arn.clone();
        self.store.write(move |tx| persist::delete_queue(tx, &arn)).await.map_err(store_error)?;
        Ok(empty())
    }

    pub(crate) async fn purge_queue(&self, ctx: &RequestContext, i: QueueUrlInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let now = now_millis();
        let row = {
            let mut inner = q.inner.lock();
            if inner.last_purge_ms.is_some_and(|t| now < t + 60_000) {
                return Err(AwsError::new(
                    403,
                    "PurgeQueueInProgress",
                    format!("Only one PurgeQueue operation on {} is allowed every 60 seconds.", q.name),
                ));
            }
            inner.clear();
            inner.last_purge_ms = Some(now);
            QueueRow::of(&q, &inner)
        };
        self.store
            .write(move |tx| {
                persist::purge(tx, &row.arn)?;
                persist::save_queue(tx, &row)
            })
            .await
            .map_err(store_error)?;
        Ok(empty())
    }

    pub(crate) fn get_queue_attributes(&self, ctx: &RequestContext, i: GetAttributesInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let now = now_millis();
        let inner = q.inner.lock();
        let all = i.attribute_names.iter().any(|n| n == "All");
        for n in &i.attribute_names {
            let known = n == "All"
                || READ_ONLY.contains(&n.as_str())
                || inner.attributes.contains_key(n)
                || attributes::validate(&BTreeMap::from([(n.clone(), String::new())]), inner.settings.fifo, false)
                    .map_or_else(|e| e.code != "InvalidAttributeName", |_| true);
            if !known {
                return Err(errors::invalid_attribute_name(n));
            }
        }
        let want = |n: &str| all || i.attribute_names.iter().any(|w| w == n);
        let mut out = Map::new();
        let counts = if want("ApproximateNumberOfMessages")
            || want("ApproximateNumberOfMessagesNotVisible")
            || want("ApproximateNumberOfMessagesDelayed")
        {
            inner.counts(now)
        } else {
            Default::default()
        };
        let computed = [
            ("ApproximateNumberOfMessages", counts.visible.to_string()),
            ("ApproximateNumberOfMessagesNotVisible", counts.not_visible.to_string()),
            ("ApproximateNumberOfMessagesDelayed", counts.delayed.to_string()),
            ("CreatedTimestamp", q.created_secs.to_string()),
            ("LastModifiedTimestamp", inner.modified_secs.to_string()),
            ("QueueArn", q.arn.clone()),
        ];
        let mut merged: BTreeMap<String, String> = inner.attributes.clone();
        merged.extend(computed.into_iter().map(|(k, v)| (k.to_string(), v)));
        for (k, v) in merged {
            if want(&k) {
                out.insert(k, Value::String(v));
            }
        }
        if out.is_empty() {
            return Ok(empty());
        }
        Ok(json!({ "Attributes": out }))
    }

    pub(crate) async fn set_queue_attributes(&self, ctx: &RequestContext, i: SetAttributesInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let fifo = q.inner.lock().settings.fifo;
        let given = attributes::validate(&i.attributes, fifo, false)?;
        if let Some(p) = given.get("RedrivePolicy") {
            self.check_redrive_target(&q.arn, fifo, p)?;
        }
        let row = {
            let mut inner = q.inner.lock();
            let mut attrs = inner.attributes.clone();
            for (k, v) in given {
                if v.is_empty() && matches!(k.as_str(), "Policy" | "RedrivePolicy" | "RedriveAllowPolicy" | "KmsMasterKeyId") {
                    attrs.remove(&k);
                } else {
                    attrs.insert(k, v);
                }
            }
            let retention_changed = attrs.get("MessageRetentionPeriod") != inner.attributes.get("MessageRetentionPeriod");
            inner.set_attributes(attrs);
            if retention_changed {
                inner.reindex_expiry();
            }
            inner.modified_secs = now_secs();
            QueueRow::of(&q, &inner)
        };
        q.notify.notify_waiters();
        self.save(row).await?;
        Ok(empty())
    }

    pub(crate) fn list_dead_letter_source_queues(&self, ctx: &RequestContext, i: ListSourcesInput) -> Result<Value, AwsError> {
        let dlq = self.resolve(ctx, &i.queue_url)?;
        let mut names: Vec<String> = Vec::new();
        for ((account, region, name), q) in self.queues.read().iter() {
            if *account != dlq.account || *region != dlq.region {
                continue;
            }
            let inner = q.inner.lock();
            if inner.settings.redrive.as_ref().is_some_and(|(arn, _)| *arn == dlq.arn) {
                names.push(name.clone());
            }
        }
        names.sort();
        let (page, token) = paginate(names, i.next_token.as_deref(), i.max_results)?;
        let urls: Vec<String> = page.iter().map(|n| url::queue_url(ctx, &dlq.account, n)).collect();
        let mut out = Map::new();
        out.insert("queueUrls".into(), json!(urls));
        if let Some(t) = token {
            out.insert("NextToken".into(), json!(t));
        }
        Ok(Value::Object(out))
    }

    async fn save(&self, row: QueueRow) -> Result<(), AwsError> {
        self.store.write(move |tx| persist::save_queue(tx, &row)).await.map_err(store_error)
    }

    pub(crate) async fn tag_queue(&self, ctx: &RequestContext, i: TagInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        if i.tags.is_empty() {
            return Err(AwsError::invalid_parameter("The request must contain at least one tag."));
        }
        check_tags(&i.tags)?;
        let row = {
            let mut inner = q.inner.lock();
            let mut tags = inner.tags.clone();
            tags.extend(i.tags);
            if tags.len() > 50 {
                return Err(AwsError::invalid_parameter(format!("Too many tags added for queue {}.", q.name)));
            }
            inner.tags = tags;
            QueueRow::of(&q, &inner)
        };
        self.save(row).await?;
        Ok(empty())
    }

    pub(crate) async fn untag_queue(&self, ctx: &RequestContext, i: UntagInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        if i.tag_keys.is_empty() {
            return Err(AwsError::invalid_parameter("The request must contain at least one tag key."));
        }
        let row = {
            let mut inner = q.inner.lock();
            for k in &i.tag_keys {
                inner.tags.remove(k);
            }
            QueueRow::of(&q, &inner)
        };
        self.save(row).await?;
        Ok(empty())
    }

    pub(crate) fn list_queue_tags(&self, ctx: &RequestContext, i: QueueUrlInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let inner = q.inner.lock();
        if inner.tags.is_empty() {
            return Ok(empty());
        }
        Ok(json!({ "Tags": inner.tags }))
    }

    pub(crate) async fn add_permission(&self, ctx: &RequestContext, i: AddPermissionInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        if i.label.is_empty()
            || i.label.len() > 80
            || !i.label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(errors::invalid_parameter("Label", &i.label, "Label must be 1 to 80 alphanumeric characters, hyphens or underscores."));
        }
        if i.account_ids.is_empty() {
            return Err(AwsError::missing_parameter("AWSAccountIds"));
        }
        if i.actions.is_empty() {
            return Err(AwsError::missing_parameter("Actions"));
        }
        for a in &i.actions {
            if !PERMISSION_ACTIONS.contains(&a.as_str()) {
                return Err(errors::invalid_parameter(
                    "ActionName",
                    &format!("SQS:{a}"),
                    "Please refer to the appropriate WSDL for a list of valid actions.",
                ));
            }
        }
        let row = {
            let mut inner = q.inner.lock();
            let mut policy = policy_document(inner.attributes.get("Policy"), &q.arn);
            let statements = policy["Statement"].as_array_mut().ok_or_else(|| AwsError::internal("bad policy"))?;
            if statements.iter().any(|s| s["Sid"] == i.label.as_str()) {
                return Err(errors::invalid_parameter("Label", &i.label, "Already exists."));
            }
            let principals: Vec<String> = i.account_ids.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
            let actions: Vec<String> = i.actions.iter().map(|a| format!("SQS:{a}")).collect();
            statements.push(json!({
                "Sid": i.label,
                "Effect": "Allow",
                "Principal": {"AWS": if principals.len() == 1 { json!(principals[0]) } else { json!(principals) }},
                "Action": if actions.len() == 1 { json!(actions[0]) } else { json!(actions) },
                "Resource": q.arn,
            }));
            let mut attrs = inner.attributes.clone();
            attrs.insert("Policy".into(), policy.to_string());
            inner.set_attributes(attrs);
            inner.modified_secs = now_secs();
            QueueRow::of(&q, &inner)
        };
        self.save(row).await?;
        Ok(empty())
    }

    pub(crate) async fn remove_permission(&self, ctx: &RequestContext, i: RemovePermissionInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let row = {
            let mut inner = q.inner.lock();
            let mut policy = policy_document(inner.attributes.get("Policy"), &q.arn);
            let statements = policy["Statement"].as_array_mut().ok_or_else(|| AwsError::internal("bad policy"))?;
            let before = statements.len();
            statements.retain(|s| s["Sid"] != i.label.as_str());
            if statements.len() == before {
                return Err(errors::invalid_parameter("Label", &i.label, "can't find label on existing policy."));
            }
            let mut attrs = inner.attributes.clone();
            if statements.is_empty() {
                attrs.remove("Policy");
            } else {
                attrs.insert("Policy".into(), policy.to_string());
            }
            inner.set_attributes(attrs);
            inner.modified_secs = now_secs();
            QueueRow::of(&q, &inner)
        };
        self.save(row).await?;
        Ok(empty())
    }
}

/// The queue's policy, or the empty one AddPermission starts from.
fn policy_document(existing: Option<&String>, arn: &str) -> Value {
    let parsed = existing.and_then(|p| serde_json::from_str::<Value>(p).ok());
    match parsed {
        Some(mut p) if p.is_object() => {
            if !p["Statement"].is_array() {
                let s = p["Statement"].take();
                p["Statement"] = if s.is_null() { json!([]) } else { json!([s]) };
            }
            p
        }
        _ => json!({"Version": "2008-10-17", "Id": format!("{arn}/SQSDefaultPolicy"), "Statement": []}),
    }
}

pub(crate) fn store_error(e: nimbus_store::StoreError) -> AwsError {
    AwsError::internal(format!("storage failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names() {
        assert!(valid_queue_name("a-b_C1", false));
        assert!(!valid_queue_name("a.fifo", false));
        assert!(valid_queue_name("a.fifo", true));
        assert!(!valid_queue_name("a", true));
        assert!(!valid_queue_name(".fifo", true));
        assert!(!valid_queue_name(&"a".repeat(81), false));
        assert!(valid_queue_name(&"a".repeat(80), false));
        assert!(!valid_queue_name("", false));
        assert!(!valid_queue_name("a b", false));
    }

    #[test]
    fn pagination() {
        let names: Vec<String> = (0..5).map(|i| format!("q{i}")).collect();
        let (p, t) = paginate(names.clone(), None, Some(2)).unwrap();
        assert_eq!(p, vec!["q0", "q1"]);
        let (p, t) = paginate(names.clone(), t.as_deref(), Some(2)).unwrap();
        assert_eq!(p, vec!["q2", "q3"]);
        let (p, t) = paginate(names.clone(), t.as_deref(), Some(2)).unwrap();
        assert_eq!(p, vec!["q4"]);
        assert!(t.is_none());
        assert!(paginate(names.clone(), None, Some(0)).is_err());
        assert_eq!(paginate(names, None, None).unwrap().0.len(), 5);
    }
}
