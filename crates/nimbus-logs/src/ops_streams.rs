//! Log stream operations: create, delete, describe.

use nimbus_core::{now_millis, AwsError, RequestContext};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::model::Stream;
use crate::persist::{self, StreamRow};
use crate::{empty, errors, tokens, validate, State};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamInput {
    log_group_name: String,
    log_stream_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsInput {
    #[serde(default)]
    log_group_name: Option<String>,
    #[serde(default)]
    log_group_identifier: Option<String>,
    #[serde(default)]
    log_stream_name_prefix: Option<String>,
    #[serde(default)]
    order_by: Option<String>,
    #[serde(default)]
    descending: Option<bool>,
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

impl State {
    pub async fn create_log_stream(&self, ctx: &RequestContext, req: StreamInput) -> Result<Value, AwsError> {
        validate::group_name(&req.log_group_name, "logGroupName")?;
        validate::stream_name(&req.log_stream_name, "logStreamName")?;
        let g = self.group(ctx, &req.log_group_name)?;
        let row = {
            let mut inner = g.inner.lock();
            if inner.streams.contains_key(&req.log_stream_name) {
                return Err(errors::stream_exists());
            }
            let s = Stream::new(&req.log_stream_name, now_millis());
            let row = StreamRow::of(&g.arn, &s);
            inner.streams.insert(req.log_stream_name, s);
            row
        };
        self.store.write(move |tx| persist::save_stream(tx, &row)).await.map_err(errors::store)?;
        Ok(empty())
    }

    pub async fn delete_log_stream(&self, ctx: &RequestContext, req: StreamInput) -> Result<Value, AwsError> {
        validate::group_name(&req.log_group_name, "logGroupName")?;
        validate::stream_name(&req.log_stream_name, "logStreamName")?;
        let g = self.group(ctx, &req.log_group_name)?;
        {
            let mut inner = g.inner.lock();
            if !inner.streams.contains_key(&req.log_stream_name) {
                return Err(errors::stream_not_found());
            }
            // "deletion protection blocks all deletion operations until it is explicitly disabled"
            if inner.deletion_protection {
                return Err(AwsError::bad_request(
                    "ValidationException",
                    "Cannot delete log stream in a log group with deletion protection enabled. Disable deletion protection first.",
                ));
            }
            inner.streams.remove(&req.log_stream_name);
        }
        let (arn, name) = (g.arn.clone(), req.log_stream_name);
        self.store.write(move |tx| persist::delete_stream(tx, &arn, &name)).await.map_err(errors::store)?;
        Ok(empty())
    }

    pub fn describe_log_streams(&self, ctx: &RequestContext, req: DescribeLogStreamsInput) -> Result<Value, AwsError> {
        let by_time = match req.order_by.as_deref() {
            None | Some("LogStreamName") => false,
            Some("LastEventTime") => true,
            Some(other) => {
                return Err(errors::constraint(
                    other,
                    "orderBy",
                    "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
                ))
            }
        };
        if let Some(p) = &req.log_stream_name_prefix {
            validate::stream_name(p, "logStreamNamePrefix")?;
            if by_time {
                return Err(errors::invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix."));
            }
        }
        let limit = validate::limit(req.limit, 1, 50, 50)?;
        let offset = req.next_token.as_deref().map(tokens::decode_offset).transpose()?.unwrap_or(0);
        let g = self.group_named(ctx, req.log_group_name.as_deref(), req.log_group_identifier.as_deref())?;
        let inner = g.inner.lock();
        let prefix = req.log_stream_name_prefix.as_deref().unwrap_or("");
        let mut streams: Vec<&Stream> = inner
            .streams
            .range(prefix.to_string()..)
            .take_while(|(name, _)| name.starts_with(prefix))
            .map(|(_, s)| s)
            .collect();
        if by_time {
            // Streams without events sort first; ties by name keep pages stable.
            streams.sort_by(|a, b| a.last_event.cmp(&b.last_event).then_with(|| a.name.cmp(&b.name)));
        }
        if req.descending.unwrap_or(false) {
            streams.reverse();
        }
        let page: Vec<Value> = streams.iter().skip(offset).take(limit).map(|s| s.describe(&g.arn)).collect();
        let mut out = json!({ "logStreams": page });
        if offset.saturating_add(limit) < streams.len() {
            out["nextToken"] = tokens::encode_offset(offset + limit).into();
        }
        Ok(out)
    }
}
