//! `scripts/build-image` on a prepared root file system (`--rootfs`: a tiny root with a stand-in
//! kernel and initrd, so the test needs neither a Debian mirror nor minutes): the disk has the A/B
//! GPT layout, the ESP boots slot A through systemd-boot, root-a holds the kiosk binaries, units,
//! lockdown and fstab, the data partition belongs to the kiosk user; two builds are byte-identical;
//! and `scripts/flash` writes it with its block map and verifies it. `scripts/update-slot` puts a
//! newer image into the other slot of a kiosk (ESP as a directory, slot as a file).
//! The debootstrap path and booting the image (A/B fallback included) are exercised by
//! `scripts/check-image-boot` (root, qemu, ~10 minutes; see docs/operations.md), not here.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn build(rootfs: &Path, out: &Path) -> String {
    build_at(rootfs, out, "1795400000")
}

fn build_at(rootfs: &Path, out: &Path, epoch: &str) -> String {
    let o = Command::new("scripts/build-image")
        .arg("--rootfs")
        .arg(rootfs)
        .arg("--bin-dir")
        .arg(bin_dir())
        .arg("--out")
        .arg(out)
        .env("SOURCE_DATE_EPOCH", epoch)
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

/// A tiny root file system whose stand-in kernel says `kernel`.
fn tiny_rootfs(at: &Path, kernel: &str) {
    for d in ["boot", "usr/bin", "etc", "var/lib"] {
        std::fs::create_dir_all(at.join(d)).unwrap();
    }
    std::fs::write(at.join("boot/vmlinuz-6.1.0-test"), kernel).unwrap();
    std::fs::write(at.join("boot/initrd.img-6.1.0-test"), b"stand-in initrd").unwrap();
}

#[test]
fn builds_a_reproducible_ab_image_that_flashes_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    tiny_rootfs(&rootfs, "stand-in kernel");

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
        "::/a/initrd.img",
        "::/loader/entries/hallkiosk-a.conf",
    ] {
        assert!(listing.contains(f), "{f} not in {listing}");
    }
    assert!(
        !listing.contains("::/loader/entries/hallkiosk-b"),
        "slot b is empty: no boot entry may point at it: {listing}"
    );
    let loader = run("mtype", &["-i", e, "::/loader/loader.conf"]);
    assert!(loader.contains("default hallkiosk-*"), "{loader}");
    let entry = run("mtype", &["-i", e, "::/loader/entries/hallkiosk-a.conf"]);
    for line in [
        "root=PARTLABEL=root-a",
        "sort-key   hallkiosk",
        "version    1795400000",
    ] {
        assert!(entry.contains(line), "{line} not in {entry}");
    }

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
        "/etc/systemd/system/boot-complete.target.requires/hallkiosk.service",
        "/etc/systemd/system/getty@.service",
        "/etc/systemd/system/systemd-random-seed.service",
        "/etc/systemd/journald.conf.d/hallkiosk.conf",
        "/usr/sbin/hallkiosk-update-slot",
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
        fstab.contains("PARTLABEL=data  /var/lib/hallkiosk   ext4  nodev,nosuid,noexec,nofail")
            && fstab.contains("tmpfs           /tmp"),
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

fn partition_table(img: &Path) -> serde_json::Value {
    serde_json::from_str(&run("sfdisk", &["--json", img.to_str().unwrap()])).unwrap()
}

fn update_slot(args: &[&Path], extra: &[&str]) -> (i32, String) {
    let names = ["--image", "--esp", "--slot-device", "--carry-from"];
    let mut cmd = Command::new("scripts/update-slot");
    for (name, value) in names.iter().zip(args) {
        cmd.arg(name).arg(value);
    }
    let o = cmd.args(["--current", "a"]).args(extra).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout),
    )
}

fn entries(esp: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(esp.join("loader/entries"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `scripts/update-slot` as a kiosk running slot A runs it: the ESP is a directory (mounted on
/// the kiosk), slot B a device (a file here). A newer image goes into B with its kernel and a
/// counted entry, the kiosk's provisioning comes along, slot A and its entry stay untouched;
/// older images, a running slot still on trial, a damaged image and a small target are refused.
#[test]
fn update_slot_writes_the_other_slot_and_leaves_the_running_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| dir.path().join(p);
    tiny_rootfs(&path("rootfs-old"), "kernel of the running image");
    tiny_rootfs(&path("rootfs-new"), "kernel of the update");
    build_at(&path("rootfs-old"), &path("old"), "1795400000");
    build_at(&path("rootfs-new"), &path("new"), "1795500000");
    let (old, new) = (path("old/hallkiosk.img"), path("new/hallkiosk.img"));

    // The kiosk as flashed from the old image: its ESP as files, an empty slot B, provisioning.
    let table = partition_table(&old);
    let esp = path("esp");
    std::fs::create_dir_all(&esp).unwrap();
    let esp_offset = table["partitiontable"]["partitions"][0]["start"]
        .as_u64()
        .unwrap()
        * 512;
    run(
        "mcopy",
        &[
            "-s",
            "-n",
            "-i",
            &format!("{}@@{esp_offset}", old.display()),
            "::/*",
            esp.to_str().unwrap(),
        ],
    );
    let slot_b = path("root-b");
    partition(&old, &table, 3, &slot_b);
    let carry = path("running-root");
    std::fs::create_dir_all(carry.join("etc/hallkiosk/credentials")).unwrap();
    std::fs::write(
        carry.join("etc/hallkiosk/config.toml"),
        "[kiosk]\nid = \"K-0417\"\n",
    )
    .unwrap();
    std::fs::write(
        carry.join("etc/hallkiosk/credentials/outbox-key"),
        [7u8; 32],
    )
    .unwrap();
    let entry_a = std::fs::read_to_string(esp.join("loader/entries/hallkiosk-a.conf")).unwrap();

    let (code, said) = update_slot(&[&new, &esp, &slot_b, &carry], &[]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("reboot to try it"), "{said}");
    assert_eq!(entries(&esp), ["hallkiosk-a.conf", "hallkiosk-b+3.conf"]);
    let entry_b = std::fs::read_to_string(esp.join("loader/entries/hallkiosk-b+3.conf")).unwrap();
    for line in [
        "version    1795500000",
        "sort-key   hallkiosk",
        "linux      /b/vmlinuz",
        "root=PARTLABEL=root-b ro",
    ] {
        assert!(entry_b.contains(line), "{line} not in {entry_b}");
    }
    assert_eq!(
        std::fs::read_to_string(esp.join("b/vmlinuz")).unwrap(),
        "kernel of the update"
    );
    assert_eq!(
        std::fs::read_to_string(esp.join("a/vmlinuz")).unwrap(),
        "kernel of the running image",
        "the running slot's kernel is untouched"
    );
    assert_eq!(
        std::fs::read_to_string(esp.join("loader/entries/hallkiosk-a.conf")).unwrap(),
        entry_a
    );
    let loader = std::fs::read_to_string(esp.join("loader/loader.conf")).unwrap();
    assert!(loader.contains("default hallkiosk-*"), "{loader}");
    // Slot B: the new root, checked clean, with the kiosk's provisioning carried over.
    let b = slot_b.to_str().unwrap();
    let fsck = Command::new("e2fsck").args(["-fn", b]).output().unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
    assert_eq!(
        run("debugfs", &["-R", "cat /etc/hallkiosk/config.toml", b]),
        "[kiosk]\nid = \"K-0417\"\n"
    );
    let key = run(
        "debugfs",
        &["-R", "stat /etc/hallkiosk/credentials/outbox-key", b],
    );
    assert!(key.contains("Size: 32"), "{key}");
    let label = run("e2label", &[b]);
    assert_eq!(
        label.trim(),
        "root-b",
        "the file system is named after its slot"
    );
    let new_root = path("new-root-a");
    partition(&new, &partition_table(&new), 2, &new_root);
    let listing_new = run(
        "debugfs",
        &["-R", "ls -l /usr/bin", new_root.to_str().unwrap()],
    );
    let listing_b = run("debugfs", &["-R", "ls -l /usr/bin", b]);
    assert_eq!(
        listing_b, listing_new,
        "slot b holds the image's root file system"
    );

    // Again: the same result (idempotent), not a second entry.
    let (code, said) = update_slot(&[&new, &esp, &slot_b, &carry], &[]);
    assert_eq!(code, 0, "{said}");
    assert_eq!(entries(&esp), ["hallkiosk-a.conf", "hallkiosk-b+3.conf"]);

    // Refused, each leaving the ESP as it was.
    let before = entries(&esp);
    let (code, said) = update_slot(&[&old, &esp, &slot_b, &carry], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("is not newer than the running slot"),
        "{said}"
    );

    let small = path("small");
    std::fs::write(&small, vec![0u8; 1 << 20]).unwrap();
    let (code, said) = update_slot(&[&new, &esp, &small, &carry], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("is smaller than the image's root"), "{said}");

    let damaged_dir = path("damaged");
    std::fs::create_dir_all(&damaged_dir).unwrap();
    let mut bytes = std::fs::read(&new).unwrap();
    bytes[3 << 20] ^= 1;
    std::fs::write(damaged_dir.join("hallkiosk.img"), bytes).unwrap();
    std::fs::copy(path("new/SHA256SUMS"), damaged_dir.join("SHA256SUMS")).unwrap();
    let (code, said) = update_slot(
        &[&damaged_dir.join("hallkiosk.img"), &esp, &slot_b, &carry],
        &[],
    );
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("does not match"), "{said}");
    assert_eq!(entries(&esp), before);

    // Slot A on trial (booted from a counted entry, not yet good): B is its fallback, keep it.
    std::fs::rename(
        esp.join("loader/entries/hallkiosk-a.conf"),
        esp.join("loader/entries/hallkiosk-a+2-1.conf"),
    )
    .unwrap();
    let (code, said) = update_slot(&[&new, &esp, &slot_b, &carry], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("on trial"), "{said}");
    assert_eq!(
        entries(&esp),
        ["hallkiosk-a+2-1.conf", "hallkiosk-b+3.conf"]
    );
}
