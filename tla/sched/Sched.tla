------------------------------ MODULE Sched ------------------------------
(***************************************************************************)
(* The sleep/wake and termination protocol of gearset-sched               *)
(* (primitives/sched/src/{worker,registry,pool}.rs): workers search the    *)
(* queue tree, run jobs, and sleep on the gearset-sync event count; the    *)
(* pool's owner pushes jobs (notify_one after each), waits for quiescence, *)
(* sets the shutdown bit (notify_all) and joins the workers.               *)
(*                                                                         *)
(* Each action is one atomic step of the Rust code: one atomic RMW or load *)
(* (of the `counts` word or the event count's state), or one critical      *)
(* section of the event count's sleeper-queue lock. The event-count       *)
(* actions (PrepareWait ... Unpark) are those of tla/sync/EventCount.tla,  *)
(* with the same variable names and values, so the event count's own      *)
(* trace records check against this spec too (conformance_sched.rs).       *)
(*                                                                         *)
(* Model simplifications:                                                  *)
(*  - The queue tree is a count of jobs, `tasks` (the code's `queued`      *)
(*    field of `counts`, which goes up before a push lands and down after  *)
(*    a pop). A pop that misses a landing job retries without a state      *)
(*    change, so it is a stutter here; which queue a job sits in is        *)
(*    tla/hqueue's business.                                               *)
(*  - Only the owner pushes (the scenario of the conformance suite); pushes*)
(*    by workers (exposed joins, spawns from jobs) go through the same     *)
(*    announce / push / notify_one code.                                   *)
(*  - Sequentially consistent memory (the SeqCst fences of the event count *)
(*    give the Dekker handshake; loom_sched.rs checks the orderings).      *)
(*  - The Backoff spin before sleeping is a sequence of missed Searches:   *)
(*    stutters.                                                            *)
(*                                                                         *)
(* WithRecheck = FALSE is the mutant: a worker that sleeps without        *)
(* re-checking the queues after announcing it is going to sleep. It must  *)
(* violate NoLostWakeup (mutants/Sched_norecheck_w2_t2.cfg).               *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

\* ------------------------------ Constants ------------------------------
CONSTANTS
    Workers,      \* the worker threads, e.g. {w1, w2}
    Tasks,        \* jobs the owner pushes
    WithRecheck   \* the re-check of `counts` after prepare_wait (FALSE: the mutant)

\* ------------------------------ Variables ------------------------------
VARIABLES
    tasks,      \* Registry.counts, `queued`: jobs in the queue tree
    pending,    \* Registry.counts, `pending`: jobs pushed and not finished
    shut,       \* Registry.counts, the shutdown bit
    pushed,     \* jobs the owner pushed so far (the owner's loop counter)
    all,        \* whether the owner's current notify is notify_all (shutdown) or notify_one
    epoch,      \* EventCount.state, upper 32 bits
    waiters,    \* EventCount.state, lower 32 bits
    pc,         \* per worker: where it is in worker::main_loop / Key::wait
    key,        \* per worker: Key.epoch, read by prepare_wait
    queue,      \* EventCount.sleepers.queue, oldest first
    woken,      \* per worker: Sleeper.woken
    token,      \* per worker: the thread's park token
    npc,        \* the owner: where it is in its pushes / notify / Pool::drop
    toUnpark    \* the owner's notify: sleepers chosen under the lock

vars == <<tasks, pending, shut, pushed, all, epoch, waiters, pc, key, queue, woken, token,
          npc, toUnpark>>

WorkerPcs == {"search", "run", "prepare", "recheck", "cancel", "lock", "asleep", "dereg", "exit"}
OwnerPcs == {"push", "fence", "bump", "scan", "unpark", "quiesce", "shutdown", "join", "joined"}
Registered == {w \in Workers : pc[w] \in {"recheck", "cancel", "lock", "asleep", "dereg"}}
Running == {w \in Workers : pc[w] = "run"}
Remove(s, w) == SelectSeq(s, LAMBDA x : x # w)

\* ------------------------------ TypeOK ---------------------------------
TypeOK ==
    /\ tasks \in 0..Tasks
    /\ pending \in 0..Tasks
    /\ shut \in BOOLEAN
    /\ pushed \in 0..Tasks
    /\ all \in BOOLEAN
    /\ epoch \in 0..(Tasks + 1)
    /\ waiters \in 0..Cardinality(Workers)
    /\ pc \in [Workers -> WorkerPcs]
    /\ key \in [Workers -> 0..(Tasks + 1)]
    /\ Len(queue) <= Cardinality(Workers)
    /\ \A i \in 1..Len(queue) : queue[i] \in Workers
    /\ woken \in [Workers -> BOOLEAN]
    /\ token \in [Workers -> BOOLEAN]
    /\ npc \in OwnerPcs
    /\ toUnpark \subseteq Workers

\* ------------------------------ Init -----------------------------------
Init ==
    /\ tasks = 0
    /\ pending = 0
    /\ shut = FALSE
    /\ pushed = 0
    /\ all = FALSE
    /\ epoch = 0
    /\ waiters = 0
    /\ pc = [w \in Workers |-> "search"]
    /\ key = [w \in Workers |-> 0]
    /\ queue = << >>
    /\ woken = [w \in Workers |-> FALSE]
    /\ token = [w \in Workers |-> FALSE]
    /\ npc = "push"
    /\ toUnpark = {}

EcVars == <<epoch, waiters, key, queue, woken, token, toUnpark>>

\* ------------------------------ Actions: worker ------------------------
\* Context::search: one load of `counts`; a job → pop it and decrement `queued` (the RMW
\* is the step); none → exit on shutdown, else go to sleep.
Search(w) ==
    /\ pc[w] = "search"
    /\ IF tasks > 0
       THEN /\ tasks' = tasks - 1
            /\ pc' = [pc EXCEPT ![w] = "run"]
       ELSE /\ pc' = [pc EXCEPT ![w] = IF shut THEN "exit" ELSE "prepare"]
            /\ UNCHANGED tasks
    /\ UNCHANGED <<pending, shut, pushed, all, npc>>
    /\ UNCHANGED EcVars

\* Context::execute, then Registry::finished: the fetch_sub of `pending`.
Finish(w) ==
    /\ pc[w] = "run"
    /\ pending' = pending - 1
    /\ pc' = [pc EXCEPT ![w] = "search"]
    /\ UNCHANGED <<tasks, shut, pushed, all, npc>>
    /\ UNCHANGED EcVars

\* EventCount::prepare_wait: fetch_add(ONE_WAITER, SeqCst), then fence(SeqCst).
PrepareWait(w) ==
    /\ pc[w] = "prepare"
    /\ waiters' = waiters + 1
    /\ key' = [key EXCEPT ![w] = epoch]
    /\ pc' = [pc EXCEPT ![w] = IF WithRecheck THEN "recheck" ELSE "lock"]
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, npc, epoch, queue, woken, token,
                   toUnpark>>

\* Context::sleep: the re-check, one load of `counts` (work or shutdown → cancel).
Recheck(w) ==
    /\ pc[w] = "recheck"
    /\ pc' = [pc EXCEPT ![w] = IF tasks > 0 \/ shut THEN "cancel" ELSE "lock"]
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, npc>>
    /\ UNCHANGED EcVars

\* Key::wait, first critical section: re-check the epoch, else queue up and park.
Enqueue(w) ==
    /\ pc[w] = "lock"
    /\ IF epoch # key[w]
       THEN /\ pc' = [pc EXCEPT ![w] = "dereg"]
            /\ UNCHANGED <<queue, woken>>
       ELSE /\ queue' = Append(queue, w)
            /\ woken' = [woken EXCEPT ![w] = FALSE]
            /\ pc' = [pc EXCEPT ![w] = "asleep"]
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, npc, epoch, waiters, key, token,
                   toUnpark>>

\* park() returns (after an unpark, or spuriously), then the second critical section.
Wake(w) ==
    /\ pc[w] = "asleep"
    /\ token' = [token EXCEPT ![w] = FALSE]
    /\ IF woken[w] \/ epoch # key[w]
       THEN /\ queue' = Remove(queue, w)
            /\ pc' = [pc EXCEPT ![w] = "dereg"]
       ELSE UNCHANGED <<queue, pc>>
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, npc, epoch, waiters, key, woken,
                   toUnpark>>

\* The Key's drop: fetch_sub(ONE_WAITER); the worker searches again.
Deregister(w) ==
    /\ pc[w] \in {"dereg", "cancel"}
    /\ waiters' = waiters - 1
    /\ pc' = [pc EXCEPT ![w] = "search"]
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, npc, epoch, key, queue, woken, token,
                   toUnpark>>

\* ------------------------------ Actions: owner -------------------------
\* Registry::inject: the fetch_add announcing the job (it lands in the tree in the same
\* critical sequence; see the simplifications).
Push ==
    /\ npc = "push"
    /\ pushed < Tasks
    /\ tasks' = tasks + 1
    /\ pending' = pending + 1
    /\ pushed' = pushed + 1
    /\ all' = FALSE
    /\ npc' = "fence"
    /\ UNCHANGED <<shut, pc>>
    /\ UNCHANGED EcVars

AfterNotify == IF all THEN "join" ELSE IF pushed = Tasks THEN "quiesce" ELSE "push"

\* notify: fence(SeqCst), then the load of the waiter count.
LoadWaiters ==
    /\ npc = "fence"
    /\ npc' = IF waiters = 0 THEN AfterNotify ELSE "bump"
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, pc>>
    /\ UNCHANGED EcVars

\* notify: fetch_add(ONE_EPOCH, Release).
BumpEpoch ==
    /\ npc = "bump"
    /\ epoch' = epoch + 1
    /\ npc' = "scan"
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, pc, waiters, key, queue, woken, token,
                   toUnpark>>

Candidates == {i \in 1..Len(queue) : ~woken[queue[i]] /\ key[queue[i]] # epoch}
Oldest(S) == CHOOSE i \in S : \A j \in S : i <= j

\* notify, under the sleeper-queue lock: mark the sleepers to wake (all, or the oldest).
ScanQueue ==
    /\ npc = "scan"
    /\ LET chosen == IF Candidates = {} THEN {}
                     ELSE IF all THEN {queue[i] : i \in Candidates}
                     ELSE {queue[Oldest(Candidates)]}
       IN /\ woken' = [w \in Workers |-> woken[w] \/ w \in chosen]
          /\ toUnpark' = chosen
    /\ npc' = "unpark"
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, pc, epoch, waiters, key, queue, token>>

\* notify, after the lock: Thread::unpark for each chosen sleeper.
Unpark ==
    /\ npc = "unpark"
    /\ token' = [w \in Workers |-> token[w] \/ w \in toUnpark]
    /\ toUnpark' = {}
    /\ npc' = AfterNotify
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, pc, epoch, waiters, key, queue, woken>>

\* Pool::drop, Registry::wait_quiet: the load that sees `pending = 0`.
Quiesce ==
    /\ npc = "quiesce"
    /\ pending = 0
    /\ npc' = "shutdown"
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, pc>>
    /\ UNCHANGED EcVars

\* Registry::shut_down: fetch_or(SHUTDOWN), then notify_all.
Shutdown ==
    /\ npc = "shutdown"
    /\ shut' = TRUE
    /\ all' = TRUE
    /\ npc' = "fence"
    /\ UNCHANGED <<tasks, pending, pushed, pc>>
    /\ UNCHANGED EcVars

\* Pool::drop: every worker thread joined.
Joined ==
    /\ npc = "join"
    /\ \A w \in Workers : pc[w] = "exit"
    /\ npc' = "joined"
    /\ UNCHANGED <<tasks, pending, shut, pushed, all, pc>>
    /\ UNCHANGED EcVars

\* Everything joined: stutter, so a finished run is not a deadlock.
Finished ==
    /\ npc = "joined"
    /\ UNCHANGED vars

Worker(w) ==
    \/ Search(w) \/ Finish(w) \/ PrepareWait(w) \/ Recheck(w) \/ Enqueue(w) \/ Wake(w)
    \/ Deregister(w)

Owner == Push \/ LoadWaiters \/ BumpEpoch \/ ScanQueue \/ Unpark \/ Quiesce \/ Shutdown \/ Joined

\* Every action is its own disjunct, so that a checker names each step after it (the
\* conformance traces in models/tests/conformance_sched.rs refer to them by name).
Next ==
    \/ Push \/ LoadWaiters \/ BumpEpoch \/ ScanQueue \/ Unpark
    \/ Quiesce \/ Shutdown \/ Joined \/ Finished
    \/ \E w \in Workers : Search(w)
    \/ \E w \in Workers : Finish(w)
    \/ \E w \in Workers : PrepareWait(w)
    \/ \E w \in Workers : Recheck(w)
    \/ \E w \in Workers : Enqueue(w)
    \/ \E w \in Workers : Wake(w)
    \/ \E w \in Workers : Deregister(w)

\* ------------------------------ Invariants -----------------------------
\* PendingIsExact: every pending job is queued or running (nothing lost, nothing extra).
PendingIsExact == pending = tasks + Cardinality(Running)

\* SleepersRegistered: every worker between prepare_wait and its Key's drop is counted.
SleepersRegistered == waiters = Cardinality(Registered)

\* NoLostWakeup: no worker sleeps forever while work is queued. Whenever the owner is between
\* notifies and a job is queued, some worker is awake or has a wake-up on its way; and once
\* shutdown's notify_all is done, no worker sleeps without one.
Stuck(w) == pc[w] = "asleep" /\ ~token[w] /\ ~woken[w] /\ key[w] = epoch
NoLostWakeup ==
    /\ (npc \in {"push", "quiesce"} /\ tasks > 0) => \E w \in Workers : ~Stuck(w)
    /\ npc \in {"join", "joined"} => \A w \in Workers : ~Stuck(w)

\* QuiescenceIsReal: once the owner saw quiescence, no job exists anywhere.
QuiescenceIsReal ==
    (shut \/ npc = "shutdown") => (tasks = 0 /\ pending = 0 /\ Running = {})

\* ExitOnlyWhenDone: a worker exits only after shutdown, with nothing queued.
ExitOnlyWhenDone == \A w \in Workers : pc[w] = "exit" => (shut /\ tasks = 0)

\* JoinedMeansDone: shutdown joins every worker, and nothing was left behind.
JoinedMeansDone ==
    npc = "joined" => (\A w \in Workers : pc[w] = "exit") /\ pending = 0 /\ pushed = Tasks

\* ------------------------------ Spec -----------------------------------
Spec == Init /\ [][Next]_vars

FairSpec == Spec /\ WF_vars(Owner) /\ \A w \in Workers : WF_vars(Worker(w))

\* Liveness: every job runs and the pool shuts down, joining every worker.
AllJoined == <>(npc = "joined")
=============================================================================
