----------------------------- MODULE AtomicVec -----------------------------
(***************************************************************************)
(* The double-buffered resize of gearset-atomvec                           *)
(* (primitives/atomvec/src/{vec,buffer}.rs): writers run CAS loops on one  *)
(* cell while a resizer migrates the vector from buffer to buffer by       *)
(* freezing the old length and every old cell, copying each into the next *)
(* buffer, and swinging `current`. Writers that meet a frozen cell or      *)
(* length help (advance + copy that cell) and retry in the next buffer.    *)
(*                                                                         *)
(* Each action is one atomic operation of the Rust code (one load, CAS or  *)
(* fetch_or), named after it; see README.md for the table.                 *)
(*                                                                         *)
(* Model simplifications:                                                  *)
(*  - Sequentially consistent memory. The Rust code uses Acquire/Release/  *)
(*    AcqRel on single locations; loom checks those orderings              *)
(*    (models/tests/loom_atomvec.rs) and Miri the happens-before edges     *)
(*    (primitives/atomvec/tests/hb.rs).                                    *)
(*  - Writers use one cell, index Idx = 0, which every resize keeps; cut   *)
(*    cells (shrink, then grow) are covered by loom                        *)
(*    `store_racing_shrink_then_grow`.                                     *)
(*  - One resizer. Losing the `next` CAS to a second resizer only frees    *)
(*    the loser's buffer and makes it a helper running the same steps.     *)
(*  - Values do not wrap (the constants keep sums below MaxVal).           *)
(*  - A thread reads `next` and freezes the length in one step (`next` is  *)
(*    written once, before anything of the old buffer is frozen).          *)
(*  - Reclamation is the quiescent-point scheme: retired buffers are freed *)
(*    only when no thread is inside an operation (`reclaim`, drop).        *)
(*                                                                         *)
(* Mode switches the protocol: "freeze" is the code; "naive" copies        *)
(* without freezing, then swaps (the anchor's section 2.2); "flag" also    *)
(* copies without freezing but sets a resizing flag that writers check    *)
(* before their CAS. QuiescentReclaim = FALSE frees retired buffers at any *)
(* time. Help = FALSE makes a writer wait for a migrator to copy a PENDING *)
(* cell instead of copying it (blocking, as papaya or the JDK's CHM do).   *)
(* The mutants in mutants/ use these and each must fail.                   *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

\* ------------------------------ Constants ------------------------------
CONSTANTS
    Writers,          \* writer threads, e.g. {w1, w2}
    R,                \* the resizer thread
    WOps,             \* [Writers -> Seq(<<"add", d>> or <<"store", v>>)]: each writer's operations on cell Idx
    ROps,             \* Seq(<<"grow", n>> or <<"shrink", n>>): the resizer's operations
    InitLen,          \* AtomicVec::with_len(InitLen): length and capacity of buffer 1
    MaxVal,           \* bound on cell values (TypeOK)
    MaxCap,           \* bound on capacities (TypeOK, cell domain)
    Mode,             \* "freeze" (the code), "naive" or "flag" (mutants)
    QuiescentReclaim, \* TRUE (the code): free retired buffers only at a quiescent point
    Help              \* TRUE (the code): a writer that meets a PENDING cell copies it itself

Threads == Writers \cup {R}
NBufs == Len(ROps) + 1
BufIds == 1..NBufs
NoBuf == 0
Idx == 0
Cells == 0..(MaxCap - 1)
States == {"live", "frozen", "pending", "none"}
Max(a, b) == IF a >= b THEN a ELSE b
Min(a, b) == IF a <= b THEN a ELSE b
Freezes == Mode = "freeze"

\* Plan::apply: the new length from the predecessor's frozen length.
Apply(p, l) == CASE p[1] = "grow" -> Max(l, p[2])
               []   p[1] = "shrink" -> Min(l, p[2])
               []   OTHER -> l

\* ------------------------------ Variables ------------------------------
VARIABLES
    current,  \* AtomicVec.current
    next,     \* Buffer.next of each buffer (NoBuf = null)
    cap,      \* Buffer.cells.len() of each buffer (0 = not allocated yet)
    plan,     \* Buffer.plan of each buffer
    len,      \* Buffer.len of each buffer: [st |-> live/frozen/pending, v |-> length]
    cell,     \* Buffer.cells of each buffer: [st |-> live/frozen/pending/none, v |-> value]
    nalloc,   \* buffers allocated so far (ids 1..nalloc)
    retired,  \* AtomicVec.retired (the stack, as a set)
    freed,    \* retired buffers returned to the allocator by a reclaim
    flag,     \* Mode "flag" only: the resizing flag the writers check
    pc,       \* per thread: the next atomic step
    buf,      \* per thread: `buf` in AtomicVec::access / the next buffer in finish_migration
    prev,     \* per thread: `prev` in access / `old` in finish_migration
    exp,      \* per writer: the value its CAS expects (`cur` in rmw)
    tmp,      \* per thread: the value returned by its last fetch_or (frozen length or cell)
    opi,      \* per thread: index of its current operation
    ci,       \* resizer: the cell finish_migration is copying
    model,    \* ghost: the sequential (linearized) value of cell Idx
    fval      \* ghost: the value each cell had when it was frozen

vars == <<current, next, cap, plan, len, cell, nalloc, retired, freed, flag,
          pc, buf, prev, exp, tmp, opi, ci, model, fval>>

\* ------------------------------ TypeOK ------------------------------
Cell == [st : States, v : 0..MaxVal]
TypeOK ==
    /\ current \in BufIds
    /\ next \in [BufIds -> BufIds \cup {NoBuf}]
    /\ cap \in [BufIds -> 0..MaxCap]
    /\ len \in [BufIds -> [st : States, v : 0..MaxCap]]
    /\ cell \in [BufIds -> [Cells -> Cell]]
    /\ nalloc \in BufIds
    /\ retired \subseteq BufIds /\ freed \subseteq BufIds
    /\ flag \in BOOLEAN
    /\ buf \in [Threads -> BufIds \cup {NoBuf}]
    /\ prev \in [Threads -> BufIds \cup {NoBuf}]
    /\ exp \in [Threads -> 0..MaxVal]
    /\ tmp \in [Threads -> 0..MaxVal]
    /\ ci \in 0..MaxCap
    /\ model \in 0..MaxVal
    /\ fval \in [BufIds -> [Cells -> 0..MaxVal]]

\* ------------------------------ Init ------------------------------
Init ==
    /\ current = 1
    /\ next = [b \in BufIds |-> NoBuf]
    /\ cap = [b \in BufIds |-> IF b = 1 THEN InitLen ELSE 0]
    /\ plan = [b \in BufIds |-> <<"initial", 0>>]
    /\ len = [b \in BufIds |-> IF b = 1 THEN [st |-> "live", v |-> InitLen]
                                        ELSE [st |-> "none", v |-> 0]]
    /\ cell = [b \in BufIds |-> [i \in Cells |->
                 IF b = 1 /\ i < InitLen THEN [st |-> "live", v |-> 0] ELSE [st |-> "none", v |-> 0]]]
    /\ nalloc = 1
    /\ retired = {} /\ freed = {}
    /\ flag = FALSE
    /\ pc = [t \in Threads |-> IF t = R THEN "rstart" ELSE "start"]
    /\ buf = [t \in Threads |-> NoBuf]
    /\ prev = [t \in Threads |-> NoBuf]
    /\ exp = [t \in Threads |-> 0]
    /\ tmp = [t \in Threads |-> 0]
    /\ opi = [t \in Threads |-> 1]
    /\ ci = 0
    /\ model = 0
    /\ fval = [b \in BufIds |-> [i \in Cells |-> 0]]

\* ------------------------------ Actions ------------------------------
Ops(t) == IF t = R THEN ROps ELSE WOps[t]

\* A thread finished its operation: it holds no buffer (a quiescent point).
FinishOp(t) ==
    /\ opi' = [opi EXCEPT ![t] = @ + 1]
    /\ pc' = [pc EXCEPT ![t] = IF opi[t] + 1 > Len(Ops(t)) THEN "done"
                               ELSE IF t = R THEN "rstart" ELSE "start"]
    /\ buf' = [buf EXCEPT ![t] = NoBuf]
    /\ prev' = [prev EXCEPT ![t] = NoBuf]

\* AtomicVec::load_current (Acquire load of `current`), at the start of access().
LoadCurrent(w) ==
    /\ pc[w] = "start" /\ opi[w] <= Len(WOps[w])
    /\ buf' = [buf EXCEPT ![w] = current]
    /\ prev' = [prev EXCEPT ![w] = NoBuf]
    /\ pc' = [pc EXCEPT ![w] = "len"]
    /\ UNCHANGED <<current, next, cap, plan, len, cell, nalloc, retired, freed, flag,
                   exp, tmp, opi, ci, model, fval>>

\* access(): Acquire load of buf.len. Frozen: advance. Else the bound check.
LoadLen(w) ==
    /\ pc[w] = "len"
    /\ LET l == len[buf[w]] IN
       (IF l.st = "frozen"
        THEN /\ prev' = [prev EXCEPT ![w] = buf[w]]
             /\ pc' = [pc EXCEPT ![w] = "adv1"]
             /\ UNCHANGED <<buf, opi>>
        ELSE IF Idx >= l.v
        THEN FinishOp(w)     \* IndexError
        ELSE /\ pc' = [pc EXCEPT ![w] = "read"]
             /\ UNCHANGED <<buf, prev, opi>>)
    /\ UNCHANGED <<current, next, cap, plan, len, cell, nalloc, retired, freed, flag,
                   exp, tmp, ci, model, fval>>

\* advance(), step 1: read `next` and fetch_or(FROZEN) on the old length.
FetchOrFreezeLen(t) ==
    /\ pc[t] = "adv1"
    /\ LET o == prev[t] IN
       /\ len' = IF Freezes THEN [len EXCEPT ![o].st = "frozen"] ELSE len
       /\ tmp' = [tmp EXCEPT ![t] = len[o].v]
    /\ pc' = [pc EXCEPT ![t] = "adv2"]
    /\ UNCHANGED <<current, next, cap, plan, cell, nalloc, retired, freed, flag,
                   buf, prev, exp, opi, ci, model, fval>>

\* advance(), step 2: CAS next.len from PENDING to plan(frozen length); move to `next`.
CasSetLen(t) ==
    /\ pc[t] = "adv2"
    /\ LET n == next[prev[t]] IN
       /\ len' = IF len[n].st = "pending"
                 THEN [len EXCEPT ![n] = [st |-> "live", v |-> Apply(plan[n], tmp[t])]]
                 ELSE len
       /\ buf' = [buf EXCEPT ![t] = n]
       /\ pc' = [pc EXCEPT ![t] = IF t = R THEN (IF cap[prev[t]] > 0 THEN "copy1" ELSE "rswing")
                                  ELSE "len"]
    /\ UNCHANGED <<current, next, cap, plan, cell, nalloc, retired, freed, flag,
                   prev, exp, tmp, opi, ci, model, fval>>

CopyIdx(t) == IF t = R THEN ci ELSE Idx

\* copy_cell(), step 1: fetch_or(FROZEN) on the old cell; its value is final.
FetchOrFreezeCell(t) ==
    /\ pc[t] = "copy1"
    /\ LET o == prev[t]
           i == CopyIdx(t) IN
       /\ tmp' = [tmp EXCEPT ![t] = cell[o][i].v]
       /\ (IF Freezes /\ cell[o][i].st = "live"
           THEN /\ cell' = [cell EXCEPT ![o][i].st = "frozen"]
                /\ fval' = [fval EXCEPT ![o][i] = cell[o][i].v]
           ELSE UNCHANGED <<cell, fval>>)
    /\ pc' = [pc EXCEPT ![t] = "copy2"]
    /\ UNCHANGED <<current, next, cap, plan, len, nalloc, retired, freed, flag,
                   buf, prev, exp, opi, ci, model>>

\* copy_cell(), step 2: CAS the destination cell from PENDING to the value (0 if cut).
CasCopyCell(t) ==
    /\ pc[t] = "copy2"
    /\ LET o == prev[t]
           n == buf[t]
           i == CopyIdx(t)
           kept == Apply(plan[n], len[o].v)
           val == IF i < kept THEN tmp[t] ELSE 0 IN
       /\ cell' = IF i < cap[n] /\ cell[n][i].st = "pending"
                  THEN [cell EXCEPT ![n][i] = [st |-> "live", v |-> val]]
                  ELSE cell
       /\ (IF t = R
           THEN /\ ci' = ci + 1
                /\ pc' = [pc EXCEPT ![t] = IF ci + 1 < cap[o] THEN "copy1" ELSE "rswing"]
           ELSE /\ pc' = [pc EXCEPT ![t] = "read"]
                /\ UNCHANGED ci)
    /\ UNCHANGED <<current, next, cap, plan, len, nalloc, retired, freed, flag,
                   buf, prev, exp, tmp, opi, model, fval>>

\* access(): Acquire load of the cell. Frozen: advance; PENDING: copy it; live: go CAS.
LoadCell(w) ==
    /\ pc[w] = "read"
    /\ LET c == cell[buf[w]][Idx] IN
       (CASE c.st = "frozen" ->
                /\ prev' = [prev EXCEPT ![w] = buf[w]]
                /\ pc' = [pc EXCEPT ![w] = "adv1"]
                /\ UNCHANGED exp
         [] c.st = "pending" ->
                \* Without helping the writer can only wait for a migrator to copy the cell.
                /\ Help
                /\ pc' = [pc EXCEPT ![w] = "copy1"]
                /\ UNCHANGED <<prev, exp>>
         [] OTHER ->
                /\ exp' = [exp EXCEPT ![w] = c.v]
                /\ pc' = [pc EXCEPT ![w] = IF Mode = "flag" THEN "flag" ELSE "cas"]
                /\ UNCHANGED prev)
    /\ UNCHANGED <<current, next, cap, plan, len, cell, nalloc, retired, freed, flag,
                   buf, tmp, opi, ci, model, fval>>

\* Mutant "flag" only: the writer checks the resizing flag and starts over if it is set.
LoadFlag(w) ==
    /\ pc[w] = "flag"
    /\ pc' = [pc EXCEPT ![w] = IF flag THEN "start" ELSE "cas"]
    /\ UNCHANGED <<current, next, cap, plan, len, cell, nalloc, retired, freed, flag,
                   buf, prev, exp, tmp, opi, ci, model, fval>>

\* rmw(): compare_exchange on the cell. Success is the linearization point (model updated).
CasCell(w) ==
    /\ pc[w] = "cas"
    /\ LET c == cell[buf[w]][Idx]
           op == WOps[w][opi[w]]
           new == IF op[1] = "add" THEN exp[w] + op[2] ELSE op[2] IN
       (IF c.st = "live" /\ c.v = exp[w]
        THEN /\ cell' = [cell EXCEPT ![buf[w]][Idx].v = new]
             /\ model' = new
             /\ FinishOp(w)
             /\ UNCHANGED exp
        ELSE /\ exp' = [exp EXCEPT ![w] = c.v]
             /\ pc' = [pc EXCEPT ![w] = IF c.st = "live" THEN "cas" ELSE "len"]
             /\ UNCHANGED <<cell, model, opi, buf, prev>>)
    /\ UNCHANGED <<current, next, cap, plan, len, nalloc, retired, freed, flag, tmp, ci, fval>>

\* resize(): load current and its length; grow in place (CAS len) or StartResize: allocate
\* `next` (cells below the old capacity PENDING) and CAS it into old.next.
StartResize ==
    /\ pc[R] = "rstart" /\ opi[R] <= Len(ROps)
    /\ LET b == current
           l == len[b].v
           op == ROps[opi[R]]
           migrate == IF op[1] = "grow" THEN op[2] > cap[b] ELSE op[2] < l
           newcap == IF op[1] = "grow" THEN Max(Max(op[2], 2 * cap[b]), 1) ELSE Max(op[2], 1)
           id == nalloc + 1 IN
       (IF ~migrate
        THEN /\ len' = IF op[1] = "grow" /\ op[2] > l
                       THEN [len EXCEPT ![b].v = op[2]]   \* GrowInPlace
                       ELSE len
             /\ FinishOp(R)
             /\ UNCHANGED <<next, cap, plan, cell, nalloc, flag>>
        ELSE /\ nalloc' = id
             /\ cap' = [cap EXCEPT ![id] = newcap]
             /\ plan' = [plan EXCEPT ![id] = op]
             /\ len' = [len EXCEPT ![id] = [st |-> "pending", v |-> 0]]
             /\ cell' = [cell EXCEPT ![id] = [i \in Cells |->
                           IF i < newcap
                           THEN [st |-> IF i < cap[b] THEN "pending" ELSE "live", v |-> 0]
                           ELSE [st |-> "none", v |-> 0]]]
             /\ next' = [next EXCEPT ![b] = id]
             /\ flag' = (Mode = "flag")
             /\ prev' = [prev EXCEPT ![R] = b]
             /\ pc' = [pc EXCEPT ![R] = "adv1"]
             /\ UNCHANGED <<buf, opi>>)
    /\ ci' = 0
    /\ UNCHANGED <<current, retired, freed, exp, tmp, model, fval>>

\* finish_migration(): CAS current from old to next after the sweep; the winner retires old.
CasSwingCurrent ==
    /\ pc[R] = "rswing"
    /\ current = prev[R]
    /\ current' = buf[R]
    /\ retired' = retired \cup {prev[R]}
    /\ flag' = FALSE
    /\ FinishOp(R)
    /\ UNCHANGED <<next, cap, plan, len, cell, nalloc, freed, exp, tmp, ci, model, fval>>

\* Quiescent(t): thread t is between operations and holds no buffer.
Quiescent(t) == pc[t] \in {"start", "rstart", "done"}

\* AtomicVec::reclaim / reclaim_quiescent: free every retired buffer at a quiescent point.
Reclaim ==
    /\ retired # {}
    /\ QuiescentReclaim => \A t \in Threads : Quiescent(t)
    /\ freed' = freed \cup retired
    /\ retired' = {}
    /\ UNCHANGED <<current, next, cap, plan, len, cell, nalloc, flag,
                   pc, buf, prev, exp, tmp, opi, ci, model, fval>>

\* All operations finished: stutter (the checker runs without --allow-deadlock).
Done ==
    /\ \A t \in Threads : pc[t] = "done"
    /\ retired = {}
    /\ UNCHANGED vars

\* Every step of writer w, including the migration steps it helps with.
WriterNext(w) ==
    \/ LoadCurrent(w) \/ LoadLen(w) \/ LoadCell(w) \/ LoadFlag(w) \/ CasCell(w)
    \/ FetchOrFreezeLen(w) \/ CasSetLen(w) \/ FetchOrFreezeCell(w) \/ CasCopyCell(w)

\* Every step of the resizer.
ResizerNext ==
    \/ StartResize \/ CasSwingCurrent
    \/ FetchOrFreezeLen(R) \/ CasSetLen(R) \/ FetchOrFreezeCell(R) \/ CasCopyCell(R)

\* The same steps as `WriterNext` and `ResizerNext`, one disjunct per action so that a checker
\* names each step after its action (the conformance traces of
\* models/tests/conformance_atomvec.rs are checked by action name).
Next ==
    \/ \E w \in Writers : LoadCurrent(w)
    \/ \E w \in Writers : LoadLen(w)
    \/ \E w \in Writers : LoadCell(w)
    \/ \E w \in Writers : LoadFlag(w)
    \/ \E w \in Writers : CasCell(w)
    \/ \E t \in Threads : FetchOrFreezeLen(t)
    \/ \E t \in Threads : CasSetLen(t)
    \/ \E t \in Threads : FetchOrFreezeCell(t)
    \/ \E t \in Threads : CasCopyCell(t)
    \/ StartResize
    \/ CasSwingCurrent
    \/ Reclaim
    \/ Done

\* ------------------------------ Invariants ------------------------------
\* The live location of cell Idx: the current buffer's cell, or, once it is frozen and copied,
\* the next buffer's.
LogicalVal ==
    LET b == current
        n == next[b] IN
    IF cell[b][Idx].st = "frozen" /\ n # NoBuf /\ cell[n][Idx].st \in {"live", "frozen"}
    THEN cell[n][Idx].v
    ELSE cell[b][Idx].v

\* Every completed fetch_add and the last completed store are what a get sees now.
NoLostUpdate == LogicalVal = model

\* A frozen cell never changes (writers refuse it; late copiers only CAS PENDING cells).
FrozenImmutable ==
    \A b \in 1..nalloc : \A i \in Cells :
        cell[b][i].st = "frozen" => cell[b][i].v = fval[b][i]

\* `current` is swung only after every cell of it was copied (InstallAfterCopy).
CurrentComplete ==
    /\ len[current].st \in {"live", "frozen"}
    /\ \A i \in Cells : cell[current][i].st # "pending"

\* Indices below a buffer's length are cells of that buffer.
LenCovered ==
    \A b \in 1..nalloc : len[b].st \in {"live", "frozen"} =>
        /\ len[b].v <= cap[b]
        /\ \A i \in Cells : i < len[b].v => cell[b][i].st # "none"

\* No thread uses a freed buffer, and the vector never points into one.
NoUseAfterFree ==
    /\ current \notin freed
    /\ \A t \in Threads : buf[t] \notin freed /\ prev[t] \notin freed
    /\ \A b \in 1..nalloc : b \notin freed => next[b] \notin freed

\* ------------------------------ Spec ------------------------------
Spec == Init /\ [][Next]_vars
FairSpec == Spec /\ WF_vars(Next)
\* Lock-freedom against a stalled resizer: only the writers are fair, so the resizer may stop
\* for good at any step, in the middle of a migration (after freezing cells it never copies).
WritersFairSpec == Spec /\ \A w \in Writers : WF_vars(WriterNext(w))

\* Liveness: every resize completes (the helpers never block it), and so does every write.
AllDone == <>(\A t \in Threads : pc[t] = "done")
\* Liveness under WritersFairSpec: every write completes even if the resizer stops forever.
WritersDone == <>(\A w \in Writers : pc[w] = "done")
=============================================================================
