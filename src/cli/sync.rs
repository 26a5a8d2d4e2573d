//! `hallkiosk sync`: runs the sync daemon's own binary.

use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct SyncArgs {
    /// Deliver what is due, send one heartbeat, pull once, then exit (0: nothing left waiting,
    /// 3: entries still wait for the platform)
    #[arg(long)]
    once: bool,
}

/// `hallkiosk sync` runs `hallkiosk-sync` from the same directory: the HTTP and TLS stack lives only
/// in that binary (and its unit, which has network but no devices), not in the kiosk UI's.
pub fn command(config_path: Option<&Path>, a: SyncArgs) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let me = std::env::current_exe().context("cannot find the hallkiosk binary")?;
    let sync = me.with_file_name("hallkiosk-sync");
    let mut cmd = std::process::Command::new(&sync);
    if let Some(c) = config_path {
        cmd.arg("--config").arg(c);
    }
    if a.once {
        cmd.arg("--once");
    }
    let e = cmd.exec();
    Err(anyhow::anyhow!("cannot run {}: {e}", sync.display()))
}
