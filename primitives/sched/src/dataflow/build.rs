//! The graph builder: nodes are added after their inputs (so a graph is acyclic by
//! construction), then `build` checks the graph and creates the rings and channels.

use core::{fmt, marker::PhantomData};
use std::{boxed::Box, string::String, vec, vec::Vec};

use gearset_atomvec::AtomicVec;
use gearset_bcast::{Policy, StartAt};
use gearset_disruptor::Disruptor;
use gearset_sync::{Arc, Mutex, atomic::AtomicU64};

use super::{
    flow::Flow,
    node::{Inbox, NodeState, Outbox, Shared, Work},
};
use crate::registry::Registry;

/// A node of a [`Graph`]: returned by the builder methods, used to name inputs and the sink.
/// The source is `NodeId(0)`; nodes are numbered in the order they were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// Why a graph cannot be built. Cycles cannot be expressed: a node's inputs must exist
/// before it, and a later id is [`UnknownNode`](Self::UnknownNode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    /// The id names no node added so far (a node of another graph, or one added later).
    UnknownNode(NodeId),
    /// A gather node was given no inputs.
    NoInputs,
    /// A node's packets go nowhere: it is not the sink and no node reads it.
    Unused(NodeId),
    /// The sink cannot be the source (there would be nothing to run).
    SourceAsSink,
    /// The window must admit at least one frame.
    ZeroWindow,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownNode(id) => write!(f, "node {} does not exist (yet)", id.0),
            Self::NoInputs => f.write_str("a gather node needs at least one input"),
            Self::Unused(id) => write!(f, "node {}'s packets go nowhere", id.0),
            Self::SourceAsSink => f.write_str("the sink cannot be the source"),
            Self::ZeroWindow => f.write_str("the window must be at least 1 frame"),
        }
    }
}

impl std::error::Error for GraphError {}

/// A node before `build`: its inputs and its function.
struct Spec<T> {
    inputs: Vec<usize>,
    work: Work<T>,
}

/// A dataflow graph under construction, from [`Pool::dataflow`](crate::Pool::dataflow). See
/// the [module docs](crate::dataflow) for the model and the algorithm.
///
/// ```
/// let pool = gearset_sched::Pool::new(2);
/// let mut graph = pool.dataflow::<i64>();
/// let source = graph.source();
/// let negate = graph.node(source, |x| -x)?;
/// let mut flow = graph.build(negate, 4)?;
/// assert_eq!(flow.run([1, 2]), [Ok(-1), Ok(-2)]);
/// # Ok::<(), gearset_sched::GraphError>(())
/// ```
pub struct Graph<'pool, T> {
    registry: Arc<Registry>,
    in_flight: Arc<AtomicU64>,
    specs: Vec<Spec<T>>,
    _pool: PhantomData<&'pool ()>,
}

impl<'pool, T: Clone + Send + Sync + 'static> Graph<'pool, T> {
    pub(crate) fn new(registry: Arc<Registry>, in_flight: Arc<AtomicU64>) -> Self {
        Self {
            registry,
            in_flight,
            specs: Vec::new(),
            _pool: PhantomData,
        }
    }

    /// The source: the node whose packets are the values sent into the graph.
    pub fn source(&self) -> NodeId {
        NodeId(0)
    }

    /// A message node: `f` runs on `input`'s packet of each frame. A panic in `f` becomes a
    /// [`NodeError`](crate::NodeError) for that frame.
    pub fn node<F>(&mut self, input: NodeId, f: F) -> Result<NodeId, GraphError>
    where
        F: Fn(&T) -> T + Send + 'static,
    {
        self.add(vec![input], Box::new(move |xs: &[T]| Ok(f(&xs[0]))))
    }

    /// A message node whose function can fail: `Err(message)` becomes a
    /// [`NodeError`](crate::NodeError) for that frame, sent on to the sink.
    pub fn try_node<F>(&mut self, input: NodeId, f: F) -> Result<NodeId, GraphError>
    where
        F: Fn(&T) -> Result<T, String> + Send + 'static,
    {
        self.add(vec![input], Box::new(move |xs: &[T]| f(&xs[0])))
    }

    /// A gather node: `f` receives all packets of a frame, one per input, in `inputs` order,
    /// once every input has delivered its packet for that frame. An input may be listed
    /// twice. `Err(NoInputs)` if `inputs` is empty.
    pub fn gather<F>(&mut self, inputs: &[NodeId], f: F) -> Result<NodeId, GraphError>
    where
        F: Fn(&[T]) -> T + Send + 'static,
    {
        self.add(inputs.to_vec(), Box::new(move |xs: &[T]| Ok(f(xs))))
    }

    fn add(&mut self, inputs: Vec<NodeId>, work: Work<T>) -> Result<NodeId, GraphError> {
        if inputs.is_empty() {
            return Err(GraphError::NoInputs);
        }
        let inputs = inputs
            .into_iter()
            .map(|id| self.check(id))
            .collect::<Result<Vec<_>, _>>()?;
        self.specs.push(Spec { inputs, work });
        Ok(NodeId(self.specs.len()))
    }

    fn check(&self, id: NodeId) -> Result<usize, GraphError> {
        if id.0 <= self.specs.len() {
            Ok(id.0)
        } else {
            Err(GraphError::UnknownNode(id))
        }
    }

    /// Checks the graph and starts it: `sink`'s packets come back through the returned
    /// [`Flow`], which admits at most `window` frames in flight (rings hold `window` packets,
    /// rounded up to a power of two).
    pub fn build(self, sink: NodeId, window: usize) -> Result<Flow<'pool, T>, GraphError> {
        let sink = self.check(sink)?;
        if sink == 0 {
            return Err(GraphError::SourceAsSink);
        }
        if window == 0 {
            return Err(GraphError::ZeroWindow);
        }
        let nodes = self.specs.len() + 1;
        let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); nodes];
        for (i, spec) in self.specs.iter().enumerate() {
            for &input in &spec.inputs {
                consumers[input].push(i + 1);
            }
        }
        if let Some(unused) = (0..nodes).find(|&n| n != sink && consumers[n].is_empty()) {
            return Err(GraphError::Unused(NodeId(unused)));
        }
        let capacity = window.next_power_of_two();
        let mut wiring = Wiring::new(nodes);
        let mut rings = Vec::new();
        for (node, readers) in consumers.iter().enumerate() {
            wiring.connect(node, readers, node == sink, capacity, &mut rings);
        }
        let Wiring {
            outboxes,
            mut inboxes,
            mut output,
        } = wiring;
        let mut outboxes = outboxes.into_iter();
        let source = outboxes.next().flatten().expect("the source has readers");
        let states = self
            .specs
            .into_iter()
            .zip(outboxes)
            .enumerate()
            .map(|(i, (spec, outbox))| {
                let inboxes: Vec<_> = spec
                    .inputs
                    .iter()
                    .map(|&from| inboxes[from].remove(&(i + 1)))
                    .collect();
                Mutex::new(NodeState {
                    pending: inboxes.iter().map(|_| None).collect(),
                    inboxes,
                    work: spec.work,
                    outbox: outbox.expect("every node has readers"),
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            nodes: states,
            consumers,
            notes: AtomicVec::with_len(nodes),
            frames: AtomicVec::with_len(nodes),
            registry: self.registry,
            in_flight: self.in_flight,
            _rings: rings,
        });
        let output = output.take().expect("the sink has the caller as reader");
        Ok(Flow::new(shared, source, output, window))
    }
}

/// The edges while they are being created: one outbox per node, and per upstream node the
/// inboxes of its readers, handed out one per `(upstream, reader)` pair.
struct Wiring<T> {
    outboxes: Vec<Option<Outbox<T>>>,
    inboxes: Vec<Readers<T>>,
    output: Option<gearset_bcast::Subscriber<super::node::Packet<T>>>,
}

/// The inboxes readers of one node still have to collect, in the order they read it.
struct Readers<T>(Vec<(usize, Inbox<T>)>);

impl<T> Readers<T> {
    fn remove(&mut self, reader: &usize) -> Inbox<T> {
        let at = self
            .0
            .iter()
            .position(|(r, _)| r == reader)
            .expect("an inbox per (input, reader) pair");
        self.0.remove(at).1
    }
}

impl<T: Clone + Send + Sync + 'static> Wiring<T> {
    fn new(nodes: usize) -> Self {
        Self {
            outboxes: (0..nodes).map(|_| None).collect(),
            inboxes: (0..nodes).map(|_| Readers(Vec::new())).collect(),
            output: None,
        }
    }

    /// Creates `node`'s outbox: a ring if exactly one node reads it, otherwise a broadcast
    /// channel with one subscriber per reading edge (and one for the caller at the sink).
    fn connect(
        &mut self,
        node: usize,
        readers: &[usize],
        is_sink: bool,
        capacity: usize,
        rings: &mut Vec<Disruptor<super::node::Slot<T>, gearset_disruptor::Single>>,
    ) {
        if let ([reader], false) = (readers, is_sink) {
            let mut builder =
                Disruptor::single_producer(capacity, || None).expect("a power-of-two capacity");
            let id = builder.poller(&[]);
            let (producer, mut ring) = builder.build().expect("a poller consumes the ring");
            let poller = ring.take_poller(id).expect("the poller just added");
            rings.push(ring);
            self.outboxes[node] = Some(Outbox::Ring(producer));
            self.inboxes[node].0.push((*reader, Inbox::Ring(poller)));
            return;
        }
        // Backpressure: nothing is lost; twice the window covers a reader's lag in
        // publishing its position (at most `capacity / 4 - 1` messages).
        let (publisher, first) = gearset_bcast::channel(2 * capacity, Policy::Backpressure);
        let mut first = Some(first);
        for &reader in readers {
            let subscriber = first
                .take()
                .unwrap_or_else(|| publisher.subscribe(StartAt::Oldest));
            self.inboxes[node]
                .0
                .push((reader, Inbox::Bcast(subscriber)));
        }
        if is_sink {
            let subscriber = first
                .take()
                .unwrap_or_else(|| publisher.subscribe(StartAt::Oldest));
            self.output = Some(subscriber);
        }
        self.outboxes[node] = Some(Outbox::Bcast(publisher));
    }
}

impl<T> fmt::Debug for Graph<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("nodes", &(self.specs.len() + 1))
            .finish_non_exhaustive()
    }
}
