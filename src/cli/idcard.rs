//! `hallkiosk idcard …`: the maintainer's tools for the ID-card reader.
//!
//! - `read` reads one card and prints it, masked unless `--reveal`;
//! - `status` prints the SAM's status and module number;
//! - `sim` serves a simulated reader on a pty and takes commands on stdin.

use crate::kiosk::devices::open_idcard;
use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use hallkiosk_drivers::idcard::frame::Sw3;
use hallkiosk_drivers::idcard::reader::{ReadOptions, Reader, ReaderError, SamLink, Timeouts};
use hallkiosk_drivers::idcard::{mask_middle, mask_name, nation_name, IdCard, ValidTo};
use hallkiosk_drivers::sim::fixtures::CardFixture;
use hallkiosk_drivers::sim::sam::{PtySam, SamState};
use hallkiosk_drivers::transport::DeviceAddress;
use std::time::{Duration, Instant};

/// Where the reader is: `--port` (a device path or any address form) and `--baud`.
pub fn address(port: &str, baud: Option<u32>) -> Result<DeviceAddress> {
    let address: DeviceAddress = if port.starts_with('/') {
        DeviceAddress::Serial {
            path: port.to_string(),
            baud,
        }
    } else {
        port.parse()?
    };
    Ok(match address {
        DeviceAddress::Serial { path, baud: None } => DeviceAddress::Serial { path, baud },
        other => other,
    })
}

fn open(address: &DeviceAddress) -> Result<Reader<Box<dyn SamLink>>> {
    let link =
        open_idcard(address).with_context(|| format!("cannot open the reader at {address}"))?;
    Ok(Reader::new(link, Timeouts::default()))
}

/// Why a read failed, for the exit message: the reader's words in English and Chinese.
fn reader_failure(e: &ReaderError) -> anyhow::Error {
    anyhow!("{e} ({})", e.message_zh())
}

/// `hallkiosk idcard read`.
pub fn read(
    address: &DeviceAddress,
    json: bool,
    reveal: bool,
    options: ReadOptions,
    wait: Duration,
    today: &str,
) -> Result<()> {
    let mut reader = open(address)?;
    let deadline = Instant::now() + wait;
    let card = loop {
        match reader.read_card(options, today) {
            Ok(Some(card)) => break card,
            Ok(None) if Instant::now() >= deadline => {
                bail!(
                    "no card on the reader: {} ({})",
                    Sw3::NoCard.message_en(),
                    Sw3::NoCard.message_zh()
                )
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(reader_failure(&e)),
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&card_json(&card, reveal))?
        );
    } else {
        print!("{}", card_text(&card, reveal));
    }
    Ok(())
}

fn valid_to(card: &IdCard) -> String {
    match &card.valid_to {
        ValidTo::LongTerm => "长期".into(),
        ValidTo::Date(d) => d.clone(),
    }
}

/// Masks values that identify a person unless `reveal`.
struct Shown<'a> {
    card: &'a IdCard,
    reveal: bool,
}

impl Shown<'_> {
    fn name(&self) -> String {
        self.personal(&self.card.name, mask_name)
    }
    fn english_name(&self) -> String {
        self.personal(&self.card.english_name, mask_name)
    }
    fn id_number(&self) -> String {
        self.personal(&self.card.id_number, |n| mask_middle(n, 3, 4))
    }
    fn birth_date(&self) -> String {
        self.personal(&self.card.birth_date, |d| {
            format!("{}-**-**", &d[..4.min(d.len())])
        })
    }
    fn address(&self, a: &str) -> String {
        self.personal(a, |a| {
            let head: String = a.chars().take(6).collect();
            format!("{head}{}", "*".repeat(a.chars().count().saturating_sub(6)))
        })
    }
    fn nation(&self) -> String {
        self.personal(&self.card.nation_code, |n| "*".repeat(n.len()))
    }
    fn other(&self, v: &str) -> String {
        self.personal(v, |v| mask_middle(v, 1, 1))
    }
    fn personal(&self, v: &str, mask: impl Fn(&str) -> String) -> String {
        if self.reveal || v.is_empty() {
            v.to_string()
        } else {
            mask(v)
        }
    }
}

/// The card as a JSON object (see `docs/devices/idcard.md` for the fields).
pub fn card_json(card: &IdCard, reveal: bool) -> serde_json::Value {
    use hallkiosk_drivers::idcard::CardType;
    let s = Shown { card, reveal };
    let mut o = serde_json::json!({
        "card_type": card.card_type.as_str(),
        "name": s.name(),
        "gender": card.gender.as_str(),
        "birth_date": s.birth_date(),
        "id_number": s.id_number(),
        "valid_from": card.valid_from,
        "valid_to": valid_to(card),
        "photo_bytes": card.photo.len(),
        "fingerprint_bytes": card.fingerprints.len(),
        "masked": !reveal,
    });
    let extra: Vec<(&str, String)> = match card.card_type {
        CardType::Resident => vec![
            ("nation_code", s.nation()),
            (
                "nation",
                if reveal {
                    nation_name(&card.nation_code)
                        .unwrap_or_default()
                        .to_string()
                } else {
                    "*".into()
                },
            ),
            ("address", s.address(&card.address)),
            ("issuer", card.issuer.clone()),
        ],
        CardType::HkMoTw => vec![
            ("address", s.address(&card.address)),
            ("issuer", card.issuer.clone()),
            ("pass_number", s.other(&card.pass_number)),
            ("issue_count", card.issue_count.clone()),
        ],
        CardType::Foreign2017 => vec![
            ("english_name", s.english_name()),
            ("nationality", card.nationality.clone()),
            ("card_version", card.card_version.clone()),
            ("authority_code", card.authority_code.clone()),
        ],
        CardType::Foreign2023 => vec![
            ("english_name", s.english_name()),
            ("nationality", card.nationality.clone()),
            ("renew_count", card.renew_count.clone()),
            ("previous_number_link", s.other(&card.previous_number_link)),
            ("issuer", card.issuer.clone()),
        ],
    };
    if let serde_json::Value::Object(map) = &mut o {
        for (k, v) in extra {
            map.insert(k.into(), v.into());
        }
        if !card.appended_address.is_empty() {
            map.insert(
                "appended_address".into(),
                s.address(&card.appended_address).into(),
            );
        }
    }
    o
}

/// The card as aligned text lines.
pub fn card_text(card: &IdCard, reveal: bool) -> String {
    let o = card_json(card, reveal);
    let mut out = String::new();
    if let serde_json::Value::Object(map) = o {
        for (k, v) in map {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            out.push_str(&format!("{k:<22}{v}\n"));
        }
    }
    out
}

/// `hallkiosk idcard status`.
pub fn status(address: &DeviceAddress) -> Result<()> {
    let mut reader = open(address)?;
    let status = reader.status();
    match &status {
        Ok(()) => println!("SAM status: ready (SW3 90)"),
        Err(e) => println!("SAM status: {e}"),
    }
    match reader.sam_id() {
        Ok(id) => println!("SAM id: {id}"),
        Err(e) => println!("SAM id: unavailable ({e})"),
    }
    status.map_err(|e| reader_failure(&e))
}

/// Settings of `hallkiosk idcard sim`.
pub struct SimArgs {
    pub card: Option<CardFixture>,
    pub fault: Option<Sw3>,
    pub sticky: bool,
    pub read_delay: Duration,
    pub baud: u32,
    /// Serve on the device side of this tty (a USB gadget's /dev/ttyGS0) instead of a pty.
    pub on: Option<String>,
    /// Serve as USB 0400:c35a on this FunctionFS mount instead.
    pub functionfs: Option<std::path::PathBuf>,
}

/// Parses an SW3 given as hex (`41`, `0x41`).
pub fn parse_sw3(s: &str) -> Result<Sw3> {
    let hex = s.trim_start_matches("0x").trim_start_matches("0X");
    let b = u8::from_str_radix(hex, 16).with_context(|| format!("`{s}` is not a hex SW3 code"))?;
    Ok(Sw3::from_byte(b))
}

/// The fixture names, for messages.
pub fn fixture_names() -> String {
    CardFixture::ALL
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `hallkiosk idcard sim`: serves until stdin says `quit` or the process is stopped.
pub fn sim(args: SimArgs) -> Result<()> {
    let mut state = SamState::default();
    state.sticky = args.sticky;
    state.read_delay = args.read_delay;
    state.baud = args.baud;
    if let Some(card) = args.card {
        state.place_fixture(card);
    }
    state.faults.sw3 = args.fault;
    let help = format!(
        "commands: place FIXTURE | remove | fault XX|none | sticky on|off | \
         truncate N|off | silent on|off | corrupt on|off | quit (fixtures: {})",
        fixture_names()
    );
    if let Some(dir) = &args.functionfs {
        let sim = hallkiosk_drivers::sim::gadget::FfsSam::start(dir, state)
            .with_context(|| format!("cannot serve on FunctionFS at {}", dir.display()))?;
        println!("usb:0400:c35a");
        eprintln!(
            "simulated SAM reader on FunctionFS {}; {help}",
            dir.display()
        );
        return crate::cli::sim_console::serve(|words| sim_command(&mut sim.control(), words));
    }
    let sim = match &args.on {
        Some(path) => {
            PtySam::on_port(state, path).with_context(|| format!("cannot open {path}"))?
        }
        None => PtySam::start(state).context("cannot open a pty")?,
    };
    println!("{}", sim.path());
    eprintln!("simulated SAM reader on {}; {help}", sim.path());
    crate::cli::sim_console::serve(|words| sim_command(&mut sim.control(), words))
}

/// Applies one stdin command; `Ok(true)` for quit.
fn sim_command(c: &mut SamState, words: &[&str]) -> Result<bool> {
    let on = |w: Option<&&str>| match w.copied() {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        _ => Err(anyhow!("say on or off")),
    };
    match words {
        [] => {}
        ["quit"] => return Ok(true),
        ["place", name] => {
            let f = CardFixture::from_name(name)
                .ok_or_else(|| anyhow!("no fixture `{name}` (have {})", fixture_names()))?;
            c.place_fixture(f);
        }
        ["remove"] => c.remove(),
        ["fault", "none"] => c.faults.sw3 = None,
        ["fault", code] => c.faults.sw3 = Some(parse_sw3(code)?),
        ["sticky", rest @ ..] => c.sticky = on(rest.first())?,
        ["silent", rest @ ..] => c.faults.silent_read = on(rest.first())?,
        ["corrupt", rest @ ..] => c.faults.corrupt_read = on(rest.first())?,
        ["truncate", "off"] => c.faults.truncate_read = None,
        ["truncate", n] => c.faults.truncate_read = Some(n.parse().context("truncate N")?),
        other => bail!("unknown command `{}`", other.join(" ")),
    }
    Ok(false)
}

/// `hallkiosk idcard watch`: runs the kiosk's reader service (polling, one read per placement,
/// fault reports, reconnecting by itself) and prints each event on a line, flushed, without the
/// card's personal data: `card TYPE`, `removed`, `rejected WHY`, `fault REASON`, `recovered`.
pub fn watch(address: DeviceAddress, seconds: u64) -> Result<()> {
    use hallkiosk_drivers::DeviceEvent;
    use std::io::Write;
    let today: std::sync::Arc<dyn Fn() -> String + Send + Sync> =
        std::sync::Arc::new(crate::shared::clock::local_today);
    let mut events = crate::kiosk::devices::spawn_idcard_service(address, today)
        .context("cannot start the reader service")?;
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut out = std::io::stdout().lock();
    while Instant::now() < until {
        let line = match events.try_recv() {
            Ok(DeviceEvent::CardPresented(card)) => format!("card {}", card.card_type.as_str()),
            Ok(DeviceEvent::CardRemoved) => "removed".into(),
            Ok(DeviceEvent::CardRejected(why)) => format!("rejected {why:?}"),
            Ok(DeviceEvent::DeviceFault { reason, .. }) => format!("fault {reason}"),
            Ok(DeviceEvent::DeviceRecovered { .. }) => "recovered".into(),
            Ok(_) => continue,
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                bail!("the reader service stopped")
            }
        };
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum IdcardCommand {
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
    /// Run the kiosk's reader service and print its events (card TYPE, removed, fault, recovered)
    Watch {
        #[arg(long, value_name = "PATH")]
        port: String,
        #[arg(long)]
        baud: Option<u32>,
        /// Stop after SECS
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        seconds: u64,
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
        /// Serve on the device side of this tty instead of a pty (a USB gadget's /dev/ttyGS0)
        #[arg(long = "on", value_name = "PATH", conflicts_with = "functionfs")]
        on: Option<String>,
        /// Serve as the USB reader 0400:c35a on this FunctionFS mount (the virtual rig)
        #[arg(long, value_name = "DIR")]
        functionfs: Option<std::path::PathBuf>,
    },
}

pub fn command(c: IdcardCommand) -> Result<()> {
    match c {
        IdcardCommand::Read {
            port,
            baud,
            json,
            reveal,
            fingerprint,
            appended_address,
            wait,
        } => read(
            &address(&port, baud)?,
            json,
            reveal,
            ReadOptions {
                fingerprint,
                appended_address,
            },
            Duration::from_secs(wait),
            &crate::shared::clock::local_today(),
        ),
        IdcardCommand::Status { port, baud } => status(&address(&port, baud)?),
        IdcardCommand::Watch {
            port,
            baud,
            seconds,
        } => watch(address(&port, baud)?, seconds),
        IdcardCommand::Sim {
            card,
            fault,
            sticky,
            read_delay_ms,
            baud,
            on,
            functionfs,
        } => {
            let card = match card {
                Some(name) => Some(CardFixture::from_name(&name).ok_or_else(|| {
                    anyhow::anyhow!("no card fixture `{name}` (have {})", fixture_names())
                })?),
                None => None,
            };
            sim(SimArgs {
                card,
                fault: fault.as_deref().map(parse_sw3).transpose()?,
                sticky,
                read_delay: Duration::from_millis(read_delay_ms),
                baud,
                on,
                functionfs,
            })
        }
    }
}
