//! Reading events: GetLogEvents (one stream, paged both ways by position tokens) and
//! FilterLogEvents (a group's streams interleaved by time, matched by a filter pattern).

use nimbus_core::{AwsError, RequestContext};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::filter::Pattern;
use crate::model::{Event, EventKey, Stream};
use crate::tokens::{self, StreamToken};
use crate::{errors, validate, State};

/// Most events one read returns (AWS: up to 10,000, or 1 MB).
const MAX_EVENTS: i64 = 10_000;
const MAX_RESPONSE_BYTES: usize = 1_048_576;
/// The model's limit on `filterPattern`.
const MAX_PATTERN_CHARS: usize = 1024;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsInput {
    #[serde(default)]
    log_group_name: Option<String>,
    #[serde(default)]
    log_group_identifier: Option<String>,
    log_stream_name: String,
    #[serde(default)]
    start_time: Option<i64>,
    #[serde(default)]
    end_time: Option<i64>,
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    start_from_head: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsInput {
    #[serde(default)]
    log_group_name: Option<String>,
    #[serde(default)]
    log_group_identifier: Option<String>,
    #[serde(default)]
    log_stream_names: Option<Vec<String>>,
    #[serde(default)]
    log_stream_name_prefix: Option<String>,
    #[serde(default)]
    start_time: Option<i64>,
    #[serde(default)]
    end_time: Option<i64>,
    #[serde(default)]
    filter_pattern: Option<String>,
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

fn time(v: Option<i64>, member: &str) -> Result<Option<u64>, AwsError> {
    match v {
        Some(t) if t < 0 => Err(errors::constraint(&t.to_string(), member, "Member must have value greater than or equal to 0")),
        other => Ok(other.map(|t| t as u64)),
    }
}

/// How many of the events (by message) fit one response: at most `limit` and 1 MB,
/// but never none while there are any.
fn fitting<'a>(messages: impl Iterator<Item = &'a str>, limit: usize) -> usize {
    let mut bytes = 0;
    let mut n = 0;
    for m in messages.take(limit) {
        bytes += m.len() + crate::model::EVENT_OVERHEAD;
        if bytes > MAX_RESPONSE_BYTES && n > 0 {
            break;
        }
        n += 1;
    }
    n
}

impl State {
    pub fn get_log_events(&self, ctx: &RequestContext, req: GetLogEventsInput) -> Result<Value, AwsError> {
        validate::stream_name(&req.log_stream_name, "logStreamName")?;
        let limit = validate::limit(req.limit, 1, MAX_EVENTS, MAX_EVENTS)?;
        let start = time(req.start_time, "startTime")?;
        let end = time(req.end_time, "endTime")?;
        let token = req.next_token.as_deref().map(StreamToken::decode).transpose()?;
        let g = self.group_named(ctx, req.log_group_name.as_deref(), req.log_group_identifier.as_deref())?;
        let inner = g.inner.lock();
        let stream = inner.streams.get(&req.log_stream_name).ok_or_else(errors::stream_not_found)?;
        let from_head = req.start_from_head.unwrap_or(false);
        let page = tokens::stream_page(&stream.events, start, end, token, limit, from_head, MAX_RESPONSE_BYTES);
        let events: Vec<Value> = page
            .events
            .iter()
            .map(|e| json!({ "timestamp": e.timestamp, "message": &*e.message, "ingestionTime": e.ingested }))
            .collect();
        Ok(json!({
            "events": events,
            "nextForwardToken": page.forward.encode(),
            "nextBackwardToken": page.backward.encode(),
        }))
    }

    pub fn filter_log_events(&self, ctx: &RequestContext, req: FilterLogEventsInput) -> Result<Value, AwsError> {
        if req.log_stream_names.is_some() && req.log_stream_name_prefix.is_some() {
            return Err(errors::invalid_parameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
            ));
        }
        if let Some(names) = &req.log_stream_names {
            if names.is_empty() || names.len() > 100 {
                return Err(errors::constraint("[...]", "logStreamNames", "Member must have length between 1 and 100"));
            }
            for n in names {
                validate::stream_name(n, "logStreamNames.member")?;
            }
        }
        if let Some(p) = &req.log_stream_name_prefix {
            validate::stream_name(p, "logStreamNamePrefix")?;
        }
        let limit = validate::limit(req.limit, 1, MAX_EVENTS, MAX_EVENTS)?;
        let start = time(req.start_time, "startTime")?;
        let end = time(req.end_time, "endTime")?;
        let pattern_text = req.filter_pattern.as_deref().unwrap_or("");
        if pattern_text.chars().count() > MAX_PATTERN_CHARS {
            return Err(errors::constraint(
                pattern_text,
                "filterPattern",
                &format!("Member must have length less than or equal to {MAX_PATTERN_CHARS}"),
            ));
        }
        let pattern = Pattern::parse(pattern_text)
            .map_err(|e| errors::invalid_parameter(format!("Invalid filter pattern: {e}")))?;
        let after: Option<EventKey> = req.next_token.as_deref().map(tokens::decode_filter_token).transpose()?;
        let g = self.group_named(ctx, req.log_group_name.as_deref(), req.log_group_identifier.as_deref())?;
        let inner = g.inner.lock();
        let streams: Vec<&Stream> = match (&req.log_stream_names, &req.log_stream_name_prefix) {
            (Some(names), _) => names.iter().filter_map(|n| inner.streams.get(n)).collect(),
            (None, Some(prefix)) => inner
                .streams
                .range(prefix.clone()..)
                .take_while(|(n, _)| n.starts_with(prefix.as_str()))
                .map(|(_, s)| s)
                .collect(),
            (None, None) => inner.streams.values().collect(),
        };
        // One more than the page, to know whether another page follows.
        let mut hits: Vec<(&Stream, &Event)> = Vec::new();
        for s in &streams {
            let lo = start.map_or(0, |t| s.events.partition_point(|e| e.timestamp < t));
            let hi = end.map_or(s.events.len(), |t| s.events.partition_point(|e| e.timestamp < t)).max(lo);
            let window = &s.events[lo..hi];
            let from = after.map_or(0, |k| window.partition_point(|e| e.key() < k));
            hits.extend(window[from..].iter().filter(|e| pattern.matches(&e.message)).map(|e| (*s, e)));
        }
        hits.sort_by_key(|(_, e)| e.key());
        let n = fitting(hits.iter().map(|(_, e)| &*e.message), limit);
        let events: Vec<Value> = hits[..n]
            .iter()
            .map(|(s, e)| {
                json!({
                    "logStreamName": s.name,
                    "timestamp": e.timestamp,
                    "message": &*e.message,
                    "ingestionTime": e.ingested,
                    "eventId": tokens::event_id(e),
                })
            })
            .collect();
        // "As of May 15, 2020, this parameter is no longer supported. This parameter
        // returns an empty list." (API reference, FilterLogEvents)
        let mut out = json!({ "events": events, "searchedLogStreams": [] });
        if let (true, Some((_, last))) = (n < hits.len(), n.checked_sub(1).and_then(|i| hits.get(i))) {
            out["nextToken"] = tokens::encode_filter_token((last.timestamp, last.seq + 1)).into();
        }
        Ok(out)
    }
}
