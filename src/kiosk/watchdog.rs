//! systemd readiness and watchdog for the kiosk UI (`hallkiosk.service`, `Type=notify`,
//! `WatchdogSec=`).
//!
//! `READY=1` is sent from the UI event loop's first turn (the window exists and the loop runs);
//! `WATCHDOG=1` from a Slint timer on the same loop at half the watchdog interval. The keep-alive
//! therefore proves the UI loop itself still turns: if it wedges (a blocking call, a deadlock),
//! the pings stop and systemd restarts the kiosk (and, past the unit's start limit, runs its
//! configured action). Without `NOTIFY_SOCKET` (not under systemd) nothing is sent.

use sd_notify::NotifyState;
use slint::{Timer, TimerMode};
use std::time::Duration;

/// Keeps the keep-alive timer running; drop it to stop.
pub struct Keepalive {
    _timer: Option<Timer>,
}

/// Arms the readiness message and, when systemd asked for one, the keep-alive. Call on the UI
/// thread before running the event loop.
pub fn start() -> Keepalive {
    Timer::single_shot(Duration::ZERO, || {
        if let Err(e) = sd_notify::notify(&[NotifyState::Ready]) {
            tracing::warn!("cannot tell systemd the kiosk is ready: {e}");
        } else {
            tracing::debug!("told systemd READY=1");
        }
    });
    let timer = sd_notify::watchdog_enabled().map(|interval| {
        let period = (interval / 2).max(Duration::from_millis(50));
        tracing::info!("systemd watchdog: keep-alive every {period:?}");
        let timer = Timer::default();
        timer.start(TimerMode::Repeated, period, || {
            if let Err(e) = sd_notify::notify(&[NotifyState::Watchdog]) {
                tracing::warn!("cannot send the watchdog keep-alive: {e}");
            }
        });
        timer
    });
    Keepalive { _timer: timer }
}
