//! PutLogEvents: AWS's batch rules, then the events that are neither too old, expired
//! nor too new are stored (durably before the answer).
//!
//! The rules are today's API reference: events more than 14 days old, older than the
//! group's retention or more than 2 hours ahead are rejected while the rest are kept;
//! only the valid events must fit in 24 hours; an event may be up to 1 MB, which the
//! batch's 1,048,576 bytes (26 per event included) already bounds.

use std::sync::Arc;

use nimbus_core::{now_millis, AwsError, RequestContext};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::model::{Event, EVENT_OVERHEAD};
use crate::persist::{self, StreamRow};
use crate::{errors, validate, State};

pub const MAX_BATCH_EVENTS: usize = 10_000;
pub const MAX_BATCH_BYTES: usize = 1_048_576;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
pub const MAX_SPAN_MS: i64 = DAY_MS;
pub const MAX_AGE_MS: i64 = 14 * DAY_MS;
pub const MAX_FUTURE_MS: i64 = 2 * HOUR_MS;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsInput {
    log_group_name: String,
    log_stream_name: String,
    log_events: Vec<InputEvent>,
    /// Accepted and ignored, as AWS now does.
    #[serde(default)]
    #[allow(dead_code)]
    sequence_token: Option<String>,
}

#[derive(Deserialize)]
pub struct InputEvent {
    pub timestamp: i64,
    pub message: String,
}

/// Which events of a (chronological) batch are rejected, by AWS's index rules.
#[derive(Debug, Default, PartialEq)]
pub struct Rejections {
    /// Events `[0, n)` are older than 14 days.
    pub too_old_end: Option<usize>,
    /// Events `[0, n)` are older than the group's retention.
    pub expired_end: Option<usize>,
    /// Events `[n, len)` are more than 2 hours in the future.
    pub too_new_start: Option<usize>,
}

impl Rejections {
    /// The events that are accepted: `[from, to)`.
    pub fn accepted(&self, len: usize) -> (usize, usize) {
        let from = self.too_old_end.unwrap_or(0).max(self.expired_end.unwrap_or(0));
        let to = self.too_new_start.unwrap_or(len).max(from);
        (from, to)
    }

    fn to_json(&self) -> Option<Value> {
        let mut m = serde_json::Map::new();
        if let Some(n) = self.too_new_start {
            m.insert("tooNewLogEventStartIndex".into(), n.into());
        }
        if let Some(n) = self.too_old_end {
            m.insert("tooOldLogEventEndIndex".into(), n.into());
        }
        if let Some(n) = self.expired_end {
            m.insert("expiredLogEventEndIndex".into(), n.into());
        }
        (!m.is_empty()).then_some(Value::Object(m))
    }
}

/// Checks the batch as a whole; any failure rejects the whole request.
pub fn check_batch(events: &[InputEvent]) -> Result<(), AwsError> {
    if events.is_empty() {
        return Err(errors::constraint("[]", "logEvents", "Member must have length greater than or equal to 1"));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(errors::constraint(
            "[...]",
            "logEvents",
            &format!("Member must have length less than or equal to {MAX_BATCH_EVENTS}"),
        ));
    }
    let mut total = 0usize;
    for (i, e) in events.iter().enumerate() {
        if e.message.is_empty() {
            return Err(errors::constraint(
                "",
                &format!("logEvents.{}.member.message", i + 1),
                "Member must have length greater than or equal to 1",
            ));
        }
        if e.timestamp < 0 {
            return Err(errors::constraint(
                &e.timestamp.to_string(),
                &format!("logEvents.{}.member.timestamp", i + 1),
                "Member must have value greater than or equal to 0",
            ));
        }
        total += e.message.len() + EVENT_OVERHEAD;
    }
    if total > MAX_BATCH_BYTES {
        return Err(errors::invalid_parameter(format!(
            "Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(errors::invalid_parameter(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    Ok(())
}

/// The valid (accepted) events of a batch may not span more than 24 hours.
pub fn check_span(accepted: &[InputEvent]) -> Result<(), AwsError> {
    if let (Some(first), Some(last)) = (accepted.first(), accepted.last()) {
        if last.timestamp - first.timestamp > MAX_SPAN_MS {
            return Err(errors::invalid_parameter(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
            ));
        }
    }
    Ok(())
}

/// Classifies a chronological batch against the clock and the group's retention.
pub fn classify(timestamps: &[i64], now: i64, retention_days: Option<u32>) -> Rejections {
    let too_old = timestamps.partition_point(|&t| t < now - MAX_AGE_MS);
    let expired = retention_days.map_or(0, |d| timestamps.partition_point(|&t| t < now - i64::from(d) * DAY_MS));
    let too_new = timestamps.partition_point(|&t| t <= now + MAX_FUTURE_MS);
    Rejections {
        too_old_end: (too_old > 0).then_some(too_old),
        expired_end: (expired > 0).then_some(expired),
        too_new_start: (too_new < timestamps.len()).then_some(too_new),
    }
}

impl State {
    pub async fn put_log_events(&self, ctx: &RequestContext, req: PutLogEventsInput) -> Result<Value, AwsError> {
        validate::group_name(&req.log_group_name, "logGroupName")?;
        validate::stream_name(&req.log_stream_name, "logStreamName")?;
        check_batch(&req.log_events)?;
        let g = self.group(ctx, &req.log_group_name)?;
        let now = now_millis();
        let (rejections, written, token) = {
            let mut inner = g.inner.lock();
            let retention = inner.retention_days;
            let stream = inner.streams.get_mut(&req.log_stream_name).ok_or_else(errors::stream_not_found)?;
            let timestamps: Vec<i64> = req.log_events.iter().map(|e| e.timestamp).collect();
            let rejections = classify(&timestamps, now as i64, retention);
            let (from, to) = rejections.accepted(req.log_events.len());
            check_span(&req.log_events[from..to])?;
            let batch: Vec<Event> = req.log_events[from..to]
                .iter()
                .map(|e| Event {
                    timestamp: e.timestamp as u64,
                    seq: self.next_seq(),
                    ingested: now,
                    message: Arc::from(e.message.as_str()),
                })
                .collect();
            stream.insert(&batch);
            stream.upload_token += 1;
            let row = StreamRow::of(&g.arn, stream);
            let token = stream.sequence_token();
            // Queued under the lock so the database sees batches in the order memory did.
            let (arn, name) = (g.arn.clone(), req.log_stream_name.clone());
            let written = self.store.write(move |tx| {
                persist::insert_events(tx, &arn, &name, &batch)?;
                persist::save_stream(tx, &row)
            });
            (rejections, written, token)
        };
        written.await.map_err(errors::store)?;
        let mut out = json!({ "nextSequenceToken": token });
        if let Some(r) = rejections.to_json() {
            out["rejectedLogEventsInfo"] = r;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, msg: &str) -> InputEvent {
        InputEvent { timestamp: ts, message: msg.to_string() }
    }

    #[test]
    fn batch_limits() {
        let now = 1_800_000_000_000;
        assert!(check_batch(&[ev(now, "a"), ev(now, "b")]).is_ok());
        assert!(check_batch(&[]).is_err());
        let e = check_batch(&[ev(now, "b"), ev(now - 1, "a")]).unwrap_err();
        assert!(e.message.contains("chronological"), "{}", e.message);
        let e = check_span(&[ev(now, "a"), ev(now + DAY_MS + 1, "b")]).unwrap_err();
        assert!(e.message.contains("24 hours"));
        assert!(check_span(&[ev(now, "a"), ev(now + DAY_MS, "b")]).is_ok());
        let many: Vec<InputEvent> = (0..=MAX_BATCH_EVENTS).map(|_| ev(now, "x")).collect();
        assert!(check_batch(&many).is_err());
        assert!(check_batch(&many[..MAX_BATCH_EVENTS]).is_ok());
        assert!(check_batch(&[ev(now, "")]).is_err());
    }

    #[test]
    fn batch_size_counts_26_bytes_per_event() {
        let now = 1_800_000_000_000;
        // 4 events of (262,118 + 26) = 262,144 bytes each: exactly 1,048,576.
        let big = "x".repeat(262_144 - EVENT_OVERHEAD);
        let four: Vec<InputEvent> = (0..4).map(|_| ev(now, &big)).collect();
        assert!(check_batch(&four).is_ok());
        let mut five = four;
        five.push(ev(now, "y"));
        assert!(check_batch(&five).unwrap_err().message.contains("Upload too large"));
        // one event of the whole batch size is allowed (up to 1 MB each) ...
        assert!(check_batch(&[ev(now, &"x".repeat(MAX_BATCH_BYTES - EVENT_OVERHEAD))]).is_ok());
        // ... one byte more is not
        assert!(check_batch(&[ev(now, &"x".repeat(MAX_BATCH_BYTES - EVENT_OVERHEAD + 1))]).is_err());
    }

    #[test]
    fn classification_by_age_retention_and_future() {
        let now = 1_800_000_000_000;
        let ts = [now - 15 * DAY_MS, now - 3 * DAY_MS, now - 1000, now, now + 3 * HOUR_MS];
        let r = classify(&ts, now, None);
        assert_eq!(r, Rejections { too_old_end: Some(1), expired_end: None, too_new_start: Some(4) });
        assert_eq!(r.accepted(ts.len()), (1, 4));
        let r = classify(&ts, now, Some(1));
        assert_eq!(r.expired_end, Some(2));
        assert_eq!(r.accepted(ts.len()), (2, 4));
        assert_eq!(classify(&[now], now, Some(1)), Rejections::default());
        let all_new = classify(&[now + 3 * HOUR_MS], now, None);
        assert_eq!(all_new.accepted(1), (0, 0));
    }
}
