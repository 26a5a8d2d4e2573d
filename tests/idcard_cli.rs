//! `hallkiosk idcard read|status|sim` as a maintainer runs them: the simulator is the real binary
//! serving a real pty, driven over its stdin.

mod common;

use common::SimProcess;
use std::process::{Command, Output};

struct Sim(SimProcess);

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut all = vec!["idcard", "sim"];
        all.extend_from_slice(args);
        let sim = SimProcess::start(&all);
        assert!(sim.address.starts_with("/dev/pts/"), "{}", sim.address);
        Sim(sim)
    }

    fn path(&self) -> &str {
        &self.0.address
    }

    fn say(&mut self, command: &str) {
        self.0.say(command)
    }
}

fn hallkiosk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn read_prints_masked_json_and_reveals_only_when_asked() {
    let sim = Sim::start(&["--card", "resident"]);
    let masked = json(&hallkiosk(&[
        "idcard",
        "read",
        "--port",
        sim.path(),
        "--json",
    ]));
    assert_eq!(masked["card_type"], "resident");
    assert_eq!(masked["name"], "张*三");
    assert_eq!(masked["gender"], "male");
    assert_eq!(masked["birth_date"], "1990-**-**");
    assert_eq!(masked["valid_to"], "2040-05-01");
    assert_eq!(masked["masked"], true);
    let number = masked["id_number"].as_str().unwrap();
    assert!(
        number.starts_with("110") && number.contains("****"),
        "{number}"
    );
    assert!(
        !masked.to_string().contains("测试路100号"),
        "address masked"
    );

    let full = json(&hallkiosk(&[
        "idcard",
        "read",
        "--port",
        sim.path(),
        "--json",
        "--reveal",
    ]));
    assert_eq!(full["name"], "张小三");
    assert_eq!(full["birth_date"], "1990-03-07");
    assert_eq!(full["nation"], "汉");
    assert_eq!(full["address"], "北京市东城区政务服务测试路100号");
    let id = full["id_number"].as_str().unwrap();
    assert_eq!(id.len(), 18);
    assert_eq!(&id[6..14], "19900307");

    let plain = hallkiosk(&["idcard", "read", "--port", sim.path()]);
    let text = String::from_utf8_lossy(&plain.stdout);
    assert!(plain.status.success());
    assert!(text.contains("张*三") && !text.contains("张小三"), "{text}");
}

#[test]
fn every_layout_has_its_fields_in_json() {
    let mut sim = Sim::start(&[]);
    for (fixture, card_type, key, value) in [
        ("resident-long-term", "resident", "valid_to", "长期"),
        ("resident-edge", "resident", "gender", "unstated"),
        ("resident-other", "resident", "nation", "其他"),
        ("hk-mo-tw", "hk_mo_tw", "pass_number", "H90000001"),
        (
            "foreign-2017",
            "foreign_2017",
            "english_name",
            "GARCIA LOPEZ, MARIA ELENA",
        ),
        ("foreign-2023", "foreign_2023", "nationality", "CAN"),
    ] {
        sim.say(&format!("place {fixture}"));
        let card = json(&hallkiosk(&[
            "idcard",
            "read",
            "--port",
            sim.path(),
            "--json",
            "--reveal",
        ]));
        assert_eq!(card["card_type"], card_type, "{fixture}");
        assert_eq!(card[key], value, "{fixture}");
    }
}

#[test]
fn failures_exit_non_zero_with_the_readers_reason() {
    let mut sim = Sim::start(&[]);
    let none = hallkiosk(&["idcard", "read", "--port", sim.path()]);
    assert!(!none.status.success());
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("no card on the reader"),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
    sim.say("place resident");
    sim.say("fault 41");
    let failed = hallkiosk(&["idcard", "read", "--port", sim.path()]);
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success());
    assert!(err.contains("SW3 41") && err.contains("读卡失败"), "{err}");
    sim.say("fault 60");
    let status = hallkiosk(&["idcard", "status", "--port", sim.path()]);
    assert!(!status.status.success());
    assert!(String::from_utf8_lossy(&status.stdout).contains("SW3 60"));
    sim.say("fault none");
    sim.say("silent on");
    let silent = hallkiosk(&["idcard", "read", "--port", sim.path()]);
    assert!(String::from_utf8_lossy(&silent.stderr).contains("did not answer read (30 01)"));
    let gone = hallkiosk(&["idcard", "read", "--port", "/dev/nonexistent-reader"]);
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("cannot open the reader"));
}

#[test]
fn status_prints_the_sam_id() {
    let sim = Sim::start(&[]);
    let out = hallkiosk(&["idcard", "status", "--port", sim.path()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("ready") && text.contains("SAM id: 05.01-123456789-"),
        "{text}"
    );
}
