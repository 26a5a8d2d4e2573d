//! A simulated SAM ID-card reader that speaks the device side of GA/T 467 with the same codec as
//! the driver ([`crate::idcard::frame`], [`crate::idcard::text`]), and serves it over a real pty
//! pair with the UART's byte pacing (devices.md §1.11).
//!
//! [`SamDevice`] is sans-IO: request bytes in, timed replies out. [`PtySam`] runs one on a pty: the
//! driver opens [`PtySam::path`] like any serial port, and the test or the CLI places and removes
//! cards and injects faults through [`PtySam::control`].

use super::fixtures::CardFixture;
use crate::idcard::frame::{Baud, CardData, Command, FrameDecoder, FrameError, Response, Sw3};
use crate::idcard::{text, IdCard};
use serialport::TTYPort;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How the simulated reader misbehaves, on demand.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Faults {
    /// Answer with this SW3 (see [`SamDevice`] for which command carries which code).
    pub sw3: Option<Sw3>,
    /// Send only this many bytes of a card-read response.
    pub truncate_read: Option<usize>,
    /// Never answer a card read.
    pub silent_read: bool,
    /// Flip the checksum of card-read responses.
    pub corrupt_read: bool,
    /// Answer nothing at all (a hung or unpowered module behind a live USB-serial adapter).
    pub mute: bool,
}

/// The simulated reader's state and settings.
#[derive(Debug, Clone)]
pub struct SamState {
    /// The card on the antenna.
    pub card: Option<IdCard>,
    /// Appended address of the card, if any (30 03 answers 91 otherwise).
    pub appended_address: Option<String>,
    pub faults: Faults,
    /// "Card still on antenna" quirk (devices.md §1.9): after a read, find and select fail with
    /// 80/81 while the card stays, yet a read still succeeds.
    pub sticky: bool,
    /// SW3 for a read without select: 0x41 or 0x81.
    pub read_without_select: Sw3,
    /// Delay before answering a card read (vendors: 400–1000 ms; the benchmark uses 0).
    pub read_delay: Duration,
    /// UART rate the replies are paced at (0 = as fast as the pty takes them).
    pub baud: u32,
    /// Whether `60 xx` really switches the pacing rate (the host must follow) or is only answered.
    pub apply_baud_change: bool,
    /// Commands received, by name, for tests.
    pub log: Vec<&'static str>,
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No card, or a card placed and not yet found.
    Idle,
    Found,
    Selected,
    /// Read at least once and still on the antenna.
    Read,
}

impl Default for SamState {
    fn default() -> Self {
        SamState {
            card: None,
            appended_address: None,
            faults: Faults::default(),
            sticky: false,
            read_without_select: Sw3::ReadFailed,
            read_delay: Duration::ZERO,
            baud: 115_200,
            apply_baud_change: true,
            log: Vec::new(),
            phase: Phase::Idle,
        }
    }
}

impl SamState {
    /// Places `card` on the antenna (replacing any other).
    pub fn place(&mut self, card: IdCard) {
        self.card = Some(card);
        self.phase = Phase::Idle;
    }

    pub fn place_fixture(&mut self, fixture: CardFixture) {
        self.place(fixture.card());
    }

    pub fn remove(&mut self) {
        self.card = None;
        self.phase = Phase::Idle;
    }
}

/// One reply: wait `delay`, then send `bytes` (possibly cut short), paced at the state's baud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub delay: Duration,
    pub bytes: Vec<u8>,
}

/// The device side: decodes requests and produces replies.
#[derive(Debug, Default)]
pub struct SamDevice {
    decoder: FrameDecoder,
}

/// The fixed 16-byte module number of the simulator.
pub const SIM_SAM_ID: [u8; 16] = [
    0x05, 0x00, 0x01, 0x00, 0x15, 0xCD, 0x5B, 0x07, 0x40, 0xE2, 0x01, 0x00, 0x87, 0xD6, 0x12, 0x00,
];

impl SamDevice {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes from the host; returns the replies for every complete request.
    pub fn receive(&mut self, state: &mut SamState, bytes: &[u8]) -> Vec<Reply> {
        self.decoder.push(bytes);
        let mut replies = Vec::new();
        while let Some(frame) = self.decoder.next_body() {
            if state.faults.mute {
                continue;
            }
            let reply = match frame {
                Err(FrameError::Checksum { .. }) => now(Response::status(Sw3::ChecksumError)),
                Err(FrameError::Length(_)) => now(Response::status(Sw3::LengthError)),
                Ok(body) if body.len() < 2 => now(Response::status(Sw3::LengthError)),
                Ok(body) => match Command::from_body(&body) {
                    None => now(Response::status(Sw3::CommandError)),
                    Some(command) => {
                        state.log.push(command.name());
                        answer(state, command)
                    }
                },
            };
            if let Some(reply) = reply {
                replies.push(reply);
            }
        }
        replies
    }
}

fn now(r: Response) -> Option<Reply> {
    Some(Reply {
        delay: Duration::ZERO,
        bytes: r.encode(),
    })
}

fn status_with_words(sw3: Sw3) -> Response {
    // For 31/41/47/81 the card's own status words come along (devices.md §1.2).
    let (sw1, sw2) = match sw3.byte() {
        0x31 | 0x41 | 0x47 | 0x81 => (0x6A, 0x82),
        _ => (0, 0),
    };
    Response {
        sw1,
        sw2,
        sw3,
        data: Vec::new(),
    }
}

/// Which command an injected SW3 answers.
fn fault_for(sw3: Sw3, command: Command) -> bool {
    let reads = matches!(
        command,
        Command::ReadBase | Command::ReadBaseWithFingerprint | Command::ReadAppendedAddress
    );
    match sw3 {
        // The module itself is broken or confused: every command.
        Sw3::SamSelfTestFailed
        | Sw3::SamNotAuthorised
        | Sw3::Unauthorised
        | Sw3::ChecksumError
        | Sw3::LengthError
        | Sw3::CommandError
        | Sw3::Unrecognised => true,
        Sw3::NoCard => command == Command::Find,
        Sw3::SelectFailed => command == Command::Select,
        _ => reads,
    }
}

fn answer(state: &mut SamState, command: Command) -> Option<Reply> {
    if let Some(sw3) = state.faults.sw3 {
        if fault_for(sw3, command) {
            return now(status_with_words(sw3));
        }
    }
    let ok = Response::status(Sw3::Success);
    let with_data = |sw3, data| Response {
        sw1: 0,
        sw2: 0,
        sw3,
        data,
    };
    match command {
        Command::Reset => {
            state.phase = Phase::Idle;
            now(ok)
        }
        Command::Status | Command::SetMaxRfFrame(_) => now(ok),
        Command::SamId => now(with_data(Sw3::Success, SIM_SAM_ID.to_vec())),
        Command::SetBaud(baud) => {
            let reply = now(ok);
            if state.apply_baud_change {
                // The reply still goes out at the old rate; the switch follows it.
                state.baud = match baud {
                    Baud::B115200 => 115_200,
                    other => other.rate(),
                };
            }
            reply
        }
        Command::Find => match (&state.card, state.phase) {
            (None, _) => now(Response::status(Sw3::NoCard)),
            (Some(_), Phase::Read) if state.sticky => now(Response::status(Sw3::NoCard)),
            (Some(_), _) => {
                state.phase = Phase::Found;
                now(with_data(Sw3::FindSuccess, vec![0; 4]))
            }
        },
        Command::Select => match (&state.card, state.phase) {
            (Some(_), Phase::Found) => {
                state.phase = Phase::Selected;
                now(with_data(Sw3::Success, vec![0; 8]))
            }
            (Some(_), Phase::Read) if state.sticky => now(status_with_words(Sw3::SelectFailed)),
            _ => now(status_with_words(Sw3::SelectFailed)),
        },
        Command::ReadBase | Command::ReadBaseWithFingerprint => {
            let ready = matches!(state.phase, Phase::Selected)
                || (state.sticky && state.phase == Phase::Read);
            let card = match (&state.card, ready) {
                (Some(card), true) => card,
                (None, _) => return now(status_with_words(Sw3::ReadFailed)),
                (Some(_), false) => return now(status_with_words(state.read_without_select)),
            };
            if state.faults.silent_read {
                return None;
            }
            let fingerprint = command == Command::ReadBaseWithFingerprint;
            let data = match text::encode(card) {
                Ok(block) => CardData {
                    text: block.to_vec(),
                    photo: card.photo.clone(),
                    fingerprints: card.fingerprints.clone(),
                }
                .encode(fingerprint),
                Err(_) => return now(status_with_words(Sw3::InformationLengthError)),
            };
            state.phase = Phase::Read;
            let mut bytes = with_data(Sw3::Success, data).encode();
            if state.faults.corrupt_read {
                if let Some(last) = bytes.last_mut() {
                    *last ^= 0xFF;
                }
            }
            if let Some(n) = state.faults.truncate_read {
                bytes.truncate(n);
            }
            Some(Reply {
                delay: state.read_delay,
                bytes,
            })
        }
        Command::ReadAppendedAddress => match (&state.card, state.phase) {
            (Some(_), Phase::Read | Phase::Selected) => match &state.appended_address {
                Some(address) => {
                    let mut data: Vec<u8> = address
                        .encode_utf16()
                        .take(35)
                        .flat_map(u16::to_le_bytes)
                        .collect();
                    while data.len() < 70 {
                        data.extend(0x0020u16.to_le_bytes());
                    }
                    now(with_data(Sw3::Success, data))
                }
                None => now(Response::status(Sw3::NoSuchItem)),
            },
            _ => now(status_with_words(state.read_without_select)),
        },
    }
}

/// A simulated reader served on a pty pair until dropped.
pub struct PtySam {
    path: String,
    served: super::Served<SamState>,
}

impl PtySam {
    /// Opens a pty pair and starts serving on its master side.
    pub fn start(state: SamState) -> std::io::Result<PtySam> {
        let (master, path) = super::open_pty()?;
        let served = super::Served::start("sam-sim", state, move |state, stop| {
            serve(master, state, stop)
        })?;
        Ok(PtySam { path, served })
    }

    /// Serves on the device side of an existing tty (a USB gadget's `/dev/ttyGS0`): the driver
    /// opens the host side (`/dev/ttyACM0`).
    /// When the host goes away the tty is hung up; it is opened again for the next host.
    pub fn on_port(state: SamState, path: &str) -> std::io::Result<PtySam> {
        let port = super::open_device_tty(path)?;
        let reopen = path.to_string();
        let served = super::Served::start("sam-sim", state, move |state, stop| {
            let mut port = Some(port);
            while !stop.load(Ordering::SeqCst) {
                if let Ok(p) = port
                    .take()
                    .map_or_else(|| super::open_device_tty(&reopen), Ok)
                {
                    serve_tty(p, state, stop, true);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })?;
        Ok(PtySam {
            path: path.to_string(),
            served,
        })
    }

    /// The pty path the driver opens.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The reader's state: place cards, inject faults, read the command log.
    pub fn control(&self) -> MutexGuard<'_, SamState> {
        self.served.control()
    }

    /// The reader's state, shared (for a thread that changes it later).
    pub fn shared(&self) -> std::sync::Arc<Mutex<SamState>> {
        self.served.shared()
    }

    /// Stops serving and closes the pty (the driver sees the reader unplugged).
    pub fn unplug(mut self) {
        self.served.shutdown();
    }
}

fn serve(master: TTYPort, state: &Mutex<SamState>, stop: &AtomicBool) {
    serve_tty(master, state, stop, false)
}

/// Serves until `stop`; with `end_on_hangup` (a gadget's tty) also returns when the tty hangs up,
/// so that the caller opens it again: a hung-up tty never carries data again, and a pty master's
/// hang-up (no driver has the slave open) only means "wait".
fn serve_tty(mut master: TTYPort, state: &Mutex<SamState>, stop: &AtomicBool, end_on_hangup: bool) {
    let mut device = SamDevice::new();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::SeqCst) {
        let n = match master.read(&mut buf) {
            Ok(0) if end_on_hangup => return,
            Ok(0) => continue,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(e.kind(), std::io::ErrorKind::BrokenPipe)
                    || e.raw_os_error() == Some(5) =>
            {
                if end_on_hangup {
                    return;
                }
                // No driver has the slave open: wait for one.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "simulated reader: pty read failed");
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let (replies, baud) = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            let baud = s.baud;
            (device.receive(&mut s, &buf[..n]), baud)
        };
        for reply in replies {
            if !sleep_unless_stopped(reply.delay, stop) {
                return;
            }
            if write_paced(&mut master, &reply.bytes, baud, stop).is_err() {
                tracing::warn!("simulated reader: pty write failed");
            }
        }
    }
}

fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(10)));
    }
    !stop.load(Ordering::SeqCst)
}

/// Writes `bytes` so that byte `i` leaves no earlier than `i × 10 / baud` seconds after the first
/// (8N1: ten bit times per byte), in chunks of about a millisecond.
pub fn write_paced(
    out: &mut impl Write,
    bytes: &[u8],
    baud: u32,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    if baud == 0 {
        return out.write_all(bytes);
    }
    let per_byte = Duration::from_secs_f64(10.0 / f64::from(baud));
    let chunk = (baud as usize / 10_000).max(1);
    let start = Instant::now();
    let mut sent = 0;
    while sent < bytes.len() {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let end = (sent + chunk).min(bytes.len());
        let due = start + per_byte * end as u32;
        let wait = due.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        out.write_all(&bytes[sent..end])?;
        sent = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(dev: &mut SamDevice, st: &mut SamState, c: Command) -> Response {
        let replies = dev.receive(st, &c.encode());
        assert_eq!(replies.len(), 1, "{c:?}");
        let mut d = FrameDecoder::new();
        d.push(&replies[0].bytes);
        Response::from_body(&d.next_body().unwrap().unwrap()).unwrap()
    }

    #[test]
    fn find_select_read_follows_the_state_machine() {
        let (mut dev, mut st) = (SamDevice::new(), SamState::default());
        assert_eq!(exchange(&mut dev, &mut st, Command::Find).sw3, Sw3::NoCard);
        st.place_fixture(CardFixture::Resident);
        assert_eq!(
            exchange(&mut dev, &mut st, Command::ReadBase).sw3,
            Sw3::ReadFailed
        );
        st.read_without_select = Sw3::SelectFailed;
        assert_eq!(
            exchange(&mut dev, &mut st, Command::ReadBase).sw3,
            Sw3::SelectFailed
        );
        let found = exchange(&mut dev, &mut st, Command::Find);
        assert_eq!((found.sw3, found.data.len()), (Sw3::FindSuccess, 4));
        let sel = exchange(&mut dev, &mut st, Command::Select);
        assert_eq!((sel.sw3, sel.data.len()), (Sw3::Success, 8));
        let read = exchange(&mut dev, &mut st, Command::ReadBase);
        assert_eq!((read.sw3, read.data.len()), (Sw3::Success, 4 + 256 + 1024));
        assert_eq!(
            exchange(&mut dev, &mut st, Command::ReadAppendedAddress).sw3,
            Sw3::NoSuchItem
        );
        st.appended_address = Some("北京市西城区新地址1号".into());
        let addr = exchange(&mut dev, &mut st, Command::ReadAppendedAddress);
        assert_eq!(addr.data.len(), 70);
    }

    #[test]
    fn the_sticky_quirk_fails_find_but_reads() {
        let (mut dev, mut st) = (SamDevice::new(), SamState::default());
        st.sticky = true;
        st.place_fixture(CardFixture::Resident);
        exchange(&mut dev, &mut st, Command::Find);
        exchange(&mut dev, &mut st, Command::Select);
        assert_eq!(
            exchange(&mut dev, &mut st, Command::ReadBase).sw3,
            Sw3::Success
        );
        assert_eq!(exchange(&mut dev, &mut st, Command::Find).sw3, Sw3::NoCard);
        assert_eq!(
            exchange(&mut dev, &mut st, Command::Select).sw3,
            Sw3::SelectFailed
        );
        assert_eq!(
            exchange(&mut dev, &mut st, Command::ReadBase).sw3,
            Sw3::Success
        );
        st.sticky = false;
        assert_eq!(
            exchange(&mut dev, &mut st, Command::Find).sw3,
            Sw3::FindSuccess
        );
    }

    #[test]
    fn bad_requests_get_the_documented_codes() {
        let (mut dev, mut st) = (SamDevice::new(), SamState::default());
        // The libusb demo's find with a wrong checksum (devices.md §1.10 item 3).
        let r = dev.receive(
            &mut st,
            &[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x21],
        );
        assert_eq!(r[0].bytes, Response::status(Sw3::ChecksumError).encode());
        // The C# client's undefined Para 00 (checksum made right): unknown command.
        let r = dev.receive(
            &mut st,
            &[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x00, 0x23],
        );
        assert_eq!(r[0].bytes, Response::status(Sw3::CommandError).encode());
        // A one-byte body: length error.
        let r = dev.receive(&mut st, &crate::idcard::frame::encode_frame(&[0x20]));
        assert_eq!(r[0].bytes, Response::status(Sw3::LengthError).encode());
        assert!(st.log.is_empty(), "no command was understood");
    }

    #[test]
    fn every_sw3_can_be_injected_and_names_itself() {
        for sw3 in Sw3::ALL_KNOWN.into_iter().filter(|s| !s.is_success()) {
            let (mut dev, mut st) = (SamDevice::new(), SamState::default());
            st.place_fixture(CardFixture::Resident);
            st.faults.sw3 = Some(sw3);
            let answers: Vec<Sw3> = [
                Command::Status,
                Command::Find,
                Command::Select,
                Command::ReadBase,
            ]
            .into_iter()
            .map(|c| exchange(&mut dev, &mut st, c).sw3)
            .collect();
            assert!(
                answers.contains(&sw3),
                "{sw3:?} never answered: {answers:?}"
            );
        }
    }

    #[test]
    fn pacing_takes_the_wire_time() {
        let bytes = vec![0u8; 1295];
        let stop = AtomicBool::new(false);
        let start = Instant::now();
        write_paced(&mut std::io::sink(), &bytes, 115_200, &stop).unwrap();
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(110), "{took:?}");
    }
}
