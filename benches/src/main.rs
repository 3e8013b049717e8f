//! nimbus-bench: a SigV4-signing load generator for nimbus and its peers.
//!
//! ```text
//! nimbus-bench sqs-send        --endpoint http://127.0.0.1:4566 --connections 16 --duration 10 --warmup 2
//! nimbus-bench sqs-cycle       ...
//! nimbus-bench sqs-cycle-batch ...
//! nimbus-bench startup --server-cmd "target/release/nimbus serve --port 4566 --data-dir {tmpdir}" --repeat 10
//! ```
//! See benches/README.md.

mod client;
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
    /// Server start time and idle memory (needs --server-cmd).
    Startup,
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

    /// startup: shell command that starts the server; `{tmpdir}` becomes a fresh directory per run.
    #[arg(long)]
    server_cmd: Option<String>,
    /// startup: what counts as ready.
    #[arg(long, value_enum, default_value = "line")]
    ready: startup::Ready,
    /// startup: substring of the readiness line (stdout or stderr), with --ready line.
    #[arg(long, default_value = "ready")]
    ready_match: String,
    /// startup: number of runs.
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
