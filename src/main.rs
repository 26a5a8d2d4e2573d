//! The `hallkiosk` command: runs the kiosk and gives technicians and maintainers their tools.
//! `main` only parses the command line and wires parts together; the parts live in the library.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use hallkiosk::catalog::Catalog;
use hallkiosk::config::{Config, ConfigSource, Locale, Orientation};
use hallkiosk::startup::{watch_first_frame, FirstFrame};
use slint::ComponentHandle;
use std::path::{Path, PathBuf};
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
    Run(RunArgs),
    /// Check or show the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check or search the service catalog
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// ID-card reader tools: read a card, SAM status, a simulated reader on a pty
    #[command(subcommand)]
    Idcard(IdcardCommand),
    /// Receipt printer tools: test page, status, preview of captured ESC/POS, a simulated printer
    #[command(subcommand)]
    Print(PrintCommand),
    /// The offline outbox: counts, oldest waiting entry, recent entries (no personal data shown)
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Deliver the outbox to the platform, pull catalog and status changes, send heartbeats
    Sync(SyncArgs),
    /// QR codes in image files
    #[command(subcommand)]
    Qr(QrCommand),
    /// Read a QR scanner (serial/CDC or keyboard-wedge) and print its scans; `scan sim` serves a
    /// simulated serial scanner
    Scan(ScanArgs),
    /// The document camera: list V4L2 devices, take a snapshot
    #[command(subcommand)]
    Camera(CameraCommand),
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

#[derive(Subcommand)]
enum QrCommand {
    /// Decode image files (PNG, JPEG, WebP): one line per file, FILE<TAB>TEXT or FILE<TAB>-
    Decode {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object per line (file, text, attempt, ms)
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct ScanArgs {
    #[command(subcommand)]
    sim: Option<ScanSimCommand>,
    /// A serial/CDC scanner's port
    #[arg(long, value_name = "PATH", conflicts_with = "evdev")]
    port: Option<String>,
    /// A keyboard-wedge scanner's evdev node (grabbed exclusively)
    #[arg(long, value_name = "PATH")]
    evdev: Option<String>,
    #[arg(long, default_value_t = 9600)]
    baud: u32,
    #[command(flatten)]
    framing: FramingArgs,
    /// Stop after this many scans
    #[arg(long)]
    count: Option<u64>,
}

#[derive(Subcommand)]
enum ScanSimCommand {
    /// Serve a simulated serial scanner on a pty; prints its address, then reads commands on stdin
    Sim {
        #[command(flatten)]
        framing: FramingArgs,
    },
}

/// How a serial scanner frames scans and is triggered (the reader and the simulator share them).
#[derive(clap::Args)]
struct FramingArgs {
    /// Bytes before each scan: none, cr, lf, crlf, tab or hex (e.g. 02)
    #[arg(long, default_value = "none")]
    prefix: String,
    /// Bytes that end a scan: cr, lf, crlf, tab, none (the line going quiet) or hex
    #[arg(long, default_value = "cr")]
    suffix: String,
    /// continuous, honeywell (SYN T CR) or gm (7E 00 08 01 00 02 01 AB CD)
    #[arg(long, default_value = "continuous")]
    trigger: String,
}

#[derive(Subcommand)]
enum CameraCommand {
    /// The V4L2 capture devices with their formats and sizes
    List {
        #[arg(long)]
        json: bool,
    },
    /// Save one frame as a grayscale PNG and print what it decodes
    Snapshot {
        #[arg(long, value_name = "PATH")]
        device: String,
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[arg(long, default_value_t = 640)]
        width: u32,
        #[arg(long, default_value_t = 480)]
        height: u32,
    },
}

#[derive(clap::Args)]
struct SyncArgs {
    /// Deliver what is due, send one heartbeat, pull once, then exit (0: nothing left waiting,
    /// 3: entries still wait for the platform)
    #[arg(long)]
    once: bool,
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Entry counts by state and the age of the oldest entry the platform has not acknowledged
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// The newest entries: tracking code, service item, state, attempts, last error
    List {
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Queue synthetic test submissions (service item `kiosk-selftest`, no real person) to check the
    /// way to the platform; prints each tracking code and key once it is durable
    TestSubmit {
        #[arg(long, default_value_t = 1)]
        count: u64,
        /// Size of the one synthetic material image
        #[arg(long, default_value_t = 2048)]
        material_bytes: usize,
    },
}

#[derive(Subcommand)]
enum PrintCommand {
    /// Print the test page (Chinese text, rare characters, logo, QR, cut)
    Test {
        /// tcp:HOST:PORT, serial:PATH[@BAUD], usblp:PATH or usb:VID:PID
        #[arg(long, value_name = "URI")]
        printer: String,
        /// generic-80mm, generic-58mm or epson-80mm
        #[arg(long, default_value = "generic-80mm")]
        profile: String,
    },
    /// Print the printer's status; exits non-zero naming why when it cannot print
    Status {
        #[arg(long, value_name = "URI")]
        printer: String,
        #[arg(long)]
        json: bool,
    },
    /// Render raw ESC/POS (as a technician captured it) to PNG
    Preview {
        file: PathBuf,
        #[arg(short = 'o', long = "output", value_name = "FILE.png")]
        output: PathBuf,
        #[arg(long, default_value = "generic-80mm")]
        profile: String,
        /// Also write the parsed commands as JSON
        #[arg(long, value_name = "FILE.json")]
        transcript: Option<PathBuf>,
    },
    /// Serve a simulated printer: prints its address, then takes commands on stdin
    Sim {
        /// Listen on 127.0.0.1:PORT (default: a free port)
        #[arg(long, value_name = "PORT", conflicts_with = "pty")]
        tcp: Option<u16>,
        /// Serve on a pty instead (address serial:/dev/pts/N)
        #[arg(long)]
        pty: bool,
        #[arg(long, default_value = "generic-80mm")]
        profile: String,
    },
}

#[derive(Subcommand)]
enum IdcardCommand {
    /// Read one card and print it (name, number and address masked unless --reveal)
    Read {
        /// The reader: a device path (/dev/ttyUSB0) or an address (serial:PATH@BAUD, usb:0400:c35a)
        #[arg(long, value_name = "PATH")]
        port: String,
        /// Serial rate [default: 115200]
        #[arg(long)]
        baud: Option<u32>,
        /// Print a JSON object
        #[arg(long)]
        json: bool,
        /// Show personal values unmasked (the citizen is present and agrees)
        #[arg(long)]
        reveal: bool,
        /// Read with fingerprints (30 10)
        #[arg(long)]
        fingerprint: bool,
        /// Also read the appended address (30 03)
        #[arg(long)]
        appended_address: bool,
        /// Wait up to SECS for a card to be placed
        #[arg(long, value_name = "SECS", default_value_t = 0)]
        wait: u64,
    },
    /// Print the SAM's status and module number
    Status {
        #[arg(long, value_name = "PATH")]
        port: String,
        #[arg(long)]
        baud: Option<u32>,
    },
    /// Serve a simulated reader on a pty: prints the pty path, then takes commands on stdin
    Sim {
        /// Card on the antenna at start (resident, resident-long-term, resident-expired,
        /// resident-edge, resident-other, hk-mo-tw, foreign-2017, foreign-2023)
        #[arg(long, value_name = "FIXTURE")]
        card: Option<String>,
        /// Answer with this SW3 (hex, e.g. 41, 60, 80)
        #[arg(long, value_name = "SW3")]
        fault: Option<String>,
        /// The "card still on antenna" quirk: find/select fail after a read, reads still succeed
        #[arg(long)]
        sticky: bool,
        /// Delay before answering a card read, in ms
        #[arg(long, value_name = "MS", default_value_t = 0)]
        read_delay_ms: u64,
        /// UART rate the replies are paced at (0: unpaced)
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
    },
}

#[derive(clap::Args, Default)]
struct RunArgs {
    /// Override the configured screen orientation
    #[arg(long, value_enum)]
    orientation: Option<OrientationArg>,
    /// Override the configured start language
    #[arg(long, value_enum)]
    locale: Option<LocaleArg>,
    /// Full screen (kiosks) instead of a window
    #[arg(long)]
    fullscreen: bool,
    /// Write the time of the first rendered frame (ns since the Unix epoch) to FILE
    #[arg(long, value_name = "FILE")]
    first_frame_file: Option<PathBuf>,
    /// Quit right after the first frame (start-up benchmarks and screenshot tests)
    #[arg(long)]
    exit_after_first_frame: bool,
    /// Answer where labelled elements are on screen at this Unix socket, for the end-to-end
    /// test's synthetic taps (debug builds only; see src/control.rs)
    #[cfg(debug_assertions)]
    #[arg(long, value_name = "PATH", hide = true)]
    control_socket: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum OrientationArg {
    Landscape,
    Portrait,
}

#[derive(Clone, Copy, ValueEnum)]
enum LocaleArg {
    #[value(name = "zh_CN")]
    ZhCn,
    En,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration; exits non-zero naming file, line and field when invalid
    Check,
    /// Print the configuration in force, defaults filled in
    Show,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Validate a catalog file (default: the one the kiosk would use)
    Check { file: Option<PathBuf> },
    /// Search the catalog as the service guide does (Chinese, English, pinyin or initials)
    Search { query: String },
}

fn main() -> ExitCode {
    let started = Instant::now();
    hallkiosk::logging::init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run(cli.config.as_deref(), args, started),
        Command::Config(c) => config_command(cli.config.as_deref(), c),
        Command::Catalog(c) => catalog_command(cli.config.as_deref(), c),
        Command::Idcard(c) => idcard_command(c),
        Command::Print(c) => print_command(cli.config.as_deref(), c),
        Command::Outbox(c) => outbox_command(cli.config.as_deref(), c),
        Command::Qr(QrCommand::Decode { files, json }) => {
            return hallkiosk::scan_cli::qr_decode(&files, json)
        }
        Command::Scan(a) => scan_command(a),
        Command::Hil { rig, junit, json } => {
            match hallkiosk::hil::command(&rig, junit.as_ref(), json.as_ref()) {
                Ok(code) => return code,
                Err(e) => Err(e),
            }
        }
        Command::Camera(CameraCommand::List { json }) => hallkiosk::scan_cli::camera_list(json),
        Command::Camera(CameraCommand::Snapshot {
            device,
            output,
            width,
            height,
        }) => hallkiosk::scan_cli::camera_snapshot(&device, &output, (width, height)),
        Command::Sync(a) => match sync_command(cli.config.as_deref(), a) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallkiosk: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn scan_command(a: ScanArgs) -> Result<()> {
    use hallkiosk::scan_cli;
    if let Some(ScanSimCommand::Sim { framing: f }) = a.sim {
        return scan_cli::sim(&f.prefix, &f.suffix, &f.trigger);
    }
    let serial = a.port.as_deref().map(|port| scan_cli::SerialArgs {
        port,
        baud: a.baud,
        prefix: &a.framing.prefix,
        suffix: &a.framing.suffix,
        trigger: &a.framing.trigger,
    });
    scan_cli::scan(serial, a.evdev.as_deref(), a.count)
}

fn load_catalog(config: &Config) -> Result<Catalog> {
    if let Some(file) = &config.catalog.file {
        return Ok(Catalog::from_file(file)?);
    }
    let (catalog, skipped) = Catalog::newest(&config.data_dir().join("catalog"))?;
    for e in skipped {
        tracing::warn!("skipping cached catalog: {e}");
    }
    Ok(catalog)
}

fn run(config_path: Option<&Path>, args: RunArgs, started: Instant) -> Result<()> {
    let (mut config, source) = Config::load(config_path)?;
    if let Some(o) = args.orientation {
        config.kiosk.orientation = match o {
            OrientationArg::Landscape => Orientation::Landscape,
            OrientationArg::Portrait => Orientation::Portrait,
        };
    }
    if let Some(l) = args.locale {
        config.kiosk.locale = match l {
            LocaleArg::ZhCn => Locale::ZhCn,
            LocaleArg::En => Locale::En,
        };
    }
    let fullscreen = args.fullscreen || config.kiosk.fullscreen;
    let catalog = load_catalog(&config)?;
    tracing::info!(
        config = %source,
        kiosk = %config.kiosk.id,
        catalog = %catalog.version,
        data_dir = %config.data_dir().display(),
        simulated = config.all_devices_simulated(),
        "starting kiosk"
    );
    let running = hallkiosk::app::start(&config, catalog)?;
    let ui = &running.ui;
    let window = ui.window().window();
    let (w, h) = config.kiosk.orientation.size();
    window.set_size(slint::LogicalSize::new(w as f32, h as f32));
    if fullscreen {
        window.set_fullscreen(true);
    }
    watch_first_frame(
        window,
        started,
        FirstFrame {
            file: args.first_frame_file,
            exit: args.exit_after_first_frame,
        },
    );
    #[cfg(debug_assertions)]
    if let Some(path) = &args.control_socket {
        hallkiosk::control::serve(path, ui.window().as_weak())
            .with_context(|| format!("cannot open the control socket {}", path.display()))?;
    }
    let _keepalive = hallkiosk::watchdog::start();
    ui.window().run()?;
    tracing::info!("kiosk stopped");
    Ok(())
}

fn config_command(config_path: Option<&Path>, c: ConfigCommand) -> Result<()> {
    let (config, source) = Config::load(config_path)?;
    match c {
        ConfigCommand::Check => {
            if let ConfigSource::File(_) = source {
                load_catalog(&config).context("the configured catalog")?;
            }
            println!(
                "ok: {source} (kiosk {}, {} devices simulated)",
                config.kiosk.id,
                if config.all_devices_simulated() {
                    "all"
                } else {
                    "not all"
                }
            );
        }
        ConfigCommand::Show => print!("{}", toml::to_string_pretty(&config)?),
    }
    Ok(())
}

fn catalog_command(config_path: Option<&Path>, c: CatalogCommand) -> Result<()> {
    match c {
        CatalogCommand::Check { file } => {
            let catalog = match file {
                Some(f) => Catalog::from_file(&f)?,
                None => load_catalog(&Config::load(config_path)?.0)?,
            };
            println!(
                "ok: catalog {} published {}: {} themes, {} items",
                catalog.version,
                catalog.published,
                catalog.themes.len(),
                catalog.items.len()
            );
        }
        CatalogCommand::Search { query } => {
            let catalog = load_catalog(&Config::load(config_path)?.0)?;
            for item in catalog.search(&query) {
                println!("{}\t{}\t{}", item.id, item.name.zh, item.name.en);
            }
        }
    }
    Ok(())
}

fn idcard_command(c: IdcardCommand) -> Result<()> {
    use hallkiosk::idcard_cli;
    use hallkiosk_drivers::idcard::reader::ReadOptions;
    use hallkiosk_drivers::sim::fixtures::CardFixture;
    use std::time::Duration;
    match c {
        IdcardCommand::Read {
            port,
            baud,
            json,
            reveal,
            fingerprint,
            appended_address,
            wait,
        } => idcard_cli::read(
            &idcard_cli::address(&port, baud)?,
            json,
            reveal,
            ReadOptions {
                fingerprint,
                appended_address,
            },
            Duration::from_secs(wait),
            &hallkiosk::clock::local_today(),
        ),
        IdcardCommand::Status { port, baud } => {
            idcard_cli::status(&idcard_cli::address(&port, baud)?)
        }
        IdcardCommand::Sim {
            card,
            fault,
            sticky,
            read_delay_ms,
            baud,
        } => {
            let card = match card {
                Some(name) => Some(CardFixture::from_name(&name).ok_or_else(|| {
                    anyhow::anyhow!(
                        "no card fixture `{name}` (have {})",
                        idcard_cli::fixture_names()
                    )
                })?),
                None => None,
            };
            idcard_cli::sim(idcard_cli::SimArgs {
                card,
                fault: fault.as_deref().map(idcard_cli::parse_sw3).transpose()?,
                sticky,
                read_delay: Duration::from_millis(read_delay_ms),
                baud,
            })
        }
    }
}

fn print_command(config_path: Option<&Path>, c: PrintCommand) -> Result<()> {
    use hallkiosk::print_cli;
    let address = |uri: &str| -> Result<hallkiosk_drivers::transport::DeviceAddress> {
        uri.parse().map_err(anyhow::Error::from)
    };
    match c {
        PrintCommand::Test { printer, profile } => {
            let kiosk = Config::load(config_path)
                .map(|(c, _)| c.kiosk.id.to_string())
                .unwrap_or_else(|_| "?".into());
            print_cli::test(&address(&printer)?, &print_cli::profile(&profile)?, &kiosk)
        }
        PrintCommand::Status { printer, json } => print_cli::status(&address(&printer)?, json),
        PrintCommand::Preview {
            file,
            output,
            profile,
            transcript,
        } => print_cli::preview(
            &file,
            &output,
            &print_cli::profile(&profile)?,
            transcript.as_deref(),
        ),
        PrintCommand::Sim { tcp, pty, profile } => {
            print_cli::sim(tcp, pty, print_cli::profile(&profile)?)
        }
    }
}

fn outbox_command(config_path: Option<&Path>, c: OutboxCommand) -> Result<()> {
    use hallkiosk::outbox;
    let (config, _) = Config::load(config_path)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let ob = outbox::open_configured(&config).await?;
        let now = hallkiosk::clock::now_ms();
        match c {
            OutboxCommand::Stats { json } => {
                let s = ob.stats(now).await?;
                let alarm = s
                    .oldest_unacknowledged_secs
                    .is_some_and(|age| age > outbox::AGE_ALARM_SECS);
                if json {
                    let mut v = serde_json::to_value(&s)?;
                    v["depth"] = s.depth().into();
                    v["age_alarm"] = alarm.into();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    println!("queued     {}", s.queued);
                    println!("sending    {}", s.sending);
                    println!("accepted   {}", s.accepted);
                    println!("rejected   {}", s.rejected);
                    match s.oldest_unacknowledged_secs {
                        Some(age) => println!("oldest unacknowledged: {age} s ago"),
                        None => println!("oldest unacknowledged: none"),
                    }
                    if alarm {
                        println!(
                            "ALARM: an entry has waited more than {} h for the platform",
                            outbox::AGE_ALARM_SECS / 3600
                        );
                    }
                }
            }
            OutboxCommand::TestSubmit {
                count,
                material_bytes,
            } => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                for i in 0..count {
                    let e = ob
                        .enqueue(
                            &outbox::test_submission(i, material_bytes),
                            hallkiosk::clock::now_ms(),
                        )
                        .await?;
                    // Printed only after the commit: a printed code is an acknowledged submission.
                    writeln!(out, "{}\t{}", e.tracking_code, e.idempotency_key)?;
                    out.flush()?;
                }
            }
            OutboxCommand::List { limit, json } => {
                let entries = ob.list(limit).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&entries)?);
                } else {
                    for e in entries {
                        println!(
                            "{}\t{}\t{}\t{} attempts\tplatform: {}\t{}",
                            e.tracking_code,
                            e.service_item,
                            e.state,
                            e.attempts,
                            e.platform_state.as_deref().unwrap_or("-"),
                            e.reject_reason.or(e.last_error).unwrap_or_default()
                        );
                    }
                }
            }
        }
        ob.close().await;
        Ok::<(), anyhow::Error>(())
    })
}

/// `hallkiosk sync` runs `hallkiosk-sync` from the same directory: the HTTP and TLS stack lives only
/// in that binary (and its unit, which has network but no devices), not in the kiosk UI's.
fn sync_command(config_path: Option<&Path>, a: SyncArgs) -> Result<ExitCode> {
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
