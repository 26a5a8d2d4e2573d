//! `hallkiosk run --fullscreen` takes the whole screen it is given, whatever its size, even where no
//! window manager grants full-screen requests (an X server alone, as on a bare hall PC): on a
//! 1280×800 screen every button lies on it. Before the fix the window kept 1920×1080, its right side
//! (English, 长辈模式) and the tiles' bottoms off the screen.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/control.rs"]
mod control;
#[path = "common/xvfb.rs"]
mod xvfb;
use control::{Control, Process};
use xvfb::Xvfb;

fn until(limit: Duration, mut what: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    what()
}

#[test]
fn full_screen_fills_a_1280_by_800_screen_without_a_window_manager() {
    assert!(
        !Path::new("/etc/hallkiosk/config.toml").exists(),
        "this machine has /etc/hallkiosk/config.toml: the kiosk would not use its embedded defaults"
    );
    let dir = tempfile::tempdir().unwrap();
    let x = Xvfb::start(1280, 800);
    let socket = dir.path().join("control.sock");
    let first_frame = dir.path().join("first-frame");
    let log_file = dir.path().join("kiosk.log");
    let _kiosk = Process(
        Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
            .args(["run", "--fullscreen"])
            .arg("--control-socket")
            .arg(&socket)
            .arg("--first-frame-file")
            .arg(&first_frame)
            .env("DISPLAY", &x.display)
            .env("XDG_DATA_HOME", dir.path())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_file).unwrap())
            .spawn()
            .unwrap(),
    );
    let log = || std::fs::read_to_string(&log_file).unwrap_or_default();
    assert!(
        until(Duration::from_secs(60), || first_frame.exists()),
        "no first frame within 60 s: {}",
        log()
    );
    let mut screen = Control::connect(&socket);
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
