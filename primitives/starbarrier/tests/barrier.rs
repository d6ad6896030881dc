//! Public API of `Member`: phases, split phase, leave, bad input, broken barrier, timeouts.
// std only: under a model checker these would run outside any model (and `run` is absent).
#![cfg(not(any(gearset_loom, gearset_shuttle)))]

use std::panic::{AssertUnwindSafe, catch_unwind};

use gearset_starbarrier::{BarrierError, Member, WaitError, barrier};
use gearset_sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
    thread,
    time::Duration,
    wait::{Blocking, BusySpin, Phased, WaitStrategy, Yielding},
};

const ROUNDS: u64 = if cfg!(miri) { 5 } else { 2_000 };

/// Every member passes every phase, and nobody passes phase k before everybody arrived at k:
/// each member bumps a shared counter before arriving and checks it after passing.
fn lockstep<W: WaitStrategy + 'static>(n: usize, wait: W) {
    let arrivals = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = barrier(n, wait)
        .unwrap()
        .into_iter()
        .map(|mut member| {
            let arrivals = Arc::clone(&arrivals);
            thread::spawn(move || {
                for phase in 1..=ROUNDS {
                    // Relaxed: the barrier's Release/Acquire orders these increments.
                    arrivals.fetch_add(1, Relaxed);
                    assert_eq!(member.wait(), Ok(phase));
                    let seen = arrivals.load(Relaxed);
                    assert!(
                        seen >= phase * n as u64,
                        "passed phase {phase} early: {seen}"
                    );
                    assert!(seen <= (phase + 1) * n as u64, "peer ran ahead: {seen}");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn lockstep_busy_spin_2() {
    lockstep(2, BusySpin::new());
}

#[test]
fn lockstep_yielding_4() {
    lockstep(4, Yielding::new());
}

#[test]
fn lockstep_phased_3() {
    lockstep(3, Phased::new());
}

#[test]
fn lockstep_blocking_3() {
    lockstep(3, Blocking::new());
}

#[test]
fn zero_participants_is_an_error() {
    assert_eq!(
        barrier(0, Yielding::new()).unwrap_err(),
        BarrierError::ZeroParticipants
    );
}

#[test]
fn split_phase_try_wait_until_peer_arrives() {
    let mut members = barrier(2, BusySpin::new()).unwrap();
    let mut token = members[0].arrive().unwrap();
    for _ in 0..3 {
        token = match members[0].try_wait(token) {
            Err(WaitError::NotYet(token)) => token,
            other => panic!("passed before the peer arrived: {other:?}"),
        };
    }
    assert_eq!(members[0].passed(), 0);
    let peer = members[1].arrive().unwrap();
    assert_eq!(members[0].try_wait(token), Ok(1));
    assert_eq!(members[1].wait_token(peer), Ok(1));
    assert_eq!(members[0].passed(), 1);
}

#[test]
fn arrive_twice_without_waiting_is_refused() {
    let mut members = barrier(2, BusySpin::new()).unwrap();
    let token = members[0].arrive().unwrap();
    assert_eq!(
        members[0].arrive().unwrap_err(),
        BarrierError::ArrivalPending
    );
    assert_eq!(
        members[0].wait().unwrap_err(),
        WaitError::Failed(BarrierError::ArrivalPending)
    );
    members[1].leave().unwrap();
    assert_eq!(members[0].wait_token(token), Ok(1));
}

#[test]
fn token_of_a_peer_is_foreign() {
    let mut members = barrier(2, BusySpin::new()).unwrap();
    let mine = members[0].arrive().unwrap();
    let theirs = members[1].arrive().unwrap();
    let err = members[1].wait_token(mine).unwrap_err();
    assert_eq!(err, WaitError::Failed(BarrierError::ForeignToken));
    assert_eq!(members[1].wait_token(theirs), Ok(1));
}

#[test]
fn every_operation_after_leave_fails_with_left() {
    let mut members = barrier(2, BusySpin::new()).unwrap();
    let token = members[0].arrive().unwrap();
    members[0].leave().unwrap();
    assert!(members[0].has_left());
    assert_eq!(members[0].leave(), Err(BarrierError::Left));
    assert_eq!(members[0].arrive().unwrap_err(), BarrierError::Left);
    assert_eq!(
        members[0].wait(),
        Err(WaitError::Failed(BarrierError::Left))
    );
    assert_eq!(
        members[0].try_wait(token),
        Err(WaitError::Failed(BarrierError::Left))
    );
    // The leaver counts as arrived from now on.
    assert_eq!(members[1].wait(), Ok(1));
    assert_eq!(members[1].wait(), Ok(2));
}

#[test]
fn leave_releases_a_waiting_peer() {
    let mut members = barrier(2, Blocking::new()).unwrap();
    let mut leaver = members.pop().unwrap();
    let waiter = thread::spawn(move || members[0].wait());
    // A delay, not a synchronization: the waiter is most likely parked by now.
    std::thread::sleep(Duration::from_millis(20));
    leaver.leave().unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(1));
}

#[test]
fn timeout_gives_the_token_back_and_the_arrival_stands() {
    let mut members = barrier(2, BusySpin::with_timeout(Duration::from_millis(5))).unwrap();
    let token = match members[0].wait() {
        Err(WaitError::NotYet(token)) => token,
        other => panic!("expected a timeout, got {other:?}"),
    };
    assert_eq!(token.phase(), 1);
    assert_eq!(members[1].wait(), Ok(1), "member 0's arrival stands");
    assert_eq!(members[0].wait_token(token), Ok(1));
}

fn panics_while_holding(member: Member<Phased>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let _member = member;
        panic!("participant failed");
    })
}

#[test]
fn panicking_member_breaks_waiting_peers() {
    let mut members = barrier(3, Phased::new()).unwrap();
    let doomed = members.remove(1);
    let waiters: Vec<_> = members
        .into_iter()
        .map(|mut m| thread::spawn(move || m.wait()))
        .collect();
    assert!(panics_while_holding(doomed).join().is_err());
    for waiter in waiters {
        let err = waiter.join().unwrap().unwrap_err();
        assert_eq!(
            err,
            WaitError::Failed(BarrierError::Broken { participant: 1 })
        );
    }
}

#[test]
fn broken_barrier_refuses_new_arrivals() {
    let mut members = barrier(2, Phased::new()).unwrap();
    let doomed = members.pop().unwrap();
    assert!(panics_while_holding(doomed).join().is_err());
    assert_eq!(
        members[0].arrive().unwrap_err(),
        BarrierError::Broken { participant: 1 }
    );
}

#[test]
fn phase_the_panicker_arrived_at_still_completes() {
    let mut members = barrier(2, BusySpin::new()).unwrap();
    let mut doomed = members.pop().unwrap();
    let token = members[0].arrive().unwrap();
    let result = catch_unwind(AssertUnwindSafe(move || {
        let _token = doomed.arrive().unwrap();
        panic!("after arriving");
    }));
    assert!(result.is_err());
    assert_eq!(
        members[0].wait_token(token),
        Ok(1),
        "the panicker arrived at phase 1"
    );
    assert_eq!(
        members[0].wait(),
        Err(WaitError::Failed(BarrierError::Broken { participant: 1 }))
    );
}
