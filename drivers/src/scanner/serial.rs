//! The serial/CDC scanner codec (sans-IO): bytes from the scanner in, scans out; trigger commands
//! out. Shared by the driver and the simulator, so both speak the same bytes.
//!
//! A scan on the wire is `prefix + payload + suffix` (devices.md §4.1). The suffix (CR by default;
//! CR LF, TAB or none are common) ends a scan; with no suffix a scan ends when the line goes quiet.
//! A CR LF pair is one terminator even when the suffix is CR alone. In host-trigger mode the host
//! starts a read with the model's command; GM-style engines answer it with a 7-byte ack, which the
//! codec drops from the stream.

/// How the scanner is told to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The scanner reads by itself (presentation / continuous mode).
    Continuous,
    /// Honeywell (also Datalogic, Canmax) serial trigger: `SYN T CR` on, `SYN U CR` off.
    Honeywell,
    /// GM65/HBCS-style engines: write 0x01 to register 0x0002; acked with 7 bytes.
    Gm,
}

impl Trigger {
    pub fn parse(name: &str) -> Option<Trigger> {
        match name {
            "continuous" => Some(Trigger::Continuous),
            "honeywell" => Some(Trigger::Honeywell),
            "gm" => Some(Trigger::Gm),
            _ => None,
        }
    }

    /// The bytes that start a read (nothing in continuous mode).
    pub fn start(self) -> &'static [u8] {
        match self {
            Trigger::Continuous => &[],
            Trigger::Honeywell => &HONEYWELL_START,
            Trigger::Gm => &GM_START,
        }
    }

    /// The bytes that stop a read, where the model has such a command.
    pub fn stop(self) -> &'static [u8] {
        match self {
            Trigger::Honeywell => &HONEYWELL_STOP,
            Trigger::Continuous | Trigger::Gm => &[],
        }
    }
}

pub const HONEYWELL_START: [u8; 3] = [0x16, 0x54, 0x0D];
pub const HONEYWELL_STOP: [u8; 3] = [0x16, 0x55, 0x0D];
pub const GM_START: [u8; 9] = [0x7E, 0x00, 0x08, 0x01, 0x00, 0x02, 0x01, 0xAB, 0xCD];
pub const GM_ACK: [u8; 7] = [0x02, 0x00, 0x00, 0x01, 0x00, 0x33, 0x31];

/// Parses a prefix or suffix as written in config and on the command line: `cr`, `lf`, `crlf`,
/// `tab`, `none`, or hex bytes (`0d0a`).
pub fn parse_affix(spec: &str) -> Result<Vec<u8>, String> {
    Ok(match spec.to_ascii_lowercase().as_str() {
        "cr" => vec![0x0D],
        "lf" => vec![0x0A],
        "crlf" => vec![0x0D, 0x0A],
        "tab" => vec![0x09],
        "none" | "" => vec![],
        hex => {
            if hex.len() % 2 != 0 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!(
                    "`{spec}` is not cr, lf, crlf, tab, none or hex bytes like 0d0a"
                ));
            }
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex checked"))
                .collect()
        }
    })
}

/// Framing settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framing {
    pub prefix: Vec<u8>,
    /// Empty: a scan ends when the line is quiet (see [`SerialCodec::flush_idle`]).
    pub suffix: Vec<u8>,
    /// Longest payload accepted; longer input is dropped up to the next terminator and reported.
    pub max_len: usize,
}

impl Default for Framing {
    fn default() -> Self {
        Framing {
            prefix: Vec::new(),
            suffix: vec![0x0D],
            max_len: 4096,
        }
    }
}

impl Framing {
    /// The bytes a scanner sends for `payload` (used by the simulator and tests).
    pub fn encode(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + payload.len() + self.suffix.len());
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(payload);
        out.extend_from_slice(&self.suffix);
        out
    }
}

/// What the codec made of the bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialEvent {
    /// A complete payload (prefix and suffix removed), still bytes: see [`super::decode_text`].
    Scan(Vec<u8>),
    /// The GM engine acknowledged a trigger command.
    TriggerAcked,
    /// Input longer than the limit was dropped.
    Overlong { dropped: usize },
    /// A scan did not start with the configured prefix; it was dropped.
    MissingPrefix,
}

/// The decoder state.
#[derive(Debug, Clone)]
pub struct SerialCodec {
    framing: Framing,
    buffer: Vec<u8>,
    overflow: usize,
    last_was_cr: bool,
}

impl SerialCodec {
    pub fn new(framing: Framing) -> Self {
        SerialCodec {
            framing,
            buffer: Vec::new(),
            overflow: 0,
            last_was_cr: false,
        }
    }

    pub fn framing(&self) -> &Framing {
        &self.framing
    }

    /// True while a scan is partly received.
    pub fn pending(&self) -> bool {
        !self.buffer.is_empty() || self.overflow > 0
    }

    /// Feeds bytes as they arrive; returns what completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SerialEvent> {
        let mut events = Vec::new();
        for &byte in bytes {
            // A LF right after a CR terminator belongs to that terminator.
            if self.last_was_cr && byte == 0x0A && self.buffer.is_empty() {
                self.last_was_cr = false;
                continue;
            }
            self.last_was_cr = false;
            if self.overflow > 0 {
                self.overflow += 1;
            } else {
                self.buffer.push(byte);
            }
            if self.buffer.ends_with(&GM_ACK) && self.buffer.len() == GM_ACK.len() {
                self.buffer.clear();
                events.push(SerialEvent::TriggerAcked);
                continue;
            }
            let ended = if self.framing.suffix.is_empty() {
                false
            } else if self.overflow > 0 {
                byte == *self.framing.suffix.last().expect("non-empty suffix")
            } else {
                self.buffer.ends_with(&self.framing.suffix)
            };
            if ended {
                self.last_was_cr = byte == 0x0D;
                if self.overflow > 0 {
                    events.push(SerialEvent::Overlong {
                        dropped: self.overflow,
                    });
                    self.overflow = 0;
                    self.buffer.clear();
                } else {
                    let end = self.buffer.len() - self.framing.suffix.len();
                    self.buffer.truncate(end);
                    events.extend(self.complete());
                }
            } else if self.buffer.len() > self.framing.max_len + self.framing.prefix.len() + 8 {
                self.overflow = self.buffer.len();
                self.buffer.clear();
            }
        }
        events
    }

    /// The line went quiet: with no suffix configured, what is buffered is a scan; with a suffix,
    /// a partial scan is kept (a slow scanner may still finish it).
    pub fn flush_idle(&mut self) -> Vec<SerialEvent> {
        if !self.framing.suffix.is_empty() {
            return Vec::new();
        }
        if self.overflow > 0 {
            let dropped = std::mem::take(&mut self.overflow);
            self.buffer.clear();
            return vec![SerialEvent::Overlong { dropped }];
        }
        self.complete().into_iter().collect()
    }

    fn complete(&mut self) -> Option<SerialEvent> {
        let mut scan = std::mem::take(&mut self.buffer);
        // Stray line ends between scans (a CR LF scanner read with a LF suffix, etc.).
        if scan.iter().all(|b| matches!(b, 0x0D | 0x0A)) {
            return None;
        }
        if !self.framing.prefix.is_empty() {
            if !scan.starts_with(&self.framing.prefix) {
                return Some(SerialEvent::MissingPrefix);
            }
            scan.drain(..self.framing.prefix.len());
        }
        if scan.len() > self.framing.max_len {
            return Some(SerialEvent::Overlong {
                dropped: scan.len(),
            });
        }
        Some(SerialEvent::Scan(scan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scans(events: Vec<SerialEvent>) -> Vec<Vec<u8>> {
        events
            .into_iter()
            .filter_map(|e| match e {
                SerialEvent::Scan(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn cr_terminated_scans_split_anywhere() {
        let wire = b"HK-2026-0001\rEID:abc\r";
        for cut in 0..wire.len() {
            let mut codec = SerialCodec::new(Framing::default());
            let mut events = codec.push(&wire[..cut]);
            events.extend(codec.push(&wire[cut..]));
            assert_eq!(
                scans(events),
                vec![b"HK-2026-0001".to_vec(), b"EID:abc".to_vec()]
            );
        }
    }

    #[test]
    fn crlf_after_a_cr_suffix_is_one_terminator() {
        let mut codec = SerialCodec::new(Framing::default());
        assert_eq!(
            scans(codec.push(b"A1\r\nB2\r\n")),
            vec![b"A1".to_vec(), b"B2".to_vec()]
        );
        assert!(!codec.pending());
    }

    #[test]
    fn prefix_and_tab_suffix_are_removed_and_a_missing_prefix_is_reported() {
        let framing = Framing {
            prefix: b"B".to_vec(),
            suffix: b"C\t".to_vec(),
            max_len: 64,
        };
        let mut codec = SerialCodec::new(framing.clone());
        let wire = framing.encode(b"12345");
        assert_eq!(wire, b"B12345C\t");
        assert_eq!(
            codec.push(&wire),
            vec![SerialEvent::Scan(b"12345".to_vec())]
        );
        assert_eq!(codec.push(b"X99C\t"), vec![SerialEvent::MissingPrefix]);
    }

    #[test]
    fn gm_ack_is_dropped_before_the_scan() {
        let mut codec = SerialCodec::new(Framing::default());
        let mut wire = GM_ACK.to_vec();
        wire.extend_from_slice(b"HK-1\r");
        assert_eq!(
            codec.push(&wire),
            vec![
                SerialEvent::TriggerAcked,
                SerialEvent::Scan(b"HK-1".to_vec())
            ]
        );
    }

    #[test]
    fn overlong_input_is_dropped_and_the_next_scan_still_reads() {
        let mut codec = SerialCodec::new(Framing {
            max_len: 16,
            ..Framing::default()
        });
        let mut wire = vec![b'x'; 1000];
        wire.extend_from_slice(b"\rOK\r");
        let events = codec.push(&wire);
        assert!(matches!(events[0], SerialEvent::Overlong { dropped } if dropped >= 1000));
        assert_eq!(events[1], SerialEvent::Scan(b"OK".to_vec()));
    }

    #[test]
    fn without_a_suffix_quiet_ends_the_scan() {
        let mut codec = SerialCodec::new(Framing {
            suffix: vec![],
            ..Framing::default()
        });
        assert!(codec.push(b"HK-77").is_empty());
        assert!(codec.pending());
        assert_eq!(
            codec.flush_idle(),
            vec![SerialEvent::Scan(b"HK-77".to_vec())]
        );
        assert!(codec.flush_idle().is_empty());
    }

    #[test]
    fn with_a_suffix_quiet_keeps_the_partial_scan() {
        let mut codec = SerialCodec::new(Framing::default());
        codec.push(b"HK-");
        assert!(codec.flush_idle().is_empty());
        assert_eq!(scans(codec.push(b"9\r")), vec![b"HK-9".to_vec()]);
    }

    #[test]
    fn affixes_parse_by_name_or_hex() {
        assert_eq!(parse_affix("crlf").unwrap(), [0x0D, 0x0A]);
        assert_eq!(parse_affix("TAB").unwrap(), [0x09]);
        assert_eq!(parse_affix("none").unwrap(), Vec::<u8>::new());
        assert_eq!(parse_affix("020d").unwrap(), [0x02, 0x0D]);
        assert!(parse_affix("0").is_err());
        assert!(parse_affix("zz").is_err());
    }

    #[test]
    fn trigger_commands_are_the_documented_bytes() {
        assert_eq!(Trigger::Honeywell.start(), [0x16, 0x54, 0x0D]);
        assert_eq!(Trigger::Honeywell.stop(), [0x16, 0x55, 0x0D]);
        assert_eq!(
            Trigger::Gm.start(),
            [0x7E, 0x00, 0x08, 0x01, 0x00, 0x02, 0x01, 0xAB, 0xCD]
        );
        assert!(Trigger::Continuous.start().is_empty());
    }
}
