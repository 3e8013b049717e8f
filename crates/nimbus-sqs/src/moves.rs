//! Message move tasks (StartMessageMoveTask / ListMessageMoveTasks /
//! CancelMessageMoveTask): redrive messages from a dead-letter queue back to their
//! source queues or to a chosen destination.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use base64::Engine;
use nimbus_core::{ids, now_millis, AwsError, RequestContext};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::State;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    Running,
    Completed,
    Cancelling,
    Cancelled,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Completed => "COMPLETED",
            Status::Cancelling => "CANCELLING",
            Status::Cancelled => "CANCELLED",
            Status::Failed => "FAILED",
        }
    }
}

pub struct MoveTask {
    handle: String,
    source_arn: String,
    destination_arn: Option<String>,
    rate: Option<i64>,
    started_ms: u64,
    to_move: u64,
    moved: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
    status: Arc<Mutex<(Status, Option<String>)>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartInput {
    source_arn: String,
    #[serde(default)]
    destination_arn: Option<String>,
    #[serde(default)]
    max_number_of_messages_per_second: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    source_arn: String,
    #[serde(default)]
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelInput {
    task_handle: String,
}

fn not_found(what: &str) -> AwsError {
    AwsError::new(404, "ResourceNotFoundException", format!("The resource that you specified for the {what} parameter doesn't exist."))
}

pub fn start(state: &Arc<State>, _ctx: &RequestContext, i: StartInput) -> Result<Value, AwsError> {
    let source = state.queue_by_arn(&i.source_arn).ok_or_else(|| not_found("SourceArn"))?;
    let is_dlq = state.queues.read().values().any(|q| {
        q.inner.lock().settings.redrive.as_ref().is_some_and(|(arn, _)| *arn == source.arn)
    });
    if !is_dlq {
        return Err(AwsError::invalid_parameter("Source queue must be configured as a Dead Letter Queue."));
    }
    if let Some(d) = &i.destination_arn {
        state.queue_by_arn(d).ok_or_else(|| not_found("DestinationArn"))?;
    }
    if let Some(r) = i.max_number_of_messages_per_second {
        if !(1..=500).contains(&r) {
            return Err(AwsError::invalid_parameter(format!(
                "Value {r} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500."
            )));
        }
    }
    let mut tasks = state.tasks.lock();
    if tasks.iter().any(|t| t.source_arn == source.arn && t.status.lock().0 == Status::Running) {
        return Err(AwsError::invalid_parameter(
            "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
        ));
    }
    let raw = json!({"taskId": ids::uuid4(), "sourceArn": source.arn}).to_string();
    let handle = base64::engine::general_purpose::STANDARD.encode(raw);
    let to_move = source.inner.lock().counts(now_millis()).visible as u64;
    let task = MoveTask {
        handle: handle.clone(),
        source_arn: source.arn.clone(),
        destination_arn: i.destination_arn.clone(),
        rate: i.max_number_of_messages_per_second,
        started_ms: now_millis(),
        to_move,
        moved: Arc::new(AtomicU64::new(0)),
        cancel: Arc::new(AtomicBool::new(false)),
        status: Arc::new(Mutex::new((Status::Running, None))),
    };
    let runner = Runner {
        state: Arc::downgrade(state),
        source_arn: source.arn.clone(),
        destination_arn: i.destination_arn,
        rate: i.max_number_of_messages_per_second,
        to_move,
        moved: task.moved.clone(),
        cancel: task.cancel.clone(),
        status: task.status.clone(),
    };
    tasks.push(task);
    tokio::spawn(runner.run());
    Ok(json!({ "TaskHandle": handle }))
}

pub fn list(state: &Arc<State>, _ctx: &RequestContext, i: ListInput) -> Result<Value, AwsError> {
    state.queue_by_arn(&i.source_arn).ok_or_else(|| not_found("SourceArn"))?;
    let max = i.max_results.unwrap_or(1);
    if !(1..=10).contains(&max) {
        return Err(AwsError::invalid_parameter(format!(
            "Value {max} for parameter MaxResults is invalid. Reason: Must be between 1 and 10."
        )));
    }
    let tasks = state.tasks.lock();
    let results: Vec<Value> = tasks
        .iter()
        .rev()
        .filter(|t| t.source_arn == i.source_arn)
        .take(max as usize)
        .map(|t| {
            let (status, reason) = t.status.lock().clone();
            let mut m = Map::new();
            if status == Status::Running {
                m.insert("TaskHandle".into(), json!(t.handle));
            }
            m.insert("Status".into(), json!(status.as_str()));
            m.insert("SourceArn".into(), json!(t.source_arn));
            if let Some(d) = &t.destination_arn {
                m.insert("DestinationArn".into(), json!(d));
            }
            if let Some(r) = t.rate {
                m.insert("MaxNumberOfMessagesPerSecond".into(), json!(r));
            }
            m.insert("ApproximateNumberOfMessagesMoved".into(), json!(t.moved.load(Ordering::Relaxed)));
            m.insert("ApproximateNumberOfMessagesToMove".into(), json!(t.to_move));
            if let Some(r) = reason {
                m.insert("FailureReason".into(), json!(r));
            }
            m.insert("StartedTimestamp".into(), json!(t.started_ms));
            Value::Object(m)
        })
        .collect();
    Ok(json!({ "Results": results }))
}

pub fn cancel(state: &Arc<State>, i: CancelInput) -> Result<Value, AwsError> {
    let tasks = state.tasks.lock();
    let task = tasks
        .iter()
        .find(|t| t.handle == i.task_handle && t.status.lock().0 == Status::Running)
        .ok_or_else(|| AwsError::new(404, "ResourceNotFoundException", "Task does not exist."))?;
    task.cancel.store(true, Ordering::Relaxed);
    task.status.lock().0 = Status::Cancelling;
    Ok(json!({ "ApproximateNumberOfMessagesMoved": task.moved.load(Ordering::Relaxed) }))
}

struct Runner {
    state: Weak<State>,
    source_arn: String,
    destination_arn: Option<String>,
    rate: Option<i64>,
    to_move: u64,
    moved: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
    status: Arc<Mutex<(Status, Option<String>)>>,
}

impl Runner {
    fn finish(&self, status: Status, reason: Option<String>) {
        *self.status.lock() = (status, reason);
    }

    async fn run(self) {
        let pause = self.rate.map(|r| Duration::from_millis((1000 / r.max(1)) as u64));
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return self.finish(Status::Cancelled, None);
            }
            if self.moved.load(Ordering::Relaxed) >= self.to_move {
                return self.finish(Status::Completed, None);
            }
            let Some(state) = self.state.upgrade() else { return };
            let Some(source) = state.queue_by_arn(&self.source_arn) else {
                return self.finish(Status::Failed, Some("AWS.SimpleQueueService.NonExistentQueue".into()));
            };
            let now = now_millis();
            // The oldest visible message.
            let msg = {
                let mut inner = source.inner.lock();
                let next = inner.receivable(now, 1).first().copied();
                next.and_then(|seq| {
                    let m = inner.messages.get(&seq)?;
                    let dest = self.destination_arn.clone().or_else(|| m.dead_letter_source_arn.clone())?;
                    let dest_q = state.queue_by_arn(&dest)?;
                    let m = inner.remove(seq)?;
                    let arn = source.arn.clone();
                    state.store.write_detached(move |tx| crate::persist::delete_message(tx, &arn, seq));
                    Some((m, dest_q))
                })
            };
            let Some((m, dest)) = msg else {
                let empty = source.inner.lock().receivable(now, 1).is_empty();
                return if empty {
                    self.finish(Status::Completed, None)
                } else {
                    self.finish(Status::Failed, Some("AWS.SimpleQueueService.NonExistentQueue".into()))
                };
            };
            state.move_into(&dest, vec![m], None);
            self.moved.fetch_add(1, Ordering::Relaxed);
            drop(state);
            if let Some(p) = pause {
                tokio::time::sleep(p).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }
}
