//! Jobs: what travels through the queue tree.
//!
//! A [`JobRef`] is a type-erased pointer to a job plus the function that runs it, two words,
//! so the `gearset-hqueue` tree moves it without knowing the closure type (rayon-core's
//! `JobRef`). Two kinds of job stand behind it:
//!
//! - [`StackJob`]: the second half of a [`join`](crate::Context::join), living in the joiner's
//!   stack frame. The joiner does not return before the job is done (it reclaims it or waits
//!   for the thief), so the pointer never dangles: no allocation on the join path.
//! - [`HeapJob`]: a boxed closure for `spawn`, `install`, `scope` and dataflow nodes; running
//!   it frees it.
//!
//! Invariant **RunOnce**: a `JobRef` is in exactly one place at a time (a queue, or the hands
//! of the worker that popped it), so each job runs exactly once. The queue tree guarantees
//! that every pushed item is popped once (`tla/hqueue`: `ExactlyOnce`).
//!
//! # Completing a job whose waiter frees it (invariant **NoLiveBorrowAtRelease**)
//!
//! A job is *released* when the waiter may go on: a stack job's `done` flag, a scope's count
//! reaching 0, an `install` packet being filled. From that instant the waiter may return and
//! free the job, the latch, and whatever the job's closure borrowed from its frame. So at the
//! release, the completing worker must hold no reference into that memory that the language
//! still considers live. Under Stacked Borrows a reference that is a function argument (or a
//! field of a by-value argument, such as a closure's captured borrows while the closure runs)
//! is *protected* until that function returns, and freeing protected memory is undefined
//! behaviour (Miri reported it here). Hence:
//!
//! 1. A job's closure returns before the job is released: [`StackJob`] stores the outcome and
//!    then sets `done`; [`HeapJob`] runs `body`, and only after `body` has returned does it
//!    call `complete`, which releases the waiter. `complete` captures nothing the waiter may
//!    free (an `Arc`, or a raw pointer), and gets `body`'s output behind a `&mut`, so that
//!    borrows inside the output (an `install` may return one) are not protected by its call.
//! 2. The release itself is an atomic operation reached through a raw pointer, and it is the
//!    last access: the `&AtomicBool` / `&AtomicUsize` created for the call covers only
//!    interior-mutable bytes, which Stacked Borrows does not protect (the rule that lets
//!    `Arc::drop` decrement a count another thread then frees, rust-lang/rust#55005; rayon's
//!    `Latch::set(this: *const Self)` rests on the same rule).

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
    /// Whether both refer to the same job. Two live jobs never share an address (a stack job
    /// has a size, and a zero-sized heap job's dangling box address is never a stack address).
    pub(crate) fn is(self, other: JobRef) -> bool {
        core::ptr::eq(self.data, other.data)
    }

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
        // A raw pointer, never a reference to the whole job: the joiner frees the job as soon
        // as `done` is set (module docs, NoLiveBorrowAtRelease).
        let this = data.cast::<Self>();
        // SAFETY: `data` came from `as_job_ref` on a live `StackJob<F, R>` (the joiner keeps it
        // alive until `done`). RunOnce: the only access to `f`; the joiner reads only `result`,
        // after `done`.
        let f = unsafe { (*this).f.with_mut(|f| (*f).take()) }.expect("a job runs once");
        // The closure and its captured borrows end with this call, before the release.
        let outcome = panic::catch_unwind(panic::AssertUnwindSafe(|| f(cx)));
        // SAFETY: the job is alive (`done` is not set yet), and the joiner does not read
        // `result` before `done` is set below.
        unsafe { (*this).result.with_mut(|r| *r = Some(outcome)) };
        // SAFETY: alive until this call, which is the last access to the job.
        unsafe { Self::set_done(this) };
    }

    /// Releases the joiner: from this store on it may read `result` and free the job.
    ///
    /// # Safety
    ///
    /// `this` points to a live `StackJob` whose `result` is written, and the caller makes no
    /// access to it after this call.
    unsafe fn set_done(this: *const Self) {
        // Release: publishes `result`; pairs with the Acquire in `is_done`. The last access to
        // the job: the `&AtomicBool` that `store` takes covers interior-mutable bytes only,
        // which Stacked Borrows does not protect (module docs, point 2).
        // SAFETY: delegated to the caller (`this` is live until the store).
        unsafe { (*this).done.store(true, Release) };
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

/// A boxed job: `body` does the work, then `complete` hands its output to whoever waits for
/// it (a packet, a scope's count). Running it frees it.
///
/// Two closures rather than one so that the closure holding the user's borrows has returned
/// before the waiter is released (module docs, NoLiveBorrowAtRelease).
pub(crate) struct HeapJob<B, C> {
    /// The work: the user's closure and whatever it borrows.
    body: B,
    /// Releases the waiter, as its last access to anything the waiter may free. Captures no
    /// borrow of the waiter's frame (an `Arc`, or a raw pointer kept alive by the waiter).
    complete: C,
}

impl HeapJob<(), ()> {
    /// A job that nobody waits for (dataflow nodes, which keep what they use in an `Arc`;
    /// the replay driver's empty jobs).
    pub(crate) fn detached<F>(f: F) -> JobRef
    where
        F: FnOnce(&mut Context<'_>) + Send,
    {
        HeapJob::into_job_ref(f, |_: &mut Option<()>| {})
    }
}

impl<B, C> HeapJob<B, C> {
    /// Boxes the job and leaks it into a `JobRef`; the job frees itself when run.
    ///
    /// `body` may borrow data the caller will free once `complete` has run (scoped jobs,
    /// `install`): the caller must make sure the job runs before then (`Scope` waits for its
    /// count of jobs to reach zero, `install` for its packet).
    pub(crate) fn into_job_ref<O>(body: B, complete: C) -> JobRef
    where
        B: FnOnce(&mut Context<'_>) -> O + Send,
        C: FnOnce(&mut Option<O>) + Send,
    {
        let boxed = Box::new(Self { body, complete });
        JobRef {
            data: Box::into_raw(boxed).cast_const().cast(),
            run: Self::run_erased::<O>,
        }
    }

    unsafe fn run_erased<O>(data: *const (), cx: &mut Context<'_>)
    where
        B: FnOnce(&mut Context<'_>) -> O,
        C: FnOnce(&mut Option<O>),
    {
        // SAFETY: `data` is the `Box::into_raw` of `into_job_ref` with these `B`, `C`, `O`;
        // RunOnce makes this the only owner, so rebuilding (and then dropping) the box is sound.
        let this = unsafe { Box::from_raw(data.cast_mut().cast::<Self>()) };
        let Self { body, complete } = *this;
        // `body`'s captured borrows are protected until this call returns, and not after.
        let mut output = Some(body(cx));
        // Behind a `&mut`: borrows inside the output are not arguments of `complete`.
        complete(&mut output);
    }
}
