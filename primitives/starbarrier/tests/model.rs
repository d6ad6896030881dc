//! Property tests against sequential models.
//!
//! 1. `member_ops_match_model`: one thread drives every member of a barrier through random
//!    non-blocking operations (arrive, try_wait, leave, a foreign token); each result must
//!    equal what a sequential model of the barrier predicts.
//! 2. `runtime_matches_sequential_bsp`: a random BSP program (who sends what to whom in which
//!    superstep, and what the serial-section holder appends) runs on real threads; what every
//!    worker receives in every superstep, and the final shared state, must equal a sequential
//!    execution of the same program.
// std only: under a model checker these would run outside any model (and `run` is absent).
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use gearset_starbarrier::{ArrivalToken, BarrierError, WaitError, Worker, barrier, run};
use gearset_sync::wait::{BusySpin, Yielding};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Arrive(usize),
    TryWait(usize),
    Leave(usize),
    /// Member `.0` tries to wait on the token of member `.1`.
    Foreign(usize, usize),
}

fn op(n: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..n).prop_map(Op::Arrive),
        4 => (0..n).prop_map(Op::TryWait),
        1 => (0..n).prop_map(Op::Leave),
        1 => (0..n, 0..n).prop_map(|(a, b)| Op::Foreign(a, b)),
    ]
}

/// The sequential barrier: arrival counts, outstanding arrivals, departures.
#[derive(Debug, Default, Clone)]
struct Model {
    arrived: Vec<u64>,
    pending: Vec<bool>,
    left: Vec<bool>,
}

impl Model {
    fn new(n: usize) -> Self {
        Self {
            arrived: vec![0; n],
            pending: vec![false; n],
            left: vec![false; n],
        }
    }

    fn arrive(&mut self, i: usize) -> Result<u64, BarrierError> {
        if self.left[i] {
            return Err(BarrierError::Left);
        }
        if self.pending[i] {
            return Err(BarrierError::ArrivalPending);
        }
        self.arrived[i] += 1;
        self.pending[i] = true;
        Ok(self.arrived[i])
    }

    /// `Some(phase)` if member `i`'s outstanding phase has completed.
    fn try_wait(&mut self, i: usize) -> Option<u64> {
        let phase = self.arrived[i];
        let done = (0..self.arrived.len()).all(|j| self.left[j] || self.arrived[j] >= phase);
        if done {
            self.pending[i] = false;
        }
        done.then_some(phase)
    }
}

fn check_ops(n: usize, ops: &[Op]) {
    let mut members = barrier(n, BusySpin::new()).unwrap();
    let mut tokens: Vec<Option<ArrivalToken>> = (0..n).map(|_| None).collect();
    let mut model = Model::new(n);
    for op in ops {
        match *op {
            Op::Arrive(i) => {
                let got = members[i].arrive();
                assert_eq!(
                    got.as_ref().map(ArrivalToken::phase),
                    model.arrive(i).as_ref().copied()
                );
                if let Ok(token) = got {
                    tokens[i] = Some(token);
                }
            }
            Op::TryWait(i) => {
                let Some(token) = tokens[i].take() else {
                    continue;
                };
                let got = members[i].try_wait(token);
                if model.left[i] {
                    assert_eq!(got, Err(WaitError::Failed(BarrierError::Left)));
                    continue;
                }
                match (got, model.try_wait(i)) {
                    (Ok(phase), Some(want)) => assert_eq!(phase, want),
                    (Err(WaitError::NotYet(token)), None) => tokens[i] = Some(token),
                    (got, want) => panic!("member {i}: got {got:?}, model says {want:?}"),
                }
            }
            Op::Leave(i) => {
                let want = if model.left[i] {
                    Err(BarrierError::Left)
                } else {
                    Ok(())
                };
                assert_eq!(members[i].leave(), want);
                model.left[i] = true;
                model.pending[i] = false;
            }
            Op::Foreign(a, b) => {
                if a == b {
                    continue;
                }
                let Some(token) = tokens[b].take() else {
                    continue;
                };
                let want = if model.left[a] {
                    BarrierError::Left
                } else {
                    BarrierError::ForeignToken
                };
                assert_eq!(members[a].try_wait(token), Err(WaitError::Failed(want)));
                // The token is consumed by the refused call: member b's arrival stays pending
                // with no token, exactly as if its owner had dropped it.
            }
        }
        for (i, member) in members.iter().enumerate() {
            let want = model.arrived[i] - u64::from(model.pending[i] && !model.left[i]);
            if !model.left[i] {
                assert_eq!(member.passed(), want, "passed() of member {i}");
            }
        }
    }
}

/// A BSP program: `sends[k][p]` are the `(to, value)` messages worker `p` sends in superstep
/// `k`; `serial[k]` is what the holder of superstep `k` appends to the shared log.
#[derive(Debug, Clone)]
struct Program {
    n: usize,
    sends: Vec<Vec<Vec<(usize, u32)>>>,
    serial: Vec<u32>,
}

fn program() -> impl Strategy<Value = Program> {
    (1usize..=4, 1usize..=5).prop_flat_map(|(n, steps)| {
        let sends = prop::collection::vec(
            prop::collection::vec(prop::collection::vec((0..n, any::<u32>()), 0..4), n),
            steps,
        );
        let serial = prop::collection::vec(any::<u32>(), steps);
        (sends, serial).prop_map(move |(sends, serial)| Program { n, sends, serial })
    })
}

/// `received[k][p]`: what worker `p` reads in superstep `k` (sent in `k - 1`), and the log.
type Trace = (Vec<Vec<Vec<(usize, u32)>>>, Vec<(u64, usize, u32)>);

fn sequential(p: &Program) -> Trace {
    let steps = p.sends.len();
    let mut received = vec![vec![Vec::new(); p.n]; steps + 1];
    for (k, by_sender) in p.sends.iter().enumerate() {
        for (from, msgs) in by_sender.iter().enumerate() {
            for &(to, value) in msgs {
                received[k + 1][to].push((from, value));
            }
        }
    }
    let log = p
        .serial
        .iter()
        .enumerate()
        .map(|(k, &v)| (k as u64, k % p.n, v))
        .collect();
    (received, log)
}

fn parallel(p: &Program) -> Trace {
    let (log, per_worker) = run(
        p.n,
        Yielding::new(),
        Vec::new(),
        |w: &mut Worker<_, u32, _>| {
            let me = w.id();
            let mut received = Vec::new();
            for k in 0..p.sends.len() {
                received.push(w.messages().collect::<Vec<_>>());
                for &(to, value) in &p.sends[k][me] {
                    w.send(to, value).unwrap();
                }
                let step = w.superstep();
                w.serial(|log: &mut Vec<(u64, usize, u32)>| log.push((step, me, p.serial[k])));
                w.sync().unwrap();
            }
            received.push(w.messages().collect());
            received
        },
    )
    .unwrap();
    let steps = p.sends.len();
    let received = (0..=steps)
        .map(|k| per_worker.iter().map(|r| r[k].clone()).collect())
        .collect();
    (received, log)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 2 } else { 256 }))]

    #[test]
    fn member_ops_match_model((n, ops) in (1usize..=4).prop_flat_map(|n| (Just(n), prop::collection::vec(op(n), 0..60)))) {
        check_ops(n, &ops);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 1 } else { 64 }))]

    #[test]
    fn runtime_matches_sequential_bsp(p in program()) {
        prop_assert_eq!(parallel(&p), sequential(&p));
    }
}
