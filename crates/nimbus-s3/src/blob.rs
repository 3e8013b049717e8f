//! Object bodies as files: streamed in to a temporary file (MD5 computed on the
//! way, large bodies in SIMD lanes beside other uploads: `md5_lanes`), published
//! by atomic rename, streamed out in chunks. Never whole in memory.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5_many::Md5State;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::checksums::{self, Stored};
use crate::md5_lanes::LaneMd5;

const CHUNK: usize = 256 * 1024;
/// Reads of large bodies going out.
const READ_CHUNK: usize = 1024 * 1024;

pub fn prepare_dirs(root: &Path) -> io::Result<()> {
    for sub in ["objects", "parts", "tmp"] {
        std::fs::create_dir_all(root.join(sub))?;
    }
    // Anything left in tmp/ is an upload that never completed.
    if let Ok(entries) = std::fs::read_dir(root.join("tmp")) {
        for e in entries.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
    Ok(())
}

pub fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A body written to a temporary file.
pub struct Written {
    pub tmp: PathBuf,
    pub size: u64,
    pub md5: [u8; 16],
}

/// A received body: small ones stay in memory (they go to a segment), larger ones
/// were streamed to a temporary file.
pub enum Received {
    Small { body: Bytes, md5: [u8; 16] },
    File(Written),
}

impl Received {
    pub fn size(&self) -> u64 {
        match self {
            Received::Small { body, .. } => body.len() as u64,
            Received::File(w) => w.size,
        }
    }

    pub fn md5(&self) -> &[u8; 16] {
        match self {
            Received::Small { md5, .. } => md5,
            Received::File(w) => &w.md5,
        }
    }

    /// Deletes what was received (the request failed after the body arrived).
    pub async fn discard(self) {
        if let Received::File(w) = self {
            let _ = tokio::fs::remove_file(&w.tmp).await;
        }
    }
}

/// Receives `body`: kept in memory while it is at most `small_max` bytes, spilled
/// to `<root>/tmp/<id>` (and streamed from then on) once it grows past that.
pub async fn receive<S, E>(root: &Path, mut body: S, sync: bool, small_max: u64) -> Result<Received, String>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut hasher = Md5State::new();
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("body: {e}"))?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        chunks.push(chunk);
        if size > small_max {
            return write_rest(root, chunks, hasher, size, body, sync).await.map(Received::File);
        }
    }
    let body = match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.pop().unwrap_or_default(),
        _ => Bytes::from(chunks.concat()),
    };
    Ok(Received::Small { body, md5: hasher.finalize().into() })
}

/// Streams `body` into `<root>/tmp/<id>`; fsyncs when `sync`.
pub async fn write_stream<S, E>(root: &Path, body: S, sync: bool) -> Result<Written, String>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    write_rest(root, Vec::new(), Md5State::new(), 0, body, sync).await
}

/// Writes `head` (already hashed into `hasher` and counted) and then the rest of
/// `body` to a new temporary file. One blocking task hashes and writes the rest,
/// in runs shared with other uploads' hashing (`md5_lanes`).
async fn write_rest<S, E>(root: &Path, head: Vec<Bytes>, hasher: Md5State, size: u64, mut body: S, sync: bool) -> Result<Written, String>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let tmp = root.join("tmp").join(new_id());
    // A few chunks in flight are enough to keep the writer busy; every one more is up
    // to hyper's read buffer (~400 KiB) per upload held in memory (8 cost 30 MiB more
    // peak RSS with 16 uploads, for no more speed).
    let (tx, mut rx) = mpsc::channel::<Bytes>(3);
    let path = tmp.clone();
    let head_len = size;
    let writer = tokio::task::spawn_blocking(move || -> Result<Written, String> {
        use std::io::Write;
        let mut file = std::fs::File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        for chunk in &head {
            file.write_all(chunk).map_err(|e| e.to_string())?;
        }
        let mut size = head_len;
        let mut md5 = LaneMd5::from_state(hasher, head_len);
        let mut sink = |run: &[u8]| file.write_all(run).map_err(|e| e.to_string());
        while let Some(chunk) = rx.blocking_recv() {
            size += chunk.len() as u64;
            md5.update(chunk, &mut sink)?;
        }
        let md5 = md5.finish(&mut sink)?;
        if sync {
            file.sync_all().map_err(|e| e.to_string())?;
        }
        Ok(Written { tmp: path, size, md5 })
    });
    let mut failed = None;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                if tx.send(chunk).await.is_err() {
                    break; // the writer failed: its error is reported below
                }
            }
            Err(e) => {
                failed = Some(format!("body: {e}"));
                break;
            }
        }
    }
    drop(tx);
    let written = writer.await.map_err(|e| e.to_string()).and_then(|r| r);
    let result = match (failed, written) {
        (Some(e), _) | (None, Err(e)) => Err(e),
        (None, Ok(w)) => Ok(w),
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

/// Concatenates `sources` into a new temporary file (multipart completion), computing
/// `algorithm`'s checksum of the whole on the way (a FULL_OBJECT checksum, S3's
/// default CRC64NVME among them) so the assembled object is read only once.
pub async fn concat(root: &Path, sources: &[PathBuf], sync: bool, algorithm: Option<&str>) -> Result<(Written, Option<Stored>), String> {
    let tmp = root.join("tmp").join(new_id());
    let result = async {
        let mut out = tokio::fs::File::create(&tmp).await.map_err(|e| e.to_string())?;
        let mut hasher = Md5State::new();
        let mut checksum = algorithm.and_then(|a| Some((a, checksums::hasher(a)?)));
        let mut size = 0u64;
        let mut buf = vec![0u8; CHUNK];
        for src in sources {
            let mut f = tokio::fs::File::open(src).await.map_err(|e| format!("{}: {e}", src.display()))?;
            loop {
                let n = f.read(&mut buf).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                let data = buf.get(..n).unwrap_or_default();
                hasher.update(data);
                if let Some((_, h)) = &mut checksum {
                    h.update(data);
                }
                size += n as u64;
                out.write_all(data).await.map_err(|e| e.to_string())?;
            }
        }
        out.flush().await.map_err(|e| e.to_string())?;
        if sync {
            out.sync_all().await.map_err(|e| e.to_string())?;
        }
        let checksum = checksum.and_then(|(a, h)| Some(Stored { algorithm: a.to_string(), value: checksums::finish(h, a)? }));
        Ok::<_, String>((Written { tmp: tmp.clone(), size, md5: hasher.finalize().into() }, checksum))
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

/// Atomically moves a finished temporary file into place.
pub async fn publish(tmp: &Path, dest: &Path, sync: bool) -> Result<(), String> {
    tokio::fs::rename(tmp, dest).await.map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        format!("cannot publish {}: {e}", dest.display())
    })?;
    if sync {
        if let Some(dir) = dest.parent() {
            if let Ok(d) = tokio::fs::File::open(dir).await {
                let _ = d.sync_all().await;
            }
        }
    }
    Ok(())
}

/// A file's byte range, read in chunks by one blocking task (a thread hand-off per
/// stream, not per chunk).
pub struct FileStream {
    rx: mpsc::Receiver<Result<Bytes, io::Error>>,
}

impl FileStream {
    pub fn spawn(file: std::fs::File, start: u64, len: u64) -> Self {
        let (tx, rx) = mpsc::channel(2);
        tokio::task::spawn_blocking(move || {
            let mut pos = start;
            let end = start + len;
            while pos < end {
                let want = (end - pos).min(READ_CHUNK as u64);
                let item = map_window(&file, pos, want as usize);
                let failed = item.is_err();
                if tx.blocking_send(item).is_err() || failed {
                    return;
                }
                pos += want;
            }
        });
        FileStream { rx }
    }
}

/// `len` bytes of `file` from `offset`, mapped rather than copied: the socket write
/// then copies straight from the page cache (one copy instead of two, and no
/// zero-filled buffers). The pages are read in here, on the blocking thread.
fn map_window(file: &std::fs::File, offset: u64, len: usize) -> Result<Bytes, io::Error> {
    if file.metadata()?.len() < offset + len as u64 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "object file truncated"));
    }
    // SAFETY: object files are immutable once published: a new version gets a new
    // file and a deleted one is only unlinked, which leaves a mapping valid. Nothing
    // in nimbus truncates or rewrites them (the length was checked just above).
    let map = unsafe { memmap2::MmapOptions::new().offset(offset).len(len).populate().map(file)? };
    Ok(Bytes::from_owner(map))
}

impl Stream for FileStream {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn write_concat_and_read_back() {
        let root = std::env::temp_dir().join(format!("nimbus-s3-blob-{}", std::process::id()));
        prepare_dirs(&root).unwrap();
        let chunks: Vec<Result<Bytes, io::Error>> = vec![Ok(Bytes::from_static(b"hello ")), Ok(Bytes::from_static(b"world"))];
        let w = write_stream(&root, futures_util::stream::iter(chunks), false).await.unwrap();
        assert_eq!(w.size, 11);
        assert_eq!(hex::encode(w.md5), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        let dest = root.join("objects").join("a");
        publish(&w.tmp, &dest, true).await.unwrap();
        let (c, crc) = concat(&root, &[dest.clone(), dest.clone()], false, Some(checksums::DEFAULT)).await.unwrap();
        assert_eq!(c.size, 22);
        let mut want = checksums::hasher(checksums::DEFAULT).unwrap();
        want.update(b"hello worldhello world");
        assert_eq!(crc.map(|c| c.value), checksums::finish(want, checksums::DEFAULT));
        let f = std::fs::File::open(&c.tmp).unwrap();
        let got: Vec<Bytes> = FileStream::spawn(f, 6, 8).map(|r| r.unwrap()).collect().await;
        assert_eq!(got.concat(), b"worldhel");
        let small = receive(&root, futures_util::stream::iter(vec![Ok::<_, io::Error>(Bytes::from_static(b"abc"))]), false, 3).await.unwrap();
        assert!(matches!(small, Received::Small { ref body, .. } if &body[..] == b"abc"));
        let chunks = vec![Ok::<_, io::Error>(Bytes::from_static(b"ab")), Ok(Bytes::from_static(b"cd"))];
        let Received::File(big) = receive(&root, futures_util::stream::iter(chunks), false, 3).await.unwrap() else { panic!("spilled") };
        assert_eq!((big.size, std::fs::read(&big.tmp).unwrap()), (4, b"abcd".to_vec()));
        let _ = std::fs::remove_dir_all(&root);
    }
}
