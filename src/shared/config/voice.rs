//! `[voice]`: spoken prompts (src/voice/): when the kiosk speaks, how loud, through which device.

use super::Ranged;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// When and how the kiosk speaks. Elder mode (长辈模式) always speaks outside quiet hours; the
/// standard mode speaks only when `standard_mode` is on; the maintenance screen never speaks.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VoiceSection {
    /// Speak in the standard (non-elder) mode too. Default off: a hall is noisy enough.
    pub standard_mode: bool,
    /// Loudness, 0 (silent) to 100 (the engine's full level).
    pub volume: Ranged<0, 100>,
    /// Local times when the kiosk does not speak at all, e.g. "22:00-07:00" (may cross midnight).
    pub quiet_hours: Option<QuietHours>,
    /// The ALSA playback device ("default", "hw:0,0", "plughw:CARD=PCH,DEV=0").
    pub device: String,
}

impl Default for VoiceSection {
    fn default() -> Self {
        VoiceSection {
            standard_mode: false,
            volume: Ranged(80),
            quiet_hours: None,
            device: "default".into(),
        }
    }
}

/// A daily span of local time, `HH:MM-HH:MM`, start inclusive, end exclusive; it may cross
/// midnight. Start equal to end is refused (it would mean never or always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Minutes after midnight.
    pub start: u16,
    pub end: u16,
}

impl QuietHours {
    /// Parses `HH:MM-HH:MM`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a span of time like \"22:00-07:00\"");
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            if h.is_empty() || h.len() > 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        };
        let (start, end) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
        if start == end {
            return Err(format!("{s:?} starts and ends at the same time"));
        }
        Ok(QuietHours { start, end })
    }

    /// Whether `minute` (after local midnight) is inside the span.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = (self.start, self.end);
        write!(f, "{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60)
    }
}

impl<'de> Deserialize<'de> for QuietHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        QuietHours::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for QuietHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_parse_and_cross_midnight() {
        let q = QuietHours::parse("22:00-07:00").unwrap();
        assert!(q.contains(22 * 60));
        assert!(q.contains(3 * 60));
        assert!(!q.contains(7 * 60));
        assert!(!q.contains(12 * 60));
        let d = QuietHours::parse("12:30-13:30").unwrap();
        assert!(d.contains(12 * 60 + 30) && !d.contains(13 * 60 + 30) && !d.contains(0));
        assert_eq!(q.to_string(), "22:00-07:00");
        for bad in [
            "",
            "22-07",
            "25:00-07:00",
            "22:00-22:00",
            "22:0-07:00",
            "-",
            "ab:cd-01:00",
        ] {
            assert!(QuietHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn voice_section_from_toml() {
        let v: VoiceSection = toml::from_str(
            "standard_mode = true\nvolume = 40\nquiet_hours = \"21:30-08:00\"\ndevice = \"hw:1,0\"",
        )
        .unwrap();
        assert!(v.standard_mode);
        assert_eq!(v.volume.0, 40);
        assert_eq!(v.quiet_hours.unwrap().to_string(), "21:30-08:00");
        assert!(toml::from_str::<VoiceSection>("volume = 101").is_err());
        assert!(toml::from_str::<VoiceSection>("quiet_hours = \"late\"").is_err());
        assert_eq!(
            toml::from_str::<VoiceSection>("").unwrap(),
            VoiceSection::default()
        );
    }
}
