---------------------------- MODULE EventCount ----------------------------
(***************************************************************************)
(* The gearset-sync event count (primitives/sync/src/event_count.rs) with  *)
(* its use in `EventCount::wait_until`: waiters take one item each and     *)
(* sleep when there is none; one producer adds items, notifying after each.*)
(*                                                                         *)
(* Each action is one atomic step of the Rust code: one atomic RMW or load,*)
(* or one critical section of the sleeper-queue mutex.                     *)
(*                                                                         *)
(* Model simplifications:                                                  *)
(*  - Sequentially consistent memory: the SeqCst fences in `prepare_wait`  *)
(*    and `notify` make the Dekker handshake behave so; loom checks that   *)
(*    the Rust orderings deliver it (models/tests/loom_sync.rs).           *)
(*  - The epoch does not wrap (the code's 32-bit wrap needs 2^32 notifies  *)
(*    while one waiter is descheduled; see the module docs).               *)
(*  - `park` may return spuriously (`Wake` does not need the token), as    *)
(*    std documents and shuttle does.                                      *)
(*  - Timed waits are not modelled (they only add a way out of "asleep").  *)
(*                                                                         *)
(* WithRecheck and WithLockedRecheck switch off the two re-checks;        *)
(* the mutants in mutants/ do so, and each must violate NoLostWakeup.      *)
(* (A notify_one that wakes the newest sleeper instead of the oldest stale *)
(* one was tried as a third mutant and holds: with item conditions, any    *)
(* waiter it wakes takes the item. The FIFO pick matters for callers that  *)
(* wait on the epoch alone; tests/event_count.rs covers it.)               *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

\* ------------------------------ Constants ------------------------------
CONSTANTS
    Waiters,        \* the waiting threads, e.g. {w1, w2}
    Items,          \* items the producer adds (one notify after each)
    NotifyAll,      \* TRUE: the producer calls notify_all; FALSE: notify_one
    WithRecheck,    \* the re-check of the condition after prepare_wait
    WithLockedRecheck  \* the epoch re-check under the sleeper-queue lock

\* ------------------------------ Variables ------------------------------
VARIABLES
    epoch,      \* EventCount.state, upper 32 bits
    waiters,    \* EventCount.state, lower 32 bits
    items,      \* the condition: the count of available items (an AtomicUsize in the tests)
    produced,   \* items the producer has added so far
    consumed,   \* items taken by waiters so far
    pc,         \* per waiter: where it is in wait_until / Key::wait
    key,        \* per waiter: Key.epoch, the epoch read by prepare_wait
    queue,      \* EventCount.sleepers.queue, oldest first (waiters)
    woken,      \* per waiter: Sleeper.woken, set by a notifier under the lock
    token,      \* per waiter: the thread's park token (std Thread::unpark)
    npc,        \* the producer: where it is in its loop / EventCount::notify
    toUnpark    \* the producer's `to_unpark` list, filled under the lock

vars == <<epoch, waiters, items, produced, consumed, pc, key, queue, woken, token,
          npc, toUnpark>>

WaiterPcs == {"check", "prepare", "recheck", "cancel", "lock", "asleep", "dereg", "done"}
ProducerPcs == {"produce", "fence", "bump", "scan", "unpark", "done"}
\* The waiters counted in `waiters`: between prepare_wait and the Key's drop.
Registered == {w \in Waiters : pc[w] \in {"recheck", "cancel", "lock", "asleep", "dereg"}}
InQueue(w) == \E i \in 1..Len(queue) : queue[i] = w
Remove(s, w) == SelectSeq(s, LAMBDA x : x # w)

\* ------------------------------ TypeOK ---------------------------------
TypeOK ==
    /\ epoch \in 0..Items
    /\ waiters \in 0..Cardinality(Waiters)
    /\ items \in 0..Items
    /\ produced \in 0..Items
    /\ consumed \in 0..Items
    /\ pc \in [Waiters -> WaiterPcs]
    /\ key \in [Waiters -> 0..Items]
    /\ Len(queue) <= Cardinality(Waiters)
    /\ \A i \in 1..Len(queue) : queue[i] \in Waiters
    /\ woken \in [Waiters -> BOOLEAN]
    /\ token \in [Waiters -> BOOLEAN]
    /\ npc \in ProducerPcs
    /\ toUnpark \subseteq Waiters

\* ------------------------------ Init -----------------------------------
Init ==
    /\ epoch = 0
    /\ waiters = 0
    /\ items = 0
    /\ produced = 0
    /\ consumed = 0
    /\ pc = [w \in Waiters |-> "check"]
    /\ key = [w \in Waiters |-> 0]
    /\ queue = << >>
    /\ woken = [w \in Waiters |-> FALSE]
    /\ token = [w \in Waiters |-> FALSE]
    /\ npc = "produce"
    /\ toUnpark = {}

\* ------------------------------ Actions: waiter ------------------------
\* Each waiter takes one item, through the loop of EventCount::wait_until.

TakeItem(w, next) ==
    /\ items' = items - 1
    /\ consumed' = consumed + 1
    /\ pc' = [pc EXCEPT ![w] = next]

\* `ready()` before prepare_wait: the fetch_update that claims an item.
CheckCondition(w) ==
    /\ pc[w] = "check"
    /\ IF items > 0
       THEN TakeItem(w, "done")
       ELSE /\ pc' = [pc EXCEPT ![w] = "prepare"]
            /\ UNCHANGED <<items, consumed>>
    /\ UNCHANGED <<epoch, waiters, produced, key, queue, woken, token, npc, toUnpark>>

\* prepare_wait: fetch_add(ONE_WAITER, SeqCst) then fence(SeqCst).
PrepareWait(w) ==
    /\ pc[w] = "prepare"
    /\ waiters' = waiters + 1
    /\ key' = [key EXCEPT ![w] = epoch]
    /\ pc' = [pc EXCEPT ![w] = IF WithRecheck THEN "recheck" ELSE "lock"]
    /\ UNCHANGED <<epoch, items, produced, consumed, queue, woken, token, npc, toUnpark>>

\* The re-check of `ready()` after prepare_wait. On success the waiter has its item but is still
\* registered: its Key drops in a step of its own (Deregister), as in the code.
Recheck(w) ==
    /\ pc[w] = "recheck"
    /\ IF items > 0
       THEN TakeItem(w, "cancel")
       ELSE /\ pc' = [pc EXCEPT ![w] = "lock"]
            /\ UNCHANGED <<items, consumed>>
    /\ UNCHANGED <<epoch, waiters, produced, key, queue, woken, token, npc, toUnpark>>

\* EventCount::sleep, first critical section: re-check the epoch, else queue up and park.
Enqueue(w) ==
    /\ pc[w] = "lock"
    /\ IF WithLockedRecheck /\ epoch # key[w]
       THEN /\ pc' = [pc EXCEPT ![w] = "dereg"]
            /\ UNCHANGED <<queue, woken>>
       ELSE /\ queue' = Append(queue, w)
            /\ woken' = [woken EXCEPT ![w] = FALSE]
            /\ pc' = [pc EXCEPT ![w] = "asleep"]
    /\ UNCHANGED <<epoch, waiters, items, produced, consumed, key, token, npc, toUnpark>>

\* park() returns, then the second critical section: leave the queue if chosen or the epoch
\* moved, else park again. park returns after an unpark (consuming its token) or spuriously:
\* std documents spurious returns and shuttle produces them, so Wake does not need the token.
\* (The first version required it; conformance traces from shuttle showed the spec was wrong.)
Wake(w) ==
    /\ pc[w] = "asleep"
    /\ token' = [token EXCEPT ![w] = FALSE]
    /\ IF woken[w] \/ epoch # key[w]
       THEN /\ queue' = Remove(queue, w)
            /\ pc' = [pc EXCEPT ![w] = "dereg"]
       ELSE UNCHANGED <<queue, pc>>
    /\ UNCHANGED <<epoch, waiters, items, produced, consumed, key, woken, npc, toUnpark>>

\* The Key's drop: fetch_sub(ONE_WAITER). After a cancel the waiter is done; after a wait,
\* wait_until loops to `ready()` again.
Deregister(w) ==
    /\ pc[w] \in {"dereg", "cancel"}
    /\ waiters' = waiters - 1
    /\ pc' = [pc EXCEPT ![w] = IF pc[w] = "cancel" THEN "done" ELSE "check"]
    /\ UNCHANGED <<epoch, items, produced, consumed, key, queue, woken, token, npc, toUnpark>>

\* ------------------------------ Actions: producer ----------------------
\* The producer's Release fetch_add on the item count.
AddItem ==
    /\ npc = "produce"
    /\ produced < Items
    /\ items' = items + 1
    /\ produced' = produced + 1
    /\ npc' = "fence"
    /\ UNCHANGED <<epoch, waiters, consumed, pc, key, queue, woken, token, toUnpark>>

AfterNotify == IF produced = Items THEN "done" ELSE "produce"

\* notify: fence(SeqCst), then the Relaxed load of `state`: the fast path when no waiters.
LoadWaiters ==
    /\ npc = "fence"
    /\ npc' = IF waiters = 0 THEN AfterNotify ELSE "bump"
    /\ UNCHANGED <<epoch, waiters, items, produced, consumed, pc, key, queue, woken, token,
                   toUnpark>>

\* notify: fetch_add(ONE_EPOCH, Release).
BumpEpoch ==
    /\ npc = "bump"
    /\ epoch' = epoch + 1
    /\ npc' = "scan"
    /\ UNCHANGED <<waiters, items, produced, consumed, pc, key, queue, woken, token, toUnpark>>

\* Sleepers a notify may pick: not yet chosen, and with a stale key.
Candidates == {i \in 1..Len(queue) : ~woken[queue[i]] /\ key[queue[i]] # epoch}
Oldest(S) == CHOOSE i \in S : \A j \in S : i <= j

\* notify, under the sleeper-queue lock: mark the sleepers to wake.
ScanQueue ==
    /\ npc = "scan"
    /\ LET chosen == IF Candidates = {} THEN {}
                     ELSE IF NotifyAll THEN {queue[i] : i \in Candidates}
                     ELSE {queue[Oldest(Candidates)]}
       IN /\ woken' = [w \in Waiters |-> woken[w] \/ w \in chosen]
          /\ toUnpark' = chosen
    /\ npc' = "unpark"
    /\ UNCHANGED <<epoch, waiters, items, produced, consumed, pc, key, queue, token>>

\* notify, after the lock: Thread::unpark for each chosen sleeper.
Unpark ==
    /\ npc = "unpark"
    /\ token' = [w \in Waiters |-> token[w] \/ w \in toUnpark]
    /\ toUnpark' = {}
    /\ npc' = AfterNotify
    /\ UNCHANGED <<epoch, waiters, items, produced, consumed, pc, key, queue, woken>>

\* Everyone finished: stutter, so a finished run is not reported as a deadlock.
Finished ==
    /\ npc = "done"
    /\ \A w \in Waiters : pc[w] = "done"
    /\ UNCHANGED vars

Waiter(w) ==
    \/ CheckCondition(w) \/ PrepareWait(w) \/ Recheck(w) \/ Enqueue(w) \/ Wake(w)
    \/ Deregister(w)

Producer == AddItem \/ LoadWaiters \/ BumpEpoch \/ ScanQueue \/ Unpark

\* Every action is its own disjunct, so that a checker names each step after its action (the
\* conformance traces in models/tests/conformance_sync.rs refer to them by name).
Next ==
    \/ Producer
    \/ Finished
    \/ \E w \in Waiters : CheckCondition(w)
    \/ \E w \in Waiters : PrepareWait(w)
    \/ \E w \in Waiters : Recheck(w)
    \/ \E w \in Waiters : Enqueue(w)
    \/ \E w \in Waiters : Wake(w)
    \/ \E w \in Waiters : Deregister(w)

\* ------------------------------ Invariants -----------------------------
\* SleepersRegistered: every waiter between prepare_wait and its Key's drop is counted, so
\* the notifier's fast path never skips a sleeper.
SleepersRegistered == waiters = Cardinality(Registered)

\* ItemsConserved: no item is lost or taken twice.
ItemsConserved == items + consumed = produced

\* NoLostWakeup: once the producer is done, an item left over always has a waiter that can
\* still reach it (running, or asleep with a wake-up on its way).
Stuck(w) == pc[w] = "asleep" /\ ~token[w]
NoLostWakeup == (npc = "done" /\ items > 0) => \E w \in Waiters : ~Stuck(w)

\* ------------------------------ Spec -----------------------------------
Spec == Init /\ [][Next]_vars

FairSpec == Spec /\ WF_vars(Producer) /\ \A w \in Waiters : WF_vars(Waiter(w))

\* Liveness: with fair scheduling every waiter gets an item and returns.
AllServed == <>(\A w \in Waiters : pc[w] = "done")
=============================================================================
