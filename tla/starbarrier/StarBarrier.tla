---------------------------- MODULE StarBarrier ----------------------------
(***************************************************************************)
(* gearset-starbarrier: a BSP barrier built from per-participant monotone  *)
(* epochs, with mailboxes double-buffered by superstep parity and a serial *)
(* section that rotates over the participants (holder of superstep k is    *)
(* participant k % N).                                                     *)
(*                                                                         *)
(* Rust: primitives/starbarrier/src/{barrier,runtime}.rs. The table from   *)
(* every action to its Rust function and atomic operation is in README.md  *)
(* next to this file.                                                      *)
(*                                                                         *)
(* Model simplifications:                                                  *)
(*  - Each epoch load is one atomic step; a waiter's scan of the peers is  *)
(*    the set `seen` (the Rust cursor), filled one peer at a time.         *)
(*  - A message is its (sender, receiver, superstep) triple; a sender      *)
(*    sends at most one message to each other participant per superstep.  *)
(*  - Delivery (the receiver swapping its cells at the start of k+1) is    *)
(*    folded into the Pass action: the cells are the receiver's alone     *)
(*    then, which is what the invariants check.                           *)
(*  - At most one participant panics (MaxPanics = 1 is the interesting    *)
(*    case: the first panic decides `broken`).                            *)
(*  - Release/Acquire is modelled as sequential consistency; loom checks  *)
(*    the weak-memory side (models/tests/loom_starbarrier.rs).            *)
(*  - Two mutation switches, FALSE in every passing config:               *)
(*    MutantSomeArrived (pass once all but one peer arrived) and          *)
(*    MutantOneBuffer (one mailbox buffer for both parities).             *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, Sequences

\* ======================= Constants =======================
CONSTANTS
    N,                  \* number of participants (`barrier(n, ..)` / `run(n, ..)`)
    K,                  \* supersteps every worker runs before it finishes
    CanPanic,           \* whether one participant may panic
    Messages,           \* whether workers send messages (FALSE: barrier and serial section only)
    CanLeave,           \* whether a working participant may leave (after its run it always may)
    MutantSomeArrived,  \* BUG SWITCH: pass when N-2 peers (all but one) were seen
    MutantOneBuffer     \* BUG SWITCH: mailbox index ignores the superstep parity

Procs == 0 .. N - 1
Left == K + 1           \* `LEFT` (u64::MAX): counts as arrived at every phase
NoOne == N              \* `NOT_BROKEN` (usize::MAX)
Others(p) == Procs \ {p}
Par(k) == IF MutantOneBuffer THEN 0 ELSE k % 2
Terminal == {"done", "left", "crashed", "failed"}
\* Peers a waiter must have seen to pass (one fewer with the bug switch). A definition, not a
\* LET inside PassPhase: tla-checker does not name an action whose body is a LET, and the
\* conformance replay matches steps by action name.
Needed(p) == IF MutantSomeArrived THEN Cardinality(Others(p)) - 1
                                  ELSE Cardinality(Others(p))

\* ======================= Variables =======================
VARIABLES
    epoch,      \* Shared::epochs[p]: phases p arrived at, or Left (AtomicU64)
    pc,         \* where participant p's thread is: "work" (inside superstep step[p]),
                \* "arrived" (between Member::arrive and the pass), or a terminal state
    step,       \* Worker::superstep of p (= Member::passed)
    seen,       \* the waiter's cursor in Shared::poll: peers seen arrived this phase
    broken,     \* Shared::broken: first participant that panicked, or NoOne
    mail,       \* Exchange::mail[to][from][parity]: supersteps of the messages in the cell
    inCS,       \* participants inside Worker::serial's closure
    sent,       \* ghost: every message sent, as [from, to, k]
    recv,       \* ghost: every delivery, as [from, to, k, at] (at = receiver's new step)
    serialLog,  \* ghost: <<k, p>> for every serial section entered, in order
    gone        \* ghost: participants that left or panicked (for the refinement mapping)

vars == <<epoch, pc, step, seen, broken, mail, inCS, sent, recv, serialLog, gone>>

\* ======================= TypeOK =======================
Msg == [from : Procs, to : Procs, k : 0 .. K - 1]

TypeOK ==
    /\ epoch \in [Procs -> 0 .. Left]
    /\ pc \in [Procs -> {"work", "arrived"} \cup Terminal]
    /\ step \in [Procs -> 0 .. K]
    /\ seen \in [Procs -> SUBSET Procs]
    /\ broken \in Procs \cup {NoOne}
    /\ mail \in [Procs -> [Procs -> [{0, 1} -> SUBSET (0 .. K - 1)]]]
    /\ inCS \subseteq Procs
    /\ sent \subseteq Msg
    /\ recv \subseteq [from : Procs, to : Procs, k : 0 .. K - 1, at : 0 .. K]
    /\ gone = {p \in Procs : pc[p] \in {"left", "crashed"}}
    /\ Len(serialLog) <= K
    /\ \A i \in 1 .. Len(serialLog) : serialLog[i] \in (0 .. K - 1) \X Procs

\* ======================= Init =======================
Init ==
    /\ epoch = [p \in Procs |-> 0]
    /\ pc = [p \in Procs |-> "work"]
    /\ step = [p \in Procs |-> 0]
    /\ seen = [p \in Procs |-> {}]
    /\ broken = NoOne
    /\ mail = [t \in Procs |-> [f \in Procs |-> [b \in {0, 1} |-> {}]]]
    /\ inCS = {}
    /\ sent = {}
    /\ recv = {}
    /\ serialLog = << >>
    /\ gone = {}

\* ======================= Actions =======================

\* Worker::send(to, msg): push into mail[to][p][k % 2], unless `to` has left
\* (Shared::has_left, an Acquire load of epochs[to]).
PushMessage(p, q) ==
    /\ Messages
    /\ pc[p] = "work"
    /\ q # p
    /\ epoch[q] # Left
    /\ [from |-> p, to |-> q, k |-> step[p]] \notin sent
    /\ mail' = [mail EXCEPT ![q][p][Par(step[p])] = @ \cup {step[p]}]
    /\ sent' = sent \cup {[from |-> p, to |-> q, k |-> step[p]]}
    /\ UNCHANGED <<epoch, pc, step, seen, broken, inCS, recv, serialLog, gone>>

\* Worker::serial: enter the closure with &mut S when step % N = p, once per superstep.
EnterSerial(p) ==
    /\ pc[p] = "work"
    /\ step[p] % N = p
    /\ p \notin inCS
    /\ \A i \in 1 .. Len(serialLog) : serialLog[i] # <<step[p], p>>
    /\ inCS' = inCS \cup {p}
    /\ serialLog' = Append(serialLog, <<step[p], p>>)
    /\ UNCHANGED <<epoch, pc, step, seen, broken, mail, sent, recv, gone>>

\* The closure of Worker::serial returns.
ExitSerial(p) ==
    /\ p \in inCS
    /\ inCS' = inCS \ {p}
    /\ UNCHANGED <<epoch, pc, step, seen, broken, mail, sent, recv, serialLog, gone>>

\* Member::arrive: epochs[p].store(step + 1, Release) (Shared::publish). Split phase: the
\* thread may do other work until it passes. Not guarded by `broken = NoOne`: arrive checks
\* `broken` (Acquire) first, but a participant may break the barrier between that check and
\* the store (conformance found the guard too strong; the check is ArriveBroken's step).
StoreEpochRelease(p) ==
    /\ pc[p] = "work"
    /\ p \notin inCS
    /\ epoch' = [epoch EXCEPT ![p] = step[p] + 1]
    /\ pc' = [pc EXCEPT ![p] = "arrived"]
    /\ seen' = [seen EXCEPT ![p] = {}]
    /\ UNCHANGED <<step, broken, mail, inCS, sent, recv, serialLog, gone>>

\* Member::arrive finds the barrier broken: Err(Broken).
ArriveBroken(p) ==
    /\ pc[p] = "work"
    /\ p \notin inCS
    /\ broken # NoOne
    /\ pc' = [pc EXCEPT ![p] = "failed"]
    /\ UNCHANGED <<epoch, step, seen, broken, mail, inCS, sent, recv, serialLog, gone>>

\* Shared::poll: epochs[q].load(Acquire) >= phase moves the cursor past q.
LoadEpochAcquire(p, q) ==
    /\ pc[p] = "arrived"
    /\ q \in Others(p) \ seen[p]
    /\ epoch[q] >= step[p] + 1
    /\ seen' = [seen EXCEPT ![p] = @ \cup {q}]
    /\ UNCHANGED <<epoch, pc, step, broken, mail, inCS, sent, recv, serialLog, gone>>

\* Shared::poll returns Some(Ok): every peer seen. Worker::sync then delivers
\* (Worker::deliver swaps mail[p][f][k % 2] into its inbox) and enters superstep k + 1.
PassPhase(p) ==
    /\ pc[p] = "arrived"
    /\ Cardinality(seen[p]) >= Needed(p)
    /\ recv' = recv \cup {[from |-> f, to |-> p, k |-> j, at |-> step[p] + 1] :
                            f \in Procs, j \in mail[p][f][Par(step[p])]}
    /\ mail' = [mail EXCEPT ![p] = [f \in Procs |-> [@[f] EXCEPT ![Par(step[p])] = {}]]]
    /\ step' = [step EXCEPT ![p] = @ + 1]
    /\ pc' = [pc EXCEPT ![p] = (IF step[p] + 1 = K THEN "done" ELSE "work")]
    /\ UNCHANGED <<epoch, seen, broken, inCS, sent, serialLog, gone>>

\* Shared::poll returns Some(Err(Broken)): `broken` is set and a peer still has not arrived
\* (the code re-loads that peer's epoch after reading `broken`, so this is one step).
LoadBrokenAcquire(p) ==
    /\ pc[p] = "arrived"
    /\ broken # NoOne
    /\ \E q \in Others(p) \ seen[p] : epoch[q] < step[p] + 1
    /\ pc' = [pc EXCEPT ![p] = "failed"]
    /\ UNCHANGED <<epoch, step, seen, broken, mail, inCS, sent, recv, serialLog, gone>>

\* Member::leave (or Drop without a panic): epochs[p].store(LEFT, Release). Drop also runs
\* after the last superstep ("done") and after a failed wait or arrival ("failed"): a
\* worker's handle is dropped when its thread returns.
Leave(p) ==
    /\ pc[p] \in {"work", "arrived", "done", "failed"}
    /\ (CanLeave \/ pc[p] \in {"done", "failed"})
    /\ p \notin inCS
    /\ epoch' = [epoch EXCEPT ![p] = Left]
    /\ pc' = [pc EXCEPT ![p] = "left"]
    /\ gone' = gone \cup {p}
    /\ UNCHANGED <<step, seen, broken, mail, inCS, sent, recv, serialLog>>

\* Member's Drop while panicking: broken.compare_exchange(NOT_BROKEN, p, Release, Relaxed).
CasBroken(p) ==
    /\ CanPanic
    /\ broken = NoOne
    /\ pc[p] \in {"work", "arrived"}
    /\ broken' = p
    /\ pc' = [pc EXCEPT ![p] = "crashed"]
    /\ inCS' = inCS \ {p}
    /\ gone' = gone \cup {p}
    /\ UNCHANGED <<epoch, step, seen, mail, sent, recv, serialLog>>

\* Every thread has returned: the run is over (stutter, so the model has no deadlock).
Finished ==
    /\ \A p \in Procs : pc[p] \in Terminal
    /\ UNCHANGED vars

\* The steps a participant's thread is obliged to take (weak fairness).
Progress(p) ==
    \/ ExitSerial(p)
    \/ StoreEpochRelease(p)
    \/ ArriveBroken(p)
    \/ \E q \in Procs : LoadEpochAcquire(p, q)
    \/ PassPhase(p)
    \/ LoadBrokenAcquire(p)

\* One disjunct per action, so that a recorded trace (models/tests/conformance_starbarrier.rs)
\* names each step by its action.
Next ==
    \/ \E p \in Procs : ExitSerial(p)
    \/ \E p \in Procs : StoreEpochRelease(p)
    \/ \E p \in Procs : ArriveBroken(p)
    \/ \E p, q \in Procs : LoadEpochAcquire(p, q)
    \/ \E p \in Procs : PassPhase(p)
    \/ \E p \in Procs : LoadBrokenAcquire(p)
    \/ \E p, q \in Procs : PushMessage(p, q)
    \/ \E p \in Procs : EnterSerial(p)
    \/ \E p \in Procs : Leave(p)
    \/ \E p \in Procs : CasBroken(p)
    \/ Finished

\* ======================= Invariants =======================

\* No participant works in superstep k + 1 while another still works in k.
NoSkew ==
    \A p, q \in Procs :
        (pc[p] = "work" /\ pc[q] = "work") => step[p] = step[q]

\* Live participants are never more than one superstep apart.
StepsClose ==
    \A p, q \in Procs :
        ({pc[p], pc[q]} \subseteq {"work", "arrived"}) => step[p] <= step[q] + 1

\* EpochMonotone in barrier.rs, as a state predicate: a live participant's epoch is
\* its step, or step + 1 while it has arrived and not passed.
EpochMatchesStep ==
    \A p \in Procs :
        /\ pc[p] = "work" => epoch[p] = step[p]
        /\ pc[p] = "arrived" => epoch[p] = step[p] + 1

\* At most one participant is inside the serial section.
SerialExclusive == Cardinality(inCS) <= 1

\* Serial sections are entered in superstep order, each by participant k % N.
SerialRotates ==
    \A i \in 1 .. Len(serialLog) :
        /\ serialLog[i][2] = serialLog[i][1] % N
        /\ i > 1 => serialLog[i - 1][1] < serialLog[i][1]

\* A message sent in superstep k is delivered in k + 1, and at most once.
DeliveredInNextStep == \A r \in recv : r.at = r.k + 1

DeliveredAtMostOnce ==
    \A r1, r2 \in recv :
        (r1.from = r2.from /\ r1.to = r2.to /\ r1.k = r2.k) => r1.at = r2.at

\* ... and at least once, to every receiver that passed superstep k.
DeliveredAtLeastOnce ==
    \A m \in sent :
        step[m.to] > m.k => \E r \in recv : r.from = m.from /\ r.to = m.to /\ r.k = m.k

\* Everything delivered was sent.
NoPhantoms ==
    \A r \in recv : [from |-> r.from, to |-> r.to, k |-> r.k] \in sent

\* ======================= Properties =======================

\* Broken-barrier propagation terminates: every thread eventually finishes, fails, leaves
\* or panics (no thread waits forever).
AllTerminate == <>(\A p \in Procs : pc[p] \in Terminal)

\* ======================= Spec =======================
Spec == Init /\ [][Next]_vars /\ \A p \in Procs : WF_vars(Progress(p))

\* Refinement: StarBarrier implements the abstract barrier of BarrierSpec.tla, where
\* arriving and passing are single atomic steps (epoch = arrived, step = passed, and the
\* ghost `gone`). Check with `--check-refinement Abstract`.
Abstract == INSTANCE BarrierSpec

=============================================================================
