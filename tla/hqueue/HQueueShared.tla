--------------------------- MODULE HQueueShared ---------------------------
(***************************************************************************)
(* HQueue with leaves that two owners share (Placement::PerPu: the         *)
(* hyperthreads of a core share its leaf ring), and the ring itself at     *)
(* slot level: primitives/hqueue/src/{leaf,worker,handles}.rs.             *)
(*                                                                         *)
(* HQueue.tla models a leaf as a set of items and each take as one step.   *)
(* That cannot show the bug this spec is for: `Leaf::pop_then` claims its  *)
(* slot with one CAS of `head` that also advances `steal`, and reads the   *)
(* slot afterwards, so between the two a push that counts its room from    *)
(* `steal` may write the same physical slot. With one owner the popper is  *)
(* the only pusher; with two, the code holds the owners' lock             *)
(* (`Leaf::lock_owners`) from the claim to the read, as it does around     *)
(* every push and spill claim. Here a leaf is the code's ring: `Cap`      *)
(* slots, the packed head `{ steal, real }`, the owner-written `tail`,     *)
(* the frame tag, and every claim whose slots are not read yet.            *)
(*                                                                         *)
(* Actions, each one atomic step of the code:                             *)
(*  - PopClaim / PopRead: `Worker::pop_local` -> `Leaf::pop_then`: the     *)
(*    CAS of `head`, taking the owners' lock, then the slot read,          *)
(*    releasing it. The only owner operation split in two: its lock        *)
(*    window is what the mutant removes.                                   *)
(*  - PushLocal, PushUp, PutBatch, PutBatchUp, SpillClaim, StartClimb:     *)
(*    one step each under the owners' lock, so disabled while a co-owner's *)
(*    pop holds it. SpillClaim (`Leaf::claim_own`) is its CAS and its      *)
(*    reads in one step: under the lock no owner writes a slot, and        *)
(*    thieves never do.                                                    *)
(*  - RingClaim (ClaimRing for a climbing worker, StealOne for the outside *)
(*    Stealer) / CopyRelease: `Leaf::claim`'s CAS of `real`, then its copy *)
(*    and the CAS `steal = real` (`Leaf::release`) as one step: until then *)
(*    its slots count as claimed, so a write to one of them is caught at   *)
(*    the write.                                                           *)
(*  - SpillPut, PriorityTake, LoadLenEmpty, ClaimBatch, Inject, ClimbFail: *)
(*    as in HQueue.tla; shared queues (group, root) are sets under a mutex.*)
(*                                                                         *)
(* ExactlyOnce counts an item wherever it is: a shared queue, a worker's   *)
(* buffer, or a ring slot that some position still claims (the ring's     *)
(* `[real, tail)`, a pending pop, the copying thief's range). A push that  *)
(* overwrites a slot still claimed makes one item vanish and another      *)
(* count twice at that very step.                                          *)
(*                                                                         *)
(* Model simplifications (each a superset of the code's behaviours):       *)
(*  - In the code a push holds the owners' lock across its whole loop     *)
(*    (spill claim, spill, retry); here each is a step of its own and a    *)
(*    co-owner may run between them.                                       *)
(*  - PushUp, PutBatchUp and PriorityTake have no guard on the ring (the   *)
(*    code decides them on reads a thief may invalidate), and a spill may  *)
(*    go to the root even when the group has room (as in HQueue.tla).      *)
(*  - SpillClaim may claim half (rounded down) or all of the ring at any  *)
(*    time the worker is between calls or putting a batch.                *)
(*  - A leaf has exactly Cap slots (the code: the next power of two, so   *)
(*    two positions share a slot only when Cap is a power of two, as the   *)
(*    configs' Cap = 2 is).                                                *)
(*  - Positions are naturals, shifted down by a multiple of Cap after each *)
(*    step so that the lowest of `steal` and the pending pops' positions  *)
(*    is below Cap (`Norm`): the code's wrapping u32 counters, whose       *)
(*    differences and slot indices this keeps.                             *)
(*  - Workers own fixed items (ItemOwner), frames are 0 and 1, and the     *)
(*    outside Stealer takes one item per claim (as in HQueue.tla).         *)
(*  - Not modelled: memory orderings (loom's `two_owners_of_a_shared_leaf` *)
(*    checks them) and Config::numa_patience (patience 0, as HQueue.tla).  *)
(*                                                                         *)
(* OwnersLockPop = FALSE is the mutant `hqueue_unlocked_shared_pop`: the   *)
(* pop takes no lock, so a co-owner's push can land in its window.         *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, Sequences

\* ------------------------------ Constants ------------------------------
CONSTANTS
    G,              \* groups under the root (each: an L3 or NUMA node)
    P,              \* leaves per group; leaf n (1..G*P) is <<((n-1) \div P) + 1, ((n-1) % P) + 1>>
    Owners,         \* Owners[w]: the leaf number of worker w (two workers on one leaf share it)
    ItemOwner,      \* ItemOwner[i]: the worker that pushes item i (0: the injector)
    ItemFrame,      \* ItemFrame[i]: the frame of item i (0 or 1)
    Cap,            \* Config::leaf_capacity = the ring's slots; a group queue holds Cap * P
    MaxBatch,       \* min(Config::max_batch, Config::leaf_capacity)
    OwnersLockPop,  \* TRUE: Worker::pop_local holds the owners' lock (the real code)
    Thief           \* TRUE: an outside Stealer takes from the rings (StealOne)

W == Len(Owners)
Workers == 1..W
ThiefId == W + 1                \* the outside Stealer, as a claimer of ring slots
Claimers == 1..(W + 1)
NItems == Len(ItemFrame)
Items == 1..NItems
Frame(i) == ItemFrame[i]
Owned(w) == {i \in Items : ItemOwner[i] = w}
Injected == {i \in Items : ItemOwner[i] = 0}

Root == <<0, 0>>
Group(g) == <<g, 0>>
LeafNo(n) == <<((n - 1) \div P) + 1, ((n - 1) % P) + 1>>
Leaves == {LeafNo(n) : n \in 1..(G * P)}
Shared == {Root} \cup {Group(g) : g \in 1..G}
Queues == Shared \cup Leaves
LeafOf(w) == LeafNo(Owners[w])

Slots == 0..(Cap - 1)
MaxPos == 4 * Cap
Pos == 0..MaxPos
NoClaim == [who |-> 0, at |-> 0, n |-> 0]

Min(S) == CHOOSE x \in S : \A y \in S : x <= y
FramesOf(S) == {Frame(i) : i \in S}
MinFrame(S) == Min(FramesOf(S))
Half(n) == (n + 1) \div 2
BatchSize(n) == IF Half(n) < MaxBatch THEN Half(n) ELSE MaxBatch

\* The climb order of worker w (tree.rs `plan`): distance 1 is its group's queue and the other
\* leaves of its group (never its own leaf, which its co-owner shares), distance 2 the rest.
Dist(w, q) ==
    CASE q = LeafOf(w) -> 0
      [] q = Group(LeafOf(w)[1]) \/ q[1] = LeafOf(w)[1] -> 1
      [] OTHER -> 2
Candidates(w) == Queues \ {LeafOf(w)}
Ancestors(w) == {Group(LeafOf(w)[1]), Root}

\* ------------------------------ Variables ------------------------------
VARIABLES
    ring,       \* per leaf, the Leaf: [steal, real, tail (head and tail), frame (Leaf::frame),
                \*   slot (Leaf::slots: an item, 0 once read), pops (<<w, position>>: an
                \*   owner's pop claimed, not read), cl (the thief copying: who, at, n)]
    content,    \* per shared queue: its FrameQueue (Queue::items)
    pushed,     \* the items handed to Worker::push / Injector::push so far
    taken,      \* per item: how many times a pop or steal returned it to a caller
    inflight,   \* per worker: items claimed from its ring, not yet in a shared queue (Worker::spill)
    batch,      \* per worker: the rest of a climb's batch, not yet on its ring (Worker::batch)
    climbing,   \* per worker: inside Worker::climb
    searched,   \* per worker: queues its current climb found empty ({} between climbs)
    nearestOk,  \* per worker: every climb so far took only after it found all nearer queues empty
    frameOk     \* per worker: every take so far returned the lowest frame of its queue

vars == <<ring, content, pushed, taken, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* ------------------------------ Ring helpers ------------------------------

Range(a, b) == {x \in Pos : a <= x /\ x < b}          \* positions [a, b)
Slot(r, x) == r.slot[x % Cap]
RingItems(r) == {Slot(r, x) : x \in Range(r.real, r.tail)}
\* Every position whose slot is still claimed: the ring, pending pops, the copying thief's range.
LivePos(r) ==
    Range(r.real, r.tail) \cup {p[2] : p \in r.pops} \cup Range(r.cl.at, r.cl.at + r.cl.n)
\* The slots of positions [a, b) read (moved out): `MaybeUninit::assume_init_read`.
Cleared(r, a, b) == [s \in Slots |-> IF \E x \in Range(a, b) : x % Cap = s THEN 0 ELSE r.slot[s]]

\* Shifts every position of r down by a multiple of Cap, keeping the lowest live one in Slots.
Norm(r) ==
    LET m == Min({r.steal} \cup {p[2] : p \in r.pops})
        k == Cap * (m \div Cap)
    IN [steal |-> r.steal - k, real |-> r.real - k, tail |-> r.tail - k,
        frame |-> r.frame, slot |-> r.slot,
        pops |-> {<<p[1], p[2] - k>> : p \in r.pops},
        cl |-> (IF r.cl.who = 0 THEN r.cl ELSE [who |-> r.cl.who, at |-> r.cl.at - k, n |-> r.cl.n])]

\* Leaf::push accepts item i: an empty ring takes any frame, else the ring's frame; room
\* counted from `steal` (invariant 1 of leaf.rs).
CanPush(r, i) ==
    /\ r.real = r.tail \/ r.frame = Frame(i)
    /\ r.tail - r.steal < Cap
\* Leaf::push: the slot write, the frame tag (an empty ring) and the Release store of `tail`.
Pushed(r, i) == [r EXCEPT !.slot[r.tail % Cap] = i, !.tail = r.tail + 1, !.frame = Frame(i)]

\* The owners' lock of leaf l is held: by a pop between its claim and its read.
OwnersLocked(l) == OwnersLockPop /\ ring[l].pops # {}

Own(w) == ring[LeafOf(w)]       \* the ring worker w owns (alone or with its co-owner)
Popping(w) == \E p \in Own(w).pops : p[1] = w
Copying(x) == \E l \in Leaves : ring[l].cl.who = x

\* ------------------------------ TypeOK ------------------------------
Ring == [steal : Pos, real : Pos, tail : Pos, frame : 0..1, slot : [Slots -> 0..NItems],
         pops : SUBSET (Workers \X Pos), cl : [who : 0..(W + 1), at : Pos, n : 0..MaxBatch]]

TypeOK ==
    /\ ring \in [Leaves -> Ring]
    /\ content \in [Shared -> SUBSET Items]
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
    /\ ring = [l \in Leaves |-> [steal |-> 0, real |-> 0, tail |-> 0, frame |-> 0,
                                 slot |-> [s \in Slots |-> 0], pops |-> {}, cl |-> NoClaim]]
    /\ content = [q \in Shared |-> {}]
    /\ pushed = {}
    /\ taken = [i \in Items |-> 0]
    /\ inflight = [w \in Workers |-> {}]
    /\ batch = [w \in Workers |-> {}]
    /\ climbing = [w \in Workers |-> FALSE]
    /\ searched = [w \in Workers |-> {}]
    /\ nearestOk = [w \in Workers |-> TRUE]
    /\ frameOk = [w \in Workers |-> TRUE]

\* ------------------------------ Actions ------------------------------

\* The owner is between calls: not climbing, no claim open, nothing in transit.
Idle(w) == ~climbing[w] /\ ~Popping(w) /\ ~Copying(w) /\ inflight[w] = {} /\ batch[w] = {}

\* Worker w took item i from a queue holding S: its frame checked (the count is separate).
FrameChecked(w, i, S) == frameOk' = [frameOk EXCEPT ![w] = @ /\ Frame(i) = MinFrame(S)]
Count(i) == taken' = [taken EXCEPT ![i] = @ + 1]
NearerSearched(w, v) == \A q \in Candidates(w) : Dist(w, q) < Dist(w, v) => q \in searched[w]

SpillDests(w, n) ==
    (IF Cardinality(content[Group(LeafOf(w)[1])]) + n <= Cap * P
     THEN {Group(LeafOf(w)[1])} ELSE {}) \cup {Root}

\* Worker::push -> Leaf::push, under the owners' lock.
PushLocal(w, i) ==
    /\ Idle(w)
    /\ i \in Owned(w) \ pushed
    /\ ~OwnersLocked(LeafOf(w))
    /\ CanPush(Own(w), i)
    /\ pushed' = pushed \cup {i}
    /\ ring' = [ring EXCEPT ![LeafOf(w)] = Pushed(@, i)]
    /\ UNCHANGED <<content, taken, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* Worker::push with a higher frame than the ring's (under the owners' lock): worker::spill.
PushUp(w, i) ==
    /\ Idle(w)
    /\ i \in Owned(w) \ pushed
    /\ ~OwnersLocked(LeafOf(w))
    /\ pushed' = pushed \cup {i}
    /\ \E dest \in SpillDests(w, 1) : content' = [content EXCEPT ![dest] = @ \cup {i}]
    /\ UNCHANGED <<ring, taken, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* Leaf::claim_own (a full ring, or a lower frame moving in), under the owners' lock: one CAS
\* advances steal and real past the oldest n items (only when no thief copies), then reads them.
SpillClaim(w) ==
    /\ ~climbing[w] /\ ~Popping(w) /\ ~Copying(w) /\ inflight[w] = {}
    /\ ~OwnersLocked(LeafOf(w))
    /\ Own(w).steal = Own(w).real
    /\ \E n \in {(Own(w).tail - Own(w).real) \div 2, Own(w).tail - Own(w).real} :
         LET r == Own(w)
         IN /\ n > 0
            /\ inflight' = [inflight EXCEPT ![w] = {Slot(r, x) : x \in Range(r.real, r.real + n)}]
            /\ ring' = [ring EXCEPT ![LeafOf(w)] =
                 Norm([r EXCEPT !.steal = r.real + n, !.real = r.real + n,
                                !.slot = Cleared(r, r.real, r.real + n)])]
    /\ UNCHANGED <<content, pushed, taken, batch, climbing, searched, nearestOk, frameOk>>

\* worker::spill: the claimed items go to the nearest shared queue with room for all of them.
SpillPut(w) ==
    /\ inflight[w] # {}
    /\ \E dest \in SpillDests(w, Cardinality(inflight[w])) :
         content' = [content EXCEPT ![dest] = @ \cup inflight[w]]
    /\ inflight' = [inflight EXCEPT ![w] = {}]
    /\ UNCHANGED <<ring, pushed, taken, batch, climbing, searched, nearestOk, frameOk>>

\* Injector::push: lock the root, push.
Inject(i) ==
    /\ i \in Injected \ pushed
    /\ pushed' = pushed \cup {i}
    /\ content' = [content EXCEPT ![Root] = @ \cup {i}]
    /\ UNCHANGED <<ring, taken, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* Leaf::pop_then, the claim: take the owners' lock (unless the mutant), then one CAS of head
\* claims slot `real`; `steal` moves with it unless a thief is copying.
PopClaim(w) ==
    /\ Idle(w)
    /\ ~OwnersLocked(LeafOf(w))
    /\ Own(w).real # Own(w).tail
    /\ FrameChecked(w, Slot(Own(w), Own(w).real), RingItems(Own(w)))
    /\ ring' = [ring EXCEPT ![LeafOf(w)] =
         LET r == Own(w)
         IN Norm([r EXCEPT !.real = r.real + 1,
                           !.steal = (IF r.steal = r.real THEN r.real + 1 ELSE r.steal),
                           !.pops = @ \cup {<<w, r.real>>}])]
    /\ UNCHANGED <<content, pushed, taken, inflight, batch, climbing, searched, nearestOk>>

\* Leaf::pop_then, the read: the claimed slot is moved out (whatever it holds now), and the
\* owners' lock released.
PopRead(w) ==
    /\ Popping(w)
    /\ LET r == Own(w)
           p == CHOOSE p \in r.pops : p[1] = w
           i == Slot(r, p[2])
       IN /\ taken' = (IF i \in Items THEN [taken EXCEPT ![i] = @ + 1] ELSE taken)
          /\ ring' = [ring EXCEPT ![LeafOf(w)] =
               Norm([r EXCEPT !.pops = @ \ {p}, !.slot = Cleared(r, p[2], p[2] + 1)])]
    /\ UNCHANGED <<content, pushed, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* A take of one item of the lowest frame of shared queue q.
TakeOne(w, q, i) ==
    /\ i \in content[q]
    /\ Frame(i) = MinFrame(content[q])
    /\ Count(i)
    /\ FrameChecked(w, i, content[q])

\* Worker::priority_take: one item from an ancestor whose frame hint was below the ring's.
PriorityTake(w, a) ==
    /\ Idle(w)
    /\ a \in Ancestors(w)
    /\ \E i \in content[a] :
         /\ TakeOne(w, a, i)
         /\ content' = [content EXCEPT ![a] = @ \ {i}]
    /\ UNCHANGED <<ring, pushed, inflight, batch, climbing, searched, nearestOk>>

\* Worker::climb begins: Leaf::pop (under the owners' lock) found the ring empty.
StartClimb(w) ==
    /\ Idle(w)
    /\ ~OwnersLocked(LeafOf(w))
    /\ Own(w).real = Own(w).tail
    /\ climbing' = [climbing EXCEPT ![w] = TRUE]
    /\ searched' = [searched EXCEPT ![w] = {}]
    /\ UNCHANGED <<ring, content, pushed, taken, inflight, batch, nearestOk, frameOk>>

\* The queues w may examine next: all of distance 1 first, then distance 2.
NextQueues(w) ==
    {q \in Candidates(w) \ searched[w] :
        \A r \in Candidates(w) : Dist(w, r) < Dist(w, q) => r \in searched[w]}

IsEmpty(q) == IF q \in Leaves THEN ring[q].real = ring[q].tail ELSE content[q] = {}

\* Worker::take_batch sees an empty queue (a ring's head and tail, a shared queue's hint).
LoadLenEmpty(w, q) ==
    /\ climbing[w]
    /\ q \in NextQueues(w)
    /\ IsEmpty(q)
    /\ searched' = [searched EXCEPT ![w] = @ \cup {q}]
    /\ UNCHANGED <<ring, content, pushed, taken, inflight, batch, climbing, nearestOk, frameOk>>

\* The end of a climb that took from v: the nearer queues were all found empty.
ClimbTook(w, v) ==
    /\ climbing' = [climbing EXCEPT ![w] = FALSE]
    /\ searched' = [searched EXCEPT ![w] = {}]
    /\ nearestOk' = [nearestOk EXCEPT ![w] = @ /\ NearerSearched(w, v)]

\* worker::claim_batch on a shared queue: one critical section takes BatchSize items of its
\* lowest frame; the first is returned, the rest go to `batch`.
ClaimBatch(w, v) ==
    /\ climbing[w]
    /\ v \in NextQueues(w) \cap Shared
    /\ content[v] # {}
    /\ LET low == {x \in content[v] : Frame(x) = MinFrame(content[v])}
           n == IF BatchSize(Cardinality(content[v])) < Cardinality(low)
                THEN BatchSize(Cardinality(content[v])) ELSE Cardinality(low)
       IN \E S \in SUBSET low :
            /\ Cardinality(S) = n
            /\ \E first \in S :
                 /\ Count(first)
                 /\ FrameChecked(w, first, content[v])
                 /\ batch' = [batch EXCEPT ![w] = S \ {first}]
            /\ content' = [content EXCEPT ![v] = @ \ S]
    /\ ClimbTook(w, v)
    /\ UNCHANGED <<ring, pushed, inflight>>

\* Leaf::claim, phase 1, for claimer x (a worker's climb, or the outside Stealer): while no
\* thief copies (steal = real), one CAS advances `real` past the oldest n items.
RingClaim(x, v, n) ==
    LET r == ring[v]
    IN /\ r.steal = r.real
       /\ r.real # r.tail
       /\ ring' = [ring EXCEPT ![v] = [r EXCEPT !.real = r.real + n,
                                               !.cl = [who |-> x, at |-> r.real, n |-> n]]]

\* worker::claim_batch on another leaf's ring: phase 1 of Leaf::claim, half of it (at most
\* MaxBatch); the climb ends here (its choice is made).
ClaimRing(w, v) ==
    /\ climbing[w]
    /\ v \in NextQueues(w) \cap Leaves
    /\ RingClaim(w, v, BatchSize(ring[v].tail - ring[v].real))
    /\ FrameChecked(w, Slot(ring[v], ring[v].real), RingItems(ring[v]))
    /\ ClimbTook(w, v)
    /\ UNCHANGED <<content, pushed, taken, inflight, batch>>

\* Stealer::steal from an outside thread: phase 1 of Leaf::claim(1).
StealOne(v) ==
    /\ Thief
    /\ ~Copying(ThiefId)
    /\ RingClaim(ThiefId, v, 1)
    /\ UNCHANGED <<content, pushed, taken, inflight, batch, climbing, searched, nearestOk, frameOk>>

\* Leaf::claim, phase 2: the claimer moves its slots out (the first item is returned, a
\* worker keeps the rest in `batch`), then Leaf::release's CAS sets steal = real.
CopyRelease(x, v) ==
    /\ ring[v].cl.who = x
    /\ LET r == ring[v]
           first == Slot(r, r.cl.at)
           rest == {Slot(r, y) : y \in Range(r.cl.at + 1, r.cl.at + r.cl.n)}
       IN /\ taken' = (IF first \in Items THEN [taken EXCEPT ![first] = @ + 1] ELSE taken)
          /\ batch' = (IF x = ThiefId THEN batch ELSE [batch EXCEPT ![x] = rest \ {0}])
          /\ ring' = [ring EXCEPT ![v] =
               Norm([r EXCEPT !.steal = r.real, !.cl = NoClaim,
                              !.slot = Cleared(r, r.cl.at, r.cl.at + r.cl.n)])]
    /\ UNCHANGED <<content, pushed, inflight, climbing, searched, nearestOk, frameOk>>

\* Worker::take_batch -> push_uncounted: one item of the batch onto the ring (Leaf::push under
\* the owners' lock; the co-owner may have pushed meanwhile, so it may not fit).
PutBatch(w) ==
    /\ ~Copying(w) /\ inflight[w] = {}
    /\ ~OwnersLocked(LeafOf(w))
    /\ \E i \in batch[w] :
         /\ CanPush(Own(w), i)
         /\ batch' = [batch EXCEPT ![w] = @ \ {i}]
         /\ ring' = [ring EXCEPT ![LeafOf(w)] = Pushed(@, i)]
    /\ UNCHANGED <<content, pushed, taken, inflight, climbing, searched, nearestOk, frameOk>>

\* push_uncounted refused a batch item of a higher frame than the ring's (the co-owner's
\* items): worker::spill sends it up.
PutBatchUp(w) ==
    /\ ~Copying(w) /\ inflight[w] = {}
    /\ ~OwnersLocked(LeafOf(w))
    /\ \E i \in batch[w] :
         /\ batch' = [batch EXCEPT ![w] = @ \ {i}]
         /\ \E dest \in SpillDests(w, 1) : content' = [content EXCEPT ![dest] = @ \cup {i}]
    /\ UNCHANGED <<ring, pushed, taken, inflight, climbing, searched, nearestOk, frameOk>>

\* Worker::climb returns None: every candidate was found empty.
ClimbFail(w) ==
    /\ climbing[w]
    /\ searched[w] = Candidates(w)
    /\ climbing' = [climbing EXCEPT ![w] = FALSE]
    /\ searched' = [searched EXCEPT ![w] = {}]
    /\ UNCHANGED <<ring, content, pushed, taken, inflight, batch, nearestOk, frameOk>>

RingIdle(r) == r.real = r.tail /\ r.pops = {} /\ r.cl.who = 0

\* Everything was pushed and taken: the run is over.
Done ==
    /\ pushed = Items
    /\ \A q \in Shared : content[q] = {}
    /\ \A l \in Leaves : RingIdle(ring[l])
    /\ \A w \in Workers : inflight[w] = {} /\ batch[w] = {}
    /\ UNCHANGED vars

WorkerStep(w) ==
    \/ \E i \in Items : PushLocal(w, i) \/ PushUp(w, i)
    \/ SpillClaim(w)
    \/ SpillPut(w)
    \/ PopClaim(w)
    \/ PopRead(w)
    \/ \E a \in Shared : PriorityTake(w, a)
    \/ StartClimb(w)
    \/ \E q \in Queues : LoadLenEmpty(w, q) \/ ClaimBatch(w, q) \/ ClaimRing(w, q)
    \/ \E v \in Leaves : CopyRelease(w, v)
    \/ PutBatch(w)
    \/ PutBatchUp(w)
    \/ ClimbFail(w)

\* Every action by name (so a counterexample names the step).
Next ==
    \/ \E w \in Workers, i \in Items : PushLocal(w, i)
    \/ \E w \in Workers, i \in Items : PushUp(w, i)
    \/ \E w \in Workers : SpillClaim(w)
    \/ \E w \in Workers : SpillPut(w)
    \/ \E w \in Workers : PopClaim(w)
    \/ \E w \in Workers : PopRead(w)
    \/ \E w \in Workers, a \in Shared : PriorityTake(w, a)
    \/ \E w \in Workers : StartClimb(w)
    \/ \E w \in Workers, q \in Queues : LoadLenEmpty(w, q)
    \/ \E w \in Workers, q \in Queues : ClaimBatch(w, q)
    \/ \E w \in Workers, q \in Queues : ClaimRing(w, q)
    \/ \E x \in Claimers, v \in Leaves : CopyRelease(x, v)
    \/ \E w \in Workers : PutBatch(w)
    \/ \E w \in Workers : PutBatchUp(w)
    \/ \E w \in Workers : ClimbFail(w)
    \/ \E i \in Items : Inject(i)
    \/ \E v \in Leaves : StealOne(v)
    \/ Done

\* ------------------------------ Invariants ------------------------------

\* Where item i is, one entry per place: a claimed ring position holding it, a shared queue,
\* a worker's buffer.
InRings(i) ==
    {<<l, x>> \in Leaves \X Pos : x \in LivePos(ring[l]) /\ Slot(ring[l], x) = i}

\* Every item pushed is in exactly one place, or was taken exactly once (a multiset count).
ExactlyOnce ==
    \A i \in Items :
        taken[i]
            + Cardinality(InRings(i))
            + Cardinality({q \in Shared : i \in content[q]})
            + Cardinality({w \in Workers : i \in inflight[w] \cup batch[w]})
            = (IF i \in pushed THEN 1 ELSE 0)

\* Leaf invariant 1: steal <= real <= tail and tail - steal <= Cap (the owner never writes a
\* slot a claim may still read); at most one pending pop per leaf while pops take the lock.
RingBounds ==
    \A l \in Leaves :
        /\ ring[l].steal <= ring[l].real
        /\ ring[l].real <= ring[l].tail
        /\ ring[l].tail - ring[l].steal <= Cap

\* A ring holds one frame at a time: every item in [real, tail) has the ring's frame tag.
LeafOneFrame ==
    \A l \in Leaves : \A x \in Range(ring[l].real, ring[l].tail) :
        Slot(ring[l], x) \in Items => Frame(Slot(ring[l], x)) = ring[l].frame

\* A climb took from a queue at distance d only after it found every nearer queue empty.
NearestFirst == \A w \in Workers : nearestOk[w]

\* Every take returned an item of the lowest frame of its queue at that moment.
FrameOrder == \A w \in Workers : frameOk[w]

\* Liveness: with every worker taking steps fairly, every item is eventually taken.
AllTaken == <>(\A i \in Items : taken[i] >= 1)

\* ------------------------------ Spec ------------------------------
Spec == Init /\ [][Next]_vars

FairSpec ==
    /\ Spec
    /\ \A w \in Workers : WF_vars(WorkerStep(w))
    /\ \A w \in Workers : SF_vars(\E i \in Items : PushLocal(w, i) \/ PushUp(w, i))
    /\ \A i \in Items : WF_vars(Inject(i))
    /\ \A v \in Leaves : WF_vars(CopyRelease(ThiefId, v))
=============================================================================
