//! The SAM reader on native USB (VID:PID 0400:C35A, devices.md §1.1 and §6.1): each frame is split
//! across two bulk pipes per direction. Host to reader: the 7-byte header (preamble + length) on
//! EP 0x02, the body on EP 0x06. Reader to host: header on EP 0x81, body on EP 0x85.
//!
//! Those are the documented numbers; a reader whose interface numbers its four bulk endpoints
//! otherwise (the virtual rig's FunctionFS gadget on dummy_hcd gets 0x02/0x07 and 0x81/0x86) is
//! driven by what its descriptors say: the first OUT and IN carry headers, the second bodies
//! ([`SamEndpoints::from_bulk`]).
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

/// The four bulk endpoints of a reader: headers and bodies, each way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamEndpoints {
    pub out_header: u8,
    pub out_body: u8,
    pub in_header: u8,
    pub in_body: u8,
}

/// The numbers devices.md §6.1 documents.
pub const DOCUMENTED_ENDPOINTS: SamEndpoints = SamEndpoints {
    out_header: EP_OUT_HEADER,
    out_body: EP_OUT_BODY,
    in_header: EP_IN_HEADER,
    in_body: EP_IN_BODY,
};

impl SamEndpoints {
    /// The endpoints from an interface's bulk endpoint addresses in descriptor order: the
    /// documented numbers when all four are there, else the first OUT and IN for headers and the
    /// second for bodies; `None` with fewer than two each way.
    pub fn from_bulk(bulk: &[u8]) -> Option<SamEndpoints> {
        let d = DOCUMENTED_ENDPOINTS;
        if [d.out_header, d.out_body, d.in_header, d.in_body]
            .iter()
            .all(|e| bulk.contains(e))
        {
            return Some(d);
        }
        let outs: Vec<u8> = bulk.iter().copied().filter(|e| e & 0x80 == 0).collect();
        let ins: Vec<u8> = bulk.iter().copied().filter(|e| e & 0x80 != 0).collect();
        match (outs.as_slice(), ins.as_slice()) {
            ([oh, ob, ..], [ih, ib, ..]) => Some(SamEndpoints {
                out_header: *oh,
                out_body: *ob,
                in_header: *ih,
                in_body: *ib,
            }),
            _ => None,
        }
    }
}

/// A USB link to a SAM module.
pub struct UsbLink<P: BulkPipes> {
    pipes: P,
    name: String,
    pending: VecDeque<u8>,
    endpoints: SamEndpoints,
}

/// How long one bulk write may take (openiDR200 uses 200 ms).
const WRITE_TIMEOUT: Duration = Duration::from_millis(200);

impl<P: BulkPipes> UsbLink<P> {
    /// A link on the documented endpoints.
    pub fn new(pipes: P, name: String) -> Self {
        Self::with_endpoints(pipes, name, DOCUMENTED_ENDPOINTS)
    }

    pub fn with_endpoints(pipes: P, name: String, endpoints: SamEndpoints) -> Self {
        UsbLink {
            pipes,
            name,
            pending: VecDeque::new(),
            endpoints,
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
        self.write_all(self.endpoints.out_header, &frame[..split])?;
        self.write_all(self.endpoints.out_body, &frame[split..])
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.pending.is_empty() {
            let deadline = Instant::now() + timeout;
            let mut header = [0u8; 64];
            let n = self
                .pipes
                .read_bulk(self.endpoints.in_header, &mut header, timeout)?;
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
                    let n = self
                        .pipes
                        .read_bulk(self.endpoints.in_body, &mut body[got..], left)?;
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
    let pipes = RusbPipes::open(vid, pid, |i| SamEndpoints::from_bulk(&i.bulk).is_some())?;
    let endpoints = SamEndpoints::from_bulk(&pipes.interface.bulk).unwrap_or(DOCUMENTED_ENDPOINTS);
    Ok(UsbLink::with_endpoints(
        pipes,
        format!("usb {vid:04x}:{pid:04x}"),
        endpoints,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_the_descriptors() {
        // The documented reader, in any descriptor order.
        assert_eq!(
            SamEndpoints::from_bulk(&[0x81, 0x02, 0x85, 0x06]),
            Some(DOCUMENTED_ENDPOINTS)
        );
        // The virtual rig's FunctionFS reader on dummy_hcd: the UDC numbers the endpoints.
        assert_eq!(
            SamEndpoints::from_bulk(&[0x02, 0x07, 0x81, 0x86]),
            Some(SamEndpoints {
                out_header: 0x02,
                out_body: 0x07,
                in_header: 0x81,
                in_body: 0x86
            })
        );
        assert_eq!(SamEndpoints::from_bulk(&[0x02, 0x81]), None);
    }
}
