//! `hallkiosk print …`: the technician's tools for the receipt printer.
//!
//! - `test` prints the test page (Chinese text, rare characters as a raster, logo, QR, cut);
//! - `status` prints the printer's status and exits non-zero, naming why, when it cannot print;
//! - `preview` renders captured raw ESC/POS to PNG (and a JSON transcript);
//! - `sim` serves a simulated printer on loopback TCP or a pty, with commands on stdin;
//! - `watch` runs the kiosk's own printer service, takes jobs on stdin and prints its events.

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

/// `hallkiosk print watch`: runs the kiosk's printer service (status polling, exactly-once jobs
/// with the durable ledger at `ledger`, fault reports, reconnecting by itself) and prints each
/// event on a line, flushed: `status ready` or `status not-ready WHY`, `fault REASON`,
/// `recovered`, and for each job `job ID OUTCOME` (`printed`, `already-printed`,
/// `not-printed WHY`, `partly-printed WHY`, `needs-reprint`, `error MESSAGE`). Jobs come on stdin,
/// one a line: `print ID` prints the test page as job ID, `reprint ID` sends it again when an
/// earlier attempt did not finish.
pub fn watch(
    address: DeviceAddress,
    ledger: &Path,
    profile: &Profile,
    kiosk: &str,
    seconds: u64,
) -> Result<()> {
    use hallkiosk_drivers::printer::service::JobRequest;
    use hallkiosk_drivers::DeviceEvent;
    use std::io::{BufRead, Write};
    use std::time::Instant;
    use tokio::sync::mpsc::error::TryRecvError;
    let font = font()?;
    let (mut events, jobs) = crate::kiosk::devices::spawn_printer_service(address, ledger)
        .context("cannot start the printer service")?;
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut waiting: Vec<(String, tokio::sync::oneshot::Receiver<_>)> = Vec::new();
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| -> Result<()> {
        writeln!(out, "{line}")?;
        out.flush()?;
        Ok(())
    };
    while Instant::now() < until {
        let mut idle = true;
        while let Ok(line) = lines.try_recv() {
            idle = false;
            let words: Vec<&str> = line.split_whitespace().collect();
            let (id, reprint) = match words.as_slice() {
                [] => continue,
                ["print", id] => (id.to_string(), false),
                ["reprint", id] => (id.to_string(), true),
                _ => {
                    eprintln!("print watch: say `print ID` or `reprint ID`, not `{line}`");
                    continue;
                }
            };
            let bytes = encode(&testpage::test_page(kiosk, &id), profile, Some(&font))?;
            let (reply, answer) = tokio::sync::oneshot::channel();
            let job = JobRequest {
                id: id.clone(),
                bytes,
                reprint,
                reply,
            };
            if jobs.send(job).is_err() {
                bail!("the printer service stopped");
            }
            waiting.push((id, answer));
        }
        let mut still = Vec::new();
        for (id, mut answer) in waiting.drain(..) {
            let outcome = match answer.try_recv() {
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {
                    still.push((id, answer));
                    continue;
                }
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                    "error the printer service dropped the job".to_string()
                }
                Ok(Ok(JobOutcome::Printed)) => "printed".into(),
                Ok(Ok(JobOutcome::AlreadyPrinted)) => "already-printed".into(),
                Ok(Ok(JobOutcome::NeedsReprint)) => "needs-reprint".into(),
                Ok(Ok(JobOutcome::NotPrinted(s))) => format!("not-printed {}", reason(&s)),
                Ok(Ok(JobOutcome::PartlyPrinted(s))) => format!("partly-printed {}", reason(&s)),
                Ok(Err(e)) => format!("error {e}"),
            };
            idle = false;
            say(format!("job {id} {outcome}"))?;
        }
        waiting = still;
        let line = match events.try_recv() {
            Ok(DeviceEvent::PrinterStatus(s)) => match not_ready_reason(&s) {
                None => "status ready".into(),
                Some(why) => format!("status not-ready {why}"),
            },
            Ok(DeviceEvent::DeviceFault { reason, .. }) => format!("fault {reason}"),
            Ok(DeviceEvent::DeviceRecovered { .. }) => "recovered".into(),
            Ok(_) => continue,
            Err(TryRecvError::Empty) => {
                if idle {
                    std::thread::sleep(Duration::from_millis(20));
                }
                continue;
            }
            Err(TryRecvError::Disconnected) => bail!("the printer service stopped"),
        };
        say(line)?;
    }
    Ok(())
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
         cutter on|off | error on|off | clone on|off | hold on|off | lose-job N|off | runout N | power-cycle | png FILE | \
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
        ["lose-job", "off"] => {
            c.lose_job_after = None;
            c.host_gone();
        }
        ["lose-job", n] => c.lose_job_after = Some(n.parse().context("lose-job N")?),
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
    /// Run the kiosk's printer service: jobs on stdin (`print ID`, `reprint ID`), one event a line
    Watch {
        #[arg(long, value_name = "URI")]
        printer: String,
        /// The job ledger (a file; jobs recorded printed there are never printed again)
        #[arg(long, value_name = "FILE")]
        ledger: PathBuf,
        #[arg(long, default_value = "generic-80mm")]
        profile: String,
        /// Stop after SECS
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        seconds: u64,
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
        PrintCommand::Watch {
            printer,
            ledger,
            profile,
            seconds,
        } => {
            let kiosk = crate::shared::config::Config::load(config_path)
                .map(|(c, _)| c.kiosk.id.to_string())
                .unwrap_or_else(|_| "?".into());
            watch(
                address(&printer)?,
                &ledger,
                &self::profile(&profile)?,
                &kiosk,
                seconds,
            )
        }
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
