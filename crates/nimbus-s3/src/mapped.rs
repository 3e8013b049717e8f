//! Whole-file mappings of recently read large bodies, shared by concurrent and
//! successive GETs.
//!
//! Streaming a large body as mapped 1 MiB windows cost every GET one mmap/munmap
//! pair per window (each unmap a TLB shoot-down across the worker threads), the
//! population of its page tables, and a blocking-thread hand-off: about a tenth of
//! an 8 MiB GET's CPU. Bodies are immutable once published (a new version gets a
//! new file; nothing rewrites or truncates one), so a mapping stays right for as
//! long as it is kept. The cache is bounded: at most [`MAX_BYTES`] mapped, least
//! recently used first out, mappings unused for [`IDLE`] dropped on the compactor's
//! tick, and a deleted body's mapping dropped at once so its disk space is freed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;

/// Mapped bytes kept at most (they count in the process's resident size while the
/// page cache holds them).
const MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Bodies mapped whole are this size or more (smaller ones take one window or one
/// read anyway) ...
const MIN_FILE: u64 = 1024 * 1024;
/// ... and at most this size (larger ones stream window by window).
const MAX_FILE: u64 = 64 * 1024 * 1024;
/// A mapping unused this long is dropped.
const IDLE: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct MappedBodies {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    files: HashMap<String, Entry>,
    bytes: u64,
    /// Being mapped now (so concurrent first reads map a body once).
    pending: HashSet<String>,
}

struct Entry {
    body: Bytes,
    last_used: Instant,
}

/// Is a body of `size` bytes mapped whole when read?
pub fn worth_mapping(size: u64) -> bool {
    (MIN_FILE..=MAX_FILE).contains(&size)
}

impl MappedBodies {
    /// Claims the mapping of `file`; false if it is mapped or being mapped already.
    pub fn begin(&self, file: &str) -> bool {
        let mut inner = self.inner.lock();
        !inner.files.contains_key(file) && inner.pending.insert(file.to_string())
    }

    /// The whole body in `file`, if it is mapped already.
    pub fn get(&self, file: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock();
        let entry = inner.files.get_mut(file)?;
        entry.last_used = Instant::now();
        Some(entry.body.clone())
    }

    /// Maps `path` (the body `file`, `len` bytes) whole and keeps the mapping. Blocking:
    /// the pages are read in here.
    pub fn map(&self, file: &str, path: &Path, len: u64) -> std::io::Result<()> {
        let mapped = self.map_file(file, path, len);
        self.inner.lock().pending.remove(file);
        mapped
    }

    fn map_file(&self, file: &str, path: &Path, len: u64) -> std::io::Result<()> {
        if !worth_mapping(len) {
            return Ok(());
        }
        let f = std::fs::File::open(path)?;
        if f.metadata()?.len() != len {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "object file is not the size recorded"));
        }
        // SAFETY: object files are immutable once published (see the module comment);
        // an unlinked file stays valid while mapped. The length was checked above.
        let map = unsafe { memmap2::MmapOptions::new().len(len as usize).populate().map(&f)? };
        let body = Bytes::from_owner(map);
        let mut inner = self.inner.lock();
        if inner.files.contains_key(file) {
            return Ok(());
        }
        while inner.bytes + len > MAX_BYTES {
            let Some(oldest) = inner.files.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone()) else { break };
            inner.remove(&oldest);
        }
        inner.bytes += len;
        inner.files.insert(file.to_string(), Entry { body, last_used: Instant::now() });
        Ok(())
    }

    /// The body in `file` is being deleted.
    pub fn forget(&self, file: &str) {
        self.inner.lock().remove(file);
    }

    /// Drops mappings unused for [`IDLE`].
    pub fn expire_idle(&self) {
        let mut inner = self.inner.lock();
        let now = Instant::now();
        let idle: Vec<String> = inner.files.iter().filter(|(_, e)| now.duration_since(e.last_used) >= IDLE).map(|(k, _)| k.clone()).collect();
        for file in idle {
            inner.remove(&file);
        }
    }
}

impl Inner {
    fn remove(&mut self, file: &str) {
        if let Some(e) = self.files.remove(file) {
            self.bytes -= e.body.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_whole_files_within_bounds() {
        let dir = std::env::temp_dir().join(format!("nimbus-mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a");
        let body: Vec<u8> = (0..MIN_FILE + 5).map(|i| i as u8).collect();
        std::fs::write(&path, &body).unwrap();
        let cache = MappedBodies::default();
        assert!(cache.get("a").is_none());
        assert!(cache.begin("a") && !cache.begin("a"), "one mapping at a time");
        cache.map("a", &path, body.len() as u64).unwrap();
        assert!(!cache.begin("a"), "already mapped");
        assert_eq!(&cache.get("a").unwrap()[..], &body[..]);
        // A size that is not the file's is refused, not mapped.
        assert!(cache.map("b", &path, body.len() as u64 + 1).is_err());
        assert!(cache.get("b").is_none());
        cache.forget("a");
        assert!(cache.get("a").is_none());
        assert_eq!(cache.inner.lock().bytes, 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
