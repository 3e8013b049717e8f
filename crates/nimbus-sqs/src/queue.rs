//! One queue's state in memory: its attributes and its messages, indexed by when
//! each is next visible and when it expires. Every change here is mirrored to the
//! store by the operations that make it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::attributes::Settings;
use crate::message::Message;

pub const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;

pub struct Queue {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    pub created_secs: u64,
    pub inner: Mutex<QueueInner>,
    /// Woken whenever a message may have become receivable (long polling).
    pub notify: Notify,
}

/// A FIFO deduplication record: the message first sent with that id.
#[derive(Debug, Clone)]
pub struct DedupEntry {
    pub message_id: String,
    pub sequence_number: Option<String>,
    pub expires_ms: u64,
}

pub struct QueueInner {
    /// Settable attributes with defaults filled in.
    pub attributes: BTreeMap<String, String>,
    pub settings: Settings,
    pub tags: BTreeMap<String, String>,
    pub modified_secs: u64,
    pub messages: BTreeMap<u64, Message>,
    /// (visible_at_ms, seq) of every message.
    ready: BTreeSet<(u64, u64)>,
    /// (expires_at_ms, seq) of every message.
    expiry: BTreeSet<(u64, u64)>,
    pub dedup: HashMap<String, DedupEntry>,
    /// FIFO ReceiveRequestAttemptId → (expiry, (seq, receipt nonce) of what it returned).
    pub receive_attempts: HashMap<String, (u64, Vec<(u64, u64)>)>,
    pub last_purge_ms: Option<u64>,
    /// Set once the queue is deleted, so holders of an old `Arc` stop using it.
    pub deleted: bool,
}

impl Queue {
    pub fn new(
        account: &str,
        region: &str,
        name: &str,
        created_secs: u64,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Self {
        let settings = Settings::from_attributes(&attributes);
        Queue {
            arn: format!("arn:aws:sqs:{region}:{account}:{name}"),
            account: account.into(),
            region: region.into(),
            name: name.into(),
            created_secs,
            inner: Mutex::new(QueueInner {
                attributes,
                settings,
                tags,
                modified_secs: created_secs,
                messages: BTreeMap::new(),
                ready: BTreeSet::new(),
                expiry: BTreeSet::new(),
                dedup: HashMap::new(),
                receive_attempts: HashMap::new(),
                last_purge_ms: None,
                deleted: false,
            }),
            notify: Notify::new(),
        }
    }
}

/// Approximate counts as GetQueueAttributes reports them.
#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    pub visible: usize,
    pub not_visible: usize,
    pub delayed: usize,
}

impl QueueInner {
    pub fn set_attributes(&mut self, attrs: BTreeMap<String, String>) {
        self.settings = Settings::from_attributes(&attrs);
        self.attributes = attrs;
    }

    fn expires_at(&self, m: &Message) -> u64 {
        m.sent_ms + self.settings.retention_secs * 1000
    }

    pub fn insert(&mut self, m: Message) {
        self.ready.insert((m.visible_at_ms, m.seq));
        self.expiry.insert((self.expires_at(&m), m.seq));
        self.messages.insert(m.seq, m);
    }

    pub fn remove(&mut self, seq: u64) -> Option<Message> {
        let m = self.messages.remove(&seq)?;
        self.ready.remove(&(m.visible_at_ms, seq));
        let exp = self.expires_at(&m);
        self.expiry.remove(&(exp, seq));
        Some(m)
    }

    pub fn clear(&mut self) -> usize {
        let n = self.messages.len();
        self.messages.clear();
        self.ready.clear();
        self.expiry.clear();
        n
    }

    pub fn set_visible_at(&mut self, seq: u64, at: u64) {
        if let Some(m) = self.messages.get_mut(&seq) {
            self.ready.remove(&(m.visible_at_ms, seq));
            m.visible_at_ms = at;
            self.ready.insert((at, seq));
        }
    }

    /// Re-indexes expiry after MessageRetentionPeriod changed.
    pub fn reindex_expiry(&mut self) {
        let retention = self.settings.retention_secs * 1000;
        self.expiry = self.messages.values().map(|m| (m.sent_ms + retention, m.seq)).collect();
    }

    /// Removes and returns messages past their retention period.
    pub fn take_expired(&mut self, now: u64) -> Vec<u64> {
        let expired: Vec<u64> = self.expiry.range(..=(now, u64::MAX)).map(|&(_, s)| s).collect();
        for &seq in &expired {
            self.remove(seq);
        }
        expired
    }

    pub fn expire_dedup(&mut self, now: u64) {
        if !self.dedup.is_empty() {
            self.dedup.retain(|_, e| e.expires_ms > now);
        }
        if !self.receive_attempts.is_empty() {
            self.receive_attempts.retain(|_, (expires, _)| *expires > now);
        }
    }

    /// When the earliest not-yet-visible message becomes visible.
    pub fn next_visible_after(&self, now: u64) -> Option<u64> {
        self.ready.range((now + 1, 0)..).next().map(|&(t, _)| t)
    }

    /// Messages that a receive may return now, in the order to return them, at most
    /// `max` (more are taken if some will go to a dead-letter queue instead).
    pub fn receivable(&self, now: u64, max: usize) -> Vec<u64> {
        if !self.settings.fifo {
            return self.ready.range(..=(now, u64::MAX)).take(max).map(|&(_, s)| s).collect();
        }
        // FIFO: per group, strictly in order; a group with an invisible (in flight or
        // delayed) message at its head is blocked.
        let mut blocked: HashSet<&str> = HashSet::new();
        let mut out = Vec::new();
        for m in self.messages.values() {
            let group = m.group_id.as_deref().unwrap_or("");
            if blocked.contains(group) {
                continue;
            }
            if m.visible_at_ms > now {
                blocked.insert(group);
                continue;
            }
            out.push(m.seq);
            if out.len() >= max {
                break;
            }
        }
        out
    }

    pub fn counts(&self, now: u64) -> Counts {
        let mut c = Counts::default();
        for m in self.messages.values() {
            if m.visible_at_ms <= now {
                c.visible += 1;
            } else if m.receive_count > 0 {
                c.not_visible += 1;
            } else {
                c.delayed += 1;
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn msg(seq: u64, visible_at: u64, group: Option<&str>) -> Message {
        Message {
            seq,
            id: format!("m{seq}"),
            body: Arc::from("b"),
            md5_of_body: String::new(),
            attributes: Default::default(),
            md5_of_attributes: None,
            system_attributes: Default::default(),
            sent_ms: 1000,
            sender_id: "s".into(),
            first_receive_ms: None,
            receive_count: 0,
            last_receive_ms: None,
            visible_at_ms: visible_at,
            receipt_nonce: 0,
            group_id: group.map(Into::into),
            dedup_id: None,
            sequence_number: None,
            dead_letter_source_arn: None,
        }
    }

    fn queue(fifo: bool) -> Queue {
        Queue::new("0", "r", "q", 0, crate::attributes::defaults(fifo), Default::default())
    }

    #[test]
    fn standard_receives_visible_only() {
        let q = queue(false);
        let mut i = q.inner.lock();
        i.insert(msg(1, 1000, None));
        i.insert(msg(2, 5000, None));
        i.insert(msg(3, 1000, None));
        assert_eq!(i.receivable(2000, 10), vec![1, 3]);
        assert_eq!(i.next_visible_after(2000), Some(5000));
        i.set_visible_at(1, 9000);
        assert_eq!(i.receivable(2000, 10), vec![3]);
        assert_eq!(i.counts(2000), Counts { visible: 1, not_visible: 0, delayed: 2 });
        assert!(i.remove(3).is_some());
        assert_eq!(i.receivable(6000, 10), vec![2]);
    }

    #[test]
    fn fifo_blocks_a_group_behind_its_head() {
        let q = queue(true);
        let mut i = q.inner.lock();
        i.insert(msg(1, 1000, Some("a")));
        i.insert(msg(2, 1000, Some("a")));
        i.insert(msg(3, 1000, Some("b")));
        assert_eq!(i.receivable(2000, 10), vec![1, 2, 3]);
        i.set_visible_at(1, 9000); // a's head in flight
        assert_eq!(i.receivable(2000, 10), vec![3]);
        assert_eq!(i.receivable(9000, 1), vec![1]);
    }

    #[test]
    fn expiry() {
        let q = queue(false);
        let mut i = q.inner.lock();
        i.insert(msg(1, 0, None));
        let retention = i.settings.retention_secs * 1000;
        assert!(i.take_expired(1000 + retention - 1).is_empty());
        assert_eq!(i.take_expired(1000 + retention), vec![1]);
        assert!(i.messages.is_empty());
    }
}
