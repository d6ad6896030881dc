//! BSP mode: the pool's workers run supersteps of `gearset-starbarrier`.
//!
//! `supersteps` builds one starbarrier `Worker` per pool worker and runs each body as a scoped
//! job. Every pool worker must take exactly one of them: a worker blocked in a superstep's
//! `sync` does not take jobs, so with `n` bodies and `n` workers each worker ends up with one
//! (the installing worker runs one while it helps its scope). Two runs at once could split the
//! workers between them and wait for each other forever, so runs are serialized by a lock.

use std::vec::Vec;

use gearset_starbarrier::{BarrierError, Worker as Superstep, workers};
use gearset_sync::{Mutex, wait::Phased};

use crate::Pool;

/// One participant of a [`Pool::supersteps`] run: send, read the previous superstep's
/// messages, take the serial section, and `sync`, as `gearset_starbarrier::Worker` documents.
pub type Participant<S, M> = Superstep<S, M, Phased>;

impl Pool {
    /// Runs `body` once on every worker as a BSP computation on `gearset-starbarrier`:
    /// messages sent in superstep `k` are read in `k + 1`, and in superstep `k` worker
    /// `k % n` holds the serial section over `state`. Returns each worker's result, in worker
    /// order. Needs every worker: runs are serialized, and other jobs delay a run (a worker
    /// busy with them joins late) but do not block it forever.
    ///
    /// A panicking body breaks the barrier for the others (their `sync` returns
    /// `Err(Broken)`) and is re-raised here.
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(2);
    /// // Each worker sends its index to the other; after one superstep each reads it.
    /// let got = pool.supersteps(0u64, |w: &mut gearset_sched::Participant<u64, usize>| {
    ///     let (me, n) = (w.id(), w.participants());
    ///     w.send((me + 1) % n, me).unwrap();
    ///     w.sync().unwrap();
    ///     w.messages().map(|(_, m)| m).sum::<usize>()
    /// })?;
    /// assert_eq!(got, vec![1, 0]);
    /// # Ok::<(), gearset_starbarrier::BarrierError>(())
    /// ```
    pub fn supersteps<S, M, R, F>(&self, state: S, body: F) -> Result<Vec<R>, BarrierError>
    where
        S: Send,
        M: Send,
        R: Send,
        F: Fn(&mut Participant<S, M>) -> R + Sync + Send,
    {
        let _one_run = self.bsp_lock();
        let participants = workers::<S, M, Phased>(self.workers(), Phased::new(), state)?;
        let results: Vec<Mutex<Option<R>>> =
            participants.iter().map(|_| Mutex::new(None)).collect();
        let body = &body;
        self.scope(|s, _| {
            for (mut participant, slot) in participants.into_iter().zip(&results) {
                s.spawn(move |_| {
                    let r = body(&mut participant);
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                });
            }
        });
        Ok(results
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .expect("every participant ran (the scope re-raises a panic)")
            })
            .collect())
    }
}
