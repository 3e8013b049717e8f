//! Logs' tables and the statements that mirror in-memory changes to them.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::{params, Connection, Transaction};

use crate::model::{Event, Group, GroupInner, Stream};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log_groups (
    arn TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    retention_days INTEGER,
    tags TEXT NOT NULL,
    kms_key_id TEXT,
    class TEXT,
    deletion_protection INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS log_streams (
    group_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    first_event INTEGER,
    last_event INTEGER,
    last_ingestion INTEGER,
    upload_token INTEGER NOT NULL,
    PRIMARY KEY (group_arn, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_events (
    seq INTEGER PRIMARY KEY,
    group_arn TEXT NOT NULL,
    stream TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    ingested INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_by_stream ON log_events (group_arn, stream, timestamp);
";

/// A group's persistent fields, captured under its lock.
pub struct GroupRow {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    pub created: u64,
    pub retention_days: Option<u32>,
    pub tags: String,
    pub kms_key_id: Option<String>,
    pub class: Option<String>,
    pub deletion_protection: bool,
}

impl GroupRow {
    pub fn of(g: &Group, inner: &GroupInner) -> Self {
        GroupRow {
            arn: g.arn.clone(),
            account: g.account.clone(),
            region: g.region.clone(),
            name: g.name.clone(),
            created: g.created,
            retention_days: inner.retention_days,
            tags: serde_json::to_string(&inner.tags).unwrap_or_else(|_| "{}".into()),
            kms_key_id: inner.kms_key_id.clone(),
            class: inner.class.clone(),
            deletion_protection: inner.deletion_protection,
        }
    }
}

pub fn save_group(tx: &Transaction, g: &GroupRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO log_groups (arn, account, region, name, created, retention_days, tags, kms_key_id, class, deletion_protection)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        g.arn,
        g.account,
        g.region,
        g.name,
        g.created as i64,
        g.retention_days,
        g.tags,
        g.kms_key_id,
        g.class,
        g.deletion_protection
    ])?;
    Ok(())
}

pub fn delete_group(tx: &Transaction, arn: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM log_events WHERE group_arn = ?1")?.execute([arn])?;
    tx.prepare_cached("DELETE FROM log_streams WHERE group_arn = ?1")?.execute([arn])?;
    tx.prepare_cached("DELETE FROM log_groups WHERE arn = ?1")?.execute([arn])?;
    Ok(())
}

/// A stream's persistent fields (not its events).
#[derive(Clone)]
pub struct StreamRow {
    pub group_arn: String,
    pub name: String,
    pub created: u64,
    pub first_event: Option<u64>,
    pub last_event: Option<u64>,
    pub last_ingestion: Option<u64>,
    pub upload_token: u64,
}

impl StreamRow {
    pub fn of(group_arn: &str, s: &Stream) -> Self {
        StreamRow {
            group_arn: group_arn.to_string(),
            name: s.name.clone(),
            created: s.created,
            first_event: s.first_event,
            last_event: s.last_event,
            last_ingestion: s.last_ingestion,
            upload_token: s.upload_token,
        }
    }
}

pub fn save_stream(tx: &Transaction, s: &StreamRow) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO log_streams (group_arn, name, created, first_event, last_event, last_ingestion, upload_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        s.group_arn,
        s.name,
        s.created as i64,
        s.first_event.map(|t| t as i64),
        s.last_event.map(|t| t as i64),
        s.last_ingestion.map(|t| t as i64),
        s.upload_token as i64
    ])?;
    Ok(())
}

pub fn delete_stream(tx: &Transaction, group_arn: &str, name: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM log_events WHERE group_arn = ?1 AND stream = ?2")?.execute([group_arn, name])?;
    tx.prepare_cached("DELETE FROM log_streams WHERE group_arn = ?1 AND name = ?2")?.execute([group_arn, name])?;
    Ok(())
}

pub fn insert_events(tx: &Transaction, group_arn: &str, stream: &str, events: &[Event]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO log_events (seq, group_arn, stream, timestamp, ingested, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for e in events {
        stmt.execute(params![e.seq as i64, group_arn, stream, e.timestamp as i64, e.ingested as i64, &*e.message])?;
    }
    Ok(())
}

pub fn expire_events(tx: &Transaction, group_arn: &str, cutoff: u64) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM log_events WHERE group_arn = ?1 AND timestamp < ?2")?
        .execute(params![group_arn, cutoff as i64])?;
    Ok(())
}

/// Everything stored: the groups with their streams and events, and the highest event number.
pub fn load(conn: &Connection) -> rusqlite::Result<(Vec<Arc<Group>>, u64)> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT arn, account, region, name, created, retention_days, tags, kms_key_id, class, deletion_protection FROM log_groups",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let arn: String = r.get(0)?;
        let account: String = r.get(1)?;
        let region: String = r.get(2)?;
        let name: String = r.get(3)?;
        let inner = GroupInner {
            retention_days: r.get::<_, Option<u32>>(5)?,
            tags: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
            kms_key_id: r.get(7)?,
            class: r.get(8)?,
            deletion_protection: r.get(9)?,
            streams: BTreeMap::new(),
        };
        groups.insert(arn, Group::new(&account, &region, &name, r.get::<_, i64>(4)? as u64, inner));
    }
    let mut stmt = conn.prepare(
        "SELECT group_arn, name, created, first_event, last_event, last_ingestion, upload_token FROM log_streams",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let group_arn: String = r.get(0)?;
        let Some(g) = groups.get(&group_arn) else { continue };
        let name: String = r.get(1)?;
        let mut s = Stream::new(&name, r.get::<_, i64>(2)? as u64);
        s.first_event = r.get::<_, Option<i64>>(3)?.map(|t| t as u64);
        s.last_event = r.get::<_, Option<i64>>(4)?.map(|t| t as u64);
        s.last_ingestion = r.get::<_, Option<i64>>(5)?.map(|t| t as u64);
        s.upload_token = r.get::<_, i64>(6)? as u64;
        g.inner.lock().streams.insert(name, s);
    }
    let mut max_seq = 0u64;
    let mut stmt = conn.prepare(
        "SELECT group_arn, stream, seq, timestamp, ingested, message FROM log_events ORDER BY group_arn, stream, timestamp, seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let group_arn: String = r.get(0)?;
        let stream: String = r.get(1)?;
        let e = Event {
            seq: r.get::<_, i64>(2)? as u64,
            timestamp: r.get::<_, i64>(3)? as u64,
            ingested: r.get::<_, i64>(4)? as u64,
            message: Arc::from(r.get::<_, String>(5)?),
        };
        max_seq = max_seq.max(e.seq);
        if let Some(g) = groups.get(&group_arn) {
            if let Some(s) = g.inner.lock().streams.get_mut(&stream) {
                // Already in key order: appending keeps the stream sorted.
                s.stored_bytes += e.message.len() as u64;
                s.events.push(e);
            }
        }
    }
    Ok((groups.into_values().map(Arc::new).collect(), max_seq))
}
