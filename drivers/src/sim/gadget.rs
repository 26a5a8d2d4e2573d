//! The simulators behind the Linux USB gadget drivers, for the virtual rig (scripts/virtual-rig,
//! docs/hil.md): the same sans-IO devices ([`SamDevice`], [`PrinterDevice`]) and the same framing
//! as on ptys and TCP, served on the device side of a real USB link so that the kiosk's drivers meet
//! the kernel's host drivers (`cdc_acm`, `usblp`, `usbhid`, usbfs) on the other side.
//!
//! - a tty gadget (`/dev/ttyGS0`, function `acm`): [`crate::sim::sam::PtySam::on_port`] and
//!   [`crate::sim::scanner::on_port`];
//! - FunctionFS (`ffs`): the SAM reader as USB 0400:c35a with its split bulk pipes, [`FfsSam`];
//! - the printer function (`/dev/g_printer0`): [`serve_printer_gadget`], which also sets the
//!   port status byte the host's `LPGETSTATUS` returns;
//! - the HID function (`/dev/hidg0`) as a boot keyboard: [`KeyboardWedge`], a keyboard-wedge
//!   scanner typing US-layout key reports.

use super::printer::{PrinterDevice, PrinterState};
use super::sam::{SamDevice, SamState};
use super::scanner::InView;
use crate::idcard::frame::PREAMBLE;
use crate::printer::PrinterStatus;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

// ---------------------------------------------------------------- printer

/// The IEEE 1284 port status byte a printer reports (the inverse of
/// [`crate::printer::link::decode_port_status`]): 0x20 paper empty, 0x10 selected (online), 0x08
/// not error.
pub fn port_status_byte(s: &PrinterStatus) -> u8 {
    let mut b = 0;
    if s.paper_end {
        b |= 0x20;
    }
    if !s.offline {
        b |= 0x10;
    }
    if !(s.paper_end || s.cover_open || s.cutter_error || s.unrecoverable || s.recoverable) {
        b |= 0x08;
    }
    b
}

/// `GADGET_SET_PRINTER_STATUS` of `<linux/usb/g_printer.h>`: `_IOWR('g', 0x22, unsigned char)`;
/// the status is the argument itself, not a pointer.
const GADGET_SET_PRINTER_STATUS: libc::c_ulong = 0xC001_6722;

/// Serves the printer simulator on the printer function's device file until `stop` is set: what
/// `usblp` delivers is printed, replies go back on the bulk IN pipe, and the port status follows
/// the printer's state. Survives the host going away (UDC unbound) and coming back.
pub fn serve_printer_gadget(file: File, state: &Mutex<PrinterState>, stop: &AtomicBool) {
    let mut device = {
        let s = state.lock().unwrap_or_else(|p| p.into_inner());
        PrinterDevice::new(&s)
    };
    let mut file = file;
    let fd = file.as_raw_fd();
    let mut published: Option<u8> = None;
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let (status, hold) = {
            let s = state.lock().unwrap_or_else(|p| p.into_inner());
            (port_status_byte(&s.status()), s.hold_input)
        };
        if published != Some(status) {
            // SAFETY: the printer function's ioctl takes the status byte as its argument.
            let r = unsafe {
                libc::ioctl(
                    fd,
                    GADGET_SET_PRINTER_STATUS as _,
                    libc::c_ulong::from(status),
                )
            };
            if r == 0 {
                published = Some(status);
            }
        }
        let mut poll = libc::pollfd {
            fd,
            events: if hold { 0 } else { libc::POLLIN },
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, 20) };
        let mut out = Vec::new();
        let host_gone = || {
            state.lock().unwrap_or_else(|p| p.into_inner()).host_gone();
            std::thread::sleep(Duration::from_millis(20));
        };
        if ready > 0 && poll.revents & libc::POLLIN != 0 {
            match file.read(&mut buf) {
                Ok(n) if n > 0 => {
                    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
                    out = device.receive(&mut s, &buf[..n]);
                }
                // Not configured (the host is away): wait for it.
                _ => host_gone(),
            }
        } else if ready > 0 && poll.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
            host_gone();
        } else if ready > 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let pieces = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            out.extend(s.take_outgoing());
            s.take_unfiled()
        };
        super::printer::file_pieces(pieces);
        if !out.is_empty() && file.write_all(&out).is_err() {
            tracing::warn!("printer gadget: reply lost (host away)");
        }
    }
}

// ---------------------------------------------------------------- keyboard wedge

/// The boot keyboard's report descriptor (HID 1.11, appendix B.1): modifiers, a reserved byte,
/// five LEDs, six key slots. The virtual rig writes the same bytes into the gadget's `report_desc`.
pub const BOOT_KEYBOARD_REPORT_DESC: [u8; 63] = [
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
    0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x03, 0x95, 0x05, 0x75, 0x01,
    0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x03, 0x95, 0x06,
    0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
];

const LEFT_SHIFT: u8 = 0x02;

/// The HID usage (keyboard page) and shift state that types `c` on a US layout.
pub fn us_key(c: char) -> Option<(bool, u8)> {
    const UNSHIFTED: &str = "1234567890\n\x1b\x08\t -=[]\\#;'`,./";
    const SHIFTED: &str = "!@#$%^&*()\n\x1b\x08\t _+{}|~:\"~<>?";
    Some(match c {
        'a'..='z' => (false, 0x04 + (c as u8 - b'a')),
        'A'..='Z' => (true, 0x04 + (c as u8 - b'A')),
        // Index 20 is 0x32, the non-US # key: skipped in both tables.
        _ => {
            let at = |table: &str| {
                table
                    .chars()
                    .enumerate()
                    .find(|&(i, t)| t == c && i != 20)
                    .map(|(i, _)| 0x1e + i as u8)
            };
            if let Some(u) = at(UNSHIFTED) {
                (false, u)
            } else if let Some(u) = at(SHIFTED) {
                (true, u)
            } else {
                return None;
            }
        }
    })
}

/// The 8-byte reports that type `text` and then ENTER: a press and a release per character. A
/// character the US layout cannot type is an error naming it.
pub fn key_reports(text: &str) -> Result<Vec<[u8; 8]>, char> {
    let mut reports = Vec::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        let (shift, usage) = us_key(c).ok_or(c)?;
        reports.push([if shift { LEFT_SHIFT } else { 0 }, 0, usage, 0, 0, 0, 0, 0]);
        reports.push([0; 8]);
    }
    Ok(reports)
}

/// A keyboard-wedge scanner in continuous mode on the HID function's `/dev/hidgN`: presented
/// codes are typed, and a code left in view again only after its same-code delay ([`InView`]).
#[derive(Debug, Default)]
pub struct KeyboardWedge {
    /// The code in front of it.
    pub view: InView,
    /// Codes typed in all, for tests.
    pub typed: u32,
}

impl KeyboardWedge {
    /// Presents a code: typed at once (the wedge scanner reads continuously).
    pub fn present(&mut self, text: impl Into<String>) {
        self.view.present(text);
    }
}

/// Types presented codes on `path` until `stop` is set.
pub fn serve_keyboard_wedge(path: PathBuf, state: &Mutex<KeyboardWedge>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let next = state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .view
            .next_read(std::time::Instant::now());
        let Some(text) = next else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let reports = match key_reports(&text) {
            Ok(r) => r,
            Err(c) => {
                tracing::warn!("keyboard wedge: {c:?} cannot be typed on a US layout");
                continue;
            }
        };
        let typed = OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut f| reports.iter().try_for_each(|r| f.write_all(r)));
        match typed {
            Ok(()) => state.lock().unwrap_or_else(|p| p.into_inner()).typed += 1,
            Err(e) => tracing::warn!("keyboard wedge: {}: {e}", path.display()),
        }
    }
}

// ---------------------------------------------------------------- FunctionFS SAM reader

const FUNCTIONFS_DESCRIPTORS_MAGIC_V2: u32 = 3;
const FUNCTIONFS_STRINGS_MAGIC: u32 = 2;
const HAS_FS_DESC: u32 = 1;
const HAS_HS_DESC: u32 = 2;

/// FunctionFS descriptors (v2, full and high speed) of one vendor-class interface with bulk
/// endpoints, in this order: `endpoints` are their directions (`true` = IN). The endpoint files
/// `ep1`, `ep2`, … follow the same order; the UDC assigns the numbers the host sees.
pub fn ffs_descriptors(endpoints: &[bool]) -> Vec<u8> {
    let speed = |max_packet: u16| {
        let mut d = vec![9, 4, 0, 0, endpoints.len() as u8, 0xff, 0, 0, 1];
        for (i, &is_in) in endpoints.iter().enumerate() {
            let address = (i as u8 + 1) | if is_in { 0x80 } else { 0 };
            d.extend([7, 5, address, 2]);
            d.extend(max_packet.to_le_bytes());
            d.push(0);
        }
        d
    };
    let (fs, hs) = (speed(64), speed(512));
    let count = 1 + endpoints.len() as u32;
    let mut out = Vec::new();
    out.extend(FUNCTIONFS_DESCRIPTORS_MAGIC_V2.to_le_bytes());
    out.extend(((12 + 8 + fs.len() + hs.len()) as u32).to_le_bytes());
    out.extend((HAS_FS_DESC | HAS_HS_DESC).to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(fs);
    out.extend(hs);
    out
}

/// FunctionFS strings: the interface's name in US English.
pub fn ffs_strings(name: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(1u32.to_le_bytes()); // str_count
    body.extend(1u32.to_le_bytes()); // lang_count
    body.extend(0x0409u16.to_le_bytes());
    body.extend(name.as_bytes());
    body.push(0);
    let mut out = Vec::new();
    out.extend(FUNCTIONFS_STRINGS_MAGIC.to_le_bytes());
    out.extend(((8 + body.len()) as u32).to_le_bytes());
    out.extend(body);
    out
}

/// The SAM reader's four pipes in FunctionFS order: header OUT, body OUT, header IN, body IN.
pub const SAM_ENDPOINTS: [bool; 4] = [false, false, true, true];

/// The SAM simulator on a FunctionFS mount: writes the descriptors (the gadget can then be bound
/// to a UDC) and serves requests arriving on the split pipes until the process ends.
pub struct FfsSam {
    served: super::Served<SamState>,
    _ep0: File,
}

impl FfsSam {
    pub fn start(dir: &Path, state: SamState) -> io::Result<FfsSam> {
        let mut ep0 = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join("ep0"))?;
        ep0.write_all(&ffs_descriptors(&SAM_ENDPOINTS))?;
        ep0.write_all(&ffs_strings("GA/T 467 SAM"))?;
        // ep0's events (bind, enable, …) are read and dropped so that they never pile up.
        let mut events = ep0.try_clone()?;
        std::thread::Builder::new()
            .name("ffs-ep0".into())
            .spawn(move || {
                let mut buf = [0u8; 12 * 4];
                while events.read(&mut buf).is_ok() {}
            })?;
        let dir = dir.to_path_buf();
        let served = super::Served::start("sam-ffs", state, move |state, stop| {
            serve_ffs(&dir, state, stop)
        })?;
        Ok(FfsSam { served, _ep0: ep0 })
    }

    pub fn control(&self) -> std::sync::MutexGuard<'_, SamState> {
        self.served.control()
    }
}

fn serve_ffs(dir: &Path, state: &Mutex<SamState>, stop: &AtomicBool) {
    let open = |n: u8, write: bool| {
        OpenOptions::new()
            .read(!write)
            .write(write)
            .open(dir.join(format!("ep{n}")))
    };
    let pipes = (|| {
        Ok::<_, io::Error>((
            open(1, false)?,
            open(2, false)?,
            open(3, true)?,
            open(4, true)?,
        ))
    })();
    let (mut out_header, mut out_body, mut in_header, mut in_body) = match pipes {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("SAM on FunctionFS: cannot open the endpoints: {e}");
            return;
        }
    };
    let mut device = SamDevice::new();
    let mut buf = [0u8; 4096];
    let header_len = PREAMBLE.len() + 2;
    while !stop.load(Ordering::SeqCst) {
        // Blocks until the host sends; fails while the host is away (UDC unbound): wait for it.
        // A USB device starts afresh when it is plugged in again: so does the simulated one.
        let n = match out_header.read(&mut buf) {
            Ok(n) => n,
            Err(_) => {
                device = SamDevice::new();
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let mut request = buf[..n].to_vec();
        if n == header_len && buf[..PREAMBLE.len()] == PREAMBLE {
            let want = usize::from(u16::from_be_bytes([buf[5], buf[6]]));
            let mut got = 0;
            while got < want {
                match out_body.read(&mut buf) {
                    Ok(m) if m > 0 => {
                        request.extend(&buf[..m]);
                        got += m;
                    }
                    // Unplugged between header and body: the half request is dropped.
                    _ => break,
                }
            }
            if got < want {
                device = SamDevice::new();
                continue;
            }
        }
        let replies = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            device.receive(&mut s, &request)
        };
        for reply in replies {
            std::thread::sleep(reply.delay);
            let split = reply.bytes.len().min(header_len);
            if in_header.write_all(&reply.bytes[..split]).is_err()
                || (split < reply.bytes.len() && in_body.write_all(&reply.bytes[split..]).is_err())
            {
                tracing::warn!("SAM on FunctionFS: reply lost (host away)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::link::decode_port_status;

    #[test]
    fn the_port_status_byte_is_what_usblp_decodes() {
        let mut s = PrinterState::new(crate::printer::receipt::Profile::generic_80mm());
        assert_eq!(port_status_byte(&s.status()), 0x18);
        let ready = decode_port_status(port_status_byte(&s.status()));
        assert!(ready.selected && !ready.paper_out && !ready.error);
        s.paper_end = true;
        let out = decode_port_status(port_status_byte(&s.status()));
        assert!(out.paper_out && !out.selected && out.error);
    }

    #[test]
    fn shifted_characters_are_typed_with_shift() {
        assert_eq!(us_key('a'), Some((false, 0x04)));
        assert_eq!(us_key('Z'), Some((true, 0x1d)));
        assert_eq!(us_key('1'), Some((false, 0x1e)));
        assert_eq!(us_key('0'), Some((false, 0x27)));
        assert_eq!(us_key(')'), Some((true, 0x27)));
        assert_eq!(us_key('\n'), Some((false, 0x28)));
        assert_eq!(us_key('-'), Some((false, 0x2d)));
        assert_eq!(us_key('_'), Some((true, 0x2d)));
        assert_eq!(us_key('\\'), Some((false, 0x31)));
        assert_eq!(us_key(';'), Some((false, 0x33)));
        assert_eq!(us_key(':'), Some((true, 0x33)));
        assert_eq!(us_key('"'), Some((true, 0x34)));
        assert_eq!(us_key('~'), Some((true, 0x35)));
        assert_eq!(us_key('/'), Some((false, 0x38)));
        assert_eq!(us_key('?'), Some((true, 0x38)));
        assert_eq!(us_key('#'), Some((true, 0x20)));
        assert_eq!(us_key('中'), None);
        let r = key_reports("a?").unwrap();
        assert_eq!(
            r,
            vec![
                [0, 0, 0x04, 0, 0, 0, 0, 0],
                [0; 8],
                [LEFT_SHIFT, 0, 0x38, 0, 0, 0, 0, 0],
                [0; 8],
                [0, 0, 0x28, 0, 0, 0, 0, 0],
                [0; 8],
            ]
        );
        assert_eq!(key_reports("码"), Err('码'));
    }

    #[test]
    fn functionfs_descriptors_add_up() {
        let d = ffs_descriptors(&SAM_ENDPOINTS);
        let len = u32::from_le_bytes(d[4..8].try_into().unwrap()) as usize;
        assert_eq!(len, d.len());
        // Two speeds × (interface 9 + four endpoints of 7).
        assert_eq!(d.len(), 20 + 2 * (9 + 4 * 7));
        assert_eq!(&d[20 + 9..20 + 9 + 7], &[7, 5, 0x01, 2, 64, 0, 0]);
        let s = ffs_strings("x");
        assert_eq!(
            u32::from_le_bytes(s[4..8].try_into().unwrap()) as usize,
            s.len()
        );
    }
}
