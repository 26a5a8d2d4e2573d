//! Whether the kiosk speaks now: a pure function of the configuration, the mode, the page and
//! the local time.

use crate::flows::kiosk::Page;
use crate::shared::config::VoiceSection;

/// Elder mode always speaks; the standard mode speaks when the hall turned it on; nothing is
/// spoken on the maintenance screen, in quiet hours, or at volume 0. `minute` is minutes after
/// local midnight (`shared::clock`).
pub fn should_speak(config: &VoiceSection, elder: bool, page: Page, minute: u16) -> bool {
    if page == Page::Maintenance || config.volume.0 == 0 {
        return false;
    }
    if config.quiet_hours.is_some_and(|q| q.contains(minute)) {
        return false;
    }
    elder || config.standard_mode
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::config::{QuietHours, Ranged};

    const NOON: u16 = 12 * 60;
    const NIGHT: u16 = 23 * 60;

    #[test]
    fn elder_mode_speaks_by_default_standard_mode_does_not() {
        let c = VoiceSection::default();
        assert!(should_speak(&c, true, Page::Home, NOON));
        assert!(!should_speak(&c, false, Page::Home, NOON));
        let on = VoiceSection {
            standard_mode: true,
            ..VoiceSection::default()
        };
        assert!(should_speak(&on, false, Page::Apply, NOON));
    }

    #[test]
    fn maintenance_quiet_hours_and_zero_volume_are_silent() {
        let c = VoiceSection {
            standard_mode: true,
            quiet_hours: Some(QuietHours::parse("22:00-07:00").unwrap()),
            ..VoiceSection::default()
        };
        assert!(!should_speak(&c, true, Page::Maintenance, NOON));
        assert!(!should_speak(&c, true, Page::Home, NIGHT));
        assert!(!should_speak(&c, true, Page::Home, 6 * 60 + 59));
        assert!(should_speak(&c, true, Page::Home, 7 * 60));
        let mute = VoiceSection {
            volume: Ranged(0),
            ..c
        };
        assert!(!should_speak(&mute, true, Page::Home, NOON));
    }
}
