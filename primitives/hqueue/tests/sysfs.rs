//! Topology discovery from a fake sysfs tree: 2 packages, 2 NUMA nodes, SMT-2, per-core L2 and
//! a per-package L3, with CPUs numbered the way Linux numbers them on Intel (siblings n and
//! n + 8) — and the real /sys of this machine, when there is one.

use std::{fs, path::Path};

use gearset_hqueue::{LevelKind, Source, Topology};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, format!("{text}\n")).unwrap();
}

/// 16 CPUs: core c (0..8) has CPUs c and c + 8; package = c / 4.
fn fake_sysfs(root: &Path) {
    let _ = fs::remove_dir_all(root);
    write(root, "devices/system/cpu/online", "0-15");
    for cpu in 0..16 {
        let core = cpu % 8;
        let pkg = core / 4;
        let d = format!("devices/system/cpu/cpu{cpu}");
        write(
            root,
            &format!("{d}/topology/physical_package_id"),
            &pkg.to_string(),
        );
        write(
            root,
            &format!("{d}/topology/core_cpus_list"),
            &format!("{core},{}", core + 8),
        );
        write(root, &format!("{d}/cache/index0/level"), "1");
        write(root, &format!("{d}/cache/index0/type"), "Data");
        write(
            root,
            &format!("{d}/cache/index0/shared_cpu_list"),
            &format!("{core},{}", core + 8),
        );
        write(root, &format!("{d}/cache/index1/level"), "1");
        write(root, &format!("{d}/cache/index1/type"), "Instruction");
        write(
            root,
            &format!("{d}/cache/index1/shared_cpu_list"),
            &format!("{core},{}", core + 8),
        );
        write(root, &format!("{d}/cache/index2/level"), "2");
        write(root, &format!("{d}/cache/index2/type"), "Unified");
        write(
            root,
            &format!("{d}/cache/index2/shared_cpu_list"),
            &format!("{core},{}", core + 8),
        );
        write(root, &format!("{d}/cache/index3/level"), "3");
        write(root, &format!("{d}/cache/index3/type"), "Unified");
        let l3 = format!(
            "{}-{},{}-{}",
            pkg * 4,
            pkg * 4 + 3,
            pkg * 4 + 8,
            pkg * 4 + 11
        );
        write(root, &format!("{d}/cache/index3/shared_cpu_list"), &l3);
    }
    write(root, "devices/system/node/node0/cpulist", "0-3,8-11");
    write(root, "devices/system/node/node1/cpulist", "4-7,12-15");
    write(root, "devices/system/node/possible", "0-1");
}

#[test]
fn fake_two_socket_machine() {
    let root = std::env::temp_dir().join(format!("gearset-hqueue-sysfs-{}", std::process::id()));
    fake_sysfs(&root);
    let t = Topology::from_sysfs(&root).unwrap();
    fs::remove_dir_all(&root).unwrap();
    assert!(matches!(t.source(), Source::Sysfs(_)));
    assert_eq!(t.leaf_count(), 8);
    assert_eq!(t.count(LevelKind::Package), 2);
    assert_eq!(t.count(LevelKind::Numa), 2);
    assert_eq!(t.count(LevelKind::Cache(3)), 2);
    assert_eq!(t.count(LevelKind::Cache(2)), 8);
    assert_eq!(t.leaf_cpus(0), &[0, 8]);
    assert_eq!(t.leaf_cpus(5), &[5, 13]);
    assert_eq!(t.distance(0, 3).level, LevelKind::Cache(3));
    assert_eq!(t.distance(0, 4).level, LevelKind::Machine);
    assert_eq!(t.numa_of(6), Some(1));
    let drawn = t.to_string();
    assert!(
        drawn.starts_with("Machine: 2 packages, 2 NUMA nodes, 8 cores, 16 PUs (sysfs "),
        "{drawn}"
    );
    assert!(drawn.contains("Core 5 (cpus 5,13) leaf 5"), "{drawn}");
}

#[test]
fn missing_sysfs_is_an_error_and_discover_falls_back() {
    assert!(Topology::from_sysfs("/nonexistent-gearset").is_err());
    let t = Topology::discover();
    assert!(t.leaf_count() >= 1);
    if cfg!(target_os = "linux") && Path::new("/sys/devices/system/cpu/online").exists() {
        assert!(matches!(t.source(), Source::Sysfs(_)), "{t}");
        assert_eq!(
            t.cpus().len(),
            std::thread::available_parallelism()
                .unwrap()
                .get()
                .max(t.cpus().len())
        );
    }
}

/// hwloc and sysfs describe this machine alike: same CPUs, same leaves, same distances.
#[cfg(all(feature = "hwloc", target_os = "linux"))]
#[test]
fn hwloc_agrees_with_sysfs_on_this_machine() {
    use gearset_hqueue::Topology;
    let hw = Topology::from_hwloc().expect("hwloc loads this machine");
    let fs = Topology::from_sysfs("/sys").expect("sysfs is mounted");
    assert_eq!(hw.cpus(), fs.cpus(), "{hw}\n{fs}");
    assert_eq!(hw.leaf_count(), fs.leaf_count(), "{hw}\n{fs}");
    for a in 0..hw.leaf_count() {
        assert_eq!(hw.leaf_cpus(a), fs.leaf_cpus(a));
        for b in 0..hw.leaf_count() {
            assert_eq!(
                hw.distance(a, b).level,
                fs.distance(a, b).level,
                "{hw}\n{fs}"
            );
        }
    }
}
