//! `hallkiosk hil --rig FILE`: the hardware-in-the-loop checklist of one rig — reader (SAM status,
//! a test card), printer (status, test page with cut, status after the cut), scanner (a test code),
//! camera (capture, decode a test code), UI (first frame), speaker (the voice engine, a test tone) — written as JUnit XML and JSON.
//!
//! Outcomes keep infrastructure apart from product: **error** when a device is absent or cannot be
//! opened (wiring, permissions, the rig), **fail** when it answers and the product does the wrong
//! thing. CI runs the same checklist against the simulators (a rig file pointing at `sim` ptys, a
//! TCP printer and a frames folder); a maintainer runs it on a real rig (docs/hil.md).

use crate::kiosk::devices::open_idcard;
mod report;
mod speaker;

use crate::shared::config::{Affix, TriggerName};
use anyhow::{Context, Result};
use hallkiosk_drivers::camera::{Decode, FileSource, FrameSource, QrDecoder, V4l2Source};
use hallkiosk_drivers::event::DeviceKind;
use hallkiosk_drivers::idcard::reader::{ReadOptions, Reader, Timeouts};
use hallkiosk_drivers::printer::job::{not_ready_reason, Printer};
use hallkiosk_drivers::scanner::serial::Framing;
use hallkiosk_drivers::scanner::service::{self, EvdevScanner, SerialScanner};
use hallkiosk_drivers::transport::DeviceAddress;
use hallkiosk_drivers::DeviceEvent;
use report::line;
pub use report::{to_json, to_junit};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A rig file (TOML). Every section is optional: a rig checks what it has.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rig {
    pub name: String,
    pub reader: Option<ReaderRig>,
    pub printer: Option<PrinterRig>,
    pub scanner: Option<ScannerRig>,
    pub camera: Option<CameraRig>,
    pub ui: Option<UiRig>,
    /// The voice prompts' engine and sound device (docs/voice.md).
    pub speaker: Option<speaker::SpeakerRig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderRig {
    pub address: DeviceAddress,
    /// A test card lies on the reader (its data is never printed).
    #[serde(default = "yes")]
    pub test_card: bool,
    #[serde(default = "ten")]
    pub wait_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterRig {
    pub address: DeviceAddress,
    #[serde(default = "generic")]
    pub profile: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerRig {
    pub address: DeviceAddress,
    /// The text of the rig's test code, which the maintainer (or the simulator) presents.
    pub expect: String,
    #[serde(default = "no_affix")]
    pub prefix: Affix,
    #[serde(default = "cr")]
    pub suffix: Affix,
    #[serde(default = "continuous")]
    pub trigger: TriggerName,
    #[serde(default = "thirty")]
    pub wait_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraRig {
    /// `v4l2:PATH` or `frames:PATH`.
    pub address: DeviceAddress,
    /// The text of the test code held in front of the camera.
    pub expect: String,
    #[serde(default = "ten")]
    pub wait_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiRig {
    /// The first frame must be drawn within this time.
    #[serde(default = "ten")]
    pub first_frame_secs: u64,
}

fn yes() -> bool {
    true
}
fn ten() -> u64 {
    10
}
fn thirty() -> u64 {
    30
}
fn generic() -> String {
    "generic-80mm".into()
}
fn no_affix() -> Affix {
    Affix("none".into())
}
fn cr() -> Affix {
    Affix("cr".into())
}
fn continuous() -> TriggerName {
    TriggerName("continuous".into())
}

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass(String),
    /// The product did the wrong thing.
    Fail(String),
    /// The rig could not be used (device absent, cannot open): not the product's fault.
    Error(String),
}

/// What a check is about: a device, or the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Device(DeviceKind),
    Ui,
    Speaker,
}

impl Subject {
    /// The name in reports: the rig file's section (`[reader]`, `[printer]`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Device(DeviceKind::IdCardReader) => "reader",
            Subject::Device(DeviceKind::Printer) => "printer",
            Subject::Device(DeviceKind::Scanner) => "scanner",
            Subject::Device(DeviceKind::Camera) => "camera",
            Subject::Ui => "ui",
            Subject::Speaker => "speaker",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    pub device: Subject,
    pub name: &'static str,
    pub outcome: Outcome,
    pub seconds: f64,
}

/// Runs the rig's checklist in order: reader, printer, scanner, camera, UI, speaker.
pub fn run(rig: &Rig) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut record = |device, name, started: Instant, outcome| {
        let check = Check {
            device,
            name,
            outcome,
            seconds: started.elapsed().as_secs_f64(),
        };
        eprintln!("{}", line(&check));
        checks.push(check);
    };
    if let Some(r) = &rig.reader {
        let started = Instant::now();
        match open_idcard(&r.address) {
            Err(e) => record(
                Subject::Device(DeviceKind::IdCardReader),
                "sam-status",
                started,
                Outcome::Error(format!("cannot open {}: {e}", r.address)),
            ),
            Ok(link) => {
                let mut reader = Reader::new(link, Timeouts::default());
                let status = match reader.status() {
                    Ok(()) => Outcome::Pass("SAM ready (SW3 90)".into()),
                    Err(e) => Outcome::Fail(format!("SAM status: {e}")),
                };
                let ok = matches!(status, Outcome::Pass(_));
                record(
                    Subject::Device(DeviceKind::IdCardReader),
                    "sam-status",
                    started,
                    status,
                );
                if r.test_card && ok {
                    let started = Instant::now();
                    let outcome = read_test_card(&mut reader, Duration::from_secs(r.wait_secs));
                    record(
                        Subject::Device(DeviceKind::IdCardReader),
                        "read-test-card",
                        started,
                        outcome,
                    );
                }
            }
        }
    }
    if let Some(p) = &rig.printer {
        for (name, outcome) in printer_checks(p) {
            record(
                Subject::Device(DeviceKind::Printer),
                name,
                outcome.1,
                outcome.0,
            );
        }
    }
    if let Some(s) = &rig.scanner {
        let started = Instant::now();
        let outcome = scanner_check(s);
        record(
            Subject::Device(DeviceKind::Scanner),
            "scan-test-code",
            started,
            outcome,
        );
    }
    if let Some(c) = &rig.camera {
        let started = Instant::now();
        let outcome = camera_check(c);
        record(
            Subject::Device(DeviceKind::Camera),
            "capture-and-decode",
            started,
            outcome,
        );
    }
    if let Some(u) = &rig.ui {
        let started = Instant::now();
        let outcome = ui_check(u);
        record(Subject::Ui, "first-frame", started, outcome);
    }
    if let Some(s) = &rig.speaker {
        let started = Instant::now();
        record(Subject::Speaker, "engine", started, speaker::engine_check());
        let started = Instant::now();
        record(
            Subject::Speaker,
            "test-tone",
            started,
            speaker::tone_check(s),
        );
    }
    checks
}

fn read_test_card(
    reader: &mut Reader<Box<dyn hallkiosk_drivers::idcard::reader::SamLink>>,
    wait: Duration,
) -> Outcome {
    let deadline = Instant::now() + wait;
    let today = crate::shared::clock::local_today();
    loop {
        match reader.read_card(ReadOptions::default(), &today) {
            // Nothing of the card is reported: a rig's test card is still a card.
            Ok(Some(_card)) => return Outcome::Pass("test card read and validated".into()),
            Ok(None) if Instant::now() >= deadline => {
                return Outcome::Fail(format!("no card read within {} s", wait.as_secs()))
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Outcome::Fail(format!("read failed: {e}")),
        }
    }
}

fn printer_checks(p: &PrinterRig) -> Vec<(&'static str, (Outcome, Instant))> {
    let mut out = Vec::new();
    let started = Instant::now();
    let profile = match crate::cli::print::profile(&p.profile) {
        Ok(profile) => profile,
        Err(e) => {
            out.push(("status", (Outcome::Error(format!("{e:#}")), started)));
            return out;
        }
    };
    let link = match hallkiosk_drivers::printer::link::open(&p.address) {
        Ok(link) => link,
        Err(e) => {
            out.push((
                "status",
                (
                    Outcome::Error(format!("cannot open {}: {e}", p.address)),
                    started,
                ),
            ));
            return out;
        }
    };
    let mut printer = Printer::new(link);
    let status = match printer.status() {
        Ok(s) => match not_ready_reason(&s) {
            None => Outcome::Pass("ready".into()),
            Some(why) => Outcome::Fail(format!("cannot print: {why}")),
        },
        Err(e) => Outcome::Fail(format!("no status: {e}")),
    };
    let ready = matches!(status, Outcome::Pass(_));
    out.push(("status", (status, started)));
    drop(printer);
    if !ready {
        return out;
    }
    let started = Instant::now();
    let printed = match crate::cli::print::test_page(&p.address, &profile, "HIL") {
        Ok(message) => Outcome::Pass(format!("{message}, cut")),
        Err(e) => Outcome::Fail(format!("{e:#}")),
    };
    let printed_ok = matches!(printed, Outcome::Pass(_));
    out.push(("test-page-and-cut", (printed, started)));
    if printed_ok {
        let started = Instant::now();
        let after = match hallkiosk_drivers::printer::link::open(&p.address)
            .map(Printer::new)
            .map_err(|e| e.to_string())
            .and_then(|mut p| p.status().map_err(|e| e.to_string()))
        {
            Ok(s) => match not_ready_reason(&s) {
                None => Outcome::Pass("ready after the cut".into()),
                Some(why) => Outcome::Fail(format!("after the cut: {why}")),
            },
            Err(e) => Outcome::Fail(format!("no status after the cut: {e}")),
        };
        out.push(("status-after-cut", (after, started)));
    }
    out
}

fn scanner_check(s: &ScannerRig) -> Outcome {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    match &s.address {
        DeviceAddress::Serial { path, baud } => {
            let baud = baud.unwrap_or(9600);
            if let Err(e) = hallkiosk_drivers::transport::link::SerialLink::open(path, baud) {
                return Outcome::Error(format!("cannot open {path}: {e}"));
            }
            let mut config = SerialScanner::new(path.clone(), baud);
            config.framing = Framing {
                prefix: s.prefix.bytes(),
                suffix: s.suffix.bytes(),
                ..Framing::default()
            };
            config.trigger = s.trigger.trigger();
            let opener = service::serial_opener(path.clone(), baud);
            std::thread::spawn(move || service::run_serial(opener, config, tx));
        }
        DeviceAddress::Evdev { path } => {
            if let Err(e) = std::fs::File::open(path) {
                return Outcome::Error(format!("cannot open {path}: {e}"));
            }
            let config = EvdevScanner::new(path.clone());
            let node = path.clone();
            std::thread::spawn(move || service::run_evdev(config, tx));
            // Keys typed before the service holds the node are lost: ask for the code only then.
            if !service::wait_grabbed(&node, Duration::from_secs(10)) {
                return Outcome::Fail(format!("{node} was not grabbed within 10 s"));
            }
        }
        other => return Outcome::Error(format!("a scanner is on serial: or evdev:, not {other}")),
    }
    eprintln!(
        "hil: present the test code to the scanner (expecting {:?})",
        s.expect
    );
    scan_outcome(&mut rx, &s.expect, Duration::from_secs(s.wait_secs))
}

/// How long a scanner that could not be opened has to come back (the service retries after
/// 0.5 s) before the check gives up on it as an infrastructure error.
const REOPEN_GRACE: Duration = Duration::from_secs(3);

/// Waits for the test code among the scanner service's events. A "cannot open" fault that the
/// service recovers from is no verdict: the probe that waits for the service's grab grabs the
/// node for an instant itself, and the service, opening it at that instant, is refused once and
/// opens it on its next try (the virtual rig showed it).
fn scan_outcome(rx: &mut impl RecvTimeout<DeviceEvent>, expect: &str, wait: Duration) -> Outcome {
    let deadline = Instant::now() + wait;
    let mut cannot_open: Option<(String, Instant)> = None;
    loop {
        let now = Instant::now();
        if let Some((reason, until)) = &cannot_open {
            if now >= *until {
                return Outcome::Error(reason.clone());
            }
        }
        let left = deadline.saturating_duration_since(now);
        if left.is_zero() {
            return match cannot_open {
                Some((reason, _)) => Outcome::Error(reason),
                None => Outcome::Fail(format!("no scan within {} s", wait.as_secs())),
            };
        }
        let step = match &cannot_open {
            Some((_, until)) => left.min(until.saturating_duration_since(now)),
            None => left,
        };
        match rx.blocking_recv_timeout(step) {
            Some(DeviceEvent::CodeScanned(p)) if p.text == expect => {
                return Outcome::Pass("test code read".into())
            }
            Some(DeviceEvent::CodeScanned(p)) => {
                return Outcome::Fail(format!(
                    "read {} characters that are not the test code",
                    p.text.chars().count()
                ))
            }
            Some(DeviceEvent::DeviceFault { reason, .. }) if reason.starts_with("cannot open") => {
                if cannot_open.is_none() {
                    cannot_open = Some((reason, Instant::now() + REOPEN_GRACE));
                }
            }
            Some(DeviceEvent::DeviceFault { reason, .. }) => return Outcome::Fail(reason),
            Some(DeviceEvent::DeviceRecovered { .. }) => cannot_open = None,
            Some(_) => {}
            None if cannot_open.is_some() => std::thread::sleep(Duration::from_millis(20)),
            None => return Outcome::Fail(format!("no scan within {} s", wait.as_secs())),
        }
    }
}

/// `blocking_recv` with a timeout, for the plain threads here.
trait RecvTimeout<T> {
    fn blocking_recv_timeout(&mut self, timeout: Duration) -> Option<T>;
}

impl<T> RecvTimeout<T> for tokio::sync::mpsc::UnboundedReceiver<T> {
    fn blocking_recv_timeout(&mut self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.try_recv() {
                Ok(v) => return Some(v),
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => return None,
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                    if Instant::now() >= deadline {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
}

fn camera_check(c: &CameraRig) -> Outcome {
    let source: Result<Box<dyn FrameSource>, String> = match &c.address {
        DeviceAddress::V4l2 { path } => V4l2Source::open(path, (640, 480))
            .map(|s| Box::new(s) as Box<dyn FrameSource>)
            .map_err(|e| e.to_string()),
        DeviceAddress::Frames { path } => FileSource::open(Path::new(path), true, None)
            .map(|s| Box::new(s) as Box<dyn FrameSource>)
            .map_err(|e| format!("{path}: {e}")),
        other => Err(format!("a camera is on v4l2: or frames:, not {other}")),
    };
    let mut source = match source {
        Ok(source) => source,
        Err(e) => return Outcome::Error(e),
    };
    let decoder = QrDecoder::default();
    let deadline = Instant::now() + Duration::from_secs(c.wait_secs);
    let (mut frames, mut other) = (0, 0);
    while Instant::now() < deadline {
        let frame = match source.next_frame() {
            Ok(frame) => frame,
            Err(e) => return Outcome::Fail(format!("capture failed after {frames} frames: {e}")),
        };
        frames += 1;
        let Ok(image) = frame.to_gray() else { continue };
        match decoder.decode(&image) {
            Decode::Code { text, .. } if text == c.expect => {
                return Outcome::Pass(format!("test code decoded in frame {frames}"))
            }
            Decode::Code { .. } => other += 1,
            _ => {}
        }
    }
    if other > 0 {
        Outcome::Fail(format!(
            "{other} frames held another code, none the test code"
        ))
    } else {
        Outcome::Fail(format!(
            "{frames} frames captured, the test code not decoded"
        ))
    }
}

fn ui_check(u: &UiRig) -> Outcome {
    if std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
        && std::env::var_os("SLINT_BACKEND")
            .is_none_or(|b| !b.to_string_lossy().starts_with("linuxkms"))
    {
        return Outcome::Error(
            "no display (DISPLAY, WAYLAND_DISPLAY or SLINT_BACKEND=linuxkms…)".into(),
        );
    }
    let Ok(exe) = std::env::current_exe() else {
        return Outcome::Error("cannot find the hallkiosk binary".into());
    };
    let work = std::env::temp_dir().join(format!("hallkiosk-hil-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&work) {
        return Outcome::Error(format!("no temporary directory: {e}"));
    }
    let outcome = first_frame(exe, &work, u);
    let _ = std::fs::remove_dir_all(&work);
    outcome
}

fn first_frame(exe: PathBuf, work: &Path, u: &UiRig) -> Outcome {
    let frame_file = work.join("first-frame");
    let started = Instant::now();
    let child = std::process::Command::new(exe)
        .args(["run", "--exit-after-first-frame", "--first-frame-file"])
        .arg(&frame_file)
        .env("XDG_DATA_HOME", work)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return Outcome::Error(format!("cannot start the kiosk: {e}")),
    };
    let limit = Duration::from_secs(u.first_frame_secs);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return if frame_file.exists() {
                Outcome::Pass(format!(
                    "first frame after {} ms",
                    started.elapsed().as_millis()
                ))
            } else {
                Outcome::Fail(format!(
                    "the kiosk exited ({status}) without drawing a frame"
                ))
            };
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Outcome::Fail(format!("no first frame within {} s", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `hallkiosk hil`: exit 0 all passed, 1 a product failure, 3 only infrastructure errors.
pub fn command(
    rig_file: &Path,
    junit: Option<&PathBuf>,
    json: Option<&PathBuf>,
) -> Result<std::process::ExitCode> {
    let text = std::fs::read_to_string(rig_file)
        .with_context(|| format!("cannot read the rig file {}", rig_file.display()))?;
    let rig: Rig = toml::from_str(&text)
        .with_context(|| format!("invalid rig file {}", rig_file.display()))?;
    let checks = run(&rig);
    if let Some(path) = junit {
        std::fs::write(path, to_junit(&rig, &checks))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(&to_json(&rig, &checks))?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let fail = checks.iter().any(|c| matches!(c.outcome, Outcome::Fail(_)));
    let error = checks
        .iter()
        .any(|c| matches!(c.outcome, Outcome::Error(_)));
    println!(
        "hil {}: {} checks, {} passed, {} failed, {} infrastructure errors",
        rig.name,
        checks.len(),
        checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Pass(_)))
            .count(),
        checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
            .count(),
        checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Error(_)))
            .count(),
    );
    Ok(std::process::ExitCode::from(if fail {
        1
    } else if error {
        3
    } else {
        0
    }))
}

#[cfg(test)]
mod tests {
    use super::{scan_outcome, Outcome};
    use hallkiosk_drivers::event::{DeviceEvent, DeviceKind};
    use hallkiosk_drivers::scanner::ScanPayload;
    use std::time::Duration;

    fn fault(reason: &str) -> DeviceEvent {
        DeviceEvent::DeviceFault {
            device: DeviceKind::Scanner,
            reason: reason.into(),
        }
    }

    #[test]
    fn a_scanner_refused_once_then_opened_still_reads_the_test_code() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tx.send(fault(
            "cannot open /dev/input/hallkiosk-scanner: grabbed by another program",
        ))
        .unwrap();
        tx.send(DeviceEvent::DeviceRecovered {
            device: DeviceKind::Scanner,
        })
        .unwrap();
        tx.send(DeviceEvent::CodeScanned(ScanPayload::new("HIL-TEST")))
            .unwrap();
        let outcome = scan_outcome(&mut rx, "HIL-TEST", Duration::from_secs(5));
        assert!(matches!(outcome, Outcome::Pass(_)), "{outcome:?}");
    }

    #[test]
    fn a_scanner_that_never_opens_is_an_infrastructure_error() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tx.send(fault(
            "cannot open /dev/hallkiosk-scanner: No such file or directory",
        ))
        .unwrap();
        let outcome = scan_outcome(&mut rx, "HIL-TEST", Duration::from_secs(30));
        assert!(
            matches!(&outcome, Outcome::Error(r) if r.contains("No such file")),
            "{outcome:?}"
        );
        drop(tx);
    }
}
