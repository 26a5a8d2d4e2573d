//! A simulated ESC/POS receipt printer: the device side of devices.md §3, served over loopback TCP
//! (like a 9100 printer) or a pty (like a serial one), with paper, cover and cutter faults, real-time
//! and in-order status replies, Automatic Status Back, a JSON transcript and a PNG of the paper.
//!
//! While the printer cannot print (paper end, cover open, an error), print data is held in its
//! buffer and printed on recovery, as real printers do; DLE EOT is answered at once regardless, and
//! `GS r` is not answered while stopped.

use crate::printer::page::{Item, Page};
use crate::printer::parse::{Op, Parser};
use crate::printer::receipt::Profile;
use crate::printer::PrinterStatus;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The simulated printer's state and settings.
#[derive(Debug, Clone)]
pub struct PrinterState {
    pub profile: Profile,
    pub paper_near_end: bool,
    pub paper_end: bool,
    pub cover_open: bool,
    pub cutter_error: bool,
    pub unrecoverable: bool,
    pub recoverable: bool,
    /// Paper runs out after this many more printed items (lines, images, codes, feeds).
    pub paper_runs_out_after: Option<u32>,
    /// The next cut fails with a cutter error.
    pub fail_next_cut: bool,
    /// Answer status without the fixed bits 0x12, like some clone printers.
    pub clone_status: bool,
    /// Take no data from the host (busy, its buffer full): the host's writes stall. Served on a
    /// USB printer gadget only.
    pub hold_input: bool,
    /// At the next job (`ESC @`), print this many items and lose the rest of the job on its way,
    /// as when the cable is pulled in the middle of it: the host's data is taken, nothing more of
    /// that job is printed or answered (not its `GS r`), until the host goes away
    /// ([`PrinterState::host_gone`]). The host is thus surely in the middle of the job when it
    /// is unplugged, and no data is left unread in the USB function. Served on a USB gadget only.
    pub lose_job_after: Option<u32>,
    /// Items of the current job still to print before it is lost.
    losing_in: Option<u32>,
    /// The rest of the current job is being lost.
    losing: bool,
    /// What is on the paper.
    pub page: Page,
    /// Where each cut-off piece of paper is filed as a PNG (the dev kiosk's receipts), if anywhere.
    pub tray: Option<PaperTray>,
    /// Cut pieces waiting to be written to the tray.
    unfiled: Vec<(PathBuf, Page)>,
    /// Bytes received in all, for tests.
    pub received: usize,
    stopped_by_paper_end: bool,
    asb: u8,
    held: VecDeque<Op>,
    /// Unsolicited bytes to send (ASB on a change).
    outgoing: Vec<u8>,
    last_asb: Option<[u8; 4]>,
}

impl PrinterState {
    pub fn new(profile: Profile) -> PrinterState {
        let page = Page::new(profile.width_dots, profile.chinese_on_power_up);
        PrinterState {
            profile,
            paper_near_end: false,
            paper_end: false,
            cover_open: false,
            cutter_error: false,
            unrecoverable: false,
            recoverable: false,
            paper_runs_out_after: None,
            fail_next_cut: false,
            clone_status: false,
            hold_input: false,
            lose_job_after: None,
            losing_in: None,
            losing: false,
            page,
            tray: None,
            unfiled: Vec::new(),
            received: 0,
            stopped_by_paper_end: false,
            asb: 0,
            held: VecDeque::new(),
            outgoing: Vec::new(),
            last_asb: None,
        }
    }

    /// The status as the application would decode it.
    pub fn status(&self) -> PrinterStatus {
        PrinterStatus {
            offline: !self.ready(),
            cover_open: self.cover_open,
            paper_near_end: self.paper_near_end,
            paper_end: self.paper_end,
            cutter_error: self.cutter_error,
            unrecoverable: self.unrecoverable,
            recoverable: self.recoverable,
            stopped_by_paper_end: self.stopped_by_paper_end,
        }
    }

    fn ready(&self) -> bool {
        !(self.paper_end
            || self.cover_open
            || self.cutter_error
            || self.unrecoverable
            || self.recoverable)
    }

    /// Switches the printer off and on: the buffer is lost, faults other than paper and cover clear.
    pub fn power_cycle(&mut self) {
        self.held.clear();
        self.cutter_error = false;
        self.unrecoverable = false;
        self.recoverable = false;
        self.stopped_by_paper_end = false;
        self.asb = 0;
        self.changed();
    }

    /// The host went away (the USB device was unplugged): a job being lost ends with it.
    pub fn host_gone(&mut self) {
        self.losing = false;
        self.losing_in = None;
    }

    /// Whether the rest of a job is being lost ([`PrinterState::lose_job_after`]).
    pub fn losing_job(&self) -> bool {
        self.losing
    }

    /// Cut pieces not yet filed in the tray (the server files them outside the lock).
    pub(super) fn take_unfiled(&mut self) -> Vec<(PathBuf, Page)> {
        std::mem::take(&mut self.unfiled)
    }

    /// Print data waiting in the buffer.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    fn fixed(&self) -> u8 {
        if self.clone_status {
            0
        } else {
            0x12
        }
    }

    /// The reply byte to DLE EOT n.
    pub fn dle_eot(&self, n: u8) -> u8 {
        let b = |on: bool, bit: u8| if on { 1 << bit } else { 0 };
        self.fixed()
            | match n {
                1 => b(!self.ready(), 3),
                2 => {
                    b(self.cover_open, 2)
                        | b(self.stopped_by_paper_end, 5)
                        | b(
                            self.cutter_error || self.unrecoverable || self.recoverable,
                            6,
                        )
                }
                3 => b(self.cutter_error, 3) | b(self.unrecoverable, 5) | b(self.recoverable, 6),
                _ => {
                    (if self.paper_near_end || self.paper_end {
                        0x0C
                    } else {
                        0
                    }) | (if self.paper_end { 0x60 } else { 0 })
                }
            }
    }

    fn asb_bytes(&self) -> [u8; 4] {
        let b = |on: bool, bit: u8| if on { 1 << bit } else { 0 };
        [
            0x10 | b(!self.ready(), 3) | b(self.cover_open, 5),
            b(self.cutter_error, 3) | b(self.unrecoverable, 5) | b(self.recoverable, 6),
            (if self.paper_near_end { 0x03 } else { 0 }) | (if self.paper_end { 0x0C } else { 0 }),
            0,
        ]
    }

    /// Call after changing faults from outside: queues an ASB message if enabled and resumes
    /// printing held data when the printer is ready again.
    pub fn changed(&mut self) {
        if self.ready() {
            self.stopped_by_paper_end = false;
            while self.ready() {
                let Some(op) = self.held.pop_front() else {
                    break;
                };
                let mut replies = Vec::new();
                self.print(op, &mut replies);
                self.outgoing.extend(replies);
            }
        }
        self.queue_asb();
    }

    fn queue_asb(&mut self) {
        if self.asb != 0 {
            let now = self.asb_bytes();
            if self.last_asb != Some(now) {
                self.outgoing.extend(now);
                self.last_asb = Some(now);
            }
        }
    }

    /// Takes the unsolicited bytes waiting to go out.
    pub fn take_outgoing(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.outgoing)
    }

    fn consume_paper(&mut self) {
        if let Some(left) = self.paper_runs_out_after.as_mut() {
            if *left == 0 {
                return;
            }
            *left -= 1;
            if *left == 0 {
                self.paper_end = true;
                self.paper_near_end = true;
                self.stopped_by_paper_end = true;
            }
        }
    }

    fn process(&mut self, op: Op, replies: &mut Vec<u8>) {
        if self.losing {
            return;
        }
        if op == Op::Init {
            if let Some(n) = self.lose_job_after.take() {
                self.losing_in = Some(n);
            }
        }
        match op {
            Op::StatusRequest(n) => {
                replies.push(self.dle_eot(n));
                return;
            }
            Op::AutoStatusBack(n) => {
                self.asb = n;
                self.last_asb = None;
                self.page.apply(&op);
                self.queue_asb();
                replies.append(&mut self.outgoing);
                return;
            }
            _ => {}
        }
        if !self.ready() || !self.held.is_empty() {
            self.held.push_back(op);
            return;
        }
        self.print(op, replies);
    }

    /// Carries out a non-real-time op on a ready printer.
    fn print(&mut self, op: Op, replies: &mut Vec<u8>) {
        match &op {
            Op::TransmitStatus(_) => {
                let near = if self.paper_near_end { 0x03 } else { 0 };
                let end = if self.paper_end { 0x0C } else { 0 };
                replies.push(near | end);
            }
            Op::Cut { .. } if self.fail_next_cut => {
                self.fail_next_cut = false;
                self.cutter_error = true;
                self.page.apply(&op);
                self.queue_asb();
                return;
            }
            _ => {}
        }
        let prints = matches!(
            op,
            Op::LineFeed | Op::Feed(_) | Op::Raster { .. } | Op::QrPrint
        );
        self.page.apply(&op);
        if matches!(op, Op::Cut { .. }) {
            self.file_piece();
        }
        if prints {
            self.consume_paper();
            self.queue_asb();
            if let Some(left) = self.losing_in {
                self.losing_in = left.checked_sub(1).filter(|&l| l > 0);
                self.losing = self.losing_in.is_none();
            }
        }
    }
}

impl PrinterState {
    /// Files the paper printed since the last cut into the tray, if there is one.
    fn file_piece(&mut self) {
        let Some(tray) = self.tray.as_mut() else {
            return;
        };
        let from = tray.filed.min(self.page.items.len());
        tray.filed = self.page.items.len();
        let mut piece = Page::new(self.page.width_dots, self.profile.chinese_on_power_up);
        piece.items = self.page.items[from..].to_vec();
        tray.pieces += 1;
        let name = (tray.name)(&piece.items)
            .map(|n| sanitize(&n))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("piece-{:04}", tray.pieces));
        // Filed by the simulator's own thread once the state is unlocked (`file_pieces`), before
        // it answers the next command: a host that saw the cut and asks the status finds the file.
        let file = tray.dir.join(format!("{name}.png"));
        self.unfiled.push((file, piece));
    }
}

/// Names a cut-off piece from what is printed on it (`None`: numbered).
pub type PieceName = fn(&[Item]) -> Option<String>;

/// The simulated printer's output tray: each piece of paper it cuts becomes `<dir>/<name>.png`.
#[derive(Clone)]
pub struct PaperTray {
    pub dir: PathBuf,
    pub name: PieceName,
    filed: usize,
    pieces: u32,
}

impl PaperTray {
    pub fn new(dir: PathBuf, name: PieceName) -> PaperTray {
        PaperTray {
            dir,
            name,
            filed: 0,
            pieces: 0,
        }
    }
}

impl std::fmt::Debug for PaperTray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaperTray").field("dir", &self.dir).finish()
    }
}

/// A file name from printed text: letters, digits, `-` and `_` kept, anything else `_`.
fn sanitize(name: &str) -> String {
    name.trim()
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The device: parses host bytes and answers.
#[derive(Debug)]
pub struct PrinterDevice {
    parser: Parser,
}

impl PrinterDevice {
    pub fn new(state: &PrinterState) -> PrinterDevice {
        PrinterDevice {
            parser: Parser::new(state.profile.chinese_on_power_up),
        }
    }

    /// Feeds host bytes; returns the bytes the printer sends back.
    pub fn receive(&mut self, state: &mut PrinterState, bytes: &[u8]) -> Vec<u8> {
        state.received += bytes.len();
        let mut replies = Vec::new();
        for op in self.parser.push(bytes) {
            state.process(op, &mut replies);
        }
        replies.extend(state.take_outgoing());
        replies
    }
}

/// A simulated printer served until dropped.
pub struct SimPrinter {
    served: super::Served<PrinterState>,
    address: String,
}

impl SimPrinter {
    /// Listens on `127.0.0.1:port` (0 picks a free port), one connection at a time.
    pub fn tcp(state: PrinterState, port: u16) -> std::io::Result<SimPrinter> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr: SocketAddr = listener.local_addr()?;
        let served = super::Served::start("printer-sim", state, move |state, stop| {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => serve_tcp(stream, state, stop),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        })?;
        Ok(SimPrinter {
            served,
            address: format!("tcp:{addr}"),
        })
    }

    /// Serves on a pty pair; [`SimPrinter::address`] is `serial:/dev/pts/N`.
    pub fn pty(state: PrinterState) -> std::io::Result<SimPrinter> {
        let (mut master, path) = super::open_pty()?;
        let served = super::Served::start("printer-sim", state, move |state, stop| {
            serve_stream(&mut master, state, stop)
        })?;
        Ok(SimPrinter {
            served,
            address: format!("serial:{path}"),
        })
    }

    /// Serves on the printer function of a USB gadget (`/dev/g_printer0`): the host sees a
    /// printer-class device (`usblp`, or raw USB) whose port status follows this printer's state.
    pub fn gadget(state: PrinterState, path: &str) -> std::io::Result<SimPrinter> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        let served = super::Served::start("printer-sim", state, move |state, stop| {
            super::gadget::serve_printer_gadget(file, state, stop)
        })?;
        Ok(SimPrinter {
            served,
            address: format!("gadget:{path}"),
        })
    }

    /// The address the driver uses (`tcp:127.0.0.1:PORT` or `serial:/dev/pts/N`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The printer's state: set faults (then call [`PrinterState::changed`]), read the page.
    pub fn control(&self) -> MutexGuard<'_, PrinterState> {
        self.served.control()
    }

    /// Stops serving (the printer is unplugged or switched off).
    pub fn unplug(mut self) {
        self.served.shutdown();
    }
}

fn serve_tcp(mut stream: TcpStream, state: &Mutex<PrinterState>, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    if stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .is_err()
    {
        return;
    }
    serve_stream(&mut stream, state, stop);
}

/// Reads host bytes and answers until the peer closes or the simulator stops.
/// Renders cut pieces and writes them to the tray, outside the printer's lock.
pub(super) fn file_pieces(pieces: Vec<(PathBuf, Page)>) {
    if pieces.is_empty() {
        return;
    }
    // The system CJK font draws what the printer's own font lacks; without it, boxes.
    let font = crate::printer::raster::TextRaster::system().ok();
    for (file, piece) in pieces {
        let saved = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                piece
                    .render(font.as_ref())
                    .save(&file)
                    .map_err(|e| std::io::Error::other(e.to_string()))
            });
        match saved {
            Ok(()) => tracing::info!(file = %file.display(), "simulated printer: piece filed"),
            Err(e) => tracing::warn!(file = %file.display(), "simulated printer: {e}"),
        }
    }
}

fn serve_stream(stream: &mut (impl Read + Write), state: &Mutex<PrinterState>, stop: &AtomicBool) {
    let mut device = {
        let s = state.lock().unwrap_or_else(|p| p.into_inner());
        PrinterDevice::new(&s)
    };
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let n = match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                0
            }
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe || e.raw_os_error() == Some(5) => {
                // A pty without a reader on the other side: wait for one.
                std::thread::sleep(Duration::from_millis(10));
                0
            }
            Err(_) => return,
        };
        let out = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            let mut out = if n > 0 {
                device.receive(&mut s, &buf[..n])
            } else {
                Vec::new()
            };
            out.extend(s.take_outgoing());
            (out, std::mem::take(&mut s.unfiled))
        };
        let (out, pieces) = out;
        file_pieces(pieces);
        if !out.is_empty() && stream.write_all(&out).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::receipt::{encode, Profile, Receipt};
    use crate::printer::status::StatusQuery;

    fn sim() -> (PrinterDevice, PrinterState) {
        let s = PrinterState::new(Profile::generic_80mm());
        (PrinterDevice::new(&s), s)
    }

    #[test]
    fn dle_eot_is_answered_even_when_stopped_and_gs_r_is_not() {
        let (mut d, mut s) = sim();
        assert_eq!(
            d.receive(&mut s, &StatusQuery::RollPaper.bytes()),
            vec![0x12]
        );
        s.paper_end = true;
        s.changed();
        assert_eq!(
            d.receive(&mut s, &StatusQuery::RollPaper.bytes()),
            vec![0x7E]
        );
        assert_eq!(d.receive(&mut s, &StatusQuery::Printer.bytes()), vec![0x1A]);
        assert!(
            d.receive(&mut s, &[0x1D, 0x72, 0x01]).is_empty(),
            "GS r waits"
        );
        s.paper_end = false;
        s.changed();
        assert_eq!(
            s.take_outgoing(),
            vec![0x00],
            "the held GS r is answered on recovery"
        );
        s.clone_status = true;
        assert_eq!(
            d.receive(&mut s, &StatusQuery::RollPaper.bytes()),
            vec![0x00]
        );
    }

    #[test]
    fn paper_out_mid_job_holds_the_rest_until_recovery() {
        let (mut d, mut s) = sim();
        s.paper_runs_out_after = Some(2);
        let r = Receipt::new().text("一").text("二").text("三").text("四");
        let bytes = encode(&r, &s.profile, None).unwrap();
        d.receive(&mut s, &bytes);
        assert_eq!(s.page.text_lines(), vec!["一", "二"]);
        assert!(s.paper_end && s.held() > 0);
        assert_eq!(
            d.receive(&mut s, &StatusQuery::OfflineCause.bytes()),
            vec![0x32]
        );
        s.paper_end = false;
        s.paper_near_end = false;
        s.paper_runs_out_after = None;
        s.changed();
        assert_eq!(s.page.text_lines(), vec!["一", "二", "三", "四"]);
        assert_eq!(s.page.cuts(), 1);
    }

    #[test]
    fn asb_reports_at_once_and_on_every_change() {
        let (mut d, mut s) = sim();
        assert_eq!(d.receive(&mut s, &[0x1D, 0x61, 0x0F]), vec![0x10, 0, 0, 0]);
        s.cover_open = true;
        s.changed();
        assert_eq!(s.take_outgoing(), vec![0x10 | 0x08 | 0x20, 0, 0, 0]);
        s.changed();
        assert!(s.take_outgoing().is_empty(), "no change, no message");
    }

    #[test]
    fn a_lost_job_prints_its_first_items_then_nothing_until_the_host_goes() {
        let (mut d, mut s) = sim();
        s.lose_job_after = Some(2);
        assert_eq!(
            d.receive(&mut s, &StatusQuery::Printer.bytes()),
            vec![0x12],
            "a status request is not a job"
        );
        let r = Receipt::new().text("一").text("二").text("三");
        let mut bytes = encode(&r, &s.profile, None).unwrap();
        bytes.extend([0x1D, 0x72, 0x01]);
        assert!(d.receive(&mut s, &bytes).is_empty(), "GS r is lost too");
        assert_eq!(s.page.text_lines(), vec!["一", "二"]);
        assert_eq!(s.page.cuts(), 0);
        assert!(d.receive(&mut s, &StatusQuery::Printer.bytes()).is_empty());
        s.host_gone();
        assert_eq!(d.receive(&mut s, &StatusQuery::Printer.bytes()), vec![0x12]);
        assert_eq!(d.receive(&mut s, &bytes), vec![0x00]);
        assert_eq!(s.page.text_lines(), vec!["一", "二", "一", "二", "三"]);
        assert_eq!(s.page.cuts(), 1);
    }

    #[test]
    fn a_failing_cut_is_a_cutter_error() {
        let (mut d, mut s) = sim();
        s.fail_next_cut = true;
        let bytes = encode(&Receipt::new().text("x"), &s.profile, None).unwrap();
        d.receive(&mut s, &bytes);
        assert!(s.cutter_error);
        assert_eq!(
            d.receive(&mut s, &StatusQuery::ErrorCause.bytes()),
            vec![0x1A]
        );
    }
}
