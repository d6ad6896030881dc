//! Dataflow mode: ordering per node, gather completeness, errors travelling to the sink,
//! shutdown with frames in flight, graph errors, a proptest against a sequential model, and a
//! stress test counting every frame.

use std::sync::{Arc, Mutex};

use gearset_sched::{Flow, GraphError, NodeError, NodeId, Pool};
use proptest::prelude::*;

#[test]
fn each_node_sees_its_frames_in_order() {
    let pool = Pool::new(3);
    let seen: Vec<Arc<Mutex<Vec<u64>>>> = (0..3).map(|_| Arc::default()).collect();
    let mut graph = pool.dataflow::<u64>();
    let mut last = graph.source();
    for log in &seen {
        let log = Arc::clone(log);
        last = graph
            .node(last, move |x| {
                log.lock().unwrap().push(*x);
                *x
            })
            .unwrap();
    }
    let mut flow = graph.build(last, 4).unwrap();
    let out = flow.run(0..500);
    assert_eq!(out, (0..500).map(Ok).collect::<Vec<_>>());
    for (i, log) in seen.iter().enumerate() {
        assert_eq!(*log.lock().unwrap(), (0..500).collect::<Vec<_>>());
        assert_eq!(flow.frames_done(NodeId(i + 1)), Some(500));
    }
    assert_eq!(flow.frames_done(NodeId(0)), Some(500));
    assert_eq!(flow.frames_done(NodeId(9)), None);
}

#[test]
fn gather_receives_every_packet_of_a_frame() {
    let pool = Pool::new(4);
    let mut graph = pool.dataflow::<u64>();
    let source = graph.source();
    let tagged: Vec<NodeId> = (0..4)
        .map(|k| graph.node(source, move |x| x * 10 + k).unwrap())
        .collect();
    let gather = graph
        .gather(&tagged, |xs| {
            let frame = xs[0] / 10;
            assert_eq!(
                xs,
                [frame * 10, frame * 10 + 1, frame * 10 + 2, frame * 10 + 3]
            );
            frame
        })
        .unwrap();
    let mut flow = graph.build(gather, 8).unwrap();
    assert_eq!(flow.run(0..300), (0..300).map(Ok).collect::<Vec<_>>());
}

#[test]
fn errors_and_panics_travel_to_the_sink_and_later_frames_continue() {
    let pool = Pool::new(2);
    let mut graph = pool.dataflow::<u64>();
    let source = graph.source();
    let fails = graph
        .try_node(source, |x| {
            if x % 5 == 3 {
                Err(format!("bad {x}"))
            } else {
                Ok(*x)
            }
        })
        .unwrap();
    let panics = graph
        .node(source, |x| if *x == 7 { panic!("seven") } else { *x })
        .unwrap();
    let both = graph.gather(&[fails, panics], |xs| xs[0] + xs[1]).unwrap();
    let sink = graph.node(both, |x| x + 1).unwrap();
    let mut flow = graph.build(sink, 4).unwrap();
    let out = flow.run(0..10);
    for (frame, result) in out.iter().enumerate() {
        let frame = frame as u64;
        let expected = if frame % 5 == 3 {
            Err(NodeError {
                node: fails,
                frame,
                message: format!("bad {frame}"),
            })
        } else if frame == 7 {
            Err(NodeError {
                node: panics,
                frame,
                message: "seven".into(),
            })
        } else {
            Ok(2 * frame + 1)
        };
        assert_eq!(*result, expected, "frame {frame}");
    }
}

fn slow_chain(pool: &Pool, window: usize) -> Flow<'_, u64> {
    let mut graph = pool.dataflow::<u64>();
    let a = graph
        .node(graph.source(), |x| {
            std::thread::yield_now();
            x + 1
        })
        .unwrap();
    let b = graph.node(a, |x| x * 2).unwrap();
    graph.build(b, window).unwrap()
}

#[test]
fn finish_with_frames_in_flight_loses_nothing() {
    let pool = Pool::new(2);
    let mut flow = slow_chain(&pool, 16);
    for i in 0..16 {
        assert_eq!(flow.try_send(i), Ok(i));
    }
    assert_eq!(flow.try_send(99), Err(gearset_sched::Full(99)));
    assert_eq!(pool.stats().frames_in_flight, 16);
    let out = flow.finish();
    assert_eq!(
        out,
        (0..16).map(|i| (i, Ok((i + 1) * 2))).collect::<Vec<_>>()
    );
    assert_eq!(pool.stats().frames_in_flight, 0);
}

#[test]
fn dropping_a_flow_or_the_pool_with_frames_in_flight_hangs_nowhere() {
    let pool = Pool::new(2);
    let mut flow = slow_chain(&pool, 8);
    for i in 0..8 {
        flow.try_send(i).unwrap();
    }
    drop(flow);
    assert_eq!(pool.stats().frames_in_flight, 0);
    pool.wait_idle();
    drop(pool);
}

#[test]
fn a_flow_that_would_block_a_worker_panics_instead_of_hanging() {
    let pool = Pool::new(1);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.install(|_| {
            let mut graph = pool.dataflow::<u8>();
            let a = graph.node(graph.source(), |x| *x).unwrap();
            let mut flow = graph.build(a, 1).unwrap();
            flow.try_send(1).unwrap();
            flow.recv() // the only worker is this one: the node job cannot run
        })
    }));
    assert!(caught.is_err());
    pool.wait_idle(); // the frame still ran
    assert_eq!(pool.stats().frames_in_flight, 0);
}

#[test]
fn bad_graphs_get_precise_errors() {
    let pool = Pool::new(1);
    let mut graph = pool.dataflow::<u8>();
    let source = graph.source();
    assert_eq!(graph.gather(&[], |_| 0).unwrap_err(), GraphError::NoInputs);
    assert_eq!(
        graph.node(NodeId(1), |x| *x).unwrap_err(),
        GraphError::UnknownNode(NodeId(1)) // a forward reference: a cycle cannot be built
    );
    let a = graph.node(source, |x| *x).unwrap();
    let b = graph.node(source, |x| *x).unwrap();
    assert_eq!(graph.build(b, 4).unwrap_err(), GraphError::Unused(a));
    let graph = pool.dataflow::<u8>();
    assert_eq!(
        graph.build(NodeId(0), 4).unwrap_err(),
        GraphError::SourceAsSink
    );
    let mut graph = pool.dataflow::<u8>();
    let a = graph.node(graph.source(), |x| *x).unwrap();
    assert_eq!(graph.build(a, 0).unwrap_err(), GraphError::ZeroWindow);
    let mut graph = pool.dataflow::<u8>();
    graph.node(graph.source(), |x| *x).unwrap();
    assert_eq!(
        graph.build(NodeId(5), 1).unwrap_err(),
        GraphError::UnknownNode(NodeId(5))
    );
}

#[test]
fn stress_every_frame_counted_once() {
    let frames: u64 = std::env::var("GEARSET_SCHED_DATAFLOW_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(miri) { 300 } else { 20_000 });
    let pool = Pool::new(4);
    let mut graph = pool.dataflow::<u64>();
    let source = graph.source();
    let left = graph.node(source, |x| x + 1).unwrap();
    let right = graph.node(source, |x| x * 3).unwrap();
    let mid = graph
        .gather(&[left, right, source], |xs| xs[0] + xs[1] - xs[2])
        .unwrap();
    let sink = graph.gather(&[mid, left], |xs| xs[0] - xs[1]).unwrap(); // (3x + 1) - (x + 1) = 2x
    let mut flow = graph.build(sink, 64).unwrap();
    let mut next = 0;
    let mut sent = 0;
    while next < frames {
        while sent < frames && flow.try_send(sent).is_ok() {
            sent += 1;
        }
        let (frame, result) = flow.recv().expect("frames in flight");
        assert_eq!((frame, result), (next, Ok(2 * next)));
        next += 1;
    }
    assert_eq!(flow.recv(), None);
    assert_eq!(flow.frames_done(sink), Some(frames));
}

/// One node of a random graph: a message node `x * mul + add` that fails (`Err`) when
/// `x % 7 == fail_at`, or a gather node summing its inputs.
#[derive(Debug, Clone)]
enum Kind {
    Map {
        input: usize,
        mul: u64,
        add: u64,
        fail_at: u64,
    },
    Gather {
        inputs: Vec<usize>,
    },
}

fn kinds() -> impl Strategy<Value = Vec<Kind>> {
    (1usize..7).prop_flat_map(|n| {
        (0..n)
            .map(|i| {
                let upto = i + 1; // inputs among the source and earlier nodes
                prop_oneof![
                    (0..upto, 1u64..4, 0u64..5, 0u64..10).prop_map(|(input, mul, add, fail_at)| {
                        Kind::Map {
                            input,
                            mul,
                            add,
                            fail_at,
                        }
                    }),
                    proptest::collection::vec(0..upto, 1..4)
                        .prop_map(|inputs| Kind::Gather { inputs }),
                ]
            })
            .collect::<Vec<_>>()
    })
}

fn apply(kind: &Kind, xs: &[u64], node: usize, frame: u64) -> Result<u64, NodeError> {
    match kind {
        Kind::Map { fail_at, .. } if xs[0] % 7 == *fail_at => Err(NodeError {
            node: NodeId(node),
            frame,
            message: format!("{} % 7", xs[0]),
        }),
        Kind::Map { mul, add, .. } => Ok(xs[0].wrapping_mul(*mul).wrapping_add(*add)),
        Kind::Gather { .. } => Ok(xs.iter().fold(0u64, |a, x| a.wrapping_add(*x))),
    }
}

fn inputs(kind: &Kind) -> Vec<usize> {
    match kind {
        Kind::Map { input, .. } => vec![*input],
        Kind::Gather { inputs } => inputs.clone(),
    }
}

/// The sequential model: every node in id order, the first input error forwarded.
fn model(kinds: &[Kind], sink: usize, frame: u64) -> Result<u64, NodeError> {
    let mut values: Vec<Result<u64, NodeError>> = vec![Ok(frame)];
    for (i, kind) in kinds.iter().enumerate() {
        let ins: Result<Vec<u64>, NodeError> =
            inputs(kind).iter().map(|&j| values[j].clone()).collect();
        values.push(ins.and_then(|xs| apply(kind, &xs, i + 1, frame)));
    }
    values[sink].clone()
}

/// Builds the graph plus a final gather over every node nobody reads (so none is unused).
fn build_and_run(
    pool: &Pool,
    kinds: &[Kind],
    frames: u64,
    window: usize,
) -> (Vec<Kind>, Vec<Result<u64, NodeError>>) {
    let mut all = kinds.to_vec();
    let read: Vec<usize> = all.iter().flat_map(inputs).collect();
    let leaves: Vec<usize> = (0..=all.len()).filter(|n| !read.contains(n)).collect();
    if leaves.len() != 1 || leaves[0] == 0 {
        all.push(Kind::Gather { inputs: leaves });
    }
    let mut graph = pool.dataflow::<u64>();
    for (i, kind) in all.iter().enumerate() {
        let node = i + 1;
        let id = match kind.clone() {
            Kind::Map { input, .. } => {
                let k = kind.clone();
                graph.try_node(NodeId(input), move |x| {
                    apply(&k, &[*x], node, 0).map_err(|e| e.message)
                })
            }
            Kind::Gather { inputs } => {
                let ids: Vec<NodeId> = inputs.iter().map(|&j| NodeId(j)).collect();
                let k = kind.clone();
                graph.gather(&ids, move |xs| apply(&k, xs, node, 0).unwrap())
            }
        };
        assert_eq!(id, Ok(NodeId(node)));
    }
    let mut flow = graph.build(NodeId(all.len()), window).unwrap();
    let out = flow.run(0..frames);
    (all, out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 2 } else { 64 }))]

    #[test]
    fn random_graphs_match_the_sequential_model(
        kinds in kinds(),
        frames in 0u64..40,
        window in 1usize..6,
    ) {
        let pool = Pool::new(3);
        let (all, out) = build_and_run(&pool, &kinds, frames, window);
        let expected: Vec<_> = (0..frames).map(|f| model(&all, all.len(), f)).collect();
        prop_assert_eq!(out, expected);
    }
}
