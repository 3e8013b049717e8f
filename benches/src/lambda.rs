//! The Lambda scenarios, over Lambda's restJson API signed with service `lambda`:
//! `POST /2015-03-31/functions` (CreateFunction, the zip as base64 `Code.ZipFile`),
//! `POST /2015-03-31/functions/<name>/invocations` (Invoke, RequestResponse),
//! `DELETE /2015-03-31/functions/<name>`.
//!
//! - `lambda-warm`: one caller, sequential invokes of a no-op python3.12 handler after
//!   one warm-up invoke (reported separately).
//! - `lambda-throughput`: the same function, `--connections` concurrent callers.
//! - `lambda-cold`: per runtime, `--repeat` times: create a fresh function, time its
//!   first invoke, delete it.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http::Method;
use serde_json::json;

use crate::client::{Answer, BodyMode, CallError, Client, Endpoint, Req};
use crate::sigv4::Signer;
use crate::stats::{Op, Recorder, Window};

pub const ROLE: &str = "arn:aws:iam::000000000000:role/nimbus-bench";
pub const PYTHON_HANDLER: &str = "def handler(event, context):\n    return None\n";

/// A `provided.*` bootstrap that is a shell script driving curl (one curl process per
/// Runtime API call).
pub const SH_BOOTSTRAP: &str = r#"#!/bin/sh
# nimbus-bench: a no-op custom runtime in shell + curl.
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
HEADERS="${TMPDIR:-/tmp}/nimbus-bench-headers.$$"
while true; do
  curl -sS -D "$HEADERS" -o /dev/null "$API/invocation/next" || exit 1
  ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)
  curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' -d 'null' "$API/invocation/$ID/response" || exit 1
done
"#;

/// One runtime `lambda-cold` measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColdRuntime {
    /// python3.x with the no-op handler.
    Python(String),
    /// provided.* with the compiled `nimbus-bench-bootstrap`.
    Compiled(String),
    /// provided.* with the shell + curl bootstrap.
    Shell(String),
}

impl ColdRuntime {
    /// `python3.12`, `provided.al2023` (compiled bootstrap), `provided.al2023:sh`.
    pub fn parse(s: &str) -> Result<ColdRuntime, String> {
        let (rt, variant) = s.split_once(':').unwrap_or((s, ""));
        match (rt.starts_with("python3."), rt.starts_with("provided"), variant) {
            (true, _, "") => Ok(ColdRuntime::Python(rt.to_owned())),
            (_, true, "" | "bin") => Ok(ColdRuntime::Compiled(rt.to_owned())),
            (_, true, "sh") => Ok(ColdRuntime::Shell(rt.to_owned())),
            _ => Err(format!(
                "runtime {s:?}: use python3.N, provided[.al2|.al2023] (compiled bootstrap) or provided.al2023:sh"
            )),
        }
    }

    pub fn runtime(&self) -> &str {
        match self {
            ColdRuntime::Python(r) | ColdRuntime::Compiled(r) | ColdRuntime::Shell(r) => r,
        }
    }

    pub fn label(&self) -> String {
        match self {
            ColdRuntime::Python(r) => format!("{r} (no-op handler)"),
            ColdRuntime::Compiled(r) => format!("{r} (compiled Rust bootstrap, std only)"),
            ColdRuntime::Shell(r) => format!("{r} (sh + curl bootstrap)"),
        }
    }

    /// A short name for tables.
    pub fn short(&self) -> String {
        match self {
            ColdRuntime::Python(r) => r.clone(),
            ColdRuntime::Compiled(r) => format!("{r} (Rust bin)"),
            ColdRuntime::Shell(r) => format!("{r} (sh+curl)"),
        }
    }

    fn slug(&self) -> String {
        let base: String = self
            .runtime()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        match self {
            ColdRuntime::Shell(_) => format!("{base}-sh"),
            _ => base,
        }
    }
}

pub struct LambdaConfig {
    pub endpoint: Arc<Endpoint>,
    pub signer: Signer,
    pub duration: Duration,
    pub warmup: Duration,
    pub timeout: Duration,
    pub function: Option<String>,
    pub runtime: String,
    pub repeat: usize,
    pub cold_runtimes: Vec<ColdRuntime>,
    /// The compiled bootstrap (`nimbus-bench-bootstrap`).
    pub bootstrap: Option<PathBuf>,
}

/// A zip holding one file. Stored (not deflated): packages here are tiny or already
/// binary, and the server's unzip is not what is measured.
pub fn zip_one(name: &str, data: &[u8], mode: u32) -> Result<Vec<u8>, String> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(mode);
    w.start_file(name, options).map_err(|e| format!("zip: {e}"))?;
    w.write_all(data).map_err(|e| format!("zip: {e}"))?;
    let cursor = w.finish().map_err(|e| format!("zip: {e}"))?;
    Ok(cursor.into_inner())
}

pub fn python_zip() -> Result<Vec<u8>, String> {
    zip_one("handler.py", PYTHON_HANDLER.as_bytes(), 0o644)
}

/// The compiled bootstrap beside this executable (cargo builds both into one directory).
pub fn default_bootstrap() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.join("nimbus-bench-bootstrap");
    path.is_file().then_some(path)
}

fn code_for(rt: &ColdRuntime, bootstrap: Option<&Path>) -> Result<(Vec<u8>, &'static str), String> {
    match rt {
        ColdRuntime::Python(_) => Ok((python_zip()?, "handler.handler")),
        ColdRuntime::Shell(_) => Ok((zip_one("bootstrap", SH_BOOTSTRAP.as_bytes(), 0o755)?, "bootstrap")),
        ColdRuntime::Compiled(_) => {
            let path = bootstrap.ok_or(
                "no compiled bootstrap: build it (cargo build --release -p nimbus-bench) or pass --bootstrap PATH",
            )?;
            let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((zip_one("bootstrap", &data, 0o755)?, "bootstrap"))
        }
    }
}

async fn call(client: &mut Client, method: Method, path: &str, body: Bytes) -> Result<Answer, CallError> {
    let json_type = [("content-type", "application/json")];
    let headers: &[(&'static str, &str)] = if body.is_empty() { &[] } else { &json_type };
    client
        .send(Req {
            method,
            path,
            query: "",
            headers,
            body,
            payload_hash: None,
            mode: BodyMode::Collect,
        })
        .await
}

pub async fn create_function(client: &mut Client, name: &str, runtime: &str, handler: &str, zip: &[u8]) -> Result<(), CallError> {
    let body = json!({
        "FunctionName": name,
        "Runtime": runtime,
        "Role": ROLE,
        "Handler": handler,
        "Code": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(zip) },
        "Timeout": 30,
        "MemorySize": 128,
    });
    call(client, Method::POST, "/2015-03-31/functions", Bytes::from(body.to_string())).await?;
    Ok(())
}

pub async fn delete_function(client: &mut Client, name: &str) -> Result<(), CallError> {
    call(client, Method::DELETE, &format!("/2015-03-31/functions/{name}"), Bytes::new()).await?;
    Ok(())
}

/// One RequestResponse invoke with `{}`; a function error (`X-Amz-Function-Error`) is an error.
pub async fn invoke(client: &mut Client, name: &str) -> Result<(), CallError> {
    let path = format!("/2015-03-31/functions/{name}/invocations");
    let a = call(client, Method::POST, &path, Bytes::from_static(b"{}")).await?;
    if let Some(fe) = a.headers.get("x-amz-function-error") {
        let fe = fe.to_str().unwrap_or("?");
        let body = String::from_utf8_lossy(&a.body[..a.body.len().min(200)]).into_owned();
        return Err(CallError::Parse(format!("function error {fe}: {body}")));
    }
    Ok(())
}

/// Deletes (ignoring "not found") and creates the function the warm and throughput
/// scenarios invoke, then invokes it once. Returns the first invoke's time.
/// `runtime` as in `ColdRuntime::parse`: python3.N gets the no-op handler,
/// provided.* the compiled bootstrap (`provided.al2023:sh`: the shell one).
async fn fresh_function(client: &mut Client, name: &str, runtime: &str, bootstrap: Option<&Path>) -> Result<Duration, String> {
    let rt = ColdRuntime::parse(runtime)?;
    let (zip, handler) = code_for(&rt, bootstrap)?;
    match delete_function(client, name).await {
        Ok(()) | Err(CallError::Status(404, _)) => {}
        Err(e) => return Err(format!("DeleteFunction {name}: {e}")),
    }
    create_function(client, name, rt.runtime(), handler, &zip)
        .await
        .map_err(|e| format!("CreateFunction {name}: {e}"))?;
    let t0 = Instant::now();
    invoke(client, name).await.map_err(|e| format!("first Invoke of {name}: {e}"))?;
    Ok(t0.elapsed())
}

pub struct LambdaResult {
    pub recorder: Recorder,
    pub secs: f64,
    pub function: String,
    /// The warm-up (first, cold) invoke.
    pub first_invoke: Duration,
    pub callers: usize,
}

/// `lambda-warm` (callers = 1) and `lambda-throughput` (callers = --connections).
pub async fn run_invokes(cfg: &LambdaConfig, callers: usize, default_name: &str) -> Result<LambdaResult, String> {
    let name = cfg.function.clone().unwrap_or_else(|| default_name.to_owned());
    let mut setup = Client::new(cfg.endpoint.clone(), cfg.signer.clone(), cfg.timeout);
    let first_invoke = fresh_function(&mut setup, &name, &cfg.runtime, cfg.bootstrap.as_deref()).await?;
    drop(setup);

    let window = Window::new(cfg.warmup, cfg.duration);
    let name: Arc<str> = name.into();
    let mut tasks = Vec::with_capacity(callers);
    for _ in 0..callers {
        let mut client = Client::new(cfg.endpoint.clone(), cfg.signer.clone(), cfg.timeout);
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            let mut rec = Recorder::new(window);
            while !window.over() {
                let t0 = Instant::now();
                let result = invoke(&mut client, &name).await;
                let t1 = Instant::now();
                match result {
                    Ok(()) => rec.ok(Op::Invoke, t0, t1),
                    Err(e) => {
                        rec.error(Op::Invoke, t1, &e.to_string());
                        if matches!(e, CallError::Connect(_) | CallError::Status(429, _)) {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            }
            rec.reconnects = client.connects.saturating_sub(1);
            rec
        }));
    }
    let mut merged = Recorder::new(window);
    for task in tasks {
        match task.await {
            Ok(rec) => merged.merge(rec),
            Err(e) => return Err(format!("a caller task failed: {e}")),
        }
    }
    Ok(LambdaResult {
        recorder: merged,
        secs: cfg.duration.as_secs_f64(),
        function: name.to_string(),
        first_invoke,
        callers,
    })
}

/// What `lambda-cold` measured for one runtime.
pub struct ColdResult {
    pub runtime: ColdRuntime,
    pub recorder: Recorder,
}

pub async fn run_cold(cfg: &LambdaConfig) -> Result<Vec<ColdResult>, String> {
    let mut client = Client::new(cfg.endpoint.clone(), cfg.signer.clone(), cfg.timeout);
    // Every sample counts: a window from now to far away.
    let window = Window::new(Duration::ZERO, Duration::from_secs(86_400 * 365));
    let tag = format!("{:x}", std::process::id());
    let mut out = Vec::new();
    for rt in &cfg.cold_runtimes {
        let (zip, handler) = code_for(rt, cfg.bootstrap.as_deref())?;
        let mut rec = Recorder::new(window);
        for i in 0..cfg.repeat {
            let name = format!("bench-cold-{}-{tag}-{i}", rt.slug());
            let t0 = Instant::now();
            let created = create_function(&mut client, &name, rt.runtime(), handler, &zip).await;
            let t1 = Instant::now();
            if let Err(e) = created {
                rec.error(Op::CreateFunction, t1, &e.to_string());
                continue;
            }
            rec.ok(Op::CreateFunction, t0, t1);
            let result = invoke(&mut client, &name).await;
            let t2 = Instant::now();
            match result {
                Ok(()) => rec.ok(Op::ColdInvoke, t1, t2),
                Err(e) => rec.error(Op::ColdInvoke, t2, &e.to_string()),
            }
            if let Err(e) = delete_function(&mut client, &name).await {
                rec.error(Op::CreateFunction, Instant::now(), &format!("DeleteFunction: {e}"));
            }
        }
        out.push(ColdResult { runtime: rt.clone(), recorder: rec });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_read_back_with_their_modes() {
        let z = zip_one("bootstrap", b"#!/bin/sh\n", 0o755).unwrap();
        let mut a = zip::ZipArchive::new(Cursor::new(z)).unwrap();
        let f = a.by_name("bootstrap").unwrap();
        assert_eq!(f.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut a = zip::ZipArchive::new(Cursor::new(python_zip().unwrap())).unwrap();
        assert_eq!(a.by_index(0).unwrap().name(), "handler.py");
    }

    #[test]
    fn cold_runtime_names() {
        assert_eq!(ColdRuntime::parse("python3.12").unwrap(), ColdRuntime::Python("python3.12".into()));
        assert_eq!(ColdRuntime::parse("provided.al2023").unwrap(), ColdRuntime::Compiled("provided.al2023".into()));
        assert_eq!(ColdRuntime::parse("provided.al2023:sh").unwrap(), ColdRuntime::Shell("provided.al2023".into()));
        assert!(ColdRuntime::parse("java21").is_err());
        assert_eq!(ColdRuntime::parse("provided.al2023:sh").unwrap().slug(), "provided-al2023-sh");
    }
}
