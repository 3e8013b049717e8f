//! `nimbus serve`: one HTTP port for every service.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use nimbus_core::targets::TargetRegistry;
use nimbus_lambda::Lambda;
use nimbus_logs::Logs;
use nimbus_s3::S3;
use nimbus_sqs::Sqs;
use nimbus_store::Durability;
use nimbus_wire::{AuthConfig, Edge};
use tokio::net::TcpListener;

use crate::cli::{AuthArg, DurabilityArg, ServeArgs};

/// Largest request body accepted (S3 streams its bodies and will not be bound by this).
const MAX_BODY: usize = 32 * 1024 * 1024;

pub fn run(args: ServeArgs) -> i32 {
    let started = Instant::now();
    let mut filter = tracing_subscriber::EnvFilter::try_new(&args.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // s3s opens an info-level span for every signature check (a few percent of S3's
    // throughput) and logs every refused request twice at error level, a client's
    // mistake as much as nimbus's. Unless asked for, it stays quiet: nimbus logs its
    // own 5xx answers (warn), and every refusal at debug level.
    let verbose = ["s3s", "debug", "trace"].iter().any(|w| args.log.contains(w));
    if !verbose {
        if let Ok(quiet) = "s3s=off".parse() {
            filter = filter.add_directive(quiet);
        }
    }
    // Colours only for a terminal: a log redirected to a file stays plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(colour).with_writer(std::io::stderr).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nimbus: cannot start the async runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        match serve(args, started).await {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("nimbus: {e}");
                1
            }
        }
    })
}

/// Takes `<dir>/nimbus.lock` (an advisory lock the OS drops when the process ends,
/// kill -9 included).
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    let path = dir.join("nimbus.lock");
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another nimbus is using the data directory {}. Stop it, or give this one its own --data-dir (or --in-memory).",
            dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

async fn serve(args: ServeArgs, started: Instant) -> Result<(), String> {
    let durability = match args.durability {
        DurabilityArg::Default => Durability::Process,
        DurabilityArg::Strict => Durability::Strict,
    };
    let data_dir = (!args.in_memory).then_some(args.data_dir.as_path());
    // Bound first: Lambda tells functions the server's own URL, port included.
    let addr = format!("{}:{}", args.endpoint.host, args.endpoint.port);
    let listener = TcpListener::bind(&addr).await.map_err(|e| {
        format!("cannot listen on {addr}: {e}. Is another nimbus (or LocalStack) running? Pick another port with --port.")
    })?;
    let local: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
    // Held until the server exits: two servers must not share a data directory.
    let _data_lock = data_dir.map(lock_data_dir).transpose()?;

    let sqs = Arc::new(Sqs::open(data_dir, durability)?);
    let targets = TargetRegistry::new();
    targets.register("sqs", sqs.clone());
    let logs = Arc::new(Logs::open(data_dir, durability)?);
    targets.register("logs", logs.clone());

    let auth = AuthConfig { strict: args.auth == AuthArg::Strict, ..AuthConfig::default() };
    let s3 = Arc::new(S3::open(data_dir, durability, auth.clone(), targets.clone())?);
    targets.register("s3", s3.clone());
    let endpoint_host = if local.ip().is_unspecified() { format!("127.0.0.1:{}", local.port()) } else { local.to_string() };
    let lambda = Arc::new(Lambda::open(data_dir, durability, format!("http://{endpoint_host}"), targets.clone())?);
    targets.register("lambda", lambda.clone());
    let mut edge = Edge::new(auth);
    edge.register(sqs.clone());
    edge.register(lambda.clone());
    edge.register(logs.clone());
    let edge = Arc::new(edge);
    let storage = match data_dir {
        Some(d) => format!("data in {}, durability {}", d.display(), match args.durability {
            DurabilityArg::Default => "default (survives kill -9)",
            DurabilityArg::Strict => "strict (survives power loss)",
        }),
        None => "in memory (nothing is kept)".to_string(),
    };
    println!("nimbus ready on http://{local} ({storage}; {} ms)", started.elapsed().as_millis());
    // S3 is routed beside the edge's services (it has its own protocol stack).
    let services: Vec<&str> = edge.service_names().into_iter().chain(["s3"]).collect();
    tracing::info!(?services, queues = sqs.queue_count(), buckets = s3.bucket_count(), "serving");

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let edge = edge.clone();
                let s3 = s3.clone();
                let lambda = lambda.clone();
                tokio::spawn(async move {
                    let peer = peer.ip();
                    let service = service_fn(move |req| handle(edge.clone(), s3.clone(), lambda.clone(), peer, req));
                    let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    tracing::info!("shutting down");
    sqs.flush().await;
    logs.flush().await;
    s3.shutdown().await;
    lambda.shutdown().await;
    Ok(())
}

async fn handle(
    edge: Arc<Edge>,
    s3: Arc<S3>,
    lambda: Arc<Lambda>,
    peer: std::net::IpAddr,
    req: Request<Incoming>,
) -> Result<Response<nimbus_s3::Body>, Infallible> {
    // S3 streams its bodies: divert it before the edge collects anything.
    let (parts, body) = req.into_parts();
    if let Some(file) = parts.uri.path().strip_prefix("/_nimbus/lambda/code/") {
        return Ok(code_package(&lambda, file).await);
    }
    if nimbus_s3::is_s3_request(&parts) {
        // Uri clones share their bytes: nothing is copied on the way.
        let (method, uri) = (parts.method.clone(), parts.uri.clone());
        let resp = s3.handle_from(Request::from_parts(parts, body), Some(peer)).await;
        log_answer(&method, uri.path(), resp.status());
        return Ok(resp);
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let mut r = Response::new(nimbus_s3::Body::from(Bytes::from_static(b"request body too large or interrupted\n")));
            *r.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return Ok(r);
        }
    };
    let (method, uri) = (parts.method.clone(), parts.uri.clone());
    let resp = edge.handle(Request::from_parts(parts, body)).await;
    log_answer(&method, uri.path(), resp.status());
    Ok(resp.map(nimbus_s3::Body::from))
}

/// Logs an answer worth noting. A 5xx is nimbus's fault (or a Lambda function's): say
/// so in the log, where a user looking for why a call failed will look. Refusals (4xx)
/// are the client's mistake, and logged only at debug level.
fn log_answer(method: &hyper::Method, path: &str, status: StatusCode) {
    if status.is_server_error() {
        tracing::warn!(%method, path, status = status.as_u16(), "answered with a server error");
    } else if status.is_client_error() {
        tracing::debug!(%method, path, status = status.as_u16(), "refused the request");
    }
}

/// A function's deployment package, where GetFunction's Code.Location points.
async fn code_package(lambda: &Lambda, file: &str) -> Response<nimbus_s3::Body> {
    let bytes = match lambda.code_package(file) {
        Some(path) => tokio::fs::read(path).await.ok(),
        None => None,
    };
    let (status, content_type, body) = match bytes {
        Some(b) => (StatusCode::OK, "application/zip", Bytes::from(b)),
        None => (StatusCode::NOT_FOUND, "text/plain", Bytes::from_static(b"no such deployment package\n")),
    };
    let mut r = Response::new(nimbus_s3::Body::from(body));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
