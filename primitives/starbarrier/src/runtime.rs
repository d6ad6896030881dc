//! The superstep runtime: mailboxes double-buffered by superstep parity, and a serial section
//! that rotates over the participants.
//!
//! # Ownership of every cell, by superstep
//!
//! Mailbox `mail[to][from][p]` is a `Vec<M>`. In superstep `k` (every worker's `superstep()`
//! is `k` between its `k`-th and `k+1`-th pass):
//!
//! | cell                        | accessed by | how                          |
//! |-----------------------------|-------------|------------------------------|
//! | `mail[to][from][k % 2]`     | `from` only | `send` pushes                |
//! | `mail[to][from][(k+1) % 2]` | nobody      | (swapped empty by `to` at the start of `k`) |
//! | `state`                     | `k % n` only | `serial`                    |
//!
//! At the start of superstep `k+1` (inside `sync`, right after passing), `to` swaps every
//! `mail[to][from][k % 2]` with its own empty local buffer: that is how messages of `k` are
//! delivered in `k+1`. The accesses are ordered by the barrier, case by case:
//!
//! 1. `from`'s pushes in `k` → `to`'s swap at the start of `k+1`: `from` pushed before its
//!    Release arrival at the end of `k`; `to` swaps after its Acquire pass of that phase.
//! 2. `to`'s swap at the start of `k+1` → `from`'s pushes into the same cell in `k+2`: `to`
//!    swaps before its arrival at the end of `k+1`, and `from` pushes after passing it.
//! 3. serial holder of `k` → serial holder of `k+1`: the same argument as case 1.
//!
//! With one buffer instead of two (mutant `StarBarrier_one_buffer.cfg`), case 2 fails: a
//! fast `from` already in `k+1` pushes into the cell that a slow `to` has not yet swapped, and
//! that message of `k+1` is delivered at the start of `k+1`, a superstep early, together with
//! those of `k`.
//!
//! # Leaving
//!
//! A worker whose closure returns (or which calls [`Worker::leave`]) leaves the barrier: the
//! others stop waiting for it, `send` to it fails with [`SendError::ReceiverLeft`] once its
//! departure is visible, and in supersteps `k` with `k % n` equal to its index nobody holds
//! the serial section. Messages sent to it in the superstep in which it leaves are dropped.

use core::{fmt, ptr};

use gearset_sync::{Arc, CachePadded, cell::UnsafeCell, wait::WaitStrategy};

use crate::{
    barrier::{self, ArrivalToken, Member},
    error::{BarrierError, SendError, WaitError},
};

/// The data the workers of one run share.
struct Exchange<S, M> {
    participants: usize,
    /// `mail[(to * participants + from) * 2 + parity]`; ownership by superstep in the module
    /// docs. Padded: two senders' cells never share a line.
    mail: Box<[CachePadded<UnsafeCell<Vec<M>>>]>,
    /// The serial section's state: accessed only by participant `k % participants` during
    /// superstep `k`.
    state: UnsafeCell<S>,
}

// SAFETY: `Exchange` hands `&mut S` and `&mut Vec<M>` to one thread at a time (the module
// docs give the owner of every cell in every superstep, and the barrier orders successive
// owners), so sharing it needs exactly what sending `S` and `M` between threads needs, as for
// `Mutex<T>: Sync where T: Send`.
unsafe impl<S: Send, M: Send> Sync for Exchange<S, M> {}

impl<S, M> Exchange<S, M> {
    fn new(participants: usize, state: S) -> Self {
        let cells = participants * participants * 2;
        let mail = (0..cells)
            .map(|_| CachePadded::new(UnsafeCell::new(Vec::new())))
            .collect();
        Self {
            participants,
            mail,
            state: UnsafeCell::new(state),
        }
    }

    fn cell(&self, to: usize, from: usize, superstep: u64) -> &UnsafeCell<Vec<M>> {
        let parity = (superstep % 2) as usize;
        &self.mail[(to * self.participants + from) * 2 + parity]
    }
}

/// Builds the workers of a superstep run for `participants` threads, sharing `state` through
/// the rotating serial section. Use it to drive workers from threads you spawn yourself
/// (`'static`); [`run`] does it with scoped threads.
///
/// # Errors
///
/// [`BarrierError::ZeroParticipants`] if `participants == 0`.
///
/// ```
/// use gearset_starbarrier::workers;
/// use gearset_sync::{thread, wait::BusySpin};
///
/// let handles: Vec<_> = workers::<u64, u64, _>(2, BusySpin::new(), 0)
///     .unwrap()
///     .into_iter()
///     .map(|mut w| thread::spawn(move || {
///         let to = 1 - w.id();
///         w.send(to, w.id() as u64 * 10).unwrap();
///         w.sync().unwrap();
///         w.messages().collect::<Vec<_>>()
///     }))
///     .collect();
/// let got: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
/// assert_eq!(got, vec![vec![(1, 10)], vec![(0, 0)]]);
/// ```
pub fn workers<S, M, W>(
    participants: usize,
    wait: W,
    state: S,
) -> Result<Vec<Worker<S, M, W>>, BarrierError>
where
    S: Send,
    M: Send,
    W: WaitStrategy,
{
    Ok(build(participants, wait, state)?.0)
}

#[allow(clippy::type_complexity)]
fn build<S, M, W: WaitStrategy>(
    participants: usize,
    wait: W,
    state: S,
) -> Result<(Vec<Worker<S, M, W>>, Arc<Exchange<S, M>>), BarrierError> {
    let members = barrier::barrier(participants, wait)?;
    let exchange = Arc::new(Exchange::new(participants, state));
    let workers = members
        .into_iter()
        .map(|member| Worker {
            member,
            exchange: Arc::clone(&exchange),
            superstep: 0,
            inbox: (0..participants).map(|_| Vec::new()).collect(),
            pending: None,
            stopped: false,
        })
        .collect();
    Ok((workers, exchange))
}

/// One participant of a superstep run: sends messages, reads the previous superstep's
/// messages, takes its turn in the serial section, and ends supersteps with
/// [`sync`](Self::sync).
///
/// `Send` (when `S` and `M` are); used by one thread at a time through `&mut self`. Dropping
/// it leaves the run; dropping it while panicking breaks the run for everyone.
pub struct Worker<S, M, W: WaitStrategy> {
    member: Member<W>,
    exchange: Arc<Exchange<S, M>>,
    /// Supersteps completed: the current superstep's number.
    superstep: u64,
    /// `inbox[from]`: messages `from` sent in the previous superstep, not yet read. Owned by
    /// this worker; swapped with the shared cells in `sync`.
    inbox: Box<[Vec<M>]>,
    /// An arrival whose wait timed out: the worker is between supersteps until it passes.
    pending: Option<ArrivalToken>,
    /// `sync` failed for good (broken barrier, or this worker left): the worker may have
    /// arrived, so the others may be in the next superstep; `send` and `serial` are refused.
    stopped: bool,
}

impl<S, M, W: WaitStrategy> Worker<S, M, W> {
    /// This worker's index, `0..participants()`.
    pub fn id(&self) -> usize {
        self.member.index()
    }

    /// The number of participants of the run.
    pub fn participants(&self) -> usize {
        self.exchange.participants
    }

    /// The current superstep: 0 before the first [`sync`](Self::sync), then 1, 2, ...
    pub fn superstep(&self) -> u64 {
        self.superstep
    }

    /// Sends `msg` to participant `to` (which may be this worker). It is delivered, exactly
    /// once, by [`messages`](Self::messages) in the next superstep, after the messages from
    /// lower-indexed senders and after this worker's earlier messages to `to`.
    ///
    /// # Errors
    ///
    /// The message comes back in a [`SendError`] if `to` is out of range, if `to` has left,
    /// or if this worker is not inside a superstep (it left, or a timed-out `sync` is
    /// outstanding).
    ///
    /// ```
    /// use gearset_starbarrier::run;
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let (_, got) = run(1, BusySpin::new(), (), |w| {
    ///     w.send(0, "to myself").unwrap();
    ///     assert_eq!(w.messages().count(), 0); // not before the next superstep
    ///     w.sync().unwrap();
    ///     w.messages().collect::<Vec<_>>()
    /// })
    /// .unwrap();
    /// assert_eq!(got, vec![vec![(0, "to myself")]]);
    /// ```
    pub fn send(&mut self, to: usize, msg: M) -> Result<(), SendError<M>> {
        if to >= self.participants() {
            return Err(SendError::NoSuchParticipant(msg));
        }
        if !self.in_superstep() {
            return Err(SendError::NotInSuperstep(msg));
        }
        if to != self.id() && self.member.shared().has_left(to) {
            return Err(SendError::ReceiverLeft(msg));
        }
        let cell = self.exchange.cell(to, self.id(), self.superstep);
        // SAFETY: in superstep k, `mail[to][me][k % 2]` is accessed by its sender `me` only
        // (module docs, case 2: `to` swapped it before arriving at the end of k-1, which we
        // passed); `&mut self` excludes a concurrent send from this worker.
        cell.with_mut(|vec| unsafe { (*vec).push(msg) });
        gearset_sync::trace_action!(
            "PushMessage",
            "[from |-> SELF, to |-> {to}, k |-> {k}] \\in sent' \\ sent",
            k = self.superstep
        );
        Ok(())
    }

    /// Drains the messages sent to this worker in the previous superstep, as `(from, msg)`,
    /// in sender order. Messages not read before the next [`sync`](Self::sync) are dropped.
    ///
    /// ```
    /// use gearset_starbarrier::run;
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let (_, sums) = run(3, BusySpin::new(), (), |w| {
    ///     for to in 0..w.participants() {
    ///         w.send(to, w.id() + 1).unwrap();
    ///     }
    ///     w.sync().unwrap();
    ///     w.messages().map(|(_, m)| m).sum::<usize>()
    /// })
    /// .unwrap();
    /// assert_eq!(sums, vec![6, 6, 6]);
    /// ```
    pub fn messages(&mut self) -> impl Iterator<Item = (usize, M)> + '_ {
        self.inbox
            .iter_mut()
            .enumerate()
            .flat_map(|(from, msgs)| msgs.drain(..).map(move |msg| (from, msg)))
    }

    /// Runs `f` with exclusive access to the shared state if this worker holds the serial
    /// section in this superstep (superstep `k` belongs to worker `k % participants`), and
    /// returns its result; `None` otherwise. Every worker sees the effects from the next
    /// superstep on.
    ///
    /// ```
    /// use gearset_starbarrier::{Worker, run};
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let (log, _) = run(3, BusySpin::new(), Vec::new(), |w: &mut Worker<_, (), _>| {
    ///     for _ in 0..6 {
    ///         let id = w.id();
    ///         w.serial(|log: &mut Vec<usize>| log.push(id));
    ///         w.sync().unwrap();
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(log, vec![0, 1, 2, 0, 1, 2]);
    /// ```
    pub fn serial<R>(&mut self, f: impl FnOnce(&mut S) -> R) -> Option<R> {
        let turn = self.superstep % self.participants() as u64 == self.id() as u64;
        if !turn || !self.in_superstep() {
            return None;
        }
        gearset_sync::trace_action!("EnterSerial", "SELF \\in inCS' \\ inCS");
        let result = self.exchange.state.with_mut(|state| {
            // SAFETY: during superstep k only worker k % n reaches this line (the check
            // above; every worker agrees on k because nobody enters k+1 before all left k),
            // and the barrier orders the holder of k before the holder of k+1 (module docs,
            // case 3). `&mut self` excludes a second call on this worker while `f` runs.
            f(unsafe { &mut *state })
        });
        gearset_sync::trace_action!("ExitSerial", "SELF \\in inCS \\ inCS'");
        Some(result)
    }

    /// Ends this worker's superstep: arrives, waits for every participant that has not left,
    /// then makes the messages sent to it in the superstep just ended readable.
    ///
    /// # Errors
    ///
    /// [`BarrierError::Broken`] if a worker panicked; [`BarrierError::Left`] after
    /// [`leave`](Self::leave); after either, `send` and `serial` are refused for good.
    /// [`BarrierError::TimedOut`] if the wait strategy's timeout passed, in which case the
    /// arrival stands and the next `sync` resumes waiting (`send` and `serial` are refused
    /// meanwhile).
    ///
    /// ```
    /// use gearset_starbarrier::{Worker, run};
    /// use gearset_sync::wait::Yielding;
    ///
    /// let (_, steps) = run(2, Yielding::new(), (), |w: &mut Worker<_, (), _>| {
    ///     w.sync().unwrap();
    ///     w.sync().unwrap();
    ///     w.superstep()
    /// })
    /// .unwrap();
    /// assert_eq!(steps, vec![2, 2]);
    /// ```
    pub fn sync(&mut self) -> Result<(), BarrierError> {
        let token = self.take_arrival()?;
        match self.member.wait_token(token) {
            Ok(_) => {
                self.deliver();
                Ok(())
            }
            Err(WaitError::NotYet(token)) => {
                self.pending = Some(token);
                Err(BarrierError::TimedOut)
            }
            Err(WaitError::Failed(error)) => Err(self.stop(error)),
        }
    }

    /// A *fuzzy* [`sync`](Self::sync): arrives, then calls `idle` between non-blocking checks
    /// until the superstep ends or `idle` returns `false` (nothing left to do), and only then
    /// waits with the wait strategy. This is the split phase of [`Member`] inside the runtime:
    /// `idle` cannot touch the worker (it is borrowed), so it cannot send or take the serial
    /// section while the others may already be in the next superstep.
    ///
    /// # Errors
    ///
    /// As [`sync`](Self::sync).
    ///
    /// ```
    /// use gearset_starbarrier::{Worker, run};
    /// use gearset_sync::wait::Yielding;
    ///
    /// let (_, ingested) = run(2, Yielding::new(), (), |w: &mut Worker<_, (), _>| {
    ///     let mut backlog = 1_000u32; // e.g. requests from an external queue
    ///     let mut ingested = 0;
    ///     w.sync_with(|| {
    ///         if backlog == 0 {
    ///             return false;
    ///         }
    ///         backlog -= 1;
    ///         ingested += 1;
    ///         true
    ///     })
    ///     .unwrap();
    ///     assert_eq!(w.superstep(), 1);
    ///     ingested
    /// })
    /// .unwrap();
    /// assert!(ingested.iter().all(|&n| n <= 1_000));
    /// ```
    pub fn sync_with(&mut self, mut idle: impl FnMut() -> bool) -> Result<(), BarrierError> {
        let mut token = self.take_arrival()?;
        loop {
            match self.member.try_wait(token) {
                Ok(_) => {
                    self.deliver();
                    return Ok(());
                }
                Err(WaitError::NotYet(back)) => token = back,
                Err(WaitError::Failed(error)) => return Err(self.stop(error)),
            }
            if !idle() {
                self.pending = Some(token);
                return self.sync();
            }
        }
    }

    /// The first half of a split [`sync`](Self::sync): ends this worker's part of the
    /// superstep (its messages and serial-section writes are published) and returns at once.
    /// Finish with [`try_sync`](Self::try_sync) or `sync`; until then `send` and `serial`
    /// are refused, since the others may already be in the next superstep. Calling it again
    /// before the superstep ended does nothing.
    ///
    /// # Errors
    ///
    /// As [`sync`](Self::sync), except [`BarrierError::TimedOut`].
    ///
    /// ```
    /// use gearset_starbarrier::workers;
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let mut ws = workers::<(), u32, _>(2, BusySpin::new(), ()).unwrap();
    /// ws[0].send(1, 7).unwrap();
    /// ws[0].arrive().unwrap();
    /// assert_eq!(ws[0].try_sync(), Ok(false)); // worker 1 has not arrived
    /// ws[1].arrive().unwrap();
    /// assert_eq!(ws[1].try_sync(), Ok(true));
    /// assert_eq!(ws[1].messages().collect::<Vec<_>>(), vec![(0, 7)]);
    /// assert_eq!(ws[0].try_sync(), Ok(true));
    /// ```
    pub fn arrive(&mut self) -> Result<(), BarrierError> {
        let token = self.take_arrival()?;
        self.pending = Some(token);
        Ok(())
    }

    /// The outstanding arrival, or a new one.
    fn take_arrival(&mut self) -> Result<ArrivalToken, BarrierError> {
        match self.pending.take() {
            Some(token) => Ok(token),
            None => self.member.arrive().map_err(|error| self.stop(error)),
        }
    }

    /// Arrives (unless [`arrive`](Self::arrive) already did) and checks once, without
    /// waiting, whether the superstep has ended: `Ok(true)` if it has (this worker is in the
    /// next superstep, its messages readable), `Ok(false)` if some worker has not arrived
    /// (the arrival stands: call again, or `sync`).
    ///
    /// # Errors
    ///
    /// As [`sync`](Self::sync), except [`BarrierError::TimedOut`].
    ///
    /// ```
    /// use gearset_starbarrier::workers;
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let mut ws = workers::<(), (), _>(1, BusySpin::new(), ()).unwrap();
    /// assert_eq!(ws[0].try_sync(), Ok(true)); // alone: the superstep ends at once
    /// assert_eq!(ws[0].superstep(), 1);
    /// ```
    pub fn try_sync(&mut self) -> Result<bool, BarrierError> {
        let token = self.take_arrival()?;
        match self.member.try_wait(token) {
            Ok(_) => {
                self.deliver();
                Ok(true)
            }
            Err(WaitError::NotYet(token)) => {
                self.pending = Some(token);
                Ok(false)
            }
            Err(WaitError::Failed(error)) => Err(self.stop(error)),
        }
    }

    /// Takes this worker out of the superstep for good. If its arrival stood, a phase it could
    /// not pass may still complete for the others (the panicker had arrived at it), so its
    /// cells and the serial state may belong to them now.
    fn stop(&mut self, error: BarrierError) -> BarrierError {
        self.stopped = true;
        error
    }

    /// Leaves the run: the other workers stop waiting for this one.
    ///
    /// # Errors
    ///
    /// [`BarrierError::Left`] if it already left.
    ///
    /// ```
    /// use gearset_starbarrier::{Worker, run};
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let (_, steps) = run(2, BusySpin::new(), (), |w: &mut Worker<_, (), _>| {
    ///     if w.id() == 1 {
    ///         w.leave().unwrap();
    ///         return 0;
    ///     }
    ///     for _ in 0..10 {
    ///         w.sync().unwrap(); // never waits for worker 1
    ///     }
    ///     w.superstep()
    /// })
    /// .unwrap();
    /// assert_eq!(steps, vec![10, 0]);
    /// ```
    pub fn leave(&mut self) -> Result<(), BarrierError> {
        self.pending = None;
        self.member.leave()
    }

    fn in_superstep(&self) -> bool {
        self.pending.is_none() && !self.stopped && !self.member.has_left()
    }

    /// Start of superstep k+1: drop unread messages of k-1, take those of k.
    fn deliver(&mut self) {
        let (me, sent_in) = (self.id(), self.superstep);
        for (from, local) in self.inbox.iter_mut().enumerate() {
            local.clear();
            let cell = self.exchange.cell(me, from, sent_in);
            // SAFETY: we just passed the end of superstep `sent_in` and have not arrived at
            // the end of the next, so `mail[me][from][sent_in % 2]` is ours alone (module
            // docs, cases 1 and 2).
            cell.with_mut(|shared| unsafe { ptr::swap(shared, local) });
        }
        self.superstep += 1;
    }
}

impl<S, M, W: WaitStrategy> fmt::Debug for Worker<S, M, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id())
            .field("participants", &self.participants())
            .field("superstep", &self.superstep)
            .field("pending", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

/// Runs `body` on `participants` scoped threads, each with its own [`Worker`], and returns
/// the final shared state with every participant's result, in index order.
///
/// If a participant panics, the others' pending and later `sync` calls return
/// [`BarrierError::Broken`], and once every thread has finished, `run` re-raises the first
/// panic (the one that broke the barrier) on the calling thread.
///
/// Only on std: loom has no scoped threads, so model checks use [`workers`].
///
/// # Errors
///
/// [`BarrierError::ZeroParticipants`] if `participants == 0`.
///
/// ```
/// use gearset_starbarrier::run;
/// use gearset_sync::wait::Phased;
///
/// // Parallel prefix sum of 1..=4, one value per worker, by recursive doubling.
/// let (_, prefix) = run(4, Phased::new(), (), |w| {
///     let (id, n) = (w.id(), w.participants());
///     let mut sum = id as u64 + 1;
///     let mut dist = 1;
///     while dist < n {
///         if id + dist < n {
///             w.send(id + dist, sum).unwrap();
///         }
///         w.sync().unwrap();
///         sum += w.messages().map(|(_, m)| m).sum::<u64>();
///         dist *= 2;
///     }
///     sum
/// })
/// .unwrap();
/// assert_eq!(prefix, vec![1, 3, 6, 10]);
/// ```
#[cfg(not(any(gearset_loom, gearset_shuttle)))]
pub fn run<S, M, R, W, F>(
    participants: usize,
    wait: W,
    state: S,
    body: F,
) -> Result<(S, Vec<R>), BarrierError>
where
    S: Send,
    M: Send,
    R: Send,
    W: WaitStrategy,
    F: Fn(&mut Worker<S, M, W>) -> R + Sync,
{
    let (workers, exchange) = build(participants, wait, state)?;
    let barrier = workers[0].member.shared_handle();
    let outcomes = run_scoped(workers, &body);
    let mut results = Vec::with_capacity(outcomes.len());
    let mut panics = Vec::new();
    for (index, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(result) => results.push(result),
            Err(payload) => panics.push((index, payload)),
        }
    }
    if !panics.is_empty() {
        // Re-raise the panic that broke the barrier, not a later one it caused (for example
        // a peer's `sync().unwrap()` on `Broken`).
        let first = barrier.broken_by();
        let at = panics
            .iter()
            .position(|(index, _)| Some(*index) == first)
            .unwrap_or(0);
        std::panic::resume_unwind(panics.swap_remove(at).1);
    }
    let Ok(exchange) = Arc::try_unwrap(exchange) else {
        unreachable!("every worker was dropped when its scoped thread ended")
    };
    Ok((exchange.state.into_inner(), results))
}

#[cfg(not(any(gearset_loom, gearset_shuttle)))]
type Outcome<R> = Result<R, Box<dyn core::any::Any + Send + 'static>>;

/// Runs one scoped thread per worker and joins them all, keeping panics as payloads.
#[cfg(not(any(gearset_loom, gearset_shuttle)))]
#[allow(clippy::disallowed_methods)] // std::thread::scope: std-only runtime, see `run`.
fn run_scoped<S, M, R, W, F>(workers: Vec<Worker<S, M, W>>, body: &F) -> Vec<Outcome<R>>
where
    S: Send,
    M: Send,
    R: Send,
    W: WaitStrategy,
    F: Fn(&mut Worker<S, M, W>) -> R + Sync,
{
    std::thread::scope(|scope| {
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut worker| scope.spawn(move || body(&mut worker)))
            .collect();
        handles.into_iter().map(|handle| handle.join()).collect()
    })
}
