//! The printer's four transports (devices.md §3.1): TCP 9100, serial, the kernel's usblp file
//! (`/dev/usb/lpN`, with the LPGETSTATUS port-status byte) and raw USB through libusb (the class-7
//! interface's bulk OUT/IN, usblp detached).

use crate::transport::link::{Link, SerialLink, TcpLink};
use crate::transport::usb::{BulkPipes, RusbPipes};
use crate::transport::DeviceAddress;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// A receipt printer's serial rate when the address names none (a common factory setting; the
/// printer's DIP switches decide).
pub const DEFAULT_SERIAL_BAUD: u32 = 9600;

/// Opens the printer at `address`.
pub fn open(address: &DeviceAddress) -> io::Result<Box<dyn Link>> {
    match address {
        DeviceAddress::Tcp { host, port } => Ok(Box::new(TcpLink::connect(
            host,
            *port,
            Duration::from_secs(3),
        )?)),
        DeviceAddress::Serial { path, baud } => Ok(Box::new(SerialLink::open(
            path,
            baud.unwrap_or(DEFAULT_SERIAL_BAUD),
        )?)),
        DeviceAddress::UsbLp { path } => Ok(Box::new(UsbLpLink::open(path)?)),
        DeviceAddress::Usb { vid, pid } => Ok(Box::new(UsbPrinterLink::open(*vid, *pid)?)),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a printer is on tcp:, serial:, usblp: or usb:, not {other}"),
        )),
    }
}

/// `ioctl(LPGETSTATUS)` from `<linux/lp.h>`.
const LPGETSTATUS: libc::c_ulong = 0x060b;

/// The IEEE 1284 status bits usblp reports (devices.md §3.1; the kernel's and CUPS' reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortStatus {
    pub paper_out: bool,
    pub selected: bool,
    pub error: bool,
}

/// Decodes LPGETSTATUS: 0x20 paper out, 0x10 selected (online), 0x08 no error (active high).
pub fn decode_port_status(b: u8) -> PortStatus {
    PortStatus {
        paper_out: b & 0x20 != 0,
        selected: b & 0x10 != 0,
        error: b & 0x08 == 0,
    }
}

/// The usblp device file.
pub struct UsbLpLink {
    file: File,
    path: String,
}

impl UsbLpLink {
    pub fn open(path: &str) -> io::Result<UsbLpLink> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        Ok(UsbLpLink {
            file,
            path: path.to_string(),
        })
    }
}

impl Link for UsbLpLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let mut fds = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut fds, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(0)
            } else {
                Err(e)
            };
        }
        if n == 0 {
            return Ok(0);
        }
        if fds.revents & (libc::POLLHUP | libc::POLLERR) != 0 && fds.revents & libc::POLLIN == 0 {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the printer went away",
            ));
        }
        self.file.read(buf)
    }

    fn port_status(&mut self) -> Option<io::Result<u8>> {
        let mut status: libc::c_int = 0;
        // SAFETY: LPGETSTATUS writes one int through the pointer.
        let r = unsafe { libc::ioctl(self.file.as_raw_fd(), LPGETSTATUS as _, &mut status) };
        if r < 0 {
            let e = io::Error::last_os_error();
            // Not a printer device (a test double or a plain file): no side channel.
            if e.raw_os_error() == Some(libc::ENOTTY) {
                return None;
            }
            return Some(Err(e));
        }
        Some(Ok(status as u8))
    }

    fn describe(&self) -> String {
        self.path.clone()
    }
}

/// A printer on raw USB: bulk OUT for data, bulk IN (bidirectional printers) for status replies.
pub struct UsbPrinterLink<P: BulkPipes> {
    pipes: P,
    out_ep: u8,
    in_ep: Option<u8>,
    name: String,
}

impl<P: BulkPipes> UsbPrinterLink<P> {
    pub fn new(pipes: P, out_ep: u8, in_ep: Option<u8>, name: String) -> Self {
        UsbPrinterLink {
            pipes,
            out_ep,
            in_ep,
            name,
        }
    }
}

impl UsbPrinterLink<RusbPipes> {
    /// Opens the printer-class interface (class 7) of `vid:pid`.
    pub fn open(vid: u16, pid: u16) -> io::Result<Self> {
        let pipes = RusbPipes::open(vid, pid, |i| i.class == 7 && i.bulk_out.is_some())?;
        let (out_ep, in_ep) = (
            pipes.interface.bulk_out.unwrap_or(0x01),
            pipes.interface.bulk_in,
        );
        Ok(UsbPrinterLink::new(
            pipes,
            out_ep,
            in_ep,
            format!("usb {vid:04x}:{pid:04x}"),
        ))
    }
}

impl<P: BulkPipes> Link for UsbPrinterLink<P> {
    fn send(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = self
                .pipes
                .write_bulk(self.out_ep, bytes, Duration::from_secs(10))?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the printer accepts no data",
                ));
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        match self.in_ep {
            Some(ep) => self.pipes.read_bulk(ep, buf, timeout),
            None => {
                // Unidirectional printer: nothing ever comes back.
                std::thread::sleep(timeout);
                Ok(0)
            }
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_status_bits_follow_the_kernel() {
        assert_eq!(
            decode_port_status(0x18),
            PortStatus {
                paper_out: false,
                selected: true,
                error: false
            }
        );
        let out = decode_port_status(0x30);
        assert!(out.paper_out && out.selected && out.error);
    }

    #[test]
    fn a_plain_file_has_no_port_status() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lp0");
        std::fs::write(&path, b"").unwrap();
        let mut link = UsbLpLink::open(path.to_str().unwrap()).unwrap();
        assert!(link.port_status().is_none());
        link.send(b"\x1b@").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"\x1b@");
    }
}
