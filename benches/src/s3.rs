//! The S3 load scenarios: PutObject / GetObject of one object size on path-style
//! URLs (`/<bucket>/<key>`), SigV4-signed with service `s3`.
//!
//! Every request carries `x-amz-content-sha256`: GETs the real hash of their empty
//! body; PUTs `UNSIGNED-PAYLOAD` by default (`--payload-hash unsigned`) or the real
//! SHA-256 of the body (`--payload-hash sha256`; the body is the same for every PUT,
//! so it is hashed once by the generator, while the server hashes every upload).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::ValueEnum;
use http::Method;

use crate::client::{BodyMode, CallError, Client, Endpoint, PayloadHash, Req};
use crate::lean::LeanClient;
use crate::sigv4::{sha256_hex, Signer};
use crate::stats::{Op, Recorder, Window};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum S3Kind {
    Put,
    Get,
}

/// Which HTTP client the load loops use (setup always uses hyper's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClientChoice {
    /// `lean.rs`: the same requests, byte for byte, at a fraction of the generator's CPU.
    Lean,
    /// hyper's client (`client.rs`), as every figure before 2026-11-27 21:40 UTC was measured.
    Hyper,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PayloadChoice {
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD` (what the figures in the README use).
    Unsigned,
    /// The body's real SHA-256 (computed once by the generator; the server verifies it).
    Sha256,
}

pub struct S3Config {
    pub endpoint: Arc<Endpoint>,
    pub signer: Signer,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub timeout: Duration,
    pub object_size: usize,
    /// PUT: distinct keys per connection, overwritten in turn; GET: objects read in turn.
    pub keys: usize,
    pub bucket: String,
    pub payload: PayloadChoice,
    pub client: ClientChoice,
    pub server_pid: Option<u32>,
}

/// The server's memory over the run (from /proc/<pid>/status).
#[derive(Debug, Default, Clone)]
pub struct MemReport {
    pub pid: u32,
    /// VmRSS before the load started (after setup).
    pub rss_before_kib: u64,
    /// VmHWM at the end: the peak RSS since it was reset just before the load
    /// (`reset`), else the process's lifetime peak.
    pub hwm_kib: u64,
    pub reset: bool,
    /// Highest VmRSS seen by sampling every 20 ms during the load.
    pub sampled_peak_kib: u64,
    pub rss_after_kib: u64,
}

pub struct S3Result {
    pub recorder: Recorder,
    pub secs: f64,
    pub memory: Option<MemReport>,
}

/// The object body: deterministic, not all one byte.
pub fn object_body(size: usize) -> Bytes {
    let mut v = Vec::with_capacity(size);
    let mut x: u32 = 0x9e37_79b9;
    while v.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(size);
    Bytes::from(v)
}

fn prefix(size: usize) -> String {
    format!("bench-{size}")
}

/// Key of a PUT: one of `keys` per connection.
pub fn put_key(size: usize, conn: usize, seq: u64, keys: usize) -> String {
    format!(
        "{}/c{conn:03}/{:06}",
        prefix(size),
        seq % keys.max(1) as u64
    )
}

/// Key of one of the `keys` objects a GET run reads.
pub fn get_key(size: usize, index: usize) -> String {
    format!("{}/get/{index:06}", prefix(size))
}

struct Put {
    body: Bytes,
    hash: PayloadHash,
}

async fn create_bucket(client: &mut Client, bucket: &str) -> Result<(), String> {
    let path = format!("/{bucket}");
    let r = client
        .send(Req {
            method: Method::PUT,
            path: &path,
            query: "",
            headers: &[],
            body: Bytes::new(),
            payload_hash: Some(PayloadHash::Compute),
            mode: BodyMode::Collect,
        })
        .await;
    match r {
        Ok(_) => Ok(()),
        Err(CallError::Status(409, code)) if code.starts_with("BucketAlreadyOwnedByYou") => Ok(()),
        Err(e) => Err(format!("CreateBucket {bucket}: {e}")),
    }
}

/// `/<bucket>/<key>` for each key a connection uses, built once rather than per request.
fn object_paths(bucket: &str, keys: impl Iterator<Item = String>) -> Vec<String> {
    keys.map(|key| format!("/{bucket}/{key}")).collect()
}

async fn put_object(client: &mut Client, path: &str, put: &Put) -> Result<u64, CallError> {
    let len = put.body.len() as u64;
    client
        .send(Req {
            method: Method::PUT,
            path,
            query: "",
            headers: &[],
            body: put.body.clone(),
            payload_hash: Some(put.hash.clone()),
            mode: BodyMode::Collect,
        })
        .await?;
    Ok(len)
}

async fn get_object(
    client: &mut Client,
    path: &str,
    empty_hash: &PayloadHash,
    expect: u64,
) -> Result<u64, CallError> {
    let a = client
        .send(Req {
            method: Method::GET,
            path,
            query: "",
            headers: &[],
            body: Bytes::new(),
            payload_hash: Some(empty_hash.clone()),
            mode: BodyMode::Count,
        })
        .await?;
    if a.len != expect {
        return Err(CallError::Parse(format!(
            "GET {path}: {} bytes, expected {expect}",
            a.len
        )));
    }
    Ok(a.len)
}

/// One load connection, through either client.
enum Conn {
    Lean(LeanClient),
    Hyper(Client),
}

impl Conn {
    fn new(cfg: &S3Config) -> Self {
        match cfg.client {
            ClientChoice::Lean => Conn::Lean(LeanClient::new(cfg.endpoint.clone(), cfg.signer.clone(), cfg.timeout)),
            ClientChoice::Hyper => Conn::Hyper(Client::new(cfg.endpoint.clone(), cfg.signer.clone(), cfg.timeout)),
        }
    }

    fn connects(&self) -> u64 {
        match self {
            Conn::Lean(c) => c.connects,
            Conn::Hyper(c) => c.connects,
        }
    }

    /// PutObject of `put`'s body to `path` (`slot`: the path's index, for the lean
    /// client's per-second cache of signed heads).
    async fn put(&mut self, slot: usize, path: &str, put: &Put) -> Result<u64, CallError> {
        match self {
            Conn::Hyper(c) => put_object(c, path, put).await,
            Conn::Lean(c) => {
                let hash = put.hash.value(&put.body);
                c.send(slot, "PUT", path, &put.body, &hash).await?;
                Ok(put.body.len() as u64)
            }
        }
    }

    async fn get(&mut self, slot: usize, path: &str, empty_hash: &PayloadHash, expect: u64) -> Result<u64, CallError> {
        let len = match self {
            Conn::Hyper(c) => return get_object(c, path, empty_hash, expect).await,
            Conn::Lean(c) => c.send(slot, "GET", path, b"", &empty_hash.value(b"")).await?.len,
        };
        if len != expect {
            return Err(CallError::Parse(format!("GET {path}: {len} bytes, expected {expect}")));
        }
        Ok(len)
    }
}

pub async fn run(kind: S3Kind, cfg: &S3Config) -> Result<S3Result, String> {
    let body = object_body(cfg.object_size);
    let hash = match cfg.payload {
        PayloadChoice::Unsigned => PayloadHash::Unsigned,
        PayloadChoice::Sha256 => PayloadHash::Precomputed(sha256_hex(&body).into()),
    };
    let put = Arc::new(Put { body, hash });
    let empty_hash = PayloadHash::Precomputed(sha256_hex(b"").into());

    let mut setup = Client::new(cfg.endpoint.clone(), cfg.signer.clone(), cfg.timeout);
    create_bucket(&mut setup, &cfg.bucket).await?;
    let keys = cfg.keys.max(1);
    if kind == S3Kind::Get {
        for i in 0..keys {
            let path = format!("/{}/{}", cfg.bucket, get_key(cfg.object_size, i));
            put_object(&mut setup, &path, &put)
                .await
                .map_err(|e| format!("uploading the objects to read: {e}"))?;
        }
    }
    drop(setup);

    let rss_before = cfg
        .server_pid
        .map(|pid| proc_status_kib(pid, "VmRSS:").unwrap_or(0));
    let reset = cfg.server_pid.is_some_and(reset_hwm);
    let window = Window::new(cfg.warmup, cfg.duration);
    let done = Arc::new(AtomicBool::new(false));
    let sampler = cfg.server_pid.map(|pid| {
        let done = done.clone();
        tokio::spawn(async move {
            let mut peak = 0u64;
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            while !done.load(Ordering::Relaxed) {
                tick.tick().await;
                peak = peak.max(proc_status_kib(pid, "VmRSS:").unwrap_or(0));
            }
            peak
        })
    });

    let bucket: Arc<str> = cfg.bucket.as_str().into();
    let empty_hash = Arc::new(empty_hash);
    let get_paths: Arc<Vec<String>> = Arc::new(match kind {
        S3Kind::Get => object_paths(&bucket, (0..keys).map(|i| get_key(cfg.object_size, i))),
        S3Kind::Put => Vec::new(),
    });
    let mut tasks = Vec::with_capacity(cfg.connections);
    for id in 0..cfg.connections {
        let mut client = Conn::new(cfg);
        let (put, empty_hash, get_paths) = (put.clone(), empty_hash.clone(), get_paths.clone());
        let (size, connections) = (cfg.object_size, cfg.connections);
        let put_paths = match kind {
            S3Kind::Put => object_paths(
                &bucket,
                (0..keys.max(1) as u64).map(|k| put_key(size, id, k, keys)),
            ),
            S3Kind::Get => Vec::new(),
        };
        tasks.push(tokio::spawn(async move {
            let mut rec = Recorder::new(window);
            let mut seq = 0u64;
            while !window.over() {
                let t0 = Instant::now();
                let (op, result) = match kind {
                    S3Kind::Put => {
                        let slot = (seq % put_paths.len() as u64) as usize;
                        (Op::PutObject, client.put(slot, &put_paths[slot], &put).await)
                    }
                    S3Kind::Get => {
                        let slot = (id + seq as usize * connections) % get_paths.len();
                        (
                            Op::GetObject,
                            client.get(slot, &get_paths[slot], &empty_hash, size as u64).await,
                        )
                    }
                };
                seq += 1;
                let t1 = Instant::now();
                match result {
                    Ok(n) => {
                        rec.ok(op, t0, t1);
                        rec.add_bytes(n, t1);
                    }
                    Err(e) => {
                        rec.error(op, t1, &e.to_string());
                        if matches!(e, CallError::Connect(_)) {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            }
            rec.reconnects = client.connects().saturating_sub(1);
            rec
        }));
    }
    let mut merged = Recorder::new(window);
    for task in tasks {
        match task.await {
            Ok(rec) => merged.merge(rec),
            Err(e) => return Err(format!("a connection task failed: {e}")),
        }
    }
    done.store(true, Ordering::Relaxed);
    let sampled_peak = match sampler {
        Some(h) => h.await.unwrap_or(0),
        None => 0,
    };
    let memory = cfg.server_pid.map(|pid| MemReport {
        pid,
        rss_before_kib: rss_before.unwrap_or(0),
        hwm_kib: proc_status_kib(pid, "VmHWM:").unwrap_or(0),
        reset,
        sampled_peak_kib: sampled_peak,
        rss_after_kib: proc_status_kib(pid, "VmRSS:").unwrap_or(0),
    });
    Ok(S3Result {
        recorder: merged,
        secs: cfg.duration.as_secs_f64(),
        memory,
    })
}

/// A `Vm*:` field of /proc/<pid>/status in KiB.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&status, field)
}

fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Resets the process's VmHWM to its current RSS (`echo 5 > /proc/<pid>/clear_refs`;
/// needs permission over the process).
pub fn reset_hwm(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_and_keys() {
        let b = object_body(4096);
        assert_eq!(b.len(), 4096);
        assert_ne!(b[0..4], b[4..8]);
        assert_eq!(object_body(5).len(), 5);
        assert_eq!(put_key(4096, 3, 257, 256), "bench-4096/c003/000001");
        assert_eq!(get_key(8, 12), "bench-8/get/000012");
    }

    #[test]
    fn status_fields() {
        let s = "Name:\tnimbus\nVmHWM:\t   12345 kB\nVmRSS:\t    2345 kB\n";
        assert_eq!(parse_status_kib(s, "VmHWM:"), Some(12345));
        assert_eq!(parse_status_kib(s, "VmRSS:"), Some(2345));
        assert_eq!(parse_status_kib(s, "VmSwap:"), None);
        assert!(proc_status_kib(std::process::id(), "VmRSS:").is_some_and(|k| k > 0));
    }
}
