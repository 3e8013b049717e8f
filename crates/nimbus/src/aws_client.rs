//! A minimal awsJson client for nimbus's own commands (`nimbus logs`): one SigV4-signed
//! POST per call over a fresh HTTP/1.1 connection. Signing reuses the edge verifier's
//! canonical-request code, so what this client signs is exactly what the server checks.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use nimbus_wire::sigv4::{self, AuthKind, Credential, ParsedAuth, RequestParts};
use serde_json::Value;
use tokio::net::TcpStream;

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub enum CallError {
    /// No server answered at the endpoint.
    Unreachable(String),
    /// The service answered with an AWS error.
    Aws { code: String, message: String },
    /// Something answered, but not like an AWS service.
    Protocol(String),
}

pub struct AwsJsonClient {
    /// `host:port`, the Host header and where to connect.
    authority: String,
    region: String,
    access_key: String,
    secret_key: String,
}

impl AwsJsonClient {
    /// `endpoint_url` is `http://host[:port]`.
    pub fn new(endpoint_url: &str, region: &str, access_key: &str, secret_key: &str) -> Result<Self, String> {
        let uri: http::Uri = endpoint_url.parse().map_err(|e| format!("bad endpoint URL {endpoint_url:?}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("endpoint URL {endpoint_url:?}: only http:// endpoints are supported"));
        }
        let authority = uri.authority().ok_or_else(|| format!("endpoint URL {endpoint_url:?} has no host"))?;
        let authority = match authority.port_u16() {
            Some(_) => authority.as_str().to_string(),
            None => format!("{}:80", authority.host()),
        };
        Ok(AwsJsonClient {
            authority,
            region: region.to_string(),
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
        })
    }

    /// Calls `<target_prefix>.<operation>` of the service that signs as `service`.
    pub async fn call(&self, service: &str, target: &str, input: &Value) -> Result<Value, CallError> {
        let body = serde_json::to_vec(input).map_err(|e| CallError::Protocol(e.to_string()))?;
        let request = self.signed_request(service, target, body)?;
        let response = tokio::time::timeout(TIMEOUT, self.send(request))
            .await
            .map_err(|_| CallError::Unreachable(format!("no answer from {} within {}s", self.authority, TIMEOUT.as_secs())))??;
        let (status, bytes) = response;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
            CallError::Protocol(format!("HTTP {status} with a body that is not JSON: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)])))
        })?;
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let code = value["__type"].as_str().unwrap_or("UnknownError");
        let code = code.rsplit('#').next().unwrap_or(code).to_string();
        let message = value["message"].as_str().or(value["Message"].as_str()).unwrap_or("").to_string();
        Err(CallError::Aws { code, message })
    }

    fn signed_request(&self, service: &str, target: &str, body: Vec<u8>) -> Result<Request<Full<Bytes>>, CallError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let amz_date = sigv4::format_amz_date(now);
        let header = |v: &str| HeaderValue::from_str(v).map_err(|e| CallError::Protocol(format!("bad header value {v:?}: {e}")));
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
        headers.insert("host", header(&self.authority)?);
        headers.insert("x-amz-date", header(&amz_date)?);
        headers.insert("x-amz-target", header(target)?);
        let auth = ParsedAuth {
            credential: Credential {
                access_key: self.access_key.clone(),
                date: amz_date[..8].to_string(),
                region: self.region.clone(),
                service: service.to_string(),
            },
            signed_headers: ["content-type", "host", "x-amz-date", "x-amz-target"].map(String::from).to_vec(),
            signature: String::new(),
            amz_date: amz_date.clone(),
            kind: AuthKind::Header,
        };
        let parts = RequestParts { method: "POST", path: "/", query: "", headers: &headers };
        let authorization = sigv4::sign_header(&auth, &parts, &sigv4::sha256_hex(&body), &self.secret_key, false);
        headers.insert("authorization", header(&authorization)?);
        let mut request = Request::post("/")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| CallError::Protocol(e.to_string()))?;
        *request.headers_mut() = headers;
        Ok(request)
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> Result<(u16, Bytes), CallError> {
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| CallError::Unreachable(format!("cannot connect to {}: {e}", self.authority)))?;
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        tokio::spawn(connection);
        let response = sender.send_request(request).await.map_err(|e| CallError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| CallError::Protocol(format!("reading the response: {e}")))?
            .to_bytes();
        Ok((status, body))
    }
}
