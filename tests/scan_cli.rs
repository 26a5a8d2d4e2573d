//! `hallkiosk qr decode`, `hallkiosk scan` and `hallkiosk scan sim` as a technician runs them: the
//! simulated scanner is the real `hallkiosk scan sim` process on a real pty, speaking the scanner's
//! bytes through the drivers' codec; the reader is the real `hallkiosk scan` process.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn hallkiosk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
}

fn corpus(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/qr-corpus")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn qr_decode_prints_a_line_per_file_and_fails_only_for_unreadable_files() {
    let code = corpus("qrcode-3/01.webp");
    let none = corpus("falsepositives-1/01.webp");
    let part = corpus("qrcode-7/01-01.png");
    let out = hallkiosk()
        .args(["qr", "decode", &code, &none, &part])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let expected = std::fs::read_to_string(corpus("qrcode-3/01.txt")).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("{code}\t{expected}"));
    assert_eq!(lines[1], format!("{none}\t-"));
    assert_eq!(lines[2], format!("{part}\t-"));
    assert_eq!(lines.len(), 3);

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.png");
    std::fs::write(&broken, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let out = hallkiosk()
        .args([
            "qr",
            "decode",
            "--json",
            &code,
            broken.to_str().unwrap(),
            &part,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let objects: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        objects.len(),
        2,
        "the unreadable file has no line: {stdout}"
    );
    assert_eq!(objects[0]["text"], expected.as_str());
    assert!(objects[1]["text"].is_null());
    assert_eq!(objects[1]["structured_append_part"], 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.png"));
}

/// Runs `hallkiosk scan` against the simulator until it has printed `count` scans.
fn scan_lines(port: &str, extra: &[&str], count: usize) -> Vec<String> {
    let mut child = hallkiosk()
        .args(["scan", "--port", port, "--count", &count.to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let lines: Vec<String> = stdout.lines().map(|l| l.unwrap()).take(count).collect();
    assert!(Instant::now() < deadline);
    let status = child.wait().unwrap();
    assert!(status.success());
    lines
}

#[test]
fn continuous_scanner_on_a_pty_end_to_end() {
    let mut sim = common::SimProcess::start(&["scan", "sim", "--suffix", "crlf"]);
    let port = sim.address.trim_start_matches("serial:").to_string();
    let reader = {
        let port = port.clone();
        std::thread::spawn(move || scan_lines(&port, &["--suffix", "cr"], 3))
    };
    std::thread::sleep(Duration::from_millis(500));
    sim.say("present EID:7f3a9c2e");
    sim.say("present EID:7f3a9c2e"); // the same code again at once: suppressed
    sim.say("gbk on");
    sim.say("present 回执 政务服务");
    sim.say("gbk off");
    sim.say("present https://gov.example/p?id=1");
    let lines = reader.join().unwrap();
    assert_eq!(
        lines,
        [
            "eid\tEID:7f3a9c2e",
            "other\t回执 政务服务",
            "url\thttps://gov.example/p?id=1"
        ]
    );
}

#[test]
fn gm_host_trigger_scanner_on_a_pty_end_to_end() {
    let mut sim = common::SimProcess::start(&["scan", "sim", "--trigger", "gm"]);
    let port = sim.address.trim_start_matches("serial:").to_string();
    // The code is under the scanner before the host triggers; nothing is sent until it does.
    sim.say("present HK-BEFORE-TRIGGER");
    let lines = scan_lines(&port, &["--trigger", "gm"], 1);
    assert_eq!(lines, ["other\tHK-BEFORE-TRIGGER"]);
}

#[test]
fn scanning_a_missing_port_reports_the_fault_and_keeps_trying() {
    let mut child = hallkiosk()
        .args(["scan", "--port", "/dev/hallkiosk-no-such-port"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("scanner fault: cannot open /dev/hallkiosk-no-such-port") {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "it keeps trying");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A code whose text holds a line break, a tab and a backslash still gives one line per file in
/// the plain output (escaped), and the text as it is in `--json`.
#[test]
fn qr_decode_keeps_one_line_per_file_whatever_the_code_holds() {
    let text = "第一行\r\n second\tC:\\kiosk";
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let width = code.width() as u32;
    let colors = code.to_colors();
    let image = image::GrayImage::from_fn((width + 8) * 8, (width + 8) * 8, |x, y| {
        let (mx, my) = (x as i64 / 8 - 4, y as i64 / 8 - 4);
        let dark = (0..width as i64).contains(&mx)
            && (0..width as i64).contains(&my)
            && colors[(my * width as i64 + mx) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lines.png");
    image.save(&file).unwrap();
    let file = file.to_str().unwrap();
    let out = hallkiosk().args(["qr", "decode", file]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout,
        format!("{file}\t第一行\\r\\n second\\tC:\\\\kiosk\n")
    );
    let out = hallkiosk()
        .args(["qr", "decode", "--json", file])
        .output()
        .unwrap();
    let object: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(object["text"], text);
}
