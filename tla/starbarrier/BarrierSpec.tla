---------------------------- MODULE BarrierSpec -----------------------------
(***************************************************************************)
(* The abstract barrier StarBarrier refines: per participant, how many     *)
(* phases it arrived at and how many it passed. Arriving and passing are   *)
(* single atomic steps; a participant passes phase k only when every       *)
(* participant has arrived at k (a departed participant counts as arrived  *)
(* at every phase; a crashed one never arrives again). In the style of     *)
(* tlaplus/Examples specifications/barriers/Barrier.tla, extended with     *)
(* split phase (arrive and pass are separate steps), leave and crash.      *)
(*                                                                         *)
(* The variables carry StarBarrier's names (epoch = phases arrived at,     *)
(* step = phases passed), so StarBarrier instantiates this module with the *)
(* identity mapping plus one ghost variable, `gone`: tla-checker 0.24.11   *)
(* does not evaluate primed `WITH v <- expr` substitutions.                *)
(***************************************************************************)
EXTENDS Naturals

\* ======================= Constants =======================
CONSTANTS N, K

Procs == 0 .. N - 1
Left == K + 1

\* ======================= Variables =======================
VARIABLES
    epoch,     \* phases arrived at (Left once departed): Shared::epochs
    step,      \* phases passed: Member::passed / Worker::superstep
    gone       \* participants that left or crashed

vars == <<epoch, step, gone>>

\* ======================= TypeOK =======================
TypeOK ==
    /\ epoch \in [Procs -> 0 .. Left]
    /\ step \in [Procs -> 0 .. K]
    /\ gone \subseteq Procs

\* ======================= Init =======================
Init ==
    /\ epoch = [p \in Procs |-> 0]
    /\ step = [p \in Procs |-> 0]
    /\ gone = {}

\* ======================= Actions =======================
Arrive(p) ==
    /\ p \notin gone
    /\ epoch[p] = step[p]
    /\ step[p] < K
    /\ epoch' = [epoch EXCEPT ![p] = step[p] + 1]
    /\ UNCHANGED <<step, gone>>

Pass(p) ==
    /\ p \notin gone
    /\ epoch[p] = step[p] + 1
    /\ \A q \in Procs : epoch[q] >= epoch[p]
    /\ step' = [step EXCEPT ![p] = @ + 1]
    /\ UNCHANGED <<epoch, gone>>

Leave(p) ==
    /\ p \notin gone
    /\ epoch' = [epoch EXCEPT ![p] = Left]
    /\ gone' = gone \cup {p}
    /\ UNCHANGED step

Crash(p) ==
    /\ p \notin gone
    /\ gone' = gone \cup {p}
    /\ UNCHANGED <<epoch, step>>

Next == \E p \in Procs : Arrive(p) \/ Pass(p) \/ Leave(p) \/ Crash(p)

\* ======================= Invariants =======================
\* Barrier property: nobody has passed phase k while a live participant has not arrived at k.
BarrierProperty ==
    \A p, q \in Procs : (q \notin gone) => step[p] <= epoch[q]

\* ======================= Spec =======================
Spec == Init /\ [][Next]_vars

=============================================================================
