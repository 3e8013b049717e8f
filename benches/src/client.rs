//! One persistent HTTP/1.1 connection that sends SigV4-signed requests: awsJson 1.0
//! calls (SQS), and any method/path with a chosen payload hash (S3's restXml, Lambda's
//! restJson).
//!
//! hyper's low-level client (`client::conn::http1`) on a `TcpStream` with
//! TCP_NODELAY: no pool, no extra task hops; one `Client` per load task. If the
//! server closes the connection (`Connection: close`, as moto's werkzeug does)
//! the next call opens a new one and the reconnect is counted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{header, HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::sigv4::{amz_date, sha256_hex, Signer};

pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const SQS_TARGET_PREFIX: &str = "AmazonSQS.";

/// Where to send requests: the `Host` header value and the resolved addresses.
pub struct Endpoint {
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

impl Endpoint {
    /// Parses `http://host:port` and resolves it once.
    pub async fn resolve(url: &str) -> Result<Endpoint, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("bad endpoint {url:?}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("endpoint {url:?}: only http:// is supported"));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("endpoint {url:?} has no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((authority.host(), port))
            .await
            .map_err(|e| format!("cannot resolve {}: {e}", authority.host()))?
            .collect();
        if addrs.is_empty() {
            return Err(format!("{} resolves to no address", authority.host()));
        }
        Ok(Endpoint {
            host: authority.as_str().to_owned(),
            addrs,
        })
    }
}

/// Why a call failed. Every failure is counted, never unwrapped.
#[derive(Debug)]
pub enum CallError {
    Connect(String),
    Io(String),
    Timeout,
    /// Non-2xx answer with the AWS error code if one could be read.
    Status(u16, String),
    Parse(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Connect(e) => write!(f, "connect: {e}"),
            CallError::Io(e) => write!(f, "io: {e}"),
            CallError::Timeout => write!(f, "timeout"),
            CallError::Status(s, code) => write!(f, "HTTP {s} {code}"),
            CallError::Parse(e) => write!(f, "bad response: {e}"),
        }
    }
}

/// What goes into `x-amz-content-sha256` and the canonical request's last line.
#[derive(Clone, Debug)]
pub enum PayloadHash {
    /// `UNSIGNED-PAYLOAD` (S3 only): the body is not hashed by either side.
    Unsigned,
    /// A hash computed by the caller (e.g. once for a body that is sent many times).
    Precomputed(Arc<str>),
    /// Hash the body now, for this request.
    Compute,
}

impl PayloadHash {
    pub fn value(&self, body: &[u8]) -> String {
        match self {
            PayloadHash::Unsigned => "UNSIGNED-PAYLOAD".to_owned(),
            PayloadHash::Precomputed(h) => h.to_string(),
            PayloadHash::Compute => sha256_hex(body),
        }
    }
}

/// What to do with a response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyMode {
    /// Keep it (`Answer::body`).
    Collect,
    /// Read and drop it frame by frame, counting bytes (`Answer::len`): large GETs.
    Count,
}

/// A signed request of any shape. `path` is already URI-encoded (the scenarios use
/// only unreserved characters and `/`); `query` is already canonical (sorted, encoded).
pub struct Req<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: &'a str,
    /// Extra headers, all signed (names lowercase).
    pub headers: &'a [(&'static str, &'a str)],
    pub body: Bytes,
    /// `Some` sends `x-amz-content-sha256` (S3 requires it); `None` signs the body's
    /// hash without sending the header (Lambda, like botocore).
    pub payload_hash: Option<PayloadHash>,
    pub mode: BodyMode,
}

/// A 2xx answer.
pub struct Answer {
    pub headers: HeaderMap,
    /// Empty in `BodyMode::Count`.
    pub body: Bytes,
    /// Body bytes received.
    pub len: u64,
}

pub struct Client {
    endpoint: Arc<Endpoint>,
    signer: Signer,
    sender: Option<SendRequest<Full<Bytes>>>,
    timeout: Duration,
    /// TCP connections opened so far.
    pub connects: u64,
    /// The last `X-Amz-Date` and the second it is for: formatted once a second.
    date: (u64, String),
}

impl Client {
    pub fn new(endpoint: Arc<Endpoint>, signer: Signer, timeout: Duration) -> Self {
        Client {
            endpoint,
            signer,
            sender: None,
            timeout,
            connects: 0,
            date: (u64::MAX, String::new()),
        }
    }

    /// Calls `AmazonSQS.<action>` with a JSON body; returns the parsed JSON answer
    /// (`Value::Null` for an empty body).
    pub async fn call(&mut self, action: &str, body: Vec<u8>) -> Result<Value, CallError> {
        match tokio::time::timeout(self.timeout, self.call_inner(action, body)).await {
            Ok(result) => result,
            Err(_) => {
                // The connection is in an unknown state: start afresh next time.
                self.sender = None;
                Err(CallError::Timeout)
            }
        }
    }

    async fn call_inner(&mut self, action: &str, body: Vec<u8>) -> Result<Value, CallError> {
        let target = format!("{SQS_TARGET_PREFIX}{action}");
        let date = amz_date(SystemTime::now());
        let authorization = self
            .signer
            .sign_json(&self.endpoint.host, &target, &date, &body);
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header(header::HOST, self.endpoint.host.as_str())
            .header(header::CONTENT_TYPE, JSON_CONTENT_TYPE)
            .header("x-amz-target", target)
            .header("x-amz-date", date)
            .header(header::AUTHORIZATION, authorization)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| CallError::Io(format!("building request: {e}")))?;

        // A request the connection never took (it was closing) is retried once on a new one.
        for attempt in 0..2 {
            let sender = self.connected().await?;
            match sender.try_send_request(request).await {
                Ok(response) => return self.read(response).await,
                Err(mut e) => {
                    self.sender = None;
                    match e.take_message() {
                        Some(unsent) if attempt == 0 => request = unsent,
                        _ => return Err(CallError::Io(e.into_error().to_string())),
                    }
                }
            }
        }
        Err(CallError::Io(
            "connection closed twice before the request was sent".into(),
        ))
    }

    /// Sends a signed request; non-2xx answers are errors with the AWS error code.
    pub async fn send(&mut self, req: Req<'_>) -> Result<Answer, CallError> {
        match tokio::time::timeout(self.timeout, self.send_inner(req)).await {
            Ok(result) => result,
            Err(_) => {
                self.sender = None;
                Err(CallError::Timeout)
            }
        }
    }

    /// `X-Amz-Date` for now.
    fn amz_date_now(&mut self) -> String {
        let now = SystemTime::now();
        let secs = now
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if self.date.0 != secs {
            self.date = (secs, amz_date(now));
        }
        self.date.1.clone()
    }

    async fn send_inner(&mut self, req: Req<'_>) -> Result<Answer, CallError> {
        let date = self.amz_date_now();
        let hash = match &req.payload_hash {
            Some(h) => h.value(&req.body),
            None => sha256_hex(&req.body),
        };
        let mut signed: Vec<(&str, &str)> = Vec::with_capacity(req.headers.len() + 3);
        signed.push(("host", self.endpoint.host.as_str()));
        signed.push(("x-amz-date", date.as_str()));
        if req.payload_hash.is_some() {
            signed.push(("x-amz-content-sha256", hash.as_str()));
        }
        signed.extend(req.headers.iter().map(|(n, v)| (*n, *v)));
        let authorization = self.signer.authorization(
            req.method.as_str(),
            req.path,
            req.query,
            &signed,
            &hash,
            &date,
        );
        let uri = if req.query.is_empty() {
            req.path.to_owned()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let mut builder = Request::builder().method(req.method).uri(uri);
        for (name, value) in &signed {
            builder = builder.header(*name, *value);
        }
        let mut request = builder
            .header(header::AUTHORIZATION, authorization)
            .header(header::CONTENT_LENGTH, req.body.len())
            .body(Full::new(req.body))
            .map_err(|e| CallError::Io(format!("building request: {e}")))?;

        for attempt in 0..2 {
            let sender = self.connected().await?;
            match sender.try_send_request(request).await {
                Ok(response) => return self.read_answer(response, req.mode).await,
                Err(mut e) => {
                    self.sender = None;
                    match e.take_message() {
                        Some(unsent) if attempt == 0 => request = unsent,
                        _ => return Err(CallError::Io(e.into_error().to_string())),
                    }
                }
            }
        }
        Err(CallError::Io(
            "connection closed twice before the request was sent".into(),
        ))
    }

    async fn read_answer(
        &mut self,
        response: Response<Incoming>,
        mode: BodyMode,
    ) -> Result<Answer, CallError> {
        let (parts, mut body) = response.into_parts();
        let closing = parts
            .headers
            .get(header::CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let (bytes, len) = if mode == BodyMode::Count && parts.status.is_success() {
            let mut len = 0u64;
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| {
                    self.sender = None;
                    CallError::Io(format!("reading body: {e}"))
                })?;
                if let Some(data) = frame.data_ref() {
                    len += data.len() as u64;
                }
            }
            (Bytes::new(), len)
        } else {
            let b = body
                .collect()
                .await
                .map_err(|e| {
                    self.sender = None;
                    CallError::Io(format!("reading body: {e}"))
                })?
                .to_bytes();
            let len = b.len() as u64;
            (b, len)
        };
        if closing {
            self.sender = None;
        }
        if !parts.status.is_success() {
            let hint = ["x-amzn-query-error", "x-amzn-errortype"]
                .iter()
                .find_map(|h| parts.headers.get(*h).and_then(|v| v.to_str().ok()))
                .map(str::to_owned);
            return Err(CallError::Status(
                parts.status.as_u16(),
                error_code(&bytes, hint),
            ));
        }
        Ok(Answer {
            headers: parts.headers,
            body: bytes,
            len,
        })
    }

    /// A ready sender, opening a connection if there is none or the old one closed.
    async fn connected(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, CallError> {
        let reusable = match self.sender.as_mut() {
            Some(sender) => !sender.is_closed() && sender.ready().await.is_ok(),
            None => false,
        };
        if !reusable {
            self.sender = None;
            let sender = self.connect().await?;
            self.sender = Some(sender);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| CallError::Connect("no connection".into()))
    }

    async fn connect(&mut self) -> Result<SendRequest<Full<Bytes>>, CallError> {
        let mut last = String::from("no address");
        for addr in &self.endpoint.addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    stream
                        .set_nodelay(true)
                        .map_err(|e| CallError::Connect(format!("TCP_NODELAY: {e}")))?;
                    let (sender, connection) =
                        hyper::client::conn::http1::handshake(TokioIo::new(stream))
                            .await
                            .map_err(|e| CallError::Connect(e.to_string()))?;
                    tokio::spawn(async move {
                        // Errors here surface on the sender as failed requests.
                        let _ = connection.await;
                    });
                    self.connects += 1;
                    return Ok(sender);
                }
                Err(e) => last = format!("{addr}: {e}"),
            }
        }
        Err(CallError::Connect(last))
    }

    async fn read(&mut self, response: Response<Incoming>) -> Result<Value, CallError> {
        let status = response.status();
        let closing = response
            .headers()
            .get(header::CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let query_error = response
            .headers()
            .get("x-amzn-query-error")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| {
                self.sender = None;
                CallError::Io(format!("reading body: {e}"))
            })?
            .to_bytes();
        if closing {
            self.sender = None;
        }
        if !status.is_success() {
            return Err(CallError::Status(
                status.as_u16(),
                error_code(&body, query_error),
            ));
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body)
            .map_err(|e| CallError::Parse(format!("{e}: {}", snippet(&body))))
    }
}

/// The AWS error code of an awsJson/restJson error body (`__type`, minus any
/// namespace), else S3's XML `<Code>`, else the code from `x-amzn-query-error` /
/// `x-amzn-errortype`, else a snippet of the body.
pub(crate) fn error_code(body: &[u8], query_error: Option<String>) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(t) = v.get("__type").and_then(Value::as_str) {
            let code = t.rsplit('#').next().unwrap_or(t);
            return match v
                .get("message")
                .or_else(|| v.get("Message"))
                .and_then(Value::as_str)
            {
                Some(msg) => format!("{code}: {msg}"),
                None => code.to_owned(),
            };
        }
    }
    if let Some(code) = xml_element(body, "Code") {
        return match xml_element(body, "Message") {
            Some(msg) => format!("{code}: {msg}"),
            None => code,
        };
    }
    query_error.unwrap_or_else(|| snippet(body))
}

/// The text of the first `<name>...</name>` in an XML error body (S3).
fn xml_element(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find("</")? + start;
    Some(text[start..end].to_owned())
}

fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(160)]);
    s.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_code_strips_namespace() {
        let body = br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"nope"}"#;
        assert_eq!(error_code(body, None), "QueueDoesNotExist: nope");
        assert_eq!(error_code(b"oops", Some("X;Sender".into())), "X;Sender");
        assert_eq!(error_code(b"oops", None), "oops");
        let xml =
            b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message></Error>";
        assert_eq!(error_code(xml, None), "NoSuchKey: gone");
        assert_eq!(
            error_code(b"{}", Some("ResourceNotFoundException".into())),
            "ResourceNotFoundException"
        );
    }
}
