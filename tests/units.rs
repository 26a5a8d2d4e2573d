//! The systemd units in `systemd/` pass `systemd-analyze verify` without a word, and
//! `systemd-analyze security --offline=true` rates the network daemons (sync, platform) at 2.0 or
//! below and the kiosk UI unit (devices, no network) at 4.9 or below. Debian's systemd is installed by scripts/setup.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Exposure ceilings (systemd's 0–10 scale; lower is more confined).
const CEILINGS: &[(&str, f64)] = &[
    ("hallkiosk.service", 4.9),
    ("hallkiosk-sync.service", 2.0),
    ("hallkiosk-platform.service", 2.0),
];

fn units() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("systemd")
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
        .collect();
    v.sort();
    v
}

/// A copy of `unit` whose `/usr/bin/` binaries point at this build (verify checks they exist).
fn with_built_binaries(unit: &Path, dir: &Path) -> PathBuf {
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk"))
        .parent()
        .unwrap()
        .to_path_buf();
    let text = std::fs::read_to_string(unit)
        .unwrap()
        .replace("/usr/bin/", &format!("{}/", bin_dir.display()));
    let out = dir.join(unit.file_name().unwrap());
    std::fs::write(&out, text).unwrap();
    out
}

#[test]
fn units_verify_cleanly_and_daemons_are_confined() {
    let units = units();
    for (name, _) in CEILINGS {
        assert!(
            units.iter().any(|u| u.file_name().unwrap() == *name),
            "{name} missing"
        );
    }
    // verify needs the binaries the units start.
    let platform =
        PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk")).with_file_name("hallkiosk-platform");
    if !platform.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        assert!(Command::new(cargo)
            .args([
                "build",
                "-p",
                "hallkiosk-platform",
                "--bin",
                "hallkiosk-platform"
            ])
            .status()
            .unwrap()
            .success());
    }
    let dir = tempfile::tempdir().unwrap();
    for unit in &units {
        let copy = with_built_binaries(unit, dir.path());
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&copy)
            .output()
            .expect("systemd-analyze (Debian package systemd, installed by scripts/setup)");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{}: {stderr}",
            unit.display()
        );
        let name = unit.file_name().unwrap().to_str().unwrap();
        if let Some((_, ceiling)) = CEILINGS.iter().find(|(n, _)| *n == name) {
            let out = Command::new("systemd-analyze")
                .args(["security", "--offline=true", "--no-pager"])
                .arg(&copy)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let level: f64 = text
                .lines()
                .find_map(|l| l.split("Overall exposure level for ").nth(1))
                .and_then(|l| l.split(": ").nth(1))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no exposure level for {name}: {text}"));
            assert!(level <= *ceiling, "{name}: exposure {level} > {ceiling}");
            eprintln!("{name}: exposure {level}");
        }
    }
}

/// `scripts/install-units --root DIR` lays the units, drop-ins, udev rules, sysusers and tmpfiles
/// entries into a root, masks ctrl-alt-del.target and every getty, creates the kiosk user and a private data
/// directory there, and a second run changes nothing.
#[test]
fn install_units_into_a_root_is_complete_and_idempotent() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let root = tempfile::tempdir().unwrap();
    let run = || {
        let out = Command::new("scripts/install-units")
            .args(["--root", root.path().to_str().unwrap(), "--enable"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = run();
    assert!(first.contains("Creating user 'hallkiosk'"), "{first}");
    let r = root.path();
    for file in [
        "usr/lib/systemd/system/hallkiosk.service",
        "usr/lib/systemd/system/hallkiosk-sync.service",
        "etc/systemd/logind.conf.d/hallkiosk.conf",
        "etc/systemd/coredump.conf.d/hallkiosk.conf",
        "etc/systemd/journald.conf.d/hallkiosk.conf",
        "etc/systemd/system.conf.d/hallkiosk.conf",
        "etc/sysctl.d/60-hallkiosk.conf",
        "usr/lib/udev/rules.d/60-hallkiosk-devices.rules",
        "usr/lib/udev/rules.d/60-hallkiosk-idcard.rules",
        "etc/systemd/system/graphical.target.wants/hallkiosk.service",
        "etc/systemd/system/multi-user.target.wants/hallkiosk-sync.service",
    ] {
        assert!(r.join(file).symlink_metadata().is_ok(), "{file} missing");
    }
    for masked in [
        "ctrl-alt-del.target",
        "getty@.service",
        "serial-getty@.service",
        "getty-static.service",
        "console-getty.service",
    ] {
        let mask = std::fs::read_link(r.join("etc/systemd/system").join(masked)).unwrap();
        assert_eq!(mask, Path::new("/dev/null"), "{masked} is not masked");
    }
    assert!(
        r.join("etc/systemd/system/boot-complete.target.requires/hallkiosk.service")
            .symlink_metadata()
            .is_ok(),
        "the kiosk gates boot-complete.target (A/B updates are kept only once it is up)"
    );
    let sysctl = std::fs::read_to_string(r.join("etc/sysctl.d/60-hallkiosk.conf")).unwrap();
    assert!(sysctl.contains("kernel.sysrq = 0"));
    let logind =
        std::fs::read_to_string(r.join("etc/systemd/logind.conf.d/hallkiosk.conf")).unwrap();
    assert!(logind.contains("NAutoVTs=0") && logind.contains("ReserveVT=0"));
    let passwd = std::fs::read_to_string(r.join("etc/passwd")).unwrap();
    let uid: u32 = passwd
        .lines()
        .find_map(|l| l.strip_prefix("hallkiosk:x:"))
        .and_then(|rest| rest.split(':').next())
        .and_then(|uid| uid.parse().ok())
        .expect("hallkiosk user in the root's passwd");
    let data = std::fs::metadata(r.join("var/lib/hallkiosk")).unwrap();
    assert_eq!(data.permissions().mode() & 0o777, 0o700);
    assert_eq!(data.uid(), uid);
    let second = run();
    assert!(
        !second.contains("Creating"),
        "second run changed something: {second}"
    );
    // Refuses to run without a root.
    let out = Command::new("scripts/install-units").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
