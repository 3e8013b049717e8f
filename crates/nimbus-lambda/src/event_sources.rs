//! SQS event source mappings: pollers that long-poll a queue through SQS's own
//! operations (by way of the target registry), invoke the function with AWS's SQS
//! event, delete what succeeded and leave failures to come back after the
//! visibility timeout (and so, in time, to the queue's dead-letter queue).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nimbus_core::targets::internal_context;
use nimbus_core::{now_millis, patterns, Arn, AwsError, RequestContext};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use crate::errors;
use crate::functions::{parse_ref, str_member};
use crate::store::Table;
use crate::State;

/// Pollers per mapping unless ScalingConfig says fewer (AWS starts with five).
const DEFAULT_POLLERS: u32 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MappingRecord {
    pub uuid: String,
    pub account: String,
    pub region: String,
    /// As given: qualified or not.
    pub function_arn: String,
    pub event_source_arn: String,
    pub batch_size: u32,
    pub batching_window_secs: u32,
    pub enabled: bool,
    pub report_batch_item_failures: bool,
    pub maximum_concurrency: Option<u32>,
    /// Event patterns (JSON text), any of which lets a message through.
    pub filters: Vec<String>,
    pub last_modified: u64,
    #[serde(default)]
    pub last_result: Option<String>,
}

impl MappingRecord {
    fn to_json(&self, state_name: &str) -> Value {
        let mut m = Map::new();
        m.insert("UUID".into(), json!(self.uuid));
        m.insert("BatchSize".into(), json!(self.batch_size));
        m.insert("MaximumBatchingWindowInSeconds".into(), json!(self.batching_window_secs));
        m.insert("EventSourceArn".into(), json!(self.event_source_arn));
        m.insert("FunctionArn".into(), json!(self.function_arn));
        m.insert("LastModified".into(), json!(self.last_modified as f64 / 1000.0));
        m.insert("State".into(), json!(state_name));
        m.insert("StateTransitionReason".into(), json!("USER_INITIATED"));
        m.insert(
            "LastProcessingResult".into(),
            json!(self.last_result.as_deref().unwrap_or("No records processed")),
        );
        let types: Vec<&str> = if self.report_batch_item_failures { vec!["ReportBatchItemFailures"] } else { vec![] };
        m.insert("FunctionResponseTypes".into(), json!(types));
        if let Some(c) = self.maximum_concurrency {
            m.insert("ScalingConfig".into(), json!({ "MaximumConcurrency": c }));
        }
        if !self.filters.is_empty() {
            let filters: Vec<Value> = self.filters.iter().map(|p| json!({ "Pattern": p })).collect();
            m.insert("FilterCriteria".into(), json!({ "Filters": filters }));
        }
        m.insert(
            "EventSourceMappingArn".into(),
            json!(format!("arn:aws:lambda:{}:{}:event-source-mapping:{}", self.region, self.account, self.uuid)),
        );
        Value::Object(m)
    }

    fn steady_state(&self) -> &'static str {
        if self.enabled {
            "Enabled"
        } else {
            "Disabled"
        }
    }

    fn is_fifo(&self) -> bool {
        self.event_source_arn.ends_with(".fifo")
    }

    /// Checks the batching settings together, as AWS does.
    fn validate(&self) -> Result<(), AwsError> {
        let max_batch = if self.is_fifo() { 10 } else { 10_000 };
        if !(1..=max_batch).contains(&self.batch_size) {
            return Err(errors::invalid_parameter(format!(
                "BatchSize must be between 1 and {max_batch} for {} queues.",
                if self.is_fifo() { "FIFO" } else { "standard" }
            )));
        }
        if self.batching_window_secs > 300 {
            return Err(errors::validation(format!(
                "1 validation error detected: Value '{}' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300",
                self.batching_window_secs
            )));
        }
        if self.is_fifo() && self.batching_window_secs > 0 {
            return Err(errors::invalid_parameter("Batching window is not supported for FIFO queues"));
        }
        if self.batch_size > 10 && self.batching_window_secs == 0 {
            return Err(errors::invalid_parameter(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
            ));
        }
        if let Some(c) = self.maximum_concurrency {
            if !(2..=1000).contains(&c) {
                return Err(errors::validation(format!(
                    "1 validation error detected: Value '{c}' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value {}",
                    if c < 2 { "greater than or equal to 2" } else { "less than or equal to 1000" }
                )));
            }
        }
        Ok(())
    }
}

/// Pollers at work, by mapping UUID; dropping the sender stops them.
#[derive(Default)]
pub struct Pollers {
    running: parking_lot::Mutex<HashMap<String, watch::Sender<bool>>>,
}

impl Pollers {
    fn stop(&self, uuid: &str) {
        if let Some(tx) = self.running.lock().remove(uuid) {
            let _ = tx.send(true);
        }
    }

    pub fn stop_all(&self) {
        for (_, tx) in self.running.lock().drain() {
            let _ = tx.send(true);
        }
    }
}

fn not_found() -> AwsError {
    AwsError::new(404, "ResourceNotFoundException", "The resource you requested does not exist.")
}

fn int(v: &Value, name: &str) -> Result<Option<u32>, AwsError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| errors::validation(format!("{name} must be a non-negative integer"))),
    }
}

fn response_types(v: &Value) -> Result<Option<bool>, AwsError> {
    let Some(list) = v.get("FunctionResponseTypes").and_then(Value::as_array) else { return Ok(None) };
    let mut report = false;
    for t in list {
        match t.as_str() {
            Some("ReportBatchItemFailures") => report = true,
            other => {
                return Err(errors::validation(format!(
                    "1 validation error detected: Value '[{}]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]",
                    other.unwrap_or("")
                )))
            }
        }
    }
    Ok(Some(report))
}

fn filters(v: &Value) -> Result<Option<Vec<String>>, AwsError> {
    let Some(fc) = v.get("FilterCriteria") else { return Ok(None) };
    let mut out = Vec::new();
    for f in fc.get("Filters").and_then(Value::as_array).into_iter().flatten() {
        let Some(p) = str_member(f, "Pattern") else { continue };
        patterns::parse(p).map_err(|e| errors::invalid_parameter(format!("Invalid filter pattern definition. {}", e.0)))?;
        out.push(p.to_string());
    }
    if out.len() > 5 {
        return Err(errors::invalid_parameter("The number of filters exceeds the limit of 5."));
    }
    Ok(Some(out))
}

impl State {
    pub(crate) async fn create_event_source_mapping(self: &Arc<Self>, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let fref = parse_ref(ctx, name, None)?;
        let f = self.function(&fref)?;
        let source = str_member(&v, "EventSourceArn").ok_or_else(|| {
            errors::invalid_parameter("Unrecognized event source, must be kinesis, dynamodb stream, sqs, msk or mq")
        })?;
        let source_arn = Arn::parse(source).filter(|a| a.service == "sqs").ok_or_else(|| {
            errors::invalid_parameter(format!(
                "nimbus supports SQS event sources only so far; {source} is not an SQS queue ARN."
            ))
        })?;
        let rec = MappingRecord {
            uuid: nimbus_core::ids::uuid4(),
            account: f.account.clone(),
            region: f.region.clone(),
            function_arn: fref.arn(),
            event_source_arn: source.to_string(),
            batch_size: int(&v, "BatchSize")?.unwrap_or(10),
            batching_window_secs: int(&v, "MaximumBatchingWindowInSeconds")?.unwrap_or(0),
            enabled: v.get("Enabled").and_then(Value::as_bool).unwrap_or(true),
            report_batch_item_failures: response_types(&v)?.unwrap_or(false),
            maximum_concurrency: v.get("ScalingConfig").map(|s| int(s, "MaximumConcurrency")).transpose()?.flatten(),
            filters: filters(&v)?.unwrap_or_default(),
            last_modified: now_millis(),
            last_result: None,
        };
        rec.validate()?;
        self.check_queue(&source_arn, f.timeout).await?;
        {
            let mappings = self.mappings.read();
            if let Some(existing) =
                mappings.values().find(|m| m.event_source_arn == rec.event_source_arn && m.function_arn == rec.function_arn)
            {
                return Err(errors::conflict(format!(
                    "An event source mapping with SQS arn (\" {} \") and function (\" {} \") already exists. Please update or delete the existing mapping with UUID {}",
                    rec.event_source_arn, f.name, existing.uuid
                )));
            }
        }
        self.save_record(Table::EventSourceMappings, &rec.uuid.clone(), &rec).await?;
        let out = rec.to_json("Creating");
        self.mappings.write().insert(rec.uuid.clone(), rec.clone());
        if rec.enabled {
            self.start_pollers(&rec);
        }
        Ok(out)
    }

    /// The queue must exist, and its visibility timeout must cover the function's timeout.
    async fn check_queue(&self, queue: &Arn, function_timeout: u32) -> Result<(), AwsError> {
        let ctx = internal_context(&queue.account, &queue.region);
        let attrs = self
            .targets
            .call("sqs", &ctx, "GetQueueAttributes", json!({ "QueueUrl": queue_url(queue), "AttributeNames": ["VisibilityTimeout"] }))
            .await
            .map_err(|e| {
                errors::invalid_parameter(format!(
                    "Error occurred while ReceiveMessage. SQS Error Code: {}. SQS Error Message: {}",
                    e.code, e.message
                ))
            })?;
        let vt: u32 = attrs
            .pointer("/Attributes/VisibilityTimeout")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or(30);
        if vt < function_timeout {
            return Err(errors::invalid_parameter(format!(
                "Queue visibility timeout: {vt} seconds is less than Function timeout: {function_timeout} seconds"
            )));
        }
        Ok(())
    }

    pub(crate) fn get_event_source_mapping(&self, v: Value) -> Result<Value, AwsError> {
        let uuid = str_member(&v, "UUID").ok_or_else(|| AwsError::missing_parameter("UUID"))?;
        let m = self.mappings.read().get(uuid).cloned().ok_or_else(not_found)?;
        Ok(m.to_json(m.steady_state()))
    }

    pub(crate) async fn update_event_source_mapping(self: &Arc<Self>, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let uuid = str_member(&v, "UUID").ok_or_else(|| AwsError::missing_parameter("UUID"))?;
        let mut m = self.mappings.read().get(uuid).cloned().ok_or_else(not_found)?;
        let was_enabled = m.enabled;
        if let Some(name) = str_member(&v, "FunctionName") {
            let fref = parse_ref(ctx, name, None)?;
            self.function(&fref)?;
            m.function_arn = fref.arn();
        }
        if let Some(b) = int(&v, "BatchSize")? {
            m.batch_size = b;
        }
        if let Some(w) = int(&v, "MaximumBatchingWindowInSeconds")? {
            m.batching_window_secs = w;
        }
        if let Some(e) = v.get("Enabled").and_then(Value::as_bool) {
            m.enabled = e;
        }
        if let Some(r) = response_types(&v)? {
            m.report_batch_item_failures = r;
        }
        if let Some(s) = v.get("ScalingConfig") {
            m.maximum_concurrency = int(s, "MaximumConcurrency")?;
        }
        if let Some(f) = filters(&v)? {
            m.filters = f;
        }
        m.validate()?;
        m.last_modified = now_millis();
        self.save_record(Table::EventSourceMappings, &m.uuid.clone(), &m).await?;
        let transition = match (was_enabled, m.enabled) {
            (false, true) => "Enabling",
            (true, false) => "Disabling",
            _ => "Updating",
        };
        let out = m.to_json(transition);
        self.pollers.stop(&m.uuid);
        self.mappings.write().insert(m.uuid.clone(), m.clone());
        if m.enabled {
            self.start_pollers(&m);
        }
        Ok(out)
    }

    pub(crate) async fn delete_event_source_mapping(&self, v: Value) -> Result<Value, AwsError> {
        let uuid = str_member(&v, "UUID").ok_or_else(|| AwsError::missing_parameter("UUID"))?;
        let m = self.mappings.read().get(uuid).cloned().ok_or_else(not_found)?;
        self.delete_record(Table::EventSourceMappings, uuid).await?;
        self.pollers.stop(uuid);
        self.mappings.write().remove(uuid);
        Ok(m.to_json("Deleting"))
    }

    pub(crate) fn list_event_source_mappings(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let function = match str_member(&v, "FunctionName") {
            Some(n) => Some(parse_ref(ctx, n, None)?),
            None => None,
        };
        let source = str_member(&v, "EventSourceArn");
        let max = int(&v, "MaxItems")?.unwrap_or(100).clamp(1, 10_000) as usize;
        let marker = str_member(&v, "Marker").unwrap_or("");
        let mut list: Vec<MappingRecord> = self
            .mappings
            .read()
            .values()
            .filter(|m| m.account == ctx.account && m.region == ctx.region)
            .filter(|m| source.is_none_or(|s| m.event_source_arn == s))
            .filter(|m| {
                function.as_ref().is_none_or(|f| {
                    // An unqualified name lists the mappings of every version of the function.
                    let base = format!("arn:aws:lambda:{}:{}:function:{}", f.region, f.account, f.name);
                    if f.qualifier.is_some() {
                        m.function_arn == f.arn()
                    } else {
                        m.function_arn == base || m.function_arn.starts_with(&format!("{base}:"))
                    }
                })
            })
            .cloned()
            .collect();
        list.sort_by(|a, b| a.uuid.cmp(&b.uuid));
        let start = list.iter().position(|m| m.uuid.as_str() > marker).unwrap_or(list.len());
        let start = if marker.is_empty() { 0 } else { start };
        let page: Vec<Value> = list.iter().skip(start).take(max).map(|m| m.to_json(m.steady_state())).collect();
        let mut out = json!({ "EventSourceMappings": page });
        if let (Some(last), Value::Object(o)) = (list.get(start + max - 1), &mut out) {
            if start + max < list.len() {
                o.insert("NextMarker".into(), json!(last.uuid));
            }
        }
        Ok(out)
    }

    /// Starts the pollers of every enabled mapping (at startup).
    pub(crate) fn start_all_pollers(self: &Arc<Self>) {
        let enabled: Vec<MappingRecord> = self.mappings.read().values().filter(|m| m.enabled).cloned().collect();
        for m in enabled {
            self.start_pollers(&m);
        }
    }

    fn start_pollers(self: &Arc<Self>, m: &MappingRecord) {
        let (tx, rx) = watch::channel(false);
        self.pollers.stop(&m.uuid);
        self.pollers.running.lock().insert(m.uuid.clone(), tx);
        let n = m.maximum_concurrency.unwrap_or(DEFAULT_POLLERS).min(DEFAULT_POLLERS);
        for _ in 0..n {
            tokio::spawn(poll(Arc::downgrade(self), m.clone(), rx.clone()));
        }
    }
}

fn queue_url(queue: &Arn) -> String {
    format!("http://localhost/{}/{}", queue.account, queue.resource)
}

/// One poller: receive a batch, invoke, settle; until the mapping stops.
async fn poll(state: std::sync::Weak<State>, m: MappingRecord, mut stop: watch::Receiver<bool>) {
    let Some(queue) = Arn::parse(&m.event_source_arn) else { return };
    let ctx = internal_context(&queue.account, &queue.region);
    let url = queue_url(&queue);
    let patterns: Vec<Value> = m.filters.iter().filter_map(|p| patterns::parse(p).ok()).collect();
    loop {
        if *stop.borrow() {
            return;
        }
        let batch = tokio::select! {
            b = receive_batch(&state, &ctx, &url, &m) => b,
            _ = stop.changed() => return,
        };
        let messages = match batch {
            Ok(ms) => ms,
            Err(e) => {
                tracing::debug!(mapping = %m.uuid, error = %e, "event source poll failed");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    _ = stop.changed() => return,
                }
            }
        };
        if messages.is_empty() {
            continue;
        }
        let Some(state) = state.upgrade() else { return };
        let records: Vec<Value> = messages.iter().map(|msg| sqs_record(msg, &m)).collect();
        // Messages no filter lets through are consumed without invoking (as on AWS).
        let (pass, dropped): (Vec<Value>, Vec<Value>) =
            records.into_iter().partition(|r| patterns.is_empty() || patterns.iter().any(|p| patterns::matches(p, &filter_view(r))));
        if !dropped.is_empty() {
            delete(&state, &ctx, &url, dropped.iter().collect()).await;
        }
        if pass.is_empty() {
            continue;
        }
        settle(&state, &ctx, &url, &m, pass).await;
    }
}

/// Up to BatchSize messages, waiting up to the batching window to fill the batch.
async fn receive_batch(state: &std::sync::Weak<State>, ctx: &RequestContext, url: &str, m: &MappingRecord) -> Result<Vec<Value>, AwsError> {
    let window = Duration::from_secs(u64::from(m.batching_window_secs));
    let mut started: Option<Instant> = None;
    let mut out = Vec::new();
    loop {
        let wait = match started {
            None => 20,
            Some(t) => {
                let left = window.saturating_sub(t.elapsed());
                if left.is_zero() {
                    return Ok(out);
                }
                left.as_secs().clamp(1, 20)
            }
        };
        let want = (m.batch_size as usize - out.len()).min(10);
        let targets = state.upgrade().map(|s| s.targets.clone()).ok_or_else(|| AwsError::internal("Lambda stopped"))?;
        let resp = targets
            .call(
                "sqs",
                ctx,
                "ReceiveMessage",
                json!({
                    "QueueUrl": url,
                    "MaxNumberOfMessages": want,
                    "WaitTimeSeconds": wait,
                    "AttributeNames": ["All"],
                    "MessageSystemAttributeNames": ["All"],
                    "MessageAttributeNames": ["All"],
                }),
            )
            .await?;
        let got = resp.get("Messages").and_then(Value::as_array).cloned().unwrap_or_default();
        if !got.is_empty() && started.is_none() {
            started = Some(Instant::now());
        }
        out.extend(got);
        if out.len() >= m.batch_size as usize || (window.is_zero() && !out.is_empty()) {
            return Ok(out);
        }
    }
}

/// AWS's SQS event record for one received message.
fn sqs_record(msg: &Value, m: &MappingRecord) -> Value {
    let mut attributes = msg.get("Attributes").cloned().unwrap_or_else(|| json!({}));
    if let Value::Object(a) = &mut attributes {
        // Lambda's event carries these four (and the FIFO ones), not every attribute SQS has.
        a.retain(|k, _| {
            matches!(
                k.as_str(),
                "ApproximateReceiveCount" | "SentTimestamp" | "SenderId" | "ApproximateFirstReceiveTimestamp"
                    | "SequenceNumber" | "MessageGroupId" | "MessageDeduplicationId" | "AWSTraceHeader"
                    | "DeadLetterQueueSourceArn"
            )
        });
    }
    let mut message_attributes = Map::new();
    if let Some(Value::Object(attrs)) = msg.get("MessageAttributes") {
        for (name, a) in attrs {
            let mut v = Map::new();
            if let Some(s) = a.get("StringValue") {
                v.insert("stringValue".into(), s.clone());
            }
            if let Some(b) = a.get("BinaryValue") {
                v.insert("binaryValue".into(), b.clone());
            }
            v.insert("stringListValues".into(), json!([]));
            v.insert("binaryListValues".into(), json!([]));
            v.insert("dataType".into(), a.get("DataType").cloned().unwrap_or(Value::Null));
            message_attributes.insert(name.clone(), Value::Object(v));
        }
    }
    let mut r = Map::new();
    r.insert("messageId".into(), msg.get("MessageId").cloned().unwrap_or(Value::Null));
    r.insert("receiptHandle".into(), msg.get("ReceiptHandle").cloned().unwrap_or(Value::Null));
    r.insert("body".into(), msg.get("Body").cloned().unwrap_or_else(|| json!("")));
    r.insert("attributes".into(), attributes);
    r.insert("messageAttributes".into(), Value::Object(message_attributes));
    r.insert("md5OfBody".into(), msg.get("MD5OfBody").cloned().unwrap_or(Value::Null));
    if let Some(md5) = msg.get("MD5OfMessageAttributes") {
        r.insert("md5OfMessageAttributes".into(), md5.clone());
    }
    r.insert("eventSource".into(), json!("aws:sqs"));
    r.insert("eventSourceARN".into(), json!(m.event_source_arn));
    r.insert("awsRegion".into(), json!(m.region));
    Value::Object(r)
}

/// What filter patterns see: the record, with a JSON body parsed.
fn filter_view(record: &Value) -> Value {
    let mut v = record.clone();
    if let Some(body) = record.get("body").and_then(Value::as_str) {
        if let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(body) {
            v["body"] = parsed;
        }
    }
    v
}

/// Invokes the function with the batch and deletes what it processed.
async fn settle(state: &Arc<State>, ctx: &RequestContext, url: &str, m: &MappingRecord, records: Vec<Value>) {
    let f = match parse_ref(ctx, &m.function_arn, None).and_then(|r| state.function(&r)) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(mapping = %m.uuid, function = %m.function_arn, error = %e, "cannot invoke the mapping's function; messages return after their visibility timeout");
            state.set_last_result(&m.uuid, "PROBLEM: Function not found");
            tokio::time::sleep(Duration::from_secs(5)).await;
            return;
        }
    };
    let event = json!({ "Records": records });
    let request_id = nimbus_core::ids::uuid4();
    let out = crate::invoke::run(state, &f, &m.function_arn, request_id.clone(), Bytes::from(event.to_string()), None).await;
    let failed: HashSet<String> = match &out {
        Err(e) => {
            tracing::info!(mapping = %m.uuid, function = %f.name, error = %e, "batch not processed; messages return after their visibility timeout");
            return;
        }
        Ok(o) if o.function_error.is_some() => {
            tracing::info!(mapping = %m.uuid, function = %f.name, %request_id, "function failed; the batch returns after its visibility timeout");
            state.set_last_result(&m.uuid, "PROBLEM: Function call failed");
            return;
        }
        Ok(o) if m.report_batch_item_failures => match batch_item_failures(&o.payload, &records) {
            Some(ids) => ids,
            None => {
                tracing::info!(mapping = %m.uuid, function = %f.name, "invalid batchItemFailures; the whole batch is retried");
                return;
            }
        },
        Ok(_) => HashSet::new(),
    };
    state.set_last_result(&m.uuid, "OK");
    let done: Vec<&Value> = records
        .iter()
        .filter(|r| !r.get("messageId").and_then(Value::as_str).is_some_and(|id| failed.contains(id)))
        .collect();
    delete(state, ctx, url, done).await;
}

/// The message ids a partial batch response reports as failed, or None when the
/// response is malformed (AWS then treats the whole batch as failed). An empty or
/// non-JSON response means every message succeeded.
fn batch_item_failures(payload: &[u8], records: &[Value]) -> Option<HashSet<String>> {
    let Ok(v) = serde_json::from_slice::<Value>(payload) else { return Some(HashSet::new()) };
    let Some(list) = v.get("batchItemFailures") else { return Some(HashSet::new()) };
    let ids: HashSet<&str> = records.iter().filter_map(|r| r.get("messageId").and_then(Value::as_str)).collect();
    let mut failed = HashSet::new();
    match list {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                let id = item.get("itemIdentifier").and_then(Value::as_str).filter(|id| ids.contains(id))?;
                failed.insert(id.to_string());
            }
        }
        _ => return None,
    }
    Some(failed)
}

async fn delete(state: &State, ctx: &RequestContext, url: &str, records: Vec<&Value>) {
    for chunk in records.chunks(10) {
        let entries: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, r)| json!({ "Id": format!("m{i}"), "ReceiptHandle": r.get("receiptHandle").cloned().unwrap_or(Value::Null) }))
            .collect();
        if let Err(e) = state.targets.call("sqs", ctx, "DeleteMessageBatch", json!({ "QueueUrl": url, "Entries": entries })).await {
            tracing::warn!(queue = %url, error = %e, "cannot delete processed messages");
        }
    }
}

impl State {
    fn set_last_result(&self, uuid: &str, result: &str) {
        if let Some(m) = self.mappings.write().get_mut(uuid) {
            m.last_result = Some(result.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(batch: u32, window: u32, arn: &str) -> MappingRecord {
        MappingRecord {
            uuid: "u".into(),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            event_source_arn: arn.into(),
            batch_size: batch,
            batching_window_secs: window,
            enabled: true,
            report_batch_item_failures: false,
            maximum_concurrency: None,
            filters: vec![],
            last_modified: 0,
            last_result: None,
        }
    }

    #[test]
    fn batching_rules() {
        let q = "arn:aws:sqs:us-east-1:000000000000:q";
        assert!(rec(10, 0, q).validate().is_ok());
        assert!(rec(100, 0, q).validate().is_err());
        assert!(rec(100, 1, q).validate().is_ok());
        assert!(rec(10_001, 1, q).validate().is_err());
        assert!(rec(0, 0, q).validate().is_err());
        assert!(rec(10, 301, q).validate().is_err());
        let fifo = "arn:aws:sqs:us-east-1:000000000000:q.fifo";
        assert!(rec(11, 1, fifo).validate().is_err());
        assert!(rec(10, 1, fifo).validate().is_err());
        assert!(rec(10, 0, fifo).validate().is_ok());
    }

    #[test]
    fn partial_batch_responses() {
        let records = vec![json!({"messageId": "a"}), json!({"messageId": "b"})];
        let ok = batch_item_failures(br#"{"batchItemFailures": [{"itemIdentifier": "b"}]}"#, &records).unwrap();
        assert_eq!(ok.into_iter().collect::<Vec<_>>(), vec!["b".to_string()]);
        assert!(batch_item_failures(br#"{"batchItemFailures": []}"#, &records).unwrap().is_empty());
        assert!(batch_item_failures(b"null", &records).unwrap().is_empty());
        assert!(batch_item_failures(b"", &records).unwrap().is_empty());
        assert!(batch_item_failures(br#"{"batchItemFailures": [{"itemIdentifier": "zzz"}]}"#, &records).is_none());
        assert!(batch_item_failures(br#"{"batchItemFailures": [{"itemIdentifier": ""}]}"#, &records).is_none());
        assert!(batch_item_failures(br#"{"batchItemFailures": "x"}"#, &records).is_none());
    }

    #[test]
    fn records_have_aws_shape() {
        let msg = json!({
            "MessageId": "id1", "ReceiptHandle": "rh", "Body": "{\"kind\": \"image\"}", "MD5OfBody": "md5",
            "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "s", "ApproximateFirstReceiveTimestamp": "2", "MessageGroupId": "g"},
            "MessageAttributes": {"a": {"StringValue": "v", "DataType": "String"}},
        });
        let r = sqs_record(&msg, &rec(10, 0, "arn:aws:sqs:us-east-1:000000000000:q"));
        assert_eq!(r["messageId"], "id1");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["messageAttributes"]["a"], json!({"stringValue": "v", "stringListValues": [], "binaryListValues": [], "dataType": "String"}));
        let p = patterns::parse(r#"{"body": {"kind": ["image"]}}"#).unwrap();
        assert!(patterns::matches(&p, &filter_view(&r)));
    }
}
