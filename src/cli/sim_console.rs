//! The stdin console of the simulators started from the command line (`hallkiosk idcard sim`,
//! `hallkiosk print sim`): one command per line, answered `ok` or `error: …` on stderr.

use anyhow::Result;
use std::io::BufRead;

/// Reads commands until `quit` (the handler returns `Ok(true)`). When stdin closes (the simulator
/// runs in the background), keeps serving until the process is stopped.
pub fn serve(mut handle: impl FnMut(&[&str]) -> Result<bool>) -> Result<()> {
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match handle(&words) {
            Ok(true) => return Ok(()),
            Ok(false) => eprintln!("ok"),
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
    loop {
        std::thread::park();
    }
}
