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
//! Below the kiosk, systemd and the kernel ignore the rest (systemd/README.md): Ctrl+Alt+Del
//! (`ctrl-alt-del.target` masked, `CtrlAltDelBurstAction=none`), SysRq (`kernel.sysrq=0`), VT
//! switching (no VTs allocated: `NAutoVTs=0`, every getty masked), power and reboot keys (logind).

/// Selects the UI backend with keyboards ignored when it is DRM/KMS (`SLINT_BACKEND=linuxkms…`);
/// otherwise leaves the choice to Slint. Call before the first window is made.
pub fn install() -> anyhow::Result<()> {
    if kms_selected() {
        select_kms()?;
    }
    Ok(())
}

/// Whether the UI runs on DRM/KMS (`SLINT_BACKEND=linuxkms…`) rather than a window system.
pub fn kms_selected() -> bool {
    std::env::var("SLINT_BACKEND")
        .is_ok_and(|b| b.trim().to_ascii_lowercase().starts_with("linuxkms"))
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
