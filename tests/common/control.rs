//! The real kiosk binary's debug-only control socket (`hallkiosk run --control-socket`), shared by
//! the tests that drive it under Xvfb (tests/e2e.rs, tests/lockdown.rs): what is on the screen, and
//! the child process killed when the test ends.

#![allow(dead_code)] // each test uses its part

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

/// A child process killed when the test ends, pass or fail.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An element on the screen, in screen pixels.
#[derive(serde::Deserialize, Debug)]
pub struct Element {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub role: Option<String>,
}

/// One connection to the control socket: a request per line, a JSON reply per line.
pub struct Control {
    replies: BufReader<UnixStream>,
    requests: UnixStream,
}

impl Control {
    pub fn connect(socket: &Path) -> Control {
        let requests = UnixStream::connect(socket).unwrap();
        requests
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Control {
            replies: BufReader::new(requests.try_clone().unwrap()),
            requests,
        }
    }

    pub fn ask(&mut self, request: &str) -> serde_json::Value {
        writeln!(self.requests, "{request}").unwrap();
        let mut line = String::new();
        self.replies.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }

    /// The elements labelled `label`.
    pub fn find(&mut self, label: &str) -> Vec<Element> {
        let reply = self.ask(&format!("find {label}"));
        serde_json::from_value(reply.clone()).unwrap_or_else(|e| panic!("{e}: {reply}"))
    }
}

/// Polls `what` every 100 ms until it holds or `limit` passes; then asks once more.
pub fn until(limit: std::time::Duration, mut what: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if what() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    what()
}

/// The real kiosk binary on its embedded defaults (every device simulated) on an X display, with
/// its control socket, its log in `dir`, and its first frame drawn.
pub struct DevKiosk {
    /// Killed when the test ends; some tests only hold it for that.
    pub process: Process,
    pub socket: std::path::PathBuf,
    pub log_file: std::path::PathBuf,
}

impl DevKiosk {
    /// `hallkiosk run ARGS` on `display`; panics with the log when no first frame comes in 60 s.
    pub fn start(display: &str, dir: &Path, args: &[&str]) -> DevKiosk {
        Self::start_with(display, dir, args, |_| {})
    }

    /// As [`DevKiosk::start`], with `configure` given the command before it is spawned.
    #[allow(dead_code)] // not every test binary that includes this module uses it
    pub fn start_with(
        display: &str,
        dir: &Path,
        args: &[&str],
        configure: impl FnOnce(&mut std::process::Command),
    ) -> DevKiosk {
        assert!(
            !Path::new("/etc/hallkiosk/config.toml").exists(),
            "this machine has /etc/hallkiosk/config.toml: the kiosk would not use its embedded defaults"
        );
        let socket = dir.join("control.sock");
        let first_frame = dir.join("first-frame");
        let log_file = dir.join("kiosk.log");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hallkiosk"));
        command
            .arg("run")
            .args(args)
            .arg("--control-socket")
            .arg(&socket)
            .arg("--first-frame-file")
            .arg(&first_frame)
            .env("DISPLAY", display)
            .env("XDG_DATA_HOME", dir)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log_file).unwrap());
        configure(&mut command);
        let process = Process(command.spawn().unwrap());
        let kiosk = DevKiosk {
            process,
            socket,
            log_file,
        };
        assert!(
            until(Duration::from_secs(60), || first_frame.exists()),
            "no first frame within 60 s: {}",
            kiosk.log()
        );
        kiosk
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }
}
