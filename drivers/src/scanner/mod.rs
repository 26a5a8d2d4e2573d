//! QR and barcode scanners (serial/CDC and USB HID keyboard-wedge).
//!
//! The scanner drivers deliver [`ScanPayload`]s. The serial and evdev transports and the payload
//! routing are added by the scanner work; this module holds the payload type the app consumes.

use std::fmt;

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
    fn debug_hides_the_text() {
        let p = ScanPayload::new("EID:secret-token");
        assert_eq!(format!("{p:?}"), "ScanPayload(16 chars)");
    }
}
