//! ESC/POS status, sans-IO: the queries (DLE EOT n, GS r 1, GS a n), what their reply bytes mean
//! (devices.md §3.4), and a classifier for the byte stream a printer sends back.
//!
//! Decoding tests the meaning bits only (0x0C near end / 0x60 paper end, …) and never requires the
//! fixed bits, so clone printers that answer `0x00` or `0x0C` are still read right; the fixed bits
//! are used only to tell one kind of reply from another.

use super::PrinterStatus;

/// The four DLE EOT real-time status requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusQuery {
    /// n = 1: printer status (offline).
    Printer = 1,
    /// n = 2: offline cause (cover open, stopped by paper end, error).
    OfflineCause = 2,
    /// n = 3: error cause (cutter, unrecoverable, auto-recoverable).
    ErrorCause = 3,
    /// n = 4: roll paper sensor (near end, end).
    RollPaper = 4,
}

impl StatusQuery {
    pub const ALL: [StatusQuery; 4] = [
        StatusQuery::Printer,
        StatusQuery::OfflineCause,
        StatusQuery::ErrorCause,
        StatusQuery::RollPaper,
    ];

    /// `DLE EOT n`.
    pub fn bytes(self) -> [u8; 3] {
        [0x10, 0x04, self as u8]
    }

    pub fn from_n(n: u8) -> Option<StatusQuery> {
        StatusQuery::ALL.into_iter().find(|q| *q as u8 == n)
    }
}

/// `GS r 1`: paper sensor status, processed in order with the print data.
pub const GS_R_PAPER: [u8; 3] = [0x1D, 0x72, 0x01];

/// `GS a n`: enable Automatic Status Back for drawer, online/offline, error and paper sensor.
pub const ASB_ALL: [u8; 3] = [0x1D, 0x61, 0x0F];

fn bit(b: u8, n: u8) -> bool {
    b & (1 << n) != 0
}

/// Folds the reply to one DLE EOT query into `status`, replacing what that query reports.
pub fn apply_dle_eot(status: &mut PrinterStatus, query: StatusQuery, reply: u8) {
    match query {
        StatusQuery::Printer => status.offline = bit(reply, 3),
        StatusQuery::OfflineCause => {
            status.cover_open = bit(reply, 2);
            status.stopped_by_paper_end = bit(reply, 5);
        }
        StatusQuery::ErrorCause => {
            status.cutter_error = bit(reply, 3);
            status.unrecoverable = bit(reply, 5);
            status.recoverable = bit(reply, 6);
        }
        StatusQuery::RollPaper => {
            status.paper_near_end = reply & 0x0C != 0;
            status.paper_end = reply & 0x60 != 0;
        }
    }
}

/// Decodes the four bytes of an Automatic Status Back message.
pub fn decode_asb(asb: [u8; 4]) -> PrinterStatus {
    PrinterStatus {
        offline: bit(asb[0], 3),
        cover_open: bit(asb[0], 5),
        cutter_error: bit(asb[1], 3),
        unrecoverable: bit(asb[1], 5),
        recoverable: bit(asb[1], 6),
        paper_near_end: asb[2] & 0x03 != 0,
        paper_end: asb[2] & 0x0C != 0,
        stopped_by_paper_end: false,
    }
}

/// Decodes a `GS r 1` reply into (near end, paper end).
pub fn decode_gs_r_paper(reply: u8) -> (bool, bool) {
    (reply & 0x03 != 0, reply & 0x0C != 0)
}

/// One unit of what a printer sends back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A byte shaped like a DLE EOT reply (`0xx1 xx10`).
    DleEot(u8),
    /// A complete Automatic Status Back message.
    Asb([u8; 4]),
    Xon,
    Xoff,
    /// Any other byte: a GS r reply, or a DLE EOT reply from a clone without the fixed bits.
    Other(u8),
}

/// Splits the printer's byte stream into replies. XOFF/XON inside an ASB message are reported and
/// skipped, as the Citizen manuals describe.
#[derive(Debug, Default)]
pub struct ReplyReader {
    asb: Option<([u8; 4], usize)>,
}

impl ReplyReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns the replies completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Reply> {
        let mut out = Vec::new();
        for &b in bytes {
            match b {
                0x11 => {
                    out.push(Reply::Xon);
                    continue;
                }
                0x13 => {
                    out.push(Reply::Xoff);
                    continue;
                }
                _ => {}
            }
            if let Some((mut msg, n)) = self.asb.take() {
                if b & 0x90 == 0 {
                    msg[n] = b;
                    if n + 1 == 4 {
                        out.push(Reply::Asb(msg));
                    } else {
                        self.asb = Some((msg, n + 1));
                    }
                    continue;
                }
                // Not a continuation: the ASB was cut short; read this byte afresh.
            }
            match b & 0x93 {
                0x12 => out.push(Reply::DleEot(b)),
                0x10 => self.asb = Some(([b, 0, 0, 0], 1)),
                _ => out.push(Reply::Other(b)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_from(eot: [u8; 4]) -> PrinterStatus {
        let mut s = PrinterStatus::default();
        for (q, r) in StatusQuery::ALL.into_iter().zip(eot) {
            apply_dle_eot(&mut s, q, r);
        }
        s
    }

    #[test]
    fn the_spec_reference_vectors() {
        // Healthy: 0x12 everywhere.
        let ok = status_from([0x12; 4]);
        assert_eq!(ok, PrinterStatus::default());
        assert!(ok.can_print());
        // Out of paper: EOT1 0x1A, EOT2 0x32, EOT4 0x7E.
        let out = status_from([0x1A, 0x32, 0x12, 0x7E]);
        assert!(out.offline && out.stopped_by_paper_end && out.paper_end && out.paper_near_end);
        assert!(!out.cover_open && !out.can_print());
        // Cover open: EOT1 0x1A, EOT2 0x16.
        let cover = status_from([0x1A, 0x16, 0x12, 0x12]);
        assert!(cover.cover_open && cover.offline && !cover.paper_end);
    }

    #[test]
    fn every_status_bit_is_decoded() {
        type Flag = fn(&PrinterStatus) -> bool;
        let cases: [(StatusQuery, u8, Flag); 8] = [
            (StatusQuery::Printer, 0x08, |s| s.offline),
            (StatusQuery::OfflineCause, 0x04, |s| s.cover_open),
            (StatusQuery::OfflineCause, 0x20, |s| s.stopped_by_paper_end),
            (StatusQuery::ErrorCause, 0x08, |s| s.cutter_error),
            (StatusQuery::ErrorCause, 0x20, |s| s.unrecoverable),
            (StatusQuery::ErrorCause, 0x40, |s| s.recoverable),
            (StatusQuery::RollPaper, 0x0C, |s| s.paper_near_end),
            (StatusQuery::RollPaper, 0x60, |s| s.paper_end),
        ];
        for (q, bits, get) in cases {
            for fixed in [0x12, 0x00] {
                let mut s = PrinterStatus::default();
                apply_dle_eot(&mut s, q, fixed | bits);
                assert!(get(&s), "{q:?} {bits:02X} fixed {fixed:02X}");
                apply_dle_eot(&mut s, q, fixed);
                assert!(!get(&s), "{q:?} clears");
            }
        }
    }

    #[test]
    fn clones_without_fixed_bits_are_not_taken_for_paper_out() {
        // python-escpos reads 0x00 as "no paper"; it means paper present.
        let s = status_from([0x00, 0x00, 0x00, 0x00]);
        assert!(s.can_print() && !s.paper_near_end);
        let near = status_from([0x00, 0x00, 0x00, 0x0C]);
        assert!(near.paper_near_end && !near.paper_end && near.can_print());
    }

    #[test]
    fn asb_and_gs_r() {
        let s = decode_asb([0x10 | 0x08 | 0x20, 0x08 | 0x40, 0x0C, 0x00]);
        assert!(s.offline && s.cover_open && s.cutter_error && s.recoverable && s.paper_end);
        assert!(!s.unrecoverable && !s.paper_near_end);
        assert_eq!(decode_gs_r_paper(0x00), (false, false));
        assert_eq!(decode_gs_r_paper(0x0F), (true, true));
        assert_eq!(decode_gs_r_paper(0x03), (true, false));
    }

    #[test]
    fn replies_are_told_apart_in_a_stream() {
        let mut r = ReplyReader::new();
        let got = r.push(&[0x12, 0x10, 0x00, 0x13, 0x0C, 0x00, 0x1A, 0x11, 0x0F]);
        assert_eq!(
            got,
            vec![
                Reply::DleEot(0x12),
                Reply::Xoff,
                Reply::Asb([0x10, 0x00, 0x0C, 0x00]),
                Reply::DleEot(0x1A),
                Reply::Xon,
                Reply::Other(0x0F),
            ]
        );
        // Split anywhere.
        let mut r = ReplyReader::new();
        assert!(r.push(&[0x30]).is_empty(), "0x30 & 0x93 = 0x10: ASB lead");
        assert!(r.push(&[0x01, 0x02]).is_empty());
        assert_eq!(r.push(&[0x03]), vec![Reply::Asb([0x30, 0x01, 0x02, 0x03])]);
        assert_eq!(StatusQuery::RollPaper.bytes(), [0x10, 0x04, 0x04]);
        assert_eq!(StatusQuery::from_n(2), Some(StatusQuery::OfflineCause));
    }
}
