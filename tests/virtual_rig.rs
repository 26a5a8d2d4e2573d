//! The virtual rig (scripts/virtual-rig, docs/hil.md): Debian's kernel under qemu with every device
//! made real by the kernel's USB gadget drivers on dummy_hcd (and vivid for the camera), answered by
//! the project's simulators on the gadget side; the kiosk's drivers meet `cdc_acm`, `usblp`
//! (LPGETSTATUS), usbfs/libusb, `usbhid` → evdev and V4L2 on the host side, through udev's names.
//! Inside, `hallkiosk hil` runs two rig files and the guest adds the checks hil has none for: every
//! card layout, paper out mid-print, hot-unplug. A failure prints the guest's serial log.
//!
//! It fails, never skips, when qemu, busybox or the Debian kernel is missing: `scripts/setup`
//! installs them.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Every check the guest must report as passed; a check that silently went missing fails too.
const REQUIRED: &[&str] = &[
    "udev-name-dev-hallkiosk-idcard",
    "udev-name-dev-hallkiosk-printer",
    "udev-name-dev-input-hallkiosk-scanner",
    "udev-name-dev-hallkiosk-scanner",
    "udev-name-dev-hallkiosk-camera",
    "hil-virtual-rig",
    "hil-virtual-rig-usb",
    "print-reference",
    "print-paper-out-mid-job",
    "unplug-mid-read-serial",
    "unplug-mid-read-usb",
    "unplug-service-reader-serial",
    "unplug-service-reader-usb",
    "unplug-mid-print",
    "unplug-service-printer-usblp",
    "unplug-service-printer-usb",
    "scanner-held-code",
];

const FIXTURES: &[&str] = &[
    "resident",
    "resident-long-term",
    "resident-expired",
    "resident-edge",
    "resident-other",
    "hk-mo-tw",
    "foreign-2017",
    "foreign-2023",
];

fn serial_log(out: &Path) -> String {
    std::fs::read_to_string(out.join("serial.log"))
        .unwrap_or_else(|e| format!("(no serial log: {e})"))
}

/// One run of `scripts/virtual-rig ARGS` (its wall time on stderr): its exit, the checks file, and a report
/// for a failed assertion (stderr, checks, `also` — another log of the run — and the guest's
/// serial log).
struct RigRun {
    success: bool,
    checks: String,
    report: String,
}

fn run_rig(out: &Path, args: &[&str], also: Option<&str>) -> RigRun {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = Instant::now();
    let run = Command::new(repo.join("scripts/virtual-rig"))
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--bin")
        .arg(env!("CARGO_BIN_EXE_hallkiosk"))
        .arg("--timeout")
        .arg("460")
        .output()
        .expect("scripts/virtual-rig runs");
    let took = started.elapsed();
    let checks = std::fs::read_to_string(out.join("checks.txt")).unwrap_or_default();
    let also = also
        .map(|name| {
            format!(
                "\n--- {name}\n{}",
                std::fs::read_to_string(out.join(name)).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let report = format!(
        "virtual rig {}: exit {:?} after {:.0} s\n--- stderr\n{}\n--- checks\n{checks}{also}\n--- guest serial log\n{}",
        args.join(" "),
        run.status.code(),
        took.as_secs_f64(),
        String::from_utf8_lossy(&run.stderr),
        serial_log(out)
    );
    eprintln!(
        "virtual rig {}: {:.0} s of wall time",
        args.join(" "),
        took.as_secs_f64()
    );
    RigRun {
        success: run.status.success(),
        checks,
        report,
    }
}

#[test]
fn every_device_passes_through_real_kernel_drivers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let RigRun {
        success,
        checks,
        report,
    } = run_rig(out, &[], None);
    assert!(success, "{report}");
    let passed: Vec<&str> = checks
        .lines()
        .filter_map(|l| l.strip_prefix("PASS "))
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert!(!checks.lines().any(|l| l.starts_with("FAIL")), "{report}");
    let mut required: Vec<String> = REQUIRED.iter().map(|s| s.to_string()).collect();
    for f in FIXTURES {
        required.push(format!("card-{f}-hallkiosk-idcard"));
        required.push(format!("card-{f}-usb:0400:c35a"));
    }
    for name in &required {
        assert!(
            passed.contains(&name.as_str()),
            "{name} did not pass\n{report}"
        );
    }
    // hil's own reports, copied out of the guest.
    for (rig, count) in [("virtual-rig", 7), ("virtual-rig-usb", 6)] {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("{rig}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(json["summary"]["pass"], count, "{rig}: {json:#}\n{report}");
        let junit = std::fs::read_to_string(out.join(format!("{rig}.xml"))).unwrap();
        assert!(
            junit.contains(&format!("tests=\"{count}\" failures=\"0\" errors=\"0\"")),
            "{junit}"
        );
    }
}

#[test]
fn a_missing_kernel_fails_and_does_not_skip() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let run = Command::new(repo.join("scripts/virtual-rig"))
        .arg("--out")
        .arg(dir.path())
        .arg("--bin")
        .arg(env!("CARGO_BIN_EXE_hallkiosk"))
        .env("VIRTUAL_RIG_KERNEL", dir.path().join("no-such-vmlinuz"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("linux-image-amd64"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// The kiosk's UI on the guest's own display (`scripts/virtual-rig --ui`): `hallkiosk run` with
/// Slint's `linuxkms-software` backend on the `bochs` DRM device draws its first frame, a touch
/// sent to qemu's USB tablet over QMP lands on the 办事 button and changes the page (asked of the
/// kiosk's test control socket), and the screen is dumped before and after. Opt-in, because the
/// binary must be built with the `kiosk-kms` feature (a second build of Slint and the kiosk):
/// `cargo test --features kiosk-kms --test virtual_rig` (docs/hil.md gives its timing).
#[cfg(feature = "kiosk-kms")]
#[test]
fn the_ui_runs_on_the_guests_display_and_takes_a_touch() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let RigRun {
        success,
        checks,
        report,
    } = run_rig(out, &["--ui"], Some("ui.log"));
    assert!(success, "{report}");
    for name in ["ui-display", "ui-first-frame", "ui-touch"] {
        assert!(
            checks
                .lines()
                .any(|l| l.starts_with(&format!("PASS {name} "))),
            "{name} did not pass\n{report}"
        );
    }
    // The screendumps: the display's size, and the touch changed what is on it.
    let home = image::open(out.join("ui-home.png"))
        .expect("ui-home.png")
        .to_rgb8();
    let after = image::open(out.join("ui-after-tap.png"))
        .expect("ui-after-tap.png")
        .to_rgb8();
    assert_eq!(home.dimensions(), (1280, 800), "{report}");
    assert_eq!(after.dimensions(), (1280, 800), "{report}");
    let changed = home
        .pixels()
        .zip(after.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        changed > 1280 * 800 / 20,
        "only {changed} pixels changed after the touch\n{report}"
    );
    // Not a blank screen: the home page has many colours.
    let mut colours: Vec<[u8; 3]> = home.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 50,
        "the home screendump has {} colours",
        colours.len()
    );
    // Kept for a person to look at when asked (VIRTUAL_RIG_KEEP=DIR).
    if let Some(keep) = std::env::var_os("VIRTUAL_RIG_KEEP") {
        let keep = Path::new(&keep);
        std::fs::create_dir_all(keep).unwrap();
        for f in ["ui-home.png", "ui-after-tap.png", "checks.txt", "ui.log"] {
            let _ = std::fs::copy(out.join(f), keep.join(f));
        }
    }
}
