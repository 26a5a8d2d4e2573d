//! The benchmark peer of `hallkiosk run`: a blank Slint window at the kiosk's size, built with the
//! same Slint version and features, timed to its first frame the same way (see scripts/bench-startup).
//!
//! `cargo run --release --example blank_window -- FIRST_FRAME_FILE`

use hallkiosk::kiosk::startup::{watch_first_frame, FirstFrame};
use slint::ComponentHandle;
use std::time::Instant;

slint::slint! {
    export component Blank inherits Window {
        preferred-width: 1920px;
        preferred-height: 1080px;
        background: #eef2f8;
    }
}

fn main() -> Result<(), slint::PlatformError> {
    let started = Instant::now();
    let file = std::env::args_os().nth(1).map(Into::into);
    let window = Blank::new()?;
    window
        .window()
        .set_size(slint::LogicalSize::new(1920.0, 1080.0));
    watch_first_frame(
        window.window(),
        started,
        FirstFrame { file, exit: true },
        || {},
    );
    window.run()
}
