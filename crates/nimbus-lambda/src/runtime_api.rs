//! The Lambda Runtime API, served to one execution environment on a loopback port:
//! `GET /2018-06-01/runtime/invocation/next`, `POST .../invocation/{id}/response`,
//! `.../invocation/{id}/error` and `.../init/error`.
//!
//! Status codes, headers and error documents follow AWS's Runtime API reference
//! (OpenAPI `runtime-api.yaml`, 2018-06-01) and AWS's own implementation of it
//! (the runtime interface emulator's RAPID): 200 for `/next`, 202 `{"status":"OK"}`
//! for accepted posts, 400 `InvalidRequestID` for a request id that is not the
//! invocation in progress, 403 `InvalidStateTransition` for a post the runtime's state
//! does not allow, 413 `RequestEntityTooLarge` past the payload limit.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";
/// Largest response a function may return: AWS's "6 MB", which its errors spell
/// "maximum allowed payload size (6291556 bytes)" (6 MiB + 100 bytes).
pub const MAX_RESPONSE: usize = 6 * 1024 * 1024 + 100;
/// Largest request head the API reads. Runtimes send the X-Ray cause of an error in
/// `Lambda-Runtime-Function-XRay-Error-Cause`; awslambdaric sends it up to 1 MiB, as
/// much as AWS's Go server reads (net/http's 1 MB header limit).
const MAX_REQUEST_HEAD: usize = 2 * 1024 * 1024;
/// `/error` bodies of this type carry an X-Ray `errorCause` that Lambda keeps out of
/// the error the caller sees.
const ERROR_WITH_CAUSE: &str = "application/vnd.aws.lambda.error.cause+json";

/// One invocation, waiting for the runtime to ask for it.
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    pub timeout: Duration,
    pub function_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    /// Told the deadline when the runtime takes the invocation.
    pub picked_up: Option<oneshot::Sender<Instant>>,
}

/// How an invocation ended, as the runtime (or the process) reported it.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    Error(Bytes),
    InitError(Bytes),
    /// The process exited (`exit status 1`, `signal: killed`).
    Exited(String),
    ResponseTooLarge,
}

/// The invocation dispatched to this environment and not yet answered.
struct Pending {
    request_id: String,
    /// Handed to the runtime by `/next`: from then on it may post the outcome.
    taken: bool,
    outcome: oneshot::Sender<Outcome>,
}

/// Where the runtime is in its cycle, named as AWS's Runtime API names it in
/// `InvalidStateTransition` errors.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum RuntimeState {
    /// Initialising: it has not asked for work yet.
    #[default]
    Started,
    /// Waiting in `/next`.
    Ready,
    /// Running an invocation it took from `/next`.
    Running,
    /// It posted the invocation's outcome.
    ResponseSent,
}

impl RuntimeState {
    fn name(self) -> &'static str {
        match self {
            RuntimeState::Started => "Started",
            RuntimeState::Ready => "Ready",
            RuntimeState::Running => "Running",
            RuntimeState::ResponseSent => "RuntimeResponseSentState",
        }
    }
}

#[derive(Default)]
struct Slot {
    pending: Option<Pending>,
    init_error: Option<Bytes>,
    exited: Option<String>,
    state: RuntimeState,
}

/// Why the runtime may not post an outcome for a request id now.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// No invocation is in progress (before `/next`, or already answered): 403.
    NotInvoking,
    /// Another invocation is in progress: 400 `InvalidRequestID`.
    OtherRequestId,
}

pub struct ApiState {
    next_tx: mpsc::UnboundedSender<Invocation>,
    next_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    slot: Mutex<Slot>,
    /// When the runtime first asked for work: the end of init.
    pub first_next: OnceLock<Instant>,
}

impl ApiState {
    pub fn new() -> Arc<Self> {
        let (next_tx, next_rx) = mpsc::unbounded_channel();
        Arc::new(Self {
            next_tx,
            next_rx: tokio::sync::Mutex::new(next_rx),
            slot: Mutex::new(Slot::default()),
            first_next: OnceLock::new(),
        })
    }

    /// Queues an invocation for the runtime; the receiver gets its outcome.
    pub fn dispatch(&self, inv: Invocation) -> oneshot::Receiver<Outcome> {
        let (tx, rx) = oneshot::channel();
        let mut slot = self.slot.lock();
        if let Some(e) = &slot.init_error {
            let _ = tx.send(Outcome::InitError(e.clone()));
            return rx;
        }
        if let Some(how) = &slot.exited {
            let _ = tx.send(Outcome::Exited(how.clone()));
            return rx;
        }
        slot.pending = Some(Pending { request_id: inv.request_id.clone(), taken: false, outcome: tx });
        drop(slot);
        let _ = self.next_tx.send(inv);
        rx
    }

    /// Whether the runtime may post the outcome of invocation `id` now.
    fn may_post(&self, id: &str) -> Result<(), Refusal> {
        match &self.slot.lock().pending {
            Some(p) if p.taken && p.request_id == id => Ok(()),
            Some(p) if p.taken => Err(Refusal::OtherRequestId),
            _ => Err(Refusal::NotInvoking),
        }
    }

    /// Marks invocation `id` as handed to the runtime.
    fn taken(&self, id: &str) {
        let mut slot = self.slot.lock();
        if let Some(p) = slot.pending.as_mut().filter(|p| p.request_id == id) {
            p.taken = true;
            slot.state = RuntimeState::Running;
        }
    }

    fn state_name(&self) -> &'static str {
        self.slot.lock().state.name()
    }

    /// Resolves the pending invocation if `id` names it (any when `None`).
    fn complete(&self, id: Option<&str>, outcome: Outcome) -> bool {
        let mut slot = self.slot.lock();
        let matches = match (&slot.pending, id) {
            (Some(p), Some(id)) => p.request_id == id,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !matches {
            return false;
        }
        if let Some(p) = slot.pending.take() {
            let _ = p.outcome.send(outcome);
        }
        if id.is_some() {
            slot.state = RuntimeState::ResponseSent;
        }
        true
    }

    pub fn process_exited(&self, how: String) {
        self.slot.lock().exited = Some(how.clone());
        self.complete(None, Outcome::Exited(how));
    }

    fn init_error(&self, body: Bytes) {
        self.slot.lock().init_error = Some(body.clone());
        self.complete(None, Outcome::InitError(body));
    }
}

/// Serves the Runtime API for `api` on 127.0.0.1 (a fresh port) until `stop` fires.
pub async fn serve(api: Arc<ApiState>) -> std::io::Result<(u16, oneshot::Sender<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let api = api.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| handle(api.clone(), req));
                        // Header names as AWS's server writes them (`Lambda-Runtime-Aws-Request-Id`),
                        // for runtimes that match them case-sensitively.
                        let _ = http1::Builder::new()
                            .keep_alive(true)
                            .title_case_headers(true)
                            .max_buf_size(MAX_REQUEST_HEAD)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                _ = &mut stop_rx => break,
            }
        }
    });
    Ok((port, stop_tx))
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}

/// AWS's `ErrorResponse`: `{"errorMessage": ..., "errorType": ...}`.
fn error(status: StatusCode, error_type: &str, message: impl Into<String>) -> Response<Full<Bytes>> {
    json(status, serde_json::json!({"errorMessage": message.into(), "errorType": error_type}))
}

fn accepted() -> Response<Full<Bytes>> {
    json(StatusCode::ACCEPTED, serde_json::json!({"status": "OK"}))
}

fn invalid_request_id() -> Response<Full<Bytes>> {
    error(StatusCode::BAD_REQUEST, "InvalidRequestID", "Invalid request ID")
}

fn invalid_state_transition(from: &str, to: &str) -> Response<Full<Bytes>> {
    error(
        StatusCode::FORBIDDEN,
        "InvalidStateTransition",
        format!("State transition from {from} to {to} failed for runtime. Error: State transition is not allowed"),
    )
}

fn not_found() -> Response<Full<Bytes>> {
    error(StatusCode::NOT_FOUND, "NotFound", "Not found")
}

fn too_large() -> Response<Full<Bytes>> {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        format!("Exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."),
    )
}

/// What a runtime's request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Next,
    Response(&'a str),
    Error(&'a str),
    InitError,
    NotFound,
    MethodNotAllowed,
}

fn route<'a>(method: &http::Method, path: &'a str) -> Route<'a> {
    let Some(rest) = path.strip_prefix(PREFIX) else { return Route::NotFound };
    let post = method == http::Method::POST;
    if rest == "/invocation/next" {
        return if method == http::Method::GET { Route::Next } else { Route::MethodNotAllowed };
    }
    if rest == "/init/error" {
        return if post { Route::InitError } else { Route::MethodNotAllowed };
    }
    let Some(tail) = rest.strip_prefix("/invocation/") else { return Route::NotFound };
    // A request id is one path segment.
    let (id, action) = match tail.split_once('/') {
        Some((id, action)) if !id.is_empty() && !action.contains('/') => (id, action),
        _ => return Route::NotFound,
    };
    match (action, post) {
        ("response", true) => Route::Response(id),
        ("error", true) => Route::Error(id),
        ("response" | "error", false) => Route::MethodNotAllowed,
        _ => Route::NotFound,
    }
}

/// The error document the caller of an errored invocation sees. For a body of type
/// `application/vnd.aws.lambda.error.cause+json`, Lambda keeps `errorMessage`,
/// `errorType` and `stackTrace` and drops the X-Ray `errorCause`; a body it cannot
/// read becomes the JSON string "Invalid error body". Other bodies pass unchanged.
fn caller_error_body(content_type: Option<&str>, body: Bytes) -> Bytes {
    if content_type != Some(ERROR_WITH_CAUSE) {
        return body;
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ErrorWithCause {
        error_message: Option<String>,
        error_type: Option<String>,
        stack_trace: Option<Vec<String>>,
    }
    match serde_json::from_slice::<ErrorWithCause>(&body) {
        Ok(e) => {
            let mut doc = serde_json::Map::new();
            doc.insert("errorMessage".into(), e.error_message.unwrap_or_default().into());
            doc.insert("errorType".into(), e.error_type.unwrap_or_default().into());
            if let Some(trace) = e.stack_trace.filter(|t| !t.is_empty()) {
                doc.insert("stackTrace".into(), trace.into());
            }
            Bytes::from(serde_json::Value::Object(doc).to_string())
        }
        Err(_) => Bytes::from_static(b"\"Invalid error body\""),
    }
}

async fn handle(api: Arc<ApiState>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let route = route(req.method(), &path);
    let response = match route {
        Route::Next => next(&api).await,
        Route::NotFound => not_found(),
        Route::MethodNotAllowed => error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "Method not allowed"),
        Route::InitError => {
            // Only while the runtime initialises: once it has asked for work, init is over.
            if api.first_next.get().is_some() {
                return Ok(invalid_state_transition(api.state_name(), "InitError"));
            }
            match read_body(req).await {
                Ok(body) => {
                    api.init_error(body);
                    accepted()
                }
                Err(BodyError::TooLarge) => too_large(),
                Err(BodyError::Truncated) => truncated(),
            }
        }
        Route::Response(id) | Route::Error(id) => {
            let is_error = matches!(route, Route::Error(_));
            match api.may_post(id) {
                Ok(()) => {}
                Err(Refusal::OtherRequestId) => return Ok(invalid_request_id()),
                Err(Refusal::NotInvoking) => {
                    let to = if is_error { "InvocationErrorResponse" } else { "InvocationResponse" };
                    return Ok(invalid_state_transition(api.state_name(), to));
                }
            }
            let content_type = req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            match read_body(req).await {
                Ok(body) => {
                    let outcome = if is_error {
                        Outcome::Error(caller_error_body(content_type.as_deref(), body))
                    } else {
                        Outcome::Response(body)
                    };
                    // The invocation may have ended meanwhile (the process exited).
                    if api.complete(Some(id), outcome) {
                        accepted()
                    } else {
                        invalid_request_id()
                    }
                }
                Err(BodyError::TooLarge) => {
                    // An oversized response ends the invocation with Function.ResponseSizeTooLarge.
                    if !is_error {
                        api.complete(Some(id), Outcome::ResponseTooLarge);
                    }
                    too_large()
                }
                Err(BodyError::Truncated) => truncated(),
            }
        }
    };
    Ok(response)
}

enum BodyError {
    /// Past the payload limit: 413.
    TooLarge,
    /// The connection ended before the body did: 400.
    Truncated,
}

fn truncated() -> Response<Full<Bytes>> {
    error(StatusCode::BAD_REQUEST, "TruncatedHTTPRequest", "HTTP request detected as truncated")
}

/// The request's body, up to the payload limit.
async fn read_body(req: Request<Incoming>) -> Result<Bytes, BodyError> {
    match Limited::new(req.into_body(), MAX_RESPONSE).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Truncated),
    }
}

async fn next(api: &ApiState) -> Response<Full<Bytes>> {
    let _ = api.first_next.set(Instant::now());
    api.slot.lock().state = RuntimeState::Ready;
    let inv = {
        let mut rx = api.next_rx.lock().await;
        rx.recv().await
    };
    let Some(mut inv) = inv else {
        return json(StatusCode::GONE, serde_json::json!({"errorMessage": "Environment is shutting down", "errorType": "Gone"}));
    };
    api.taken(&inv.request_id);
    let now = Instant::now();
    let deadline_ms = nimbus_core::now_millis() + inv.timeout.as_millis() as u64;
    if let Some(tx) = inv.picked_up.take() {
        let _ = tx.send(now + inv.timeout);
    }
    let mut r = Response::new(Full::new(inv.payload));
    let h = r.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put("content-type", "application/json");
    put("lambda-runtime-aws-request-id", &inv.request_id);
    put("lambda-runtime-deadline-ms", &deadline_ms.to_string());
    put("lambda-runtime-invoked-function-arn", &inv.function_arn);
    put("lambda-runtime-trace-id", &inv.trace_id);
    if let Some(cc) = &inv.client_context {
        put("lambda-runtime-client-context", cc);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    struct Reply {
        status: u16,
        /// Header lines as written on the wire, name case kept.
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Reply {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }

        fn json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
        }
    }

    /// One HTTP/1.1 exchange on a fresh connection, read byte for byte.
    async fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        // The server may answer (413) and close before reading all of a large body.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        Reply { status, headers, body: raw[split + 4..].to_vec() }
    }

    fn invocation(id: &str) -> Invocation {
        Invocation {
            request_id: id.into(),
            payload: Bytes::from_static(br#"{"n":1}"#),
            timeout: Duration::from_secs(3),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            trace_id: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0".into(),
            client_context: None,
            picked_up: None,
        }
    }

    async fn started() -> (Arc<ApiState>, u16, oneshot::Sender<()>) {
        let api = ApiState::new();
        let (port, stop) = serve(api.clone()).await.unwrap();
        (api, port, stop)
    }

    /// Dispatches `id` and lets the runtime take it with `/next`.
    async fn running(api: &ApiState, port: u16, id: &str) -> oneshot::Receiver<Outcome> {
        let outcome = api.dispatch(invocation(id));
        let next = send(port, "GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
        assert_eq!(next.status, 200);
        outcome
    }

    const INVALID_REQUEST_ID: &str = r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#;

    #[tokio::test]
    async fn next_is_200_with_the_event_and_awss_header_names() {
        let (api, port, _stop) = started().await;
        let mut inv = invocation("8476a536-e9f4-11e8-9739-2dfe598c3fcd");
        inv.client_context = Some(r#"{"custom":{"k":"v"}}"#.into());
        let _outcome = api.dispatch(inv);
        let before = nimbus_core::now_millis();
        let r = send(port, "GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, br#"{"n":1}"#);
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        for name in [
            "Content-Type",
            "Lambda-Runtime-Aws-Request-Id",
            "Lambda-Runtime-Deadline-Ms",
            "Lambda-Runtime-Invoked-Function-Arn",
            "Lambda-Runtime-Trace-Id",
            "Lambda-Runtime-Client-Context",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.header("Lambda-Runtime-Aws-Request-Id"), Some("8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
        assert_eq!(r.header("Lambda-Runtime-Invoked-Function-Arn"), Some("arn:aws:lambda:us-east-1:000000000000:function:f"));
        assert_eq!(r.header("Lambda-Runtime-Client-Context"), Some(r#"{"custom":{"k":"v"}}"#));
        let deadline: u64 = r.header("Lambda-Runtime-Deadline-Ms").and_then(|d| d.parse().ok()).unwrap_or(0);
        assert!(deadline >= before + 3000 && deadline <= nimbus_core::now_millis() + 3000, "{deadline}");
    }

    #[tokio::test]
    async fn next_leaves_out_the_client_context_when_there_is_none() {
        let (api, port, _stop) = started().await;
        let _outcome = api.dispatch(invocation("r1"));
        let r = send(port, "GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
        assert_eq!(r.header("Lambda-Runtime-Client-Context"), None);
        assert_eq!(r.header("Lambda-Runtime-Cognito-Identity"), None);
    }

    #[tokio::test]
    async fn response_is_202_accepted_and_ends_the_invocation() {
        let (api, port, _stop) = started().await;
        let outcome = running(&api, port, "r1").await;
        let r = send(port, "POST", "/2018-06-01/runtime/invocation/r1/response", &[], b"SUCCESS").await;
        assert_eq!(r.status, 202);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.json(), serde_json::json!({"status": "OK"}));
        match outcome.await {
            Ok(Outcome::Response(body)) => assert_eq!(&body[..], b"SUCCESS"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn error_is_202_and_the_caller_gets_the_posted_document() {
        let (api, port, _stop) = started().await;
        let outcome = running(&api, port, "r1").await;
        let doc = r#"{"errorMessage":"Error parsing event data.","errorType":"InvalidEventDataException"}"#;
        let r = send(
            port,
            "POST",
            "/2018-06-01/runtime/invocation/r1/error",
            &[
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Function-Error-Type", "Runtime.UnknownReason"),
                ("Lambda-Runtime-Function-XRay-Error-Cause", r#"{"working_directory":"/var/task","exceptions":[],"paths":[]}"#),
            ],
            doc.as_bytes(),
        )
        .await;
        assert_eq!(r.status, 202);
        assert_eq!(r.json(), serde_json::json!({"status": "OK"}));
        match outcome.await {
            Ok(Outcome::Error(body)) => assert_eq!(&body[..], doc.as_bytes()),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_xray_cause_header_of_almost_1_mib_is_accepted() {
        // awslambdaric sends causes below 1 MiB; hyper's default head limit is ~400 KB.
        let (api, port, _stop) = started().await;
        let outcome = running(&api, port, "r1").await;
        let cause = format!(r#"{{"working_directory":"/var/task","exceptions":[{{"message":"{}"}}]}}"#, "x".repeat(1000 * 1000));
        let r = send(
            port,
            "POST",
            "/2018-06-01/runtime/invocation/r1/error",
            &[("Lambda-Runtime-Function-XRay-Error-Cause", &cause)],
            br#"{"errorMessage":"m","errorType":"T"}"#,
        )
        .await;
        assert_eq!(r.status, 202);
        assert!(matches!(outcome.await, Ok(Outcome::Error(_))));
    }

    #[tokio::test]
    async fn an_error_with_cause_keeps_the_cause_from_the_caller() {
        let (api, port, _stop) = started().await;
        let outcome = running(&api, port, "r1").await;
        let body = r#"{"errorMessage":"m","errorType":"T","stackTrace":["at f"],"errorCause":{"paths":[]}}"#;
        let r = send(
            port,
            "POST",
            "/2018-06-01/runtime/invocation/r1/error",
            &[("Content-Type", ERROR_WITH_CAUSE)],
            body.as_bytes(),
        )
        .await;
        assert_eq!(r.status, 202);
        match outcome.await {
            Ok(Outcome::Error(doc)) => assert_eq!(
                serde_json::from_slice::<serde_json::Value>(&doc).ok(),
                Some(serde_json::json!({"errorMessage": "m", "errorType": "T", "stackTrace": ["at f"]}))
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn caller_error_body_by_content_type() {
        let plain = Bytes::from_static(b"not json at all");
        assert_eq!(caller_error_body(Some("application/json"), plain.clone()), plain);
        assert_eq!(caller_error_body(None, plain.clone()), plain);
        assert_eq!(&caller_error_body(Some(ERROR_WITH_CAUSE), plain)[..], br#""Invalid error body""#);
        // Missing members read as empty; an empty stack trace is left out.
        assert_eq!(
            &caller_error_body(Some(ERROR_WITH_CAUSE), Bytes::from_static(br#"{"errorCause":{}}"#))[..],
            br#"{"errorMessage":"","errorType":""}"#
        );
        assert_eq!(
            &caller_error_body(Some(ERROR_WITH_CAUSE), Bytes::from_static(b"[1]"))[..],
            br#""Invalid error body""#
        );
    }

    #[tokio::test]
    async fn another_request_id_is_400_invalid_request_id() {
        let (api, port, _stop) = started().await;
        let _outcome = running(&api, port, "r1").await;
        for action in ["response", "error"] {
            let r = send(port, "POST", &format!("/2018-06-01/runtime/invocation/other/{action}"), &[], b"{}").await;
            assert_eq!(r.status, 400);
            assert_eq!(r.header("Content-Type"), Some("application/json"));
            assert_eq!(r.json(), serde_json::from_str::<serde_json::Value>(INVALID_REQUEST_ID).unwrap());
        }
    }

    #[tokio::test]
    async fn posting_with_no_invocation_in_progress_is_403() {
        let (api, port, _stop) = started().await;
        // Before the runtime took the invocation with /next.
        let outcome = api.dispatch(invocation("r1"));
        let r = send(port, "POST", "/2018-06-01/runtime/invocation/r1/response", &[], b"early").await;
        assert_eq!(r.status, 403);
        assert_eq!(r.json()["errorType"], "InvalidStateTransition");
        assert_eq!(
            r.json()["errorMessage"],
            "State transition from Started to InvocationResponse failed for runtime. Error: State transition is not allowed"
        );
        // Taken and answered: a second answer is refused, the first one stands.
        let next = send(port, "GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
        assert_eq!(next.status, 200);
        assert_eq!(send(port, "POST", "/2018-06-01/runtime/invocation/r1/response", &[], b"one").await.status, 202);
        let again = send(port, "POST", "/2018-06-01/runtime/invocation/r1/error", &[], b"two").await;
        assert_eq!(again.status, 403);
        assert_eq!(again.json()["errorType"], "InvalidStateTransition");
        match outcome.await {
            Ok(Outcome::Response(body)) => assert_eq!(&body[..], b"one"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn init_error_is_202_during_init_and_fails_the_invocation() {
        let (api, port, _stop) = started().await;
        let outcome = api.dispatch(invocation("r1"));
        let doc = r#"{"errorMessage":"Failed to load function.","errorType":"InvalidFunctionException"}"#;
        let r = send(
            port,
            "POST",
            "/2018-06-01/runtime/init/error",
            &[("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")],
            doc.as_bytes(),
        )
        .await;
        assert_eq!(r.status, 202);
        assert_eq!(r.json(), serde_json::json!({"status": "OK"}));
        match outcome.await {
            Ok(Outcome::InitError(body)) => assert_eq!(&body[..], doc.as_bytes()),
            other => panic!("{other:?}"),
        }
        // Later invocations of the environment fail the same way.
        assert!(matches!(api.dispatch(invocation("r2")).await, Ok(Outcome::InitError(_))));
    }

    #[tokio::test]
    async fn init_error_after_init_is_403() {
        let (api, port, _stop) = started().await;
        let outcome = running(&api, port, "r1").await;
        let r = send(port, "POST", "/2018-06-01/runtime/init/error", &[], b"{}").await;
        assert_eq!(r.status, 403);
        assert_eq!(r.json()["errorType"], "InvalidStateTransition");
        assert_eq!(
            r.json()["errorMessage"],
            "State transition from Running to InitError failed for runtime. Error: State transition is not allowed"
        );
        // The invocation in progress is untouched.
        assert_eq!(send(port, "POST", "/2018-06-01/runtime/invocation/r1/response", &[], b"ok").await.status, 202);
        assert!(matches!(outcome.await, Ok(Outcome::Response(_))));
    }

    #[tokio::test]
    async fn a_response_of_the_limit_is_accepted() {
        let (api, port, _stop) = started().await;
        let outcome = running(&api, port, "r1").await;
        let body = vec![b'x'; MAX_RESPONSE];
        let r = send(port, "POST", "/2018-06-01/runtime/invocation/r1/response", &[], &body).await;
        assert_eq!(r.status, 202);
        assert!(matches!(outcome.await, Ok(Outcome::Response(b)) if b.len() == MAX_RESPONSE));
    }

    #[tokio::test]
    async fn a_response_past_the_limit_is_413_and_ends_the_invocation() {
        assert_eq!(MAX_RESPONSE, 6_291_556);
        let (api, port, _stop) = started().await;
        let outcome = running(&api, port, "r1").await;
        let body = vec![b'x'; MAX_RESPONSE + 1];
        let r = send(port, "POST", "/2018-06-01/runtime/invocation/r1/response", &[], &body).await;
        assert_eq!(r.status, 413);
        assert_eq!(
            r.json(),
            serde_json::json!({
                "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
                "errorType": "RequestEntityTooLarge",
            })
        );
        assert!(matches!(outcome.await, Ok(Outcome::ResponseTooLarge)));
    }

    #[test]
    fn routes() {
        let get = http::Method::GET;
        let post = http::Method::POST;
        assert_eq!(route(&get, "/2018-06-01/runtime/invocation/next"), Route::Next);
        assert_eq!(route(&post, "/2018-06-01/runtime/invocation/next"), Route::MethodNotAllowed);
        assert_eq!(route(&post, "/2018-06-01/runtime/invocation/abc/response"), Route::Response("abc"));
        assert_eq!(route(&post, "/2018-06-01/runtime/invocation/abc/error"), Route::Error("abc"));
        assert_eq!(route(&get, "/2018-06-01/runtime/invocation/abc/response"), Route::MethodNotAllowed);
        assert_eq!(route(&post, "/2018-06-01/runtime/init/error"), Route::InitError);
        assert_eq!(route(&get, "/2018-06-01/runtime/init/error"), Route::MethodNotAllowed);
        for path in [
            "/2018-06-01/runtime/invocation//response",
            "/2018-06-01/runtime/invocation/a/b/response",
            "/2018-06-01/runtime/invocation/abc/other",
            "/2018-06-01/runtime/invocation/abc",
            "/2018-06-01/runtime/",
            "/2019-01-01/runtime/invocation/next",
            "/",
        ] {
            assert_eq!(route(&post, path), Route::NotFound, "{path}");
        }
    }

    #[tokio::test]
    async fn unknown_paths_are_404_and_nothing_panics() {
        let (api, port, _stop) = started().await;
        let _outcome = running(&api, port, "r1").await;
        let r = send(port, "POST", "/2018-06-01/runtime/invocation/r1/nope", &[], b"").await;
        assert_eq!(r.status, 404);
        assert_eq!(r.json()["errorType"], "NotFound");
        // The invocation is still open for its answer.
        assert_eq!(send(port, "POST", "/2018-06-01/runtime/invocation/r1/response", &[], b"ok").await.status, 202);
    }
}
