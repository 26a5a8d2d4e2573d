//! Receipt printers (ESC/POS over serial, usblp, raw USB and TCP 9100).
//!
//! - [`receipt`]: the receipt model and its ESC/POS bytes per [`receipt::Profile`] (sans-IO);
//! - [`raster`]: 1-bit bitmaps, dithering, text drawn with a CJK font for rare characters;
//! - [`status`]: DLE EOT / ASB / GS r status, sans-IO, tolerant of clone printers;
//! - [`parse`] and [`page`]: the printer's side — commands parsed back, the page, its PNG
//!   (the simulator and `hallkiosk print preview`);
//! - [`link`]: TCP 9100, serial, usblp, raw USB;
//! - [`job`]: status and exactly-once jobs with a durable ledger;
//! - [`service`]: the async printer service;
//! - [`testpage`]: the technicians' test page.
//!
//! [`PrinterStatus`] is the status model the application reacts to.

pub mod job;
pub mod link;
pub mod page;
pub mod parse;
pub mod raster;
pub mod receipt;
pub mod service;
pub mod status;
pub mod testpage;

/// The printer's state as decoded from DLE EOT / ASB status bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    pub offline: bool,
    pub cover_open: bool,
    pub paper_near_end: bool,
    pub paper_end: bool,
    pub cutter_error: bool,
    pub unrecoverable: bool,
    /// Auto-recoverable error (e.g. head overheat): printing resumes by itself.
    pub recoverable: bool,
    /// Printing stopped because the paper ran out (DLE EOT 2, bit 5).
    pub stopped_by_paper_end: bool,
}

impl PrinterStatus {
    /// Whether a receipt can be printed now. Paper near end still prints.
    pub fn can_print(&self) -> bool {
        !(self.offline
            || self.cover_open
            || self.paper_end
            || self.stopped_by_paper_end
            || self.cutter_error
            || self.unrecoverable
            || self.recoverable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_end_still_prints_but_paper_end_does_not() {
        let near = PrinterStatus {
            paper_near_end: true,
            ..Default::default()
        };
        assert!(near.can_print());
        let out = PrinterStatus {
            paper_end: true,
            ..Default::default()
        };
        assert!(!out.can_print());
        assert!(PrinterStatus::default().can_print());
    }
}
