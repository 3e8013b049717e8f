//! The `startup` scenario: spawn a server command, time spawn → ready, read its
//! resident memory after an idle second, stop it; repeat.
//!
//! The command runs under `sh -c` in its own process group, so a shell wrapper and
//! anything it starts are measured (RSS is summed over the group) and stopped together.
//! `{tmpdir}` in the command becomes a fresh empty directory for each run.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::stats::{median, round2, round3};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Ready {
    /// A line containing --ready-match on the server's stdout or stderr.
    Line,
    /// The endpoint's TCP port accepting connections.
    Tcp,
}

pub struct StartupConfig {
    pub command: String,
    pub ready: Ready,
    pub ready_match: String,
    pub addrs: Vec<SocketAddr>,
    pub repeat: usize,
    pub idle: Duration,
    pub ready_timeout: Duration,
    pub verbose: bool,
}

pub struct Run {
    pub ready_ms: f64,
    pub rss_kib: u64,
    pub processes: usize,
    pub ready_line: Option<String>,
}

pub fn run(cfg: &StartupConfig) -> Result<Vec<Run>, String> {
    let mut runs = Vec::with_capacity(cfg.repeat);
    for i in 0..cfg.repeat {
        let run = once(cfg, i)?;
        if cfg.verbose {
            eprintln!(
                "startup run {}: ready in {:.1} ms, idle RSS {:.1} MiB ({} process(es))",
                i + 1,
                run.ready_ms,
                run.rss_kib as f64 / 1024.0,
                run.processes
            );
        }
        runs.push(run);
    }
    Ok(runs)
}

fn port_in_use(addrs: &[SocketAddr]) -> bool {
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, Duration::from_millis(100)).is_ok())
}

fn once(cfg: &StartupConfig, index: usize) -> Result<Run, String> {
    if cfg.ready == Ready::Tcp && port_in_use(&cfg.addrs) {
        return Err(format!(
            "{:?} already accepts connections before the server starts: stop what is listening there",
            cfg.addrs
        ));
    }
    let tmpdir = if cfg.command.contains("{tmpdir}") {
        let dir = std::env::temp_dir().join(format!(
            "nimbus-bench-startup-{}-{index}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Some(dir)
    } else {
        None
    };
    let command = match &tmpdir {
        Some(dir) => cfg.command.replace("{tmpdir}", &dir.to_string_lossy()),
        None => cfg.command.clone(),
    };

    let started = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("spawning `{command}`: {e}"))?;
    let pid = child.id();

    let (tx, rx) = mpsc::channel::<(Instant, String)>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        let tx = tx.clone();
        // Keep draining after readiness so the server never blocks on a full pipe.
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send((Instant::now(), line));
            }
        })
    })
    .collect();
    drop(tx);

    let outcome = wait_ready(cfg, &mut child, started, &rx);
    let result = outcome.and_then(|(ready_at, ready_line)| {
        thread::sleep(cfg.idle);
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("server exited during the idle second: {status}"));
        }
        let (rss_kib, processes) = group_rss_kib(pid, cfg.verbose);
        Ok(Run {
            ready_ms: ready_at.duration_since(started).as_secs_f64() * 1000.0,
            rss_kib,
            processes,
            ready_line,
        })
    });

    stop(&mut child, pid);
    for r in readers {
        let _ = r.join();
    }
    if let Some(dir) = tmpdir {
        let _ = std::fs::remove_dir_all::<PathBuf>(dir);
    }
    result.map_err(|e| {
        let tail: Vec<String> = rx.try_iter().map(|(_, l)| l).collect();
        if tail.is_empty() {
            e
        } else {
            format!("{e}\nserver output:\n{}", tail.join("\n"))
        }
    })
}

/// Waits for readiness; returns when it happened (and the ready line, if any).
fn wait_ready(
    cfg: &StartupConfig,
    child: &mut Child,
    started: Instant,
    rx: &mpsc::Receiver<(Instant, String)>,
) -> Result<(Instant, Option<String>), String> {
    let deadline = started + cfg.ready_timeout;
    let mut seen = Vec::new();
    loop {
        if Instant::now() >= deadline {
            return Err(format!(
                "not ready after {:?}; output so far:\n{}",
                cfg.ready_timeout,
                seen.join("\n")
            ));
        }
        match cfg.ready {
            Ready::Line => match rx.recv_timeout(Duration::from_millis(50)) {
                Ok((at, line)) => {
                    if line.contains(&cfg.ready_match) {
                        return Ok((at, Some(line)));
                    }
                    seen.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(format!(
                        "server closed its output without a line containing {:?} ({status}); output:\n{}",
                        cfg.ready_match,
                        seen.join("\n")
                    ));
                }
            },
            Ready::Tcp => {
                for addr in &cfg.addrs {
                    if TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_ok() {
                        return Ok((Instant::now(), None));
                    }
                }
                seen.extend(rx.try_iter().map(|(_, l)| l));
                thread::sleep(Duration::from_millis(1));
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            seen.extend(rx.try_iter().map(|(_, l)| l));
            return Err(format!(
                "server exited before ready: {status}; output:\n{}",
                seen.join("\n")
            ));
        }
    }
}

/// SIGTERM to the whole process group, SIGKILL after 3 s.
fn stop(child: &mut Child, pid: u32) {
    let pgid = -(pid as i32);
    // SAFETY: kill(2) with a negative pid signals our child's process group only.
    unsafe {
        libc::kill(pgid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            if group_members(pid).is_empty() {
                return;
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: as above.
    unsafe {
        libc::kill(pgid, libc::SIGKILL);
    }
    let _ = child.wait();
}

/// Pids of live processes whose process group is `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|&pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // Fields after the parenthesised command name: state ppid pgrp ...
                    let rest = &stat[stat.rfind(')')? + 1..];
                    let mut fields = rest.split_whitespace();
                    let state = fields.next()?;
                    let pgrp: u32 = fields.nth(1)?.parse().ok()?;
                    Some(pgrp == pgid && state != "Z")
                })
                .unwrap_or(false)
        })
        .collect()
}

/// VmRSS of one process in KiB (0 if it is gone or a kernel thread).
pub fn vm_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Summed VmRSS of the process group led by `pid` and how many processes count.
/// The `sh -c` wrapper itself is left out when it is still a shell (it did not
/// `exec` the server), so the number is the server's own memory.
fn group_rss_kib(pid: u32, verbose: bool) -> (u64, usize) {
    let shell = std::fs::canonicalize("/bin/sh").ok();
    let mut total = 0;
    let mut counted = 0;
    for member in group_members(pid) {
        let exe = std::fs::read_link(format!("/proc/{member}/exe")).ok();
        let rss = vm_rss_kib(member);
        let wrapper = member == pid && exe.is_some() && exe == shell;
        if verbose {
            eprintln!(
                "  pid {member} {} VmRSS {rss} kB{}",
                exe.as_deref()
                    .map_or("?".into(), |p| p.display().to_string()),
                if wrapper {
                    " (sh wrapper, not counted)"
                } else {
                    ""
                }
            );
        }
        if !wrapper {
            total += rss;
            counted += 1;
        }
    }
    (total, counted)
}

pub fn report(cfg: &StartupConfig, runs: &[Run], label: &str) -> (String, Value) {
    let ready: Vec<f64> = runs.iter().map(|r| r.ready_ms).collect();
    let rss: Vec<f64> = runs.iter().map(|r| r.rss_kib as f64 / 1024.0).collect();
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let how = match cfg.ready {
        Ready::Line => format!("line containing {:?}", cfg.ready_match),
        Ready::Tcp => "TCP port accepting".to_owned(),
    };
    let human = format!(
        "nimbus-bench startup [{label}]: {} runs; ready ({how}) min {:.1} ms / median {:.1} ms / max {:.1} ms; \
         idle RSS after {} ms min {:.1} MiB / median {:.1} MiB",
        runs.len(),
        min(&ready),
        median(&ready),
        max(&ready),
        cfg.idle.as_millis(),
        min(&rss),
        median(&rss),
    );
    let json = json!({
        "scenario": "startup",
        "label": label,
        "command": cfg.command,
        "ready": how,
        "repeat": runs.len(),
        "ready_ms": {
            "min": round3(min(&ready)),
            "median": round3(median(&ready)),
            "max": round3(max(&ready)),
            "runs": ready.iter().map(|&x| round3(x)).collect::<Vec<_>>(),
        },
        "idle_ms": cfg.idle.as_millis() as u64,
        "idle_rss_mib": {
            "min": round2(min(&rss)),
            "median": round2(median(&rss)),
            "max": round2(max(&rss)),
            "runs": rss.iter().map(|&x| round2(x)).collect::<Vec<_>>(),
        },
        "processes": runs.last().map_or(0, |r| r.processes),
        "ready_line": runs.last().and_then(|r| r.ready_line.clone()),
    });
    (human, json)
}
