//! Asynchronous invocation: a durable internal queue (an event is saved before the
//! caller hears 202), retries with backoff, the event age limit, and what happens
//! after: destinations on success and failure, or the function's dead-letter queue,
//! reached by ARN through the target registry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use nimbus_core::targets::Delivery;
use nimbus_core::{now_millis, Arn, AwsError, RequestContext};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::errors;
use crate::functions::{parse_ref, str_member, FunctionRecord};
use crate::store::Table;
use crate::State;

/// Waits before the second and third attempts. AWS waits about one and two minutes;
/// nimbus keeps the shape of the backoff but not its length, so retries show up while
/// a developer is still watching.
const RETRY_DELAYS_MS: [u64; 2] = [1_000, 2_000];
/// How often a throttled event is tried again (AWS keeps trying for up to six hours).
const THROTTLE_RETRY_MS: u64 = 1_000;
const DEFAULT_MAX_RETRIES: u32 = 2;
const DEFAULT_MAX_EVENT_AGE: u32 = 21_600;

/// An event waiting for (another) attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingEvent {
    pub request_id: String,
    /// The function ARN as invoked (qualified or not).
    pub function_arn: String,
    pub payload: String,
    pub client_context: Option<String>,
    /// Attempts made so far.
    pub attempts: u32,
    pub received_ms: u64,
    pub next_attempt_ms: u64,
}

/// Put/Update/GetFunctionEventInvokeConfig.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EventInvokeConfig {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age: Option<u32>,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
    pub last_modified: u64,
}

impl EventInvokeConfig {
    pub fn to_json(&self, function_arn: &str) -> Value {
        let mut dest = serde_json::Map::new();
        if let Some(d) = &self.on_success {
            dest.insert("OnSuccess".into(), json!({ "Destination": d }));
        }
        if let Some(d) = &self.on_failure {
            dest.insert("OnFailure".into(), json!({ "Destination": d }));
        }
        let mut out = json!({
            "LastModified": self.last_modified as f64 / 1000.0,
            "FunctionArn": function_arn,
            "DestinationConfig": dest,
        });
        if let Value::Object(m) = &mut out {
            if let Some(r) = self.maximum_retry_attempts {
                m.insert("MaximumRetryAttempts".into(), json!(r));
            }
            if let Some(a) = self.maximum_event_age {
                m.insert("MaximumEventAgeInSeconds".into(), json!(a));
            }
        }
        out
    }

    /// Applies the members present in `v` (Update), or all of them (Put).
    fn apply(&mut self, v: &Value, replace: bool) -> Result<(), AwsError> {
        if replace {
            *self = EventInvokeConfig::default();
        }
        if let Some(r) = v.get("MaximumRetryAttempts").filter(|x| !x.is_null()) {
            let r = r.as_i64().filter(|r| (0..=2).contains(r)).ok_or_else(|| {
                errors::validation(format!(
                    "1 validation error detected: Value '{r}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2"
                ))
            })?;
            self.maximum_retry_attempts = Some(r as u32);
        }
        if let Some(a) = v.get("MaximumEventAgeInSeconds").filter(|x| !x.is_null()) {
            let a = a.as_i64().filter(|a| (60..=21_600).contains(a)).ok_or_else(|| {
                errors::validation(format!(
                    "1 validation error detected: Value '{a}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between 60 and 21600"
                ))
            })?;
            self.maximum_event_age = Some(a as u32);
        }
        if let Some(d) = v.get("DestinationConfig") {
            if let Some(s) = d.get("OnSuccess") {
                self.on_success = destination(s)?;
            }
            if let Some(f) = d.get("OnFailure") {
                self.on_failure = destination(f)?;
            }
        }
        self.last_modified = now_millis();
        Ok(())
    }
}

/// A destination ARN: SQS, SNS, Lambda or EventBridge.
fn destination(v: &Value) -> Result<Option<String>, AwsError> {
    let Some(arn) = str_member(v, "Destination") else { return Ok(None) };
    if arn.is_empty() {
        return Ok(None);
    }
    match Arn::parse(arn).map(|a| a.service) {
        Some(s) if matches!(s.as_str(), "sqs" | "sns" | "lambda" | "events") => Ok(Some(arn.to_string())),
        _ => Err(errors::invalid_parameter(format!(
            "The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination={arn})) is invalid. Destination ARNs must be SQS queues, SNS topics, Lambda functions or EventBridge event buses."
        ))),
    }
}

impl State {
    /// Saves an event for asynchronous invocation and starts working on it; returns
    /// once the event is durable.
    pub(crate) async fn enqueue_event(
        self: &Arc<Self>,
        function_arn: String,
        request_id: String,
        payload: String,
        client_context: Option<String>,
    ) -> Result<(), AwsError> {
        let now = now_millis();
        let ev = PendingEvent { request_id, function_arn, payload, client_context, attempts: 0, received_ms: now, next_attempt_ms: now };
        self.save_record(Table::AsyncEvents, &ev.request_id.clone(), &ev).await?;
        tokio::spawn(process(self.clone(), ev));
        Ok(())
    }

    /// Restarts the events a previous run left pending.
    pub(crate) fn resume_events(self: &Arc<Self>, pending: Vec<PendingEvent>) {
        for ev in pending {
            tokio::spawn(process(self.clone(), ev));
        }
    }

    pub(crate) async fn put_event_invoke_config(&self, ctx: &RequestContext, v: Value, replace: bool) -> Result<Value, AwsError> {
        let (f, qualifier, arn) = self.config_target(ctx, &v)?;
        let existing = f.event_invoke_configs.get(&qualifier).cloned();
        if !replace && existing.is_none() {
            return Err(no_event_invoke_config(&arn));
        }
        let mut cfg = existing.unwrap_or_default();
        cfg.apply(&v, replace)?;
        let out = cfg.to_json(&arn);
        self.update_meta(&f, move |rec| {
            rec.event_invoke_configs.insert(qualifier.clone(), cfg.clone());
        })
        .await?;
        Ok(out)
    }

    pub(crate) fn get_event_invoke_config(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let (f, qualifier, arn) = self.config_target(ctx, &v)?;
        f.event_invoke_configs.get(&qualifier).map(|c| c.to_json(&arn)).ok_or_else(|| no_event_invoke_config(&arn))
    }

    pub(crate) async fn delete_event_invoke_config(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let (f, qualifier, arn) = self.config_target(ctx, &v)?;
        if !f.event_invoke_configs.contains_key(&qualifier) {
            return Err(no_event_invoke_config(&arn));
        }
        self.update_meta(&f, move |rec| {
            rec.event_invoke_configs.remove(&qualifier);
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) fn list_event_invoke_configs(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let (f, _, _) = self.config_target(ctx, &v)?;
        let list: Vec<Value> = f.event_invoke_configs.iter().map(|(q, c)| c.to_json(&format!("{}:{q}", f.arn()))).collect();
        Ok(json!({ "FunctionEventInvokeConfigs": list }))
    }

    /// The function's `$LATEST` record (where per-qualifier settings live), the
    /// qualifier a configuration call names (`$LATEST` when none), and its ARN.
    fn config_target(&self, ctx: &RequestContext, v: &Value) -> Result<(Arc<FunctionRecord>, String, String), AwsError> {
        let name = str_member(v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let r = parse_ref(ctx, name, str_member(v, "Qualifier"))?;
        self.function(&r)?; // the qualifier must exist
        let latest = self.latest_of(&r)?;
        let qualifier = r.qualifier.unwrap_or_else(|| "$LATEST".to_string());
        let arn = format!("{}:{qualifier}", latest.arn());
        Ok((latest, qualifier, arn))
    }

    /// The event invoke configuration that applies to an invocation of `invoked_arn`.
    fn event_invoke_config_for(&self, invoked_arn: &str) -> EventInvokeConfig {
        let ctx = nimbus_core::targets::internal_context("", "");
        let Ok(r) = parse_ref(&ctx, invoked_arn, None) else { return EventInvokeConfig::default() };
        let qualifier = r.qualifier.clone().unwrap_or_else(|| "$LATEST".to_string());
        self.latest_of(&r).ok().and_then(|latest| latest.event_invoke_configs.get(&qualifier).cloned()).unwrap_or_default()
    }
}

fn no_event_invoke_config(arn: &str) -> AwsError {
    AwsError::new(404, "ResourceNotFoundException", format!("The function {arn} doesn't have an EventInvokeConfig"))
}

/// How an asynchronous invocation ended.
enum Ending {
    Success,
    RetriesExhausted,
    EventAgeExceeded,
}

/// Works one event to its end: attempts with backoff, then its destination.
async fn process(state: Arc<State>, mut ev: PendingEvent) {
    let ctx = nimbus_core::targets::internal_context("", "");
    loop {
        let wait = ev.next_attempt_ms.saturating_sub(now_millis());
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        let f = match parse_ref(&ctx, &ev.function_arn, None).and_then(|r| state.function(&r)) {
            Ok(f) => f,
            Err(_) => {
                tracing::info!(function = %ev.function_arn, request_id = %ev.request_id, "dropping event: the function no longer exists");
                state.forget_event(&ev).await;
                return;
            }
        };
        let cfg = state.event_invoke_config_for(&ev.function_arn);
        let max_age_ms = u64::from(cfg.maximum_event_age.unwrap_or(DEFAULT_MAX_EVENT_AGE)) * 1000;
        if now_millis().saturating_sub(ev.received_ms) > max_age_ms {
            finish(&state, &f, &cfg, &ev, Ending::EventAgeExceeded, None).await;
            return;
        }
        let payload = Bytes::from(ev.payload.clone().into_bytes());
        let result = crate::invoke::run(&state, &f, &ev.function_arn, ev.request_id.clone(), payload, ev.client_context.clone()).await;
        match result {
            Err(e) if e.code == "TooManyRequestsException" => {
                ev.next_attempt_ms = now_millis() + THROTTLE_RETRY_MS;
                continue;
            }
            Err(e) => {
                tracing::warn!(function = %f.name, request_id = %ev.request_id, error = %e, "event invocation could not run");
                ev.attempts += 1;
                if !retry(&state, &f, &cfg, &mut ev, None).await {
                    return;
                }
            }
            Ok(out) if out.function_error.is_none() => {
                ev.attempts += 1;
                finish(&state, &f, &cfg, &ev, Ending::Success, Some(&out)).await;
                return;
            }
            Ok(out) => {
                ev.attempts += 1;
                tracing::info!(function = %f.name, request_id = %ev.request_id, attempt = ev.attempts, "event invocation failed");
                if !retry(&state, &f, &cfg, &mut ev, Some(&out)).await {
                    return;
                }
            }
        }
    }
}

/// Schedules the next attempt and returns true, or ends the event and returns false.
async fn retry(
    state: &Arc<State>,
    f: &FunctionRecord,
    cfg: &EventInvokeConfig,
    ev: &mut PendingEvent,
    out: Option<&crate::invoke::InvokeResult>,
) -> bool {
    let max_retries = cfg.maximum_retry_attempts.unwrap_or(DEFAULT_MAX_RETRIES);
    if ev.attempts > max_retries {
        finish(state, f, cfg, ev, Ending::RetriesExhausted, out).await;
        return false;
    }
    let delay = RETRY_DELAYS_MS.get(ev.attempts as usize - 1).copied().unwrap_or(2_000);
    ev.next_attempt_ms = now_millis() + delay;
    let _ = state.save_record(Table::AsyncEvents, &ev.request_id.clone(), &*ev).await;
    true
}

/// Sends the invocation record to its destination (or the event to the DLQ) and
/// forgets the event.
async fn finish(
    state: &Arc<State>,
    f: &FunctionRecord,
    cfg: &EventInvokeConfig,
    ev: &PendingEvent,
    ending: Ending,
    out: Option<&crate::invoke::InvokeResult>,
) {
    let destination = match ending {
        Ending::Success => cfg.on_success.clone(),
        _ => cfg.on_failure.clone(),
    };
    if let Some(dest) = destination {
        let record = invocation_record(f, ev, &ending, out);
        let delivery = Delivery { body: record.to_string(), source_arn: Some(f.arn()), ..Default::default() };
        if let Err(e) = state.targets.deliver(&dest, delivery).await {
            tracing::warn!(function = %f.name, destination = %dest, error = %e, "cannot deliver the invocation record");
        }
    } else if !matches!(ending, Ending::Success) {
        if let Some(dlq) = &f.dead_letter_target {
            let (code, message) = match out {
                Some(o) => {
                    let v: Value = serde_json::from_slice(&o.payload).unwrap_or(Value::Null);
                    ("200".to_string(), str_member(&v, "errorMessage").unwrap_or("Unhandled").to_string())
                }
                None => ("500".to_string(), "Event age exceeded".to_string()),
            };
            let mut attributes = BTreeMap::new();
            attributes.insert("RequestID".to_string(), ("String".to_string(), ev.request_id.clone()));
            attributes.insert("ErrorCode".to_string(), ("Number".to_string(), code));
            attributes.insert("ErrorMessage".to_string(), ("String".to_string(), message));
            let delivery = Delivery { body: ev.payload.clone(), attributes, source_arn: Some(f.arn()), ..Default::default() };
            if let Err(e) = state.targets.deliver(dlq, delivery).await {
                tracing::warn!(function = %f.name, dead_letter_queue = %dlq, error = %e, "cannot deliver to the dead-letter queue");
            }
        }
    }
    state.forget_event(ev).await;
}

/// AWS's invocation record, as destinations receive it.
fn invocation_record(f: &FunctionRecord, ev: &PendingEvent, ending: &Ending, out: Option<&crate::invoke::InvokeResult>) -> Value {
    let condition = match ending {
        Ending::Success => "Success",
        Ending::RetriesExhausted => "RetriesExhausted",
        Ending::EventAgeExceeded => "EventAgeExceeded",
    };
    let request_payload: Value = serde_json::from_str(&ev.payload).unwrap_or_else(|_| Value::String(ev.payload.clone()));
    let mut record = json!({
        "version": "1.0",
        "timestamp": crate::time::iso_z(now_millis()),
        "requestContext": {
            "requestId": ev.request_id,
            "functionArn": f.qualified_arn(),
            "condition": condition,
            "approximateInvokeCount": ev.attempts,
        },
        "requestPayload": request_payload,
    });
    if let (Some(o), Value::Object(m)) = (out, &mut record) {
        let mut response_context = json!({ "statusCode": 200, "executedVersion": f.version });
        if let (Some(fe), Value::Object(rc)) = (o.function_error, &mut response_context) {
            rc.insert("functionError".into(), json!(fe));
        }
        m.insert("responseContext".into(), response_context);
        let response: Value = serde_json::from_slice(&o.payload)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&o.payload).into_owned()));
        m.insert("responsePayload".into(), response);
    }
    record
}

impl State {
    async fn forget_event(&self, ev: &PendingEvent) {
        let _ = self.delete_record(Table::AsyncEvents, &ev.request_id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validation() {
        let mut c = EventInvokeConfig::default();
        c.apply(&json!({"MaximumRetryAttempts": 1, "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:dlq"}}}), true).unwrap();
        assert_eq!(c.maximum_retry_attempts, Some(1));
        assert_eq!(c.on_failure.as_deref(), Some("arn:aws:sqs:us-east-1:000000000000:dlq"));
        assert!(c.apply(&json!({"MaximumRetryAttempts": 3}), false).is_err());
        assert!(c.apply(&json!({"MaximumEventAgeInSeconds": 59}), false).is_err());
        assert!(c.apply(&json!({"DestinationConfig": {"OnSuccess": {"Destination": "arn:aws:s3:::bucket"}}}), false).is_err());
        c.apply(&json!({"MaximumEventAgeInSeconds": 60}), false).unwrap();
        assert_eq!(c.maximum_retry_attempts, Some(1), "update keeps what it does not name");
        c.apply(&json!({"MaximumEventAgeInSeconds": 60}), true).unwrap();
        assert_eq!(c.maximum_retry_attempts, None, "put replaces the whole configuration");
    }
}
