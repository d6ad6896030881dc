//! Barrier round trip: the time for N threads to pass one barrier phase together (one
//! *episode*: every thread arrives once and passes once), as in the hurdles README and the
//! anchor's methodology (section 7, B1/B2), next to the cache-line ping-pong floor measured
//! in the same run.
//!
//! Implementations (function ids):
//! - `gearset`: `gearset_starbarrier::Member::wait` with `BusySpin` (per-participant epochs);
//! - `gearset-yielding`: the same barrier with the `Yielding` strategy;
//! - `gearset-shortspin`: the same barrier with hurdles' wait policy (`ShortSpinThenYield`
//!   below), so that our barrier and hurdles differ in the arrival algorithm only;
//! - `sense-reversing`: a plain centralized sense-reversing spin barrier (Mellor-Crummey &
//!   Scott 1991, §3.1), written here as the textbook baseline;
//! - `dissemination` / `dissemination-yielding`: a dissemination barrier (Hensgen, Finkel &
//!   Manber 1988; Mellor-Crummey & Scott 1991, §3.3) with one monotone, single-writer epoch
//!   per (participant, round): `ceil(log2 n)` rounds, each one store to a partner's line and
//!   one wait on our own; spin-only, or with crossbeam's `Backoff::snooze` (spin, then yield)
//!   like `Yielding`. The candidate arrival algorithm for larger N, measured here before it is
//!   built into the crate;
//! - `hurdles`: hurdles 1.0.1 (centralized sense-reversing, `SeqCst`, spin only);
//! - `std`: `std::sync::Barrier` (mutex + condvar).
//!
//! N = 2 is the pair barrier (two threads, two cores when the box is idle). N = 4 and 8 are
//! OVERSUBSCRIBED on the 2-core development box: the spinning implementations then depend on
//! the OS scheduler preempting a spinner, and their numbers measure that, not the barrier.
//! Beyond twice the core count the spin-only ones (`hurdles` included) are skipped, see
//! `spinners_run`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods, missing_docs)]

use std::{
    hint,
    sync::{
        Arc, Barrier as StdBarrier,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use crossbeam_utils::{Backoff, CachePadded};
use gearset_benches::{bench_floor, config};
use gearset_starbarrier::{Member, barrier};
use gearset_sync::{
    time::Instant as SyncInstant,
    wait::{BusySpin, TimedOut, WaitStrategy, Yielding},
};

/// Runs `iters` episodes on `parties.len()` threads (the caller is party 0) and returns how
/// long party 0 took for them, after one untimed episode that lines everybody up.
fn episodes<P: Send + 'static>(mut parties: Vec<P>, iters: u64, pass: fn(&mut P)) -> Duration {
    let mut mine = parties.remove(0);
    let others: Vec<_> = parties
        .into_iter()
        .map(|mut party| {
            thread::spawn(move || {
                for _ in 0..=iters {
                    pass(&mut party);
                }
            })
        })
        .collect();
    pass(&mut mine);
    let started = Instant::now();
    for _ in 0..iters {
        pass(&mut mine);
    }
    let took = started.elapsed();
    for other in others {
        other.join().expect("a barrier thread panicked");
    }
    took
}

/// hurdles' wait policy (`parking_lot_core::SpinWait`): 2, 4 and 8 pauses between checks,
/// then yield; unlike `SpinWait` it keeps yielding instead of falling back to a bare spin
/// after ten steps. `Yielding` (crossbeam's `Backoff::snooze`) spins 1, 2, ..., 64 pauses
/// between checks before it yields, so it may notice an arrival up to 64 pauses late. The
/// deadline is ignored: the bench sets no timeout.
#[derive(Debug, Default)]
struct ShortSpinThenYield;

impl WaitStrategy for ShortSpinThenYield {
    const CAN_SLEEP: bool = false;

    fn wait_until<T>(
        &self,
        mut ready: impl FnMut() -> Option<T>,
        _deadline: Option<SyncInstant>,
    ) -> Result<T, TimedOut> {
        for step in 0u32.. {
            if let Some(value) = ready() {
                return Ok(value);
            }
            if step < 3 {
                (0..2u32 << step).for_each(|_| hint::spin_loop());
            } else {
                thread::yield_now();
            }
        }
        unreachable!("a u32 step counter ran out")
    }

    fn notify_all(&self) {}

    fn timeout(&self) -> Option<gearset_sync::time::Duration> {
        None
    }
}

fn gearset<W: WaitStrategy + 'static>(n: usize, wait: W) -> Vec<Member<W>> {
    barrier(n, wait).expect("n > 0")
}

fn gearset_pass<W: WaitStrategy>(member: &mut Member<W>) {
    member.wait().expect("no member panics or leaves");
}

/// The textbook centralized barrier: a shared count and a global sense; the last arriver
/// resets the count and flips the sense, the others spin until the sense matches theirs.
#[derive(Debug)]
struct SenseShared {
    count: CachePadded<AtomicUsize>,
    sense: CachePadded<AtomicBool>,
    parties: usize,
}

#[derive(Debug)]
struct SenseParty {
    shared: Arc<SenseShared>,
    local_sense: bool,
}

fn sense_reversing(n: usize) -> Vec<SenseParty> {
    let shared = Arc::new(SenseShared {
        count: CachePadded::new(AtomicUsize::new(n)),
        sense: CachePadded::new(AtomicBool::new(false)),
        parties: n,
    });
    (0..n)
        .map(|_| SenseParty {
            shared: Arc::clone(&shared),
            local_sense: false,
        })
        .collect()
}

fn sense_pass(party: &mut SenseParty) {
    party.local_sense = !party.local_sense;
    let shared = &*party.shared;
    // AcqRel: the Release half publishes this party's phase; the Acquire half lets the last
    // arriver see everybody's before it flips the sense.
    if shared.count.fetch_sub(1, Ordering::AcqRel) == 1 {
        // Relaxed: nobody touches the count until the Release store below is seen.
        shared.count.store(shared.parties, Ordering::Relaxed);
        // Release: publishes every party's phase; pairs with the Acquire load below.
        shared.sense.store(party.local_sense, Ordering::Release);
    } else {
        // Acquire: pairs with the last arriver's Release store of the sense.
        while shared.sense.load(Ordering::Acquire) != party.local_sense {
            hint::spin_loop();
        }
    }
}

/// Dissemination barrier state: `flags[i * rounds + r]` is written only by participant
/// `(i - 2^r) mod n` (the epoch it reached round `r` of), read only by participant `i`.
#[derive(Debug)]
struct DisseminationShared {
    flags: Box<[CachePadded<AtomicU64>]>,
    parties: usize,
    rounds: usize,
}

#[derive(Debug)]
struct DisseminationParty {
    shared: Arc<DisseminationShared>,
    me: usize,
    epoch: u64,
    yielding: bool,
}

fn dissemination(n: usize, yielding: bool) -> Vec<DisseminationParty> {
    let rounds = n.next_power_of_two().trailing_zeros() as usize;
    let shared = Arc::new(DisseminationShared {
        flags: (0..n * rounds.max(1))
            .map(|_| CachePadded::new(AtomicU64::new(0)))
            .collect(),
        parties: n,
        rounds,
    });
    (0..n)
        .map(|me| DisseminationParty {
            shared: Arc::clone(&shared),
            me,
            epoch: 0,
            yielding,
        })
        .collect()
}

fn dissemination_pass(party: &mut DisseminationParty) {
    party.epoch += 1;
    let (shared, me, epoch) = (&*party.shared, party.me, party.epoch);
    for round in 0..shared.rounds {
        let partner = (me + (1 << round)) % shared.parties;
        // Release: publishes our writes (and every write we acquired in earlier rounds) to
        // the partner's Acquire load below.
        shared.flags[partner * shared.rounds + round].store(epoch, Ordering::Release);
        let mine = &shared.flags[me * shared.rounds + round];
        let backoff = Backoff::new();
        // Acquire: pairs with the Release store of participant `me - 2^round`.
        while mine.load(Ordering::Acquire) < epoch {
            if party.yielding {
                backoff.snooze();
            } else {
                hint::spin_loop();
            }
        }
    }
}

fn hurdles_parties(n: usize) -> Vec<hurdles::Barrier> {
    let first = hurdles::Barrier::new(n);
    (0..n).map(|_| first.clone()).collect()
}

fn hurdles_pass(barrier: &mut hurdles::Barrier) {
    barrier.wait();
}

fn std_parties(n: usize) -> Vec<Arc<StdBarrier>> {
    let shared = Arc::new(StdBarrier::new(n));
    (0..n).map(|_| Arc::clone(&shared)).collect()
}

fn std_pass(barrier: &mut Arc<StdBarrier>) {
    barrier.wait();
}

/// Every implementation must complete a few hundred episodes before it is measured.
fn sane<P: Send + 'static>(parties: Vec<P>, pass: fn(&mut P)) {
    assert!(episodes(parties, 300, pass) < Duration::from_secs(30));
}

/// Whether spin-only barriers run at `n` threads: not beyond twice the cores. At 8 threads on
/// 2 vCPUs a pure spinner waits for the scheduler to preempt 7 others per episode, and the
/// sense-reversing barrier failed the 30 s sanity check; the numbers would measure the
/// scheduler, not the barrier. (`hurdles` is spin-only too.)
fn spinners_run(n: usize) -> bool {
    let cores = thread::available_parallelism().map_or(1, |c| c.get());
    let run = n <= 2 * cores;
    if !run {
        eprintln!("starbarrier/round: {n} threads on {cores} cores: spin-only barriers skipped");
    }
    run
}

fn bench_round(c: &mut Criterion) {
    bench_floor(c);
    let mut group = c.benchmark_group("starbarrier/round");
    for n in [2usize, 4, 8] {
        let id = |name: &str| BenchmarkId::new(name, format!("{n}t"));
        if spinners_run(n) {
            sane(gearset(n, BusySpin::new()), gearset_pass);
            group.bench_with_input(id("gearset"), &n, |b, &n| {
                b.iter_custom(|iters| episodes(gearset(n, BusySpin::new()), iters, gearset_pass))
            });
            sane(sense_reversing(n), sense_pass);
            group.bench_with_input(id("sense-reversing"), &n, |b, &n| {
                b.iter_custom(|iters| episodes(sense_reversing(n), iters, sense_pass))
            });
            sane(dissemination(n, false), dissemination_pass);
            group.bench_with_input(id("dissemination"), &n, |b, &n| {
                b.iter_custom(|iters| episodes(dissemination(n, false), iters, dissemination_pass))
            });
            sane(hurdles_parties(n), hurdles_pass);
            group.bench_with_input(id("hurdles"), &n, |b, &n| {
                b.iter_custom(|iters| episodes(hurdles_parties(n), iters, hurdles_pass))
            });
        }
        sane(gearset(n, Yielding::new()), gearset_pass);
        group.bench_with_input(id("gearset-yielding"), &n, |b, &n| {
            b.iter_custom(|iters| episodes(gearset(n, Yielding::new()), iters, gearset_pass))
        });
        sane(gearset(n, ShortSpinThenYield), gearset_pass);
        group.bench_with_input(id("gearset-shortspin"), &n, |b, &n| {
            b.iter_custom(|iters| episodes(gearset(n, ShortSpinThenYield), iters, gearset_pass))
        });
        sane(dissemination(n, true), dissemination_pass);
        group.bench_with_input(id("dissemination-yielding"), &n, |b, &n| {
            b.iter_custom(|iters| episodes(dissemination(n, true), iters, dissemination_pass))
        });
        sane(std_parties(n), std_pass);
        group.bench_with_input(id("std"), &n, |b, &n| {
            b.iter_custom(|iters| episodes(std_parties(n), iters, std_pass))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_round
}
criterion_main!(benches);
