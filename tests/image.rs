//! `scripts/build-image` on a prepared root file system (`--rootfs`: a tiny root with a stand-in
//! kernel and initrd, so the test needs neither a Debian mirror nor minutes): the disk has the A/B
//! GPT layout plus data and conf, the ESP boots slot A's signed UKI through a locked systemd-boot,
//! root-a is under dm-verity with the root hash inside the signed UKI, it holds the kiosk binaries,
//! units, lockdown, RAUC's configuration, keyring and handlers; two builds are byte-identical; a
//! debug binary is refused; `scripts/flash` writes the disk with its block map and verifies it.
//! The signed RAUC bundle beside the image is installed by RAUC itself in a throw-away VM
//! (`scripts/rauc-vm`: the host has no device-mapper), with every refusal case.
//! Booting the image (Secure Boot, A/B fallback) is `scripts/check-image-boot` (opt-in).

use std::path::{Path, PathBuf};
use std::process::Command;

const V1: &str = "1795400000";
const V2: &str = "1795500000";

/// Release-like stand-ins for the kiosk binaries (ELF, strippable, no test control socket): the
/// image tests never run them, and the debug build `cargo test` makes is refused by design.
fn stand_in_bins(dir: &Path) -> PathBuf {
    let bins = dir.join("bins");
    std::fs::create_dir_all(&bins).unwrap();
    for b in ["hallkiosk", "hallkiosk-sync"] {
        std::fs::copy("/usr/bin/true", bins.join(b)).unwrap();
    }
    bins
}

fn build_at(rootfs: &Path, bins: &Path, out: &Path, epoch: &str) -> String {
    let o = Command::new("scripts/build-image")
        .arg("--rootfs")
        .arg(rootfs)
        .arg("--bin-dir")
        .arg(bins)
        .arg("--out")
        .arg(out)
        .args(["--data-mib", "64"])
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

fn partition_table(img: &Path) -> serde_json::Value {
    serde_json::from_str(&run("sfdisk", &["--json", img.to_str().unwrap()])).unwrap()
}

/// Copies partition `n` (1-based) out of the disk image.
fn partition(img: &Path, n: usize, out: &Path) {
    let table = partition_table(img);
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

/// `mtools` address of the ESP inside the disk image.
fn esp_of(img: &Path) -> String {
    let table = partition_table(img);
    let start = table["partitiontable"]["partitions"][0]["start"]
        .as_u64()
        .unwrap();
    format!("{}@@{}", img.display(), start * 512)
}

/// A tiny root file system whose stand-in kernel says `kernel`.
fn tiny_rootfs(at: &Path, kernel: &str) {
    for d in ["boot", "usr/bin", "etc", "var/lib"] {
        std::fs::create_dir_all(at.join(d)).unwrap();
    }
    std::fs::write(at.join("boot/vmlinuz-6.1.0-test"), kernel).unwrap();
    std::fs::write(at.join("boot/initrd.img-6.1.0-test"), b"stand-in initrd").unwrap();
}

fn sha256(path: &Path) -> String {
    run("sha256sum", &[path.to_str().unwrap()])[..64].to_string()
}

/// A host RAUC configuration that checks bundles as a kiosk does (update CA, codeSigning).
fn host_rauc_conf(dir: &Path) -> PathBuf {
    let conf = dir.join("rauc-host.conf");
    let ca = std::fs::canonicalize("image/keys/dev/update-ca.pem").unwrap();
    std::fs::write(
        &conf,
        format!(
            "[system]\ncompatible=hallkiosk-x86_64\nbootloader=noop\n\n[keyring]\npath={}\ncheck-purpose=codesign\n",
            ca.display()
        ),
    )
    .unwrap();
    conf
}

#[test]
fn builds_a_reproducible_verified_ab_image_that_flashes_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    tiny_rootfs(&rootfs, "stand-in kernel");
    let bins = stand_in_bins(dir.path());

    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let progress = build_at(&rootfs, &bins, &one, V1);
    assert!(
        progress.contains("[12/12]") && progress.contains("DEVELOPMENT keys"),
        "progress is printed, and the lab keys are named: {progress}"
    );
    build_at(&rootfs, &bins, &two, V1);
    let img = one.join("hallkiosk.img");
    assert_eq!(
        std::fs::read(&img).unwrap(),
        std::fs::read(two.join("hallkiosk.img")).unwrap(),
        "two builds of one SOURCE_DATE_EPOCH differ"
    );

    // The partition table.
    let table = partition_table(&img);
    assert_eq!(table["partitiontable"]["label"], "gpt");
    let parts = table["partitiontable"]["partitions"].as_array().unwrap();
    let names: Vec<&str> = parts.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["esp", "root-a", "root-b", "data", "conf"]);
    assert_eq!(parts[0]["type"], "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    assert_eq!(parts[1]["type"], "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709");
    assert_eq!(
        parts[1]["size"], parts[2]["size"],
        "A and B slots are the same size"
    );

    // The ESP: signed systemd-boot, slot A's signed UKI, a locked menu, slot A by default.
    let e = esp_of(&img);
    let listing = run("mdir", &["-i", &e, "-b", "-/", "::/"]);
    for f in [
        "::/EFI/BOOT/BOOTX64.EFI",
        "::/a/hallkiosk.efi",
        "::/b/hallkiosk.efi",
        "::/loader/entries/hallkiosk-a.conf",
    ] {
        assert!(listing.contains(f), "{f} not in {listing}");
    }
    assert!(
        !listing.contains("::/loader/entries/hallkiosk-b"),
        "slot b is empty: no boot entry may point at it: {listing}"
    );
    let loader = run("mtype", &["-i", &e, "::/loader/loader.conf"]);
    for line in [
        "default hallkiosk-*",
        "timeout 0",
        "editor no",
        "auto-entries no",
        "auto-firmware no",
    ] {
        assert!(loader.lines().any(|l| l == line), "{line} not in {loader}");
    }
    let entry = run("mtype", &["-i", &e, "::/loader/entries/hallkiosk-a.conf"]);
    for line in [
        "efi        /a/hallkiosk.efi",
        "sort-key   hallkiosk",
        "version    1795400000",
    ] {
        assert!(entry.contains(line), "{line} not in {entry}");
    }
    assert!(
        !entry.contains("options") && !entry.contains("linux"),
        "the entry only names the signed UKI: {entry}"
    );

    // Root A: binaries, units, lockdown, fstab, RAUC.
    let root_a = dir.path().join("root-a.img");
    partition(&img, 2, &root_a);
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
        "/usr/lib/hallkiosk/rauc-systemd-boot",
        "/usr/lib/hallkiosk/rauc-pre-install",
        "/etc/systemd/system/rauc.service.d/hallkiosk.conf",
        "/etc/systemd/system/multi-user.target.wants/hallkiosk-update.path",
        "/etc/systemd/system/sysinit.target.wants/hallkiosk-boot-defaults.service",
        "/etc/systemd/system/sysinit.target.wants/hallkiosk-boot-guard.service",
        "/etc/systemd/system/multi-user.target.wants/hallkiosk-reseal.service",
        "/usr/lib/hallkiosk/hallkiosk-reseal",
        "/etc/initramfs-tools/scripts/local-bottom/hallkiosk-state",
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
    assert_eq!(
        run("debugfs", &["-R", "cat /etc/rauc/keyring.pem", ra]),
        std::fs::read_to_string("image/keys/dev/update-ca.pem").unwrap(),
        "RAUC trusts the update CA, on the read-only root"
    );
    let system_conf = run("debugfs", &["-R", "cat /etc/rauc/system.conf", ra]);
    for line in [
        "bundle-formats=-plain",
        "bootloader=custom",
        "check-purpose=codesign",
    ] {
        assert!(system_conf.contains(line), "{line} not in {system_conf}");
    }
    let os_release = run("debugfs", &["-R", "cat /usr/lib/os-release", ra]);
    assert!(
        os_release.contains("IMAGE_VERSION=1795400000"),
        "{os_release}"
    );
    let fstab = run("debugfs", &["-R", "cat /etc/fstab", ra]);
    assert!(
        fstab.contains("PARTLABEL=data  /var/lib/hallkiosk   ext4  nodev,nosuid,noexec,nofail")
            && fstab.contains("PARTLABEL=conf  /etc/hallkiosk       ext4  ro,nodev,nosuid,noexec")
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
    partition(&img, 4, &data);
    let root_stat = run("debugfs", &["-R", "stat /", data.to_str().unwrap()]);
    assert!(
        root_stat.contains(&format!("User: {uid:>5}")),
        "{root_stat}"
    );

    // The signed bundle beside the image verifies against the update CA.
    let bundle = one.join(format!("hallkiosk-{V1}.raucb"));
    let conf = host_rauc_conf(dir.path());
    let info = run(
        "rauc",
        &[
            "--conf",
            conf.to_str().unwrap(),
            "info",
            bundle.to_str().unwrap(),
        ],
    );
    assert!(
        info.contains("Version:    \t'1795400000'") && info.contains("Bundle Format: \tverity"),
        "{info}"
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

    verified_boot_pieces(dir.path(), &img, &root_a);
}

/// The UKI is signed with the project's db key (and not by another), its command line carries
/// the root hash of root-a, and root-a verifies against it — until one byte changes.
fn verified_boot_pieces(dir: &Path, img: &Path, root_a: &Path) {
    let uki = dir.join("uki.efi");
    let boot = dir.join("bootx64.efi");
    let e = esp_of(img);
    run(
        "mcopy",
        &["-n", "-i", &e, "::/a/hallkiosk.efi", uki.to_str().unwrap()],
    );
    run(
        "mcopy",
        &[
            "-n",
            "-i",
            &e,
            "::/EFI/BOOT/BOOTX64.EFI",
            boot.to_str().unwrap(),
        ],
    );
    for f in [&uki, &boot] {
        run(
            "sbverify",
            &["--cert", "image/keys/dev/db.crt", f.to_str().unwrap()],
        );
    }
    // Another key set's db does not accept it.
    let other = dir.join("other-keys");
    run("scripts/make-keys", &["--out", other.to_str().unwrap()]);
    let o = Command::new("sbverify")
        .arg("--cert")
        .arg(other.join("db.crt"))
        .arg(&uki)
        .output()
        .unwrap();
    assert!(!o.status.success(), "a foreign db key verified the UKI");

    let section = |name: &str| {
        let out = dir.join(name.trim_start_matches('.'));
        run(
            "objcopy",
            &[
                "-O",
                "binary",
                &format!("--only-section={name}"),
                uki.to_str().unwrap(),
                out.to_str().unwrap(),
            ],
        );
        std::fs::read_to_string(out).unwrap()
    };
    let cmdline = section(".cmdline");
    assert!(
        section(".osrel").contains("IMAGE_VERSION=1795400000"),
        "the UKI carries the version"
    );
    let arg = |key: &str| {
        cmdline
            .split_whitespace()
            .find_map(|a| a.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} not in {cmdline}"))
            .to_string()
    };
    let (hash, offset, root) = (
        arg("hallkiosk.roothash="),
        arg("hallkiosk.hashoffset="),
        arg("hallkiosk.root=UUID="),
    );
    assert!(
        cmdline.contains("root=/dev/mapper/hallkiosk-root"),
        "{cmdline}"
    );
    let fs_uuid = run(
        "blkid",
        &["-o", "value", "-s", "UUID", root_a.to_str().unwrap()],
    );
    assert_eq!(fs_uuid.trim(), root, "the UKI names root-a's file system");
    let verity = std::fs::read_to_string(img.with_file_name("verity.txt")).unwrap();
    assert!(verity.contains(&format!("root-hash {hash}")), "{verity}");
    let verify = |image: &Path| {
        Command::new("veritysetup")
            .arg("verify")
            .arg(image)
            .arg(image)
            .arg(&hash)
            .arg(format!("--hash-offset={offset}"))
            .output()
            .unwrap()
    };
    let o = verify(root_a);
    assert!(
        o.status.success(),
        "root-a does not match the UKI's root hash: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // One byte of the file system changed: verity no longer matches.
    let mut bytes = std::fs::read(root_a).unwrap();
    bytes[(1 << 20) + 4097] ^= 1;
    let tampered = dir.join("root-a.tampered");
    std::fs::write(&tampered, bytes).unwrap();
    let o = verify(&tampered);
    assert!(!o.status.success(), "a changed block still verified");
}

#[test]
fn refuses_a_debug_build_with_its_control_socket() {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    tiny_rootfs(&rootfs, "stand-in kernel");
    let debug = PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk"))
        .parent()
        .unwrap()
        .to_path_buf();
    let binary = std::fs::read(debug.join("hallkiosk")).unwrap();
    assert!(
        binary
            .windows(b"test control socket open".len())
            .any(|w| w == b"test control socket open"),
        "the debug build `cargo test` makes carries the control socket"
    );
    let o = Command::new("scripts/build-image")
        .arg("--rootfs")
        .arg(&rootfs)
        .arg("--bin-dir")
        .arg(&debug)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is a debug build (it carries the test control socket)"),
        "{stderr}"
    );
    assert!(!dir.path().join("out/hallkiosk.img").exists());
}

/// One case's verdict from image/test/update-cases.sh: exit code, slots and ESP untouched, words.
fn case<'a>(out: &'a str, name: &str) -> (i32, bool, &'a str) {
    let start = out
        .find(&format!("CASE {name} "))
        .unwrap_or_else(|| panic!("case {name} did not run:\n{out}"));
    let rest = &out[start..];
    let end = rest[1..].find("\nCASE ").map_or(rest.len(), |e| e + 1);
    let text = &rest[..end];
    let head = text.lines().next().unwrap();
    let rc = head
        .split("rc=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap();
    (rc, head.ends_with("untouched=yes"), text)
}

fn line_value<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no {key} line in:\n{out}"))
}

/// RAUC on a kiosk running slot A of image v1, in a throw-away VM: a bundle signed by another CA,
/// truncated, with one byte changed, older or as old as the running system, changed in place after
/// the signature check, or installed while the running slot is on trial — each refused with the
/// slots and the ESP untouched and a clear reason. The v2 bundle from a USB stick, one renamed over
/// after the check (the opened one is written) and one from the drop directory owned by another
/// user go into slot B byte for byte, with its UKI and a counted entry.
#[test]
fn rauc_installs_only_signed_newer_bundles_into_the_other_slot() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| dir.path().join(p);
    let bins = stand_in_bins(dir.path());
    tiny_rootfs(&path("rootfs-1"), "kernel of the running image");
    tiny_rootfs(&path("rootfs-2"), "kernel of the update");
    build_at(&path("rootfs-1"), &bins, &path("v1"), V1);
    build_at(&path("rootfs-2"), &bins, &path("v2"), V2);
    let (v1, v2) = (path("v1/hallkiosk.img"), path("v2/hallkiosk.img"));
    let good = path(&format!("v2/hallkiosk-{V2}.raucb"));

    // What the VM gets: v1's RAUC setup as shipped (from its root), its ESP, the bundles.
    let files = path("vm");
    let sysroot = files.join("sysroot");
    for d in ["etc", "usr/lib", "usr/sbin"] {
        std::fs::create_dir_all(sysroot.join(d)).unwrap();
    }
    let root_1 = path("root-1.img");
    partition(&v1, 2, &root_1);
    let r1 = root_1.to_str().unwrap();
    let s = sysroot.to_str().unwrap();
    run("debugfs", &["-R", &format!("rdump /etc/rauc {s}/etc"), r1]);
    run(
        "debugfs",
        &["-R", &format!("rdump /usr/lib/hallkiosk {s}/usr/lib"), r1],
    );
    for f in ["/usr/lib/os-release", "/usr/sbin/hallkiosk-update-slot"] {
        run("debugfs", &["-R", &format!("dump -p {f} {s}{f}"), r1]);
    }
    std::fs::create_dir_all(files.join("esp")).unwrap();
    run(
        "mcopy",
        &[
            "-s",
            "-n",
            "-i",
            &esp_of(&v1),
            "::/*",
            files.join("esp").to_str().unwrap(),
        ],
    );
    let table = partition_table(&v1);
    let slot_bytes = table["partitiontable"]["partitions"][1]["size"]
        .as_u64()
        .unwrap()
        * 512;
    std::fs::write(files.join("slot-size"), slot_bytes.to_string()).unwrap();

    std::fs::copy(&good, files.join("good.raucb")).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(files.join("truncated.raucb"), &bytes[..bytes.len() / 2]).unwrap();
    let mut modified = bytes.clone();
    modified[bytes.len() / 3] ^= 0xff;
    std::fs::write(files.join("modified.raucb"), modified).unwrap();
    // Re-signed bundles of the same content: by another CA's signer, and by ours with an older
    // and the running version (a legitimately signed rollback).
    let conf = host_rauc_conf(dir.path());
    let c = conf.to_str().unwrap();
    let content = path("content");
    run(
        "rauc",
        &[
            "--conf",
            c,
            "extract",
            good.to_str().unwrap(),
            content.to_str().unwrap(),
        ],
    );
    let other = path("other-keys");
    run("scripts/make-keys", &["--out", other.to_str().unwrap()]);
    let no_keyring = path("rauc-nokeyring.conf");
    std::fs::write(
        &no_keyring,
        "[system]\ncompatible=hallkiosk-x86_64\nbootloader=noop\n",
    )
    .unwrap();
    let bundle_with = |conf: &Path, keys: &Path, input: &Path, out: &str| {
        run(
            "rauc",
            &[
                "--conf",
                conf.to_str().unwrap(),
                "bundle",
                "--cert",
                keys.join("update-signer.pem").to_str().unwrap(),
                "--key",
                keys.join("update-signer.key").to_str().unwrap(),
                input.to_str().unwrap(),
                files.join(out).to_str().unwrap(),
            ],
        );
    };
    bundle_with(&no_keyring, &other, &content, "other-key.raucb");
    for (name, version) in [("older", "1795300000"), ("same", V1)] {
        let d = path(&format!("content-{name}"));
        run(
            "cp",
            &["-a", content.to_str().unwrap(), d.to_str().unwrap()],
        );
        let manifest = d.join("manifest.raucm");
        let text = std::fs::read_to_string(&manifest)
            .unwrap()
            .replace(&format!("version={V2}"), &format!("version={version}"));
        std::fs::write(&manifest, text).unwrap();
        bundle_with(
            &conf,
            Path::new("image/keys/dev"),
            &d,
            &format!("{name}.raucb"),
        );
    }

    let o = Command::new("scripts/rauc-vm")
        .arg("--files")
        .arg(&files)
        .args(["--script", "image/test/update-cases.sh", "--timeout", "900"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "rauc-vm failed: {err}\n{out}");

    for (name, why) in [
        ("other-key", "signature verification failed"),
        ("truncated", "Invalid bundle format"),
        (
            "modified-byte",
            "REFUSED: the bundle's payload does not match its signed hash",
        ),
        (
            "older",
            "REFUSED: bundle version 1795300000 is not newer than the running system's 1795400000 (rollback)",
        ),
        (
            "same-version",
            "REFUSED: bundle version 1795400000 is not newer than the running system's 1795400000",
        ),
        (
            "swapped-in-place",
            "REFUSED: the bundle's payload does not match its signed hash",
        ),
        ("running-on-trial", "REFUSED: the running slot a is itself on trial"),
    ] {
        let (rc, untouched, text) = case(&out, name);
        assert_ne!(rc, 0, "{name} was installed:\n{text}");
        assert!(untouched, "{name} touched a slot or the ESP:\n{text}");
        assert!(text.contains(why), "{name}: no '{why}' in\n{text}");
    }

    // Accepted: slot B holds v2's root byte for byte, its UKI and a counted entry; A untouched.
    let root_2 = path("root-2.img");
    partition(&v2, 2, &root_2);
    let uki_2 = path("uki-2.efi");
    run(
        "mcopy",
        &[
            "-n",
            "-i",
            &esp_of(&v2),
            "::/a/hallkiosk.efi",
            uki_2.to_str().unwrap(),
        ],
    );
    let (rc, _, text) = case(&out, "usb-stick");
    assert_eq!(rc, 0, "{text}");
    assert!(text.contains("reboot to try it"), "{text}");
    assert_eq!(line_value(&out, "slot-b"), sha256(&root_2));
    assert_eq!(line_value(&out, "uki-b"), sha256(&uki_2));
    assert_eq!(
        line_value(&out, "entries").trim(),
        "hallkiosk-a.conf hallkiosk-b+3.conf"
    );
    assert_eq!(
        line_value(&out, "entry-b"),
        "title      hallkiosk;sort-key   hallkiosk;version    1795500000;efi        /b/hallkiosk.efi;"
    );
    assert_eq!(line_value(&out, "primary"), "b");

    // The ESP in the VM holds two kernel images, not three (as a kiosk's 128 MiB does ~45 MB
    // UKIs): the installs below are the second and third into slot b, each replacing b's UKI.
    assert!(line_value(&out, "esp-size").contains("KiB"), "{out}");
    let (rc, _, text) = case(&out, "swapped-by-rename");
    assert_eq!(rc, 0, "{text}");
    assert!(
        text.contains("shim: renamed other-key over swap.raucb"),
        "{text}"
    );
    assert_eq!(
        line_value(&out, "slot-b-after-swap"),
        sha256(&root_2),
        "the bundle RAUC opened and checked is the one written"
    );

    let (rc, _, text) = case(&out, "drop-dir");
    assert_eq!(rc, 0, "{text}");
    assert_eq!(
        line_value(&out, "drop-left"),
        "0",
        "the dropped file is removed"
    );
    assert_eq!(
        line_value(&out, "uki-b-at-last"),
        sha256(&uki_2),
        "the third install into b left its kernel image whole on a full ESP"
    );
}

/// A key held at boot opens systemd-boot's menu, where the older signed slot can be chosen: the
/// boot guard refuses to run it while the newer one can boot, and lets the fallback (the newer
/// slot out of tries) and the newer slot's last try through.
#[test]
fn the_boot_guard_refuses_an_older_slot_chosen_from_the_menu() {
    let entry = |version: &str, slot: &str| {
        format!("title      hallkiosk\nsort-key   hallkiosk\nversion    {version}\nefi        /{slot}/hallkiosk.efi\n")
    };
    // (entries on the ESP as the boot left them: file name and version; the slot that booted;
    // refused?)
    type Entries<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Entries, &str, bool)] = &[
        (
            &[("hallkiosk-a.conf", V1), ("hallkiosk-b.conf", V2)],
            "a",
            true,
        ),
        (
            &[("hallkiosk-a.conf", V1), ("hallkiosk-b+1-2.conf", V2)],
            "a",
            true,
        ),
        (
            &[("hallkiosk-a.conf", V1), ("hallkiosk-b.conf", V2)],
            "b",
            false,
        ),
        (
            &[("hallkiosk-a.conf", V1), ("hallkiosk-b+2-1.conf", V2)],
            "b",
            false,
        ),
        // b's last try (the loader counted it to +0 before starting it), and the fallback.
        (
            &[("hallkiosk-a.conf", V1), ("hallkiosk-b+0-3.conf", V2)],
            "b",
            false,
        ),
        (
            &[("hallkiosk-a.conf", V1), ("hallkiosk-b+0-3.conf", V2)],
            "a",
            false,
        ),
        (
            &[("hallkiosk-a.conf", V2), ("hallkiosk-b.conf", V1)],
            "a",
            false,
        ),
        (
            &[("hallkiosk-a.conf", V2), ("hallkiosk-b.conf", V1)],
            "b",
            true,
        ),
        (&[("hallkiosk-a.conf", V1)], "a", false),
        // The running slot's entry gone: any bootable other slot is the one to run.
        (&[("hallkiosk-b.conf", V1)], "a", true),
        (&[], "a", false),
    ];
    for (entries, booted, refused) in cases {
        let esp = tempfile::tempdir().unwrap();
        let dir = esp.path().join("loader/entries");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, version) in *entries {
            let slot = &name["hallkiosk-".len().."hallkiosk-".len() + 1];
            std::fs::write(dir.join(name), entry(version, slot)).unwrap();
        }
        let o = Command::new("image/rauc/rauc-systemd-boot")
            .args(["check-booted", booted])
            .env("HALLKIOSK_ESP", esp.path())
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let case = format!("{entries:?}, booted {booted}: {said}");
        assert_eq!(!o.status.success(), *refused, "{case}");
        if *refused {
            assert!(said.contains("chosen from the boot menu"), "{case}");
        }
    }
}

/// The drop-directory and boot-menu units pass `systemd-analyze verify`.
#[test]
fn update_units_verify() {
    let dir = tempfile::tempdir().unwrap();
    let wrapper = std::fs::canonicalize("scripts/update-slot").unwrap();
    let reseal = std::fs::canonicalize("image/tpm/hallkiosk-reseal").unwrap();
    let backend = std::fs::canonicalize("image/rauc/rauc-systemd-boot").unwrap();
    let units = [
        "hallkiosk-update.path",
        "hallkiosk-update.service",
        "hallkiosk-boot-defaults.service",
        "hallkiosk-boot-guard.service",
        "hallkiosk-reseal.service",
    ];
    // All copies first: verify looks for the path unit's service beside it.
    for unit in units {
        let text = std::fs::read_to_string(Path::new("image/systemd").join(unit))
            .unwrap()
            .replace("/usr/sbin/hallkiosk-update-slot", wrapper.to_str().unwrap())
            .replace(
                "/usr/lib/hallkiosk/hallkiosk-reseal",
                reseal.to_str().unwrap(),
            )
            .replace(
                "/usr/lib/hallkiosk/rauc-systemd-boot",
                backend.to_str().unwrap(),
            );
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    for unit in units {
        let o = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(dir.path().join(unit))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() && stderr.trim().is_empty(),
            "{unit}: {stderr}"
        );
    }
}

/// What a slot sees once its initramfs has run: the slot's root file system (`slot`, read-only)
/// with the slot's own `hallkiosk-state` script (image/initramfs/local-bottom, from that root) run
/// against the conf partition `conf`, in a private mount namespace; then `then`, a shell snippet
/// run in that view with `$R` the slot's root. Prints what `then` prints.
fn as_booted(slot: &Path, conf: &Path, run_dir: &Path, then: &str) -> String {
    let script = r#"set -e
R=$(mktemp -d)
mount -o loop,ro "$0" "$R"
rootmnt=$R HALLKIOSK_CONF_DEV=$1 HALLKIOSK_RUN=$2 sh "$R/etc/initramfs-tools/scripts/local-bottom/hallkiosk-state" >&2
export R
sh -c "$3""#;
    let o = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(slot)
        .arg(conf)
        .arg(run_dir)
        .arg(then)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "booting {} failed: {}",
        slot.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The kiosk's own state survives an A/B update: v1's disk is provisioned (`scripts/provision
/// --image` onto its conf partition) and a credential is sealed on slot A as booted; slot B, as
/// the v2 bundle's root image (what RAUC writes into it byte for byte, see the test above) boots
/// with that conf partition, sees the same machine id and host key, opens the credential sealed
/// before the update and the provisioned outbox key, and gets the sync daemon's address drop-in.
#[test]
fn per_kiosk_state_survives_an_ab_update() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| dir.path().join(p);
    let bins = stand_in_bins(dir.path());
    tiny_rootfs(&path("rootfs-1"), "kernel of the running image");
    tiny_rootfs(&path("rootfs-2"), "kernel of the update");
    build_at(&path("rootfs-1"), &bins, &path("v1"), V1);
    build_at(&path("rootfs-2"), &bins, &path("v2"), V2);
    let v1 = path("v1/hallkiosk.img");
    let (slot_a, conf) = (path("root-a.img"), path("conf.img"));
    partition(&v1, 2, &slot_a);
    partition(&v1, 5, &conf);
    // Slot B after the update: the root image inside v2's signed bundle.
    let content = path("v2-content");
    let rauc_conf = host_rauc_conf(dir.path());
    run(
        "rauc",
        &[
            "--conf",
            rauc_conf.to_str().unwrap(),
            "extract",
            path(&format!("v2/hallkiosk-{V2}.raucb")).to_str().unwrap(),
            content.to_str().unwrap(),
        ],
    );
    let slot_b = content.join("root.img");

    // Provisioned as check-image-boot does: the conf partition mounted at DIR/etc/hallkiosk.
    let prov = path("prov");
    std::fs::create_dir_all(prov.join("etc/hallkiosk")).unwrap();
    let token = path("token");
    std::fs::write(&token, "kiosk-token-xyz\n").unwrap();
    let o = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"prov=$1; shift; mount -o loop "$0" "$prov/etc/hallkiosk" && exec scripts/provision --root "$prov" --image "$@""#)
        .arg(&conf)
        .arg(&prov)
        .args(["--kiosk-id", "AB-0001", "--hall", "测试大厅"])
        .args(["--platform-url", "https://192.0.2.7:8700", "--token-file"])
        .arg(&token)
        .args(["--touch-matrix", "0 1 0 -1 0 1"])
        .env("HALLKIOSK", env!("CARGO_BIN_EXE_hallkiosk"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        std::fs::read_dir(&prov).unwrap().count() == 1
            && std::fs::read_dir(prov.join("etc")).unwrap().count() == 1,
        "with --image nothing is written outside the conf partition"
    );

    // What a slot reports as booted: its machine id, its host key's hash, the outbox key's hash
    // opened as PID 1 would (the slot's machine id and host key), the drop-in.
    let report = r#"
echo "machine-id $(cat "$R/etc/machine-id")"
echo "host-key $(sha256sum < "$R/var/lib/systemd/credential.secret" | cut -c1-64)"
creds() { SYSTEMD_CREDENTIAL_SECRET=$R/var/lib/systemd/credential.secret unshare --mount --propagation private \
  sh -c 'mount --bind "$R/etc/machine-id" /etc/machine-id && exec systemd-creds "$@"' creds "$@"; }
echo "outbox-key $(creds decrypt --name=outbox-key "$R/etc/hallkiosk/credentials/outbox-key.cred" - | sha256sum | cut -c1-64)"
"#;
    let seal = format!(
        "{report}\nprintf 'sealed on slot a before the update' | creds encrypt --with-key=host --name=probe - {}",
        path("probe.cred").display()
    );
    let run_a = path("run-a");
    let a = as_booted(&slot_a, &conf, &run_a, &seal);
    let open = format!(
        "{report}\necho \"probe $(creds decrypt --name=probe {} -)\"",
        path("probe.cred").display()
    );
    let run_b = path("run-b");
    let b = as_booted(&slot_b, &conf, &run_b, &open);

    let id = line_value(&a, "machine-id");
    assert!(
        id.len() == 32 && id.bytes().all(|c| c.is_ascii_hexdigit()),
        "slot a has the provisioned machine id: {a}"
    );
    assert_ne!(
        id,
        std::fs::read_to_string("/etc/machine-id").unwrap().trim(),
        "not this machine's"
    );
    assert_eq!(line_value(&b, "machine-id"), id, "slot b's machine id");
    let empty_key = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_ne!(line_value(&a, "host-key"), empty_key, "{a}");
    assert_eq!(
        line_value(&b, "host-key"),
        line_value(&a, "host-key"),
        "slot b's host key"
    );
    assert_eq!(
        line_value(&b, "outbox-key"),
        line_value(&a, "outbox-key"),
        "the provisioned outbox key opens on both slots"
    );
    assert_ne!(line_value(&b, "outbox-key"), empty_key, "{b}");
    assert_eq!(
        line_value(&b, "probe"),
        "sealed on slot a before the update"
    );
    for run in [&run_a, &run_b] {
        let dropin = std::fs::read_to_string(
            run.join("systemd/system/hallkiosk-sync.service.d/50-platform.conf"),
        )
        .unwrap();
        assert!(dropin.contains("IPAddressAllow=192.0.2.7"), "{dropin}");
        let touch =
            std::fs::read_to_string(run.join("udev/rules.d/61-hallkiosk-touch.rules")).unwrap();
        assert!(
            touch.contains("ENV{LIBINPUT_CALIBRATION_MATRIX}=\"0 1 0 -1 0 1\""),
            "{touch}"
        );
    }
    // The conf partition is not signed: a drop-in that does more than allow addresses, or a
    // matrix that is more than numbers, is not taken.
    let o = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(
            r#"m=$(mktemp -d) && mount -o loop "$0" "$m" &&
               echo 'ExecStartPre=/bin/sh -c "echo owned"' >> "$m/host/50-platform.conf" &&
               echo '1 0 0 0 1 0", RUN+="/bin/sh' > "$m/host/touch-matrix" && umount "$m""#,
        )
        .arg(&conf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let run_c = path("run-c");
    as_booted(&slot_b, &conf, &run_c, "true");
    assert!(
        !run_c.join("systemd").exists() && !run_c.join("udev").exists(),
        "a tampered drop-in or matrix was taken"
    );
    // On its own (no conf partition) slot b has no identity: the state comes from conf alone.
    let bare = Command::new("debugfs")
        .args(["-R", "cat /etc/machine-id", slot_b.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(bare.stdout.is_empty(), "the image carries no machine id");
}
