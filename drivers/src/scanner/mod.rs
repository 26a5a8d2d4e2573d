//! QR and barcode scanners (serial/CDC and USB HID keyboard-wedge).
//!
//! - [`serial`]: the serial/CDC codec (prefix/suffix framing, trigger commands, GM ack);
//! - [`keymap`]: the keyboard-wedge decoder (evdev key events, US layout, timing);
//! - [`service`]: the threads that read a serial port or an evdev node (grabbed), reconnect after
//!   unplug, suppress duplicate reads and emit [`crate::DeviceEvent::CodeScanned`];
//! - [`route`]: what a scanned text is (this kiosk's receipt, an e-ID code, a URL, other).
//!
//! Payload bytes from serial scanners are decoded as UTF-8, else GB18030 ([`decode_text`]).

pub mod keymap;
pub mod route;
pub mod serial;
pub mod service;

use std::fmt;
use std::time::{Duration, Instant};

/// Decodes a serial scanner's payload: UTF-8 when it is valid UTF-8, else GB18030 (which also
/// covers GBK and GB 2312), which every byte sequence decodes as.
pub fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// Suppresses the same payload read again within a window (a code held under a scanner in
/// continuous mode is read over and over).
#[derive(Debug)]
pub struct Dedup {
    window: Duration,
    last: Option<(u64, Instant)>,
}

impl Dedup {
    pub fn new(window: Duration) -> Self {
        Dedup { window, last: None }
    }

    /// True when `text` should be delivered; a repeat within the window is not, and it extends
    /// the window (the code is still there).
    pub fn admit(&mut self, text: &str, now: Instant) -> bool {
        let hash = fingerprint(text);
        let repeat =
            matches!(self.last, Some((h, at)) if h == hash && now.duration_since(at) < self.window);
        self.last = Some((hash, now));
        !repeat
    }
}

/// A hash of the text, so the suppressor keeps no payload in memory.
fn fingerprint(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// The text a scanner or the camera decoded. A scanned code may be a citizen's e-ID token or a
/// receipt with a tracking code, so `Debug` shows only its length and a short prefix class.
#[derive(Clone, PartialEq, Eq)]
pub struct ScanPayload {
    pub text: String,
}

impl ScanPayload {
    pub fn new(text: impl Into<String>) -> Self {
        ScanPayload { text: text.into() }
    }
}

impl fmt::Debug for ScanPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScanPayload({} chars)", self.text.chars().count())
    }
}

impl Drop for ScanPayload {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_first_then_gb18030() {
        assert_eq!(decode_text("回执 HK-1".as_bytes()), "回执 HK-1");
        let (gbk, _, _) = encoding_rs::GB18030.encode("回执 HK-1");
        assert_ne!(&gbk[..], "回执 HK-1".as_bytes());
        assert_eq!(decode_text(&gbk), "回执 HK-1");
        assert_eq!(decode_text(b"plain"), "plain");
    }

    #[test]
    fn repeats_within_the_window_are_suppressed() {
        let start = Instant::now();
        let mut dedup = Dedup::new(Duration::from_millis(1500));
        assert!(dedup.admit("A", start));
        assert!(!dedup.admit("A", start + Duration::from_millis(1000)));
        // Held under the scanner: each repeat extends the window.
        assert!(!dedup.admit("A", start + Duration::from_millis(2400)));
        assert!(dedup.admit("B", start + Duration::from_millis(2500)));
        assert!(dedup.admit("A", start + Duration::from_millis(2600)));
        assert!(dedup.admit("A", start + Duration::from_millis(5000)));
    }

    #[test]
    fn debug_hides_the_text() {
        let p = ScanPayload::new("EID:secret-token");
        assert_eq!(format!("{p:?}"), "ScanPayload(16 chars)");
    }
}
