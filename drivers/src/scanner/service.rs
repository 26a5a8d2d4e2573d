//! The scanner services: a thread per scanner that reads it, turns bytes or key events into scans,
//! suppresses duplicate reads and reports faults; after an unplug it reopens the device with backoff.
//! A service ends when the receiver of its events is dropped.

use super::keymap::{KeyDecoder, KeyOutcome, KeymapSettings};
use super::serial::{Framing, SerialCodec, SerialEvent, Trigger};
use super::{decode_text, Dedup, ScanPayload};
use crate::event::{DeviceEvent, DeviceKind};
use crate::fault::FaultReporter;
use crate::transport::link::{Link, SerialLink};
use std::io;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// Settings shared by both kinds of scanner.
#[derive(Debug, Clone)]
pub struct ScannerSettings {
    /// The same payload again within this window is a repeat, not a new scan.
    pub dedup_window: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl Default for ScannerSettings {
    fn default() -> Self {
        ScannerSettings {
            dedup_window: Duration::from_millis(1500),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
        }
    }
}

/// A serial/CDC scanner's settings.
#[derive(Debug, Clone)]
pub struct SerialScanner {
    pub path: String,
    pub baud: u32,
    pub framing: Framing,
    pub trigger: Trigger,
    /// In host-trigger mode, how often a read is started again (the engine's single-read timeout
    /// ends each read; the default GM timeout is 5 s).
    pub retrigger: Duration,
    /// With no suffix, a scan ends after the line is quiet this long.
    pub quiet: Duration,
    pub common: ScannerSettings,
}

impl SerialScanner {
    pub fn new(path: impl Into<String>, baud: u32) -> Self {
        SerialScanner {
            path: path.into(),
            baud,
            framing: Framing::default(),
            trigger: Trigger::Continuous,
            retrigger: Duration::from_secs(4),
            quiet: Duration::from_millis(60),
            common: ScannerSettings::default(),
        }
    }
}

/// Opens the link (called again after every fault); tests hand in their own.
pub type SerialOpener = Box<dyn FnMut() -> io::Result<Box<dyn Link>> + Send>;

/// The opener for a real port.
pub fn serial_opener(path: String, baud: u32) -> SerialOpener {
    Box::new(move || Ok(Box::new(SerialLink::open(&path, baud)?) as Box<dyn Link>))
}

fn reporter<'a>(
    events: &'a UnboundedSender<DeviceEvent>,
    settings: &ScannerSettings,
) -> FaultReporter<'a> {
    FaultReporter::new(
        events,
        DeviceKind::Scanner,
        settings.backoff_min,
        settings.backoff_max,
    )
}

fn deliver(events: &UnboundedSender<DeviceEvent>, dedup: &mut Dedup, text: String) {
    if text.is_empty() {
        return;
    }
    if dedup.admit(&text, Instant::now()) {
        let _ = events.send(DeviceEvent::CodeScanned(ScanPayload::new(text)));
    } else {
        tracing::debug!("scanner: repeated read suppressed");
    }
}

/// Runs a serial scanner until `events` has no receiver.
pub fn run_serial(
    mut open: SerialOpener,
    config: SerialScanner,
    events: UnboundedSender<DeviceEvent>,
) {
    let mut health = reporter(&events, &config.common);
    let mut dedup = Dedup::new(config.common.dedup_window);
    while !events.is_closed() {
        let mut link = match open() {
            Ok(link) => link,
            Err(e) => {
                health.failed(format!("cannot open {}: {e}", config.path));
                continue;
            }
        };
        match serve_serial(link.as_mut(), &config, &events, &mut health, &mut dedup) {
            Ok(()) => return,
            Err(e) => health.failed(format!("{} stopped: {e}", link.describe())),
        }
    }
}

fn serve_serial(
    link: &mut dyn Link,
    config: &SerialScanner,
    events: &UnboundedSender<DeviceEvent>,
    health: &mut FaultReporter<'_>,
    dedup: &mut Dedup,
) -> io::Result<()> {
    let mut codec = SerialCodec::new(config.framing.clone());
    let mut buf = [0u8; 512];
    let mut last_trigger: Option<Instant> = None;
    let mut last_byte = Instant::now();
    let mut acked = config.trigger != Trigger::Gm;
    if config.trigger == Trigger::Continuous {
        health.working();
    }
    while !events.is_closed() {
        if config.trigger != Trigger::Continuous
            && last_trigger.is_none_or(|at| at.elapsed() >= config.retrigger)
        {
            link.send(config.trigger.start())?;
            last_trigger = Some(Instant::now());
            if config.trigger == Trigger::Honeywell {
                health.working(); // the write went through; Honeywell sends no ack
            }
        }
        let n = link.recv(&mut buf, Duration::from_millis(20))?;
        let decoded = if n > 0 {
            last_byte = Instant::now();
            codec.push(&buf[..n])
        } else if codec.pending() && last_byte.elapsed() >= config.quiet {
            codec.flush_idle()
        } else {
            Vec::new()
        };
        for event in decoded {
            match event {
                SerialEvent::Scan(bytes) => {
                    health.working();
                    deliver(events, dedup, decode_text(&bytes));
                    // In host-trigger mode a read ends with the scan: start the next one now.
                    last_trigger = None;
                }
                SerialEvent::TriggerAcked => {
                    if !acked {
                        tracing::debug!("scanner: trigger acknowledged");
                    }
                    acked = true;
                    health.working();
                }
                SerialEvent::Overlong { dropped } => {
                    tracing::warn!("scanner: dropped {dropped} bytes without a terminator")
                }
                SerialEvent::MissingPrefix => {
                    tracing::warn!("scanner: a scan without the configured prefix was dropped")
                }
            }
        }
        if !acked && last_trigger.is_some_and(|at| at.elapsed() > Duration::from_secs(2)) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the scanner did not acknowledge the trigger command",
            ));
        }
    }
    if !config.trigger.stop().is_empty() {
        let _ = link.send(config.trigger.stop());
    }
    Ok(())
}

/// A keyboard-wedge scanner's settings.
#[derive(Debug, Clone)]
pub struct EvdevScanner {
    pub path: String,
    pub keymap: KeymapSettings,
    pub common: ScannerSettings,
}

impl EvdevScanner {
    pub fn new(path: impl Into<String>) -> Self {
        EvdevScanner {
            path: path.into(),
            keymap: KeymapSettings::default(),
            common: ScannerSettings::default(),
        }
    }
}

/// Opens an evdev node and grabs it exclusively, so scans never also type into the UI. The grab
/// ends when the device is closed (or the process exits).
pub fn open_grabbed(path: &str) -> io::Result<evdev::raw_stream::RawDevice> {
    // The raw stream: `SYN_DROPPED` reaches the decoder (the synchronised stream would invent key
    // events to make up for the lost ones, an ENTER among them).
    let mut device = evdev::raw_stream::RawDevice::open(path)?;
    device.grab().map_err(|e| {
        if e.raw_os_error() == Some(libc::EBUSY) {
            io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!("{path} is grabbed by another program"),
            )
        } else {
            e
        }
    })?;
    Ok(device)
}

/// Waits up to `limit` until another opener holds the evdev node `path` grabbed (grabbing it
/// here fails with EBUSY): the moment a keyboard-wedge scanner's codes start to arrive. A grab
/// that succeeds here is released at once.
pub fn wait_grabbed(path: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(mut device) = evdev::Device::open(path) {
            match device.grab() {
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => return true,
                Ok(()) => {
                    let _ = device.ungrab();
                }
                Err(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Runs a keyboard-wedge scanner until `events` has no receiver.
pub fn run_evdev(config: EvdevScanner, events: UnboundedSender<DeviceEvent>) {
    let mut health = reporter(&events, &config.common);
    let mut dedup = Dedup::new(config.common.dedup_window);
    while !events.is_closed() {
        let device = match open_grabbed(&config.path) {
            Ok(device) => device,
            Err(e) => {
                health.failed(format!("cannot open {}: {e}", config.path));
                continue;
            }
        };
        health.working();
        match serve_evdev(device, &config, &events, &mut dedup) {
            Ok(()) => return,
            Err(e) => health.failed(format!("{} stopped: {e}", config.path)),
        }
    }
}

fn serve_evdev(
    mut device: evdev::raw_stream::RawDevice,
    config: &EvdevScanner,
    events: &UnboundedSender<DeviceEvent>,
    dedup: &mut Dedup,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut decoder = KeyDecoder::new(config.keymap);
    let fd = device.as_raw_fd();
    while !events.is_closed() {
        let mut poll = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, 200) };
        if ready < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if ready == 0 {
            continue;
        }
        if poll.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "device unplugged",
            ));
        }
        for event in device.fetch_events()? {
            let at = event
                .timestamp()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let dropped = event.event_type() == evdev::EventType::SYNCHRONIZATION
                && event.code() == evdev::SynchronizationCode::SYN_DROPPED.0;
            match decoder.event(event.event_type().0, event.code(), event.value(), at) {
                Some(KeyOutcome::Scan(text)) => deliver(events, dedup, text),
                Some(KeyOutcome::Discarded { chars }) if dropped => tracing::warn!(
                    "scanner: the kernel dropped key events (reader behind); \
                     {chars} characters typed so far discarded, the code must be scanned again"
                ),
                Some(KeyOutcome::Discarded { chars }) => {
                    tracing::debug!("scanner: {chars} slowly typed keys ignored")
                }
                None => {}
            }
        }
        if decoder.modifiers_stale() {
            let held = device.get_key_state()?;
            decoder.set_held(|k| held.contains(k));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    /// A scripted link: each `recv` hands out the next chunk; an `Err` chunk is an unplug.
    struct Scripted {
        chunks: VecDeque<io::Result<Vec<u8>>>,
        sent: Arc<Mutex<Vec<u8>>>,
    }

    impl Link for Scripted {
        fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.sent.lock().unwrap().extend_from_slice(bytes);
            Ok(())
        }
        fn recv(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
            match self.chunks.pop_front() {
                Some(Ok(chunk)) => {
                    buf[..chunk.len()].copy_from_slice(&chunk);
                    Ok(chunk.len())
                }
                Some(Err(e)) => Err(e),
                None => {
                    std::thread::sleep(Duration::from_millis(5));
                    Ok(0)
                }
            }
        }
        fn describe(&self) -> String {
            "scripted".into()
        }
    }

    fn quick() -> ScannerSettings {
        ScannerSettings {
            dedup_window: Duration::from_millis(1500),
            backoff_min: Duration::from_millis(10),
            backoff_max: Duration::from_millis(20),
        }
    }

    #[test]
    fn scans_repeats_unplug_and_reconnect() {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let mut opens = 0;
        let sent_by_link = Arc::clone(&sent);
        let opener: SerialOpener = Box::new(move || {
            opens += 1;
            let chunks: Vec<io::Result<Vec<u8>>> = match opens {
                1 => vec![
                    Ok(b"HK-1\r".to_vec()),
                    Ok(b"HK-1\r".to_vec()), // held under the scanner: suppressed
                    Ok(b"EID:x".to_vec()),
                    Ok(b"\r".to_vec()),
                    Err(io::Error::new(io::ErrorKind::BrokenPipe, "unplugged")),
                ],
                2 => return Err(io::Error::new(io::ErrorKind::NotFound, "no such port")),
                _ => vec![Ok(b"HK-2\r".to_vec())],
            };
            Ok(Box::new(Scripted {
                chunks: chunks.into(),
                sent: Arc::clone(&sent_by_link),
            }) as Box<dyn Link>)
        });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut config = SerialScanner::new("scripted", 9600);
        config.common = quick();
        let thread = std::thread::spawn(move || run_serial(opener, config, tx));
        let mut seen = Vec::new();
        while seen.len() < 6 {
            match rx.blocking_recv().unwrap() {
                DeviceEvent::CodeScanned(p) => seen.push(format!("scan {}", p.text)),
                DeviceEvent::DeviceFault { reason, .. } => seen.push(format!("fault {reason}")),
                DeviceEvent::DeviceRecovered { .. } => seen.push("recovered".into()),
                other => panic!("unexpected {other:?}"),
            }
        }
        drop(rx);
        thread.join().unwrap();
        assert_eq!(seen[0], "scan HK-1");
        assert_eq!(seen[1], "scan EID:x");
        assert!(
            seen[2].starts_with("fault scripted stopped: unplugged"),
            "{seen:?}"
        );
        assert!(
            seen[3].starts_with("fault cannot open scripted"),
            "{seen:?}"
        );
        assert_eq!(seen[4], "recovered");
        assert_eq!(seen[5], "scan HK-2");
        assert!(
            sent.lock().unwrap().is_empty(),
            "continuous mode sends nothing"
        );
    }

    #[test]
    fn gm_trigger_is_sent_and_a_silent_engine_is_a_fault() {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let sent_by_link = Arc::clone(&sent);
        let opener: SerialOpener = Box::new(move || {
            Ok(Box::new(Scripted {
                chunks: VecDeque::new(),
                sent: Arc::clone(&sent_by_link),
            }) as Box<dyn Link>)
        });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut config = SerialScanner::new("scripted", 9600);
        config.trigger = Trigger::Gm;
        config.common = quick();
        let thread = std::thread::spawn(move || run_serial(opener, config, tx));
        match rx.blocking_recv().unwrap() {
            DeviceEvent::DeviceFault { reason, .. } => {
                assert!(reason.contains("did not acknowledge"), "{reason}")
            }
            other => panic!("unexpected {other:?}"),
        }
        drop(rx);
        thread.join().unwrap();
        assert!(sent
            .lock()
            .unwrap()
            .starts_with(&super::super::serial::GM_START));
    }
}
