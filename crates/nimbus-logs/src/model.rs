//! What Logs keeps: log groups holding log streams holding events, in memory and
//! indexed for reads; persist.rs mirrors every change to SQLite.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value};

/// AWS counts this many bytes per event on top of its message (batch size, storedBytes).
pub const EVENT_OVERHEAD: usize = 26;

/// An event's place in a stream: timestamp, then the order it arrived in.
pub type EventKey = (u64, u64);

#[derive(Debug, Clone)]
pub struct Event {
    pub timestamp: u64,
    /// Unique across the service, increasing in arrival order.
    pub seq: u64,
    pub ingested: u64,
    pub message: Arc<str>,
}

impl Event {
    pub fn key(&self) -> EventKey {
        (self.timestamp, self.seq)
    }
}

#[derive(Debug)]
pub struct Stream {
    pub name: String,
    pub created: u64,
    pub first_event: Option<u64>,
    pub last_event: Option<u64>,
    pub last_ingestion: Option<u64>,
    /// Bumped on every PutLogEvents; shown as `uploadSequenceToken`.
    pub upload_token: u64,
    /// Sorted by key.
    pub events: Vec<Event>,
    pub stored_bytes: u64,
}

impl Stream {
    pub fn new(name: &str, created: u64) -> Self {
        Stream {
            name: name.to_string(),
            created,
            first_event: None,
            last_event: None,
            last_ingestion: None,
            upload_token: 1,
            events: Vec::new(),
            stored_bytes: 0,
        }
    }

    /// Adds events already in timestamp order, keeping the whole stream sorted (a batch
    /// may hold events older than ones already stored).
    pub fn insert(&mut self, batch: &[Event]) {
        for e in batch {
            let at = self.events.partition_point(|x| x.key() < e.key());
            self.events.insert(at, e.clone());
            self.stored_bytes += e.message.len() as u64;
            self.first_event = Some(self.first_event.map_or(e.timestamp, |t| t.min(e.timestamp)));
            self.last_event = Some(self.last_event.map_or(e.timestamp, |t| t.max(e.timestamp)));
            self.last_ingestion = Some(self.last_ingestion.map_or(e.ingested, |t| t.max(e.ingested)));
        }
    }

    /// Drops events older than `cutoff`; returns how many went.
    pub fn expire(&mut self, cutoff: u64) -> usize {
        let n = self.events.partition_point(|e| e.timestamp < cutoff);
        for e in self.events.drain(..n) {
            self.stored_bytes = self.stored_bytes.saturating_sub(e.message.len() as u64);
        }
        n
    }

    pub fn sequence_token(&self) -> String {
        format!("{:056}", self.upload_token)
    }

    pub fn arn(&self, group_arn: &str) -> String {
        format!("{group_arn}:log-stream:{}", self.name)
    }

    pub fn describe(&self, group_arn: &str) -> Value {
        let mut v = json!({
            "logStreamName": self.name,
            "creationTime": self.created,
            "arn": self.arn(group_arn),
            "uploadSequenceToken": self.sequence_token(),
            // Deprecated by AWS: always 0 for streams.
            "storedBytes": 0,
        });
        if let Value::Object(m) = &mut v {
            if let Some(t) = self.first_event {
                m.insert("firstEventTimestamp".into(), t.into());
            }
            if let Some(t) = self.last_event {
                m.insert("lastEventTimestamp".into(), t.into());
            }
            if let Some(t) = self.last_ingestion {
                m.insert("lastIngestionTime".into(), t.into());
            }
        }
        v
    }
}

#[derive(Debug, Default)]
pub struct GroupInner {
    pub retention_days: Option<u32>,
    pub tags: BTreeMap<String, String>,
    pub kms_key_id: Option<String>,
    pub class: Option<String>,
    /// Blocks DeleteLogGroup and DeleteLogStream until turned off.
    pub deletion_protection: bool,
    pub streams: BTreeMap<String, Stream>,
}

#[derive(Debug)]
pub struct Group {
    pub account: String,
    pub region: String,
    pub name: String,
    /// `arn:aws:logs:<region>:<account>:log-group:<name>` (the tagging ARN).
    pub arn: String,
    pub created: u64,
    pub inner: Mutex<GroupInner>,
}

impl Group {
    pub fn new(account: &str, region: &str, name: &str, created: u64, inner: GroupInner) -> Self {
        Group {
            account: account.to_string(),
            region: region.to_string(),
            name: name.to_string(),
            arn: group_arn(account, region, name),
            created,
            inner: Mutex::new(inner),
        }
    }

    pub fn describe(&self) -> Value {
        let inner = self.inner.lock();
        let stored: u64 = inner.streams.values().map(|s| s.stored_bytes).sum();
        let mut v = json!({
            "logGroupName": self.name,
            "creationTime": self.created,
            "metricFilterCount": 0,
            // DescribeLogGroups' `arn` ends in `:*`; `logGroupArn` is the bare ARN.
            "arn": format!("{}:*", self.arn),
            "logGroupArn": self.arn,
            "storedBytes": stored,
            "logGroupClass": inner.class.as_deref().unwrap_or("STANDARD"),
            "deletionProtectionEnabled": inner.deletion_protection,
        });
        if let Value::Object(m) = &mut v {
            if let Some(days) = inner.retention_days {
                m.insert("retentionInDays".into(), days.into());
            }
            if let Some(k) = &inner.kms_key_id {
                m.insert("kmsKeyId".into(), k.clone().into());
            }
        }
        v
    }
}

pub fn group_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{name}")
}
