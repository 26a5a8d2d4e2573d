//! The real kiosk binary's debug-only control socket (`hallkiosk run --control-socket`), shared by
//! the tests that drive it under Xvfb (tests/e2e.rs, tests/lockdown.rs): what is on the screen, and
//! the child process killed when the test ends.

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
