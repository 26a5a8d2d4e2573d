//! `hallkiosk print test|status|preview|sim` as a technician runs them: the simulator is the real
//! binary on loopback TCP, driven over its stdin.

use hallkiosk_drivers::printer::receipt::{encode, Profile, Receipt};
mod common;

use std::process::{Command, Output};

struct Sim(common::SimProcess);

impl Sim {
    fn start() -> Sim {
        let sim = common::SimProcess::start(&["print", "sim"]);
        assert!(sim.address.starts_with("tcp:127.0.0.1:"), "{}", sim.address);
        Sim(sim)
    }

    fn say(&mut self, command: &str) {
        self.0.say(command)
    }
}

fn hallkiosk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
        .args(args)
        .env(
            "XDG_DATA_HOME",
            std::env::temp_dir().join("hallkiosk-print-cli-test"),
        )
        .output()
        .unwrap()
}

fn qrs(path: &std::path::Path) -> Vec<String> {
    let img = image::open(path).unwrap().to_luma8();
    rqrr::PreparedImage::prepare(img)
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, t)| t))
        .collect()
}

#[test]
fn status_says_ready_or_names_why_not() {
    let mut sim = Sim::start();
    let ok = hallkiosk(&["print", "status", "--printer", &sim.0.address]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ready           yes"));
    for (command, why) in [
        ("paper out", "paper end"),
        ("cover open", "cover open"),
        ("cutter on", "cutter error"),
    ] {
        sim.say("paper ok");
        sim.say("cover closed");
        sim.say("cutter off");
        sim.say(command);
        let out = hallkiosk(&["print", "status", "--printer", &sim.0.address, "--json"]);
        assert!(!out.status.success(), "{command}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{command}"
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["ready"], false);
    }
    let gone = hallkiosk(&["print", "status", "--printer", "tcp:127.0.0.1:1"]);
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("cannot open the printer"));
}

#[test]
fn the_test_page_comes_out_with_a_readable_qr() {
    let mut sim = Sim::start();
    let out = hallkiosk(&["print", "test", "--printer", &sim.0.address]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let marker = said
        .split_whitespace()
        .find(|w| w.starts_with("HALLKIOSK-TEST-"))
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("page.png");
    sim.say(&format!("png {}", png.display()));
    assert_eq!(qrs(&png), vec![marker]);
    sim.say("paper out");
    let refused = hallkiosk(&["print", "test", "--printer", &sim.0.address]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not printed: paper end"));
}

#[test]
fn preview_renders_captured_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("receipt.bin");
    let receipt = Receipt::new().text("受理编号 HK-9").qr("HK-9", 5);
    std::fs::write(
        &bin,
        encode(&receipt, &Profile::generic_58mm(), None).unwrap(),
    )
    .unwrap();
    let png = dir.path().join("receipt.png");
    let json = dir.path().join("receipt.json");
    let out = hallkiosk(&[
        "print",
        "preview",
        bin.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
        "--profile",
        "generic-58mm",
        "--transcript",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("384x"));
    assert_eq!(qrs(&png), vec!["HK-9".to_string()]);
    let transcript = std::fs::read_to_string(&json).unwrap();
    assert!(transcript.contains("受理编号 HK-9"), "{transcript}");
    assert!(
        transcript.contains("\"raster\""),
        "58 mm has no native QR: {transcript}"
    );
    let missing = hallkiosk(&["print", "preview", "/nonexistent.bin", "-o", "/tmp/x.png"]);
    assert!(!missing.status.success());
}
