//! Keyboards other than the scanner are grabbed (issue 20, docs/operations.md "Lockdown"): with
//! the kiosk's [`Grabber`] holding them, no key pressed on a plugged keyboard reaches any other
//! reader of it (libinput, the kernel's console keyboard handler); the configured scanner, a
//! mouse and a power button are left alone; a keyboard plugged in later is grabbed at the next
//! look.
//!
//! Virtual devices need `/dev/uinput`, which CI hosts here do not have: this test runs itself
//! inside a throw-away VM (`scripts/rauc-vm` with Debian's kernel and its evdev and uinput
//! modules), where the part below `in_vm` does the work and prints its findings.

use hallkiosk::kiosk::keyboard::Grabber;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const IN_VM: &str = "HALLKIOSK_KEYBOARD_TEST_IN_VM";

#[test]
fn other_keyboards_are_grabbed_and_their_keys_reach_no_one_else() {
    if std::env::var_os(IN_VM).is_some() {
        in_vm();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let me = std::env::current_exe().unwrap();
    let name = me.file_name().unwrap().to_str().unwrap().to_string();
    let script = dir.path().join("run.sh");
    std::fs::write(
        &script,
        format!(
            "for _ in $(seq 50); do [ -e /dev/uinput ] && break; sleep 0.1; done\n\
             {IN_VM}=1 /bin/{name} --exact other_keyboards_are_grabbed_and_their_keys_reach_no_one_else \
             --nocapture --test-threads 1\n"
        ),
    )
    .unwrap();
    let o = Command::new("scripts/rauc-vm")
        .arg("--files")
        .arg(&files)
        .arg("--script")
        .arg(&script)
        .args(["--modules", "evdev uinput", "--timeout", "300", "--bin"])
        .arg(&me)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "in the VM: {out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for line in [
        "ungrabbed keyboard: another reader got 4 events",
        "grabbed keyboard: another reader got 0 events",
        "scanner: another reader got 4 events",
        "late keyboard: another reader got 0 events",
        "released keyboard: another reader got 4 events",
    ] {
        assert!(out.contains(line), "no '{line}' in:\n{out}");
    }
    // What was grabbed: the keyboards (the VM's own PS/2 keyboard among them), not the scanner,
    // the mouse or the power button.
    let grabbed = |key: &str| -> Vec<String> {
        let list = out
            .lines()
            .find_map(|l| l.split(key).nth(1))
            .unwrap_or_else(|| panic!("no '{key}' in:\n{out}"));
        list.trim_matches(|c| c == '[' || c == ']')
            .split(", ")
            .map(String::from)
            .collect()
    };
    let first = grabbed("grabbed at first: ");
    let later = grabbed("grabbed after the late one: ");
    assert!(first.contains(&"keyboard".to_string()), "{first:?}");
    assert!(later.contains(&"late keyboard".to_string()), "{later:?}");
    for other in ["scanner", "mouse", "power button"] {
        assert!(
            !later.iter().any(|g| g == other),
            "{other} grabbed: {later:?}"
        );
    }
}

/// A virtual device with these keys (and relative axes for a mouse); its event node.
fn device(
    name: &str,
    keys: &[evdev::KeyCode],
    mouse: bool,
) -> (evdev::uinput::VirtualDevice, PathBuf) {
    let mut set = evdev::AttributeSet::<evdev::KeyCode>::new();
    for k in keys {
        set.insert(*k);
    }
    let mut b = evdev::uinput::VirtualDevice::builder()
        .unwrap()
        .name(name)
        .with_keys(&set)
        .unwrap();
    let axes: evdev::AttributeSet<evdev::RelativeAxisCode> = [
        evdev::RelativeAxisCode::REL_X,
        evdev::RelativeAxisCode::REL_Y,
    ]
    .into_iter()
    .collect();
    if mouse {
        b = b.with_relative_axes(&axes).unwrap();
    }
    let mut dev = b.build().unwrap();
    let node = dev
        .enumerate_dev_nodes_blocking()
        .unwrap()
        .flatten()
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("event"))
        })
        .unwrap();
    for _ in 0..50 {
        if node.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (dev, node)
}

/// Presses and releases a key (two key events, each with its SYN_REPORT: four events).
fn press(dev: &mut evdev::uinput::VirtualDevice, key: evdev::KeyCode) {
    for value in [1, 0] {
        dev.emit(&[evdev::InputEvent::new(
            evdev::EventType::KEY.0,
            key.code(),
            value,
        )])
        .unwrap();
    }
}

/// Another reader of a node: how many events it gets for one key pressed and released.
fn another_reader_gets(
    node: &PathBuf,
    dev: &mut evdev::uinput::VirtualDevice,
    key: evdev::KeyCode,
) -> usize {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_nonblock())
        .open(node)
        .unwrap();
    press(dev, key);
    std::thread::sleep(Duration::from_millis(200));
    let mut buf = [0u8; 24 * 64];
    let mut n = 0;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(r) => n += r / 24,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    n
}

fn libc_nonblock() -> i32 {
    0o4000 // O_NONBLOCK on Linux
}

fn in_vm() {
    use evdev::KeyCode as K;
    let keyboard_keys = [
        K::KEY_A,
        K::KEY_LEFTCTRL,
        K::KEY_LEFTALT,
        K::KEY_DELETE,
        K::KEY_SYSRQ,
    ];
    let (mut kbd, kbd_node) = device("keyboard", &keyboard_keys, false);
    let (mut scanner, scanner_node) = device("scanner", &[K::KEY_A, K::KEY_1, K::KEY_ENTER], false);
    let (_mouse, _) = device("mouse", &[K::BTN_LEFT, K::BTN_RIGHT], true);
    let (_power, _) = device("power button", &[K::KEY_POWER], false);
    let names = |paths: Vec<PathBuf>| {
        let mut v: Vec<String> = paths
            .iter()
            .map(|p| {
                let n = p.file_name().unwrap().to_str().unwrap();
                std::fs::read_to_string(format!("/sys/class/input/{n}/device/name"))
                    .unwrap()
                    .trim()
                    .to_string()
            })
            .collect();
        v.sort();
        format!("[{}]", v.join(", "))
    };
    println!(
        "ungrabbed keyboard: another reader got {} events",
        another_reader_gets(&kbd_node, &mut kbd, K::KEY_A)
    );
    let mut g = Grabber::new("/dev/input", vec![scanner_node.clone()]);
    g.scan();
    println!("grabbed at first: {}", names(g.held()));
    println!(
        "grabbed keyboard: another reader got {} events",
        another_reader_gets(&kbd_node, &mut kbd, K::KEY_DELETE)
    );
    println!(
        "scanner: another reader got {} events",
        another_reader_gets(&scanner_node, &mut scanner, K::KEY_1)
    );
    let (mut late, late_node) = device("late keyboard", &keyboard_keys, false);
    g.scan();
    println!("grabbed after the late one: {}", names(g.held()));
    println!(
        "late keyboard: another reader got {} events",
        another_reader_gets(&late_node, &mut late, K::KEY_A)
    );
    drop(g);
    println!(
        "released keyboard: another reader got {} events",
        another_reader_gets(&kbd_node, &mut kbd, K::KEY_A)
    );
}
