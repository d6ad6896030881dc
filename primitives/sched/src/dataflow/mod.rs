//! Dataflow mode: numbered frames flowing through a graph of nodes, each node run as pool
//! jobs (the LavaFlow model: frames, packets, message nodes, gather nodes).
//!
//! ```
//! let pool = gearset_sched::Pool::new(2);
//! let mut graph = pool.dataflow::<u64>();
//! let source = graph.source();
//! let double = graph.node(source, |x| x * 2)?;
//! let plus_one = graph.node(source, |x| x + 1)?;
//! let sum = graph.gather(&[double, plus_one], |xs| xs.iter().sum())?;
//! let mut flow = graph.build(sum, 8)?;
//! let out: Vec<u64> = flow.run(0..4).into_iter().map(Result::unwrap).collect();
//! assert_eq!(out, [1, 4, 7, 10]); // 3x + 1 for frames 0..4
//! # Ok::<(), gearset_sched::GraphError>(())
//! ```
//!
//! # The model
//!
//! The caller feeds values into the *source*; the `n`-th value sent is frame `n`. A *message
//! node* ([`Graph::node`], [`Graph::try_node`]) has one input and turns each packet into one
//! packet; a *gather node* ([`Graph::gather`]) has several inputs and receives all packets of
//! a frame at once, in input order. The *sink* is the node whose packets come back to the
//! caller through [`Flow::recv`], one per frame, in frame order. All packets have one type
//! `T` (use an enum for heterogeneous graphs).
//!
//! # How it works
//!
//! **Edges.** Every node has one outbox. When its packets go to exactly one other node, the
//! outbox is a single-producer `gearset-disruptor` ring read by that node through an
//! `EventPoller`; when they go to several nodes, or to the caller (the sink), it is a
//! `gearset-bcast` channel (Backpressure policy: nothing is lost) with one `Subscriber` per
//! reader. A packet is `(frame, Result<T, NodeError>)`.
//!
//! **A frame's input is complete** for a node when each of its inputs has delivered a packet
//! for that frame. The node keeps one `pending` slot per input: it fills the empty slots from
//! its inboxes (taking at most one packet per input) and runs only when every slot is full.
//! Since every node emits exactly one packet per frame, in frame order (below), the `k`-th
//! packet of every input belongs to frame `k`, so the full slots always hold one frame.
//!
//! **One job per node at a time, frames in order.** Each node has a notification count in a
//! `gearset-atomvec` `AtomicVec` (`notes[node]`). Whoever delivers a packet to a node adds one
//! (`fetch_add`, AcqRel); the adder that moved it from 0 spawns a pool job for the node. The
//! job drains every complete frame, then subtracts the notifications it started with
//! (`fetch_sub`, AcqRel): if nothing arrived meanwhile the count is 0 again and the job ends;
//! otherwise it loops. Because all adds and subtracts are read-modify-writes of one cell, a
//! delivery either is seen by the running job's next drain (its add precedes the subtract,
//! which then returns a larger value) or finds the count at 0 and spawns a new job: no packet
//! is left without a job, and at most one job of a node runs at a time. A node's state (its
//! inboxes, outbox and function) sits behind a mutex that is therefore never contended; it
//! is there so the exclusivity is checked by the type system rather than argued in unsafe
//! code. One job at a time and in-order inboxes make a node handle its frames in order;
//! `frames[node]`, a second `AtomicVec`, counts the frames each node has finished.
//!
//! **No ring ever fills.** The caller admits at most `window` frames in flight (sent and not
//! yet received back). Every packet in any ring belongs to a frame in flight, one per frame,
//! so a ring of `window` slots (a bcast channel of `2 * window`, for its reader lag) never
//! waits for room: pool jobs never block on a full ring.
//!
//! **Errors travel with the frame.** A node whose function returns `Err` or panics (the panic
//! is caught) emits `Err(NodeError { node, frame, message })` as its packet for that frame; a
//! node that receives an `Err` on any input forwards the first one (in input order) without
//! running its function. The sink's packet for that frame is thus the error, and later frames
//! run normally: nothing waits for a packet that never comes.
//!
//! **Shutdown.** [`Flow::finish`] (and dropping a [`Flow`]) receive every frame in flight, so
//! nothing sent is lost; the pool's drop waits for any job still running.

mod build;
mod flow;
mod node;

pub use build::{Graph, GraphError, NodeId};
pub use flow::{Flow, Full};
pub use node::NodeError;
