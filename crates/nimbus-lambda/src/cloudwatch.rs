//! Function logs to CloudWatch Logs: each environment writes to `/aws/lambda/<name>`,
//! stream `YYYY/MM/DD/[<version>]<id>`, through the Logs service's own operations
//! (by way of the target registry), in the order its invocations ran.

use nimbus_core::targets::{internal_context, TargetRegistry};
use nimbus_core::{now_millis, AwsError};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::functions::FunctionRecord;

/// PutLogEvents takes at most this many events per call.
const MAX_EVENTS: usize = 10_000;

/// Starts the writer of one environment's stream; it ends when the environment (the
/// sender) is gone.
pub fn writer(targets: TargetRegistry, f: &FunctionRecord, stream: String) -> mpsc::UnboundedSender<String> {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let ctx = internal_context(&f.account, &f.region);
    let group = f.log_group();
    tokio::spawn(async move {
        let mut ready = false;
        while let Some(log) = rx.recv().await {
            if !ready {
                ready = create(&targets, &ctx, "CreateLogGroup", json!({ "logGroupName": group })).await
                    && create(&targets, &ctx, "CreateLogStream", json!({ "logGroupName": group, "logStreamName": stream })).await;
                if !ready {
                    continue;
                }
            }
            let now = now_millis();
            let events: Vec<Value> = log
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| json!({ "timestamp": now, "message": l }))
                .collect();
            for chunk in events.chunks(MAX_EVENTS) {
                let input = json!({ "logGroupName": group, "logStreamName": stream, "logEvents": chunk });
                if let Err(e) = targets.call("logs", &ctx, "PutLogEvents", input).await {
                    tracing::debug!(group = %group, stream = %stream, error = %e, "cannot write function logs");
                }
            }
        }
    });
    tx
}

/// Creates a group or stream; true when it exists afterwards.
async fn create(targets: &TargetRegistry, ctx: &nimbus_core::RequestContext, op: &str, input: Value) -> bool {
    match targets.call("logs", ctx, op, input).await {
        Ok(_) => true,
        Err(AwsError { code, .. }) if code == "ResourceAlreadyExistsException" => true,
        Err(e) => {
            tracing::debug!(operation = op, error = %e, "CloudWatch Logs is not taking function logs");
            false
        }
    }
}
