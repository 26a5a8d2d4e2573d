//! The benchmark peer of `hallkiosk run`: a blank Slint window at the kiosk's size, built with the
//! same Slint version and features, timed the same way.
//!
//! - `blank_window FIRST_FRAME_FILE`: quits after its first frame (scripts/bench-startup).
//! - `blank_window --frame-log FILE`: stays open; each tap changes the background colour, so the
//!   whole window is repainted, and every frame is logged with the number of taps it shows
//!   (scripts/bench-ui, the full-repaint peer of a page change).

use hallkiosk::kiosk::startup::{watch_first_frame, FirstFrame, FrameLog};
use slint::ComponentHandle;
use std::time::Instant;

slint::slint! {
    export component Blank inherits Window {
        in-out property <int> taps;
        preferred-width: 1920px;
        preferred-height: 1080px;
        background: mod(taps, 2) == 0 ? #eef2f8 : #d8e2f0;
        TouchArea {
            clicked => { root.taps += 1; }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let window = Blank::new()?;
    window
        .window()
        .set_size(slint::LogicalSize::new(1920.0, 1080.0));
    let (what, frames) = match args.as_slice() {
        [flag, path] if flag == "--frame-log" => {
            let blank = window.as_weak();
            let taps = move || {
                blank
                    .upgrade()
                    .map(|b| b.get_taps().to_string())
                    .unwrap_or_default()
            };
            (
                FirstFrame::default(),
                Some(FrameLog::create(path.as_ref(), taps)?),
            )
        }
        [file] => (
            FirstFrame {
                file: Some(file.into()),
                exit: true,
            },
            None,
        ),
        _ => return Err("usage: blank_window FIRST_FRAME_FILE | --frame-log FILE".into()),
    };
    watch_first_frame(window.window(), started, what, frames, || {});
    window.run()?;
    Ok(())
}
