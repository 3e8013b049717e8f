//! The SQS load scenarios: one tokio task per connection, each looping until
//! the window closes and recording into its own `Recorder`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{CallError, Client, Endpoint};
use crate::sigv4::Signer;
use crate::stats::{Op, Recorder, Window};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SendMessage in a loop.
    Send,
    /// SendMessage → ReceiveMessage (1) → DeleteMessage.
    Cycle,
    /// SendMessageBatch (10) → ReceiveMessage (10) → DeleteMessageBatch.
    CycleBatch,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Send => "sqs-send",
            Kind::Cycle => "sqs-cycle",
            Kind::CycleBatch => "sqs-cycle-batch",
        }
    }

    pub fn default_queue(self) -> &'static str {
        match self {
            Kind::Send => "bench-send",
            Kind::Cycle => "bench-cycle",
            Kind::CycleBatch => "bench-cycle-batch",
        }
    }
}

pub struct LoadConfig {
    pub endpoint: Arc<Endpoint>,
    pub signer: Signer,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub timeout: Duration,
    pub body_size: usize,
    pub queue: Option<String>,
}

pub struct LoadResult {
    pub queue_url: String,
    pub recorder: Recorder,
    /// Seconds actually measured (the configured duration).
    pub secs: f64,
}

const BATCH: usize = 10;
/// After this many empty receives in a row a connection sleeps 1 ms between tries.
const EMPTY_SPIN: u32 = 50;

/// Creates (idempotently) the scenario's queue, then runs the connections.
pub async fn run(kind: Kind, cfg: &LoadConfig) -> Result<LoadResult, String> {
    let queue_name = cfg
        .queue
        .clone()
        .unwrap_or_else(|| kind.default_queue().to_owned());
    let mut setup = Client::new(cfg.endpoint.clone(), cfg.signer.clone(), cfg.timeout);
    let queue_url = create_queue(&mut setup, &queue_name).await?;
    drop(setup);

    let window = Window::new(cfg.warmup, cfg.duration);
    let queue = Arc::new(queue_url.clone());
    let mut tasks = Vec::with_capacity(cfg.connections);
    for id in 0..cfg.connections {
        let client = Client::new(cfg.endpoint.clone(), cfg.signer.clone(), cfg.timeout);
        let queue = queue.clone();
        let body_size = cfg.body_size;
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn {
                client,
                rec: Recorder::new(window),
                window,
                queue,
            };
            match kind {
                Kind::Send => conn.send_loop(id, body_size).await,
                Kind::Cycle => conn.cycle_loop(id, body_size).await,
                Kind::CycleBatch => conn.batch_loop(id, body_size).await,
            }
            conn.rec.reconnects = conn.client.connects.saturating_sub(1);
            conn.rec
        }));
    }

    let mut merged = Recorder::new(window);
    for task in tasks {
        match task.await {
            Ok(rec) => merged.merge(rec),
            Err(e) => return Err(format!("a connection task failed: {e}")),
        }
    }
    Ok(LoadResult {
        queue_url,
        recorder: merged,
        secs: cfg.duration.as_secs_f64(),
    })
}

async fn create_queue(client: &mut Client, name: &str) -> Result<String, String> {
    let body = json!({ "QueueName": name }).to_string().into_bytes();
    let answer = client
        .call("CreateQueue", body)
        .await
        .map_err(|e| format!("CreateQueue {name}: {e}"))?;
    answer
        .get("QueueUrl")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("CreateQueue {name}: no QueueUrl in {answer}"))
}

/// A message body of `size` bytes (at least the id part), JSON-safe ASCII.
fn message_body(conn: usize, seq: u64, size: usize) -> String {
    let mut body = format!("nimbus-bench c{conn:03} m{seq:012} ");
    while body.len() < size {
        body.push((b'a' + (body.len() % 26) as u8) as char);
    }
    body
}

struct Conn {
    client: Client,
    rec: Recorder,
    window: Window,
    queue: Arc<String>,
}

impl Conn {
    /// One call, timed and recorded. `Ok` carries the answer and its end time.
    async fn timed(&mut self, op: Op, body: Vec<u8>) -> Result<(Value, Instant), ()> {
        let t0 = Instant::now();
        let result = self.client.call(op.name(), body).await;
        let t1 = Instant::now();
        match result {
            Ok(v) => {
                self.rec.ok(op, t0, t1);
                Ok((v, t1))
            }
            Err(e) => {
                self.rec.error(op, t1, &e.to_string());
                if matches!(e, CallError::Connect(_)) {
                    // The server is down or refusing: don't spin.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(())
            }
        }
    }

    fn send_body(&self, conn: usize, seq: u64, size: usize) -> Vec<u8> {
        json!({ "QueueUrl": *self.queue, "MessageBody": message_body(conn, seq, size) })
            .to_string()
            .into_bytes()
    }

    async fn send_loop(&mut self, id: usize, size: usize) {
        let mut seq = 0u64;
        while !self.window.over() {
            seq += 1;
            let body = self.send_body(id, seq, size);
            if let Ok((_, t1)) = self.timed(Op::SendMessage, body).await {
                self.rec.add_messages(1, t1);
            }
        }
    }

    /// Receives up to `max` messages, retrying while the queue answers empty.
    /// Returns the receipt handles, or `None` on error / end of the window.
    async fn receive(&mut self, max: usize) -> Option<Vec<String>> {
        let body = json!({
            "QueueUrl": *self.queue,
            "MaxNumberOfMessages": max,
            "WaitTimeSeconds": 0,
        })
        .to_string()
        .into_bytes();
        let mut empties = 0u32;
        loop {
            let (answer, t1) = self.timed(Op::ReceiveMessage, body.clone()).await.ok()?;
            let handles: Vec<String> = answer
                .get("Messages")
                .and_then(Value::as_array)
                .map(|msgs| {
                    msgs.iter()
                        .filter_map(|m| m.get("ReceiptHandle").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if !handles.is_empty() {
                return Some(handles);
            }
            self.rec.empty_receive(t1);
            if self.window.over() {
                return None;
            }
            empties += 1;
            if empties >= EMPTY_SPIN {
                tokio::time::sleep(Duration::from_millis(1)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }

    async fn cycle_loop(&mut self, id: usize, size: usize) {
        let mut seq = 0u64;
        while !self.window.over() {
            seq += 1;
            let t0 = Instant::now();
            let body = self.send_body(id, seq, size);
            if self.timed(Op::SendMessage, body).await.is_err() {
                continue;
            }
            let Some(handles) = self.receive(1).await else {
                continue;
            };
            let mut deleted = 0;
            let mut last = t0;
            for handle in handles {
                let body = json!({ "QueueUrl": *self.queue, "ReceiptHandle": handle })
                    .to_string()
                    .into_bytes();
                if let Ok((_, t1)) = self.timed(Op::DeleteMessage, body).await {
                    deleted += 1;
                    last = t1;
                }
            }
            if deleted > 0 {
                self.rec.ok(Op::Cycle, t0, last);
                self.rec.add_messages(deleted, last);
            }
        }
    }

    async fn batch_loop(&mut self, id: usize, size: usize) {
        let mut seq = 0u64;
        while !self.window.over() {
            let t0 = Instant::now();
            let entries: Vec<Value> = (0..BATCH)
                .map(|i| {
                    seq += 1;
                    json!({ "Id": i.to_string(), "MessageBody": message_body(id, seq, size) })
                })
                .collect();
            let body = json!({ "QueueUrl": *self.queue, "Entries": entries })
                .to_string()
                .into_bytes();
            let Ok((answer, t1)) = self.timed(Op::SendMessageBatch, body).await else {
                continue;
            };
            let sent = self.batch_outcome(Op::SendMessageBatch, &answer, t1);

            let mut outstanding = sent;
            let mut deleted_total = 0;
            let mut last = t1;
            while outstanding > 0 {
                let Some(handles) = self.receive(outstanding.min(BATCH)).await else {
                    break;
                };
                let entries: Vec<Value> = handles
                    .iter()
                    .enumerate()
                    .map(|(i, h)| json!({ "Id": i.to_string(), "ReceiptHandle": h }))
                    .collect();
                let body = json!({ "QueueUrl": *self.queue, "Entries": entries })
                    .to_string()
                    .into_bytes();
                let Ok((answer, t1)) = self.timed(Op::DeleteMessageBatch, body).await else {
                    break;
                };
                let deleted = self.batch_outcome(Op::DeleteMessageBatch, &answer, t1);
                self.rec.add_messages(deleted as u64, t1);
                deleted_total += deleted;
                last = t1;
                // Leftovers from earlier runs may arrive instead of ours; either way a
                // message went through the whole cycle.
                outstanding = outstanding.saturating_sub(handles.len());
            }
            if deleted_total > 0 && outstanding == 0 {
                self.rec.ok(Op::Cycle, t0, last);
            }
        }
    }

    /// Successful entries of a batch answer; failed entries are counted as errors.
    fn batch_outcome(&mut self, op: Op, answer: &Value, t1: Instant) -> usize {
        let ok = answer
            .get("Successful")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if let Some(failed) = answer.get("Failed").and_then(Value::as_array) {
            for f in failed {
                let code = f.get("Code").and_then(Value::as_str).unwrap_or("?");
                self.rec
                    .error(op, t1, &format!("batch entry failed: {code}"));
            }
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_requested_size() {
        let b = message_body(3, 42, 100);
        assert_eq!(b.len(), 100);
        assert!(b.starts_with("nimbus-bench c003 m000000000042 "));
    }
}
