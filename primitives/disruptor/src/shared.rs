//! The state every handle of one disruptor shares.

use crate::{control::Control, flavors::Flavor, ring::Ring};

/// Ring, sequencer and graph control, behind one `Arc`.
#[derive(Debug)]
pub(crate) struct Shared<E, S: Flavor> {
    pub(crate) ring: Ring<E>,
    pub(crate) seq: S,
    pub(crate) ctl: Control,
}

impl<E, S: Flavor> Shared<E, S> {
    /// Closes the ring: producers get `Closed` from now on, consumers drain up to the end.
    pub(crate) fn close(&self) {
        self.seq.close(&self.ctl);
    }
}
