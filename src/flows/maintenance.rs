//! The technicians' screen: a PIN pad (or a technician's card), then device states, outbox and
//! sync numbers, and a printed status page. Nothing personal is shown or printed.

use super::effect::{Done, Effect, MaintenanceStats, PrintProblem};
use crate::shared::admin::PinVerdict;
use hallkiosk_drivers::event::DeviceKind;
use std::collections::BTreeMap;

/// What a technician can do on the maintenance screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaintenanceIntent {
    /// A digit of the PIN pad.
    Key(char),
    Backspace,
    Clear,
    /// 确定 on the PIN pad.
    EnterPin,
    /// Refresh the numbers.
    RefreshStats,
    /// Print the status page.
    PrintStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub unlocked: bool,
    pub pin: zeroize::Zeroizing<String>,
    pub wrong_pin: bool,
    /// Seconds the pad refuses every PIN after too many wrong ones (as of the last try); 0: open.
    pub locked_secs: u64,
    pub stats: Option<Result<MaintenanceStats, String>>,
    pub status_print: Option<Result<(), PrintProblem>>,
}

/// Longest PIN accepted on the pad.
pub const PIN_MAX: usize = 12;

impl Maintenance {
    /// A tap on the maintenance screen. `pin_ok` checks a PIN (the gate keeps the lockout);
    /// `faults` are the devices' faults now (for the status page).
    pub fn handle(
        &mut self,
        intent: MaintenanceIntent,
        pin_ok: impl Fn(&str) -> PinVerdict,
        faults: &BTreeMap<DeviceKind, String>,
    ) -> Option<Effect> {
        match intent {
            MaintenanceIntent::Key(c) => self.key(c),
            MaintenanceIntent::Backspace => self.backspace(),
            MaintenanceIntent::Clear => self.clear(),
            MaintenanceIntent::EnterPin => return self.enter(pin_ok),
            MaintenanceIntent::RefreshStats => {
                return self.unlocked.then_some(Effect::MaintenanceStats)
            }
            MaintenanceIntent::PrintStatus => {
                let lines = self.status_lines(faults)?;
                self.status_print = None;
                return Some(Effect::PrintStatusPage(lines));
            }
        }
        None
    }

    /// An answer for this screen: the numbers, or the status page's printing.
    pub fn done(&mut self, done: Done) {
        match done {
            Done::Stats(r) if self.unlocked => self.stats = Some(r),
            Done::StatusPrinted(r) => self.status_print = Some(r),
            _ => {}
        }
    }

    /// The status page's lines (device words and numbers only); `None` while locked.
    fn status_lines(&self, faults: &BTreeMap<DeviceKind, String>) -> Option<Vec<String>> {
        if !self.unlocked {
            return None;
        }
        let mut lines = vec!["终端状态 Kiosk status".to_string()];
        for dev in DeviceKind::ALL {
            lines.push(format!(
                "{}: {}",
                dev.as_str(),
                faults.get(&dev).map(String::as_str).unwrap_or("ok")
            ));
        }
        if let Some(Ok(s)) = &self.stats {
            lines.push(format!("outbox waiting: {}", s.outbox_depth));
            lines.push(format!(
                "oldest waiting: {}",
                s.oldest_unacknowledged_secs
                    .map(|x| format!("{x} s"))
                    .unwrap_or_else(|| "-".into())
            ));
            lines.push(format!("rejected: {}", s.rejected));
            if s.quarantined > 0 {
                lines.push(format!(
                    "QUARANTINED: {} (cannot be opened; check the outbox key)",
                    s.quarantined
                ));
            }
            lines.push(format!("ratings waiting: {}", s.ratings_waiting));
            lines.push(format!(
                "platform: {}",
                if s.platform_reachable {
                    "reachable"
                } else {
                    "not reached lately"
                }
            ));
        }
        Some(lines)
    }

    pub fn locked() -> Self {
        Maintenance {
            unlocked: false,
            pin: zeroize::Zeroizing::new(String::new()),
            wrong_pin: false,
            locked_secs: 0,
            stats: None,
            status_print: None,
        }
    }

    pub fn unlocked() -> Self {
        Maintenance {
            unlocked: true,
            ..Self::locked()
        }
    }

    pub fn key(&mut self, c: char) {
        if !self.unlocked && c.is_ascii_digit() && self.pin.len() < PIN_MAX {
            self.pin.push(c);
            self.wrong_pin = false;
        }
    }

    pub fn backspace(&mut self) {
        self.pin.pop();
    }

    pub fn clear(&mut self) {
        self.pin.clear();
    }

    /// 确定 on the PIN pad; `ok` checks the PIN. Unlocking asks for the numbers.
    pub fn enter(&mut self, ok: impl Fn(&str) -> PinVerdict) -> Option<Effect> {
        if self.unlocked {
            return None;
        }
        let verdict = ok(&self.pin);
        self.pin.clear();
        match verdict {
            PinVerdict::Open => {
                self.unlocked = true;
                self.wrong_pin = false;
                self.locked_secs = 0;
                Some(Effect::MaintenanceStats)
            }
            PinVerdict::Wrong => {
                self.wrong_pin = true;
                self.locked_secs = 0;
                None
            }
            PinVerdict::Locked { secs } => {
                self.wrong_pin = true;
                self.locked_secs = secs;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(p: &str) -> PinVerdict {
        match p {
            "246810" => PinVerdict::Open,
            "999999" => PinVerdict::Locked { secs: 60 },
            _ => PinVerdict::Wrong,
        }
    }

    #[test]
    fn the_pin_pad_unlocks_only_with_the_right_pin() {
        let mut m = Maintenance::locked();
        for c in "1234".chars() {
            m.key(c);
        }
        assert!(m.enter(gate).is_none());
        assert!(m.wrong_pin && m.pin.is_empty() && m.locked_secs == 0);
        for c in "999999".chars() {
            m.key(c);
        }
        assert!(m.enter(gate).is_none());
        assert_eq!(m.locked_secs, 60, "the pad says how long it is locked");
        for c in "246810".chars() {
            m.key(c);
        }
        assert!(matches!(m.enter(gate), Some(Effect::MaintenanceStats)));
        assert!(m.unlocked && m.pin.is_empty() && m.locked_secs == 0);
    }

    #[test]
    fn quarantined_entries_are_on_the_status_lines_only_when_there_are_some() {
        let mut m = Maintenance::unlocked();
        m.done(Done::Stats(Ok(MaintenanceStats::default())));
        let lines = m.status_lines(&BTreeMap::new()).unwrap();
        assert!(
            !lines.iter().any(|l| l.contains("QUARANTINED")),
            "{lines:?}"
        );
        m.done(Done::Stats(Ok(MaintenanceStats {
            quarantined: 3,
            ..MaintenanceStats::default()
        })));
        let lines = m.status_lines(&BTreeMap::new()).unwrap();
        assert!(
            lines.iter().any(|l| l.starts_with("QUARANTINED: 3")),
            "{lines:?}"
        );
    }
}
