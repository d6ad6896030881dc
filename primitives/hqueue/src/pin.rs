//! Binding threads to CPU sets (Linux `sched_setaffinity`).
//!
//! A leaf is a *set* of CPUs (the hyperthreads of a core), so pinning takes a set, not one
//! core as the `core_affinity` crate does.

use crate::PinError;

/// Binds the calling thread to `cpus` (OS CPU numbers). An empty set is rejected by the OS
/// (`PinError::Os(EINVAL)`).
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// use gearset_hqueue::{current_affinity, pin_current_thread};
/// let before = current_affinity().unwrap();
/// pin_current_thread(&before[..1]).unwrap();
/// assert_eq!(current_affinity().unwrap(), &before[..1]);
/// pin_current_thread(&before).unwrap();
/// # }
/// ```
pub fn pin_current_thread(cpus: &[usize]) -> Result<(), PinError> {
    imp::set(cpus)
}

/// The CPUs the calling thread may run on.
///
/// ```
/// # #[cfg(target_os = "linux")]
/// assert!(!gearset_hqueue::current_affinity().unwrap().is_empty());
/// ```
pub fn current_affinity() -> Result<Vec<usize>, PinError> {
    imp::get()
}

#[cfg(target_os = "linux")]
mod imp {
    use crate::PinError;

    fn cpu_set_size() -> usize {
        libc::CPU_SETSIZE as usize
    }

    pub(super) fn set(cpus: &[usize]) -> Result<(), PinError> {
        // SAFETY: `cpu_set_t` is a plain bit array; all zeroes is the empty set.
        let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
        for &cpu in cpus {
            if cpu >= cpu_set_size() {
                return Err(PinError::CpuOutOfRange(cpu));
            }
            // SAFETY: `cpu < CPU_SETSIZE` was checked above, so the bit is inside `set`.
            unsafe { libc::CPU_SET(cpu, &mut set) };
        }
        let size = core::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is a valid, initialized `cpu_set_t` of `size` bytes; pid 0 is the
        // calling thread.
        let rc = unsafe { libc::sched_setaffinity(0, size, &set) };
        match rc {
            0 => Ok(()),
            _ => Err(PinError::Os(last_errno())),
        }
    }

    pub(super) fn get() -> Result<Vec<usize>, PinError> {
        // SAFETY: as in `set`: all zeroes is a valid (empty) set.
        let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
        let size = core::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is a writable `cpu_set_t` of `size` bytes; pid 0 is the calling thread.
        let rc = unsafe { libc::sched_getaffinity(0, size, &mut set) };
        if rc != 0 {
            return Err(PinError::Os(last_errno()));
        }
        // SAFETY: every index is below CPU_SETSIZE, inside `set`.
        Ok((0..cpu_set_size())
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .collect())
    }

    fn last_errno() -> i32 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use crate::PinError;

    pub(super) fn set(_cpus: &[usize]) -> Result<(), PinError> {
        Err(PinError::Unsupported)
    }

    pub(super) fn get() -> Result<Vec<usize>, PinError> {
        Err(PinError::Unsupported)
    }
}
