//! A lean HTTP/1.1 client for the S3 load loops (`--client lean`, the default).
//!
//! On a 2-core machine the generator and the server share the cores, so every
//! microsecond the generator spends on a request is taken from the server. hyper's
//! client costs about 6 µs of user time per small request here (request and header
//! maps, a task hop per connection, body frames); this one writes each request as
//! one buffer and parses the answer's head with `httparse` in place.
//!
//! What the server receives is what `Client::send` sends, byte for byte, header for
//! header in the same order: the same SigV4 signature over the same canonical
//! request. A request's signature depends only on its method, path, headers and
//! `X-Amz-Date` (one-second resolution), so each connection signs a path once per
//! second and reuses the signed head for the rest of that second, as a client
//! sending the same request twice in one second would compute the same signature.
//!
//! Answers are read as a server sends them: `Content-Length`, chunked, or (no length
//! given) until the server closes; a `Connection: close` answer closes this side too.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{error_code, CallError, Endpoint};
use crate::sigv4::{amz_date, Signer};

/// Bodies up to this size are sent in one write with their head.
const ONE_WRITE_MAX: usize = 64 * 1024;
/// Read buffer: an answer's head, and a large body's reads.
const READ_CHUNK: usize = 256 * 1024;
/// Most of an error answer's body kept to find its code.
const ERROR_BODY_MAX: usize = 16 * 1024;

/// A 2xx answer's body length.
pub struct Received {
    pub len: u64,
}

pub struct LeanClient {
    endpoint: Arc<Endpoint>,
    signer: Signer,
    timeout: Duration,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// Unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// TCP connections opened so far.
    pub connects: u64,
    /// The second the cached heads were signed for, and its `X-Amz-Date`.
    second: u64,
    date: String,
    /// Signed request heads of this second, by the caller's slot number.
    heads: Vec<Option<Vec<u8>>>,
}

/// How an answer's body is delimited.
#[derive(Clone, Copy)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

impl LeanClient {
    pub fn new(endpoint: Arc<Endpoint>, signer: Signer, timeout: Duration) -> Self {
        LeanClient {
            endpoint,
            signer,
            timeout,
            stream: None,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            connects: 0,
            second: u64::MAX,
            date: String::new(),
            heads: Vec::new(),
        }
    }

    /// Sends `method path` with `body` (signed with `payload_hash`, sent as
    /// `x-amz-content-sha256`); `slot` names the request for the per-second head
    /// cache (the same slot must always mean the same method, path and body length).
    /// Returns the 2xx answer's body length; anything else is an error.
    pub async fn send(&mut self, slot: usize, method: &str, path: &str, body: &[u8], payload_hash: &str) -> Result<Received, CallError> {
        match tokio::time::timeout(self.timeout, self.send_inner(slot, method, path, body, payload_hash)).await {
            Ok(result) => {
                if result.is_err() {
                    // The connection is in an unknown state after most failures; a
                    // non-2xx answer read whole leaves it usable, but starting afresh
                    // costs nothing that matters.
                    if !matches!(result, Err(CallError::Status(..))) {
                        self.close();
                    }
                }
                result
            }
            Err(_) => {
                self.close();
                Err(CallError::Timeout)
            }
        }
    }

    fn close(&mut self) {
        self.stream = None;
        self.start = 0;
        self.end = 0;
    }

    /// The signed head for `slot`, signed anew when the second has changed.
    fn head(&mut self, slot: usize, method: &str, path: &str, body_len: usize, payload_hash: &str) -> Vec<u8> {
        let now = SystemTime::now();
        let secs = now.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        if secs != self.second {
            self.second = secs;
            self.date = amz_date(now);
            self.heads.iter_mut().for_each(|h| *h = None);
        }
        if self.heads.len() <= slot {
            self.heads.resize(slot + 1, None);
        }
        if let Some(head) = &self.heads[slot] {
            return head.clone();
        }
        let host = self.endpoint.host.as_str();
        let signed = [("host", host), ("x-amz-date", self.date.as_str()), ("x-amz-content-sha256", payload_hash)];
        let authorization = self.signer.authorization(method, path, "", &signed, payload_hash, &self.date);
        // The order hyper writes `Client::send`'s headers in.
        let mut head = Vec::with_capacity(512);
        for part in [method, " ", path, " HTTP/1.1\r\nhost: ", host, "\r\nx-amz-date: ", &self.date, "\r\nx-amz-content-sha256: ", payload_hash, "\r\nauthorization: ", &authorization, "\r\ncontent-length: "] {
            head.extend_from_slice(part.as_bytes());
        }
        head.extend_from_slice(body_len.to_string().as_bytes());
        head.extend_from_slice(b"\r\n\r\n");
        self.heads[slot] = Some(head.clone());
        head
    }

    async fn send_inner(&mut self, slot: usize, method: &str, path: &str, body: &[u8], payload_hash: &str) -> Result<Received, CallError> {
        let mut request = self.head(slot, method, path, body.len(), payload_hash);
        if self.stream.is_none() {
            self.connect().await?;
        }
        let stream = self.stream.as_mut().ok_or_else(|| CallError::Connect("no connection".into()))?;
        let io = |e: std::io::Error| CallError::Io(e.to_string());
        if body.len() <= ONE_WRITE_MAX {
            request.extend_from_slice(body);
            stream.write_all(&request).await.map_err(io)?;
        } else {
            stream.write_all(&request).await.map_err(io)?;
            stream.write_all(body).await.map_err(io)?;
        }
        self.read_answer(method == "HEAD").await
    }

    async fn connect(&mut self) -> Result<(), CallError> {
        let mut last = String::from("no address");
        for addr in &self.endpoint.addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    stream.set_nodelay(true).map_err(|e| CallError::Connect(format!("TCP_NODELAY: {e}")))?;
                    self.stream = Some(stream);
                    self.start = 0;
                    self.end = 0;
                    self.connects += 1;
                    return Ok(());
                }
                Err(e) => last = format!("{addr}: {e}"),
            }
        }
        Err(CallError::Connect(last))
    }

    /// Reads more bytes into the buffer (compacting it first); 0 means the server closed.
    async fn fill(&mut self) -> Result<usize, CallError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return Err(CallError::Parse("answer head larger than the read buffer".into()));
        }
        let stream = self.stream.as_mut().ok_or_else(|| CallError::Io("connection closed".into()))?;
        stream.read(&mut self.buf[self.end..]).await.map(|n| {
            self.end += n;
            n
        }).map_err(|e| CallError::Io(e.to_string()))
    }

    async fn read_answer(&mut self, head_only: bool) -> Result<Received, CallError> {
        let (status, framing, closing) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut answer = httparse::Response::new(&mut headers);
            match answer.parse(&self.buf[self.start..self.end]) {
                Ok(httparse::Status::Complete(used)) => {
                    let status = answer.code.unwrap_or(0);
                    let (framing, closing) = framing_of(answer.headers, head_only || status == 204 || status == 304)?;
                    self.start += used;
                    break (status, framing, closing);
                }
                Ok(httparse::Status::Partial) => {
                    if self.fill().await? == 0 {
                        return Err(CallError::Io("connection closed before the answer".into()));
                    }
                }
                Err(e) => return Err(CallError::Parse(format!("answer head: {e}"))),
            }
        };
        let keep = if (200..300).contains(&status) { 0 } else { ERROR_BODY_MAX };
        let mut kept = Vec::new();
        let len = self.read_body(framing, keep, &mut kept).await?;
        if closing || matches!(framing, Framing::UntilClose) {
            self.close();
        }
        if !(200..300).contains(&status) {
            return Err(CallError::Status(status, error_code(&kept, None)));
        }
        Ok(Received { len })
    }

    /// Reads the body, keeping up to `keep` bytes of it in `kept`; returns its length.
    async fn read_body(&mut self, framing: Framing, keep: usize, kept: &mut Vec<u8>) -> Result<u64, CallError> {
        match framing {
            Framing::Length(n) => self.read_exact_counted(n, keep, kept).await,
            Framing::UntilClose => {
                let mut total = 0u64;
                loop {
                    total += self.take(u64::MAX, keep, kept);
                    if self.fill().await? == 0 {
                        return Ok(total);
                    }
                }
            }
            Framing::Chunked => {
                let mut total = 0u64;
                loop {
                    let line = self.line().await?;
                    let size_text = line.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(size_text, 16).map_err(|_| CallError::Parse(format!("chunk size {size_text:?}")))?;
                    if size == 0 {
                        // Trailers, if any, up to the empty line.
                        while !self.line().await?.is_empty() {}
                        return Ok(total);
                    }
                    total += self.read_exact_counted(size, keep, kept).await?;
                    if !self.line().await?.is_empty() {
                        return Err(CallError::Parse("chunk not followed by CRLF".into()));
                    }
                }
            }
        }
    }

    /// Consumes up to `max` buffered bytes, keeping what fits under `keep`.
    fn take(&mut self, max: u64, keep: usize, kept: &mut Vec<u8>) -> u64 {
        let n = ((self.end - self.start) as u64).min(max) as usize;
        let room = keep.saturating_sub(kept.len()).min(n);
        kept.extend_from_slice(&self.buf[self.start..self.start + room]);
        self.start += n;
        n as u64
    }

    async fn read_exact_counted(&mut self, n: u64, keep: usize, kept: &mut Vec<u8>) -> Result<u64, CallError> {
        let mut left = n;
        loop {
            left -= self.take(left, keep, kept);
            if left == 0 {
                return Ok(n);
            }
            if self.fill().await? == 0 {
                return Err(CallError::Io(format!("connection closed {left} bytes before the body's end")));
            }
        }
    }

    /// One CRLF-terminated line (without its CRLF).
    async fn line(&mut self) -> Result<String, CallError> {
        loop {
            if let Some(at) = self.buf[self.start..self.end].windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[self.start..self.start + at]).into_owned();
                self.start += at + 2;
                return Ok(line);
            }
            if self.fill().await? == 0 {
                return Err(CallError::Io("connection closed inside a chunked body".into()));
            }
        }
    }
}

/// The body's framing and whether the server closes after this answer.
fn framing_of(headers: &[httparse::Header<'_>], no_body: bool) -> Result<(Framing, bool), CallError> {
    let mut length = None;
    let mut chunked = false;
    let mut closing = false;
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(h.value).unwrap_or("");
            length = Some(text.trim().parse::<u64>().map_err(|_| CallError::Parse(format!("Content-Length {text:?}")))?);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = std::str::from_utf8(h.value).is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            closing = std::str::from_utf8(h.value).is_ok_and(|v| v.eq_ignore_ascii_case("close"));
        }
    }
    let framing = if no_body {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else {
        match length {
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        }
    };
    Ok((framing, closing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A one-connection server that records the request bytes and answers with `answers` in turn.
    async fn server(answers: Vec<&'static [u8]>) -> (Arc<Endpoint>, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for (i, answer) in answers.into_iter().enumerate() {
                let mut buf = vec![0u8; 65536];
                // Read until the end of this request's head (these requests carry
                // small bodies, written with their heads).
                loop {
                    let n = s.read(&mut buf).await.unwrap();
                    seen.extend_from_slice(&buf[..n]);
                    if n == 0 || seen.windows(4).filter(|w| *w == b"\r\n\r\n").count() > i {
                        break;
                    }
                }
                s.write_all(answer).await.unwrap();
            }
            seen
        });
        let endpoint = Arc::new(Endpoint { host: addr.to_string(), addrs: vec![addr] });
        (endpoint, handle)
    }

    fn signer() -> Signer {
        Signer::new("test", "test", "us-east-1", "s3")
    }

    #[tokio::test]
    async fn reads_length_chunked_and_error_answers() {
        let (endpoint, server) = server(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 60\r\n\r\n<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>",
        ])
        .await;
        let mut c = LeanClient::new(endpoint, signer(), Duration::from_secs(5));
        assert_eq!(c.send(0, "GET", "/b/k", b"", "UNSIGNED-PAYLOAD").await.unwrap().len, 5);
        assert_eq!(c.send(0, "GET", "/b/k", b"", "UNSIGNED-PAYLOAD").await.unwrap().len, 7);
        match c.send(1, "PUT", "/b/k2", b"xyz", "UNSIGNED-PAYLOAD").await {
            Err(CallError::Status(404, code)) => assert_eq!(code, "NoSuchKey: gone"),
            other => panic!("expected a 404, got {:?}", other.map(|r| r.len)),
        }
        assert_eq!(c.connects, 1, "one keep-alive connection for all three");
        let seen = String::from_utf8(server.await.unwrap()).unwrap();
        assert!(seen.starts_with("GET /b/k HTTP/1.1\r\nhost: 127.0.0.1:"), "{seen}");
        assert!(seen.contains("\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\nauthorization: AWS4-HMAC-SHA256 Credential=test/"));
        assert!(seen.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="));
        assert!(seen.contains("PUT /b/k2 HTTP/1.1\r\n"));
        assert!(seen.ends_with("content-length: 3\r\n\r\nxyz"), "{seen}");
    }

    #[tokio::test]
    async fn a_paths_head_is_signed_once_a_second() {
        // The same request through both clients carries the same Authorization.
        let mut s = signer();
        let date = amz_date(SystemTime::now());
        let signed = [("host", "h:1"), ("x-amz-date", date.as_str()), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")];
        let expected = s.authorization("GET", "/b/k", "", &signed, "UNSIGNED-PAYLOAD", &date);
        let endpoint = Arc::new(Endpoint { host: "h:1".into(), addrs: vec![] });
        let mut c = LeanClient::new(endpoint, signer(), Duration::from_secs(1));
        let head = String::from_utf8(c.head(0, "GET", "/b/k", 0, "UNSIGNED-PAYLOAD")).unwrap();
        // Signed in the same second (a second boundary between the two is possible but rare).
        if c.date == date {
            assert!(head.contains(&format!("\r\nauthorization: {expected}\r\n")), "{head}");
        }
        assert!(head.ends_with("\r\ncontent-length: 0\r\n\r\n"));
        // A second request in the same second reuses the head.
        assert_eq!(c.head(0, "GET", "/b/k", 0, "UNSIGNED-PAYLOAD"), head.as_bytes());
    }

    #[tokio::test]
    async fn sends_what_the_hyper_client_sends() {
        use crate::client::{BodyMode, Client, PayloadHash, Req};
        for _ in 0..3 {
            // One request on each of two connections, recorded in turn.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                let mut seen = Vec::new();
                for _ in 0..2 {
                    let (mut s, _) = listener.accept().await.unwrap();
                    let mut buf = vec![0u8; 65536];
                    let start = seen.len();
                    while !seen[start..].ends_with(b"body") {
                        let n = s.read(&mut buf).await.unwrap();
                        assert!(n > 0);
                        seen.extend_from_slice(&buf[..n]);
                    }
                    s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await.unwrap();
                }
                seen
            });
            let endpoint = Arc::new(Endpoint { host: addr.to_string(), addrs: vec![addr] });
            let mut hyper = Client::new(endpoint.clone(), signer(), Duration::from_secs(5));
            let mut lean = LeanClient::new(endpoint, signer(), Duration::from_secs(5));
            let before = SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            let req = Req { method: http::Method::PUT, path: "/b/k", query: "", headers: &[], body: bytes::Bytes::from_static(b"body"), payload_hash: Some(PayloadHash::Unsigned), mode: BodyMode::Collect };
            hyper.send(req).await.unwrap();
            drop(hyper);
            lean.send(0, "PUT", "/b/k", b"body", "UNSIGNED-PAYLOAD").await.unwrap();
            let after = SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            let seen = String::from_utf8(server.await.unwrap()).unwrap();
            if before != after {
                continue; // signed in different seconds: try again
            }
            let (first, second) = seen.split_at(seen.len() / 2);
            assert_eq!(first, second, "hyper's request, then the lean client's");
            return;
        }
        panic!("three tries crossed a second boundary");
    }

    #[tokio::test]
    async fn an_answer_without_length_ends_when_the_server_closes() {
        let (endpoint, _server) = server(vec![b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil-close"]).await;
        let mut c = LeanClient::new(endpoint, signer(), Duration::from_secs(5));
        assert_eq!(c.send(0, "GET", "/b/k", b"", "UNSIGNED-PAYLOAD").await.unwrap().len, 11);
        assert!(c.stream.is_none());
    }
}
