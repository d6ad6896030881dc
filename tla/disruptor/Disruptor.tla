------------------------------ MODULE Disruptor ------------------------------
(***************************************************************************)
(* The multi-producer disruptor of gearset-disruptor (primitives/disruptor) *)
(* with a two-stage consumer graph and shutdown.                            *)
(*                                                                         *)
(* What it models that the public Disruptor specs leave out:               *)
(*  - the claim (fetch_add) and the gating check are separate steps, and   *)
(*    the gating check uses a per-producer cached gate that is refreshed   *)
(*    only when it cannot prove room (LMAX's gatingSequenceCache);         *)
(*  - batch claims of 1..MaxClaim sequences, written slot by slot, then    *)
(*    published flag by flag (publishers interleave: out-of-order publish);*)
(*  - per-slot availability flags holding seq + 1, scanned by the consumer;*)
(*  - consumer batches up to MaxBatch with one cursor store per batch;     *)
(*  - a pipeline: consumer "a" after the publisher, "b" after "a"; only    *)
(*    "b" gates the producers (it is the final consumer);                  *)
(*  - shutdown: fetch_or of the closed bit on the claim counter, then the  *)
(*    store of `end`; consumers drain up to `end` and stop.                *)
(*                                                                         *)
(* Model simplifications:                                                  *)
(*  - sequential consistency (loom checks the Acquire/Release orderings);  *)
(*  - a consumer's availability scan is one atomic step (flags only move   *)
(*    forward, so a snapshot is one of the outcomes of the real scan);     *)
(*  - wait strategies are not modelled (tla/sync/EventCount.tla); the     *)
(*    single-producer flavor (SP), a diamond (Diamond) and handler panics  *)
(*    (Panics) are, each switched by a constant;                           *)
(*  - a claim that finds the ring closed does not bump the counter (the    *)
(*    real fetch_add does; nothing reads the counter past `end`);          *)
(*  - sequences are bounded by MaxSeq.                                     *)
(*                                                                         *)
(* Bug selects a mutant (see mutants/): 0 = the implementation.            *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

\* ============================== Constants ================================
CONSTANTS
    Producers,  \* producer handles (model values)
    Size,       \* ring capacity
    MaxSeq,     \* sequences the producers may claim in all
    MaxClaim,   \* largest batch claim (publish_batch n)
    MaxBatch,   \* consumer max_batch_size
    SP,         \* TRUE: the single-producer flavor (flavors/single.rs); FALSE: multi (multi.rs)
    Diamond,    \* TRUE: consumers "a" and "c" after the publisher, "b" after both (a join)
    Panics,     \* TRUE: a handler may panic (halt the graph, close the ring)
    Bug         \* 0: none; 1: consumer reads the claim counter; 2: producer ignores gating;
                \* 3: the single producer checks `closed` before announcing its claim;
                \* 4: a producer waiting for room ignores the halt

Consumers == IF Diamond THEN {"a", "c", "b"} ELSE {"a", "b"}
Upstream == [c \in Consumers |-> IF c = "b" THEN Consumers \ {"b"} ELSE {}]
Final == {"b"}
NoEnd == MaxSeq + 1
Min(S) == CHOOSE m \in S : \A x \in S : m <= x

\* ============================== Variables ================================
VARIABLES
    claim,     \* Multi.claim bits 0..63: next unclaimed sequence (SP: the producer's Local.next)
    claimed,   \* SP only: Announce.claimed, the end of the last announced claim
    published, \* SP only: Single.published, every sequence below it is published
    closed,    \* Multi.claim bit 63 (CLOSED)
    closePc,   \* the closer (Disruptor::shutdown -> Multi::close / Single::close):
               \* "open", "reading" (SP: between the swap and the load of `claimed`), "setting", "closed"
    closeVal,  \* the closer's local `prev` from fetch_or
    endSeq,    \* Control.end (NoEnd = NO_END)
    avail,     \* Multi.available[i]: seq + 1 of the last publish in slot i (0: never)
    slot,      \* Ring.slots[i]: seq + 1 of the event last written there (0: factory value)
    ppc,       \* producer program counter (Producer::publish_batch / Multi::claim)
    lo, hi,    \* producer locals: the claimed range lo..hi-1
    cur,       \* producer local: slot being written / flag being published
    gate,      \* Local.gate: cached lower bound of the final consumers' cursors
    cursor,    \* Links.cursor of each consumer
    cpc,       \* consumer program counter (Processor::run)
    rd, bhi,   \* consumer locals: sequence being read, end of the current batch
    log,       \* history: values (seq + 1) each consumer's handler saw, in order
    halted     \* Control.halted: a handler panicked

vars == <<claim, claimed, published, closed, closePc, closeVal, endSeq, avail, slot, ppc, lo, hi, cur,
          gate, cursor, cpc, rd, bhi, log, halted>>

\* =============================== TypeOK ==================================
Idx == 0..(Size - 1)
SeqVal == 0..MaxSeq
TypeOK ==
    /\ claim \in SeqVal
    /\ claimed \in SeqVal
    /\ published \in SeqVal
    /\ closed \in BOOLEAN
    /\ closePc \in {"open", "reading", "setting", "closed"}
    /\ closeVal \in SeqVal
    /\ endSeq \in 0..NoEnd
    /\ avail \in [Idx -> SeqVal]
    /\ slot \in [Idx -> SeqVal]
    /\ ppc \in [Producers -> {"idle", "announce", "check", "room", "refresh", "write", "publish", "done"}]
    /\ lo \in [Producers -> SeqVal]
    /\ hi \in [Producers -> SeqVal]
    /\ cur \in [Producers -> SeqVal]
    /\ gate \in [Producers -> SeqVal]
    /\ cursor \in [Consumers -> SeqVal]
    /\ cpc \in [Consumers -> {"wait", "read", "release", "done"}]
    /\ rd \in [Consumers -> SeqVal]
    /\ bhi \in [Consumers -> SeqVal]
    /\ log \in [Consumers -> Seq(1..MaxSeq)]
    /\ \A c \in Consumers : Len(log[c]) <= MaxSeq
    /\ halted \in BOOLEAN

\* ================================ Init ===================================
Init ==
    /\ claim = 0
    /\ claimed = 0
    /\ published = 0
    /\ closed = FALSE
    /\ closePc = "open"
    /\ closeVal = 0
    /\ endSeq = NoEnd
    /\ avail = [i \in Idx |-> 0]
    /\ slot = [i \in Idx |-> 0]
    /\ ppc = [p \in Producers |-> "idle"]
    /\ lo = [p \in Producers |-> 0]
    /\ hi = [p \in Producers |-> 0]
    /\ cur = [p \in Producers |-> 0]
    /\ gate = [p \in Producers |-> 0]
    /\ cursor = [c \in Consumers |-> 0]
    /\ cpc = [c \in Consumers |-> "wait"]
    /\ rd = [c \in Consumers |-> 0]
    /\ bhi = [c \in Consumers |-> 0]
    /\ log = [c \in Consumers |-> << >>]
    /\ halted = FALSE

\* =============================== Actions =================================
consumerVars == <<cursor, cpc, rd, bhi, log, halted>>
closeVars == <<closed, closePc, closeVal, endSeq>>

\* Multi::claim: prev = claim.fetch_add(n); Closed if the bit is set.
FetchAddClaim(p, n) ==
    /\ ~SP
    /\ ppc[p] = "idle"
    /\ claim + n <= MaxSeq
    /\ IF closed
         THEN /\ ppc' = [ppc EXCEPT ![p] = "done"]
              /\ UNCHANGED <<claimed, published, claim, lo, hi, cur>>
         ELSE /\ claim' = claim + n
              /\ lo' = [lo EXCEPT ![p] = claim]
              /\ hi' = [hi EXCEPT ![p] = claim + n]
              /\ cur' = [cur EXCEPT ![p] = claim]
              /\ ppc' = [ppc EXCEPT ![p] = "room"]
    /\ UNCHANGED <<claimed, published, closeVars, avail, slot, gate, consumerVars>>

\* The bounded model has no more sequences to hand out.
Exhausted(p) ==
    /\ ppc[p] = "idle"
    /\ claim = MaxSeq
    /\ ppc' = [ppc EXCEPT ![p] = "done"]
    /\ UNCHANGED <<claimed, published, claim, closeVars, avail, slot, lo, hi, cur, gate, consumerVars>>

\* Control::has_room, first half: the cached gate proves room, or refresh it.
CheckRoomCached(p) ==
    /\ ppc[p] = "room"
    /\ ppc' = [ppc EXCEPT ![p] =
                 IF hi[p] <= gate[p] + Size \/ Bug = 2 THEN "write" ELSE "refresh"]
    /\ UNCHANGED <<claimed, published, claim, closeVars, avail, slot, lo, hi, cur, gate, consumerVars>>

\* Control::min_gating: Acquire loads of the final consumers' cursors into the cache.
ReadGate(p) ==
    /\ ppc[p] = "refresh"
    /\ gate' = [gate EXCEPT ![p] = Min({cursor[c] : c \in Final})]
    /\ ppc' = [ppc EXCEPT ![p] = "room"]
    /\ UNCHANGED <<claimed, published, claim, closeVars, avail, slot, lo, hi, cur, consumerVars>>

\* Ring::write of sequence cur[p] (the caller's closure).
WriteSlot(p) ==
    /\ ppc[p] = "write"
    /\ slot' = [slot EXCEPT ![cur[p] % Size] = cur[p] + 1]
    /\ IF cur[p] + 1 = hi[p]
         THEN /\ ppc' = [ppc EXCEPT ![p] = "publish"]
              /\ cur' = [cur EXCEPT ![p] = lo[p]]
         ELSE /\ cur' = [cur EXCEPT ![p] = cur[p] + 1]
              /\ UNCHANGED ppc
    /\ UNCHANGED <<claimed, published, claim, closeVars, avail, lo, hi, gate, consumerVars>>

\* Multi::publish: available[seq & mask].store(seq + 1, Release), one flag per step.
PublishFlag(p) ==
    /\ ~SP
    /\ ppc[p] = "publish"
    /\ avail' = [avail EXCEPT ![cur[p] % Size] = cur[p] + 1]
    /\ IF cur[p] + 1 = hi[p]
         THEN /\ ppc' = [ppc EXCEPT ![p] = "idle"]
              /\ UNCHANGED cur
         ELSE /\ cur' = [cur EXCEPT ![p] = cur[p] + 1]
              /\ UNCHANGED ppc
    /\ UNCHANGED <<claimed, published, claim, closeVars, slot, lo, hi, gate, consumerVars>>

\* Multi::close: prev = claim.fetch_or(CLOSED).
CloseFetchOr ==
    /\ ~SP
    /\ closePc = "open"
    /\ closed' = TRUE
    /\ closeVal' = claim
    /\ closePc' = "setting"
    /\ UNCHANGED <<claimed, published, endSeq, claim, avail, slot, ppc, lo, hi, cur, gate, consumerVars>>

\* Control::set_end: end.store(prev, Release).
SetEnd ==
    /\ closePc = "setting"
    /\ endSeq' = closeVal
    /\ closePc' = "closed"
    /\ UNCHANGED <<claimed, published, closed, closeVal, claim, avail, slot, ppc, lo, hi, cur, gate, consumerVars>>

\* ------------------- single-producer flavor (flavors/single.rs) -------------------
spUnchanged == <<avail, slot, gate, consumerVars>>

\* Single::claim, announce: claimed.store(hi), then (next step) the light barrier and the load
\* of `closed`. With Bug = 3 the producer checks `closed` first and announces after.
SPAnnounce(p, n) ==
    /\ SP
    /\ ppc[p] = "idle"
    /\ claim + n <= MaxSeq
    /\ lo' = [lo EXCEPT ![p] = claim]
    /\ hi' = [hi EXCEPT ![p] = claim + n]
    /\ cur' = [cur EXCEPT ![p] = claim]
    /\ (IF Bug = 3
          THEN /\ ppc' = [ppc EXCEPT ![p] = IF closed THEN "done" ELSE "announce"]
               /\ UNCHANGED claimed
          ELSE /\ claimed' = claim + n
               /\ ppc' = [ppc EXCEPT ![p] = "check"])
    /\ UNCHANGED <<claim, published, closeVars, spUnchanged>>

\* Bug = 3 only: the announce after the (too early) check.
SPLateAnnounce(p) ==
    /\ ppc[p] = "announce"
    /\ claimed' = hi[p]
    /\ claim' = hi[p]
    /\ ppc' = [ppc EXCEPT ![p] = "room"]
    /\ UNCHANGED <<published, closeVars, lo, hi, cur, spUnchanged>>

\* Single::announce, after the barrier: not closed, or closed with the claim below the end
\* (proceed); closed at or past the end: Closed, nothing written. Waits for `end` (wait_end).
SPCheckClosed(p) ==
    /\ ppc[p] = "check"
    /\ (~closed \/ endSeq # NoEnd)
    /\ (IF ~closed \/ lo[p] < endSeq
          THEN /\ ppc' = [ppc EXCEPT ![p] = "room"]
               /\ claim' = hi[p]
          ELSE /\ ppc' = [ppc EXCEPT ![p] = "done"]
               /\ UNCHANGED claim)
    /\ UNCHANGED <<claimed, published, closeVars, lo, hi, cur, spUnchanged>>

\* Single::publish: published.store(hi, Release), one store per batch.
SPPublish(p) ==
    /\ SP
    /\ ppc[p] = "publish"
    /\ published' = hi[p]
    /\ ppc' = [ppc EXCEPT ![p] = "idle"]
    /\ UNCHANGED <<claim, claimed, closeVars, lo, hi, cur, spUnchanged>>

\* Single::close: closed.swap(true), the heavy barrier ...
SPCloseSwap ==
    /\ SP
    /\ closePc = "open"
    /\ closed' = TRUE
    /\ closePc' = "reading"
    /\ UNCHANGED <<claim, claimed, published, closeVal, endSeq, ppc, lo, hi, cur, spUnchanged>>

\* ... then end = claimed.load() (SetEnd stores it).
SPCloseRead ==
    /\ closePc = "reading"
    /\ closeVal' = claimed
    /\ closePc' = "setting"
    /\ UNCHANGED <<claim, claimed, published, closed, endSeq, ppc, lo, hi, cur, spUnchanged>>

Published(s) == IF SP THEN s < published ELSE avail[s % Size] = s + 1

\* Multi::available: scan the flags from `from` while they match, up to `limit`.
Scan(from, limit) ==
    CHOOSE h \in from..limit :
        /\ \A s \in from..(h - 1) : Published(s)
        /\ (h = limit \/ ~Published(h))

\* Barrier::available for consumer c, bounded by its batch limit.
Available(c) ==
    LET limit == cursor[c] + MaxBatch IN
    IF Upstream[c] = {}
      THEN (IF SP THEN Min({published, limit})
            ELSE IF Bug = 1 THEN Min({claim, limit}) ELSE Scan(cursor[c], limit))
      ELSE Min({cursor[u] : u \in Upstream[c]} \cup {limit})

\* Links::poll_state: a batch is available (ScanAvailable / ReadUpstream), or the stream
\* ended (ReadEnd). Neither: the consumer waits (no step).
ConsumerWait(c) ==
    /\ cpc[c] = "wait"
    /\ LET h == Available(c) IN
         \/ /\ h > cursor[c]
            /\ cpc' = [cpc EXCEPT ![c] = "read"]
            /\ bhi' = [bhi EXCEPT ![c] = h]
            /\ rd' = [rd EXCEPT ![c] = cursor[c]]
         \/ /\ h <= cursor[c]
            /\ (endSeq <= cursor[c] \/ halted)
            /\ cpc' = [cpc EXCEPT ![c] = "done"]
            /\ UNCHANGED <<claimed, published, bhi, rd>>
    /\ UNCHANGED <<claimed, published, cursor, log, halted, claim, closeVars, avail, slot, ppc, lo, hi, cur, gate>>

\* Ring::read + the handler on sequence rd[c].
ReadSlot(c) ==
    /\ cpc[c] = "read"
    /\ log' = [log EXCEPT ![c] = Append(@, slot[rd[c] % Size])]
    /\ IF rd[c] + 1 = bhi[c]
         THEN /\ cpc' = [cpc EXCEPT ![c] = "release"]
              /\ UNCHANGED rd
         ELSE /\ rd' = [rd EXCEPT ![c] = rd[c] + 1]
              /\ UNCHANGED cpc
    /\ UNCHANGED <<claimed, published, cursor, bhi, halted, claim, closeVars, avail, slot, ppc, lo, hi, cur, gate>>

\* Links::release: cursor.store(hi, Release), once per batch.
ReleaseCursor(c) ==
    /\ cpc[c] = "release"
    /\ cursor' = [cursor EXCEPT ![c] = bhi[c]]
    /\ cpc' = [cpc EXCEPT ![c] = "wait"]
    /\ UNCHANGED <<claimed, published, rd, bhi, log, halted, claim, closeVars, avail, slot, ppc, lo, hi, cur, gate>>

\* The handler panics on rd[c] (Processor::run's `Progress` guard): the events before it are
\* released, the graph halts (Control::halt); the guard also closes the ring, which is the
\* closer's steps (always enabled, and fair).
Panic(c) ==
    /\ Panics
    /\ cpc[c] = "read"
    /\ cursor' = [cursor EXCEPT ![c] = rd[c]]
    /\ cpc' = [cpc EXCEPT ![c] = "done"]
    /\ halted' = TRUE
    /\ UNCHANGED <<claimed, published, rd, bhi, log, claim, closeVars, avail, slot, ppc, lo, hi, cur, gate>>

\* Control::wait_for_room sees the halt: the claim returns Closed (its slots stay unpublished).
GiveUp(p) ==
    /\ Bug # 4
    /\ halted
    /\ ppc[p] \in {"room", "refresh"}
    /\ ppc' = [ppc EXCEPT ![p] = "done"]
    /\ UNCHANGED <<claimed, published, claim, closeVars, avail, slot, lo, hi, cur, gate, consumerVars>>

\* Everything finished: the run ends here (Disruptor::shutdown returned).
Done ==
    /\ \A p \in Producers : ppc[p] = "done"
    /\ \A c \in Consumers : cpc[c] = "done"
    /\ UNCHANGED vars

ProducerStep(p) ==
    \/ \E n \in 1..MaxClaim : FetchAddClaim(p, n)
    \/ \E n \in 1..MaxClaim : SPAnnounce(p, n)
    \/ SPLateAnnounce(p)
    \/ SPCheckClosed(p)
    \/ SPPublish(p)
    \/ Exhausted(p)
    \/ CheckRoomCached(p)
    \/ ReadGate(p)
    \/ WriteSlot(p)
    \/ PublishFlag(p)

ConsumerStep(c) == ConsumerWait(c) \/ ReadSlot(c) \/ ReleaseCursor(c)

\* One disjunct per action (not ProducerStep/ConsumerStep), so that a trace or a random
\* behaviour names the action that took each step (models/tests/conformance_disruptor.rs).
Next ==
    \/ \E p \in Producers : \E n \in 1..MaxClaim : FetchAddClaim(p, n)
    \/ \E p \in Producers : Exhausted(p)
    \/ \E p \in Producers : CheckRoomCached(p)
    \/ \E p \in Producers : ReadGate(p)
    \/ \E p \in Producers : WriteSlot(p)
    \/ \E p \in Producers : PublishFlag(p)
    \/ \E p \in Producers : \E n \in 1..MaxClaim : SPAnnounce(p, n)
    \/ \E p \in Producers : SPLateAnnounce(p)
    \/ \E p \in Producers : SPCheckClosed(p)
    \/ \E p \in Producers : SPPublish(p)
    \/ \E c \in Consumers : ConsumerWait(c)
    \/ \E c \in Consumers : ReadSlot(c)
    \/ \E c \in Consumers : ReleaseCursor(c)
    \/ \E c \in Consumers : Panic(c)
    \/ \E p \in Producers : GiveUp(p)
    \/ CloseFetchOr
    \/ SPCloseSwap
    \/ SPCloseRead
    \/ SetEnd
    \/ Done

\* ============================== Invariants ===============================
\* A producer writes sequence s only after every consumer finished s - Size.
NoOverwriteUnread ==
    \A p \in Producers :
        ppc[p] = "write" => \A c \in Consumers : cur[p] < cursor[c] + Size

\* A consumer reads only a published slot that no producer is writing.
NoReadUnpublished ==
    \A c \in Consumers :
        cpc[c] = "read" =>
            /\ Published(rd[c])
            /\ ~\E p \in Producers : ppc[p] = "write" /\ cur[p] % Size = rd[c] % Size

\* Each consumer sees sequence i (value i + 1) as its (i + 1)-th event: every sequence
\* exactly once, in order, and the event written for it.
InOrderExactlyOnce ==
    \A c \in Consumers : \A i \in 1..Len(log[c]) : log[c][i] = i

\* Downstream never passes upstream.
StageOrder ==
    \A c \in Consumers : \A u \in Upstream[c] : cursor[c] <= cursor[u]

\* A consumer that stopped handled every sequence before the end, and nothing after it.
DrainedAtEnd ==
    \A c \in Consumers : (cpc[c] = "done" /\ ~halted) => (endSeq # NoEnd /\ Len(log[c]) = endSeq)

\* After a panic, a consumer never handles an event its upstream did not complete (StageOrder
\* and NoReadUnpublished already say so); and a stopped consumer never exceeds the end.
StoppedWithinEnd ==
    \A c \in Consumers : cpc[c] = "done" => (endSeq = NoEnd \/ Len(log[c]) <= endSeq)

\* Nothing is written or published past the end: a claim that proceeds lies wholly before
\* `end` (so the consumers drain it), the one that gets Closed writes nothing. (SP: the
\* announce/close handshake; MP: the fetch_add/fetch_or order on one counter.)
NothingPastEnd ==
    endSeq # NoEnd =>
        /\ \A p \in Producers : ppc[p] \in {"write", "publish"} => hi[p] <= endSeq
        /\ (SP => published <= endSeq)

\* ================================ Spec ===================================
Fairness ==
    /\ \A p \in Producers : WF_vars(ProducerStep(p))
    \* The wait loop checks the halt on every round (Control::refresh_or_wait): a producer
    \* that keeps refreshing a gate that never moves does give up.
    /\ \A p \in Producers : WF_vars(GiveUp(p))
    /\ \A c \in Consumers : WF_vars(ConsumerStep(c))
    /\ WF_vars(CloseFetchOr)
    /\ WF_vars(SPCloseSwap)
    /\ WF_vars(SPCloseRead)
    /\ WF_vars(SetEnd)

Spec == Init /\ [][Next]_vars /\ Fairness

\* Liveness: every published event is eventually handled by every consumer, and the run ends.
EveryPublishedEventHandled ==
    \A s \in 0..(MaxSeq - 1) : \A c \in Consumers :
        Published(s) ~> (Len(log[c]) > s \/ halted)
\* ... and nobody hangs: every consumer stops and every producer finishes (Exhausted, or
\* Closed: after a close, or after a halt while it waited for room).
Terminates ==
    <>(/\ \A c \in Consumers : cpc[c] = "done"
       /\ \A p \in Producers : ppc[p] = "done")
=============================================================================
