//! Receipt printers (ESC/POS over serial, usblp, raw USB and TCP 9100).
//!
//! The ESC/POS encoder, the transports, status polling and exactly-once jobs are added by the
//! printer work. This module holds the status model the application reacts to.

/// The printer's state as decoded from DLE EOT / ASB status bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    pub offline: bool,
    pub cover_open: bool,
    pub paper_near_end: bool,
    pub paper_end: bool,
    pub cutter_error: bool,
    pub unrecoverable: bool,
}

impl PrinterStatus {
    /// Whether a receipt can be printed now. Paper near end still prints.
    pub fn can_print(&self) -> bool {
        !(self.offline
            || self.cover_open
            || self.paper_end
            || self.cutter_error
            || self.unrecoverable)
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
