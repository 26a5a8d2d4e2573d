//! The idle timer: after `idle` without a touch, a countdown asks "还需要更多时间吗？"; when the
//! countdown runs out the session is wiped and home returns.
//!
//! Time comes in from outside as elapsed durations, so tests drive it without sleeping and the UI
//! drives it from a Slint timer (which the UI tests mock).

use std::time::Duration;

/// What the timer says after time passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleSignal {
    /// The countdown starts now.
    Warn,
    /// The countdown ran out: end the session.
    Expire,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleTimer {
    idle: Duration,
    countdown: Duration,
    /// Time since the last activity.
    quiet: Duration,
}

impl IdleTimer {
    pub fn new(idle: Duration, countdown: Duration) -> Self {
        IdleTimer {
            idle,
            countdown,
            quiet: Duration::ZERO,
        }
    }

    /// Changes the limits (elder mode) and starts counting afresh.
    pub fn set_limits(&mut self, idle: Duration, countdown: Duration) {
        *self = IdleTimer::new(idle, countdown);
    }

    /// A touch or any other sign of a person: start counting again.
    pub fn activity(&mut self) {
        self.quiet = Duration::ZERO;
    }

    /// Whether the countdown is showing.
    pub fn warning(&self) -> bool {
        self.quiet >= self.idle
    }

    /// Whole seconds left on the countdown (rounded up), while it shows.
    pub fn remaining_secs(&self) -> Option<u64> {
        if !self.warning() {
            return None;
        }
        let left = (self.idle + self.countdown).saturating_sub(self.quiet);
        Some(left.as_millis().div_ceil(1000) as u64)
    }

    /// Advances the timer by `elapsed`.
    pub fn tick(&mut self, elapsed: Duration) -> Option<IdleSignal> {
        let was_warning = self.warning();
        self.quiet += elapsed;
        if self.quiet >= self.idle + self.countdown {
            self.quiet = Duration::ZERO;
            Some(IdleSignal::Expire)
        } else if !was_warning && self.warning() {
            Some(IdleSignal::Warn)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn warns_then_expires() {
        let mut t = IdleTimer::new(60 * S, 20 * S);
        assert_eq!(t.tick(59 * S), None);
        assert!(!t.warning());
        assert_eq!(t.tick(S), Some(IdleSignal::Warn));
        assert_eq!(t.remaining_secs(), Some(20));
        assert_eq!(t.tick(S), None);
        assert_eq!(t.remaining_secs(), Some(19));
        assert_eq!(t.tick(19 * S), Some(IdleSignal::Expire));
        assert!(!t.warning(), "after expiry it starts over");
    }

    #[test]
    fn activity_restarts_the_count_even_during_the_countdown() {
        let mut t = IdleTimer::new(10 * S, 5 * S);
        assert_eq!(t.tick(12 * S), Some(IdleSignal::Warn));
        t.activity();
        assert!(!t.warning());
        assert_eq!(t.tick(9 * S), None);
    }

    #[test]
    fn one_big_step_past_everything_expires() {
        let mut t = IdleTimer::new(10 * S, 5 * S);
        assert_eq!(t.tick(100 * S), Some(IdleSignal::Expire));
    }

    #[test]
    fn remaining_rounds_up() {
        let mut t = IdleTimer::new(S, 3 * S);
        t.tick(Duration::from_millis(1500));
        assert_eq!(t.remaining_secs(), Some(3));
    }
}
