//! Opening the configured devices and running their services beside the UI.
//!
//! The UI thread never blocks on a device: each service runs on its own thread with a small tokio
//! runtime and sends [`DeviceEvent`]s over a channel that the UI drains on a short timer.

use hallkiosk_drivers::idcard::reader::SamLink;
use hallkiosk_drivers::idcard::serial::{SerialLink, DEFAULT_BAUD};
use hallkiosk_drivers::idcard::service::{self, ServiceConfig};
use hallkiosk_drivers::idcard::usb;
use hallkiosk_drivers::transport::DeviceAddress;
use hallkiosk_drivers::DeviceEvent;
use std::io;
use std::sync::Arc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .thread_name("idcard-service")
        .build()?;
    std::thread::Builder::new()
        .name("idcard-service".into())
        .spawn(move || runtime.block_on(service::run(opener, config, tx)))?;
    Ok(rx)
}
