//! Identification: what the identify page says while the citizen places a card or shows a code.
//! The card and code handling itself is the routing [`Kiosk`](super::kiosk::Kiosk)'s, because a
//! card read anywhere changes who the session belongs to.

/// What the identify page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifyStatus {
    /// "请将身份证放在感应区".
    Waiting,
    /// "您好，张*三" with a button to go on.
    Greeting,
    /// "证件已过期".
    Expired,
    /// "请重新放置身份证".
    Rejected,
    /// "读卡器故障，请联系工作人员".
    ReaderFault,
    /// An e-ID code was scanned: this kiosk has no e-ID verifier, so it asks for the card instead
    /// (and never advertises e-ID codes).
    EidUnsupported,
}
