//! One persistent HTTP/1.1 connection that sends SigV4-signed awsJson 1.0 calls.
//!
//! hyper's low-level client (`client::conn::http1`) on a `TcpStream` with
//! TCP_NODELAY: no pool, no extra task hops; one `Client` per load task. If the
//! server closes the connection (`Connection: close`, as moto's werkzeug does)
//! the next call opens a new one and the reconnect is counted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{header, Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::sigv4::{amz_date, Signer};

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

pub struct Client {
    endpoint: Arc<Endpoint>,
    signer: Signer,
    sender: Option<SendRequest<Full<Bytes>>>,
    timeout: Duration,
    /// TCP connections opened so far.
    pub connects: u64,
}

impl Client {
    pub fn new(endpoint: Arc<Endpoint>, signer: Signer, timeout: Duration) -> Self {
        Client {
            endpoint,
            signer,
            sender: None,
            timeout,
            connects: 0,
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

/// The AWS error code of an awsJson error body (`__type`, minus any namespace),
/// else the legacy code from `x-amzn-query-error`, else a snippet of the body.
fn error_code(body: &[u8], query_error: Option<String>) -> String {
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
    query_error.unwrap_or_else(|| snippet(body))
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
    }
}
