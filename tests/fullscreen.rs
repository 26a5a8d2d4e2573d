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

/// The responsiveness benchmark's instrument (scripts/bench-ui, `--frame-log`): a real X tap is
/// logged as it reaches the window, then a frame showing the page it leads to, with language and
/// mode — the two moments the benchmark's figures are taken between.
#[test]
fn the_frame_log_shows_a_tap_arriving_and_then_the_page_it_led_to() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    let x = Xvfb::start(1280, 800);
    let kiosk = DevKiosk::start(
        &x.display,
        dir.path(),
        &["--fullscreen", "--frame-log", frames.to_str().unwrap()],
    );
    let read = || std::fs::read_to_string(&frames).unwrap_or_default();
    assert!(
        until(Duration::from_secs(10), || read()
            .lines()
            .any(|l| l.ends_with(" Home/zh/standard"))),
        "no frame of the home page logged: {:?}",
        read()
    );
    let mut screen = Control::connect(&kiosk.socket);
    let mut guide = None;
    until(Duration::from_secs(10), || {
        guide = screen
            .find("办事指南")
            .into_iter()
            .find(|e| e.role.as_deref() == Some("button"));
        guide.is_some()
    });
    let guide = guide.unwrap_or_else(|| panic!("no 办事指南 button: {}", kiosk.log()));
    let before = read().lines().count();
    let (cx, cy) = (guide.x + guide.w / 2.0, guide.y + guide.h / 2.0);
    let tapped = std::process::Command::new("xdotool")
        .args([
            "mousemove",
            &format!("{cx}"),
            &format!("{cy}"),
            "click",
            "1",
        ])
        .env("DISPLAY", &x.display)
        .status()
        .expect("xdotool is installed (scripts/setup installs it)");
    assert!(tapped.success());
    let order = || {
        let log = read();
        let after: Vec<&str> = log.lines().skip(before).collect();
        let input = after.iter().position(|l| l.ends_with(" input"))?;
        let page = after
            .iter()
            .position(|l| l.ends_with(" Guide/zh/standard"))?;
        let ns = |l: &str| l.split(' ').next().and_then(|n| n.parse::<u128>().ok());
        Some(input < page && ns(after[input])? <= ns(after[page])?)
    };
    assert!(
        until(Duration::from_secs(10), || order().is_some()),
        "the tap or the guide's frame is missing from the frame log: {:?}",
        read()
    );
    assert_eq!(
        order(),
        Some(true),
        "the guide's frame came before the tap: {:?}",
        read()
    );
}
