//! No key combination ends the kiosk or the citizen's session (issue 20; docs/operations.md
//! "Lockdown: no keyboard escape").
//!
//! - The real binary, full screen under Xvfb with a citizen's session open (card placed, greeted by
//!   name), receives the combinations a USB keyboard can send — Ctrl+Alt+Backspace, Ctrl+Alt+Delete
//!   eight times in two seconds, Ctrl+C, Alt+F2, Ctrl+Alt+F2, Alt+F4, Ctrl+Q, Ctrl+W, Escape, SysRq,
//!   X's grab-breaking keys, a key held for two seconds — through xdotool (XTEST), and keeps
//!   running with the same session on screen.
//! - A close request from the window system leaves a full-screen kiosk's window open
//!   ([`hallkiosk::kiosk::keyboard::keep_open`]); without it the same request hides the window.
//!
//! The DRM/KMS path (Slint's libinput hook, feature kiosk-kms) needs real input devices: it is
//! proven on the booted image (image/test/lockdown-checks.sh). Needs Xvfb and xdotool
//! (`scripts/setup`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

#[path = "common/control.rs"]
mod control;
#[path = "common/xvfb.rs"]
mod xvfb;
use control::{until, Control, DevKiosk};
use xvfb::Xvfb;

fn xdotool_ok(display: &str, args: &[&str]) -> bool {
    Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .stderr(Stdio::null())
        .status()
        .expect("xdotool is installed (scripts/setup installs it)")
        .success()
}

fn xdotool(display: &str, args: &[&str]) {
    assert!(xdotool_ok(display, args), "xdotool {args:?}");
}

/// Taps the middle of the button labelled `label` with xdotool (waiting up to 10 s for it).
fn tap(screen: &mut Control, display: &str, label: &str) {
    let mut button = None;
    assert!(
        until(Duration::from_secs(10), || {
            button = screen
                .find(label)
                .into_iter()
                .find(|e| e.role.as_deref() == Some("button"));
            button.is_some()
        }),
        "no button {label:?}"
    );
    let b = button.unwrap();
    xdotool(
        display,
        &[
            "mousemove",
            "--sync",
            &format!("{}", (b.x + b.w / 2.0).round() as i64),
            &format!("{}", (b.y + b.h / 2.0).round() as i64),
            "click",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn no_key_combination_ends_the_kiosk_or_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let x = Xvfb::start(1920, 1080);
    let mut kiosk = DevKiosk::start(
        &x.display,
        dir.path(),
        &["--fullscreen", "--orientation", "landscape"],
    );
    let mut screen = Control::connect(&kiosk.socket);
    let display = x.display.clone();
    let tap = |screen: &mut Control, label: &str| tap(screen, &display, label);
    // A citizen's session: the card placed on the (simulated) reader, greeted by name.
    let greeting = "您好，张*三";
    tap(&mut screen, "办事");
    tap(&mut screen, "放置居民身份证");
    assert!(
        until(Duration::from_secs(10), || !screen
            .find(greeting)
            .is_empty()),
        "no session: {}",
        kiosk.log()
    );

    let combos: &[&[&str]] = &[
        &["ctrl+alt+BackSpace"],
        &["ctrl+alt+Delete"; 8],
        &["ctrl+c"],
        &["alt+F2"],
        &["ctrl+alt+F2"],
        &["ctrl+alt+F1"],
        &["alt+F4"],
        &["ctrl+q"],
        &["ctrl+w"],
        &["Escape"],
        &["alt+Sys_Req"],
        &["alt+Print"],
        &["ctrl+alt+KP_Divide"],
        &["ctrl+alt+KP_Multiply"],
        &["super+l"],
        &["alt+Tab"],
        &["ctrl+alt+KP_Add"],
    ];
    let mut alive_after = |what: &str, sent: bool| {
        std::thread::sleep(Duration::from_millis(300));
        if let Some(status) = kiosk.process.0.try_wait().unwrap() {
            panic!("the kiosk exited ({status}) after {what}: {}", kiosk.log());
        }
        assert!(sent, "xdotool could not send {what}");
    };
    for keys in combos {
        let mut args = vec!["key", "--delay", "40"];
        args.extend_from_slice(keys);
        let sent = xdotool_ok(&x.display, &args);
        alive_after(&format!("{keys:?}"), sent);
    }
    // A key held (autorepeat) and the modifiers held with it.
    let sent = xdotool_ok(&x.display, &["keydown", "ctrl+alt+BackSpace"]);
    std::thread::sleep(Duration::from_secs(2));
    let sent = sent && xdotool_ok(&x.display, &["keyup", "ctrl+alt+BackSpace"]);
    alive_after("Ctrl+Alt+Backspace held for 2 s", sent);

    assert!(
        kiosk.process.0.try_wait().unwrap().is_none(),
        "the kiosk exited after a key combination: {}",
        kiosk.log()
    );
    assert!(
        !screen.find(greeting).is_empty(),
        "the citizen's session is gone after the key combinations: {}",
        kiosk.log()
    );
    assert!(!kiosk.log().contains("kiosk stopped"), "{}", kiosk.log());
}

/// The address families `systemd/hallkiosk.service` allows (`RestrictAddressFamilies=`), as
/// systemd enforces them: a seccomp filter on socket(2) that fails any other family with
/// EAFNOSUPPORT. Installed in the child between fork and exec.
fn restrict_address_families(command: &mut Command, allowed: &'static [u32]) {
    use std::os::unix::process::CommandExt;
    let unit = std::fs::read_to_string("systemd/hallkiosk.service").unwrap();
    let line = unit
        .lines()
        .find(|l| l.starts_with("RestrictAddressFamilies="))
        .expect("the kiosk unit restricts address families");
    let names = |families: &[u32]| -> Vec<&'static str> {
        families
            .iter()
            .map(|f| match *f as i32 {
                libc::AF_UNIX => "AF_UNIX",
                libc::AF_NETLINK => "AF_NETLINK",
                libc::AF_INET => "AF_INET",
                _ => "?",
            })
            .collect()
    };
    let listed: Vec<&str> = line["RestrictAddressFamilies=".len()..]
        .split_whitespace()
        .collect();
    assert_eq!(
        listed,
        names(allowed),
        "the filter follows the unit: {line}"
    );
    // Classic BPF over struct seccomp_data { nr: i32, arch: u32, ip: u64, args: [u64; 6] }.
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    const ALLOW: u32 = 0x7fff_0000;
    const ERRNO: u32 = 0x0005_0000;
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    let stmt = |code, k| libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |k, jt, jf| libc::sock_filter {
        code: JEQ_K,
        jt,
        jf,
        k,
    };
    let n = allowed.len() as u8;
    let mut program = vec![
        stmt(LD_W_ABS, 4), // arch
        jump(AUDIT_ARCH_X86_64, 0, n + 4),
        stmt(LD_W_ABS, 0), // syscall number
        jump(libc::SYS_socket as u32, 0, n + 2),
        stmt(LD_W_ABS, 16), // args[0], the family (low half, little endian)
    ];
    for (i, family) in allowed.iter().enumerate() {
        program.push(jump(*family, n - i as u8, 0));
    }
    program.push(stmt(RET_K, ERRNO | libc::EAFNOSUPPORT as u32));
    program.push(stmt(RET_K, ALLOW));
    let program: &'static [libc::sock_filter] = Box::leak(program.into_boxed_slice());
    unsafe {
        command.pre_exec(move || {
            let fprog = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &fprog as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The filter itself: a loopback TCP socket fails inside it, a Unix one does not.
#[test]
fn the_address_family_filter_refuses_what_the_unit_refuses() {
    let mut probe = Command::new("python3");
    probe.args([
        "-c",
        "import socket\n\
socket.socket(socket.AF_UNIX)\n\
try:\n    socket.socket(socket.AF_INET)\n    print('inet allowed')\n\
except OSError as e:\n    print('inet', e.errno)",
    ]);
    restrict_address_families(&mut probe, &[libc::AF_UNIX as u32, libc::AF_NETLINK as u32]);
    let out = probe.output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("inet {}", libc::EAFNOSUPPORT),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The dev kiosk (every device simulated: a lab image provisioned without `--devices`) runs inside
/// the unit's address families: its simulators need no network, a placed card greets its holder
/// and the kiosk stays up. (With the printer simulator on loopback TCP it stopped at start,
/// "cannot start the simulated devices: Address family not supported by protocol", and systemd
/// restarted it until the unit rebooted the kiosk.)
#[test]
fn the_dev_kiosk_runs_inside_the_units_address_families() {
    let dir = tempfile::tempdir().unwrap();
    let x = Xvfb::start(1280, 800);
    let mut kiosk = DevKiosk::start_with(&x.display, dir.path(), &["--fullscreen"], |c| {
        restrict_address_families(c, &[libc::AF_UNIX as u32, libc::AF_NETLINK as u32])
    });
    assert!(
        until(Duration::from_secs(15), || kiosk
            .log()
            .contains("starting the QR scanner service")
            || kiosk.process.0.try_wait().unwrap().is_some()),
        "the devices did not start: {}",
        kiosk.log()
    );
    assert!(
        kiosk.process.0.try_wait().unwrap().is_none(),
        "the kiosk stopped: {}",
        kiosk.log()
    );
    let mut screen = Control::connect(&kiosk.socket);
    tap(&mut screen, &x.display, "办事");
    tap(&mut screen, &x.display, "放置居民身份证");
    assert!(
        until(Duration::from_secs(10), || !screen
            .find("您好，张*三")
            .is_empty()),
        "no greeting: {}",
        kiosk.log()
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        kiosk.process.0.try_wait().unwrap().is_none(),
        "the kiosk stopped: {}",
        kiosk.log()
    );
    assert!(!kiosk.log().contains("cannot start"), "{}", kiosk.log());
}

/// A close request (a window manager's Alt+F4, the window's close button) keeps a full-screen
/// kiosk open; without `keep_open` the same request hides the window and would end the loop.
#[test]
fn a_close_request_keeps_the_full_screen_kiosk_open() {
    use hallkiosk::shared::catalog::Catalog;
    use hallkiosk::shared::config::Config;
    use slint::platform::WindowEvent;
    use slint::ComponentHandle;
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = Some(dir.path().to_path_buf());
    let running = hallkiosk::kiosk::app::start(&config, Catalog::bundled().unwrap()).unwrap();
    let app = running.ui.window();
    let window = app.window();
    window.show().unwrap();
    assert!(window.is_visible());
    window.dispatch_event(WindowEvent::CloseRequested);
    assert!(!window.is_visible(), "the close request had no effect");
    window.show().unwrap();
    hallkiosk::kiosk::keyboard::keep_open(window);
    window.dispatch_event(WindowEvent::CloseRequested);
    assert!(window.is_visible(), "a close request closed the kiosk");
}

/// A disk image with one GPT partition `name` holding the file system made from `root`.
fn disk_with_root(dir: &Path, root: &Path, name: &str) -> std::path::PathBuf {
    let n = std::fs::read_dir(dir).unwrap().count();
    let part = dir.join(format!("part-{n}.img"));
    let disk = dir.join(format!("disk-{n}.img"));
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{cmd:?}: {out:?}");
    };
    run(Command::new("truncate").args(["-s", "32M"]).arg(&part));
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-d"])
        .arg(root)
        .arg(&part));
    run(Command::new("truncate").args(["-s", "40M"]).arg(&disk));
    let mut sfdisk = Command::new("sfdisk")
        .args(["--quiet", "--label", "gpt"])
        .arg(&disk)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(
        sfdisk.stdin.take().unwrap(),
        "start=2048, size={}, name={name}",
        32 * 2048
    )
    .unwrap();
    assert!(sfdisk.wait().unwrap().success());
    run(Command::new("dd")
        .arg(format!("if={}", part.display()))
        .arg(format!("of={}", disk.display()))
        .args(["bs=512", "seek=2048", "conv=notrunc", "status=none"]));
    disk
}

fn sealed_on_disk(image: &Path) -> (bool, String) {
    let out = Command::new("bash")
        .arg("-c")
        .arg("source image/test/lockdown-checks.sh && lockdown_sealed_on_disk \"$1\"")
        .arg("lockdown")
        .arg(image)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The boot check's disk half (image/test/lockdown-checks.sh, `lockdown_sealed_on_disk`) on disk
/// images made here: a root provisioned by scripts/provision (sealed to the host key, which lies on
/// the same disk) is reported as readable from the disk alone — that is what only a TPM2 changes;
/// the same root without the host key on it (as when the key is sealed to a TPM2) passes; a
/// credential in the clear fails.
#[test]
fn the_disk_check_tells_a_key_sealed_off_the_disk_from_one_that_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let out = Command::new("scripts/provision")
        .arg("--root")
        .arg(&root)
        .args(["--kiosk-id", "K-1", "--hall", "x"])
        .env("HALLKIOSK", env!("CARGO_BIN_EXE_hallkiosk"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    let host_only = disk_with_root(dir.path(), &root, "root-a");
    let (ok, said) = sealed_on_disk(&host_only);
    assert!(!ok, "{said}");
    assert!(
        said.contains("opens with the host key on the same disk"),
        "{said}"
    );

    let secret = root.join("var/lib/systemd/credential.secret");
    std::fs::remove_file(&secret).unwrap();
    let off_disk = disk_with_root(dir.path(), &root, "root-a");
    let (ok, said) = sealed_on_disk(&off_disk);
    assert!(ok, "{said}");
    assert!(said.contains("does not open from the disk alone"), "{said}");

    std::fs::write(root.join("etc/hallkiosk/credentials/outbox-key"), [1u8; 32]).unwrap();
    let plain = disk_with_root(dir.path(), &root, "root-a");
    let (ok, said) = sealed_on_disk(&plain);
    assert!(!ok && said.contains("in the clear: outbox-key"), "{said}");
}

/// The same check on an image's layout (scripts/provision --image): credentials, host key and
/// machine id all on the conf partition — readable from the disk alone with the host key only.
#[test]
fn the_disk_check_reads_an_images_conf_partition() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc/hallkiosk")).unwrap();
    let out = Command::new("scripts/provision")
        .arg("--root")
        .arg(&root)
        .args(["--image", "--kiosk-id", "K-1", "--hall", "x"])
        .env("HALLKIOSK", env!("CARGO_BIN_EXE_hallkiosk"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let conf = disk_with_root(dir.path(), &root.join("etc/hallkiosk"), "conf");
    let (ok, said) = sealed_on_disk(&conf);
    assert!(!ok, "{said}");
    assert!(
        said.contains("conf: the outbox key opens with the host key on the same disk"),
        "{said}"
    );
    // An image's root slot: an empty credentials directory (where conf is mounted) is no
    // provisioned root (found by check-image-boot: it was reported as "no sealed outbox key").
    let slot = dir.path().join("slot");
    std::fs::create_dir_all(slot.join("etc/hallkiosk/credentials")).unwrap();
    let (ok, said) = sealed_on_disk(&disk_with_root(dir.path(), &slot, "root-a"));
    assert!(!ok && said.contains("no provisioned root slot"), "{said}");
}

/// A software TPM2 (Debian's swtpm) on a Unix socket, for `systemd-creds --tpm2-device=swtpm:…`.
/// swtpm has no resource manager, and systemd 252 leaves its sessions loaded when it exits (the
/// kernel's `/dev/tpmrm0` on a kiosk flushes them): after three commands the TPM has no session
/// memory left. So clients reach it through a proxy that resets the TPM (swtpm's `CMD_INIT` and
/// `TPM2_Startup`, which keep its seeds and hence what was sealed) when a process starts using it
/// — as much as a resource manager cleaning up after a client that has gone.
struct Swtpm {
    child: std::process::Child,
    device: String,
}

fn pipe(a: std::os::unix::net::UnixStream, b: std::os::unix::net::UnixStream) {
    let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut a2, &mut b2);
        let _ = b2.shutdown(std::net::Shutdown::Write);
    });
    std::thread::spawn(move || {
        let (mut a, mut b) = (a, b);
        let _ = std::io::copy(&mut b, &mut a);
        let _ = a.shutdown(std::net::Shutdown::Write);
    });
}

impl Swtpm {
    fn start(dir: &Path) -> Swtpm {
        use std::io::Read;
        use std::os::unix::net::{UnixListener, UnixStream};
        let state = dir.join("tpm-state");
        std::fs::create_dir_all(&state).unwrap();
        let real = dir.join("swtpm.sock");
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--tpmstate"])
            .arg(format!("dir={}", state.display()))
            .arg("--server")
            .arg(format!("type=unixio,path={}", real.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}.ctrl", real.display()))
            .args(["--flags", "not-need-init,startup-clear"])
            .stderr(Stdio::null())
            .spawn()
            .expect("swtpm (scripts/setup installs it)");
        let real_ctrl = dir.join("swtpm.sock.ctrl");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !(real.exists() && real_ctrl.exists()) {
            assert!(std::time::Instant::now() < deadline, "swtpm did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let sock = dir.join("tpm.sock");
        let data = UnixListener::bind(&sock).unwrap();
        let ctrl = UnixListener::bind(dir.join("tpm.sock.ctrl")).unwrap();
        let reset = {
            let (r, rc) = (real.clone(), real_ctrl.clone());
            move || {
                // TPM2_Shutdown(SU_CLEAR) first: a reset without it is an unorderly shutdown,
                // which the TPM counts towards its dictionary-attack lockout.
                let mut tpm = UnixStream::connect(&r).unwrap();
                tpm.write_all(&[0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x45, 0, 0])
                    .unwrap();
                let mut answer = [0u8; 10];
                tpm.read_exact(&mut answer).unwrap();
                drop(tpm);
                // CMD_INIT (2) with no flags; the answer is a 4-byte result, 0 = done.
                let mut c = UnixStream::connect(&rc).unwrap();
                c.write_all(&[0, 0, 0, 2, 0, 0, 0, 0]).unwrap();
                let mut res = [0u8; 4];
                c.read_exact(&mut res).unwrap();
                assert_eq!(res, [0; 4], "swtpm CMD_INIT");
                // TPM2_Startup(SU_CLEAR), as firmware does at power-on.
                let mut tpm = UnixStream::connect(&r).unwrap();
                tpm.write_all(&[0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0])
                    .unwrap();
                let mut answer = [0u8; 10];
                tpm.read_exact(&mut answer).unwrap();
                assert_eq!(&answer[6..], [0; 4], "TPM2_Startup");
            }
        };
        // The swtpm TCTI connects anew for every command, and once to the control socket when a
        // process starts using it (to set the locality): that is when the TPM is reset.
        std::thread::spawn(move || {
            for client in data.incoming().flatten() {
                pipe(client, UnixStream::connect(&real).unwrap());
            }
        });
        std::thread::spawn(move || {
            for client in ctrl.incoming().flatten() {
                reset();
                pipe(client, UnixStream::connect(&real_ctrl).unwrap());
            }
        });
        Swtpm {
            child,
            device: format!("swtpm:path={}", sock.display()),
        }
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `COMMAND ARGS…` as on the kiosk whose conf partition is `conf`: its machine id bound over
/// /etc/machine-id in a private mount namespace, its host key as systemd's.
fn on_kiosk(conf: &Path, command: &str, args: &[&str]) -> std::process::Output {
    Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount --bind \"$0\" /etc/machine-id && exec \"$@\"")
        .arg(conf.join("host/machine-id"))
        .arg(command)
        .args(args)
        .env(
            "SYSTEMD_CREDENTIAL_SECRET",
            conf.join("host/credential.secret"),
        )
        .output()
        .unwrap()
}

/// Issue 20, sealed keys: an image's conf partition provisioned offline (host key only) is
/// readable from the disk alone; the first boot's re-seal (image/tpm/hallkiosk-reseal, run here
/// against a software TPM2) seals every credential to the TPM2 as well, after which
/// `lockdown_sealed_on_disk` passes, the credentials still open to the same bytes with the TPM2,
/// and a second run changes nothing.
#[test]
fn the_first_boot_reseals_to_the_tpm2_and_the_disk_alone_no_longer_opens_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let conf = root.join("etc/hallkiosk");
    std::fs::create_dir_all(&conf).unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "tpm-kiosk-token\n").unwrap();
    let out = Command::new("scripts/provision")
        .arg("--root")
        .arg(&root)
        .args([
            "--image",
            "--kiosk-id",
            "K-1",
            "--hall",
            "x",
            "--token-file",
        ])
        .arg(&token)
        .args(["--platform-url", "http://127.0.0.1:8700"])
        .env("HALLKIOSK", env!("CARGO_BIN_EXE_hallkiosk"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (ok, said) = sealed_on_disk(&disk_with_root(dir.path(), &conf, "conf"));
    assert!(!ok, "offline-provisioned: host key only: {said}");

    let tpm = Swtpm::start(dir.path());
    let open = |name: &str, device: &str| {
        let cred = conf.join(format!("credentials/{name}.cred"));
        on_kiosk(
            &conf,
            "systemd-creds",
            &[
                "decrypt",
                &format!("--tpm2-device={device}"),
                &format!("--name={name}"),
                cred.to_str().unwrap(),
                "-",
            ],
        )
    };
    let before: Vec<Vec<u8>> = ["outbox-key", "platform-token", "admin-card-key"]
        .iter()
        .map(|n| {
            let o = open(n, "/dev/null");
            assert!(o.status.success(), "{n}: {o:?}");
            o.stdout
        })
        .collect();
    let reseal = || {
        let out = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg("mount --bind \"$0\" /etc/machine-id && exec image/tpm/hallkiosk-reseal")
            .arg(conf.join("host/machine-id"))
            .env(
                "SYSTEMD_CREDENTIAL_SECRET",
                conf.join("host/credential.secret"),
            )
            .env("HALLKIOSK_CONF", &conf)
            .env("HALLKIOSK_TPM2_DEVICE", &tpm.device)
            .env("HALLKIOSK_REMOUNT", "0")
            .env("HALLKIOSK_RUN", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let said = reseal();
    assert!(said.contains("3 re-sealed, 0 already"), "{said}");
    // Power cuts must not lock the credentials away (the TPM2's dictionary-attack counter).
    assert!(
        said.contains("TPM2 dictionary-attack counter reset"),
        "{said}"
    );

    let (ok, said) = sealed_on_disk(&disk_with_root(dir.path(), &conf, "conf"));
    assert!(ok, "{said}");
    assert!(said.contains("does not open from the disk alone"), "{said}");
    for (n, plain) in ["outbox-key", "platform-token", "admin-card-key"]
        .iter()
        .zip(&before)
    {
        assert!(
            !open(n, "/dev/null").status.success(),
            "{n} opens without the TPM2"
        );
        let o = open(n, &tpm.device);
        assert!(o.status.success(), "{n}: {o:?}");
        assert_eq!(&o.stdout, plain, "{n} holds the same bytes");
        let mode = std::fs::metadata(conf.join(format!("credentials/{n}.cred")))
            .unwrap()
            .permissions();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.mode() & 0o777, 0o600);
    }
    let said = reseal();
    assert!(said.contains("0 re-sealed, 3 already"), "{said}");
}
