//! Execution environments: one process per environment, fed by its own Runtime API
//! port, kept warm between invocations and reaped when idle.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nimbus_core::AwsError;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::functions::FunctionRecord;
use crate::logs::LogSink;
use crate::runtime;
use crate::runtime_api::{self, ApiState};
use crate::State;

/// Idle environments are stopped after this long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

pub struct Environment {
    pub id: String,
    pub function_arn: String,
    pub revision_id: String,
    pub api: Arc<ApiState>,
    pub log: Arc<LogSink>,
    pub spawned: Instant,
    pub log_stream: String,
    /// Output lines nimbus adds before the first invocation (runtime notes).
    pub preface: Mutex<Vec<String>>,
    /// Whether the runtime marks where each invocation's output ends (nimbus's own
    /// bootstraps do; a custom runtime's does not).
    pub marks_ends: bool,
    /// A second handle on the output pipe's read end: how much output is still unread.
    output_probe: std::io::PipeReader,
    /// Initialised ahead of invocations by provisioned concurrency: never reaped.
    pub provisioned: bool,
    /// Each invocation's log, in order, to the environment's CloudWatch Logs stream.
    cloudwatch: tokio::sync::mpsc::UnboundedSender<String>,
    pid: Option<u32>,
    exited: Arc<AtomicBool>,
    dir: PathBuf,
    stop_api: Mutex<Option<oneshot::Sender<()>>>,
    last_used: Mutex<Instant>,
}

impl Environment {
    /// Peak resident memory of the environment's process, in MB.
    pub fn max_memory_mb(&self) -> u64 {
        let Some(pid) = self.pid else { return 0 };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb.div_ceil(1024))
            .unwrap_or(0)
    }

    /// Resident memory of the environment's process now, in KiB.
    pub fn resident_kb(&self) -> Option<u64> {
        let pid = self.pid?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    }

    /// Bytes the environment wrote that the log reader has not read yet.
    pub fn unread_output(&self) -> usize {
        use std::os::fd::AsRawFd;
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD on a pipe we own writes one c_int.
        let rc = unsafe { libc::ioctl(self.output_probe.as_raw_fd(), libc::FIONREAD, &mut n) };
        if rc == 0 {
            usize::try_from(n).unwrap_or(0)
        } else {
            0
        }
    }

    /// Queues an invocation's log for the environment's CloudWatch Logs stream.
    pub fn publish_log(&self, log: String) {
        let _ = self.cloudwatch.send(log);
    }

    pub fn has_exited(&self) -> bool {
        self.exited.load(Ordering::Acquire)
    }

    /// Stops the process (and anything it started: it leads its own process group).
    pub fn kill(&self) {
        if let Some(pid) = self.pid {
            if !self.exited.load(Ordering::Acquire) {
                // SAFETY: kill(2) with a negative pid signals the process group.
                unsafe {
                    libc::kill(-(pid as i32), libc::SIGKILL);
                }
            }
        }
        if let Some(stop) = self.stop_api.lock().take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Why an environment could not start.
pub enum SpawnError {
    /// The function's own fault, reported as the invocation's error (AWS's
    /// Runtime.InvalidEntrypoint: no `bootstrap`, or not executable).
    Entrypoint(String),
    Failed(AwsError),
}

impl From<AwsError> for SpawnError {
    fn from(e: AwsError) -> Self {
        SpawnError::Failed(e)
    }
}

/// The program and arguments that start `f`'s runtime, and whether it marks the end
/// of each invocation's output (nimbus's own bootstraps do).
async fn runtime_command(state: &State, f: &FunctionRecord, code_dir: &std::path::Path) -> Result<(PathBuf, Vec<PathBuf>, Vec<String>, bool), SpawnError> {
    let kind = runtime::kind(&f.runtime)?;
    let interpreter = match state.interpreter(kind).await {
        Some(Ok(i)) => Some(i),
        Some(Err(e)) => {
            return Err(AwsError::new(502, "ServiceException", format!("cannot start the {} runtime: {e}", f.runtime)).into())
        }
        None => None,
    };
    let mut preface = Vec::new();
    if let Some(i) = &interpreter {
        if !i.matches(&f.runtime) {
            preface.push(format!("nimbus: runtime {} runs on this machine's {} {}", f.runtime, i.executable.display(), i.version));
        }
    }
    let version = interpreter.as_ref().map_or("provided", |i| i.version.as_str());
    preface.push(format!("INIT_START Runtime Version: {}\tRuntime Version ARN: nimbus:{version}", f.runtime));
    match (kind, interpreter) {
        (runtime::Kind::Python, Some(i)) => {
            Ok((i.executable.clone(), vec![state.runtime_dir.join("python").join("bootstrap.py")], preface, true))
        }
        (runtime::Kind::Node, Some(i)) => {
            Ok((i.executable.clone(), vec![state.runtime_dir.join("node").join("bootstrap.js")], preface, true))
        }
        _ => {
            let own = code_dir.join("bootstrap");
            let bootstrap = if own.exists() { own } else { crate::layers::bootstrap(&state.root, &f.layers).unwrap_or(own) };
            let executable = std::fs::metadata(&bootstrap).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            match executable {
                Ok(true) => {
                    let (program, args) = runtime::provided_command(&bootstrap);
                    Ok((program, args, preface, false))
                }
                Ok(false) => Err(SpawnError::Entrypoint(
                    "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap] (the bootstrap file in the package is not executable: zip it with its executable permission, e.g. chmod 755 bootstrap)".into(),
                )),
                Err(_) => Err(SpawnError::Entrypoint("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".into())),
            }
        }
    }
}

/// Starts an environment for `f` on demand (an invocation is waiting for it).
pub async fn spawn(state: &Arc<State>, f: &FunctionRecord) -> Result<Arc<Environment>, SpawnError> {
    spawn_as(state, f, false).await
}

/// Starts an environment for `f`; a `provisioned` one is initialised ahead of any
/// invocation (provisioned concurrency) and never reaped for idling.
pub async fn spawn_as(state: &Arc<State>, f: &FunctionRecord, provisioned: bool) -> Result<Arc<Environment>, SpawnError> {
    let code_dir = crate::code::code_dir(&state.root, &f.code_hex);
    let (program, args, preface, marks_ends) = runtime_command(state, f, &code_dir).await?;
    let id = nimbus_core::ids::uuid4().replace('-', "");
    let dir = state.root.join("envs").join(&id);
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| AwsError::internal(format!("cannot create environment directory: {e}")))?;
    let api = ApiState::new();
    let (port, stop_api) = runtime_api::serve(api.clone())
        .await
        .map_err(|e| AwsError::internal(format!("cannot serve the Runtime API: {e}")))?;
    let log_stream = format!("{}/[{}]{id}", crate::time::date_path(nimbus_core::now_millis()), f.version);

    let (reader, writer) = std::io::pipe().map_err(|e| AwsError::internal(format!("cannot create a pipe: {e}")))?;
    let writer2 = writer.try_clone().map_err(|e| AwsError::internal(format!("cannot create a pipe: {e}")))?;
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(&args)
        .current_dir(&code_dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer2))
        .process_group(0);
    if let Some(private_tmp) = crate::private_tmp::PrivateTmp::prepare(&tmp, &state.root) {
        // SAFETY: `enter` makes only async-signal-safe system calls (see private_tmp).
        unsafe {
            cmd.pre_exec(move || {
                private_tmp.enter();
                Ok(())
            });
        }
    }
    for (k, v) in environment_variables(state, f, port, &log_stream, &tmp, &code_dir, provisioned) {
        cmd.env(k, v);
    }
    let spawned = Instant::now();
    let child = cmd.spawn();
    drop(cmd); // closes our copies of the pipe's write end
    let mut child = child.map_err(|e| AwsError::internal(format!("cannot start {}: {e}", program.display())))?;
    let pid = child.id();

    let log = Arc::new(LogSink::new());
    let sink = log.clone();
    let output_probe = reader.try_clone().map_err(|e| AwsError::internal(format!("cannot create a pipe: {e}")))?;
    std::thread::Builder::new()
        .name(format!("lambda-log-{}", &id[..8]))
        .spawn(move || sink.read_from(reader))
        .map_err(|e| AwsError::internal(format!("cannot start log reader: {e}")))?;
    let exited = Arc::new(AtomicBool::new(false));
    let (api2, exited2) = (api.clone(), exited.clone());
    tokio::spawn(async move {
        let how = match child.wait().await {
            Ok(s) => describe_exit(s),
            Err(e) => e.to_string(),
        };
        exited2.store(true, Ordering::Release);
        api2.process_exited(how);
    });

    let cloudwatch = crate::cloudwatch::writer(state.targets.clone(), f, log_stream.clone());
    Ok(Arc::new(Environment {
        id,
        function_arn: f.qualified_arn(),
        revision_id: f.revision_id.clone(),
        api,
        log,
        spawned,
        log_stream,
        preface: Mutex::new(preface),
        marks_ends,
        output_probe,
        provisioned,
        cloudwatch,
        pid,
        exited,
        dir,
        stop_api: Mutex::new(Some(stop_api)),
        last_used: Mutex::new(Instant::now()),
    }))
}

fn describe_exit(s: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(9)) => "signal: killed".to_string(),
        (None, Some(sig)) => format!("signal: {sig}"),
        (None, None) => "exited".to_string(),
    }
}

fn environment_variables(
    state: &State,
    f: &FunctionRecord,
    port: u16,
    log_stream: &str,
    tmp: &std::path::Path,
    code_dir: &std::path::Path,
    provisioned: bool,
) -> Vec<(String, String)> {
    let task_root = code_dir.display().to_string();
    let mut vars: Vec<(String, String)> = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into())),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("TZ".into(), ":UTC".into()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
        ("TMPDIR".into(), tmp.display().to_string()),
        ("_HANDLER".into(), f.handler.clone()),
        ("LAMBDA_TASK_ROOT".into(), task_root),
        ("LAMBDA_RUNTIME_DIR".into(), state.runtime_dir.display().to_string()),
        ("AWS_LAMBDA_RUNTIME_API".into(), format!("127.0.0.1:{port}")),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), f.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), f.version.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), f.memory_size.to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME".into(), f.log_group()),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), log_stream.to_string()),
        (
            "AWS_LAMBDA_INITIALIZATION_TYPE".into(),
            if provisioned { "provisioned-concurrency" } else { "on-demand" }.into(),
        ),
        ("AWS_REGION".into(), f.region.clone()),
        ("AWS_DEFAULT_REGION".into(), f.region.clone()),
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_ENDPOINT_URL".into(), state.endpoint_url.clone()),
    ];
    if !f.runtime.starts_with("provided") {
        vars.push(("AWS_EXECUTION_ENV".into(), format!("AWS_Lambda_{}", f.runtime)));
    }
    if f.runtime.starts_with("nodejs") {
        vars.push(("NODE_PATH".into(), format!("{}/node_modules", code_dir.display())));
    }
    // Layers: where /opt's content would be found.
    let python_minor = f.runtime.strip_prefix("python");
    for (name, paths) in crate::layers::search_paths(&state.root, &f.layers, python_minor) {
        let mut joined: Vec<String> = paths.iter().filter(|p| p.is_dir()).map(|p| p.display().to_string()).collect();
        if joined.is_empty() {
            continue;
        }
        if let Some((_, existing)) = vars.iter().find(|(k, _)| k == name) {
            // /opt comes after the system's directories on PATH, as on AWS.
            joined.insert(0, existing.clone());
        }
        vars.retain(|(k, _)| k != name);
        vars.push((name.to_string(), joined.join(":")));
    }
    if let Some(env) = &f.environment {
        for (k, v) in env {
            vars.retain(|(name, _)| name != k);
            vars.push((k.clone(), v.clone()));
        }
    }
    vars
}

/// Warm environments by qualified function ARN.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<String, Vec<Arc<Environment>>>>,
}

impl Pool {
    /// A warm environment of this revision, most recently used first.
    pub fn take(&self, arn: &str, revision: &str) -> Option<Arc<Environment>> {
        let mut idle = self.idle.lock();
        let list = idle.get_mut(arn)?;
        list.retain(|e| e.revision_id == revision && !e.has_exited());
        list.pop()
    }

    pub fn put(&self, env: Arc<Environment>) {
        if env.has_exited() {
            return;
        }
        *env.last_used.lock() = Instant::now();
        self.idle.lock().entry(env.function_arn.clone()).or_default().push(env);
    }

    /// Stops the idle environments of a function version (its code or configuration
    /// changed, or it was deleted); an unqualified ARN names every version.
    pub fn drop_function(&self, arn: &str) {
        let prefix = format!("{arn}:");
        let mut gone = Vec::new();
        self.idle.lock().retain(|k, list| {
            let hit = k == arn || k.starts_with(&prefix);
            if hit {
                gone.append(list);
            }
            !hit
        });
        drop(gone);
    }

    /// Stops environments idle for longer than `max_idle`.
    pub fn reap(&self, max_idle: Duration) -> usize {
        let mut stopped = Vec::new();
        let mut idle = self.idle.lock();
        for list in idle.values_mut() {
            let (keep, old): (Vec<_>, Vec<_>) = list
                .drain(..)
                .partition(|e| (e.provisioned || e.last_used.lock().elapsed() < max_idle) && !e.has_exited());
            *list = keep;
            stopped.extend(old);
        }
        idle.retain(|_, l| !l.is_empty());
        drop(idle);
        stopped.len()
    }

    /// Provisioned environments of a qualified function ARN waiting for work.
    pub fn provisioned_idle(&self, qualified_arn: &str) -> usize {
        self.idle.lock().get(qualified_arn).map_or(0, |l| l.iter().filter(|e| e.provisioned && !e.has_exited()).count())
    }

    pub fn idle_count(&self) -> usize {
        self.idle.lock().values().map(Vec::len).sum()
    }

    pub fn clear(&self) {
        let all: Vec<_> = self.idle.lock().drain().collect();
        drop(all);
    }
}
