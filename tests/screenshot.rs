//! The real `hallkiosk run` binary in a real X window (Xvfb), photographed with ImageMagick's
//! `import`, in landscape (1920×1080) and portrait (1080×1920).
//!
//! Checks, on the pixels:
//! - the home screen is not blank;
//! - its text is drawn as real glyphs: many separate ink shapes of many different sizes, where
//!   missing glyphs would leave either nothing or rows of identical boxes;
//! - it looks the same on a machine with no CJK font installed, because the UI font is bundled.
//!
//! Needs Xvfb and ImageMagick (`scripts/setup`). Screenshots are kept in target/screenshots/.

use image::RgbImage;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/xvfb.rs"]
mod xvfb;
use xvfb::Xvfb;

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the kiosk on a fresh X server, waits for its first frame, and photographs the screen.
fn screenshot(orientation: &str, fontconfig: Option<&Path>, name: &str) -> RgbImage {
    let (w, h) = if orientation == "portrait" {
        (1080, 1920)
    } else {
        (1920, 1080)
    };
    let x = Xvfb::start(w, h);
    let work = tempfile::tempdir().unwrap();
    let frame_file = work.path().join("first-frame");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hallkiosk"));
    cmd.args(["run", "--orientation", orientation, "--first-frame-file"])
        .arg(&frame_file)
        .env("DISPLAY", &x.display)
        .env("XDG_DATA_HOME", work.path())
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null());
    if let Some(conf) = fontconfig {
        cmd.env("FONTCONFIG_FILE", conf);
    }
    let mut kiosk = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !frame_file.exists() {
        if let Some(status) = kiosk.try_wait().unwrap() {
            panic!("hallkiosk exited before its first frame: {status}");
        }
        assert!(Instant::now() < deadline, "no first frame within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    // One more frame's time for the window manager-less X server to settle.
    std::thread::sleep(Duration::from_millis(300));
    let png = out_dir().join(format!("{name}.png"));
    let status = Command::new("import")
        .args(["-display", &x.display, "-window", "root"])
        .arg(&png)
        .status()
        .expect("ImageMagick's import is installed (scripts/setup installs it)");
    let _ = kiosk.kill();
    let _ = kiosk.wait();
    assert!(status.success(), "import failed");
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(
        (img.width(), img.height()),
        (w, h),
        "{name}: the screenshot has the screen's size"
    );
    img
}

/// A fontconfig setup with Latin fonts only, as on a machine without any CJK font.
fn latin_only_fontconfig(dir: &Path) -> PathBuf {
    let conf = dir.join("fonts.conf");
    let cache = dir.join("cache");
    std::fs::write(
        &conf,
        format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig>\n  <dir>/usr/share/fonts/truetype/dejavu</dir>\n  <cachedir>{}</cachedir>\n</fontconfig>\n",
            cache.display()
        ),
    )
    .unwrap();
    conf
}

fn distinct_colours(img: &RgbImage) -> usize {
    let mut seen = std::collections::HashSet::new();
    for p in img.pixels() {
        seen.insert(p.0);
        if seen.len() > 10_000 {
            break;
        }
    }
    seen.len()
}

fn differing_fraction(a: &RgbImage, b: &RgbImage) -> f64 {
    let differ = a
        .pixels()
        .zip(b.pixels())
        .filter(|(p, q)| p.0.iter().zip(q.0.iter()).any(|(x, y)| x.abs_diff(*y) > 40))
        .count();
    differ as f64 / (a.width() * a.height()) as f64
}

/// Ink shapes: 8-connected components of dark pixels in the kiosk's part of the screen (the dev
/// dock is left out). Returns (number of shapes, number of distinct width×height sizes).
fn ink_shapes(img: &RgbImage, dock_bottom: bool) -> (usize, usize) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (max_x, max_y) = if dock_bottom {
        (w, h - 260)
    } else {
        (w - 280, h)
    };
    let dark = |x: i64, y: i64| {
        let p = img.get_pixel(x as u32, y as u32).0;
        (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000 < 110
    };
    let mut seen = vec![false; (max_x * max_y) as usize];
    let mut sizes = std::collections::HashSet::new();
    let mut shapes = 0;
    for y0 in 0..max_y {
        for x0 in 0..max_x {
            if seen[(y0 * max_x + x0) as usize] || !dark(x0, y0) {
                continue;
            }
            let (mut lo_x, mut hi_x, mut lo_y, mut hi_y, mut area) = (x0, x0, y0, y0, 0);
            let mut stack = vec![(x0, y0)];
            seen[(y0 * max_x + x0) as usize] = true;
            while let Some((x, y)) = stack.pop() {
                area += 1;
                (lo_x, hi_x, lo_y, hi_y) = (lo_x.min(x), hi_x.max(x), lo_y.min(y), hi_y.max(y));
                for (dx, dy) in [
                    (-1, -1),
                    (0, -1),
                    (1, -1),
                    (-1, 0),
                    (1, 0),
                    (-1, 1),
                    (0, 1),
                    (1, 1),
                ] {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx >= 0
                        && ny >= 0
                        && nx < max_x
                        && ny < max_y
                        && !seen[(ny * max_x + nx) as usize]
                        && dark(nx, ny)
                    {
                        seen[(ny * max_x + nx) as usize] = true;
                        stack.push((nx, ny));
                    }
                }
            }
            if area >= 6 {
                shapes += 1;
                sizes.insert((hi_x - lo_x, hi_y - lo_y));
            }
        }
    }
    (shapes, sizes.len())
}

fn check_orientation(orientation: &str) {
    let fonts = tempfile::tempdir().unwrap();
    let real = screenshot(orientation, None, &format!("home-{orientation}"));
    let bare = screenshot(
        orientation,
        Some(&latin_only_fontconfig(fonts.path())),
        &format!("home-{orientation}-no-system-cjk-font"),
    );

    // Not blank: a home screen has text, tiles and the dock — many colours (anti-aliased text).
    let colours = distinct_colours(&real);
    assert!(
        colours > 200,
        "{orientation}: the screen looks blank ({colours} colours)"
    );
    let mut counts = std::collections::HashMap::new();
    for p in real.pixels() {
        *counts.entry(p.0).or_insert(0usize) += 1;
    }
    let top =
        counts.values().max().copied().unwrap_or(0) as f64 / (real.width() * real.height()) as f64;
    assert!(
        top < 0.9,
        "{orientation}: one colour covers {:.0}% of the screen",
        top * 100.0
    );

    // Real glyphs: Chinese strokes make hundreds of ink shapes of many sizes.
    let (shapes, sizes) = ink_shapes(&real, orientation == "portrait");
    assert!(
        shapes >= 150 && sizes >= 60,
        "{orientation}: only {shapes} ink shapes in {sizes} sizes — text is missing or drawn as boxes"
    );

    // The bundled font is what draws it: no system CJK font changes nothing.
    let diff = differing_fraction(&real, &bare);
    assert!(
        diff < 0.002,
        "{orientation}: {:.2}% of pixels change without a system CJK font",
        diff * 100.0
    );
}

#[test]
fn home_screen_in_both_orientations_shows_real_chinese_text() {
    let cjk = Command::new("fc-list")
        .arg(":lang=zh")
        .output()
        .expect("fontconfig's fc-list");
    assert!(
        !cjk.stdout.is_empty(),
        "no CJK font installed: run scripts/setup (installs fonts-noto-cjk)"
    );
    check_orientation("landscape");
    check_orientation("portrait");
}

/// Under systemd (`Type=notify`, `WatchdogSec=`) the real kiosk says READY=1 once its event loop
/// runs and then WATCHDOG=1 at half the interval, from the UI loop; with the watchdog meant for
/// another process (WATCHDOG_PID) it sends no keep-alives. The notify socket is a real Unix
/// datagram socket, as systemd's.
#[test]
fn tells_systemd_ready_and_keeps_the_watchdog_alive() {
    use std::os::unix::net::UnixDatagram;
    let x = Xvfb::start(1920, 1080);
    for (watchdog_pid, want_pings) in [(None, true), (Some("1"), false)] {
        let work = tempfile::tempdir().unwrap();
        let socket_path = work.path().join("notify");
        let socket = UnixDatagram::bind(&socket_path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hallkiosk"));
        cmd.arg("run")
            .env("DISPLAY", &x.display)
            .env("XDG_DATA_HOME", work.path())
            .env("RUST_LOG", "warn")
            .env("NOTIFY_SOCKET", &socket_path)
            .env("WATCHDOG_USEC", "400000")
            .stderr(Stdio::null());
        if let Some(pid) = watchdog_pid {
            cmd.env("WATCHDOG_PID", pid);
        }
        let mut kiosk = cmd.spawn().unwrap();
        let mut messages = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut ready_at = None;
        let mut buf = [0u8; 256];
        while Instant::now() < deadline {
            if let Ok(n) = socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).trim().to_string();
                if text == "READY=1" {
                    ready_at = Some(Instant::now());
                }
                messages.push(text);
            }
            // After READY, watch two watchdog intervals.
            if ready_at.is_some_and(|t| t.elapsed() > Duration::from_millis(900)) {
                break;
            }
            if let Some(status) = kiosk.try_wait().unwrap() {
                panic!("hallkiosk exited: {status}");
            }
        }
        let _ = kiosk.kill();
        let _ = kiosk.wait();
        assert_eq!(
            messages.first().map(String::as_str),
            Some("READY=1"),
            "{messages:?}"
        );
        let pings = messages.iter().filter(|m| *m == "WATCHDOG=1").count();
        if want_pings {
            // 900 ms at one ping per 200 ms.
            assert!(pings >= 3, "{messages:?}");
        } else {
            assert_eq!(pings, 0, "{messages:?}");
        }
    }
}
