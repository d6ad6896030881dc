------------------------------ MODULE HQueue ------------------------------
(***************************************************************************)
(* The gearset-hqueue queue tree (primitives/hqueue/src/{worker,tree,     *)
(* handles,frames}.rs): a root, G group queues (an L3 or a NUMA node) and  *)
(* P leaf queues per group, one worker per leaf, an outside injector and   *)
(* an outside stealer.                                                     *)
(*                                                                         *)
(* Each action is one critical section of one queue's mutex (or, for a    *)
(* spill, the two consecutive ones of the leaf and the parent, which no    *)
(* other action can observe apart: the spilled items are in the worker's   *)
(* private buffer in between), or one read of a queue's length hint.       *)
(*                                                                         *)
(* Model simplifications:                                                  *)
(*  - A queue is a set of item ids; an item's frame is Frame(i). Within a  *)
(*    frame the Rust queue is LIFO for the owner and FIFO for thieves;     *)
(*    the spec lets either pick any item of the lowest frame.              *)
(*  - Length and frame hints are read exactly (CheckEmpty reads the queue  *)
(*    itself); in Rust a hint may lag, which can only make a climb fail    *)
(*    early (a `None` the caller retries) or a priority take skip, and     *)
(*    both are allowed here too (ClimbFail, PopLocal's missing guard).     *)
(*  - Spills go to the group queue if the whole spill fits, else to the    *)
(*    root, as `Worker::spill` does.                                       *)
(*  - Each item is pushed once, by its owner (a worker or the injector).   *)
(*                                                                         *)
(* AtomicClaim = FALSE makes a batch steal copy its items without removing *)
(* them from the victim; SkipLevel = TRUE lets a climb take from the root  *)
(* ring before searching its own group; AnyFrame = TRUE lets a local pop   *)
(* take any frame. The mutants in mutants/ set them.                       *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

\* ------------------------------ Constants ------------------------------
CONSTANTS
    G,            \* groups under the root (each: an L3 or NUMA node)
    P,            \* leaves (workers) per group
    NItems,       \* items 1..NItems; item n is owned by worker ((n-1) % (W+1)) + 1, or the injector
    Cap,          \* Config::leaf_capacity; a group queue holds Cap * P
    MaxBatch,     \* Config::max_batch
    AtomicClaim,  \* TRUE: a batch steal removes what it takes (the real code)
    SkipLevel,    \* FALSE: a climb searches its group ring completely first (the real code)
    AnyFrame      \* FALSE: a local pop takes from the lowest frame (the real code)

W == G * P
Items == 1..NItems
Frame(i) == i % 2
Frames == 0..1
Root == <<0, 0>>
Group(g) == <<g, 0>>
Leaf(g, j) == <<g, j>>
Workers == {Leaf(g, j) : g \in 1..G, j \in 1..P}
Queues == {Root} \cup {Group(g) : g \in 1..G} \cup Workers
\* Worker k (1..W) is Leaf(((k-1) \div P) + 1, ((k-1) % P) + 1); index W+1 is the injector.
WorkerOf(k) == Leaf(((k - 1) \div P) + 1, ((k - 1) % P) + 1)
OwnerIndex(i) == ((i - 1) % (W + 1)) + 1
Owned(w) == {i \in Items : OwnerIndex(i) <= W /\ WorkerOf(OwnerIndex(i)) = w}
Injected == {i \in Items : OwnerIndex(i) = W + 1}

\* The climb order of worker w = <<g, j>>: ring 1 is its group's queue and its siblings;
\* ring 2 is the root, the other groups and their leaves (tree.rs `plan`).
Dist(w, q) ==
    CASE q = w -> 0
      [] q = Group(w[1]) \/ q[1] = w[1] -> 1
      [] OTHER -> 2
Candidates(w) == Queues \ {w}
Ancestors(w) == {Group(w[1]), Root}

Min(S) == CHOOSE x \in S : \A y \in S : x <= y
MinFrame(S) == Min({Frame(i) : i \in S})
BatchSize(n) == IF (n + 1) \div 2 < MaxBatch THEN (n + 1) \div 2 ELSE MaxBatch

\* ------------------------------ Variables ------------------------------
VARIABLES
    content,    \* Queue.items (the FrameQueue behind each queue's mutex), per queue
    pushed,     \* the items handed to Worker::push / Injector::push so far
    taken,      \* per item: how many times a pop or steal returned it to a caller
    climbing,   \* per worker: inside Worker::climb
    searched,   \* per worker: queues its current climb found empty (Queue::looks_empty)
    lastClimb,  \* per worker: the last successful climb: the victim and what was searched
    lastPop     \* per worker: the last pop from a queue: its frame and the queue's lowest frame

vars == <<content, pushed, taken, climbing, searched, lastClimb, lastPop>>

\* ------------------------------ TypeOK ------------------------------
TypeOK ==
    /\ content \in [Queues -> SUBSET Items]
    /\ pushed \subseteq Items
    /\ taken \in [Items -> 0..3]
    /\ climbing \in [Workers -> BOOLEAN]
    /\ searched \in [Workers -> SUBSET Queues]
    /\ lastClimb \in [Workers -> [from : Queues, searched : SUBSET Queues]]
    /\ lastPop \in [Workers -> [frame : Frames, min : Frames]]

\* ------------------------------ Init ------------------------------
Init ==
    /\ content = [q \in Queues |-> {}]
    /\ pushed = {}
    /\ taken = [i \in Items |-> 0]
    /\ climbing = [w \in Workers |-> FALSE]
    /\ searched = [w \in Workers |-> {}]
    /\ lastClimb = [w \in Workers |-> [from |-> w, searched |-> {}]]
    /\ lastPop = [w \in Workers |-> [frame |-> 0, min |-> 0]]

\* ------------------------------ Actions ------------------------------

\* Worker::push: lock the leaf, push; if over capacity, take the highest-frame half
\* (FrameQueue::take_highest) and push it into the group queue if it all fits, else the root.
LockPushAndSpill(w, i) ==
    /\ ~climbing[w]
    /\ i \in Owned(w) \ pushed
    /\ pushed' = pushed \cup {i}
    /\ LET leaf == content[w] \cup {i} IN
       IF Cardinality(leaf) <= Cap
       THEN content' = [content EXCEPT ![w] = leaf]
       ELSE \E S \in SUBSET leaf :
              /\ Cardinality(S) = Cardinality(leaf) \div 2
              /\ \A x \in S, y \in leaf \ S : Frame(x) >= Frame(y)
              /\ LET dest == IF Cardinality(content[Group(w[1])]) + Cardinality(S) <= Cap * P
                             THEN Group(w[1]) ELSE Root
                 IN content' = [content EXCEPT ![w] = leaf \ S, ![dest] = @ \cup S]
    /\ UNCHANGED <<taken, climbing, searched, lastClimb, lastPop>>

\* Injector::push: lock the root, push.
LockInject(i) ==
    /\ i \in Injected \ pushed
    /\ pushed' = pushed \cup {i}
    /\ content' = [content EXCEPT ![Root] = @ \cup {i}]
    /\ UNCHANGED <<taken, climbing, searched, lastClimb, lastPop>>

\* Worker::pop_local: lock the leaf, FrameQueue::pop_newest (an item of the lowest frame).
LockPopLocal(w) ==
    /\ ~climbing[w]
    /\ content[w] # {}
    /\ \E i \in content[w] :
         /\ AnyFrame \/ Frame(i) = MinFrame(content[w])
         /\ content' = [content EXCEPT ![w] = @ \ {i}]
         /\ taken' = [taken EXCEPT ![i] = @ + 1]
         /\ lastPop' = [lastPop EXCEPT ![w] = [frame |-> Frame(i), min |-> MinFrame(content[w])]]
    /\ UNCHANGED <<pushed, climbing, searched, lastClimb>>

\* Take a batch from queue v into worker w: the BatchSize lowest-frame items
\* (FrameQueue::take_lowest); the first (lowest frame) is returned, the rest go to w's leaf.
\* Without AtomicClaim the victim keeps its copies (the mutant).
TakeBatch(w, v) ==
    \E S \in SUBSET content[v] :
        /\ Cardinality(S) = BatchSize(Cardinality(content[v]))
        /\ \A x \in S, y \in content[v] \ S : Frame(x) <= Frame(y)
        /\ \E first \in S :
             /\ Frame(first) = MinFrame(S)
             /\ taken' = [taken EXCEPT ![first] = @ + 1]
             /\ lastPop' = [lastPop EXCEPT ![w] = [frame |-> Frame(first), min |-> MinFrame(content[v])]]
             /\ content' = [content EXCEPT
                              ![v] = IF AtomicClaim THEN @ \ S ELSE @,
                              ![w] = @ \cup (S \ {first})]

\* Worker::priority_take: an ancestor's frame hint is below the (non-empty) leaf's: take a
\* batch there. An empty leaf climbs instead, nearest first.
LockPriorityTake(w, a) ==
    /\ ~climbing[w]
    /\ a \in Ancestors(w)
    /\ content[a] # {}
    /\ content[w] # {}
    /\ MinFrame(content[a]) < MinFrame(content[w])
    /\ TakeBatch(w, a)
    /\ UNCHANGED <<pushed, climbing, searched, lastClimb>>

\* Worker::climb begins: the leaf looked empty.
StartClimb(w) ==
    /\ ~climbing[w]
    /\ content[w] = {}
    /\ climbing' = [climbing EXCEPT ![w] = TRUE]
    /\ searched' = [searched EXCEPT ![w] = {}]
    /\ UNCHANGED <<content, pushed, taken, lastClimb, lastPop>>

\* The queues w may examine next: all of ring 1 first (unless SkipLevel), then ring 2.
Next(w) ==
    {q \in Candidates(w) \ searched[w] :
        SkipLevel \/ \A r \in Candidates(w) : Dist(w, r) < Dist(w, q) => r \in searched[w]}

\* Worker::take_batch sees an empty queue (Queue::looks_empty, or an empty lock).
LoadLenEmpty(w, q) ==
    /\ climbing[w]
    /\ q \in Next(w)
    /\ content[q] = {}
    /\ searched' = [searched EXCEPT ![w] = @ \cup {q}]
    /\ UNCHANGED <<content, pushed, taken, climbing, lastClimb, lastPop>>

\* Worker::take_batch locks a non-empty victim and takes a batch; the climb ends.
LockStealBatch(w, v) ==
    /\ climbing[w]
    /\ v \in Next(w)
    /\ content[v] # {}
    /\ TakeBatch(w, v)
    /\ climbing' = [climbing EXCEPT ![w] = FALSE]
    /\ lastClimb' = [lastClimb EXCEPT ![w] = [from |-> v, searched |-> searched[w]]]
    /\ UNCHANGED <<pushed, searched>>

\* Worker::climb returns None: every candidate was found empty.
ClimbFail(w) ==
    /\ climbing[w]
    /\ searched[w] = Candidates(w)
    /\ climbing' = [climbing EXCEPT ![w] = FALSE]
    /\ UNCHANGED <<content, pushed, taken, searched, lastClimb, lastPop>>

\* Stealer::steal from an outside thread: lock a leaf, FrameQueue::pop_oldest.
LockStealOne(v) ==
    /\ v \in Workers
    /\ \E i \in content[v] :
         /\ Frame(i) = MinFrame(content[v])
         /\ content' = [content EXCEPT ![v] = @ \ {i}]
         /\ taken' = [taken EXCEPT ![i] = @ + 1]
    /\ UNCHANGED <<pushed, climbing, searched, lastClimb, lastPop>>

\* Everything was pushed and taken: the run is over (keeps the checker from calling it a
\* deadlock; workers would go on climbing and failing, which changes nothing).
Done ==
    /\ pushed = Items
    /\ \A q \in Queues : content[q] = {}
    /\ UNCHANGED vars

WorkerStep(w) ==
    \/ \E i \in Items : LockPushAndSpill(w, i)
    \/ LockPopLocal(w)
    \/ \E a \in Queues : LockPriorityTake(w, a)
    \/ StartClimb(w)
    \/ \E q \in Queues : LoadLenEmpty(w, q) \/ LockStealBatch(w, q)
    \/ ClimbFail(w)

Next ==
    \/ \E w \in Workers : WorkerStep(w)
    \/ \E i \in Items : LockInject(i)
    \/ \E v \in Queues : LockStealOne(v)
    \/ Done

\* ------------------------------ Invariants ------------------------------

\* Every item pushed is in exactly one queue or was taken exactly once; nothing else exists.
ExactlyOnce ==
    \A i \in Items :
        taken[i] + Cardinality({q \in Queues : i \in content[q]})
            = (IF i \in pushed THEN 1 ELSE 0)

\* A climb took from a queue at distance d only after it found every nearer queue empty,
\* each at some instant between the start of that climb and the take.
NearestFirst ==
    \A w \in Workers :
        \A q \in Candidates(w) :
            Dist(w, q) < Dist(w, lastClimb[w].from) => q \in lastClimb[w].searched

\* Within one queue, frame order holds: every pop or batch returned an item whose frame was
\* the lowest in its queue at that moment.
FrameOrder == \A w \in Workers : lastPop[w].frame <= lastPop[w].min

\* Liveness: with every worker taking steps fairly, every item is eventually taken.
AllTaken == <>(\A i \in Items : taken[i] >= 1)

\* ------------------------------ Spec ------------------------------
Spec == Init /\ [][Next]_vars

FairSpec ==
    /\ Spec
    /\ \A w \in Workers : WF_vars(WorkerStep(w))
    \* A worker between climbs may push: strong fairness, because its climbs disable it.
    /\ \A w \in Workers : SF_vars(\E i \in Items : LockPushAndSpill(w, i))
    /\ \A i \in Items : WF_vars(LockInject(i))
=============================================================================
