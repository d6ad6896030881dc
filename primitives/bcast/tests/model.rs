//! proptest: random single-threaded operation sequences against a sequential model, in both
//! policies, capacities 1 to 16. The model is the specification in miniature: a log of every
//! message, a cursor per reader, and (Backpressure) the same lazily published cursors
//! (every `capacity / 4` messages, or when the reader runs out) and cached gate as the
//! implementation.
// std-only: under the model-checker cfgs the facade types need a model to run in.
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use gearset_bcast::{Policy, SendError, StartAt, Subscriber, TryRecvError, channel};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Send,
    SendBatch(usize),
    Recv(usize),
    RecvBatch(usize, usize),
    Subscribe(usize, bool),
    Clone(usize),
    Drop(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Send),
        1 => (1usize..6).prop_map(Op::SendBatch),
        4 => (0usize..4).prop_map(Op::Recv),
        1 => (0usize..4, 0usize..5).prop_map(|(r, n)| Op::RecvBatch(r, n)),
        1 => (0usize..4, any::<bool>()).prop_map(|(r, o)| Op::Subscribe(r, o)),
        1 => (0usize..4).prop_map(Op::Clone),
        1 => (0usize..4).prop_map(Op::Drop),
    ]
}

/// The sequential model of one channel.
struct Model {
    policy: Policy,
    capacity: u64,
    /// Every message ever claimed; message `seq` is `seq` itself.
    tail: u64,
    /// Backpressure: the implementation's cached gate, updated at the same points.
    gate: u64,
    /// Each live reader's cursor, index-aligned with the real subscribers.
    cursors: Vec<u64>,
    /// Each live reader's published cursor (Backpressure: what the gate sees).
    published: Vec<u64>,
}

impl Model {
    fn min_or_tail(&self) -> u64 {
        self.published.iter().copied().min().unwrap_or(self.tail)
    }

    /// The implementation's lazy publication: every `max(1, capacity / 4)` messages, or when
    /// the reader ran out of messages.
    fn publish(&mut self, r: usize, ran_out: bool) {
        let moved = self.cursors[r] - self.published[r];
        if moved > 0 && (ran_out || moved >= (self.capacity / 4).max(1)) {
            self.published[r] = self.cursors[r];
        }
    }

    /// Whether sending `count` more messages would block (Backpressure); updates the gate as
    /// the implementation's rescan does when it is consulted.
    fn would_block(&mut self, count: u64) -> bool {
        if self.policy == Policy::Overwrite {
            return false;
        }
        let last = self.tail + count - 1;
        if last < self.gate + self.capacity {
            return false;
        }
        last >= self.gate.max(self.min_or_tail()) + self.capacity
    }

    /// Claims `count` messages (after `would_block` said no).
    fn send(&mut self, count: u64) {
        for seq in self.tail..self.tail + count {
            if self.policy == Policy::Backpressure && seq >= self.gate + self.capacity {
                self.gate = self.gate.max(self.min_or_tail());
            }
        }
        self.tail += count;
    }

    fn recv(&mut self, r: usize) -> Result<u64, TryRecvError> {
        let c = self.cursors[r];
        if c >= self.tail {
            return Err(TryRecvError::Empty);
        }
        if c + self.capacity < self.tail {
            assert_eq!(
                self.policy,
                Policy::Overwrite,
                "the model never laps in Backpressure"
            );
            let resume = self.tail - self.capacity;
            self.cursors[r] = resume;
            return Err(TryRecvError::Lagged(resume - c));
        }
        self.cursors[r] += 1;
        Ok(c)
    }

    fn subscribe(&mut self, oldest: bool) -> u64 {
        let start = match (oldest, self.policy) {
            (false, _) => self.tail,
            (true, Policy::Backpressure) => self.gate,
            (true, Policy::Overwrite) => self.tail.saturating_sub(self.capacity),
        };
        let start = if self.policy == Policy::Backpressure {
            start.max(self.gate)
        } else {
            start
        };
        self.cursors.push(start);
        self.published.push(start);
        start
    }

    fn drop_reader(&mut self, r: usize) {
        self.cursors.remove(r);
        self.published.remove(r);
        if self.policy == Policy::Backpressure {
            self.gate = self.gate.max(self.min_or_tail());
        }
    }
}

fn check(policy: Policy, capacity: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (publisher, first) = channel::<u64>(capacity, policy);
    let mut subs: Vec<Subscriber<u64>> = vec![first];
    let mut model = Model {
        policy,
        capacity: capacity as u64,
        tail: 0,
        gate: 0,
        cursors: vec![0],
        published: vec![0],
    };
    let pick = |r: usize, n: usize| if n == 0 { None } else { Some(r % n) };
    for op in ops {
        match op {
            Op::Send | Op::SendBatch(_) => {
                let count = if let Op::SendBatch(n) = op {
                    n as u64
                } else {
                    1
                };
                if subs.is_empty() {
                    let first = model.tail;
                    prop_assert_eq!(publisher.send(first), Err(SendError(first)));
                    continue;
                }
                if model.would_block(count) {
                    continue;
                }
                let first = model.tail;
                model.send(count);
                if count == 1 {
                    publisher.send(first).unwrap();
                } else {
                    publisher
                        .send_batch((first..first + count).collect())
                        .unwrap();
                }
            }
            Op::Recv(r) => {
                let Some(r) = pick(r, subs.len()) else {
                    continue;
                };
                let expected = model.recv(r);
                model.publish(r, expected.is_err());
                prop_assert_eq!(subs[r].try_recv(), expected);
            }
            Op::RecvBatch(r, max) => {
                let Some(r) = pick(r, subs.len()) else {
                    continue;
                };
                let mut out = Vec::new();
                let real = subs[r].try_recv_batch(&mut out, max);
                let mut expected = Vec::new();
                let mut result = Ok(0);
                let mut pending = None;
                while expected.len() < max {
                    match model.recv(r) {
                        Ok(v) => expected.push(v),
                        Err(TryRecvError::Empty) => break,
                        Err(e) if expected.is_empty() => {
                            result = Err(e);
                            break;
                        }
                        Err(e) => {
                            pending = Some(e);
                            break;
                        }
                    }
                }
                if result.is_ok() {
                    result = Ok(expected.len());
                }
                model.publish(r, result != Ok(max));
                prop_assert_eq!(real, result);
                prop_assert_eq!(&out, &expected);
                if let Some(e) = pending {
                    prop_assert_eq!(subs[r].try_recv(), Err(e));
                    model.publish(r, true);
                }
            }
            Op::Subscribe(r, oldest) => {
                let start = if oldest {
                    StartAt::Oldest
                } else {
                    StartAt::Next
                };
                let s = match pick(r, subs.len()) {
                    Some(r) => subs[r].subscribe(start),
                    None => publisher.subscribe(start),
                };
                model.subscribe(oldest);
                subs.push(s);
            }
            Op::Clone(r) => {
                let Some(r) = pick(r, subs.len()) else {
                    continue;
                };
                subs.push(subs[r].clone());
                let c = model.cursors[r];
                model.cursors.push(c);
                model.published.push(c);
            }
            Op::Drop(r) => {
                let Some(r) = pick(r, subs.len()) else {
                    continue;
                };
                drop(subs.remove(r));
                model.drop_reader(r);
            }
        }
        prop_assert_eq!(publisher.reader_count(), subs.len());
    }
    // Drain: after the last writer leaves, every reader gets the model's rest, then Closed.
    drop(publisher);
    for (r, s) in subs.iter_mut().enumerate() {
        loop {
            let expected = match model.recv(r) {
                Err(TryRecvError::Empty) => Err(TryRecvError::Closed),
                other => other,
            };
            prop_assert_eq!(s.try_recv(), expected);
            if expected.is_err() && expected != Err(TryRecvError::Closed) {
                continue;
            }
            if expected == Err(TryRecvError::Closed) {
                break;
            }
        }
    }
    Ok(())
}

/// Longest operation sequence: short under Miri, where each case costs seconds.
const MAX_OPS: usize = if cfg!(miri) { 24 } else { 80 };

proptest! {
    // Under Miri: few cases, and no failure file (Miri's isolation has no `getcwd`).
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: if cfg!(miri) { None } else { ProptestConfig::default().failure_persistence },
        ..ProptestConfig::default()
    })]

    #[test]
    fn backpressure_matches_model(cap in 1usize..17, ops in proptest::collection::vec(op(), 0..MAX_OPS)) {
        check(Policy::Backpressure, cap.next_power_of_two(), ops)?;
    }

    #[test]
    fn overwrite_matches_model(cap in 1usize..17, ops in proptest::collection::vec(op(), 0..MAX_OPS)) {
        check(Policy::Overwrite, cap.next_power_of_two(), ops)?;
    }
}
