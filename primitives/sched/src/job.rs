//! Jobs: what travels through the queue tree.
//!
//! A [`JobRef`] is a type-erased pointer to a job plus the function that runs it, two words,
//! so the `gearset-hqueue` tree moves it without knowing the closure type (rayon-core's
//! `JobRef`). Two kinds of job stand behind it:
//!
//! - [`StackJob`]: the second half of a [`join`](crate::Context::join), living in the joiner's
//!   stack frame. The joiner does not return before the job is done (it reclaims it or waits
//!   for the thief), so the pointer never dangles: no allocation on the join path.
//! - [`HeapJob`]: a boxed closure for `spawn` and `scope`; running it frees it.
//!
//! Invariant **RunOnce**: a `JobRef` is in exactly one place at a time (a queue, or the hands
//! of the worker that popped it), so each job runs exactly once. The queue tree guarantees
//! that every pushed item is popped once (`tla/hqueue`: `ExactlyOnce`).

use core::any::Any;
use std::{boxed::Box, panic};

use gearset_sync::{
    atomic::{
        AtomicBool,
        Ordering::{Acquire, Release},
    },
    cell::UnsafeCell,
};

use crate::Context;

/// A panic payload, as `std::thread::Result` carries it.
pub(crate) type Panic = Box<dyn Any + Send + 'static>;

/// A type-erased job: the job's address and the function that runs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JobRef {
    data: *const (),
    run: unsafe fn(*const (), &mut Context<'_>),
}

// SAFETY: a JobRef is only created from jobs whose closure and result are `Send` (the bounds
// of `join`, `spawn` and `Scope::spawn`), and RunOnce gives the job to one thread at a time.
unsafe impl Send for JobRef {}

impl JobRef {
    /// Runs the job on the worker `cx`.
    ///
    /// # Safety
    ///
    /// The job must still be alive and not yet run (RunOnce): the caller popped this `JobRef`
    /// from the queue tree, which hands each item out once.
    pub(crate) unsafe fn run(self, cx: &mut Context<'_>) {
        // SAFETY: delegated to the caller (RunOnce, job alive).
        unsafe { (self.run)(self.data, cx) }
    }
}

/// The second closure of a `join`, in the joiner's stack frame, with room for its result.
pub(crate) struct StackJob<F, R> {
    /// The closure; taken by whoever runs the job (the joiner or a thief), once.
    f: UnsafeCell<Option<F>>,
    /// The outcome; written by the runner before `done`, read by the joiner after it.
    result: UnsafeCell<Option<Result<R, Panic>>>,
    /// Set (Release) by the runner once `result` is written; read (Acquire) by the joiner.
    done: AtomicBool,
}

impl<F, R> StackJob<F, R>
where
    F: FnOnce(&mut Context<'_>) -> R + Send,
    R: Send,
{
    pub(crate) fn new(f: F) -> Self {
        Self {
            f: UnsafeCell::new(Some(f)),
            result: UnsafeCell::new(None),
            done: AtomicBool::new(false),
        }
    }

    /// A `JobRef` to this job.
    ///
    /// # Safety
    ///
    /// The job must outlive every use of the `JobRef`: the joiner waits for [`is_done`]
    /// before leaving the frame that holds it.
    ///
    /// [`is_done`]: Self::is_done
    pub(crate) unsafe fn as_job_ref(&self) -> JobRef {
        JobRef {
            data: (self as *const Self).cast(),
            run: Self::run_erased,
        }
    }

    unsafe fn run_erased(data: *const (), cx: &mut Context<'_>) {
        // SAFETY: `data` came from `as_job_ref` on a live `StackJob<F, R>` (its caller keeps it
        // alive until `done`), and RunOnce makes this the only runner.
        let this = unsafe { &*data.cast::<Self>() };
        // SAFETY: RunOnce: the only access to `f`; the joiner reads only `result`, after `done`.
        let f = this
            .f
            .with_mut(|f| unsafe { (*f).take() })
            .expect("a job runs once");
        let outcome = panic::catch_unwind(panic::AssertUnwindSafe(|| f(cx)));
        // SAFETY: the joiner does not read `result` before `done` is set below.
        this.result.with_mut(|r| unsafe { *r = Some(outcome) });
        // Release: publishes `result`; pairs with the Acquire in `is_done`.
        this.done.store(true, Release);
    }

    /// Whether the job has run. Monotone: once true it stays true.
    pub(crate) fn is_done(&self) -> bool {
        // Acquire: pairs with the Release store in `run_erased`, so `result` is visible.
        self.done.load(Acquire)
    }

    /// The job's outcome. Panics if the job has not run (a bug in the joiner).
    pub(crate) fn into_result(self) -> Result<R, Panic> {
        assert!(self.is_done(), "join read its job before it ran");
        self.result.into_inner().expect("done implies a result")
    }
}

/// A boxed closure: `spawn` and `Scope::spawn` jobs. Running it frees it.
pub(crate) struct HeapJob<F> {
    f: F,
}

impl<F> HeapJob<F>
where
    F: FnOnce(&mut Context<'_>) + Send,
{
    /// Boxes `f` and leaks it into a `JobRef`; the job frees itself when run.
    ///
    /// The closure may borrow data of lifetime `'a` (scoped jobs): the caller must make sure
    /// the job runs before `'a` ends (`Scope` waits for its count of jobs to reach zero).
    pub(crate) fn into_job_ref<'a>(f: F) -> JobRef
    where
        F: 'a,
    {
        let boxed = Box::new(Self { f });
        JobRef {
            data: Box::into_raw(boxed).cast_const().cast(),
            run: Self::run_erased,
        }
    }

    unsafe fn run_erased(data: *const (), cx: &mut Context<'_>) {
        // SAFETY: `data` is the `Box::into_raw` of `into_job_ref`; RunOnce makes this the only
        // owner, so rebuilding (and then dropping) the box is sound.
        let this = unsafe { Box::from_raw(data.cast_mut().cast::<Self>()) };
        (this.f)(cx);
    }
}
