//! Start-up timing: when the first frame reached the screen.
//!
//! Exec → first frame is a figure we track (docs/performance.md). Slint's rendering notifier does
//! not exist for the software renderer, so on the winit backend we watch for the first redraw
//! request and take the time when the event loop next runs, i.e. after that frame was rendered and
//! presented. The blank-window benchmark peer uses the same function, so both are measured alike.

use slint::winit_030::{winit, EventResult, WinitWindowAccessor};
use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Backends that give no winit events (DRM/KMS on kiosk images) draw their first frame as soon as
/// the event loop runs; there, the first frame is recorded after this long and what waits for it
/// runs then (on winit, only the latter, and only if no redraw has come by then).
const NO_WINIT_FALLBACK: Duration = Duration::from_secs(1);

type Then = Rc<RefCell<Option<Box<dyn FnOnce()>>>>;

/// What the timer set for [`NO_WINIT_FALLBACK`] does when no winit redraw has come by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fallback {
    /// Nothing: on winit the kiosk waits for its first redraw to quit after it.
    Nothing,
    /// Start what waits for the first frame (a slow first frame on winit is still recorded when
    /// its redraw comes).
    ThenOnly,
    /// On DRM/KMS, where no redraw event ever comes, the frame is on screen: record it (file,
    /// log, quit when asked), then start what waits for it.
    FirstFrame,
}

fn fallback(kms: bool, exit: bool) -> Fallback {
    match (kms, exit) {
        (true, _) => Fallback::FirstFrame,
        (false, false) => Fallback::ThenOnly,
        (false, true) => Fallback::Nothing,
    }
}

/// What to do at the first frame.
#[derive(Debug, Clone, Default)]
pub struct FirstFrame {
    /// Write the time (ns since the Unix epoch) to this file.
    pub file: Option<PathBuf>,
    /// Quit the event loop afterwards.
    pub exit: bool,
}

/// Every frame presented, for the responsiveness benchmark (scripts/bench-ui): one line per frame,
/// `NS LABEL` — the time (ns since the Unix epoch, the clock the benchmark's taps are timed by) and
/// what the frame shows (the kiosk's page; the blank peer's tap count). Found the same way as the
/// first frame: the redraw has been handled when the event loop next runs. A pointer button's
/// release (the tap) is logged as it reaches the window, `NS input`, before anything handles it.
#[derive(Clone)]
pub struct FrameLog {
    out: Rc<RefCell<std::fs::File>>,
    label: Rc<dyn Fn() -> String>,
}

impl FrameLog {
    pub fn create(path: &Path, label: impl Fn() -> String + 'static) -> std::io::Result<Self> {
        Ok(FrameLog {
            out: Rc::new(RefCell::new(std::fs::File::create(path)?)),
            label: Rc::new(label),
        })
    }

    fn record(&self) {
        self.write(&(self.label)());
    }

    fn write(&self, what: &str) {
        let line = format!("{} {what}\n", unix_ns());
        if let Err(e) = self.out.borrow_mut().write_all(line.as_bytes()) {
            tracing::warn!("cannot write the frame log: {e}");
        }
    }
}

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Watches `window` for its first frame; logs the time since `started`, acts on `what`, then runs
/// `then` (unless the event loop is to quit): work that should not delay the first frame. With a
/// `frames` log, every frame after it is recorded there too.
pub fn watch_first_frame(
    window: &slint::Window,
    started: Instant,
    what: FirstFrame,
    frames: Option<FrameLog>,
    then: impl FnOnce() + 'static,
) {
    let then: Then = Rc::new(RefCell::new(Some(Box::new(then))));
    let seen = Rc::new(std::cell::Cell::new(false));
    let step = fallback(crate::kiosk::keyboard::kms_selected(), what.exit);
    if step != Fallback::Nothing {
        let (later, seen, what) = (Rc::clone(&then), Rc::clone(&seen), what.clone());
        slint::Timer::single_shot(NO_WINIT_FALLBACK, move || {
            if seen.get() {
                return;
            }
            if step == Fallback::FirstFrame {
                seen.set(true);
                if !first_frame(started, what) {
                    return;
                }
            }
            run_once(&later);
        });
    }
    window.on_winit_window_event(move |_, event| {
        let redraw = matches!(event, winit::event::WindowEvent::RedrawRequested);
        if let Some(log) = &frames {
            if redraw {
                let log = log.clone();
                slint::Timer::single_shot(Duration::ZERO, move || log.record());
            } else if matches!(
                event,
                winit::event::WindowEvent::MouseInput {
                    state: winit::event::ElementState::Released,
                    ..
                }
            ) {
                log.write("input");
            }
        }
        if !seen.get() && redraw {
            seen.set(true);
            let what = what.clone();
            let then = Rc::clone(&then);
            // Runs once this redraw has been handled: the frame is on screen.
            slint::Timer::single_shot(Duration::ZERO, move || {
                if first_frame(started, what) {
                    run_once(&then);
                }
            });
        }
        EventResult::Propagate
    });
}

fn run_once(then: &Then) {
    let next = then.borrow_mut().take();
    if let Some(f) = next {
        f();
    }
}

/// Returns whether the kiosk goes on (false: the event loop is quitting).
fn first_frame(started: Instant, what: FirstFrame) -> bool {
    tracing::info!(ms = started.elapsed().as_secs_f64() * 1000.0, "first frame");
    if let Some(path) = &what.file {
        if let Err(e) = std::fs::write(path, format!("{}\n", unix_ns())) {
            tracing::warn!("cannot write {}: {e}", path.display());
        }
    }
    if what.exit {
        let _ = slint::quit_event_loop();
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_kms_the_fallback_records_the_first_frame() {
        // DRM/KMS gives no winit redraw: without this the first-frame file was never written and
        // `--exit-after-first-frame` never quit there (hil's ui check, the virtual rig's
        // ui-first-frame).
        assert_eq!(fallback(true, false), Fallback::FirstFrame);
        assert_eq!(fallback(true, true), Fallback::FirstFrame);
        // On winit the redraw is waited for; devices start after 1 s all the same.
        assert_eq!(fallback(false, false), Fallback::ThenOnly);
        assert_eq!(fallback(false, true), Fallback::Nothing);
    }
}
