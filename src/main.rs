//! The `hallkiosk` command: runs the kiosk and gives technicians and maintainers their tools.
//! `main` only parses the command line and dispatches; each subcommand lives in
//! `hallkiosk::cli`.

use clap::{Parser, Subcommand};
use hallkiosk::cli;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "hallkiosk",
    version,
    about = "Self-service terminal for government service halls (政务服务自助终端)"
)]
struct Cli {
    /// Configuration file [default: /etc/hallkiosk/config.toml if present, else embedded defaults]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the kiosk (the default)
    Run(cli::run::RunArgs),
    /// Check or show the configuration
    #[command(subcommand)]
    Config(cli::config::ConfigCommand),
    /// Check or search the service catalog
    #[command(subcommand)]
    Catalog(cli::config::CatalogCommand),
    /// ID-card reader tools: read a card, SAM status, a simulated reader on a pty
    #[command(subcommand)]
    Idcard(cli::idcard::IdcardCommand),
    /// Receipt printer tools: test page, status, preview of captured ESC/POS, a simulated printer
    #[command(subcommand)]
    Print(cli::print::PrintCommand),
    /// The offline outbox: counts, oldest waiting entry, recent entries (no personal data shown),
    /// quarantined entries, retention purge, payload keys
    #[command(subcommand)]
    Outbox(cli::outbox::OutboxCommand),
    /// Provisioning the maintenance screen: hash a PIN (Argon2id) or an admin card (HMAC)
    #[command(subcommand)]
    Admin(cli::admin::AdminCommand),
    /// Deliver the outbox to the platform, pull catalog and status changes, send heartbeats
    Sync(cli::sync::SyncArgs),
    /// QR codes in image files
    #[command(subcommand)]
    Qr(cli::scan::QrCommand),
    /// Read a QR scanner (serial/CDC or keyboard-wedge) and print its scans; `scan sim` serves a
    /// simulated serial scanner
    Scan(cli::scan::ScanArgs),
    /// The document camera: list V4L2 devices, take a snapshot
    #[command(subcommand)]
    Camera(cli::scan::CameraCommand),
    /// Spoken prompts: check the engine and the sound device, list the pinyin, say one prompt
    #[command(subcommand)]
    Voice(cli::voice::VoiceCommand),
    /// Run a rig's hardware-in-the-loop checklist (reader, printer, scanner, camera, UI); exit 0
    /// all passed, 1 a product failure, 3 only infrastructure errors (docs/hil.md)
    Hil {
        /// The rig file (TOML)
        #[arg(long, value_name = "FILE")]
        rig: PathBuf,
        /// Write JUnit XML here
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write JSON here
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let started = Instant::now();
    hallkiosk::shared::logging::init();
    let args = Cli::parse();
    let config = args.config.as_deref();
    let ok = |r: anyhow::Result<()>| r.map(|()| ExitCode::SUCCESS);
    let result = match args.command.unwrap_or(Command::Run(Default::default())) {
        Command::Run(a) => ok(cli::run::command(config, a, started)),
        Command::Config(c) => ok(cli::config::config_command(config, c)),
        Command::Catalog(c) => ok(cli::config::catalog_command(config, c)),
        Command::Idcard(c) => ok(cli::idcard::command(c)),
        Command::Print(c) => ok(cli::print::command(config, c)),
        Command::Outbox(c) => ok(cli::outbox::command(config, c)),
        Command::Admin(c) => ok(cli::admin::command(config, c)),
        Command::Qr(c) => Ok(cli::scan::qr_command(c)),
        Command::Scan(a) => ok(cli::scan::command(a)),
        Command::Camera(c) => ok(cli::scan::camera_command(c)),
        Command::Hil { rig, junit, json } => cli::hil::command(&rig, junit.as_ref(), json.as_ref()),
        Command::Sync(a) => cli::sync::command(config, a),
        Command::Voice(c) => ok(cli::voice::command(config, c)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hallkiosk: {e:#}");
            ExitCode::from(2)
        }
    }
}
