//! Lambda's table: one row per function, the record as JSON.

use rusqlite::{params, Connection, Transaction};

use crate::functions::FunctionRecord;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS functions (
    arn TEXT PRIMARY KEY,
    record TEXT NOT NULL
) WITHOUT ROWID;
";

pub fn load(conn: &Connection) -> rusqlite::Result<Vec<FunctionRecord>> {
    let mut stmt = conn.prepare("SELECT arn, record FROM functions")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (arn, json) = row?;
        match serde_json::from_str::<FunctionRecord>(&json) {
            Ok(f) => out.push(f),
            Err(e) => tracing::warn!(%arn, error = %e, "skipping unreadable function record"),
        }
    }
    Ok(out)
}

pub fn save(tx: &Transaction, arn: &str, json: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO functions (arn, record) VALUES (?1, ?2)")?
        .execute(params![arn, json])?;
    Ok(())
}

pub fn delete(tx: &Transaction, arn: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM functions WHERE arn = ?1")?.execute(params![arn])?;
    Ok(())
}
