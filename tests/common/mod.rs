//! A simulator run as the real `hallkiosk … sim` process: its first stdout line is its address,
//! its first stderr line a banner; commands go to stdin and are answered "ok" on stderr.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStderr, ChildStdin, Command, Stdio};

pub struct SimProcess {
    child: Child,
    stdin: ChildStdin,
    stderr: BufReader<ChildStderr>,
    /// What the simulator printed first: a pty path or `tcp:127.0.0.1:PORT`.
    pub address: String,
}

impl SimProcess {
    pub fn start(args: &[&str]) -> SimProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hallkiosk"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut address = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut banner = String::new();
        stderr.read_line(&mut banner).unwrap();
        assert!(banner.contains("simulated"), "{banner}");
        SimProcess {
            child,
            stdin,
            stderr,
            address: address.trim().to_string(),
        }
    }

    /// Sends a command and waits for the simulator's "ok".
    pub fn say(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        let mut answer = String::new();
        self.stderr.read_line(&mut answer).unwrap();
        assert_eq!(answer.trim(), "ok", "{command}");
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}
