//! Lambda's tables: one row per function, event source mapping and pending
//! asynchronous invocation, each record as JSON.

use rusqlite::{params, Connection, Transaction};
use serde::de::DeserializeOwned;

use crate::event_sources::MappingRecord;
use crate::functions::FunctionRecord;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS functions (
    arn TEXT PRIMARY KEY,
    record TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_source_mappings (
    arn TEXT PRIMARY KEY,
    record TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS layers (
    arn TEXT PRIMARY KEY,
    record TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS async_events (
    arn TEXT PRIMARY KEY,
    record TEXT NOT NULL
) WITHOUT ROWID;
";

/// The tables, each keyed by an ARN or id and holding one JSON record per row.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Functions,
    EventSourceMappings,
    AsyncEvents,
    Layers,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Functions => "functions",
            Table::EventSourceMappings => "event_source_mappings",
            Table::AsyncEvents => "async_events",
            Table::Layers => "layers",
        }
    }
}

/// Everything Lambda keeps across restarts.
#[derive(Default)]
pub struct Loaded {
    pub functions: Vec<FunctionRecord>,
    pub mappings: Vec<MappingRecord>,
    pub async_events: Vec<crate::async_invoke::PendingEvent>,
    pub layers: Vec<crate::layers::LayerRecord>,
}

pub fn load(conn: &Connection) -> rusqlite::Result<Loaded> {
    Ok(Loaded {
        functions: load_table(conn, Table::Functions)?,
        mappings: load_table(conn, Table::EventSourceMappings)?,
        async_events: load_table(conn, Table::AsyncEvents)?,
        layers: load_table(conn, Table::Layers)?,
    })
}

fn load_table<T: DeserializeOwned>(conn: &Connection, table: Table) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare(&format!("SELECT arn, record FROM {}", table.name()))?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (key, json) = row?;
        match serde_json::from_str::<T>(&json) {
            Ok(f) => out.push(f),
            Err(e) => tracing::warn!(table = table.name(), %key, error = %e, "skipping unreadable record"),
        }
    }
    Ok(out)
}

pub fn save(tx: &Transaction, table: Table, key: &str, json: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(&format!("INSERT OR REPLACE INTO {} (arn, record) VALUES (?1, ?2)", table.name()))?
        .execute(params![key, json])?;
    Ok(())
}

pub fn delete(tx: &Transaction, table: Table, key: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(&format!("DELETE FROM {} WHERE arn = ?1", table.name()))?.execute(params![key])?;
    Ok(())
}
