//! `hallkiosk-sync`: delivers the outbox to the platform (docs/sync.md). Its own binary so that the
//! kiosk UI carries no HTTP/TLS stack; `hallkiosk sync` runs it.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hallkiosk-sync",
    version,
    about = "Deliver the kiosk's outbox to the platform"
)]
struct Cli {
    /// Configuration file [default: /etc/hallkiosk/config.toml if present, else embedded defaults]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Deliver what is due, send one heartbeat, pull once, then exit (0: nothing left waiting,
    /// 3: entries still wait for the platform)
    #[arg(long)]
    once: bool,
}

fn main() -> ExitCode {
    hallkiosk::shared::logging::init();
    let cli = Cli::parse();
    match hallkiosk::sync::cli::command(cli.config.as_deref(), cli.once) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hallkiosk-sync: {e:#}");
            ExitCode::from(2)
        }
    }
}
