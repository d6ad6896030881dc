//! One queue's contents: items bucketed by frame number, as Galois's OBIM buckets by integer
//! priority.
//!
//! Buckets are kept sorted by frame, lowest first, and only a sole bucket may be empty (it is
//! kept so that a push-pop-push cycle on one frame does not remove and re-insert it). Every
//! take removes
//! from the lowest bucket, so **within one queue a lower frame always comes out first**
//! (rank error 0 with respect to frames; `[TLA: FrameOrder]`). Inside a bucket items come out
//! oldest first. These queues serve the shared levels (L2, L3, NUMA node, machine), under a
//! mutex; leaves use the lock-free ring of `leaf.rs`.
//!
//! Cost: a push into the lowest or highest bucket is O(1); into a middle bucket O(log b) to
//! find it plus O(b) to insert a new bucket, for `b` distinct frames in the queue (few in
//! practice: frames advance). Emptied buckets keep their allocation in a small spare list.

use std::collections::VecDeque;

/// A frame number: lower frames are more urgent.
pub type Frame = u64;

/// Spare bucket allocations kept for reuse.
const MAX_SPARE: usize = 8;

#[derive(Debug)]
struct Bucket<T> {
    frame: Frame,
    items: VecDeque<T>,
}

/// Items bucketed by frame. Not synchronized: the queue tree wraps each in a lock.
#[derive(Debug)]
pub(crate) struct FrameQueue<T> {
    /// Sorted by `frame` ascending; no bucket is empty, except a sole one.
    buckets: VecDeque<Bucket<T>>,
    spare: Vec<VecDeque<T>>,
    len: usize,
}

impl<T> Default for FrameQueue<T> {
    fn default() -> Self {
        Self {
            buckets: VecDeque::new(),
            spare: Vec::new(),
            len: 0,
        }
    }
}

impl<T> FrameQueue<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The lowest frame present.
    pub(crate) fn min_frame(&self) -> Option<Frame> {
        self.buckets
            .front()
            .filter(|b| !b.items.is_empty())
            .map(|b| b.frame)
    }

    pub(crate) fn push(&mut self, frame: Frame, item: T) {
        let at = self.bucket_index(frame);
        self.buckets[at].items.push_back(item);
        self.len += 1;
    }

    /// The index of `frame`'s bucket, created if missing.
    fn bucket_index(&mut self, frame: Frame) -> usize {
        // Fast paths: the newest frame is usually the highest or equal to the lowest.
        let n = self.buckets.len();
        if n > 0 && self.buckets[n - 1].frame == frame {
            return n - 1;
        }
        if n == 1 && self.buckets[0].items.is_empty() {
            // The kept sole bucket: reuse it for this frame.
            self.buckets[0].frame = frame;
            return 0;
        }
        let at = match self.buckets.binary_search_by_key(&frame, |b| b.frame) {
            Ok(at) => return at,
            Err(at) => at,
        };
        let items = self.spare.pop().unwrap_or_default();
        self.buckets.insert(at, Bucket { frame, items });
        at
    }

    /// A thief's take: the oldest item of the lowest frame.
    pub(crate) fn pop_oldest(&mut self) -> Option<(Frame, T)> {
        // Only a sole bucket can be empty, and then the queue is.
        let item = self.buckets.front_mut()?.items.pop_front()?;
        Some(self.took_from_front(item))
    }

    fn took_from_front(&mut self, item: T) -> (Frame, T) {
        self.len -= 1;
        let frame = self.buckets[0].frame;
        if self.buckets[0].items.is_empty() && self.buckets.len() > 1 {
            let bucket = self.buckets.pop_front().expect("checked non-empty");
            self.recycle(bucket.items);
        }
        (frame, item)
    }

    /// Moves up to `n` of the oldest items *of the lowest frame* into `out` (a batch never
    /// mixes frames: it lands in a leaf ring, which holds one frame).
    pub(crate) fn take_lowest_frame(&mut self, n: usize, out: &mut impl FnMut((Frame, T))) {
        let Some(frame) = self.min_frame() else {
            return;
        };
        for _ in 0..n {
            match self.buckets.front() {
                Some(b) if b.frame == frame && !b.items.is_empty() => {}
                _ => break,
            }
            let Some(x) = self.pop_oldest() else { break };
            out(x);
        }
    }

    fn recycle(&mut self, items: VecDeque<T>) {
        if self.spare.len() < MAX_SPARE {
            self.spare.push(items);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_frames_first_fifo_within_a_frame() {
        let mut q = FrameQueue::default();
        for (f, x) in [(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')] {
            q.push(f, x);
        }
        let got: Vec<_> = core::iter::from_fn(|| q.pop_oldest()).collect();
        assert_eq!(got, [(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn a_sole_bucket_is_kept_and_reused() {
        let mut q = FrameQueue::default();
        q.push(4, 'a');
        assert_eq!(q.pop_oldest(), Some((4, 'a')));
        assert_eq!(
            (q.buckets.len(), q.min_frame(), q.pop_oldest()),
            (1, None, None)
        );
        q.push(2, 'b');
        q.push(3, 'c');
        assert_eq!((q.buckets.len(), q.min_frame()), (2, Some(2)));
    }

    #[test]
    fn a_batch_takes_only_the_lowest_frame() {
        let mut q = FrameQueue::default();
        for (f, x) in [(5, 1), (1, 2), (5, 3), (1, 4), (3, 5)] {
            q.push(f, x);
        }
        let mut low = Vec::new();
        q.take_lowest_frame(3, &mut |x| low.push(x));
        assert_eq!(low, [(1, 2), (1, 4)]);
        let mut next = Vec::new();
        q.take_lowest_frame(1, &mut |x| next.push(x));
        assert_eq!((next, q.len()), (vec![(3, 5)], 2));
    }
}
