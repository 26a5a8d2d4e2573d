//! The kiosk's scan routing: the drivers' generic classifiers (e-ID prefixes, URLs) with this
//! application's receipt classifier in front.
//!
//! A receipt's QR holds `HKR1:<tracking code>` (optionally followed by `:<digest>`); a bare tracking
//! code of this kiosk counts too (a code typed into a phone and shown as a QR). Tracking codes carry
//! a check character, so a misread one is "other", not somebody else's receipt.

use crate::outbox::tracking;
use hallkiosk_drivers::scanner::route::{Classifier, Router, ScanKind};

/// The receipt prefix printed in receipt QR codes.
pub const RECEIPT_PREFIX: &str = "HKR1:";

/// Recognises receipts; `kiosk` is this kiosk's id (None: no receipt counts as this kiosk's).
pub struct Receipts {
    pub kiosk: Option<String>,
}

impl Classifier for Receipts {
    fn name(&self) -> &'static str {
        "receipt"
    }

    fn classify(&self, text: &str) -> Option<ScanKind> {
        let (code, prefixed) = match text.strip_prefix(RECEIPT_PREFIX) {
            Some(rest) => (rest.split(':').next().unwrap_or(""), true),
            None => (text, false),
        };
        if !tracking::is_valid(code) {
            return None;
        }
        let this_kiosk = self
            .kiosk
            .as_deref()
            .is_some_and(|k| code.strip_prefix(k).is_some_and(|r| r.starts_with('-')));
        if !prefixed && !this_kiosk {
            return None;
        }
        Some(ScanKind::Receipt {
            tracking_code: code.to_string(),
            this_kiosk,
        })
    }
}

/// The router the kiosk uses.
pub fn router(kiosk: Option<&str>) -> Router {
    Router::default().first(Box::new(Receipts {
        kiosk: kiosk.map(str::to_string),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_of_this_and_other_kiosks() {
        let mine = tracking::code("DEV-0001", 42);
        let theirs = tracking::code("HALL-7", 42);
        let router = router(Some("DEV-0001"));
        assert_eq!(
            router.classify(&format!("HKR1:{mine}:ab12")),
            ScanKind::Receipt {
                tracking_code: mine.clone(),
                this_kiosk: true
            }
        );
        assert_eq!(
            router.classify(&mine),
            ScanKind::Receipt {
                tracking_code: mine.clone(),
                this_kiosk: true
            }
        );
        assert_eq!(
            router.classify(&format!("HKR1:{theirs}")),
            ScanKind::Receipt {
                tracking_code: theirs.clone(),
                this_kiosk: false
            }
        );
        // A bare code of another kiosk, and a code with a wrong check character, are not receipts.
        assert_eq!(router.classify(&theirs), ScanKind::Other);
        let mut broken = mine.clone();
        let last = broken.pop().unwrap();
        broken.push(if last == '0' { '1' } else { '0' });
        assert_eq!(router.classify(&format!("HKR1:{broken}")), ScanKind::Other);
        assert_eq!(router.classify("EID:abc"), ScanKind::Eid);
    }
}
