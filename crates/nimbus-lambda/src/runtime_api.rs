//! The Lambda Runtime API, served to one execution environment on a loopback port:
//! `GET /2018-06-01/runtime/invocation/next`, `POST .../invocation/{id}/response`,
//! `.../invocation/{id}/error` and `.../init/error`.

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
/// Largest response a function may return (AWS: 6 MB).
pub const MAX_RESPONSE: usize = 6 * 1024 * 1024;

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

#[derive(Default)]
struct Slot {
    pending: Option<(String, oneshot::Sender<Outcome>)>,
    init_error: Option<Bytes>,
    exited: Option<String>,
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
        slot.pending = Some((inv.request_id.clone(), tx));
        drop(slot);
        let _ = self.next_tx.send(inv);
        rx
    }

    /// Resolves the pending invocation if `id` names it (any when `None`).
    fn complete(&self, id: Option<&str>, outcome: Outcome) -> bool {
        let mut slot = self.slot.lock();
        let matches = match (&slot.pending, id) {
            (Some((pending, _)), Some(id)) => pending == id,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !matches {
            return false;
        }
        if let Some((_, tx)) = slot.pending.take() {
            let _ = tx.send(outcome);
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
                        let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
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

fn accepted() -> Response<Full<Bytes>> {
    json(StatusCode::ACCEPTED, serde_json::json!({"status": "OK"}))
}

fn invalid_request_id() -> Response<Full<Bytes>> {
    json(
        StatusCode::BAD_REQUEST,
        serde_json::json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}),
    )
}

async fn handle(api: Arc<ApiState>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(json(StatusCode::NOT_FOUND, serde_json::json!({"errorMessage": "Not found", "errorType": "NotFound"})));
    };
    if method == http::Method::GET && rest == "/invocation/next" {
        return Ok(next(&api).await);
    }
    if method != http::Method::POST {
        return Ok(json(StatusCode::METHOD_NOT_ALLOWED, serde_json::json!({"errorMessage": "Method not allowed", "errorType": "MethodNotAllowed"})));
    }
    let body = match Limited::new(req.into_body(), MAX_RESPONSE).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            if let Some(id) = rest.strip_prefix("/invocation/").and_then(|r| r.strip_suffix("/response")) {
                api.complete(Some(id), Outcome::ResponseTooLarge);
            }
            return Ok(json(
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({
                    "errorMessage": format!("Exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."),
                    "errorType": "RequestEntityTooLarge",
                }),
            ));
        }
    };
    if rest == "/init/error" {
        api.init_error(body);
        return Ok(accepted());
    }
    let Some(tail) = rest.strip_prefix("/invocation/") else {
        return Ok(json(StatusCode::NOT_FOUND, serde_json::json!({"errorMessage": "Not found", "errorType": "NotFound"})));
    };
    let done = if let Some(id) = tail.strip_suffix("/response") {
        api.complete(Some(id), Outcome::Response(body))
    } else if let Some(id) = tail.strip_suffix("/error") {
        api.complete(Some(id), Outcome::Error(body))
    } else {
        return Ok(json(StatusCode::NOT_FOUND, serde_json::json!({"errorMessage": "Not found", "errorType": "NotFound"})));
    };
    Ok(if done { accepted() } else { invalid_request_id() })
}

async fn next(api: &ApiState) -> Response<Full<Bytes>> {
    let _ = api.first_next.set(Instant::now());
    let inv = {
        let mut rx = api.next_rx.lock().await;
        rx.recv().await
    };
    let Some(mut inv) = inv else {
        return json(StatusCode::GONE, serde_json::json!({"errorMessage": "Environment is shutting down", "errorType": "Gone"}));
    };
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
