//! No key combination ends the kiosk (issue 20, docs/operations.md "Lockdown"). The kiosk is
//! touch-only: a keyboard plugged into a hall's kiosk is no input to it, and a keyboard-wedge
//! scanner is read by the scanner driver from its own evdev node (grabbed), never through the UI
//! toolkit.
//!
//! - On DRM/KMS (the image: `SLINT_BACKEND=linuxkms-software`, cargo feature `kiosk-kms`) Slint
//!   reads input through libinput and ends its event loop on Ctrl+Alt+Backspace and
//!   Ctrl+Alt+Delete (i-slint-backend-linuxkms 1.18, `calloop_backend/input.rs`), and that loop
//!   cannot be entered again: the kiosk stopped and systemd restarted it, the citizen's session
//!   gone. [`install`] selects that backend with a libinput event hook that takes every keyboard
//!   event before Slint sees it; pointer and touch events pass.
//! - In a window system (X11/Wayland through winit), a close request (a window manager's Alt+F4)
//!   hides the last window and ends the loop: [`keep_open`] keeps a full-screen kiosk's window.
//!
//! - On DRM/KMS the kiosk also **grabs every other keyboard** (`EVIOCGRAB` on its evdev node,
//!   [`Grabber`]): while the kiosk holds the grab no other reader of that keyboard — the kernel's
//!   console keyboard handler (Ctrl+Alt+Del to PID 1, SysRq, VT switching), libinput, anything —
//!   gets a key from it. Keyboards plugged in later are grabbed within [`GRAB_EVERY`]. The
//!   configured keyboard-wedge scanner is left to the scanner driver, which grabs it itself.
//!
//! Below the kiosk, systemd and the kernel ignore the rest (systemd/README.md): Ctrl+Alt+Del
//! (`ctrl-alt-del.target` masked, `CtrlAltDelBurstAction=none`), SysRq (`kernel.sysrq=0`), VT
//! switching (no VTs allocated: `NAutoVTs=0`, every getty masked), power and reboot keys (logind).

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often `/dev/input` is looked at again for keyboards plugged in since.
pub const GRAB_EVERY: Duration = Duration::from_secs(1);

/// Selects the UI backend with keyboards ignored when it is DRM/KMS (`SLINT_BACKEND=linuxkms…`)
/// and grabs every keyboard but `scanner` (the configured keyboard-wedge scanner's node, if any);
/// otherwise leaves the choice to Slint and the keyboards alone (a developer's desktop). Call
/// before the first window is made.
pub fn install(scanner: Option<&Path>) -> anyhow::Result<()> {
    if kms_selected() {
        select_kms()?;
        let keep: Vec<PathBuf> = scanner.into_iter().map(Path::to_path_buf).collect();
        std::thread::Builder::new()
            .name("keyboard-grab".into())
            .spawn(move || {
                let mut g = Grabber::new("/dev/input", keep);
                loop {
                    for path in g.scan() {
                        tracing::info!(
                            "keyboard {} grabbed: its keys reach nothing",
                            path.display()
                        );
                    }
                    std::thread::sleep(GRAB_EVERY);
                }
            })?;
    }
    Ok(())
}

/// Whether the UI runs on DRM/KMS (`SLINT_BACKEND=linuxkms…`) rather than a window system.
pub fn kms_selected() -> bool {
    std::env::var("SLINT_BACKEND")
        .is_ok_and(|b| b.trim().to_ascii_lowercase().starts_with("linuxkms"))
}

/// Grabs the keyboards among a directory's evdev nodes (`event*`), except the ones to keep, and
/// holds the grabs; a node that goes away is let go.
pub struct Grabber {
    dir: PathBuf,
    keep: Vec<PathBuf>,
    /// Grabbed nodes: the device number they had and the open node holding the grab.
    held: HashMap<PathBuf, (u64, std::fs::File)>,
}

impl Grabber {
    /// `keep`: nodes not to grab (as configured: symbolic links are followed).
    pub fn new(dir: impl Into<PathBuf>, keep: Vec<PathBuf>) -> Grabber {
        Grabber {
            dir: dir.into(),
            keep,
            held: HashMap::new(),
        }
    }

    /// The nodes grabbed now.
    pub fn held(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.held.keys().cloned().collect();
        v.sort();
        v
    }

    /// Looks at the directory once: lets go of nodes that are gone (or are another device now),
    /// grabs keyboards not yet held. Returns the newly grabbed ones.
    pub fn scan(&mut self) -> Vec<PathBuf> {
        self.held
            .retain(|path, (rdev, _)| std::fs::metadata(path).is_ok_and(|m| m.rdev() == *rdev));
        let keep: Vec<PathBuf> = self
            .keep
            .iter()
            .filter_map(|k| std::fs::canonicalize(k).ok())
            .collect();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut grabbed = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let is_event = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("event"));
            if !is_event || self.held.contains_key(&path) {
                continue;
            }
            if std::fs::canonicalize(&path).is_ok_and(|p| keep.contains(&p)) {
                continue;
            }
            match grab_if_keyboard(&path) {
                Ok(Some(held)) => {
                    self.held.insert(path.clone(), held);
                    grabbed.push(path);
                }
                Ok(None) => {}
                Err(e) => tracing::debug!("{}: {e}", path.display()),
            }
        }
        grabbed.sort();
        grabbed
    }
}

/// `EVIOCGBIT(EV_KEY, 96)`: the key capability bits (KEY_MAX 0x2ff → 96 bytes).
const EVIOCGBIT_KEY: u64 = (2 << 30) | (96 << 16) | (0x45 << 8) | 0x21;
/// `EVIOCGRAB`: `_IOW('E', 0x90, int)`.
const EVIOCGRAB: u64 = (1 << 30) | (4 << 16) | (0x45 << 8) | 0x90;

/// Whether key capability bits are a keyboard's: any of Esc, 1, Enter, left Ctrl, A, left Alt,
/// F1, SysRq, Delete. A power button (KEY_POWER), a touch screen (BTN_TOUCH) or a mouse (BTN_LEFT)
/// is not.
pub fn has_keyboard_keys(key_bits: &[u8]) -> bool {
    const KEYS: [usize; 9] = [1, 2, 28, 29, 30, 56, 59, 99, 111];
    KEYS.iter()
        .any(|&k| key_bits.get(k / 8).is_some_and(|b| b & (1 << (k % 8)) != 0))
}

fn grab_if_keyboard(path: &Path) -> std::io::Result<Option<(u64, std::fs::File)>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let rdev = file.metadata()?.rdev();
    let mut bits = [0u8; 96];
    // SAFETY: a valid descriptor and a buffer of the size the request names.
    let n = unsafe { libc::ioctl(file.as_raw_fd(), EVIOCGBIT_KEY as _, bits.as_mut_ptr()) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if !has_keyboard_keys(&bits) {
        return Ok(None);
    }
    // SAFETY: a valid descriptor; the argument is an int by value (1 = grab).
    if unsafe { libc::ioctl(file.as_raw_fd(), EVIOCGRAB as _, 1 as libc::c_int) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Some((rdev, file)))
}

#[cfg(feature = "kiosk-kms")]
fn select_kms() -> anyhow::Result<()> {
    slint::BackendSelector::new()
        .with_libinput_event_hook(is_keyboard)
        .select()
        .map_err(|e| anyhow::anyhow!("cannot start the DRM/KMS display: {e}"))?;
    tracing::info!("keyboards are ignored: the UI takes touch and pointer input only");
    Ok(())
}

#[cfg(not(feature = "kiosk-kms"))]
fn select_kms() -> anyhow::Result<()> {
    // Without the feature Slint has no linuxkms backend and fails with its own message.
    Ok(())
}

/// The libinput events the kiosk takes away from the UI toolkit: every keyboard event.
#[cfg(feature = "kiosk-kms")]
fn is_keyboard(event: &input::Event) -> bool {
    matches!(event, input::Event::Keyboard(_))
}

/// A full-screen kiosk's window stays open when the window system asks it to close.
pub fn keep_open(window: &slint::Window) {
    window.on_close_requested(|| {
        tracing::warn!("the window system asked the kiosk to close; it stays open");
        slint::CloseRequestResponse::KeepWindowShown
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(keys: &[usize]) -> [u8; 96] {
        let mut b = [0u8; 96];
        for &k in keys {
            b[k / 8] |= 1 << (k % 8);
        }
        b
    }

    #[test]
    fn keyboards_are_told_from_buttons_touch_screens_and_mice() {
        assert!(has_keyboard_keys(&bits(&[29, 30, 56, 111])), "a keyboard");
        assert!(has_keyboard_keys(&bits(&[2, 28])), "a number pad");
        assert!(!has_keyboard_keys(&bits(&[116])), "a power button");
        assert!(!has_keyboard_keys(&bits(&[330])), "a touch screen");
        assert!(!has_keyboard_keys(&bits(&[272, 273])), "a mouse");
        assert!(!has_keyboard_keys(&[]));
    }

    #[test]
    fn the_ioctl_numbers_are_the_kernels() {
        // <linux/input.h> on x86_64, as printed by a C program: EVIOCGRAB 0x40044590,
        // EVIOCGBIT(EV_KEY, 96) 0x80604521.
        assert_eq!(EVIOCGRAB, 0x4004_4590);
        assert_eq!(EVIOCGBIT_KEY, 0x8060_4521);
    }
}
