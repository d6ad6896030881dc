//! Prints a topology: this machine's (no argument) or a synthetic one.
//!
//! `cargo run -p gearset-hqueue --example topology -- "numa:2 l3:2 core:4 pu:2"`; with
//! `--features hwloc` and no argument, this machine's through hwloc.

fn main() {
    let topology = match std::env::args().nth(1) {
        Some(s) => match gearset_hqueue::Topology::synthetic(&s) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        },
        #[cfg(feature = "hwloc")]
        None => gearset_hqueue::Topology::from_hwloc().unwrap_or_else(|e| {
            eprintln!("hwloc: {e}; falling back to sysfs");
            gearset_hqueue::Topology::discover()
        }),
        #[cfg(not(feature = "hwloc"))]
        None => gearset_hqueue::Topology::discover(),
    };
    print!("{topology}");
}
