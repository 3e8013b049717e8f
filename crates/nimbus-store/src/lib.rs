//! Embedded durable storage: one SQLite database (WAL) per service, written by a
//! single writer thread that commits in batches. Every write a client is told about
//! has been committed first; one commit (and, with `Durability::Strict`, one fsync)
//! serves every write that queued up while the previous commit ran.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use rusqlite::{Connection, Transaction};
use tokio::sync::oneshot;

/// How far an acknowledged write survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Survives `kill -9` of the server: the commit reaches the OS (WAL, no fsync).
    Process,
    /// Also survives power loss: one fsync per committed batch.
    Strict,
}

#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

/// A write. `Fn`, not `FnOnce`: if a batch fails, its writes are replayed one by one
/// so that only the failing write fails.
type WriteOp = Box<dyn Fn(&Transaction) -> rusqlite::Result<()> + Send>;

struct Job {
    op: WriteOp,
    done: Option<oneshot::Sender<Result<(), StoreError>>>,
}

/// Most writes a single transaction takes; bounds commit latency under load.
const MAX_BATCH: usize = 2048;

/// WAL size (pages) at which the writer checkpoints itself, should the checkpoint
/// thread fall this far behind.
const WRITER_CHECKPOINT_PAGES: i64 = 65_536;

/// How often, at most, the checkpoint thread folds the WAL back while writes arrive.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// A handle to a service's database. Cheap to clone; `None` inside means in-memory
/// mode, where writes are accepted and dropped.
#[derive(Clone)]
pub struct Store {
    tx: Option<mpsc::Sender<Job>>,
}

impl Store {
    /// A store that keeps nothing (`--in-memory`).
    pub fn in_memory() -> Self {
        Self { tx: None }
    }

    /// Opens (creating if needed) `<dir>/<name>.sqlite`, applies `schema`, lets `load`
    /// read the existing state, then starts the writer thread.
    pub fn open<T>(
        dir: &Path,
        name: &str,
        durability: Durability,
        schema: &str,
        load: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<(Self, T), StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError(format!("cannot create data directory {}: {e}", dir.display())))?;
        let path: PathBuf = dir.join(format!("{name}.sqlite"));
        let conn = Connection::open(&path)
            .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Checkpoints (which fsync the WAL and the database even at synchronous=NORMAL)
        // run on a thread of their own, so the writer never stalls behind one. The
        // writer's own automatic checkpoint is only a backstop.
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        let sync = match durability {
            Durability::Process => "NORMAL",
            Durability::Strict => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(schema)?;
        let loaded = load(&conn)?;
        let checkpoints = Connection::open(&path).map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        checkpoints.busy_timeout(std::time::Duration::from_secs(5))?;
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        thread::Builder::new()
            .name(format!("checkpoint-{name}"))
            .spawn(move || checkpointer(checkpoints, woken))
            .map_err(|e| StoreError(format!("cannot start checkpoint thread: {e}")))?;
        let (tx, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name(format!("store-{name}"))
            .spawn(move || writer(conn, rx, wake))
            .map_err(|e| StoreError(format!("cannot start writer thread: {e}")))?;
        Ok((Self { tx: Some(tx) }, loaded))
    }

    /// Queues a write now (so writes reach the database in the order they were
    /// queued) and returns a future that resolves once it is committed.
    pub fn write(
        &self,
        op: impl Fn(&Transaction) -> rusqlite::Result<()> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send + 'static {
        let queued = self.tx.as_ref().map(|tx| {
            let (done, wait) = oneshot::channel();
            tx.send(Job { op: Box::new(op), done: Some(done) }).map(|_| wait)
        });
        async move {
            match queued {
                None => Ok(()),
                Some(Err(_)) => Err(StoreError("the store's writer has stopped".into())),
                Some(Ok(wait)) => wait.await.map_err(|_| StoreError("the store's writer has stopped".into()))?,
            }
        }
    }

    /// Queues a write without waiting for it (it is still ordered after every write
    /// queued before it). For bookkeeping a client is not told about.
    pub fn write_detached(&self, op: impl Fn(&Transaction) -> rusqlite::Result<()> + Send + 'static) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Job { op: Box::new(op), done: None });
        }
    }

    pub fn is_persistent(&self) -> bool {
        self.tx.is_some()
    }

    /// Waits until everything queued so far is committed (shutdown, tests).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.write(|_| Ok(())).await
    }
}

/// Folds the WAL into the database in the background (PASSIVE: never waits for or
/// blocks the writer), at most every CHECKPOINT_EVERY while commits arrive.
fn checkpointer(conn: Connection, woken: mpsc::Receiver<()>) {
    while woken.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpoint failed");
        }
        thread::sleep(CHECKPOINT_EVERY);
    }
}

fn writer(mut conn: Connection, rx: mpsc::Receiver<Job>, wake_checkpointer: mpsc::SyncSender<()>) {
    let mut batch: Vec<Job> = Vec::with_capacity(64);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let results = commit_batch(&mut conn, &mut batch);
        // Full means a checkpoint is already due.
        let _ = wake_checkpointer.try_send(());
        for (job, result) in batch.drain(..).zip(results) {
            if let Some(done) = job.done {
                let _ = done.send(result);
            } else if let Err(e) = result {
                tracing::error!(error = %e, "background write failed");
            }
        }
    }
    // All handles dropped: the final state is committed; fold the WAL back.
    drop(wake_checkpointer);
    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// Commits a batch in one transaction. If any write fails, the batch is rolled back
/// and replayed one write per transaction, so a failing write fails alone.
fn commit_batch(conn: &mut Connection, batch: &mut [Job]) -> Vec<Result<(), StoreError>> {
    match run_all(conn, batch) {
        Ok(()) => batch.iter().map(|_| Ok(())).collect(),
        Err(_) if batch.len() > 1 => batch
            .iter()
            .map(|job| run_all(conn, std::slice::from_ref(job)))
            .collect(),
        Err(e) => vec![Err(e)],
    }
}

fn run_all(conn: &mut Connection, jobs: &[Job]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for job in jobs {
        (job.op)(&tx)?;
    }
    tx.commit().map_err(|e| {
        tracing::error!(error = %e, "commit failed");
        StoreError(e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nimbus-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[tokio::test]
    async fn writes_are_committed_and_reloaded() {
        let dir = tmpdir("reload");
        let schema = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER);";
        let (store, n) = Store::open(&dir, "x", Durability::Process, schema, |c| {
            c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
        })
        .unwrap();
        assert_eq!(n, 0);
        let mut waits = Vec::new();
        for i in 0..100 {
            let s = store.clone();
            waits.push(tokio::spawn(async move {
                s.write(move |tx| {
                    tx.execute("INSERT INTO t VALUES (?1, ?2)", (format!("k{i}"), i))?;
                    Ok(())
                })
                .await
            }));
        }
        for w in waits {
            w.await.unwrap().unwrap();
        }
        // A failing write fails alone.
        let dup = store.write(|tx| tx.execute("INSERT INTO t VALUES ('k1', 1)", []).map(|_| ())).await;
        assert!(dup.is_err());
        store.flush().await.unwrap();
        drop(store);
        let (_, n) = Store::open(&dir, "x", Durability::Strict, schema, |c| {
            c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
        })
        .unwrap();
        assert_eq!(n, 100);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn in_memory_accepts_writes() {
        let s = Store::in_memory();
        assert!(s.write(|_| Ok(())).await.is_ok());
        assert!(!s.is_persistent());
    }
}
