//! The SAM reader on native USB (VID:PID 0400:C35A, devices.md §1.1 and §6.1): each frame is split
//! across two bulk pipes per direction. Host to reader: the 7-byte header (preamble + length) on
//! EP 0x02, the body on EP 0x06. Reader to host: header on EP 0x81, body on EP 0x85.
//!
//! The split lives in [`UsbLink`] over any [`BulkPipes`]; [`RusbPipes`] is the libusb one. Without
//! hardware the split is tested against the simulator through in-memory pipes (see the tests).

use super::frame::PREAMBLE;
use super::reader::SamLink;
pub use crate::transport::usb::{BulkPipes, RusbPipes};
use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

pub const VENDOR_ID: u16 = 0x0400;
pub const PRODUCT_ID: u16 = 0xC35A;
pub const EP_OUT_HEADER: u8 = 0x02;
pub const EP_OUT_BODY: u8 = 0x06;
pub const EP_IN_HEADER: u8 = 0x81;
pub const EP_IN_BODY: u8 = 0x85;
const HEADER: usize = PREAMBLE.len() + 2;

/// A USB link to a SAM module.
pub struct UsbLink<P: BulkPipes> {
    pipes: P,
    name: String,
    pending: VecDeque<u8>,
}

/// How long one bulk write may take (openiDR200 uses 200 ms).
const WRITE_TIMEOUT: Duration = Duration::from_millis(200);

impl<P: BulkPipes> UsbLink<P> {
    pub fn new(pipes: P, name: String) -> Self {
        UsbLink {
            pipes,
            name,
            pending: VecDeque::new(),
        }
    }

    /// The pipes underneath (for diagnostics and tests).
    pub fn pipes(&self) -> &P {
        &self.pipes
    }

    fn write_all(&mut self, endpoint: u8, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = self.pipes.write_bulk(endpoint, data, WRITE_TIMEOUT)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("USB endpoint {endpoint:#04x} accepted nothing"),
                ));
            }
            data = &data[n..];
        }
        Ok(())
    }
}

impl<P: BulkPipes> SamLink for UsbLink<P> {
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        let split = frame.len().min(HEADER);
        self.write_all(EP_OUT_HEADER, &frame[..split])?;
        self.write_all(EP_OUT_BODY, &frame[split..])
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.pending.is_empty() {
            let deadline = Instant::now() + timeout;
            let mut header = [0u8; 64];
            let n = self.pipes.read_bulk(EP_IN_HEADER, &mut header, timeout)?;
            if n == 0 {
                return Ok(0);
            }
            self.pending.extend(&header[..n]);
            // A well-formed header announces how many body bytes follow on the other pipe.
            if n == HEADER && header[..PREAMBLE.len()] == PREAMBLE {
                let want = usize::from(u16::from_be_bytes([header[5], header[6]]));
                let mut body = vec![0u8; want];
                let mut got = 0;
                while got < want {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let n = self.pipes.read_bulk(EP_IN_BODY, &mut body[got..], left)?;
                    if n == 0 {
                        break; // Timed out: hand over what came; the decoder waits or fails.
                    }
                    got += n;
                }
                self.pending.extend(&body[..got]);
            }
        }
        let n = buf.len().min(self.pending.len());
        for (slot, b) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Opens the USB reader at `vid:pid`.
pub fn open(vid: u16, pid: u16) -> io::Result<UsbLink<RusbPipes>> {
    Ok(UsbLink::new(
        RusbPipes::open(vid, pid, |_| true)?,
        format!("usb {vid:04x}:{pid:04x}"),
    ))
}
