//! Opening the configured devices and running their services beside the UI.
//!
//! The UI thread never blocks on a device: each service runs on its own thread with a small tokio
//! runtime and sends [`DeviceEvent`]s over a channel that the UI drains on a short timer.

use crate::shared::config::ScannerSection;
use hallkiosk_drivers::camera::scan as camera_scan;
use hallkiosk_drivers::camera::{CameraError, FileSource, FrameSource, V4l2Source};
use hallkiosk_drivers::idcard::reader::SamLink;
use hallkiosk_drivers::idcard::serial::{SerialLink, DEFAULT_BAUD};
use hallkiosk_drivers::idcard::service::{self, ServiceConfig};
use hallkiosk_drivers::idcard::usb;
use hallkiosk_drivers::printer::job::FileLedger;
use hallkiosk_drivers::printer::service::{self as printer_service, JobRequest};
use hallkiosk_drivers::scanner::service as scanner_service;
use hallkiosk_drivers::transport::DeviceAddress;
use hallkiosk_drivers::DeviceEvent;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Opens a link to the SAM reader at `address` (a serial port or a USB id).
pub fn open_idcard(address: &DeviceAddress) -> io::Result<Box<dyn SamLink>> {
    match address {
        DeviceAddress::Serial { path, baud } => Ok(Box::new(SerialLink::open(
            path,
            baud.unwrap_or(DEFAULT_BAUD),
        )?)),
        DeviceAddress::Usb { vid, pid } => Ok(Box::new(usb::open(*vid, *pid)?)),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("an ID-card reader is on serial:PATH or usb:VID:PID, not {other}"),
        )),
    }
}

/// Starts the reader service for `address` on its own thread. Events arrive on the receiver; the
/// service stops when the receiver is dropped.
pub fn spawn_idcard_service(
    address: DeviceAddress,
    today: Arc<dyn Fn() -> String + Send + Sync>,
) -> io::Result<UnboundedReceiver<DeviceEvent>> {
    let (tx, rx) = unbounded_channel();
    let config = ServiceConfig {
        today,
        ..ServiceConfig::default()
    };
    let opener: service::Opener = Box::new(move || open_idcard(&address));
    run_on_own_thread("idcard-service", service::run(opener, config, tx))?;
    Ok(rx)
}

/// Starts the printer service for `address` on its own thread, with its job ledger at `ledger`.
/// Returns the event receiver and the sender jobs go to.
pub fn spawn_printer_service(
    address: DeviceAddress,
    ledger: &Path,
) -> io::Result<(UnboundedReceiver<DeviceEvent>, UnboundedSender<JobRequest>)> {
    let (jobs_tx, jobs_rx) = unbounded_channel();
    let events = spawn_printer_service_for(address, ledger, None, jobs_rx)?;
    Ok((events, jobs_tx))
}

/// [`spawn_printer_service`] taking its jobs from `jobs_rx`, whose sender may be handed out
/// before the printer is opened (jobs wait in the channel), with a ledger retention.
pub fn spawn_printer_service_for(
    address: DeviceAddress,
    ledger: &Path,
    keep: Option<std::time::Duration>,
    jobs_rx: UnboundedReceiver<JobRequest>,
) -> io::Result<UnboundedReceiver<DeviceEvent>> {
    // `keep`: the ledger's lines are dropped after it ([retention] print_ledger_days).
    let ledger = FileLedger::open_at(ledger, keep, crate::shared::clock::now_ms())?;
    let (tx, rx) = unbounded_channel();
    let opener: printer_service::Opener =
        Box::new(move || hallkiosk_drivers::printer::link::open(&address));
    run_on_own_thread(
        "printer-service",
        printer_service::run(
            opener,
            printer_service::ServiceConfig::default(),
            Box::new(ledger),
            tx,
            jobs_rx,
        ),
    )?;
    Ok(rx)
}

/// Starts the QR scanner service for `address` (a serial/CDC port or an evdev node) on its own
/// thread. The service stops when the receiver is dropped.
pub fn spawn_scanner_service(
    address: &DeviceAddress,
    settings: &ScannerSection,
) -> io::Result<UnboundedReceiver<DeviceEvent>> {
    let (tx, rx) = unbounded_channel();
    let common = scanner_service::ScannerSettings {
        dedup_window: Duration::from_millis(settings.repeat_ms.0),
        ..scanner_service::ScannerSettings::default()
    };
    match address {
        DeviceAddress::Serial { path, baud } => {
            let baud = baud.unwrap_or(9600);
            let mut config = scanner_service::SerialScanner::new(path.clone(), baud);
            config.framing = settings.framing();
            config.trigger = settings.trigger.trigger();
            config.common = common;
            let opener = scanner_service::serial_opener(path.clone(), baud);
            std::thread::Builder::new()
                .name("scanner-service".into())
                .spawn(move || scanner_service::run_serial(opener, config, tx))?;
        }
        DeviceAddress::Evdev { path } => {
            let mut config = scanner_service::EvdevScanner::new(path.clone());
            config.common = common;
            std::thread::Builder::new()
                .name("scanner-service".into())
                .spawn(move || scanner_service::run_evdev(config, tx))?;
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a QR scanner is on serial:PATH[@BAUD] or evdev:PATH, not {other}"),
            ))
        }
    }
    Ok(rx)
}

/// Starts the camera's live code scanning for a `v4l2:PATH` camera (or `frames:PATH`, images
/// played at 10 frames a second, looping) on its own thread.
pub fn spawn_camera_scanner(
    address: &DeviceAddress,
    settings: &ScannerSection,
) -> io::Result<UnboundedReceiver<DeviceEvent>> {
    let opener: camera_scan::SourceOpener = match address {
        DeviceAddress::V4l2 { path } => {
            let path = path.clone();
            Box::new(move || {
                Ok(Box::new(V4l2Source::open(&path, (640, 480))?) as Box<dyn FrameSource>)
            })
        }
        DeviceAddress::Frames { path } => {
            let path = std::path::PathBuf::from(path);
            Box::new(move || {
                FileSource::open(&path, true, Some(10.0))
                    .map(|s| Box::new(s) as Box<dyn FrameSource>)
                    .map_err(|e| CameraError::Io {
                        device: path.display().to_string(),
                        source: e,
                    })
            })
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the camera is on v4l2:PATH or frames:PATH, not {other}"),
            ))
        }
    };
    let (tx, rx) = unbounded_channel();
    let repeat = Duration::from_millis(settings.repeat_ms.0);
    std::thread::Builder::new()
        .name("camera-scan".into())
        .spawn(move || {
            camera_scan::run(opener, tx, repeat);
        })?;
    Ok(rx)
}

/// Runs a device service on a thread of its own with a current-thread tokio runtime.
fn run_on_own_thread(
    name: &str,
    service: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .thread_name(name)
        .build()?;
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || runtime.block_on(service))?;
    Ok(())
}
