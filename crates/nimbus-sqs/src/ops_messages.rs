//! Message operations: send, receive (short and long polling), delete and change
//! visibility, single and batched, with dead-letter moves on receive.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use nimbus_core::{ids, now_millis, AwsError, RequestContext};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::attributes::MAX_MESSAGE_SIZE;
use crate::errors;
use crate::message::{self, Attributes, Message};
use crate::ops_queues::store_error;
use crate::persist::{self, ReceiveState};
use crate::queue::{DedupEntry, Queue, DEDUP_WINDOW_MS};
use crate::{empty, State};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendMessageInput {
    queue_url: String,
    #[serde(flatten)]
    entry: SendEntryInput,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendEntryInput {
    #[serde(default)]
    id: String,
    #[serde(default)]
    message_body: Option<String>,
    #[serde(default)]
    delay_seconds: Option<i64>,
    #[serde(default)]
    message_attributes: Attributes,
    #[serde(default)]
    message_system_attributes: Attributes,
    #[serde(default)]
    message_deduplication_id: Option<String>,
    #[serde(default)]
    message_group_id: Option<String>,
}

/// One message to send, from any source (API, batch entry, another service).
pub struct SendEntry {
    pub body: String,
    pub delay: Option<i64>,
    pub attributes: Attributes,
    pub system_attributes: Attributes,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
}

impl TryFrom<SendEntryInput> for SendEntry {
    type Error = AwsError;
    fn try_from(i: SendEntryInput) -> Result<Self, AwsError> {
        let body = i.message_body.filter(|b| !b.is_empty()).ok_or_else(|| AwsError::missing_parameter("MessageBody"))?;
        Ok(SendEntry {
            body,
            delay: i.delay_seconds,
            attributes: i.message_attributes,
            system_attributes: i.message_system_attributes,
            group_id: i.message_group_id,
            dedup_id: i.message_deduplication_id,
        })
    }
}

pub struct SendResult {
    message_id: String,
    md5_of_body: String,
    md5_of_attributes: Option<String>,
    md5_of_system_attributes: Option<String>,
    sequence_number: Option<String>,
}

impl SendResult {
    fn to_json(&self, id: Option<&str>) -> Value {
        let mut m = Map::new();
        if let Some(id) = id {
            m.insert("Id".into(), json!(id));
        }
        m.insert("MessageId".into(), json!(self.message_id));
        m.insert("MD5OfMessageBody".into(), json!(self.md5_of_body));
        if let Some(d) = &self.md5_of_attributes {
            m.insert("MD5OfMessageAttributes".into(), json!(d));
        }
        if let Some(d) = &self.md5_of_system_attributes {
            m.insert("MD5OfMessageSystemAttributes".into(), json!(d));
        }
        if let Some(s) = &self.sequence_number {
            m.insert("SequenceNumber".into(), json!(s));
        }
        Value::Object(m)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchInput<E> {
    queue_url: String,
    #[serde(default = "Vec::new")]
    entries: Vec<E>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReceiveInput {
    queue_url: String,
    #[serde(default)]
    attribute_names: Vec<String>,
    #[serde(default)]
    message_system_attribute_names: Vec<String>,
    #[serde(default)]
    message_attribute_names: Vec<String>,
    #[serde(default)]
    max_number_of_messages: Option<i64>,
    #[serde(default)]
    visibility_timeout: Option<i64>,
    #[serde(default)]
    wait_time_seconds: Option<i64>,
    #[serde(default)]
    receive_request_attempt_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HandleEntry {
    #[serde(default)]
    id: String,
    #[serde(default)]
    receipt_handle: Option<String>,
    #[serde(default)]
    visibility_timeout: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HandleInput {
    queue_url: String,
    #[serde(flatten)]
    entry: HandleEntry,
}

/// Batch-wide checks shared by the three batch operations.
fn check_batch(ids: &[&str], entry_kind: &str) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Err(AwsError::bad_request(
            "EmptyBatchRequest",
            format!("There should be at least one {entry_kind} in the request."),
        ));
    }
    if ids.len() > 10 {
        return Err(AwsError::bad_request(
            "TooManyEntriesInBatchRequest",
            format!("Maximum number of entries per request are 10. You have sent {}.", ids.len()),
        ));
    }
    let mut seen = HashSet::new();
    for id in ids {
        if id.is_empty() || id.len() > 80 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(AwsError::bad_request(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if !seen.insert(*id) {
            return Err(AwsError::bad_request("BatchEntryIdsNotDistinct", format!("Id {id} repeated.")));
        }
    }
    Ok(())
}

fn failed_entry(id: &str, e: &AwsError) -> Value {
    json!({"Id": id, "SenderFault": e.sender_fault, "Code": e.code, "Message": e.message})
}

fn batch_output(successful: Vec<Value>, failed: Vec<Value>) -> Value {
    json!({"Successful": successful, "Failed": failed})
}

/// A message checked and digested outside the queue lock.
struct Prepared {
    body: Arc<str>,
    md5_of_body: String,
    attributes: Arc<Attributes>,
    md5_of_attributes: Option<String>,
    system_attributes: Arc<Attributes>,
    md5_of_system_attributes: Option<String>,
    size: usize,
    entry: SendEntry,
}

fn prepare(mut entry: SendEntry) -> Result<Prepared, AwsError> {
    message::check_characters(&entry.body)?;
    let attr_size = message::check_attributes(&entry.attributes)?;
    for (name, v) in &entry.system_attributes {
        if name != "AWSTraceHeader" || v.data_type != "String" || v.string_value.as_deref().is_none_or(str::is_empty) {
            return Err(AwsError::invalid_parameter(format!("Message system attribute name '{name}' is invalid.")));
        }
    }
    if let Some(d) = entry.delay {
        if !(0..=900).contains(&d) {
            return Err(errors::invalid_parameter("DelaySeconds", &d.to_string(), "DelaySeconds must be >= 0 and <= 900."));
        }
    }
    for (name, v) in [("MessageDeduplicationId", &entry.dedup_id), ("MessageGroupId", &entry.group_id)] {
        if let Some(v) = v {
            if v.is_empty() || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(errors::invalid_parameter(
                    name,
                    v,
                    &format!("{name} can only include alphanumeric and punctuation characters. 1 to 128 in length."),
                ));
            }
        }
    }
    let md5_of_body = message::md5_hex(entry.body.as_bytes());
    let size = entry.body.len() + attr_size;
    let md5_of_attributes = message::md5_of_attributes(&entry.attributes);
    let md5_of_system_attributes = message::md5_of_attributes(&entry.system_attributes);
    Ok(Prepared {
        body: Arc::from(std::mem::take(&mut entry.body)),
        md5_of_body,
        attributes: Arc::new(std::mem::take(&mut entry.attributes)),
        md5_of_attributes,
        system_attributes: Arc::new(std::mem::take(&mut entry.system_attributes)),
        md5_of_system_attributes,
        size,
        entry,
    })
}

/// Most messages a queue may have received and not yet deleted or released.
const MAX_IN_FLIGHT: usize = 120_000;

/// A message may stay invisible at most 12 hours from the receive.
const MAX_VISIBILITY_MS: u64 = 43_200 * 1000;

fn sequence_number(seq: u64) -> String {
    // 20 digits, increasing, like AWS's 128-bit sequence numbers.
    format!("{:020}", 18_000_000_000_000_000_000u128 + seq as u128)
}

impl State {
    /// Sends messages to one queue under one lock and one commit. Results are in
    /// entry order.
    pub(crate) async fn send(&self, q: &Arc<Queue>, entries: Vec<SendEntry>, sender: &str) -> Vec<Result<SendResult, AwsError>> {
        let prepared: Vec<Result<Prepared, AwsError>> = entries.into_iter().map(prepare).collect();
        let now = now_millis();
        let mut results = Vec::with_capacity(prepared.len());
        let mut inserted: Vec<Message> = Vec::new();
        let mut dedups: Vec<(String, DedupEntry)> = Vec::new();
        let write = {
            let mut inner = q.inner.lock();
            if inner.deleted {
                return prepared.iter().map(|_| Err(errors::queue_does_not_exist())).collect();
            }
            let settings = inner.settings.clone();
            for p in prepared {
                let p = match p {
                    Ok(p) => p,
                    Err(e) => {
                        results.push(Err(e));
                        continue;
                    }
                };
                if p.size as u64 > settings.max_message_size {
                    results.push(Err(AwsError::invalid_parameter(format!(
                        "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
                        settings.max_message_size
                    ))));
                    continue;
                }
                let mut dedup_id = None;
                if settings.fifo {
                    let Some(group) = p.entry.group_id.as_deref() else {
                        results.push(Err(AwsError::missing_parameter("MessageGroupId")));
                        continue;
                    };
                    if let Some(d) = p.entry.delay {
                        results.push(Err(errors::not_for_queue_type("DelaySeconds", &d.to_string())));
                        continue;
                    }
                    let id = match (&p.entry.dedup_id, settings.content_based_dedup) {
                        (Some(id), _) => id.clone(),
                        (None, true) => hex::encode(Sha256::digest(p.body.as_bytes())),
                        (None, false) => {
                            results.push(Err(AwsError::invalid_parameter(
                                "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                            )));
                            continue;
                        }
                    };
                    let key = if settings.dedup_per_group { format!("{group}\u{0}{id}") } else { id.clone() };
                    if let Some(prev) = inner.dedup.get(&key).filter(|e| e.expires_ms > now) {
                        // A duplicate within the window is accepted and not delivered.
                        results.push(Ok(SendResult {
                            message_id: prev.message_id.clone(),
                            md5_of_body: p.md5_of_body,
                            md5_of_attributes: p.md5_of_attributes,
                            md5_of_system_attributes: p.md5_of_system_attributes,
                            sequence_number: prev.sequence_number.clone(),
                        }));
                        continue;
                    }
                    dedup_id = Some((key, id));
                } else if let Some(d) = &p.entry.dedup_id {
                    results.push(Err(errors::not_for_queue_type("MessageDeduplicationId", d)));
                    continue;
                }
                let seq = self.next_seq();
                let delay = p.entry.delay.map_or(settings.delay_secs, |d| d as u64);
                let seqnum = settings.fifo.then(|| sequence_number(seq));
                let m = Message {
                    seq,
                    id: ids::uuid4(),
                    body: p.body,
                    md5_of_body: p.md5_of_body.clone(),
                    attributes: p.attributes,
                    md5_of_attributes: p.md5_of_attributes.clone(),
                    system_attributes: p.system_attributes,
                    sent_ms: now,
                    sender_id: sender.to_string(),
                    first_receive_ms: None,
                    receive_count: 0,
                    last_receive_ms: None,
                    visible_at_ms: now + delay * 1000,
                    receipt_nonce: 0,
                    group_id: p.entry.group_id.clone(),
                    dedup_id: dedup_id.as_ref().map(|(_, id)| id.clone()),
                    sequence_number: seqnum.clone(),
                    dead_letter_source_arn: None,
                };
                if let Some((key, _)) = dedup_id {
                    let e = DedupEntry { message_id: m.id.clone(), sequence_number: seqnum.clone(), expires_ms: now + DEDUP_WINDOW_MS };
                    inner.dedup.insert(key.clone(), e.clone());
                    dedups.push((key, e));
                }
                results.push(Ok(SendResult {
                    message_id: m.id.clone(),
                    md5_of_body: p.md5_of_body,
                    md5_of_attributes: p.md5_of_attributes,
                    md5_of_system_attributes: p.md5_of_system_attributes,
                    sequence_number: seqnum,
                }));
                inner.insert(m.clone());
                inserted.push(m);
            }
            if inserted.is_empty() {
                return results;
            }
            // Queued while the lock is held, so the store sees changes in the order
            // they were made.
            let arn = q.arn.clone();
            let write = self.store.write(move |tx| {
                for m in &inserted {
                    persist::insert_message(tx, &arn, m)?;
                }
                for (key, e) in &dedups {
                    persist::save_dedup(tx, &arn, key, e)?;
                }
                Ok(())
            });
            write
        };
        q.notify.notify_waiters();
        if let Err(e) = write.await {
            let err = store_error(e);
            return results.into_iter().map(|r| r.and(Err(err.clone()))).collect();
        }
        results
    }

    pub(crate) async fn send_message(&self, ctx: &RequestContext, i: SendMessageInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let entry = SendEntry::try_from(i.entry)?;
        let mut r = self.send(&q, vec![entry], &ctx.access_key).await;
        let result = r.pop().unwrap_or_else(|| Err(AwsError::internal("no result")))?;
        Ok(result.to_json(None))
    }

    pub(crate) async fn send_message_batch(&self, ctx: &RequestContext, i: BatchInput<SendEntryInput>) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let ids: Vec<&str> = i.entries.iter().map(|e| e.id.as_str()).collect();
        check_batch(&ids, "SendMessageBatchRequestEntry")?;
        let total: usize = i
            .entries
            .iter()
            .map(|e| {
                e.message_body.as_deref().map_or(0, str::len)
                    + e.message_attributes.iter().map(|(k, v)| k.len() + v.data_type.len() + v.string_value.as_deref().map_or(0, str::len) + v.binary_value.as_deref().map_or(0, |b| b.len() * 3 / 4)).sum::<usize>()
            })
            .sum();
        if total as u64 > MAX_MESSAGE_SIZE {
            return Err(AwsError::bad_request(
                "BatchRequestTooLong",
                format!("Batch requests cannot be longer than {MAX_MESSAGE_SIZE} bytes. You have sent {total} bytes."),
            ));
        }
        if q.inner.lock().settings.fifo && i.entries.iter().any(|e| e.message_group_id.is_none()) {
            return Err(AwsError::invalid_parameter("The request must contain the parameter MessageGroupId."));
        }
        let mut ids = Vec::new();
        let mut entries = Vec::new();
        let mut early: Vec<(usize, AwsError)> = Vec::new();
        for (n, e) in i.entries.into_iter().enumerate() {
            ids.push(e.id.clone());
            match SendEntry::try_from(e) {
                Ok(e) => entries.push((n, e)),
                Err(err) => early.push((n, err)),
            }
        }
        let order: Vec<usize> = entries.iter().map(|(n, _)| *n).collect();
        let results = self.send(&q, entries.into_iter().map(|(_, e)| e).collect(), &ctx.access_key).await;
        let mut all: Vec<(usize, Result<SendResult, AwsError>)> = order.into_iter().zip(results).collect();
        all.extend(early.into_iter().map(|(n, e)| (n, Err(e))));
        all.sort_by_key(|(n, _)| *n);
        let (mut ok, mut failed) = (Vec::new(), Vec::new());
        for (n, r) in all {
            match r {
                Ok(r) => ok.push(r.to_json(Some(&ids[n]))),
                Err(e) => failed.push(failed_entry(&ids[n], &e)),
            }
        }
        Ok(batch_output(ok, failed))
    }

    pub(crate) async fn receive_message(&self, ctx: &RequestContext, i: ReceiveInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let max = i.max_number_of_messages.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(errors::invalid_parameter("MaxNumberOfMessages", &max.to_string(), "Must be between 1 and 10, if provided."));
        }
        if let Some(v) = i.visibility_timeout {
            if !(0..=43_200).contains(&v) {
                return Err(errors::invalid_parameter("VisibilityTimeout", &v.to_string(), "Must be between 0 and 43200, if provided."));
            }
        }
        if let Some(w) = i.wait_time_seconds {
            if !(0..=20).contains(&w) {
                return Err(errors::invalid_parameter("WaitTimeSeconds", &w.to_string(), "Must be >= 0 and <= 20, if provided."));
            }
        }
        let (default_wait, default_vt) = {
            let inner = q.inner.lock();
            (inner.settings.receive_wait_secs, inner.settings.visibility_secs)
        };
        let wait_ms = i.wait_time_seconds.map_or(default_wait, |w| w as u64) * 1000;
        let vt = i.visibility_timeout.map_or(default_vt, |v| v as u64);
        let deadline = now_millis() + wait_ms;
        let mut system_names = i.attribute_names;
        system_names.extend(i.message_system_attribute_names);

        let received = loop {
            let notified = q.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let attempt = i.receive_request_attempt_id.as_deref();
            let (msgs, next_visible) = self.take_receivable(&q, max as usize, vt, attempt).await?;
            let now = now_millis();
            if !msgs.is_empty() || now >= deadline {
                break msgs;
            }
            let until = next_visible.map_or(deadline, |t| t.min(deadline));
            let sleep = tokio::time::sleep(Duration::from_millis(until.saturating_sub(now).max(1)));
            tokio::select! {
                _ = notified => {}
                _ = sleep => {}
            }
            if q.inner.lock().deleted {
                return Err(errors::queue_does_not_exist());
            }
        };
        if received.is_empty() {
            return Ok(empty());
        }
        let messages: Vec<Value> = received
            .iter()
            .map(|m| {
                let mut o = Map::new();
                o.insert("MessageId".into(), json!(m.id));
                o.insert("ReceiptHandle".into(), json!(message::receipt_handle(&q.arn, m.seq, m.receipt_nonce)));
                o.insert("MD5OfBody".into(), json!(m.md5_of_body));
                o.insert("Body".into(), json!(&*m.body));
                let sys = m.system_attribute_map(&system_names);
                if !sys.is_empty() {
                    o.insert("Attributes".into(), Value::Object(sys));
                }
                let user = m.user_attributes(&i.message_attribute_names);
                if !user.is_empty() {
                    o.insert("MD5OfMessageAttributes".into(), json!(message::md5_of_attributes(&user)));
                    let attrs: Map<String, Value> = user.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                    o.insert("MessageAttributes".into(), Value::Object(attrs));
                }
                Value::Object(o)
            })
            .collect();
        Ok(json!({ "Messages": messages }))
    }

    /// Takes up to `max` receivable messages, moving those past the redrive policy's
    /// maxReceiveCount to the dead-letter queue. Returns the received messages and
    /// when the next invisible message becomes visible.
    async fn take_receivable(
        &self,
        q: &Arc<Queue>,
        max: usize,
        vt: u64,
        attempt: Option<&str>,
    ) -> Result<(Vec<Message>, Option<u64>), AwsError> {
        let now = now_millis();
        let redrive = q.inner.lock().settings.redrive.clone();
        let dlq = redrive.as_ref().and_then(|(arn, n)| self.queue_by_arn(arn).map(|d| (d, *n)));
        let mut out = Vec::new();
        let mut to_dlq = Vec::new();
        let mut updates = Vec::new();
        let next_visible;
        let wrote;
        {
            let mut inner = q.inner.lock();
            if inner.deleted {
                return Err(errors::queue_does_not_exist());
            }
            // At most 120,000 messages may be in flight; only a queue that holds that
            // many messages can be at the limit, so only then are they counted.
            if inner.messages.len() >= MAX_IN_FLIGHT && inner.counts(now).not_visible >= MAX_IN_FLIGHT {
                return Err(AwsError::new(
                    403,
                    "OverLimit",
                    format!("The maximum number of in flight messages ({MAX_IN_FLIGHT}) is reached for this queue."),
                ));
            }
            let attempt = attempt.filter(|_| inner.settings.fifo);
            // A retried FIFO receive with the same attempt id gets the same messages
            // and receipt handles, with their visibility timeout reset, as long as
            // none of them was deleted or received again since.
            if let Some((_, previous)) = attempt.and_then(|a| inner.receive_attempts.get(a)).filter(|(exp, _)| *exp > now) {
                let previous = previous.clone();
                let unchanged = previous
                    .iter()
                    .all(|(seq, nonce)| inner.messages.get(seq).is_some_and(|m| m.receipt_nonce == *nonce));
                if unchanged && !previous.is_empty() {
                    for (seq, _) in &previous {
                        inner.set_visible_at(*seq, now + vt * 1000);
                        if let Some(m) = inner.messages.get(seq) {
                            updates.push(ReceiveState::of(m));
                            out.push(m.clone());
                        }
                    }
                }
            }
            while out.is_empty() {
                let candidates = inner.receivable(now, max - out.len());
                if candidates.is_empty() {
                    break;
                }
                let mut moved_any = false;
                for seq in candidates {
                    let over = match (&dlq, inner.messages.get(&seq)) {
                        (Some((_, max_rc)), Some(m)) => m.receive_count >= *max_rc,
                        _ => false,
                    };
                    if over {
                        if let Some(m) = inner.remove(seq) {
                            to_dlq.push(m);
                            moved_any = true;
                        }
                        continue;
                    }
                    let nonce = self.next_nonce();
                    inner.set_visible_at(seq, now + vt * 1000);
                    if let Some(m) = inner.messages.get_mut(&seq) {
                        m.receive_count += 1;
                        m.first_receive_ms.get_or_insert(now);
                        m.last_receive_ms = Some(now);
                        m.receipt_nonce = nonce;
                        updates.push(ReceiveState::of(m));
                        out.push(m.clone());
                    }
                }
                if out.len() >= max || !moved_any {
                    break;
                }
            }
            if let (Some(a), false) = (attempt, out.is_empty()) {
                let record = out.iter().map(|m| (m.seq, m.receipt_nonce)).collect();
                inner.receive_attempts.insert(a.to_string(), (now + DEDUP_WINDOW_MS, record));
            }
            next_visible = inner.next_visible_after(now);
            wrote = !updates.is_empty() || !to_dlq.is_empty();
            if wrote {
                let arn = q.arn.clone();
                let removed: Vec<u64> = to_dlq.iter().map(|m: &Message| m.seq).collect();
                let updates = std::mem::take(&mut updates);
                self.store.write_detached(move |tx| {
                    for u in &updates {
                        persist::update_receive(tx, &arn, u)?;
                    }
                    for &seq in &removed {
                        persist::delete_message(tx, &arn, seq)?;
                    }
                    Ok(())
                });
            }
        }
        if let (Some((dlq, _)), false) = (&dlq, to_dlq.is_empty()) {
            self.move_into(dlq, to_dlq, Some(&q.arn));
        }
        // Everything queued so far (this receive's bookkeeping included) is committed
        // before the caller sees the messages.
        if wrote {
            self.store.flush().await.map_err(store_error)?;
        }
        Ok((out, next_visible))
    }

    /// Puts messages into `target` as new arrivals (dead-letter moves and redrives):
    /// same id, body and attributes, a fresh receive count.
    pub(crate) fn move_into(&self, target: &Arc<Queue>, msgs: Vec<Message>, dlq_source: Option<&str>) {
        let now = now_millis();
        let mut inner = target.inner.lock();
        let fifo = inner.settings.fifo;
        let mut rows = Vec::with_capacity(msgs.len());
        for mut m in msgs {
            m.seq = self.next_seq();
            m.receive_count = 0;
            m.first_receive_ms = None;
            m.last_receive_ms = None;
            m.visible_at_ms = now;
            m.receipt_nonce = 0;
            m.dead_letter_source_arn = dlq_source.map(str::to_string);
            if fifo {
                m.sequence_number = Some(sequence_number(m.seq));
            }
            inner.insert(m.clone());
            rows.push(m);
        }
        let arn = target.arn.clone();
        self.store.write_detached(move |tx| {
            for m in &rows {
                persist::insert_message(tx, &arn, m)?;
            }
            Ok(())
        });
        drop(inner);
        target.notify.notify_waiters();
    }

    fn delete_one(&self, q: &Queue, handle: Option<&str>) -> Result<Option<u64>, AwsError> {
        let handle = handle.ok_or_else(|| AwsError::missing_parameter("ReceiptHandle"))?;
        let (seq, nonce) = message::parse_receipt_handle(&q.arn, handle)?;
        let mut inner = q.inner.lock();
        // FIFO receipt handles expire with the visibility timeout (the group moves on).
        if inner.settings.fifo {
            let live = inner
                .messages
                .get(&seq)
                .is_some_and(|m| m.receipt_nonce == nonce && m.is_in_flight(now_millis()));
            if !live && inner.messages.contains_key(&seq) {
                return Err(errors::invalid_parameter("ReceiptHandle", handle, "The receipt handle has expired."));
            }
        }
        // A stale handle (the message was received again since) succeeds without
        // deleting, as AWS documents.
        let current = inner.messages.get(&seq).is_some_and(|m| m.receipt_nonce == nonce);
        Ok(if current { inner.remove(seq).map(|m| m.seq) } else { None })
    }

    pub(crate) async fn delete_message(&self, ctx: &RequestContext, i: HandleInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        if let Some(seq) = self.delete_one(&q, i.entry.receipt_handle.as_deref())? {
            let arn = q.arn.clone();
            self.store.write(move |tx| persist::delete_message(tx, &arn, seq)).await.map_err(store_error)?;
        }
        Ok(empty())
    }

    pub(crate) async fn delete_message_batch(&self, ctx: &RequestContext, i: BatchInput<HandleEntry>) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let ids: Vec<&str> = i.entries.iter().map(|e| e.id.as_str()).collect();
        check_batch(&ids, "DeleteMessageBatchRequestEntry")?;
        let (mut ok, mut failed, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
        for e in &i.entries {
            match self.delete_one(&q, e.receipt_handle.as_deref()) {
                Ok(seq) => {
                    deleted.extend(seq);
                    ok.push(json!({"Id": e.id}));
                }
                Err(err) => failed.push(failed_entry(&e.id, &err)),
            }
        }
        if !deleted.is_empty() {
            let arn = q.arn.clone();
            self.store
                .write(move |tx| {
                    for &seq in &deleted {
                        persist::delete_message(tx, &arn, seq)?;
                    }
                    Ok(())
                })
                .await
                .map_err(store_error)?;
        }
        Ok(batch_output(ok, failed))
    }

    fn change_visibility_one(&self, q: &Queue, e: &HandleEntry) -> Result<ReceiveState, AwsError> {
        let handle = e.receipt_handle.as_deref().ok_or_else(|| AwsError::missing_parameter("ReceiptHandle"))?;
        let vt = e.visibility_timeout.ok_or_else(|| AwsError::missing_parameter("VisibilityTimeout"))?;
        if !(0..=43_200).contains(&vt) {
            return Err(errors::invalid_parameter("VisibilityTimeout", &vt.to_string(), "Must be between 0 and 43200, if provided."));
        }
        let (seq, nonce) = message::parse_receipt_handle(&q.arn, handle)?;
        let now = now_millis();
        let mut inner = q.inner.lock();
        let state = match inner.messages.get(&seq) {
            Some(m) if m.receipt_nonce == nonce => {
                if !m.is_in_flight(now) {
                    return Err(AwsError::bad_request("MessageNotInflight", "The specified message isn't in flight."));
                }
                let received = m.last_receive_ms.or(m.first_receive_ms).unwrap_or(now);
                if now + vt as u64 * 1000 > received + MAX_VISIBILITY_MS {
                    return Err(errors::invalid_parameter(
                        "VisibilityTimeout",
                        &vt.to_string(),
                        "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                    ));
                }
                inner.set_visible_at(seq, now + vt as u64 * 1000);
                inner.messages.get(&seq).map(ReceiveState::of)
            }
            _ => None,
        };
        state.ok_or_else(|| {
            errors::invalid_parameter(
                "ReceiptHandle",
                handle,
                "Message does not exist or is not available for visibility timeout change.",
            )
        })
    }

    async fn save_visibility(&self, q: &Queue, states: Vec<ReceiveState>) -> Result<(), AwsError> {
        if states.is_empty() {
            return Ok(());
        }
        let now = now_millis();
        if states.iter().any(|s| s.visible_at_ms <= now) {
            q.notify.notify_waiters();
        }
        let arn = q.arn.clone();
        self.store
            .write(move |tx| {
                for s in &states {
                    persist::update_receive(tx, &arn, s)?;
                }
                Ok(())
            })
            .await
            .map_err(store_error)
    }

    pub(crate) async fn change_message_visibility(&self, ctx: &RequestContext, i: HandleInput) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let s = self.change_visibility_one(&q, &i.entry)?;
        self.save_visibility(&q, vec![s]).await?;
        Ok(empty())
    }

    pub(crate) async fn change_message_visibility_batch(&self, ctx: &RequestContext, i: BatchInput<HandleEntry>) -> Result<Value, AwsError> {
        let q = self.resolve(ctx, &i.queue_url)?;
        let ids: Vec<&str> = i.entries.iter().map(|e| e.id.as_str()).collect();
        check_batch(&ids, "ChangeMessageVisibilityBatchRequestEntry")?;
        let (mut ok, mut failed, mut states) = (Vec::new(), Vec::new(), Vec::new());
        for e in &i.entries {
            match self.change_visibility_one(&q, e) {
                Ok(s) => {
                    states.push(s);
                    ok.push(json!({"Id": e.id}));
                }
                Err(err) => failed.push(failed_entry(&e.id, &err)),
            }
        }
        self.save_visibility(&q, states).await?;
        Ok(batch_output(ok, failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_rules() {
        assert_eq!(check_batch(&[], "E").unwrap_err().code, "EmptyBatchRequest");
        let eleven: Vec<String> = (0..11).map(|i| format!("i{i}")).collect();
        let refs: Vec<&str> = eleven.iter().map(String::as_str).collect();
        assert_eq!(check_batch(&refs, "E").unwrap_err().code, "TooManyEntriesInBatchRequest");
        assert_eq!(check_batch(&["a", "a"], "E").unwrap_err().code, "BatchEntryIdsNotDistinct");
        assert_eq!(check_batch(&["a b"], "E").unwrap_err().code, "InvalidBatchEntryId");
        assert!(check_batch(&["a-1", "b_2"], "E").is_ok());
    }

    #[test]
    fn sequence_numbers_grow_and_have_20_digits() {
        assert_eq!(sequence_number(1).len(), 20);
        assert!(sequence_number(2) > sequence_number(1));
    }
}
