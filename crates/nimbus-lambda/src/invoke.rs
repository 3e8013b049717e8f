//! Invoke: RequestResponse, Event (in the background, retried) and DryRun.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use nimbus_core::{now_millis, AwsError, RequestContext};
use serde_json::{json, Map, Value};

use crate::environment;
use crate::errors;
use crate::functions::{parse_ref, str_member, FunctionRecord};
use crate::logs::{self, Report};
use crate::runtime_api::{Invocation, Outcome, MAX_RESPONSE};
use crate::State;

/// Largest synchronous request payload (AWS: 6 MB).
const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Largest asynchronous request payload (AWS: 256 KB).
const MAX_ASYNC_PAYLOAD: usize = 256 * 1024;
/// How long a cold environment may take to initialise before the invocation's clock starts.
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// What one invocation produced.
#[derive(Debug)]
pub struct InvokeResult {
    pub payload: Vec<u8>,
    /// `Unhandled` when the function failed.
    pub function_error: Option<&'static str>,
    pub log: String,
}

pub(crate) async fn invoke(state: &Arc<State>, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
    let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
    let f = state.function(&parse_ref(ctx, name, str_member(&v, "Qualifier"))?)?;
    let kind = str_member(&v, "InvocationType").unwrap_or("RequestResponse");
    let payload = match str_member(&v, "Payload") {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| AwsError::new(400, "InvalidRequestContentException", "Could not decode the request payload."))?,
        None => Vec::new(),
    };
    let limit = if kind == "Event" { MAX_ASYNC_PAYLOAD } else { MAX_SYNC_PAYLOAD };
    if payload.len() > limit {
        let op = if kind == "Event" { "InvokeAsync" } else { "InvokeFunction" };
        return Err(errors::too_large(&format!("Request must be smaller than {limit} bytes for the {op} operation")));
    }
    if !payload.is_empty() {
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
            return Err(AwsError::new(
                400,
                "InvalidRequestContentException",
                format!("Could not parse request body into json: Could not parse payload into json: {e}"),
            ));
        }
    }
    let client_context = str_member(&v, "ClientContext")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    match kind {
        "DryRun" => Ok(json!({"StatusCode": 204})),
        "Event" => {
            let payload = String::from_utf8(payload)
                .map_err(|_| AwsError::new(400, "InvalidRequestContentException", "Could not decode the request payload."))?;
            let r = parse_ref(ctx, name, str_member(&v, "Qualifier"))?;
            state.enqueue_event(r.arn(), ctx.request_id.clone(), payload, client_context).await?;
            drop(f);
            Ok(json!({"StatusCode": 202}))
        }
        "RequestResponse" => {
            let invoked = parse_ref(ctx, name, str_member(&v, "Qualifier"))?.arn();
            let out = run(state, &f, &invoked, ctx.request_id.clone(), Bytes::from(payload), client_context).await?;
            let mut m = Map::new();
            m.insert("StatusCode".into(), json!(200));
            if let Some(fe) = out.function_error {
                m.insert("FunctionError".into(), json!(fe));
            }
            if str_member(&v, "LogType") == Some("Tail") {
                m.insert("LogResult".into(), json!(logs::tail(&out.log)));
            }
            m.insert("ExecutedVersion".into(), json!(f.version));
            m.insert("Payload".into(), json!(base64::engine::general_purpose::STANDARD.encode(&out.payload)));
            Ok(Value::Object(m))
        }
        other => Err(errors::validation(format!(
            "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        ))),
    }
}

/// Resolves when the environment's resident memory passes the function's MemorySize:
/// the cap AWS enforces with a cgroup, here sampled every 20 ms (portable, and enough
/// to catch a handler that keeps growing; a spike shorter than that can slip by).
async fn exceeds_memory(env: &environment::Environment, memory_size_mb: u32) {
    let limit_kb = u64::from(memory_size_mb) * 1024;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tick.tick().await;
        if env.resident_kb().is_some_and(|kb| kb > limit_kb) {
            return;
        }
    }
}

/// Lets the environment's output of this invocation reach its log: until the end
/// marker of nimbus's bootstraps; for a custom runtime, whose output was written before
/// it posted its response, until the pipe holds nothing unread (at most 5 ms).
async fn wait_output(env: &environment::Environment, request_id: &str) {
    if env.marks_ends {
        env.log.wait_end(request_id, Duration::from_millis(200)).await;
        return;
    }
    for _ in 0..5 {
        if env.unread_output() == 0 {
            // The reader thread may still be filing the last line it read: a timer tick.
            tokio::time::sleep(Duration::from_micros(200)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn error_payload(error_type: &str, message: String) -> Vec<u8> {
    json!({"errorMessage": message, "errorType": error_type}).to_string().into_bytes()
}

/// Runs one invocation in a warm environment, or a new one.
///
/// `invoked_arn` is the ARN as the caller named the function (the runtime reports it
/// as the invoked function ARN: unqualified, or with the version or alias used).
pub async fn run(
    state: &Arc<State>,
    f: &FunctionRecord,
    invoked_arn: &str,
    request_id: String,
    payload: Bytes,
    client_context: Option<String>,
) -> Result<InvokeResult, AwsError> {
    // Reserved concurrency is the function's, whichever version runs.
    let reserved = state.functions.read().get(&f.key()).and_then(|latest| latest.reserved_concurrency);
    // The unreserved pool matters only to functions without a reservation.
    let unreserved_pool = match reserved {
        Some(_) => 0,
        None => crate::concurrency::ACCOUNT_LIMIT.saturating_sub(state.reserved_total(&f.account, &f.region)),
    };
    let _permit = state.limiter.acquire(&f.arn(), reserved, unreserved_pool).ok_or_else(errors::throttled)?;
    let (env, cold) = match state.pool.take(&f.qualified_arn(), &f.revision_id) {
        Some(e) => (e, false),
        None => match environment::spawn(state, f).await {
            Ok(e) => (e, true),
            Err(environment::SpawnError::Failed(e)) => return Err(e),
            Err(environment::SpawnError::Entrypoint(message)) => {
                let msg = format!("RequestId: {request_id} Error: {message}");
                let log = format!(
                    "INIT_REPORT Init Duration: 0.00 ms\tPhase: init\tStatus: error\tError Type: Runtime.InvalidEntrypoint\n{msg}\n"
                );
                return Ok(InvokeResult {
                    payload: error_payload("Runtime.InvalidEntrypoint", msg),
                    function_error: Some("Unhandled"),
                    log,
                });
            }
        },
    };
    let timeout = Duration::from_secs(u64::from(f.timeout));
    let (picked_tx, picked_rx) = tokio::sync::oneshot::channel();
    let mut outcome_rx = env.api.dispatch(Invocation {
        request_id: request_id.clone(),
        payload,
        timeout,
        function_arn: invoked_arn.to_string(),
        trace_id: format!(
            "Root=1-{:08x}-{};Parent={};Sampled=0",
            now_millis() / 1000,
            &nimbus_core::ids::uuid4().replace('-', "")[..24],
            &nimbus_core::ids::uuid4().replace('-', "")[..16]
        ),
        client_context,
        picked_up: Some(picked_tx),
    });

    // Until the runtime takes the invocation (init, on a cold start), then the function's timeout.
    let mut started = Instant::now();
    let init_wait = if cold { INIT_LIMIT } else { Duration::from_secs(1) };
    let early = tokio::select! {
        o = &mut outcome_rx => Some(o),
        picked = tokio::time::timeout(init_wait, picked_rx) => {
            match picked {
                Ok(Ok(deadline)) => {
                    started = deadline.checked_sub(timeout).unwrap_or_else(Instant::now);
                    None
                }
                // Init took too long, or the environment died before taking it.
                _ => Some(Ok(Outcome::Exited("init timed out".into()))),
            }
        }
    };
    let mut out_of_memory = false;
    let outcome = match early {
        Some(o) => Some(o),
        None => {
            let remaining = (started + timeout).saturating_duration_since(Instant::now());
            tokio::select! {
                o = tokio::time::timeout(remaining, outcome_rx) => o.ok(),
                _ = exceeds_memory(&env, f.memory_size) => {
                    out_of_memory = true;
                    env.kill();
                    Some(Ok(Outcome::Exited("signal: killed".into())))
                }
            }
        }
    };
    let duration = started.elapsed();
    let init_ms = if cold {
        env.api.first_next.get().map(|t| t.saturating_duration_since(env.spawned).as_secs_f64() * 1000.0)
    } else {
        None
    };
    let max_memory = env.max_memory_mb();

    let mut extra = Vec::new();
    let mut status = None;
    let mut keep = false;
    let (payload, function_error) = match outcome {
        Some(Ok(Outcome::Response(body))) => {
            wait_output(&env, &request_id).await;
            keep = true;
            (body.to_vec(), None)
        }
        Some(Ok(Outcome::Error(body))) => {
            wait_output(&env, &request_id).await;
            keep = true;
            (body.to_vec(), Some("Unhandled"))
        }
        Some(Ok(Outcome::ResponseTooLarge)) => {
            keep = true;
            let msg = format!("Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} bytes).");
            (error_payload("Function.ResponseSizeTooLarge", msg), Some("Unhandled"))
        }
        Some(Ok(Outcome::InitError(body))) => {
            env.log.wait_end("init", Duration::from_millis(200)).await;
            status = Some("error");
            let error_type = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("errorType").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| "Runtime.Unknown".into());
            extra.push(format!("INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {error_type}", init_ms.unwrap_or(0.0)));
            (body.to_vec(), Some("Unhandled"))
        }
        Some(Ok(Outcome::Exited(how))) => {
            env.log.wait_end(logs::EOF, Duration::from_millis(200)).await;
            status = Some(if out_of_memory { "error\tError Type: Runtime.OutOfMemory" } else { "error" });
            let msg = format!("RequestId: {request_id} Error: Runtime exited with error: {how}");
            extra.push(msg.clone());
            let error_type = if out_of_memory { "Runtime.OutOfMemory" } else { "Runtime.ExitError" };
            (error_payload(error_type, msg), Some("Unhandled"))
        }
        Some(Err(_)) => {
            status = Some("error");
            (error_payload("Runtime.Unknown", "The environment stopped unexpectedly.".into()), Some("Unhandled"))
        }
        None => {
            env.kill();
            status = Some("timeout");
            let msg = format!("{} {request_id} Task timed out after {}.00 seconds", crate::time::iso_z(now_millis()), f.timeout);
            extra.push(msg.clone());
            (json!({"errorMessage": msg}).to_string().into_bytes(), Some("Unhandled"))
        }
    };
    let preface = std::mem::take(&mut *env.preface.lock());
    let report = Report {
        request_id: &request_id,
        version: &f.version,
        duration_ms: duration.as_secs_f64() * 1000.0,
        memory_size: f.memory_size,
        max_memory_used_mb: max_memory,
        init_duration_ms: init_ms,
        status,
    };
    let log = logs::compose(env.log.take(), &preface, &extra, &report);
    env.publish_log(log.clone());
    tracing::debug!(function = %f.name, %request_id, cold, environment = %env.id, stream = %env.log_stream, "invoked");
    if keep && !env.has_exited() {
        state.pool.put(env);
    } else {
        env.kill();
    }
    Ok(InvokeResult { payload, function_error, log })
}
