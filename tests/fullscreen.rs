//! `hallkiosk run --fullscreen` takes the whole screen it is given, whatever its size, even where no
//! window manager grants full-screen requests (an X server alone, as on a bare hall PC): on a
//! 1280×800 screen every button lies on it. Before the fix the window kept 1920×1080, its right side
//! (English, 长辈模式) and the tiles' bottoms off the screen.

use std::time::Duration;

#[path = "common/control.rs"]
mod control;
#[path = "common/xvfb.rs"]
mod xvfb;
use control::{until, Control, DevKiosk};
use xvfb::Xvfb;

#[test]
fn full_screen_fills_a_1280_by_800_screen_without_a_window_manager() {
    let dir = tempfile::tempdir().unwrap();
    let x = Xvfb::start(1280, 800);
    let kiosk = DevKiosk::start(&x.display, dir.path(), &["--fullscreen"]);
    let log = || kiosk.log();
    let mut screen = Control::connect(&kiosk.socket);
    let mut right_edge = f32::NAN;
    let fits = until(Duration::from_secs(10), || {
        let found = screen.find("长辈模式");
        match found.iter().find(|e| e.role.as_deref() == Some("button")) {
            Some(b) => {
                right_edge = b.x + b.w;
                right_edge <= 1280.0 && b.y + b.h <= 800.0
            }
            None => false,
        }
    });
    assert!(
        fits,
        "长辈模式's right edge at {right_edge} px, off the 1280 px screen: {}",
        log()
    );
}
