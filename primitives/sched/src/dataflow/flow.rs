//! The caller's handle on a running graph: sends frames into the source, receives the sink's
//! packets back in frame order, and bounds the frames in flight (the window).

use core::{fmt, marker::PhantomData};
use std::vec::Vec;

use gearset_bcast::{Subscriber, TryRecvError};
use gearset_sync::{Arc, atomic::Ordering::Relaxed};

use super::node::{NodeError, Outbox, Packet, Shared};
use crate::NodeId;

/// [`Flow::try_send`] found the window full; the value is given back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Full<T>(pub T);

impl<T> fmt::Display for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the dataflow window is full: receive a frame first")
    }
}

impl<T: fmt::Debug> std::error::Error for Full<T> {}

/// A running dataflow graph, from [`Graph::build`](crate::Graph::build). The `n`-th value
/// sent is frame `n` (counting from 0 over the flow's life); results come back one per frame,
/// in frame order. At most `window` frames are in flight (sent, not yet received).
///
/// Use it from outside the pool: a `recv` that has to wait panics on one of the pool's own
/// workers (the worker it blocks may be the one that has to run the graph).
///
/// Dropping a flow receives (and discards) every frame still in flight;
/// [`finish`](Self::finish) returns them.
///
/// ```
/// let pool = gearset_sched::Pool::new(2);
/// let mut graph = pool.dataflow::<u32>();
/// let square = graph.node(graph.source(), |x| x * x)?;
/// let mut flow = graph.build(square, 2)?;
/// assert_eq!(flow.try_send(3), Ok(0));
/// assert_eq!(flow.try_send(4), Ok(1));
/// assert_eq!(flow.try_send(5), Err(gearset_sched::Full(5))); // window of 2
/// assert_eq!(flow.recv(), Some((0, Ok(9))));
/// assert_eq!(flow.try_send(5), Ok(2));
/// assert_eq!(flow.finish(), [(1, Ok(16)), (2, Ok(25))]);
/// # Ok::<(), gearset_sched::GraphError>(())
/// ```
pub struct Flow<'pool, T: Clone + Send + Sync + 'static> {
    shared: Arc<Shared<T>>,
    source: Outbox<T>,
    output: Subscriber<Packet<T>>,
    window: u64,
    /// Frames sent (the next frame's number).
    sent: u64,
    /// Frames received back.
    received: u64,
    _pool: PhantomData<&'pool ()>,
}

impl<'pool, T: Clone + Send + Sync + 'static> Flow<'pool, T> {
    pub(crate) fn new(
        shared: Arc<Shared<T>>,
        source: Outbox<T>,
        output: Subscriber<Packet<T>>,
        window: usize,
    ) -> Self {
        Self {
            shared,
            source,
            output,
            window: window as u64,
            sent: 0,
            received: 0,
            _pool: PhantomData,
        }
    }

    /// Sends `value` as the next frame and returns its number; `Err(Full(value))` if
    /// `window` frames are in flight.
    pub fn try_send(&mut self, value: T) -> Result<u64, Full<T>> {
        if self.in_flight() == self.window {
            return Err(Full(value));
        }
        let frame = self.sent;
        self.sent += 1;
        // Relaxed: a statistic (`Stats::frames_in_flight`).
        self.shared.in_flight.fetch_add(1, Relaxed);
        self.source.send(Packet {
            frame,
            value: Ok(value),
        });
        self.shared
            .frames
            .fetch_add(0, 1)
            .expect("the source's counter");
        for &node in &self.shared.consumers[0] {
            Shared::notify(&self.shared, node);
        }
        Ok(frame)
    }

    /// Waits for the next frame's result: `Some((frame, result))`, or `None` if no frame is
    /// in flight.
    ///
    /// # Panics
    ///
    /// If it has to wait and runs on one of the pool's own workers.
    pub fn recv(&mut self) -> Option<(u64, Result<T, NodeError>)> {
        if self.in_flight() == 0 {
            return None;
        }
        let packet = match self.output.try_recv() {
            Ok(packet) => packet,
            Err(TryRecvError::Empty) => {
                self.assert_outside();
                self.output.recv().expect("the sink outlives its reader")
            }
            Err(e) => unreachable!("the sink's channel cannot {e:?} while a frame is in flight"),
        };
        debug_assert_eq!(
            packet.frame, self.received,
            "the sink emits frames in order"
        );
        self.received += 1;
        // Relaxed: a statistic.
        self.shared.in_flight.fetch_sub(1, Relaxed);
        Some((packet.frame, packet.value))
    }

    /// Sends every value, receiving as the window requires, and returns one result per
    /// value, in order (frames in flight before the call are received first and dropped
    /// from the result).
    pub fn run(&mut self, values: impl IntoIterator<Item = T>) -> Vec<Result<T, NodeError>> {
        let first = self.sent;
        let mut out = Vec::new();
        let mut keep = |(frame, result): (u64, Result<T, NodeError>)| {
            if frame >= first {
                out.push(result);
            }
        };
        for value in values {
            let mut value = value;
            while let Err(Full(back)) = self.try_send(value) {
                value = back;
                keep(self.recv().expect("a full window has frames in flight"));
            }
        }
        while let Some(item) = self.recv() {
            keep(item);
        }
        out
    }

    /// Receives every frame in flight and ends the flow: nothing sent is lost.
    pub fn finish(mut self) -> Vec<(u64, Result<T, NodeError>)> {
        core::iter::from_fn(|| self.recv()).collect()
    }

    /// Frames sent and not yet received.
    pub fn in_flight(&self) -> u64 {
        self.sent - self.received
    }

    /// Frames `node` has finished so far (for the source: frames sent); `None` for an id
    /// that is not in this graph.
    pub fn frames_done(&self, node: NodeId) -> Option<u64> {
        self.shared.frames.get(node.0).ok()
    }

    fn assert_outside(&self) {
        assert!(
            !crate::pool::on_worker(&self.shared.registry),
            "Flow::recv would block one of the pool's own workers"
        );
    }
}

impl<T: Clone + Send + Sync + 'static> Drop for Flow<'_, T> {
    /// Receives and discards every frame in flight. While unwinding, or on one of the pool's
    /// workers, it cannot wait: the frames still run to the end as pool jobs (the pool's drop
    /// waits for them) and their results are discarded.
    fn drop(&mut self) {
        if std::thread::panicking() || crate::pool::on_worker(&self.shared.registry) {
            // Relaxed: a statistic.
            self.shared.in_flight.fetch_sub(self.in_flight(), Relaxed);
            return;
        }
        while self.recv().is_some() {}
    }
}

impl<T: Clone + Send + Sync + 'static> fmt::Debug for Flow<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("sent", &self.sent)
            .field("received", &self.received)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}
