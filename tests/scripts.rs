//! Every script in scripts/ answers `--help` with its usage, at once and without side effects
//! (no build, no install, no device touched): a technician can ask any of them what it does.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn every_script_answers_help_with_its_usage() {
    let mut checked = 0;
    for entry in std::fs::read_dir("scripts").unwrap() {
        let path = entry.unwrap().path();
        let started = Instant::now();
        let mut child = Command::new(&path)
            .arg("--help")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(10) {
                child.kill().unwrap();
                panic!("{} --help still runs after 10 s", path.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(status.success(), "{} --help: {status}", path.display());
        assert!(
            text.contains("Usage: scripts/"),
            "{} --help prints no usage line:\n{text}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} scripts found");
}
