//! `hallkiosk print …`: the technician's tools for the receipt printer.
//!
//! - `test` prints the test page (Chinese text, rare characters as a raster, logo, QR, cut);
//! - `status` prints the printer's status and exits non-zero, naming why, when it cannot print;
//! - `preview` renders captured raw ESC/POS to PNG (and a JSON transcript);
//! - `sim` serves a simulated printer on loopback TCP or a pty, with commands on stdin.

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use hallkiosk_drivers::printer::job::{not_ready_reason, JobOutcome, MemoryLedger, Printer};
use hallkiosk_drivers::printer::page::Page;
use hallkiosk_drivers::printer::parse::Parser;
use hallkiosk_drivers::printer::raster::TextRaster;
use hallkiosk_drivers::printer::receipt::{encode, Profile};
use hallkiosk_drivers::printer::{link, testpage, PrinterStatus};
use hallkiosk_drivers::sim::printer::{PrinterState, SimPrinter};
use hallkiosk_drivers::transport::DeviceAddress;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A printer profile by name, with the names in the error.
pub fn profile(name: &str) -> Result<Profile> {
    Profile::by_name(name).ok_or_else(|| {
        anyhow!("no printer profile `{name}` (have generic-80mm, generic-58mm, epson-80mm)")
    })
}

fn font() -> Result<TextRaster> {
    TextRaster::system().with_context(|| {
        "cannot load the CJK font for rare characters (install fonts-noto-cjk: scripts/setup)"
    })
}

fn connect(
    address: &DeviceAddress,
) -> Result<Printer<Box<dyn hallkiosk_drivers::transport::link::Link>>> {
    let link =
        link::open(address).with_context(|| format!("cannot open the printer at {address}"))?;
    Ok(Printer::new(link))
}

/// `hallkiosk print test`.
pub fn test(address: &DeviceAddress, profile: &Profile, kiosk: &str) -> Result<()> {
    println!("{}", test_page(address, profile, kiosk)?);
    Ok(())
}

/// Prints the test page; says what was printed, or why not.
pub fn test_page(address: &DeviceAddress, profile: &Profile, kiosk: &str) -> Result<String> {
    let marker = format!("HALLKIOSK-TEST-{}", crate::shared::clock::local_stamp());
    let bytes = encode(
        &testpage::test_page(kiosk, &marker),
        profile,
        Some(&font()?),
    )?;
    let mut printer = connect(address)?;
    let outcome = printer.print_job(
        &marker,
        &bytes,
        false,
        &mut MemoryLedger::default(),
        Duration::from_secs(20),
    )?;
    match outcome {
        JobOutcome::Printed => Ok(format!(
            "printed test page {marker} ({} bytes)",
            bytes.len()
        )),
        JobOutcome::NotPrinted(s) => bail!("not printed: {}", reason(&s)),
        JobOutcome::PartlyPrinted(s) => bail!("partly printed: {}", reason(&s)),
        other => bail!("not printed: {other:?}"),
    }
}

fn reason(s: &PrinterStatus) -> &'static str {
    not_ready_reason(s).unwrap_or("the printer did not confirm the page")
}

/// `hallkiosk print status`.
pub fn status(address: &DeviceAddress, json: bool) -> Result<()> {
    let mut printer = connect(address)?;
    let s = printer.status()?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "ready": s.can_print(),
                "reason": not_ready_reason(&s),
                "online": !s.offline,
                "cover_open": s.cover_open,
                "paper_near_end": s.paper_near_end,
                "paper_end": s.paper_end || s.stopped_by_paper_end,
                "cutter_error": s.cutter_error,
                "unrecoverable_error": s.unrecoverable,
                "recoverable_error": s.recoverable,
            }))?
        );
    } else {
        let yes = |b: bool| if b { "yes" } else { "no" };
        println!("ready           {}", yes(s.can_print()));
        println!("online          {}", yes(!s.offline));
        println!("cover open      {}", yes(s.cover_open));
        println!("paper near end  {}", yes(s.paper_near_end));
        println!(
            "paper end       {}",
            yes(s.paper_end || s.stopped_by_paper_end)
        );
        println!("cutter error    {}", yes(s.cutter_error));
        println!("unrecoverable   {}", yes(s.unrecoverable));
        println!("recoverable     {}", yes(s.recoverable));
    }
    match not_ready_reason(&s) {
        None => Ok(()),
        Some(why) => bail!("the printer cannot print: {why}"),
    }
}

/// `hallkiosk print preview`.
pub fn preview(
    input: &Path,
    output: &Path,
    profile: &Profile,
    transcript: Option<&Path>,
) -> Result<()> {
    let bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let mut page = Page::new(profile.width_dots, profile.chinese_on_power_up);
    for op in Parser::new(profile.chinese_on_power_up).push(&bytes) {
        page.apply(&op);
    }
    let font = font().ok();
    if font.is_none() {
        eprintln!("warning: no CJK font; text is drawn as boxes");
    }
    let img = page.render(font.as_ref());
    img.save(output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    if let Some(t) = transcript {
        std::fs::write(t, serde_json::to_vec_pretty(&page.transcript)?)?;
    }
    println!(
        "{}: {}x{} dots, {} text lines, {} cuts",
        output.display(),
        img.width(),
        img.height(),
        page.text_lines().len(),
        page.cuts()
    );
    Ok(())
}

/// `hallkiosk print sim`: serves until `quit` on stdin or the process is stopped.
pub fn sim(tcp_port: Option<u16>, pty: bool, gadget: Option<&str>, profile: Profile) -> Result<()> {
    let state = PrinterState::new(profile);
    let sim = if let Some(path) = gadget {
        SimPrinter::gadget(state, path).with_context(|| format!("cannot open {path}"))?
    } else if pty {
        SimPrinter::pty(state)?
    } else {
        SimPrinter::tcp(state, tcp_port.unwrap_or(0))?
    };
    println!("{}", sim.address());
    eprintln!(
        "simulated printer on {}; commands: paper ok|near|out | cover open|closed | \
         cutter on|off | error on|off | clone on|off | hold on|off | runout N | power-cycle | png FILE | \
         transcript FILE | count | quit",
        sim.address()
    );
    crate::cli::sim_console::serve(|words| sim_command(&sim, words))
}

fn sim_command(sim: &SimPrinter, words: &[&str]) -> Result<bool> {
    let on = |w: &str| match w {
        "on" | "open" => Ok(true),
        "off" | "closed" => Ok(false),
        _ => Err(anyhow!("say on/off (open/closed)")),
    };
    let mut c = sim.control();
    match words {
        [] => return Ok(false),
        ["quit"] => return Ok(true),
        ["paper", "ok"] => {
            c.paper_end = false;
            c.paper_near_end = false;
            c.paper_runs_out_after = None;
        }
        ["paper", "near"] => {
            c.paper_end = false;
            c.paper_near_end = true;
        }
        ["paper", "out"] => {
            c.paper_end = true;
            c.paper_near_end = true;
        }
        ["cover", w] => c.cover_open = on(w)?,
        ["cutter", w] => c.cutter_error = on(w)?,
        ["error", w] => c.unrecoverable = on(w)?,
        ["clone", w] => c.clone_status = on(w)?,
        ["hold", w] => c.hold_input = on(w)?,
        ["runout", n] => c.paper_runs_out_after = Some(n.parse().context("runout N")?),
        ["power-cycle"] => c.power_cycle(),
        ["png", file] => {
            let font = TextRaster::system().ok();
            c.page.render(font.as_ref()).save(file)?;
        }
        ["count"] => {
            // On stderr before the "ok": what is on the paper so far.
            eprintln!(
                "paper: {} cuts, {} text lines",
                c.page.cuts(),
                c.page.text_lines().len()
            );
            return Ok(false);
        }
        ["transcript", file] => {
            std::fs::write(file, serde_json::to_vec_pretty(&c.page.transcript)?)?
        }
        other => bail!("unknown command `{}`", other.join(" ")),
    }
    c.changed();
    Ok(false)
}

#[derive(Subcommand)]
pub enum PrintCommand {
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
        #[arg(long, conflicts_with = "gadget")]
        pty: bool,
        /// Serve on a USB printer gadget's device file (/dev/g_printer0; the virtual rig)
        #[arg(long, value_name = "PATH", conflicts_with = "tcp")]
        gadget: Option<String>,
        #[arg(long, default_value = "generic-80mm")]
        profile: String,
    },
}

pub fn command(config_path: Option<&Path>, c: PrintCommand) -> Result<()> {
    let address = |uri: &str| -> Result<hallkiosk_drivers::transport::DeviceAddress> {
        uri.parse().map_err(anyhow::Error::from)
    };
    match c {
        PrintCommand::Test { printer, profile } => {
            let kiosk = crate::shared::config::Config::load(config_path)
                .map(|(c, _)| c.kiosk.id.to_string())
                .unwrap_or_else(|_| "?".into());
            test(&address(&printer)?, &self::profile(&profile)?, &kiosk)
        }
        PrintCommand::Status { printer, json } => status(&address(&printer)?, json),
        PrintCommand::Preview {
            file,
            output,
            profile,
            transcript,
        } => preview(
            &file,
            &output,
            &self::profile(&profile)?,
            transcript.as_deref(),
        ),
        PrintCommand::Sim {
            tcp,
            pty,
            gadget,
            profile,
        } => sim(tcp, pty, gadget.as_deref(), self::profile(&profile)?),
    }
}
