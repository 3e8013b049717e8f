//! MD5 of many large uploads at once, in SIMD lanes.
//!
//! Every upload's ETag is the MD5 of its body, and MD5 is serial within one
//! body: about 0.5–0.6 GB/s a core here, which capped 8 MiB PUTs near 0.8 GB/s.
//! Independent bodies can share SIMD lanes (md5-many: 16 with AVX-512, 8 with
//! AVX2), so concurrent uploads hand their bytes to one combiner in runs of
//! [`RUN`] bytes, and whichever thread finds it idle hashes every queued run in
//! one call. Under load, runs queue while a batch is being hashed, so batches
//! fill by themselves; a lone upload is hashed alone at single-stream speed.
//!
//! md5-many is only fast for whole groups of lanes advancing in lockstep (equal,
//! block-aligned inputs on block-aligned states); anything else takes a generic
//! path slower than hashing one by one. So every run is exactly [`RUN`] bytes on a
//! block-aligned state, a batch is padded to whole groups with copies of its
//! first run (a pass costs the same however many lanes are real), and the last,
//! shorter run of each body is hashed on its own.
//!
//! A run that lies whole in one received chunk is hashed where it lies; only runs
//! that straddle chunks are gathered into a buffer (hyper reads ~400 KiB at a time,
//! so about half the bytes of a large upload need no copy).
//!
//! Callers block while their run is hashed: use it from blocking threads only.

use bytes::Bytes;
use md5_many::{Md5Many, Md5State};
use parking_lot::{Condvar, Mutex};
use std::sync::OnceLock;

/// Bytes an upload accumulates before handing them over: long enough that the
/// hand-over (a lock and a wake-up) is noise, short enough to bound memory.
pub const RUN: usize = 256 * 1024;
/// At most this many runs go into one call (md5-many's widest schedule is
/// three 16-lane groups).
const MAX_BATCH: usize = 48;

/// The MD5 of one body, fed from a blocking thread.
pub struct LaneMd5 {
    state: Md5State,
    /// Bytes hashed into `state` so far, mod 64: runs start only on a block boundary.
    unaligned: usize,
    buf: Vec<u8>,
}

impl LaneMd5 {
    /// Continues `state`, into which the caller already hashed `hashed` bytes.
    pub fn from_state(state: Md5State, hashed: u64) -> Self {
        LaneMd5 { state, unaligned: (hashed % 64) as usize, buf: Vec::new() }
    }

    /// Appends `data`. Every [`RUN`] bytes are hashed (with other uploads' runs if
    /// any are waiting) and passed to `sink`, in order, so the caller can write them
    /// out without keeping a copy of its own.
    pub fn update<E>(&mut self, mut data: Bytes, sink: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        if self.unaligned != 0 {
            // Up to 63 bytes, hashed here, bring the state to a block boundary.
            let take = (64 - self.unaligned).min(data.len());
            let head = data.split_to(take);
            self.state.update(&head);
            sink(&head)?;
            self.unaligned = (self.unaligned + take) % 64;
        }
        while !data.is_empty() {
            if self.buf.is_empty() && data.len() >= RUN {
                // A whole run in this chunk: hashed in place.
                let run = Run::Shared(data.split_to(RUN));
                let (state, run) = combiner().hash(self.state, run);
                self.state = state;
                sink(run.as_slice())?;
                continue;
            }
            if self.buf.capacity() == 0 {
                self.buf.reserve_exact(RUN);
            }
            let take = (RUN - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data.split_to(take));
            if self.buf.len() == RUN {
                self.flush(sink)?;
            }
        }
        Ok(())
    }

    /// Hashes and passes on what is buffered, then gives the digest.
    pub fn finish<E>(mut self, sink: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<[u8; 16], E> {
        self.flush(sink)?;
        Ok(self.state.finalize())
    }

    fn flush<E>(&mut self, sink: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let run = Run::Owned(std::mem::take(&mut self.buf));
        let (state, run) = combiner().hash(self.state, run);
        self.state = state;
        let written = sink(run.as_slice());
        if let Run::Owned(mut buf) = run {
            buf.clear();
            self.buf = buf;
        }
        written
    }
}

/// A run to hash: gathered into the upload's buffer (given back for reuse), or a
/// slice of one received chunk.
enum Run {
    Owned(Vec<u8>),
    Shared(Bytes),
}

impl Run {
    fn as_slice(&self) -> &[u8] {
        match self {
            Run::Owned(v) => v,
            Run::Shared(b) => b,
        }
    }
}

struct Job {
    ticket: u64,
    state: Md5State,
    run: Run,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Job>,
    finished: Vec<Job>,
    hashing: bool,
    next_ticket: u64,
}

struct Combiner {
    engine: Md5Many,
    queue: Mutex<Queue>,
    done: Condvar,
}

fn combiner() -> &'static Combiner {
    static COMBINER: OnceLock<Combiner> = OnceLock::new();
    COMBINER.get_or_init(|| Combiner { engine: Md5Many::new(), queue: Mutex::new(Queue::default()), done: Condvar::new() })
}

/// Clears the `hashing` flag even if hashing unwinds, so waiters never hang.
struct Hashing<'a>(&'a Combiner);

impl Drop for Hashing<'_> {
    fn drop(&mut self) {
        self.0.queue.lock().hashing = false;
        self.0.done.notify_all();
    }
}

impl Combiner {
    /// `run` appended to `state`; gives both back (the buffer for reuse).
    fn hash(&self, state: Md5State, run: Run) -> (Md5State, Run) {
        let mut queue = self.queue.lock();
        let ticket = queue.next_ticket;
        queue.next_ticket = queue.next_ticket.wrapping_add(1);
        queue.waiting.push(Job { ticket, state, run });
        loop {
            if let Some(at) = queue.finished.iter().position(|j| j.ticket == ticket) {
                let job = queue.finished.swap_remove(at);
                return (job.state, job.run);
            }
            if queue.hashing {
                self.done.wait(&mut queue);
                continue;
            }
            queue.hashing = true;
            let take = queue.waiting.len().min(MAX_BATCH);
            let mut batch: Vec<Job> = queue.waiting.drain(..take).collect();
            drop(queue);
            let guard = Hashing(self);
            // Every waiter's run is in this batch: should the SIMD path ever fail,
            // hash them one by one rather than leave those threads waiting forever.
            let before: Vec<Md5State> = batch.iter().map(|j| j.state).collect();
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.hash_batch(&mut batch))).is_err() {
                tracing::error!("batched MD5 failed; hashing the batch's runs one at a time");
                for (job, state) in batch.iter_mut().zip(before) {
                    job.state = state;
                    job.state.update(job.run.as_slice());
                }
            }
            self.queue.lock().finished.append(&mut batch);
            drop(guard);
            queue = self.queue.lock();
        }
    }

    fn hash_batch(&self, batch: &mut [Job]) {
        // Whole runs share lanes; a body's last, shorter run goes alone.
        let (mut full, short): (Vec<&mut Job>, Vec<&mut Job>) = batch.iter_mut().partition(|j| j.run.as_slice().len() == RUN);
        for job in short {
            job.state.update(job.run.as_slice());
        }
        if let [job] = full.as_mut_slice() {
            job.state.update(job.run.as_slice());
            return;
        }
        let Some(first) = full.first() else { return };
        let group = self.engine.lanes().max(1);
        let lanes = full.len().div_ceil(group) * group;
        let mut states: Vec<Md5State> = full.iter().map(|j| j.state).collect();
        states.resize(lanes, first.state);
        let mut inputs: Vec<&[u8]> = full.iter().map(|j| j.run.as_slice()).collect();
        inputs.resize(lanes, first.run.as_slice());
        self.engine.update_many(&mut states, &inputs);
        for (job, state) in full.iter_mut().zip(states) {
            job.state = state;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    fn body(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 33) as u8
            })
            .collect()
    }

    fn lane_md5(data: &[u8], chunk: usize, head: usize) -> ([u8; 16], Vec<u8>) {
        let mut state = Md5State::new();
        state.update(&data[..head]);
        let mut md5 = LaneMd5::from_state(state, head as u64);
        let mut out = data[..head].to_vec();
        let mut sink = |run: &[u8]| -> Result<(), ()> {
            out.extend_from_slice(run);
            Ok(())
        };
        for piece in data[head..].chunks(chunk) {
            md5.update(Bytes::copy_from_slice(piece), &mut sink).unwrap();
        }
        let digest = md5.finish(&mut sink).unwrap();
        (digest, out)
    }

    #[test]
    fn one_stream_matches_md5_for_awkward_sizes() {
        // Chunk sizes below, at and above RUN (whole runs hashed in place, runs gathered
        // across chunks, and both in one upload).
        for (len, chunk, head) in [(0, 1, 0), (1, 1, 1), (63, 7, 0), (64, 64, 13), (RUN - 1, 65_537, 0), (RUN, 4096, 100), (RUN + 1, 1 << 20, 0), (3 * RUN + 77, 300_001, 65_537), (5 * RUN + 5, RUN, 0), (9 * RUN, 417_792, 64), (4 * RUN + 3, 417_792, 7)] {
            let data = body(len, len as u64);
            let (digest, out) = lane_md5(&data, chunk, head);
            assert_eq!(digest.as_slice(), Md5::digest(&data).as_slice(), "len {len} chunk {chunk} head {head}");
            assert_eq!(out, data, "bytes passed on in order, len {len}");
        }
    }

    #[test]
    fn concurrent_streams_share_batches_and_stay_right() {
        let threads: Vec<_> = (0..24)
            .map(|i| {
                std::thread::spawn(move || {
                    let data = body(2 * RUN + i * 4099, i as u64);
                    let (digest, out) = lane_md5(&data, 16_384 + i * 13, i * 7);
                    assert_eq!(digest.as_slice(), Md5::digest(&data).as_slice(), "stream {i}");
                    assert_eq!(out.len(), data.len());
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn a_batch_pads_whole_runs_into_lanes_and_hashes_short_ones_alone() {
        for full_runs in [2, 5, 16, 17, 40] {
            let bodies: Vec<Vec<u8>> = (0..full_runs + 3).map(|i| body(if i < full_runs { RUN } else { 1000 + i }, 99 + i as u64)).collect();
            let mut batch: Vec<Job> = bodies.iter().enumerate().map(|(i, b)| Job { ticket: i as u64, state: Md5State::new(), run: if i % 2 == 0 { Run::Owned(b.clone()) } else { Run::Shared(Bytes::from(b.clone())) } }).collect();
            combiner().hash_batch(&mut batch);
            for (job, b) in batch.iter().zip(&bodies) {
                assert_eq!(job.state.finalize().as_slice(), Md5::digest(b).as_slice(), "{full_runs} full runs, job {}", job.ticket);
            }
        }
    }

    #[test]
    fn a_failing_sink_stops_the_stream() {
        let mut md5 = LaneMd5::from_state(Md5State::new(), 0);
        let mut sink = |_: &[u8]| -> Result<(), &str> { Err("disk full") };
        assert_eq!(md5.update(Bytes::from(vec![1u8; RUN]), &mut sink), Err("disk full"));
        let mut md5 = LaneMd5::from_state(Md5State::new(), 0);
        assert_eq!(md5.update(Bytes::from(vec![1u8; RUN - 1]), &mut sink), Ok(()), "nothing passed on yet");
    }
}
