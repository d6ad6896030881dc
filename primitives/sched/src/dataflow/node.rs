//! A node at run time: its inboxes and outbox, and the job that drains its complete frames.
//! The protocol (notification counts, one job per node, errors as packets) is described in
//! the module docs of `dataflow`.

use core::{fmt, panic::AssertUnwindSafe};
use std::{boxed::Box, panic, string::String, vec::Vec};

use gearset_atomvec::AtomicVec;
use gearset_bcast::{Publisher, Subscriber};
use gearset_disruptor::{Disruptor, EventPoller, PollState, Producer, Single};
use gearset_sync::{Arc, Mutex, atomic::AtomicU64};

use crate::{
    Context,
    job::{HeapJob, Panic},
    registry::Registry,
};

/// The packet a node emits when its function failed, or that it forwards when one of its
/// inputs carried one: the sink receives it as that frame's result.
///
/// ```
/// let pool = gearset_sched::Pool::new(2);
/// let mut graph = pool.dataflow::<u32>();
/// let source = graph.source();
/// let checked = graph.try_node(source, |x| if *x == 1 { Err("one".into()) } else { Ok(*x) })?;
/// let mut flow = graph.build(checked, 4)?;
/// let out = flow.run([0, 1, 2]);
/// let error = out[1].as_ref().unwrap_err();
/// assert_eq!((error.node, error.frame, error.message.as_str()), (checked, 1, "one"));
/// assert_eq!(out[2], Ok(2)); // later frames continue
/// # Ok::<(), gearset_sched::GraphError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeError {
    /// The node whose function failed.
    pub node: crate::NodeId,
    /// The frame it failed on.
    pub frame: u64,
    /// The `Err` message, or the panic message (`"<non-string panic>"` if it had none).
    pub message: String,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {} failed on frame {}: {}",
            self.node.0, self.frame, self.message
        )
    }
}

impl std::error::Error for NodeError {}

/// What travels on an edge: one per frame.
#[derive(Debug, Clone)]
pub(crate) struct Packet<T> {
    pub(crate) frame: u64,
    pub(crate) value: Result<T, NodeError>,
}

/// A ring slot: `None` only before its first publish.
pub(crate) type Slot<T> = Option<Packet<T>>;

/// A node's function, boxed: message nodes see one packet, gather nodes all of a frame.
pub(crate) type Work<T> = Box<dyn FnMut(&[T]) -> Result<T, String> + Send>;

/// Where a node reads one input from.
pub(crate) enum Inbox<T> {
    /// The only reader of the upstream node's ring.
    Ring(EventPoller<Slot<T>, Single>),
    /// One of several readers of the upstream node's broadcast channel.
    Bcast(Subscriber<Packet<T>>),
}

impl<T: Clone + Send + Sync> Inbox<T> {
    /// Takes the next packet if one is there.
    fn take(&mut self) -> Option<Packet<T>> {
        match self {
            Self::Ring(poller) => {
                let mut got = None;
                let state = poller.poll_batch(1, |slot, _, _| got.clone_from(slot));
                debug_assert!(got.is_some() || state != PollState::Processed(1));
                got
            }
            // Backpressure policy: never `Lagged`; `Closed` only after the graph is gone.
            Self::Bcast(subscriber) => subscriber.try_recv().ok(),
        }
    }
}

/// Where a node (or the source) writes its packets.
pub(crate) enum Outbox<T> {
    /// To exactly one node.
    Ring(Producer<Slot<T>, Single>),
    /// To several nodes and/or the caller.
    Bcast(Publisher<Packet<T>>),
}

impl<T: Clone + Send + Sync> Outbox<T> {
    /// Sends one packet. Never waits: the window keeps every ring from filling.
    pub(crate) fn send(&mut self, packet: Packet<T>) {
        match self {
            Self::Ring(producer) => {
                // Never `Full` (the window argument in the module docs); a failure here is a
                // bug, made loud rather than a lost packet and a hung `recv`.
                let sent = producer.try_publish(|slot, _| *slot = Some(packet));
                assert!(sent.is_ok(), "a dataflow ring filled: the window is broken");
            }
            Self::Bcast(publisher) => {
                // Fails only without readers, i.e. after the `Flow` was dropped; every frame
                // was received by then, so nothing is lost.
                let _ = publisher.send(packet);
            }
        }
    }
}

/// A node's state, touched only by the node's single running job.
pub(crate) struct NodeState<T> {
    pub(crate) inboxes: Vec<Inbox<T>>,
    /// One slot per input: the packet of the next frame, once it arrived.
    pub(crate) pending: Vec<Option<Packet<T>>>,
    pub(crate) work: Work<T>,
    pub(crate) outbox: Outbox<T>,
}

/// Everything the jobs of one graph share.
pub(crate) struct Shared<T> {
    /// Indexed by node id minus one (the source has no state).
    pub(crate) nodes: Vec<Mutex<NodeState<T>>>,
    /// For each node id (the source is 0): the node ids its packets go to.
    pub(crate) consumers: Vec<Vec<usize>>,
    /// Per node id: deliveries not yet acknowledged by a job (see the module docs).
    pub(crate) notes: AtomicVec,
    /// Per node id: frames the node has finished (the source: frames sent).
    pub(crate) frames: AtomicVec,
    pub(crate) registry: Arc<Registry>,
    /// The pool's count of frames in flight (all graphs).
    pub(crate) in_flight: Arc<AtomicU64>,
    /// Keeps the rings alive (pollers only: no consumer threads).
    pub(crate) _rings: Vec<Disruptor<Slot<T>, Single>>,
}

impl<T: Clone + Send + Sync + 'static> Shared<T> {
    /// Tells `node` a packet arrived; spawns its job unless one is running.
    pub(crate) fn notify(this: &Arc<Self>, node: usize) {
        // AcqRel (AtomicVec::fetch_add): pairs with the job's `fetch_sub` in `run`; the
        // packet was published (Release) before this RMW, so a job whose RMW follows it in
        // the cell's order sees the packet.
        let before = this.notes.fetch_add(node, 1).expect("node id in range");
        if before == 0 {
            let shared = Arc::clone(this);
            this.registry
                .inject(HeapJob::detached(move |_: &mut Context<'_>| {
                    Self::run(&shared, node);
                }));
        }
    }

    /// The node's job: drain complete frames until no notification is left.
    fn run(this: &Arc<Self>, node: usize) {
        // Acquire (AtomicVec::get): pairs with the `fetch_add` that spawned us.
        let mut owed = this.notes.get(node).expect("node id in range");
        loop {
            Self::drain(this, node);
            // AcqRel: pairs with every `notify`'s fetch_add. A notify ordered before this
            // makes `before > owed` and another drain; one after it sees 0 and spawns a job.
            let before = this.notes.fetch_sub(node, owed).expect("node id in range");
            if before == owed {
                return;
            }
            owed = before - owed;
        }
    }

    /// Runs the node for every frame whose input is complete, in frame order.
    fn drain(this: &Arc<Self>, node: usize) {
        let mut guard = this.nodes[node - 1]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let state = &mut *guard;
        loop {
            for (slot, inbox) in state.pending.iter_mut().zip(&mut state.inboxes) {
                if slot.is_none() {
                    *slot = inbox.take();
                }
            }
            if state.pending.iter().any(Option::is_none) {
                return;
            }
            let packets: Vec<Packet<T>> =
                state.pending.iter_mut().filter_map(Option::take).collect();
            let frame = packets[0].frame;
            debug_assert!(
                packets.iter().all(|p| p.frame == frame),
                "inputs out of step"
            );
            let value = run_work(&mut state.work, node, frame, packets);
            // Counted before the packet leaves, so that whoever receives this frame downstream
            // (the caller, at the sink) finds it counted at every node it went through.
            // AcqRel: the Release half is ordered before the send's publication, which the
            // receiver acquires; `Flow::frames_done`'s Acquire `get` then sees this count.
            // (Counting after the send let the caller receive the last frame and read a count
            // one short: found by Miri, `each_node_sees_its_frames_in_order`.)
            this.frames.fetch_add(node, 1).expect("node id in range");
            state.outbox.send(Packet { frame, value });
            for &next in &this.consumers[node] {
                Self::notify(this, next);
            }
        }
    }
}

/// Forwards the first input error, or runs the function, catching a panic.
fn run_work<T>(
    work: &mut Work<T>,
    node: usize,
    frame: u64,
    packets: Vec<Packet<T>>,
) -> Result<T, NodeError> {
    let inputs = packets
        .into_iter()
        .map(|p| p.value)
        .collect::<Result<Vec<T>, NodeError>>()?;
    let fail = |message| NodeError {
        node: crate::NodeId(node),
        frame,
        message,
    };
    match panic::catch_unwind(AssertUnwindSafe(|| work(&inputs))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(fail(message)),
        Err(payload) => Err(fail(panic_message(&payload))),
    }
}

fn panic_message(payload: &Panic) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        String::from(*s)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic>")
    }
}
