//! The systemd units in `systemd/` pass `systemd-analyze verify` without a word (the sync unit
//! with the address drop-in `scripts/provision` writes), and `systemd-analyze security
//! --offline=true` rates them no worse than before the users were split (issue 20: kiosk 0.8, sync
//! 1.2, platform 1.2). Each unit loads only its own credentials, all sealed; the
//! kiosk UI and the sync daemon run as different users sharing only the data group; no key
//! combination reboots (Ctrl+Alt+Del target masked, burst action none, SysRq off). Debian's
//! systemd is installed by scripts/setup.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Exposure ceilings (systemd's 0–10 scale; lower is more confined): the levels measured when
/// issue 20 split the users, so a unit that loses a restriction fails here. The sync unit is rated
/// with the platform's address drop-in a provisioned kiosk has (1.2; 1.1 without it, loopback only).
const CEILINGS: &[(&str, f64)] = &[
    ("hallkiosk.service", 0.8),
    ("hallkiosk-sync.service", 1.2),
    ("hallkiosk-platform.service", 1.2),
];

/// The credentials each unit loads (all with `LoadCredentialEncrypted=`, none in the clear).
const CREDENTIALS: &[(&str, &[&str])] = &[
    ("hallkiosk.service", &["outbox-key", "admin-card-key"]),
    ("hallkiosk-sync.service", &["outbox-key", "platform-token"]),
    ("hallkiosk-platform.service", &[]),
];

/// The values of `key=` lines in a unit file.
fn values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

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
    // The drop-in scripts/provision writes for a platform (tests/provision.rs checks its making).
    let dropins = dir.path().join("hallkiosk-sync.service.d");
    std::fs::create_dir(&dropins).unwrap();
    std::fs::write(
        dropins.join("50-platform.conf"),
        "[Service]\nIPAddressAllow=192.0.2.10 2001:db8::/64\n",
    )
    .unwrap();
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

/// Each unit gets its own credentials only, sealed (`LoadCredentialEncrypted=`, files written by
/// scripts/provision); the kiosk UI (which parses device input) never gets the platform token, the
/// sync daemon (network) never the admin-card key; the two run as different users whose only
/// shared group is the database's; the sync daemon reaches loopback unless provisioning allows
/// the platform.
#[test]
fn each_unit_runs_as_its_own_user_with_its_own_sealed_credentials() {
    let read = |name: &str| std::fs::read_to_string(Path::new("systemd").join(name)).unwrap();
    for (name, expected) in CREDENTIALS {
        let unit = read(name);
        assert!(
            values(&unit, "LoadCredential").is_empty(),
            "{name}: a credential in the clear"
        );
        assert!(values(&unit, "SetCredential").is_empty(), "{name}");
        let mut loaded: Vec<&str> = values(&unit, "LoadCredentialEncrypted")
            .iter()
            .map(|v| {
                let (id, path) = v.split_once(':').unwrap();
                assert_eq!(
                    path,
                    format!("/etc/hallkiosk/credentials/{id}.cred"),
                    "{name}"
                );
                id
            })
            .collect();
        loaded.sort();
        let mut expected = expected.to_vec();
        expected.sort();
        assert_eq!(loaded, expected, "{name}");
    }
    let kiosk = read("hallkiosk.service");
    let sync = read("hallkiosk-sync.service");
    assert_eq!(values(&kiosk, "User"), ["hallkiosk"]);
    assert_eq!(values(&sync, "User"), ["hallkiosk-sync"]);
    let groups = |unit: &str| -> Vec<String> {
        let mut g: Vec<String> = values(unit, "Group")
            .into_iter()
            .chain(values(unit, "SupplementaryGroups"))
            .flat_map(|v| v.split_whitespace())
            .map(String::from)
            .collect();
        g.sort();
        g
    };
    let (kg, sg) = (groups(&kiosk), groups(&sync));
    let shared: Vec<&String> = kg.iter().filter(|g| sg.contains(g)).collect();
    assert_eq!(shared, ["hallkiosk-data"], "kiosk {kg:?}, sync {sg:?}");
    for unit in [&kiosk, &sync] {
        // Files in the shared directory are the group's (set-group-id directory, umask 0007);
        // systemd's StateDirectory= would hand the directory to one of the two users at each start.
        assert_eq!(values(unit, "UMask"), ["0007"]);
        assert!(values(unit, "StateDirectory").is_empty());
        assert_eq!(values(unit, "ReadWritePaths"), ["/var/lib/hallkiosk"]);
    }
    assert_eq!(values(&sync, "IPAddressDeny"), ["any"]);
    assert_eq!(values(&sync, "IPAddressAllow"), ["localhost"]);
    assert_eq!(
        values(&sync, "ConditionPathExists"),
        ["/etc/hallkiosk/credentials/platform-token.cred"]
    );
    // No key combination reboots or signals the kiosk.
    let manager = read("system.conf.d/hallkiosk.conf");
    assert_eq!(values(&manager, "CtrlAltDelBurstAction"), ["none"]);
    let sysctl = read("sysctl.d/60-hallkiosk.conf");
    assert!(
        sysctl.contains("\nkernel.sysrq = 0\n") && sysctl.contains("\nkernel.ctrl-alt-del = 0\n")
    );
    let logind = read("logind.conf.d/hallkiosk.conf");
    for key in [
        "NAutoVTs=0",
        "ReserveVT=0",
        "HandlePowerKey=ignore",
        "HandleRebootKey=ignore",
        "HandlePowerKeyLongPress=ignore",
        "HandleRebootKeyLongPress=ignore",
    ] {
        assert!(logind.lines().any(|l| l == key), "{key}");
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
    let id_of = |file: &str, name: &str| -> u32 {
        std::fs::read_to_string(r.join(file))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:x:")))
            .and_then(|rest| rest.split(':').next())
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("{name} not in the root's {file}"))
    };
    let sync_uid = id_of("etc/passwd", "hallkiosk-sync");
    assert_ne!(
        sync_uid, uid,
        "the kiosk UI and the sync daemon share a user"
    );
    let data_gid = id_of("etc/group", "hallkiosk-data");
    let group = std::fs::read_to_string(r.join("etc/group")).unwrap();
    let members = group
        .lines()
        .find_map(|l| l.strip_prefix("hallkiosk-data:x:"))
        .and_then(|rest| rest.split(':').nth(1))
        .unwrap();
    assert_eq!(members, "hallkiosk,hallkiosk-sync");
    // The shared data directory: the group's, set-group-id, nobody else's.
    let data = std::fs::metadata(r.join("var/lib/hallkiosk")).unwrap();
    assert_eq!(data.permissions().mode() & 0o7777, 0o2770);
    assert_eq!((data.uid(), data.gid()), (uid, data_gid));
    assert_eq!(
        std::fs::read_to_string(r.join("etc/systemd/system.conf.d/hallkiosk.conf"))
            .unwrap()
            .lines()
            .filter(|l| *l == "CtrlAltDelBurstAction=none")
            .count(),
        1
    );
    let second = run();
    assert!(
        !second.contains("Creating"),
        "second run changed something: {second}"
    );
    // Refuses to run without a root.
    let out = Command::new("scripts/install-units").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
