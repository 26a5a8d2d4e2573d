//! Raw USB through libusb (rusb): bulk pipes on one claimed interface.

use std::io;
use std::time::Duration;

/// Bulk transfers on numbered endpoints. A read returns `Ok(0)` on timeout.
pub trait BulkPipes: Send {
    fn write_bulk(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> io::Result<usize>;
    fn read_bulk(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
}

/// What an interface offers: its number, class and bulk endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub number: u8,
    pub class: u8,
    pub subclass: u8,
    pub protocol: u8,
    pub bulk_out: Option<u8>,
    pub bulk_in: Option<u8>,
    /// Every bulk endpoint's address, in descriptor order.
    pub bulk: Vec<u8>,
}

/// libusb bulk pipes on one claimed interface.
pub struct RusbPipes {
    handle: rusb::DeviceHandle<rusb::GlobalContext>,
    pub interface: InterfaceInfo,
}

fn usb_error(e: rusb::Error) -> io::Error {
    let kind = match e {
        rusb::Error::NoDevice | rusb::Error::NotFound => io::ErrorKind::NotConnected,
        rusb::Error::Access => io::ErrorKind::PermissionDenied,
        rusb::Error::Busy => io::ErrorKind::ResourceBusy,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("USB: {e}"))
}

impl RusbPipes {
    /// Opens the first device with `vid:pid`, picks the first interface `pick` accepts, detaches a
    /// kernel driver bound to it (usblp for printers) and claims it.
    pub fn open(
        vid: u16,
        pid: u16,
        pick: impl Fn(&InterfaceInfo) -> bool,
    ) -> io::Result<RusbPipes> {
        let not_found = || {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no USB device {vid:04x}:{pid:04x} (plugged in? udev rule installed?)"),
            )
        };
        let device = rusb::devices()
            .map_err(usb_error)?
            .iter()
            .find(|d| {
                d.device_descriptor()
                    .map(|dd| dd.vendor_id() == vid && dd.product_id() == pid)
                    .unwrap_or(false)
            })
            .ok_or_else(not_found)?;
        let config = device.active_config_descriptor().map_err(usb_error)?;
        let interface = config
            .interfaces()
            .flat_map(|i| i.descriptors().collect::<Vec<_>>())
            .map(|d| {
                let bulk = |dir| {
                    d.endpoint_descriptors()
                        .find(|e| {
                            e.transfer_type() == rusb::TransferType::Bulk && e.direction() == dir
                        })
                        .map(|e| e.address())
                };
                InterfaceInfo {
                    number: d.interface_number(),
                    class: d.class_code(),
                    subclass: d.sub_class_code(),
                    protocol: d.protocol_code(),
                    bulk_out: bulk(rusb::Direction::Out),
                    bulk_in: bulk(rusb::Direction::In),
                    bulk: d
                        .endpoint_descriptors()
                        .filter(|e| e.transfer_type() == rusb::TransferType::Bulk)
                        .map(|e| e.address())
                        .collect(),
                }
            })
            .find(|i| pick(i))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("USB device {vid:04x}:{pid:04x} has no suitable interface"),
                )
            })?;
        let handle = device.open().map_err(usb_error)?;
        // Not every platform supports auto-detach; claiming tells if it mattered.
        let _ = handle.set_auto_detach_kernel_driver(true);
        handle
            .claim_interface(interface.number)
            .map_err(usb_error)?;
        Ok(RusbPipes { handle, interface })
    }
}

impl BulkPipes for RusbPipes {
    fn write_bulk(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> io::Result<usize> {
        match self.handle.write_bulk(endpoint, data, timeout) {
            Err(rusb::Error::Timeout) => Ok(0),
            other => other.map_err(usb_error),
        }
    }

    fn read_bulk(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        // libusb treats a zero timeout as "wait forever"; poll with the shortest real one.
        let timeout = timeout.max(Duration::from_millis(1));
        match self.handle.read_bulk(endpoint, buf, timeout) {
            Err(rusb::Error::Timeout) => Ok(0),
            other => other.map_err(usb_error),
        }
    }
}
