//! nimbus-bench: a SigV4-signing load generator for nimbus and its peers.
//!
//! ```text
//! nimbus-bench sqs-send        --endpoint http://127.0.0.1:4566 --connections 16 --duration 10 --warmup 2
//! nimbus-bench sqs-cycle       ...
//! nimbus-bench sqs-cycle-batch ...
//! nimbus-bench s3-put-4k | s3-get-4k | s3-put-8m | s3-get-8m [--server-pid PID] ...
//! nimbus-bench lambda-warm | lambda-throughput | lambda-cold ...
//! nimbus-bench startup --server-cmd "target/release/nimbus serve --port 4566 --data-dir {tmpdir}" --repeat 10
//! ```
//! See benches/README.md.

mod client;
mod lambda;
mod lean;
mod s3;
mod scenarios;
mod sigv4;
mod startup;
mod stats;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use serde_json::{json, Value};

use crate::client::Endpoint;
use crate::scenarios::{Kind, LoadConfig, LoadResult};
use crate::sigv4::Signer;
use crate::stats::{round2, Op};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// SendMessage in a loop on every connection.
    SqsSend,
    /// SendMessage → ReceiveMessage → DeleteMessage per message.
    SqsCycle,
    /// SendMessageBatch(10) → ReceiveMessage(10) → DeleteMessageBatch.
    SqsCycleBatch,
    /// PutObject of 4 KiB objects (ops/s).
    #[value(name = "s3-put-4k")]
    S3Put4k,
    /// GetObject of 4 KiB objects (ops/s).
    #[value(name = "s3-get-4k")]
    S3Get4k,
    /// PutObject of 8 MiB objects (MB/s; with --server-pid, the server's peak RSS).
    #[value(name = "s3-put-8m")]
    S3Put8m,
    /// GetObject of 8 MiB objects (MB/s).
    #[value(name = "s3-get-8m")]
    S3Get8m,
    /// Sequential invokes of a no-op python3.12 handler, one caller (latency percentiles).
    LambdaWarm,
    /// First invoke after CreateFunction, --repeat times per runtime (--cold-runtimes).
    LambdaCold,
    /// Invokes/s of a no-op python3.12 handler at --connections concurrent callers.
    LambdaThroughput,
    /// Server start time and idle memory (needs --server-cmd).
    Startup,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::SqsSend => "sqs-send",
            Scenario::SqsCycle => "sqs-cycle",
            Scenario::SqsCycleBatch => "sqs-cycle-batch",
            Scenario::S3Put4k => "s3-put-4k",
            Scenario::S3Get4k => "s3-get-4k",
            Scenario::S3Put8m => "s3-put-8m",
            Scenario::S3Get8m => "s3-get-8m",
            Scenario::LambdaWarm => "lambda-warm",
            Scenario::LambdaCold => "lambda-cold",
            Scenario::LambdaThroughput => "lambda-throughput",
            Scenario::Startup => "startup",
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "nimbus-bench",
    version,
    about = "SigV4-signed load generator for nimbus and its peers"
)]
struct Cli {
    #[arg(value_enum)]
    scenario: Scenario,
    /// Server to load (http://host:port).
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    endpoint: String,
    /// Concurrent keep-alive connections (one task each).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Generator runtime threads. 1 by default: on a 2-core machine the generator must leave a core to the server.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print one JSON object on stdout (the human summary goes to stderr).
    #[arg(long)]
    json: bool,
    /// Name of the system under test, shown in the output (e.g. nimbus, moto).
    #[arg(long, default_value = "")]
    label: String,
    /// Message body size in bytes.
    #[arg(long, default_value_t = 100)]
    body_size: usize,
    /// Queue name (default: bench-send, bench-cycle, bench-cycle-batch).
    #[arg(long)]
    queue: Option<String>,
    /// Per-request timeout in seconds (a timeout counts as an error).
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    #[arg(long, default_value = "test")]
    access_key: String,
    #[arg(long, default_value = "test")]
    secret_key: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,

    /// S3: object size in bytes (default 4096 for the 4k scenarios, 8388608 for the 8m ones).
    #[arg(long)]
    object_size: Option<usize>,
    /// S3 PUT: keys per connection, overwritten in turn (default 256 for 4k, 2 for 8m);
    /// S3 GET: objects uploaded first and read in turn (default 256 for 4k, 16 for 8m).
    #[arg(long)]
    keys: Option<usize>,
    /// S3: bucket (created if missing).
    #[arg(long, default_value = "nimbus-bench")]
    bucket: String,
    /// S3 PUT: x-amz-content-sha256 of the body.
    #[arg(long, value_enum, default_value = "unsigned")]
    payload_hash: s3::PayloadChoice,
    /// S3 load loops: `lean` writes each request as one buffer and reuses a path's
    /// signed head within its second (the same bytes on the wire, less generator CPU);
    /// `hyper` is hyper's client, as every figure before 2026-11-27 21:40 UTC was measured.
    #[arg(long, value_enum, default_value = "lean")]
    client: s3::ClientChoice,
    /// S3: the server's pid, to report its peak RSS (VmHWM, reset before the load) and sampled RSS.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Lambda warm/throughput: function name (default bench-warm / bench-throughput; deleted and recreated).
    #[arg(long)]
    function: Option<String>,
    /// Lambda warm/throughput: runtime of the no-op function: python3.N (handler.py), provided.al2023 (compiled bootstrap) or provided.al2023:sh.
    #[arg(long, default_value = "python3.12")]
    runtime: String,
    /// lambda-cold: runtimes, comma-separated: python3.N, provided.al2023 (compiled bootstrap), provided.al2023:sh (sh + curl).
    #[arg(long, default_value = "python3.12,provided.al2023,provided.al2023:sh")]
    cold_runtimes: String,
    /// lambda-cold: the compiled bootstrap (default: nimbus-bench-bootstrap beside this executable).
    #[arg(long)]
    bootstrap: Option<std::path::PathBuf>,

    /// startup: shell command that starts the server; `{tmpdir}` becomes a fresh directory per run.
    #[arg(long)]
    server_cmd: Option<String>,
    /// startup: what counts as ready.
    #[arg(long, value_enum, default_value = "line")]
    ready: startup::Ready,
    /// startup: substring of the readiness line (stdout or stderr), with --ready line.
    #[arg(long, default_value = "ready")]
    ready_match: String,
    /// startup: number of runs; lambda-cold: functions created per runtime.
    #[arg(long, default_value_t = 10)]
    repeat: usize,
    /// startup: idle milliseconds after ready before reading VmRSS.
    #[arg(long, default_value_t = 1000)]
    idle_ms: u64,
    /// startup: seconds to wait for readiness.
    #[arg(long, default_value_t = 30.0)]
    ready_timeout: f64,
    /// Print per-run details.
    #[arg(long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.threads == 0 || cli.connections == 0 || cli.repeat == 0 {
        eprintln!("nimbus-bench: --threads, --connections and --repeat must be at least 1");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nimbus-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        let endpoint = Arc::new(Endpoint::resolve(&cli.endpoint).await?);
        match cli.scenario {
            Scenario::Startup => run_startup(&cli, &endpoint),
            Scenario::SqsSend => run_load(&cli, endpoint, Kind::Send).await,
            Scenario::SqsCycle => run_load(&cli, endpoint, Kind::Cycle).await,
            Scenario::SqsCycleBatch => run_load(&cli, endpoint, Kind::CycleBatch).await,
            Scenario::S3Put4k | Scenario::S3Get4k | Scenario::S3Put8m | Scenario::S3Get8m => {
                run_s3(&cli, endpoint).await
            }
            Scenario::LambdaWarm | Scenario::LambdaThroughput => run_invokes(&cli, endpoint).await,
            Scenario::LambdaCold => run_cold(&cli, endpoint).await,
        }
    });
    match outcome {
        Ok((human, machine)) => {
            if cli.json {
                eprintln!("{human}");
                println!("{machine}");
            } else {
                println!("{human}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nimbus-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn label(cli: &Cli) -> String {
    if cli.label.is_empty() {
        cli.endpoint.clone()
    } else {
        cli.label.clone()
    }
}

fn run_startup(cli: &Cli, endpoint: &Endpoint) -> Result<(String, Value), String> {
    let command = cli
        .server_cmd
        .clone()
        .ok_or("startup needs --server-cmd \"<shell command>\"")?;
    let cfg = startup::StartupConfig {
        command,
        ready: cli.ready,
        ready_match: cli.ready_match.clone(),
        addrs: endpoint.addrs.clone(),
        repeat: cli.repeat,
        idle: Duration::from_millis(cli.idle_ms),
        ready_timeout: Duration::from_secs_f64(cli.ready_timeout),
        verbose: cli.verbose,
    };
    let runs = startup::run(&cfg)?;
    Ok(startup::report(&cfg, &runs, &label(cli)))
}

async fn run_load(
    cli: &Cli,
    endpoint: Arc<Endpoint>,
    kind: Kind,
) -> Result<(String, Value), String> {
    let cfg = LoadConfig {
        endpoint: endpoint.clone(),
        signer: Signer::new(&cli.access_key, &cli.secret_key, &cli.region, "sqs"),
        connections: cli.connections,
        duration: Duration::from_secs_f64(cli.duration),
        warmup: Duration::from_secs_f64(cli.warmup),
        timeout: Duration::from_secs_f64(cli.timeout),
        body_size: cli.body_size,
        queue: cli.queue.clone(),
    };
    let cpu_before = process_cpu_secs();
    let wall = Instant::now();
    let result = scenarios::run(kind, &cfg).await?;
    let cpu = process_cpu_secs()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let cpu_pct = cpu.map(|c| 100.0 * c / wall.elapsed().as_secs_f64());
    Ok(load_report(cli, kind, result, cpu_pct))
}

fn load_report(cli: &Cli, kind: Kind, mut r: LoadResult, cpu_pct: Option<f64>) -> (String, Value) {
    let ops = r.recorder.summaries(r.secs);
    let errors = r.recorder.total_errors();
    let requests: u64 = ops
        .iter()
        .filter(|o| o.op.is_request())
        .map(|o| o.count)
        .sum();
    let requests_per_s = requests as f64 / r.secs;
    let messages_per_s = r.recorder.messages as f64 / r.secs;
    let find = |op: Op| ops.iter().find(|o| o.op == op);
    // The headline: what the scenario is about, and the latency of its unit of work.
    let (rate, unit, lat) = match kind {
        Kind::Send => (requests_per_s, "req/s", find(Op::SendMessage)),
        Kind::Cycle => (
            messages_per_s,
            "cycles/s (msgs sent+received+deleted)",
            find(Op::Cycle),
        ),
        Kind::CycleBatch => (
            messages_per_s,
            "msgs/s (sent+received+deleted)",
            find(Op::Cycle),
        ),
    };
    let (p50, p99) = lat.map_or((0.0, 0.0), |s| (s.p50_ms, s.p99_ms));
    let lat_name = lat.map_or("-", |s| s.op.name());
    let label = label(cli);

    let mut human = format!(
        "nimbus-bench {} [{label}]: {:.1} {unit}; {lat_name} p50 {p50:.3} ms, p99 {p99:.3} ms; {errors} errors \
         ({} conns, {} s after {} s warm-up, {} generator thread{})",
        kind.name(),
        rate,
        cli.connections,
        cli.duration,
        cli.warmup,
        cli.threads,
        if cli.threads == 1 { "" } else { "s" },
    );
    for o in &ops {
        human.push('\n');
        human.push_str(&o.line());
    }
    human.push_str(&format!(
        "\n  all requests {requests_per_s:.1}/s; empty receives {}; reconnects {}; generator CPU {}",
        r.recorder.empty_receives,
        r.recorder.reconnects,
        cpu_pct.map_or("?".to_owned(), |c| format!("{c:.0}% of one core")),
    ));
    if cli.threads == 1 {
        human.push_str(
            "\n  note: the generator runs on 1 runtime thread by default so that, on a 2-core machine, \
             the server keeps a core (raise with --threads)",
        );
    }
    for s in r.recorder.error_samples() {
        human.push_str(&format!("\n  error sample: {s}"));
    }

    let json = json!({
        "scenario": kind.name(),
        "label": label,
        "endpoint": cli.endpoint,
        "queue_url": r.queue_url,
        "connections": cli.connections,
        "duration_s": cli.duration,
        "warmup_s": cli.warmup,
        "generator_threads": cli.threads,
        "generator_cpu_pct": cpu_pct.map(round2),
        "body_size": cli.body_size,
        "throughput": { "value": round2(rate), "unit": unit },
        "requests_per_s": round2(requests_per_s),
        "messages_per_s": round2(messages_per_s),
        "latency_ms": { "of": lat_name, "p50": p50, "p99": p99 },
        "errors": errors,
        "empty_receives": r.recorder.empty_receives,
        "reconnects": r.recorder.reconnects,
        "ops": ops.iter().map(|o| (o.op.name().to_owned(), o.to_json())).collect::<serde_json::Map<_, _>>(),
        "error_samples": r.recorder.error_samples(),
    });
    (human, json)
}

/// CPU use of the generator over a future, as a percentage of one core.
async fn with_cpu<T>(f: impl std::future::Future<Output = T>) -> (T, Option<f64>) {
    let cpu_before = process_cpu_secs();
    let wall = Instant::now();
    let out = f.await;
    let cpu = process_cpu_secs()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    (out, cpu.map(|c| 100.0 * c / wall.elapsed().as_secs_f64()))
}

async fn run_s3(cli: &Cli, endpoint: Arc<Endpoint>) -> Result<(String, Value), String> {
    let big = matches!(cli.scenario, Scenario::S3Put8m | Scenario::S3Get8m);
    let kind = match cli.scenario {
        Scenario::S3Put4k | Scenario::S3Put8m => s3::S3Kind::Put,
        _ => s3::S3Kind::Get,
    };
    let object_size = cli.object_size.unwrap_or(if big { 8 * 1024 * 1024 } else { 4096 });
    let keys = cli.keys.unwrap_or(match (kind, big) {
        (s3::S3Kind::Put, true) => 2,
        (s3::S3Kind::Get, true) => 16,
        _ => 256,
    });
    let cfg = s3::S3Config {
        endpoint,
        signer: Signer::new(&cli.access_key, &cli.secret_key, &cli.region, "s3"),
        connections: cli.connections,
        duration: Duration::from_secs_f64(cli.duration),
        warmup: Duration::from_secs_f64(cli.warmup),
        timeout: Duration::from_secs_f64(cli.timeout),
        object_size,
        keys,
        bucket: cli.bucket.clone(),
        payload: cli.payload_hash,
        client: cli.client,
        server_pid: cli.server_pid,
    };
    let (result, cpu_pct) = with_cpu(s3::run(kind, &cfg)).await;
    let mut r = result?;
    let op = if kind == s3::S3Kind::Put { Op::PutObject } else { Op::GetObject };
    let ops_per_s = r.recorder.summaries(r.secs).iter().find(|o| o.op == op).map_or(0.0, |o| o.per_sec);
    let mb_per_s = r.recorder.bytes as f64 / r.secs / 1e6;
    let (rate, unit) = if big { (mb_per_s, "MB/s") } else { (ops_per_s, "ops/s") };
    let mut extra = serde_json::Map::new();
    let mut notes = vec![format!(
        "  {ops_per_s:.1} ops/s, {mb_per_s:.1} MB/s (10^6 bytes/s); object {object_size} bytes; bucket {}; {} keys{}; PUT payload hash {}",
        cfg.bucket, keys, if kind == s3::S3Kind::Put { " per connection" } else { "" },
        match cfg.payload { s3::PayloadChoice::Unsigned => "UNSIGNED-PAYLOAD", s3::PayloadChoice::Sha256 => "SHA-256 of the body" },
    )];
    extra.insert("ops_per_s".into(), json!(round2(ops_per_s)));
    extra.insert("mb_per_s".into(), json!(round2(mb_per_s)));
    extra.insert("object_size".into(), json!(object_size));
    extra.insert("keys".into(), json!(keys));
    extra.insert("bucket".into(), json!(cfg.bucket));
    extra.insert("client".into(), json!(match cfg.client { s3::ClientChoice::Lean => "lean", s3::ClientChoice::Hyper => "hyper" }));
    extra.insert(
        "payload_hash".into(),
        json!(match cfg.payload { s3::PayloadChoice::Unsigned => "UNSIGNED-PAYLOAD", s3::PayloadChoice::Sha256 => "sha256" }),
    );
    if let Some(m) = &r.memory {
        let mib = |k: u64| round2(k as f64 / 1024.0);
        notes.push(format!(
            "  server pid {}: RSS {:.1} MiB before, peak (VmHWM{}) {:.1} MiB, sampled peak {:.1} MiB, {:.1} MiB after",
            m.pid,
            mib(m.rss_before_kib),
            if m.reset { ", reset before the load" } else { ", lifetime: could not reset" },
            mib(m.hwm_kib),
            mib(m.sampled_peak_kib),
            mib(m.rss_after_kib),
        ));
        extra.insert(
            "server_memory".into(),
            json!({
                "pid": m.pid,
                "rss_before_mib": mib(m.rss_before_kib),
                "peak_rss_mib": mib(m.hwm_kib),
                "hwm_reset_before_load": m.reset,
                "sampled_peak_rss_mib": mib(m.sampled_peak_kib),
                "rss_after_mib": mib(m.rss_after_kib),
            }),
        );
    }
    let h = Headline { rate, unit, lat: op, target: format!("s3://{}", cfg.bucket) };
    Ok(generic_report(cli, h, &mut r.recorder, r.secs, cpu_pct, notes, extra))
}

async fn run_invokes(cli: &Cli, endpoint: Arc<Endpoint>) -> Result<(String, Value), String> {
    let cfg = lambda_config(cli, endpoint)?;
    let (callers, default_name) = match cli.scenario {
        Scenario::LambdaWarm => (1, "bench-warm"),
        _ => (cli.connections, "bench-throughput"),
    };
    let (result, cpu_pct) = with_cpu(lambda::run_invokes(&cfg, callers, default_name)).await;
    let mut r = result?;
    let per_s = r.recorder.summaries(r.secs).iter().find(|o| o.op == Op::Invoke).map_or(0.0, |o| o.per_sec);
    let first_ms = r.first_invoke.as_secs_f64() * 1000.0;
    let notes = vec![format!(
        "  function {} ({}, no-op); {} caller{}; first invoke after CreateFunction (not in the figures) {first_ms:.1} ms",
        r.function, cfg.runtime, r.callers, if r.callers == 1 { "" } else { "s" },
    )];
    let mut extra = serde_json::Map::new();
    extra.insert("function".into(), json!(r.function));
    extra.insert("runtime".into(), json!(cfg.runtime));
    extra.insert("callers".into(), json!(r.callers));
    extra.insert("first_invoke_ms".into(), json!(round2(first_ms)));
    let h = Headline { rate: per_s, unit: "invokes/s", lat: Op::Invoke, target: r.function.clone() };
    Ok(generic_report(cli, h, &mut r.recorder, r.secs, cpu_pct, notes, extra))
}

fn lambda_config(cli: &Cli, endpoint: Arc<Endpoint>) -> Result<lambda::LambdaConfig, String> {
    let cold_runtimes = cli
        .cold_runtimes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(lambda::ColdRuntime::parse)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lambda::LambdaConfig {
        endpoint,
        signer: Signer::new(&cli.access_key, &cli.secret_key, &cli.region, "lambda"),
        duration: Duration::from_secs_f64(cli.duration),
        warmup: Duration::from_secs_f64(cli.warmup),
        timeout: Duration::from_secs_f64(cli.timeout),
        function: cli.function.clone(),
        runtime: cli.runtime.clone(),
        repeat: cli.repeat,
        cold_runtimes,
        bootstrap: cli.bootstrap.clone().or_else(lambda::default_bootstrap),
    })
}

async fn run_cold(cli: &Cli, endpoint: Arc<Endpoint>) -> Result<(String, Value), String> {
    let cfg = lambda_config(cli, endpoint)?;
    let results = lambda::run_cold(&cfg).await?;
    let label = label(cli);
    let mut human = format!(
        "nimbus-bench lambda-cold [{label}]: first invoke after CreateFunction, {} fresh function{} per runtime",
        cfg.repeat,
        if cfg.repeat == 1 { "" } else { "s" }
    );
    let mut runtimes = Vec::new();
    let mut errors = 0;
    let mut samples = Vec::new();
    for mut r in results {
        let ops = r.recorder.summaries(1.0);
        let cold = ops.iter().find(|o| o.op == Op::ColdInvoke);
        let create = ops.iter().find(|o| o.op == Op::CreateFunction);
        let min_ms = r.recorder.min_ms(Op::ColdInvoke);
        errors += r.recorder.total_errors();
        human.push_str(&format!(
            "\n  {:<52} cold invoke min {:>8.1} ms  p50 {:>8.1} ms  p90 {:>8.1} ms  max {:>8.1} ms  ({} ok, {} err); CreateFunction p50 {:.1} ms",
            r.runtime.label(),
            min_ms,
            cold.map_or(0.0, |c| c.p50_ms),
            cold.map_or(0.0, |c| c.p90_ms),
            cold.map_or(0.0, |c| c.max_ms),
            cold.map_or(0, |c| c.count),
            cold.map_or(0, |c| c.errors),
            create.map_or(0.0, |c| c.p50_ms),
        ));
        samples.extend(r.recorder.error_samples().iter().cloned());
        runtimes.push(json!({
            "runtime": r.runtime.runtime(),
            "label": r.runtime.label(),
            "short": r.runtime.short(),
            "cold_invoke_ms": {
                "min": round2(min_ms),
                "p50": cold.map_or(0.0, |c| c.p50_ms),
                "p90": cold.map_or(0.0, |c| c.p90_ms),
                "max": cold.map_or(0.0, |c| c.max_ms),
                "mean": cold.map_or(0.0, |c| round2(c.mean_ms)),
                "count": cold.map_or(0, |c| c.count),
            },
            "create_function_ms_p50": create.map_or(0.0, |c| c.p50_ms),
            "errors": r.recorder.total_errors(),
        }));
    }
    for s in &samples {
        human.push_str(&format!("\n  error sample: {s}"));
    }
    let json = json!({
        "scenario": "lambda-cold",
        "label": label,
        "endpoint": cli.endpoint,
        "repeat": cfg.repeat,
        "runtimes": runtimes,
        "errors": errors,
        "error_samples": samples,
    });
    Ok((human, json))
}

struct Headline {
    rate: f64,
    unit: &'static str,
    lat: Op,
    target: String,
}

/// The report of the S3 and Lambda load scenarios: same shape as the SQS one.
fn generic_report(
    cli: &Cli,
    h: Headline,
    rec: &mut stats::Recorder,
    secs: f64,
    cpu_pct: Option<f64>,
    notes: Vec<String>,
    extra: serde_json::Map<String, Value>,
) -> (String, Value) {
    let ops = rec.summaries(secs);
    let errors = rec.total_errors();
    let requests: u64 = ops.iter().map(|o| o.count).sum();
    let lat = ops.iter().find(|o| o.op == h.lat);
    let (p50, p99) = lat.map_or((0.0, 0.0), |s| (s.p50_ms, s.p99_ms));
    let label = label(cli);
    let connections = match cli.scenario {
        Scenario::LambdaWarm => 1,
        _ => cli.connections,
    };
    let mut human = format!(
        "nimbus-bench {} [{label}]: {:.1} {}; {} p50 {p50:.3} ms, p99 {p99:.3} ms; {errors} errors \
         ({connections} conns, {} s after {} s warm-up, {} generator thread{})",
        cli.scenario.name(),
        h.rate,
        h.unit,
        h.lat.name(),
        cli.duration,
        cli.warmup,
        cli.threads,
        if cli.threads == 1 { "" } else { "s" },
    );
    for o in &ops {
        human.push('\n');
        human.push_str(&o.line());
    }
    for n in &notes {
        human.push('\n');
        human.push_str(n);
    }
    human.push_str(&format!(
        "\n  reconnects {}; generator CPU {}",
        rec.reconnects,
        cpu_pct.map_or("?".to_owned(), |c| format!("{c:.0}% of one core")),
    ));
    for s in rec.error_samples() {
        human.push_str(&format!("\n  error sample: {s}"));
    }
    let mut json = json!({
        "scenario": cli.scenario.name(),
        "label": label,
        "endpoint": cli.endpoint,
        "target": h.target,
        "connections": connections,
        "duration_s": cli.duration,
        "warmup_s": cli.warmup,
        "generator_threads": cli.threads,
        "generator_cpu_pct": cpu_pct.map(round2),
        "throughput": { "value": round2(h.rate), "unit": h.unit },
        "requests_per_s": round2(requests as f64 / secs),
        "latency_ms": { "of": h.lat.name(), "p50": p50, "p99": p99 },
        "errors": errors,
        "reconnects": rec.reconnects,
        "ops": ops.iter().map(|o| (o.op.name().to_owned(), o.to_json())).collect::<serde_json::Map<_, _>>(),
        "error_samples": rec.error_samples(),
    });
    if let Some(obj) = json.as_object_mut() {
        obj.extend(extra);
    }
    (human, json)
}

/// User + system CPU seconds of this process so far (Linux /proc).
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state(0) ... utime is field 14 overall → index 11 here, stime 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as f64 } else { 100.0 };
    Some((utime + stime) / hz)
}
