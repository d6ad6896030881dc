----------------------------- MODULE AtomicBcastNoGate -----------------------------
(***************************************************************************)
(* MUTANT of AtomicBcast: writers ignore the gate.                        *)
(* atomic-bcast (gearset-bcast): a many-writer, many-reader broadcast ring *)
(* of sequence-stamped slots, in both slow-reader policies.                *)
(*                                                                         *)
(* Writers claim dense sequence numbers (FetchAddTail), pass the gate      *)
(* (Backpressure) or not (Overwrite), wait for the slot's previous lap,    *)
(* lock the slot (Overwrite), write, and store the slot's stamp seq+1.     *)
(* Readers own cursors: a stamp equal to cursor+1 means "my message", a    *)
(* smaller one "not yet", a larger one "lapped: report Lagged(n)".         *)
(*                                                                         *)
(* Checked: ReceivedIsExact (every received value is the message at the   *)
(* reader's cursor: no torn, stale or ABA value; lost messages are exactly *)
(* the cursor jumps reported as Lagged(n)), NoOverwriteUnread and          *)
(* NoLagInBackpressure (Backpressure), NoTornRead (Overwrite: a writer     *)
(* never writes while a reader holds the slot's read lock),                *)
(* GateBelowCursors. Liveness (Backpressure, fair readers and writers):    *)
(* EveryMessageReceived.                                                   *)
(*                                                                         *)
(* Model simplifications:                                                  *)
(* - The value write and the Release stamp store are one step             *)
(*   (StoreStampRelease) after a WriteBegin step that marks the value     *)
(*   half-written (Busy); memory-order effects are loom's job.            *)
(* - A reader's clone is one atomic read of the slot; a torn clone shows   *)
(*   up as reading Busy or a value other than its cursor.                  *)
(* - Subscriber's private and published cursors are one variable (the    *)
(*   code publishes after each receive; the published one is only lower). *)
(* - Wait strategies are implicit: a waiting action is simply disabled.   *)
(* - A gate rescan reads the cursors one by one (no lock on the readers'  *)
(*   side), so a reader may move on between its load and the gate store:  *)
(*   with SnapshotGate the new gate is any value up to the current minimum *)
(*   (every loaded cursor was a cursor at some instant, cursors only grow).*)
(*   SnapshotGate = FALSE (exact minimum) is for single-threaded replay.  *)
(* - A lapped reader loads the stamp (Newer) and the tail (LoadTailLag) in *)
(*   two steps, as the code does.                                          *)
(* - Stamps are stored modulo StampMod. StampMod > MaxSeq + 1 models the  *)
(*   64-bit stamp (no wrap within the model); a small StampMod models the *)
(*   original 8-bit generation (mutant).                                  *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

\* ------------------------------- Constants -------------------------------
CONSTANTS
    Writers,        \* writer ids (Publisher handles)
    Readers,        \* reader ids (Subscriber handles)
    LateReaders,    \* readers that subscribe later (subset of Readers)
    Cap,            \* ring capacity (Shared::mask + 1)
    MaxSeq,         \* messages sent in total
    StampMod,       \* stamp width: stamps are stored modulo StampMod
    Overwrite,      \* TRUE: Policy::Overwrite, FALSE: Policy::Backpressure
    CheckStamps,    \* FALSE: mutant: readers trust the tail, not the stamps
    SnapshotGate    \* TRUE: a gate rescan may store any value up to the minimum (see above)

ASSUME Cap \in Nat \ {0} /\ MaxSeq \in Nat /\ StampMod \in Nat \ {0}
ASSUME LateReaders \subseteq Readers

Slots == 0..(Cap - 1)
Slot(s) == s % Cap
Enc(x) == x % StampMod
Busy == -2          \* a half-written value
NoValue == -1       \* the contents of a slot never written
None == -3          \* a reader that received nothing yet (or since its last lag)
Values == {None, Busy, NoValue} \cup (0..MaxSeq)
WriterPcs == {"idle", "claimed", "gated", "locking", "draining", "write", "writing", "unlock", "done"}
ReaderPcs == {"idle", "lock", "locked", "loaded", "lagged"}

\* ------------------------------- Variables -------------------------------
VARIABLES
    tail,       \* Shared::tail: next sequence number to claim
    gate,       \* Shared::gate: lower bound of live readers' cursors (Backpressure)
    stamp,      \* Slot::stamp, per slot: Enc(seq + 1) of the message held, 0 if never
    val,        \* Slot::value, per slot: the message held (Busy while half-written)
    wlock,      \* Slot::lock WRITER bit, per slot
    rcount,     \* Slot::lock reader count, per slot
    wpc,        \* writer program counter (Publisher::send / Slot::publish)
    wseq,       \* the sequence number the writer claimed (local `seq` in send)
    rpc,        \* reader program counter (Subscriber::try_recv / Slot::read_*)
    cursor,     \* Subscriber::state.next (and its published copy Subscriber::cursor)
    live,       \* registered in Shared::registry
    started,    \* has subscribed (LateReaders start unsubscribed)
    recv,       \* the value the reader's last clone returned (None: none since start or lag)
    lost        \* sum of the n in the reader's Lagged(n) reports

vars == <<tail, gate, stamp, val, wlock, rcount, wpc, wseq, rpc, cursor, live, started, recv, lost>>

\* ------------------------------- TypeOK ----------------------------------
TypeOK ==
    /\ tail \in 0..MaxSeq
    /\ gate \in 0..MaxSeq
    /\ stamp \in [Slots -> 0..(StampMod - 1)]
    /\ val \in [Slots -> Values]
    /\ wlock \in [Slots -> BOOLEAN]
    /\ rcount \in [Slots -> 0..Cardinality(Readers)]
    /\ wpc \in [Writers -> WriterPcs]
    /\ wseq \in [Writers -> 0..MaxSeq]
    /\ rpc \in [Readers -> ReaderPcs]
    /\ cursor \in [Readers -> 0..MaxSeq]
    /\ live \in [Readers -> BOOLEAN]
    /\ started \in [Readers -> BOOLEAN]
    /\ recv \in [Readers -> Values]
    /\ lost \in [Readers -> 0..MaxSeq]

\* ------------------------------- Init ------------------------------------
Init ==
    /\ tail = 0
    /\ gate = 0
    /\ stamp = [i \in Slots |-> 0]
    /\ val = [i \in Slots |-> NoValue]
    /\ wlock = [i \in Slots |-> FALSE]
    /\ rcount = [i \in Slots |-> 0]
    /\ wpc = [w \in Writers |-> "idle"]
    /\ wseq = [w \in Writers |-> 0]
    /\ rpc = [r \in Readers |-> "idle"]
    /\ cursor = [r \in Readers |-> 0]
    /\ live = [r \in Readers |-> r \notin LateReaders]
    /\ started = [r \in Readers |-> r \notin LateReaders]
    /\ recv = [r \in Readers |-> None]
    /\ lost = [r \in Readers |-> 0]

\* ------------------------------- Helpers ---------------------------------
LiveReaders == {r \in Readers : live[r]}
Min(S) == CHOOSE x \in S : \A y \in S : x <= y
Max2(a, b) == IF a >= b THEN a ELSE b
\* Shared::advance_gate_locked: min of the registered cursors, or the tail if none.
GateTarget == Max2(gate, IF LiveReaders = {} THEN tail ELSE Min({cursor[r] : r \in LiveReaders}))
\* The stamp the slot of `s` must hold before `s` may be written (Slot::publish `previous`).
\* The values a gate rescan may store when the exact new gate is `target` (see SnapshotGate).
GateChoices(target) == IF SnapshotGate THEN gate..target ELSE {target}
PrevStamp(s) == IF s >= Cap THEN Enc(s - Cap + 1) ELSE 0

\* ------------------------------- Actions: writers ------------------------
\* Publisher::send: reader_count() == 0 -> SendError (the writer gives up here).
SendNoReader(w) ==
    /\ wpc[w] = "idle" /\ tail < MaxSeq /\ LiveReaders = {}
    /\ wpc' = [wpc EXCEPT ![w] = "done"]
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, rcount, wseq, rpc, cursor, live, started, recv, lost>>

\* Publisher::send: tail.fetch_add(1, Relaxed).
FetchAddTail(w) ==
    /\ wpc[w] = "idle" /\ tail < MaxSeq /\ LiveReaders # {}
    /\ wseq' = [wseq EXCEPT ![w] = tail]
    /\ tail' = tail + 1
    /\ wpc' = [wpc EXCEPT ![w] = (IF Overwrite THEN "gated" ELSE "claimed")]
    /\ UNCHANGED <<gate, stamp, val, wlock, rcount, rpc, cursor, live, started, recv, lost>>

\* Shared::wait_for_room fast path: gate.load(Acquire), seq < gate + capacity.
CheckGate(w) ==
    /\ wpc[w] = "claimed"   \* MUTANT: no `wseq[w] < gate + Cap`
    /\ wpc' = [wpc EXCEPT ![w] = "gated"]
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, rcount, wseq, rpc, cursor, live, started, recv, lost>>

\* Shared::advance_gate (writer slow path, under the registry lock): cursors load(Acquire)
\* one by one, gate.store(Release). Any claimed writer may rescan (the code rescans on every
\* wake-up of its slow path, also after another thread has raised the gate).
AdvanceGate(w) ==
    /\ wpc[w] = "claimed"
    /\ \E g \in GateChoices(GateTarget) : gate' = g /\ g # gate
    /\ UNCHANGED <<tail, stamp, val, wlock, rcount, wpc, wseq, rpc, cursor, live, started, recv, lost>>

\* Slot::publish: wait until stamp.load(Acquire) == previous.
WaitPrevLap(w) ==
    /\ wpc[w] = "gated" /\ stamp[Slot(wseq[w])] = PrevStamp(wseq[w])
    /\ wpc' = [wpc EXCEPT ![w] = (IF Overwrite THEN "locking" ELSE "write")]
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, rcount, wseq, rpc, cursor, live, started, recv, lost>>

\* Slot::lock_write: lock.fetch_or(WRITER, Acquire) until the bit was clear.
LockWrite(w) ==
    /\ wpc[w] = "locking" /\ ~wlock[Slot(wseq[w])]
    /\ wlock' = [wlock EXCEPT ![Slot(wseq[w])] = TRUE]
    /\ wpc' = [wpc EXCEPT ![w] = "draining"]
    /\ UNCHANGED <<tail, gate, stamp, val, rcount, wseq, rpc, cursor, live, started, recv, lost>>

\* Slot::lock_write: wait until lock.load(Acquire) & READERS == 0.
WaitReadersZero(w) ==
    /\ wpc[w] = "draining" /\ rcount[Slot(wseq[w])] = 0
    /\ wpc' = [wpc EXCEPT ![w] = "write"]
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, rcount, wseq, rpc, cursor, live, started, recv, lost>>

\* Slot::publish: move the old value out (dropped later, owned), start writing the new one.
WriteBegin(w) ==
    /\ wpc[w] = "write"
    /\ val' = [val EXCEPT ![Slot(wseq[w])] = Busy]
    /\ wpc' = [wpc EXCEPT ![w] = "writing"]
    /\ UNCHANGED <<tail, gate, stamp, wlock, rcount, wseq, rpc, cursor, live, started, recv, lost>>

\* Slot::publish: finish the value, stamp.store(seq + 1, Release).
StoreStampRelease(w) ==
    /\ wpc[w] = "writing"
    /\ val' = [val EXCEPT ![Slot(wseq[w])] = wseq[w]]
    /\ stamp' = [stamp EXCEPT ![Slot(wseq[w])] = Enc(wseq[w] + 1)]
    /\ wpc' = [wpc EXCEPT ![w] = (IF Overwrite THEN "unlock" ELSE "idle")]
    /\ UNCHANGED <<tail, gate, wlock, rcount, wseq, rpc, cursor, live, started, recv, lost>>

\* Slot::publish: lock.fetch_and(!WRITER, Release).
UnlockWrite(w) ==
    /\ wpc[w] = "unlock"
    /\ wlock' = [wlock EXCEPT ![Slot(wseq[w])] = FALSE]
    /\ wpc' = [wpc EXCEPT ![w] = "idle"]
    /\ UNCHANGED <<tail, gate, stamp, val, rcount, wseq, rpc, cursor, live, started, recv, lost>>

\* ------------------------------- Actions: readers ------------------------
MySlot(r) == Slot(cursor[r])
Ready(r) == IF CheckStamps THEN stamp[MySlot(r)] = Enc(cursor[r] + 1) ELSE cursor[r] < tail
Newer(r) == CheckStamps /\ stamp[MySlot(r)] > Enc(cursor[r] + 1)

\* ReaderState::skip_lost: resume at max(next + 1, tail - capacity), report Lagged(n).
LagTo(r) == Max2(cursor[r] + 1, IF tail >= Cap THEN tail - Cap ELSE 0)
DoLag(r) ==
    /\ lost' = [lost EXCEPT ![r] = @ + (LagTo(r) - cursor[r])]
    /\ cursor' = [cursor EXCEPT ![r] = LagTo(r)]
    /\ recv' = [recv EXCEPT ![r] = None]

\* Slot::stamp(): stamp.load(Acquire) at the cursor, classified (Stamp::classify).
LoadStampAcquire(r) ==
    /\ live[r] /\ rpc[r] = "idle" /\ cursor[r] < MaxSeq
    /\ \/ /\ Ready(r)
          /\ rpc' = [rpc EXCEPT ![r] = (IF Overwrite THEN "lock" ELSE "loaded")]
          /\ UNCHANGED <<cursor, recv, lost>>
       \/ /\ Newer(r)
          /\ rpc' = [rpc EXCEPT ![r] = "lagged"]
          /\ UNCHANGED <<cursor, recv, lost>>
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, rcount, wpc, wseq, live, started>>

\* Backpressure: Slot::read_gated's clone, then Publication::publish (Release).
CloneGated(r) ==
    /\ rpc[r] = "loaded"
    /\ recv' = [recv EXCEPT ![r] = val[MySlot(r)]]
    /\ cursor' = [cursor EXCEPT ![r] = @ + 1]
    /\ rpc' = [rpc EXCEPT ![r] = "idle"]
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, rcount, wpc, wseq, live, started, lost>>

\* Overwrite: Slot::read_locked: lock.fetch_add(1, Acquire); WRITER set -> undo, Empty.
LockRead(r) ==
    /\ rpc[r] = "lock"
    /\ (IF wlock[MySlot(r)]
           THEN /\ rpc' = [rpc EXCEPT ![r] = "idle"]      \* LockReadBusy
                /\ UNCHANGED rcount
           ELSE /\ rcount' = [rcount EXCEPT ![MySlot(r)] = @ + 1]
                /\ rpc' = [rpc EXCEPT ![r] = "locked"])
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, wpc, wseq, cursor, live, started, recv, lost>>

\* Overwrite: re-check the stamp under the read lock, clone, ReadGuard::drop (fetch_sub).
RecheckStamp(r) ==
    /\ rpc[r] = "locked"
    /\ rcount' = [rcount EXCEPT ![MySlot(r)] = @ - 1]
    /\ (IF ~CheckStamps \/ stamp[MySlot(r)] = Enc(cursor[r] + 1)
           THEN /\ rpc' = [rpc EXCEPT ![r] = "idle"]
                /\ recv' = [recv EXCEPT ![r] = val[MySlot(r)]]
                /\ cursor' = [cursor EXCEPT ![r] = @ + 1]
                /\ UNCHANGED lost
           ELSE /\ rpc' = [rpc EXCEPT ![r] = "lagged"]
                /\ UNCHANGED <<cursor, recv, lost>>)
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, wpc, wseq, live, started>>

\* ReaderState::skip_lost after a Newer stamp: tail.load(Relaxed), jump, report Lagged(n).
LoadTailLag(r) ==
    /\ rpc[r] = "lagged"
    /\ DoLag(r)
    /\ rpc' = [rpc EXCEPT ![r] = "idle"]
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, rcount, wpc, wseq, live, started>>

\* Shared::register (under the registry lock): StartAt::Next or StartAt::Oldest.
Subscribe(r) ==
    /\ ~started[r]
    /\ \E start \in {tail,
                     (IF Overwrite THEN (IF tail >= Cap THEN tail - Cap ELSE 0) ELSE gate)}:
          cursor' = [cursor EXCEPT ![r] = (IF Overwrite THEN start ELSE Max2(start, gate))]
    /\ live' = [live EXCEPT ![r] = TRUE]
    /\ started' = [started EXCEPT ![r] = TRUE]
    /\ UNCHANGED <<tail, gate, stamp, val, wlock, rcount, wpc, wseq, rpc, recv, lost>>

\* Subscriber::drop -> Shared::unregister: remove, advance the gate (Backpressure).
Unsubscribe(r) ==
    /\ live[r] /\ rpc[r] = "idle"
    /\ live' = [live EXCEPT ![r] = FALSE]
    /\ gate' \in (IF Overwrite THEN {gate}
                  ELSE GateChoices(Max2(gate, (IF LiveReaders = {r} THEN tail
                                               ELSE Min({cursor[q] : q \in LiveReaders \ {r}})))))
    /\ UNCHANGED <<tail, stamp, val, wlock, rcount, wpc, wseq, rpc, cursor, started, recv, lost>>

\* Every message sent and every live reader drained: the model's end (no deadlock).
Terminated ==
    /\ \A w \in Writers : wpc[w] \in {"idle", "done"}
    /\ \/ tail = MaxSeq
       \/ \A w \in Writers : wpc[w] = "done"
    /\ \A r \in Readers : rpc[r] = "idle" /\ (~live[r] \/ cursor[r] >= tail)
Done == Terminated /\ UNCHANGED vars

WriterStep(w) ==
    \/ SendNoReader(w) \/ FetchAddTail(w) \/ CheckGate(w) \/ AdvanceGate(w)
    \/ WaitPrevLap(w) \/ LockWrite(w) \/ WaitReadersZero(w) \/ WriteBegin(w)
    \/ StoreStampRelease(w) \/ UnlockWrite(w)

ReaderStep(r) ==
    \/ LoadStampAcquire(r) \/ CloneGated(r) \/ LockRead(r) \/ RecheckStamp(r)
    \/ LoadTailLag(r)

\* One disjunct per action, so that traces and random behaviours name actions, not groups.
Next ==
    \/ \E w \in Writers : SendNoReader(w)
    \/ \E w \in Writers : FetchAddTail(w)
    \/ \E w \in Writers : CheckGate(w)
    \/ \E w \in Writers : AdvanceGate(w)
    \/ \E w \in Writers : WaitPrevLap(w)
    \/ \E w \in Writers : LockWrite(w)
    \/ \E w \in Writers : WaitReadersZero(w)
    \/ \E w \in Writers : WriteBegin(w)
    \/ \E w \in Writers : StoreStampRelease(w)
    \/ \E w \in Writers : UnlockWrite(w)
    \/ \E r \in Readers : LoadStampAcquire(r)
    \/ \E r \in Readers : CloneGated(r)
    \/ \E r \in Readers : LockRead(r)
    \/ \E r \in Readers : RecheckStamp(r)
    \/ \E r \in Readers : LoadTailLag(r)
    \/ \E r \in Readers : Subscribe(r)
    \/ \E r \in Readers : Unsubscribe(r)
    \/ Done

\* ------------------------------- Invariants ------------------------------
\* Every received value is exactly the message before the reader's cursor: never Busy
\* (torn), never an older or newer lap (ABA). Lost messages are exactly the cursor jumps,
\* which DoLag reports as Lagged(n).
ReceivedIsExact ==
    \A r \in Readers : recv[r] = None \/ recv[r] = cursor[r] - 1

\* Backpressure: a writer never writes over a message a live reader has not received.
NoOverwriteUnread ==
    ~Overwrite =>
        \A w \in Writers : wpc[w] \in {"writing"} =>
            \A r \in LiveReaders : wseq[w] < cursor[r] + Cap

\* Backpressure: no reader ever reports a loss.
NoLagInBackpressure == ~Overwrite => \A r \in Readers : lost[r] = 0

\* Overwrite: a writer never writes a slot while a reader holds its read lock.
NoTornRead ==
    \A w \in Writers : wpc[w] \in {"write", "writing"} => rcount[Slot(wseq[w])] = 0

\* Backpressure: the gate never passes a live reader's cursor.
GateBelowCursors == ~Overwrite => \A r \in LiveReaders : gate <= cursor[r]

\* ------------------------------- Spec ------------------------------------
Spec == Init /\ [][Next]_vars

FairSpec ==
    /\ Spec
    /\ \A w \in Writers : WF_vars(WriterStep(w))
    /\ \A r \in Readers : WF_vars(ReaderStep(r))

\* With fair readers and writers, every reader that stays subscribed gets to the end of the
\* sequence (Backpressure: by receiving every message, as NoLagInBackpressure shows).
EveryMessageReceived == <>(\A r \in Readers : started[r] /\ (~live[r] \/ cursor[r] = MaxSeq))
=============================================================================
