//! `hallkiosk hil` as CI runs it: the rig file points at the simulators — the SAM reader and the
//! serial scanner on real ptys, the printer on loopback TCP, the camera as a folder of frames, the UI
//! on a private Xvfb display — and the JUnit/JSON reports are read back. A second rig breaks things
//! on purpose: product failures and infrastructure errors must land in their own columns.

mod common;
#[path = "common/xvfb.rs"]
mod xvfb;

use std::path::Path;
use std::process::Command;

fn code_png(path: &Path, text: &str) {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let width = code.width() as i64;
    let colors = code.to_colors();
    image::GrayImage::from_fn(640, 480, |x, y| {
        let (mx, my) = (
            (x as i64 - 160).div_euclid(6),
            (y as i64 - 80).div_euclid(6),
        );
        let dark = (0..width).contains(&mx)
            && (0..width).contains(&my)
            && colors[(my * width + mx) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 15 } else { 230 }])
    })
    .save(path)
    .unwrap();
}

fn hil(rig: &str, dir: &Path, display: Option<&str>) -> (Option<i32>, String, serde_json::Value) {
    let rig_file = dir.join("rig.toml");
    std::fs::write(&rig_file, rig).unwrap();
    let (junit, json) = (dir.join("hil.xml"), dir.join("hil.json"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hallkiosk"));
    cmd.arg("hil")
        .arg("--rig")
        .arg(&rig_file)
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("RUST_LOG", "error");
    if let Some(d) = display {
        cmd.env("DISPLAY", d);
    }
    let out = cmd.output().unwrap();
    let junit = std::fs::read_to_string(&junit).unwrap_or_default();
    let json = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
        .unwrap_or(serde_json::Value::Null);
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), junit, json)
}

fn outcome(json: &serde_json::Value, device: &str, check: &str) -> String {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["device"] == device && c["check"] == check)
        .map(|c| c["outcome"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {device}/{check} in {json}"))
}

#[test]
fn the_rig_checklist_passes_on_the_simulators() {
    let dir = tempfile::tempdir().unwrap();
    let reader = common::SimProcess::start(&["idcard", "sim", "--card", "resident"]);
    let printer = common::SimProcess::start(&["print", "sim"]);
    let mut scanner = common::SimProcess::start(&["scan", "sim", "--trigger", "gm"]);
    scanner.say("present HIL-SCAN-OK");
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    code_png(&frames.join("0001.png"), "HIL-CAMERA-OK");
    let x = xvfb::Xvfb::start(1920, 1080);
    let rig = format!(
        "name = \"ci-simulators\"\n\
         [reader]\naddress = \"serial:{}\"\n\
         [printer]\naddress = \"{}\"\n\
         [scanner]\naddress = \"{}\"\ntrigger = \"gm\"\nexpect = \"HIL-SCAN-OK\"\nwait_secs = 10\n\
         [camera]\naddress = \"frames:{}\"\nexpect = \"HIL-CAMERA-OK\"\n\
         [ui]\nfirst_frame_secs = 60\n\
         [speaker]\ndevice = \"null\"\n",
        reader.address,
        printer.address,
        scanner.address,
        frames.display()
    );
    let (code, junit, json) = hil(&rig, dir.path(), Some(&x.display));
    assert_eq!(code, Some(0), "{json:#}");
    assert!(
        junit.contains("tests=\"10\" failures=\"0\" errors=\"0\""),
        "{junit}"
    );
    assert_eq!(json["summary"]["pass"], 10, "{json:#}");
    for (device, check) in [
        ("reader", "sam-status"),
        ("reader", "read-test-card"),
        ("printer", "status"),
        ("printer", "test-page-and-cut"),
        ("printer", "status-after-cut"),
        ("scanner", "scan-test-code"),
        ("camera", "capture-and-decode"),
        ("ui", "first-frame"),
        ("speaker", "engine"),
        ("speaker", "test-tone"),
    ] {
        assert_eq!(outcome(&json, device, check), "pass", "{device}/{check}");
    }
    // Nothing of the test card reaches the report.
    let report = json.to_string() + &junit;
    assert!(
        !report.contains("张") && !report.contains("19900307"),
        "{report}"
    );
}

#[test]
fn product_failures_and_rig_errors_are_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = common::SimProcess::start(&["idcard", "sim"]);
    reader.say("remove");
    let mut printer = common::SimProcess::start(&["print", "sim"]);
    printer.say("paper out");
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    code_png(&frames.join("0001.png"), "SOME-OTHER-CODE");
    let rig = format!(
        "name = \"broken\"\n\
         [reader]\naddress = \"serial:{}\"\nwait_secs = 1\n\
         [printer]\naddress = \"{}\"\n\
         [scanner]\naddress = \"serial:/dev/hallkiosk-hil-no-such-port\"\nexpect = \"X\"\n\
         [camera]\naddress = \"frames:{}\"\nexpect = \"HIL-CAMERA-OK\"\nwait_secs = 1\n\
         [ui]\n\
         [speaker]\ndevice = \"hw:CARD=HallkioskNoSuchCard\"\n",
        reader.address,
        printer.address,
        frames.display()
    );
    let (code, junit, json) = hil(&rig, dir.path(), None);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(outcome(&json, "reader", "sam-status"), "pass");
    assert_eq!(outcome(&json, "reader", "read-test-card"), "fail");
    assert_eq!(outcome(&json, "printer", "status"), "fail");
    assert_eq!(outcome(&json, "scanner", "scan-test-code"), "error");
    assert_eq!(outcome(&json, "camera", "capture-and-decode"), "fail");
    assert_eq!(
        outcome(&json, "ui", "first-frame"),
        "error",
        "no display is the rig's problem"
    );
    assert_eq!(outcome(&json, "speaker", "engine"), "pass");
    assert_eq!(
        outcome(&json, "speaker", "test-tone"),
        "error",
        "no sound card is the rig's problem"
    );
    assert!(junit.contains("failures=\"3\" errors=\"3\""), "{junit}");
    assert!(
        junit.contains("<failure message=\"cannot print: "),
        "{junit}"
    );

    // Only infrastructure errors: exit 3.
    let rig = "name = \"absent\"\n[scanner]\naddress = \"serial:/dev/hallkiosk-hil-none\"\nexpect = \"X\"\n";
    let (code, _, json) = hil(rig, dir.path(), None);
    assert_eq!(code, Some(3), "{json:#}");
}
