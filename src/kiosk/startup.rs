//! Start-up timing: when the first frame reached the screen.
//!
//! Exec → first frame is a figure we track (docs/performance.md). Slint's rendering notifier does
//! not exist for the software renderer, so on the winit backend we watch for the first redraw
//! request and take the time when the event loop next runs, i.e. after that frame was rendered and
//! presented. The blank-window benchmark peer uses the same function, so both are measured alike.

use slint::winit_030::{winit, EventResult, WinitWindowAccessor};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What to do at the first frame.
#[derive(Debug, Clone, Default)]
pub struct FirstFrame {
    /// Write the time (ns since the Unix epoch) to this file.
    pub file: Option<PathBuf>,
    /// Quit the event loop afterwards.
    pub exit: bool,
}

/// Watches `window` for its first frame; logs the time since `started` and acts on `what`.
pub fn watch_first_frame(window: &slint::Window, started: Instant, what: FirstFrame) {
    let mut seen = false;
    window.on_winit_window_event(move |_, event| {
        if !seen && matches!(event, winit::event::WindowEvent::RedrawRequested) {
            seen = true;
            let what = what.clone();
            // Runs once this redraw has been handled: the frame is on screen.
            slint::Timer::single_shot(Duration::ZERO, move || first_frame(started, what));
        }
        EventResult::Propagate
    });
}

fn first_frame(started: Instant, what: FirstFrame) {
    tracing::info!(ms = started.elapsed().as_secs_f64() * 1000.0, "first frame");
    if let Some(path) = &what.file {
        let ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        if let Err(e) = std::fs::write(path, format!("{ns}\n")) {
            tracing::warn!("cannot write {}: {e}", path.display());
        }
    }
    if what.exit {
        let _ = slint::quit_event_loop();
    }
}
