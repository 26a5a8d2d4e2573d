//! A simulated serial/CDC QR scanner on a pty, speaking the bytes of the real thing with the
//! driver's own codec ([`crate::scanner::serial`]): `prefix + payload + suffix` with inter-byte
//! pacing; in host-trigger mode it reads only when the host sends the model's start command (and a
//! GM-style engine acknowledges it with its 7 bytes first). Payloads can be sent as UTF-8 or GBK.

use crate::scanner::serial::{Framing, Trigger, GM_ACK, GM_START, HONEYWELL_START};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The code in front of a scanner in continuous (presentation) mode, sans-IO: a presented code is
/// read once when it comes into view and stays in view until it is removed or another is
/// presented. While it stays, a real scanner reads it again only after its *same-code delay*
/// (devices.md §4.3, "duplicate-read suppression"; Honeywell's reread delay, Newland's same
/// barcode reread timeout) when one is configured, and never when it is off — the default here.
#[derive(Debug, Default)]
pub struct InView {
    queue: VecDeque<String>,
    /// The code last read and still in view, and when it was last read.
    held: Option<(String, Instant)>,
    /// Read the code in view again after this long; `None`: not while it stays in view.
    pub same_code_delay: Option<Duration>,
}

impl InView {
    /// Puts a code in front of the scanner (after the ones presented before it are read).
    pub fn present(&mut self, text: impl Into<String>) {
        self.queue.push_back(text.into());
    }

    /// Takes the code in view away: it is not read again.
    pub fn remove(&mut self) {
        self.held = None;
    }

    /// What the scanner reads at `now`, if anything: a newly presented code, else the code in
    /// view again once its same-code delay has passed.
    pub fn next_read(&mut self, now: Instant) -> Option<String> {
        if let Some(text) = self.queue.pop_front() {
            self.held = Some((text.clone(), now));
            return Some(text);
        }
        let delay = self.same_code_delay?;
        let (text, at) = self.held.as_mut()?;
        if now.saturating_duration_since(*at) < delay {
            return None;
        }
        *at = now;
        Some(text.clone())
    }

    /// A host-triggered read: the next presented code, once (the code passes under the scanner).
    pub fn next_triggered(&mut self) -> Option<String> {
        self.held = None;
        self.queue.pop_front()
    }
}

/// How the simulated scanner encodes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Gbk,
}

/// The simulator's state: settings and the codes "held under" it.
#[derive(Debug)]
pub struct SimScanner {
    pub framing: Framing,
    pub trigger: Trigger,
    pub encoding: Encoding,
    /// Pause between bytes (real scanners at 9600 baud: about 1 ms a byte).
    pub pacing: Duration,
    /// The code in front of it (its same-code delay applies in continuous mode).
    pub view: InView,
    /// Trigger commands received, for tests.
    pub triggers: u32,
}

impl SimScanner {
    pub fn new(framing: Framing, trigger: Trigger) -> Self {
        SimScanner {
            framing,
            trigger,
            encoding: Encoding::Utf8,
            pacing: Duration::from_micros(500),
            view: InView::default(),
            triggers: 0,
        }
    }

    /// Presents a code: sent at once in continuous mode, at the next trigger otherwise.
    pub fn present(&mut self, text: impl Into<String>) {
        self.view.present(text);
    }

    fn wire(&self, text: &str) -> Vec<u8> {
        let bytes = match self.encoding {
            Encoding::Utf8 => text.as_bytes().to_vec(),
            Encoding::Gbk => encoding_rs::GBK.encode(text).0.into_owned(),
        };
        self.framing.encode(&bytes)
    }
}

/// Serves the simulator on the master side of a pty until `stop` is set.
pub fn serve(port: &mut (impl Read + Write), state: &Mutex<SimScanner>, stop: &AtomicBool) {
    serve_port(port, state, stop, false)
}

/// Serves until `stop`; with `end_on_hangup` (a gadget's tty) also returns when the tty hangs up
/// (its host went away), so that the caller opens it again.
fn serve_port(
    port: &mut (impl Read + Write),
    state: &Mutex<SimScanner>,
    stop: &AtomicBool,
    end_on_hangup: bool,
) {
    let mut inbox: Vec<u8> = Vec::new();
    let mut buf = [0u8; 64];
    while !stop.load(Ordering::SeqCst) {
        match port.read(&mut buf) {
            Ok(0) if end_on_hangup => return,
            Ok(n) => inbox.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e)
                if end_on_hangup
                    && (e.kind() == std::io::ErrorKind::BrokenPipe
                        || e.raw_os_error() == Some(5)) =>
            {
                return
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
        let mut out = Vec::new();
        let pacing;
        {
            let mut sim = state.lock().unwrap_or_else(|p| p.into_inner());
            pacing = sim.pacing;
            let triggered = match sim.trigger {
                Trigger::Continuous => true,
                Trigger::Honeywell => take_command(&mut inbox, &HONEYWELL_START),
                Trigger::Gm => {
                    let hit = take_command(&mut inbox, &GM_START);
                    if hit {
                        out.extend_from_slice(&GM_ACK);
                    }
                    hit
                }
            };
            if sim.trigger != Trigger::Continuous && triggered {
                sim.triggers += 1;
            }
            let read = match (sim.trigger, triggered) {
                (Trigger::Continuous, _) => sim.view.next_read(Instant::now()),
                (_, true) => sim.view.next_triggered(),
                (_, false) => None,
            };
            if let Some(text) = read {
                out.extend(sim.wire(&text));
            }
        }
        for byte in out {
            if port.write_all(&[byte]).is_err() {
                break;
            }
            if !pacing.is_zero() {
                std::thread::sleep(pacing);
            }
        }
        let _ = port.flush();
        if inbox.len() > 1024 {
            inbox.drain(..inbox.len() - 64);
        }
    }
}

/// Removes the first occurrence of `command` from `inbox`; true if there was one.
fn take_command(inbox: &mut Vec<u8>, command: &[u8]) -> bool {
    match inbox.windows(command.len()).position(|w| w == command) {
        Some(at) => {
            inbox.drain(..at + command.len());
            true
        }
        None => false,
    }
}

/// Serves `sim` on a new pty; returns the running simulator and the port path the driver opens.
pub fn on_pty(sim: SimScanner) -> std::io::Result<(super::Served<SimScanner>, String)> {
    let (mut master, path) = super::open_pty()?;
    let served = super::Served::start("scanner-sim", sim, move |state, stop| {
        serve(&mut master, state, stop)
    })?;
    Ok((served, path))
}

/// Serves `sim` on the device side of an existing tty (a USB gadget's `/dev/ttyGS1`).
/// When the host goes away the tty is hung up; it is opened again for the next host.
pub fn on_port(sim: SimScanner, path: &str) -> std::io::Result<super::Served<SimScanner>> {
    let port = super::open_device_tty(path)?;
    let reopen = path.to_string();
    super::Served::start("scanner-sim", sim, move |state, stop| {
        let mut port = Some(port);
        while !stop.load(Ordering::SeqCst) {
            if let Ok(mut p) = port
                .take()
                .map_or_else(|| super::open_device_tty(&reopen), Ok)
            {
                serve_port(&mut p, state, stop, true);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scanner::serial::{SerialCodec, SerialEvent};
    use crate::transport::link::{Link, SerialLink};

    fn read_events(
        link: &mut SerialLink,
        codec: &mut SerialCodec,
        want: usize,
        within: Duration,
    ) -> Vec<SerialEvent> {
        let mut events = Vec::new();
        let mut buf = [0u8; 256];
        let deadline = std::time::Instant::now() + within;
        while events.len() < want && std::time::Instant::now() < deadline {
            let n = link.recv(&mut buf, Duration::from_millis(50)).unwrap();
            events.extend(codec.push(&buf[..n]));
        }
        events
    }

    #[test]
    fn a_code_in_view_is_read_again_only_after_a_configured_same_code_delay() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut view = InView::default();
        view.present("A");
        assert_eq!(view.next_read(at(0)).as_deref(), Some("A"));
        // Continuous mode without a same-code delay: held in front of it, never read again.
        for ms in [20, 1_000, 5_000, 60_000] {
            assert_eq!(view.next_read(at(ms)), None, "at {ms} ms");
        }
        // With a delay of 2 s: again every 2 s while it stays, not once it is taken away.
        let mut view = InView {
            same_code_delay: Some(Duration::from_secs(2)),
            ..InView::default()
        };
        view.present("A");
        let reads: Vec<u64> = (0..=100)
            .map(|i| i * 50)
            .filter(|&ms| view.next_read(at(ms)).is_some())
            .collect();
        assert_eq!(reads, vec![0, 2_000, 4_000]);
        view.remove();
        assert_eq!(view.next_read(at(10_000)), None);
        // Presented again: read at once; another code replaces it in view.
        view.present("A");
        view.present("B");
        assert_eq!(view.next_read(at(10_000)).as_deref(), Some("A"));
        assert_eq!(view.next_read(at(10_001)).as_deref(), Some("B"));
        assert_eq!(view.next_read(at(12_001)).as_deref(), Some("B"));
        // A host-triggered read takes a presented code once.
        view.present("C");
        assert_eq!(view.next_triggered().as_deref(), Some("C"));
        assert_eq!(view.next_triggered(), None);
        assert_eq!(view.next_read(at(20_000)), None);
    }

    #[test]
    fn gm_engine_on_a_pty_acks_the_trigger_then_sends_gbk() {
        let mut sim = SimScanner::new(Framing::default(), Trigger::Gm);
        sim.encoding = Encoding::Gbk;
        sim.present("回执 HK-1");
        let (served, path) = on_pty(sim).unwrap();
        let mut link = SerialLink::open(&path, 9600).unwrap();
        let mut codec = SerialCodec::new(Framing::default());
        // Nothing before the trigger.
        assert!(read_events(&mut link, &mut codec, 1, Duration::from_millis(300)).is_empty());
        link.send(&GM_START).unwrap();
        let events = read_events(&mut link, &mut codec, 2, Duration::from_secs(5));
        assert_eq!(events[0], SerialEvent::TriggerAcked);
        let SerialEvent::Scan(bytes) = &events[1] else {
            panic!("{events:?}")
        };
        assert_eq!(crate::scanner::decode_text(bytes), "回执 HK-1");
        assert_eq!(served.control().triggers, 1);
    }
}
