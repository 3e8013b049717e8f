//! Object bodies as files: streamed in to a temporary file (MD5 computed on the
//! way), published by atomic rename, streamed out in chunks. Never whole in memory.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::mpsc;

const CHUNK: usize = 256 * 1024;

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

/// Streams `body` into `<root>/tmp/<id>`; fsyncs when `sync`.
pub async fn write_stream<S, E>(root: &Path, mut body: S, sync: bool) -> Result<Written, String>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let tmp = root.join("tmp").join(new_id());
    let result = async {
        let mut file = tokio::fs::File::create(&tmp).await.map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let mut hasher = Md5::new();
        let mut size = 0u64;
        let mut buf = BytesMut::with_capacity(CHUNK);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| format!("body: {e}"))?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            buf.extend_from_slice(&chunk);
            if buf.len() >= CHUNK {
                file.write_all(&buf).await.map_err(|e| e.to_string())?;
                buf.clear();
            }
        }
        if !buf.is_empty() {
            file.write_all(&buf).await.map_err(|e| e.to_string())?;
        }
        file.flush().await.map_err(|e| e.to_string())?;
        if sync {
            file.sync_all().await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(Written { tmp: tmp.clone(), size, md5: hasher.finalize().into() })
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

/// Concatenates `sources` into a new temporary file (multipart completion, copies).
pub async fn concat(root: &Path, sources: &[PathBuf], sync: bool) -> Result<Written, String> {
    let tmp = root.join("tmp").join(new_id());
    let result = async {
        let mut out = tokio::fs::File::create(&tmp).await.map_err(|e| e.to_string())?;
        let mut hasher = Md5::new();
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
                size += n as u64;
                out.write_all(data).await.map_err(|e| e.to_string())?;
            }
        }
        out.flush().await.map_err(|e| e.to_string())?;
        if sync {
            out.sync_all().await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(Written { tmp: tmp.clone(), size, md5: hasher.finalize().into() })
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

/// Copies `len` bytes from `start` of `src` into a new temporary file (UploadPartCopy).
pub async fn copy_range(root: &Path, mut src: tokio::fs::File, start: u64, len: u64, sync: bool) -> Result<Written, String> {
    let tmp = root.join("tmp").join(new_id());
    let result = async {
        src.seek(io::SeekFrom::Start(start)).await.map_err(|e| e.to_string())?;
        let mut out = tokio::fs::File::create(&tmp).await.map_err(|e| e.to_string())?;
        let mut hasher = Md5::new();
        let mut remaining = len;
        let mut buf = vec![0u8; CHUNK];
        while remaining > 0 {
            let want = remaining.min(CHUNK as u64) as usize;
            let n = src.read(buf.get_mut(..want).unwrap_or_default()).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("source object file truncated".to_string());
            }
            let data = buf.get(..n).unwrap_or_default();
            hasher.update(data);
            out.write_all(data).await.map_err(|e| e.to_string())?;
            remaining -= n as u64;
        }
        out.flush().await.map_err(|e| e.to_string())?;
        if sync {
            out.sync_all().await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(Written { tmp: tmp.clone(), size: len, md5: hasher.finalize().into() })
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

/// A file's byte range, read in chunks by a background task.
pub struct FileStream {
    rx: mpsc::Receiver<Result<Bytes, io::Error>>,
}

impl FileStream {
    pub fn spawn(mut file: tokio::fs::File, start: u64, len: u64) -> Self {
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            if start > 0 {
                if let Err(e) = file.seek(io::SeekFrom::Start(start)).await {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
            let mut remaining = len;
            while remaining > 0 {
                let want = remaining.min(CHUNK as u64) as usize;
                let mut buf = BytesMut::zeroed(want);
                match file.read(&mut buf).await {
                    Ok(0) => {
                        let _ = tx.send(Err(io::Error::new(io::ErrorKind::UnexpectedEof, "object file truncated"))).await;
                        return;
                    }
                    Ok(n) => {
                        buf.truncate(n);
                        remaining -= n as u64;
                        if tx.send(Ok(buf.freeze())).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
        FileStream { rx }
    }
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
        let c = concat(&root, &[dest.clone(), dest.clone()], false).await.unwrap();
        assert_eq!(c.size, 22);
        let f = tokio::fs::File::open(&c.tmp).await.unwrap();
        let got: Vec<Bytes> = FileStream::spawn(f, 6, 8).map(|r| r.unwrap()).collect().await;
        assert_eq!(got.concat(), b"worldhel");
        let part = copy_range(&root, tokio::fs::File::open(&c.tmp).await.unwrap(), 6, 8, false).await.unwrap();
        assert_eq!((part.size, std::fs::read(&part.tmp).unwrap()), (8, b"worldhel".to_vec()));
        assert!(copy_range(&root, tokio::fs::File::open(&c.tmp).await.unwrap(), 20, 8, false).await.is_err());
        let _ = std::fs::remove_dir_all(&root);
    }
}
