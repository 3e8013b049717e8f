//! Per-connection recording and the merged report.
//!
//! Each connection task owns a `Recorder` (no locks on the hot path); the
//! recorders are merged once the run ends. Only operations that *complete*
//! inside the measurement window (after warm-up, before the end) are counted.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The operations a scenario times. `Cycle` is a whole send → receive → delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    SendMessage,
    SendMessageBatch,
    ReceiveMessage,
    DeleteMessage,
    DeleteMessageBatch,
    Cycle,
    PutObject,
    GetObject,
    CreateFunction,
    Invoke,
    /// The first invoke of a freshly created function.
    ColdInvoke,
}

impl Op {
    pub const ALL: [Op; 11] = [
        Op::SendMessage,
        Op::SendMessageBatch,
        Op::ReceiveMessage,
        Op::DeleteMessage,
        Op::DeleteMessageBatch,
        Op::Cycle,
        Op::PutObject,
        Op::GetObject,
        Op::CreateFunction,
        Op::Invoke,
        Op::ColdInvoke,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::SendMessage => "SendMessage",
            Op::ReceiveMessage => "ReceiveMessage",
            Op::DeleteMessage => "DeleteMessage",
            Op::SendMessageBatch => "SendMessageBatch",
            Op::DeleteMessageBatch => "DeleteMessageBatch",
            Op::Cycle => "cycle",
            Op::PutObject => "PutObject",
            Op::GetObject => "GetObject",
            Op::CreateFunction => "CreateFunction",
            Op::Invoke => "Invoke",
            Op::ColdInvoke => "Invoke (cold)",
        }
    }

    /// Whether this is one HTTP request (the cycle is several).
    pub fn is_request(self) -> bool {
        self != Op::Cycle
    }
}

/// The measurement window shared by all connections.
#[derive(Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    pub fn new(warmup: Duration, duration: Duration) -> Self {
        let start = Instant::now() + warmup;
        Window {
            start,
            end: start + duration,
        }
    }

    pub fn contains(&self, t: Instant) -> bool {
        t >= self.start && t <= self.end
    }

    pub fn over(&self) -> bool {
        Instant::now() >= self.end
    }
}

#[derive(Default, Clone)]
struct OpData {
    latencies_us: Vec<u32>,
    errors: u64,
}

const MAX_ERROR_SAMPLES: usize = 5;

/// What one connection saw.
pub struct Recorder {
    window: Window,
    ops: [OpData; Op::ALL.len()],
    /// Messages that completed the scenario's unit of work (sent, or sent+received+deleted).
    pub messages: u64,
    /// Receives that returned no message (retried).
    pub empty_receives: u64,
    /// New TCP connections opened after the first one (e.g. the server sent `Connection: close`).
    pub reconnects: u64,
    /// Payload bytes moved by operations that completed in the window (object bodies).
    pub bytes: u64,
    error_samples: Vec<String>,
}

impl Recorder {
    pub fn new(window: Window) -> Self {
        Recorder {
            window,
            ops: Default::default(),
            messages: 0,
            empty_receives: 0,
            reconnects: 0,
            bytes: 0,
            error_samples: Vec::new(),
        }
    }

    /// Records a successful operation that ran from `t0` to `t1`.
    pub fn ok(&mut self, op: Op, t0: Instant, t1: Instant) {
        if self.window.contains(t1) {
            let us = t1.duration_since(t0).as_micros().min(u32::MAX as u128) as u32;
            self.ops[op as usize].latencies_us.push(us);
        }
    }

    /// Records a failed operation (counted whenever it ends inside the window).
    pub fn error(&mut self, op: Op, t1: Instant, what: &str) {
        if self.window.contains(t1) {
            self.ops[op as usize].errors += 1;
        }
        self.sample(op, what);
    }

    /// Counts messages whose unit of work finished at `t1`.
    pub fn add_messages(&mut self, n: u64, t1: Instant) {
        if self.window.contains(t1) {
            self.messages += n;
        }
    }

    /// Counts payload bytes of an operation that finished at `t1`.
    pub fn add_bytes(&mut self, n: u64, t1: Instant) {
        if self.window.contains(t1) {
            self.bytes += n;
        }
    }

    pub fn empty_receive(&mut self, t1: Instant) {
        if self.window.contains(t1) {
            self.empty_receives += 1;
        }
    }

    fn sample(&mut self, op: Op, what: &str) {
        if self.error_samples.len() < MAX_ERROR_SAMPLES {
            let s = format!("{}: {what}", op.name());
            if !self.error_samples.contains(&s) {
                self.error_samples.push(s);
            }
        }
    }

    /// Folds another connection's recorder into this one.
    pub fn merge(&mut self, other: Recorder) {
        for (mine, theirs) in self.ops.iter_mut().zip(other.ops) {
            mine.latencies_us.extend(theirs.latencies_us);
            mine.errors += theirs.errors;
        }
        self.messages += other.messages;
        self.empty_receives += other.empty_receives;
        self.reconnects += other.reconnects;
        self.bytes += other.bytes;
        for s in other.error_samples {
            if self.error_samples.len() < MAX_ERROR_SAMPLES && !self.error_samples.contains(&s) {
                self.error_samples.push(s);
            }
        }
    }

    /// Summaries of the operations that happened, in `Op::ALL` order.
    pub fn summaries(&mut self, secs: f64) -> Vec<OpSummary> {
        let mut out = Vec::new();
        for op in Op::ALL {
            let data = &mut self.ops[op as usize];
            if data.latencies_us.is_empty() && data.errors == 0 {
                continue;
            }
            data.latencies_us.sort_unstable();
            out.push(OpSummary::new(op, &data.latencies_us, data.errors, secs));
        }
        out
    }

    /// Fastest recorded latency of `op` in ms (0 if none).
    pub fn min_ms(&self, op: Op) -> f64 {
        self.ops[op as usize]
            .latencies_us
            .iter()
            .min()
            .map_or(0.0, |&us| f64::from(us) / 1000.0)
    }

    pub fn total_errors(&self) -> u64 {
        self.ops.iter().map(|o| o.errors).sum()
    }

    pub fn error_samples(&self) -> &[String] {
        &self.error_samples
    }
}

/// Latency distribution of one operation over the window.
pub struct OpSummary {
    pub op: Op,
    pub count: u64,
    pub errors: u64,
    pub per_sec: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl OpSummary {
    fn new(op: Op, sorted_us: &[u32], errors: u64, secs: f64) -> Self {
        let ms = |us: u32| f64::from(us) / 1000.0;
        let pct = |p: f64| {
            if sorted_us.is_empty() {
                return 0.0;
            }
            // Nearest-rank percentile.
            let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
            ms(sorted_us[rank.clamp(1, sorted_us.len()) - 1])
        };
        let count = sorted_us.len() as u64;
        let mean_ms = if count == 0 {
            0.0
        } else {
            sorted_us.iter().map(|&u| u64::from(u)).sum::<u64>() as f64 / count as f64 / 1000.0
        };
        OpSummary {
            op,
            count,
            errors,
            per_sec: count as f64 / secs,
            mean_ms,
            p50_ms: pct(50.0),
            p90_ms: pct(90.0),
            p99_ms: pct(99.0),
            max_ms: sorted_us.last().copied().map(ms).unwrap_or(0.0),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "count": self.count,
            "errors": self.errors,
            "per_s": round2(self.per_sec),
            "mean_ms": round3(self.mean_ms),
            "p50_ms": round3(self.p50_ms),
            "p90_ms": round3(self.p90_ms),
            "p99_ms": round3(self.p99_ms),
            "max_ms": round3(self.max_ms),
        })
    }

    pub fn line(&self) -> String {
        format!(
            "  {:<18} {:>9} ok {:>6} err {:>10.1}/s   p50 {:>8.3} ms  p90 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
            self.op.name(),
            self.count,
            self.errors,
            self.per_sec,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.max_ms
        )
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Median of a list of numbers (mean of the middle two for even lengths).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let us: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        let s = OpSummary::new(Op::SendMessage, &us, 0, 1.0);
        assert_eq!(s.p50_ms, 50.0);
        assert_eq!(s.p99_ms, 99.0);
        assert_eq!(s.max_ms, 100.0);
        assert_eq!(s.count, 100);
    }

    #[test]
    fn only_window_completions_count() {
        let w = Window::new(Duration::from_millis(50), Duration::from_secs(5));
        let mut r = Recorder::new(w);
        let before = Instant::now();
        r.ok(Op::SendMessage, before, before);
        r.ok(Op::SendMessage, before, w.start + Duration::from_millis(1));
        let mut s = r.summaries(1.0);
        assert_eq!(s.len(), 1);
        assert_eq!(s.remove(0).count, 1);
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
