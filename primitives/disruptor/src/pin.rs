//! Pinning consumer threads to CPUs: gearset-hqueue's `sched_setaffinity` helpers, plus the
//! check [`Builder::build`](crate::Builder::build) runs so that a bad set is a build error
//! instead of a consumer thread that fails after the graph started.

pub(crate) use gearset_hqueue::{PinError, pin_current_thread};

/// `Ok` if pinning a thread to `cpus` can succeed now: the platform supports it and at least
/// one CPU of the set is one this process may run on (`sched_setaffinity` uses the
/// intersection, and fails only when it is empty).
pub(crate) fn check(cpus: &[usize]) -> Result<(), PinError> {
    let allowed = gearset_hqueue::current_affinity()?;
    if cpus.iter().any(|cpu| allowed.contains(cpu)) {
        Ok(())
    } else {
        Err(PinError::Os(EINVAL))
    }
}

/// `EINVAL`, what `sched_setaffinity` returns for a set with no usable CPU.
#[cfg(target_os = "linux")]
const EINVAL: i32 = libc::EINVAL;
#[cfg(not(target_os = "linux"))]
const EINVAL: i32 = 22;

#[cfg(all(test, target_os = "linux", not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_cpu_passes_and_an_empty_set_does_not() {
        let allowed = gearset_hqueue::current_affinity().unwrap();
        assert_eq!(check(&allowed[..1]), Ok(()));
        assert_eq!(check(&[]), Err(PinError::Os(EINVAL)));
        assert_eq!(check(&[usize::MAX]), Err(PinError::Os(EINVAL)));
    }
}
