//! Event count wake-up latency: a two-thread round trip where each side waits for its turn by
//! blocking, against `std::thread::park`/`unpark` and a `Mutex` + `Condvar` pair, next to the
//! cache-line ping-pong floor measured in the same run.
//!
//! Two threads on two cores: not oversubscribed. A waiter that finds its turn already there
//! never sleeps, so this measures the whole hand-off (fast path or OS wake-up, whichever the
//! race gives), as a user of each primitive would see it.
#![allow(clippy::disallowed_types, clippy::disallowed_methods, missing_docs)]

use std::{
    sync::{
        Arc, Condvar, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    thread::{self, Thread},
};

use criterion::{Criterion, criterion_group, criterion_main};
use crossbeam_utils::CachePadded;
use gearset_benches::{Signal, bench_floor, config, round_trips, sanity_check};
use gearset_sync::EventCount;

/// Turn counter plus gearset's event count.
#[derive(Debug, Default)]
struct EventCountSignal {
    turn: CachePadded<AtomicU64>,
    event_count: EventCount,
}

impl Signal for EventCountSignal {
    fn post(&self, turn: u64) {
        // Release: hands the turn over; pairs with the Acquire load in `wait`.
        self.turn.store(turn, Ordering::Release);
        self.event_count.notify_all();
    }

    fn wait(&self, turn: u64) {
        // Acquire: pairs with the Release store in `post`.
        self.event_count
            .wait_until(|| (self.turn.load(Ordering::Acquire) == turn).then_some(()));
    }
}

/// Turn counter plus std's thread parking: each side unparks the other.
#[derive(Debug)]
struct ParkSignal {
    turn: CachePadded<AtomicU64>,
    main: Thread,
    partner: OnceLock<Thread>,
}

impl Signal for ParkSignal {
    fn register_partner(&self) {
        self.partner.set(thread::current()).expect("one partner");
    }

    fn post(&self, turn: u64) {
        // Release: hands the turn over; pairs with the Acquire load in `wait`.
        self.turn.store(turn, Ordering::Release);
        if turn % 2 == 1 {
            // The partner registers before its first wait; spin until it has.
            loop {
                if let Some(partner) = self.partner.get() {
                    break partner.unpark();
                }
                thread::yield_now();
            }
        } else {
            self.main.unpark();
        }
    }

    fn wait(&self, turn: u64) {
        // Acquire: pairs with the Release store in `post`.
        while self.turn.load(Ordering::Acquire) != turn {
            thread::park();
        }
    }
}

/// Turn counter under a mutex, waited on with a condition variable.
#[derive(Debug, Default)]
struct CondvarSignal {
    turn: Mutex<u64>,
    changed: Condvar,
}

impl Signal for CondvarSignal {
    fn post(&self, turn: u64) {
        *self.turn.lock().unwrap() = turn;
        self.changed.notify_all();
    }

    fn wait(&self, turn: u64) {
        let guard = self.turn.lock().unwrap();
        drop(self.changed.wait_while(guard, |t| *t != turn).unwrap());
    }
}

fn park_signal() -> Arc<ParkSignal> {
    Arc::new(ParkSignal {
        turn: CachePadded::default(),
        main: thread::current(),
        partner: OnceLock::new(),
    })
}

fn wake(c: &mut Criterion) {
    sanity_check(Arc::new(EventCountSignal::default()));
    sanity_check(park_signal());
    sanity_check(Arc::new(CondvarSignal::default()));

    bench_floor(c);
    let mut group = c.benchmark_group("sync/wake_round_trip");
    group.bench_function("gearset", |b| {
        b.iter_custom(|iters| round_trips(Arc::new(EventCountSignal::default()), iters))
    });
    group.bench_function("std-park", |b| {
        b.iter_custom(|iters| round_trips(park_signal(), iters))
    });
    group.bench_function("std-condvar", |b| {
        b.iter_custom(|iters| round_trips(Arc::new(CondvarSignal::default()), iters))
    });
    group.finish();
}

criterion_group! { name = benches; config = config(); targets = wake }
criterion_main!(benches);
