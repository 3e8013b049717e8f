//! The server's side of a client connection: a TCP stream that sends large buffers
//! of mapped files with sendfile(2) and writes everything else as usual.
//!
//! A large GET's body is a slice of a mapped body file (nimbus_core::file_regions).
//! Written, its bytes are copied into the socket; sent with sendfile, the socket takes
//! the page-cache pages themselves, which saves the larger part of the server's work
//! per byte. Which buffers are mapped files is decided by their address alone, so
//! hyper and the services need not know.

use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// Buffers smaller than this are written: for them the lookup and the extra system
/// call cost more than the copy.
const SENDFILE_MIN: usize = 64 * 1024;

pub struct ServerStream {
    inner: TcpStream,
}

impl ServerStream {
    pub fn new(inner: TcpStream) -> Self {
        ServerStream { inner }
    }

    /// Sends `len` bytes of `file` from `offset`; Ok(None) when sendfile cannot
    /// serve this file (the caller writes the bytes instead).
    fn poll_sendfile(&self, cx: &mut Context<'_>, file: &File, offset: u64, len: usize) -> Poll<io::Result<Option<usize>>> {
        loop {
            ready!(self.inner.poll_write_ready(cx))?;
            match self.inner.try_io(Interest::WRITABLE, || sendfile(self.inner.as_raw_fd(), file.as_raw_fd(), offset, len)) {
                Ok(sent) => return Poll::Ready(Ok(Some(sent))),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                // Filesystems without sendfile support say so with these.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)) => return Poll::Ready(Ok(None)),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

fn sendfile(socket: RawFd, file: RawFd, offset: u64, len: usize) -> io::Result<usize> {
    let mut offset = libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: both descriptors are open for the duration of the call (the caller holds
    // the stream and the file), and `offset` is a valid place for the kernel to write.
    let sent = unsafe { libc::sendfile(socket, file, &mut offset, len) };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

impl AsyncRead for ServerStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ServerStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    /// Writes the buffers before the first mapped-file one; a mapped-file buffer
    /// first in line is sent with sendfile.
    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let mut written = bufs.len();
        let mut bytes_before = 0;
        for (i, buf) in bufs.iter().enumerate() {
            if buf.len() < SENDFILE_MIN {
                bytes_before += buf.len();
                continue;
            }
            let Some((file, offset)) = nimbus_core::file_regions::find(buf) else {
                bytes_before += buf.len();
                continue;
            };
            if bytes_before > 0 {
                written = i;
                break;
            }
            if let Some(sent) = ready!(self.poll_sendfile(cx, &file, offset, buf.len()))? {
                return Poll::Ready(Ok(sent));
            }
            written = i + 1;
            break;
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, &bufs[..written])
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Memory registered as a file region is sent from the file: the test gives the
    /// memory other bytes than the file (which real callers never do) to see which
    /// was sent; the header before it is written from memory.
    #[tokio::test]
    async fn sends_registered_regions_from_their_file_and_the_rest_from_memory() {
        let path = std::env::temp_dir().join(format!("nimbus-server-stream-{}", std::process::id()));
        let in_file: Vec<u8> = (0..3 * SENDFILE_MIN + 17).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &in_file).unwrap();
        let memory = vec![0xEEu8; in_file.len()];
        let _registered = nimbus_core::file_regions::register(&memory, Arc::new(File::open(&path).unwrap()), 0);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let mut client = TcpStream::connect(addr).await.unwrap();
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            got
        });
        let (socket, _) = listener.accept().await.unwrap();
        let mut stream = ServerStream::new(socket);
        let header = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        let body = &memory[5..];
        let (mut header_left, mut body_left): (&[u8], &[u8]) = (&header, body);
        while !header_left.is_empty() || !body_left.is_empty() {
            let n = stream.write_vectored(&[IoSlice::new(header_left), IoSlice::new(body_left)]).await.unwrap();
            let from_header = n.min(header_left.len());
            header_left = &header_left[from_header..];
            body_left = &body_left[n - from_header..];
        }
        stream.shutdown().await.unwrap();
        drop(stream);

        let got = reader.await.unwrap();
        let mut expected = header.clone();
        expected.extend_from_slice(&in_file[5..]);
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the region's bytes come from the file");
        let _ = std::fs::remove_file(&path);
    }
}
