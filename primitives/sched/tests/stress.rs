//! Stress: 10^7 fork-join tasks and 10^5 detached spawns, each counted exactly.
//! `GEARSET_SCHED_STRESS_TASKS` scales the fork-join count (CI keeps the default).

use gearset_sched::{Context, Pool};
use gearset_sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};

fn tasks() -> u64 {
    let default = if cfg!(miri) { 1_000 } else { 10_000_000 };
    std::env::var("GEARSET_SCHED_STRESS_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Counts the leaves of a join tree over `n` tasks: each leaf is one task.
fn leaves(cx: &mut Context<'_>, n: u64) -> u64 {
    if n <= 1 {
        return n;
    }
    let (a, b) = cx.join(|cx| leaves(cx, n / 2), |cx| leaves(cx, n - n / 2));
    a + b
}

#[test]
fn ten_million_join_tasks_counted_exactly() {
    let n = tasks();
    let pool = Pool::new(4);
    assert_eq!(pool.install(|cx| leaves(cx, n)), n);
}

#[test]
fn detached_spawns_counted_exactly_before_shutdown() {
    let n = if cfg!(miri) { 100 } else { 100_000 };
    let ran = Arc::new(AtomicU64::new(0));
    let pool = Pool::new(3);
    for _ in 0..n {
        let ran = Arc::clone(&ran);
        drop(pool.spawn(move |_| {
            ran.fetch_add(1, Relaxed);
        }));
    }
    drop(pool); // waits for quiescence, then joins every worker
    assert_eq!(ran.load(Relaxed), n);
}
