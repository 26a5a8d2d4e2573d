//! `hallkiosk qr …`, `hallkiosk scan …` and `hallkiosk camera …`: the tools for codes, scanners
//! and the camera.
//!
//! - `qr decode FILE...` runs the decoder pipeline on image files: one line per file,
//!   `FILE<TAB>TEXT` or `FILE<TAB>-`; `--json` prints one object per line. Files without a code are
//!   not errors; a file that cannot be read is (exit 2, after the other files).
//! - `scan --port PATH | --evdev PATH` prints what a scanner reads, one scan a line, until stopped
//!   (or `--count N` scans); `scan sim --pty` serves a simulated serial scanner.
//! - `camera list` shows the V4L2 capture devices and formats; `camera snapshot` saves one frame as
//!   PNG (and says what it decodes).

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use hallkiosk_drivers::camera::frame::load_gray;
use hallkiosk_drivers::camera::source::list_cameras;
use hallkiosk_drivers::camera::{Decode, FrameSource, QrDecoder, V4l2Source};
use hallkiosk_drivers::scanner::route::ScanKind;
use hallkiosk_drivers::scanner::serial::{Framing, Trigger};
use hallkiosk_drivers::scanner::service::{self, EvdevScanner, SerialScanner};
use hallkiosk_drivers::sim::scanner::{on_pty, Encoding, SimScanner};
use hallkiosk_drivers::DeviceEvent;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// `qr decode`: returns exit code 0, or 2 when a file could not be read.
pub fn qr_decode(files: &[PathBuf], json_out: bool) -> ExitCode {
    let decoder = QrDecoder::default();
    let mut unreadable = 0;
    for file in files {
        let started = Instant::now();
        let image = match load_gray(file) {
            Ok(image) => image,
            Err(e) => {
                eprintln!("hallkiosk: cannot read {}: {e}", file.display());
                unreadable += 1;
                continue;
            }
        };
        let outcome = decoder.decode(&image);
        let ms = started.elapsed().as_secs_f64() * 1e3;
        if json_out {
            let object = match &outcome {
                Decode::Code { text, attempt } => json!({
                    "file": file, "text": text, "attempt": attempt.as_str(), "ms": ms,
                }),
                Decode::Part { index, attempt } => json!({
                    "file": file, "text": null, "structured_append_part": index,
                    "attempt": attempt.as_str(), "ms": ms,
                }),
                Decode::Nothing => json!({ "file": file, "text": null, "ms": ms }),
            };
            println!("{object}");
        } else {
            let text = outcome.text().map_or_else(|| "-".into(), one_line);
            println!("{}\t{text}", file.display());
        }
    }
    if unreadable > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// A decoded text on one line of the plain output: backslash, tab, CR and LF written as `\\`,
/// `\t`, `\r`, `\n` (a code may hold any of them; `--json` gives the text as it is).
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

pub fn parse_affix(spec: &str) -> Result<Vec<u8>> {
    hallkiosk_drivers::scanner::serial::parse_affix(spec).map_err(|e| anyhow!(e))
}

pub fn parse_trigger(name: &str) -> Result<Trigger> {
    Trigger::parse(name).ok_or_else(|| anyhow!("trigger `{name}`: say continuous, honeywell or gm"))
}

/// Serial scanner settings from the command line.
pub struct SerialArgs<'a> {
    pub port: &'a str,
    pub baud: u32,
    pub prefix: &'a str,
    pub suffix: &'a str,
    pub trigger: &'a str,
}

fn framing(prefix: &str, suffix: &str) -> Result<Framing> {
    Ok(Framing {
        prefix: parse_affix(prefix)?,
        suffix: parse_affix(suffix)?,
        ..Framing::default()
    })
}

/// `scan --port`/`--evdev`: prints scans (kind and text) until `count` scans or forever. Faults
/// go to stderr; the scanner is reopened after an unplug.
pub fn scan(serial: Option<SerialArgs<'_>>, evdev: Option<&str>, count: Option<u64>) -> Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    match (serial, evdev) {
        (Some(args), None) => {
            let mut config = SerialScanner::new(args.port, args.baud);
            config.framing = framing(args.prefix, args.suffix)?;
            config.trigger = parse_trigger(args.trigger)?;
            let opener = service::serial_opener(args.port.to_string(), args.baud);
            std::thread::spawn(move || service::run_serial(opener, config, tx));
        }
        (None, Some(path)) => {
            let config = EvdevScanner::new(path);
            std::thread::spawn(move || service::run_evdev(config, tx));
        }
        _ => bail!("say --port PATH or --evdev PATH"),
    }
    let router = crate::flows::route::router(None);
    let mut seen = 0;
    while let Some(event) = rx.blocking_recv() {
        match event {
            DeviceEvent::CodeScanned(payload) => {
                println!(
                    "{}\t{}",
                    kind_name(&router.classify(&payload.text)),
                    payload.text
                );
                seen += 1;
                if count.is_some_and(|c| seen >= c) {
                    return Ok(());
                }
            }
            DeviceEvent::DeviceFault { reason, .. } => eprintln!("scanner fault: {reason}"),
            DeviceEvent::DeviceRecovered { .. } => eprintln!("scanner working"),
            _ => {}
        }
    }
    Ok(())
}

fn kind_name(kind: &ScanKind) -> &'static str {
    match kind {
        ScanKind::Receipt {
            this_kiosk: true, ..
        } => "receipt",
        ScanKind::Receipt {
            this_kiosk: false, ..
        } => "receipt-other-kiosk",
        ScanKind::Eid => "eid",
        ScanKind::Url => "url",
        ScanKind::Other => "other",
    }
}

/// The same-code delay of `same-code-delay MS|off` (see [`hallkiosk_drivers::sim::scanner::InView`]).
fn same_code_delay(word: &str) -> Result<Option<std::time::Duration>> {
    if word == "off" {
        return Ok(None);
    }
    let ms: u64 = word
        .parse()
        .map_err(|_| anyhow!("same-code-delay MS (milliseconds) or off"))?;
    Ok(Some(std::time::Duration::from_millis(ms)))
}

/// `scan sim --pty`: a simulated serial scanner; prints its port, then presents each stdin line
/// (`present TEXT`, `remove`, `same-code-delay MS|off`, `gbk on|off`, `quit`). In continuous mode
/// a presented code stays in view and is read once, and again only after a same-code delay when
/// one is set (off, as scanners leave the factory in this mode).
pub fn sim(prefix: &str, suffix: &str, trigger: &str, device: SimDevice) -> Result<()> {
    let sim = SimScanner::new(framing(prefix, suffix)?, parse_trigger(trigger)?);
    let (served, path) = match device {
        SimDevice::Pty => on_pty(sim).context("cannot open a pty")?,
        SimDevice::Port(path) => (
            hallkiosk_drivers::sim::scanner::on_port(sim, &path)
                .with_context(|| format!("cannot open {path}"))?,
            path,
        ),
        SimDevice::Hidg(path) => return wedge_sim(&path),
    };
    println!("serial:{path}");
    eprintln!(
        "simulated scanner on {path}; commands: present TEXT | remove | same-code-delay MS|off | gbk on|off | quit"
    );
    crate::cli::sim_console::serve(|words| {
        let mut sim = served.control();
        match words {
            [] => Ok(false),
            ["quit"] => Ok(true),
            ["present", rest @ ..] if !rest.is_empty() => {
                sim.present(rest.join(" "));
                Ok(false)
            }
            ["remove"] => {
                sim.view.remove();
                Ok(false)
            }
            ["same-code-delay", w] => {
                sim.view.same_code_delay = same_code_delay(w)?;
                Ok(false)
            }
            ["gbk", "on"] => {
                sim.encoding = Encoding::Gbk;
                Ok(false)
            }
            ["gbk", "off"] => {
                sim.encoding = Encoding::Utf8;
                Ok(false)
            }
            other => bail!("unknown command `{}`", other.join(" ")),
        }
    })
}

/// Where `scan sim` serves.
pub enum SimDevice {
    Pty,
    /// The device side of a tty (a USB gadget's /dev/ttyGS1).
    Port(String),
    /// A HID keyboard gadget (/dev/hidg0): a keyboard-wedge scanner.
    Hidg(String),
}

/// `scan sim --hidg PATH`: a keyboard-wedge scanner typing each presented code and ENTER (the
/// code stays in view as on a serial one: `remove`, `same-code-delay MS|off`).
fn wedge_sim(path: &str) -> Result<()> {
    use hallkiosk_drivers::sim::gadget::{serve_keyboard_wedge, KeyboardWedge};
    let dev = std::path::PathBuf::from(path);
    let served = hallkiosk_drivers::sim::Served::start(
        "wedge-sim",
        KeyboardWedge::default(),
        move |s, stop| serve_keyboard_wedge(dev, s, stop),
    )?;
    println!("hidg:{path}");
    eprintln!(
        "simulated keyboard-wedge scanner on {path}; commands: present TEXT | remove | same-code-delay MS|off | quit"
    );
    crate::cli::sim_console::serve(|words| match words {
        [] => Ok(false),
        ["quit"] => Ok(true),
        ["present", rest @ ..] if !rest.is_empty() => {
            let text = rest.join(" ");
            hallkiosk_drivers::sim::gadget::key_reports(&text)
                .map_err(|c| anyhow::anyhow!("{c:?} cannot be typed on a US keyboard"))?;
            served.control().present(text);
            Ok(false)
        }
        ["remove"] => {
            served.control().view.remove();
            Ok(false)
        }
        ["same-code-delay", w] => {
            served.control().view.same_code_delay = same_code_delay(w)?;
            Ok(false)
        }
        other => bail!("unknown command `{}`", other.join(" ")),
    })
}

/// `camera list`.
pub fn camera_list(json_out: bool) -> Result<()> {
    let cameras = list_cameras().context("cannot list V4L2 devices")?;
    if json_out {
        let list: Vec<_> = cameras
            .iter()
            .map(|c| {
                json!({
                    "path": c.path, "card": c.card, "driver": c.driver,
                    "formats": c.offers.iter().map(|o| json!({
                        "format": o.format.to_string(),
                        "sizes": o.sizes.iter().map(|(w, h)| format!("{w}x{h}")).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if cameras.is_empty() {
        println!("no capture devices (no /dev/video* answering as a camera)");
    }
    for c in cameras {
        println!("{}\t{} ({})", c.path.display(), c.card, c.driver);
        for o in c.offers {
            let sizes: Vec<String> = o.sizes.iter().map(|(w, h)| format!("{w}x{h}")).collect();
            println!("\t{}\t{}", o.format, sizes.join(" "));
        }
    }
    Ok(())
}

/// `camera snapshot`: one frame from the camera as a grayscale PNG, and what it decodes.
pub fn camera_snapshot(device: &str, out: &Path, size: (u32, u32)) -> Result<()> {
    let mut camera = V4l2Source::open(device, size)?;
    let (format, w, h) = camera.format();
    // The first frames of a starting camera are often dark or half-exposed: keep the fifth.
    let mut frame = camera.next_frame()?;
    for _ in 0..4 {
        frame = camera.next_frame()?;
    }
    let image = frame.to_gray()?;
    image
        .save(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    let decoded = QrDecoder::default().decode(&image);
    println!(
        "{}\t{format} {w}x{h}\t{}",
        out.display(),
        decoded.text().unwrap_or("-")
    );
    Ok(())
}

#[derive(Subcommand)]
pub enum QrCommand {
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
pub struct ScanArgs {
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
pub enum ScanSimCommand {
    /// Serve a simulated serial scanner on a pty; prints its address, then reads commands on stdin
    Sim {
        #[command(flatten)]
        framing: FramingArgs,
        /// Serve on the device side of this tty instead of a pty (a USB gadget's /dev/ttyGS1)
        #[arg(long = "on", value_name = "PATH", conflicts_with = "hidg")]
        on: Option<String>,
        /// Be a keyboard-wedge scanner on this HID keyboard gadget (/dev/hidg0)
        #[arg(long, value_name = "PATH")]
        hidg: Option<String>,
    },
}

/// How a serial scanner frames scans and is triggered (the reader and the simulator share them).
#[derive(clap::Args)]
pub struct FramingArgs {
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
pub enum CameraCommand {
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

pub fn command(a: ScanArgs) -> Result<()> {
    if let Some(ScanSimCommand::Sim {
        framing: f,
        on,
        hidg,
    }) = a.sim
    {
        let device = match (on, hidg) {
            (Some(path), _) => SimDevice::Port(path),
            (None, Some(path)) => SimDevice::Hidg(path),
            (None, None) => SimDevice::Pty,
        };
        return sim(&f.prefix, &f.suffix, &f.trigger, device);
    }
    let serial = a.port.as_deref().map(|port| SerialArgs {
        port,
        baud: a.baud,
        prefix: &a.framing.prefix,
        suffix: &a.framing.suffix,
        trigger: &a.framing.trigger,
    });
    scan(serial, a.evdev.as_deref(), a.count)
}

/// `hallkiosk qr …`.
pub fn qr_command(c: QrCommand) -> ExitCode {
    match c {
        QrCommand::Decode { files, json } => qr_decode(&files, json),
    }
}

/// `hallkiosk camera …`.
pub fn camera_command(c: CameraCommand) -> Result<()> {
    match c {
        CameraCommand::List { json } => camera_list(json),
        CameraCommand::Snapshot {
            device,
            output,
            width,
            height,
        } => camera_snapshot(&device, &output, (width, height)),
    }
}
