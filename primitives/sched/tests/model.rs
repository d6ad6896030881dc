//! proptest: random nests of `join`, `scope` and `par_for` against their sequential meaning.

use gearset_sched::{Context, Pool};
use gearset_sync::atomic::{AtomicU64, Ordering::Relaxed};
use proptest::prelude::*;

/// A computation: its sequential value is the sum of its leaves.
#[derive(Debug, Clone)]
enum Op {
    Leaf(u64),
    Join(Box<Op>, Box<Op>),
    Scope(Vec<Op>),
    ParFor { len: usize, grain: usize },
}

fn sequential(op: &Op) -> u64 {
    match op {
        Op::Leaf(v) => *v,
        Op::Join(a, b) => sequential(a) + sequential(b),
        Op::Scope(ops) => ops.iter().map(sequential).sum(),
        Op::ParFor { len, .. } => (0..*len as u64).sum(),
    }
}

fn parallel(cx: &mut Context<'_>, op: &Op) -> u64 {
    match op {
        Op::Leaf(v) => *v,
        Op::Join(a, b) => {
            let (x, y) = cx.join(|cx| parallel(cx, a), |cx| parallel(cx, b));
            x + y
        }
        Op::Scope(ops) => {
            let total = AtomicU64::new(0);
            cx.scope(|s, _| {
                for op in ops {
                    let total = &total;
                    s.spawn(move |cx| {
                        total.fetch_add(parallel(cx, op), Relaxed);
                    });
                }
            });
            total.into_inner()
        }
        Op::ParFor { len, grain } => {
            let total = AtomicU64::new(0);
            cx.par_for(0..*len, *grain, |i| {
                total.fetch_add(i as u64, Relaxed);
            });
            total.into_inner()
        }
    }
}

fn ops() -> impl Strategy<Value = Op> {
    let leaf = prop_oneof![
        (0u64..100).prop_map(Op::Leaf),
        (0usize..200, 0usize..20).prop_map(|(len, grain)| Op::ParFor { len, grain }),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Op::Join(Box::new(a), Box::new(b))),
            prop::collection::vec(inner, 0..4).prop_map(Op::Scope),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 128 }))]
    #[test]
    fn nests_compute_their_sequential_value(op in ops(), workers in 1usize..4) {
        let pool = Pool::new(workers);
        prop_assert_eq!(pool.install(|cx| parallel(cx, &op)), sequential(&op));
    }
}
