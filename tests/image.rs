//! `scripts/build-image` on a prepared root file system (`--rootfs`: a tiny root with a stand-in
//! kernel and initrd, so the test needs neither a Debian mirror nor minutes): the disk has the A/B
//! GPT layout, the ESP boots slot A through systemd-boot, root-a holds the kiosk binaries, units,
//! lockdown and fstab, the data partition belongs to the kiosk user; two builds are byte-identical;
//! and `scripts/flash` writes it with its block map and verifies it.
//! The debootstrap path and booting the image are not exercised here (see docs/operations.md).

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn build(rootfs: &Path, out: &Path) -> String {
    let o = Command::new("scripts/build-image")
        .arg("--rootfs")
        .arg(rootfs)
        .arg("--bin-dir")
        .arg(bin_dir())
        .arg("--out")
        .arg(out)
        .env("SOURCE_DATE_EPOCH", "1795400000")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    stderr
}

fn run(cmd: &str, args: &[&str]) -> String {
    let o = Command::new(cmd).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Copies partition `n` (1-based) out of the disk image.
fn partition(img: &Path, table: &serde_json::Value, n: usize, out: &Path) {
    let p = &table["partitiontable"]["partitions"][n - 1];
    let (start, size) = (p["start"].as_u64().unwrap(), p["size"].as_u64().unwrap());
    run(
        "dd",
        &[
            &format!("if={}", img.display()),
            &format!("of={}", out.display()),
            "bs=512",
            &format!("skip={start}"),
            &format!("count={size}"),
            "status=none",
        ],
    );
}

#[test]
fn builds_a_reproducible_ab_image_that_flashes_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    for d in ["boot", "usr/bin", "etc", "var/lib"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::write(rootfs.join("boot/vmlinuz-6.1.0-test"), b"stand-in kernel").unwrap();
    std::fs::write(
        rootfs.join("boot/initrd.img-6.1.0-test"),
        b"stand-in initrd",
    )
    .unwrap();

    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let progress = build(&rootfs, &one);
    assert!(
        progress.contains("[9/9]"),
        "progress is printed: {progress}"
    );
    build(&rootfs, &two);
    let img = one.join("hallkiosk.img");
    assert_eq!(
        std::fs::read(&img).unwrap(),
        std::fs::read(two.join("hallkiosk.img")).unwrap(),
        "two builds of one SOURCE_DATE_EPOCH differ"
    );

    // The partition table.
    let table: serde_json::Value =
        serde_json::from_str(&run("sfdisk", &["--json", img.to_str().unwrap()])).unwrap();
    assert_eq!(table["partitiontable"]["label"], "gpt");
    let parts = table["partitiontable"]["partitions"].as_array().unwrap();
    let names: Vec<&str> = parts.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["esp", "root-a", "root-b", "data"]);
    assert_eq!(parts[0]["type"], "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    assert_eq!(parts[1]["type"], "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709");
    assert_eq!(
        parts[1]["size"], parts[2]["size"],
        "A and B slots are the same size"
    );

    // The ESP: systemd-boot, both slots, slot A by default.
    let esp = dir.path().join("esp.img");
    partition(&img, &table, 1, &esp);
    let e = esp.to_str().unwrap();
    let listing = run("mdir", &["-i", e, "-b", "-/", "::/"]);
    for f in [
        "::/EFI/BOOT/BOOTX64.EFI",
        "::/a/vmlinuz",
        "::/b/initrd.img",
        "::/loader/entries/hallkiosk-b.conf",
    ] {
        assert!(listing.contains(f), "{f} not in {listing}");
    }
    let loader = run("mtype", &["-i", e, "::/loader/loader.conf"]);
    assert!(loader.contains("default hallkiosk-a.conf"), "{loader}");
    let entry = run("mtype", &["-i", e, "::/loader/entries/hallkiosk-a.conf"]);
    assert!(entry.contains("root=PARTLABEL=root-a"), "{entry}");

    // Root A: binaries, units, lockdown, fstab.
    let root_a = dir.path().join("root-a.img");
    partition(&img, &table, 2, &root_a);
    let ra = root_a.to_str().unwrap();
    for path in [
        "/usr/bin/hallkiosk",
        "/usr/bin/hallkiosk-sync",
        "/usr/lib/systemd/system/hallkiosk.service",
        "/etc/systemd/logind.conf.d/hallkiosk.conf",
        "/etc/systemd/system/ctrl-alt-del.target",
        "/etc/systemd/system/graphical.target.wants/hallkiosk.service",
    ] {
        let stat = Command::new("debugfs")
            .args(["-R", &format!("stat {path}"), ra])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&stat.stdout);
        assert!(
            text.contains("Inode:"),
            "{path} not in root-a: {}",
            String::from_utf8_lossy(&stat.stderr)
        );
    }
    let fstab = run("debugfs", &["-R", "cat /etc/fstab", ra]);
    assert!(
        fstab.contains("PARTLABEL=data  /var/lib/hallkiosk"),
        "{fstab}"
    );
    let passwd = run("debugfs", &["-R", "cat /etc/passwd", ra]);
    let uid = passwd
        .lines()
        .find_map(|l| l.strip_prefix("hallkiosk:x:"))
        .and_then(|r| r.split(':').next())
        .unwrap()
        .to_string();

    // Data: its root belongs to the kiosk user.
    let data = dir.path().join("data.img");
    partition(&img, &table, 4, &data);
    let root_stat = run("debugfs", &["-R", "stat /", data.to_str().unwrap()]);
    assert!(
        root_stat.contains(&format!("User: {uid:>5}")),
        "{root_stat}"
    );

    // Flash it with its block map into a disk file and verify.
    let disk = dir.path().join("disk");
    let o = Command::new("scripts/flash")
        .arg(&img)
        .arg(&disk)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("mapped blocks of"),
        "the block map was used: {said}"
    );
}
