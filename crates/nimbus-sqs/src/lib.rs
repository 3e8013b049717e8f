//! Amazon SQS: standard and FIFO queues with visibility timeouts, long polling,
//! delays, dead-letter queues and redrive, served over awsJson 1.0 and awsQuery.
//!
//! Queues live in memory, indexed for the receive path; every change is mirrored to
//! SQLite through the store's group-committing writer before the client hears of it.

mod attributes;
mod errors;
mod message;
mod moves;
mod ops_messages;
mod ops_queues;
mod persist;
mod queue;
mod url;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use nimbus_core::resource_policy::{self, ServiceRequest};
use nimbus_core::targets::{Delivery, Target};
use nimbus_core::{now_millis, Arn, AwsError, RequestContext};
use nimbus_store::{Durability, Store};
use nimbus_wire::{ServiceHandler, ServiceModel, WireSpec};
use parking_lot::{Mutex, RwLock};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::queue::Queue;

const JSON_MODEL: &str = include_str!("../../../specs/sqs/2012-11-05/service-2.json");
const QUERY_MODEL: &str = include_str!("../../../specs/sqs/2012-11-05/service-2.query.json");

/// (account, region, name)
type QueueKey = (String, String, String);

pub struct Sqs {
    spec: WireSpec,
    state: Arc<State>,
}

pub(crate) struct State {
    queues: RwLock<HashMap<QueueKey, Arc<Queue>>>,
    store: Store,
    next_seq: AtomicU64,
    next_nonce: AtomicU64,
    tasks: Mutex<Vec<moves::MoveTask>>,
    /// Deleted queues and when: AWS refuses to recreate a name for 60 seconds.
    recently_deleted: Mutex<HashMap<QueueKey, u64>>,
}

impl Sqs {
    /// Opens SQS's state under `data_dir` (or keeps it in memory when `None`) and
    /// starts its background sweeper. Must run inside a tokio runtime.
    pub fn open(data_dir: Option<&Path>, durability: Durability) -> Result<Self, String> {
        let spec = WireSpec {
            signing_name: "sqs",
            target_prefix: Some("AmazonSQS"),
            json_error_namespace: "com.amazonaws.sqs",
            json: Some(ServiceModel::from_json(JSON_MODEL).map_err(|e| format!("SQS model: {e}"))?),
            query: Some(ServiceModel::from_json(QUERY_MODEL).map_err(|e| format!("SQS query model: {e}"))?),
            host_prefixes: &["sqs", "queue"],
            url_member: Some("QueueUrl"),
            rest_json: None,
        };
        let (store, (queues, max_seq)) = match data_dir {
            Some(dir) => Store::open(dir, "sqs", durability, persist::SCHEMA, persist::load)
                .map_err(|e| format!("SQS store: {e}"))?,
            None => (Store::in_memory(), (Vec::new(), 0)),
        };
        let map = queues
            .into_iter()
            .map(|q| ((q.account.clone(), q.region.clone(), q.name.clone()), q))
            .collect();
        let state = Arc::new(State {
            queues: RwLock::new(map),
            store,
            next_seq: AtomicU64::new(max_seq + 1),
            next_nonce: AtomicU64::new(now_millis()),
            tasks: Mutex::new(Vec::new()),
            recently_deleted: Mutex::new(HashMap::new()),
        });
        tokio::spawn(sweeper(Arc::downgrade(&state)));
        Ok(Sqs { spec, state })
    }

    pub fn queue_count(&self) -> usize {
        self.state.queues.read().len()
    }

    /// Waits until every acknowledged write is committed (clean shutdown).
    pub async fn flush(&self) {
        let _ = self.state.store.flush().await;
    }
}

fn input<T: DeserializeOwned>(v: Value) -> Result<T, AwsError> {
    serde_json::from_value(v).map_err(|e| AwsError::bad_request("SerializationException", e.to_string()))
}

fn empty() -> Value {
    Value::Object(Default::default())
}

#[async_trait]
impl ServiceHandler for Sqs {
    fn spec(&self) -> &WireSpec {
        &self.spec
    }

    async fn call(&self, ctx: &RequestContext, operation: &str, v: Value) -> Result<Value, AwsError> {
        let s = &self.state;
        match operation {
            "CreateQueue" => s.create_queue(ctx, input(v)?).await,
            "GetQueueUrl" => s.get_queue_url(ctx, input(v)?),
            "ListQueues" => s.list_queues(ctx, input(v)?),
            "DeleteQueue" => s.delete_queue(ctx, input(v)?).await,
            "PurgeQueue" => s.purge_queue(ctx, input(v)?).await,
            "GetQueueAttributes" => s.get_queue_attributes(ctx, input(v)?),
            "SetQueueAttributes" => s.set_queue_attributes(ctx, input(v)?).await,
            "ListDeadLetterSourceQueues" => s.list_dead_letter_source_queues(ctx, input(v)?),
            "TagQueue" => s.tag_queue(ctx, input(v)?).await,
            "UntagQueue" => s.untag_queue(ctx, input(v)?).await,
            "ListQueueTags" => s.list_queue_tags(ctx, input(v)?),
            "AddPermission" => s.add_permission(ctx, input(v)?).await,
            "RemovePermission" => s.remove_permission(ctx, input(v)?).await,
            "SendMessage" => s.send_message(ctx, input(v)?).await,
            "SendMessageBatch" => s.send_message_batch(ctx, input(v)?).await,
            "ReceiveMessage" => s.receive_message(ctx, input(v)?).await,
            "DeleteMessage" => s.delete_message(ctx, input(v)?).await,
            "DeleteMessageBatch" => s.delete_message_batch(ctx, input(v)?).await,
            "ChangeMessageVisibility" => s.change_message_visibility(ctx, input(v)?).await,
            "ChangeMessageVisibilityBatch" => s.change_message_visibility_batch(ctx, input(v)?).await,
            "StartMessageMoveTask" => moves::start(s, ctx, input(v)?),
            "ListMessageMoveTasks" => moves::list(s, ctx, input(v)?),
            "CancelMessageMoveTask" => moves::cancel(s, input(v)?),
            other => Err(AwsError::bad_request("InvalidAction", format!("The action {other} is not valid for this web service."))),
        }
    }
}

/// Other services (S3 notifications, SNS subscriptions, Lambda destinations) deliver
/// to queues by ARN through the target registry.
#[async_trait]
impl Target for Sqs {
    async fn deliver(&self, arn: &Arn, d: Delivery) -> Result<(), AwsError> {
        let q = self
            .state
            .queue(&arn.account, &arn.region, &arn.resource)
            .ok_or_else(errors::queue_does_not_exist)?;
        let attributes = d
            .attributes
            .into_iter()
            .map(|(k, (t, v))| {
                (k, message::AttributeValue { data_type: t, string_value: Some(v), binary_value: None })
            })
            .collect();
        let req = ops_messages::SendEntry {
            body: d.body,
            delay: None,
            attributes,
            system_attributes: Default::default(),
            group_id: d.group_id,
            dedup_id: d.dedup_id,
        };
        let sender = d.source_arn.unwrap_or_else(|| "AROAEXAMPLE:nimbus".into());
        let mut results = self.state.send(&q, vec![req], &sender).await;
        results.pop().unwrap_or_else(|| Err(AwsError::internal("no send result"))).map(|_| ())
    }

    fn exists(&self, arn: &Arn) -> bool {
        self.state.queue(&arn.account, &arn.region, &arn.resource).is_some()
    }

    /// A queue's `Policy` must let the service send to it (S3 checks this when a
    /// notification configuration names the queue); a queue without one lets no
    /// service in.
    fn allows(&self, arn: &Arn, principal: &str, source_arn: &str, source_account: &str) -> bool {
        let Some(q) = self.state.queue(&arn.account, &arn.region, &arn.resource) else { return false };
        let policy = q.inner.lock().attributes.get("Policy").cloned().unwrap_or_default();
        let Ok(policy) = serde_json::from_str::<Value>(&policy) else { return false };
        let req = ServiceRequest { principal, action: "sqs:SendMessage", resource: &q.arn, source_arn, source_account };
        resource_policy::allows(&policy, &req)
    }

    /// Lambda's event source pollers receive and delete through SQS's own operations.
    async fn call(&self, ctx: &RequestContext, operation: &str, input: Value) -> Result<Value, AwsError> {
        ServiceHandler::call(self, ctx, operation, input).await
    }
}

impl State {
    pub(crate) fn queue(&self, account: &str, region: &str, name: &str) -> Option<Arc<Queue>> {
        self.queues
            .read()
            .get(&(account.to_string(), region.to_string(), name.to_string()))
            .cloned()
    }

    pub(crate) fn queue_by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let a = Arn::parse(arn).filter(|a| a.service == "sqs")?;
        self.queue(&a.account, &a.region, &a.resource)
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn next_nonce(&self) -> u64 {
        self.next_nonce.fetch_add(1, Ordering::Relaxed)
    }
}

/// Once a second: drop messages past their retention period and expired FIFO
/// deduplication records.
async fn sweeper(state: std::sync::Weak<State>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        let Some(state) = state.upgrade() else { return };
        let now = now_millis();
        let queues: Vec<Arc<Queue>> = state.queues.read().values().cloned().collect();
        for q in queues {
            let expired = {
                let mut inner = q.inner.lock();
                inner.expire_dedup(now);
                inner.take_expired(now)
            };
            if !expired.is_empty() {
                let arn = q.arn.clone();
                state.store.write_detached(move |tx| {
                    for &seq in &expired {
                        persist::delete_message(tx, &arn, seq)?;
                    }
                    Ok(())
                });
            }
        }
        state.store.write_detached(move |tx| persist::expire_dedup(tx, now));
    }
}
