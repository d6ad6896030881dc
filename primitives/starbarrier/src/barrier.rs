//! The barrier: one monotone, single-writer epoch per participant.
//!
//! # Algorithm
//!
//! Participant `i` owns `epochs[i]`, the number of phases it has arrived at. Arriving at phase
//! `k` is one `store(k, Release)` to its own cache line (no read-modify-write). Phase `k` is
//! complete for a waiter once every *other* participant's epoch is `>= k` (`load(Acquire)`);
//! a participant that left stores [`LEFT`] (`u64::MAX`), which is `>=` every phase. The
//! waiter keeps a cursor over the peers it has already seen arrive, so each peer's line is
//! read until it arrives and never again in that phase.
//!
//! # Invariants (names shared with `tla/starbarrier/StarBarrier.tla`)
//!
//! - **EpochMonotone**: `epochs[i]` only grows; only member `i` (its handle, or its `Drop`)
//!   writes it. A stale read therefore only delays a waiter, never lets it pass early (the
//!   failure of the C original on weak memory, anchor section 1.4 bug 1).
//! - **NoEarlyPass** (`NoSkew` in the spec): a member passes phase `k` only after every
//!   participant that has not left has arrived at `k`; with the Release/Acquire pair, every
//!   write a participant made before arriving at `k` happens-before everything a waiter does
//!   after passing `k`.
//! - **BrokenIsFinal**: `broken` goes from "none" to one participant index once (a CAS) and
//!   never back; every waiter checks it whenever its phase is not complete, so nobody waits
//!   forever for a participant that panicked.

use core::fmt;

use gearset_sync::{
    Arc, CachePadded,
    atomic::{
        AtomicU64, AtomicUsize,
        Ordering::{Acquire, Relaxed, Release},
    },
    thread,
    wait::{TimedOut, WaitStrategy},
};

use crate::error::{BarrierError, WaitError};

/// Epoch of a participant that has left: counts as arrived at every phase.
pub(crate) const LEFT: u64 = u64::MAX;
/// Value of `broken` while no participant has panicked.
const NOT_BROKEN: usize = usize::MAX;

/// State shared by every member of one barrier.
pub(crate) struct Shared<W> {
    /// `epochs[i]`: phases participant `i` has arrived at, or [`LEFT`]. Written only by member
    /// `i` (single writer, monotone); read by every other member while it waits. One cache
    /// line each, so an arrival invalidates nobody else's epoch.
    epochs: Box<[CachePadded<AtomicU64>]>,
    /// Index of the first participant whose handle was dropped while panicking, or
    /// [`NOT_BROKEN`]. Written once (CAS) by that handle's `Drop`; read by waiters.
    broken: CachePadded<AtomicUsize>,
    /// How waiters wait; every epoch store is followed by `notify_all` on it.
    wait: W,
}

impl<W: WaitStrategy> Shared<W> {
    fn new(participants: usize, wait: W) -> Self {
        let epochs = (0..participants)
            .map(|_| CachePadded::new(AtomicU64::new(0)))
            .collect();
        Self {
            epochs,
            broken: CachePadded::new(AtomicUsize::new(NOT_BROKEN)),
            wait,
        }
    }

    pub(crate) fn participants(&self) -> usize {
        self.epochs.len()
    }

    /// Whether participant `index` has left. May turn `true` under the caller's feet, never
    /// back to `false`.
    pub(crate) fn has_left(&self, index: usize) -> bool {
        // Acquire: pairs with the Release store of LEFT in `Member::leave`; only a hint for
        // senders (no data is read after it). [TLA: Leave]
        self.epochs[index].load(Acquire) == LEFT
    }

    /// The participant whose panic broke the barrier, if any.
    #[cfg(not(any(gearset_loom, gearset_shuttle)))]
    pub(crate) fn broken_by(&self) -> Option<usize> {
        // Acquire: pairs with the CAS in `poison`; read after every thread was joined, so the
        // ordering is moot and only keeps the reasoning uniform. [TLA: Break]
        Some(self.broken.load(Acquire)).filter(|&index| index != NOT_BROKEN)
    }

    /// `Err(Broken)` once any participant has panicked.
    fn check_broken(&self) -> Result<(), BarrierError> {
        // Acquire: pairs with the CAS in `poison`; a waiter that fails here reads nothing
        // else, the ordering only keeps the report prompt and well-defined. [TLA: Break]
        match self.broken.load(Acquire) {
            NOT_BROKEN => Ok(()),
            participant => Err(BarrierError::Broken { participant }),
        }
    }

    /// One scan of the peers for phase `phase`, resuming at `*cursor` (the peers before it
    /// were seen arrived, and epochs never decrease). `None` while some peer has not arrived
    /// and the barrier is not broken.
    fn poll(&self, me: usize, phase: u64, cursor: &mut usize) -> Option<Result<u64, BarrierError>> {
        // With `starbarrier_skip_last_peer`, the scan stops one peer early: a pass when all
        // but one peer arrived (the spec's MutantSomeArrived), for the conformance suite.
        let end =
            self.epochs.len() - usize::from(gearset_sync::mutant::on("starbarrier_skip_last_peer"));
        while *cursor < end {
            let peer = *cursor;
            if peer != me && !self.arrived_at(peer, phase) {
                let Err(broken) = self.check_broken() else {
                    return None;
                };
                // Broken, but `peer` may have arrived since the load above: only a peer that
                // still has not arrived fails the phase (a phase the panicker had arrived at
                // completes). [TLA: LoadBrokenAcquire is this re-load together with `broken`]
                if !self.arrived_at(peer, phase) {
                    gearset_sync::trace_action!(
                        "LoadBrokenAcquire",
                        "pc'[SELF] = \"failed\" /\\ pc'[SELF] # pc[SELF]"
                    );
                    return Some(Err(broken));
                }
            }
            *cursor += 1;
        }
        gearset_sync::trace_action!(
            "PassPhase",
            "step'[SELF] = {phase} /\\ pc'[SELF] # pc[SELF]"
        );
        Some(Ok(phase))
    }

    /// Whether `peer` has arrived at `phase` (or left); records the spec's load on success.
    fn arrived_at(&self, peer: usize, phase: u64) -> bool {
        // Acquire: pairs with the Release store in `Shared::publish` (from `Member::arrive` or
        // `leave`) of `peer`: its superstep writes happen-before our pass. [TLA: LoadEpochAcquire]
        let arrived = self.epochs[peer].load(Acquire) >= phase;
        if arrived {
            gearset_sync::trace_action!(
                "LoadEpochAcquire",
                "seen'[SELF] = seen[SELF] \\cup {{{peer}}} /\\ seen'[SELF] # seen[SELF]"
            );
        }
        arrived
    }

    /// Publishes `epoch` for member `me` and wakes the waiters.
    fn publish(&self, me: usize, epoch: u64) {
        // Release: publishes every write of this member's superstep; pairs with the Acquire
        // load in `Shared::poll` (and `has_left`). Single writer, so a plain store suffices
        // where a central barrier needs a read-modify-write. [TLA: StoreEpochRelease, Leave]
        // (`starbarrier_relaxed_epoch` weakens it; loom must report the race.)
        let order = if gearset_sync::mutant::on("starbarrier_relaxed_epoch") {
            Relaxed
        } else {
            Release
        };
        self.epochs[me].store(epoch, order);
        if epoch == LEFT {
            gearset_sync::trace_action!("Leave", "pc'[SELF] = \"left\" /\\ pc'[SELF] # pc[SELF]");
        } else {
            gearset_sync::trace_action!(
                "StoreEpochRelease",
                "epoch'[SELF] = {epoch} /\\ pc'[SELF] = \"arrived\" /\\ pc'[SELF] # pc[SELF]"
            );
        }
        self.wait.notify_all();
    }

    /// Marks the barrier broken by `me` (first panicker wins) and wakes every waiter.
    fn poison(&self, me: usize) {
        // Release: orders the break after the panicking member's last writes; pairs with the
        // Acquire load in `check_broken`. Failure is Relaxed: someone else already broke it,
        // and we publish nothing. [TLA: Break]
        let won = self
            .broken
            .compare_exchange(NOT_BROKEN, me, Release, Relaxed)
            .is_ok();
        if won {
            gearset_sync::trace_action!("CasBroken", "broken' = SELF /\\ pc'[SELF] = \"crashed\"");
        }
        self.wait.notify_all();
    }
}

impl<W> fmt::Debug for Shared<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("participants", &self.epochs.len())
            .finish_non_exhaustive()
    }
}

/// Builds a barrier for `participants` threads and returns one [`Member`] handle each, in
/// index order. `wait` decides how members wait for each other (see
/// [`gearset_sync::wait`]); a timeout on it bounds every wait.
///
/// # Errors
///
/// [`BarrierError::ZeroParticipants`] if `participants == 0`.
///
/// ```
/// use gearset_starbarrier::barrier;
/// use gearset_sync::{thread, wait::Phased};
///
/// let members = barrier(3, Phased::new()).unwrap();
/// let handles: Vec<_> = members
///     .into_iter()
///     .map(|mut member| thread::spawn(move || (member.wait().unwrap(), member.wait().unwrap())))
///     .collect();
/// for handle in handles {
///     assert_eq!(handle.join().unwrap(), (1, 2));
/// }
/// ```
pub fn barrier<W: WaitStrategy>(
    participants: usize,
    wait: W,
) -> Result<Vec<Member<W>>, BarrierError> {
    if participants == 0 {
        return Err(BarrierError::ZeroParticipants);
    }
    let shared = Arc::new(Shared::new(participants, wait));
    Ok((0..participants)
        .map(|index| Member::new(Arc::clone(&shared), index))
        .collect())
}

/// Proof of one arrival, to be passed to [`Member::wait_token`] or [`Member::try_wait`].
///
/// Not `Clone`: a token is consumed by the wait that passes it, so it cannot be used twice.
/// A failed wait gives it back ([`WaitError::NotYet`]).
///
/// ```compile_fail
/// # use gearset_starbarrier::barrier;
/// # use gearset_sync::wait::BusySpin;
/// let mut members = barrier(1, BusySpin::new()).unwrap();
/// let token = members[0].arrive().unwrap();
/// members[0].wait_token(token).unwrap();
/// members[0].wait_token(token).unwrap(); // error: use of moved value
/// ```
#[must_use = "an arrival must be waited on before the member can arrive again"]
#[derive(Debug, PartialEq, Eq)]
pub struct ArrivalToken {
    /// Address of the issuing barrier's shared state.
    barrier: usize,
    /// Index of the issuing member.
    member: usize,
    /// The phase this arrival completes (1 for the first arrival).
    phase: u64,
}

impl ArrivalToken {
    /// The phase this arrival belongs to: 1 for a member's first arrival, then 2, 3, ...
    ///
    /// ```
    /// # use gearset_starbarrier::barrier;
    /// # use gearset_sync::wait::BusySpin;
    /// let mut members = barrier(1, BusySpin::new()).unwrap();
    /// let token = members[0].arrive().unwrap();
    /// assert_eq!(token.phase(), 1);
    /// # members[0].wait_token(token).unwrap();
    /// ```
    pub fn phase(&self) -> u64 {
        self.phase
    }
}

/// One participant's handle on a barrier.
///
/// A member arrives once per phase, then waits until every other member that has not left
/// has arrived too. [`wait`](Self::wait) does both; [`arrive`](Self::arrive) followed later by
/// [`wait_token`](Self::wait_token) or [`try_wait`](Self::try_wait) splits them, so the thread
/// can do other work in between (a *fuzzy* barrier).
///
/// `Send`, so it can move to its thread; every operation takes `&mut self`, so one thread
/// uses it at a time.
///
/// Dropping a member leaves the barrier, unless the thread is panicking: then the barrier is
/// *broken*, and every other member's current and later waits return
/// [`BarrierError::Broken`] instead of blocking forever.
pub struct Member<W: WaitStrategy> {
    shared: Arc<Shared<W>>,
    /// This member's index: it is the only writer of `shared.epochs[index]`.
    index: usize,
    /// Local copy of `shared.epochs[index]` (before leaving): phases arrived at.
    arrived: u64,
    /// Whether the arrival at phase `arrived` is still outstanding (not yet passed).
    pending: bool,
    /// Peers `0..cursor` were seen arrived at phase `arrived` (reset by `arrive`): a wait or
    /// `try_wait` resumes the scan there, so each peer's line is read until it arrives and
    /// never again in that phase.
    cursor: usize,
    /// Whether `leave` ran: every later operation fails with [`BarrierError::Left`].
    left: bool,
}

impl<W: WaitStrategy> Member<W> {
    fn new(shared: Arc<Shared<W>>, index: usize) -> Self {
        Self {
            shared,
            index,
            arrived: 0,
            pending: false,
            cursor: 0,
            left: false,
        }
    }

    /// This member's index, `0..participants()`.
    ///
    /// ```
    /// # use gearset_starbarrier::barrier;
    /// # use gearset_sync::wait::BusySpin;
    /// let members = barrier(2, BusySpin::new()).unwrap();
    /// assert_eq!(members[1].index(), 1);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The number of participants the barrier was built for (including those that left).
    ///
    /// ```
    /// # use gearset_starbarrier::barrier;
    /// # use gearset_sync::wait::BusySpin;
    /// let members = barrier(2, BusySpin::new()).unwrap();
    /// assert_eq!(members[0].participants(), 2);
    /// ```
    pub fn participants(&self) -> usize {
        self.shared.participants()
    }

    /// The number of phases this member has passed. Changes only through this handle.
    ///
    /// ```
    /// # use gearset_starbarrier::barrier;
    /// # use gearset_sync::wait::BusySpin;
    /// let mut members = barrier(1, BusySpin::new()).unwrap();
    /// members[0].wait().unwrap();
    /// assert_eq!(members[0].passed(), 1);
    /// ```
    pub fn passed(&self) -> u64 {
        self.arrived - u64::from(self.pending)
    }

    /// Arrives at the next phase and returns at once with a token to wait on.
    ///
    /// Everything this thread wrote before `arrive` is visible to every member after it
    /// passes the phase. Do not write data that other members read in this phase after
    /// arriving: they may already be past the barrier.
    ///
    /// # Errors
    ///
    /// [`BarrierError::Left`] after [`leave`](Self::leave); [`BarrierError::Broken`] if a
    /// member panicked; [`BarrierError::ArrivalPending`] if the previous token has not been
    /// passed.
    ///
    /// ```
    /// use gearset_starbarrier::{BarrierError, barrier};
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let mut members = barrier(1, BusySpin::new()).unwrap();
    /// let token = members[0].arrive().unwrap();
    /// assert_eq!(members[0].arrive().unwrap_err(), BarrierError::ArrivalPending);
    /// assert_eq!(members[0].wait_token(token).unwrap(), 1);
    /// ```
    pub fn arrive(&mut self) -> Result<ArrivalToken, BarrierError> {
        self.check_live()?;
        self.shared.check_broken().inspect_err(|_| {
            gearset_sync::trace_action!(
                "ArriveBroken",
                "pc'[SELF] = \"failed\" /\\ pc'[SELF] # pc[SELF]"
            );
        })?;
        if self.pending {
            return Err(BarrierError::ArrivalPending);
        }
        assert!(
            self.arrived < LEFT - 1,
            "starbarrier: phase counter exhausted"
        );
        self.arrived += 1;
        self.pending = true;
        self.cursor = 0;
        self.shared.publish(self.index, self.arrived);
        Ok(ArrivalToken {
            barrier: self.barrier_id(),
            member: self.index,
            phase: self.arrived,
        })
    }

    /// Arrives and waits until every member that has not left has arrived: one full barrier.
    /// Returns the phase passed (1, 2, ...).
    ///
    /// # Errors
    ///
    /// As [`arrive`](Self::arrive) and [`wait_token`](Self::wait_token).
    ///
    /// ```
    /// use gearset_starbarrier::barrier;
    /// use gearset_sync::{thread, wait::BusySpin};
    ///
    /// let mut members = barrier(2, BusySpin::new()).unwrap();
    /// let mut other = members.pop().unwrap();
    /// let peer = thread::spawn(move || other.wait());
    /// assert_eq!(members[0].wait(), Ok(1));
    /// assert_eq!(peer.join().unwrap(), Ok(1));
    /// ```
    pub fn wait(&mut self) -> Result<u64, WaitError> {
        let token = self.arrive()?;
        self.wait_token(token)
    }

    /// Waits, with the barrier's wait strategy, until the phase of `token` completes.
    ///
    /// # Errors
    ///
    /// [`WaitError::NotYet`] with the token if the strategy's timeout passed (the arrival
    /// stands: wait again); [`WaitError::Failed`] if the token is foreign, the member left,
    /// or the barrier is broken.
    ///
    /// After `Failed(Broken)`, the phase may still complete for the other members (when the
    /// participant that panicked had arrived at it): treat the data of the next phase as
    /// theirs, not this thread's.
    ///
    /// ```
    /// use gearset_starbarrier::barrier;
    /// use gearset_sync::{thread, wait::Yielding};
    ///
    /// let mut members = barrier(2, Yielding::new()).unwrap();
    /// let mut other = members.pop().unwrap();
    /// let peer = thread::spawn(move || other.wait());
    /// let token = members[0].arrive().unwrap();
    /// let mut idle_work = 0u64; // ... anything that does not touch the phase's shared data
    /// idle_work += 1;
    /// assert_eq!(members[0].wait_token(token), Ok(1));
    /// # assert_eq!(idle_work, 1);
    /// # peer.join().unwrap().unwrap();
    /// ```
    pub fn wait_token(&mut self, token: ArrivalToken) -> Result<u64, WaitError> {
        self.check_token(&token)?;
        let (shared, me, phase) = (&*self.shared, self.index, token.phase);
        let cursor = &mut self.cursor;
        match shared.wait.wait_for(|| shared.poll(me, phase, cursor)) {
            Ok(Ok(phase)) => {
                self.pending = false;
                Ok(phase)
            }
            Ok(Err(error)) => Err(WaitError::Failed(error)),
            Err(TimedOut) => Err(WaitError::NotYet(token)),
        }
    }

    /// Passes the phase of `token` if it has completed, without waiting.
    ///
    /// # Errors
    ///
    /// [`WaitError::NotYet`] with the token while some member has not arrived;
    /// [`WaitError::Failed`] as for [`wait_token`](Self::wait_token).
    ///
    /// ```
    /// use gearset_starbarrier::{WaitError, barrier};
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let mut members = barrier(2, BusySpin::new()).unwrap();
    /// let token = members[0].arrive().unwrap();
    /// let token = match members[0].try_wait(token) {
    ///     Err(WaitError::NotYet(token)) => token,
    ///     other => panic!("{other:?}"),
    /// };
    /// members[1].leave().unwrap();
    /// assert_eq!(members[0].try_wait(token), Ok(1));
    /// ```
    pub fn try_wait(&mut self, token: ArrivalToken) -> Result<u64, WaitError> {
        self.check_token(&token)?;
        match self.shared.poll(self.index, token.phase, &mut self.cursor) {
            Some(Ok(phase)) => {
                self.pending = false;
                Ok(phase)
            }
            Some(Err(error)) => Err(WaitError::Failed(error)),
            None => Err(WaitError::NotYet(token)),
        }
    }

    /// Leaves the barrier: this member counts as arrived at every phase from now on,
    /// including one it arrived at and has not passed. Later operations on this handle fail
    /// with [`BarrierError::Left`].
    ///
    /// # Errors
    ///
    /// [`BarrierError::Left`] if the member already left.
    ///
    /// ```
    /// use gearset_starbarrier::{BarrierError, WaitError, barrier};
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let mut members = barrier(2, BusySpin::new()).unwrap();
    /// members[1].leave().unwrap();
    /// assert_eq!(members[0].wait(), Ok(1)); // nobody to wait for
    /// assert_eq!(members[1].wait(), Err(WaitError::Failed(BarrierError::Left)));
    /// ```
    pub fn leave(&mut self) -> Result<(), BarrierError> {
        self.check_live()?;
        self.left = true;
        self.pending = false;
        self.shared.publish(self.index, LEFT);
        Ok(())
    }

    /// Whether this handle has left.
    ///
    /// ```
    /// # use gearset_starbarrier::barrier;
    /// # use gearset_sync::wait::BusySpin;
    /// let mut members = barrier(1, BusySpin::new()).unwrap();
    /// members[0].leave().unwrap();
    /// assert!(members[0].has_left());
    /// ```
    pub fn has_left(&self) -> bool {
        self.left
    }

    pub(crate) fn shared(&self) -> &Shared<W> {
        &self.shared
    }

    #[cfg(not(any(gearset_loom, gearset_shuttle)))]
    pub(crate) fn shared_handle(&self) -> Arc<Shared<W>> {
        Arc::clone(&self.shared)
    }

    fn barrier_id(&self) -> usize {
        (&raw const *self.shared).addr()
    }

    fn check_live(&self) -> Result<(), BarrierError> {
        if self.left {
            Err(BarrierError::Left)
        } else {
            Ok(())
        }
    }

    fn check_token(&self, token: &ArrivalToken) -> Result<(), BarrierError> {
        self.check_live()?;
        let ours = token.barrier == self.barrier_id() && token.member == self.index;
        if ours && self.pending && token.phase == self.arrived {
            Ok(())
        } else {
            Err(BarrierError::ForeignToken)
        }
    }
}

impl<W: WaitStrategy> Drop for Member<W> {
    fn drop(&mut self) {
        if self.left {
            return;
        }
        if thread::panicking() {
            self.shared.poison(self.index);
        } else {
            self.left = true;
            self.shared.publish(self.index, LEFT);
        }
    }
}

impl<W: WaitStrategy> fmt::Debug for Member<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Member")
            .field("index", &self.index)
            .field("participants", &self.participants())
            .field("arrived", &self.arrived)
            .field("pending", &self.pending)
            .field("left", &self.left)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use gearset_sync::wait::BusySpin;

    use super::*;

    #[test]
    fn single_member_passes_alone() {
        let mut members = barrier(1, BusySpin::new()).unwrap();
        assert_eq!(members[0].wait(), Ok(1));
        assert_eq!(members[0].wait(), Ok(2));
        assert_eq!(members[0].passed(), 2);
    }

    #[test]
    fn token_of_another_member_is_refused() {
        let mut members = barrier(2, BusySpin::new()).unwrap();
        let token0 = members[0].arrive().unwrap();
        let token1 = members[1].arrive().unwrap();
        assert_eq!(
            members[0].try_wait(token1),
            Err(WaitError::Failed(BarrierError::ForeignToken))
        );
        assert_eq!(members[0].try_wait(token0), Ok(1));
    }

    #[test]
    fn token_of_another_barrier_is_refused() {
        let mut a = barrier(1, BusySpin::new()).unwrap();
        let mut b = barrier(1, BusySpin::new()).unwrap();
        let token_a = a[0].arrive().unwrap();
        let token_b = b[0].arrive().unwrap();
        assert_eq!(
            b[0].wait_token(token_a),
            Err(WaitError::Failed(BarrierError::ForeignToken))
        );
        assert_eq!(b[0].wait_token(token_b), Ok(1));
    }

    #[test]
    fn drop_without_panic_leaves() {
        let mut members = barrier(2, BusySpin::new()).unwrap();
        drop(members.pop());
        assert_eq!(members[0].wait(), Ok(1));
    }
}
