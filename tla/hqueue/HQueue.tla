------------------------------ MODULE HQueue ------------------------------
(***************************************************************************)
(* The gearset-hqueue queue tree (primitives/hqueue/src/{leaf,worker,tree, *)
(* handles,frames}.rs): a root, G group queues (an L3 or a NUMA node) and  *)
(* P leaf rings per group, one worker per leaf, an outside injector and an *)
(* outside stealer.                                                        *)
(*                                                                         *)
(* A leaf is a lock-free ring holding items of ONE frame at a time; each   *)
(* action on it is one compare-and-swap of its head (a pop, a thief's      *)
(* claim, the owner's own claim for a spill) or the owner's tail store (a  *)
(* push). A shared queue (group, root) is frame buckets under a mutex;     *)
(* each action on it is one critical section. Items in transit between    *)
(* two such steps sit in a worker's private buffer: `inflight` (a spill on *)
(* its way up) or `batch` (the rest of a climb's batch on its way down).   *)
(*                                                                         *)
(* Model simplifications (each a superset of the code's behaviours):       *)
(*  - A queue is a set of item ids; item i has frame Frame(i). Within a    *)
(*    frame any item may come out (the code is FIFO).                      *)
(*  - PushUp and PriorityTake have no guard on the leaf: the code decides  *)
(*    them on reads that a thief may invalidate before the lock is taken.  *)
(*  - SpillClaim may claim half or all of the ring at any time (the code: *)
(*    half of a full ring, or all of it before a lower frame moves in).    *)
(*  - Hints are read exactly: under shuttle the code's Relaxed hints are   *)
(*    stored inside the critical section, before the step is recorded.    *)
(*                                                                         *)
(* One worker per leaf: a leaf two workers share (Placement::PerPu), with  *)
(* its ring at slot level and the owners' lock, is HQueueShared.tla.       *)
(*                                                                         *)
(* AtomicClaim = FALSE makes a climb's claim copy its items without        *)
(* removing them from the victim; SkipLevel = TRUE lets a climb take from  *)
(* the root ring before searching its own group; AnyFrame = TRUE lets a    *)
(* take from a shared queue return any frame. The mutants set them.        *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

\* ------------------------------ Constants ------------------------------
CONSTANTS
    G,            \* groups under the root (each: an L3 or NUMA node)
    P,            \* leaves (workers) per group
    NItems,       \* items 1..NItems; item n is owned by worker ((n-1) % (W+1)) + 1, or the injector
    Cap,          \* Config::leaf_capacity; a group queue holds Cap * P
    MaxBatch,     \* min(Config::max_batch, Config::leaf_capacity)
    AtomicClaim,  \* TRUE: a claim removes what it takes (the real code)
    SkipLevel,    \* FALSE: a climb searches its group ring completely first (the real code)
    AnyFrame,     \* FALSE: a take from a shared queue returns its lowest frame (the real code)
    Thief         \* TRUE: an outside Stealer takes from the rings (StealOne)

W == G * P
Items == 1..NItems
Frame(i) == i % 2
Frames == 0..1
Root == <<0, 0>>
Group(g) == <<g, 0>>
Leaf(g, j) == <<g, j>>
Workers == {Leaf(g, j) : g \in 1..G, j \in 1..P}
Shared == {Root} \cup {Group(g) : g \in 1..G}
Queues == Shared \cup Workers
\* Worker k (1..W) is Leaf(((k-1) \div P) + 1, ((k-1) % P) + 1); index W+1 is the injector.
WorkerOf(k) == Leaf(((k - 1) \div P) + 1, ((k - 1) % P) + 1)
OwnerIndex(i) == ((i - 1) % (W + 1)) + 1
Owned(w) == {i \in Items : OwnerIndex(i) <= W /\ WorkerOf(OwnerIndex(i)) = w}
Injected == {i \in Items : OwnerIndex(i) = W + 1}

\* Names the conformance traces use: the code's leaf l (0-based) and a worker's k-th ancestor.
LeafQ(l) == WorkerOf(l + 1)
UpOf(w, k) == IF k = 1 THEN Group(w[1]) ELSE Root
FramesOf(S) == {Frame(i) : i \in S}

\* The climb order of worker w = <<g, j>>: ring 1 is its group's queue and its siblings;
\* ring 2 is the root, the other groups and their leaves (tree.rs `plan`).
Dist(w, q) ==
    CASE q = w -> 0
      [] q = Group(w[1]) \/ q[1] = w[1] -> 1
      [] OTHER -> 2
Candidates(w) == Queues \ {w}
Ancestors(w) == {Group(w[1]), Root}

Min(S) == CHOOSE x \in S : \A y \in S : x <= y
MinFrame(S) == Min(FramesOf(S))
Half(n) == (n + 1) \div 2
BatchSize(n) == IF Half(n) < MaxBatch THEN Half(n) ELSE MaxBatch

\* ------------------------------ Variables ------------------------------
VARIABLES
    content,    \* per queue: a leaf's ring [real, tail), or a shared queue's FrameQueue
    pushed,     \* the items handed to Worker::push / Injector::push so far
    taken,      \* per item: how many times a pop or steal returned it to a caller
    inflight,   \* per worker: items claimed from its ring, not yet in a shared queue (Worker::spill)
    batch,      \* per worker: the rest of a climb's batch, not yet on its ring (Worker::batch)
    climbing,   \* per worker: inside Worker::climb
    searched,   \* per worker: queues its current climb found empty ({} between climbs)
    nearestOk,  \* per worker: every climb so far took only after it found all nearer queues empty
    frameOk     \* per worker: every take so far returned the lowest frame of its queue

vars == <<content, pushed, taken, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* ------------------------------ TypeOK ------------------------------
TypeOK ==
    /\ content \in [Queues -> SUBSET Items]
    /\ pushed \subseteq Items
    /\ taken \in [Items -> 0..3]
    /\ inflight \in [Workers -> SUBSET Items]
    /\ batch \in [Workers -> SUBSET Items]
    /\ climbing \in [Workers -> BOOLEAN]
    /\ searched \in [Workers -> SUBSET Queues]
    /\ nearestOk \in [Workers -> BOOLEAN]
    /\ frameOk \in [Workers -> BOOLEAN]

\* ------------------------------ Init ------------------------------
Init ==
    /\ content = [q \in Queues |-> {}]
    /\ pushed = {}
    /\ taken = [i \in Items |-> 0]
    /\ inflight = [w \in Workers |-> {}]
    /\ batch = [w \in Workers |-> {}]
    /\ climbing = [w \in Workers |-> FALSE]
    /\ searched = [w \in Workers |-> {}]
    /\ nearestOk = [w \in Workers |-> TRUE]
    /\ frameOk = [w \in Workers |-> TRUE]

\* ------------------------------ Actions ------------------------------

\* Worker w took item i from a queue holding S: counted, and its frame checked.
Took(w, i, S) ==
    /\ taken' = [taken EXCEPT ![i] = @ + 1]
    /\ frameOk' = [frameOk EXCEPT ![w] = @ /\ Frame(i) = MinFrame(S)]

\* Every queue nearer to w than v was found empty during the current climb.
NearerSearched(w, v) == \A q \in Candidates(w) : Dist(w, q) < Dist(w, v) => q \in searched[w]

\* The owner is between calls: not climbing, nothing in transit.
Idle(w) == ~climbing[w] /\ inflight[w] = {} /\ batch[w] = {}

\* The shared queues a spill of n items may go to: the group if they all fit, and the root
\* (worker::spill checks the group's room under the group's lock, then locks the root: by
\* then a take may have made room in the group).
SpillDests(w, n) ==
    (IF Cardinality(content[Group(w[1])]) + n <= Cap * P THEN {Group(w[1])} ELSE {}) \cup {Root}

\* Leaf::push (from Worker::push): an empty ring takes the item's frame; otherwise the item must
\* have the ring's frame, and the ring must have room.
PushLocal(w, i) ==
    /\ Idle(w)
    /\ i \in Owned(w) \ pushed
    /\ content[w] = {} \/ FramesOf(content[w]) = {Frame(i)}
    /\ Cardinality(content[w]) < Cap
    /\ pushed' = pushed \cup {i}
    /\ content' = [content EXCEPT ![w] = @ \cup {i}]
    /\ UNCHANGED <<taken, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* Worker::push with a higher frame than the ring's: worker::spill locks the nearest shared
\* queue with room and pushes the item there.
PushUp(w, i) ==
    /\ Idle(w)
    /\ i \in Owned(w) \ pushed
    /\ pushed' = pushed \cup {i}
    /\ \E dest \in SpillDests(w, 1) : content' = [content EXCEPT ![dest] = @ \cup {i}]
    /\ UNCHANGED <<taken, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* Leaf::claim_own: the owner claims part of its ring (one CAS of head) to spill it.
SpillClaim(w) ==
    /\ Idle(w)
    /\ \E S \in SUBSET content[w] :
         /\ S # {}
         /\ Cardinality(S) \in {Cardinality(content[w]) \div 2, Cardinality(content[w])}
         /\ inflight' = [inflight EXCEPT ![w] = S]
         /\ content' = [content EXCEPT ![w] = @ \ S]
    /\ UNCHANGED <<pushed, taken, batch, climbing, searched, nearestOk, frameOk>>

\* worker::spill: the claimed items go to the nearest shared queue with room for all of them.
SpillPut(w) ==
    /\ inflight[w] # {}
    /\ \E dest \in SpillDests(w, Cardinality(inflight[w])) :
         content' = [content EXCEPT ![dest] = @ \cup inflight[w]]
    /\ inflight' = [inflight EXCEPT ![w] = {}]
    /\ UNCHANGED <<pushed, taken, batch, climbing, searched, nearestOk, frameOk>>

\* Injector::push: lock the root, push.
Inject(i) ==
    /\ i \in Injected \ pushed
    /\ pushed' = pushed \cup {i}
    /\ content' = [content EXCEPT ![Root] = @ \cup {i}]
    /\ UNCHANGED <<taken, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* Leaf::pop (Worker::pop_local): one CAS of head takes the oldest item of the ring (whose
\* items all have one frame).
PopLocal(w) ==
    /\ Idle(w)
    /\ \E i \in content[w] :
         /\ content' = [content EXCEPT ![w] = @ \ {i}]
         /\ taken' = [taken EXCEPT ![i] = @ + 1]
         /\ Took(w, i, content[w])
    /\ UNCHANGED <<pushed, inflight, batch, climbing, searched, nearestOk>>

\* A take of one item of the lowest frame of shared queue q (any frame with AnyFrame).
TakeOne(w, q, i) ==
    /\ i \in content[q]
    /\ AnyFrame \/ Frame(i) = MinFrame(content[q])
    /\ Took(w, i, content[q])

\* Worker::priority_take: one item from an ancestor whose frame hint was below the ring's.
PriorityTake(w, a) ==
    /\ Idle(w)
    /\ a \in Ancestors(w)
    /\ \E i \in content[a] :
         /\ TakeOne(w, a, i)
         /\ content' = [content EXCEPT ![a] = @ \ {i}]
    /\ UNCHANGED <<pushed, inflight, batch, climbing, searched, nearestOk>>

\* Worker::climb begins: Leaf::pop found the ring empty.
StartClimb(w) ==
    /\ Idle(w)
    /\ content[w] = {}
    /\ climbing' = [climbing EXCEPT ![w] = TRUE]
    /\ searched' = [searched EXCEPT ![w] = {}]
    /\ UNCHANGED <<content, pushed, taken, inflight, batch, nearestOk, frameOk>>

\* The queues w may examine next: all of ring 1 first (unless SkipLevel), then ring 2.
NextQueues(w) ==
    {q \in Candidates(w) \ searched[w] :
        SkipLevel \/ \A r \in Candidates(w) : Dist(w, r) < Dist(w, q) => r \in searched[w]}

\* Worker::take_batch sees an empty queue (a ring's head and tail, a shared queue's hint or
\* its locked contents).
LoadLenEmpty(w, q) ==
    /\ climbing[w]
    /\ q \in NextQueues(w)
    /\ content[q] = {}
    /\ searched' = [searched EXCEPT ![w] = @ \cup {q}]
    /\ UNCHANGED <<content, pushed, taken, inflight, batch, climbing, nearestOk, frameOk>>

\* worker::claim_batch: one claim (a ring's CAS, or a shared queue's critical section) takes
\* BatchSize items of the victim's lowest frame (a ring holds one frame; a shared queue's batch
\* stops at the end of its lowest bucket). The first is returned, the rest go to `batch`.
\* Without AtomicClaim the victim keeps its copies (the mutant).
ClaimBatch(w, v) ==
    /\ climbing[w]
    /\ v \in NextQueues(w)
    /\ content[v] # {}
    /\ LET low == {x \in content[v] : AnyFrame \/ Frame(x) = MinFrame(content[v])}
           n == IF BatchSize(Cardinality(content[v])) < Cardinality(low)
                THEN BatchSize(Cardinality(content[v])) ELSE Cardinality(low)
       IN \E S \in SUBSET low :
            /\ Cardinality(S) = n
            /\ \E first \in S :
                 /\ Took(w, first, content[v])
                 /\ batch' = [batch EXCEPT ![w] = S \ {first}]
            /\ content' = [content EXCEPT ![v] = IF AtomicClaim THEN @ \ S ELSE @]
    /\ climbing' = [climbing EXCEPT ![w] = FALSE]
    /\ searched' = [searched EXCEPT ![w] = {}]
    /\ nearestOk' = [nearestOk EXCEPT ![w] = @ /\ NearerSearched(w, v)]
    /\ UNCHANGED <<pushed, inflight>>

\* Worker::take_batch pushes the rest of the batch onto its ring, one item per tail store.
PutBatch(w) ==
    /\ \E i \in batch[w] :
         /\ batch' = [batch EXCEPT ![w] = @ \ {i}]
         /\ content' = [content EXCEPT ![w] = @ \cup {i}]
    /\ UNCHANGED <<pushed, taken, inflight, climbing, searched, nearestOk, frameOk>>

\* Worker::climb returns None: every candidate was found empty.
ClimbFail(w) ==
    /\ climbing[w]
    /\ searched[w] = Candidates(w)
    /\ climbing' = [climbing EXCEPT ![w] = FALSE]
    /\ searched' = [searched EXCEPT ![w] = {}]
    /\ UNCHANGED <<content, pushed, taken, inflight, batch, nearestOk, frameOk>>

\* Stealer::steal from an outside thread: one CAS claims the oldest item of a ring.
StealOne(v) ==
    /\ Thief
    /\ v \in Workers
    /\ \E i \in content[v] :
         /\ content' = [content EXCEPT ![v] = @ \ {i}]
         /\ taken' = [taken EXCEPT ![i] = @ + 1]
    /\ UNCHANGED <<pushed, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* Everything was pushed and taken: the run is over (keeps the checker from calling it a
\* deadlock; workers would go on climbing and failing, which changes nothing).
Done ==
    /\ pushed = Items
    /\ \A q \in Queues : content[q] = {}
    /\ \A w \in Workers : inflight[w] = {} /\ batch[w] = {}
    /\ UNCHANGED vars

WorkerStep(w) ==
    \/ \E i \in Items : PushLocal(w, i) \/ PushUp(w, i)
    \/ SpillClaim(w)
    \/ SpillPut(w)
    \/ PopLocal(w)
    \/ \E a \in Queues : PriorityTake(w, a)
    \/ StartClimb(w)
    \/ \E q \in Queues : LoadLenEmpty(w, q) \/ ClaimBatch(w, q)
    \/ PutBatch(w)
    \/ ClimbFail(w)

\* Every action named at the top (the conformance replay matches steps by these names).
Next ==
    \/ \E w \in Workers, i \in Items : PushLocal(w, i)
    \/ \E w \in Workers, i \in Items : PushUp(w, i)
    \/ \E w \in Workers : SpillClaim(w)
    \/ \E w \in Workers : SpillPut(w)
    \/ \E w \in Workers : PopLocal(w)
    \/ \E w \in Workers, a \in Queues : PriorityTake(w, a)
    \/ \E w \in Workers : StartClimb(w)
    \/ \E w \in Workers, q \in Queues : LoadLenEmpty(w, q)
    \/ \E w \in Workers, q \in Queues : ClaimBatch(w, q)
    \/ \E w \in Workers : PutBatch(w)
    \/ \E w \in Workers : ClimbFail(w)
    \/ \E i \in Items : Inject(i)
    \/ \E v \in Queues : StealOne(v)
    \/ Done

\* ------------------------------ Invariants ------------------------------

\* Every item pushed is in exactly one queue or buffer, or was taken exactly once.
ExactlyOnce ==
    \A i \in Items :
        taken[i]
            + Cardinality({q \in Queues : i \in content[q]})
            + Cardinality({w \in Workers : i \in inflight[w] \cup batch[w]})
            = (IF i \in pushed THEN 1 ELSE 0)

\* A ring holds one frame at a time (what makes its single-CAS takes frame-ordered).
LeafOneFrame == \A w \in Workers : Cardinality(FramesOf(content[w])) <= 1

\* A climb took from a queue at distance d only after it found every nearer queue empty,
\* each at some instant between the start of that climb and the take (recorded by
\* ClaimBatch in nearestOk).
NearestFirst == \A w \in Workers : nearestOk[w]

\* Within one queue, frame order holds: every take returned an item whose frame was the
\* lowest in its queue at that moment (recorded by Took in frameOk).
FrameOrder == \A w \in Workers : frameOk[w]

\* Liveness: with every worker taking steps fairly, every item is eventually taken.
AllTaken == <>(\A i \in Items : taken[i] >= 1)

\* ------------------------------ Spec ------------------------------
Spec == Init /\ [][Next]_vars

FairSpec ==
    /\ Spec
    /\ \A w \in Workers : WF_vars(WorkerStep(w))
    \* A worker between climbs may push: strong fairness, because its climbs disable it.
    /\ \A w \in Workers : SF_vars(\E i \in Items : PushLocal(w, i) \/ PushUp(w, i))
    /\ \A i \in Items : WF_vars(Inject(i))
=============================================================================
