//! proptest: random single-threaded runs of try-publishes and polls against a sequential
//! model (a list of published values and one read index per poller).
//!
//! Two pollers, either in parallel (multicast) or the second after the first (pipeline), on
//! both flavors. Checked at every step: `Full` exactly when the model's ring is full, the
//! values each poll returns, the fill level, and `Closed` after the producer drops.

use gearset_disruptor::{Disruptor, EventPoller, Flavor, PollState, Producer};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Publish(usize),
    Poll { poller: usize, max: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..6).prop_map(Op::Publish),
        (0usize..2, 1usize..10).prop_map(|(poller, max)| Op::Poll { poller, max }),
    ]
}

struct Model {
    capacity: usize,
    published: Vec<u64>,
    read: [usize; 2],
    pipeline: bool,
}

impl Model {
    fn gate(&self) -> usize {
        // Final consumers: both in multicast, only the second in a pipeline.
        if self.pipeline {
            self.read[1]
        } else {
            self.read[0].min(self.read[1])
        }
    }

    fn available(&self, poller: usize) -> usize {
        if poller == 1 && self.pipeline {
            self.read[0]
        } else {
            self.published.len()
        }
    }
}

fn run<S: Flavor>(
    mut producer: Producer<u64, S>,
    mut pollers: [EventPoller<u64, S>; 2],
    mut model: Model,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let mut next_value = 1000;
    for op in ops {
        match op {
            Op::Publish(n) => {
                let fits = model.published.len() + n - model.gate() <= model.capacity;
                let values: Vec<u64> = (0..n as u64).map(|i| next_value + i).collect();
                let result = producer.try_publish_batch(n, |e, seq| {
                    *e = values[(seq as usize) - model.published.len()];
                });
                prop_assert_eq!(result.is_ok(), fits, "Full iff the model is full");
                if fits {
                    model.published.extend(&values);
                    next_value += n as u64;
                }
            }
            Op::Poll { poller, max } => {
                let start = model.read[poller];
                let expect = (model.available(poller) - start).min(max);
                let mut got = Vec::new();
                let state = pollers[poller].poll_batch(max, |e, seq, _| got.push((seq, *e)));
                let want: Vec<(u64, u64)> = (start..start + expect)
                    .map(|s| (s as u64, model.published[s]))
                    .collect();
                prop_assert_eq!(&got, &want);
                prop_assert_eq!(
                    state,
                    if expect == 0 {
                        PollState::Idle
                    } else {
                        PollState::Processed(expect)
                    }
                );
                model.read[poller] += expect;
            }
        }
        prop_assert_eq!(producer.len(), model.published.len() - model.gate());
    }
    drop(producer);
    for (i, poller) in pollers.iter_mut().enumerate() {
        let mut rest = 0;
        while let PollState::Processed(n) = poller.poll(|_, _, _| {}) {
            rest += n;
        }
        prop_assert_eq!(
            model.read[i] + rest,
            model.published.len(),
            "drained after close"
        );
        prop_assert_eq!(poller.poll(|_, _, _| {}), PollState::Closed);
    }
    Ok(())
}

macro_rules! build {
    ($ctor:ident, $cap:expr, $pipeline:expr) => {{
        let mut builder = Disruptor::$ctor($cap, || 0u64).unwrap();
        let a = builder.poller(&[]);
        let b = if $pipeline {
            builder.poller(&[a])
        } else {
            builder.poller(&[])
        };
        let (producer, mut disruptor) = builder.build().unwrap();
        let pollers = [
            disruptor.take_poller(a).unwrap(),
            disruptor.take_poller(b).unwrap(),
        ];
        (producer, pollers, disruptor)
    }};
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    #[test]
    fn single_producer_matches_the_model(
        log_cap in 0u32..4, pipeline in any::<bool>(), ops in prop::collection::vec(op(), 0..80)
    ) {
        let capacity = 1usize << log_cap;
        let ops: Vec<Op> = ops.into_iter().map(|o| clamp(o, capacity)).collect();
        let (producer, pollers, _d) = build!(single_producer, capacity, pipeline);
        run(producer, pollers, Model { capacity, published: vec![], read: [0, 0], pipeline }, ops)?;
    }

    #[test]
    fn multi_producer_matches_the_model(
        log_cap in 0u32..4, pipeline in any::<bool>(), ops in prop::collection::vec(op(), 0..80)
    ) {
        let capacity = 1usize << log_cap;
        let ops: Vec<Op> = ops.into_iter().map(|o| clamp(o, capacity)).collect();
        let (producer, pollers, _d) = build!(multi_producer, capacity, pipeline);
        run(producer, pollers, Model { capacity, published: vec![], read: [0, 0], pipeline }, ops)?;
    }
}

/// Batches never exceed the capacity (that is a panic, tested elsewhere).
fn clamp(op: Op, capacity: usize) -> Op {
    match op {
        Op::Publish(n) => Op::Publish(n.min(capacity)),
        other => other,
    }
}
