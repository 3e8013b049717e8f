//! Small object bodies, appended to shared segment files instead of a file each.
//!
//! Creating, renaming and unlinking one file per 4 KiB object made the kernel's
//! inode and directory work most of a small PUT's cost. Here a small body is one
//! positional write at an offset reserved in the active segment, and a read is one
//! positional read: no open, no rename, no unlink per object.
//!
//! Segments are append-only: bytes are never overwritten, so a reader that looked
//! up an old location reads the old body or finds its segment gone, never other
//! bytes. A body is written before the metadata row that points to it is committed;
//! bytes no committed row points to (a crash in between, a failed request) are dead.
//! Each segment counts its live bytes; a sealed segment whose bytes are all dead is
//! deleted, and one mostly dead is compacted: its live bodies are copied to the
//! active segment and their rows repointed (see `State::compact_segments`).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;

/// Bodies up to this size are kept in segments (the rest get a file of their own).
pub const SMALL_BODY_MAX: u64 = 64 * 1024;

/// A segment is sealed, and a new one started, once it holds this much.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Overrides SEGMENT_BYTES (tests use small segments to see them roll and compact).
pub const SEGMENT_BYTES_ENV: &str = "NIMBUS_S3_SEGMENT_BYTES";

/// The segment size to use: `NIMBUS_S3_SEGMENT_BYTES` if set to a positive number.
pub fn segment_bytes_from_env() -> u64 {
    match std::env::var(SEGMENT_BYTES_ENV).ok().map(|v| v.trim().parse::<u64>()) {
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            tracing::warn!("{SEGMENT_BYTES_ENV} must be a positive number of bytes; using {SEGMENT_BYTES}");
            SEGMENT_BYTES
        }
        None => SEGMENT_BYTES,
    }
}

/// Where a version's body lives, as persisted in the `file` column: a file's id
/// (32 hex digits), or `@<segment>.<offset>` for a body in a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location<'a> {
    File(&'a str),
    Segment { segment: u32, offset: u64 },
}

impl<'a> Location<'a> {
    pub fn parse(stored: &'a str) -> Location<'a> {
        if let Some(rest) = stored.strip_prefix('@') {
            if let Some((s, o)) = rest.split_once('.') {
                if let (Ok(segment), Ok(offset)) = (s.parse(), o.parse()) {
                    return Location::Segment { segment, offset };
                }
            }
        }
        Location::File(stored)
    }
}

pub fn segment_location(segment: u32, offset: u64) -> String {
    format!("@{segment}.{offset}")
}

struct Segment {
    file: Arc<File>,
    /// Bytes reserved so far (the append position).
    size: u64,
    /// Bytes that committed rows point to (or that a write in flight will).
    live: u64,
}

struct Inner {
    segments: HashMap<u32, Segment>,
    active: u32,
}

pub struct Segments {
    dir: PathBuf,
    sync: bool,
    segment_bytes: u64,
    inner: Mutex<Inner>,
}

/// A sealed segment worth compacting: at most this share of it is live.
const COMPACT_LIVE_RATIO: f64 = 0.5;

impl Segments {
    /// Opens `<root>/segments`, keeping the segments already there (their live bytes
    /// are counted by `account` once the metadata is loaded) and starting a new one
    /// to append to.
    pub fn open(root: &Path, sync: bool, segment_bytes: u64) -> io::Result<Segments> {
        let dir = root.join("segments");
        std::fs::create_dir_all(&dir)?;
        let mut segments = HashMap::new();
        let mut newest = 0u32;
        for entry in std::fs::read_dir(&dir)?.flatten() {
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let file = File::options().read(true).write(true).open(entry.path())?;
            let size = file.metadata()?.len();
            segments.insert(id, Segment { file: Arc::new(file), size, live: 0 });
            newest = newest.max(id);
        }
        let active = newest + 1;
        let file = create_segment(&dir, active)?;
        segments.insert(active, Segment { file: Arc::new(file), size: 0, live: 0 });
        Ok(Segments { dir, sync, segment_bytes, inner: Mutex::new(Inner { segments, active }) })
    }

    /// Counts a committed body as live (at startup, for every row in a segment).
    pub fn account(&self, segment: u32, len: u64) {
        if let Some(s) = self.inner.lock().segments.get_mut(&segment) {
            s.live += len;
        }
    }

    /// Deletes the segments no committed row points into (after `account`).
    pub fn remove_dead(&self) {
        let dead: Vec<u32> = {
            let mut inner = self.inner.lock();
            let active = inner.active;
            let dead: Vec<u32> = inner.segments.iter().filter(|(id, s)| **id != active && s.live == 0).map(|(id, _)| *id).collect();
            for id in &dead {
                inner.segments.remove(id);
            }
            dead
        };
        for id in dead {
            let _ = std::fs::remove_file(self.path(id));
        }
    }

    fn path(&self, segment: u32) -> PathBuf {
        self.dir.join(segment.to_string())
    }

    /// Appends `body` and returns its location. The bytes reach the OS before this
    /// returns (and the disk too, with strict durability).
    pub fn append(&self, body: &[u8]) -> io::Result<String> {
        let len = body.len() as u64;
        let (segment, offset, file) = {
            let mut inner = self.inner.lock();
            let full = inner.segments.get(&inner.active).is_none_or(|s| s.size + len > self.segment_bytes && s.size > 0);
            if full {
                self.roll(&mut inner)?;
            }
            let active = inner.active;
            let s = inner.segments.get_mut(&active).ok_or_else(|| io::Error::other("no active segment"))?;
            let offset = s.size;
            s.size += len;
            s.live += len;
            (active, offset, s.file.clone())
        };
        let written = file.write_all_at(body, offset).and_then(|()| if self.sync { file.sync_data() } else { Ok(()) });
        if let Err(e) = written {
            self.release(segment, len);
            return Err(e);
        }
        Ok(segment_location(segment, offset))
    }

    /// Seals the active segment and starts the next one.
    fn roll(&self, inner: &mut Inner) -> io::Result<()> {
        let sealed = inner.active;
        let next = sealed + 1;
        let file = create_segment(&self.dir, next)?;
        inner.segments.insert(next, Segment { file: Arc::new(file), size: 0, live: 0 });
        inner.active = next;
        if inner.segments.get(&sealed).is_some_and(|s| s.live == 0) {
            inner.segments.remove(&sealed);
            let _ = std::fs::remove_file(self.path(sealed));
        }
        Ok(())
    }

    /// Reads `len` bytes at `offset`. NotFound when the segment is gone (its bodies
    /// were all deleted or moved: the caller looks the object up again).
    pub fn read(&self, segment: u32, offset: u64, len: u64) -> io::Result<Bytes> {
        let file = self.file(segment)?;
        let mut buf = BytesMut::zeroed(len as usize);
        file.read_exact_at(&mut buf, offset)?;
        Ok(buf.freeze())
    }

    fn file(&self, segment: u32) -> io::Result<Arc<File>> {
        self.inner
            .lock()
            .segments
            .get(&segment)
            .map(|s| s.file.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("segment {segment} is gone")))
    }

    /// A body is dead (its version was deleted or replaced, or its write failed).
    /// A sealed segment with nothing live left is deleted; readers that already
    /// hold it keep reading (the open file outlives its name).
    pub fn release(&self, segment: u32, len: u64) {
        let mut inner = self.inner.lock();
        let active = inner.active;
        let Some(s) = inner.segments.get_mut(&segment) else { return };
        s.live = s.live.saturating_sub(len);
        if s.live == 0 && segment != active {
            inner.segments.remove(&segment);
            drop(inner);
            let _ = std::fs::remove_file(self.path(segment));
        }
    }

    /// Sealed segments that are mostly dead space, most wasteful first.
    pub fn worth_compacting(&self) -> Vec<u32> {
        let inner = self.inner.lock();
        let mut found: Vec<(u32, f64)> = inner
            .segments
            .iter()
            .filter(|(id, s)| **id != inner.active && s.size > 0)
            .map(|(id, s)| (*id, s.live as f64 / s.size as f64))
            .filter(|(_, ratio)| *ratio <= COMPACT_LIVE_RATIO)
            .collect();
        found.sort_by(|a, b| a.1.total_cmp(&b.1));
        found.into_iter().map(|(id, _)| id).collect()
    }

    /// Bytes on disk and bytes live, over all segments (status, tests).
    pub fn usage(&self) -> (u64, u64) {
        let inner = self.inner.lock();
        inner.segments.values().fold((0, 0), |(size, live), s| (size + s.size, live + s.live))
    }
}

fn create_segment(dir: &Path, id: u32) -> io::Result<File> {
    File::options().read(true).write(true).create(true).truncate(true).open(dir.join(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nimbus-seg-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn locations_round_trip() {
        assert_eq!(Location::parse(&segment_location(7, 4096)), Location::Segment { segment: 7, offset: 4096 });
        assert_eq!(Location::parse("0123456789abcdef0123456789abcdef"), Location::File("0123456789abcdef0123456789abcdef"));
        assert_eq!(Location::parse("@x.1"), Location::File("@x.1"));
    }

    #[test]
    fn append_read_release_and_reopen() {
        let root = tmp("basic");
        let segs = Segments::open(&root, false, SEGMENT_BYTES).unwrap();
        let a = segs.append(b"hello").unwrap();
        let b = segs.append(b"world!").unwrap();
        let Location::Segment { segment, offset } = Location::parse(&b) else { panic!("{b}") };
        assert_eq!(&segs.read(segment, offset, 6).unwrap()[..], b"world!");
        assert_eq!(segs.usage(), (11, 11));
        segs.release(segment, 5);
        assert_eq!(segs.usage(), (11, 6));
        drop(segs);
        // After a restart only what the metadata accounts for is live; a segment
        // nobody points into is removed.
        let segs = Segments::open(&root, false, SEGMENT_BYTES).unwrap();
        let Location::Segment { segment: sa, offset: oa } = Location::parse(&a) else { panic!() };
        segs.account(sa, 5);
        segs.remove_dead();
        assert_eq!(&segs.read(sa, oa, 5).unwrap()[..], b"hello");
        segs.release(sa, 5);
        assert_eq!(segs.read(sa, oa, 5).unwrap_err().kind(), io::ErrorKind::NotFound);
        assert!(!root.join("segments").join(sa.to_string()).exists());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn full_segments_roll_and_mostly_dead_ones_are_found() {
        let root = tmp("roll");
        let segs = Segments::open(&root, false, SEGMENT_BYTES).unwrap();
        let big = vec![7u8; (SEGMENT_BYTES / 2) as usize + 1];
        let first = segs.append(&big).unwrap();
        let second = segs.append(&big).unwrap();
        let (Location::Segment { segment: s1, .. }, Location::Segment { segment: s2, .. }) = (Location::parse(&first), Location::parse(&second)) else {
            panic!()
        };
        assert_ne!(s1, s2, "the second body does not fit the first segment");
        assert!(segs.worth_compacting().is_empty());
        let small = segs.append(b"x").unwrap();
        let Location::Segment { segment: s3, .. } = Location::parse(&small) else { panic!() };
        assert_eq!(s3, s2);
        let _ = std::fs::remove_dir_all(&root);
    }
}
