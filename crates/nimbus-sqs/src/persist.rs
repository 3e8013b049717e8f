//! SQS's tables and the statements that mirror in-memory changes to them.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::{params, Connection, Transaction};

use crate::message::{Attributes, Message};
use crate::queue::{DedupEntry, Queue};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queues (
    arn TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    last_purge INTEGER
);
CREATE TABLE IF NOT EXISTS messages (
    queue TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    md5_body TEXT NOT NULL,
    attributes TEXT,
    md5_attributes TEXT,
    system_attributes TEXT,
    sent INTEGER NOT NULL,
    sender TEXT NOT NULL,
    first_receive INTEGER,
    receive_count INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    nonce INTEGER NOT NULL,
    group_id TEXT,
    dedup_id TEXT,
    sequence_number TEXT,
    dlq_source TEXT,
    PRIMARY KEY (queue, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL,
    key TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT,
    expires INTEGER NOT NULL,
    PRIMARY KEY (queue, key)
) WITHOUT ROWID;
";

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

fn attrs_json(a: &Attributes) -> Option<String> {
    (!a.is_empty()).then(|| to_json(a))
}

pub fn save_queue(tx: &Transaction, q: &QueueRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO queues (arn, account, region, name, attributes, tags, created, modified, last_purge)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        q.arn,
        q.account,
        q.region,
        q.name,
        to_json(&q.attributes),
        to_json(&q.tags),
        q.created as i64,
        q.modified as i64,
        q.last_purge.map(|t| t as i64)
    ])?;
    Ok(())
}

/// A queue's persistent fields, captured under its lock.
pub struct QueueRow {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub created: u64,
    pub modified: u64,
    pub last_purge: Option<u64>,
}

impl QueueRow {
    pub fn of(q: &Queue, inner: &crate::queue::QueueInner) -> Self {
        QueueRow {
            arn: q.arn.clone(),
            account: q.account.clone(),
            region: q.region.clone(),
            name: q.name.clone(),
            attributes: inner.attributes.clone(),
            tags: inner.tags.clone(),
            created: q.created_secs,
            modified: inner.modified_secs,
            last_purge: inner.last_purge_ms,
        }
    }
}

pub fn delete_queue(tx: &Transaction, arn: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM messages WHERE queue = ?1")?.execute([arn])?;
    tx.prepare_cached("DELETE FROM dedup WHERE queue = ?1")?.execute([arn])?;
    tx.prepare_cached("DELETE FROM queues WHERE arn = ?1")?.execute([arn])?;
    Ok(())
}

pub fn purge(tx: &Transaction, arn: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM messages WHERE queue = ?1")?.execute([arn])?;
    Ok(())
}

pub fn insert_message(tx: &Transaction, queue: &str, m: &Message) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO messages (queue, seq, id, body, md5_body, attributes, md5_attributes, system_attributes,
            sent, sender, first_receive, receive_count, visible_at, nonce, group_id, dedup_id, sequence_number, dlq_source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        queue,
        m.seq as i64,
        m.id,
        &*m.body,
        m.md5_of_body,
        attrs_json(&m.attributes),
        m.md5_of_attributes,
        attrs_json(&m.system_attributes),
        m.sent_ms as i64,
        m.sender_id,
        m.first_receive_ms.map(|t| t as i64),
        m.receive_count,
        m.visible_at_ms as i64,
        m.receipt_nonce as i64,
        m.group_id,
        m.dedup_id,
        m.sequence_number,
        m.dead_letter_source_arn,
    ])?;
    Ok(())
}

pub fn delete_message(tx: &Transaction, queue: &str, seq: u64) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM messages WHERE queue = ?1 AND seq = ?2")?.execute(params![queue, seq as i64])?;
    Ok(())
}

/// The fields a receive or visibility change updates.
#[derive(Clone, Copy)]
pub struct ReceiveState {
    pub seq: u64,
    pub receive_count: u32,
    pub first_receive_ms: Option<u64>,
    pub visible_at_ms: u64,
    pub nonce: u64,
}

impl ReceiveState {
    pub fn of(m: &Message) -> Self {
        ReceiveState {
            seq: m.seq,
            receive_count: m.receive_count,
            first_receive_ms: m.first_receive_ms,
            visible_at_ms: m.visible_at_ms,
            nonce: m.receipt_nonce,
        }
    }
}

pub fn update_receive(tx: &Transaction, queue: &str, s: &ReceiveState) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE messages SET receive_count = ?3, first_receive = ?4, visible_at = ?5, nonce = ?6 WHERE queue = ?1 AND seq = ?2",
    )?
    .execute(params![
        queue,
        s.seq as i64,
        s.receive_count,
        s.first_receive_ms.map(|t| t as i64),
        s.visible_at_ms as i64,
        s.nonce as i64
    ])?;
    Ok(())
}

pub fn save_dedup(tx: &Transaction, queue: &str, key: &str, e: &DedupEntry) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO dedup (queue, key, message_id, sequence_number, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![queue, key, e.message_id, e.sequence_number, e.expires_ms as i64])?;
    Ok(())
}

pub fn expire_dedup(tx: &Transaction, now: u64) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM dedup WHERE expires <= ?1")?.execute([now as i64])?;
    Ok(())
}

/// Everything stored, as queues with their messages, plus the highest sequence number.
pub fn load(conn: &Connection) -> rusqlite::Result<(Vec<Arc<Queue>>, u64)> {
    let mut queues: BTreeMap<String, Arc<Queue>> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT arn, account, region, name, attributes, tags, created, modified, last_purge FROM queues",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, Option<i64>>(8)?,
        ))
    })?;
    for row in rows {
        let (arn, account, region, name, attrs, tags, created, modified, last_purge) = row?;
        let attrs: BTreeMap<String, String> = serde_json::from_str(&attrs).unwrap_or_default();
        let tags: BTreeMap<String, String> = serde_json::from_str(&tags).unwrap_or_default();
        let q = Queue::new(&account, &region, &name, created as u64, attrs, tags);
        {
            let mut inner = q.inner.lock();
            inner.modified_secs = modified as u64;
            inner.last_purge_ms = last_purge.map(|t| t as u64);
        }
        queues.insert(arn, Arc::new(q));
    }
    let mut max_seq = 0u64;
    let mut stmt = conn.prepare(
        "SELECT queue, seq, id, body, md5_body, attributes, md5_attributes, system_attributes, sent, sender,
                first_receive, receive_count, visible_at, nonce, group_id, dedup_id, sequence_number, dlq_source
         FROM messages ORDER BY queue, seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let queue: String = r.get(0)?;
        let Some(q) = queues.get(&queue) else { continue };
        let parse_attrs = |s: Option<String>| -> Arc<Attributes> {
            Arc::new(s.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
        };
        let m = Message {
            seq: r.get::<_, i64>(1)? as u64,
            id: r.get(2)?,
            body: Arc::from(r.get::<_, String>(3)?),
            md5_of_body: r.get(4)?,
            attributes: parse_attrs(r.get(5)?),
            md5_of_attributes: r.get(6)?,
            system_attributes: parse_attrs(r.get(7)?),
            sent_ms: r.get::<_, i64>(8)? as u64,
            sender_id: r.get(9)?,
            first_receive_ms: r.get::<_, Option<i64>>(10)?.map(|t| t as u64),
            receive_count: r.get(11)?,
            last_receive_ms: None,
            visible_at_ms: r.get::<_, i64>(12)? as u64,
            receipt_nonce: r.get::<_, i64>(13)? as u64,
            group_id: r.get(14)?,
            dedup_id: r.get(15)?,
            sequence_number: r.get(16)?,
            dead_letter_source_arn: r.get(17)?,
        };
        max_seq = max_seq.max(m.seq);
        q.inner.lock().insert(m);
    }
    let mut stmt = conn.prepare("SELECT queue, key, message_id, sequence_number, expires FROM dedup")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let queue: String = r.get(0)?;
        if let Some(q) = queues.get(&queue) {
            let entry = DedupEntry {
                message_id: r.get(2)?,
                sequence_number: r.get(3)?,
                expires_ms: r.get::<_, i64>(4)? as u64,
            };
            q.inner.lock().dedup.insert(r.get(1)?, entry);
        }
    }
    Ok((queues.into_values().collect(), max_seq))
}
