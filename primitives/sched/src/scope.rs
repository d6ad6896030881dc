//! Scoped spawning: every job spawned in a scope finishes before the scope returns, so jobs
//! may borrow from the caller's stack (the `std::thread::scope` signature).
//!
//! A scope counts its live jobs. `Scope::spawn` increments the count, boxes the closure and
//! pushes it through the pool's root queue. The job runs the closure, catching a panic; once
//! the closure has returned (its borrows of the caller's stack ended), the job's completion
//! stores the panic into the scope and decrements the count (Release), through a raw pointer
//! and as its very last access to the scope ([`Scope::job_done`]). The scope's owner, after
//! its own closure, helps run jobs until the count is 0 (Acquire), then re-raises the first
//! panic and returns, freeing the scope. Invariant **ScopeOutlivesJobs**: the owner's frame
//! (and the scope) outlives every access a job makes to it; and at the decrement no reference
//! into that frame is protected (NoLiveBorrowAtRelease, `job.rs` module docs).

use core::marker::PhantomData;
use std::panic;

use gearset_sync::{
    Mutex,
    atomic::{
        AtomicUsize,
        Ordering::{Acquire, Relaxed, Release},
    },
};

use crate::{
    Context,
    job::{HeapJob, Panic},
    join::resume,
    registry::Registry,
};

/// A scope for spawning jobs that borrow from the enclosing stack: see
/// [`Context::scope`] and [`Pool::scope`](crate::Pool::scope).
///
/// `Sync`: spawn from any job of the scope through `&Scope`.
pub struct Scope<'scope, 'env: 'scope> {
    registry: &'scope Registry,
    /// Jobs spawned and not finished. Incremented by `spawn` (Relaxed: the owner is still
    /// running or a live job is spawning, so the count is > 0); decremented (Release) by each
    /// job when it is done with the scope; read (Acquire) by the owner.
    live: AtomicUsize,
    /// The first panic of a job, re-raised by the owner.
    panic: Mutex<Option<Panic>>,
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Runs `f` on some worker of the pool before the scope ends. A panic in `f` is re-raised
    /// by the scope's owner when the scope ends (the first one, if several panic).
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(2);
    /// let mut parts = [0u64; 4];
    /// pool.scope(|s, _| {
    ///     for (i, part) in parts.iter_mut().enumerate() {
    ///         s.spawn(move |_| *part = i as u64 * 10);
    ///     }
    /// });
    /// assert_eq!(parts, [0, 10, 20, 30]);
    /// ```
    pub fn spawn<F>(&'scope self, f: F)
    where
        F: FnOnce(&mut Context<'_>) + Send + 'scope,
    {
        // Relaxed: only a count; the job reaches its worker through the queue tree's lock.
        self.live.fetch_add(1, Relaxed);
        let scope = ScopeRef(self);
        let job = HeapJob::into_job_ref(
            move |cx: &mut Context<'_>| panic::catch_unwind(panic::AssertUnwindSafe(|| f(cx))),
            move |outcome: &mut Option<Result<(), Panic>>| {
                let panic = outcome.take().and_then(Result::err);
                // SAFETY: this job is counted in `live` until `job_done` decrements it, so the
                // owner is still waiting and the scope alive; `job_done` is the job's last
                // access to the scope. [ScopeOutlivesJobs]
                unsafe { scope.job_done(panic) };
            },
        );
        self.registry.inject(job);
    }
}

/// A scope's address, held by its jobs' completions: a raw pointer rather than a reference,
/// so that nothing the language considers a live borrow of the scope remains once the last
/// job's decrement lets the owner free it (`job.rs`, NoLiveBorrowAtRelease).
struct ScopeRef<'scope, 'env>(*const Scope<'scope, 'env>);

// SAFETY: a `ScopeRef` is only used to reach `live` (an atomic) and `panic` (a mutex), both
// `Sync`, from the worker that completes the job; the scope is alive meanwhile
// (ScopeOutlivesJobs).
unsafe impl Send for ScopeRef<'_, '_> {}

impl ScopeRef<'_, '_> {
    /// Records a job's panic and takes the job off the count: the job is done with the scope.
    ///
    /// Takes `self` by value so that a closure calling it captures the whole `ScopeRef` (its
    /// `Send` impl), not the bare pointer field.
    ///
    /// # Safety
    ///
    /// The scope is alive and counts this job in `live`, and the caller makes no access to
    /// the scope after this call (the owner may free it as soon as `live` reaches 0).
    unsafe fn job_done(self, panic: Option<Panic>) {
        if let Some(payload) = panic {
            // SAFETY: delegated to the caller (alive: the job is still counted). A shared
            // borrow of the mutex alone, ended before the decrement below.
            let slot = unsafe { &(*self.0).panic };
            let mut first = slot.lock().unwrap_or_else(|e| e.into_inner());
            first.get_or_insert(payload);
        }
        // Release: publishes the job's writes (and the panic) to the owner's Acquire load in
        // `Context::scope`. The job's last access to the scope: the `&AtomicUsize` the RMW
        // takes covers interior-mutable bytes only, which Stacked Borrows does not protect
        // (`job.rs` module docs, point 2). [ScopeOutlivesJobs]
        // SAFETY: delegated to the caller (alive until this RMW, which is the last access).
        unsafe { (*self.0).live.fetch_sub(1, Release) };
    }
}

impl core::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Relaxed: a snapshot for display.
        f.debug_struct("Scope")
            .field("live", &self.live.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl Context<'_> {
    /// Runs `f` with a [`Scope`] whose spawned jobs all finish before `scope` returns, helping
    /// to run them meanwhile. A panic in `f` or in any job is re-raised here, after every job
    /// has finished.
    ///
    /// ```
    /// let pool = gearset_sched::Pool::new(2);
    /// let words = ["a", "bb", "ccc"];
    /// let total = gearset_sync::atomic::AtomicUsize::new(0);
    /// pool.install(|cx| {
    ///     cx.scope(|s, _| {
    ///         for w in &words {
    ///             let total = &total;
    ///             s.spawn(move |_| {
    ///                 total.fetch_add(w.len(), gearset_sync::atomic::Ordering::Relaxed);
    ///             });
    ///         }
    ///     })
    /// });
    /// assert_eq!(total.into_inner(), 6);
    /// ```
    pub fn scope<'env, F, R>(&mut self, f: F) -> R
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>, &mut Context<'_>) -> R,
    {
        let scope = Scope {
            registry: self.registry,
            live: AtomicUsize::new(0),
            panic: Mutex::new(None),
            scope: PhantomData,
            env: PhantomData,
        };
        let outcome = panic::catch_unwind(panic::AssertUnwindSafe(|| f(&scope, self)));
        // Acquire: pairs with each job's Release decrement. [ScopeOutlivesJobs]
        self.help_until(|| scope.live.load(Acquire) == 0);
        let job_panic = scope.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
        match (outcome, job_panic) {
            (Err(p), _) | (Ok(_), Some(p)) => resume(p),
            (Ok(r), None) => r,
        }
    }
}
