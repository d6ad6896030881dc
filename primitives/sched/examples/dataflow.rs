//! A LavaFlow-style frame graph on a pool: each frame is a tile of numbers; two message nodes
//! work on it in parallel (a blur and a histogram), one of them fails on a corrupt frame, and
//! a gather node combines both packets of each frame. The sink's results arrive in frame
//! order, the failure as that frame's `NodeError`, and the frames after it carry on.
//!
//! Run: `cargo run -p gearset-sched --example dataflow --release`.

use gearset_sched::{GraphError, Pool};

/// A frame's packet: the tile, or a summary of it.
#[derive(Debug, Clone, PartialEq)]
enum Packet {
    Tile(Vec<u32>),
    Blurred(Vec<u32>),
    Histogram([u32; 4]),
    Summary {
        frame_sum: u64,
        brightest_bucket: usize,
    },
}

fn tile(frame: u32) -> Packet {
    Packet::Tile((0..64).map(|i| (i * 7 + frame * 13) % 256).collect())
}

fn blur(p: &Packet) -> Packet {
    let Packet::Tile(t) = p else {
        unreachable!("the source sends tiles")
    };
    Packet::Blurred(t.windows(3).map(|w| (w[0] + w[1] + w[2]) / 3).collect())
}

fn histogram(p: &Packet) -> Result<Packet, String> {
    let Packet::Tile(t) = p else {
        unreachable!("the source sends tiles")
    };
    if t[0] == 13 * 5 {
        return Err(String::from("corrupt tile"));
    }
    let mut buckets = [0; 4];
    t.iter().for_each(|v| buckets[(*v / 64) as usize] += 1);
    Ok(Packet::Histogram(buckets))
}

fn summarize(packets: &[Packet]) -> Packet {
    let (Packet::Blurred(b), Packet::Histogram(h)) = (&packets[0], &packets[1]) else {
        unreachable!("inputs in declaration order")
    };
    let brightest_bucket = (0..4).max_by_key(|&i| h[i]).unwrap_or(0);
    Packet::Summary {
        frame_sum: b.iter().map(|&v| u64::from(v)).sum(),
        brightest_bucket,
    }
}

fn main() -> Result<(), GraphError> {
    let pool = Pool::new(4);
    let mut graph = pool.dataflow::<Packet>();
    let source = graph.source();
    let blurred = graph.node(source, blur)?;
    let counted = graph.try_node(source, histogram)?;
    let summary = graph.gather(&[blurred, counted], summarize)?;
    let mut flow = graph.build(summary, 8)?;
    for (frame, result) in flow.run((0..10).map(tile)).into_iter().enumerate() {
        match result {
            Ok(packet) => println!("frame {frame}: {packet:?}"),
            Err(error) => println!("frame {frame}: {error}"),
        }
    }
    let stats = pool.stats();
    println!(
        "jobs run: {}, frames in flight: {}",
        stats.tasks_run(),
        stats.frames_in_flight
    );
    Ok(())
}
