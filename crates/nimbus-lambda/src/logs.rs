//! An environment's output (stdout and stderr share one pipe), cut into invocations
//! by the bootstrap's end markers, and the START / END / REPORT lines AWS adds.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};

use base64::Engine;
use parking_lot::Mutex;
use tokio::sync::watch;

/// Written by the bootstrap after an invocation's (or init's) output.
pub const END_MARKER: &str = "\u{1e}NIMBUS-END:";
/// Sent on the marker channel when the environment's output closes.
pub const EOF: &str = "\u{0}eof";
/// Most output kept for one environment between invocations.
const MAX_KEPT: usize = 1024 * 1024;
/// `LogType: Tail` returns this much of the end of the log.
const TAIL_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Line(String),
    /// The end of the output of the invocation with this request id (or `init`).
    End(String),
}

pub struct LogSink {
    entries: Mutex<(VecDeque<Entry>, usize)>,
    marker: watch::Sender<String>,
}

impl LogSink {
    pub fn new() -> Self {
        Self { entries: Mutex::new((VecDeque::new(), 0)), marker: watch::Sender::new(String::new()) }
    }

    pub fn push_line(&self, line: String) {
        let mut g = self.entries.lock();
        g.1 += line.len();
        g.0.push_back(Entry::Line(line));
        while g.1 > MAX_KEPT {
            match g.0.pop_front() {
                Some(Entry::Line(l)) => g.1 -= l.len(),
                Some(_) => {}
                None => break,
            }
        }
    }

    fn push_end(&self, id: String) {
        self.entries.lock().0.push_back(Entry::End(id.clone()));
        self.marker.send_replace(id);
    }

    /// Takes everything written so far.
    pub fn take(&self) -> Vec<Entry> {
        let mut g = self.entries.lock();
        g.1 = 0;
        g.0.drain(..).collect()
    }

    /// Waits (at most `limit`) until the output of `id` is complete or the output closed.
    pub async fn wait_end(&self, id: &str, limit: std::time::Duration) {
        let mut rx = self.marker.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|m| m == id || m == EOF)).await;
    }

    /// Reads an environment's output until it closes (blocking: run on its own thread).
    pub fn read_from(&self, pipe: impl Read) {
        let mut r = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            let line = String::from_utf8_lossy(&buf).into_owned();
            match line.find(END_MARKER) {
                Some(at) => {
                    if at > 0 {
                        self.push_line(line[..at].to_string());
                    }
                    self.push_end(line[at + END_MARKER.len()..].to_string());
                }
                None => self.push_line(line),
            }
        }
        self.marker.send_replace(EOF.to_string());
    }
}

/// The figures of a REPORT line.
pub struct Report<'a> {
    pub request_id: &'a str,
    pub version: &'a str,
    pub duration_ms: f64,
    pub memory_size: u32,
    pub max_memory_used_mb: u64,
    pub init_duration_ms: Option<f64>,
    pub status: Option<&'a str>,
}

/// One invocation's log: output of the environment's init (cold start) first, then
/// START, the handler's output, END and REPORT, as CloudWatch shows them.
pub fn compose(entries: Vec<Entry>, preface: &[String], extra: &[String], r: &Report) -> String {
    let mut init = Vec::new();
    let mut body = Vec::new();
    let has_init = entries.iter().any(|e| *e == Entry::End("init".into()));
    let mut in_init = has_init;
    for e in entries {
        match e {
            Entry::Line(l) if in_init => init.push(l),
            Entry::Line(l) => body.push(l),
            Entry::End(id) if id == "init" => in_init = false,
            Entry::End(_) => {}
        }
    }
    let mut out = String::new();
    for l in preface.iter().chain(init.iter()) {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&format!("START RequestId: {} Version: {}\n", r.request_id, r.version));
    for l in body.iter().chain(extra.iter()) {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&format!("END RequestId: {}\n", r.request_id));
    out.push_str(&format!(
        "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
        r.request_id,
        r.duration_ms,
        r.duration_ms.ceil().max(1.0) as u64,
        r.memory_size,
        r.max_memory_used_mb
    ));
    if let Some(init) = r.init_duration_ms {
        out.push_str(&format!("Init Duration: {init:.2} ms\t"));
    }
    if let Some(s) = r.status {
        out.push_str(&format!("Status: {s}\t"));
    }
    out.push('\n');
    out
}

/// The last 4 KB of a log, base64, as `X-Amz-Log-Result`.
pub fn tail(log: &str) -> String {
    let bytes = log.as_bytes();
    let start = bytes.len().saturating_sub(TAIL_BYTES);
    base64::engine::general_purpose::STANDARD.encode(&bytes[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_init_and_invocation_output() {
        let sink = LogSink::new();
        let out = format!("loading\n{END_MARKER}init\nhello\npartial{END_MARKER}r1\n");
        sink.read_from(out.as_bytes());
        let entries = sink.take();
        let r = Report {
            request_id: "r1",
            version: "$LATEST",
            duration_ms: 1.234,
            memory_size: 128,
            max_memory_used_mb: 20,
            init_duration_ms: Some(50.0),
            status: None,
        };
        let log = compose(entries, &[], &[], &r);
        assert!(log.starts_with("loading\nSTART RequestId: r1 Version: $LATEST\nhello\npartial\nEND RequestId: r1\n"));
        assert!(log.contains("Duration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 50.00 ms"));
        let t = base64::engine::general_purpose::STANDARD.decode(tail(&"x".repeat(5000))).unwrap();
        assert_eq!(t.len(), 4096);
    }
}
