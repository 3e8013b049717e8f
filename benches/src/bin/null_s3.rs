//! A null S3 server, to measure what the load generator and this machine allow.
//!
//! It answers every GET with a fixed body of `--size` bytes (one of `--bodies`
//! distinct ones, picked by the request's path, so that, like a real server's, the
//! bytes sent come from as much memory as the scenario's keys need), every PUT (after
//! reading its body) and every other request with 200 and an empty body. It checks
//! no signature and keeps nothing: whatever rate `nimbus-bench s3-get-4k` /
//! `s3-put-4k` reach against it is the ceiling for any server on the same machine,
//! because the generator's own CPU shares the cores.
//!
//! `nimbus-bench-null-s3 --port 4598 [--size 4096] [--bodies 1]`

use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn answer(req: Request<Incoming>, bodies: Arc<Vec<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let is_get = req.method() == Method::GET;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    req.uri().path().hash(&mut hasher);
    let body = bodies[(hasher.finish() % bodies.len() as u64) as usize].clone();
    // Read and drop whatever the client sends, frame by frame, as a real server must.
    let mut incoming = req.into_body();
    while let Some(Ok(_)) = incoming.frame().await {}
    let body = if is_get { body } else { Bytes::new() };
    Ok(Response::builder()
        .header("etag", "\"null\"")
        .body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = arg("--port", 4598) as u16;
    let size = arg("--size", 4096) as usize;
    let count = arg("--bodies", 1).max(1) as usize;
    let bodies: Arc<Vec<Bytes>> = Arc::new((0..count).map(|i| Bytes::from(vec![b'a' + (i % 26) as u8; size])).collect());
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    eprintln!("null S3 server on http://127.0.0.1:{port} (GET bodies of {size} bytes, {count} distinct)");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let bodies = bodies.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(req, bodies.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
