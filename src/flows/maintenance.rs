//! The technicians' screen: a PIN pad (or a technician's card), then device states, outbox and
//! sync numbers, and a printed status page. Nothing personal is shown or printed.

use super::effect::{Done, Effect, MaintenanceStats, PrintProblem};
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
    pub stats: Option<Result<MaintenanceStats, String>>,
    pub status_print: Option<Result<(), PrintProblem>>,
}

/// Longest PIN accepted on the pad.
pub const PIN_MAX: usize = 12;

impl Maintenance {
    /// A tap on the maintenance screen. `pin_ok` checks a PIN; `faults` are the devices' faults
    /// now (for the status page).
    pub fn handle(
        &mut self,
        intent: MaintenanceIntent,
        pin_ok: impl Fn(&str) -> bool,
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
    pub fn enter(&mut self, ok: impl Fn(&str) -> bool) -> Option<Effect> {
        if self.unlocked {
            return None;
        }
        if ok(&self.pin) {
            self.unlocked = true;
            self.pin.clear();
            Some(Effect::MaintenanceStats)
        } else {
            self.wrong_pin = true;
            self.pin.clear();
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_pad_unlocks_only_with_the_right_pin() {
        let mut m = Maintenance::locked();
        for c in "1234".chars() {
            m.key(c);
        }
        assert!(m.enter(|p| p == "246810").is_none());
        assert!(m.wrong_pin && m.pin.is_empty());
        for c in "246810".chars() {
            m.key(c);
        }
        assert!(matches!(
            m.enter(|p| p == "246810"),
            Some(Effect::MaintenanceStats)
        ));
        assert!(m.unlocked && m.pin.is_empty());
    }
}
