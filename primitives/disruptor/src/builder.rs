//! Building a consumer graph: handlers, stages, pollers, wait strategies.
//!
//! Every consumer names the consumers it runs after (none: it runs after the publisher).
//! Dependencies can only point at consumers added earlier, so every graph is acyclic. At
//! [`Builder::build`] the *final* consumers (nobody depends on them) become the producers'
//! gating set: every other consumer is upstream of a final one, so its cursor is never lower.

use core::{fmt, marker::PhantomData};

use gearset_sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, AtomicUsize},
    thread,
    wait::{Blocking, WaitStrategy, Yielding},
};

use crate::{
    consumer::{Barrier, Links, Processor},
    control::{Control, DynWait, NO_END, Notify, Waker, needs_notify},
    disruptor::{Disruptor, Worker},
    error::BuildError,
    flavors::Flavor,
    handler::EventHandler,
    poller::EventPoller,
    producer::Producer,
    ring::{Cursor, Ring, new_cursor},
    shared::Shared,
    slip::Slip,
};

/// Identifies a consumer (handler or poller) of one [`Builder`], to run others after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConsumerId(usize);

impl ConsumerId {
    /// Position in the builder (and in the built disruptor's worker list).
    pub(crate) fn index(self) -> usize {
        self.0
    }
}

/// What [`Builder::build`] returns: the first producer and the graph handle.
pub type Built<E, S> = (Producer<E, S>, Disruptor<E, S>);

/// Starts a thread for a consumer once the shared state exists.
type Spawn<E, S> = Box<dyn FnOnce(Arc<Shared<E, S>>, Links) -> thread::JoinHandle<()>>;

enum Kind<E, S: Flavor> {
    Thread(Spawn<E, S>),
    Poller,
}

struct Node<E, S: Flavor> {
    name: String,
    cursor: Arc<Cursor>,
    /// Indices of upstream consumers; empty = gated on the publisher.
    after: Vec<usize>,
    /// This consumer's strategy, if it can sleep (so progress upstream must wake it).
    wake: Option<Box<dyn Notify>>,
    /// CPUs its thread pins itself to, checked by `build`.
    pin: Option<Vec<usize>>,
    kind: Kind<E, S>,
}

/// Configures a disruptor; see [`Disruptor::single_producer`] and [`Disruptor::multi_producer`].
pub struct Builder<E, S: Flavor> {
    ring: Ring<E>,
    nodes: Vec<Node<E, S>>,
    producer_wait: Box<dyn DynWait>,
    producer_wait_notify: bool,
}

impl<E: Send + Sync + 'static, S: Flavor> Builder<E, S> {
    pub(crate) fn new(capacity: usize, factory: impl FnMut() -> E) -> Result<Self, BuildError> {
        if !capacity.is_power_of_two() || capacity as u64 > 1 << 62 {
            return Err(BuildError::Capacity(capacity));
        }
        Ok(Self {
            ring: Ring::new(capacity, factory),
            nodes: Vec::new(),
            producer_wait: Box::new(Yielding::new()),
            producer_wait_notify: false,
        })
    }

    /// Adds a handler on its own thread, after the publisher, with the default
    /// [`Blocking`] wait strategy. `handler(event, sequence, end_of_batch)`.
    pub fn handle_events_with<H>(&mut self, handler: H) -> ConsumerId
    where
        H: FnMut(&E, u64, bool) + Send + 'static,
    {
        self.consumer(handler).add()
    }

    /// Adds a handler that runs after every consumer in `after` (a pipeline stage, or the
    /// join of a diamond), with the default [`Blocking`] wait strategy.
    ///
    /// ```
    /// use gearset_disruptor::Disruptor;
    /// use gearset_sync::{Arc, atomic::{AtomicU64, Ordering::Relaxed}};
    ///
    /// // Diamond: a and b see each event in parallel, c sees it after both.
    /// let sum = Arc::new(AtomicU64::new(0));
    /// let mut builder = Disruptor::single_producer(64, || 0u64).unwrap();
    /// let a = builder.handle_events_with(|_: &u64, _, _| {});
    /// let b = builder.handle_events_with(|_: &u64, _, _| {});
    /// let total = Arc::clone(&sum);
    /// builder.then(&[a, b], move |e: &u64, _, _| { total.fetch_add(*e, Relaxed); });
    /// let (mut producer, disruptor) = builder.build().unwrap();
    /// for _ in 0..100 { producer.publish(|e, _| *e = 1).unwrap(); }
    /// disruptor.shutdown().unwrap();
    /// assert_eq!(sum.load(Relaxed), 100);
    /// ```
    pub fn then<H>(&mut self, after: &[ConsumerId], handler: H) -> ConsumerId
    where
        H: FnMut(&E, u64, bool) + Send + 'static,
    {
        self.consumer(handler).after(after).add()
    }

    /// Starts configuring a handler: dependencies, wait strategy, batch size, thread name.
    ///
    /// ```
    /// use gearset_disruptor::Disruptor;
    /// use gearset_sync::wait::BusySpin;
    ///
    /// let mut builder = Disruptor::multi_producer(1024, || [0u8; 64]).unwrap();
    /// builder
    ///     .consumer(|e: &[u8; 64], _, _| assert_eq!(e[0], 7))
    ///     .wait_strategy(BusySpin::new())
    ///     .max_batch_size(32)
    ///     .name("journal")
    ///     .add();
    /// let (mut producer, disruptor) = builder.build().unwrap();
    /// producer.publish(|e, _| e[0] = 7).unwrap();
    /// disruptor.shutdown().unwrap();
    /// ```
    pub fn consumer<H>(&mut self, handler: H) -> ConsumerBuilder<'_, E, S, H, Blocking>
    where
        H: FnMut(&E, u64, bool) + Send + 'static,
    {
        self.handler(handler)
    }

    /// Like [`consumer`](Self::consumer), for any [`EventHandler`]: a type of your own, which
    /// gets an [`EventContext`](crate::EventContext) to release sequences before the end of
    /// its batch (see [`EventHandler`]'s example).
    pub fn handler<H>(&mut self, handler: H) -> ConsumerBuilder<'_, E, S, H, Blocking>
    where
        H: EventHandler<E>,
    {
        let name = format!("consumer-{}", self.nodes.len());
        let max_batch = self.ring.capacity();
        ConsumerBuilder {
            builder: self,
            handler,
            wait: Blocking::new(),
            after: Vec::new(),
            max_batch,
            name,
            pin: None,
            slip: true,
            _event: PhantomData,
        }
    }

    /// Adds a pull-style consumer after `after` (empty: after the publisher). Take it from the
    /// built [`Disruptor`] with [`Disruptor::take_poller`].
    pub fn poller(&mut self, after: &[ConsumerId]) -> ConsumerId {
        let after = self.check_ids(after);
        let name = format!("poller-{}", self.nodes.len());
        self.push(Node {
            name,
            cursor: Arc::new(new_cursor()),
            after,
            wake: None,
            pin: None,
            kind: Kind::Poller,
        })
    }

    /// How a producer waits for room when the ring is full (default: [`Yielding`]). The
    /// strategy's timeout only makes the producer re-check; `publish` waits until room or close.
    pub fn producer_wait_strategy<W: WaitStrategy + 'static>(&mut self, wait: W) -> &mut Self {
        self.producer_wait_notify = needs_notify::<W>();
        self.producer_wait = Box::new(wait);
        self
    }

    /// Creates the shared state, starts one thread per handler, and returns the first producer
    /// and the graph handle. `Err(NoConsumers)` if nothing consumes.
    pub fn build(self) -> Result<Built<E, S>, BuildError> {
        if self.nodes.is_empty() {
            return Err(BuildError::NoConsumers);
        }
        for node in &self.nodes {
            if let Some(cpus) = &node.pin {
                crate::pin::check(cpus).map_err(|error| BuildError::Pin {
                    consumer: node.name.clone(),
                    error,
                })?;
            }
        }
        let mut has_downstream = vec![false; self.nodes.len()];
        for node in &self.nodes {
            for &up in &node.after {
                has_downstream[up] = true;
            }
        }
        let gating = self
            .nodes
            .iter()
            .zip(&has_downstream)
            .filter(|(_, has)| !**has)
            .map(|(n, _)| Arc::clone(&n.cursor))
            .collect();
        let on_publish = self
            .nodes
            .iter()
            .filter(|n| n.after.is_empty())
            .filter_map(|n| n.wake.as_ref().map(|w| w.clone_box()))
            .collect();
        let everyone = self
            .nodes
            .iter()
            .filter_map(|n| n.wake.as_ref().map(|w| w.clone_box()))
            .collect();
        let capacity = self.ring.capacity();
        let cursors = self.nodes.iter().map(|n| Arc::clone(&n.cursor)).collect();
        let ctl = Control {
            capacity,
            gating,
            cursors,
            end: AtomicU64::new(NO_END),
            halted: AtomicBool::new(false),
            producers: AtomicUsize::new(1),
            on_publish,
            everyone,
            producer_wait: self.producer_wait,
        };
        let shared = Arc::new(Shared {
            ring: self.ring,
            seq: S::new(capacity),
            ctl,
        });
        let links: Vec<Links> = (0..self.nodes.len())
            .map(|i| {
                links_for(
                    &self.nodes,
                    i,
                    !has_downstream[i] && self.producer_wait_notify,
                )
            })
            .collect();
        let mut workers = Vec::new();
        for (node, links) in self.nodes.into_iter().zip(links) {
            let worker = match node.kind {
                Kind::Thread(spawn) => Worker::Thread(node.name, spawn(Arc::clone(&shared), links)),
                Kind::Poller => Worker::Poller(Some(EventPoller::new(Arc::clone(&shared), links))),
            };
            workers.push(worker);
        }
        Ok((
            Producer::new(Arc::clone(&shared)),
            Disruptor::new(shared, workers),
        ))
    }

    fn check_ids(&self, ids: &[ConsumerId]) -> Vec<usize> {
        for id in ids {
            assert!(
                id.0 < self.nodes.len(),
                "{id:?} does not belong to this builder"
            );
        }
        ids.iter().map(|id| id.0).collect()
    }

    fn push(&mut self, node: Node<E, S>) -> ConsumerId {
        self.nodes.push(node);
        ConsumerId(self.nodes.len() - 1)
    }
}

/// The links of node `i`: its barrier, and the sleeping strategies of its dependents.
fn links_for<E, S: Flavor>(nodes: &[Node<E, S>], i: usize, wakes_producers: bool) -> Links {
    let node = &nodes[i];
    let barrier = if node.after.is_empty() {
        Barrier::Publisher
    } else {
        Barrier::Upstream(
            node.after
                .iter()
                .map(|&up| Arc::clone(&nodes[up].cursor))
                .collect(),
        )
    };
    let downstream = nodes
        .iter()
        .filter(|n| n.after.contains(&i))
        .filter_map(|n| n.wake.as_ref().map(|w| w.clone_box()))
        .collect();
    Links {
        cursor: Arc::clone(&node.cursor),
        barrier,
        downstream,
        wakes_producers,
    }
}

/// Configures one handler; finish with [`add`](Self::add).
pub struct ConsumerBuilder<'b, E, S: Flavor, H, W> {
    builder: &'b mut Builder<E, S>,
    handler: H,
    wait: W,
    after: Vec<usize>,
    max_batch: u64,
    name: String,
    /// CPUs to pin the consumer thread to ([`ConsumerBuilder::pin_to`]).
    pin: Option<Vec<usize>>,
    /// Whether the consumer slips behind a streaming producer ([`ConsumerBuilder::slip`]).
    slip: bool,
    _event: PhantomData<fn(&E)>,
}

impl<'b, E, S, H, W> ConsumerBuilder<'b, E, S, H, W>
where
    E: Send + Sync + 'static,
    S: Flavor,
    H: EventHandler<E>,
    W: WaitStrategy + 'static,
{
    /// Runs this handler after every consumer in `ids` (instead of after the publisher).
    ///
    /// # Panics
    /// If an id comes from another builder.
    pub fn after(mut self, ids: &[ConsumerId]) -> Self {
        self.after = self.builder.check_ids(ids);
        self
    }

    /// How this consumer waits for events (default [`Blocking`]).
    pub fn wait_strategy<W2: WaitStrategy + 'static>(
        self,
        wait: W2,
    ) -> ConsumerBuilder<'b, E, S, H, W2> {
        let Self {
            builder,
            handler,
            after,
            max_batch,
            name,
            pin,
            slip,
            _event,
            ..
        } = self;
        ConsumerBuilder {
            builder,
            handler,
            wait,
            after,
            max_batch,
            name,
            pin,
            slip,
            _event,
        }
    }

    /// The most events handled before the cursor is stored (default: the capacity). Smaller
    /// batches release slots to producers sooner (LMAX 4's `maxBatchSize`).
    ///
    /// # Panics
    /// If `max` is 0.
    pub fn max_batch_size(mut self, max: usize) -> Self {
        assert!(max > 0, "max_batch_size must be at least 1");
        self.max_batch = max as u64;
        self
    }

    /// The consumer thread's name (default `consumer-<index>`), also used in panic reports.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Pins the consumer thread to `cpus` (OS CPU numbers; the thread may run on any of them)
    /// with `sched_setaffinity`. [`Builder::build`] checks the set: `Err(BuildError::Pin)` on
    /// platforms other than Linux, for an empty set, or for a CPU this process may not use.
    ///
    /// ```
    /// use gearset_disruptor::{BuildError, Disruptor};
    ///
    /// let mut builder = Disruptor::single_producer(64, || 0u64).unwrap();
    /// builder.consumer(|_: &u64, _, _| {}).pin_to(&[0]).add();
    /// match builder.build() {
    ///     Ok((_producer, disruptor)) => disruptor.shutdown().unwrap(),
    ///     Err(BuildError::Pin { consumer, .. }) => assert_eq!(consumer, "consumer-0"),
    ///     Err(other) => panic!("{other}"),
    /// }
    /// ```
    pub fn pin_to(mut self, cpus: &[usize]) -> Self {
        self.pin = Some(cpus.to_vec());
        self
    }

    /// Whether this consumer *slips* (default `true`): when its next batch is ready without a
    /// wait but shorter than 16 cache lines of slots, it lets the producer get that far ahead
    /// (polling every 400 ns, at most 8 times, and stopping as soon as a poll sees nothing new)
    /// so that it reads slot lines the producer has finished. On the dev box that took 1P→1C
    /// throughput from 0.72 to about 1.2 times the `disruptor` crate's, at the cost of up to
    /// 3.2 µs of delay *inside* a stream and up to 400 ns after its last event. A batch found
    /// after a wait never slips. Turn it off where every event of a stream must be handled at
    /// once.
    ///
    /// ```
    /// use gearset_disruptor::Disruptor;
    ///
    /// let mut builder = Disruptor::single_producer(1024, || 0u64).unwrap();
    /// builder.consumer(|_: &u64, _, _| {}).slip(false).add();
    /// let (mut producer, disruptor) = builder.build().unwrap();
    /// producer.publish(|e, _| *e = 1).unwrap();
    /// disruptor.shutdown().unwrap();
    /// ```
    pub fn slip(mut self, slip: bool) -> Self {
        self.slip = slip;
        self
    }

    /// Adds the consumer to the graph.
    pub fn add(self) -> ConsumerId {
        let Self {
            builder,
            handler,
            wait,
            after,
            max_batch,
            name,
            pin,
            slip,
            ..
        } = self;
        let wait = Arc::new(wait);
        let wake =
            needs_notify::<W>().then(|| Box::new(Waker(Arc::clone(&wait))) as Box<dyn Notify>);
        let thread_name = name.clone();
        let pin_cpus = pin.clone();
        let spawn: Spawn<E, S> = Box::new(move |shared, links| {
            let slip = if slip {
                Slip::new::<E>(shared.ring.capacity(), max_batch)
            } else {
                Slip::OFF
            };
            let processor = Processor {
                shared,
                links,
                handler,
                wait,
                max_batch,
                slip,
            };
            thread::Builder::new()
                .name(thread_name.clone())
                .spawn(move || {
                    #[cfg(gearset_trace)]
                    gearset_sync::trace::set_role(&thread_name);
                    if let Some(cpus) = pin_cpus {
                        // `build` checked the set; a failure now (a CPU went offline) must not
                        // leave an unpinned thread the user asked to pin: the panic is reported
                        // by `shutdown` and halts the graph.
                        if let Err(e) = crate::pin::pin_current_thread(&cpus) {
                            panic!("cannot pin to CPUs {cpus:?}: {e}");
                        }
                    }
                    processor.run()
                })
                .expect("failed to spawn a consumer thread")
        });
        builder.push(Node {
            name,
            cursor: Arc::new(new_cursor()),
            after,
            wake,
            pin,
            kind: Kind::Thread(spawn),
        })
    }
}

impl<E, S: Flavor> fmt::Debug for Builder<E, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        f.debug_struct("Builder")
            .field("ring", &self.ring)
            .field("consumers", &names)
            .finish_non_exhaustive()
    }
}

impl<E, S: Flavor, H, W: fmt::Debug> fmt::Debug for ConsumerBuilder<'_, E, S, H, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumerBuilder")
            .field("name", &self.name)
            .field("wait", &self.wait)
            .field("after", &self.after)
            .field("max_batch", &self.max_batch)
            .finish_non_exhaustive()
    }
}
